"""Does the OData feed read as Excel and Power BI read it: $metadata a real client parses,
every row once through server-driven paging, the export's rows, the query options?"""

from __future__ import annotations

from xml.etree import ElementTree

from flask import Flask
from sqlmodel import Session

from survey.services.data.export import ExportFilter
from survey.services.data.formats import selected_export
from tests.api.conftest import as_text, bearer
from tests.browser import live_server

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _export(app: Flask, flt: ExportFilter) -> tuple[list[str], list[list[str]]]:
    from survey.services.api.pages import instrument_versions

    with Session(app.extensions["sipas_engine"]) as session:
        versions = instrument_versions(session, flt.instrument or "")
        cols, rows = selected_export(session, flt, False, None, versions)
        return list(cols.names), list(rows)



def _pages(client, url: str, token: str, prefer: int | None = None) -> tuple[list[dict], int]:
    rows, pages = [], 0
    headers = bearer(token) | ({"Prefer": f"odata.maxpagesize={prefer}"} if prefer else {})
    while url:
        reply = client.get(url, headers=headers)
        assert reply.status_code == 200, reply.get_data(as_text=True)
        assert reply.headers["OData-Version"] == "4.0"
        body = reply.get_json()
        rows += body["value"]
        url, pages = body.get("@odata.nextLink"), pages + 1
    return rows, pages


