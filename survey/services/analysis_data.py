"""The app's verified household responses of one round, as the analysis engine reads them.

``sipas estimate --db`` / ``sipas index --db`` go through the very export that analysts
download, so the database path and the CSV path can never disagree. Flask is not imported.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from survey.config import load_settings
from survey.db import make_engine
from survey.models import SurveyRound
from survey.services.export import ExportFilter, export_csv


@dataclass(frozen=True)
class RoundExtract:
    round_code: str
    path: Path
    rows: int


def pick_round(session: Session, round_code: str | None) -> SurveyRound:
    """The named round, or the latest one when none is named."""
    if round_code:
        found = session.exec(select(SurveyRound).where(SurveyRound.code == round_code)).first()
        if found is None:
            known = ", ".join(r.code for r in session.exec(select(SurveyRound))) or "none"
            raise ValueError(f"no survey round {round_code!r} in the database (rounds: {known})")
        return found
    latest = session.exec(
        select(SurveyRound).order_by(SurveyRound.year.desc(), SurveyRound.id.desc())  # type: ignore[union-attr]
    ).first()
    if latest is None:
        raise ValueError("the database has no survey round yet")
    return latest


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
