"""Click commands of the ``sipas`` CLI that need the app; thin wrappers over services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def app_engine() -> Iterator[tuple[Flask, Engine]]:
    """The configured app and its engine, disposed afterwards (no dangling connections).

    In the ``sipas`` process, what the command has loaded by now (the app, its modules) is
    set aside from the garbage collector, as a server's workers do: a long command (a
    national export or report) otherwise spends seconds walking it in every collection."""
    from survey.app import create_app
    from survey.memory import set_aside_for_the_job

    app = create_app()
    set_aside_for_the_job()
    engine = app.extensions["sipas_engine"]
    try:
        yield app, engine
    finally:
        engine.dispose()


@contextmanager
def app_session() -> Iterator[tuple[Flask, Session]]:
    """The configured app and one session that commits on success (the engine disposed)."""
    from survey.db import session_scope

    with app_engine() as (app, engine), session_scope(engine) as session:
        yield app, session


def clear_errors(func: F) -> F:
    """Turn expected errors into one clear line and a non-zero exit, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        from survey.config import ConfigError
        from survey.instruments import FormError
        from survey.migrate import MigrationError

        try:
            return func(*args, **kwargs)
        except (ConfigError, MigrationError, FormError, ValueError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(
                f"cannot reach the database (check DATABASE_URL): {reason}"
            ) from None

    return wrapper  # type: ignore[return-value]


AS_USER_HELP = ("Act as this account: only the data of its area (its province, district or "
                "commune), as it would see on its screens.")


def area_of_account(session: Session, username: str | None, roles: tuple[str, ...] = (
        "analyst", "supervisor", "admin")) -> Any:
    """The area of ``--as USER`` (everything when not given): the account must exist, be
    active and hold a role that may read what the command writes."""
    from survey.services.scope import EVERYTHING, of_user
    from survey.services.users import find_user

    if not username:
        return EVERYTHING
    user = find_user(session, username)
    if user is None or not user.active:
        raise ValueError(f"--as: no active account {username!r}")
    if user.role not in roles:
        raise ValueError(f"--as: {user.username} is {user.role}; this command needs one of "
                         f"{', '.join(roles)}")
    return of_user(session, user)
