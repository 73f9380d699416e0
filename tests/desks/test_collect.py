"""Can a citizen evaluate a desk from its QR link, once, in Vietnamese or English?"""

from __future__ import annotations

import logging
import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, text
from sqlmodel import Session, select

from survey.models import Answer, Response
from survey.models_desk import DeskContact, DeskSignal
from survey.services.desks.links import dossier_secret, rotate_desk, set_desk_active
from survey.services.responses import dossier_hash
from tests.desks.conftest import GOOD_ANSWERS, DeskLink, open_form, submit


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_form_is_vietnamese_with_a_fieldset_and_legend_per_question(
    client: FlaskClient, desk_link: DeskLink
) -> None:
    page = client.get(desk_link.path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="vi">' in html
    assert "Đánh giá mức độ hài lòng tại bộ phận một cửa" in html
    assert "Bộ phận Một cửa xã Phú Lâm" in html
    questions = ["dossier_code", "service_field", "overall", "on_time", "staff_attitude",
                 "visits", "posted_procedures", "feedback_handling", "comment"]
    for code in questions:
        assert f'<fieldset id="q-{code}"' in html, code
    assert html.count("<fieldset") == html.count("<legend") == len(questions) + 1  # + contact
    assert "<script" not in html  # works without JavaScript
    assert re.search(r'name="form_token" value="[\w.-]{40,}"', html)
    assert 'name="client_uuid"' not in html and 'name="csrf_token"' not in html  # no cookie needed


def test_form_and_its_stylesheet_weigh_at_most_50_kb(
    client: FlaskClient, desk_link: DeskLink
) -> None:
    html = client.get(desk_link.path).get_data()
    with client.get("/static/collect.css") as style:
        css = style.get_data()
    assert len(html) + len(css) <= 50 * 1024


def test_english_switch_translates_the_questions(
    client: FlaskClient, desk_link: DeskLink
) -> None:
    html = client.get(desk_link.path + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Which field was your procedure in?" in html
    assert "Send evaluation" in html


def _instance_uuid(app: Flask, db: Session, desk_link: DeskLink, token: str) -> uuid.UUID:
    from survey.services.desks.form_tokens import read_form
    from survey.services.desks.links import get_desk

    desk_id = get_desk(db, desk_link.code).id
    db.rollback()
    return read_form(app.config["SECRET_KEY"], token, desk_id).client_uuid  # type: ignore[arg-type]


def test_each_rendered_form_is_its_own_server_signed_instance(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    first = open_form(client, desk_link.path)["form_token"]
    second = open_form(client, desk_link.path)["form_token"]
    assert first != second
    assert _instance_uuid(app, db, desk_link, first).version == 4


def test_a_submission_is_stored_with_its_desk_and_thanks_the_citizen(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    posted, data = submit(client, desk_link.path)
    assert posted.status_code == 303 and "/d/thanks/" in posted.headers["Location"]
    thanks = client.get(posted.headers["Location"]).get_data(as_text=True)
    response = db.exec(select(Response)).one()
    assert "Cảm ơn" in thanks and "Bộ phận Một cửa xã Phú Lâm" in thanks  # names the desk
    reference = response.client_uuid.hex[:8].upper()
    assert f"{reference[:4]}-{reference[4:]}" in thanks  # a reference to quote
    assert response.mode == "qr" and response.client_uuid == _instance_uuid(
        app, db, desk_link, data["form_token"])
    answers = {a.item_code: a for a in db.exec(select(Answer)).all()}
    assert answers["overall"].value_num == 5 and answers["comment"].value_text == GOOD_ANSWERS[
        "comment"]
    assert db.exec(select(DeskSignal)).one().response_id == response.id


def test_a_resent_identical_submission_is_stored_once_and_thanked_again(
    client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    first, data = submit(client, desk_link.path, dossier_code="H01.2025.00001")
    again = client.post(desk_link.path, data=data)
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _count(db, Response) == 1 and _count(db, DeskSignal) == 1


def test_other_answers_under_a_used_form_are_refused_clearly(
    client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    _first, data = submit(client, desk_link.path)
    changed = client.post(desk_link.path, data={**data, "overall": "1"})
    assert changed.status_code == 409
    assert "Biểu mẫu này đã được gửi" in changed.get_data(as_text=True)
    assert _count(db, Response) == 1
    stored = db.exec(select(Answer).where(Answer.item_code == "overall")).one()
    assert stored.value_num == 5


def test_a_dossier_is_evaluated_once_and_the_second_try_stores_nothing(
    client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    assert submit(client, desk_link.path, dossier_code="h01.2025.00042")[0].status_code == 303
    second, _ = submit(client, desk_link.path, dossier_code=" H01.2025.00042 ", overall="2")
    assert second.status_code == 409
    assert "Hồ sơ này đã được đánh giá" in second.get_data(as_text=True)
    assert _count(db, Response) == 1 and _count(db, Answer) == len(GOOD_ANSWERS)
    assert _count(db, DeskSignal) == 1


def test_the_dossier_code_is_stored_only_as_a_keyed_hash(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    submit(client, desk_link.path, dossier_code="H01.2025.00777")
    response = db.exec(select(Response)).one()
    secret = dossier_secret(app.config["SECRET_KEY"])
    assert response.dossier_hash == dossier_hash(secret, "H01.2025.00777")
    assert db.exec(select(Answer).where(Answer.item_code == "dossier_code")).first() is None
    dump = " ".join(str(row) for row in db.connection().execute(text("SELECT * FROM answer")))
    dump += " ".join(str(row) for row in db.connection().execute(text("SELECT * FROM response")))
    assert "00777" not in dump


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"overall": ""}, "overall", "Câu này bắt buộc trả lời"),
        ({"overall": "7"}, "overall", "không có trong danh sách lựa chọn"),
        ({"visits": "0"}, "visits", "Giá trị phải trong khoảng 1–20"),
        ({"dossier_code": "ab"}, "dossier_code", "Mã hồ sơ không đúng định dạng"),
        ({"contact_phone": "12345"}, "contact_phone", "Số điện thoại không hợp lệ"),
        ({"contact_phone": "0912345678"}, "contact_phone", "Hãy đánh dấu đồng ý"),
    ],
)
def test_bad_answers_are_shown_next_to_their_question_and_nothing_is_stored(
    client: FlaskClient, desk_link: DeskLink, db: Session, fields: dict[str, str], field: str,
    message: str,
) -> None:
    page, data = submit(client, desk_link.path, **fields)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert f'<fieldset id="q-{field}" class="q invalid"' in html
    assert message in html
    assert f'name="form_token" value="{data["form_token"]}"' in html  # same form instance
    assert 'value="5" checked' in html or field == "overall"  # entries are kept
    assert _count(db, Response) == 0


def test_a_made_up_form_instance_stores_nothing_and_keeps_every_answer(
    client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    fields = open_form(client, desk_link.path)
    page = client.post(desk_link.path, data={**fields, **GOOD_ANSWERS, "form_token": "forged"})
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and _count(db, Response) == 0
    assert "Chưa có gì được lưu" in html and GOOD_ANSWERS["comment"] in html
    assert 'name="overall" value="5" checked' in html
    fresh = re.search(r'name="form_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert fresh not in ("forged", fields["form_token"])
    db.rollback()
    again = client.post(desk_link.path, data={**fields, **GOOD_ANSWERS, "form_token": fresh})
    assert again.status_code == 303 and _count(db, Response) == 1  # one tap sends it


def test_an_expired_form_keeps_the_answers_and_sends_with_one_more_tap(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    fields = open_form(client, desk_link.path)
    app.config["DESK_FORM_MAX_AGE"] = -1  # every form instance has expired
    page = client.post(desk_link.path, data={**fields, **GOOD_ANSWERS})
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "đã hết hạn" in html and GOOD_ANSWERS["comment"] in html
    assert _count(db, Response) == 0
    app.config["DESK_FORM_MAX_AGE"] = 3600
    fresh = re.search(r'name="form_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    db.rollback()
    assert client.post(desk_link.path, data={**fields, **GOOD_ANSWERS,
                                             "form_token": fresh}).status_code == 303


def test_a_form_of_another_desk_is_not_this_desks_form(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    from survey.services.desks.form_tokens import issue_form

    other = issue_form(app.config["SECRET_KEY"], 999_999).token
    fields = open_form(client, desk_link.path)
    page = client.post(desk_link.path, data={**fields, **GOOD_ANSWERS, "form_token": other})
    assert page.status_code == 400 and _count(db, Response) == 0


def test_switching_language_mid_form_keeps_the_answers_and_stores_nothing(
    client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    fields = open_form(client, desk_link.path)
    page = client.post(desk_link.path + "?lang=en",
                       data={**fields, "overall": "4", "comment": "Nhanh", "switch_lang": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="en">' in html and "Send evaluation" in html
    assert 'name="overall" value="4" checked' in html and "Nhanh" in html
    assert f'value="{fields["form_token"]}"' in html  # still the same form instance
    assert _count(db, Response) == 0


def test_the_thank_you_page_opened_directly_says_nothing_was_recorded(
    client: FlaskClient, desk_link: DeskLink
) -> None:
    for path in ("/d/thanks", "/d/thanks/forged"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 404 and "Chưa ghi nhận" in html and "Cảm ơn" not in html


def test_the_error_summary_names_each_question_by_number_and_text(
    client: FlaskClient, desk_link: DeskLink
) -> None:
    page, _ = submit(client, desk_link.path, overall="", on_time="")
    html = page.get_data(as_text=True)
    summary = html[html.index('id="errors"'):html.index("</ul>", html.index('id="errors"'))]
    assert re.search(r'href="#q-overall">\d+\. [^<]*hài lòng[^<]* — Câu này bắt buộc', summary)
    assert 'href="#q-on_time">' in summary and summary.count("<li>") == 2


def test_a_resend_that_adds_a_consented_phone_keeps_the_number(
    client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    first, data = submit(client, desk_link.path)
    again = client.post(desk_link.path, data={**data, "contact_phone": "0912345678",
                                              "contact_consent": "yes"})
    assert first.status_code == again.status_code == 303
    assert _count(db, Response) == 1 and db.exec(select(DeskContact)).one().phone == "0912345678"


def test_oversized_bodies_get_a_kind_413_and_nothing_is_echoed(
    client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    fields = open_form(client, desk_link.path)
    huge = "x" * (1024 * 1024)
    page = client.post(desk_link.path, data={**fields, **GOOD_ANSWERS, "comment": huge})
    html = page.get_data(as_text=True)
    assert page.status_code == 413 and "quá lớn" in html and huge[:5000] not in html
    assert _count(db, Response) == 0
    db.rollback()  # SQLite transactions take the write lock: release it before the request
    long_comment = "y" * 5000  # under the body limit, over the comment limit
    page = client.post(desk_link.path, data={**fields, **GOOD_ANSWERS, "comment": long_comment})
    assert page.status_code == 422 and long_comment not in page.get_data(as_text=True)


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_rotated_and_disabled_links_get_friendly_pages(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session, method: str
) -> None:
    def call(path: str):  # type: ignore[no-untyped-def]
        return getattr(client, method)(path)

    tampered = desk_link.path[:-2] + ("AA" if not desk_link.path.endswith("AA") else "BB")
    for path, status, words in [
        (tampered, 404, "Đường dẫn không hợp lệ"),
        ("/d/" + "x" * 300, 404, "Đường dẫn không hợp lệ"),
        ("/d/WyJEOTkiLDFd.bm90LWEtc2lnbmF0dXJl", 404, "Đường dẫn không hợp lệ"),
    ]:
        page = call(path)
        assert page.status_code == status and words in page.get_data(as_text=True)
    rotate_desk(db, desk_link.code)
    db.commit()
    page = call(desk_link.path)
    assert page.status_code == 410 and "Mã QR này đã được thay" in page.get_data(as_text=True)
    set_desk_active(db, desk_link.code, False)
    db.commit()
    from survey.services.desks.links import desk_token, get_desk

    current = "/d/" + desk_token(app.config["SECRET_KEY"], get_desk(db, desk_link.code))
    db.rollback()  # SQLite transactions take the write lock: release it before the request
    page = call(current)
    assert page.status_code == 410
    assert "không còn nhận đánh giá" in page.get_data(as_text=True)


def test_contact_is_stored_only_with_consent_and_never_logged(
    client: FlaskClient, desk_link: DeskLink, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    page, _ = submit(client, desk_link.path, contact_phone="+84 912 345 678",
                     contact_consent="yes")
    assert page.status_code == 303
    assert db.exec(select(DeskContact)).one().phone == "0912345678"
    db.rollback()  # SQLite transactions take the write lock: release it before the request
    submit(client, desk_link.path, contact_phone="")
    assert _count(db, DeskContact) == 1 and _count(db, Response) == 2
    assert "912" not in caplog.text and "345 678" not in caplog.text


def test_the_evaluation_is_exported_with_its_desk_code_but_no_contact(
    client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    from survey.services.data.export import ExportFilter, export_rows

    submit(client, desk_link.path, contact_phone="0912345678", contact_consent="yes")
    header, rows = export_rows(db, ExportFilter(instrument="desk_evaluation"))
    (row,) = list(rows)
    record = dict(zip(header, row, strict=True))
    assert record["desk"] == desk_link.code and record["mode"] == "qr"
    assert record["overall"] == "5"
    assert "0912345678" not in row and "dossier_code" not in header


def test_a_posted_version_that_is_not_a_desk_form_falls_back_to_the_desk_form(
    app: Flask, client: FlaskClient, desk_link: DeskLink, db: Session
) -> None:
    from survey.services.instruments import latest_version

    household = latest_version(db, "sipas_services").id
    db.rollback()
    for iv in (str(household), "999999", "x"):
        page, _ = submit(client, desk_link.path, iv=iv)
        assert page.status_code == 303, iv
    versions = {r.instrument_version_id for r in db.exec(select(Response)).all()}
    assert versions == {latest_version(db, "desk_evaluation").id}
