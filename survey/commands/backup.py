"""``sipas backup`` and ``sipas restore``."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_engine, clear_errors


@click.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="New file to write (SQLite copy or pg_dump custom format).")
@clear_errors
def backup_command(out: Path) -> None:
    """Back up the database while the app keeps serving."""
    from survey.services.data.backup import backup

    with app_engine() as (_app, engine):
        result = backup(engine, out)
    click.echo(f"backup written: {result.path} ({result.kind}, {result.size} bytes)")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@clear_errors
def restore_command(source: Path) -> None:
    """Restore a backup into an empty database (a fresh instance); then run `sipas init`."""
    from survey.services.data.backup import restore

    with app_engine() as (_app, engine):
        restore(engine, source)
    click.echo(f"restored from {source}")
