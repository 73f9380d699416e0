"""The citizen's QR evaluation: one page, no JavaScript, Vietnamese first.

``GET /d/<token>`` shows the form of the desk the signed token names; ``POST`` stores it
once and redirects to the thank-you page (so reloading never re-posts). Every way this
can go wrong (a tampered, retired or disabled link, an expired page, a dossier already
evaluated, a re-used form with other answers, too many tries) gets a kind page with a
4xx status, never a 500.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlmodel import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.validators import ValidationError

from survey.app import csrf, get_session
from survey.instruments import Instrument as FormInstrument
from survey.models import Desk, Instrument, InstrumentVersion
from survey.security import public
from survey.services.desks.evaluation import (
    DESK_INSTRUMENT,
    parse_submission,
    submit_evaluation,
)
from survey.services.desks.links import (
    DeskTokenError,
    DisabledDesk,
    RotatedDeskToken,
    dossier_secret,
    resolve_token,
)
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.responses import ConflictError, DuplicateDossierError
from survey.views.collect_limits import (
    desk_address_key,
    desk_key,
    install,
    limit,
    limiter,
    retry_after_seconds,
)

bp = Blueprint("collect", __name__, url_prefix="/d")
bp.record_once(lambda state: install(state.app))

Page = str | tuple[str, int] | WerkzeugResponse


def problem(kind: str, status: int, **context: Any) -> tuple[str, int]:
    """A friendly page for one of the known problems (see templates/collect/problem.html)."""
    return render_template("collect/problem.html", kind=kind, **context), status


# Published versions are frozen, so a version checked once to be a desk form stays one:
# kept per app (so per database), merged into each request's session without a query.
VERSION_CACHE = "sipas_desk_versions"


def _version(raw_id: str | None) -> InstrumentVersion:
    """The version the form was rendered with if it is a desk form, else the latest one."""
    db = get_session()
    if raw_id and raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 12:  # not "²"
        cache: dict[int, InstrumentVersion] = current_app.extensions.setdefault(VERSION_CACHE, {})
        wanted = int(raw_id)
        if wanted in cache:
            return db.merge(cache[wanted], load=False)
        row = db.exec(
            select(InstrumentVersion)
            .join(Instrument, Instrument.id == InstrumentVersion.instrument_id)
            .where(InstrumentVersion.id == wanted, Instrument.code == DESK_INSTRUMENT)
        ).first()
        if row is not None:
            db.expunge(row)
            cache[wanted] = row
            return db.merge(row, load=False)
    return latest_version(db, DESK_INSTRUMENT)


def _localised(message: str) -> str:
    """Validator messages are "Vietnamese / English"; show the reader's language."""
    if " / " not in message:
        return message
    vi, en = message.split(" / ", 1)
    return en if str(get_locale()) == "en" else vi


@bp.route("/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # checked below, after the link: a retired poster says so even on a stale POST
@limiter.limit(lambda: limit("DESK_LIMIT_ADDRESS"))
@limiter.limit(lambda: limit("DESK_LIMIT_DESK"), key_func=desk_key, methods=["POST"])
@limiter.limit(lambda: limit("DESK_LIMIT_DESK_ADDRESS"), key_func=desk_address_key,
               methods=["POST"])
def evaluate(token: str) -> Page:
    db = get_session()
    secret_key = current_app.config["SECRET_KEY"]
    try:
        desk = resolve_token(db, secret_key, token)
    except RotatedDeskToken:
        return problem("rotated", 410)
    except DisabledDesk:
        return problem("disabled", 410)
    except DeskTokenError:
        return problem("invalid", 404)
    try:
        version = _version(request.form.get("iv") if request.method == "POST" else None)
    except ValueError:
        return problem("unavailable", 503)
    form = parse_stored(version.source_text)
    if request.method == "POST":
        return _receive(desk, version, form)
    db.commit()  # release the (SQLite: write) transaction before rendering
    return _render(desk, version, form, {}, {}, uuid.uuid4(), 200)


def _receive(desk: Desk, version: InstrumentVersion, form: FormInstrument) -> Page:
    """Check, store once, commit, redirect; or show the form again with its errors."""
    db = get_session()
    secret_key = current_app.config["SECRET_KEY"]
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return problem("expired", 400, retry=request.path)
    submission = parse_submission(form, request.form, current_app.config["DOSSIER_CODE_PATTERN"])
    if submission.client_uuid is None:
        return problem("expired", 400, retry=request.path)
    if submission.errors:
        values = {k: str(v) for k, v in request.form.items() if k != "csrf_token"}
        errors = {code: _localised(message) for code, message in submission.errors.items()}
        return _render(desk, version, form, values, errors, submission.client_uuid, 422)
    try:
        submit_evaluation(
            db, desk=desk, version=version, form=form, submission=submission,
            secret=dossier_secret(secret_key), client_address=request.remote_addr or "",
        )  # fmt: skip
        db.commit()
    except DuplicateDossierError:
        db.rollback()
        return problem("dossier", 409)
    except ConflictError:
        db.rollback()
        return problem("conflict", 409, retry=request.path)
    return redirect(url_for("collect.thanks"), code=303)


def _render(desk: Desk, version: InstrumentVersion, form: FormInstrument,
            values: dict[str, str], errors: dict[str, str], client_uuid: uuid.UUID,
            status: int) -> tuple[str, int]:
    lang = "en" if str(get_locale()) == "en" else "vi"
    return render_template(
        "collect/form.html", desk=desk, form=form, version=version, lang=lang,
        values=values, errors=errors, client_uuid=client_uuid,
    ), status  # fmt: skip


@bp.route("/thanks")
@public
def thanks() -> str:
    return render_template("collect/thanks.html")


@bp.errorhandler(CSRFError)
def csrf_expired(_error: CSRFError) -> tuple[str, int]:
    return problem("expired", 400, retry=request.path)


@bp.errorhandler(429)
def too_many(_error: Exception) -> WerkzeugResponse:
    response = current_app.make_response(problem("too_many", 429))
    response.headers["Retry-After"] = str(retry_after_seconds())
    return response


def label(text: dict[str, str] | None, lang: str) -> str:
    """An instrument text in the reader's language, Vietnamese when not translated."""
    if not text:
        return ""
    return text.get(lang) or text["vi"]


bp.add_app_template_filter(label, "in_lang")
