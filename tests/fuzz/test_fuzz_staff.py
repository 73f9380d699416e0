"""Can any post to the staff forms (login, accounts, desks, frame and volume uploads, the
sample draw) cause a 500, with real, missing, junk or another session's CSRF token?"""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.fuzz.conftest import PASSWORD, Province, csrf_token, logged_in
from tests.fuzz.strategies import CHARS, bent, encoded, junk, raw_bodies, with_csrf

FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
FRAME_CSV = ("code,name,level,parent\n90,Tỉnh Mới,province,\n9001,Xã Mới,commune,90\n"
             "900101,Ấp Mới,hamlet,9001\n")
VOLUMES_CSV = "desk,period,dossiers\nMC-FUZZ,2025-07,120\n"
UPLOADS = st.one_of(
    st.sampled_from([FRAME_CSV, VOLUMES_CSV, "\ufeff" + VOLUMES_CSV, "", "a,b\n\x00,1\n"])
    .map(str.encode),
    st.binary(max_size=400),
    st.text(CHARS, max_size=300).map(str.encode),
    st.just(b"\xff\xfe" + "bad".encode("utf-16-le")),
)


def _check(reply_status: int, where: str) -> None:
    event(f"{where}: status {reply_status}")
    assert reply_status < 500, where


def _post(draw: Callable, client: FlaskClient, path: str, base: dict[str, str], real: str,
          foreign: str, names: tuple[str, ...] = ()) -> int:
    form = draw(bent(base, names))
    with_csrf(draw, form, real, foreign)
    if draw(st.sampled_from(["form"] * 9 + ["raw"])) == "raw":
        return client.post(path, data=draw(raw_bodies),
                           content_type="application/x-www-form-urlencoded").status_code
    return client.post(path, **encoded(form)).status_code


def _foreign(app: Flask, path: str, username: str) -> str:
    return csrf_token(logged_in(app, username), path)


@FIXTURES
@given(data=st.data())
def test_login_form(app: Flask, province: Province, data: st.DataObject) -> None:
    client = app.test_client()
    real = csrf_token(client, "/auth/login")
    base = {"username": data.draw(st.sampled_from(["ha", "quantri", "nobody"])),
            "password": data.draw(st.sampled_from([PASSWORD, "sai mật khẩu"]))}
    next_page = data.draw(st.one_of(st.just("/"), junk))
    status = _post(data.draw, client, "/auth/login?next=" + quote(next_page, safe=""), base,
                   real, csrf_token(app.test_client(), "/auth/login"))
    _check(status, "login")


@FIXTURES
@given(data=st.data())
def test_account_forms(app: Flask, province: Province, data: st.DataObject) -> None:
    client = logged_in(app, "quantri")
    real, foreign = csrf_token(client, "/admin/users"), _foreign(app, "/admin/users", "quantri")
    target = data.draw(st.sampled_from(["add", "active", "password"]))
    if target == "add":
        base = {"username": "moi", "role": "enumerator", "password": "mật khẩu mới dài 2",
                "full_name": "Nguyễn Văn Mới"}
        _check(_post(data.draw, client, "/admin/users", base, real, foreign), "user add")
        return
    user_id = data.draw(st.sampled_from([1, 2, 3, 0, 999_999, 2**31, 2**63]))
    base = {"active": data.draw(st.sampled_from(["0", "1"]))} if target == "active" else {}
    path = f"/admin/users/{user_id}/{target}"
    _check(_post(data.draw, client, path, base, real, foreign), f"user {target}")


@FIXTURES
@given(data=st.data())
def test_desk_forms(app: Flask, province: Province, data: st.DataObject) -> None:
    client = logged_in(app, "ha")
    real, foreign = csrf_token(client, "/desks/"), _foreign(app, "/desks/", "ha")
    if data.draw(st.booleans()):
        base = {"code": "MC-MOI", "name": "Bàn mới", "agency": "UBND", "admin_level": "commune"}
        _check(_post(data.draw, client, "/desks/", base, real, foreign), "desk add")
        return
    code = data.draw(st.one_of(st.just(province.desk_code), junk.filter(bool)))
    action = data.draw(st.one_of(st.sampled_from(["rotate", "disable", "enable"]),
                                 junk.filter(bool)))
    path = f"/desks/{quote(code[:300], safe='')}/{quote(action[:300], safe='')}"
    _check(_post(data.draw, client, path, {}, real, foreign), "desk action")


# Each accepted post redraws a sample (about 0.35 s): half the profile's examples (30 in
# CI; the "large" profile of benchmarks/README's fuzz runs still sends 2,500).
@settings(FIXTURES, max_examples=max(10, settings.default.max_examples // 2))
@given(data=st.data())
def test_sample_draw(app: Flask, province: Province, data: st.DataObject) -> None:
    client = logged_in(app, "ha")
    real, foreign = csrf_token(client, "/sample/"), _foreign(app, "/sample/", "ha")
    base = {"round": province.round_code, "strata_level": "district",
            "hamlets_per_stratum": "1", "per_hamlet": "10", "seed": "7", "enumerators": "lan",
            "replace": "1"}
    _check(_post(data.draw, client, "/sample/draw", base, real, foreign), "sample draw")


@FIXTURES
@given(data=st.data())
def test_uploads(app: Flask, province: Province, data: st.DataObject) -> None:
    """The frame (supervisor) and dossier volumes (analyst) uploads, as multipart posts."""
    frame = data.draw(st.booleans())
    user, page = ("ha", "/sample/") if frame else ("anh", "/reports/volumes")
    path = "/sample/frame" if frame else "/reports/volumes"
    client = logged_in(app, user)
    real, foreign = csrf_token(client, page), _foreign(app, page, user)
    form: MultiDict = MultiDict()
    with_csrf(data.draw, form, real, foreign)
    for _ in range(data.draw(st.integers(0, 2))):
        form.add(data.draw(st.sampled_from(["frame", "file", "x"])), (
            io.BytesIO(data.draw(UPLOADS)),
            data.draw(st.one_of(st.sampled_from(["f.csv", "", "../../x.csv"]), junk)),
        ))
    reply = client.post(path, data=form, content_type="multipart/form-data")
    _check(reply.status_code, "frame upload" if frame else "volumes upload")


@FIXTURES
@given(data=st.data())
def test_logout(app: Flask, province: Province, data: st.DataObject) -> None:
    client = logged_in(app, "lan")
    real, foreign = csrf_token(client, "/"), _foreign(app, "/", "hung")
    _check(_post(data.draw, client, "/auth/logout", {}, real, foreign), "logout")
