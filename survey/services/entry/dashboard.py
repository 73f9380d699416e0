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

from analysis.response_rates import Dispositions, estimated_e, rates
from survey.models import AdminUnit, Response, SampleUnit, Stratum, SurveyRound, User
from survey.models_entry import CaseState, Discrepancy, EntryCase, Keying, KeyingAnswer
from survey.services.entry.start import serial_range
from survey.services.scope import EVERYTHING, Scope, cases_within, within

RESPONDED = ("completed", "screened_out")
# SIPAS fieldwork outcomes as AAPOR final dispositions: a screened-out household has nobody
# eligible (NE); "not found" leaves eligibility unknown (UO).
DISPOSITION = {"completed": "I", "screened_out": "NE", "refused": "R", "absent": "NC",
               "not_found": "UO"}


def dispositions(outcomes: dict[str, int]) -> Dispositions:
    """AAPOR dispositions from outcome counts (outcomes outside the mapping are ignored)."""
    counts: Counter[str] = Counter()
    for outcome, letter in DISPOSITION.items():
        counts[letter] += outcomes.get(outcome, 0)
    return Dispositions(**counts)


@dataclass(frozen=True)
class RoundRates:
    """A round's fieldwork totals and its AAPOR rates."""

    round_code: str
    planned: int
    pending: int
    outcomes: dict[str, int]
    dispositions: Dispositions
    e: float | None
    rates: dict[str, float | None]


def round_rates(hamlets: list[HamletProgress]) -> list[RoundRates]:
    """Totals per round (every outcome, the pending paper) and the rates of the finalised."""
    out = []
    for code in sorted({h.round_code for h in hamlets}):
        rows = [h for h in hamlets if h.round_code == code]
        outcomes: Counter[str] = Counter()
        for h in rows:
            outcomes.update({k: v for k, v in h.outcomes.items() if k in DISPOSITION})
        d = dispositions(outcomes)
        out.append(RoundRates(code, sum(h.planned for h in rows), sum(h.pending for h in rows),
                              dict(outcomes), d, estimated_e(d), rates(d)))
    return out


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
    def finalised(self) -> int:
        return sum(self.outcomes.get(o, 0) for o in DISPOSITION)

    @property
    def pending(self) -> int:
        """Planned questionnaires with no stored outcome yet (paper not keyed, or in keying)."""
        return max(0, self.planned - self.finalised)

    @property
    def dispositions(self) -> Dispositions:
        return dispositions(self.outcomes)

    @property
    def response_rate(self) -> float | None:
        """AAPOR RR1 over the finalised questionnaires (pending paper is in no rate)."""
        return rates(self.dispositions)["RR1"]


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


def hamlet_progress(session: Session, scope: Scope = EVERYTHING) -> list[HamletProgress]:
    """One row per sampled hamlet (of the area) of every open round, in stratum and PSU
    order."""
    units = session.exec(
        select(SampleUnit, SurveyRound, Stratum, AdminUnit)
        .join(SurveyRound, SurveyRound.id == SampleUnit.round_id)
        .join(Stratum, Stratum.id == SampleUnit.stratum_id)
        .join(AdminUnit, AdminUnit.id == SampleUnit.unit_id)
        .where(SurveyRound.status == "open", within(scope, SampleUnit.unit_id))
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
        if status != "rejected":  # a rejected questionnaire is no disposition
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


def keyer_quality(session: Session, scope: Scope = EVERYTHING) -> list[KeyerQuality]:
    """Per keyer: passes keyed, and mismatches and proven errors in double-keyed documents
    (of the area's paper)."""
    ours = None if scope.everything else set(session.exec(
        select(EntryCase.id).where(cases_within(scope))))
    passes: dict[int, Counter[int]] = defaultdict(Counter)
    compared: Counter[int] = Counter()
    keyers_of_case: dict[int, dict[int, int]] = defaultdict(dict)
    answered = dict(session.exec(
        select(KeyingAnswer.keying_id, func.count()).group_by(KeyingAnswer.keying_id)).all())
    double_done = set(session.exec(
        select(Keying.case_id).where(Keying.pass_no == 2, Keying.state == "done")))
    for keying in session.exec(select(Keying).where(Keying.state == "done")):
        if ours is not None and keying.case_id not in ours:
            continue
        passes[keying.keyer_id][keying.pass_no] += 1
        keyers_of_case[keying.case_id][keying.pass_no] = keying.keyer_id
        if keying.case_id in double_done:
            compared[keying.keyer_id] += answered.get(keying.id, 0) + (1 if keying.outcome else 0)
    mismatches: Counter[int] = Counter()
    errors: Counter[int] = Counter()
    for row in session.exec(select(Discrepancy)):
        if ours is not None and row.case_id not in ours:
            continue
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
