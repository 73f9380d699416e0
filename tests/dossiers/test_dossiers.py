"""Are dossiers imported and pushed once per code, all or nothing, with every bad line named,
and kept only as keyed hashes of their codes and officers?"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlmodel import Session, select

from survey.models_dossiers import Dossier
from survey.services.api.tokens import create_token
from survey.services.desks.links import dossier_secret
from survey.services.responses import dossier_hash
from tests import factories
from tests.dossiers.support import cli_key

HEADER = ("Mã hồ sơ,Mã thủ tục,Tên thủ tục,Lĩnh vực,Cơ quan,Mã bộ phận,Ngày tiếp nhận,"
          "Ngày hẹn trả,Ngày trả kết quả,Cán bộ tiếp nhận")
LINES = [
    "000.00.12.H12-250925-0001,1.001612,Đăng ký khai sinh,Hộ tịch,UBND xã Phú Lâm,MC-PL,"
    "25/09/2025 08:15,25/09/2025 16:00,25/09/2025 15:20,CB012",
    "000.00.12.H12-250925-0002,1.004227,Chứng thực bản sao,Chứng thực,UBND xã Phú Lâm,MC-PL,"
    "25/09/2025,26/09/2025,,CB013",
]


def _engine(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["sipas_engine"]


def _desk(app: Flask) -> None:
    with Session(_engine(app)) as session:
        factories.desk(session, code="MC-PL", name="Bộ phận Một cửa xã Phú Lâm")
        session.commit()


def _stored(app: Flask) -> list[Dossier]:
    with Session(_engine(app)) as session:
        return list(session.exec(select(Dossier).order_by(Dossier.id)))



def _import(runner, cli_env, path: Path):  # type: ignore[no-untyped-def]
    from survey.cli import main

    return runner.invoke(main, ["dossiers", "import", str(path)], env=cli_env)


def test_is_an_export_imported_once_and_kept_as_hashes(app: Flask, runner, cli_env,
                                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _desk(app)
    path = tmp_path / "ho-so.csv"
    path.write_text("\ufeff" + HEADER + "\n" + "\n".join(LINES) + "\n", encoding="utf-8")
    done = _import(runner, cli_env, path)
    assert done.exit_code == 0, done.output
    assert "2 new, 0 updated, 0 unchanged" in done.output
    again = _import(runner, cli_env, path)
    assert "0 new, 0 updated, 2 unchanged" in again.output  # idempotent
    rows = _stored(app)
    secret = dossier_secret(cli_key())
    assert rows[0].code_hash == dossier_hash(secret, "000.00.12.h12-250925-0001")  # = a QR's
    assert rows[0].received_at.replace(tzinfo=UTC) == datetime(2025, 9, 25, 1, 15, tzinfo=UTC)
    assert rows[0].returned_at is not None and rows[1].returned_at is None
    assert rows[0].field == "Hộ tịch" and rows[0].procedure_code == "1.001612"
    stored_text = " ".join(str(v) for r in rows for v in r.model_dump().values())
    assert "H12-250925" not in stored_text and "CB012" not in stored_text  # hashes only
    # returned later: the same dossier, updated in place
    path.write_text(HEADER + "\n" + LINES[1].replace("26/09/2025,,", "26/09/2025,"
                                                     "26/09/2025 10:00,") + "\n")
    later = _import(runner, cli_env, path)
    assert "0 new, 1 updated, 0 unchanged" in later.output
    assert _stored(app)[1].returned_at is not None and len(_stored(app)) == 2


def test_is_a_workbook_read_as_its_csv(app: Flask, runner, cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _desk(app)
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for line in LINES:
        sheet.append(line.split(","))
    path = tmp_path / "ho-so.xlsx"
    book.save(path)
    done = _import(runner, cli_env, path)
    assert done.exit_code == 0 and "2 new" in done.output, done.output


def test_does_one_bad_line_store_nothing_and_name_every_bad_line(
        app: Flask, runner, cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _desk(app)
    bad = [LINES[0],
           LINES[1].replace("MC-PL", "MC-NOWHERE"),
           LINES[1].replace("000.00.12.H12-250925-0002", "X-3").replace("25/09/2025,",
                                                                         "31/02/2025,", 1),
           LINES[0].replace("25/09/2025 15:20", "24/09/2025 10:00").replace("0001", "0004"),
           LINES[0]]
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n" + "\n".join(bad) + "\n")
    done = _import(runner, cli_env, path)
    assert done.exit_code != 0 and "Traceback" not in done.output
    for words in ("3: unknown desk 'MC-NOWHERE'", "4: received_at '31/02/2025'",
                  "5: returned_at is before received_at", "6: dossier", "line 2"):
        assert words in done.output, words
    assert _stored(app) == []
    path.write_text("Mã thủ tục,Tên thủ tục\n1.001612,Khai sinh\n")
    missing = _import(runner, cli_env, path)
    assert missing.exit_code != 0 and "no 'code' column" in missing.output


def _token(app: Flask, role: str) -> str:
    with Session(_engine(app)) as session:
        user = factories.user(session, role, username=f"push-{role}")
        secret = create_token(session, user, "one-stop system", 30).secret
        session.commit()
        return secret


def _pushed(line: str) -> dict[str, str]:
    names = ("code", "procedure_code", "procedure_name", "field", "agency", "desk",
             "received_at", "due_at", "returned_at", "officer")
    return {k: v for k, v in zip(names, line.split(","), strict=True) if v}


def test_is_a_push_idempotent_all_or_nothing_and_for_writers_only(app: Flask) -> None:
    _desk(app)
    supervisor, analyst = _token(app, "supervisor"), _token(app, "analyst")
    client = app.test_client()
    body = {"dossiers": [_pushed(line) for line in LINES]}
    auth = {"Authorization": f"Bearer {supervisor}"}
    first = client.post("/api/v1/dossiers", json=body, headers=auth)
    assert first.status_code == 200 and first.get_json() == {"inserted": 2, "updated": 0,
                                                             "unchanged": 0}
    assert client.post("/api/v1/dossiers", json=body, headers=auth).get_json() == {
        "inserted": 0, "updated": 0, "unchanged": 2}
    assert client.post("/api/v1/dossiers", json=body, headers={
        "Authorization": f"Bearer {analyst}"}).status_code == 403
    wrong = {"dossiers": [_pushed(LINES[0].replace("0001", "0009")),
                          {**_pushed(LINES[1]), "desk": "MC-NOWHERE"},
                          {**_pushed(LINES[1]), "due_at": "tomorrow"}]}
    refused = client.post("/api/v1/dossiers?lang=en", json=wrong, headers=auth)
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert set(errors) == {"1", "2"} and "MC-NOWHERE" in errors["1"][0]
    assert len(_stored(app)) == 2  # the good one of the three was not stored either
    for junk, words in (({"dossiers": []}, "dossiers"), ({"dosiers": []}, "dosiers"),
                        ({"dossiers": [{"code": "X"}]}, "procedure_code"),
                        ({"dossiers": [{**_pushed(LINES[0]), "phone": "09"}]}, "phone")):
        reply = client.post("/api/v1/dossiers?lang=en", json=junk, headers=auth)
        assert reply.status_code == 422 and words in reply.get_data(as_text=True), junk
    assert client.post("/api/v1/dossiers", data="not json", headers={
        **auth, "Content-Type": "application/json"}).status_code in (400, 422)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_does_the_template_import_as_it_is(app: Flask, runner, cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from survey.services.data.uploads import template_csv

    with Session(_engine(app)) as session:
        factories.desk(session, code="MC-TANPHU", name="Bộ phận Một cửa huyện Tân Phú")
        session.commit()
    path = tmp_path / "template.csv"
    path.write_bytes(template_csv("dossiers"))
    done = _import(runner, cli_env, path)
    assert done.exit_code == 0 and "1 new" in done.output, done.output
