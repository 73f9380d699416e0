"""Click commands of the ``sipas`` CLI that need the app; thin wrappers over services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


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
        except (ConfigError, MigrationError, FormError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(
                f"cannot reach the database (check DATABASE_URL): {reason}"
            ) from None

    return wrapper  # type: ignore[return-value]
