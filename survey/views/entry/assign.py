"""The supervisor's assignment screen: who carries which sampled hamlet or serial range.

Routes live on the entry blueprint (``survey.views.entry.blueprint``), beside the keying
screens, so the app factory's list of blueprints stays as it is.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col, select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import get_session
from survey.messages import N_
from survey.models import RoundStatus, SampleUnit, SurveyRound, User
from survey.models_entry import SerialAssignment
from survey.security import ADMIN, SUPERVISOR, area_scoped, roles_required
from survey.services.entry.assignments import (
    AssignmentError,
    assign,
    effective_ranges,
    round_assignments,
    unassign_range,
)
from survey.services.sample.rounds import visible_rounds
from survey.services.scope import contains_unit, within
from survey.views.area import current_scope
from survey.views.entry.blueprint import bp

REVIEWERS = (SUPERVISOR, ADMIN)


def _serial(name: str) -> int | None:
    """A typed serial, blank for none; anything else is a clear refusal."""
    text = request.form.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 4:
        raise AssignmentError(N_("A serial must be a whole positive number, not %(text)s"),
                              text=text[:12])
    return int(text)


@bp.route("/assignments")
@roles_required(*REVIEWERS)
@area_scoped
def assignments() -> str:
    """Per round: sampled hamlets, their questionnaire ID ranges and who carries them."""
    db = get_session()
    scope = current_scope()
    rounds = visible_rounds(db, scope)[::-1]  # latest first
    wanted = request.args.get("round")
    chosen = next((r for r in rounds if r.code == wanted), None) or next(
        (r for r in rounds if r.status == RoundStatus.open.value), rounds[0] if rounds else None)
    hamlets = round_assignments(db, chosen, scope) if chosen else []
    enumerators = db.exec(select(User).where(User.role == "enumerator", col(User.active),
                                             within(scope, User.scope_unit_id))
                          .order_by(col(User.username))).all()
    return render_template(
        "entry/assignments.html", rounds=rounds, chosen=chosen, enumerators=enumerators,
        hamlets=[(h, effective_ranges(h)) for h in hamlets],
        frozen=chosen is not None and chosen.status == RoundStatus.published.value)


@bp.route("/assignments/<int:sample_unit_id>", methods=["POST"])
@roles_required(*REVIEWERS)
@area_scoped
def assign_hamlet(sample_unit_id: int) -> WerkzeugResponse:
    """Give a whole hamlet (serials left blank) or a sub-range of its serials to an enumerator."""
    db = get_session()
    unit = db.get(SampleUnit, sample_unit_id)
    scope = current_scope()
    if unit is None or not contains_unit(db, scope, unit.unit_id):
        abort(404)
    round_ = db.get(SurveyRound, unit.round_id)
    try:
        enumerator = request.form.get("enumerator", "")
        if not enumerator.isdigit():
            raise AssignmentError(N_("Choose an enumerator"))
        keyer = db.get(User, int(enumerator)) if len(enumerator) < 12 else None
        if keyer is not None and not contains_unit(db, scope, keyer.scope_unit_id):
            raise AssignmentError(N_("Choose an enumerator"))  # another area's is none
        summary = assign(db, unit.id, int(enumerator), _serial("first"),  # type: ignore[arg-type]
                         _serial("last"), by=int(current_user.id))
    except AssignmentError as exc:
        db.rollback()
        flash(exc.localised(_), "error")
    else:
        db.commit()
        flash(_("Assigned: %(summary)s", summary=summary), "info")
    return redirect(url_for("entry.assignments", round=round_.code if round_ else None))


@bp.route("/assignments/range/<int:range_id>/delete", methods=["POST"])
@roles_required(*REVIEWERS)
@area_scoped
def unassign(range_id: int) -> WerkzeugResponse:
    """Take a sub-range back: its serials return to the hamlet's enumerator."""
    db = get_session()
    sub = db.get(SerialAssignment, range_id)
    unit = db.get(SampleUnit, sub.sample_unit_id) if sub is not None else None
    if unit is None or not contains_unit(db, current_scope(), unit.unit_id):
        abort(404)
    round_ = db.get(SurveyRound, unit.round_id) if unit else None
    try:
        summary = unassign_range(db, range_id, by=int(current_user.id))
    except AssignmentError as exc:
        db.rollback()
        flash(exc.localised(_), "error")
    else:
        db.commit()
        flash(_("Range removed: %(summary)s", summary=summary), "info")
    return redirect(url_for("entry.assignments", round=round_.code if round_ else None))
