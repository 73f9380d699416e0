"""Tables of the analyst reports: dossier volumes handled per desk and period.

Volumes come from the one-stop-desk software (not from SIPAS), so they are imported as
they are reported, one row per desk and period; coverage (evaluations ÷ dossiers) and the
optional volume weights of the desk evaluations are computed from them at report time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey.models import utcnow


class DossierVolume(SQLModel, table=True):
    """Dossiers a desk handled in one period (a month ``2025-07``, quarter ``2025-Q3`` or year).

    ``period_start``/``period_end`` (exclusive) make a report period's volumes a range query;
    re-importing a desk and period replaces its count (the software's figures get corrected).
    """

    __tablename__ = "dossier_volume"
    __table_args__ = (
        UniqueConstraint("desk_id", "period"),
        CheckConstraint("dossiers >= 0", name="ck_dossier_volume_dossiers"),
    )

    id: int | None = Field(default=None, primary_key=True)
    desk_id: int = Field(foreign_key="desk.id", index=True)
    period: str = Field(max_length=16)
    period_start: date
    period_end: date
    dossiers: int = Field(ge=0)
    source: str = Field(default="", max_length=200)
    imported_at: datetime = Field(default_factory=utcnow)
