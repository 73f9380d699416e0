"""The app's verified household responses of one round, as the analysis engine reads them.

``sipas index --db --instrument`` reads the round's design columns and criteria straight
from the tables (:func:`read_round`; the dashboard's reader, which tests hold equal to the
export), because writing all 128 answers of every questionnaire to a CSV and parsing them
back cost seconds at national size. Everything else (``sipas estimate --db``, other
columns) goes through the very export analysts download (:func:`extract_round`). Either
way the numbers are those of the CSV path. Flask is not imported.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from survey.config import load_settings
from survey.db import make_engine
from survey.models import SurveyRound
from survey.services.data.export import GEO_LEVELS, ExportFilter, export_csv
from survey.services.reports.round_data import one_snapshot
from survey.services.sample.rounds import pick_round

if TYPE_CHECKING:
    from analysis.io import Table

# columns the direct reader provides: the design, geography (names, and unit codes as
# "@province", the columns an area's estimates are a domain of)
DIRECT = ("weight", "stratum", "psu", *GEO_LEVELS, *(f"@{level}" for level in GEO_LEVELS))


@dataclass(frozen=True)
class RoundExtract:
    round_code: str
    path: Path
    rows: int


# the app's engine while the web app answers an analysis command's question (the API's
# index); the command line has none and opens DATABASE_URL
_APP_ENGINE: ContextVar[Engine | None] = ContextVar("sipas_analysis_engine", default=None)


@contextmanager
def using_engine(engine: Engine) -> Iterator[None]:
    """Read rounds through ``engine`` (the web app's) instead of opening DATABASE_URL."""
    mark = _APP_ENGINE.set(engine)
    try:
        yield
    finally:
        _APP_ENGINE.reset(mark)


@contextmanager
def database_session(one_view: bool = False) -> Iterator[Session]:
    """A session on DATABASE_URL (or the app's engine, inside :func:`using_engine`).
    ``one_view``: its transaction sees one snapshot throughout (a round's read, whose
    answers then come on a second connection at the same time)."""
    given = _APP_ENGINE.get()
    engine = given or make_engine(load_settings().database_url)
    try:
        with Session(one_snapshot(engine) if one_view else engine) as session:
            yield session
    finally:
        if given is None:
            engine.dispose()


@contextmanager
def _round_session(round_code: str | None, one_view: bool = False
                   ) -> Iterator[tuple[Session, SurveyRound]]:
    """A session on DATABASE_URL (or the app's engine) and the round asked for (the latest
    when None)."""
    with database_session(one_view) as session:
        yield session, pick_round(session, round_code)


def extract_round(round_code: str | None, folder: Path | None = None) -> RoundExtract:
    """Write the verified responses of a round to a CSV in ``folder`` (a temp dir by default)."""
    with _round_session(round_code) as (session, chosen):
        target = Path(folder or tempfile.mkdtemp(prefix="sipas-")) / f"round-{chosen.code}.csv"
        rows = export_csv(session, ExportFilter(status="verified", round_code=chosen.code),
                          target)
    if rows == 0:
        raise ValueError(f"round {chosen.code} has no verified responses yet")
    return RoundExtract(chosen.code, target, rows)


@dataclass(frozen=True)
class RoundColumns:
    round_code: str
    table: Table


def direct_columns(asked: dict[str, list[str]] | None) -> bool:
    """Can :func:`read_round` give every column asked without a fallback to the export?"""
    return asked is not None and all(c in DIRECT or c in asked["items"]
                                     for c in asked["design"])


def round_fingerprint(round_code: str | None, instrument: str) -> tuple[str, tuple[str, ...]]:
    """The round's code and the fingerprint of its verified questionnaires of
    ``instrument`` (:func:`survey.services.reports.round_data.fingerprint`)."""
    from survey.services.reports.round_data import fingerprint

    with _round_session(round_code) as (session, chosen):
        return chosen.code, fingerprint(session, chosen.code, instrument)


def read_round(round_code: str | None, instrument: str | None,
               asked: dict[str, list[str]] | None, key: tuple[str, ...] | None = None
               ) -> RoundColumns | None:
    """The round's verified questionnaires of ``instrument`` as columns, read directly.

    ``asked`` holds the criteria (``items``) and the design and domain columns (``design``);
    None, or a design column the direct reader does not provide (an export column such as
    ``mode``), means: use :func:`extract_round` instead. ``key``: the round's fingerprint
    (:func:`round_fingerprint`), when the caller has it: the read is then kept on disk for
    the next command about the same answers.
    """
    if instrument is None or asked is None:
        return None
    criteria = asked["items"]
    extra = [c for c in asked["design"] if c not in DIRECT and c not in criteria]
    items = [*criteria, *extra]  # a --by column beyond geography may be another answer
    from analysis.io import from_columns, import_ahead
    from survey.services.reports.round_data import read_items

    ahead = import_ahead()  # while the database reads the answers
    try:
        with _round_session(round_code, one_view=True) as (session, chosen):
            data = read_items(session, chosen.code, instrument, items, key=key)
    finally:
        ahead.join()
    if data.n == 0:
        raise ValueError(f"round {chosen.code} has no verified responses yet")
    # only the columns asked become the table's: Arrow converts each one
    wanted = {*asked["design"], *items}
    numbers = {c: v for c, v in data.numbers.items() if c in wanted}
    texts = {c: v for c, v in data.text.items() if c in wanted}
    if any(c not in numbers and c not in texts for c in extra):
        return None  # not an answer here (an export column such as mode): the export has it
    for item in criteria:  # a criterion nobody answered is an empty column, as exported
        if item not in numbers and item not in texts:
            numbers[item] = np.full(data.n, np.nan)
    return RoundColumns(chosen.code, from_columns(f"round {chosen.code}", data.n, texts,
                                                  numbers))
