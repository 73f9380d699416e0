"""Dossiers on screen: the one-stop system's export uploaded (supervisors), and coverage —
evaluated ÷ returned dossiers, on time by the dossiers and by the citizens — for a period
(supervisors and analysts). Thin: the work is in ``survey.services.dossiers``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import get_session, localise
from survey.messages import N_, UserError
from survey.security import ADMIN, ANALYST, STAFF, SUPERVISOR, area_scoped, roles_required
from survey.services.audit import record
from survey.services.desks.links import dossier_secret
from survey.services.dossiers.coverage import GROUPS, coverage
from survey.services.dossiers.records import (
    DossierErrors,
    desk_codes,
    dossier_summary,
    parse_dossiers,
    store_dossiers,
)
from survey.services.reports.period import current_quarter, parse_period, period_label
from survey.views.area import current_scope
from survey.views.uploads import uploaded_text

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")
MAX_MB = 200


@bp.route("/", methods=["GET", "POST"])
@roles_required(*STAFF)
@area_scoped
def index() -> WerkzeugResponse | tuple[str, int]:
    form = FlaskForm()
    db = get_session()
    problems: list[str] = []
    if form.validate_on_submit():  # an expired form is the app's own 400 page (CSRF)
        try:
            text = uploaded_text("file", MAX_MB)
            if text is None:
                raise UserError(N_("Choose a file to import."))
            zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE")
                            or "Asia/Ho_Chi_Minh")
            rows = parse_dossiers(text, desk_codes(db, current_scope()), zone)
            stored = store_dossiers(db, rows, dossier_secret(current_app.config["SECRET_KEY"]),
                                    "import", scope=current_scope())
        except DossierErrors as exc:
            db.rollback()
            problems = [f"{_('line')} {line}: " + "; ".join(localise(p) for p in found)
                        for line, found in exc.lines]
        except UserError as exc:
            db.rollback()
            problems = [localise(exc)]
        else:
            name = (request.files["file"].filename or "")[:200]
            record(db, "dossiers.import", "dossier", user_id=int(current_user.id), detail={
                "file": name, "inserted": stored.inserted, "updated": stored.updated,
                "unchanged": stored.unchanged})
            db.commit()
            flash(_("%(new)d new, %(changed)d updated and %(same)d unchanged dossiers from "
                    "%(file)s.", new=stored.inserted, changed=stored.updated,
                    same=stored.unchanged, file=name), "info")
            return redirect(url_for("dossiers.index"), code=303)
    return render_template("dossiers/index.html", form=form, problems=problems,
                           summary=dossier_summary(db, current_scope())), \
        (400 if problems else 200)


@bp.route("/coverage")
@roles_required(SUPERVISOR, ADMIN, ANALYST)
@area_scoped
def coverage_view() -> tuple[str, int]:
    raw = request.args.get("period", "")[:20] or current_quarter().code
    by = request.args.get("by", "desk")
    problem = None
    rows = []
    span = None
    try:
        span = parse_period(raw)
        rows = coverage(get_session(), span, by, current_scope())
    except UserError as exc:
        problem = localise(exc)
    lang = str(get_locale() or "vi")
    return render_template(
        "dossiers/coverage.html", rows=rows, period=raw, by=by, problem=problem,
        label=period_label(span, lang) if span else raw, groups=list(GROUPS)
    ), (400 if problem else 200)
