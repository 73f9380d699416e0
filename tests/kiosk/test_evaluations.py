"""Does a counter tablet's evaluation get stored once, when it was given, with its ticket?"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from survey.models import Answer, DeskTally, Response
from survey.models_dossiers import FollowUp
from survey.models_kiosk import KioskTicket
from survey.services.kiosk.devices import open_ticket
from tests.kiosk.conftest import ANSWERS, Tablet, evaluation, send


def _rows(app: Flask) -> list[Response]:
    with Session(app.extensions["sipas_engine"]) as session:
        return list(session.exec(select(Response).order_by(Response.id)).all())


def _answers(app: Flask, response_id: int) -> dict[str, object]:
    with Session(app.extensions["sipas_engine"]) as session:
        rows = session.exec(select(Answer).where(Answer.response_id == response_id)).all()
        return {a.item_code: a.value_num if a.value_num is not None else a.value_text
                for a in rows}


def test_is_an_evaluation_stored_once_as_a_kiosk_one_when_it_was_given(
        app: Flask, tablet: Tablet) -> None:
    client = app.test_client()
    body = evaluation(answered_at=(datetime.now(UTC) - timedelta(hours=3)).isoformat())
    first = send(client, tablet, body)
    assert first.status_code == 201, first.get_json()
    again = send(client, tablet, body)  # the reply was lost: the tablet sends it again
    assert again.status_code == 200 and again.get_json()["reference"] == \
        first.get_json()["reference"]
    [stored] = _rows(app)
    assert stored.mode == "kiosk" and stored.desk_id == tablet.desk_id
    assert abs(stored.created_at.replace(tzinfo=UTC) - datetime.fromisoformat(
        body["answered_at"])) < timedelta(seconds=1)  # counted when given, not when received
    assert _answers(app, stored.id) == {**{k: float(v) for k, v in ANSWERS.items()
                                           if isinstance(v, int)}, "comment": "Nhanh, gọn"}
    with Session(app.extensions["sipas_engine"]) as session:
        tally = session.exec(select(DeskTally)).all()
        assert [(t.mode, t.n) for t in tally] == [("kiosk", 1)]
    changed = send(client, tablet, {**body, "answers": {**ANSWERS, "overall": 1}})
    assert changed.status_code == 409 and len(_rows(app)) == 1


def test_a_low_rating_keeps_its_reasons_and_opens_a_case(app: Flask, tablet: Tablet) -> None:
    client = app.test_client()
    low = send(client, tablet, evaluation({**ANSWERS, "overall": 2, "low_reasons": [1, 3]}))
    assert low.status_code == 201, low.get_json()
    # a reason left ticked after the rating was raised is not asked, so not kept
    high = send(client, tablet, evaluation({**ANSWERS, "overall": 4, "low_reasons": [2]}))
    assert high.status_code == 201
    first, second = _rows(app)
    assert _answers(app, first.id)["low_reasons"] == "1 3"
    assert "low_reasons" not in _answers(app, second.id)
    with Session(app.extensions["sipas_engine"]) as session:
        cases = session.exec(select(FollowUp)).all()
        assert [(c.response_id, c.rating) for c in cases] == [(first.id, 2)]


MALFORMED = [
    ("not json", "JSON object"),
    ({"answers": ANSWERS, "answered_at": "2026-01-01T00:00:00+00:00"}, "uuid"),
    ({**evaluation(), "answered_at": "yesterday"}, "answered_at"),
    ({**evaluation(), "answered_at": "2026-12-01T10:00:00"}, "answered_at"),  # no zone
    ({**evaluation(), "answers": ["overall", 5]}, "item codes"),
    ({**evaluation(), "answers": {"overall": True}}, "item codes"),
]


def test_is_a_malformed_evaluation_refused_in_words(app: Flask, tablet: Tablet) -> None:
    client = app.test_client()
    for body, words in MALFORMED:
        url = tablet.path + "/evaluations?lang=en"
        reply = client.post(url, data=body) if isinstance(body, str) else \
            client.post(url, json=body)
        assert reply.status_code == 422 and words in reply.get_json()["message"], body
    assert _rows(app) == []


def test_are_wrong_answers_named_and_nothing_stored(app: Flask, tablet: Tablet) -> None:
    client = app.test_client()
    reply = client.post(tablet.path + "/evaluations?lang=en", json=evaluation(
        {**ANSWERS, "overall": 7, "visits": 99, "staff_attitude": None}))
    assert reply.status_code == 422
    assert set(reply.get_json()["errors"]) == {"overall", "visits", "staff_attitude"}
    vi = client.post(tablet.path + "/evaluations?lang=vi", json=evaluation(
        {**ANSWERS, "staff_attitude": None}))
    assert "bắt buộc" in vi.get_json()["errors"]["staff_attitude"]
    assert _rows(app) == []


def test_old_queued_evaluations_are_refused_and_future_ones_taken_as_now(
        app: Flask, tablet: Tablet) -> None:
    client = app.test_client()
    old = send(client, tablet, evaluation(
        answered_at=(datetime.now(UTC) - timedelta(days=15)).isoformat()))
    assert old.status_code == 422 and "14" in old.get_json()["message"]
    ahead = send(client, tablet, evaluation(
        answered_at=(datetime.now(UTC) + timedelta(days=2)).isoformat()))
    assert ahead.status_code == 201
    [stored] = _rows(app)
    assert stored.created_at.replace(tzinfo=UTC) <= datetime.now(UTC)


def test_does_a_ticket_reach_the_waiting_tablet_once_and_tie_the_evaluation(
        app: Flask, tablet: Tablet) -> None:
    client = app.test_client()
    assert client.get(tablet.path + "/ticket").get_json() == {"ticket": None}
    with Session(app.extensions["sipas_engine"]) as session:
        from survey.models_kiosk import KioskDevice

        device = session.get(KioskDevice, tablet.id)
        ticket, new = open_ticket(session, device, "A-017", timedelta(seconds=30))
        again, new_again = open_ticket(session, device, "A-017", timedelta(seconds=30))
        session.commit()
        ticket_id = ticket.id
    assert new and not new_again and again.id == ticket_id  # a retried send is one ticket
    waiting = client.get(tablet.path + "/ticket").get_json()["ticket"]
    assert waiting == {"id": ticket_id, "ref": "A-017", "known": {}}
    # shown once: the tablet asks for newer ones only
    assert client.get(f"{tablet.path}/ticket?after={ticket_id}").get_json() == {"ticket": None}
    for odd in ("²", "-1", "x", "9" * 30):  # read as "none shown yet", never a 500
        assert client.get(f"{tablet.path}/ticket?after={odd}").status_code == 200
    assert send(client, tablet, evaluation(ticket=ticket_id)).status_code == 201
    assert send(client, tablet, evaluation(ticket=ticket_id)).status_code == 201  # stored,
    first, _second = _rows(app)  # but the ticket stays the first evaluation's
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.get(KioskTicket, ticket_id).response_id == first.id  # type: ignore[union-attr]
    app.config["KIOSK_RESET_SECONDS"] = 0  # a ticket older than the screen stays up is gone
    with Session(app.extensions["sipas_engine"]) as session:
        open_ticket(session, session.get(KioskDevice, tablet.id), "A-018", timedelta(0))
        session.commit()
    assert client.get(tablet.path + "/ticket").get_json() == {"ticket": None}


def test_a_tablet_tapped_again_and_again_is_held_not_refused(app: Flask, tablet: Tablet) -> None:
    app.config["KIOSK_HOLD_DEVICE"] = 3
    client = app.test_client()
    codes = [send(client, tablet, evaluation()).status_code for _ in range(5)]
    assert codes == [201] * 5
    assert [r.status for r in _rows(app)] == ["received"] * 3 + ["held"] * 2
    # one answered two hours ago, sent now from the queue: the window before its own moment
    # is empty, whatever was stored since
    late = send(client, tablet, evaluation(
        answered_at=(datetime.now(UTC) - timedelta(hours=2)).isoformat()))
    assert late.status_code == 201 and _rows(app)[-1].status == "received"


def test_six_sends_of_one_evaluation_at_once_store_it_once(app: Flask, tablet: Tablet) -> None:
    body = evaluation()
    codes: list[int] = []
    barrier = threading.Barrier(6)

    def one() -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(send(client, tablet, body).status_code)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] * 5 + [201], codes
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(func.count()).select_from(Response)).one() == 1
        assert session.exec(select(func.count()).select_from(Answer)).one() == len(ANSWERS)


def test_a_huge_body_is_refused_before_it_is_read(app: Flask, tablet: Tablet) -> None:
    reply = send(app.test_client(), tablet, evaluation({**ANSWERS, "comment": "x" * 70_000}))
    assert reply.status_code == 413 and _rows(app) == []


def test_a_bad_kiosk_setting_stops_the_app_at_start(db_url: str, instance_dir: object) -> None:
    from survey.app import create_app
    from survey.config import ConfigError

    for name, value in (("KIOSK_RESET_SECONDS", "30s"), ("KIOSK_POLL_SECONDS", 0),
                        ("KIOSK_HOLD_DEVICE", "many")):
        with pytest.raises(ConfigError, match=name):
            create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": db_url,
                        name: value})


def test_a_tablet_is_limited_on_its_own_key_not_on_the_centres_address(
        app: Flask, tablet: Tablet) -> None:
    # twenty tablets and the citizens' phones of one centre share one public address
    app.config.update(DESK_LIMIT_ADDRESS="5 per minute", KIOSK_LIMIT_DEVICE="8 per minute")
    client = app.test_client()
    codes = [client.get(tablet.path + "/ticket").status_code for _ in range(9)]
    assert codes == [200] * 8 + [429]
    refused = client.get(tablet.path + "/ticket")
    assert refused.headers["Retry-After"] and "message" in refused.get_json()
    unknown = [client.get("/kiosk/" + "u" * 32 + "/ticket").status_code for _ in range(6)]
    assert unknown == [404] * 5 + [429]  # what names no tablet: the address's flood guard
    pages = [client.get(tablet.path) for _ in range(9)]  # the page: its own count
    assert [p.status_code for p in pages] == [200] * 8 + [429]
    assert "text/html" in pages[-1].headers["Content-Type"]  # a kind page, not JSON
