"""``sipas dossiers import FILE``: dossiers from the one-stop system's export."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_session, clear_errors


@click.group("dossiers")
def dossiers_group() -> None:
    """Dossiers from the one-stop system (CSV or Excel, as its export gives them)."""


@dossiers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@clear_errors
def dossiers_import(file: Path) -> None:
    """Import FILE; every line is checked first (one bad line: nothing is stored)."""
    from zoneinfo import ZoneInfo

    from survey.services.audit import record
    from survey.services.data.uploads import upload_text
    from survey.services.desks.links import dossier_secret
    from survey.services.dossiers.records import desk_codes, parse_dossiers, store_dossiers

    if file.stat().st_size > 200 * 1024 * 1024:
        raise click.ClickException(f"{file} is over 200 MB: split it")
    with app_session() as (app, session):
        text = upload_text(file.read_bytes(), file.name)
        zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
        rows = parse_dossiers(text, desk_codes(session), zone)
        stored = store_dossiers(session, rows, dossier_secret(app.config["SECRET_KEY"]),
                                "import")
        record(session, "dossiers.import", "dossier", detail={
            "file": file.name[:200], "inserted": stored.inserted, "updated": stored.updated,
            "unchanged": stored.unchanged})
    click.echo(f"{stored.inserted} new, {stored.updated} updated, {stored.unchanged} "
               f"unchanged dossiers from {file.name}")
