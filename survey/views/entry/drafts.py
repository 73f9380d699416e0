"""Keying drafts on the server: the keying screen's autosave, and typing that outlives a login.

Autosave is an ordinary authenticated POST, so typing keeps the login alive. When the login
has expired anyway (a long break, the 8-hour limit), the CSRF token of the form has already
been checked against the old session (Flask-WTF runs first); the values are then kept as the
expired user's draft and the keyer is sent to log in and straight back to the same pass.
"""

from __future__ import annotations

import time

from flask import flash, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import get_session, local_time
from survey.models_entry import EntryCase, Keying
from survey.security import area_scoped, roles_required
from survey.services.entry.drafts import keep_draft
from survey.services.entry.keying import read_form
from survey.services.locks import locked
from survey.services.staff_sessions import session_user
from survey.views.entry.blueprint import bp
from survey.views.entry.keying import KEYERS, _form_of

KEEPING = ("entry.key", "entry.keep")
KEEP_AFTER_EXPIRY_SECONDS = 8 * 3600  # a form left open over a working day


def keep_typed(keying: Keying) -> bool:
    """Keep the posted form as the pass's draft; the caller commits."""
    db = get_session()
    case = db.get(EntryCase, keying.case_id)
    if case is None:
        return False
    form = _form_of(db, case.instrument_version_id)
    outcome, values = read_form(form, request.form, case.sample_unit_id is not None)
    return keep_draft(db, keying, outcome, values) is not None


@bp.before_request
def _keep_typing_of_an_expired_login() -> WerkzeugResponse | tuple[WerkzeugResponse, int] | None:
    user_id = g.pop("expired_user_id", None)
    if user_id is None and not current_user.is_authenticated \
            and time.time() - session.get("expired_at", 0) < KEEP_AFTER_EXPIRY_SECONDS:
        user_id = session.get("expired_user_id")  # an earlier request found the login expired
    if user_id is None or request.method != "POST" or request.endpoint not in KEEPING:
        return None
    db = get_session()
    if session_user(db, int(user_id), session.get("expired_sid")) is None:
        return None  # revoked since (or disabled): nothing is kept, the login page follows
    keying_id = int((request.view_args or {}).get("keying_id", 0))
    keying = locked(db, Keying, keying_id)
    if keying is not None and keying.keyer_id == user_id and keep_typed(keying):
        db.commit()
    back = url_for("entry.key", keying_id=keying_id)
    if request.endpoint == "entry.keep":
        return jsonify(login=url_for("auth.login", next=back)), 401
    flash(_("Your login expired while you were keying. What you typed is kept: log in again "
            "to finish this questionnaire."), "info")
    return redirect(url_for("auth.login", next=back))


@bp.route("/keying/<int:keying_id>/draft", methods=["POST"])
@roles_required(*KEYERS)
@area_scoped
def keep(keying_id: int) -> WerkzeugResponse | tuple[WerkzeugResponse, int]:
    """The keying screen's autosave: 200 with the time it was kept, 409 if already saved.

    The pass is locked before its state is read: an autosave sent as another tab saves the
    pass waits for that save, finds the pass saved, and writes no draft onto it.
    """
    db = get_session()
    keying = locked(db, Keying, keying_id)
    if keying is None or keying.keyer_id != int(current_user.id):
        return jsonify(error=_("Not found")), 404
    if not keep_typed(keying):
        db.rollback()
        return jsonify(error=_("This keying is saved.")), 409
    db.commit()
    return jsonify(saved=local_time(keying.draft_saved_at))
