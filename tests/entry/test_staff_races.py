"""Do staff writes racing each other end in one row and kind answers, never a 500?

Issue 15: on PostgreSQL, check-then-insert let parallel requests all pass the check, and the
unique constraint then failed all but one with an uncaught error (a 500). SQLite serialises
writers (BEGIN IMMEDIATE), PostgreSQL does not: both run here.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select
from werkzeug.test import TestResponse

from survey.models import Desk, User
from survey.models_entry import EntryCase, Keying
from tests.entry.conftest import World, csrf
from tests.races import clients, count, race, statuses


def test_the_same_desk_added_eight_times_at_once(app: Flask, world: World) -> None:
    jobs = [(client, csrf(client, "/desks/")) for client in clients(app, "ha", 8)]
    codes = statuses(race(jobs, lambda job: job[0].post("/desks/", data={
        "csrf_token": job[1], "code": "MC-RACE", "name": "Bàn đua"})))
    assert all(s < 500 for s in codes), codes
    assert count(app, Desk, Desk.code == "MC-RACE") == 1


def test_the_same_user_added_six_times_at_once(app: Flask, world: World) -> None:
    jobs = [(client, csrf(client, "/admin/users")) for client in clients(app, "quantri", 6)]
    codes = statuses(race(jobs, lambda job: job[0].post("/admin/users", data={
        "csrf_token": job[1], "username": "moi", "role": "enumerator",
        "password": "mật khẩu đủ dài", "full_name": "Người mới"})))
    assert all(s < 500 for s in codes), codes
    assert count(app, User, User.username == "moi") == 1


def test_one_questionnaire_started_eight_times_at_once_is_one_pass(
    app: Flask, world: World
) -> None:
    jobs = [(client, csrf(client, "/entry/")) for client in clients(app, "lan", 8)]
    replies: list[str] = []

    def start(job: tuple[FlaskClient, str]) -> TestResponse:
        reply = job[0].post("/entry/", data={"csrf_token": job[1], "kind": "questionnaire",
                                              "qid": world.qid(3)})
        replies.append(reply.headers.get("Location", ""))
        return reply

    # each start lands on the pass (resumed, not refused)
    assert statuses(race(jobs, start)) == [302] * 8
    assert len(set(replies)) == 1  # ... and it is the same pass
    assert count(app, EntryCase) == 1 and count(app, Keying) == 1


def test_one_hamlet_assigned_eight_times_at_once(app: Flask, world: World) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        lan = session.exec(select(User.id).where(User.username == "lan")).one()
    page = f"/entry/assignments/{world.sample_unit_id}"
    jobs = [(client, csrf(client, "/entry/assignments")) for client in clients(app, "ha", 8)]
    codes = statuses(race(jobs, lambda job: job[0].post(page, data={
        "csrf_token": job[1], "enumerator": str(lan)})))
    assert all(s < 500 for s in codes), codes
