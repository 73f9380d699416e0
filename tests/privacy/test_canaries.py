"""Do a citizen's phone number, dossier code and comment stay out of every log, every
redirect URL and every error page, and is the dossier code stored only as a keyed hash?

Canary values go through the citizen's QR form (accepted, refused as a duplicate dossier,
refused as a conflicting re-send, on a tampered link, with a bad CSRF token) and through
the paper-entry screens (a keyed slip and a supervisor's edit), while every logger records
at DEBUG. The gunicorn access and error logs are checked by the stress run
(benchmarks/stress_submissions.py, tests/stress).
"""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlmodel import Session, SQLModel

from survey.db import import_all_models
from survey.models import Response
from tests.fuzz.conftest import Province, csrf_token, logged_in

PHONE = "0987654321"
DOSSIER = "CANARYD7731X"
COMMENT = "canary-comment-zebra-4242"
CANARIES = (PHONE, DOSSIER, COMMENT, "canary-edit-okapi-5151")
EVALUATION = {"service_field": "3", "overall": "2", "on_time": "2", "staff_attitude": "2",
              "visits": "3", "posted_procedures": "9", "feedback_handling": "9"}


def _clean(where: str, body: str) -> None:
    for canary in CANARIES:
        assert canary.lower() not in body.lower(), f"{canary} leaked into {where}"


def _citizen(client: FlaskClient, province: Province) -> list[tuple[str, int, str, str]]:
    """(what, status, Location, body) of every citizen post made with canaries."""
    def form_token() -> str:
        page = client.get(province.desk_path).get_data(as_text=True)
        return re.search(r'name="form_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    first = form_token()
    canary = {**EVALUATION, "comment": COMMENT, "dossier_code": DOSSIER.lower(),
              "contact_phone": PHONE, "contact_consent": "yes"}
    posts = [
        ("accepted", province.desk_path, {**canary, "form_token": first}),
        ("same dossier", province.desk_path, {**canary, "form_token": form_token()}),
        ("conflict", province.desk_path, {**canary, "form_token": first, "overall": "5"}),
        ("tampered link", province.desk_path[:-3] + "xyz", {**canary, "form_token": first}),
        # The form comes back with the citizen's own answers (nothing lost): that page is
        # theirs, so it is checked for the logs and the URL only, not as an error page.
        ("made-up form", province.desk_path, {**canary, "form_token": "x"}),
    ]
    out = []
    for what, path, data in posts:
        reply = client.post(path, data=data)
        out.append((what, reply.status_code, reply.headers.get("Location", ""),
                    reply.get_data(as_text=True)))
    return out


def _entry(app: Flask, province: Province) -> list[tuple[str, int, str, str]]:
    """A keyed desk slip with a canary comment, then a supervisor's edit to another canary."""
    keyer = logged_in(app, "lan")
    start = keyer.post("/entry/", data={"kind": "desk", "desk": province.desk_code,
                                        "serial": "C-1",
                                        "csrf_token": csrf_token(keyer, "/entry/")})
    path = start.headers["Location"]
    saved = keyer.post(path, data={**EVALUATION, "comment": COMMENT,
                                   "csrf_token": csrf_token(keyer, path)})
    assert saved.status_code == 302
    with Session(app.extensions["sipas_engine"]) as session:
        rid = session.exec(select(Response.id).where(Response.mode == "paper")).scalar_one()
    boss = logged_in(app, "ha")
    page = f"/entry/response/{rid}"
    edit = boss.post(f"{page}/edit", data={"item_code": "comment", "value": CANARIES[3],
                                           "reason": "giấy ghi khác",
                                           "csrf_token": csrf_token(boss, page)})
    return [("start", start.status_code, path, ""), ("keyed", saved.status_code,
            saved.headers["Location"], ""), ("edit", edit.status_code,
                                               edit.headers.get("Location", ""), "")]


def test_canaries_never_reach_logs_urls_or_error_pages(
    app: Flask, province: Province, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ["", *logging.root.manager.loggerDict]:  # every logger, at DEBUG
        caplog.set_level(logging.DEBUG, logger=name)
    app.logger.setLevel(logging.DEBUG)
    replies = _citizen(app.test_client(), province) + _entry(app, province)
    statuses = {what: status for what, status, _, _ in replies}
    assert statuses == {"accepted": 303, "same dossier": 409, "conflict": 409,
                        "tampered link": 404, "made-up form": 400, "start": 302, "keyed": 302,
                        "edit": 302}
    for what, status, location, body in replies:
        _clean(f"the Location of {what!r}", location)
        if status >= 400 and what != "made-up form":
            _clean(f"the error page of {what!r}", body)
    assert caplog.records, "logging was not captured"
    assert any(r.name.startswith("sqlalchemy.engine") and r.levelno == logging.INFO
               for r in caplog.records), "SQL statements were not logged: nothing checked"
    logged = [r for r in caplog.records if not _row_echo(r)]
    _clean("the logs", "\n".join(r.getMessage() for r in logged))


def _row_echo(record: logging.LogRecord) -> bool:
    """SQLAlchemy's DEBUG echo of fetched rows: a developer's trace of query *results*, which
    prints whatever the database holds by design; it exists only when someone sets
    ``sqlalchemy.engine`` to DEBUG. Statements and their parameters (INFO) are checked."""
    return record.name.startswith("sqlalchemy.engine") and record.msg in ("Row %r", "Col %r")


def test_dossier_codes_are_stored_only_as_keyed_hashes(app: Flask, province: Province) -> None:
    _citizen(app.test_client(), province)
    import_all_models()
    with Session(app.extensions["sipas_engine"]) as session:
        assert session.exec(select(Response.dossier_hash)).scalar_one()  # it was stored
        dump = []
        for table in SQLModel.metadata.sorted_tables:
            rows = session.execute(text(f'SELECT * FROM "{table.name}"')).all()
            dump.extend(repr(tuple(row)) for row in rows)
    text_dump = "\n".join(dump).upper()
    assert DOSSIER not in text_dump
    assert COMMENT.upper() in text_dump  # the dump really holds the citizen's answers
