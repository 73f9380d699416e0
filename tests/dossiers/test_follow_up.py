"""Does a low rating open a case for the agency, and can a supervisor answer and close it,
with the response time kept and nothing typed lost?"""

from __future__ import annotations

from flask import Flask
from sqlmodel import Session, select

from survey.models_dossiers import FollowUp
from tests import factories
from tests.desks.conftest import submit
from tests.support import csrf_token, sign_in

PASSWORD = "follow up pass 1"


def test_does_a_low_rating_open_a_case_that_a_supervisor_answers_and_closes(
        app: Flask, desk_link) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    for overall in ("1", "4", "2"):
        reply, _ = submit(client, desk_link.path, overall=overall, comment=f"rated {overall}",
                          contact_phone="0912345678", contact_consent="yes")
        assert reply.status_code == 303
    with Session(app.extensions["sipas_engine"]) as session:
        cases = session.exec(select(FollowUp).order_by(FollowUp.id)).all()
        assert [c.rating for c in cases] == [1, 2] and {c.status for c in cases} == {"open"}
        assert cases[0].agency == "UBND xã Phú Lâm"
        factories.user(session, "supervisor", username="ha", password=PASSWORD)
        session.commit()
        first = cases[0].id
    staff = sign_in(app.test_client(), "ha", PASSWORD)
    page = staff.get("/followup/?lang=en").get_data(as_text=True)
    assert "rated 1" in page and "rated 4" not in page and "0912345678" in page
    token = csrf_token(staff, "/followup/")
    empty = staff.post(f"/followup/{first}?lang=en", data={"csrf_token": token,
                                                            "status": "answered", "note": " "})
    assert empty.status_code == 422 and "what was done" in empty.get_data(as_text=True)
    done = staff.post(f"/followup/{first}", data={"csrf_token": token, "status": "answered",
                                                  "note": "Đã gọi điện xin lỗi và hẹn lại"})
    assert done.status_code == 302
    closed = staff.post(f"/followup/{first}", data={"csrf_token": token, "status": "closed",
                                                    "note": "Công dân đã nhận kết quả"})
    assert closed.status_code == 302
    again = staff.post(f"/followup/{first}?lang=en", data={
        "csrf_token": token, "status": "answered", "note": "một lần nữa"})
    assert again.status_code == 422 and "already closed" in again.get_data(as_text=True)
    assert "một lần nữa" in again.get_data(as_text=True)  # the note typed is kept
    with Session(app.extensions["sipas_engine"]) as session:
        case = session.get(FollowUp, first)
        assert case is not None and case.status == "closed" and case.closed_at is not None
        assert case.first_response_at is not None and case.first_response_at <= case.closed_at
        assert case.note == "Công dân đã nhận kết quả"
    expired = staff.post(f"/followup/{first + 1}?lang=en", data={
        "csrf_token": "stale", "status": "answered", "note": "giữ lại ghi chú này"})
    assert expired.status_code == 400 and "giữ lại ghi chú này" in expired.get_data(as_text=True)
    with Session(app.extensions["sipas_engine"]) as session:
        untouched = session.get(FollowUp, first + 1)
        assert untouched is not None and untouched.status == "open"  # CSRF still holds
