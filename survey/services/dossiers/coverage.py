"""Coverage that means something: evaluated ÷ returned dossiers, and on time by both accounts.

A dossier counts as evaluated when a counted desk evaluation (neither rejected nor held)
carries its code, matched by the keyed hash both keep. For the dossiers returned in a period
(their ``returned_at``, UTC days as every SIPAS period), per desk, field, agency or
procedure, it gives:

- returned, evaluated and coverage (evaluated ÷ returned);
- on time by the dossiers: returned at or before the due moment, among those with one;
- on time by the citizens: the evaluation's ``on_time`` answer (1 on time or early, 2 late;
  3 "not due yet" and no answer leave it out), among the evaluated dossiers;
- agreement: among evaluated dossiers with both a due moment and a citizen's 1 or 2, how
  often the citizen said what the dossier shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from survey.messages import N_, UserError
from survey.models import as_utc
from survey.services.reports.period import Period
from survey.services.scope import EVERYTHING, SUBTREE_SQL, Scope

GROUPS = {"desk": "coalesce(k.code, '')", "field": "d.field", "agency": "d.agency",
          "procedure": "d.procedure_code || ' ' || d.procedure_name"}
ON_TIME_ITEM = "on_time"

_SQL = """
SELECT {group} AS grp, d.due_at, d.returned_at, r.id AS response_id, a.value_num AS said
FROM dossier d
LEFT JOIN desk k ON k.id = d.desk_id
LEFT JOIN response r ON r.dossier_hash = d.code_hash
                    AND r.status NOT IN ('rejected', 'held')
LEFT JOIN answer a ON a.response_id = r.id AND a.item_code = :item
WHERE d.returned_at >= :start AND d.returned_at < :end{area}
"""
_AREA = f" AND k.unit_id IN {SUBTREE_SQL}"  # an area: the dossiers of its desks


@dataclass
class CoverageRow:
    group: str
    returned: int = 0
    evaluated: int = 0
    coverage: float | None = None
    with_due: int = 0
    on_time: int = 0
    on_time_rate: float | None = None
    citizens_answered: int = 0
    citizens_on_time: int = 0
    citizens_on_time_rate: float | None = None
    compared: int = 0
    agree: int = 0
    agreement: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def coverage(session: Session, period: Period, by: str = "desk",
             scope: Scope = EVERYTHING) -> list[CoverageRow]:
    """One row per group, and a last row "" for all dossiers of the period (of the area's
    desks)."""
    if by not in GROUPS:
        raise UserError(N_("coverage by one of %(groups)s, not '%(by)s'"),
                        groups=", ".join(GROUPS), by=by[:20])
    from sqlalchemy import DateTime, bindparam

    start = datetime(period.start.year, period.start.month, period.start.day, tzinfo=UTC)
    end = datetime(period.end.year, period.end.month, period.end.day, tzinfo=UTC)
    sql = _SQL.replace("{group}", GROUPS[by]).replace("{area}", "" if scope.everything
                                                       else _AREA)
    query = text(sql).bindparams(
        bindparam("start", type_=DateTime(timezone=True)),
        bindparam("end", type_=DateTime(timezone=True)))
    rows: dict[str, CoverageRow] = {}
    total = CoverageRow("")
    for grp, due, returned, response_id, said in session.connection().execute(
            query, {"start": start, "end": end, "item": ON_TIME_ITEM,
                    **({} if scope.everything else {"area": scope.unit_id})}):
        row = rows.setdefault(grp or "", CoverageRow(grp or ""))
        due, returned = as_utc(due), as_utc(returned)  # raw SQL: text on SQLite
        for target in (row, total):
            _add(target, due, returned, response_id, said)
    out = sorted(rows.values(), key=lambda r: r.group)
    for row in [*out, total]:
        row.coverage = _share(row.evaluated, row.returned)
        row.on_time_rate = _share(row.on_time, row.with_due)
        row.citizens_on_time_rate = _share(row.citizens_on_time, row.citizens_answered)
        row.agreement = _share(row.agree, row.compared)
    return [*out, total]


def _add(row: CoverageRow, due: datetime | None, returned: datetime | None,
         response_id: int | None, said: float | None) -> None:
    row.returned += 1
    dossier_on_time = None
    if due is not None and returned is not None:
        row.with_due += 1
        dossier_on_time = returned <= due
        row.on_time += int(dossier_on_time)
    if response_id is None:
        return
    row.evaluated += 1
    if said not in (1, 2):
        return
    citizen_on_time = said == 1
    row.citizens_answered += 1
    row.citizens_on_time += int(citizen_on_time)
    if dossier_on_time is not None:
        row.compared += 1
        row.agree += int(citizen_on_time == dossier_on_time)
