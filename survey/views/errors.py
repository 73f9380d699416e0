"""The app's own error pages: every 4xx/5xx a person can meet, in their language.

Werkzeug's default pages are English, name nothing and, for a citizen who mistyped a link,
look like a broken site. Each status here gets a page in Vietnamese (English by switch)
that says what happened and what to do; citizen paths (``/d/…``) get the citizen layout.
Request bodies over the limit (``MAX_CONTENT_LENGTH``; the public form is smaller, see
``collect.py``) get a kind 413 before anything is read.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Conflict, HTTPException, RequestTimeout

from survey.services.desks.links import EVALUATION_PATH

bp = Blueprint("errors", __name__)

STATUSES = (400, 403, 404, 405, 408, 409, 410, 413, 429, 500)


def error_page(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    citizen = (request.path + "/").startswith(EVALUATION_PATH)
    return render_template("errors/error.html", status=status, citizen=citizen), status


for _status in STATUSES:
    bp.app_errorhandler(_status)(error_page)


@bp.app_errorhandler(IntegrityError)
def raced(_error: IntegrityError) -> tuple[str, int]:
    """Two people did the same at the same moment (PostgreSQL lets both check, then one
    insert fails on the unique constraint): roll back, nothing half-saved, a kind 409."""
    from survey.app import get_session

    get_session().rollback()
    return error_page(Conflict())


@bp.app_errorhandler(TimeoutError)
def too_slow(_error: TimeoutError) -> tuple[str, int]:
    """A client that did not deliver its request in time (survey/serving.py): 408, not 500."""
    return error_page(RequestTimeout())
