"""Does every staff write, sent by six people at the same instant, end as one request would?

Issue 15: on PostgreSQL parallel requests all pass a check before any of them writes, so
check-then-write code stored duplicates, lost updates or hit a constraint as a 500. Each test
here sends one write from six signed-in clients at once (tests/races.py) and checks the end
state: no 5xx, one row where one belongs, one audit row where one change happened, and
audit rows that chain (each change starts from the value the previous one left). Both
databases run every test; SQLite queues its writers, so it shows the serial answer.

The first test keeps the list honest: a new POST route fails it until it has a race here
(or names the test that races it elsewhere).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from survey.models import (
    AdminUnit,
    Answer,
    AuditLog,
    Desk,
    Response,
    SampleUnit,
    Stratum,
    SurveyRound,
    User,
)
from survey.models_accounts import StaffSession
from survey.models_entry import EntryCase, Keying, KeyingAnswer, LoginFailure, SerialAssignment
from survey.models_reports import DossierVolume
from survey.models_sample import FieldAssignment, ResponseWeight, WeightsVersion
from survey.services.desks.holds import held_evaluations
from survey.services.desks.links import desk_token
from survey.services.entry.assignments import assign
from survey.services.sample.frame import import_frame
from survey.services.sample.weights import compute_weights
from tests.desks.conftest import GOOD_ANSWERS, open_form
from tests.entry.conftest import PASSWORD, World, full_answers, key, start
from tests.races import audited, count, race, race_app, signed_in, statuses, world_database
from tests.sample.conftest import add_fieldwork, frame_csv
from tests.support import REPO, csrf_token, drop_database, sign_in

# Raced by an older test: route -> "file::test" (the test must exist there).
ELSEWHERE = {
    "/admin/users": "tests/entry/test_staff_races.py::test_the_same_user_added_six_times_at_once",
    "/d/<token>": "tests/desks/test_bursts_and_races.py::"
                  "test_concurrent_submissions_are_stored_exactly_once",
    "/desks/": "tests/entry/test_staff_races.py::test_the_same_desk_added_eight_times_at_once",
    "/entry/": "tests/entry/test_staff_races.py::"
               "test_one_questionnaire_started_eight_times_at_once_is_one_pass",
    "/dossiers/": "tests/dossiers/test_screens.py::"
                  "test_six_uploads_of_one_file_at_once_store_it_once",
    "/kiosk/<key>/evaluations": "tests/kiosk/test_evaluations.py::"
                                "test_six_sends_of_one_evaluation_at_once_store_it_once",
    "/desks/<code>/kiosks": "tests/kiosk/test_devices.py::"
                            "test_six_supervisors_adding_one_name_at_once_make_one_tablet",
    "/desks/<code>/kiosks/<int:device_id>/revoke":
        "tests/kiosk/test_devices.py::"
        "test_six_supervisors_adding_one_name_at_once_make_one_tablet",
    "/api/v1/kiosk/<int:device>/ticket": "tests/kiosk/test_devices.py::"
                                         "test_the_queue_system_opens_tickets_through_the_api",
}
# Raced here: route -> the tests of this module that race it (filled by @races below).
HERE: dict[str, list[str]] = {}
Test = TypeVar("Test", bound=Callable[..., None])


def races(route: str) -> Callable[[Test], Test]:
    """Mark a test as the race of ``route`` (a rule as ``app.url_map`` spells it)."""

    def mark(test: Test) -> Test:
        HERE.setdefault(route, []).append(test.__name__)
        return test

    return mark


N = 6


@pytest.fixture(scope="session")
def built_worlds(postgres_admin_url: str | None) -> Iterator[dict[str, tuple[str, World]]]:
    """The world's database per backend, built by the first test and copied for the others."""
    built: dict[str, tuple[str, World]] = {}
    yield built
    if "postgresql" in built:
        drop_database(postgres_admin_url, built["postgresql"][0])


@pytest.fixture
def app(db_url: str, instance_dir: Path, built_worlds: dict[str, tuple[str, World]],
        postgres_admin_url: str | None, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Flask]:
    """The app on a database of its own that holds paper entry's world (tests/races.py)."""
    folder = tmp_path_factory.getbasetemp() / "race-worlds"
    folder.mkdir(exist_ok=True)
    world_database(db_url, built_worlds, postgres_admin_url, folder)
    application = race_app(db_url)
    yield application
    application.extensions["sipas_engine"].dispose()


@pytest.fixture
def world(app: Flask, db_url: str, built_worlds: dict[str, tuple[str, World]]) -> World:
    """The ids of the world in this test's copy (the same in every copy)."""
    return built_worlds["sqlite" if db_url.startswith("sqlite") else "postgresql"][1]


def _engine(app: Flask) -> Engine:
    return app.extensions["sipas_engine"]


def _user_id(app: Flask, username: str) -> int:
    with Session(_engine(app)) as session:
        return int(session.exec(select(User.id).where(User.username == username)).one())  # type: ignore[arg-type]


