"""The supervisor's lists of keyed paper: stored responses by review state, and mismatches.

Lists are queries, not fetched rows, so a view pages them in the database
(:func:`survey.services.paging.paginate`) and a search narrows them there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from survey.models import Response, SurveyRound
from survey.models_entry import CaseState, EntryCase


def stored_paper(status: str, round_id: int | None = None,
                 search: str = "") -> Any:
    """Paper responses in ``status`` (newest change first), with their round code.

    ``search`` matches a questionnaire ID or slip serial anywhere (so the printed form, with
    or without the round prefix, finds it) or a response number exactly.
    """
    query = (select(Response, SurveyRound.code)
             .outerjoin(SurveyRound, SurveyRound.id == Response.round_id)  # type: ignore[arg-type]
             .where(Response.mode == "paper", Response.status == status))
    if round_id is not None:
        query = query.where(Response.round_id == round_id)
    text = search.strip()
    if text:
        pattern = f"%{_escaped(text)}%"
        found = [col(Response.questionnaire_id).like(pattern, escape="\\"),
                 col(Response.slip_serial).like(pattern, escape="\\")]
        if text.isascii() and text.isdigit() and len(text) < 10:
            found.append(Response.id == int(text))
        query = query.where(or_(*found))
    return query.order_by(col(Response.updated_at).desc(), col(Response.id).desc())


def mismatches(round_id: int | None = None) -> SelectOfScalar[EntryCase]:
    """Double-keyed documents whose two passes disagree, oldest first."""
    query = select(EntryCase).where(EntryCase.state == CaseState.mismatch.value)
    if round_id is not None:
        query = query.where(EntryCase.round_id == round_id)
    return query.order_by(col(EntryCase.updated_at), col(EntryCase.id))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
