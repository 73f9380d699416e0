"""Paper entry screens: the keyer's home and keying screen, supervisor review and dashboard."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.wrappers import Response as WerkzeugResponse

from analysis.response_rates import FORMULAS
from survey.app import get_session, localise
from survey.instruments import Instrument
from survey.models import (
    AdminUnit,
    Desk,
    InstrumentVersion,
    Response,
    SampleUnit,
    Stratum,
    SurveyRound,
    User,
)
from survey.models_entry import CaseState, EntryCase, Keying
from survey.security import ADMIN, ENUMERATOR, SUPERVISOR, area_scoped, roles_required
from survey.services.entry.assignments import my_assignments
from survey.services.entry.dashboard import (
    DISPOSITION,
    hamlet_progress,
    keyer_quality,
    round_rates,
)
from survey.services.entry.drafts import draft_of, keep_draft
from survey.services.entry.keying import (
    OUTCOME_FIELD,
    check_keyed,
    entry_items,
    read_form,
    save_pass,
)
from survey.services.entry.review import (
    REVIEW_MOVES,
    ReviewError,
    discrepancies,
    edit_answer,
    history,
    reconcile,
    set_status,
    stored_values,
)
from survey.services.entry.start import EntryError, start_keying
from survey.services.entry.worklist import mismatches, second_keyings_due, stored_paper
from survey.services.instruments_text import parse_stored
from survey.services.locks import locked
from survey.services.paging import clamp, paginate
from survey.services.sample.questionnaire_ids import make_questionnaire_id
from survey.services.sample.rounds import visible_rounds
from survey.services.scope import desks_within, holds
from survey.views.area import current_scope
from survey.views.entry.blueprint import bp

KEYERS = (ENUMERATOR, SUPERVISOR)
REVIEWERS = (SUPERVISOR, ADMIN)


def _me(db: Session) -> User:
    user = db.get(User, int(current_user.id))
    if user is None:
        abort(403)
    return user


def _form_of(db: Session, version_id: int) -> Instrument:
    version = db.get(InstrumentVersion, version_id)
    assert version is not None
    return parse_stored(version.source_text)


def _place(db: Session, case: EntryCase) -> dict[str, Any]:
    """What the sample (or the desk) says about a document: shown, never typed."""
    if case.sample_unit_id is None:
        desk = db.get(Desk, case.desk_id) if case.desk_id else None
        return {"desk": desk.name if desk else "", "slip": case.slip_serial}
    unit = db.get(SampleUnit, case.sample_unit_id)
    assert unit is not None
    names, place = [], db.get(AdminUnit, unit.unit_id)
    while place is not None:
        names.append(place.name)
        place = db.get(AdminUnit, place.parent_id) if place.parent_id else None
    stratum = db.get(Stratum, unit.stratum_id)
    return {"places": " · ".join(names), "stratum": stratum.code if stratum else "",
            "psu": unit.psu_code, "qid": case.questionnaire_id}


@bp.route("/", methods=["GET", "POST"])
@roles_required(*KEYERS)
@area_scoped
def start() -> str | WerkzeugResponse:
    """Type the questionnaire ID (or desk + slip serial) and go straight to keying."""
    db = get_session()
    me = _me(db)
    error = None
    if request.method == "POST":
        kind = request.form.get("kind", "questionnaire")
        for attempt in (1, 2):  # a start racing another start of the same paper resumes it
            try:
                keying = start_keying(
                    db, me,
                    questionnaire_id=request.form.get("qid", "") if kind == "questionnaire"
                    else None, round_code=request.form.get("round") or None,
                    desk_code=request.form.get("desk"), slip_serial=request.form.get("serial"),
                    double_share=float(current_app.config.get("ENTRY_DOUBLE_SHARE", 1.0)),
                    secret=current_app.config["SECRET_KEY"].encode("utf-8"),
                    scope=current_scope(),
                )  # fmt: skip
                db.commit()
            except EntryError as exc:
                db.rollback()
                error = exc.localised(_)
                break
            except IntegrityError:
                db.rollback()
                if attempt == 2:
                    raise
            else:
                return redirect(url_for("entry.key", keying_id=keying.id))
    drafts = db.exec(select(Keying, EntryCase).join(EntryCase, EntryCase.id == Keying.case_id)
                     .where(Keying.keyer_id == me.id, Keying.state == "draft")).all()
    done = db.exec(select(Keying, EntryCase).join(EntryCase, EntryCase.id == Keying.case_id)
                   .where(Keying.keyer_id == me.id, Keying.state == "done")
                   .order_by(Keying.finished_at.desc()).limit(20)).all()  # type: ignore[union-attr]
    scope = current_scope()
    desks = db.exec(select(Desk).where(Desk.active, desks_within(scope))
                    .order_by(Desk.code)).all()
    due, due_total = second_keyings_due(db, me.id, scope=scope)  # type: ignore[arg-type]
    open_rounds = sorted((r for r in visible_rounds(db, scope) if r.status == "open"),
                         key=lambda r: -r.year)
    return render_template("entry/start.html", error=error, drafts=drafts, done=done,
                           desks=desks, open_rounds=open_rounds, due=due, due_total=due_total,
                           kind=request.form.get("kind", "questionnaire"),
                           assigned=_my_work(db, me)), (422 if error else 200)


def _my_work(db: Session, me: User) -> list[dict[str, Any]]:
    """This keyer's own hamlets and serial ranges, with the IDs still waiting on paper."""
    work = []
    rounds = {r.id: r.code for r in db.exec(select(SurveyRound))}
    for hamlet, piece in my_assignments(db, me):
        waiting = [make_questionnaire_id(hamlet.round_id, hamlet.psu_code, n)
                   for n in range(piece.first, piece.last + 1) if n not in hamlet.keyed]
        work.append({"round": rounds.get(hamlet.round_id, ""), "psu": hamlet.psu_code,
                     "hamlet": hamlet.hamlet, "first": piece.first_qid,
                     "last": piece.last_qid, "total": piece.last - piece.first + 1,
                     "waiting": waiting})
    return work


