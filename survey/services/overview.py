"""Headline counts for the home page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from survey.models import AdminUnit, Desk, Response, SampleUnit, SurveyRound


@dataclass(frozen=True)
class Overview:
    rounds: int
    sampled_hamlets: int
    units: int
    desks: int
    household_responses: int
    verified_household: int
    desk_evaluations: int


def overview(session: Session) -> Overview:
    def count(stmt) -> int:  # type: ignore[no-untyped-def]
        return int(session.exec(stmt).one())

    return Overview(
        rounds=count(select(func.count()).select_from(SurveyRound)),
        sampled_hamlets=count(select(func.count()).select_from(SampleUnit)),
        units=count(select(func.count()).select_from(AdminUnit)),
        desks=count(select(func.count()).select_from(Desk).where(Desk.active)),
        household_responses=count(
            select(func.count()).select_from(Response).where(Response.round_id.is_not(None))  # type: ignore[union-attr]
        ),
        verified_household=count(
            select(func.count())
            .select_from(Response)
            .where(Response.round_id.is_not(None), Response.status == "verified")  # type: ignore[union-attr]
        ),
        desk_evaluations=count(
            select(func.count()).select_from(Response).where(Response.desk_id.is_not(None))  # type: ignore[union-attr]
        ),
    )
