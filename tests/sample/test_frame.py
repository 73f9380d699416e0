"""Is a frame imported whole or not at all, with a clear reason for every bad row?"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from survey.models import AdminUnit
from survey.services.sample.frame import FrameError, crosswalk, frame_summary, import_frame
from tests.sample.conftest import HEADER, frame_csv


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(AdminUnit)).one())


def test_a_good_frame_is_imported_with_parents_and_levels(engine: Engine) -> None:
    with Session(engine) as session:
        result = import_frame(session, "\ufeff" + frame_csv())
        session.commit()
        assert (result.created, result.updated) == (1 + 3 + 6 + 24, 0)
        assert result.by_level == {"province": 1, "district": 3, "commune": 6, "hamlet": 24}
        hamlet = session.exec(select(AdminUnit).where(AdminUnit.code == "90010203")).one()
        commune = session.get(AdminUnit, hamlet.parent_id)
        assert commune is not None and commune.code == "900102"
        assert hamlet.urban_rural == "rural" and hamlet.households and hamlet.households > 0
        assert ("hamlet", 24, 24) in frame_summary(session)


def test_reimporting_updates_sizes_instead_of_duplicating(engine: Engine) -> None:
    with Session(engine) as session:
        import_frame(session, frame_csv(seed=1))
        result = import_frame(session, frame_csv(seed=2))
        session.commit()
        assert (result.created, result.updated) == (0, 34)
    assert _count(engine) == 34


BAD = [
    ("duplicate", "9001,Huyện 1 bis,district,90,,,,,,", "duplicate code '9001'"),
    ("unknown parent", "90019901,Ấp Lạc,hamlet,909999,100,,,,,", "unknown parent '909999'"),
    ("zero size", "90019902,Ấp Không,hamlet,900101,0,,,,,", "households must be positive"),
    ("negative size", "90019903,Ấp Âm,hamlet,900101,,-5,,,,", "population must be positive"),
    ("not a number", "90019904,Ấp Chữ,hamlet,900101,nhiều,,,,,", "whole number"),
    ("bad level", "90019905,Ấp Lạ,thon,900101,100,,,,,", "unknown level 'thon'"),
    ("level order", "90019906,Huyện Ngược,district,900101,,,,,,", "must be a higher level"),
    ("self parent", "90019907,Ấp Vòng,hamlet,90019907,100,,,,,", "cycle"),
    ("urban", "90019908,Ấp Phố,hamlet,900101,100,,town,,,", "urban or rural"),
    ("date", "90019909,Ấp Ngày,hamlet,900101,100,,,2025-13-01,,", "date YYYY-MM-DD"),
    ("empty name", "90019910,,hamlet,900101,100,,,,,", "name is empty"),
    ("successor", "90019911,Ấp Cũ,hamlet,900101,100,,,,2025-06-30,99", "unknown successor '99'"),
]


@pytest.mark.parametrize(("case", "line", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_row_refuses_the_whole_file_and_says_why(
    engine: Engine, case: str, line: str, message: str
) -> None:
    text = frame_csv() + line + "\n"
    with Session(engine) as session, pytest.raises(FrameError) as info:
        import_frame(session, text, source="khung.csv")
    assert any(message in str(p) and str(p).startswith("line 36: ") for p in info.value.problems)
    assert str(info.value).startswith("khung.csv: line 36: ")
    assert "nothing was imported" in str(info.value)
    assert _count(engine) == 0


def test_a_cycle_through_several_units_is_named(engine: Engine) -> None:
    text = "\n".join([HEADER, "A,Xã A,commune,B,,,,,,", "B,Xã B,commune,A,,,,,,"])
    with Session(engine) as session, pytest.raises(FrameError) as info:
        import_frame(session, text)
    assert any("cycle: A → B → A" in str(p) for p in info.value.problems)
    assert _count(engine) == 0


def test_every_problem_is_listed_not_only_the_first(engine: Engine) -> None:
    text = frame_csv() + "90019901,Ấp X,hamlet,77,0,,,,,\n9001,Dup,district,90,,,,,,\n"
    with Session(engine) as session, pytest.raises(FrameError) as info:
        import_frame(session, text)
    assert len(info.value.problems) == 3
    assert "and 2 more problems" in str(info.value)


@pytest.mark.parametrize(
    ("header", "message"),
    [("code,name", "missing column(s) level"), ("code,name,level,size", "unknown column(s) size")],
)
def test_a_wrong_header_is_refused(engine: Engine, header: str, message: str) -> None:
    with Session(engine) as session, pytest.raises(FrameError, match=re.escape(message)):
        import_frame(session, header + "\n90,Tỉnh,province\n")


def test_an_unknown_parent_may_be_a_unit_already_stored(engine: Engine) -> None:
    with Session(engine) as session:
        import_frame(session, frame_csv())
        import_frame(session, HEADER + "\n90010105,Ấp Mới,hamlet,900101,250,,rural,,,\n")
        session.commit()
    assert _count(engine) == 35


def test_the_2025_hierarchy_without_districts_and_the_crosswalk(engine: Engine) -> None:
    """Old district-era communes end on 30 June 2025 and point to the merged commune."""
    text = "\n".join([
        HEADER,
        "90,Tỉnh An Hòa,province,,,,,,,",
        "9001,Huyện Tân Phú,district,90,,,,,2025-06-30,",
        "900101,Xã Phú Lâm,commune,9001,,,rural,,2025-06-30,910001",
        "900102,Xã Tân Hòa,commune,9001,,,rural,,2025-06-30,910001",
        "910001,Xã Phú Lâm mới,commune,90,,,rural,2025-07-01,,",
        "91000101,Ấp Bàu Sen,hamlet,910001,300,,rural,2025-07-01,,",
    ])  # fmt: skip
    with Session(engine) as session:
        import_frame(session, text)
        session.commit()
        now = crosswalk(session)
        assert now["900101"] == now["900102"] == "910001"
        assert now["910001"] == "910001"
        assert crosswalk(session, on=date(2024, 1, 1))["900101"] == "900101"


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_frame_saved_by_vietnamese_excel_with_semicolons_or_tabs_imports_the_same(
    engine: Engine, sep: str
) -> None:
    """Issue 13: a semicolon-separated frame was "unknown column(s) code;name;…"."""
    text = "\ufeff" + frame_csv().replace(",", sep)
    with Session(engine) as session:
        result = import_frame(session, text)
        session.commit()
        count = session.exec(select(func.count()).select_from(AdminUnit)).one()
    assert count == 34 and result is not None
