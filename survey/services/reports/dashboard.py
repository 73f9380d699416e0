"""The analyst's dashboard: household index, desk evaluations and comparisons, in one object.

The web page, the printable report and the tests all read the same :class:`Dashboard`, so
a number can only appear one way. Household estimates stay within one survey round; the
period (month, quarter, year) selects the desk evaluations and, by its year, the round.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

from survey.messages import N_, UserError
from survey.models import DeskTally
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.reports import cache
from survey.services.reports.compare import Difference, compare_rows
from survey.services.reports.desk import DeskReport, desk_report
from survey.services.reports.household import (
    BREAKDOWNS,
    PRIORITY_LIST,
    SELECTIONS,
    Area,
    HouseholdReport,
    household_report,
    report_items,
)
from survey.services.reports.period import Period, parse_period
from survey.services.reports.round_data import (
    CODE,
    RoundData,
    fingerprint,
    load_round,
    prefetch,
)
from survey.services.reports.rows import IndexRow
from survey.services.reports.trend import DeskTrend, desk_trend, household_trend
from survey.services.reports.words import T
from survey.services.sample.rounds import pick_round, rounds_with_data, visible_rounds
from survey.services.scope import EVERYTHING, Scope

BREAKDOWN_CHOICES = BREAKDOWNS + SELECTIONS


@dataclass(frozen=True)
class DashboardOptions:
    period: str | None = None
    round_code: str | None = None
    instrument: str = "sipas_services"
    target: float = 0.80
    level: float = 0.95
    min_n: int = 30
    lang: str = "vi"
    district: str | None = None
    commune: str | None = None
    weighted: bool = False
    breakdown: str | None = None  # one breakdown to show (None: all of them)
    area: Scope = EVERYTHING  # the reader's area: its desks, and a domain of the round

    def __post_init__(self) -> None:
        if not 0 < self.target < 1:
            raise ValueError(f"target must be a share between 0 and 1 (got {self.target})")
        if not 0.5 < self.level < 1:
            raise ValueError(f"confidence level must be between 0.5 and 1 (got {self.level})")
        if self.min_n < 1:
            raise ValueError(f"minimum n must be at least 1 (got {self.min_n})")
        if self.breakdown is not None and self.breakdown not in BREAKDOWN_CHOICES:
            raise ValueError(f"breakdown {self.breakdown!r} is not one of "
                             f"{', '.join(BREAKDOWN_CHOICES)}")

    @property
    def filter_by(self) -> tuple[str, str] | None:
        if self.commune:
            return ("commune", self.commune)
        if self.district:
            return ("district", self.district)
        return None

    @property
    def household_area(self) -> Area | None:
        a = self.area
        return None if a.everything else (a.level, a.code, a.name)


@dataclass(frozen=True)
class Dashboard:
    options: DashboardOptions
    period: Period
    household: HouseholdReport
    desk: DeskReport
    previous_round: str | None = None
    round_changes: tuple[Difference, ...] = ()
    previous_period: Period | None = None
    desk_changes: tuple[Difference, ...] = ()
    rounds: tuple[str, ...] = ()
    household_trend: tuple[tuple[str, IndexRow], ...] = ()
    desk_trend: DeskTrend | None = None
    areas: dict[str, tuple[str, ...]] = field(default_factory=dict)
    periods: tuple[str, ...] = ()


def evaluation_span(session: Session) -> tuple[datetime | None, datetime | None]:
    """The (UTC) months of the first and the last counted desk evaluation, as their first
    days (None, None: none yet).

    Read from the monthly tallies, which count exactly the counted evaluations: a minimum
    and maximum over a million evaluations' rows cost a quarter of a second per page. Both
    uses need the month only (the period filter's choices, the default quarter).
    """
    first, last = session.exec(select(func.min(DeskTally.month), func.max(DeskTally.month))
                               .where(DeskTally.n > 0)).one()
    if first is None or last is None:
        return None, None
    return (datetime.strptime(first, "%Y-%m").replace(tzinfo=UTC),
            datetime.strptime(last, "%Y-%m").replace(tzinfo=UTC))


def default_period(session: Session) -> Period:
    """The quarter of the latest counted desk evaluation (or of today when there is none):
    a held or rejected burst does not open the dashboard on an empty quarter."""
    latest = evaluation_span(session)[1]
    day = latest.date() if latest is not None else date.today()
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def round_for(session: Session, period: Period, round_code: str | None,
              scope: Scope = EVERYTHING) -> str:
    """The named round, else the latest round of the period's year that has verified data,
    else the latest round with verified data (else the latest round); of the area's."""
    if round_code:
        return pick_round(session, round_code, scope).code
    same_year = [r for r in rounds_with_data(session, scope) if r.year == period.year]
    return same_year[0].code if same_year else pick_round(session, None, scope).code


def build_dashboard(session: Session, options: DashboardOptions,
                    while_reading: Callable[[DeskReport, DeskTrend | None], object] | None
                    = None) -> Dashboard:
    """Compute everything the dashboard and the printable report show.

    ``while_reading`` is called with the desk report and its trend as soon as they are
    computed if the household round is still being read on another connection (the page
    draws the desk charts then, for the browser's request that will follow: the
    database's share of the read and the drawing overlap, and a page whose round is read
    already does not wait for a drawing).
    """
    period = parse_period(options.period) if options.period else default_period(session)
    common = dict(level=options.level, min_n=options.min_n, lang=options.lang)
    only = None if options.breakdown is None else (options.breakdown, PRIORITY_LIST)
    pairs: set[tuple[str, str]] = set()
    area, scope = options.household_area, options.area
    visible = visible_rounds(session, scope)
    if not visible and not options.round_code:
        # A province that only collects at desks (or has not drawn its sample yet) still
        # gets its desk results; the household part says why it is empty.
        code = ""
        hh = HouseholdReport(round_code="", round_name="", instrument=options.instrument,
                             target=options.target, level=options.level, min_n=options.min_n,
                             scope="", problem=T.get(options.lang, T["vi"])["no_round"])
    else:
        code = round_for(session, period, options.round_code, scope)
    # a round nobody has asked about yet is read while the desk results are estimated
    reading = _read_ahead(session, code, options.instrument, area) if code else None
    try:
        desk = desk_report(session, period, weighted=options.weighted, scope=scope, **common)
        prev_period = period.previous()
        before = desk_report(session, prev_period, weighted=options.weighted, scope=scope,
                             **common)
        # the trend is unweighted: the page's own reports are reused unless weighted
        trend = desk_trend(session, period, options.level, options.min_n, options.lang,
                           known={} if options.weighted else
                           {desk.period.code: desk, before.period.code: before},
                           scope=scope)
        if while_reading is not None and reading is not None and reading.is_alive():
            while_reading(desk, trend)
    finally:  # never leave a read running past the page, even when the page fails
        if reading is not None:
            reading.join()
    if code:
        pairs = _area_pairs(session, code, options.instrument, area)  # once: checks, choices
        _check_area(pairs, options)
        hh = household_report(session, code, options.instrument, options.target,
                              filter_by=options.filter_by, only=only, area=area, **common)
    codes = [r.code for r in visible]
    prev_code = codes[codes.index(code) - 1] if code in codes[1:] else None
    round_changes: tuple[Difference, ...] = ()
    overalls: dict[str, IndexRow | None] = {code: hh.overall} if code else {}
    if prev_code and hh.overall is not None:
        prev = household_report(session, prev_code, options.instrument, options.target,
                                filter_by=options.filter_by, only=(), area=area, **common)
        overalls[prev_code] = prev.overall
        if prev.overall is not None:
            round_changes = tuple(compare_rows([hh.overall, *hh.elements],
                                               [prev.overall, *prev.elements], options.level))
    desk_changes: tuple[Difference, ...] = ()
    if desk.overall is not None and before.overall is not None:
        now = [desk.overall] + [_keyed(d.key, d.headline) for d in desk.desks]
        then = [before.overall] + [_keyed(d.key, d.headline) for d in before.desks]
        desk_changes = tuple(compare_rows(now, then, options.level))
    rounds = tuple(codes)
    return Dashboard(
        options=options, period=period, household=hh, desk=desk, previous_round=prev_code,
        round_changes=round_changes, previous_period=prev_period, desk_changes=desk_changes,
        rounds=rounds,
        household_trend=household_trend(session, rounds, options.instrument, options.target,
                                        options.level, options.min_n, options.lang,
                                        options.filter_by, known=overalls, area=area),
        desk_trend=trend,
        areas=_areas(pairs, options) if code else {},
        periods=evaluation_periods(session),
    )


def _keyed(key: str, row: IndexRow) -> IndexRow:
    from dataclasses import replace

    return replace(row, code=key, label=key)


def _areas_question(stamp: tuple[str, ...], area: Area | None) -> tuple:
    """What the filter's choices are kept under (:func:`_read_ahead` asks if they are)."""
    return (*stamp, area)


def _read_ahead(session: Session, round_code: str, instrument: str, area: Area | None
                ) -> threading.Thread | None:
    """Start reading the round (:func:`prefetch`) unless its filter choices are kept on
    disk: then the household results most likely are too, and nothing needs reading."""
    stamp = fingerprint(session, round_code, instrument)
    if cache.has("areas", _areas_question(stamp, area)):
        return None
    form = parse_stored(latest_version(session, instrument).source_text)
    return prefetch(session, round_code, instrument, stamp, report_items(form))


def _area_pairs(session: Session, round_code: str, instrument: str,
                area: Area | None = None) -> set[tuple[str, str]]:
    """(district, commune) names of the round's verified questionnaires (in the area).

    Kept on disk under the round's fingerprint like the reports (the question is the same
    while the data is). When it is not there, the round is read as the household report
    reads it (:func:`load_round`, kept in the process): the report that follows then finds
    it read, instead of the round being read twice (0.4 s at 37,000 questionnaires).
    """
    stamp = fingerprint(session, round_code, instrument)

    def read() -> set[tuple[str, str]]:
        form = parse_stored(latest_version(session, instrument).source_text)
        return _read_area_pairs(load_round(session, round_code, instrument, key=stamp,
                                           items=report_items(form)), area)

    return cache.remember("areas", _areas_question(stamp, area), read)


def _read_area_pairs(data: RoundData, area: Area | None) -> set[tuple[str, str]]:
    n = data.n
    districts = data.text["district"].tolist() if "district" in data.text else [""] * n
    communes = data.text["commune"].tolist() if "commune" in data.text else [""] * n
    ours = [True] * n if area is None else \
        (data.text.get(CODE + area[0], np.full(n, "", dtype=object)) == area[1]).tolist()
    return {(d or "", c or "")
            for d, c, mine in zip(districts, communes, ours, strict=True) if mine}


def _areas(pairs: set[tuple[str, str]], options: DashboardOptions
           ) -> dict[str, tuple[str, ...]]:
    """District and commune names with verified questionnaires (the filter's choices); the
    communes only of the chosen district, so that the two filters never contradict."""
    communes = {c for d, c in pairs if c and (not options.district or d == options.district)}
    level = options.area.level
    return {"district": tuple(sorted({d for d, _c in pairs if d}))
            if level in ("", "province") else (),  # an area's own level is not a choice
            "commune": tuple(sorted(communes)) if level != "commune" else ()}


def _check_area(pairs: set[tuple[str, str]], options: DashboardOptions) -> None:
    """A commune outside the chosen district is refused, never silently ignored."""
    if options.district and options.commune and \
            (options.district, options.commune) not in pairs:
        raise UserError(N_("%(commune)s is not in %(district)s: choose a commune of that "
                           "district, or the whole province"),
                        commune=options.commune, district=options.district)


def evaluation_periods(session: Session) -> tuple[str, ...]:
    """Years, quarters and months from the first counted desk evaluation to the last, newest
    first (the period filter's choices: only periods that can hold data)."""
    first, last = evaluation_span(session)
    if first is None or last is None:
        return ()
    out: list[str] = []
    for year in range(last.year, first.year - 1, -1):
        out.append(str(year))
        for quarter in range(4, 0, -1):
            if (year, quarter) <= (last.year, (last.month - 1) // 3 + 1) and \
                    (year, quarter) >= (first.year, (first.month - 1) // 3 + 1):
                out.append(f"{year}-Q{quarter}")
        for month in range(12, 0, -1):
            if (first.year, first.month) <= (year, month) <= (last.year, last.month):
                out.append(f"{year}-{month:02d}")
    return tuple(out)
