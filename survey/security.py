"""Role checks for every route: one decorator, used by every blueprint.

Anonymous users are sent to the login page; a logged-in user without the role gets a
plain 403 page (never a redirect loop, never a hint of what is behind the door).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
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
        scoped = getattr(view, "area_scoped", False)

        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            if not scoped and limited_to_area(current_user):
                g.outside_area = True  # the 403 page says why
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        wrapped.area_scoped = scoped  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def area_scoped(view: F) -> F:
    """Declare that a view shows and changes only what lies in the account's area
    (``survey.services.scope``); put it below ``roles_required``.

    Deny by default: an account limited to a province or a district gets a 403 from every
    view not so declared, so a screen nobody has yet taught about areas can never show it
    another province's data. Views about the account itself (logout, its password, its
    tokens) are declared too: they show nothing of any area.
    """
    view.area_scoped = True  # type: ignore[attr-defined]
    return view


def limited_to_area(user: Any) -> bool:
    """Whether the account sees only part of the deployment."""
    return getattr(user, "scope_unit_id", None) is not None


def public(view: F) -> F:
    """Mark a view as deliberately open to anonymous users (citizen pages, login)."""
    view.allowed_roles = None  # type: ignore[attr-defined]
    return view


def logged_in(view: F) -> F:
    """Any logged-in user, whatever the role or area (logout, own profile)."""
    return roles_required(ADMIN, SUPERVISOR, ENUMERATOR, ANALYST)(area_scoped(view))
