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

STATUSES = (400, 401, 403, 404, 405, 408, 409, 410, 413, 422, 429, 500)


def error_page(error: HTTPException):  # type: ignore[no-untyped-def]
    status = error.code or 500
    if request.path.startswith(("/api/", "/odata/")):  # programs read JSON, not a page
        from survey.views.api import http_error

        return http_error(error)
    citizen = (request.path + "/").startswith(EVALUATION_PATH)
    shown = 400 if status in (401, 422) else status  # the API's codes: the page has no words
    return render_template("errors/error.html", status=shown, citizen=citizen), status


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