def _no_5xx(codes: list[int]) -> None:
    assert all(code < 500 for code in codes), codes


def _chains(changes: list[dict[str, Any]], first: object) -> object:
    """Each audited change (``old`` -> ``new``) starts from what the previous one left, so
    none was lost; returns the value the last one left."""
    values = [first] + [change["new"] for change in changes]
    assert [change["old"] for change in changes] == values[:-1], changes
    assert all(change["old"] != change["new"] for change in changes), changes
    return values[-1]


def _details(rows: list[AuditLog]) -> list[dict[str, Any]]:
    return [row.detail or {} for row in rows]


def _round_code(app: Flask, world: World) -> str:
    with Session(_engine(app)) as session:
        found = session.get(SurveyRound, world.round_id)
        assert found is not None
        return found.code


def _fieldwork(app: Flask, world: World) -> str:
    """The world's hamlet fully keyed and verified (3 of 4 completed); returns the round."""
    code = _round_code(app, world)
    with Session(_engine(app)) as session:
        add_fieldwork(session, code, lambda su, k: "completed" if k % 4 else "refused",
                      listed=lambda su: 240)
        session.commit()
    return code


# --- the list of races -----------------------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_post_route_is_raced_here_or_by_a_named_test(app: Flask) -> None:
    posts = {rule.rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    assert not ELSEWHERE.keys() & HERE.keys()
    missing = sorted(posts - ELSEWHERE.keys() - HERE.keys())
    stale = sorted((ELSEWHERE.keys() | HERE.keys()) - posts)
    assert not missing, f"POST routes without a race test: {missing}"
    assert not stale, f"races listed for routes that no longer exist: {stale}"
    for route, where in ELSEWHERE.items():
        path, name = where.split("::")
        assert f"def {name}(" in (REPO / path).read_text(encoding="utf-8"), (route, where)


# --- accounts ----------------------------------------------------------------------------


@races("/auth/login")
def test_six_logins_at_once_are_six_sessions_and_guesses_are_throttled(
    app: Flask, world: World
) -> None:
    """Six browsers logging in at once get a session each; six wrong passwords from one
    address at once are five counted failures and one refusal, as in sequence (a burst
    must not buy a guesser more tries than the throttle allows)."""
    browsers = [(c, csrf_token(c, "/auth/login")) for c in (app.test_client() for _ in range(N))]
    replies = race(browsers, lambda job: job[0].post("/auth/login", data={
        "csrf_token": job[1], "username": "lan", "password": PASSWORD}))
    assert statuses(replies) == [302] * N
    lan = _user_id(app, "lan")
    assert count(app, StaffSession, StaffSession.user_id == lan) == N
    guessers = [(c, csrf_token(c, "/auth/login")) for c in (app.test_client() for _ in range(N))]
    replies = race(guessers, lambda job: job[0].post("/auth/login", data={
        "csrf_token": job[1], "username": "hung", "password": "không phải mật khẩu"}))
    assert sorted(statuses(replies)) == [200] * 5 + [429]
    assert count(app, LoginFailure, LoginFailure.username == "hung") == 5


@races("/auth/logout")
def test_one_session_logged_out_from_six_tabs_at_once_ends_that_session_only(
    app: Flask, world: World
) -> None:
    first = sign_in(app.test_client(), "lan", PASSWORD)
    other = sign_in(app.test_client(), "lan", PASSWORD)
    token = csrf_token(first, "/auth/password")
    cookie = first.get_cookie("session")
    assert cookie is not None
    tabs = [first] + [app.test_client() for _ in range(N - 1)]
    for tab in tabs[1:]:
        tab.set_cookie("session", cookie.value)
    replies = race(tabs, lambda tab: tab.post("/auth/logout", data={"csrf_token": token}))
    assert statuses(replies) == [302] * N
    lan = _user_id(app, "lan")
    assert count(app, StaffSession, StaffSession.user_id == lan,
                 col(StaffSession.revoked_at).is_not(None)) == 1
    assert other.get("/entry/").status_code == 200


@races("/auth/password")
def test_one_password_changed_from_six_sessions_at_once_changes_once(
    app: Flask, world: World
) -> None:
    """Each session knows the current password; only one change may start from it (the
    others would tell their user a password that no longer works)."""
    jobs = [(client, token, f"mật khẩu mới số {k}")
            for k, (client, token) in enumerate(signed_in(app, "tuan", N))]
    replies = race(jobs, lambda job: job[0].post("/auth/password", data={
        "csrf_token": job[1], "current": PASSWORD, "new": job[2], "again": job[2]}))
    _no_5xx(statuses(replies))
    changed = [job[2] for job, reply in zip(jobs, replies, strict=True)
               if reply.status_code == 302 and reply.headers["Location"] == "/"]
    assert len(changed) == 1, statuses(replies)
    tuan = _user_id(app, "tuan")
    assert len(audited(app, "password_change", tuan)) == 1
    with Session(_engine(app)) as session:
        stored = session.get(User, tuan)
        assert stored is not None
        assert PasswordHasher().verify(stored.password_hash, changed[0])


@races("/admin/users/<int:user_id>/active")
def test_an_account_disabled_six_times_at_once_is_disabled_once(app: Flask, world: World) -> None:
    lan = _user_id(app, "lan")
    sign_in(app.test_client(), "lan", PASSWORD)
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        f"/admin/users/{lan}/active", data={"csrf_token": job[1], "active": "0",
                                            "confirmed": "1"}))
    _no_5xx(statuses(replies))
    assert len(audited(app, "user_disable", lan)) == 1
    assert count(app, User, User.id == lan, col(User.active).is_(False)) == 1
    assert count(app, StaffSession, StaffSession.user_id == lan,
                 col(StaffSession.revoked_at).is_(None)) == 0


