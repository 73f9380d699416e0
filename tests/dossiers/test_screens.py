"""Can a supervisor import the one-stop export on a screen (every bad line named, in
Vietnamese, nothing stored), and read coverage for a period as the command prints it?"""

from __future__ import annotations

import io
import threading

from flask import Flask
from sqlmodel import Session, func, select

from survey.models_dossiers import Dossier
from tests.desks.test_admin import csrf_of, login
from tests.dossiers.test_coverage import _world
from tests.dossiers.test_dossiers import HEADER, LINES, _desk, _stored


def _upload(client, text: str, name: str = "ho-so.csv"):  # type: ignore[no-untyped-def]
    return client.post("/dossiers/", data={
        "csrf_token": csrf_of(client, "/dossiers/"),
        "file": (io.BytesIO(text.encode("utf-8")), name)}, content_type="multipart/form-data")


def test_an_upload_stores_once_and_a_bad_one_names_each_line_in_vietnamese(
        app: Flask) -> None:
    _desk(app)
    client = app.test_client()
    login(app, client, "supervisor")
    good = "\ufeff" + HEADER + "\n" + "\n".join(LINES) + "\n"
    done = _upload(client, good)
    assert done.status_code == 303
    page = client.get("/dossiers/").get_data(as_text=True)
    assert "2 hồ sơ mới, 0 hồ sơ được cập nhật, 0 hồ sơ không đổi" in page
    assert _upload(client, good).status_code == 303 and len(_stored(app)) == 2  # idempotent
    bad = HEADER + "\n" + LINES[0].replace("000.00.12.H12-250925-0001", "N-1") + "\n" + \
        LINES[1].replace("MC-PL", "MC-NOWHERE").replace("0002", "0009") + "\n"
    refused = _upload(client, bad)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Chưa lưu gì" in html
    assert "dòng 3:" in html and "MC-NOWHERE" in html and "unknown desk" not in html
    assert len(_stored(app)) == 2  # all or nothing
    nothing = client.post("/dossiers/", data={"csrf_token": csrf_of(client, "/dossiers/")})
    assert nothing.status_code == 400 and "Hãy chọn tệp cần nhập" in nothing.get_data(
        as_text=True)
    expired = client.post("/dossiers/", data={"csrf_token": "stale"})
    assert expired.status_code == 400 and "Vui lòng quay lại" in expired.get_data(as_text=True)
    summary = client.get("/dossiers/").get_data(as_text=True)
    assert "Hồ sơ đã lưu" in summary and "đã trả kết quả" in summary


def test_six_uploads_of_one_file_at_once_store_it_once(app: Flask) -> None:
    _desk(app)
    good = HEADER + "\n" + "\n".join(LINES) + "\n"
    clients = []
    for n in range(6):
        client = app.test_client()
        login_as(app, client, n)
        clients.append(client)
    codes: list[int] = []
    barrier = threading.Barrier(6)

    def send(client) -> None:  # type: ignore[no-untyped-def]
        token = csrf_of(client, "/dossiers/")
        barrier.wait()
        codes.append(client.post("/dossiers/", data={
            "csrf_token": token, "file": (io.BytesIO(good.encode()), "a.csv")},
            content_type="multipart/form-data").status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [303] * 6, codes
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(func.count()).select_from(Dossier)).one() == 2


def login_as(app: Flask, client, n: int) -> None:  # type: ignore[no-untyped-def]
    import re

    from tests import factories

    with Session(app.extensions["sipas_engine"]) as session:
        factories.user(session, "supervisor", username=f"sup{n}", password="mật khẩu đủ dài")
        session.commit()
    form = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    assert client.post("/auth/login", data={"username": f"sup{n}", "password": "mật khẩu đủ dài",
                                            "csrf_token": token}).status_code == 302


def test_coverage_on_screen_is_the_commands_in_the_readers_language(app: Flask) -> None:
    from survey.services.dossiers.coverage import coverage
    from survey.services.reports.period import parse_period

    _world(app)
    client = app.test_client()
    login(app, client, "analyst")
    page = client.get("/dossiers/coverage?period=2025-Q3&by=desk")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Quý III/2025" in html
    with Session(app.extensions["sipas_engine"]) as session:
        rows = {r.group: r for r in coverage(session, parse_period("2025-Q3"), "desk")}
    assert rows["MC-A"].coverage == 0.5 and "50,0" in html and "66,7" in html  # 2 of 3 on time
    assert "Tất cả hồ sơ" in html
    english = client.get("/dossiers/coverage?period=2025-Q3&by=desk&lang=en")
    assert "Q3 2025" in english.get_data(as_text=True) and "66.7" in english.get_data(
        as_text=True)
    for query in ("period=2025-Q5", "period=&by=nothing", "period=9999"):
        bad = client.get(f"/dossiers/coverage?{query}&lang=vi")
        assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True), query
    assert client.get("/dossiers/coverage").status_code == 200  # this quarter by default
    empty = client.get("/dossiers/coverage?period=2019").get_data(as_text=True)
    assert "Không có hồ sơ nào được trả kết quả trong kỳ này." in empty
    assert "Tất cả hồ sơ" not in empty
