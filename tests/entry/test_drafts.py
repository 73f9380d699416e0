"""Does a keyed pass survive what happens to keyers: a closed tab, a failed check, a login that
expires mid-questionnaire? Nothing typed may be lost, and nothing half-typed may be stored."""

from __future__ import annotations

import time

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import Response
from survey.models_entry import Keying
from tests.entry.conftest import PASSWORD, World, csrf, full_answers, login, logout, start


def _keying(app: Flask) -> Keying:
    with Session(app.extensions["sipas_engine"]) as session:
        return session.exec(select(Keying)).one()


def _half(answers: dict[str, str]) -> dict[str, str]:
    keep = list(answers)[:20]
    return {k: answers[k] for k in keep}


def _expire(client: FlaskClient) -> None:
    with client.session_transaction() as state:
        state["seen_at"] = time.time() - 3 * 3600  # idle far beyond SESSION_IDLE_MINUTES


def test_autosave_keeps_the_typing_and_opening_the_pass_brings_it_back(
        app: Flask, client: FlaskClient, world: World) -> None:
    login(client, "lan")
    path = start(client, world.qid(1))
    typed = _half(full_answers())
    token = csrf(client, path)
    reply = client.post(path + "/draft", data={**typed, "csrf_token": token})
    assert reply.status_code == 200 and reply.get_json()["saved"]
    page = client.get(path).get_data(as_text=True)
    assert 'id="restored"' in page
    for code, value in typed.items():
        assert f'name="{code}" value="{value}"' in page, code
    assert _keying(app).state == "draft"
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(Response)).all() == []  # a draft is never data


def test_a_submit_after_the_login_expired_keeps_the_pass_and_returns_to_it(
        app: Flask, client: FlaskClient, world: World) -> None:
    app.config["ENTRY_DOUBLE_SHARE"] = 0.0
    login(client, "lan")
    path = start(client, world.qid(2))
    answers = full_answers()
    token = csrf(client, path)
    _expire(client)
    reply = client.post(path, data={**answers, "csrf_token": token})
    assert reply.status_code == 302 and "/auth/login" in reply.headers["Location"]
    login_page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Những gì bạn đã gõ vẫn được giữ" in login_page
    assert _keying(app).draft is not None
    # log in again: straight back to the same pass, every answer in place
    back = client.post(reply.headers["Location"], data={
        "username": "lan", "password": PASSWORD, "csrf_token": csrf(client, "/auth/login")})
    assert back.status_code == 302 and back.headers["Location"].endswith(path)
    page = client.get(path).get_data(as_text=True)
    for code, value in answers.items():
        if code != "comment":
            assert f'name="{code}" value="{value}"' in page, code
    saved = client.post(path, data={**answers, "csrf_token": csrf(client, path)})
    assert saved.status_code == 302
    keying = _keying(app)
    assert keying.state == "done" and keying.draft is None
    with Session(app.extensions["sipas_engine"]) as session:
        assert len(session.exec(select(Response)).all()) == 1


def test_an_expired_autosave_is_kept_and_says_where_to_log_in(
        app: Flask, client: FlaskClient, world: World) -> None:
    login(client, "lan")
    path = start(client, world.qid(3))
    token = csrf(client, path)
    _expire(client)
    reply = client.post(path + "/draft", data={"outcome": "1", "a_sex": "2",
                                                "csrf_token": token})
    assert reply.status_code == 401 and path in reply.get_json()["login"]
    assert '"a_sex": "2"' in (_keying(app).draft or "")
    # the keyer finishes the paper anyway and presses Save: the whole pass is kept too
    answers = full_answers()
    saved = client.post(path, data={**answers, "csrf_token": token})
    assert saved.status_code == 302 and "/auth/login" in saved.headers["Location"]
    assert f'"c5_3": "{answers["c5_3"]}"' in (_keying(app).draft or "")
    # ... but only for that keyer's own drafts, and never once someone logs in
    login(client, "hung")
    assert client.post(path + "/draft", data={"a_sex": "1", "csrf_token": csrf(
        client, "/entry/")}).status_code == 404


def test_a_failed_check_keeps_the_draft_too(app: Flask, client: FlaskClient,
                                            world: World) -> None:
    login(client, "lan")
    path = start(client, world.qid(4))
    reply = client.post(path, data={"outcome": "1", "a_sex": "2",
                                    "csrf_token": csrf(client, path)})
    assert reply.status_code == 422
    assert '"a_sex": "2"' in (_keying(app).draft or "")


def test_drafts_belong_to_their_keyer_and_end_with_the_pass(
        app: Flask, client: FlaskClient, world: World) -> None:
    app.config["ENTRY_DOUBLE_SHARE"] = 0.0
    login(client, "lan")
    path = start(client, world.qid(5))
    logout(client)
    login(client, "hung")
    stranger = client.post(path + "/draft", data={"a_sex": "1", "csrf_token": csrf(client,
                                                                                   "/entry/")})
    assert stranger.status_code == 404 and _keying(app).draft is None
    logout(client)
    login(client, "lan")
    client.post(path, data={**full_answers(), "csrf_token": csrf(client, path)})
    late = client.post(path + "/draft", data={"a_sex": "1", "csrf_token": csrf(client,
                                                                               "/entry/")})
    assert late.status_code == 409  # a late autosave of a saved pass changes nothing
    assert _keying(app).draft is None


def test_a_revoked_login_keeps_nothing_even_from_a_copied_cookie(
        app: Flask, client: FlaskClient, world: World) -> None:
    """After "sign out everywhere" (or a password change), an old cookie — whose login then
    also ran out — can no longer write into the keyer's draft."""
    login(client, "lan")
    path = start(client, world.qid(6))
    token = csrf(client, path)
    _expire(client)
    client.post(path + "/draft", data={"a_sex": "2", "csrf_token": token})  # kept: genuine
    assert '"a_sex": "2"' in (_keying(app).draft or "")
    with Session(app.extensions["sipas_engine"]) as session:
        from survey.models import User
        from survey.services.staff_sessions import revoke_user_sessions

        lan = session.exec(select(User).where(User.username == "lan")).one()
        revoke_user_sessions(session, lan.id)  # type: ignore[arg-type]
        session.commit()
    forged = client.post(path + "/draft", data={"a_sex": "1", "csrf_token": token})
    assert forged.status_code in (302, 401)
    assert '"a_sex": "2"' in (_keying(app).draft or "")  # unchanged
