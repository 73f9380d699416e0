"""Does the round the reports read equal the verified export, and is it read once per page?"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from flask import Flask
from sqlmodel import Session, select

from survey.models import AdminUnit, Response, SurveyRound
from survey.services.data.export import ExportFilter, export_rows
from survey.services.reports import round_data
from survey.services.reports.dashboard import DashboardOptions, build_dashboard


def test_is_the_round_read_exactly_as_the_export_writes_it(demo: Flask) -> None:
    with Session(demo.extensions["sipas_engine"]) as session:
        code = session.exec(select(Response.round_id).where(Response.round_id.is_not(None))
                            ).first()
        assert code is not None
        from survey.models import SurveyRound

        round_code = session.get(SurveyRound, code).code
        data = round_data.load_round(session, round_code, "sipas_services")
        header, rows = export_rows(session, ExportFilter("verified", round_code,
                                                         "sipas_services"))
        table = list(rows)
        assert data.n == len(table) > 100
        cols = {h: [r[k] for r in table] for k, h in enumerate(header)}
        for name in ("stratum", "psu", "district", "commune", "hamlet"):
            assert list(data.text[name]) == cols[name], name
        compared = 0
        for name, values in data.numbers.items():
            expected = np.array([float(v) if v != "" else np.nan for v in cols[name]])
            np.testing.assert_array_equal(values, expected, err_msg=name)
            compared += 1
        assert compared > 20 and "weight" in data.numbers
        for name in ("e_levels", "e_fields"):
            assert list(data.text[name]) == cols[name]


def test_is_the_round_read_once_and_again_after_a_change(demo: Flask,
                                                                  monkeypatch) -> None:
    round_data._kept.clear()
    reads = []
    real = round_data._read
    # count every read of the round (the report's answers, or all of them)
    monkeypatch.setattr(round_data, "_read", lambda s, p, items=None, base=None: (
        reads.append(p)) or real(s, p, items, base=base))
    with Session(demo.extensions["sipas_engine"]) as session:
        build_dashboard(session, DashboardOptions(period="2025-Q3"))
        assert len(reads) == 1  # the area filter, the index and the trend share one read
        build_dashboard(session, DashboardOptions(period="2025-Q3", min_n=10))
        assert len(reads) == 1  # the next page too, while nothing changed
        first = session.exec(select(Response).where(Response.status == "verified")).first()
        first.status = "has_issues"
        session.add(first)
        session.flush()
        after = build_dashboard(session, DashboardOptions(period="2025-Q3"))
        assert len(reads) == 2  # the verified set changed: read again, never a stale copy
        assert after.household.overall is not None
        assert first.id not in set(next(iter(round_data._kept.values())).ids.tolist())
        unit = session.exec(select(AdminUnit).where(AdminUnit.parent_id.is_not(None))).first()
        unit.name = unit.name + " (mới)"  # a renamed unit: names are part of the data
        session.add(unit)
        session.flush()
        build_dashboard(session, DashboardOptions(period="2025-Q3"))
        assert len(reads) == 3


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_kept_fingerprint_is_forgotten_when_the_session_writes_or_ends(demo: Flask) -> None:
    """The fingerprint is hashed once per page, never kept past a write or a transaction:
    a questionnaire sent back in the same session, or in another one after this one's
    transaction ended, gives a new fingerprint."""
    from survey.services.reports.round_data import fingerprint

    with Session(demo.extensions["sipas_engine"]) as session:
        code = session.exec(select(SurveyRound.code)).first()
        assert code is not None
        first = fingerprint(session, code, "sipas_services")
        assert fingerprint(session, code, "sipas_services") is first  # kept: one hash
        row = session.exec(select(Response).where(Response.status == "verified")).first()
        assert row is not None
        row.status = "has_issues"
        session.add(row)
        session.flush()
        second = fingerprint(session, code, "sipas_services")
        assert second != first
        row_id = row.id
        session.commit()
        with Session(demo.extensions["sipas_engine"]) as other:
            again = other.exec(select(Response).where(Response.id == row_id)).one()
            again.status = "verified"
            other.add(again)
            other.commit()
        session.close()  # the page's transaction ended: nothing kept
        now = fingerprint(session, code, "sipas_services")
        assert now != second
        session.close()  # (SQLite: one transaction at a time)
        with Session(demo.extensions["sipas_engine"]) as fresh:
            assert now == fingerprint(fresh, code, "sipas_services")


def test_is_the_round_read_ahead_only_where_it_can_be_trusted(demo: Flask) -> None:
    """The dashboard reads the round on another connection while it estimates the desks:
    only on PostgreSQL, only when nothing is kept, and never when this session has
    written (the other connection would read the data without the writes, under a
    fingerprint that includes them)."""
    engine = demo.extensions["sipas_engine"]
    items = ("c1_1", "e_levels")
    with Session(engine) as session:
        stamp = round_data.fingerprint(session, "2025", "sipas_services")
        with round_data._lock:
            round_data._kept.clear()
        thread = round_data.prefetch(session, "2025", "sipas_services", stamp, items)
        if engine.dialect.name != "postgresql":
            assert thread is None  # SQLite reads in this process: nothing to overlap
            return
        assert thread is not None
        thread.join()
        ahead = round_data._kept[round_data._key(stamp, items)]
        assert round_data.load_round(session, "2025", "sipas_services", key=stamp,
                                     items=items) is ahead  # the page finds it read
        mine = round_data.read_items(session, "2025", "sipas_services", list(items))
        np.testing.assert_array_equal(ahead.numbers["c1_1"], mine.numbers["c1_1"])
        assert list(ahead.text["e_levels"]) == list(mine.text["e_levels"])
        assert round_data.prefetch(session, "2025", "sipas_services", stamp, items) is None
        with round_data._lock:
            round_data._kept.clear()
        held = []  # a pool with no connection to spare: the page reads the round itself
        while round_data._spare_connection(engine) and len(held) < 100:
            held.append(engine.connect())
        try:
            assert round_data.prefetch(session, "2025", "sipas_services", stamp, items) is None
        finally:
            for conn in held:
                conn.close()
        first = session.exec(select(Response).where(Response.status == "verified")).first()
        first.stratum = "moved"  # type: ignore[union-attr]
        session.flush()
        written = round_data.fingerprint(session, "2025", "sipas_services")
        assert written != stamp
        assert round_data.prefetch(session, "2025", "sipas_services", written, items) is None
        savepoint = session.begin_nested()  # rolled back inside the transaction
        first.psu = "moved too"  # type: ignore[union-attr]
        session.flush()
        savepoint.rollback()
        assert round_data.prefetch(session, "2025", "sipas_services", written, items) is None
        session.rollback()
        again = round_data.prefetch(session, "2025", "sipas_services", stamp, items)
        assert again is not None  # the transaction is over: reading ahead is safe again
        again.join()


def _same(got: round_data.RoundData, whole: round_data.RoundData) -> None:
    """Two reads of a round hold the same columns, values and rows."""
    assert got.n == whole.n and list(got.ids) == list(whole.ids)
    assert got.stamps == whole.stamps
    assert sorted(got.text) == sorted(whole.text) and sorted(got.numbers) == sorted(whole.numbers)
    for name, column in whole.text.items():
        assert list(got.text[name]) == list(column), name
    for name, column in whole.numbers.items():
        np.testing.assert_array_equal(got.numbers[name], column, err_msg=name)


def test_is_a_changed_round_read_in_part_and_equal_to_a_whole_read(demo: Flask,
                                                                     monkeypatch) -> None:
    """After a change, only the questionnaires whose last change moved (or that are new) are
    read again; the rest come from the kept read. The result equals a whole read after each
    kind of change: a corrected number, a questionnaire sent back, one verified again, an
    item that becomes worded (no longer a number) and back, and many changes at once (then
    it is read whole)."""
    from datetime import timedelta

    from survey.models import Answer

    engine = demo.extensions["sipas_engine"]
    items = ("c1_1", "c2_1", "e_levels", "e_fields")
    asked: list[int | None] = []
    real = round_data._answers

    def counting(conn, sql, query, params):  # type: ignore[no-untyped-def]
        asked.append(len(params["changed"]) if "changed" in params else None)
        return real(conn, sql, query, params)

    monkeypatch.setattr(round_data, "_answers", counting)
    with round_data._lock:
        round_data._kept.clear()

    def check(session: Session) -> round_data.RoundData:
        """The page's read (from the kept one) against a whole read of the same data;
        ``asked`` says what the page's read asked the database for."""
        asked.clear()
        got = round_data.load_round(session, "2025", "sipas_services", items=items)
        seen = list(asked)
        _same(got, round_data.read_items(session, "2025", "sipas_services", list(items)))
        asked[:] = seen
        return got

    def touch(session: Session, row: Response) -> None:
        row.updated_at = row.updated_at + timedelta(seconds=1)
        session.add(row)
        session.flush()

    with Session(engine) as session:
        check(session)
        assert asked == [None]  # nothing kept: the whole round
        rows = session.exec(select(Response).where(Response.status == "verified",
                                                   Response.round_id.is_not(None))
                            .order_by(Response.id)).all()
        one, two, three = rows[0], rows[1], rows[2]
        answer = session.get(Answer, (one.id, "c1_1"))
        assert answer is not None and answer.value_num is not None
        answer.value_num = 1.0 if answer.value_num != 1.0 else 5.0
        session.add(answer)
        touch(session, one)
        got = check(session)
        assert asked == [1]  # one questionnaire read again
        assert got.numbers["c1_1"][list(got.ids).index(one.id)] == answer.value_num
        two.status = "has_issues"  # sent back: it leaves the round, nothing to read
        session.add(two)
        session.flush()
        got = check(session)
        assert asked == [] and two.id not in set(got.ids.tolist())
        two.status = "verified"  # verified again: read again
        touch(session, two)
        check(session)
        assert asked == [1]
        worded = session.get(Answer, (three.id, "c2_1"))
        assert worded is not None
        worded.value_num, worded.value_text = None, "không rõ"  # words where numbers were
        session.add(worded)
        touch(session, three)
        got = check(session)
        assert asked == [1] and "c2_1" in got.text and "c2_1" not in got.numbers
        worded.value_num, worded.value_text = 4.0, None  # and back: a number again
        session.add(worded)
        touch(session, three)
        got = check(session)
        assert asked == [1] and "c2_1" in got.numbers and "c2_1" not in got.text
        for row in rows[: len(rows) // 2]:  # half the round at once: read whole
            touch(session, row)
        check(session)
        assert asked == [None]
        session.rollback()


def test_the_desk_charts_are_drawn_while_the_round_is_read(demo: Flask, monkeypatch) -> None:
    """The page hands the desk report and its trend over (to draw their charts) before it
    waits for the household round: on PostgreSQL, while the round is still being read on
    the other connection. Where nothing is read meanwhile (SQLite reads in the page's own
    thread; a round already read), nothing is handed: the page never waits for a drawing
    that the browser's own request for the chart would do anyway."""
    import threading

    engine = demo.extensions["sipas_engine"]
    with round_data._lock:
        round_data._kept.clear()
    handed = threading.Event()
    if engine.dialect.name != "postgresql":
        handed.set()  # the page reads the round itself: nothing is handed over to wait for
    seen: list[bool] = []
    real = round_data._grouped  # PostgreSQL's read of the answers, on either connection

    def slow(conn, sql, params):  # type: ignore[no-untyped-def]
        seen.append(handed.wait(timeout=10))  # the read goes on only once the page handed
        yield from real(conn, sql, params)

    monkeypatch.setattr(round_data, "_grouped", slow)
    got: list[tuple] = []

    def drawing(desk, trend):  # type: ignore[no-untyped-def]
        got.append((desk, trend))
        handed.set()

    with Session(engine) as session:
        dash = build_dashboard(session, DashboardOptions(period="2025-Q3"),
                               while_reading=drawing)
    assert dash.desk.desks and dash.household.overall is not None
    if engine.dialect.name == "postgresql":
        assert got == [(dash.desk, dash.desk_trend)]
        assert seen and seen[0]  # the reader was still waiting when the page handed over
        got.clear()  # the round is read now: the next page has nothing to wait for
        with Session(engine) as session:
            build_dashboard(session, DashboardOptions(period="2025-Q3"), while_reading=drawing)
    assert got == []


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_round_read_by_one_process_is_loaded_by_the_next(demo: Flask, monkeypatch,
                                                           tmp_path) -> None:
    """Another worker, or a command, loads the round's latest read from disk instead of
    reading the database again; only while its fingerprint is exactly the same: after a
    change it is read again, and the disk keeps that one version of the round."""
    from datetime import timedelta

    monkeypatch.setenv("SIPAS_REPORT_CACHE", str(tmp_path))
    items = ("c1_1", "c2_1", "e_levels", "e_fields")
    real = round_data._read
    reads: list[int] = []

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(round_data, "_read", counted)

    def another_process() -> None:
        round_data.wait_for_writes()
        with round_data._lock:
            round_data._kept.clear()

    with Session(demo.extensions["sipas_engine"]) as session:
        another_process()
        first = round_data.load_round(session, "2025", "sipas_services", items=items)
        assert reads == [1]
        another_process()
        loaded = round_data.load_round(session, "2025", "sipas_services", items=items)
        assert reads == [1]  # from disk
        _same(loaded, first)
        # a command asking for some of those answers takes them from the page's read,
        # exactly as its own read of them alone
        stamp = round_data.fingerprint(session, "2025", "sipas_services")
        asked = round_data.read_items(session, "2025", "sipas_services", ["c1_1"], key=stamp)
        assert reads == [1] and "c2_1" not in asked.numbers and "c1_1" in asked.numbers
        _same(asked, round_data.read_items(session, "2025", "sipas_services", ["c1_1"]))
        assert reads == [1, 1]  # (the read of c1_1 alone, to compare)
        # one asking for more reads the database, and never takes the page's place
        more = round_data.read_items(session, "2025", "sipas_services", ["c1_1", "c3_1"],
                                     key=stamp)
        assert reads == [1, 1, 1] and "c3_1" in more.numbers
        another_process()
        _same(round_data.load_round(session, "2025", "sipas_services", items=items), first)
        assert reads == [1, 1, 1]
        row = session.exec(select(Response).where(Response.status == "verified",
                                                  Response.round_id.is_not(None))).first()
        assert row is not None
        row.updated_at = row.updated_at + timedelta(seconds=1)  # an answer corrected
        session.add(row)
        session.flush()
        changed = round_data.load_round(session, "2025", "sipas_services", items=items)
        assert len(reads) == 4  # a new fingerprint: never the old read
        _same(changed, round_data.read_items(session, "2025", "sipas_services", list(items)))
        another_process()
        _same(round_data.load_round(session, "2025", "sipas_services", items=items), changed)
        assert len(reads) == 5  # the read above (not kept), then the new version from disk
        loaded = round_data.load_round(session, "2025", "sipas_services", items=items)
        assert not loaded.numbers["c1_1"].flags.writeable  # shared: read-only, as read
        session.rollback()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("round-")]
    assert len(kept) == 1  # one version of the round: the latest


