"""Dossier volumes per desk and period: imported from the one-stop-desk software's CSV.

The file has one row per desk and period: ``desk`` (desk code), ``period`` (``2025-07``,
``2025-Q3`` or ``2025``) and ``dossiers`` (dossiers handled). Vietnamese headers
(``ma_quay``, ``ky``, ``so_ho_so``) are accepted too. The whole file is checked before
anything is written: one bad row rejects the import and names its line.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from survey.messages import N_, UserError
from survey.models import Desk
from survey.models_reports import DossierVolume
from survey.services.data.csv_text import csv_records
from survey.services.reports.period import Period, parse_period
from survey.services.scope import EVERYTHING, Scope, desk_ids_within, desks_within

HEADERS = {
    "desk": ("desk", "desk_code", "ma_quay", "mã quầy"),
    "period": ("period", "ky", "kỳ"),
    "dossiers": ("dossiers", "so_ho_so", "số hồ sơ", "count"),
}
MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class VolumeImport:
    inserted: int
    updated: int


@dataclass(frozen=True)
class DeskVolume:
    """Dossiers of a desk in a report period; ``complete`` when the rows cover all of it."""

    dossiers: int
    complete: bool


def _columns(header: list[str]) -> dict[str, int]:
    clean = [h.strip().lower() for h in header]
    found = {}
    for key, names in HEADERS.items():
        hits = [i for i, h in enumerate(clean) if h in names]
        if not hits:
            raise UserError(N_("the volumes file has no '%(column)s' column (header: "
                               "%(header)s)"), column=key, header=", ".join(header))
        found[key] = hits[0]
    return found


def parse_volumes(text: str, desks: dict[str, int]) -> list[tuple[int, Period, int]]:
    """(desk id, period, dossiers) per row, or a ValueError naming the first bad line."""
    reader = iter(csv_records(text))
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(N_("the volumes file is empty")) from None
    cols = _columns(header)
    out: list[tuple[int, Period, int]] = []
    seen: set[tuple[int, str]] = set()
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            code = row[cols["desk"]].strip()
            period = parse_period(row[cols["period"]])
            raw = row[cols["dossiers"]].strip().replace(".", "").replace(",", "")
        except IndexError:
            raise UserError(N_("line %(line)d: too few columns"), line=line) from None
        except UserError as exc:
            raise UserError(N_("line %(line)d: %(problem)s"), line=line, problem=exc) from None
        if code not in desks:
            raise UserError(N_("line %(line)d: unknown desk '%(code)s'"), line=line, code=code)
        if not raw.isdigit():
            raise UserError(N_("line %(line)d: dossiers must be a whole number ≥ 0, not "
                               "'%(raw)s'"), line=line, raw=raw)
        key = (desks[code], period.code)
        if key in seen:
            raise UserError(N_("line %(line)d: desk %(code)s and period %(period)s appear "
                               "twice"), line=line, code=code, period=period.code)
        seen.add(key)
        out.append((desks[code], period, int(raw)))
    return out


def import_volumes(session: Session, text: str, source: str = "",
                   scope: Scope = EVERYTHING) -> VolumeImport:
    """Insert or replace the volumes of a CSV text, in the caller's transaction; only for
    the area's desks (another area's desk code is refused as unknown)."""
    if len(text) > MAX_BYTES:
        raise UserError(N_("the volumes file is too large (over 5 MB)"))
    desks = {d.code: d.id for d in session.exec(select(Desk).where(desks_within(scope)))
             if d.id is not None}
    rows = parse_volumes(text, desks)
    existing = {(v.desk_id, v.period): v for v in session.exec(select(DossierVolume))}
    inserted = updated = 0
    for desk_id, period, dossiers in rows:
        old = existing.get((desk_id, period.code))
        if old is None:
            session.add(DossierVolume(desk_id=desk_id, period=period.code,
                                      period_start=period.start, period_end=period.end,
                                      dossiers=dossiers, source=source[:200]))
            inserted += 1
        else:
            old.dossiers, old.source = dossiers, source[:200]
            session.add(old)
            updated += 1
    session.flush()
    return VolumeImport(inserted, updated)


def volumes_in(session: Session, period: Period) -> dict[int, DeskVolume]:
    """Dossiers per desk inside ``period``; rows overlapping its edges are left out.

    A desk whose rows cover only part of the period (two months of a quarter) is marked
    incomplete, so coverage is never computed against a partial count silently.
    """
    rows = session.exec(select(DossierVolume).where(
        DossierVolume.period_start >= period.start, DossierVolume.period_end <= period.end))
    total: dict[int, int] = {}
    days: dict[int, int] = {}
    for v in rows:
        total[v.desk_id] = total.get(v.desk_id, 0) + v.dossiers
        days[v.desk_id] = days.get(v.desk_id, 0) + (v.period_end - v.period_start).days
    span = (period.end - period.start).days
    return {d: DeskVolume(total[d], days[d] >= span) for d in total}


def list_volumes(session: Session, scope: Scope = EVERYTHING) -> list[tuple[str, str, int]]:
    """(desk code, period, dossiers) of the area's desks for display, newest period first."""
    desks = {d.id: d.code for d in session.exec(select(Desk).where(desks_within(scope)))}
    rows = session.exec(select(DossierVolume).where(
        DossierVolume.desk_id.in_(desk_ids_within(scope))).order_by(  # type: ignore[attr-defined]
        DossierVolume.period_start.desc(), DossierVolume.desk_id))  # type: ignore[attr-defined]
    return [(desks.get(v.desk_id, "?"), v.period, v.dossiers) for v in rows]
