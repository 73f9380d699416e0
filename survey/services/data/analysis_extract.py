"""The app's verified household responses of one round, as the analysis engine reads them.

``sipas estimate --db`` / ``sipas index --db`` go through the very export that analysts
download, so the database path and the CSV path can never disagree. Flask is not imported.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from survey.config import load_settings
from survey.db import make_engine
from survey.services.data.export import ExportFilter, export_csv
from survey.services.sample.rounds import pick_round


@dataclass(frozen=True)
class RoundExtract:
    round_code: str
    path: Path
    rows: int


def extract_round(round_code: str | None, folder: Path | None = None) -> RoundExtract:
    """Write the verified responses of a round to a CSV in ``folder`` (a temp dir by default)."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            chosen = pick_round(session, round_code)
            target = Path(folder or tempfile.mkdtemp(prefix="sipas-")) / f"round-{chosen.code}.csv"
            rows = export_csv(
                session, ExportFilter(status="verified", round_code=chosen.code), target
            )
    finally:
        engine.dispose()
    if rows == 0:
        raise ValueError(f"round {chosen.code} has no verified responses yet")
    return RoundExtract(chosen.code, target, rows)
