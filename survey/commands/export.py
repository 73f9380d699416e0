"""``sipas export``."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import AS_USER_HELP, app_session, area_of_account, clear_errors
from survey.models import ReviewStatus


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "sav", "dta", "codebook"]),
              default="csv", show_default=True,
              help="csv (UTF-8 with BOM), xlsx, SPSS sav, Stata dta, or the codebook (one row "
                   "per column: labels, type, codes, missing code, skip rule, versions).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", type=click.Choice([s.value for s in ReviewStatus]), default=None,
              help="Only responses in this review status (default: all).")
@click.option("--round", "round_code", default=None, help="Only this survey round (code).")
@click.option("--instrument", default=None, help="Only this questionnaire (code).")
@click.option("--period", default=None,
              help="Only responses entered in this period: 2025, 2025-Q3 or 2025-09.")
@click.option("--with-comments", is_flag=True,
              help="Include free-text answers (comments may name people; left out by default).")
@click.option("--as", "as_user", default=None, metavar="USER", help=AS_USER_HELP)
@clear_errors
def export_command(
    fmt: str, out: Path, status: str | None, round_code: str | None, instrument: str | None,
    period: str | None, with_comments: bool, as_user: str | None,
) -> None:
    """One row per response: design columns, then one column per item.

    CSV is UTF-8 with BOM; xlsx, sav and dta carry variable and value labels.
    """
    from survey.memory import collector_paused
    from survey.services.data.export import ExportFilter
    from survey.services.data.formats import write_export
    from survey.services.reports.period import parse_period

    if not out.parent.exists():
        raise click.ClickException(f"folder {out.parent} does not exist")
    span = parse_period(period) if period else None
    with app_session() as (_app, session):
        area = area_of_account(session, as_user)
        if round_code and not area.everything:  # another area's round is no round
            from survey.services.sample.rounds import pick_round

            pick_round(session, round_code, area)
        with collector_paused():  # its rows form no cycles (survey.memory)
            count = write_export(session, ExportFilter(status, round_code, instrument,
                                                       area=area.unit_id),
                                 fmt, out, with_text=with_comments, period=span,
                                 package=True)
    what = "columns" if fmt == "codebook" else "responses"
    click.echo(f"wrote {count} {what} to {out}")
    if fmt == "csv":
        click.echo(f"described for Frictionless tools in "
                   f"{out.with_name(out.stem + '.datapackage.json')}")
