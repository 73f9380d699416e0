"""Under concurrency, is every submission stored exactly once and every dossier once?

Threads each open their own session and race on the same rows; the database's unique
constraints (not a check-then-insert) must decide, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from survey.services.instruments import latest_version
from survey.services.responses import ConflictError, DuplicateDossierError, store_response
from tests import factories

SECRET = b"r" * 32
WORKERS = 16


def _publish(engine: Engine) -> None:
    with Session(engine) as session:
        factories.published(session, "desk_evaluation")
        session.commit()


def _submit(engine: Engine, client: uuid.UUID, answers: dict, dossier: str | None) -> str:
    with Session(engine) as session:
        version = latest_version(session, "desk_evaluation")
        try:
            result = store_response(session, instrument_version=version, client_uuid=client,
                                    mode="qr", answers=answers, dossier_secret=SECRET,
                                    dossier_code=dossier)
            session.commit()
        except DuplicateDossierError:
            return "duplicate-dossier"
        except ConflictError:
            return "conflict"
        return "created" if result.created else "same"


def test_one_dossier_submitted_in_parallel_is_stored_once(engine: Engine) -> None:
    _publish(engine)
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(
            lambda k: _submit(engine, uuid.uuid4(), {"overall": 1 + k % 5}, "HS-2025-000777"),
            range(300),
        ))
    assert outcomes.count("created") == 1
    assert outcomes.count("duplicate-dossier") == 299
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM response")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM answer")).scalar_one() == 1


def test_resends_of_many_forms_in_parallel_store_each_once(engine: Engine) -> None:
    _publish(engine)
    clients = [uuid.uuid4() for _ in range(60)]
    jobs = [(c, {"overall": 1 + i % 5, "visits": 1 + i % 3}) for i, c in enumerate(clients)] * 4
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(lambda job: _submit(engine, job[0], job[1], None), jobs))
    assert outcomes.count("created") == len(clients)
    assert outcomes.count("same") == len(jobs) - len(clients)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM response")).scalar_one() == len(clients)
        assert conn.execute(text("SELECT count(*) FROM answer")).scalar_one() == 2 * len(clients)


def test_changed_content_under_one_uuid_in_parallel_keeps_exactly_one_version(
    engine: Engine,
) -> None:
    _publish(engine)
    client = uuid.uuid4()
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(lambda k: _submit(engine, client, {"overall": 1 + k % 5}, None),
                                 range(50)))
    assert outcomes.count("created") == 1
    assert set(outcomes) <= {"created", "same", "conflict"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM response")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM answer")).scalar_one() == 1


def test_do_desk_counts_stay_exact_under_parallel_submissions_and_reviews(
    engine: Engine,
) -> None:
    """Citizens submit at two desks while supervisors hold and release: no deadlock, no
    lost count (the tally triggers lock counts in one order)."""
    import random

    from sqlmodel import select

    from survey.models import Response
    from survey.services.reports import tallies

    _publish(engine)
    with Session(engine) as session:
        desks = [factories.desk(session).id, factories.desk(session).id]
        session.commit()

    def submit(k: int) -> str:
        with Session(engine) as session:
            version = latest_version(session, "desk_evaluation")
            store_response(session, instrument_version=version, client_uuid=uuid.uuid4(),
                           mode="qr", desk_id=desks[k % 2],
                           answers={"overall": 1 + k % 5, "visits": 1 + k % 3,
                                    "on_time": 1 + k % 4, "staff_attitude": 5 - k % 2})
            session.commit()
        return "created"

    def review(k: int) -> str:
        rng = random.Random(k)
        with Session(engine) as session:
            ids = session.exec(select(Response.id)).all()
            if not ids:
                return "nothing"
            row = session.get(Response, rng.choice(ids))
            row.status = "held" if row.status == "received" else "received"
            session.add(row)
            session.commit()
        return "reviewed"

    jobs = [("s", k) for k in range(120)] + [("r", k) for k in range(60)]
    random.Random(5).shuffle(jobs)
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(lambda j: submit(j[1]) if j[0] == "s" else review(j[1]), jobs))
    assert outcomes.count("created") == 120
    with Session(engine) as session:
        stored, rows = tallies.stored(session), tallies.from_rows(session)
        assert stored == rows and sum(n for *_k, n in rows[0]) > 0
