"""The verified questionnaires of one round as columns, read once per page.

The dashboard needs a round's data three times (the area filter's choices, the index, the
comparison with the previous round) and the rounds' trend once more. Reading it is the
expensive part at national size (about 5 s for 37,000 questionnaires), so it is read
straight from the two tables into arrays (no formatting to text and parsing back, as going
through the export did) and kept in the process for later pages, under a fingerprint of
everything it is made of: the round's verified responses (a hash of every one's id, last
change, stratum, PSU, weight and unit) and the geography (a hash of every unit's id,
parent, level, name and successor, and which units today's map has replaced). Any
change a reader could see (a questionnaire verified or sent back, an answer corrected,
which stamps ``updated_at``, new weights even with the same total, a moved PSU, a renamed
commune, a reform taking effect) makes a new fingerprint, so a kept copy is never stale;
it is only ever older than the database when nobody could notice. The latest read of each
round is also kept on disk under its fingerprint (:func:`_on_disk`), for the other workers
and for commands, which would otherwise each read it from the database again.

Every questionnaire is placed on today's map (:func:`ancestry_table` with
``todays_map``): an old round's provinces and communes are read as the ones that hold
their area now, so its index and a new round's are for the same areas.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, String, TextClause, bindparam, event, text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from survey.db import driver_sql, plain_rows
from survey.services.data.export import GEO_LEVELS
from survey.services.geography import (
    ancestry_table,
    distinct_names,
    lost_levels,
    read_frame,
    today,
)
from survey.services.reports import cache

_WHERE = """
FROM response r
JOIN instrument_version iv ON iv.id = r.instrument_version_id
JOIN instrument i ON i.id = iv.instrument_id
JOIN survey_round sr ON sr.id = r.round_id
WHERE r.status = 'verified' AND sr.code = :round AND i.code = :instrument
"""
# every verified row's id, last change, design columns, weight and unit: new weights (which
# keep the total when calibrated to the population) and moved PSUs change no count or sum
_FINGERPRINT = ("SELECT r.id, r.updated_at, r.stratum, r.psu, r.weight, r.unit_id "
                + _WHERE + " ORDER BY r.id")
_FINGERPRINT_PG = ("SELECT count(*), md5(string_agg(concat_ws(',', r.id, r.updated_at, "
                   "r.stratum, r.psu, r.weight, r.unit_id), ';' ORDER BY r.id)) " + _WHERE)
_RESPONSES = ("SELECT r.id, r.stratum, r.psu, r.weight, r.unit_id, r.updated_at " + _WHERE
              + " ORDER BY r.id")
_ANSWERS = ("SELECT a.response_id, a.item_code, a.value_text FROM answer a "
            "JOIN response r ON r.id = a.response_id "
            "JOIN instrument_version iv ON iv.id = r.instrument_version_id "
            "JOIN instrument i ON i.id = iv.instrument_id "
            "JOIN survey_round sr ON sr.id = r.round_id "
            "WHERE r.status = 'verified' AND sr.code = :round AND i.code = :instrument")
CHUNK = 200_000  # answers converted at a time
CODE = "@"  # text column "@province": each row's province code (no item code has an "@")
# text columns "=province", "=@province": the province as surveyed (name, code), only where
# today's map differs
SURVEYED = "="
KEEP = 3  # rounds kept per process (about 60 MB each at 37,000 questionnaires)
# a changed round is re-read in part (:func:`_changed`) while at most this share of its
# questionnaires, and this many, changed; more, and reading it whole is as quick
REREAD_SHARE, REREAD_MOST = 0.2, 10_000
_kept: OrderedDict[tuple, RoundData] = OrderedDict()
_lock = threading.Lock()


# one item's answers as read: the response ids with a number and the numbers, the ids with
# words and the words (a response has at most one answer per item)
Sparse = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_NO_IDS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class RoundData:
    """Verified rows of a round: text for design, geography and multi-selects; floats else.

    ``ids``, ``stamps`` (each row's last change) and ``answers`` (as read) let the next
    read after a change fetch only the questionnaires that changed (:func:`_changed`).
    """

    n: int
    text: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]
    ids: np.ndarray = field(default_factory=lambda: _NO_IDS)
    stamps: tuple[Any, ...] = ()
    answers: dict[str, Sparse] = field(default_factory=dict)


_MEMO = "sipas_round_fingerprints"
_WROTE = "sipas_wrote"  # the session's transaction has written (nothing another sees yet)
log = logging.getLogger(__name__)


def _forget(session: Any, *_args: Any) -> None:
    session.info.pop(_MEMO, None)


def _wrote(session: Any, *_args: Any) -> None:
    _forget(session)
    session.info[_WROTE] = True


def _ended(session: Any, *_args: Any) -> None:
    _forget(session)
    session.info.pop(_WROTE, None)


def _transaction_end(session: Any, transaction: Any) -> None:
    if transaction.parent is None:  # the session's own transaction, not a savepoint
        _ended(session)
    else:  # a savepoint's end: forget, but what the transaction wrote before it remains
        _forget(session)


def _forget_on_write(state: Any) -> None:
    if not state.is_select:
        _wrote(state.session)


# A page asks for a round's fingerprint several times (the filter's choices, the report,
# the trend); it is hashed once per transaction while the session writes nothing: any
# flush, write statement, or end of the transaction (commit, rollback, close) forgets it.
# Whether the transaction has written (:func:`prefetch` must not read around it) is kept
# until the session's own transaction ends, whatever savepoints roll back inside it.
# (``after_rollback`` also fires when a savepoint rolls back: it only forgets the memo.)
event.listen(OrmSession, "after_flush", _wrote)
for _name in ("after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(OrmSession, _name, _forget)
event.listen(OrmSession, "after_transaction_end", _transaction_end)
event.listen(OrmSession, "do_orm_execute", _forget_on_write)


def fingerprint(session: Session, round_code: str, instrument: str) -> tuple[str, ...]:
    """What a reader could notice of the round: the database, the round and instrument,
    the count and a hash of every verified questionnaire's id, last change, stratum, PSU,
    weight and unit, and a hash of the geography. Equal fingerprints mean equal data (see
    the module's docstring); on PostgreSQL the rows are hashed in the database."""
    memo = session.info.setdefault(_MEMO, {})
    if (round_code, instrument) not in memo:
        memo[(round_code, instrument)] = _fingerprint(session, round_code, instrument)
    return memo[(round_code, instrument)]  # type: ignore[no-any-return]


def _fingerprint(session: Session, round_code: str, instrument: str) -> tuple[str, ...]:
    params = {"round": round_code, "instrument": instrument}
    conn = session.connection()
    if conn.dialect.name == "postgresql":  # hashed where the rows are: one short reply
        stamp = tuple(str(v) for v in conn.execute(text(_FINGERPRINT_PG), params).one())
    else:
        digest, count = hashlib.sha256(), 0
        result = conn.execute(text(_FINGERPRINT).execution_options(stream_results=True,
                                                                    yield_per=CHUNK), params)
        try:
            while rows := result.fetchmany(CHUNK):
                digest.update(repr([tuple(r) for r in rows]).encode())
                count += len(rows)
        finally:
            result.close()
        stamp = (str(count), digest.hexdigest())
    units = conn.execute(text("SELECT id, parent_id, level_id, name, successor_id, valid_to "
                              "FROM admin_unit ORDER BY id")).all()
    day = today()  # the map changes on the day a reform takes effect, not on the import
    geo = [(*u[:5], u[5] is not None and u[4] is not None
            and date.fromisoformat(str(u[5])[:10]) < day) for u in units]
    geo_stamp = hashlib.sha256(repr(geo).encode()).hexdigest()
    url = session.get_bind().url.render_as_string(hide_password=True)
    return (url, round_code, instrument, *stamp, geo_stamp)


def load_round(session: Session, round_code: str, instrument: str,
               key: tuple[str, ...] | None = None, items: Sequence[str] | None = None
               ) -> RoundData:
    """The round's verified questionnaires (kept for later pages while nothing changes).

    ``key`` is the round's :func:`fingerprint` when the caller has it already. ``items``:
    only these answers (the report's: its criteria, groups and priorities, a third of a
    questionnaire's), None for every one.
    """
    params = {"round": round_code, "instrument": instrument}
    key = _key(key or fingerprint(session, round_code, instrument), items)
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
        # the same round and answers as read before a change: only what changed is read
        base = next((d for k, d in reversed(_kept.items())
                     if k[:3] == key[:3] and _items_of(k) == _items_of(key)), None)
    data = _on_disk(key)
    if data is None:
        data = _read(session, params, None if items is None else list(items), base=base)
        _to_disk(key, data)
    with _lock:
        for old in [k for k in _kept if k[:3] == key[:3]]:
            del _kept[old]  # the same round as it was before a change
        _kept[key] = data
        while len(_kept) > KEEP:
            _kept.popitem(last=False)
    return data


def _slot(key: tuple[str, ...]) -> tuple[str, ...]:
    """Where a round's read is kept on disk: its database, round and instrument. Each new
    version (fingerprint) of the round takes the place of the last."""
    return key[:3]


def _stamp_of(key: tuple[str, ...]) -> tuple[str, ...]:
    """A read's fingerprint: its key without the answers asked."""
    return key[:key.index("items", 3)]


def _holds(kept: tuple[str, ...], key: tuple[str, ...]) -> bool:
    """Does the read kept under ``kept`` hold everything a read under ``key`` asks for:
    the same fingerprint, and every answer asked?"""
    if _stamp_of(kept) != _stamp_of(key):
        return False
    having, asked = _items_of(kept)[1:], _items_of(key)[1:]
    return having == ("*",) or (asked != ("*",) and set(asked) <= set(having))


def _on_disk(key: tuple[str, ...]) -> RoundData | None:
    """The round as another process (a worker, a command) read it, if its fingerprint is
    exactly ``key``'s and it holds every answer asked (the dashboard's read serves a
    command asking for the criteria alone): a fraction of a second to load instead of
    about a second to read a national round from the database."""
    found = cache.recall_version("round", _slot(key), lambda kept: _holds(kept, key))
    if found is cache.MISSING:
        return None
    kept, data = found  # type: ignore[misc]
    if not isinstance(data, RoundData):
        return None
    asked = _items_of(key)[1:]
    if asked != _items_of(kept)[1:] and asked != ("*",):
        data = _only(data, set(asked))
    return _read_only(data)  # as a read's own (a loaded array is writeable)


def _read_only(data: RoundData) -> RoundData:
    """Every array of the read made read-only: it is shared by every page of the process."""
    for column in (*data.text.values(), *data.numbers.values(), data.ids,
                   *(a for sparse in data.answers.values() for a in sparse)):
        column.flags.writeable = False
    return data


def _only(data: RoundData, items: set[str]) -> RoundData:
    """A read with only these answers (and every design and geography column): what a read
    asking for them alone gives, since each answer's column is made from its own rows."""
    other = {code for code in data.answers if code not in items}
    return RoundData(data.n, {k: v for k, v in data.text.items() if k not in other},
                     {k: v for k, v in data.numbers.items() if k not in other}, data.ids,
                     data.stamps, {k: v for k, v in data.answers.items() if k not in other})


def _keep_on_disk(key: tuple[str, ...], data: RoundData) -> None:
    """Write the read in place of the kept one: of older data, or holding no answer this
    one does not (a command's few answers never take the place of the dashboard's)."""
    kept = cache.recall("round", _slot(key))  # the version kept (read alone)
    if isinstance(kept, tuple) and "items" in kept[3:] and \
            _stamp_of(kept) == _stamp_of(key) and not _holds(key, kept):
        return
    cache.keep_version("round", _slot(key), key, data)


_writing: list[threading.Thread] = []
# reads a web request holds back until its page is sent (:func:`hold_writes`)
_held: ContextVar[list[tuple[tuple[str, ...], RoundData]] | None] = ContextVar(
    "sipas_held_round_writes", default=None)


def _to_disk(key: tuple[str, ...], data: RoundData) -> None:
    """Keep the read for other processes, on a thread of its own (about 0.15 s to pickle a
    national round, 30 MB to write). In a web request, only once its page is sent
    (:func:`hold_writes`): a page otherwise shares the processor with its own write. Not
    a daemon: a command that read a round finishes writing it before it exits."""
    if cache.folder() is None:
        return
    held = _held.get()
    if held is not None:
        held.append((key, data))
        return
    writer = threading.Thread(target=_keep_on_disk, args=(key, data), name="sipas-keep-round")
    writer.start()
    with _lock:
        _writing[:] = [w for w in _writing if w.is_alive()] + [writer]


def hold_writes() -> list[tuple[tuple[str, ...], RoundData]]:
    """Hold back the reads this context (a web request, and the reads ahead it starts)
    keeps on disk, until :func:`write_held` is given the returned list."""
    held: list[tuple[tuple[str, ...], RoundData]] = []
    _held.set(held)
    return held


def stop_holding() -> None:
    """This context's reads are written as they come again (the request is over)."""
    _held.set(None)


def write_held(held: list[tuple[tuple[str, ...], RoundData]]) -> None:
    """Start writing what a request held back (its page has been sent)."""
    token = _held.set(None)
    try:
        while held:
            _to_disk(*held.pop(0))
    finally:
        _held.reset(token)


def wait_for_writes() -> None:
    """Until every read being kept on disk is written (tests, benchmarks)."""
    with _lock:
        pending = list(_writing)
    for writer in pending:
        writer.join()


def _key(stamp: tuple[str, ...], items: Sequence[str] | None) -> tuple[str, ...]:
    return (*stamp, "items", *(items if items is not None else ("*",)))


def _items_of(key: tuple[str, ...]) -> tuple[str, ...]:
    """The answers a kept read holds (the part of its key after the fingerprint)."""
    return key[key.index("items", 3):]


def prefetch(session: Session, round_code: str, instrument: str, key: tuple[str, ...],
             items: Sequence[str] | None = None) -> threading.Thread | None:
    """Start reading the round on a connection of its own, for :func:`load_round` to find.

    Most of a national round's read is the database working (about 1 s at 37,000
    questionnaires) while Python waits; a page that has other things to compute first (the
    desk results) does them meanwhile, then joins the thread. Only on PostgreSQL (SQLite
    reads in this process: nothing to overlap), and only when this session has written
    nothing: another connection would not see its writes, and the read would be kept
    under a fingerprint that includes them. The read is kept exactly as the page's own
    would be; if it fails, the page reads the round itself. Returns the thread, or None
    when there is nothing to start.
    """
    bind = session.get_bind()
    if (not isinstance(bind, Engine) or bind.dialect.name != "postgresql"
            or session.info.get(_WROTE)):
        return None
    if not _spare_connection(bind):
        return None
    with _lock:
        if _key(key, items) in _kept:
            return None

    def read() -> None:
        try:
            with Session(one_snapshot(bind)) as other:
                load_round(other, round_code, instrument, key=key, items=items)
        except Exception:  # noqa: BLE001 - the page reads the round itself
            log.warning("reading round %s ahead failed; the page reads it", round_code,
                        exc_info=True)

    # in the page's context: a read it keeps on disk waits, as the page's own would
    thread = threading.Thread(target=copy_context().run, args=(read,), name="sipas-round-read",
                              daemon=True)
    thread.start()
    return thread


def _spare_connection(engine: Engine) -> bool:
    """Can the pool lend one more connection, with one to spare, without waiting? A page
    joins its read-ahead while holding its own connection: if every connection were held
    by pages waiting for their reads, the reads would wait for the pool's timeout."""
    pool = engine.pool
    size, checked = getattr(pool, "size", None), getattr(pool, "checkedout", None)
    if size is None or checked is None:
        return False
    return bool(checked() + 2 <= size() + max(getattr(pool, "_max_overflow", 0), 0))


SNAPSHOT = "REPEATABLE READ"  # a read whose answers may come on a second connection


def one_snapshot(engine: Engine) -> Engine:
    """``engine`` whose transactions see one snapshot throughout (PostgreSQL's repeatable
    read): a round read in such a session gets its answers on a second connection sharing
    that snapshot (:func:`_answers_ahead`). SQLite reads in one connection anyway."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level=SNAPSHOT)


def _answers_ahead(session: Session, sql: str, params: dict
                   ) -> Future[dict[str, Sparse] | None] | None:
    """Start reading the answers on a second connection while this one reads the rest.

    At national size the answers are the database's work of about 0.7 s, and the design
    columns and geography before them 0.2-0.3 s more on the same connection. Only when the
    session's transaction sees one snapshot (:func:`one_snapshot`: a command's read, a
    page's read-ahead) on PostgreSQL with a connection to spare: the snapshot is exported
    and the second connection's transaction takes it (``SET TRANSACTION SNAPSHOT``), so the
    answers are exactly those of the questionnaires this connection reads, whatever is
    written meanwhile. Anything else returns None: the answers are read in turn, as they
    are when the second connection fails (its future's result is None then).
    """
    conn = session.connection()
    if (conn.dialect.name != "postgresql"
            or conn.get_execution_options().get("isolation_level") != SNAPSHOT
            or not _spare_connection(conn.engine)):
        return None
    snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
    if not re.fullmatch(r"[0-9A-F-]+", snapshot):  # the server's own id, quoted below
        return None
    engine = conn.engine
    answers: Future[dict[str, Sparse] | None] = Future()

    def read() -> None:
        try:
            with engine.connect() as other:
                other = other.execution_options(isolation_level=SNAPSHOT)
                with other.begin():
                    other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    answers.set_result(dict(_grouped(other, sql, params)))
        except Exception:  # noqa: BLE001 - read in turn on the first connection instead
            log.warning("reading the answers on a second connection failed; read in turn",
                        exc_info=True)
            answers.set_result(None)

    threading.Thread(target=read, name="sipas-round-answers", daemon=True).start()
    return answers


def read_items(session: Session, round_code: str, instrument: str,
               items: Sequence[str], key: tuple[str, ...] | None = None) -> RoundData:
    """The round's verified questionnaires with only these answers, not kept in the
    process (a command).

    ``sipas index --db`` needs the criteria alone: 22 answers of 128 per questionnaire, so a
    national round is read in a fraction of the time of the whole. With ``key``, the
    round's :func:`fingerprint`, a read of the same data kept on disk (the dashboard's, a
    command's) that holds these answers is taken instead, and this one is kept there for
    the next command (another breakdown, another target) when none is.
    """
    asked = None if key is None else _key(key, items)
    data = None if asked is None else _on_disk(asked)
    if data is None:
        data = _read(session, {"round": round_code, "instrument": instrument}, list(items))
        if asked is not None:
            _to_disk(asked, data)
    return data


def _read(session: Session, params: dict[str, str], items: list[str] | None = None,
          base: RoundData | None = None) -> RoundData:
    """The round as columns. With ``base``, an earlier read of the same round and answers,
    the answers of questionnaires whose last change is the same are taken from it and only
    the others are read (the design and geography columns are always read whole: one row
    per questionnaire). The result is the same as a whole read: a changed answer always
    stamps its questionnaire's last change (which the fingerprint relies on too)."""
    conn = session.connection()
    answers = _ANSWERS
    if items is not None:
        answers += " AND a.item_code IN :items"
        params = {**params, "items": items}

    def query(sql: str):  # type: ignore[no-untyped-def]
        q = text(sql)
        for name in ("items", "changed"):
            if f":{name}" in sql:
                q = q.bindparams(bindparam(name, expanding=True,
                                           type_=String() if name == "items" else None))
        return q

    answered = items is None or len(items) > 0  # no items: the design and geography alone
    ahead = _answers_ahead(session, answers, params) if answered and base is None else None
    resp = plain_rows(conn, text(_RESPONSES), params)
    n = len(resp)
    # today's map: a round from before a reform is read as the areas that exist now
    frame = read_frame(session)  # four tables of one read of the units
    geo_codes = ancestry_table(session, "code", todays_map=True, frame=frame)
    geo = distinct_names(ancestry_table(session, todays_map=True, frame=frame), geo_codes,
                         GEO_LEVELS)
    texts: dict[str, np.ndarray] = {
        "stratum": np.array(["" if r[1] is None else str(r[1]) for r in resp], dtype=object),
        "psu": np.array(["" if r[2] is None else str(r[2]) for r in resp], dtype=object),
    }
    surveyed_codes = ancestry_table(session, "code", frame=frame)
    surveyed = distinct_names(ancestry_table(session, frame=frame), surveyed_codes, GEO_LEVELS)
    lost = lost_levels(session, frame=frame)
    # names are looked up once per unit (a few hundred hamlets), then spread to the rows
    units = sorted({r[4] for r in resp if r[4] is not None})
    slot = {unit: k for k, unit in enumerate(units)}
    at = np.fromiter((len(units) if r[4] is None else slot[r[4]] for r in resp),
                     dtype=np.int64, count=n)

    def column(table: dict[int, dict[str, str]], level: str) -> np.ndarray:
        per_unit = [table.get(u, {}).get(level) or "" for u in units]
        return np.array([*per_unit, ""], dtype=object)[at]  # the last: rows without a unit

    for level in GEO_LEVELS:
        texts[level] = column(geo, level)
        # the unit codes too: an account's area is a unit
        texts[CODE + level] = column(geo_codes, level)
        before = column(surveyed_codes, level)
        # a reform since: say what was merged (not for abolished levels: nothing took
        # a district over, its rows simply sit in their commune's today)
        if level not in lost and (before != texts[CODE + level]).any():
            texts[SURVEYED + CODE + level] = before
            texts[SURVEYED + level] = column(surveyed, level)
    numbers = {"weight": np.array([np.nan if r[3] is None else float(r[3]) for r in resp])}
    ids = np.array([r[0] for r in resp], dtype=np.int64)  # sorted: ORDER BY r.id
    stamps = tuple(r[5] for r in resp)
    read: dict[str, Sparse] = {}
    if answered:
        changed = None if base is None else _changed(ids, stamps, base)
        got = None if ahead is None else ahead.result()
        if got is not None:
            read = got
        elif changed is None:
            read = _answers(conn, answers, query, params)
        else:
            fresh = _answers(conn, answers + " AND a.response_id IN :changed", query,
                             {**params, "changed": changed}) if changed else {}
            read = _merged(base.answers, ids, np.array(changed, dtype=np.int64), fresh)  # type: ignore[union-attr]
    worded: set[str] = set()
    for code in sorted(read):
        num_ids, nums, word_ids, words = read[code]
        if word_ids.size:
            texts[code] = np.full(n, "", dtype=object)
            texts[code][np.searchsorted(ids, word_ids)] = words
            worded.add(code)
        elif num_ids.size:  # an item answered in words anywhere is not a number (as the export)
            numbers[code] = np.full(n, np.nan)
            numbers[code][np.searchsorted(ids, num_ids)] = nums
    return _read_only(RoundData(n, texts, numbers, ids, stamps, read))


def _changed(ids: np.ndarray, stamps: tuple[Any, ...], base: RoundData) -> list[int] | None:
    """Ids of the questionnaires that are new or changed since ``base`` was read (None:
    so many that reading the round whole is as quick). One that left the round needs no
    reading: its answers are simply not taken from ``base``."""
    before = dict(zip(base.ids.tolist(), base.stamps, strict=True))
    changed = [i for i, stamp in zip(ids.tolist(), stamps, strict=True)
               if i not in before or before[i] != stamp]
    if len(changed) > min(REREAD_MOST, max(REREAD_SHARE * len(ids), 100)):
        return None
    return changed


def _merged(before: dict[str, Sparse], ids: np.ndarray, changed: np.ndarray,
            fresh: dict[str, Sparse]) -> dict[str, Sparse]:
    """``before``'s answers of the questionnaires still in the round and unchanged, with the
    ``fresh`` answers of the changed ones: exactly what a whole read gives (up to order
    within an item, which placing them by id undoes)."""
    renewed = np.zeros(len(ids), dtype=bool)
    renewed[np.searchsorted(ids, changed)] = True

    def kept(of: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(ids, of), max(len(ids) - 1, 0))
        if not len(ids):
            return np.zeros(len(of), dtype=bool)
        return (ids[at] == of) & ~renewed[at]

    out: dict[str, Sparse] = {}
    none = (_NO_IDS, np.zeros(0), _NO_IDS, np.zeros(0, dtype=object))
    for code in set(before) | set(fresh):
        old, new = before.get(code, none), fresh.get(code, none)
        num, word = kept(old[0]), kept(old[2])
        merged = (np.concatenate([old[0][num], new[0]]), np.concatenate([old[1][num], new[1]]),
                  np.concatenate([old[2][word], new[2]]),
                  np.concatenate([old[3][word], new[3]]))
        if merged[0].size or merged[2].size:
            out[code] = merged
    return out


def _answers(conn: Connection, sql: str, query: Callable[[str], TextClause], params: dict
             ) -> dict[str, Sparse]:
    """Every item's answers (:data:`Sparse`), read in one pass on PostgreSQL."""
    out: dict[str, Sparse] = {}
    if conn.dialect.name == "postgresql":
        return dict(_grouped(conn, sql, params))
    words = conn.execute(query(sql + " AND a.value_text IS NOT NULL"), params).all()
    worded: dict[str, tuple[list[int], list[str]]] = {}
    for rid, code, txt in words:
        got = worded.setdefault(str(code), ([], []))
        got[0].append(rid)
        got[1].append(txt)
    numeric = sql.replace("a.value_text", "a.value_num") + " AND a.value_num IS NOT NULL"
    parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for rid, item, item_names, values in _numeric_chunks(conn, numeric, query, params):
        order = np.argsort(item, kind="stable")
        bounds = np.searchsorted(item[order], np.arange(len(item_names) + 1))
        for j, name in enumerate(item_names):
            mine = order[bounds[j]:bounds[j + 1]]
            parts.setdefault(str(name), []).append((rid[mine], values[mine]))
    for code in set(worded) | set(parts):
        pieces = parts.get(code, [])
        word_ids, texts = worded.get(code, ([], []))
        out[code] = (np.concatenate([p[0] for p in pieces]) if pieces else _NO_IDS,
                     np.concatenate([p[1] for p in pieces]) if pieces else np.zeros(0),
                     np.array(word_ids, dtype=np.int64), np.array(texts, dtype=object))
    return out


def _grouped(conn: Connection, sql: str, params: dict) -> Iterator[tuple[str, Sparse]]:
    """PostgreSQL: each item's answers gathered by the database into arrays, one row per
    item (its numbers' response ids and values, its words' ids and texts), in one pass
    over the answers. A national round's million answers never become rows on the Python
    side (which took most of the time: 1.3 M answers, 1.5 s instead of about 3 s), and
    the words come with the numbers instead of from a second scan of the same answers.

    The arrays come in PostgreSQL's binary form, and the numbers' arrays are unpacked by
    NumPy (:func:`_unpacked`), not into Python ints and floats first: the driver took
    0.3-0.4 s to make a national round's 2.6 million numbers, NumPy takes milliseconds.
    Items come one at a time through a server-side cursor: memory holds one item's arrays.
    """
    inner = sql.replace("a.value_text", "a.value_num, a.value_text")
    grouped = ("SELECT q.item_code, "
               "array_agg(q.response_id) FILTER (WHERE q.value_num IS NOT NULL), "
               "array_agg(q.value_num) FILTER (WHERE q.value_num IS NOT NULL), "
               "array_agg(q.response_id) FILTER (WHERE q.value_text IS NOT NULL), "
               "array_agg(q.value_text) FILTER (WHERE q.value_text IS NOT NULL) "
               f"FROM ({inner} AND (a.value_num IS NOT NULL OR a.value_text IS NOT NULL)) q "
               "GROUP BY q.item_code")
    # the driver's own form: lists bound as arrays, names as %(name)s
    grouped = driver_sql(re.sub(r" IN :(\w+)", r" = ANY(:\1)", grouped), conn.dialect)
    driver = conn.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor(name=f"sipas_round_{uuid.uuid4().hex}", binary=True)  # type: ignore[call-arg]
    for oid in _PACKED_ARRAYS:
        cursor.adapters.register_loader(oid, _packed_loader())
    cursor.itersize = 1
    try:
        cursor.execute(grouped, params)
        for code, num_ids, nums, word_ids, words in cursor:
            yield str(code), (_unpacked(num_ids), _unpacked(nums), _unpacked(word_ids),
                              np.array(words or [], dtype=object))
    finally:
        cursor.close()


# PostgreSQL's type ids of integer[], bigint[] and double precision[], and of their elements
_PACKED_ARRAYS = (1007, 1016, 1022)
_ELEMENTS = {23: (">i4", np.int64), 20: (">i8", np.int64), 701: (">f8", np.float64)}


@lru_cache(maxsize=1)
def _packed_loader() -> type:
    """A psycopg loader that hands a binary array over as its bytes."""
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    class Packed(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> bytes:
            return bytes(data)

    return Packed


def _unpacked(raw: bytes | None) -> np.ndarray:
    """A one-dimensional PostgreSQL array in binary form, without NULLs, as a NumPy array:
    a header (dimensions, a flag for NULLs, the element type, the length and lower bound),
    then each element as its length and its big-endian value."""
    if raw is None:
        return _NO_IDS
    ndim, has_nulls, element = struct.unpack_from(">iiI", raw)
    if ndim == 0:
        return _NO_IDS
    if ndim != 1 or has_nulls or element not in _ELEMENTS:
        raise ValueError(f"unexpected array from the database ({ndim} dimensions, "
                         f"nulls {has_nulls}, element type {element})")
    (length,) = struct.unpack_from(">i", raw, 12)
    kind, out = _ELEMENTS[element]
    cells = np.frombuffer(raw, dtype=[("size", ">i4"), ("value", kind)], count=length,
                          offset=20)
    return cells["value"].astype(out)


Chunk = tuple[np.ndarray, np.ndarray, Sequence[str], np.ndarray]


def _numeric_chunks(conn: Connection, sql: str, query: Callable[[str], TextClause],
                    params: dict) -> Iterator[Chunk]:
    """SQLite: (response ids, item codes as indexes into names, names, values), read
    through a server-side cursor in chunks of ``CHUNK`` answers, never all as tuples."""
    import pandas as pd  # here: PostgreSQL and cached answers never need it

    result = conn.execute(query(sql).execution_options(stream_results=True, yield_per=CHUNK),
                          params)
    try:
        while chunk := result.fetchmany(CHUNK):
            rid_col, code_col, num_col = zip(*chunk, strict=True)
            item, item_names = pd.factorize(pd.Series(code_col, dtype=object))
            yield (np.fromiter(rid_col, dtype=np.int64, count=len(chunk)), item,
                   [str(v) for v in item_names],
                   np.fromiter(num_col, dtype=float, count=len(chunk)))
    finally:
        result.close()
