"""Does the supervisor's review list page through every stored questionnaire, search and
filter by round, instead of stopping silently at a fixed number of rows?"""

from __future__ import annotations

import re
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.models import Response
from tests import factories
from tests.entry.conftest import World, login


def _store(app: Flask, world: World, count: int, round_id: int | None = None) -> None:
    with Session(app.extensions["sipas_engine"]) as session:
        version = factories.published(session)
        for n in range(1, count + 1):
            session.add(Response(client_uuid=uuid.uuid4(), content_hash="x" * 64,
                                 instrument_version_id=version.id,
                                 round_id=round_id or world.round_id, mode="paper",
                                 status="verified", outcome="completed",
                                 sample_unit_id=world.sample_unit_id,
                                 questionnaire_id=f"{round_id or world.round_id:02d}-4711-"
                                                  f"{n:03d}-0"))
        session.commit()


def _rows(page: str) -> list[str]:
    table = page.split('id="stored"')[1].split("</table>")[0]
    return re.findall(r"<td>(\d\d-4711-\d{3}-0)</td>", table)


def test_every_stored_questionnaire_is_reachable_page_by_page(app: Flask, client: FlaskClient,
                                                              world: World) -> None:
    _store(app, world, 248)
    login(client, "ha")
    seen: list[str] = []
    path = "/entry/review?status=verified"
    while path:
        page = client.get(path).get_data(as_text=True)
        assert 'data-total="248"' in page
        seen += _rows(page)
        found = re.search(r'rel="next" href="([^"]+)"', page)
        path = found.group(1).replace("&amp;", "&") if found else ""
    assert len(seen) == len(set(seen)) == 248
    last = client.get("/entry/review?status=verified&page=5").get_data(as_text=True)
    assert "201–248 trong số 248" in last and len(_rows(last)) == 48
    beyond = client.get("/entry/review?status=verified&page=999").get_data(as_text=True)
    assert len(_rows(beyond)) == 48  # past the end: the last page, not an empty one
    junk = client.get("/entry/review?status=verified&page=%F0%9F%98%80&size=-3")
    assert junk.status_code == 200


def test_search_and_round_filter_narrow_the_list(app: Flask, client: FlaskClient,
                                                 world: World) -> None:
    _store(app, world, 30)
    with Session(app.extensions["sipas_engine"]) as session:
        other = factories.survey_round(session, code="2026", year=2026)
        session.commit()
        other_id = other.id
    _store(app, world, 3, other_id)
    login(client, "ha")
    found = client.get("/entry/review?status=verified&q=4711-017").get_data(as_text=True)
    assert _rows(found) == [f"{world.round_id:02d}-4711-017-0"]
    only = client.get("/entry/review?status=verified&round=2026").get_data(as_text=True)
    assert sorted(_rows(only)) == [f"{other_id:02d}-4711-00{n}-0" for n in (1, 2, 3)]
    assert "<td>2026</td>" in only
    nothing = client.get("/entry/review?status=verified&q=%25_").get_data(as_text=True)
    assert _rows(nothing) == [] and "Không tìm thấy." in nothing  # % and _ are literal
