"""What supervisors read about a desk: recent evaluations, and consented contacts.

Contacts are personal data: they are read only here, only for a role the caller has
checked, and the caller records the export in the audit trail (without the numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, select

from survey.instruments import Instrument
from survey.instruments.values import code_text
from survey.models import Desk
from survey.services.scope import EVERYTHING, Scope, desks_within

RECENT_ITEMS = ("service_field", "overall", "on_time", "staff_attitude", "comment")


@dataclass(frozen=True)
class EvaluationRow:
    response_id: int
    created_at: datetime
    answers: dict[str, str]
    has_contact: bool


@dataclass(frozen=True)
class ContactRow:
    response_id: int
    desk_code: str
    created_at: datetime
    phone: str
    overall: str
    comment: str


def answer_names(form: Instrument, lang: str) -> dict[str, dict[str, str]]:
    """Item -> code -> the answer's words (what the citizen chose, not its code)."""
    out: dict[str, dict[str, str]] = {}
    for code in RECENT_ITEMS:
        if not form.has_item(code):
            continue
        item = form.item(code)
        choices = item.choices or (form.scale if item.type == "scale" else ())
        out[code] = {code_text(c.code): c.label.get(lang) or c.label["vi"] for c in choices}
    return out


def _value(num: float | None, txt: str | None) -> str:
    if txt is not None:
        return txt
    if num is None:
        return ""
    return str(int(num)) if float(num).is_integer() else str(num)


def _moment(value: datetime | str) -> datetime:
    """Raw SQL on SQLite gives datetimes back as text; PostgreSQL as datetimes."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def recent_evaluations(session: Session, desk: Desk, limit: int = 25) -> list[EvaluationRow]:
    """The desk's latest evaluations, newest first, with their key answers."""
    conn = session.connection()
    heads = conn.execute(text(
        "SELECT r.id, r.created_at, c.id IS NOT NULL FROM response r "
        "LEFT JOIN desk_contact c ON c.response_id = r.id "
        "WHERE r.desk_id = :desk ORDER BY r.created_at DESC, r.id DESC LIMIT :n"
    ), {"desk": desk.id, "n": limit}).all()
    if not heads:
        return []
    ids = [row[0] for row in heads]
    answers: dict[int, dict[str, str]] = {rid: {} for rid in ids}
    placeholders = ", ".join(f":i{k}" for k in range(len(ids)))
    params = {f"i{k}": rid for k, rid in enumerate(ids)}
    for rid, code, num, txt in conn.execute(text(
        "SELECT response_id, item_code, value_num, value_text FROM answer "
        f"WHERE response_id IN ({placeholders})"
    ), params):
        if code in RECENT_ITEMS:
            answers[rid][code] = _value(num, txt)
    return [EvaluationRow(rid, _moment(created), answers[rid], bool(contact))
            for rid, created, contact in heads]


def contact_rows(session: Session, desk_code: str | None = None,
                 scope: Scope = EVERYTHING) -> list[ContactRow]:
    """Every consented contact at the area's desks (optionally one desk), for follow-up
    calls."""
    ours = None if scope.everything else set(
        session.exec(select(Desk.code).where(desks_within(scope))))
    rows = session.connection().execute(text(
        "SELECT r.id, d.code, r.created_at, c.phone, "
        "  (SELECT value_num FROM answer a WHERE a.response_id = r.id "
        "   AND a.item_code = 'overall'), "
        "  (SELECT value_text FROM answer a WHERE a.response_id = r.id "
        "   AND a.item_code = 'comment') "
        "FROM desk_contact c JOIN response r ON r.id = c.response_id "
        "JOIN desk d ON d.id = r.desk_id "
        "WHERE (CAST(:desk AS VARCHAR) IS NULL OR d.code = :desk) ORDER BY r.id"
    ), {"desk": desk_code}).all()
    return [ContactRow(rid, code, _moment(created), phone, _value(overall, None), comment or "")
            for rid, code, created, phone, overall, comment in rows
            if ours is None or code in ours]
