"""``sipas report``: the printable report (PDF or HTML) of a period."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from survey.commands import AS_USER_HELP, app_session, area_of_account, clear_errors


@click.command("report")
@click.option("--period", default=None,
              help="2025 (year), 2025-Q3 (quarter) or 2025-09 (month); default: latest quarter.")
@click.option("--round", "round_code", default=None,
              help="Household survey round (default: the latest round of the period's year).")
@click.option("--target", type=float, default=0.80, show_default=True, help="Target share.")
@click.option("--min-n", type=int, default=30, show_default=True,
              help="Cells with fewer respondents are suppressed.")
@click.option("--district", default=None, help="Only this district (its name).")
@click.option("--weighted", is_flag=True, help="Also weight desks by dossier volume (a model).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="report.pdf or report.html (the suffix picks the format).")
@click.option("--as", "as_user", default=None, metavar="USER", help=AS_USER_HELP)
@clear_errors
def report_command(period: str | None, round_code: str | None, target: float, min_n: int,
                   district: str | None, weighted: bool, lang: str, out: Path,
                   as_user: str | None) -> None:
    """Vietnamese (or English) report: headline verdict, tables with CIs, charts, method."""
    from survey.services.reports.content import build_content
    from survey.services.reports.dashboard import DashboardOptions, build_dashboard
    from survey.services.reports.render import render_html, render_pdf

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "html"):
        raise ValueError(f"--out must end in .pdf or .html (got {out.name})")
    if not out.parent.exists():
        raise ValueError(f"folder {out.parent} does not exist")
    steps = ["estimates", "charts", "document"]
    with click.progressbar(steps, label="report", file=sys.stderr) as bar:
        for step in bar:
            if step == "estimates":
                with app_session() as (_app, session):
                    opts = DashboardOptions(
                        period=period, round_code=round_code, target=target, min_n=min_n,
                        lang=lang, district=district, weighted=weighted,
                        area=area_of_account(session, as_user))
                    dash = build_dashboard(session, opts)
            elif step == "charts":
                content = build_content(dash, lang, png=fmt == "pdf")
            else:
                data = render_pdf(content) if fmt == "pdf" else render_html(content).encode()
                tmp = out.with_name(out.name + ".part")
                tmp.write_bytes(data)
                tmp.replace(out)
    overall = dash.household.overall
    head = f"SIPAS {100 * overall.estimate:.1f}%" if overall and overall.shown else "no index"
    click.echo(f"wrote {out} ({dash.period.code}, round {dash.household.round_code}: {head})")
