"""Suspicious bursts of desk evaluations, for a supervisor to look at (not to delete).

A genuine desk serves a citizen every few minutes, so many evaluations of one desk from
one address, or with one identical answer pattern, inside a short window suggest vote
stuffing. Rate limits slow stuffing down; this report makes what gets through visible.
Addresses and patterns are only compared as keyed hashes (``desk_signal``): the report
can say "12 from one address in 10 minutes" without ever showing the address.

A sliding window per (desk, key): the largest number of evaluations whose times fit in
``window``; a group is reported once, at its densest window, when it reaches the
threshold. Tens of thousands of evaluations a year per province fit in memory easily.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from survey.models import Desk, as_utc
from survey.models_desk import DeskSignal
from survey.services.scope import EVERYTHING, Scope, desk_ids_within


@dataclass(frozen=True)
class Burst:
    desk_code: str
    desk_name: str
    kind: str  # "address" or "pattern"
    key: str  # the keyed hash, to tell bursts apart (never the address itself)
    count: int
    first_at: datetime
    last_at: datetime


def densest_window(times: list[datetime], window: timedelta) -> tuple[int, int, int]:
    """(count, first index, last index) of the most evaluations within ``window``."""
    best = (0, 0, 0)
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] > window:
            start += 1
        if end - start + 1 > best[0]:
            best = (end - start + 1, start, end)
    return best


def burst_report(
    session: Session,
    *,
    since: datetime,
    window: timedelta = timedelta(minutes=10),
    min_same_address: int = 6,
    min_same_pattern: int = 10,
    scope: Scope = EVERYTHING,
) -> list[Burst]:
    """Bursts at the area's desks since ``since``, most evaluations first."""
    if window <= timedelta(0):
        raise ValueError("the burst window must be positive")
    if min_same_address < 2 or min_same_pattern < 2:
        raise ValueError("burst thresholds must be at least 2")
    rows = session.exec(
        select(DeskSignal.desk_id, DeskSignal.address_hash, DeskSignal.pattern_hash,
               DeskSignal.created_at)
        .where(DeskSignal.created_at >= since, DeskSignal.desk_id.in_(desk_ids_within(scope)))
        .order_by(DeskSignal.desk_id, DeskSignal.created_at)
    ).all()
    groups: dict[tuple[int, str, str], list[datetime]] = defaultdict(list)
    for desk_id, address, pattern, created in rows:
        groups[(desk_id, "address", address)].append(as_utc(created))
        groups[(desk_id, "pattern", pattern)].append(as_utc(created))
    desks = {d.id: d for d in session.exec(select(Desk)).all()}
    bursts = []
    for (desk_id, kind, key), times in groups.items():
        threshold = min_same_address if kind == "address" else min_same_pattern
        if len(times) < threshold:
            continue
        times.sort()
        count, first, last = densest_window(times, window)
        if count >= threshold:
            desk = desks[desk_id]
            bursts.append(Burst(desk.code, desk.name, kind, key, count, times[first],
                                times[last]))
    return sorted(bursts, key=lambda b: (-b.count, b.desk_code, b.kind, b.first_at))
