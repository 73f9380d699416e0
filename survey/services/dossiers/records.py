"""Reading dossiers as one-stop systems export them, and storing them once per code.

A one-stop system's export names its columns in Vietnamese ("Mã hồ sơ", "Ngày hẹn trả", …)
or in plain ASCII; both are read (``COLUMNS``). Dates come as ``dd/mm/yyyy``, ``dd/mm/yyyy
HH:MM[:SS]`` or ISO 8601, in the province's time zone unless they carry their own. Every
line is checked before anything is written, and every bad line is named (up to
``MAX_ERRORS``): one bad line rejects the file, so an import is all or nothing. A dossier
already stored (by its code) is updated in place — the same file imported twice, or the
one-stop system pushing a dossier again when it is returned, changes nothing twice.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlalchemy import true
from sqlmodel import Session, col, select

from survey.messages import N_, UserError
from survey.models import Desk, as_utc, utcnow
from survey.models_dossiers import Dossier
from survey.services.data.csv_text import csv_records
from survey.services.responses import dossier_hash
from survey.services.scope import EVERYTHING, Scope, desk_ids_within, desks_within

MAX_ROWS = 200_000
MAX_ERRORS = 50
FIELDS = ("code", "procedure_code", "procedure_name", "field", "agency", "desk",
          "received_at", "due_at", "returned_at", "officer")
# what a column may be called (compared without accents, case or spaces)
COLUMNS = {
    "code": ("code", "dossier_code", "ma ho so", "so ho so", "ma_ho_so"),
    "procedure_code": ("procedure_code", "ma thu tuc", "ma_thu_tuc", "ma tthc"),
    "procedure_name": ("procedure_name", "ten thu tuc", "ten_thu_tuc", "thu tuc", "ten tthc"),
    "field": ("field", "linh vuc", "linh_vuc"),
    "agency": ("agency", "co quan", "co_quan", "don vi", "co quan giai quyet"),
    "desk": ("desk", "desk_code", "bo phan", "ma bo phan", "ma_bo_phan", "ma quay"),
    "received_at": ("received_at", "received", "ngay tiep nhan", "ngay_tiep_nhan"),
    "due_at": ("due_at", "due", "ngay hen tra", "ngay_hen_tra"),
    "returned_at": ("returned_at", "returned", "ngay tra ket qua", "ngay_tra_ket_qua",
                    "ngay tra"),
    "officer": ("officer", "officer_id", "can bo", "ma can bo", "can bo tiep nhan"),
}
REQUIRED = ("code", "procedure_code")
LIMITS = {"code": 64, "procedure_code": 64, "procedure_name": 500, "field": 200,
          "agency": 200, "desk": 32, "officer": 100}
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


@dataclass(frozen=True)
class DossierRow:
    code: str
    procedure_code: str
    procedure_name: str
    field: str
    agency: str
    desk_id: int | None
    received_at: datetime | None
    due_at: datetime | None
    returned_at: datetime | None
    officer: str


@dataclass(frozen=True)
class DossierImport:
    inserted: int
    updated: int
    unchanged: int


def plain_words(text: str) -> str:
    """Words without accents, case, underscores or extra spaces ("Ngày hẹn trả" → "ngay hen
    tra"): how a header, or a field's name against the form's choices, is compared."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.lower().replace("_", " ").split())


def _columns(header: list[str]) -> dict[str, int]:
    names = {plain_words(alias): key for key, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for at, raw in enumerate(header):
        key = names.get(plain_words(raw))
        if key is not None and key not in found:
            found[key] = at
    missing = [k for k in REQUIRED if k not in found]
    if missing:
        raise UserError(N_("the dossiers file has no '%(column)s' column (header: "
                           "%(header)s)"), column=missing[0], header=", ".join(header)[:300])
    return found


def parse_moment(text: str, zone: ZoneInfo) -> datetime | None:
    """A date or moment as the one-stop system writes it, as UTC; '' is None."""
    raw = text.strip()
    if not raw:
        return None
    if m := _DATE.match(raw):
        day, month, year, hour, minute, second = m.groups()
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0), tzinfo=zone)
    else:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
    if not 2000 <= moment.year <= 2100:
        raise ValueError("year")
    return moment.astimezone(UTC)


