"""The OData v4 feed: ``$metadata``, and each questionnaire's responses as an entity set.

Excel's and Power BI's "From OData feed" read a service document, the ``$metadata`` (CSDL)
that names every column with its type, then pages of rows following ``@odata.nextLink``
(server-driven paging). An entity set's columns are every item of every version of its
questionnaire, addressed by name: a new form version adds columns and never shifts them
(KoboToolbox's kpi#2089). Rows are the export's rows for the same filter (see pages.py).

Only what a SIPAS feed needs of the query language is understood, and anything else is
refused with a message naming it, never ignored (a filter silently dropped downloads
everything, ODK Central's central#1168): ``$filter`` with ``and`` of comparisons on the
common fields, ``$select``, ``$top``, ``$skip``, ``$count`` and ``$orderby=response_id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from xml.sax.saxutils import quoteattr

from sqlmodel import Session, col, select

from survey.messages import N_, UserError
from survey.models import Instrument, ReviewStatus
from survey.services.api.pages import instrument_versions
from survey.services.data.export import ExportFilter
from survey.services.data.formats import selected_export

PAGE = 1000  # rows per page unless the client prefers fewer (Prefer: odata.maxpagesize)
NAMESPACE = "SIPAS"
KEY = "response_id"
DATETIME_COLUMNS = ("created_at",)
# the fields $filter understands: field -> the operators it takes
FILTERABLE = {
    "status": ("eq",), "round": ("eq",), "mode": ("eq",), "desk": ("eq",),
    "created_at": ("ge", "gt", "lt", "le"), "updated_at": ("ge", "gt"),
    "response_id": ("gt", "ge"),
}


@dataclass(frozen=True)
class Query:
    """A parsed OData query of one entity set."""

    flt: ExportFilter
    select: tuple[str, ...] = ()
    top: int | None = None
    skip: int = 0
    count: bool = False
    after: int | None = None  # $skiptoken: the last id of the previous page
    notes: list[str] = field(default_factory=list)


def entity_sets(session: Session) -> list[str]:
    """The questionnaires that have a stored version: one entity set each."""
    codes = session.exec(select(Instrument.code).order_by(col(Instrument.code))).all()
    return [c for c in codes if instrument_versions(session, c)]


def columns_of(session: Session, instrument: str) -> tuple[list[str], frozenset[str]]:
    """The entity set's columns and which of them are numbers (from every form version)."""
    versions = instrument_versions(session, instrument)
    cols, rows = selected_export(session, ExportFilter(instrument=instrument, limit=0),
                                 False, None, versions)
    rows.close()  # type: ignore[attr-defined]
    return list(cols.names), cols.numeric


def metadata_xml(session: Session) -> str:
    """The CSDL document: one entity type per questionnaire, keyed by ``response_id``."""
    types, sets = [], []
    for name in entity_sets(session):
        names, numeric = columns_of(session, name)
        props = []
        for column in names:
            if column == KEY:
                props.append(f'<Property Name="{KEY}" Type="Edm.Int64" Nullable="false"/>')
            elif column in DATETIME_COLUMNS:
                props.append(f'<Property Name="{column}" Type="Edm.DateTimeOffset"/>')
            else:
                kind = "Edm.Double" if column in numeric else "Edm.String"
                props.append(f'<Property Name="{column}" Type="{kind}"/>')
        types.append(f'<EntityType Name="{name}"><Key><PropertyRef Name="{KEY}"/></Key>'
                     + "".join(props) + "</EntityType>")
        sets.append(f'<EntitySet Name="{name}" EntityType="{NAMESPACE}.{name}"/>')
    from survey.services.api.odata_index import entity_types, index_sets

    index = index_sets(session)
    if index:
        types.append(entity_types())
        sets += [f'<EntitySet Name="{name}" EntityType="{NAMESPACE}.IndexRow"/>'
                 for name in index]
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">'
            f'<edmx:DataServices><Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" '
            f'Namespace={quoteattr(NAMESPACE)}>' + "".join(types)
            + f'<EntityContainer Name="{NAMESPACE}">' + "".join(sets)
            + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")


# --- $filter ------------------------------------------------------------------------------

