"""Headline counts for the home page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from survey.models import AdminUnit, Desk, Response, SampleUnit, SurveyRound
from survey.services.scope import EVERYTHING, Scope, desk_ids_within, desks_within, within


@dataclass(frozen=True)
class Overview:
    rounds: int
    sampled_hamlets: int
    units: int
    desks: int
    household_responses: int
    verified_household: int
    desk_evaluations: int


def overview(session: Session, scope: Scope = EVERYTHING) -> Overview:
    """Counts of what lies in the area (an area's staff never see another's totals)."""
    def count(stmt) -> int:  # type: ignore[no-untyped-def]
        return int(session.exec(stmt).one())

    rounds = select(func.count()).select_from(SurveyRound) if scope.everything else \
        select(func.count(func.distinct(SampleUnit.round_id))).where(
            within(scope, SampleUnit.unit_id))
    household = select(func.count()).select_from(Response).where(
        Response.round_id.is_not(None), within(scope, Response.unit_id))  # type: ignore[union-attr]
    return Overview(
        rounds=count(rounds),
        sampled_hamlets=count(select(func.count()).select_from(SampleUnit)
                              .where(within(scope, SampleUnit.unit_id))),
        units=count(select(func.count()).select_from(AdminUnit)
                    .where(within(scope, AdminUnit.id))),
        desks=count(select(func.count()).select_from(Desk).where(Desk.active,
                                                                 desks_within(scope))),
        household_responses=count(household),
        verified_household=count(household.where(Response.status == "verified")),
        desk_evaluations=count(
            select(func.count()).select_from(Response)
            .where(Response.desk_id.in_(desk_ids_within(scope)))  # type: ignore[union-attr]
        ),
    )
