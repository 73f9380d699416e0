"""Is every error a person can meet the app's own page, in Vietnamese, with the English switch?"""

from __future__ import annotations

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from survey.security import public
from tests.desks.test_admin import login

CASES = {  # status -> (Vietnamese title, English title)
    400: ("Không đọc được yêu cầu", "The request could not be understood"),
    403: ("Tài khoản không có quyền mở trang này", "You do not have access to this page"),
    404: ("Không tìm thấy trang", "Page not found"),
    405: ("Không thực hiện được thao tác này tại đây", "This action is not possible here"),
    408: ("Yêu cầu đến quá chậm", "The request took too long to arrive"),
    409: ("Có người vừa thực hiện cùng thay đổi", "Someone else just made the same change"),
    410: ("Trang này không còn nữa", "This page is no longer available"),
    413: ("Nội dung gửi lên quá lớn", "What was sent is too large"),
    429: ("Quá nhiều yêu cầu", "Too many requests"),
    500: ("Hệ thống gặp lỗi", "Something went wrong on our side"),
}


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app with one public route that fails with a chosen status (500: a real crash)."""

    @public
    def fail(code: int) -> str:
        if code == 500:
            raise RuntimeError("a bug")
        abort(code)

    app.add_url_rule("/_test/fail/<int:code>", view_func=fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the crash becomes a 500
    return app


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("status", sorted(CASES))
def test_each_error_status_has_the_apps_own_page(
    failing_app: Flask, status: int, lang: str
) -> None:
    client = failing_app.test_client()
    page = client.get(f"/_test/fail/{status}?lang={lang}")
    html = page.get_data(as_text=True)
    assert page.status_code == status
    assert f'<html lang="{lang}">' in html
    assert CASES[status][0 if lang == "vi" else 1] in html
    assert "Werkzeug" not in html and "Traceback" not in html and "a bug" not in html


def test_real_errors_reach_the_same_pages(app: Flask, client: FlaskClient) -> None:
    assert "Không đọc được yêu cầu" in client.get("/?x=%00").get_data(as_text=True)
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Không tìm thấy trang" in missing.get_data(as_text=True)
    wrong = client.get("/auth/logout")
    assert wrong.status_code == 405
    assert "Không thực hiện được" in wrong.get_data(as_text=True)
    login(app, client, "enumerator")
    refused = client.get("/desks/")
    assert refused.status_code == 403
    assert "Tài khoản không có quyền" in refused.get_data(as_text=True)


def test_a_mistyped_citizen_path_gets_the_citizen_page(client: FlaskClient) -> None:
    for path in ("/d/", "/d", "/d/abc/def"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 404, path
        assert "quét mã QR tại quầy" in html.lower() or "quét lại mã QR" in html, path
        assert "collect.css" in html  # the citizen layout, not the staff one