def check_record(record: Mapping[str, Any], desks: Mapping[str, int], zone: ZoneInfo
                 ) -> tuple[DossierRow | None, list[UserError]]:
    """One dossier (from a file line or a pushed object): the row, or what is wrong."""
    problems: list[UserError] = []
    text = {k: str(record.get(k) or "").strip() for k in FIELDS}
    for key in REQUIRED:
        if not text[key]:
            problems.append(UserError(N_("%(column)s is empty"), column=key))
    for key, most in LIMITS.items():
        if len(text[key]) > most:
            problems.append(UserError(N_("%(column)s is longer than %(most)d characters"),
                                      column=key, most=most))
    desk_id = None
    if text["desk"]:
        desk_id = desks.get(text["desk"])
        if desk_id is None:
            problems.append(UserError(N_("unknown desk '%(code)s'"), code=text["desk"][:32]))
    moments: dict[str, datetime | None] = {}
    for key in ("received_at", "due_at", "returned_at"):
        try:
            moments[key] = parse_moment(text[key], zone)
        except ValueError:
            moments[key] = None
            problems.append(UserError(N_("%(column)s '%(value)s' is not a date such as "
                                         "25/09/2025 or 25/09/2025 14:30"),
                                      column=key, value=text[key][:30]))
    received, returned = moments["received_at"], moments["returned_at"]
    if received and returned and returned < received:
        problems.append(UserError(N_("returned_at is before received_at")))
    if problems:
        return None, problems
    return DossierRow(text["code"], text["procedure_code"], text["procedure_name"],
                      text["field"], text["agency"], desk_id, received, moments["due_at"],
                      returned, text["officer"]), []


