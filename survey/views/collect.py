"""The citizen's QR evaluation: one page, no JavaScript, Vietnamese first.

``GET /d/<token>`` shows the form of the desk the link names, with a server-issued form
instance (``form_token``); ``POST`` stores it once and redirects to a thank-you page that
names the desk and gives a reference (so reloading never re-posts). Nothing a citizen typed
is lost: an expired or unreadable form instance, a language switch or a mistake brings the
page back with every answer kept. Every way this can go wrong (a tampered, retired or
disabled link, a dossier already evaluated, a re-used form with other answers, too many
requests) gets a kind page with a 4xx status, never a 500. No cookie is needed: the signed
form instance is this public form's protection against forgery (see form_tokens.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import csrf, get_session, localise
from survey.instruments import Instrument as FormInstrument
from survey.models import Desk, Instrument, InstrumentVersion, Response
from survey.models_dossiers import Dossier
from survey.security import public
from survey.services.desks.evaluation import (
    DESK_INSTRUMENT,
    DOSSIER_ITEM,
    MAX_TEXT,
    parse_submission,
    submit_evaluation,
)
from survey.services.desks.form_tokens import (
    DEFAULT_MAX_AGE,
    FormInstance,
    FormTokenError,
    issue_form,
    read_form,
)
from survey.services.desks.holds import HoldRules
from survey.services.desks.links import (
    DeskTokenError,
    DisabledDesk,
    RotatedDeskToken,
    desk_token,
    dossier_secret,
    resolve_token,
)
from survey.services.dossiers.links import DEFAULT_DAYS as DEFAULT_LINK_DAYS
from survey.services.dossiers.links import (
    DossierLinkError,
    derived_answers,
    evaluated,
    read_link,
)
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.responses import ConflictError, DuplicateDossierError
from survey.typed import whole_number
from survey.views.collect_limits import install, limit, limiter, retry_after_seconds

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
    wanted = whole_number(raw_id, digits=11)
    if wanted is not None:
        cache: dict[int, InstrumentVersion] = current_app.extensions.setdefault(VERSION_CACHE, {})
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


@bp.route("/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # the signed form instance protects this cookie-less public form (form_tokens.py)
@limiter.limit(lambda: limit("DESK_LIMIT_ADDRESS"))
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
    link = (request.form if request.method == "POST" else request.args).get("h")
    dossier = None
    if link is not None:  # a dossier's own link (services/dossiers/links.py)
        try:
            dossier = read_link(db, secret_key, link, desk, _link_days())
        except DossierLinkError as exc:
            return problem("link_expired" if exc.expired else "invalid",
                           410 if exc.expired else 404)
        if request.method == "GET" and evaluated(db, dossier):
            return problem("dossier", 409)
    # End the reading transaction (on SQLite it holds the write lock) before parsing,
    # checking or rendering; a submission writes in a transaction of its own.
    db.commit()
    if request.method == "POST":
        return _receive(desk, version, form, dossier, link)
    page = current_app.make_response(_render(desk, version, form, {}, {},
                                             issue_form(secret_key, desk.id), 200,
                                             dossier=dossier, link=link))
    # Back after sending shows this same form instance (re-sending it stores nothing new);
    # "another evaluation" on the thank-you page asks for a fresh one.
    # A dossier's link is used once: the browser asks again each time (a used link then
    # shows "already evaluated" instead of a kept copy of the form to fill in for nothing).
    page.headers["Cache-Control"] = "private, no-cache" if dossier else "private, max-age=600"
    return page


def _posted_values(form: FormInstrument) -> dict[str, str]:
    """What the citizen typed, to show again: known fields only, never more than a field holds."""
    names = [item.code for item in form.questions] + ["contact_phone", "contact_consent"]
    return {name: request.form.get(name, "")[:MAX_TEXT] for name in names if name in request.form}


def _link_days() -> int:
    return int(current_app.config.get("DOSSIER_LINK_DAYS", DEFAULT_LINK_DAYS))


def _receive(desk: Desk, version: InstrumentVersion, form: FormInstrument,
             dossier: Dossier | None = None, link: str | None = None) -> Page:
    """Check, store once, commit, redirect; or show the form again with every answer kept."""
    db = get_session()
    secret_key = current_app.config["SECRET_KEY"]
    values = _posted_values(form)
    again = {"dossier": dossier, "link": link}
    try:
        instance = read_form(secret_key, request.form.get("form_token"), desk.id,
                             int(current_app.config.get("DESK_FORM_MAX_AGE", DEFAULT_MAX_AGE)))
    except FormTokenError as exc:
        notice = "expired" if exc.expired else "resend"
        return _render(desk, version, form, values, {}, issue_form(secret_key, desk.id), 400,
                       notice, **again)
    if request.form.get("switch_lang"):  # the language switch posts the answers given so far
        return _render(desk, version, form, values, {}, instance, 200, **again)
    derived = derived_answers(form, dossier) if dossier is not None else {}
    # what the dossier answers is the dossier's, whatever was posted (and checked with the rest)
    posted = {**request.form.to_dict(), **{k: str(v) for k, v in derived.items()}}
    submission = parse_submission(form, posted, current_app.config["DOSSIER_CODE_PATTERN"])
    if submission.errors:
        errors = {code: localise(message) for code, message in submission.errors.items()}
        return _render(desk, version, form, values, errors, instance, 422, **again)
    try:
        result = submit_evaluation(
            db, desk=desk, version=version, form=form, submission=submission,
            client_uuid=instance.client_uuid, secret=dossier_secret(secret_key),
            client_address=request.remote_addr or "",
            rules=HoldRules.from_config(current_app.config), dossier=dossier,
            derived=derived,
        )  # fmt: skip
        db.commit()
    except DuplicateDossierError:
        db.rollback()
        return problem("dossier", 409)
    except ConflictError:
        db.rollback()
        return problem("conflict", 409, retry=request.path)
    return redirect(url_for("collect.thanks", ref=thanks_ref(secret_key, result.response.id)),
                    code=303)


def _render(desk: Desk, version: InstrumentVersion, form: FormInstrument,
            values: dict[str, str], errors: dict[str, str], instance: FormInstance,
            status: int, notice: str | None = None, dossier: Dossier | None = None,
            link: str | None = None) -> tuple[str, int]:
    lang = "en" if str(get_locale()) == "en" else "vi"
    # a dossier's link: its code is known (never typed) and what it answers is not asked
    known = set(derived_answers(form, dossier)) | {DOSSIER_ITEM} if dossier else set()
    # A page without script cannot apply a skip rule, so a question that has one (what went
    # wrong, after a low rating) is asked where a script applies it: the kiosk, the keying
    # screen. An answer posted to it anyway is dropped when its rule leaves it out.
    asked = [item for item in form.questions if item.code not in known and item.relevant is None]
    numbers = {item.code: n for n, item in enumerate(asked, start=1)}
    return render_template(
        "collect/form.html", desk=desk, form=form, version=version, lang=lang,
        values=values, errors=errors, instance=instance, numbers=numbers, notice=notice,
        known=known, dossier=dossier, link=link, asked=asked,
    ), status  # fmt: skip


THANKS_SALT = "sipas.desk-thanks.v1"


def thanks_ref(secret_key: str, response_id: int | None) -> str:
    return str(URLSafeSerializer(secret_key, salt=THANKS_SALT).dumps(response_id))


def reference(response: Response) -> str:
    """A short reference a citizen can quote (from the form's UUID; not guessable)."""
    text = response.client_uuid.hex[:8].upper()
    return f"{text[:4]}-{text[4:]}"


@bp.route("/thanks")
@bp.route("/thanks/<ref>")
@public
def thanks(ref: str | None = None) -> Page:
    response = desk = None
    if ref:
        try:
            response_id = URLSafeSerializer(current_app.config["SECRET_KEY"],
                                            salt=THANKS_SALT).loads(ref)
        except (BadSignature, UnicodeError, ValueError):
            response_id = None
        if isinstance(response_id, int) and not isinstance(response_id, bool):
            db = get_session()
            response = db.get(Response, response_id)
            desk = db.get(Desk, response.desk_id) if response and response.desk_id else None
    if response is None or desk is None:
        return render_template("collect/thanks.html", recorded=False), 404
    return render_template("collect/thanks.html", recorded=True, desk=desk,
                           reference=reference(response),
                           again=url_for("collect.evaluate", token=desk_token(
                               current_app.config["SECRET_KEY"], desk), again=reference(response)))


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
