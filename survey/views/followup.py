"""Low ratings followed up: the supervisors' list of cases, and answering or closing one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from survey.app import csrf, get_session, localise
from survey.models import User
from survey.security import STAFF, area_scoped, roles_required
from survey.services.dossiers.follow_up import MAX_NOTE, STATES, answer_case, list_cases
from survey.views.area import current_scope

bp = Blueprint("followup", __name__, url_prefix="/followup")


class AnswerForm(FlaskForm):
    status = StringField("status", validators=[Length(max=16)])  # checked by answer_case
    note = TextAreaField("note", validators=[Length(max=MAX_NOTE)])


def _page(error: str | None = None, status: int = 200, kept: dict | None = None
          ) -> tuple[str, int]:
    shown = request.args.get("status")
    shown = shown if shown in STATES else None
    cases = list_cases(get_session(), shown, scope=current_scope())
    return render_template("followup/index.html", cases=cases, shown=shown,
                           form=AnswerForm(formdata=None), error=error, kept=kept or {}), status


@bp.route("/")
@roles_required(*STAFF)
@area_scoped
def index() -> tuple[str, int]:
    """Open cases first, oldest first: who rated what, when, and what has been done."""
    return _page()


@bp.route("/<int:case_id>", methods=["POST"])
@roles_required(*STAFF)
@area_scoped
@csrf.exempt  # checked by the form itself, so that a stale token keeps the note typed
def answer(case_id: int) -> WerkzeugResponse | tuple[str, int]:
    form = AnswerForm()  # FlaskForm: its CSRF token is validated in validate_on_submit
    kept = {"case": case_id, "note": (form.note.data or "")[:MAX_NOTE]}
    if not form.validate_on_submit():
        return _page(_("The form expired or was incomplete; your note is kept below."), 400,
                     kept)
    db = get_session()
    me = db.get(User, int(current_user.id))
    assert me is not None
    try:
        answer_case(db, case_id, form.status.data or "", form.note.data or "", me,
                    scope=current_scope())
    except ValueError as exc:
        db.rollback()
        return _page(localise(exc), 422, kept)
    db.commit()
    flash(_("The case has been updated."), "info")
    return redirect(url_for("followup.index"))
