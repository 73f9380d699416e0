"""The REST API's dossier operations (issue 17): a one-stop system pushes dossiers in and
asks for a dossier's evaluation link; readers get coverage. See api.py for the API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, g
from flask_babel import gettext
from flask_smorest.error_handler import ErrorSchema

from survey.app import get_session, localise
from survey.messages import N_, UserError
from survey.security import area_scoped
from survey.views.api import PERIOD_PATTERN, Strict, bp, error_body, operation, text, writers_only
from survey.views.area import current_scope

MAX_PUSH = 1000

MAX_PUSH = 1000


class DossierSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    code = text(64, required=True, metadata={"description": "The dossier code (mã hồ sơ)."})
    procedure_code = text(64, required=True)
    procedure_name = text(500)
    field = text(200)
    agency = text(200)
    desk = text(32, metadata={"description": "The desk's code in SIPAS."})
    received_at = text(40, metadata={"description": "25/09/2025 14:30 or ISO 8601; the "
                                                    "province's time zone unless given."})
    due_at = text(40)
    returned_at = text(40)
    officer = text(100, metadata={"description": "The officer's id: stored as a keyed hash."})


class DossierPushSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    dossiers = ma.fields.List(ma.fields.Nested(DossierSchema), required=True,
                              validate=ma.validate.Length(min=1, max=MAX_PUSH))


class DossierStoredSchema(ma.Schema):
    inserted = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)


@bp.route("/dossiers", methods=["POST"])
@operation
@area_scoped
@writers_only
@bp.arguments(DossierPushSchema, location="json")
@bp.response(200, DossierStoredSchema)
@bp.alt_response(422, schema=ErrorSchema, description="Nothing stored: each bad dossier "
                 "named by its place in the list.")
def push_dossiers(body: dict[str, Any]) -> Any:
    """Dossiers as the one-stop system receives and returns them; idempotent on the code
    (sending one again updates it), all or nothing."""
    from zoneinfo import ZoneInfo

    from survey.services.audit import record
    from survey.services.desks.links import dossier_secret
    from survey.services.dossiers.records import check_record, desk_codes, store_dossiers

    session = get_session()
    desks = desk_codes(session, current_scope())
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")
    rows, errors, seen = [], {}, {}
    for at, item in enumerate(body["dossiers"]):
        row, problems = check_record(item, desks, zone)
        code = item["code"].strip().upper()
        if code in seen:
            problems.append(UserError(N_("dossier %(code)s is also at %(other)d"),
                                      code=code, other=seen[code]))
        seen.setdefault(code, at)
        if problems:
            errors[str(at)] = [localise(p) for p in problems]
        elif row is not None:
            rows.append(row)
    if errors:
        return error_body(422, gettext("Nothing was stored: fix the dossiers named and send "
                                       "them again."), errors)
    try:
        stored = store_dossiers(session, rows,
                                dossier_secret(current_app.config["SECRET_KEY"]), "api",
                                scope=current_scope())
    except UserError as exc:
        session.rollback()
        return error_body(422, localise(exc))
    record(session, "dossiers.push", "dossier", user_id=g.api_user.id,
           detail={"token": g.api_token.id, "inserted": stored.inserted,
                   "updated": stored.updated, "unchanged": stored.unchanged})
    session.commit()
    return {"inserted": stored.inserted, "updated": stored.updated,
            "unchanged": stored.unchanged}


class CoverageQuery(Strict):
    period = ma.fields.String(required=True, validate=ma.validate.Regexp(PERIOD_PATTERN),
                              metadata={"description": "Returned in this period."})
    by = ma.fields.String(load_default="desk", validate=ma.validate.OneOf(
        ["desk", "field", "agency", "procedure"]))


@bp.route("/dossiers/coverage")
@operation
@area_scoped
@bp.arguments(CoverageQuery, location="query", as_kwargs=True)
@bp.response(200, ma.Schema.from_dict({"period": ma.fields.String(),
                                       "by": ma.fields.String(),
                                       "rows": ma.fields.List(ma.fields.Dict())},
                                      name="CoverageSchema")())
def dossier_coverage(period: str, by: str, **_: Any) -> dict[str, Any]:
    """Evaluated ÷ returned dossiers per desk, field, agency or procedure; on time by the
    dossiers and by the citizens, and how often they agree (the last row: all)."""
    from survey.services.dossiers.coverage import coverage
    from survey.services.reports.period import parse_period

    span = parse_period(period)
    return {"period": span.code, "by": by,
            "rows": [r.as_dict() for r in coverage(get_session(), span, by,
                                                   current_scope())]}


class LinkAskSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    code = text(64, required=True, metadata={"description": "The dossier code."})
    qr = ma.fields.Boolean(load_default=False,
                           metadata={"description": "Also the QR code, as a PNG in base64."})


class LinkSchema(ma.Schema):
    url = ma.fields.String(required=True)
    expires_at = ma.fields.String(required=True)
    qr_png_base64 = ma.fields.String(allow_none=True)


@bp.route("/dossiers/link", methods=["POST"])
@operation
@area_scoped
@writers_only
@bp.arguments(LinkAskSchema, location="json")
@bp.response(200, LinkSchema)
@bp.alt_response(409, schema=ErrorSchema, description="No such dossier, no desk, or already "
                 "evaluated.")
def dossier_link(body: dict[str, Any]) -> Any:
    """A signed, expiring, single-use evaluation link for a dossier (a POST: the code is
    personal, and must not sit in an address that logs keep)."""
    import base64 as b64

    from survey.services.desks.qr import qr_png
    from survey.services.dossiers.links import DEFAULT_DAYS, make_link

    try:
        made = make_link(get_session(), current_app.config["BASE_URL"],
                         current_app.config["SECRET_KEY"], body["code"],
                         int(current_app.config.get("DOSSIER_LINK_DAYS", DEFAULT_DAYS)),
                         scope=current_scope())
    except ValueError as exc:
        return error_body(409, localise(exc))
    png = b64.b64encode(qr_png(made.url)).decode("ascii") if body["qr"] else None
    return {"url": made.url, "expires_at": made.expires_at.isoformat(), "qr_png_base64": png}