@races("/admin/users/<int:user_id>/password")
def test_six_resets_at_once_leave_one_shown_password_working(app: Flask, world: World) -> None:
    """Every reset is a real change, shown and audited; of the passwords shown, exactly one
    (the last one written) works."""
    lan = _user_id(app, "lan")
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        f"/admin/users/{lan}/password", data={"csrf_token": job[1], "confirmed": "1"}))
    _no_5xx(statuses(replies))
    shown = [found.group(1) for reply in replies if reply.status_code == 200 and (
        found := re.search(r'id="new-password">([^<]+)<', reply.get_data(as_text=True)))]
    assert len(audited(app, "password_reset", lan)) == len(shown) > 0
    with Session(_engine(app)) as session:
        stored = session.get(User, lan)
        assert stored is not None
        working = [p for p in shown if _verifies(stored.password_hash, p)]
    assert len(working) == 1


def _verifies(hashed: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(hashed, password)
    except VerificationError:
        return False


@races("/admin/users/<int:user_id>/role")
def test_role_changes_at_once_each_start_from_the_role_before(app: Flask, world: World) -> None:
    hung = _user_id(app, "hung")
    jobs = [(client, token, role) for (client, token), role in
            zip(signed_in(app, "quantri", N), ["analyst", "supervisor"] * (N // 2), strict=True)]
    replies = race(jobs, lambda job: job[0].post(f"/admin/users/{hung}/role", data={
        "csrf_token": job[1], "role": job[2], "confirmed": "1"}))
    _no_5xx(statuses(replies))
    last = _chains(_details(audited(app, "user.role", hung)), "enumerator")
    assert count(app, User, User.id == hung, User.role == last) == 1


@races("/admin/users/<int:user_id>/area")
def test_area_changes_at_once_each_start_from_the_area_before(app: Flask, world: World) -> None:
    """Six administrators moving one account between two areas at once: each audited change
    starts from the area the previous one left, and the account ends in the last one's."""
    hung = _user_id(app, "hung")
    with Session(_engine(app)) as session:
        codes = list(session.exec(select(AdminUnit.code).where(AdminUnit.parent_id.is_not(None))  # type: ignore[union-attr]
                                  .order_by(AdminUnit.id).limit(2)))
    jobs = [(client, token, code) for (client, token), code in
            zip(signed_in(app, "quantri", N), codes * (N // 2), strict=True)]
    replies = race(jobs, lambda job: job[0].post(f"/admin/users/{hung}/area", data={
        "csrf_token": job[1], "unit": job[2], "confirmed": "1"}))
    _no_5xx(statuses(replies))
    last = _chains(_details(audited(app, "user.area", hung)), "")
    with Session(_engine(app)) as session:
        user = session.get(User, hung)
        assert user is not None and user.scope_unit_id is not None
        assert session.get(AdminUnit, user.scope_unit_id).code == last  # type: ignore[union-attr]


@races("/admin/users/<int:user_id>/sessions")
def test_six_sign_outs_everywhere_at_once_close_each_session_once(
    app: Flask, world: World
) -> None:
    tuan = _user_id(app, "tuan")
    for _ in range(2):
        sign_in(app.test_client(), "tuan", PASSWORD)
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        f"/admin/users/{tuan}/sessions", data={"csrf_token": job[1], "confirmed": "1"}))
    _no_5xx(statuses(replies))
    rows = audited(app, "sessions_revoke", tuan)
    assert len(rows) == N and sum(row.detail["sessions"] for row in rows) == 2
    assert count(app, StaffSession, StaffSession.user_id == tuan,
                 col(StaffSession.revoked_at).is_(None)) == 0


# --- desks -------------------------------------------------------------------------------


@races("/desks/<code>/<action>")
def test_six_rotations_at_once_raise_the_version_six_times(app: Flask, world: World) -> None:
    """Each rotation is audited with the version it made: the counter rose once per row."""
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        f"/desks/{world.desk_code}/rotate", data={"csrf_token": job[1], "confirmed": "1"}))
    _no_5xx(statuses(replies))
    versions = sorted(row.detail["token_version"] for row in audited(app, "desk.rotate"))
    assert versions == list(range(2, 2 + N))
    assert count(app, Desk, Desk.code == world.desk_code, Desk.token_version == 1 + N) == 1


@races("/desks/<code>/<action>")
def test_a_desk_disabled_six_times_at_once_is_disabled_once(app: Flask, world: World) -> None:
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        f"/desks/{world.desk_code}/disable", data={"csrf_token": job[1], "confirmed": "1"}))
    _no_5xx(statuses(replies))
    assert len(audited(app, "desk.disable")) == 1
    assert count(app, Desk, Desk.code == world.desk_code, col(Desk.active).is_(False)) == 1


@races("/desks/<code>/edit")
def test_desk_edits_at_once_each_start_from_the_name_before(app: Flask, world: World) -> None:
    with Session(_engine(app)) as session:
        before = session.exec(select(Desk.name).where(Desk.code == world.desk_code)).one()
    jobs = [(client, token, f"Bộ phận Một cửa xã Phú Lâm {k}")
            for k, (client, token) in enumerate(signed_in(app, "ha", N))]
    replies = race(jobs, lambda job: job[0].post(f"/desks/{world.desk_code}/edit", data={
        "csrf_token": job[1], "name": job[2], "agency": "", "admin_level": ""}))
    _no_5xx(statuses(replies))
    changes = [detail["changes"]["name"] for detail in _details(audited(app, "desk.edit"))]
    last = _chains(changes, before)
    assert count(app, Desk, Desk.code == world.desk_code, Desk.name == last) == 1


@races("/desks/held")
def test_one_held_evaluation_decided_by_six_at_once_is_decided_once(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three supervisors release it and three reject it at the same moment: one decision
    stands, is audited once, and is the evaluation's state."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    app.config["DESK_HOLD_DESK_ADDRESS"] = 1
    with Session(_engine(app)) as session:
        desk = session.exec(select(Desk).where(Desk.code == world.desk_code)).one()
        path = "/d/" + desk_token(app.config["SECRET_KEY"], desk)
    citizen = app.test_client()
    for _ in range(2):  # the second from the same phone is held
        reply = citizen.post(path, data={**open_form(citizen, path), **GOOD_ANSWERS})
        assert reply.status_code == 303
    with Session(_engine(app)) as session:
        (held,) = held_evaluations(session)
    jobs = [(client, token, decision) for (client, token), decision in
            zip(signed_in(app, "ha", N), ["release", "reject"] * (N // 2), strict=True)]
    replies = race(jobs, lambda job: job[0].post("/desks/held", data={
        "csrf_token": job[1], "decision": job[2], "response_id": str(held.response_id)}))
    _no_5xx(statuses(replies))
    rows = [*audited(app, "evaluation.release", held.response_id),
            *audited(app, "evaluation.reject", held.response_id)]
    assert len(rows) == 1, [row.action for row in rows]
    state = "received" if rows[0].action == "evaluation.release" else "rejected"
    assert count(app, Response, Response.id == held.response_id, Response.status == state) == 1


# --- assignments and keying ----------------------------------------------------------------


@races("/entry/assignments/<int:sample_unit_id>")
def test_overlapping_ranges_assigned_at_once_leave_one(app: Flask, world: World) -> None:
    """Six ranges that all hold serial 4, given at once: ranges may never overlap, so one
    stands (the others are refused, as they would be one after another)."""
    keyers = [_user_id(app, name) for name in ("lan", "hung", "tuan")] * 2
    ranges = [(1, 4), (2, 5), (3, 6), (4, 7), (4, 8), (4, 9)]
    jobs = [(client, token, keyer, span) for (client, token), keyer, span in
            zip(signed_in(app, "ha", N), keyers, ranges, strict=True)]
    replies = race(jobs, lambda job: job[0].post(f"/entry/assignments/{world.sample_unit_id}",
                                                 data={"csrf_token": job[1],
                                                       "enumerator": str(job[2]),
                                                       "first": str(job[3][0]),
                                                       "last": str(job[3][1])}))
    _no_5xx(statuses(replies))
    assert count(app, SerialAssignment,
                 SerialAssignment.sample_unit_id == world.sample_unit_id) == 1
    assert len(audited(app, "assignment.range")) == 1


@races("/entry/assignments/range/<int:range_id>/delete")
def test_one_range_removed_six_times_at_once_is_removed_once(app: Flask, world: World) -> None:
    with Session(_engine(app)) as session:
        assign(session, world.sample_unit_id, _user_id(app, "hung"), 1, 3)
        session.commit()
        range_id = session.exec(select(SerialAssignment.id)).one()
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        f"/entry/assignments/range/{range_id}/delete", data={"csrf_token": job[1]}))
    _no_5xx(statuses(replies))
    assert count(app, SerialAssignment) == 0
    assert len(audited(app, "assignment.range_removed")) == 1


@races("/entry/keying/<int:keying_id>")
def test_one_pass_saved_from_six_sessions_at_once_is_stored_once(
    app: Flask, world: World
) -> None:
    """The keyer's six tabs send the same finished pass: one stored response, one set of
    keyed values; the other tabs are told it is saved (or get the kind 409)."""
    app.config["ENTRY_DOUBLE_SHARE"] = 0.0  # stored straight away, for review
    tabs = signed_in(app, "lan", N)
    path = start(tabs[0][0], world.qid(1))
    answers = full_answers()
    replies = race(tabs, lambda job: job[0].post(path, data={**answers, "csrf_token": job[1]}))
    assert all(code in (302, 409) for code in statuses(replies)), statuses(replies)
    keying_id = int(path.rsplit("/", 1)[1])
    assert count(app, Response) == 1
    stored = len(answers) - 1  # the outcome is the pass's own column, not a keyed value
    assert count(app, KeyingAnswer, KeyingAnswer.keying_id == keying_id) == stored
    assert count(app, Keying, Keying.id == keying_id, Keying.state == "done") == 1


@races("/entry/keying/<int:keying_id>/draft")
def test_autosaves_racing_the_save_leave_no_draft_on_a_saved_pass(
    app: Flask, world: World
) -> None:
    """A tab's last autosave arriving with the save must not write typing back onto the
    saved pass (the draft is cleared by the save; the pass holds the values)."""
    app.config["ENTRY_DOUBLE_SHARE"] = 0.0
    tabs = signed_in(app, "lan", N)
    path = start(tabs[0][0], world.qid(1))
    answers = full_answers()
    jobs = [(client, token, path if k == 0 else path + "/draft")
            for k, (client, token) in enumerate(tabs)]
    replies = race(jobs, lambda job: job[0].post(job[2], data={**answers, "csrf_token": job[1]}))
    assert statuses(replies)[0] == 302
    assert all(code in (200, 409) for code in statuses(replies)[1:]), statuses(replies)
    keying_id = int(path.rsplit("/", 1)[1])
    assert count(app, Keying, Keying.id == keying_id, Keying.state == "done",
                 col(Keying.draft).is_(None)) == 1
    assert count(app, Response) == 1


def _stored_paper(app: Flask, world: World) -> int:
    """One questionnaire keyed once and stored for review; returns its response id."""
    app.config["ENTRY_DOUBLE_SHARE"] = 0.0
    key(sign_in(app.test_client(), "lan", PASSWORD), world.qid(2), full_answers())
    with Session(_engine(app)) as session:
        return int(session.exec(select(Response.id)).one())  # type: ignore[arg-type]


@races("/entry/response/<int:response_id>/status")
def test_review_moves_at_once_each_start_from_the_state_before(app: Flask, world: World) -> None:
    """Three supervisors verify a response and three flag it at once: each move starts from
    the state the one before it left (or is refused), as one after another."""
    response_id = _stored_paper(app, world)
    jobs = [(client, token, status) for (client, token), status in
            zip(signed_in(app, "ha", N), ["verified", "has_issues"] * (N // 2), strict=True)]
    replies = race(jobs, lambda job: job[0].post(
        f"/entry/response/{response_id}/status",
        data={"csrf_token": job[1], "status": job[2], "comment": "Đã duyệt phiếu giấy"}))
    _no_5xx(statuses(replies))
    last = _chains(_details(audited(app, "review_status", response_id)), "received")
    assert count(app, Response, Response.id == response_id, Response.status == last) == 1


def _verified_paper(app: Flask, world: World) -> int:
    response_id = _stored_paper(app, world)
    with Session(_engine(app)) as session:
        row = session.get(Response, response_id)
        assert row is not None
        row.status = "verified"
        session.add(row)
        session.commit()
    return response_id


@races("/entry/response/<int:response_id>/ministry")
def test_ministry_decisions_at_once_end_as_one_after_another(app: Flask, world: World) -> None:
    """Three ministry reviewers accept and three send back one questionnaire at once: it is
    accepted at most once and sent back at most once, and ends as the last decision left
    it (sent back: no longer verified, so no later acceptance)."""
    from survey.models_entry import HqReview

    response_id = _verified_paper(app, world)
    jobs = [(client, token, decision) for (client, token), decision in
            zip(signed_in(app, "ha", N), ["accept", "return"] * (N // 2), strict=True)]
    replies = race(jobs, lambda job: job[0].post(
        f"/entry/response/{response_id}/ministry",
        data={"csrf_token": job[1], "decision": job[2], "comment": "Kiểm tra lại câu A2"}))
    _no_5xx(statuses(replies))
    accepted = audited(app, "hq_accept", response_id)
    returned = audited(app, "hq_return", response_id)
    assert len(returned) == 1 and len(accepted) <= 1
    with Session(_engine(app)) as session:
        row, decision = session.get(Response, response_id), session.get(HqReview, response_id)
        assert row is not None and decision is not None
        assert (row.status, decision.state) == ("has_issues", "returned")


@races("/entry/ministry")
def test_the_same_questionnaires_accepted_from_six_lists_at_once_are_accepted_once(
    app: Flask, world: World
) -> None:
    response_id = _verified_paper(app, world)
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        "/entry/ministry", data={"csrf_token": job[1], "response_id": str(response_id)}))
    _no_5xx(statuses(replies))
    assert len(audited(app, "hq_accept", response_id)) == 1


@races("/entry/response/<int:response_id>/edit")
def test_answer_edits_at_once_each_start_from_the_value_before(app: Flask, world: World) -> None:
    response_id = _stored_paper(app, world)
    jobs = [(client, token, f"Ghi chú sửa lần {k}")
            for k, (client, token) in enumerate(signed_in(app, "ha", N))]
    replies = race(jobs, lambda job: job[0].post(
        f"/entry/response/{response_id}/edit",
        data={"csrf_token": job[1], "item_code": "comment", "value": job[2],
              "reason": "Đọc lại phiếu giấy"}))
    _no_5xx(statuses(replies))
    last = _chains(_details(audited(app, "edit_answer", response_id)),
                   full_answers()["comment"])
    assert count(app, Answer, Answer.response_id == response_id,
                 Answer.item_code == "comment") == 1
    assert count(app, Answer, Answer.response_id == response_id, Answer.item_code == "comment",
                 Answer.value_text == last) == 1


@races("/entry/review/case/<int:case_id>")
def test_one_mismatch_reconciled_by_six_at_once_is_reconciled_once(
    app: Flask, world: World
) -> None:
    """Six supervisors type what the paper says at once (each reads it a little
    differently): one reconciliation is stored and audited, the others find it done."""
    qid = world.qid(3)
    key(sign_in(app.test_client(), "lan", PASSWORD), qid, full_answers("Cán bộ nhiệt tình"))
    key(sign_in(app.test_client(), "hung", PASSWORD), qid, full_answers("Cán bộ tận tình"))
    with Session(_engine(app)) as session:
        case_id = session.exec(select(EntryCase.id).where(
            EntryCase.state == "mismatch")).one()
    jobs = [(client, token, f"Cán bộ tận tình {k}")
            for k, (client, token) in enumerate(signed_in(app, "ha", N))]
    replies = race(jobs, lambda job: job[0].post(f"/entry/review/case/{case_id}", data={
        "csrf_token": job[1], "paper_comment": job[2]}))
    _no_5xx(statuses(replies))
    rows = audited(app, "reconcile")
    assert len(rows) == 1 and count(app, Response) == 1
    paper = rows[0].detail["fields"]["comment"]["paper"]
    assert count(app, Answer, Answer.item_code == "comment", Answer.value_text == paper) == 1


# --- reports, rounds and the sample -----------------------------------------------------


def _upload(text: str, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(text.encode("utf-8")), name


@races("/reports/volumes")
def test_one_volumes_file_imported_six_times_at_once_is_stored_once(
    app: Flask, world: World
) -> None:
    volumes = f"desk,period,dossiers\n{world.desk_code},2025-07,120\n"
    replies = race(signed_in(app, "anh", N), lambda job: job[0].post(
        "/reports/volumes", content_type="multipart/form-data",
        data={"csrf_token": job[1], "file": _upload(volumes, "volumes.csv")}))
    _no_5xx(statuses(replies))
    assert count(app, DossierVolume) == 1
    rows = audited(app, "volumes_import")
    assert len(rows) == statuses(replies).count(302)
    assert sum(row.detail["inserted"] for row in rows) == 1


@races("/rounds/")
def test_the_same_round_created_six_times_at_once_is_one_round(app: Flask, world: World) -> None:
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post("/rounds/", data={
        "csrf_token": job[1], "code": "2027", "name": "Khảo sát SIPAS 2027", "year": "2027"}))
    _no_5xx(statuses(replies))
    assert count(app, SurveyRound, SurveyRound.code == "2027") == 1
    assert len(audited(app, "round.create")) == 1


@races("/rounds/<code>/listing")
def test_listing_counts_uploaded_at_once_are_one_files_counts(app: Flask, world: World) -> None:
    code = _round_code(app, world)
    jobs = [(client, token, f"psu,listed\n4711,{300 + k}\n")
            for k, (client, token) in enumerate(signed_in(app, "ha", N))]
    replies = race(jobs, lambda job: job[0].post(
        f"/rounds/{code}/listing", content_type="multipart/form-data",
        data={"csrf_token": job[1], "listing": _upload(job[2], "listing.csv")}))
    _no_5xx(statuses(replies))
    assert len(audited(app, "sample.listed")) == statuses(replies).count(302)
    with Session(_engine(app)) as session:
        listed = session.exec(select(SampleUnit.listed_persons)).one()
    assert listed in range(300, 300 + N)


@races("/rounds/<code>/publish")
def test_a_round_published_six_times_at_once_is_published_once(app: Flask, world: World) -> None:
    code = _fieldwork(app, world)
    with Session(_engine(app)) as session:
        compute_weights(session, code)
        session.commit()
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        f"/rounds/{code}/publish", data={"csrf_token": job[1], "confirmed": "1",
                                         "reason": "Đã xác nhận mọi phiếu"}))
    _no_5xx(statuses(replies))
    assert len(audited(app, "round.publish")) == 1
    assert count(app, SurveyRound, SurveyRound.code == code,
                 SurveyRound.status == "published") == 1


@races("/rounds/<code>/weights")
def test_weights_computed_six_times_at_once_are_one_set_of_weights(
    app: Flask, world: World
) -> None:
    """An open round's weights are recomputed in place: one version, one weight per
    response, whoever computed last (never two versions or a response weighted twice)."""
    code = _fieldwork(app, world)
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        f"/rounds/{code}/weights", data={"csrf_token": job[1], "min_respondents": "5"}))
    _no_5xx(statuses(replies))
    assert count(app, WeightsVersion) == 1
    assert count(app, ResponseWeight) == count(app, Response)
    assert len(audited(app, "weights.compute")) == statuses(replies).count(302) > 0
    assert count(app, SurveyRound, SurveyRound.code == code, SurveyRound.weights_version == 1) == 1


@races("/sample/draw")
def test_a_sample_drawn_six_times_at_once_is_one_sample(app: Flask, world: World) -> None:
    """A first draw sent six times: one sample (the others are told the round has one)."""
    with Session(_engine(app)) as session:
        import_frame(session, frame_csv(districts=2, communes=1, hamlets=2))
        hamlet = session.get(AdminUnit, world.hamlet_id)
        assert hamlet is not None
        hamlet.households = 150  # the world's own hamlet is in the frame too
        session.add(hamlet)
        session.add(SurveyRound(code="2027", name="Khảo sát SIPAS 2027", year=2027))
        session.commit()
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post("/sample/draw", data={
        "csrf_token": job[1], "round": "2027", "strata_level": "district",
        "hamlets_per_stratum": "1", "per_hamlet": "5", "seed": "7"}))
    _no_5xx(statuses(replies))
    assert len(audited(app, "sample.draw")) == 1
    with Session(_engine(app)) as session:
        round_id = session.exec(select(SurveyRound.id).where(SurveyRound.code == "2027")).one()
    strata = count(app, Stratum, Stratum.round_id == round_id)
    assert strata == 3  # two districts of the frame and the world's own
    assert count(app, SampleUnit, SampleUnit.round_id == round_id) == strata
    assert count(app, FieldAssignment) == strata


@races("/sample/frame")
def test_one_frame_imported_six_times_at_once_is_stored_once(app: Flask, world: World) -> None:
    """Each unit once; the imports that lost the race to create them changed nothing."""
    frame = frame_csv(districts=2, communes=1, hamlets=2)
    units = len(frame.strip().splitlines()) - 1
    replies = race(signed_in(app, "ha", N), lambda job: job[0].post(
        "/sample/frame", content_type="multipart/form-data",
        data={"csrf_token": job[1], "frame": _upload(frame, "frame.csv")}))
    _no_5xx(statuses(replies))
    assert count(app, AdminUnit, col(AdminUnit.code).startswith("90")) == units
    rows = audited(app, "frame.import")
    assert len(rows) == statuses(replies).count(302)
    assert sum(row.detail["created"] for row in rows) == units



# --- API tokens --------------------------------------------------------------------------


@races("/account/tokens/")
def test_tokens_made_at_once_never_pass_the_limit(app: Flask, world: World) -> None:
    """Six tokens asked for at once by one analyst with two places left: two are made, the
    others refused with the limit's message (each request counted the others)."""
    from survey.models_accounts import ApiToken
    from survey.services.api.tokens import MAX_TOKENS_PER_USER, create_token

    anh = _user_id(app, "anh")
    with Session(_engine(app)) as session:
        user = session.get(User, anh)
        assert user is not None
        for _ in range(MAX_TOKENS_PER_USER - 2):
            create_token(session, user, "earlier", None)
        session.commit()
    replies = race(signed_in(app, "anh", N, page="/account/tokens/"), lambda job: job[0].post(
        "/account/tokens/?lang=en", data={"csrf_token": job[1], "name": "Power BI",
                                          "days": "30"}))
    _no_5xx(statuses(replies))
    assert sorted(statuses(replies)) == [200, 200] + [422] * (N - 2)
    assert count(app, ApiToken, ApiToken.user_id == anh) == MAX_TOKENS_PER_USER
    assert len(audited(app, "api_token.create")) == MAX_TOKENS_PER_USER


@races("/account/tokens/<int:token_id>/revoke")
def test_one_token_revoked_six_times_at_once_is_revoked_once(app: Flask, world: World) -> None:
    from survey.models_accounts import ApiToken
    from survey.services.api.tokens import create_token

    with Session(_engine(app)) as session:
        user = session.get(User, _user_id(app, "anh"))
        assert user is not None
        made = create_token(session, user, "R", 30)
        session.commit()
        token_id = made.row.id
    replies = race(signed_in(app, "anh", N, page="/account/tokens/"), lambda job: job[0].post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": job[1]}))
    _no_5xx(statuses(replies))
    assert len(audited(app, "api_token.revoke", token_id)) == 1
    assert count(app, ApiToken, col(ApiToken.revoked_at).is_not(None)) == 1


@races("/api/v1/dossiers")
def test_the_same_dossiers_pushed_six_times_at_once_are_stored_once(app: Flask,
                                                                     world: World) -> None:
    """A one-stop system that retries (or runs twice) sends the same dossiers at the same
    instant: each dossier is one row, and the six answers account for every one of them."""
    from survey.models_dossiers import Dossier
    from survey.services.api.tokens import create_token

    with Session(_engine(app)) as session:
        user = session.get(User, _user_id(app, "ha"))
        assert user is not None
        token = create_token(session, user, "one-stop system", 30).secret
        session.commit()
    body = {"dossiers": [{"code": f"H12-2025-{k:04d}", "procedure_code": "1.001612",
                          "desk": world.desk_code, "received_at": "25/09/2025 08:15"}
                         for k in range(40)]}
    clients = [app.test_client() for _ in range(N)]
    replies = race(clients, lambda client: client.post(
        "/api/v1/dossiers", json=body, headers={"Authorization": f"Bearer {token}"}))
    _no_5xx(statuses(replies))
    assert statuses(replies) == [200] * N
    assert count(app, Dossier) == 40
    answers = [reply.get_json() for reply in replies]
    assert sum(a["inserted"] for a in answers) == 40
    assert all(a["inserted"] + a["unchanged"] + a["updated"] == 40 for a in answers)


@races("/followup/<int:case_id>")
def test_one_case_answered_by_six_at_once_chains_its_answers(app: Flask, world: World
                                                             ) -> None:
    """Six supervisors answer the same low rating at once: each answer starts from the state
    the one before left, the first answer's moment is kept, and closing happens once."""
    from survey.models_dossiers import FollowUp
    from survey.services.dossiers.follow_up import open_case
    from survey.services.responses import store_response
    from tests import factories

    with Session(_engine(app)) as session:
        version = factories.published(session, "desk_evaluation")
        desk = session.exec(select(Desk).where(Desk.code == world.desk_code)).one()
        stored = store_response(session, instrument_version=version, mode="qr",
                                client_uuid=factories.new_uuid(), answers={"overall": 1},
                                desk_id=desk.id)
        case = open_case(session, stored.response, desk, {"overall": 1})
        assert case is not None
        session.commit()
        case_id = case.id
    replies = race(signed_in(app, "ha", N, page="/followup/"), lambda job: job[0].post(
        f"/followup/{case_id}", data={"csrf_token": job[1], "status": "closed",
                                      "note": "Đã liên hệ công dân"}))
    _no_5xx(statuses(replies))
    assert sorted(statuses(replies)) == [302] + [422] * (N - 1)  # closed once
    rows = audited(app, "follow_up.closed", case_id)
    assert len(rows) == 1 and rows[0].detail == {"old": "open", "new": "closed"}
    assert count(app, FollowUp, FollowUp.status == "closed") == 1


@races("/api/v1/dossiers/link")
def test_six_links_asked_at_once_for_one_dossier_all_work_and_write_nothing(
        app: Flask, world: World) -> None:
    """A link writes nothing (it is signed, not stored): six asked at once are six valid
    links to the same dossier, and the dossier is still evaluated once (its hash is unique)."""
    from survey.models_dossiers import Dossier
    from survey.services.api.tokens import create_token
    from survey.services.desks.links import dossier_secret
    from survey.services.dossiers.records import DossierRow, store_dossiers

    with Session(_engine(app)) as session:
        user = session.get(User, _user_id(app, "ha"))
        desk = session.exec(select(Desk).where(Desk.code == world.desk_code)).one()
        assert user is not None
        token = create_token(session, user, "one-stop system", 30).secret
        store_dossiers(session, [DossierRow("H-RACE", "1.001612", "Khai sinh", "Hộ tịch", "",
                                            desk.id, None, None, None, "")],
                       dossier_secret(app.config["SECRET_KEY"]), "api")
        session.commit()
    before = len(audited(app, "api_token.create"))
    replies = race([app.test_client() for _ in range(N)], lambda client: client.post(
        "/api/v1/dossiers/link", json={"code": "H-RACE"},
        headers={"Authorization": f"Bearer {token}"}))
    _no_5xx(statuses(replies))
    assert statuses(replies) == [200] * N
    assert len({r.get_json()["url"].split("?h=")[0] for r in replies}) == 1
    assert count(app, Dossier) == 1 and len(audited(app, "api_token.create")) == before
