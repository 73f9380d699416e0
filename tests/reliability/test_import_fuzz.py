"""Do the CSV imports (frame, dossier volumes) answer any file with success or a clear
error — never a crash, never a half-imported file?"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from survey.models import AdminUnit, Desk
from survey.models_reports import DossierVolume
from survey.services.desks.volumes import import_volumes
from survey.services.sample.frame import import_frame
from tests import factories

CELL = st.one_of(
    st.sampled_from(["", "90", "9001", "900101", "province", "district", "commune", "hamlet",
                     "xóm", "-5", "0", "12", "3.5", "1e309", "urban", "rural", "2025-07",
                     "2025-Q3", "2025", "2025-13", "2024-02-30", "MC-TEST", "Ấp Bàu Sen",
                     "=1+1", '"', "\n", ";"]),
    st.text(max_size=12),
)
FRAME_HEADERS = st.lists(st.sampled_from(
    ["code", "name", "level", "parent", "households", "population", "urban_rural",
     "valid_from", "valid_to", "successor", "extra"]), min_size=0, max_size=8)
VOLUME_HEADERS = st.lists(st.sampled_from(["desk", "period", "dossiers", "note"]),
                          min_size=0, max_size=4)


def _csv(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text

    return "\n".join(",".join(cell(c) for c in line) for line in [header, *rows])


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=FRAME_HEADERS, rows=st.lists(st.lists(CELL, max_size=9), max_size=6))
def test_frame_import_is_all_or_nothing(engine: Engine, header: list[str],
                                        rows: list[list[str]]) -> None:
    with Session(engine) as session:
        before = _count(session, AdminUnit)
        try:
            import_frame(session, _csv(header, rows), "fuzz.csv")
        except ValueError as exc:
            assert str(exc)
            session.rollback()
            assert _count(session, AdminUnit) == before
        else:
            session.rollback()  # keep the database as it was for the next example


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=VOLUME_HEADERS, rows=st.lists(st.lists(CELL, max_size=4), max_size=6))
def test_volume_import_is_all_or_nothing(engine: Engine, header: list[str],
                                         rows: list[list[str]]) -> None:
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(DossierVolume)).one() == 0 and not \
                session.exec(select(Desk).where(Desk.code == "MC-TEST")).first():
            factories.desk(session, code="MC-TEST")
            session.commit()
        before = _count(session, DossierVolume)
        try:
            import_volumes(session, _csv(header, rows), "fuzz.csv")
        except ValueError as exc:
            assert str(exc)
            session.rollback()
            assert _count(session, DossierVolume) == before
        else:
            session.rollback()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("text", ["\r\x00", "code,name,level\r90,Tỉnh,province\r",
                                  'code,name,level\n"90,Tỉnh\rx', "a\rb\x00c\n\r\n"])
def test_raw_carriage_returns_and_nul_get_a_clear_answer(engine: Engine, text: str) -> None:
    """Found by the large fuzz run: a bare CR made the csv module raise (a 500)."""
    from survey.services.sample.lists import parse_listed_counts

    with Session(engine) as session:
        factories.desk(session, code="MC-TEST")
        session.commit()
        for importer in (lambda t: import_frame(session, t, "f.csv"),
                         lambda t: import_volumes(session, t, "v.csv"),
                         parse_listed_counts):
            try:
                importer(text)
            except ValueError as exc:
                assert str(exc)
            session.rollback()


def test_a_frame_with_bare_cr_line_ends_imports() -> None:
    from survey.services.sample.frame import parse_frame

    rows, problems = parse_frame("code,name,level\r90,Tỉnh An Hòa,province\r")
    assert problems == [] and [r.code for r in rows] == ["90"]