def test_does_server_driven_paging_reach_every_row_once_as_the_export(
        demo: Flask, tokens: dict[str, str]) -> None:
    client = demo.test_client()
    names, expected = _export(demo, ExportFilter(instrument="sipas_services"))
    rows, pages = _pages(client, "/odata/v1/sipas_services", tokens["analyst"], prefer=50)
    assert pages == -(-len(expected) // 50) and pages > 2
    assert [[as_text(r[c]) for c in names] for r in rows] == expected
    assert len({r["response_id"] for r in rows}) == len(rows)


def test_do_filter_select_top_skip_and_count_agree_with_the_export(
        demo: Flask, tokens: dict[str, str]) -> None:
    client = demo.test_client()
    names, verified = _export(demo, ExportFilter(instrument="sipas_services", status="verified"))
    at = names.index("response_id")
    url = ("/odata/v1/sipas_services?$filter=status eq 'verified' and response_id gt "
           f"{verified[3][at]}&$select=response_id,weight,status&$count=true")
    body = client.get(url, headers=bearer(tokens["analyst"])).get_json()
    assert body["@odata.count"] == len(verified) - 4
    assert [r["response_id"] for r in body["value"]] == [int(v[at]) for v in verified[4:]]
    assert all(set(r) == {"response_id", "weight", "status"} for r in body["value"])
    assert body["@odata.context"].endswith("$metadata#sipas_services(response_id,weight,status)")
    # $top across pages: exactly top rows, then no next link
    rows, pages = _pages(client, "/odata/v1/sipas_services?$top=7&$skip=3",
                         tokens["analyst"], prefer=3)
    _all, every = _export(demo, ExportFilter(instrument="sipas_services"))
    assert [r["response_id"] for r in rows] == [int(v[at]) for v in every[3:10]] and pages == 3
    moment = every[5][names.index("created_at")]
    since = client.get(f"/odata/v1/sipas_services?$filter=created_at ge {moment[:19]}Z"
                       "&$count=true", headers=bearer(tokens["analyst"])).get_json()
    assert since["@odata.count"] == sum(1 for v in every
                                        if v[names.index("created_at")] >= moment)


REFUSED = [
    ("$filter=status eq 'verified' or status eq 'received'", "'and'"),
    ("$filter=weight gt 3", "weight"),
    ("$filter=status eq verified", "quotes"),
    ("$filter=status eq 'approved'", "approved"),
    ("$filter=created_at ge yesterday", "yesterday"),
    ("$filter=status eq", "incomplete"),
    ("$select=no_such_column", "no_such_column"),
    ("$orderby=weight desc", "$orderby"),
    ("$top=-1", "$top"),
    ("$expand=answers", "$expand"),
    ("$format=xml", "json"),
]


def test_is_what_the_feed_does_not_understand_refused_by_name(
        demo: Flask, tokens: dict[str, str]) -> None:
    client = demo.test_client()
    for query, words in REFUSED:
        reply = client.get(f"/odata/v1/sipas_services?{query}&lang=en",
                           headers=bearer(tokens["analyst"]))
        assert reply.status_code == 400, (query, reply.get_data(as_text=True))
        assert words in reply.get_json()["message"], query


def test_does_metadata_name_every_column_of_every_version(demo: Flask,
                                                           tokens: dict[str, str]) -> None:
    client = demo.test_client()
    xml = client.get("/odata/v1/$metadata", headers=bearer(tokens["analyst"]))
    root = ElementTree.fromstring(xml.data)
    types = {t.get("Name"): [p.get("Name") for p in t.iter(f"{EDM}Property")]
             for t in root.iter(f"{EDM}EntityType")}
    assert set(types) == {"sipas_services", "desk_evaluation", "IndexRow"}
    del types["IndexRow"]  # the estimates' rows (test_is_the_index_feed_…)
    for name, props in types.items():
        assert props == _export(demo, ExportFilter(instrument=name))[0]
    service = client.get("/odata/v1/", headers=bearer(tokens["analyst"])).get_json()
    assert {s["name"] for s in service["value"]} == set(types) | {"index_sipas_services"}
    assert client.get("/odata/v1/no_such_form", headers=bearer(tokens["analyst"])
                      ).status_code == 404
    assert client.get("/odata/v1/$metadata").status_code == 401


def test_does_a_real_odata_client_read_the_feed(demo: Flask, tokens: dict[str, str]) -> None:
    """python-odata reads $metadata into entity classes and follows @odata.nextLink, as
    Excel and Power BI do; it authenticates with Basic (the token as the password)."""
    import requests
    from odata import ODataService

    _names, expected = _export(demo, ExportFilter(instrument="desk_evaluation"))
    with live_server(demo) as base:
        http = requests.Session()
        http.auth = ("anything", tokens["analyst"])
        http.headers["Prefer"] = "odata.maxpagesize=40"
        service = ODataService(f"{base}/odata/v1/", session=http, reflect_entities=True)
        entity = service.entities["desk_evaluation"]
        got = list(service.query(entity))
        assert len(got) == len(expected) > 40
        assert [g.response_id for g in got] == [int(r[0]) for r in expected]
        verified = service.query(entity).filter(entity.status == "verified")
        assert {g.status for g in verified} <= {"verified"}


def test_is_the_index_feed_the_commands_estimates(demo: Flask, tokens: dict[str, str],
                                                  runner, cli_env) -> None:  # type: ignore[no-untyped-def]
    import json

    from survey.cli import main

    done = runner.invoke(main, ["index", "--db", "--instrument", "sipas_services", "--by",
                                "district", "--format", "json"], env=cli_env)
    assert done.exit_code == 0, done.output
    expected = json.loads(done.stdout)["estimates"]
    client = demo.test_client()
    body = client.get("/odata/v1/index_sipas_services?$filter=by eq 'district'",
                      headers=bearer(tokens["analyst"])).get_json()
    rows = body["value"]
    assert [(r["indicator"], r["estimate"], r["se"], r["n"]) for r in rows] == \
        [(e["indicator"], e["estimate"], e["se"], e["n"]) for e in expected]
    assert {r["domain"] for r in rows} == {next(iter((e["domain"] or {}).values()), None)
                                           for e in expected}
    assert len({r["id"] for r in rows}) == len(rows)  # the key is unique
    whole = client.get("/odata/v1/index_sipas_services?$select=indicator,estimate&$top=3",
                       headers=bearer(tokens["analyst"])).get_json()["value"]
    assert len(whole) == 3 and set(whole[0]) == {"indicator", "estimate"}
    xml = client.get("/odata/v1/$metadata", headers=bearer(tokens["analyst"])).data
    names = {s.get("Name") for s in ElementTree.fromstring(xml).iter(f"{EDM}EntitySet")}
    assert "index_sipas_services" in names and "index_desk_evaluation" not in names
    for query, status, words in (("$filter=by eq 'agency'", 400, "by takes"),
                                 ("$filter=weight gt 1", 400, "round eq"),
                                 ("$filter=round eq 'NO-ROUND'", 409, "NO-ROUND"),
                                 ("$orderby=n", 400, "$orderby")):
        reply = client.get(f"/odata/v1/index_sipas_services?{query}&lang=en",
                           headers=bearer(tokens["analyst"]))
        assert reply.status_code == status and words in reply.get_json()["message"], query
