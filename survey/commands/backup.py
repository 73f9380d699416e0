"""``sipas backup`` and ``sipas restore``."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_engine, clear_errors


@click.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="New file to write: a zip of the database copy and the instance's keys.")
@clear_errors
def backup_command(out: Path) -> None:
    """Back up the database and the keys while the app keeps serving (file mode 0600)."""
    from survey.services.data.backup import backup

    with app_engine() as (app, engine):
        result = backup(engine, out, {"SECRET_KEY": app.config["SECRET_KEY"]})
    click.echo(f"backup written: {result.path} ({result.kind}, {result.size} bytes, "
               "readable by you only: it holds the instance's keys, keep it safe)")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@clear_errors
def restore_command(source: Path) -> None:
    """Restore a backup into an empty database (a fresh instance); then run `sipas init`."""
    from survey.services.data.backup import install_keys, restore

    with app_engine() as (app, engine):
        result = restore(engine, source)
        if result.keys:
            install_keys(Path(app.instance_path) / "config.py", result.keys)
    if result.keys:
        click.echo(f"restored from {source}, with its keys: printed QR codes and dossier "
                   "checks keep working")
    else:
        click.echo(f"restored from {source} (an older backup without keys: put the old "
                   "SECRET_KEY in instance/config.py, or print new QR codes)")
