"""Role checks for every route: one decorator, used by every blueprint.

Anonymous users are sent to the login page; a logged-in user without the role gets a
plain 403 page (never a redirect loop, never a hint of what is behind the door).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from survey.app import login_manager

F = TypeVar("F", bound=Callable[..., Any])

ADMIN = "admin"
SUPERVISOR = "supervisor"
ENUMERATOR = "enumerator"
ANALYST = "analyst"
STAFF = (ADMIN, SUPERVISOR)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only logged-in, active users holding one of ``roles``."""
    if not roles:
        raise ValueError("roles_required needs at least one role")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as deliberately open to anonymous users (citizen pages, login)."""
    view.allowed_roles = None  # type: ignore[attr-defined]
    return view


def logged_in(view: F) -> F:
    """Any logged-in user, whatever the role (logout, own profile)."""
    return roles_required(ADMIN, SUPERVISOR, ENUMERATOR, ANALYST)(view)
