"""Can a supervisor register, find and revoke a counter tablet, from the desk's page, the
command line and (for tickets) the API, with the key shown once and never stored?"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from urllib.parse import urlsplit

from flask import Flask
from sqlmodel import Session, func, select

from survey.models import AuditLog
from survey.models_kiosk import KioskDevice, KioskTicket
from tests import factories
from tests.desks.test_admin import csrf_of, login
from tests.desks.test_qr import decode_png
from tests.kiosk.conftest import ANSWERS, Tablet, evaluation, open_dossier_ticket, send


def _audit(app: Flask, action: str) -> int:
    with Session(app.extensions["sipas_engine"]) as session:
        return int(session.exec(select(func.count()).select_from(AuditLog)
                                .where(AuditLog.action == action)).one())


def test_a_tablet_added_on_the_desk_page_opens_once_shown_and_is_stored_hashed(
        app: Flask, tablet: Tablet) -> None:
    client = app.test_client()
    login(app, client, "supervisor")
    page = f"/desks/{tablet.desk_code}"
    token = csrf_of(client, page)
    added = client.post(page + "/kiosks", data={"name": "  Quầy   2 ", "csrf_token": token})
    assert added.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    url = re.search(r'<code class="url">(http[^<]+/kiosk/[^<]+)</code>', shown).group(1)  # type: ignore[union-attr]
    png = re.search(r'data:image/png;base64,([^"]+)"', shown).group(1)  # type: ignore[union-attr]
    import base64

    assert decode_png(base64.b64decode(png)) == url  # the QR to open on the tablet
    assert "Quầy 2" in shown and "Máy tính bảng tại quầy" in shown
    assert url not in client.get(page).get_data(as_text=True)  # shown once only
    key = urlsplit(url).path.rsplit("/", 1)[1]
    with Session(app.extensions["sipas_engine"]) as session:
        device = session.exec(select(KioskDevice).where(KioskDevice.name == "Quầy 2")).one()
        assert device.key_hash == hashlib.sha256(key.encode()).hexdigest() != key
    screen = app.test_client().get(urlsplit(url).path)
    assert screen.status_code == 200 and "Mời Anh/Chị đánh giá" in screen.get_data(as_text=True)
    assert screen.headers["Cache-Control"] == "no-store"
    assert _audit(app, "kiosk.register") == 2  # the fixture's and this one


def test_a_bad_name_is_refused_and_the_typed_name_kept(app: Flask, tablet: Tablet) -> None:
    client = app.test_client()
    login(app, client, "supervisor")
    page = f"/desks/{tablet.desk_code}"
    for name, words in (("", "Hãy đặt tên"), ("x" * 101, "tối đa 100"),
                        ("quầy 1", "đã có máy tính bảng tên")):
        reply = client.post(page + "/kiosks", data={"name": name, "csrf_token":
                                                   csrf_of(client, page)})
        html = reply.get_data(as_text=True)
        assert reply.status_code == 400 and words in html, name
        assert f'value="{name}"' in html  # nothing typed is lost
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(func.count()).select_from(KioskDevice)).one() == 1


def test_a_revoked_tablet_stops_at_once_everywhere(app: Flask, tablet: Tablet) -> None:
    client = app.test_client()
    login(app, client, "supervisor")
    page = f"/desks/{tablet.desk_code}"
    revoke = f"{page}/kiosks/{tablet.id}/revoke"
    asked = client.post(revoke, data={"csrf_token": csrf_of(client, page)})
    assert asked.status_code == 200 and "Thu hồi máy tính bảng Quầy 1?" in \
        asked.get_data(as_text=True)  # a confirmation first: nothing changed yet
    assert app.test_client().get(tablet.path).status_code == 200
    done = client.post(revoke, data={"csrf_token": csrf_of(client, page), "confirmed": "1"})
    assert done.status_code == 303
    kiosk = app.test_client()
    gone = kiosk.get(tablet.path)
    assert gone.status_code == 410 and "đã bị thu hồi" in gone.get_data(as_text=True)
    assert kiosk.get(tablet.path + "/ticket").status_code == 410
    assert send(kiosk, tablet, evaluation()).status_code == 410
    assert kiosk.get("/kiosk/" + "x" * 32).status_code == 404
    assert kiosk.get("/kiosk/" + "x" * 300).status_code == 404
    assert "đã thu hồi" in client.get(page).get_data(as_text=True)
    other = factories_desk(app)
    assert client.post(f"/desks/{other}/kiosks/{tablet.id}/revoke", data={
        "csrf_token": csrf_of(client, page), "confirmed": "1"}).status_code == 404
    assert _audit(app, "kiosk.revoke") == 1


def factories_desk(app: Flask) -> str:
    with Session(app.extensions["sipas_engine"]) as session:
        desk = factories.desk(session)
        session.commit()
        return desk.code


def test_six_supervisors_adding_one_name_at_once_make_one_tablet(
        app: Flask, tablet: Tablet) -> None:
    clients = []
    for n in range(6):
        client = app.test_client()
        with Session(app.extensions["sipas_engine"]) as session:
            factories.user(session, "supervisor", username=f"sup{n}", password="mật khẩu đủ dài")
            session.commit()
        form = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        client.post("/auth/login", data={"username": f"sup{n}", "password": "mật khẩu đủ dài",
                                         "csrf_token": token})
        clients.append((client, csrf_of(client, f"/desks/{tablet.desk_code}")))
    codes: list[int] = []
    barrier = threading.Barrier(6)

    def add(client, token) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        codes.append(client.post(f"/desks/{tablet.desk_code}/kiosks",
                                 data={"name": "Quầy 9", "csrf_token": token}).status_code)

    threads = [threading.Thread(target=add, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [303] + [400] * 5, codes
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(func.count()).select_from(KioskDevice)
                            .where(KioskDevice.name == "Quầy 9")).one() == 1
    assert _audit(app, "kiosk.register") == 2

    revoke = f"/desks/{tablet.desk_code}/kiosks/{tablet.id}/revoke"
    codes.clear()
    barrier.reset()

    def drop(client, token) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        codes.append(client.post(revoke, data={"csrf_token": token,
                                               "confirmed": "1"}).status_code)

    threads = [threading.Thread(target=drop, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [303] * 6
    assert _audit(app, "kiosk.revoke") == 1  # revoked once, however many asked


def test_the_queue_system_opens_tickets_through_the_api(app: Flask, tablet: Tablet) -> None:
    from survey.services.api.tokens import create_token

    with Session(app.extensions["sipas_engine"]) as session:
        writer = factories.user(session, "supervisor", username="queue")
        reader = factories.user(session, "analyst", username="reader")
        secrets = {u.role: create_token(session, u, "queue system", 30).secret
                   for u in (writer, reader)}
        session.commit()
    client = app.test_client()
    url = f"/api/v1/kiosk/{tablet.id}/ticket"
    auth = {"Authorization": f"Bearer {secrets['supervisor']}"}
    codes: list[int] = []
    barrier = threading.Barrier(6)

    def push() -> None:
        barrier.wait()
        codes.append(app.test_client().post(url, json={"ticket": "B-102"},
                                            headers=auth).status_code)

    threads = [threading.Thread(target=push) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] * 5 + [201], codes  # the same ticket sent six times: one
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(func.count()).select_from(KioskTicket)).one() == 1
    shown = client.get(tablet.path + "/ticket").get_json()["ticket"]
    assert shown["ref"] == "B-102"
    other = client.post(url, json={}, headers=auth)
    assert other.status_code == 201 and other.get_json()["ticket"] == ""
    assert client.post(url, json={"ticket": "B-1"}, headers={
        "Authorization": f"Bearer {secrets['analyst']}"}).status_code == 403
    assert client.post(url, json={"ticket": "x" * 41}, headers=auth).status_code == 422
    assert client.post(url, json={"ticket": "B", "extra": 1}, headers=auth).status_code == 422
    assert client.post("/api/v1/kiosk/999999/ticket", json={}, headers=auth).status_code == 404
    assert client.post("/api/v1/kiosk/99999999999999999999/ticket", json={},
                       headers=auth).status_code == 404  # beyond any id: not a 500
    with Session(app.extensions["sipas_engine"]) as session:
        from survey.models import Desk

        session.get(Desk, tablet.desk_id).active = False  # type: ignore[union-attr]
        session.commit()
    assert client.post(url, json={}, headers=auth).status_code == 410  # a disabled desk's
    with Session(app.extensions["sipas_engine"]) as session:
        from survey.services.kiosk.devices import revoke

        session.get(Desk, tablet.desk_id).active = True  # type: ignore[union-attr]
        revoke(session, tablet.id, None)
        session.commit()
    gone = client.post(url + "?lang=en", json={}, headers=auth)
    assert gone.status_code == 410 and "revoked" in gone.get_json()["message"]


def test_the_command_line_adds_lists_and_revokes(app: Flask, runner, cli_env, tmp_path  # type: ignore[no-untyped-def]
                                                 ) -> None:
    from survey.cli import main

    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session, "desk_evaluation")
        factories.desk(session, code="MC-K")
        session.commit()
    png = tmp_path / "tablet.png"
    added = runner.invoke(main, ["kiosk", "add", "MC-K", "--name", "Quầy 4", "--qr", str(png)],
                          env=cli_env)
    assert added.exit_code == 0, added.output
    url = added.stdout.strip()
    assert re.fullmatch(r"http\S+/kiosk/[\w-]{32}", url) and decode_png(png.read_bytes()) == url
    assert app.test_client().get(urlsplit(url).path).status_code == 200
    listed = runner.invoke(main, ["kiosk", "list", "MC-K"], env=cli_env)
    assert "Quầy 4" in listed.output and "active" in listed.output and "MC-K" in listed.output
    device_id = re.search(r"^\s*(\d+)\s+MC-K", listed.output, re.M).group(1)  # type: ignore[union-attr]
    assert runner.invoke(main, ["kiosk", "revoke", device_id], env=cli_env).exit_code == 0
    assert "revoked" in runner.invoke(main, ["kiosk", "list"], env=cli_env).output
    assert app.test_client().get(urlsplit(url).path).status_code == 410
    for args, words in ((["add", "NO-DESK", "--name", "x"], "no desk"),
                        (["add", "MC-K", "--name", " "], "name"),
                        (["revoke", "999999"], "no tablet")):
        bad = runner.invoke(main, ["kiosk", *args], env=cli_env)
        assert bad.exit_code != 0 and words in bad.output and "Traceback" not in bad.output


def test_a_tickets_dossier_ties_the_evaluation_once_and_never_costs_it(
        app: Flask, tablet: Tablet) -> None:
    from survey.models import Response
    from survey.services.api.tokens import create_token
    from survey.services.desks.links import dossier_secret
    from survey.services.responses import dossier_hash, store_response

    with Session(app.extensions["sipas_engine"]) as session:
        writer = factories.user(session, "supervisor", username="queue2")
        secret = create_token(session, writer, "queue system", 30).secret
        session.commit()
    client = app.test_client()
    url = f"/api/v1/kiosk/{tablet.id}/ticket"
    auth = {"Authorization": f"Bearer {secret}"}
    key = dossier_secret(app.config["SECRET_KEY"])

    def ticket(ref: str, dossier: str) -> int:
        made = client.post(url, json={"ticket": ref, "dossier": dossier}, headers=auth)
        assert made.status_code == 201, made.get_json()
        return int(made.get_json()["id"])

    def stored(made: str) -> Response:
        with Session(app.extensions["sipas_engine"]) as session:
            return session.exec(select(Response).where(
                Response.client_uuid == uuid.UUID(made))).one()

    first = ticket("A-1", " h01.2025.00001 ")
    body = evaluation(ticket=first)
    assert send(client, tablet, body).status_code == 201
    assert stored(body["uuid"]).dossier_hash == dossier_hash(key, "H01.2025.00001")
    assert send(client, tablet, body).status_code == 200  # a re-send: the same, not a 409
    again = client.post(url + "?lang=en", json={"ticket": "A-2", "dossier": "H01.2025.00001"},
                        headers=auth)
    assert again.status_code == 409 and "already been evaluated" in again.get_json()["message"]
    assert client.post(url, json={"dossier": "x"}, headers=auth).status_code == 422
    # the dossier evaluated by its QR code between the ticket and the tablet's evaluation:
    # the tablet's evaluation is stored all the same, without the dossier
    second = ticket("A-3", "H01.2025.00002")
    with Session(app.extensions["sipas_engine"]) as session:
        from survey.services.instruments import latest_version

        store_response(session, instrument_version=latest_version(session, "desk_evaluation"),
                       client_uuid=factories.new_uuid(), mode="qr", answers={"overall": 5},
                       dossier_secret=key, dossier_code="H01.2025.00002",
                       desk_id=tablet.desk_id)
        session.commit()
    late = evaluation(ticket=second)
    assert send(client, tablet, late).status_code == 201
    assert stored(late["uuid"]).dossier_hash is None
    assert send(client, tablet, late).status_code == 200
    rated = stored(late["uuid"]).id
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.get(KioskTicket, second).response_id == rated  # type: ignore[union-attr]


def test_what_the_tickets_dossier_answers_is_taken_from_it_not_asked(
        app: Flask, tablet: Tablet) -> None:
    from survey.models_dossiers import AnswerSource

    client = app.test_client()
    ticket = open_dossier_ticket(app, tablet, "B-7", returned_late=True)
    shown = client.get(tablet.path + "/ticket").get_json()["ticket"]
    assert shown["known"] == {"service_field": 3, "on_time": 2}  # civil status, late
    answers = {k: v for k, v in ANSWERS.items() if k not in ("service_field", "on_time")}
    body = evaluation({**answers, "on_time": 1}, ticket=ticket)  # what was sent is not kept
    assert send(client, tablet, body).status_code == 201
    assert send(client, tablet, body).status_code == 200
    with Session(app.extensions["sipas_engine"]) as session:
        from survey.models import Answer, Response

        stored = session.exec(select(Response).where(
            Response.client_uuid == uuid.UUID(body["uuid"]))).one()
        given = {a.item_code: a.value_num for a in session.exec(
            select(Answer).where(Answer.response_id == stored.id))}
        sources = {s.item_code: s.source for s in session.exec(
            select(AnswerSource).where(AnswerSource.response_id == stored.id))}
    assert given["service_field"] == 3 and given["on_time"] == 2
    assert sources == {"service_field": "dossier", "on_time": "dossier"}
    assert stored.dossier_hash is not None

