"""Is a round surveyed before a reform reported on today's map, honestly?

On 1 July 2025 districts were abolished and communes (and 63 provinces into 34) merged.
The frame keeps the old units with ``valid_to`` and the unit that took each one over
(``successor``). Here the demo province goes through such a reform after its 2025 round:
its districts end, and one commune of Long Điền is taken over by one of Tân Phú. Then:

- the dashboard counts the merged commune's questionnaires in its successor, with exactly
  the numbers of a frame in which those hamlets had always been the successor's (the same
  domain of the same design), and says in words what was merged;
- the abolished districts still break the old round down, as it was surveyed;
- an account limited to Tân Phú now sees the merged commune's questionnaires (lists,
  exports) and Long Điền's no longer does: the area is the subtree on today's map.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from survey.models import AdminUnit, GeoLevel, Response
from survey.services.geography import ancestry_table
from survey.services.reports.dashboard import DashboardOptions, build_dashboard
from survey.services.sample.frame import crosswalk
from survey.services.scope import Scope, within
from tests import factories
from tests.reports.conftest import PASSWORD
from tests.support import sign_in

REFORM = date(2025, 6, 30)  # the last day of the old map


def _communes(session: Session) -> dict[str, list[AdminUnit]]:
    """District name → its communes that hold verified questionnaires of round 2025."""
    level = session.exec(select(GeoLevel).where(GeoLevel.code == "commune")).one()
    used = set(session.exec(select(Response.unit_id).where(Response.status == "verified")))
    units = {u.id: u for u in session.exec(select(AdminUnit))}
    out: dict[str, list[AdminUnit]] = {}
    for unit in units.values():
        if unit.level_id == level.id and any(
                h.parent_id == unit.id and h.id in used for h in units.values()):
            out.setdefault(units[unit.parent_id].name, []).append(unit)  # type: ignore[index]
    return out


def _reform(app: Flask) -> tuple[str, str]:
    """End both districts; Long Điền's first commune is taken over by Tân Phú's first.
    Returns (the merged commune's name, its successor's)."""
    with Session(app.extensions["sipas_engine"]) as session:
        communes = _communes(session)
        gone, kept = communes["Huyện Long Điền"][0], communes["Huyện Tân Phú"][0]
        level = session.exec(select(GeoLevel).where(GeoLevel.code == "district")).one()
        for district in session.exec(select(AdminUnit).where(AdminUnit.level_id == level.id)):
            district.valid_to = REFORM  # all of them: the level is abolished
        gone.valid_to, gone.successor_id = REFORM, kept.id
        session.commit()
        return gone.name, kept.name


def _dashboard(app: Flask, **options: object):  # type: ignore[no-untyped-def]
    with Session(app.extensions["sipas_engine"]) as session:
        return build_dashboard(session, DashboardOptions(period="2025", **options))  # type: ignore[arg-type]


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_an_old_round_is_read_on_todays_map_with_the_mergers_said(
        demo: Flask, analyst: FlaskClient) -> None:
    before = _dashboard(demo).household
    gone, kept = _reform(demo)
    after = _dashboard(demo).household
    communes_before = {d.domain for d in before.breakdowns["commune"]}
    communes_after = {d.domain for d in after.breakdowns["commune"]}
    assert communes_after == communes_before - {gone}
    grown = {d.domain: d.overall.n for d in after.breakdowns["commune"]}[kept]
    was = {d.domain: d.overall.n for d in before.breakdowns["commune"]}
    assert grown == was[kept] + was[gone]
    assert after.formers == {"commune": {kept: (gone,)}}
    # the whole province is the same questionnaires: the same index, to the last digit
    assert repr(after.overall) == repr(before.overall)
    # districts no longer exist: the old round is still broken down by them as surveyed,
    # and the merged commune's questionnaires now sit with its successor's district
    assert ({d.domain for d in after.breakdowns["district"]}
            == {d.domain for d in before.breakdowns["district"]})

    # the same as a frame in which those hamlets had always been the successor's
    with Session(demo.extensions["sipas_engine"]) as session:
        old = session.exec(select(AdminUnit).where(AdminUnit.name == gone)).one()
        new = session.exec(select(AdminUnit).where(AdminUnit.name == kept)).one()
        hamlets = list(session.exec(select(AdminUnit).where(AdminUnit.parent_id == old.id)))
        for hamlet in hamlets:
            hamlet.parent_id = new.id
        hamlet_ids, new_id = {h.id for h in hamlets}, new.id
        old.valid_to, old.successor_id = None, None
        session.commit()
    moved = _dashboard(demo).household
    assert moved.formers == {}
    assert repr(replace(after, formers={})) == repr(moved)

    # and the reader is told, in their language
    with Session(demo.extensions["sipas_engine"]) as session:  # back to the reform
        old = session.exec(select(AdminUnit).where(AdminUnit.name == gone)).one()
        for hamlet in session.exec(select(AdminUnit).where(AdminUnit.id.in_(hamlet_ids))):  # type: ignore[union-attr]
            hamlet.parent_id = old.id
        old.valid_to, old.successor_id = REFORM, new_id
        session.commit()
    page = analyst.get("/reports/?period=2025&lang=en").get_data(as_text=True)
    assert 'id="merged-note"' in page
    assert f"{kept} now includes the former {gone}" in page
    vi = analyst.get("/reports/?period=2025&lang=vi").get_data(as_text=True)
    assert f"{kept} nay gồm cả {gone} trước đây" in vi
    report = analyst.get("/reports/report?period=2025&format=html&lang=en")
    assert report.status_code == 200
    assert f"{kept} now includes the former {gone}" in report.get_data(as_text=True)


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_an_area_holds_what_its_units_took_over(demo: Flask, client: FlaskClient) -> None:
    gone, _kept = _reform(demo)
    with Session(demo.extensions["sipas_engine"]) as session:
        districts = {u.name: u for u in session.exec(select(AdminUnit).where(
            AdminUnit.name.in_(("Huyện Long Điền", "Huyện Tân Phú"))))}  # type: ignore[attr-defined]
        today = ancestry_table(session, "code", todays_map=True)
        surveyed = ancestry_table(session, "code")
        old = session.exec(select(AdminUnit).where(AdminUnit.name == gone)).one()
        merged = {r.id for r in session.exec(select(Response)) if r.unit_id is not None
                  and surveyed[r.unit_id].get("commune") == old.code}
        assert merged
        for name, unit in districts.items():  # the area's SQL = today's map walked in Python
            expected = {u for u, names in today.items() if names.get("district") == unit.code}
            found = set(session.exec(select(AdminUnit.id).where(
                within(Scope(unit.id, unit.code, name, "district"), AdminUnit.id))))
            assert found == expected
        tanphu = districts["Huyện Tân Phú"]
        factories.user(session, "analyst", username="tanphu", password=PASSWORD,
                       scope_unit_id=tanphu.id)
        factories.user(session, "analyst", username="longdien", password=PASSWORD,
                       scope_unit_id=districts["Huyện Long Điền"].id)
        session.commit()
        tanphu_id = tanphu.id
    for username, sees in (("tanphu", True), ("longdien", False)):
        fresh = demo.test_client()
        sign_in(fresh, username, PASSWORD)
        reply = fresh.get("/reports/exports/download?format=csv")
        assert reply.status_code == 200
        rows = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
        ids = {int(r["response_id"]) for r in rows}
        assert (merged <= ids) is sees and (merged & ids == set()) is not sees
    # the Tân Phú account's dashboard is the district filter's, merged commune included
    with Session(demo.extensions["sipas_engine"]) as session:
        mine = build_dashboard(session, DashboardOptions(
            period="2025", area=Scope(tanphu_id, districts["Huyện Tân Phú"].code,
                                      "Huyện Tân Phú", "district")))
        filtered = build_dashboard(session, DashboardOptions(period="2025",
                                                             district="Huyện Tân Phú"))
    assert repr(mine.household) == repr(filtered.household)
    assert mine.household.formers == {"commune": {_kept: (gone,)}}


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_todays_map_follows_a_province_merger_and_the_crosswalk(engine) -> None:  # type: ignore[no-untyped-def]
    """Hà Giang merged into Tuyên Quang (which kept its code): Hà Giang's hamlet lies in
    today's Tuyên Quang, its abolished district keeps its name, a unit whose merger lies
    in the future is still where it was, and bad data with a cycle ends."""
    from survey.services.geography import LEVELS_WITH_DISTRICTS, ensure_levels

    with Session(engine) as session:
        lv = ensure_levels(session, LEVELS_WITH_DISTRICTS)

        def unit(code: str, name: str, level: str, parent: AdminUnit | None = None,
                 **kw: object) -> AdminUnit:
            u = AdminUnit(code=code, name=name, level_id=lv[level].id,
                          parent_id=parent.id if parent else None, **kw)
            session.add(u)
            session.flush()
            return u

        tq = unit("08", "Tỉnh Tuyên Quang", "province")
        hg = unit("02", "Tỉnh Hà Giang", "province", valid_to=REFORM, successor_id=tq.id)
        district = unit("02001", "Huyện Vị Xuyên", "district", hg, valid_to=REFORM)
        commune = unit("0200101", "Xã Việt Lâm", "commune", district)
        hamlet = unit("020010101", "Thôn Làng Má", "hamlet", commune)
        later = unit("99", "Tỉnh Sau Này", "province", valid_to=date(2999, 1, 1),
                     successor_id=tq.id)
        # a successor named but no end date: not taken over, still under its parent
        waiting = unit("0200102", "Xã Chờ Sáp Nhập", "commune", district,
                       successor_id=later.id)
        session.commit()
        today = ancestry_table(session, todays_map=True)
        assert today[hamlet.id] == {"province": "Tỉnh Tuyên Quang",
                                    "district": "Huyện Vị Xuyên", "commune": "Xã Việt Lâm",
                                    "hamlet": "Thôn Làng Má"}
        assert ancestry_table(session)[hamlet.id]["province"] == "Tỉnh Hà Giang"
        assert today[later.id] == {"province": "Tỉnh Sau Này"}
        assert crosswalk(session)["02"] == "08" and crosswalk(session)["99"] == "99"
        inside = set(session.exec(select(AdminUnit.id).where(
            within(Scope(tq.id, "08", tq.name, "province"), AdminUnit.id))))
        assert inside == {tq.id, hg.id, district.id, commune.id, hamlet.id, waiting.id}
        assert today[waiting.id]["commune"] == "Xã Chờ Sáp Nhập"
        # a cycle (A taken over by B, B a child of A) ends instead of looping
        tq.parent_id = hg.id
        session.commit()
        assert ancestry_table(session, todays_map=True)[hamlet.id]["hamlet"] == "Thôn Làng Má"
        assert tq.id in set(session.exec(select(AdminUnit.id).where(
            within(Scope(hg.id, "02", hg.name, "province"), AdminUnit.id))))


def test_names_two_units_share_read_apart() -> None:
    """"Phường 1" in two districts and "Thôn 1" in both: each label tells them apart with
    the names above it, nearest first; unique names stay as they are."""
    from survey.services.geography import distinct_names

    names = {
        1: {"province": "Tỉnh A"}, 2: {"province": "Tỉnh A", "district": "Huyện X"},
        3: {"province": "Tỉnh A", "district": "Huyện Y"},
        4: {"province": "Tỉnh A", "district": "Huyện X", "commune": "Phường 1"},
        5: {"province": "Tỉnh A", "district": "Huyện Y", "commune": "Phường 1"},
        6: {"province": "Tỉnh A", "district": "Huyện X", "commune": "Phường 1",
            "hamlet": "Thôn 1"},
        7: {"province": "Tỉnh A", "district": "Huyện Y", "commune": "Phường 1",
            "hamlet": "Thôn 1"},
        8: {"province": "Tỉnh A", "district": "Huyện Y", "commune": "Phường 1",
            "hamlet": "Thôn 2"},
    }
    # each unit's code and its ancestors' (districts X = 2, Y = 3; communes 4, 5)
    codes = {1: {"province": "1"}, 2: {"province": "1", "district": "2"},
             3: {"province": "1", "district": "3"},
             4: {"province": "1", "district": "2", "commune": "4"},
             5: {"province": "1", "district": "3", "commune": "5"},
             6: {"province": "1", "district": "2", "commune": "4", "hamlet": "6"},
             7: {"province": "1", "district": "3", "commune": "5", "hamlet": "7"},
             8: {"province": "1", "district": "3", "commune": "5", "hamlet": "8"}}
    shown = distinct_names(names, codes, ("province", "district", "commune", "hamlet"))
    assert shown[6] == {"province": "Tỉnh A", "district": "Huyện X",
                        "commune": "Phường 1, Huyện X", "hamlet": "Thôn 1, Phường 1, Huyện X"}
    assert shown[7]["hamlet"] == "Thôn 1, Phường 1, Huyện Y"
    assert shown[8]["hamlet"] == "Thôn 2"  # only one: as it is
    assert shown[5]["commune"] == "Phường 1, Huyện Y"
    unique = {u: m for u, m in names.items() if u in (1, 2, 4)}
    assert distinct_names(unique, codes, ("province", "district", "commune")) == unique


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_pickers_and_the_ministrys_list_use_todays_units(demo: Flask) -> None:
    """After the reform, no picker offers a district or commune that has ended (an account
    or a desk placed there would hold nothing), and the ministry's list shows a province
    merged away under the province that holds it now, and never offers it as a filter."""
    from survey.services.scope import EVERYTHING, units_in_scope

    gone, kept = _reform(demo)
    with Session(demo.extensions["sipas_engine"]) as session:
        level = session.exec(select(GeoLevel).where(GeoLevel.code == "province")).one()
        an_hoa = session.exec(select(AdminUnit).where(AdminUnit.code == "90")).one()
        old = AdminUnit(code="91", name="Tỉnh Bình Sơn Cũ", level_id=level.id,
                        valid_to=REFORM, successor_id=an_hoa.id)
        session.add(old)
        session.flush()
        district = session.exec(select(AdminUnit).where(
            AdminUnit.name == "Huyện Long Điền")).one()
        district.parent_id = old.id  # Long Điền was surveyed in the old province
        offered = {name for _code, name, _level in units_in_scope(session, EVERYTHING)}
        factories.user(session, "supervisor", username="bo-duyet", password=PASSWORD)
        session.commit()
    assert kept in offered and gone not in offered
    assert not offered & {"Huyện Long Điền", "Huyện Tân Phú", "Tỉnh Bình Sơn Cũ"}
    client = demo.test_client()
    sign_in(client, "bo-duyet", PASSWORD)
    page = client.get("/entry/ministry?size=200").get_data(as_text=True)
    assert "Tỉnh An Hòa" in page and "Tỉnh Bình Sơn Cũ" not in page
