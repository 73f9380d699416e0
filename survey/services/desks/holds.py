"""Holding evaluations beyond a desk's or an address's normal rate, instead of refusing them.

Refusing (HTTP 429) lets anyone silence a desk: six addresses used up a per-desk limit and
a genuine citizen from a seventh was turned away. So nothing is refused for its rate: an
evaluation beyond the normal rate is stored with review status ``held``, which keeps it out
of every estimate until a supervisor releases it (back to ``received``) or rejects it. A
citizen behind a carrier's shared address is therefore never locked out — at worst held,
and visible in the burst report.

The counts come from the database (``desk_signal``: keyed address hashes and times), so
they hold across every worker and host without a shared cache. On PostgreSQL concurrent
submissions from one address are serialised with a transaction-scoped advisory lock, so
two of them cannot both count as the first; on SQLite every write transaction is already
serial. A held evaluation's dossier hash is parked on its signal, not on the response, so
a burst of made-up dossier codes cannot pre-burn a real citizen's dossier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, bindparam, func, text
from sqlmodel import Session, select

from survey.models import Desk, Response, ReviewStatus, utcnow
from survey.models_desk import DeskSignal
from survey.services.audit import record
from survey.services.locks import locked, serialise
from survey.services.scope import EVERYTHING, Scope, desk_ids_within, desks_within

DESK_ADDRESS = "desk_address"  # one address at one desk
ADDRESS = "address"  # one address across desks (a burst of dossier codes, say)
DESK = "desk"  # one desk from everywhere


@dataclass(frozen=True)
class HoldRules:
    """Most evaluations counted within ``window`` before further ones are held.

    A desk serves a citizen every few minutes; a family may share one phone. The defaults
    leave genuine traffic alone and hold what only stuffing produces.
    """

    desk_address: int = 3
    address: int = 20
    desk: int = 60
    window: timedelta = timedelta(minutes=10)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HoldRules:
        try:
            rules = cls(int(config.get("DESK_HOLD_DESK_ADDRESS", cls.desk_address)),
                        int(config.get("DESK_HOLD_ADDRESS", cls.address)),
                        int(config.get("DESK_HOLD_DESK", cls.desk)),
                        timedelta(minutes=float(config.get("DESK_HOLD_WINDOW_MINUTES", 10))))
        except (TypeError, ValueError):
            raise ValueError("DESK_HOLD_* settings must be whole numbers") from None
        if min(rules.desk_address, rules.address, rules.desk) < 1 or \
                rules.window <= timedelta(0):
            raise ValueError("DESK_HOLD_* settings must be at least 1")
        return rules


@dataclass(frozen=True)
class HeldEvaluation:
    response_id: int
    desk_code: str
    desk_name: str
    reason: str
    created_at: datetime


# The three counts in one round trip, each stopped at its threshold: a flood must not make its
# own requests dearer (an unbounded count would grow with the attacker's volume).
_RECENT = "created_at >= :since AND created_at <= :until AND hold_reason IS NULL"
COUNTS = text(
    "SELECT"
    f" (SELECT count(*) FROM (SELECT 1 FROM desk_signal WHERE desk_id = :desk AND"
    f"  address_hash = :address AND {_RECENT} LIMIT :n_desk_address) AS a),"
    f" (SELECT count(*) FROM (SELECT 1 FROM desk_signal WHERE address_hash = :address AND"
    f"  {_RECENT} LIMIT :n_address) AS b),"
    f" (SELECT count(*) FROM (SELECT 1 FROM desk_signal WHERE desk_id = :desk AND"
    f"  {_RECENT} LIMIT :n_desk) AS c)"
).bindparams(bindparam("since", type_=DateTime(timezone=True)),  # stored as the ORM stores it
             bindparam("until", type_=DateTime(timezone=True)))


def hold_reason(session: Session, desk_id: int, address_hash: str, rules: HoldRules,
                now: datetime | None = None) -> str | None:
    """Why a new evaluation from this address at this desk should be held, or None.

    ``now``: the moment the evaluation was given, when it is not now (a kiosk's queue sent
    after a network drop): the counts are then of the window before that moment only, so
    evaluations given later and already stored do not count against it.
    """
    serialise(session, address_hash)
    moment = now or utcnow()
    until = moment if now is not None else moment + timedelta(days=1)  # live: all stored
    desk_address, address, desk = session.execute(COUNTS, {
        "desk": desk_id, "address": address_hash, "since": moment - rules.window,
        "until": until,
        "n_desk_address": rules.desk_address, "n_address": rules.address,
        "n_desk": rules.desk}).one()
    if desk_address >= rules.desk_address:
        return DESK_ADDRESS
    if address >= rules.address:
        return ADDRESS
    if desk >= rules.desk:
        return DESK
    return None


def held_evaluations(session: Session, limit: int = 500,
                     scope: Scope = EVERYTHING) -> list[HeldEvaluation]:
    """Evaluations at the area's desks waiting for a supervisor, oldest first."""
    rows = session.exec(
        select(Response.id, Desk.code, Desk.name, DeskSignal.hold_reason, Response.created_at)
        .join(DeskSignal, DeskSignal.response_id == Response.id)
        .join(Desk, Desk.id == DeskSignal.desk_id)
        .where(Response.status == ReviewStatus.held.value, desks_within(scope))
        .order_by(Response.id).limit(limit)
    ).all()
    return [HeldEvaluation(int(rid), code, name, reason or "", created)
            for rid, code, name, reason, created in rows]


def count_held(session: Session, scope: Scope = EVERYTHING) -> int:
    return int(session.exec(select(func.count()).select_from(Response)
                            .where(Response.status == ReviewStatus.held.value,
                                   Response.desk_id.in_(desk_ids_within(scope)))).one())


def decide_held(session: Session, response_ids: list[int], release: bool,
                user_id: int | None, scope: Scope = EVERYTHING) -> int:
    """Release (count it) or reject held evaluations; audited. Returns how many changed.

    A released evaluation takes its dossier hash back unless a counted evaluation of the
    same dossier arrived meanwhile; then it stays without one (the dossier is already
    evaluated) and the audit row says so. Each evaluation is locked before its state is
    read, in id order (no deadlock between two lists): of two supervisors deciding the same
    one at once, the second finds it decided and leaves it.
    """
    changed = 0
    ours = set(session.exec(select(Response.id).where(
        Response.id.in_(sorted(set(response_ids))),  # type: ignore[union-attr]
        Response.desk_id.in_(desk_ids_within(scope))))) if response_ids else set()
    for rid in sorted(ours):  # another area's ids are left as if they did not exist
        response = locked(session, Response, rid)
        if response is None or response.status != ReviewStatus.held.value:
            continue
        signal = session.get(DeskSignal, rid)
        detail: dict[str, Any] = {"reason": signal.hold_reason if signal else None}
        if release:
            response.status = ReviewStatus.received.value
            parked = signal.held_dossier_hash if signal else None
            if parked:
                taken = session.exec(select(Response.id).where(
                    Response.dossier_hash == parked)).first()
                if taken is None:
                    response.dossier_hash = parked
                else:
                    detail["dossier"] = "already evaluated"
        else:
            response.status = ReviewStatus.rejected.value
        if signal is not None:
            signal.held_dossier_hash = None
            session.add(signal)
        response.updated_at = utcnow()
        session.add(response)
        session.flush()
        record(session, "evaluation.release" if release else "evaluation.reject", "response",
               rid, user_id=user_id, detail=detail)
        changed += 1
    return changed
