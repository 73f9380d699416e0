"""The sample screen: import the frame, draw a round's hamlets, print fieldwork lists.

Thin: every action is one service call (:mod:`survey.services.sample.frame`,
:mod:`survey.services.sample.draw`, :mod:`survey.services.sample.lists`), committed here.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import get_session, localise
from survey.messages import UserError
from survey.security import ADMIN, SUPERVISOR, area_scoped, roles_required
from survey.services.audit import record
from survey.services.sample.draw import draw_sample
from survey.services.sample.frame import FrameError, frame_summary, import_frame
from survey.services.sample.lists import fieldwork_csv, fieldwork_hamlets
from survey.services.sample.lists_pdf import fieldwork_pdf
from survey.services.sample.rounds import list_rounds, owned_round, pick_round
from survey.typed import whole_number
from survey.views.area import current_scope
from survey.views.confirm import confirm_page, confirmed
from survey.views.files import disposition
from survey.views.uploads import uploaded_text

bp = Blueprint("sample", __name__, url_prefix="/sample")
STAFF = (SUPERVISOR, ADMIN)
MAX_FRAME_MB = 20


def _page(round_code: str | None, problems: list[str] | None = None, status: int = 200
          ) -> tuple[str, int]:
    db = get_session()
    scope = current_scope()
    rounds = list_rounds(db, scope)
    chosen = round_code or (rounds[-1].code if rounds else None)
    hamlets = []
    if chosen and any(r.code == chosen and r.hamlets for r in rounds):
        hamlets = fieldwork_hamlets(db, chosen, scope)
    enumerators = sorted({h.enumerator for h in hamlets})
    return render_template(
        "sample/index.html", levels=frame_summary(db, scope), rounds=rounds, chosen=chosen,
        hamlets=hamlets, enumerators=enumerators, problems=problems or [],
    ), status  # fmt: skip


@bp.route("/")
@roles_required(*STAFF)
@area_scoped
def index() -> tuple[str, int]:
    return _page(request.args.get("round"))


@bp.route("/frame", methods=["POST"])
@roles_required(*STAFF)
def frame_upload() -> tuple[str, int] | WerkzeugResponse:
    try:
        text = uploaded_text("frame", MAX_FRAME_MB)
    except UserError as exc:
        return _page(None, [localise(exc)], 400)
    if text is None:
        flash(_("Choose a CSV file of the frame."), "error")
        return redirect(url_for("sample.index"))
    upload = request.files["frame"]
    db = get_session()
    try:
        result = import_frame(db, text, source=upload.filename)
    except FrameError as exc:
        db.rollback()
        return _page(None, [p.localised(_) for p in exc.problems], 400)
    record(db, "frame.import", "admin_unit", user_id=int(current_user.id),
           detail={"file": upload.filename, "created": result.created, "updated": result.updated})
    db.commit()
    flash(_("Frame imported: %(created)d units created, %(updated)d updated.",
            created=result.created, updated=result.updated), "success")
    return redirect(url_for("sample.index"))


def _int(name: str) -> int | None:
    return whole_number(request.form.get(name, "").strip())


@bp.route("/draw", methods=["POST"])
@roles_required(*STAFF)
@area_scoped
def draw() -> tuple[str, int] | WerkzeugResponse | str:
    code = request.form.get("round", "")
    k, m, seed = _int("hamlets_per_stratum"), _int("per_hamlet"), _int("seed")
    if k is None or m is None:
        return _page(code, [_("Give the hamlets per stratum and questionnaires per hamlet as "
                              "whole numbers.")], 400)
    staff = [u.strip() for u in request.form.get("enumerators", "").split(",") if u.strip()]
    if request.form.get("replace") == "1" and request.form.get("reason", "").strip() \
            and not confirmed():
        return confirm_page(
            _("Draw a new sample for round %(code)s?", code=code),
            _("The round's current sample, its hamlets, questionnaire IDs and assignments are "
              "replaced; fieldwork lists already printed no longer apply. Nothing is redrawn "
              "once questionnaires are keyed."),
            _("Draw a new sample"), url_for("sample.index", round=code),
            keep={k: v for k, v in request.form.items() if k not in ("csrf_token", "confirmed")})
    db = get_session()
    try:
        owned_round(db, code, current_scope())  # the area draws only its own rounds
        result = draw_sample(db, code, strata_level=request.form.get("strata_level", ""),
                             hamlets_per_stratum=k, per_hamlet=m, seed=seed, enumerators=staff,
                             replace=request.form.get("replace") == "1",
                             reason=request.form.get("reason", "")[:500],
                             user_id=int(current_user.id))
    except ValueError as exc:
        db.rollback()
        return _page(code, [localise(exc)], 400)
    db.commit()
    flash(_("Drew %(n)d hamlets in %(s)d strata (seed %(seed)d).", n=len(result.hamlets),
            s=len(result.strata), seed=result.seed), "success")
    return redirect(url_for("sample.index", round=code))


@bp.route("/<round_code>/fieldwork.csv")
@roles_required(*STAFF)
@area_scoped
def lists_csv(round_code: str) -> Response:
    db = get_session()
    scope = current_scope()
    try:
        body = fieldwork_csv(pick_round(db, round_code, scope).code,
                             fieldwork_hamlets(db, round_code, scope))
    except ValueError:
        abort(404)
    return Response(body.encode("utf-8"), mimetype="text/csv", headers={
        "Content-Disposition": disposition(f"fieldwork_{round_code}.csv")})


@bp.route("/<round_code>/fieldwork/<enumerator>.pdf")
@roles_required(*STAFF)
@area_scoped
def lists_pdf(round_code: str, enumerator: str) -> Response:
    db = get_session()
    scope = current_scope()
    try:
        round_ = pick_round(db, round_code, scope)
        own = [h for h in fieldwork_hamlets(db, round_code, scope) if h.enumerator == enumerator]
    except ValueError:
        abort(404)
    if not own:
        abort(404)
    return Response(fieldwork_pdf(round_.name, own), mimetype="application/pdf", headers={
        "Content-Disposition": disposition(f"fieldwork_{round_code}.pdf")})
