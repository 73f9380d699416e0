"""The REST API's read operations: responses (the export, paged), the index (the command's
JSON), rounds, desks, frame units, and who a token is. See api.py for the API as a whole."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app, g, request, url_for
from flask_babel import gettext
from flask_smorest.error_handler import ErrorSchema

from survey.app import get_session, localise
from survey.models import ReviewStatus
from survey.security import area_scoped
from survey.services.api import pages
from survey.services.data.export import ExportFilter
from survey.views.api import (
    DOMAINS,
    ERROR_WORDS,
    PERIOD_PATTERN,
    Paged,
    Strict,
    bp,
    error_body,
    operation,
    text,
)
from survey.views.area import current_scope


class ResponseQuery(Paged):
    round = text(32)
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in ReviewStatus]))
    instrument = text(64)
    period = ma.fields.String(validate=ma.validate.Regexp(PERIOD_PATTERN), metadata={
        "description": "Entered in this period: 2025, 2025-Q3 or 2025-09."})
    updated_since = ma.fields.AwareDateTime(default_timezone=None, metadata={
        "description": "Changed at or after this moment (ISO 8601 with a zone)."})
    with_comments = ma.fields.Boolean(load_default=False, metadata={
        "description": "Include free-text answers (comments may name people)."})


class ResponsePageSchema(ma.Schema):
    columns = ma.fields.List(ma.fields.String(), required=True)
    items = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "One object per response: the export's columns by name."})
    next = ma.fields.String(allow_none=True, required=True)


class ListPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Dict(), required=True)
    next = ma.fields.String(allow_none=True, required=True)


class UnitQuery(Paged):
    level = text(32)
    parent = text(32)


class IndexQuery(Strict):
    instrument = text(64, load_default="sipas_services")
    round = text(32, metadata={"description": "Round code (default: the latest)."})
    by = ma.fields.String(validate=ma.validate.OneOf(DOMAINS),
                          metadata={"description": "One estimate per value of this column."})
    level = ma.fields.Float(load_default=0.95,
                            validate=ma.validate.Range(min=0.5, max=0.999))
    target = ma.fields.Float(validate=ma.validate.Range(min=0, max=1))
    lonely_psu = ma.fields.String(validate=ma.validate.OneOf(
        ["fail", "remove", "adjust", "average", "certainty"]))


class MeSchema(ma.Schema):
    username = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    token = ma.fields.String(required=True)
    area = ma.fields.String(required=True, metadata={
        "description": "Code of the administrative unit whose data the token may read; "
                       "empty for the whole deployment."})


# --- operations ----------------------------------------------------------------------------


def _next(_args: dict[str, Any], more: bool, last: int | None) -> str | None:
    if not more or last is None:
        return None
    kept = {k: v for k, v in request.args.items() if k != "after"}
    assert request.endpoint is not None
    return url_for(request.endpoint, **kept, after=last, _external=True)


def _listed(items: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    """A page of a list, with the link to the next one (after its last id)."""
    return {"items": items, "next": _next({}, more, items[-1]["id"] if items else None)}


def _refused(exc: ValueError) -> Response:
    return error_body(400, localise(exc))


@bp.route("/me")
@operation
@area_scoped
@bp.response(200, MeSchema)
def me() -> dict[str, str]:
    """Who the token acts as, and the area whose data it may read ("" for everything)."""
    return {"username": g.api_user.username, "role": g.api_user.role,
            "token": g.api_token.name, "area": current_scope().code}


@bp.route("/responses")
@operation
@area_scoped
@bp.arguments(ResponseQuery, location="query", as_kwargs=True)
@bp.response(200, ResponsePageSchema)
@bp.alt_response(400, schema=ErrorSchema, description=ERROR_WORDS[400])
def responses(limit: int, with_comments: bool, **args: Any) -> Any:
    """Responses, one object per response with the export's columns, a page at a time.

    The pages together are exactly ``sipas export`` with the same filters.
    """
    from survey.services.audit import record
    from survey.services.reports.period import parse_period

    try:
        span = parse_period(args["period"]) if args.get("period") else None
    except ValueError as exc:
        return _refused(exc)
    flt = ExportFilter(status=args.get("status"), round_code=args.get("round"),
                       instrument=args.get("instrument"),
                       updated_since=args.get("updated_since"), after=args.get("after"),
                       area=current_scope().unit_id)
    session = get_session()
    page = pages.response_page(session, flt, limit, with_text=with_comments, period=span)
    if not args.get("after"):  # a pull starts: who read what (the later pages are its pages)
        record(session, "api.responses", "response", user_id=g.api_user.id,
               detail={"token": g.api_token.id, **{k: str(v) for k, v in args.items()
                                                   if k != "lang"},
                       "with_comments": with_comments})
        session.commit()
    return {"columns": page.columns, "items": page.items,
            "next": _next(args, page.more, page.last_id)}


@bp.route("/index")
@operation
@bp.arguments(IndexQuery, location="query", as_kwargs=True)
@bp.response(200, ma.Schema.from_dict({"design": ma.fields.Dict(),
                                       "estimates": ma.fields.List(ma.fields.Dict())},
                                      name="IndexSchema")())
@bp.alt_response(404, schema=ErrorSchema, description="No such questionnaire or round.")
@bp.alt_response(409, schema=ErrorSchema,
                 description="The round's data cannot give these estimates (yet).")
@area_scoped
def index(**args: Any) -> Any:
    """SIPAS indices of a round: exactly what ``sipas index --db --format json`` prints
    (with ``--as`` the token's account: an area's token gets its area's estimates only, a
    domain of the round's design, as its dashboard)."""
    import click
    from sqlmodel import select

    from survey.commands.analysis import index_output_for
    from survey.models import Instrument, SurveyRound

    session = get_session()
    if session.exec(select(Instrument.id).where(Instrument.code == args["instrument"])
                    ).first() is None:
        return error_body(404, gettext("No questionnaire %(code)s.", code=args["instrument"]))
    if args.get("round") and session.exec(select(SurveyRound.id).where(
            SurveyRound.code == args["round"])).first() is None:
        return error_body(404, gettext("No survey round %(code)s.", code=args["round"]))
    # who reads, found before this session's reading ends
    as_user = None if current_scope().everything else g.api_user.username
    session.commit()  # the command reads through its own session: end this one's reading

    argv = ["--db", "--format", "json", "--instrument", args["instrument"],
            "--level", repr(args["level"])]
    if as_user:
        argv += ["--as", as_user]
    for name, option in (("round", "--round"), ("by", "--by"), ("target", "--target"),
                         ("lonely_psu", "--lonely-psu")):
        if args.get(name) is not None:
            argv += [option, str(args[name])]
    try:
        text, warnings = index_output_for(argv, current_app.extensions["sipas_engine"])
    except (ValueError, KeyError, click.ClickException) as exc:
        # the question was well formed (the schema checked it): the data cannot answer it
        message = exc.format_message() if isinstance(exc, click.ClickException) else exc
        return error_body(409, localise(message))
    response = Response(text, mimetype="application/json")
    if warnings:  # the command prints them on stderr; here they ride beside the body
        response.headers["X-SIPAS-Warnings"] = " | ".join(warnings)[:2000]
    return response


@bp.route("/rounds")
@operation
@area_scoped
@bp.arguments(Paged, location="query", as_kwargs=True)
@bp.response(200, ListPageSchema)
def rounds(limit: int, after: int | None = None, **_: Any) -> dict[str, Any]:
    """Survey rounds (the token's area's) with their state and weights version."""
    return _listed(*pages.rounds_page(get_session(), after, limit, current_scope()))


@bp.route("/desks")
@operation
@area_scoped
@bp.arguments(Paged, location="query", as_kwargs=True)
@bp.response(200, ListPageSchema)
def desks(limit: int, after: int | None = None, **_: Any) -> dict[str, Any]:
    """One-stop desks (Bộ phận Một cửa) with their agency and place."""
    return _listed(*pages.desks_page(get_session(), after, limit, current_scope()))


@bp.route("/units")
@operation
@area_scoped
@bp.arguments(UnitQuery, location="query", as_kwargs=True)
@bp.response(200, ListPageSchema)
def units(limit: int, after: int | None = None, level: str | None = None,
          parent: str | None = None, **_: Any) -> dict[str, Any]:
    """Administrative units of the frame in the token's area, with their level and parent."""
    return _listed(*pages.units_page(get_session(), after, limit, level, parent,
                                     current_scope()))