@bp.route("/keying/<int:keying_id>", methods=["GET", "POST"])
@roles_required(*KEYERS)
@area_scoped
def key(keying_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    """The keyboard screen: one field per question, checked here and (faster) in entry.js."""
    db = get_session()
    # A save is locked against the pass's other writes (another tab saving it, an autosave
    # arriving with the save), so it sees whether one of them saved it first.
    keying = locked(db, Keying, keying_id) if request.method == "POST" else \
        db.get(Keying, keying_id)
    if keying is None or keying.keyer_id != int(current_user.id) or \
            not holds(db, current_scope(), EntryCase, keying.case_id):
        abort(404)
    if keying.state != "draft":
        flash(_("This keying is saved."), "info")
        return redirect(url_for("entry.start"))
    case = db.get(EntryCase, keying.case_id)
    assert case is not None
    form = _form_of(db, case.instrument_version_id)
    household = case.sample_unit_id is not None
    outcome, values = draft_of(keying)  # whatever was typed before, restored
    restored = keying.draft_saved_at if request.method == "GET" and (values or outcome) else None
    errors: dict[str, str] = {}
    if request.method == "POST":
        outcome, values = read_form(form, request.form, household)
        errors = check_keyed(form, outcome, values, household)
        if errors:  # kept, so that leaving now loses nothing either
            keep_draft(db, keying, outcome, values)
            db.commit()
        else:
            result = save_pass(db, keying, outcome, values, form)
            db.commit()
            messages = {
                CaseState.keyed_once.value: _("Saved. A second keyer will verify it blind."),
                CaseState.verified.value: _("Saved: both keyings agree; the questionnaire is "
                                            "verified."),
                CaseState.mismatch.value: _("Saved. The two keyings differ; a supervisor will "
                                            "check them against the paper."),
                CaseState.single.value: _("Saved for review."),
            }  # fmt: skip
            flash(messages.get(result.state, _("Saved.")), "info")
            return redirect(url_for("entry.start"))
    return render_template(
        "entry/key.html", keying=keying, case=case, form=form, items=entry_items(form),
        household=household, values=values, outcome=outcome, errors=errors,
        place=_place(db, case), lang=str(get_locale() or "vi"), outcome_field=OUTCOME_FIELD,
        restored=restored,
    ), (422 if errors else 200)


@bp.route("/review")
@roles_required(*REVIEWERS)
@area_scoped
def review() -> str:
    """Work waiting for the supervisor: mismatches, then stored responses by review state."""
    db = get_session()
    scope = current_scope()
    rounds = visible_rounds(db, scope)[::-1]  # latest first
    chosen = next((r for r in rounds if r.code == request.args.get("round")), None)
    round_id = chosen.id if chosen else None
    status = request.args.get("status", "received")
    if status not in REVIEW_MOVES:
        status = "received"
    search = request.args.get("q", "")[:40]
    number, size = clamp(request.args.get("page"), request.args.get("size"))
    page = paginate(db, stored_paper(status, round_id, search, scope), number, size)
    mismatched = db.exec(mismatches(round_id, scope)).all()
    round_codes = {r.id: r.code for r in rounds}
    return render_template("entry/review.html", mismatched=mismatched, page=page,
                           status=status, statuses=list(REVIEW_MOVES), rounds=rounds,
                           chosen=chosen, search=search, round_codes=round_codes)


@bp.route("/review/case/<int:case_id>", methods=["GET", "POST"])
@roles_required(*REVIEWERS)
@area_scoped
def reconcile_case(case_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    """Both keyed values side by side; the supervisor types what the paper says."""
    db = get_session()
    # Locked for a reconciliation: of several supervisors sending it at once, the first
    # stores the response and the others see the questionnaire verified.
    case = locked(db, EntryCase, case_id) if request.method == "POST" else \
        db.get(EntryCase, case_id)
    if case is None or not holds(db, current_scope(), EntryCase, case_id):
        abort(404)
    form = _form_of(db, case.instrument_version_id)
    rows = discrepancies(db, case)
    errors: dict[str, str] = {}
    if request.method == "POST" and case.state == CaseState.mismatch.value:
        paper = {row.item_code: request.form.get(f"paper_{row.item_code}", "") for row in rows}
        try:
            response_id = reconcile(db, case, paper, form, _me(db))
        except ReviewError as exc:
            db.rollback()
            errors = exc.errors or {"": exc}
        else:
            db.commit()
            flash(_("Reconciled: the questionnaire is verified."), "info")
            return redirect(url_for("entry.response", response_id=response_id))
    return render_template("entry/reconcile.html", case=case, rows=rows, form=form,
                           errors=errors, place=_place(db, case),
                           lang=str(get_locale() or "vi")), (422 if errors else 200)


@bp.route("/response/<int:response_id>")
@roles_required(*REVIEWERS)
@area_scoped
def response(response_id: int) -> str:
    """A stored paper response: its answers, review state, traced edits and full history."""
    db = get_session()
    row = db.get(Response, response_id)
    if row is None or row.mode != "paper" or not holds(db, current_scope(), Response,
                                                       response_id):
        abort(404)
    form = _form_of(db, row.instrument_version_id)
    return render_template(
        "entry/response.html", response=row, form=form, items=entry_items(form),
        values=stored_values(db, row, form), moves=REVIEW_MOVES.get(row.status, ()),
        history=history(db, row.id), lang=str(get_locale() or "vi"),
        errors=request.args.get("error"), **_ministry(db, row),
    )


def _ministry(db: Session, row: Response) -> dict[str, Any]:
    """The ministry's decision on the questionnaire, and whether this reader may make one
    (a reviewer of the whole deployment, on a verified household questionnaire)."""
    from survey.services.entry.hq_review import decision_of

    decision = decision_of(db, row.id)  # type: ignore[arg-type]
    by = db.get(User, decision.by_id) if decision and decision.by_id else None
    return {"ministry": decision, "ministry_by": by.username if by else "—",
            "may_decide": current_scope().everything and row.round_id is not None
            and row.status == "verified"}


@bp.route("/response/<int:response_id>/status", methods=["POST"])
@roles_required(*REVIEWERS)
@area_scoped
def response_status(response_id: int) -> WerkzeugResponse:
    db = get_session()
    row = db.get(Response, response_id)
    if row is None or row.mode != "paper" or not holds(db, current_scope(), Response,
                                                       response_id):
        abort(404)
    try:
        set_status(db, row, request.form.get("status", ""), request.form.get("comment", ""),
                   _me(db))
    except ReviewError as exc:
        db.rollback()
        flash(localise(exc), "error")
    else:
        db.commit()
        flash(_("Review state changed."), "info")
    return redirect(url_for("entry.response", response_id=response_id))


@bp.route("/response/<int:response_id>/edit", methods=["POST"])
@roles_required(*REVIEWERS)
@area_scoped
def response_edit(response_id: int) -> WerkzeugResponse:
    """Change one answer of a stored response: a reason is required and audited."""
    db = get_session()
    row = db.get(Response, response_id)
    if row is None or row.mode != "paper" or not holds(db, current_scope(), Response,
                                                       response_id):
        abort(404)
    form = _form_of(db, row.instrument_version_id)
    try:
        edit_answer(db, row, form, request.form.get("item_code", ""),
                    request.form.get("value", ""), request.form.get("reason", ""), _me(db))
    except ReviewError as exc:
        db.rollback()
        details = "; ".join(f"{k}: {localise(v)}" for k, v in exc.errors.items())
        flash(f"{localise(exc)}{' — ' + details if details else ''}", "error")
    else:
        db.commit()
        flash(_("Answer changed; the change is in the history."), "info")
    return redirect(url_for("entry.response", response_id=response_id))


@bp.route("/fieldwork")
@roles_required(*REVIEWERS)
@area_scoped
def fieldwork() -> str:
    """Per hamlet: planned, keyed once, verified; per keyer: passes and discrepancy rates."""
    db = get_session()
    hamlets = hamlet_progress(db, current_scope())
    return render_template("entry/fieldwork.html", hamlets=hamlets,
                           keyers=keyer_quality(db, current_scope()),
                           rounds=round_rates(hamlets), formulas=FORMULAS,
                           disposition=DISPOSITION)