def parse_dossiers(text: str, desks: Mapping[str, int], zone: ZoneInfo) -> list[DossierRow]:
    """Every line of a file checked; a UserError lists the bad lines (all or nothing)."""
    records = iter(csv_records(text))
    try:
        header = next(records)
    except StopIteration:
        raise UserError(N_("the dossiers file is empty")) from None
    cols = _columns(header)
    rows: list[DossierRow] = []
    errors: list[tuple[int, list[UserError]]] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(records, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise UserError(N_("the dossiers file has more than %(most)d rows: split it"),
                            most=MAX_ROWS)
        record = {k: cells[at] if at < len(cells) else "" for k, at in cols.items()}
        row, problems = check_record(record, desks, zone)
        code = str(record.get("code", "")).strip().upper()
        if code and code in seen:
            problems.append(UserError(N_("dossier %(code)s is also on line %(other)d"),
                                      code=code[:64], other=seen[code]))
        seen.setdefault(code, line)
        if problems:
            errors.append((line, problems))
        elif row is not None:
            rows.append(row)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise DossierErrors(errors)
    return rows


class DossierErrors(UserError):
    """Bad lines, each named with what is wrong in it: nothing was stored. ``lines`` keeps
    the refusals themselves, so a screen says them in its reader's language."""

    def __init__(self, lines: list[tuple[int, list[UserError]]]) -> None:
        self.lines = lines
        self.problems = [f"{line}: " + "; ".join(str(p) for p in found)
                         for line, found in lines]
        super().__init__(N_("nothing was stored; fix these and send it again: %(problems)s"),
                         problems=" | ".join(self.problems))


def desk_codes(session: Session, scope: Scope = EVERYTHING) -> dict[str, int]:
    """The desks a file or a push may name: the area's (another area's desk is unknown)."""
    return {d.code: d.id for d in session.exec(select(Desk).where(desks_within(scope)))
            if d.id is not None}


def _officer_hash(secret: bytes, officer: str) -> str | None:
    if not officer:
        return None
    return hmac.new(secret, b"officer:" + officer.encode("utf-8"), "sha256").hexdigest()


def store_dossiers(session: Session, rows: Iterable[DossierRow], secret: bytes,
                   source: str, scope: Scope = EVERYTHING) -> DossierImport:
    """Insert new dossiers and update changed ones, in the caller's transaction.

    The rows are locked by code first (``FOR UPDATE`` on PostgreSQL), so two imports of the
    same dossier at once end as one row, each change counted once.
    """
    rows = list(rows)
    by_hash = {dossier_hash(secret, r.code): r for r in rows}
    existing: dict[str, Dossier] = {}
    hashes = list(by_hash)
    for start in range(0, len(hashes), 1000):
        chunk = hashes[start:start + 1000]
        for found in session.exec(select(Dossier).where(col(Dossier.code_hash).in_(chunk))
                                  .with_for_update()):
            existing[found.code_hash] = found
    if not scope.everything:
        ours = set(session.exec(select(Desk.id).where(desks_within(scope))))
        theirs = sum(1 for d in existing.values() if d.desk_id not in ours)
        if theirs:  # an area never rewrites a dossier stored for another area (or none)
            raise UserError(N_("%(n)d of these dossiers are already stored for desks outside "
                               "your area: nothing was stored"), n=theirs)
        if any(r.desk_id is None for r in rows):
            raise UserError(N_("every dossier of your area must name its desk: nothing was "
                               "stored"))
    inserted = updated = unchanged = 0
    now = utcnow()
    fresh = []
    for hashed, row in by_hash.items():
        values = {"procedure_code": row.procedure_code, "procedure_name": row.procedure_name,
                  "field": row.field, "agency": row.agency, "desk_id": row.desk_id,
                  "received_at": row.received_at, "due_at": row.due_at,
                  "returned_at": row.returned_at,
                  "officer_hash": _officer_hash(secret, row.officer)}
        old = existing.get(hashed)
        if old is None:
            fresh.append({"code_hash": hashed, "source": source, "created_at": now,
                          "updated_at": now, **values})
            continue
        if all(_same(getattr(old, k), v) for k, v in values.items()):
            unchanged += 1
            continue
        for key, value in values.items():
            setattr(old, key, value)
        old.updated_at = now
        session.add(old)
        updated += 1
    if fresh:
        inserted = _insert_new(session, fresh)
        unchanged += len(fresh) - inserted
    session.flush()
    return DossierImport(inserted, updated, unchanged)


def _same(stored: object, new: object) -> bool:
    if isinstance(stored, datetime) and isinstance(new, datetime):
        return as_utc(stored) == new
    return stored == new


def _insert_new(session: Session, fresh: list[dict[str, Any]]) -> int:
    """Insert, leaving out codes another transaction stored meanwhile; how many went in."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(Dossier).on_conflict_do_nothing(index_elements=["code_hash"]) \
        .returning(Dossier.id)
    done = 0
    for start in range(0, len(fresh), 5000):  # executemany: SQLAlchemy batches the VALUES
        done += len(conn.execute(statement, fresh[start:start + 5000]).all())  # rows that went in
    return done


def dossier_count(session: Session) -> int:
    from sqlalchemy import func

    return int(session.execute(sa_select(func.count()).select_from(Dossier)).scalar_one())


@dataclass(frozen=True)
class DossierSummary:
    total: int
    imported: int
    pushed: int
    returned: int
    deskless: int
    last_returned: datetime | None


def dossier_summary(session: Session, scope: Scope = EVERYTHING) -> DossierSummary:
    """What is stored (of the area's desks), in one query: for the import screen."""
    from sqlalchemy import case, func

    total, imported, pushed, returned, deskless, last = session.exec(sa_select(  # type: ignore[call-overload]
        func.count(),
        func.coalesce(func.sum(case((Dossier.source == "import", 1), else_=0)), 0),
        func.coalesce(func.sum(case((Dossier.source == "api", 1), else_=0)), 0),
        func.count(Dossier.returned_at), func.coalesce(func.sum(case(
            (col(Dossier.desk_id).is_(None), 1), else_=0)), 0),
        func.max(Dossier.returned_at)).where(
        true() if scope.everything else col(Dossier.desk_id).in_(desk_ids_within(scope)))
        ).one()
    return DossierSummary(int(total), int(imported), int(pushed), int(returned), int(deskless),
                          as_utc(last) if last else None)