def test_a_page_keeps_its_round_on_disk_once_it_is_sent(analyst, monkeypatch,
                                                        tmp_path) -> None:
    """A page does not share the processor with writing the round it read: the write
    starts when the server closes the sent response; and the worker's next work outside
    a request writes as it reads again."""
    monkeypatch.setenv("SIPAS_REPORT_CACHE", str(tmp_path))
    with round_data._lock:
        round_data._kept.clear()

    def kept() -> list[str]:
        round_data.wait_for_writes()
        return [p.name for p in tmp_path.iterdir() if p.name.startswith("round-")]

    page = analyst.get("/reports/?period=2025-Q4&min_n=5")
    assert page.status_code == 200 and page.data and kept() == []
    page.close()
    assert len(kept()) == 1
    assert round_data._held.get() is None  # not holding once the request is over


def test_the_answers_read_on_a_second_connection_see_the_first_ones_snapshot(
        demo: Flask, monkeypatch) -> None:
    """A command's read (and a page's read-ahead) takes its answers on a second connection
    while the first reads the design columns and geography: on PostgreSQL, in a session
    that sees one snapshot, which the second connection shares. An answer corrected and
    committed elsewhere in between is seen by neither (the read equals the one before the
    change, never a mix); if the second connection fails, the answers are read in turn;
    a session of ordinary transactions, or SQLite, reads them in turn."""
    from sqlalchemy import text

    engine = demo.extensions["sipas_engine"]
    params = {"round": "2025", "instrument": "sipas_services"}
    with Session(engine) as session:
        before = round_data._read(session, params)
        assert round_data._answers_ahead(session, round_data._ANSWERS, params) is None
    if engine.dialect.name != "postgresql":
        assert round_data.one_snapshot(engine) is engine
        return
    target = int(before.ids[0])
    old = before.numbers["c1_1"][0]
    assert old in (1.0, 2.0, 3.0, 4.0, 5.0)
    new = 1.0 if old != 1.0 else 5.0
    threads: list[str] = []
    real = round_data._grouped

    def correct_meanwhile(conn, sql, p):  # type: ignore[no-untyped-def]
        # on the second connection, after it took the snapshot: another user corrects an
        # answer and commits before the answers are read
        threads.append(threading.current_thread().name)
        with engine.begin() as other:
            other.execute(text("UPDATE answer SET value_num = :v WHERE response_id = :r "
                               "AND item_code = 'c1_1'"), {"v": new, "r": target})
            other.execute(text("UPDATE response SET updated_at = now() WHERE id = :r"),
                          {"r": target})
        yield from real(conn, sql, p)

    monkeypatch.setattr(round_data, "_grouped", correct_meanwhile)
    with Session(round_data.one_snapshot(engine)) as session:
        got = round_data._read(session, params)
    assert threads == ["sipas-round-answers"]  # the answers came on the second connection
    _same(got, before)  # neither the corrected answer nor its new stamp: one snapshot
    monkeypatch.setattr(round_data, "_grouped", real)
    with Session(engine) as session:
        after = round_data._read(session, params)
    assert after.numbers["c1_1"][0] == new and after.stamps[0] != before.stamps[0]

    def fails(conn, sql, p):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "sipas-round-answers":
            raise RuntimeError("connection lost")
        yield from real(conn, sql, p)

    monkeypatch.setattr(round_data, "_grouped", fails)
    with Session(round_data.one_snapshot(engine)) as session:
        _same(round_data._read(session, params), after)  # read in turn instead
