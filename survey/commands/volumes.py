"""``sipas volumes``: dossier volumes per desk and period (for coverage and volume weights)."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_session, clear_errors


@click.group("volumes")
def volumes_group() -> None:
    """Dossiers handled per desk and period, as the one-stop-desk software reports them."""


@volumes_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@clear_errors
def import_command(file: Path) -> None:
    """Import a CSV with columns desk, period (2025-07 / 2025-Q3 / 2025), dossiers."""
    from survey.services.audit import record
    from survey.services.desks.volumes import import_volumes

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{file} is not UTF-8 text") from None
    with app_session() as (_app, session):
        result = import_volumes(session, text, source=file.name)
        record(session, "volumes_import", "dossier_volume", None,
               detail={"inserted": result.inserted, "updated": result.updated,
                       "file": file.name})
    click.echo(f"imported {result.inserted} new and {result.updated} replaced volumes "
               f"from {file.name}")


@volumes_group.command("list")
@clear_errors
def list_command() -> None:
    """Show the imported volumes, newest period first."""
    from survey.services.desks.volumes import list_volumes

    with app_session() as (_app, session):
        rows = list_volumes(session)
    for desk, period, count in rows:
        click.echo(f"{desk:<16} {period:<8} {count:>8}")
    if not rows:
        click.echo("no volumes imported yet")
