"""Desk screens for supervisors and administrators: desks, QR downloads, bursts, contacts.

Thin: every change goes through ``survey.services.desks.links`` and lands in the audit trail.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from survey.app import get_session, localise
from survey.messages import UserError
from survey.security import STAFF, area_scoped, roles_required
from survey.services.audit import record
from survey.services.data.cells import neutralise_formula
from survey.services.desks.bursts import burst_report
from survey.services.desks.detail import answer_names, contact_rows, recent_evaluations
from survey.services.desks.holds import count_held, decide_held, held_evaluations
from survey.services.desks.links import (
    LEVELS,
    add_desk,
    desk_url,
    edit_desk,
    get_desk,
    list_desks,
    rotate_desk,
    set_desk_active,
    unit_code_of,
)
from survey.services.desks.qr import FORMATS, render
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.paging import clamp, matches, page_of
from survey.services.scope import units_in_scope
from survey.typed import whole_number
from survey.views.area import current_scope
from survey.views.confirm import confirm_page, confirmed
from survey.views.files import disposition

bp = Blueprint("desks", __name__, url_prefix="/desks")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


class DeskForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=32)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    agency = StringField("Agency", validators=[Optional(), Length(max=200)])
    admin_level = StringField("Level", validators=[Optional(), AnyOf(LEVELS)])  # a <select>
    unit = StringField("Unit", validators=[Optional(), Length(max=32)])  # an area's code


class ActionForm(FlaskForm):
    """Only the CSRF token: rotate / disable / enable are single-button POSTs."""


def _user_id() -> int:
    return int(current_user.id)


def _url(desk) -> str:  # type: ignore[no-untyped-def]
    return desk_url(current_app.config["BASE_URL"], current_app.config["SECRET_KEY"], desk)


def _desk_or_404(code: str, lock: bool = False):  # type: ignore[no-untyped-def]
    try:
        return get_desk(get_session(), code, lock=lock, scope=current_scope())
    except ValueError:
        abort(404)


@bp.route("/", methods=["GET", "POST"])
@roles_required(*STAFF)
@area_scoped
def index() -> str | WerkzeugResponse:
    form = DeskForm()
    db = get_session()
    if form.validate_on_submit():
        try:
            desk = add_desk(db, form.code.data or "", form.name.data or "",
                            form.agency.data or "", form.admin_level.data or "",
                            form.unit.data or None, scope=current_scope())
        except ValueError as exc:
            db.rollback()
            flash(localise(exc), "error")
        else:
            record(db, "desk.add", "desk", desk.id, user_id=_user_id(),
                   detail={"code": desk.code})
            db.commit()
            flash(_("Desk %(code)s added.", code=desk.code), "info")
            return redirect(url_for("desks.detail", code=desk.code))
    search = request.args.get("q", "")[:60]
    rows = [r for r in list_desks(db, current_scope())
            if matches(search, r.desk.code, r.desk.name, r.desk.agency)]
    number, size = clamp(request.args.get("page"), request.args.get("size"))
    return render_template("desks/index.html", page=page_of(rows, number, size), form=form,
                           search=search, scope=current_scope(),
                           units=units_in_scope(db, current_scope()))


@bp.route("/<code>")
@roles_required(*STAFF)
@area_scoped
def detail(code: str) -> str:
    return detail_page(_desk_or_404(code))


def detail_page(desk, kiosk_name: str = "", kiosk_problem: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """The desk's page; with a tablet just registered, its address and QR code (once)."""
    import base64

    from flask import get_flashed_messages

    from survey.models import as_utc
    from survey.services.desks.qr import qr_png
    from survey.services.kiosk.devices import SEEN_RECENTLY, devices_of

    db = get_session()
    form = parse_stored(latest_version(db, "desk_evaluation").source_text)
    new_kiosk = next(iter(get_flashed_messages(category_filter=["kiosk"])), None)
    kiosks = devices_of(db, desk.id)
    since = datetime.now(UTC) - SEEN_RECENTLY
    return render_template(
        "desks/detail.html", desk=desk, url=_url(desk), action=ActionForm(),
        evaluations=recent_evaluations(db, desk),
        names=answer_names(form, str(get_locale() or "vi")), kiosks=kiosks,
        online={k.id for k in kiosks if k.last_seen_at and as_utc(k.last_seen_at) >= since},
        new_kiosk=new_kiosk,
        new_kiosk_qr=base64.b64encode(qr_png(new_kiosk, box_size=6)).decode() if new_kiosk
        else None, kiosk_name=kiosk_name, kiosk_problem=kiosk_problem)


