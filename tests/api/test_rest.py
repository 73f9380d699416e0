"""Does the REST API give exactly the export, page by page, and the CLI's estimates?"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select

from survey.models import Response
from survey.services.data.export import ExportFilter
from survey.services.data.formats import selected_export
from tests.api.conftest import as_text, bearer


def _export(app: Flask, flt: ExportFilter, with_text: bool = False) -> list[list[str]]:
    with Session(app.extensions["sipas_engine"]) as session:
        cols, rows = selected_export(session, flt, with_text)
        return [list(cols.names), *rows]



def _all_pages(client, url: str, token: str) -> tuple[list[str], list[dict], int]:
    columns, items, pages = None, [], 0
    while url:
        reply = client.get(url, headers=bearer(token))
        assert reply.status_code == 200, reply.get_data(as_text=True)
        body = reply.get_json()
        assert columns in (None, body["columns"])  # one set of columns on every page
        columns = body["columns"]
        items += body["items"]
        url, pages = body["next"], pages + 1
    return columns or [], items, pages


@pytest.mark.parametrize("query,flt", [
    ("", ExportFilter()),
    ("status=verified&instrument=sipas_services", ExportFilter(status="verified",
                                                                instrument="sipas_services")),
    ("instrument=desk_evaluation&period=2025", None),
])
def test_do_api_pages_put_together_equal_the_export(demo: Flask, tokens: dict[str, str],
                                                    query: str, flt: ExportFilter | None
                                                    ) -> None:
    if flt is None:  # a period: the export's own period rule (entered in 2025, UTC days)
        from survey.services.reports.period import parse_period

        with Session(demo.extensions["sipas_engine"]) as session:
            cols, rows = selected_export(session, ExportFilter(instrument="desk_evaluation"),
                                         False, parse_period("2025"))
            expected = [list(cols.names), *rows]
    else:
        expected = _export(demo, flt)
    client = demo.test_client()
    columns, items, pages = _all_pages(client, f"/api/v1/responses?limit=37&{query}",
                                       tokens["analyst"])
    assert columns == expected[0]
    assert [[as_text(item[c]) for c in columns] for item in items] == expected[1:]
    assert len(expected) > 40 and pages == -(-(len(expected) - 1) // 37)
    ids = [item["response_id"] for item in items]
    assert ids == sorted(set(ids))  # every response once, in order
    # numbers are JSON numbers, not text
    assert isinstance(items[0]["response_id"], int) and isinstance(items[0]["weight"],
                                                                     (int, float, type(None)))


def test_does_a_response_keyed_while_paging_come_once_and_comments_only_when_asked(
        demo: Flask, tokens: dict[str, str]) -> None:
    client = demo.test_client()
    first = client.get("/api/v1/responses?limit=5", headers=bearer(tokens["analyst"])).get_json()
    with_text = _export(demo, ExportFilter(), with_text=True)[0]
    without = _export(demo, ExportFilter())[0]
    free = [c for c in with_text if c not in without]
    assert free, "the demo has free-text items"
    asked = client.get("/api/v1/responses?limit=5&with_comments=true",
                       headers=bearer(tokens["analyst"])).get_json()
    assert set(free) <= set(asked["columns"]) and not set(free) & set(first["columns"])
    # the next link is a cursor (the last id), so earlier ids cannot come again
    assert "after=" in first["next"] and f"after={first['items'][-1]['response_id']}" in \
        first["next"]


def test_does_updated_since_return_the_responses_changed_since(demo: Flask,
                                                                tokens: dict[str, str]) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    with Session(demo.extensions["sipas_engine"]) as session:
        chosen = session.exec(select(Response.id).order_by(Response.id).limit(3)).all()
        session.execute(update(Response).where(Response.id.in_(chosen))  # type: ignore[union-attr]
                        .values(updated_at=later + timedelta(minutes=1)))
        session.commit()
    client = demo.test_client()
    stamp = later.isoformat().replace("+00:00", "Z")
    body = client.get(f"/api/v1/responses?updated_since={stamp}",
                      headers=bearer(tokens["analyst"])).get_json()
    assert [i["response_id"] for i in body["items"]] == list(chosen)
    assert body["next"] is None


BAD_INPUT = [
    ("sttus=verified", 422, "sttus"),  # a typo is refused, never ignored
    ("status=approved", 422, "status"),
    ("limit=0", 422, "limit"),
    ("limit=5000", 422, "limit"),
    ("after=-1", 422, "after"),
    ("updated_since=yesterday", 422, "updated_since"),
    ("updated_since=2026-01-01T00:00:00", 422, "updated_since"),  # no zone: ambiguous
    ("period=2025-13", 422, "period"),
    ("period=0000", 422, "period"),
]


def test_is_bad_input_refused_with_a_message_naming_it(demo: Flask, tokens: dict[str, str]
                                                        ) -> None:
    client = demo.test_client()
    for query, status, words in BAD_INPUT:
        reply = client.get(f"/api/v1/responses?{query}&lang=en",
                           headers=bearer(tokens["analyst"]))
        assert reply.status_code == status, query
        assert words in reply.get_data(as_text=True), query
        assert reply.get_json()["code"] == status, query


def test_are_api_errors_json_in_the_callers_language(demo: Flask, tokens: dict[str, str]
                                                      ) -> None:
    client = demo.test_client()
    vi = client.get("/api/v1/no-such-thing").get_json()
    en = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"}).get_json()
    assert vi["code"] == en["code"] == 404 and vi["message"] != en["message"]
    unauthorised = client.get("/api/v1/responses", headers={"Accept-Language": "en"})
    assert unauthorised.status_code == 401 and "Bearer" in unauthorised.headers[
        "WWW-Authenticate"]
    assert unauthorised.get_json()["message"] == "A valid API token is needed."
    assert client.get("/api/v1/responses").get_json()["message"] != \
        "A valid API token is needed."  # Vietnamese by default


def test_does_the_index_equal_the_command(demo: Flask, tokens: dict[str, str], runner,
                                          cli_env) -> None:
    from survey.cli import main

    done = runner.invoke(main, ["index", "--db", "--instrument", "sipas_services", "--by",
                                "district", "--format", "json", "--target", "0.8"],
                         env=cli_env)
    assert done.exit_code == 0, done.output
    reply = demo.test_client().get(
        "/api/v1/index?instrument=sipas_services&by=district&target=0.8",
        headers=bearer(tokens["supervisor"]))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.get_data(as_text=True) == done.stdout
    body = json.loads(done.stdout)
    assert len({json.dumps(e["domain"]) for e in body["estimates"]}) > 2  # districts
    bad = demo.test_client().get("/api/v1/index?by=no_such_column&lang=en",
                                 headers=bearer(tokens["supervisor"]))
    assert bad.status_code == 422 and "by" in bad.get_json()["errors"]
    for query, words in (("round=NO-ROUND", "NO-ROUND"), ("instrument=nothing", "nothing")):
        missing = demo.test_client().get(f"/api/v1/index?{query}&lang=en",
                                         headers=bearer(tokens["supervisor"]))
        assert missing.status_code == 404 and words in missing.get_json()["message"]
    # a question the data cannot answer: a household alone in its stratum, no lonely rule
    with Session(demo.extensions["sipas_engine"]) as session:
        first = session.exec(select(Response).where(Response.status == "verified")
                             .order_by(Response.id)).first()
        assert first is not None
        first.stratum, first.psu = "ALONE", "ALONE-1"
        session.add(first)
        session.commit()
    lonely = demo.test_client().get("/api/v1/index?lang=en",
                                    headers=bearer(tokens["supervisor"]))
    assert lonely.status_code == 409 and "ALONE" in lonely.get_json()["message"]


def test_do_the_lists_page_and_keep_desk_links_secret(demo: Flask, tokens: dict[str, str]
                                                       ) -> None:
    from survey.models import AdminUnit, Desk

    client = demo.test_client()
    for path, model in (("desks", Desk), ("units", AdminUnit)):
        _cols, items, pages = [], [], 0
        url = f"/api/v1/{path}?limit=3"
        while url:
            body = client.get(url, headers=bearer(tokens["admin"])).get_json()
            items += body["items"]
            url, pages = body["next"], pages + 1
        with Session(demo.extensions["sipas_engine"]) as session:
            codes = session.exec(select(model.code).order_by(model.id)).all()
        assert [i["code"] for i in items] == list(codes) and pages > 1
    desk = client.get("/api/v1/desks", headers=bearer(tokens["admin"])).get_json()["items"][0]
    assert "token_version" not in desk and not any("token" in k for k in desk)
    communes = client.get("/api/v1/units?level=commune&limit=1000",
                          headers=bearer(tokens["admin"])).get_json()["items"]
    assert communes and {u["level"] for u in communes} == {"commune"}
    rounds = client.get("/api/v1/rounds", headers=bearer(tokens["analyst"])).get_json()
    assert rounds["items"] and rounds["items"][0]["code"]
