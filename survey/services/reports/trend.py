"""Trends: desk satisfaction by quarter (all desks and per agency), household index by round.

A trend is a row of estimates computed exactly as the dashboard computes one period, so a
point of the chart is the number the dashboard shows when that quarter (or round) is
chosen. Quarters are independent self-selected samples of evaluations: the bars are each
quarter's own interval, not a model of change. Household rounds are only put side by side
when there are several; a round is never pooled with another.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from survey.models import DeskTally
from survey.services.reports.desk import DeskReport, desk_report
from survey.services.reports.household import Area, household_report
from survey.services.reports.period import Period, quarters_of
from survey.services.reports.rows import IndexRow
from survey.services.reports.tallies import months_of
from survey.services.scope import EVERYTHING, Scope, desk_ids_within

MAX_QUARTERS = 8
MAX_ROUNDS = 6
CHART_AGENCIES = 6  # lines of the trend chart besides all desks (the palette has seven)


@dataclass(frozen=True)
class DeskTrend:
    """Share satisfied per quarter: all desks, then each agency (``None``: no evaluations)."""

    quarters: tuple[str, ...]
    overall: tuple[IndexRow | None, ...]
    agencies: tuple[tuple[str, tuple[IndexRow | None, ...]], ...]

    @property
    def counts(self) -> tuple[int, ...]:
        """n of each quarter's estimate (all desks, valid answers): printed under the quarter."""
        return tuple(0 if r is None else r.n for r in self.overall)

    def series(self, all_desks: str) -> list[tuple[str, tuple[IndexRow | None, ...]]]:
        return [(all_desks, self.overall), *self.agencies]

    def charted(self, all_desks: str, limit: int = CHART_AGENCIES
                ) -> list[tuple[str, tuple[IndexRow | None, ...]]]:
        """What the chart draws: all desks and the ``limit`` agencies with the most answers
        in the latest quarter (forty lines in one chart are neither legible nor cheap: a
        national chart took 0.6 s); the table beside it lists every agency."""
        def latest(rows: tuple[IndexRow | None, ...]) -> int:
            return rows[-1].n if rows and rows[-1] is not None else 0

        biggest = sorted(self.agencies, key=lambda a: (-latest(a[1]), a[0]))[:limit]
        kept = {name for name, _rows in biggest}
        return [(all_desks, self.overall), *(a for a in self.agencies if a[0] in kept)]

    @property
    def chart_limit(self) -> int:
        """Agencies the chart draws at most."""
        return CHART_AGENCIES

    @property
    def agencies_left_out(self) -> int:
        """Agencies in the table but not in the chart."""
        return max(0, len(self.agencies) - CHART_AGENCIES)


def trend_quarters(period: Period, limit: int = MAX_QUARTERS) -> list[Period]:
    """Up to ``limit`` quarters ending with the period's last quarter (oldest first)."""
    last = quarters_of(period)[-1]
    out = [last]
    while len(out) < limit:
        out.insert(0, out[0].previous())
    return out


def desk_trend(session: Session, period: Period, level: float = 0.95, min_n: int = 30,
               lang: str = "vi", known: dict[str, DeskReport] | None = None,
               scope: Scope = EVERYTHING) -> DeskTrend | None:
    """Each quarter as its own desk report, from the first quarter with evaluations.

    ``known`` holds reports the page has already computed with the same settings (the
    period's own quarter, the previous one): they are reused, not computed again.
    """
    known = known or {}
    quarters = trend_quarters(period)
    busy = counted_quarters(session, quarters, scope)
    # a quarter without a counted evaluation is a gap (its report would say only that):
    # not estimated, which cost each of them four queries and a hash of every desk
    reports: list[tuple[str, DeskReport | None]] = [
        (q.code, known.get(q.code) or (desk_report(session, q, level, min_n, lang, scope=scope)
                                       if q.code in busy else None))
        for q in quarters]
    while reports and (reports[0][1] is None or reports[0][1].overall is None):
        reports.pop(0)
    if not reports:
        return None
    names = sorted({a.name for _q, r in reports if r is not None for a in r.agencies})
    agencies = tuple(
        (name, tuple(None if r is None else
                     next((a.headline for a in r.agencies if a.name == name), None)
                     for _q, r in reports))
        for name in names)
    return DeskTrend(quarters=tuple(q for q, _r in reports),
                     overall=tuple(None if r is None else r.overall for _q, r in reports),
                     agencies=agencies)


def counted_quarters(session: Session, quarters: list[Period], scope: Scope = EVERYTHING
                     ) -> set[str]:
    """Codes of the quarters with at least one counted desk evaluation at the area's desks
    (one query of the monthly tallies)."""
    months = {m: q.code for q in quarters for m in months_of(q)}
    query = select(DeskTally.month).where(DeskTally.n > 0,
                                          DeskTally.month.in_(list(months)))  # type: ignore[attr-defined]
    if not scope.everything:
        query = query.where(DeskTally.desk_id.in_(desk_ids_within(scope)))  # type: ignore[attr-defined]
    return {months[m] for m in session.exec(query.distinct())}


def household_trend(session: Session, rounds: tuple[str, ...], instrument: str, target: float,
                    level: float, min_n: int, lang: str,
                    filter_by: tuple[str, str] | None,
                    known: dict[str, IndexRow | None] | None = None,
                    area: Area | None = None) -> tuple[tuple[str, IndexRow], ...]:
    """The overall index of each of the last rounds (headline rows only: no breakdowns);
    ``known`` holds the overall rows the page has already computed (reused as they are)."""
    out = []
    known = known or {}
    for code in rounds[-MAX_ROUNDS:]:
        if code in known:
            overall = known[code]
        else:
            overall = household_report(session, code, instrument, target, level, min_n, lang,
                                       filter_by, only=(), area=area).overall
        if overall is not None:
            out.append((code, overall))
    return tuple(out)

