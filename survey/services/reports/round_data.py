"""The verified questionnaires of one round as columns, read once per page.

The dashboard needs a round's data three times (the area filter's choices, the index, the
comparison with the previous round) and the rounds' trend once more. Reading it is the
expensive part at national size, so it is read straight from the two tables into arrays
(no formatting to text and parsing back, as going through the export did) and kept in the
database session for the rest of the page, under a fingerprint of the round's verified
responses (count, last change, last id, Σ weights): any write that a reader could see in
the same session makes a new fingerprint, so the kept copy is never stale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

from survey.services.data.export import GEO_LEVELS
from survey.services.geography import ancestry_table

_WHERE = """
FROM response r
JOIN instrument_version iv ON iv.id = r.instrument_version_id
JOIN instrument i ON i.id = iv.instrument_id
JOIN survey_round sr ON sr.id = r.round_id
WHERE r.status = 'verified' AND sr.code = :round AND i.code = :instrument
"""
_FINGERPRINT = "SELECT count(*), max(r.updated_at), max(r.id), sum(r.weight) " + _WHERE
_RESPONSES = "SELECT r.id, r.stratum, r.psu, r.weight, r.unit_id " + _WHERE + " ORDER BY r.id"
_ANSWERS = ("SELECT a.response_id, a.item_code, a.value_text FROM answer a "
            "JOIN response r ON r.id = a.response_id "
            "JOIN instrument_version iv ON iv.id = r.instrument_version_id "
            "JOIN instrument i ON i.id = iv.instrument_id "
            "JOIN survey_round sr ON sr.id = r.round_id "
            "WHERE r.status = 'verified' AND sr.code = :round AND i.code = :instrument")
MEMO = "sipas_round_data"


@dataclass(frozen=True, eq=False)
class RoundData:
    """Verified rows of a round: text for design, geography and multi-selects; floats else."""

    n: int
    text: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]


def load_round(session: Session, round_code: str, instrument: str) -> RoundData:
    """The round's verified questionnaires (kept in the session for the rest of the page)."""
    params = {"round": round_code, "instrument": instrument}
    conn = session.connection()
    stamp = tuple(conn.execute(text(_FINGERPRINT), params).one())
    memo = session.info.setdefault(MEMO, {})
    key = (round_code, instrument, stamp)
    if key not in memo:
        for old in [k for k in memo if k[:2] == key[:2]] + list(memo)[:max(len(memo) - 2, 0)]:
            memo.pop(old, None)  # a newer stamp of the same round, or more than 3 rounds
        memo[key] = _read(session, params)
    return memo[key]


def _read(session: Session, params: dict[str, str]) -> RoundData:
    conn = session.connection()
    resp = conn.execute(text(_RESPONSES), params).all()
    n = len(resp)
    row_of = {r[0]: k for k, r in enumerate(resp)}
    geo = ancestry_table(session)
    names = [geo.get(r[4], {}) if r[4] is not None else {} for r in resp]
    texts: dict[str, np.ndarray] = {
        "stratum": np.array(["" if r[1] is None else str(r[1]) for r in resp], dtype=object),
        "psu": np.array(["" if r[2] is None else str(r[2]) for r in resp], dtype=object),
    }
    for level in GEO_LEVELS:
        texts[level] = np.array([m.get(level) or "" for m in names], dtype=object)
    numbers = {"weight": np.array([np.nan if r[3] is None else float(r[3]) for r in resp])}
    ids = np.array([r[0] for r in resp], dtype=np.int64)  # sorted: ORDER BY r.id
    worded: set[str] = set()
    for rid, code, txt in conn.execute(text(_ANSWERS + " AND a.value_text IS NOT NULL"), params):
        if code not in texts:
            texts[code] = np.full(n, "", dtype=object)
        texts[code][row_of[rid]] = txt
        worded.add(code)
    found = conn.execute(text(_ANSWERS.replace("a.value_text", "a.value_num")
                              + " AND a.value_num IS NOT NULL"), params).all()
    if found:  # millions of rows at national size: columns, not a loop
        rid_col, code_col, num_col = zip(*found, strict=True)
        rows = np.searchsorted(ids, np.fromiter(rid_col, dtype=np.int64, count=len(found)))
        item, item_names = pd.factorize(pd.Series(code_col, dtype=object))
        values = np.fromiter(num_col, dtype=float, count=len(found))
        order = np.argsort(item, kind="stable")
        bounds = np.searchsorted(item[order], np.arange(len(item_names) + 1))
        for j, name in enumerate(item_names):
            mine = order[bounds[j]:bounds[j + 1]]
            column = np.full(n, np.nan)
            column[rows[mine]] = values[mine]
            numbers[str(name)] = column
    for code in worded:  # an item answered in words anywhere is not a number (as the export)
        numbers.pop(code, None)
    return RoundData(n, texts, numbers)
