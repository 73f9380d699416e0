"""The counter tablet (kiosk): a rating screen that waits for a ticket and forgets each citizen.

``GET /kiosk/<key>`` is one page holding every screen (waiting, one question at a time,
thanks) in both languages, so that a network drop changes nothing the citizen sees: the
tablet keeps what was answered in its own storage and sends it when the network returns
(``static/kiosk.js``). ``GET …/ticket`` tells the waiting tablet that the queue system
closed a ticket; ``POST …/evaluations`` stores one evaluation, once per UUID. The key in
the address is the tablet's only credential (registered on the desk's page, revocable):
no cookie, so no CSRF token either; a page elsewhere cannot know the key.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import csrf, get_session, localise
from survey.instruments import Instrument as FormInstrument
from survey.messages import N_, UserError
from survey.models import Desk, InstrumentVersion, utcnow
from survey.models_kiosk import KioskDevice
from survey.security import public
from survey.services.desks.evaluation import DOSSIER_ITEM, parse_submission
from survey.services.desks.links import dossier_secret
from survey.services.dossiers.links import derived_answers
from survey.services.instruments_text import parse_stored
from survey.services.kiosk.devices import KioskError, resolve, seen, waiting_ticket
from survey.services.kiosk.evaluations import (
    DEFAULT_QUEUE_DAYS,
    kiosk_answers,
    kiosk_rules,
    known_dossier,
    read_post,
    store_kiosk_evaluation,
    ticket_dossier,
)
from survey.services.responses import ConflictError, DuplicateDossierError
from survey.views.collect import _version, problem, reference
from survey.views.collect_limits import limit, limiter

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

DEFAULTS = {"KIOSK_RESET_SECONDS": 30, "KIOSK_THANKS_SECONDS": 5, "KIOSK_POLL_SECONDS": 3,
            "KIOSK_QUEUE_DAYS": DEFAULT_QUEUE_DAYS}
DEVICE_LIMIT = "3000 per minute"


def _known_tablet() -> bool:
    """Whether the address names a registered tablet (looked up once per request).

    A centre's tablets and its citizens' phones share one public address: twenty tablets
    asking for tickets every 3 s would spend the citizen form's per-address flood limit by
    themselves. So a registered tablet is limited on its own key (``KIOSK_LIMIT_DEVICE``),
    and only addresses that name no tablet count against the per-address limit.
    """
    try:
        _device((request.view_args or {}).get("key", ""))
    except KioskError as exc:
        return exc.revoked  # a revoked tablet is still a tablet: its own limit
    return True


def _tablet_key() -> str:
    """The per-tablet limit's key: a hash of the tablet's key, never the key itself."""
    from survey.services.kiosk.devices import key_hash

    return "kiosk:" + key_hash((request.view_args or {}).get("key", ""))[:24]


def _limited(view: Any) -> Any:
    """The flood guard per address for what names no tablet, per tablet for the rest."""
    view = limiter.limit(lambda: limit("DESK_LIMIT_ADDRESS"), exempt_when=_known_tablet)(view)
    return limiter.limit(lambda: limit("KIOSK_LIMIT_DEVICE"), key_func=_tablet_key,
                         exempt_when=lambda: not _known_tablet())(view)


@bp.record_once
def _check_settings(state: Any) -> None:
    """A bad KIOSK_* setting stops the app at start with one line, not a tablet at noon."""
    from survey.config import ConfigError

    config = state.app.config
    config.setdefault("KIOSK_LIMIT_DEVICE", DEVICE_LIMIT)
    for name, default in DEFAULTS.items():
        value = config.setdefault(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 86400:
            raise ConfigError(f"{name} must be a whole number from 1 to 86400, got {value!r}")
    try:
        kiosk_rules(config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def _device(key: str) -> tuple[KioskDevice, Desk]:
    """The tablet and its desk; a :class:`KioskError` for an unknown or revoked key (looked
    up once per request: the rate limits ask first)."""
    if "kiosk_device" not in g:
        try:
            g.kiosk_device = resolve(get_session(), key)
        except KioskError as exc:
            g.kiosk_device = exc
    if isinstance(g.kiosk_device, KioskError):
        raise g.kiosk_device
    return g.kiosk_device  # type: ignore[no-any-return]


def _refusal(exc: KioskError) -> tuple[WerkzeugResponse, int]:
    """What the tablet's script is told when its key no longer works (it stops sending)."""
    if exc.revoked:
        return _json_error(410, _("This tablet has been revoked: ask the supervisor."))
    return _json_error(404, _("Unknown tablet."))


def _json_error(status: int, message: str, errors: dict[str, str] | None = None
                ) -> tuple[WerkzeugResponse, int]:
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


# Words of the tablet's own (not the form's), in both languages: the citizen switches without
# a reload, which works while the network is down.
WORDS = {
    "invite": N_("Please rate the service you have just received"),
    "start": N_("Start the evaluation"),
    "waiting": N_("Evaluations waiting to be sent: %(n)s"),
    "refused": N_("Evaluations the server refused: %(n)s"),
    "offline": N_("No network: evaluations are kept on this tablet and sent later."),
    "revoked": N_("This tablet has been revoked: ask the supervisor."),
    "next": N_("Continue"),
    "back": N_("Back"),
    "skip": N_("Skip"),
    "send": N_("Send evaluation"),
    "required": N_("Please choose an answer."),
    "number": N_("Please enter a whole number from %(min)s to %(max)s."),
    "thanks": N_("Thank you! Your evaluation has been recorded."),
    "question": N_("Question %(n)s of %(total)s"),
}


