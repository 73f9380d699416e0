"""Uploads: reading a posted table (CSV or Excel) with a size limit, and a blank template for
every upload (frame, volumes, listing counts, margins), CSV or XLSX."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from survey.messages import N_, UserError
from survey.security import ADMIN, ANALYST, SUPERVISOR, area_scoped, roles_required
from survey.services.data.uploads import TEMPLATES, template_csv, template_xlsx, upload_text
from survey.views.files import disposition

bp = Blueprint("uploads", __name__, url_prefix="/uploads")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def uploaded_text(field: str, max_mb: int) -> str | None:
    """The posted file ``field`` as CSV text (from CSV or an Excel workbook), None when no
    file was chosen; a :class:`UserError` when it is too large or unreadable."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return None
    limit = max_mb * 1024 * 1024
    raw = upload.read(limit + 1)
    if len(raw) > limit:
        raise UserError(N_("The file is larger than %(mb)d MB."), mb=max_mb)
    return upload_text(raw, upload.filename)


@bp.route("/templates/<name>.<fmt>")
@roles_required(SUPERVISOR, ADMIN, ANALYST)
@area_scoped  # a blank template holds no one's data
def template(name: str, fmt: str) -> Response:
    if name not in TEMPLATES or fmt not in ("csv", "xlsx"):
        abort(404)
    body, media = ((template_csv(name), "text/csv; charset=utf-8") if fmt == "csv"
                   else (template_xlsx(name), XLSX))
    return Response(body, mimetype=media,
                    headers={"Content-Disposition": disposition(f"sipas-{name}.{fmt}")})
