"""Administrative geography as data: levels and units, walked up to name a unit's ancestors.

Two maps live in one table. A reform (1 July 2025: 63 provinces became 34, districts were
abolished, communes merged) ends units with ``valid_to`` and names the unit that took each
one over (``successor``); nothing is deleted, so every old questionnaire keeps the hamlet
it was collected in. *The map as surveyed* walks parents; *today's map* walks a taken-over
unit to its successor instead (:func:`todays_parent`), so Hà Giang's hamlets of a 2024
round sit in today's Tuyên Quang and a trend across the reform compares the same area.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from survey.models import AdminUnit, GeoLevel

LEVELS_WITH_DISTRICTS = (
    ("province", "Tỉnh/Thành phố", "Province"),
    ("district", "Quận/Huyện", "District"),
    ("commune", "Xã/Phường", "Commune"),
    ("hamlet", "Thôn/Ấp/Khu phố", "Hamlet"),
)
LEVELS_2025 = (LEVELS_WITH_DISTRICTS[0], LEVELS_WITH_DISTRICTS[2], LEVELS_WITH_DISTRICTS[3])


def ensure_levels(
    session: Session, levels: Iterable[tuple[str, str, str]] = LEVELS_WITH_DISTRICTS
) -> dict[str, GeoLevel]:
    """Create the named levels in order (depth = position) if missing."""
    found = {lv.code: lv for lv in session.exec(select(GeoLevel))}
    for depth, (code, name_vi, name_en) in enumerate(levels):
        if code not in found:
            level = GeoLevel(code=code, name_vi=name_vi, name_en=name_en, depth=depth)
            session.add(level)
            found[code] = level
    session.flush()
    return found


def today() -> date:
    """The date that decides which units have ended: UTC's, as the database's
    ``CURRENT_DATE`` in :data:`survey.services.scope.SUBTREE_SQL`, so both agree."""
    return datetime.now(UTC).date()


def taken_over(unit: AdminUnit, on: date) -> bool:
    """Whether another unit holds this one's area on ``on``: it has ended and names its
    successor. An ended unit with no successor (a district abolished in 2025) is not
    taken over; it stays where it was, under its parent, for the rounds that named it."""
    return unit.successor_id is not None and unit.valid_to is not None and unit.valid_to < on


def todays_parent(unit: AdminUnit, on: date) -> int | None:
    """The unit above this one on today's map: its successor when taken over (which then
    stands in its place), else its parent."""
    return unit.successor_id if taken_over(unit, on) else unit.parent_id


@dataclass(frozen=True)
class Frame:
    """Every level (id → code) and unit (id → row), read once for several tables."""

    levels: dict[int, str]
    units: dict[int, AdminUnit]


def read_frame(session: Session) -> Frame:
    """The levels and units, in two queries: pass it to :func:`ancestry_table` and
    :func:`lost_levels` when a caller needs several of them (a national frame is 100,000
    units)."""
    return Frame({lv.id: lv.code for lv in session.exec(select(GeoLevel))},  # type: ignore[misc]
                 {u.id: u for u in session.exec(select(AdminUnit))})  # type: ignore[misc]


def lost_levels(session: Session, on: date | None = None, frame: Frame | None = None
                ) -> set[str]:
    """Levels that today's map no longer has (districts since 2025): every unit ended."""
    day = on or today()
    frame = frame or read_frame(session)
    found: dict[str, bool] = {}
    for unit in frame.units.values():
        code = frame.levels[unit.level_id]
        found[code] = found.get(code, False) or unit.valid_to is None or unit.valid_to >= day
    return {code for code, current in found.items() if not current}


def ancestry_table(session: Session, field: str = "name", todays_map: bool = False,
                   on: date | None = None, frame: Frame | None = None
                   ) -> dict[int, dict[str, str]]:
    """For every unit, the names (or ``field``, e.g. ``"code"``) of itself and its
    ancestors keyed by level code.

    ``todays_map``: where the unit lies on the map of ``on`` (default :func:`today`): a
    taken-over unit is replaced by its successor, so an old hamlet of Hà Giang reads
    province = today's Tuyên Quang. Levels today's map no longer has (districts) keep the
    name the unit had when surveyed, so an old round can still be broken down by them.

    Built once per export in memory (a province has a few thousand units), which is
    far cheaper than recursive SQL per response. ``frame``: the units already read.
    """
    frame = frame or read_frame(session)
    levels, units = frame.levels, frame.units
    cache: dict[int, dict[str, str]] = {}
    moved: dict[int, dict[str, str]] = {}
    day = on or today()

    def resolve(unit_id: int) -> dict[str, str]:
        if unit_id in cache:
            return cache[unit_id]
        unit = units[unit_id]
        names = dict(resolve(unit.parent_id)) if unit.parent_id is not None else {}
        names[levels[unit.level_id]] = getattr(unit, field)
        cache[unit_id] = names
        return names

    def resolve_today(unit_id: int, seen: frozenset[int] = frozenset()) -> dict[str, str]:
        if unit_id in moved:
            return moved[unit_id]
        unit = units[unit_id]
        up = todays_parent(unit, day)
        if up is not None and up in seen:  # a cycle in bad data: stop, as surveyed
            return resolve(unit_id)
        names = dict(resolve_today(up, seen | {unit_id})) if up is not None else {}
        if not taken_over(unit, day):
            names[levels[unit.level_id]] = getattr(unit, field)
        moved[unit_id] = names
        return names

    if todays_map:
        lost = lost_levels(session, day, frame)
        table = {}
        for unit_id in units:
            names = dict(resolve_today(unit_id))
            for level, name in resolve(unit_id).items():
                if level in lost:  # a level today's map has lost: as surveyed
                    names.setdefault(level, name)
            table[unit_id] = names
        return table
    for unit_id in units:
        resolve(unit_id)
    return cache


def distinct_names(names: dict[int, dict[str, str]], codes: dict[int, dict[str, str]],
                   order: Iterable[str]) -> dict[int, dict[str, str]]:
    """The same table with every name a reader can tell apart: a name two units share
    ("Phường 1" in two districts, "Thôn 1" in every commune) gets the names above it, the
    nearest first, until each reads differently ("Thôn 1, Xã Số 3, Tỉnh Tuyên Quang"); the
    code in brackets if even that is not enough. A breakdown or a filter by name then
    never puts two units in one row. Labels depend on the frame, not on a round's data, so
    one unit reads the same in every round.

    ``names`` and ``codes``: :func:`ancestry_table` by name and by code (the same map);
    ``order``: the level codes from the top.
    """
    levels = list(order)
    relabel: dict[tuple[str, str], str] = {}
    for k, level in enumerate(levels):
        groups: dict[str, dict[str, int]] = {}  # name → code → one unit at or below it
        for unit, named in names.items():
            if level in named:
                groups.setdefault(named[level], {}).setdefault(codes[unit][level], unit)
        above = levels[:k][::-1]
        for name, by_code in groups.items():
            if len(by_code) < 2:
                continue
            labels = {c: f"{name} ({c})" for c in by_code}
            for depth in range(1, len(above) + 1):
                tried = {c: ", ".join([name, *(names[u][a] for a in above[:depth]
                                               if names[u].get(a))])
                         for c, u in by_code.items()}
                if len(set(tried.values())) == len(tried):
                    labels = tried
                    break
            relabel.update({(level, c): label for c, label in labels.items()})
    if not relabel:
        return names
    return {unit: {level: relabel.get((level, codes[unit][level]), name)
                   for level, name in named.items()} for unit, named in names.items()}
