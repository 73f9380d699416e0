"""Administrative geography as data: levels and units, walked up to name a unit's ancestors."""

from __future__ import annotations

from collections.abc import Iterable

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


def ancestry_table(session: Session, field: str = "name") -> dict[int, dict[str, str]]:
    """For every unit, the names (or ``field``, e.g. ``"code"``) of itself and its
    ancestors keyed by level code.

    Built once per export in memory (a province has a few thousand units), which is
    far cheaper than recursive SQL per response.
    """
    levels = {lv.id: lv.code for lv in session.exec(select(GeoLevel))}
    units = {u.id: u for u in session.exec(select(AdminUnit))}
    cache: dict[int, dict[str, str]] = {}

    def resolve(unit_id: int) -> dict[str, str]:
        if unit_id in cache:
            return cache[unit_id]
        unit = units[unit_id]
        names = dict(resolve(unit.parent_id)) if unit.parent_id is not None else {}
        names[levels[unit.level_id]] = getattr(unit, field)
        cache[unit_id] = names
        return names

    for unit_id in units:
        resolve(unit_id)
    return cache
