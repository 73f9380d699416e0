"""``sipas tallies``: the desk evaluation counts the dashboard reads (check, rebuild).

Database triggers keep the counts equal to the rows on every write; a bulk load that turns
triggers off (or a restore from an old dump) is followed by ``sipas tallies rebuild``, and
``sipas tallies check`` says whether the counts still equal the rows.
"""

from __future__ import annotations

import sys

import click

from survey.commands import app_session, clear_errors


@click.group("tallies")
def tallies_group() -> None:
    """Counts of desk evaluations per month, desk, mode and answer (for the dashboard)."""


@tallies_group.command("check")
@clear_errors
def check_command() -> None:
    """Compare the stored counts with the rows; exit status 1 when they differ."""
    from survey.services.reports import tallies

    with app_session() as (_app, session):
        stored, rows = tallies.stored(session), tallies.from_rows(session)
    wrong = len(stored[0] ^ rows[0]) + len(stored[1] ^ rows[1])
    if wrong:
        click.echo(f"{wrong} counts differ from the rows: run 'sipas tallies rebuild'")
        sys.exit(1)
    click.echo(f"the counts equal the rows ({len(rows[0])} desk-months, "
               f"{len(rows[1])} answer counts)")


@tallies_group.command("rebuild")
@clear_errors
def rebuild_command() -> None:
    """Recompute every count from the rows (after a bulk load with triggers off)."""
    from survey.services.audit import record
    from survey.services.reports import tallies

    with app_session() as (_app, session):
        count = tallies.rebuild(session)
        record(session, "tallies_rebuild", "desk_tally", None, detail={"rows": count})
    click.echo(f"rebuilt {count} counts from the rows")