@bp.route("/<code>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
@area_scoped
def edit(code: str) -> str | tuple[str, int] | WerkzeugResponse:
    """Name, agency and level of a desk (the code stays: printed QR codes carry it)."""
    desk = _desk_or_404(code)
    problem = None
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        db = get_session()
        try:
            changes = edit_desk(db, code, request.form.get("name", ""),
                                request.form.get("agency", ""),
                                request.form.get("admin_level", ""),
                                request.form.get("unit"), scope=current_scope())
        except UserError as exc:
            db.rollback()
            problem = exc.localised(_)
        else:
            if changes:
                record(db, "desk.edit", "desk", desk.id, user_id=_user_id(),
                       detail={"code": code, "changes": changes})
            db.commit()
            flash(_("Desk %(code)s saved.", code=code), "info")
            return redirect(url_for("desks.detail", code=code))
    db = get_session()
    return render_template("desks/edit.html", desk=desk, levels=LEVELS, problem=problem,
                           action=ActionForm(), form=request.form,
                           unit_code=unit_code_of(db, desk.unit_id), scope=current_scope(),
                           units=units_in_scope(db, current_scope())), (400 if problem else 200)


@bp.route("/<code>/<action>", methods=["POST"])
@roles_required(*STAFF)
@area_scoped
def change(code: str, action: str) -> WerkzeugResponse | str:
    if action not in ("rotate", "disable", "enable") or not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    current = _desk_or_404(code, lock=True)  # read after any change being made at this moment
    back = url_for("desks.detail", code=code)
    if action != "rotate" and current.active == (action == "enable"):
        return redirect(back)  # done meanwhile (another supervisor, another tab): no change
    if action == "rotate" and not confirmed():
        return confirm_page(
            _("Issue a new QR code for %(name)s?", name=current.name),
            _("Every printed QR code of this desk stops working at once; citizens who scan an "
              "old one are told it was replaced. Print and display the new one straight away."),
            _("Issue a new QR code"), back)
    if action == "disable" and not confirmed():
        return confirm_page(
            _("Stop taking evaluations at %(name)s?", name=current.name),
            _("Citizens who scan this desk's QR code will be told it no longer takes "
              "evaluations. Evaluations already received are kept."),
            _("Disable"), back)
    if action == "rotate":
        desk = rotate_desk(db, code)
        flash(_("New QR code issued: print and display it; the old one no longer works."), "info")
    else:
        desk = set_desk_active(db, code, action == "enable")
    record(db, f"desk.{action}", "desk", desk.id, user_id=_user_id(),
           detail={"code": desk.code, "token_version": desk.token_version})
    db.commit()
    return redirect(url_for("desks.detail", code=code))


@bp.route("/<code>/qr.<fmt>")
@roles_required(*STAFF)
@area_scoped
def qr(code: str, fmt: str) -> WerkzeugResponse:
    if fmt not in FORMATS:
        abort(404)
    desk = _desk_or_404(code)
    body = render(fmt, _url(desk), desk.name, desk.agency, desk.code)
    name = f"sipas-{desk.code}.{fmt}" if fmt != "pdf" else f"sipas-{desk.code}-poster.pdf"
    return current_app.response_class(
        body, mimetype=MIME[fmt],
        headers={"Content-Disposition": disposition(name),
                 "Cache-Control": "no-store"},
    )  # fmt: skip


@bp.route("/bursts")
@roles_required(*STAFF)
@area_scoped
def bursts() -> str:
    days = request.args.get("days", "7")
    typed = whole_number(days, digits=3)
    days_n = typed if typed is not None and 0 < typed <= 366 else 7
    since = datetime.now(UTC) - timedelta(days=days_n)
    db = get_session()
    scope = current_scope()
    found = burst_report(db, since=since, scope=scope)
    return render_template("desks/bursts.html", bursts=found, days=days_n,
                           held=held_evaluations(db, scope=scope),
                           held_total=count_held(db, scope))


@bp.route("/held", methods=["POST"])
@roles_required(*STAFF)
@area_scoped
def decide_held_view() -> WerkzeugResponse:
    """Release (count) or reject the ticked held evaluations; audited per evaluation."""
    FlaskForm().validate_on_submit() or abort(400)
    decision = request.form.get("decision")
    if decision not in ("release", "reject"):
        abort(400)
    ids = [n for n in map(whole_number, request.form.getlist("response_id")) if n is not None]
    db = get_session()
    changed = decide_held(db, ids, release=decision == "release", user_id=_user_id(),
                          scope=current_scope())
    db.commit()
    flash(_("%(n)s evaluations released: they now count.", n=changed) if decision == "release"
          else _("%(n)s evaluations rejected.", n=changed), "ok")
    return redirect(url_for("desks.bursts"), code=303)


@bp.route("/contacts.csv")
@roles_required(*STAFF)
@area_scoped
def contacts() -> WerkzeugResponse:
    """Follow-up phone numbers: only on explicit request, and the export is audited."""
    db = get_session()
    desk_code = request.args.get("desk") or None
    rows = contact_rows(db, desk_code, current_scope())
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["response_id", "desk", "created_at", "phone", "overall", "comment"])
    for row in rows:
        writer.writerow([neutralise_formula(str(cell)) for cell in (
            row.response_id, row.desk_code, row.created_at, row.phone, row.overall, row.comment)])
    record(db, "desk.contacts_export", "desk_contact", None, user_id=_user_id(),
           detail={"desk": desk_code, "rows": len(rows)})
    db.commit()
    return current_app.response_class(
        out.getvalue(), mimetype="text/csv",
        headers={"Content-Disposition": disposition("sipas-desk-contacts.csv"),
                 "Cache-Control": "no-store"},
    )  # fmt: skip


from survey.views import kiosk_admin  # noqa: E402,F401  (the tablets' routes)
