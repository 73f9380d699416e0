"""The ministry's level of review: verified questionnaires accepted or sent back.

For accounts of the whole deployment only (an area's supervisors verify; the ministry then
accepts): these routes are not area-scoped, so an area account meets the deny-by-default
403 (``survey.security.area_scoped``). The decisions themselves are
``survey.services.entry.hq_review``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import get_session, localise
from survey.models import AdminUnit, GeoLevel, Response, User
from survey.security import ADMIN, SUPERVISOR, roles_required
from survey.services.entry.hq_review import awaiting, decide
from survey.services.entry.review import ReviewError
from survey.services.geography import ancestry_table
from survey.services.paging import clamp, paginate
from survey.services.sample.rounds import visible_rounds
from survey.services.scope import EVERYTHING, Scope, on_todays_map
from survey.typed import whole_number
from survey.views.entry.blueprint import bp

REVIEWERS = (SUPERVISOR, ADMIN)


def _me() -> User:
    me = get_session().get(User, int(current_user.id))
    assert me is not None
    return me


def _provinces() -> list[AdminUnit]:
    """Today's provinces (a questionnaire of one merged away counts in its successor)."""
    return list(get_session().exec(select(AdminUnit).join(
        GeoLevel, GeoLevel.id == AdminUnit.level_id).where(GeoLevel.code == "province",
                                                           on_todays_map())
        .order_by(AdminUnit.name)))


@bp.route("/ministry", methods=["GET", "POST"])
@roles_required(*REVIEWERS)
def ministry_review() -> str | WerkzeugResponse:
    """Questionnaires the provinces have verified, waiting for the ministry (by round and
    province); the ticked ones accepted at once."""
    db = get_session()
    if request.method == "POST":
        from flask_wtf import FlaskForm

        FlaskForm().validate_on_submit() or abort(400)
        ids = sorted({n for n in map(whole_number, request.form.getlist("response_id"))
                      if n is not None})
        done = skipped = 0
        me = _me()
        for rid in ids:  # in id order: two reviewers' lists never lock in opposite orders
            row = db.get(Response, rid)
            if row is None:
                skipped += 1
                continue
            try:
                done += decide(db, row, "accept", "", me)
            except ReviewError:
                skipped += 1  # sent back or changed meanwhile: left for a closer look
        db.commit()
        flash(_("%(n)s questionnaires accepted.", n=done) + (
            " " + _("%(n)s were no longer verified and were left.", n=skipped)
            if skipped else ""), "info")
        return redirect(url_for("entry.ministry_review", **request.args))
    rounds = visible_rounds(db)[::-1]
    chosen = next((r for r in rounds if r.code == request.args.get("round")), None)
    provinces = _provinces()
    province = next((p for p in provinces if p.code == request.args.get("province")), None)
    area = Scope(province.id, province.code, province.name, "province") if province \
        else EVERYTHING
    number, size = clamp(request.args.get("page"), request.args.get("size"))
    page = paginate(db, awaiting(chosen.id if chosen else None, area), number, size)
    names = ancestry_table(db, todays_map=True)  # as the province filter reads it
    return render_template("entry/ministry.html", page=page, rounds=rounds, chosen=chosen,
                           provinces=provinces, province=province,
                           province_of={r.id: names.get(r.unit_id, {}).get("province", "")
                                        for r, _code in page.items})


@bp.route("/response/<int:response_id>/ministry", methods=["POST"])
@roles_required(*REVIEWERS)
def ministry_decide(response_id: int) -> WerkzeugResponse:
    """Accept this verified questionnaire, or send it back to the province with a comment."""
    from flask_wtf import FlaskForm

    FlaskForm().validate_on_submit() or abort(400)
    db = get_session()
    row = db.get(Response, response_id)
    if row is None or row.mode != "paper":
        abort(404)
    decision = request.form.get("decision", "")
    try:
        changed = decide(db, row, decision, request.form.get("comment", ""), _me())
    except ReviewError as exc:
        db.rollback()
        details = "; ".join(localise(v) for v in exc.errors.values())
        flash(f"{localise(exc)}{' — ' + details if details else ''}", "error")
    else:
        db.commit()
        if changed:
            flash(_("Accepted.") if decision == "accept" else
                  _("Sent back to the province with your comment."), "info")
    return redirect(url_for("entry.response", response_id=response_id))
