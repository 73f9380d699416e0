"""Pages of the API and the OData feed: responses as the export writes them, and the lists.

A page of responses is the export's own rows (``selected_export``: the same columns, the
same free-text rule, the same 0/1 choice columns) for the same filter, cut by response id:
concatenating the pages gives the export file, row for row. Numbers come as JSON numbers
(the codebook's numeric columns), empty cells as null. Pages are keyed by the last id
seen, not by an offset, so a response keyed while someone pages is neither skipped nor
read twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from survey.models import AdminUnit, Desk, GeoLevel, Instrument, InstrumentVersion, SurveyRound
from survey.services.data.export import ExportFilter
from survey.services.data.formats import Columns, selected_export
from survey.services.reports.period import Period
from survey.services.scope import EVERYTHING, Scope, desks_within, within

MAX_PAGE = 1000
DEFAULT_PAGE = 100


@dataclass(frozen=True)
class Page:
    columns: list[str]
    items: list[dict[str, Any]]
    last_id: int | None  # the cursor of the next page when ``more``
    more: bool


def _typed(cols: Columns) -> list[tuple[str, bool]]:
    return [(name, name in cols.numeric) for name in cols.names]


def _value(cell: str, numeric: bool) -> Any:
    if cell == "":
        return None
    if not numeric:
        return cell
    number = float(cell)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def typed_rows(cols: Columns, rows: Iterable[list[str]]) -> Iterator[dict[str, Any]]:
    """Export rows (text) as JSON objects: numbers as numbers, empty as null."""
    kinds = _typed(cols)
    for row in rows:
        yield {name: _value(cell, numeric) for (name, numeric), cell in zip(kinds, row,
                                                                            strict=True)}


def instrument_versions(session: Session, instrument: str) -> list[int]:
    """Every version of a questionnaire: a feed's columns, whatever its rows."""
    return sorted(session.exec(
        select(InstrumentVersion.id).join(Instrument,
                                          col(Instrument.id) == InstrumentVersion.instrument_id)
        .where(Instrument.code == instrument)).all())  # type: ignore[arg-type]


def response_page(session: Session, flt: ExportFilter, limit: int, *, with_text: bool = False,
                  period: Period | None = None, offset: int | None = None,
                  versions: list[int] | None = None) -> Page:
    """One page of the export's rows after ``flt.after`` (at most ``limit``)."""
    limit = max(1, min(int(limit), MAX_PAGE))
    cols, rows = selected_export(session, replace(flt, limit=limit + 1, offset=offset),
                                 with_text, period, versions)
    try:
        items = list(islice(typed_rows(cols, rows), limit + 1))
    finally:
        rows.close()  # type: ignore[attr-defined]
    more = len(items) > limit
    items = items[:limit]
    return Page(list(cols.names), items, items[-1]["response_id"] if items else None, more)


def _after(query, column, after: int | None):  # type: ignore[no-untyped-def]
    return query.where(column > after) if after else query


def rounds_page(session: Session, after: int | None, limit: int,
                scope: Scope = EVERYTHING) -> tuple[list[dict], bool]:
    query = _after(select(SurveyRound), col(SurveyRound.id), after)
    if not scope.everything:
        from survey.services.sample.rounds import visible_rounds

        query = query.where(col(SurveyRound.id).in_([r.id for r in visible_rounds(session,
                                                                                  scope)]))
    found = session.exec(query.order_by(col(SurveyRound.id)).limit(limit + 1)).all()
    items = [{"id": r.id, "code": r.code, "name": r.name, "status": r.status,
              "weights_version": r.weights_version,
              "published_at": r.published_at.isoformat() if r.published_at else None}
             for r in found[:limit]]
    return items, len(found) > limit


def desks_page(session: Session, after: int | None, limit: int,
               scope: Scope = EVERYTHING) -> tuple[list[dict], bool]:
    """The area's desks with their place; never their link tokens (the QR codes stay on
    staff pages)."""
    query = _after(select(Desk, AdminUnit.code).outerjoin(
        AdminUnit, col(AdminUnit.id) == Desk.unit_id).where(desks_within(scope)),
        col(Desk.id), after)
    found = session.exec(query.order_by(col(Desk.id)).limit(limit + 1)).all()
    items = [{"id": d.id, "code": d.code, "name": d.name, "agency": d.agency,
              "admin_level": d.admin_level, "unit": unit, "active": d.active}
             for d, unit in found[:limit]]
    return items, len(found) > limit


def units_page(session: Session, after: int | None, limit: int, level: str | None = None,
               parent: str | None = None, scope: Scope = EVERYTHING) -> tuple[list[dict], bool]:
    """The frame's administrative units in the area, with their level and parent codes."""
    up = aliased(AdminUnit)
    query = select(AdminUnit, GeoLevel.code, up.code).join(
        GeoLevel, col(GeoLevel.id) == AdminUnit.level_id).outerjoin(
        up, col(up.id) == AdminUnit.parent_id).where(within(scope, AdminUnit.id))
    if level:
        query = query.where(GeoLevel.code == level)
    if parent:
        query = query.where(up.code == parent)
    query = _after(query, col(AdminUnit.id), after)
    found = session.exec(query.order_by(col(AdminUnit.id)).limit(limit + 1)).all()
    items = [{"id": u.id, "code": u.code, "name": u.name, "level": lvl, "parent": par,
              "urban_rural": u.urban_rural, "households": u.households,
              "population": u.population} for u, lvl, par in found[:limit]]
    return items, len(found) > limit
