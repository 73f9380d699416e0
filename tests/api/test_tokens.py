"""Are API tokens shown once, stored as hashes, revocable, expiring, audited, and do they act
only as an active reader of the data?"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select

from survey.models import AuditLog, User
from survey.models_accounts import ApiToken
from survey.services.api.tokens import create_token
from tests import factories
from tests.api.conftest import bearer
from tests.support import csrf_token, sign_in

PASSWORD = "token tests pass 1"


def _engine(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["sipas_engine"]


def _user(app: Flask, role: str, name: str) -> None:
    with Session(_engine(app)) as session:
        factories.user(session, role, username=name, password=PASSWORD)
        session.commit()


def _token(app: Flask, username: str, days: int | None = 30) -> str:
    with Session(_engine(app)) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        made = create_token(session, user, "R script", days)
        session.commit()
        return made.secret


def test_does_a_token_act_as_its_user_until_revoked_expired_or_disabled(app: Flask) -> None:
    _user(app, "analyst", "chi")
    secret = _token(app, "chi")
    client = app.test_client()
    me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200 and me.get_json() == {"username": "chi", "role": "analyst",
                                                      "token": "R script", "area": ""}
    basic = base64.b64encode(f"anyone:{secret}".encode()).decode()
    assert client.get("/api/v1/me", headers={"Authorization": f"Basic {basic}"}
                      ).status_code == 200  # what Excel and Power BI send
    with Session(_engine(app)) as session:
        row = session.exec(select(ApiToken)).one()
        assert secret not in (row.token_hash, row.prefix) and row.prefix == secret[:12]
        assert row.last_used_at is not None  # noted at use
        # the account disabled: the token stops at once
        session.execute(update(User).where(User.username == "chi").values(active=False))
        session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    with Session(_engine(app)) as session:
        session.execute(update(User).where(User.username == "chi")
                        .values(active=True, role="enumerator"))
        session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 403  # role now
    with Session(_engine(app)) as session:
        session.execute(update(User).where(User.username == "chi").values(role="analyst"))
        session.execute(update(ApiToken).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401  # expired


def test_is_a_bad_or_forged_token_a_401_never_a_500(app: Flask) -> None:
    for header in ("Bearer sipas_not-a-real-token", "Bearer ", "Basic !!!",
                   "Basic " + "A" * 5000, "Token abc", "Bearer " + "x" * 10_000,
                   "Basic " + base64.b64encode(b"\xff\xfe").decode()):
        reply = app.test_client().get("/api/v1/responses", headers={"Authorization": header})
        assert reply.status_code == 401 and reply.get_json()["code"] == 401, header[:20]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_are_bad_token_requests_refused_clearly(app: Flask) -> None:
    from survey.messages import UserError

    _user(app, "analyst", "chi")
    _user(app, "enumerator", "lan")
    with Session(_engine(app)) as session:
        chi = session.exec(select(User).where(User.username == "chi")).one()
        lan = session.exec(select(User).where(User.username == "lan")).one()
        for user, name, days, words in ((chi, "  ", 30, "name"), (chi, "x" * 101, 30, "100"),
                                        (chi, "ok", 0, "1 to 366"), (chi, "ok", 400, "366"),
                                        (lan, "ok", 30, "Data entry")):
            with pytest.raises(UserError, match=words):
                create_token(session, user, name, days)
        for _ in range(20):
            create_token(session, chi, "many", None)
        with pytest.raises(UserError, match="20 tokens"):
            create_token(session, chi, "one more", None)


def test_does_the_token_page_show_a_token_once_and_revoke_it(app: Flask) -> None:
    _user(app, "analyst", "chi")
    client = sign_in(app.test_client(), "chi", PASSWORD)
    page = client.get("/account/tokens/?lang=en")
    assert page.status_code == 200 and "API tokens" in page.get_data(as_text=True)
    token = csrf_token(client, "/account/tokens/")
    made = client.post("/account/tokens/?lang=en", data={"csrf_token": token,
                                                          "name": "Power BI", "days": "90"})
    text = made.get_data(as_text=True)
    assert made.status_code == 200 and "shown only once" in text
    import re

    secret = re.search(r'<code id="new-token">([^<]+)</code>', text).group(1)  # type: ignore[union-attr]
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200
    again = client.get("/account/tokens/?lang=en").get_data(as_text=True)
    assert secret not in again and secret[:12] in again  # listed by its start only
    with Session(_engine(app)) as session:
        token_id = session.exec(select(ApiToken.id)).one()
    bad = client.post("/account/tokens/?lang=en", data={"csrf_token": token, "name": "",
                                                         "days": "abc"})
    assert bad.status_code == 422 and "1 to 366" in bad.get_data(as_text=True)
    gone = client.post(f"/account/tokens/{token_id}/revoke",
                       data={"csrf_token": token}, follow_redirects=True)
    assert gone.status_code == 200
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
    with Session(_engine(app)) as session:
        actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions.count("api_token.create") == 1 and actions.count("api_token.revoke") == 1


def test_may_only_an_administrator_revoke_another_users_token(app: Flask) -> None:
    _user(app, "analyst", "chi")
    _user(app, "supervisor", "ha")
    _user(app, "admin", "quantri")
    secret = _token(app, "chi")
    with Session(_engine(app)) as session:
        token_id = session.exec(select(ApiToken.id)).one()
    other = sign_in(app.test_client(), "ha", PASSWORD)
    refused = other.post(f"/account/tokens/{token_id}/revoke",
                         data={"csrf_token": csrf_token(other, "/account/tokens/")})
    assert refused.status_code == 404
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200
    admin = sign_in(app.test_client(), "quantri", PASSWORD)
    assert "R script" in admin.get("/account/tokens/").get_data(as_text=True)
    admin.post(f"/account/tokens/{token_id}/revoke",
               data={"csrf_token": csrf_token(admin, "/account/tokens/")})
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_does_signing_out_everywhere_revoke_the_tokens_too(app: Flask) -> None:
    _user(app, "analyst", "chi")
    _user(app, "admin", "quantri")
    secret = _token(app, "chi", days=None)
    with Session(_engine(app)) as session:
        chi = session.exec(select(User.id).where(User.username == "chi")).one()
    admin = sign_in(app.test_client(), "quantri", PASSWORD)
    admin.post(f"/admin/users/{chi}/sessions",
               data={"csrf_token": csrf_token(admin, "/admin/users"), "confirmed": "1"})
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_do_the_token_commands_make_list_and_revoke(app: Flask, runner, cli_env) -> None:
    from survey.cli import main

    _user(app, "analyst", "chi")
    made = runner.invoke(main, ["token", "create", "chi", "--name", "Stata", "--days", "7"],
                         env=cli_env)
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200
    listed = runner.invoke(main, ["token", "list"], env=cli_env)
    assert "chi" in listed.output and "active" in listed.output and secret not in listed.output
    assert runner.invoke(main, ["token", "revoke", "1"], env=cli_env).exit_code == 0
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
    for args, words in ((["token", "create", "nobody", "--name", "x"], "no user"),
                        (["token", "revoke", "999"], "No such token"),
                        (["token", "create", "chi", "--name", "x", "--days", "0"], "0")):
        done = runner.invoke(main, args, env=cli_env)
        assert done.exit_code != 0 and words in done.output and "Traceback" not in done.output


def test_is_the_configured_limit_per_token_and_a_429_in_json(app: Flask) -> None:
    app.config["API_LIMIT"] = "3 per minute"
    _user(app, "analyst", "chi")
    _user(app, "analyst", "mai")
    first, second = _token(app, "chi"), _token(app, "mai")
    client = app.test_client()
    codes = [client.get("/api/v1/me", headers=bearer(first)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/me", headers=bearer(first)).get_json()["code"] == 429
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200  # its own