_TOKENS = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*')|(?P<paren>[()])|(?P<word>[^\s()']+))""")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$")


def _refuse(msgid: str, **values: object) -> UserError:
    return UserError(msgid, **values)


def _tokens(text: str) -> list[str]:
    out, at = [], 0
    text = text.strip()
    while at < len(text):
        m = _TOKENS.match(text, at)
        if m is None or m.end() == at:
            raise _refuse(N_("$filter: cannot read it from '%(rest)s'"), rest=text[at:][:40])
        out.append(m.group(m.lastgroup or "word"))
        at = m.end()
    return out


def _moment(text: str) -> datetime:
    if not _MOMENT.match(text):
        raise _refuse(N_("$filter: '%(value)s' is not a date and time such as "
                         "2026-01-01T00:00:00Z"), value=text[:40])
    if len(text) == 10:
        text += "T00:00:00Z"
    from datetime import UTC

    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _literal(token: str, name: str) -> str | int | datetime:
    if name in ("created_at", "updated_at"):
        return _moment(token)
    if name == KEY:
        if not token.isdigit() or len(token) > 10:
            raise _refuse(N_("$filter: %(name)s takes a whole number, not %(value)s"),
                          name=name, value=token[:40])
        return int(token)
    if len(token) < 2 or token[0] != "'" or token[-1] != "'":
        raise _refuse(N_("$filter: %(name)s takes a text in quotes, e.g. %(name)s eq 'x'"),
                      name=name)
    return token[1:-1].replace("''", "'")


def parse_filter(text: str, flt: ExportFilter) -> ExportFilter:
    """``a eq 'x' and b ge 2026-01-01T00:00:00Z …`` as the export's filter."""
    tokens = [t for t in _tokens(text) if t not in ("(", ")")]
    if not tokens:
        return flt
    changes: dict[str, object] = {}
    for at in range(0, len(tokens), 4):
        part = tokens[at:at + 3]
        if at > 0 and tokens[at - 1].lower() != "and":
            raise _refuse(N_("$filter: only 'and' joins conditions, not '%(word)s'"),
                          word=tokens[at - 1][:20])
        if len(part) < 3:
            raise _refuse(N_("$filter: a condition is incomplete: '%(part)s'"),
                          part=" ".join(part)[:60])
        name, op, raw = part[0], part[1].lower(), part[2]
        if name not in FILTERABLE:
            raise _refuse(N_("$filter: cannot filter on '%(name)s'; the fields are %(fields)s"),
                          name=name[:40], fields=", ".join(FILTERABLE))
        if op not in FILTERABLE[name]:
            raise _refuse(N_("$filter: %(name)s takes %(ops)s, not '%(op)s'"), name=name,
                          ops=", ".join(FILTERABLE[name]), op=op[:10])
        value = _literal(raw, name)
        changes.update(_condition(name, op, value))
    if len(tokens) % 4 != 3:
        raise _refuse(N_("$filter: a condition is incomplete at its end"))
    return replace(flt, **changes)  # type: ignore[arg-type]


def _condition(name: str, op: str, value: object) -> dict[str, object]:
    tick = timedelta(microseconds=1)
    if name == "status":
        if value not in {s.value for s in ReviewStatus}:
            raise _refuse(N_("$filter: unknown status '%(value)s'"), value=str(value)[:40])
        return {"status": value}
    if name == "round":
        return {"round_code": value}
    if name in ("mode", "desk"):
        return {name: value}
    if name == "created_at":
        assert isinstance(value, datetime)
        return ({"start": value if op == "ge" else value + tick} if op in ("ge", "gt")
                else {"end": value if op == "lt" else value + tick})
    if name == "updated_at":
        assert isinstance(value, datetime)
        return {"updated_since": value if op == "ge" else value + tick}
    assert isinstance(value, int)
    return {"after": value if op == "gt" else value - 1}


def check_select(chosen: tuple[str, ...], columns: list[str]) -> None:
    """Every ``$select`` name is a column of the feed."""
    unknown = [c for c in chosen if c not in columns]
    if unknown:
        raise _refuse(N_("$select: no column '%(name)s' in this feed"), name=unknown[0][:64])


def count_option(text: str | None, option: str, most: int | None = None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or len(text) > 9 or (most is not None and int(text) > most):
        raise _refuse(N_("%(option)s takes a whole number of rows, not '%(value)s'"),
                      option=option, value=text[:20])
    return int(text)


def parse_query(instrument: str, args: dict[str, str]) -> Query:
    """The system query options of one request; anything not understood is refused
    (``$select``'s names are checked against the page's columns: :func:`check_select`)."""
    known = {"$filter", "$select", "$top", "$skip", "$count", "$orderby", "$skiptoken",
             "$format", "lang"}
    for name in args:
        if name not in known:
            raise _refuse(N_("the query option '%(name)s' is not supported here"),
                          name=name[:40])
    if args.get("$format", "json") not in ("json", "application/json"):
        raise _refuse(N_("$format: only json is offered"))
    order = args.get("$orderby", KEY).strip()
    if order not in (KEY, f"{KEY} asc"):
        raise _refuse(N_("$orderby: rows come in response_id order only"))
    flt = parse_filter(args.get("$filter", ""), ExportFilter(instrument=instrument))
    chosen: tuple[str, ...] = ()
    if args.get("$select", "").strip() not in ("", "*"):
        chosen = tuple(c.strip() for c in args["$select"].split(","))
    count = args.get("$count", "false").lower()
    if count not in ("true", "false"):
        raise _refuse(N_("$count takes true or false"))
    after = count_option(args.get("$skiptoken"), "$skiptoken")
    if after is not None:
        flt = replace(flt, after=max(flt.after or 0, after))
    return Query(flt, chosen, count_option(args.get("$top"), "$top"),
                 count_option(args.get("$skip"), "$skip") or 0, count == "true", after)
