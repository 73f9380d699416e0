"""Can a supervisor find who did what, when, to which response, in a log that pages?"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.models import AuditLog
from survey.services.audit import record
from tests import factories
from tests.support import sign_in

PASSWORD = "mật khẩu đủ dài 1"


def _client(app: Flask) -> FlaskClient:
    return sign_in(app.test_client(), "gs", PASSWORD)


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-action="([^"]+)">', page)


def test_the_audit_log_filters_by_who_what_when_and_response(app: Flask) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        gs = factories.user(session, "supervisor", username="gs", password=PASSWORD)
        lan = factories.user(session, "enumerator", username="lan", password=PASSWORD)
        session.flush()
        for n in range(60):
            record(session, "review_status", "response", 7 if n == 3 else 100 + n,
                   user_id=lan.id, reason="Đã xem")
        record(session, "round.publish", "survey_round", 1, user_id=gs.id, reason="Xong")
        # 23:30 UTC on 1 Dec is 06:30 on 2 Dec in Hồ Chí Minh City
        late = AuditLog(action="frame.import", entity="admin_unit", user_id=gs.id,
                        at=datetime(2026, 12, 1, 23, 30, tzinfo=UTC))
        session.add(late)
        session.commit()
    client = _client(app)
    first = client.get("/audit/").get_data(as_text=True)
    assert len(_rows(first)) == 50 and 'data-total="62"' in first
    table = re.sub(r"<[^>]+>", " ", first.split('id="audit"')[1].split("</table>")[0])
    assert "Đã công bố đợt khảo sát" in table and "round.publish" not in table  # words, no code
    mine = client.get("/audit/?who=gs").get_data(as_text=True)
    assert sorted(_rows(mine)) == ["frame.import", "round.publish"]
    what = client.get("/audit/?what=review_status&page=2").get_data(as_text=True)
    assert _rows(what) == ["review_status"] * 10
    one = client.get("/audit/?response=7").get_data(as_text=True)
    assert _rows(one) == ["review_status"] and "/entry/response/7" in one
    # gs's rows only: the other rows are stamped now, which may be 2 Dec too (after 17:00 UTC
    # on 1 Dec 2026) and would push this one to the second page
    day = client.get("/audit/?from=2026-12-02&to=2026-12-02&who=gs").get_data(as_text=True)
    assert "frame.import" in _rows(day)
    before = client.get("/audit/?to=2026-12-01&who=gs&what=frame.import")
    assert _rows(before.get_data(as_text=True)) == []  # it happened on 2 Dec, local time
    junk = client.get("/audit/?from=yesterday&response=%F0%9F%98%80&who=nobody")
    assert junk.status_code == 200
