"""``sipas token create|list|revoke``: personal tokens for the API and the OData feed."""

from __future__ import annotations

import click

from survey.commands import app_session, clear_errors


@click.group("token")
def token_group() -> None:
    """Personal API tokens (REST API, OData feed for Excel and Power BI)."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'Power BI'.")
@click.option("--days", type=click.IntRange(1, 366), default=None,
              help="Expire after this many days (default: until revoked).")
@clear_errors
def token_create(username: str, name: str, days: int | None) -> None:
    """Make a token for USERNAME; it is printed once, keep it like a password."""
    from sqlmodel import select

    from survey.models import User
    from survey.services.api.tokens import create_token

    with app_session() as (_app, session):
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        made = create_token(session, user, name, days)
        click.echo(f"token {made.row.id} for {user.username} ({name}); shown only now:")
        click.echo(made.secret)


@token_group.command("list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
@clear_errors
def token_list(username: str | None) -> None:
    """Tokens with their owner, state and last use (never the tokens themselves)."""
    from sqlmodel import select

    from survey.models import User
    from survey.services.api.tokens import token_state, user_tokens

    with app_session() as (_app, session):
        user_id = None
        if username:
            user = session.exec(select(User).where(User.username == username)).first()
            if user is None:
                raise click.ClickException(f"no user {username!r}")
            user_id = user.id
        for token, owner in user_tokens(session, user_id):
            used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at \
                else "never used"
            click.echo(f"{token.id:>5} {owner.username:<20} {token_state(token):<8} "
                       f"{token.prefix}…  {used:<25} {token.name}")


@token_group.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
@clear_errors
def token_revoke(token_id: int) -> None:
    """Revoke a token at once (the audit log records it as done on the command line)."""
    from survey.services.api.tokens import revoke_token

    with app_session() as (_app, session):
        token = revoke_token(session, token_id, None)
        click.echo(f"token {token.id} ({token.name}) revoked")
