"""Importing the sample frame: administrative units from a CSV, all or nothing.

Every estimate rests on the frame, so a frame with one wrong row is refused whole: the file
is read and checked completely (duplicate codes, unknown parents and levels, a parent that
is not above its child, non-positive sizes, cycles in the parent or successor chains) before
a single row is written, and every problem is reported with its line number.

Levels are data (``geo_level`` rows): the four levels with districts are created on first
use, and a frame may use any subset in order (province → commune → hamlet after 1 July
2025). Units abolished by a reform stay, with ``valid_to`` and a ``successor`` — the
crosswalk (:func:`crosswalk`) that maps an old unit to the unit that now holds its area, so
that trends compare like with like.

CSV (UTF-8, BOM allowed), one line per unit::

    code,name,level,parent,households,population,urban_rural,valid_from,valid_to,successor
    90,Tỉnh An Hòa,province,,,,,,,
    9001,Huyện Tân Phú,district,90,,,,,2025-06-30,
    900101,Xã Phú Lâm,commune,9001,,,rural,,,

Only ``code``, ``name`` and ``level`` are required columns. Codes already in the database
are updated (a new year's sizes), so a frame can be re-imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from survey.messages import N_, UserError
from survey.models import AdminUnit, GeoLevel
from survey.services.data.csv_text import csv_records
from survey.services.geography import ensure_levels, taken_over, today
from survey.services.scope import EVERYTHING, Scope, within

COLUMNS = (
    "code", "name", "level", "parent", "households", "population", "urban_rural",
    "valid_from", "valid_to", "successor",
)  # fmt: skip
REQUIRED = ("code", "name", "level")
URBAN_RURAL = ("urban", "rural")
MAX_SHOWN = 20


class FrameError(ValueError):
    """The frame was refused; ``problems`` lists every one (line: message)."""

    def __init__(self, source: str, problems: list[UserError]):
        self.problems = problems
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {problems[0]}{more}; nothing was imported")


@dataclass(frozen=True)
class FrameRow:
    line: int
    code: str
    name: str
    level: str
    parent: str | None
    households: int | None
    population: int | None
    urban_rural: str | None
    valid_from: date | None
    valid_to: date | None
    successor: str | None


@dataclass(frozen=True)
class FrameImport:
    """What an import did: units created and updated, and the count per level."""

    created: int
    updated: int
    by_level: dict[str, int]


def _size(text: str, name: str, line: int, problems: list[UserError]) -> int | None:
    if not text:
        return None
    try:
        value = int(text.replace(" ", ""))
    except ValueError:
        problems.append(UserError(N_("line %(line)d: %(name)s must be a whole number, got "
                                     "'%(text)s'"), line=line, name=name, text=text))
        return None
    if value <= 0:
        problems.append(UserError(N_("line %(line)d: %(name)s must be positive, got %(value)d"),
                                  line=line, name=name, value=value))
    return value


def _date(text: str, name: str, line: int, problems: list[UserError]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(UserError(N_("line %(line)d: %(name)s must be a date YYYY-MM-DD, got "
                                     "'%(text)s'"), line=line, name=name, text=text))
        return None


def parse_frame(text: str) -> tuple[list[FrameRow], list[UserError]]:
    """Rows and the problems found in the file alone (no database needed)."""
    try:
        reader = iter(csv_records(text))
    except ValueError as exc:
        return [], [exc if isinstance(exc, UserError) else UserError(str(exc))]
    header = [h.strip().lower() for h in next(reader, [])]
    problems: list[UserError] = []
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing or not header:
        found = []
        if missing:
            found.append(UserError(N_("line 1: missing column(s) %(columns)s; expected columns "
                                      "%(expected)s"), columns=", ".join(missing),
                                   expected=", ".join(COLUMNS)))
        if unknown:
            found.append(UserError(N_("line 1: unknown column(s) %(columns)s; expected columns "
                                      "%(expected)s"), columns=", ".join(unknown),
                                   expected=", ".join(COLUMNS)))
        return [], found or [UserError(N_("line 1: the header is empty; expected columns "
                                          "%(expected)s"), expected=", ".join(COLUMNS))]
    rows: list[FrameRow] = []
    for line, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.append(UserError(N_("line %(line)d: %(n)d fields, the header has %(m)d"),
                                      line=line, n=len(fields), m=len(header)))
            continue
        get = dict(zip(header, (f.strip() for f in fields), strict=True)).get
        code, name, level = get("code") or "", get("name") or "", (get("level") or "").lower()
        for column, value in (("code", code), ("name", name), ("level", level)):
            if not value:
                problems.append(UserError(N_("line %(line)d: %(column)s is empty"), line=line,
                                          column=column))
        if len(code) > 32:
            problems.append(UserError(N_("line %(line)d: code '%(code)s' is longer than 32 "
                                         "characters"), line=line, code=code))
        urban = (get("urban_rural") or "").lower() or None
        if urban is not None and urban not in URBAN_RURAL:
            problems.append(UserError(N_("line %(line)d: urban_rural must be urban or rural, got "
                                         "'%(value)s'"), line=line, value=urban))
        row = FrameRow(
            line, code, name, level, get("parent") or None,
            _size(get("households") or "", "households", line, problems),
            _size(get("population") or "", "population", line, problems), urban,
            _date(get("valid_from") or "", "valid_from", line, problems),
            _date(get("valid_to") or "", "valid_to", line, problems), get("successor") or None,
        )  # fmt: skip
        if row.valid_from and row.valid_to and row.valid_to < row.valid_from:
            problems.append(UserError(N_("line %(line)d: valid_to %(to)s is before valid_from"),
                                      line=line, to=str(row.valid_to)))
        rows.append(row)
    if not rows and not problems:
        problems.append(UserError(N_("the file has no units")))
    return rows, problems


def _chain_problems(
    rows: list[FrameRow], links: dict[str, str | None], what: str
) -> list[UserError]:
    """A cycle in ``links`` (code → next code) reachable from a row of the file."""
    problems: list[UserError] = []
    reported: set[str] = set()
    for row in rows:
        seen: list[str] = []
        code: str | None = row.code
        while code is not None and code not in seen:
            seen.append(code)
            code = links.get(code)
        if code is not None and code not in reported:
            cycle = seen[seen.index(code):]
            reported.update(cycle)
            problems.append(UserError(
                N_("line %(line)d: the parent chain forms a cycle: %(cycle)s") if what == "parent"
                else N_("line %(line)d: the successor chain forms a cycle: %(cycle)s"),
                line=row.line, cycle=" → ".join(cycle + [code])))
    return problems


def check_frame(session: Session, rows: list[FrameRow]) -> list[UserError]:
    """Problems of the file against itself and the units and levels already stored."""
    problems: list[UserError] = []
    levels = {lv.code: lv for lv in session.exec(select(GeoLevel))}
    stored = {u.code: u for u in session.exec(select(AdminUnit))}
    level_of_stored = {lv.id: lv.code for lv in levels.values()}
    first: dict[str, int] = {}
    for row in rows:
        if row.code in first:
            problems.append(UserError(N_("line %(line)d: duplicate code '%(code)s' (first on line "
                                         "%(first)d)"), line=row.line, code=row.code,
                                      first=first[row.code]))
        else:
            first[row.code] = row.line
    by_code = {row.code: row for row in rows}
    known = set(by_code) | set(stored)
    level_of = {c: level_of_stored[u.level_id] for c, u in stored.items()}
    level_of.update({r.code: r.level for r in rows})
    for row in rows:
        if row.level and row.level not in levels:
            known = ", ".join(sorted(levels, key=lambda c: levels[c].depth))
            problems.append(UserError(N_("line %(line)d: unknown level '%(level)s'; known levels: "
                                         "%(known)s"), line=row.line, level=row.level,
                                      known=known))
        if row.parent is not None:
            if row.parent not in by_code and row.parent not in stored:
                problems.append(UserError(N_("line %(line)d: unknown parent '%(parent)s' of "
                                             "'%(code)s'"), line=row.line, parent=row.parent,
                                          code=row.code))
            elif row.level in levels and level_of.get(row.parent) in levels:
                parent_level = levels[level_of[row.parent]]
                if parent_level.depth >= levels[row.level].depth:
                    problems.append(UserError(
                        N_("line %(line)d: '%(code)s' (%(level)s) cannot be under '%(parent)s' "
                           "(%(parent_level)s): a parent must be a higher level"),
                        line=row.line, code=row.code, level=row.level, parent=row.parent,
                        parent_level=parent_level.code))
        if row.successor is not None and row.successor not in known:
            problems.append(UserError(N_("line %(line)d: unknown successor '%(code)s'"),
                                      line=row.line, code=row.successor))
    parents: dict[str, str | None] = {}
    successors: dict[str, str | None] = {}
    code_of_id = {u.id: c for c, u in stored.items()}
    for code, unit in stored.items():
        parents[code] = code_of_id.get(unit.parent_id) if unit.parent_id else None
        successors[code] = code_of_id.get(unit.successor_id) if unit.successor_id else None
    for row in rows:
        parents[row.code] = row.parent
        successors[row.code] = row.successor
    problems += _chain_problems(rows, parents, "parent")
    problems += _chain_problems(rows, successors, "successor")
    return problems


def import_frame(session: Session, text: str, source: str = "frame") -> FrameImport:
    """Check the whole file, then create or update its units; raise :class:`FrameError`.

    The caller commits (or rolls back): nothing is flushed before every check has passed.
    """
    if not session.exec(select(GeoLevel)).first():
        ensure_levels(session)
    rows, problems = parse_frame(text)
    if rows:
        problems += check_frame(session, rows)
    if problems:
        raise FrameError(source, problems)
    levels = {lv.code: lv for lv in session.exec(select(GeoLevel))}
    stored = {u.code: u for u in session.exec(select(AdminUnit))}
    created = updated = 0
    units: dict[str, AdminUnit] = dict(stored)
    for row in rows:
        unit = stored.get(row.code)
        if unit is None:
            unit = AdminUnit(code=row.code, name=row.name, level_id=levels[row.level].id)
            created += 1
        else:
            updated += 1
        unit.name, unit.level_id = row.name, levels[row.level].id
        unit.households, unit.population = row.households, row.population
        unit.urban_rural, unit.valid_from, unit.valid_to = (
            row.urban_rural, row.valid_from, row.valid_to)
        session.add(unit)
        units[row.code] = unit
    session.flush()
    for row in rows:
        unit = units[row.code]
        unit.parent_id = units[row.parent].id if row.parent else None
        unit.successor_id = units[row.successor].id if row.successor else None
    session.flush()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.level] = counts.get(row.level, 0) + 1
    return FrameImport(created, updated, counts)


def crosswalk(session: Session, on: date | None = None) -> dict[str, str]:
    """Each unit's code → the code of the unit holding its area on ``on`` (default: now).

    Follows successors while a unit had ended by that date; a unit still valid maps to
    itself. Used to compare an old round's hamlets and communes with today's.
    """
    units = {u.id: u for u in session.exec(select(AdminUnit))}
    day = on or today()
    result: dict[str, str] = {}
    for unit in units.values():
        current = unit
        for _ in range(len(units)):
            if not taken_over(current, day):
                break
            assert current.successor_id is not None
            current = units[current.successor_id]
        result[unit.code] = current.code
    return result


def taken_over_units(session: Session, level: str | None = None, on: date | None = None
                     ) -> list[tuple[str, str, str, str, str, str]]:
    """(code, name, level, valid_to, today's code, today's name) of every unit another one
    took over by ``on`` (default today), of ``level`` only if given, in code order.

    A ``level`` the frame does not have is a :class:`UserError` naming the levels."""
    levels = {lv.id: lv.code for lv in session.exec(select(GeoLevel))}
    if level is not None and level not in levels.values():
        raise UserError(N_("'%(level)s' is not a level of the frame (levels: %(known)s)"),
                        level=level, known=", ".join(levels.values()))
    day = on or today()
    now = crosswalk(session, day)
    units = list(session.exec(select(AdminUnit).order_by(AdminUnit.code)))
    names = {u.code: u.name for u in units}
    return [(u.code, u.name, levels[u.level_id], str(u.valid_to), now[u.code],
             names[now[u.code]]) for u in units
            if taken_over(u, day) and (level is None or levels[u.level_id] == level)]


def frame_summary(session: Session, scope: Scope = EVERYTHING) -> list[tuple[str, int, int]]:
    """(level code, units, current units) in level order (of the area's units), for the
    admin screen and CLI."""
    levels = sorted(session.exec(select(GeoLevel)), key=lambda lv: lv.depth)
    units = list(session.exec(select(AdminUnit).where(within(scope, AdminUnit.id))))
    out = []
    for level in levels:
        here = [u for u in units if u.level_id == level.id]
        out.append((level.code, len(here), sum(1 for u in here if u.valid_to is None)))
    return out


def problems_text(problems: Iterable[UserError | str]) -> str:
    """The problems as lines (English), the first ``MAX_SHOWN`` of them, for the CLI."""
    problems = [str(p) for p in problems]
    lines = problems[:MAX_SHOWN]
    if len(problems) > MAX_SHOWN:
        lines.append(f"… and {len(problems) - MAX_SHOWN} more")
    return "\n".join(lines)