def _words() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for lang in ("vi", "en"):
        with force_locale(lang):
            out[lang] = {key: _(text) for key, text in WORDS.items()}
    return out


def _asked(form: FormInstrument) -> list[Any]:
    return [item for item in form.questions if item.code != DOSSIER_ITEM]


@bp.route("/<key>")
@public
@_limited
def screen(key: str) -> Any:
    try:
        device, desk = _device(key)
    except KioskError as exc:
        return problem("kiosk_revoked", 410) if exc.revoked else problem("kiosk_invalid", 404)
    db = get_session()
    try:
        version = _version(None)
    except ValueError:
        return problem("unavailable", 503)
    form = parse_stored(version.source_text)
    seen(db, device)
    db.commit()
    page = current_app.make_response(render_template(
        "kiosk/screen.html", desk=desk, device=device, form=form, version=version,
        asked=_asked(form), words=_words(), key=key,
        settings={name.removeprefix("KIOSK_").lower(): setting(name) for name in DEFAULTS}))
    page.headers["Cache-Control"] = "no-store"  # the key is in the address; nothing kept
    page.headers["Referrer-Policy"] = "no-referrer"
    return page


@bp.route("/<key>/ticket")
@public
@_limited
def ticket(key: str) -> Any:
    """The ticket the waiting tablet should show, if the queue system opened one."""
    try:
        device, _desk = _device(key)
    except KioskError as exc:
        return _refusal(exc)
    db = get_session()
    after = request.args.get("after", "0")
    shown = int(after) if after.isascii() and after.isdigit() and len(after) < 10 else 0
    waiting = waiting_ticket(db, device, shown,
                             timedelta(seconds=setting("KIOSK_RESET_SECONDS")))
    known: dict[str, Any] = {}
    if waiting is not None and waiting.dossier_hash is not None:
        dossier = known_dossier(db, waiting.dossier_hash)
        if dossier is not None:  # the tablet skips what the dossier answers
            known = derived_answers(parse_stored(_version(None).source_text), dossier)
    seen(db, device)
    db.commit()
    body = {"ticket": None if waiting is None else {"id": waiting.id, "ref": waiting.ref,
                                                      "known": known}}
    reply = jsonify(body)
    reply.headers["Cache-Control"] = "no-store"
    return reply


@bp.route("/<key>/evaluations", methods=["POST"])
@public
@csrf.exempt  # the key in the address is the credential; no cookie is involved
@_limited
def evaluations(key: str) -> Any:
    """Store one evaluation the tablet sends (now, or from its queue after a network drop):
    201 stored, 200 already stored (a re-send), 422 with each problem named, 409 the UUID
    used with other answers; 404/410 a tablet unknown or revoked."""
    try:
        device, desk = _device(key)
    except KioskError as exc:
        return _refusal(exc)
    db = get_session()
    now = utcnow()
    body = request.get_json(silent=True)
    try:
        post = read_post(body, now, setting("KIOSK_QUEUE_DAYS"))
    except UserError as exc:
        return _json_error(422, exc.localised(_))
    try:
        version: InstrumentVersion = _version(str(post.version_id) if post.version_id else None)
    except ValueError:
        return _json_error(503, _("Evaluations are not open yet"))
    form = parse_stored(version.source_text)
    dossier = ticket_dossier(db, device, post)
    # what the ticket's dossier answers is the dossier's, whatever was sent (as a link's)
    derived = derived_answers(form, dossier) if dossier is not None else {}
    submission = parse_submission(form, {**kiosk_answers(post), **derived},
                                  current_app.config["DOSSIER_CODE_PATTERN"])
    if submission.errors:
        return _json_error(422, _("Please check the answers marked below."),
                           {code: localise(message) for code, message
                            in submission.errors.items()})
    db.commit()  # end the reading transaction; the evaluation is written in its own
    try:
        result = store_kiosk_evaluation(
            db, device=device, desk=desk, version=version, form=form, submission=submission,
            post=post, secret=dossier_secret(current_app.config["SECRET_KEY"]),
            rules=kiosk_rules(current_app.config), derived=derived)
        db.commit()
    except (ConflictError, DuplicateDossierError):
        db.rollback()
        return _json_error(409, _("This form was already sent with different answers, so "
                                  "these were not saved."))
    return jsonify({"stored": True, "created": result.created,
                    "reference": reference(result.response)}), (201 if result.created else 200)


@bp.errorhandler(429)
def too_many(_error: Exception) -> WerkzeugResponse:
    """The page as a kind page, the tablet's calls as JSON (its script waits and retries)."""
    from survey.views.collect_limits import retry_after_seconds

    if request.endpoint == "kiosk.screen":
        reply = current_app.make_response(problem("too_many", 429))
    else:
        reply, _status = _json_error(429, _("Too many attempts"))
        reply.status_code = 429
    reply.headers["Retry-After"] = str(retry_after_seconds())
    return reply
