"""``sipas frame import FILE`` and ``sipas frame show``."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_engine, app_session, clear_errors


@click.group("frame")
def frame_group() -> None:
    """The sample frame: administrative units with their sizes."""


@frame_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@clear_errors
def frame_import(file: Path) -> None:
    """Import (or update) units from a CSV; a file with any problem is refused whole.

    Columns: code,name,level[,parent,households,population,urban_rural,valid_from,valid_to,
    successor].
    """
    from survey.db import session_scope
    from survey.services.audit import record
    from survey.services.sample.frame import FrameError, import_frame, problems_text

    if not file.is_file():
        raise ValueError(f"{file}: file not found")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{file}: not UTF-8 text (save the CSV as UTF-8)") from None
    with app_engine() as (_app, engine):
        try:
            with session_scope(engine) as session:
                result = import_frame(session, text, source=str(file))
                record(session, "frame.import", "admin_unit", detail={
                    "file": file.name, "created": result.created, "updated": result.updated})
        except FrameError as exc:
            more = "\n" + problems_text(exc.problems) if len(exc.problems) > 1 else ""
            raise click.ClickException(f"{exc}{more}") from None
    levels = ", ".join(f"{level} {n}" for level, n in result.by_level.items())
    click.echo(f"frame imported: {result.created} units created, {result.updated} updated "
               f"({levels})")


@frame_group.command("show")
@clear_errors
def frame_show() -> None:
    """Units per level (all, and current ones)."""
    from survey.services.sample.frame import frame_summary

    with app_session() as (_app, session):
        for level, total, current in frame_summary(session):
            click.echo(f"{level:<12} {total:>6} units, {current:>6} current")


@frame_group.command("crosswalk")
@click.option("--level", default=None, help="Only this level's units (e.g. province).")
@click.option("--on", "on", default=None, metavar="YYYY-MM-DD",
              help="The map of this day (default: today).")
@clear_errors
def frame_crosswalk(level: str | None, on: str | None) -> None:
    """What a reform merged: each unit taken over, and the unit holding its area now.

    CSV on standard output (code, name, level, valid_to, now_code, now_name): the table
    by which an earlier round is reported on today's map.
    """
    import csv
    import sys
    from datetime import date

    from survey.services.sample.frame import taken_over_units

    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise click.BadParameter(f"'{on}' is not a date (YYYY-MM-DD)", param_hint="--on") from None
    with app_session() as (_app, session):
        rows = taken_over_units(session, level, day)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(("code", "name", "level", "valid_to", "now_code", "now_name"))
    out.writerows(rows)
    click.echo(f"{len(rows)} units taken over", err=True)
