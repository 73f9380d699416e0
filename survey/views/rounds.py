"""Survey rounds in the browser: create, listing counts, weights, publish.

Each action is the same service call as its CLI twin (``sipas round``, ``sipas sample
listed``, ``sipas weights compute``), with the same rules and the same audit rows, so a
supervisor can run a round without a terminal. Publishing freezes the round: it asks for a
reason and a confirmation first.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import get_session, localise
from survey.messages import N_, UserError
from survey.security import ADMIN, SUPERVISOR, area_scoped, roles_required
from survey.services.audit import record
from survey.services.data.csv_text import csv_records
from survey.services.sample.lists import parse_listed_counts, set_listed_counts
from survey.services.sample.rounds import (
    create_round,
    list_rounds,
    owned_round,
    pick_round,
    publish_round,
)
from survey.services.sample.weights import compute_weights
from survey.services.sample.weights_report import current_weights
from survey.typed import whole_number
from survey.views.area import current_scope
from survey.views.confirm import confirm_page, confirmed
from survey.views.uploads import uploaded_text

bp = Blueprint("rounds", __name__, url_prefix="/rounds")
STAFF = (SUPERVISOR, ADMIN)
MAX_UPLOAD_MB = 2


def _whole(name: str) -> int | None:
    return whole_number(request.form.get(name, "").strip())


@bp.route("/", methods=["GET", "POST"])
@roles_required(*STAFF)
@area_scoped
def index() -> tuple[str, int] | WerkzeugResponse:
    db = get_session()
    problem = None
    if request.method == "POST":
        year = _whole("year")
        try:
            if year is None:
                raise UserError(N_("year must be between 2000 and 2100, got %(year)s"),
                                year=request.form.get("year", "")[:10] or "—")
            row = create_round(db, request.form.get("code", ""), request.form.get("name", ""),
                               year, user_id=int(current_user.id),
                               unit_id=current_scope().unit_id)  # the area's own round
        except ValueError as exc:
            db.rollback()
            problem = localise(exc)
        else:
            db.commit()
            flash(_("Round %(code)s created (open).", code=row.code), "success")
            return redirect(url_for("rounds.detail", code=row.code))
    return render_template("rounds/index.html", rounds=list_rounds(db, current_scope()),
                           problem=problem,
                           form=request.form), (400 if problem else 200)


def _detail(code: str, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    db = get_session()
    try:  # the area's rounds, and national rounds that sampled in it (seen, not run)
        round_ = pick_round(db, code, current_scope())
    except ValueError:
        abort(404)
    info = next(r for r in list_rounds(db) if r.code == round_.code)
    try:
        owned_round(db, code, current_scope())
        runs = True
    except ValueError:
        runs = False
    return render_template("rounds/detail.html", round=round_, info=info, runs=runs,
                           weights=current_weights(db, round_), problem=problem,
                           form=request.form), status


def _run_by_area(code: str) -> int:
    """The round's id; 404 unless the reader's area runs the round (``owned_round``): a
    province sees the ministry's national round but does not change it."""
    try:
        return int(owned_round(get_session(), code, current_scope()).id)  # type: ignore[arg-type]
    except ValueError:
        abort(404)


@bp.route("/<code>")
@roles_required(*STAFF)
@area_scoped
def detail(code: str) -> tuple[str, int]:
    return _detail(code)


@bp.route("/<code>/listing", methods=["POST"])
@roles_required(*STAFF)
@area_scoped
def listing(code: str) -> tuple[str, int] | WerkzeugResponse:
    db = get_session()
    round_id = _run_by_area(code)
    try:
        text = uploaded_text("listing", MAX_UPLOAD_MB)
        if text is None:
            raise UserError(N_("Choose the CSV file of listing counts (psu,listed)."))
        counts = parse_listed_counts(text)
        set_listed_counts(db, code, counts)
    except ValueError as exc:
        db.rollback()
        return _detail(code, localise(exc), 400)
    record(db, "sample.listed", "survey_round", round_id, user_id=int(current_user.id),
           detail={"hamlets": len(counts)})
    db.commit()
    flash(_("Listing counts saved for %(n)d hamlets.", n=len(counts)), "success")
    return redirect(url_for("rounds.detail", code=code))


@bp.route("/<code>/weights", methods=["POST"])
@roles_required(*STAFF)
@area_scoped
def weights(code: str) -> tuple[str, int] | WerkzeugResponse:
    db = get_session()
    _run_by_area(code)
    minimum = _whole("min_respondents") or 5
    trim_text = request.form.get("trim", "").strip().replace(",", ".")
    try:
        trim = float(trim_text) if trim_text else None
        if trim is not None and not 1 < trim < 1000:
            raise UserError(N_("Trimming caps weights at a multiple of the median above 1, "
                               "e.g. 3.5."))
        margins_text = uploaded_text("margins", MAX_UPLOAD_MB)
        label = (request.files["margins"].filename or "margins.csv") if margins_text else None
        with tempfile.TemporaryDirectory(prefix="sipas-margins-") as folder:
            margins = None
            if margins_text is not None:
                # the analysis reads comma CSV: whatever the upload's separator (or an Excel
                # sheet), it is written out as such
                margins = Path(folder) / "margins.csv"
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="\n").writerows(csv_records(margins_text))
                margins.write_text(buffer.getvalue(), encoding="utf-8")
            try:
                summary = compute_weights(
                    db, code, min_respondents=minimum,
                    adults_item=request.form.get("adults_item", "").strip() or None,
                    margins=margins, trim=trim,
                    new_version=request.form.get("new_version") == "1",
                    reason=request.form.get("reason", "").strip() or None,
                    user_id=int(current_user.id), margins_label=label)
            except ValueError as exc:
                if isinstance(exc, UserError) or margins is None:
                    raise
                # the analysis names the file it read: name the one that was uploaded
                raise ValueError(str(exc).replace(str(margins), label or "")) from None
    except ValueError as exc:
        db.rollback()
        return _detail(code, localise(exc), 400)
    db.commit()
    flash(_("Weights version %(v)d computed: %(n)d respondents, Kish design effect %(deff)s.",
            v=summary.version, n=summary.respondents,
            deff=format_decimal(summary.kish_deff, "0.000")),
          "success")
    return redirect(url_for("rounds.detail", code=code))


@bp.route("/<code>/publish", methods=["POST"])
@roles_required(*STAFF)
@area_scoped
def publish(code: str) -> tuple[str, int] | WerkzeugResponse | str:
    _run_by_area(code)
    reason = request.form.get("reason", "").strip()[:500]
    if not reason:
        return _detail(code, _("Say why the round is published now (e.g. \"all questionnaires "
                               "verified, weights checked\")."), 400)
    if not confirmed():
        return confirm_page(
            _("Publish round %(code)s?", code=code),
            _("Publishing freezes the round: its sample, its answers' design columns and its "
              "current weights stay as they are, and every published figure can be traced to "
              "them. Later corrections need a new weights version with a reason."),
            _("Publish and freeze"), url_for("rounds.detail", code=code), keep={"reason": reason})
    db = get_session()
    try:
        publish_round(db, code, user_id=int(current_user.id), reason=reason)
    except ValueError as exc:
        db.rollback()
        return _detail(code, localise(exc), 400)
    db.commit()
    flash(_("Round %(code)s is published.", code=code), "success")
    return redirect(url_for("rounds.detail", code=code))
