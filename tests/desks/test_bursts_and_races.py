"""Are bursts found, and do concurrent submissions never lose or duplicate a row?"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from survey.models import Response
from survey.models_desk import DeskSignal
from survey.services.desks.bursts import burst_report, densest_window
from tests import factories
from tests.desks.conftest import GOOD_ANSWERS, DeskLink, open_form

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


def test_densest_window_finds_the_tightest_cluster() -> None:
    times = [T0 + timedelta(minutes=m) for m in (0, 30, 31, 32, 33, 60)]
    assert densest_window(times, timedelta(minutes=5)) == (4, 1, 4)


def _signals(session: Session, desk_id: int, minutes: list[int], address: str,
             pattern: str) -> None:
    for minute in minutes:
        response = Response(client_uuid=uuid.uuid4(), content_hash="x", mode="qr",
                            instrument_version_id=factories.published(
                                session, "desk_evaluation").id, desk_id=desk_id)
        session.add(response)
        session.flush()
        session.add(DeskSignal(response_id=response.id, desk_id=desk_id, address_hash=address,
                               pattern_hash=pattern, created_at=T0 + timedelta(minutes=minute)))
    session.flush()


def test_many_from_one_address_or_one_pattern_are_reported_per_desk(engine: Engine) -> None:
    with Session(engine) as session:
        stuffed, calm = factories.desk(session), factories.desk(session)
        _signals(session, stuffed.id, list(range(0, 8)), "a" * 16, "p1")  # 8 in 8 min
        _signals(session, calm.id, [0, 20, 40, 60, 80, 100, 120], "b" * 16, "p2")  # spread out
        _signals(session, calm.id, [200 + k for k in range(10)], "", "same")  # 10 identical
        session.commit()
        found = burst_report(session, since=T0 - timedelta(days=1))
    summary = {(b.desk_code, b.kind, b.count) for b in found}
    assert (stuffed.code, "address", 8) in summary
    assert (calm.code, "pattern", 10) in summary
    assert not any(b.desk_code == calm.code and b.key == "b" * 16 for b in found)
    assert all("." not in b.key for b in found)  # hashes, never an address


def test_burst_thresholds_are_checked(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(ValueError, match="window"):
        burst_report(session, since=T0, window=timedelta(0))


def test_concurrent_submissions_are_stored_exactly_once(
    app: Flask, desk_link: DeskLink
) -> None:
    """24 distinct forms plus 8 re-sends of one form and 4 tries at one dossier, at once."""
    app.config.update(DESK_HOLD_DESK_ADDRESS=1000, DESK_HOLD_ADDRESS=1000, DESK_HOLD_DESK=1000)
    clients = [app.test_client() for _ in range(36)]
    forms = [open_form(c, desk_link.path) for c in clients]
    shared_form = forms[0]["form_token"]
    jobs = []
    for k, (client, form) in enumerate(zip(clients, forms, strict=True)):
        data = {**form, **GOOD_ANSWERS}
        if 24 <= k < 32:
            data["form_token"] = shared_form  # double taps of form 0
        if k >= 32:
            data["dossier_code"] = "H09.2025.00001"  # one dossier, four phones
        jobs.append((client, data))
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda job: job[0].post(desk_link.path, data=job[1]).status_code,
                              jobs))
    assert codes[:32] == [303] * 32
    assert sorted(codes[32:]) == [303, 409, 409, 409]
    with Session(app.extensions["sipas_engine"]) as session:
        stored = session.exec(select(func.count()).select_from(Response)).one()
        signals = session.exec(select(func.count()).select_from(DeskSignal)).one()
    assert stored == signals == 24 + 1  # 24 forms (form 0 re-sent 8 times) + 1 dossier


def test_sqlite_writers_take_turns_and_postgresql_needs_no_queue(engine: Engine) -> None:
    """Does every transaction on the engine queue behind the one writing, in the kernel?"""
    import threading
    import time

    from sqlalchemy import text

    from survey.db_queue import lock_path

    if engine.dialect.name != "sqlite":
        assert lock_path(engine) is None
        return
    inside: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
            first_in.set()
            inside.append("first in")
            time.sleep(0.2)
            inside.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
        inside.append("second in")
    thread.join()
    assert inside == ["first in", "first out", "second in"]
    queue = engine.sipas_writer_queue  # type: ignore[attr-defined]
    assert queue._held == {}  # every turn given back after commit
    assert lock_path(engine).exists()  # type: ignore[union-attr]
