"""``sipas round create|list|publish``."""

from __future__ import annotations

import click

from survey.commands import app_session, clear_errors


@click.group("round")
def round_group() -> None:
    """Survey rounds: each owns its sample, responses and weights."""


@round_group.command("create")
@click.option("--code", required=True, help="Short code, e.g. 2026.")
@click.option("--name", required=True, help="e.g. \"Khảo sát SIPAS 2026\".")
@click.option("--year", required=True, type=int)
@click.option("--area", default="", help="Code of the unit (a province) the round covers: its "
              "sample is drawn from that unit's hamlets and its staff run it. Default: the "
              "whole deployment.")
@clear_errors
def round_create(code: str, name: str, year: int, area: str) -> None:
    """Create an open round."""
    from survey.services.sample.rounds import create_round
    from survey.services.scope import EVERYTHING, area_for

    with app_session() as (_app, session):
        row = create_round(session, code, name, year, unit_id=area_for(session, EVERYTHING,
                                                                        area))
        click.echo(f"round {row.code} created (open{', ' + area.strip() if area else ''})")


@round_group.command("list")
@clear_errors
def round_list() -> None:
    """Rounds with their state, sample, responses and weights version."""
    from survey.services.sample.rounds import list_rounds

    with app_session() as (_app, session):
        for r in list_rounds(session):
            weights = f"weights v{r.weights_version}" if r.weights_computed else "no weights"
            click.echo(f"{r.code:<10} {r.status:<9} {r.hamlets:>4} hamlets {r.responses:>6} "
                       f"responses  {weights:<12} {r.name}")


@round_group.command("publish")
@click.argument("code")
@clear_errors
def round_publish(code: str) -> None:
    """Freeze the round and its current weights version."""
    from survey.services.sample.rounds import publish_round

    with app_session() as (_app, session):
        row = publish_round(session, code)
        click.echo(f"round {row.code} published with weights version {row.weights_version}")
