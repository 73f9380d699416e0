"""Blank templates for every upload (frame, volumes, listing counts, margins), CSV or XLSX."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from survey.security import ADMIN, ANALYST, SUPERVISOR, roles_required
from survey.services.data.uploads import TEMPLATES, template_csv, template_xlsx
from survey.views.files import disposition

bp = Blueprint("uploads", __name__, url_prefix="/uploads")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/templates/<name>.<fmt>")
@roles_required(SUPERVISOR, ADMIN, ANALYST)
def template(name: str, fmt: str) -> Response:
    if name not in TEMPLATES or fmt not in ("csv", "xlsx"):
        abort(404)
    body, media = ((template_csv(name), "text/csv; charset=utf-8") if fmt == "csv"
                   else (template_xlsx(name), XLSX))
    return Response(body, mimetype=media,
                    headers={"Content-Disposition": disposition(f"sipas-{name}.{fmt}")})
