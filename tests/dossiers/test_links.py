"""Is a dossier's evaluation link single-use, expiring and unforgeable, does it show the
form with the dossier known, and are the answers the dossier gives stored with their source?"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlmodel import Session, select

from survey.models import Answer, Response, utcnow
from survey.models_dossiers import AnswerSource
from survey.services.desks.links import desk_token, dossier_secret
from survey.services.dossiers.links import make_link
from survey.services.dossiers.records import DossierRow, store_dossiers
from tests import factories
from tests.desks.conftest import hidden

ANSWERS = {"overall": "2", "staff_attitude": "4", "visits": "1", "posted_procedures": "9",
           "feedback_handling": "5", "comment": "Phải đi lại hai lần"}


def _world(app: Flask) -> None:
    secret = dossier_secret(app.config["SECRET_KEY"])
    now = utcnow()
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session, "desk_evaluation")
        a = factories.desk(session, code="MC-A", name="Bộ phận Một cửa xã A")
        factories.desk(session, code="MC-B", name="Bộ phận Một cửa xã B")
        session.flush()
        store_dossiers(session, [
            DossierRow("H-1", "1.001612", "Đăng ký khai sinh", "Hộ tịch", "UBND xã A", a.id,
                       now - timedelta(days=2), now - timedelta(days=1),
                       now - timedelta(days=1, hours=2), "CB1"),
            DossierRow("H-2", "1.004227", "Chứng thực", "Chứng thực", "UBND xã A", None, now,
                       None, None, "")], secret, "import")
        session.commit()


def _link(app: Flask, code: str = "H-1") -> str:
    with Session(app.extensions["sipas_engine"]) as session:
        made = make_link(session, "http://sipas.test", app.config["SECRET_KEY"], code)
    parts = urlsplit(made.url)
    return f"{parts.path}?{parts.query}"


def test_does_the_link_show_the_form_with_the_dossier_known_and_store_it_once(
        app: Flask) -> None:
    _world(app)
    path = _link(app)
    client = app.test_client()
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Đăng ký khai sinh" in html
    assert "no-cache" in page.headers["Cache-Control"]  # opened again, it is asked again
    for asked_no_more in ("dossier_code", "service_field", "on_time"):
        assert f'name="{asked_no_more}"' not in html  # known from the dossier, not typed
    fields = {"form_token": hidden(html, "form_token"), "iv": hidden(html, "iv"),
              "h": hidden(html, "h"), **ANSWERS, "on_time": "2", "service_field": "8"}
    sent = client.post(path.split("?")[0], data=fields)
    assert sent.status_code == 303, sent.get_data(as_text=True)[:500]
    with Session(app.extensions["sipas_engine"]) as session:
        response = session.exec(select(Response)).one()
        from survey.models_dossiers import Dossier

        dossier = session.exec(select(Dossier).where(Dossier.procedure_code == "1.001612")
                               ).one()
        assert response.dossier_hash == dossier.code_hash
        answers = {a.item_code: a.value_num for a in session.exec(
            select(Answer).where(Answer.response_id == response.id))}
        # the dossier's answers, not what was posted: Hộ tịch is choice 3; returned on time
        assert answers["service_field"] == 3 and answers["on_time"] == 1
        assert answers["overall"] == 2
        sources = {s.item_code: s.source for s in session.exec(select(AnswerSource))}
        assert sources == {"service_field": "dossier", "on_time": "dossier"}
    again = client.get(path)  # single use: the second opening is refused kindly
    assert again.status_code == 409 and "đã được đánh giá" in again.get_data(as_text=True)
    resent = client.post(path.split("?")[0], data={**fields, "form_token": hidden(
        client.get(path.split("?")[0]).get_data(as_text=True), "form_token")})
    assert resent.status_code == 409  # another form instance with the same link: refused
    with Session(app.extensions["sipas_engine"]) as session:
        assert len(session.exec(select(Response)).all()) == 1


def test_is_a_forged_foreign_or_expired_link_refused_kindly(app: Flask,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    _world(app)
    path = _link(app)
    client = app.test_client()
    base, query = path.split("?")
    token = query.removeprefix("h=")
    tampered = client.get(f"{base}?h={token[:-2]}xx")
    assert tampered.status_code == 404
    with Session(app.extensions["sipas_engine"]) as session:
        from survey.models import Desk

        other = session.exec(select(Desk).where(Desk.code == "MC-B")).one()
        other_path = "/d/" + desk_token(app.config["SECRET_KEY"], other)
    assert client.get(f"{other_path}?h={token}").status_code == 404  # another desk's form
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 31 * 86400)  # made 31 days ago
    old = _link(app)
    monkeypatch.setattr(time, "time", real)
    expired = client.get(old)
    assert expired.status_code == 410 and "hết hạn" in expired.get_data(as_text=True)
    app.config["DOSSIER_LINK_DAYS"] = 60  # a province that allows longer
    assert client.get(old).status_code == 200


def test_are_links_refused_for_unknown_deskless_or_evaluated_dossiers(app: Flask) -> None:
    from survey.messages import UserError

    _world(app)
    with Session(app.extensions["sipas_engine"]) as session:
        for code, words in (("NO-SUCH", "no dossier"), ("H-2", "names no desk")):
            with pytest.raises(UserError, match=words):
                make_link(session, "http://x", app.config["SECRET_KEY"], code)


def test_do_the_command_and_the_api_give_a_working_link_and_qr(app: Flask, runner, cli_env,
                                                              tmp_path) -> None:  # type: ignore[no-untyped-def]
    from survey.cli import main
    from survey.services.api.tokens import create_token
    from tests.desks.test_qr import decode_png
    from tests.dossiers.support import cli_key

    app.config["SECRET_KEY"] = cli_key()  # the command line's key signs and hashes
    _world(app)
    png = tmp_path / "receipt.png"
    done = runner.invoke(main, ["dossiers", "link", "H-1", "--qr", str(png)], env=cli_env)
    assert done.exit_code == 0, done.output
    url = done.stdout.strip()
    assert decode_png(png.read_bytes()) == url and re.search(r"/d/[^?]+\?h=", url)
    parts = urlsplit(url)
    assert app.test_client().get(f"{parts.path}?{parts.query}").status_code == 200
    with Session(app.extensions["sipas_engine"]) as session:
        writer = factories.user(session, "supervisor", username="mc")
        reader = factories.user(session, "analyst", username="pt")
        tokens = {u.role: create_token(session, u, "one-stop", 1).secret
                  for u in (writer, reader)}
        session.commit()
    client = app.test_client()
    reply = client.post("/api/v1/dossiers/link", json={"code": "H-1", "qr": True},
                        headers={"Authorization": f"Bearer {tokens['supervisor']}"})
    assert reply.status_code == 200 and reply.get_json()["qr_png_base64"]
    assert client.post("/api/v1/dossiers/link", json={"code": "H-1"}, headers={
        "Authorization": f"Bearer {tokens['analyst']}"}).status_code == 403
    missing = client.post("/api/v1/dossiers/link?lang=en", json={"code": "NOPE"},
                          headers={"Authorization": f"Bearer {tokens['supervisor']}"})
    assert missing.status_code == 409 and "no dossier" in missing.get_json()["message"]
    bad = runner.invoke(main, ["dossiers", "link", "NOPE"], env=cli_env)
    assert bad.exit_code != 0 and "no dossier" in bad.output
