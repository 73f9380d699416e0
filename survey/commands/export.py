"""``sipas export``."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_engine, clear_errors
from survey.models import ReviewStatus


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", type=click.Choice([s.value for s in ReviewStatus]), default=None,
              help="Only responses in this review status (default: all).")
@click.option("--round", "round_code", default=None, help="Only this survey round (code).")
@click.option("--instrument", default=None, help="Only this questionnaire (code).")
@clear_errors
def export_command(
    fmt: str, out: Path, status: str | None, round_code: str | None, instrument: str | None
) -> None:
    """One row per response: design columns, then one column per item (UTF-8 CSV with BOM)."""
    from survey.db import session_scope
    from survey.services.export import ExportFilter, export_csv

    if not out.parent.exists():
        raise click.ClickException(f"folder {out.parent} does not exist")
    with app_engine() as (_app, engine), session_scope(engine) as session:
        count = export_csv(session, ExportFilter(status, round_code, instrument), out)
    click.echo(f"wrote {count} responses to {out}")
