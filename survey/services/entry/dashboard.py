"""The fieldwork dashboard: progress per hamlet and the quality of each keyer's work.

A keyer's *error rate* counts only what the paper proves: a field where their value
differs from the value the supervisor read on the paper at reconciliation, over all the
fields they keyed in questionnaires that were keyed twice. The *mismatch rate* (fields in
disagreement, whoever erred) is shown beside it while reconciliation is pending.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from survey.models import AdminUnit, Response, SampleUnit, Stratum, SurveyRound, User
from survey.models_entry import CaseState, Discrepancy, EntryCase, Keying, KeyingAnswer
from survey.services.entry.start import serial_range

RESPONDED = ("completed", "screened_out")


@dataclass(frozen=True)
class HamletProgress:
    round_code: str
    stratum: str
    psu: str
    hamlet: str
    planned: int
    keyed_once: int
    mismatched: int
    stored: int
    verified: int
    outcomes: dict[str, int]

    @property
    def response_rate(self) -> float | None:
        """Completed or screened-out questionnaires over the planned sample."""
        done = sum(self.outcomes.get(o, 0) for o in RESPONDED)
        return done / self.planned if self.planned else None


@dataclass(frozen=True)
class KeyerQuality:
    username: str
    first_passes: int
    second_passes: int
    fields_compared: int
    mismatches: int
    errors: int

    @property
    def mismatch_rate(self) -> float | None:
        return self.mismatches / self.fields_compared if self.fields_compared else None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.fields_compared if self.fields_compared else None


def hamlet_progress(session: Session) -> list[HamletProgress]:
    """One row per sampled hamlet of every open round, in stratum and PSU order."""
    units = session.exec(
        select(SampleUnit, SurveyRound, Stratum, AdminUnit)
        .join(SurveyRound, SurveyRound.id == SampleUnit.round_id)
        .join(Stratum, Stratum.id == SampleUnit.stratum_id)
        .join(AdminUnit, AdminUnit.id == SampleUnit.unit_id)
        .where(SurveyRound.status == "open")
        .order_by(SurveyRound.code, Stratum.code, SampleUnit.psu_code)
    ).all()
    cases: dict[int, Counter[str]] = defaultdict(Counter)
    for unit_id, state, count in session.exec(
        select(EntryCase.sample_unit_id, EntryCase.state, func.count())
        .where(EntryCase.sample_unit_id.is_not(None))  # type: ignore[union-attr]
        .group_by(EntryCase.sample_unit_id, EntryCase.state)
    ):
        cases[unit_id][state] = count
    stored: dict[int, Counter[str]] = defaultdict(Counter)
    outcomes: dict[int, Counter[str]] = defaultdict(Counter)
    for unit_id, status, outcome, count in session.exec(
        select(Response.sample_unit_id, Response.status, Response.outcome, func.count())
        .where(Response.sample_unit_id.is_not(None), Response.mode == "paper")  # type: ignore[union-attr]
        .group_by(Response.sample_unit_id, Response.status, Response.outcome)
    ):
        stored[unit_id][status] += count
        outcomes[unit_id][outcome or "unknown"] += count
    rows = []
    for unit, round_, stratum, place in units:
        first, last = serial_range(session, unit)
        rows.append(HamletProgress(
            round_code=round_.code, stratum=stratum.code, psu=unit.psu_code, hamlet=place.name,
            planned=max(0, last - first + 1), keyed_once=cases[unit.id][CaseState.keyed_once],
            mismatched=cases[unit.id][CaseState.mismatch],
            stored=sum(stored[unit.id].values()), verified=stored[unit.id]["verified"],
            outcomes=dict(outcomes[unit.id]),
        ))  # fmt: skip
    return rows


def keyer_quality(session: Session) -> list[KeyerQuality]:
    """Per keyer: passes keyed, and mismatches and proven errors in double-keyed documents."""
    passes: dict[int, Counter[int]] = defaultdict(Counter)
    compared: Counter[int] = Counter()
    keyers_of_case: dict[int, dict[int, int]] = defaultdict(dict)
    answered = dict(session.exec(
        select(KeyingAnswer.keying_id, func.count()).group_by(KeyingAnswer.keying_id)).all())
    double_done = set(session.exec(
        select(Keying.case_id).where(Keying.pass_no == 2, Keying.state == "done")))
    for keying in session.exec(select(Keying).where(Keying.state == "done")):
        passes[keying.keyer_id][keying.pass_no] += 1
        keyers_of_case[keying.case_id][keying.pass_no] = keying.keyer_id
        if keying.case_id in double_done:
            compared[keying.keyer_id] += answered.get(keying.id, 0) + (1 if keying.outcome else 0)
    mismatches: Counter[int] = Counter()
    errors: Counter[int] = Counter()
    for row in session.exec(select(Discrepancy)):
        keyers = keyers_of_case.get(row.case_id, {})
        for pass_no, value in ((1, row.first_value), (2, row.second_value)):
            keyer = keyers.get(pass_no)
            if keyer is None:
                continue
            mismatches[keyer] += 1
            if row.resolved_at is not None and (value or None) != (row.paper_value or None):
                errors[keyer] += 1
    names = {u.id: u.username for u in session.exec(select(User))}
    return [
        KeyerQuality(names.get(uid, str(uid)), passes[uid][1], passes[uid][2], compared[uid],
                     mismatches[uid], errors[uid])
        for uid in sorted(passes, key=lambda u: names.get(u, ""))
    ]
