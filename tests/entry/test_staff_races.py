"""Do staff writes racing each other end in one row and kind answers, never a 500?

Issue 15: on PostgreSQL, check-then-insert let parallel requests all pass the check, and the
unique constraint then failed all but one with an uncaught error (a 500). SQLite serialises
writers (BEGIN IMMEDIATE), PostgreSQL does not: both run here.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from survey.models import Desk, User
from survey.models_entry import EntryCase, Keying
from tests.entry.conftest import World, csrf, login


def _clients(app: Flask, username: str, n: int) -> list[FlaskClient]:
    out = []
    for _ in range(n):
        client = app.test_client()
        login(client, username)
        out.append(client)
    return out


def _race(jobs: list, post) -> list[int]:  # type: ignore[no-untyped-def]
    start = threading.Barrier(len(jobs))

    def run(job) -> int:  # type: ignore[no-untyped-def]
        start.wait()
        return post(job).status_code

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def _count(app: Flask, model: type, *where) -> int:  # type: ignore[no-untyped-def]
    with Session(app.extensions["sipas_engine"]) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def test_the_same_desk_added_eight_times_at_once(app: Flask, world: World) -> None:
    jobs = [(client, csrf(client, "/desks/")) for client in _clients(app, "ha", 8)]
    statuses = _race(jobs, lambda job: job[0].post("/desks/", data={
        "csrf_token": job[1], "code": "MC-RACE", "name": "Bàn đua"}))
    assert all(s < 500 for s in statuses), statuses
    assert _count(app, Desk, Desk.code == "MC-RACE") == 1


def test_the_same_user_added_six_times_at_once(app: Flask, world: World) -> None:
    jobs = [(client, csrf(client, "/admin/users")) for client in _clients(app, "quantri", 6)]
    statuses = _race(jobs, lambda job: job[0].post("/admin/users", data={
        "csrf_token": job[1], "username": "moi", "role": "enumerator",
        "password": "mật khẩu đủ dài", "full_name": "Người mới"}))
    assert all(s < 500 for s in statuses), statuses
    assert _count(app, User, User.username == "moi") == 1


def test_one_questionnaire_started_eight_times_at_once_is_one_pass(
    app: Flask, world: World
) -> None:
    jobs = [(client, csrf(client, "/entry/")) for client in _clients(app, "lan", 8)]
    replies: list[str] = []

    def start(job):  # type: ignore[no-untyped-def]
        reply = job[0].post("/entry/", data={"csrf_token": job[1], "kind": "questionnaire",
                                              "qid": world.qid(3)})
        replies.append(reply.headers.get("Location", ""))
        return reply

    statuses = _race(jobs, start)
    assert statuses == [302] * 8  # each start lands on the pass (resumed, not refused)
    assert len(set(replies)) == 1  # ... and it is the same pass
    assert _count(app, EntryCase) == 1 and _count(app, Keying) == 1


def test_one_hamlet_assigned_eight_times_at_once(app: Flask, world: World) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        lan = session.exec(select(User.id).where(User.username == "lan")).one()
    page = f"/entry/assignments/{world.sample_unit_id}"
    jobs = [(client, csrf(client, "/entry/assignments")) for client in _clients(app, "ha", 8)]
    statuses = _race(jobs, lambda job: job[0].post(page, data={
        "csrf_token": job[1], "enumerator": str(lan)}))
    assert all(s < 500 for s in statuses), statuses
