"""``sipas weights compute``."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_session, clear_errors


@click.group("weights")
def weights_group() -> None:
    """Household weights of a survey round."""


@weights_group.command("compute")
@click.option("--survey", "round_code", required=True, help="Round code, e.g. 2026.")
@click.option("--min-respondents", default=5, show_default=True, type=click.IntRange(1),
              help="Pool a hamlet with fewer respondents into its stratum's pool.")
@click.option("--adults-item", default=None,
              help="Item with the household's number of adults (one adult per household).")
@click.option("--margins", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV variable,value,total of population margins to rake to.")
@click.option("--trim", type=float, default=None, help="Cap weights at this × the median.")
@click.option("--new-version", is_flag=True, help="Make a new version of a published round.")
@click.option("--reason", default=None, help="Why a new version (required with --new-version).")
@clear_errors
def weights_compute(round_code: str, min_respondents: int, adults_item: str | None,
                    margins: Path | None, trim: float | None, new_version: bool,
                    reason: str | None) -> None:
    """Base × nonresponse-adjusted (× raked, trimmed) weights into every response."""
    from survey.services.sample.weights import compute_weights

    if margins is not None and not margins.is_file():
        raise ValueError(f"{margins}: file not found")
    with app_session() as (_app, session):
        s = compute_weights(session, round_code, min_respondents=min_respondents,
                            adults_item=adults_item, margins=margins, trim=trim,
                            new_version=new_version, reason=reason)
    click.echo(f"round {s.round_code}: weights version {s.version}")
    click.echo(f"  respondents {s.respondents}, nonrespondents {s.nonrespondents}"
               f" (of which completed but not verified {s.unverified})")
    click.echo(f"  sum of base weights {s.sum_base:,.1f}; of final weights {s.sum_final:,.1f}")
    click.echo(f"  weights {s.min_weight:,.2f} – {s.max_weight:,.2f}; "
               f"Kish design effect {s.kish_deff:.3f}")
    if s.collapsed:
        click.echo(f"  pooled within stratum (too few respondents): PSU {', '.join(s.collapsed)}")
    if s.rake_iterations is not None:
        click.echo(f"  raked in {s.rake_iterations} iterations")
    if s.trimmed:
        click.echo(f"  trimmed {s.trimmed} weights")
