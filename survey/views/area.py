"""The signed-in account's area (``survey.services.scope``), once per request."""

from __future__ import annotations

from flask import current_app, g
from flask_login import current_user

from survey.app import get_session
from survey.services.scope import EVERYTHING, Scope, of_user


def current_scope() -> Scope:
    """The area of whoever makes the request: an API token's account, or the signed-in one."""
    if "scope" not in g:
        user = getattr(g, "api_user", None)
        if user is None and current_user.is_authenticated:
            user = current_user
        g.scope = EVERYTHING if user is None else of_user(get_session(), user)
    return g.scope  # type: ignore[no-any-return]


def open_to_area(endpoint: str) -> bool:
    """Whether a view may be used by an account limited to an area (links on the home page)."""
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, "area_scoped", False)) or getattr(view, "allowed_roles", 1) is None


def can_open(endpoint: str) -> bool:
    """Whether the signed-in account may follow a link to ``endpoint`` as far as its area
    goes (its role is checked where the link is drawn): hides links an area-limited account
    would only meet a 403 behind."""
    limited = current_user.is_authenticated and current_user.scope_unit_id is not None
    return not limited or open_to_area(endpoint)
