"""The home page: what SIPAS is and where each role goes next."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from survey.app import get_session
from survey.security import public
from survey.services.overview import overview
from survey.views.area import can_open, current_scope

bp = Blueprint("main", __name__)

# role -> (endpoint, label); only endpoints that exist in this build are shown.
ROLE_LINKS: dict[str, list[tuple[str, object]]] = {
    "admin": [
        ("admin.users", _l("Users")),
        ("audit.index", _l("Audit log")),
        ("desks.index", _l("Desks and QR codes")),
        ("followup.index", _l("Low ratings followed up")),
        ("entry.assignments", _l("Assignments")),
        ("sample.index", _l("Sample frame and hamlets")),
        ("rounds.index", _l("Survey rounds and weights")),
        ("reports.dashboard", _l("Dashboard")),
    ],
    "supervisor": [
        ("rounds.index", _l("Survey rounds and weights")),
        ("admin.users", _l("Enumerator accounts")),
        ("sample.index", _l("Sample frame and hamlets")),
        ("desks.index", _l("Desks and QR codes")),
        ("followup.index", _l("Low ratings followed up")),
        ("entry.review", _l("Review keyed questionnaires")),
        ("entry.assignments", _l("Assignments")),
        ("entry.fieldwork", _l("Fieldwork progress")),
        ("audit.index", _l("Audit log")),
        ("reports.dashboard", _l("Dashboard")),
    ],
    "enumerator": [("entry.start", _l("Key in paper questionnaires"))],
    "analyst": [("reports.dashboard", _l("Dashboard")), ("reports.exports", _l("Exports"))],
}


def links_for(role: str | None) -> list[tuple[str, object]]:
    available = current_app.view_functions
    return [(url_for(ep), label) for ep, label in ROLE_LINKS.get(role or "", [])
            if ep in available and can_open(ep)]


@bp.route("/")
@public
def home() -> str:
    role = current_user.role if current_user.is_authenticated else None
    # Live counts only for staff: to someone stuffing a desk they would be a progress bar.
    stats = overview(get_session(), current_scope()) if role else None
    return render_template("main/home.html", stats=stats, links=links_for(role))


@bp.route("/healthz")
@public
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200
