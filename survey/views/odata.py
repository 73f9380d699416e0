"""The OData v4 feed (``/odata/v1/``) for Excel's and Power BI's "From OData feed".

Authentication is the API's token: HTTP Basic with any user name and the token as the
password is what those programs can send. Thin: parsing and the CSDL are in
services/api/odata.py, the rows are the export's (services/api/pages.py).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, abort, g, request, url_for

from survey.app import csrf, get_session, localise
from survey.messages import N_, UserError
from survey.security import area_scoped
from survey.services.api import odata, odata_index, pages
from survey.services.audit import record
from survey.services.data.export import count_rows
from survey.views.api import error_body, operation_plain
from survey.views.area import current_scope

bp = Blueprint("odata", __name__, url_prefix="/odata/v1")
csrf.exempt(bp)
HEADERS = {"OData-Version": "4.0"}
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true"


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype=JSON_TYPE, headers=HEADERS)


def _root() -> str:
    return url_for("odata.service", _external=True)


@bp.route("/")
@operation_plain
@area_scoped
def service() -> Response:
    """The service document: one entity set per questionnaire, and one index set per
    household questionnaire (an area's token gets its area's estimates there)."""
    from survey.services.api.odata_index import index_sets

    sets = odata.entity_sets(get_session()) + index_sets(get_session())
    return _json({"@odata.context": _root() + "$metadata",
                  "value": [{"name": s, "kind": "EntitySet", "url": s} for s in sets]})


@bp.route("/$metadata")
@operation_plain
@area_scoped
def metadata() -> Response:
    return Response(odata.metadata_xml(get_session()), mimetype="application/xml",
                    headers=HEADERS)


def _page_size() -> int:
    """Prefer: odata.maxpagesize=N is honoured up to the feed's own page."""
    prefer = request.headers.get("Prefer", "")
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name == "odata.maxpagesize" and value.isdigit() and int(value) > 0:
            return min(int(value), odata.PAGE)
    return odata.PAGE


@bp.route("/<name>")
@operation_plain
@area_scoped
def entity_set(name: str) -> Response:
    """A page of one questionnaire's responses (of the token's area), with the next
    page's link."""
    session = get_session()
    if name.startswith(odata_index.PREFIX) and name in odata_index.index_sets(session):
        return _index(name)
    versions = pages.instrument_versions(session, name)
    if not versions:  # not a questionnaire with a stored version: no such entity set
        abort(404)
    try:
        query = odata.parse_query(name, dict(request.args.items()))
        query = replace(query, flt=replace(query.flt, area=current_scope().unit_id))
        size = _page_size() if query.top is None else min(query.top, _page_size())
        page = pages.response_page(session, query.flt, size, offset=query.skip or None,
                                   versions=versions) if size else None
        # the page's own columns (every version's), read once; $top=0 reads no page
        odata.check_select(query.select, page.columns if page else
                           odata.columns_of(session, name)[0])
    except ValueError as exc:
        return error_body(400, localise(exc))
    body: dict[str, Any] = {"@odata.context": _root() + "$metadata#" + name + (
        f"({','.join(query.select)})" if query.select else "")}
    if query.count:
        body["@odata.count"] = count_rows(session, query.flt)
    if page is None:
        body["value"] = []
        return _json(body)
    items = page.items
    if query.select:
        items = [{c: row.get(c) for c in query.select} for row in items]
    body["value"] = items
    left = None if query.top is None else query.top - len(items)
    if page.more and page.last_id is not None and (left is None or left > 0):
        kept = {k: v for k, v in request.args.items() if k not in ("$skiptoken", "$skip",
                                                                    "$top", "$count")}
        if left is not None:
            kept["$top"] = str(left)
        body["@odata.nextLink"] = url_for("odata.entity_set", name=name, **kept,
                                          **{"$skiptoken": str(page.last_id)}, _external=True)
    if query.after is None and not query.skip:  # a pull starts (its later pages follow)
        record(session, "api.odata", "response", user_id=g.api_user.id,
               detail={"token": g.api_token.id, "entity_set": name,
                       **{k: v[:200] for k, v in request.args.items()}})
        session.commit()
    return _json(body)




def _index(name: str) -> Response:
    """An index entity set: the command's estimates for the round and breakdown asked."""
    from flask import current_app

    args = dict(request.args.items())
    known = {"$filter", "$select", "$top", "$skip", "$format", "lang"}
    try:
        unknown = [k for k in args if k not in known]
        if unknown:
            raise UserError(N_("the query option '%(name)s' is not supported "
                                           "here"), name=unknown[0][:40])
        round_code, by = odata_index.chosen(args.get("$filter", ""))
        top = odata.count_option(args.get("$top"), "$top")
        skip = odata.count_option(args.get("$skip"), "$skip") or 0
        picked = [c.strip() for c in args.get("$select", "").split(",") if c.strip()]
        wrong = [c for c in picked if c != "*" and c not in odata_index.COLUMNS]
        if wrong:
            raise UserError(N_("$select: no column '%(name)s' in this feed"),
                                  name=wrong[0][:64])
    except ValueError as exc:
        return error_body(400, localise(exc))
    as_user = None if current_scope().everything else g.api_user.username
    get_session().commit()  # the command reads through its own session
    try:
        rows = odata_index.index_rows(
            current_app.extensions["sipas_engine"], name.removeprefix(odata_index.PREFIX),
            round_code, by, as_user)
    except ValueError as exc:  # no such round, no verified data yet, a lonely PSU
        return error_body(409, localise(exc))
    rows = rows[skip:] if top is None else rows[skip:skip + top]
    if picked and "*" not in picked:
        rows = [{c: r[c] for c in picked} for r in rows]
    return _json({"@odata.context": _root() + "$metadata#" + name, "value": rows})
