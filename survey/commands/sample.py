"""``sipas sample draw|show|listed|lists|plan``."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_session, clear_errors


@click.group("sample")
def sample_group() -> None:
    """The PPS sample of hamlets and its fieldwork."""


@sample_group.command("draw")
@click.option("--survey", "round_code", required=True, help="Round code, e.g. 2026.")
@click.option("--strata-level", required=True, help="Level whose units are strata "
              "(district, or commune after the 2025 reform).")
@click.option("--hamlets-per-stratum", required=True, type=int)
@click.option("--per-hamlet", required=True, type=int, help="Questionnaires per hamlet.")
@click.option("--seed", type=click.IntRange(0), default=None,
              help="Random seed (printed when not given, to replay the draw).")
@click.option("--certainty-threshold", type=float, default=1.0, show_default=True,
              help="Take hamlets with π at or above this with certainty.")
@click.option("--size", default="households", show_default=True,
              help="Measure of size: households or population.")
@click.option("--enumerators", default="", help="Comma-separated usernames, assigned in turn.")
@click.option("--replace", is_flag=True, help="Redraw a round's sample (no responses yet).")
@click.option("--reason", default=None, help="Why the sample is redrawn (needed with --replace).")
@clear_errors
def sample_draw(round_code: str, strata_level: str, hamlets_per_stratum: int, per_hamlet: int,
                seed: int | None, certainty_threshold: float, size: str, enumerators: str,
                replace: bool, reason: str | None) -> None:
    """PPS systematic selection of hamlets within strata, then a fixed take per hamlet."""
    from survey.services.sample.draw import draw_sample

    staff = [u.strip() for u in enumerators.split(",") if u.strip()]
    with app_session() as (_app, session):
        draw = draw_sample(session, round_code, strata_level=strata_level,
                           hamlets_per_stratum=hamlets_per_stratum, per_hamlet=per_hamlet,
                           seed=seed, certainty_threshold=certainty_threshold, size=size,
                           enumerators=staff, replace=replace, reason=reason)
    click.echo(f"round {draw.round_code}: {len(draw.hamlets)} hamlets in {len(draw.strata)} "
               f"strata, {draw.per_hamlet} questionnaires each (seed {draw.seed})")
    for h in draw.hamlets:
        mark = " certainty" if h.certainty else ""
        click.echo(f"  PSU {h.psu_code}  stratum {h.stratum:<10} {h.unit_code:<12} "
                   f"size {h.size:>6}  π {h.prob:.4f}{mark}  {h.name}")


@sample_group.command("listed")
@click.option("--survey", "round_code", required=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@clear_errors
def sample_listed(round_code: str, file: Path) -> None:
    """Enter the field listing's counts (CSV psu,listed) used by the weights."""
    from survey.services.sample.lists import parse_listed_counts, set_listed_counts

    if not file.is_file():
        raise ValueError(f"{file}: file not found")
    counts = parse_listed_counts(file.read_text(encoding="utf-8"))
    with app_session() as (_app, session):
        n = set_listed_counts(session, round_code, counts)
    click.echo(f"listed counts stored for {n} hamlets")


@sample_group.command("lists")
@click.option("--survey", "round_code", required=True)
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path))
@clear_errors
def sample_lists(round_code: str, out_dir: Path) -> None:
    """Fieldwork lists: one CSV of every questionnaire ID, one PDF per enumerator."""
    from survey.services.sample.lists import fieldwork_csv, fieldwork_hamlets
    from survey.services.sample.lists_pdf import write_fieldwork_pdfs
    from survey.services.sample.rounds import get_round

    with app_session() as (_app, session):
        name = get_round(session, round_code).name
        hamlets = fieldwork_hamlets(session, round_code)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"fieldwork_{round_code}.csv"
    csv_path.write_text(fieldwork_csv(round_code, hamlets), encoding="utf-8")
    pdfs = write_fieldwork_pdfs(out_dir, round_code, name, hamlets)
    click.echo(f"wrote {csv_path}")
    for path in pdfs:
        click.echo(f"wrote {path}")


@sample_group.command("plan")
@click.option("--moe", type=float, required=True, help="Target margin of error per stratum "
              "(95%), e.g. 0.05.")
@click.option("--strata-level", required=True, help="Level whose units are strata.")
@click.option("--rho", type=float, default=None, help="Assumed intra-hamlet correlation.")
@click.option("--rho-from", "rho_round", default=None,
              help="Estimate ρ from this round (with --item).")
@click.option("--item", default="c1_1", show_default=True,
              help="Item whose share satisfied (4–5) gives ρ.")
@click.option("--cost-ratio", type=float, required=True,
              help="Cost of reaching a hamlet ÷ cost of one interview (c₁/c₂).")
@click.option("--response-rate", type=float, default=0.85, show_default=True)
@click.option("--p", "p", type=float, default=0.5, show_default=True,
              help="Expected proportion (index near 0.8 needs fewer).")
@clear_errors
def sample_plan(moe: float, strata_level: str, rho: float | None, rho_round: str | None,
                item: str, cost_ratio: float, response_rate: float, p: float) -> None:
    """Propose hamlets per stratum and respondents per hamlet (m = √(c₁/c₂·(1−ρ)/ρ))."""
    from survey.services.sample.draw import frame_hamlets
    from survey.services.sample.planning import plan_design, rho_from_round

    if (rho is None) == (rho_round is None):
        raise ValueError("give either --rho (assumed) or --rho-from ROUND (estimated)")
    with app_session() as (_app, session):
        groups = frame_hamlets(session, strata_level)
        if rho_round is not None:
            rho, deff = rho_from_round(session, rho_round, item)
            click.echo(f"ρ estimated from round {rho_round} ({item}): {rho:.4f} (deff {deff:.3f})")
    plan = plan_design({k: len(v) for k, v in groups.items()}, moe=moe, rho=float(rho),
                       cost_ratio=cost_ratio, response_rate=response_rate, p=p)
    click.echo(f"optimum take m = √({cost_ratio:g} × (1 − {plan.rho:.4f}) / {plan.rho:.4f}) = "
               f"{plan.optimum_take:.2f}; deff = 1 + (m − 1)ρ = {plan.deff:.3f}")
    click.echo(f"{'stratum':<10} {'frame':>6} {'hamlets':>8} {'complete':>9} {'issue':>6} "
               f"{'df':>4} {'±80%':>7} {'±95%':>7}")
    for s in plan.strata:
        click.echo(f"{s.stratum:<10} {s.frame_hamlets:>6} {s.hamlets:>8} "
                   f"{s.completed_per_hamlet:>9} {s.issued_per_hamlet:>6} {s.df:>4} "
                   f"{s.ci80_halfwidth:>7.3f} {s.ci95_halfwidth:>7.3f}"
                   + (f"  ({s.note})" if s.note else ""))
