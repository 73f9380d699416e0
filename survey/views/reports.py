"""Analyst screens: dashboard, printable report, exports and dossier volumes (thin views)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import get_session, localise
from survey.models import ReviewStatus
from survey.security import area_scoped, roles_required
from survey.services.audit import record
from survey.services.data.export import ExportFilter
from survey.services.data.formats import FORMATS, MEDIA_TYPES, TEXT_ROLES, export_bytes
from survey.services.data.uploads import upload_text
from survey.services.reports import charts, round_data
from survey.services.reports.dashboard import (
    BREAKDOWN_CHOICES,
    Dashboard,
    DashboardOptions,
    build_dashboard,
)
from survey.services.reports.desk import DeskReport
from survey.services.reports.period import parse_period
from survey.services.reports.trend import DeskTrend
from survey.services.reports.words import merged_text
from survey.services.sample.rounds import get_round, pick_round, visible_rounds
from survey.views.area import current_scope
from survey.views.files import disposition

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = ("analyst", "supervisor", "admin")
# what the dashboard's query string may ask (:func:`_options` reads these)
QUESTION = ("period", "round", "target", "min_n", "district", "commune", "weighted",
            "breakdown")


@bp.before_app_request
def _hold_round_writes() -> None:
    """A round read by any request (a page, a chart, the API's index) is kept on disk for
    the other workers only once the response is sent (:func:`round_data.hold_writes`)."""
    g.sipas_round_writes = round_data.hold_writes()


@bp.after_app_request
def _write_rounds_after(response: Response) -> Response:
    held = g.pop("sipas_round_writes", None)
    if held:  # a round was read (its read-ahead joined before the page was made)
        response.call_on_close(lambda: round_data.write_held(held))
    return response


@bp.teardown_app_request
def _stop_holding(_error: BaseException | None) -> None:
    round_data.stop_holding()  # the worker's thread outlives the request


def _options() -> DashboardOptions:
    """Dashboard options from the query string (bad values fall back to the defaults)."""
    args = request.args

    def number(name: str, default: float) -> float:
        try:
            value = float(args.get(name, default))
        except ValueError:
            return default
        return value if math.isfinite(value) else default  # "inf", "1e400", "nan"

    target = number("target", 80) / 100
    breakdown = args.get("breakdown") or None
    return DashboardOptions(
        period=args.get("period") or None, round_code=args.get("round") or None,
        target=target if 0 < target < 1 else 0.80,
        min_n=min(100_000, max(1, int(number("min_n", current_app.config.get("MIN_CELL_N",
                                                                              30))))),
        lang=str(get_locale() or "vi"), district=args.get("district") or None,
        commune=args.get("commune") or None, weighted=args.get("weighted") == "1",
        breakdown=breakdown if breakdown in BREAKDOWN_CHOICES else None,
        area=current_scope(),
    )


def breakdown_names() -> dict[str, str]:
    """Names of the breakdowns in the reader's language (the selector and the headings)."""
    return {"province": _("province"), "district": _("district"), "commune": _("commune"),
            "hamlet": _("hamlet"),
            "e_levels": _("agency level"), "e_fields": _("service field")}


@bp.route("/")
@roles_required(*READERS)
@area_scoped
def dashboard() -> str | tuple[str, int]:
    """The page's words and tables; its charts are links the browser asks for (:func:`chart`)."""
    try:
        opts = _options()
        # the desk charts are drawn while the household round is still being read, so that
        # they are ready when the browser asks
        dash = build_dashboard(get_session(), opts, while_reading=lambda desk, trend: [
            c.draw() for c in _desk_charts(desk, trend, opts.target, opts.lang).values()])
    except ValueError as exc:
        return render_template("reports/problem.html", message=localise(exc)), 400
    query = {k: v for k, v in request.args.items() if v}
    question = {k: v for k, v in query.items() if k in QUESTION}  # never url_for's own
    area = opts.area.unit_id
    links = {name: ChartLink(url_for(".chart", name=name, key=charts.keep(plan, area),
                                     **question), *plan.inches)
             for name, plan in _page_charts(dash, opts).items()}
    return render_template("reports/dashboard.html", dash=dash, hh=dash.household,
                           desk=dash.desk, charts=links, query=query, opts=opts,
                           names=breakdown_names(), merged=merged_text(dash.household.formers,
                                                                       opts.lang))


@dataclass(frozen=True)
class ChartLink:
    """An ``<img>`` of the page: where the chart is, and its size in inches."""

    src: str
    width_in: float
    height_in: float

    @property
    def width(self) -> int:
        return round(96 * self.width_in)  # CSS pixels

    @property
    def height(self) -> int:
        return round(96 * self.height_in)


@bp.route("/charts/<name>/<key>.svg")
@roles_required(*READERS)
@area_scoped
def chart(name: str, key: str) -> Response:
    """One chart of the dashboard, as SVG.

    Its plan is normally held (:func:`charts.keep`) by the page that linked it, for the
    reader's area. When it is not (another host, a full cache), the chart is planned again
    from the page's question in the link, for the reader's own area; if the data changed
    since, that is the chart of today's data, and the browser is told not to keep it.
    """
    area = current_scope().unit_id
    plan = charts.kept(key, area)
    if plan is None:
        try:
            opts = _options()
            plan = _page_charts(build_dashboard(get_session(), opts), opts).get(name)
        except ValueError:
            plan = None
        if plan is None:
            abort(404)
    response = Response(plan.draw(), mimetype="image/svg+xml")
    if plan.key == key:  # the link names exactly this drawing: it never changes
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


def _page_charts(dash: Dashboard, opts: DashboardOptions) -> dict[str, charts.Chart]:
    """The dashboard's charts by name, planned, not drawn."""
    hh, lang, names = dash.household, opts.lang, breakdown_names()
    plans: dict[str, charts.Chart] = {}
    if hh.overall is not None:
        plans["elements"] = charts.plan_dots(
            [(e.label if e.code == e.label else f"{e.code}. {e.label}", e)
             for e in (hh.overall, *hh.elements)], hh.target,
            _("Index by element"), lang=lang)
        for col, rows in {**hh.breakdowns, **hh.selections}.items():
            if col != "hamlet":
                plans[col] = charts.plan_dots(
                    [(d.domain, d.overall) for d in rows], hh.target,
                    _("Index by %(level)s", level=names[col]), lang=lang)
        if hh.priorities:
            plans["priorities"] = charts.plan_dots(
                [(p.label, p) for p in hh.priorities], None, _("Improvement priorities"),
                lang=lang)
    if len(dash.household_trend) > 1:
        plans["rounds"] = charts.plan_trend(
            [c for c, _r in dash.household_trend], [("SIPAS", [r for _c, r in
                                                              dash.household_trend])],
            hh.target, _("SIPAS index by survey round"), lang=lang,
            counts=[r.n for _c, r in dash.household_trend])
    plans.update(_desk_charts(dash.desk, dash.desk_trend, opts.target, opts.lang))
    return plans


def _desk_charts(desk: DeskReport, trend: DeskTrend | None, target: float, lang: str
                 ) -> dict[str, charts.Chart]:
    """The desk results' charts: by desk (its extremes) and the trend by quarter."""
    plans = {}
    if desk.desks:
        plans["desks"] = charts.plan_dots([(d.key, d.headline) for d in desk.desks],
                                          target, _("Share satisfied by desk"), lang=lang)
    if trend is not None:
        plans["trend"] = charts.plan_trend(
            trend.quarters, trend.charted(_("all desks")), target,
            _("Trend by quarter (desk evaluations)"), lang=lang, counts=trend.counts)
    return plans


@bp.route("/report")
@roles_required(*READERS)
@area_scoped
def report() -> Response | tuple[str, int]:
    """The printable report (PDF by default, ``format=html``) for the dashboard's options."""
    from survey.services.reports.content import build_content
    from survey.services.reports.render import render_html, render_pdf

    fmt = request.args.get("format", "pdf")
    try:
        opts = _options()
        dash = build_dashboard(get_session(), opts)
    except ValueError as exc:
        return render_template("reports/problem.html", message=localise(exc)), 400
    name = f"sipas-report-{dash.period.code}"
    if fmt == "html":
        body = render_html(build_content(dash, opts.lang, png=False))
        return Response(body, mimetype="text/html",
                        headers={"Content-Disposition": disposition(f"{name}.html")})
    pdf = render_pdf(build_content(dash, opts.lang, png=True))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": disposition(f"{name}.pdf", inline=True)})


@bp.route("/exports")
@roles_required(*READERS)
@area_scoped
def exports() -> str:
    return render_template("reports/exports.html", formats=FORMATS, rounds=_rounds(),
                           statuses=[s.value for s in ReviewStatus],
                           may_text=current_user.role in TEXT_ROLES)


def _rounds() -> list[str]:
    return [r.code for r in visible_rounds(get_session(), current_scope())]


@bp.route("/exports/download")
@roles_required(*READERS)
@area_scoped
def download() -> Response | tuple[str, int]:
    args = request.args
    fmt = args.get("format", "csv")
    with_text = args.get("with_comments") == "1"
    if with_text and current_user.role not in TEXT_ROLES:
        return render_template("reports/problem.html",
                               message=_("Your role may not export free-text answers.")), 403
    try:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}")
        status = args.get("status") or None
        if status is not None and status not in {s.value for s in ReviewStatus}:
            raise ValueError(f"unknown status {status!r}")
        period = parse_period(args["period"]) if args.get("period") else None
        flt = ExportFilter(status, args.get("round") or None, args.get("instrument") or None,
                           area=current_scope().unit_id)
        db = get_session()
        if flt.round_code is not None:  # an unknown round is a 400, before any audit row
            get_round(db, flt.round_code)
            pick_round(db, flt.round_code, current_scope())  # and another area's
        data, count = export_bytes(db, flt, fmt, with_text, period)
    except ValueError as exc:
        return render_template("reports/problem.html", message=localise(exc)), 400
    record(db, "export", "response", None, user_id=int(current_user.id),
           detail={"format": fmt, "rows": count, "status": status, "round": flt.round_code,
                   "period": period.code if period else None, "free_text": with_text})
    db.commit()
    name = f"sipas-{flt.round_code or 'all'}-{status or 'all'}" + (
        "-codebook.csv" if fmt == "codebook" else f".{fmt}")
    return Response(data, mimetype=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": disposition(name)})


class VolumesForm(FlaskForm):
    file = FileField("CSV", validators=[FileRequired()])


@bp.route("/volumes", methods=["GET", "POST"])
@roles_required(*READERS)
@area_scoped
def volumes() -> str | WerkzeugResponse:
    from survey.services.desks.volumes import import_volumes, list_volumes

    form = VolumesForm()
    db = get_session()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            text = upload_text(upload.read(), upload.filename or "")
            result = import_volumes(db, text, source=upload.filename or "upload",
                                    scope=current_scope())
        except ValueError as exc:
            db.rollback()
            flash(_("Import refused: %(reason)s", reason=localise(exc)), "error")
        else:
            record(db, "volumes_import", "dossier_volume", None, user_id=int(current_user.id),
                   detail={"inserted": result.inserted, "updated": result.updated,
                           "file": upload.filename})
            db.commit()
            flash(_("Imported: %(new)d new, %(changed)d replaced.", new=result.inserted,
                    changed=result.updated), "info")
            return redirect(url_for("reports.volumes"))
    return render_template("reports/volumes.html", form=form,
                           rows=list_volumes(db, current_scope()))


@bp.context_processor
def _formatters() -> dict:
    """The same number formatting as the printable report (so the two always agree).

    Numbers follow the page's language: a decimal comma in Vietnamese (80,4), a dot else.
    """
    from survey.services.reports.rows import IndexRow, ci_text, in_language, number, pct

    lang = str(get_locale() or "vi")

    def pct_in(value: float | None, digits: int = 1) -> str:
        return pct(value, digits, lang)

    def ci_in(row: IndexRow) -> str:
        return ci_text(row, lang)

    def num_in(value: float | None, spec: str = ".1f") -> str:
        return number(value, spec, lang)

    return {"pct": pct_in, "ci_text": ci_in, "num": num_in, "in_language": in_language}
