"""One keying pass: the fields of the screen, checking what was typed, comparing two passes.

Keyed values are kept as canonical text (``"4"``, ``"1 3"``, ``"Cán bộ…"``) so that two
passes compare exactly, field by field; they become typed answers only for the checks
(:func:`survey.instruments.validate_answers`, the authority behind the screen's own
JavaScript checks) and for the final response.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from survey.instruments import Instrument, Item, validate_answers
from survey.instruments.values import as_number, code_text
from survey.messages import N_, UserError
from survey.models import Desk, InstrumentVersion, Outcome, ReviewStatus, SampleUnit, User, utcnow
from survey.models_entry import CaseState, Discrepancy, EntryCase, Keying, KeyingAnswer
from survey.services.entry.start import design_meta
from survey.services.responses import store_response

OUTCOME_FIELD = "outcome"  # reserved as an item code, so it never clashes with a question
OUTCOME_CODES: dict[str, str] = {
    "1": Outcome.completed.value, "2": Outcome.screened_out.value, "3": Outcome.refused.value,
    "4": Outcome.absent.value, "5": Outcome.not_found.value,
}  # fmt: skip
NO_INTERVIEW = frozenset({Outcome.refused.value, Outcome.absent.value, Outcome.not_found.value})
SCREENING_ITEM = "s_procedure_12m"  # 2 = no procedure in 12 months: screened out
SKIPPED_ENTRY = ("dossier_code",)  # never on paper slips: their identity is desk + serial


@dataclass(frozen=True)
class KeyingResult:
    """What saving a pass led to: the case's new state and, when stored, the response id."""

    state: str
    response_id: int | None
    mismatches: int


def entry_items(form: Instrument) -> tuple[Item, ...]:
    """The questions keyed from paper, in form order."""
    return tuple(i for i in form.questions if i.code not in SKIPPED_ENTRY)


def canonical(item: Item, raw: str) -> str:
    """Canonical text of a typed value: codes without padding, selections sorted, text trimmed."""
    text = (raw or "").strip()
    if not text:
        return ""
    if item.type == "select_multiple":
        codes = [code_text(c) for c in text.replace(",", " ").split()]
        return " ".join(sorted(dict.fromkeys(codes), key=_code_order))
    if item.type in ("select_one", "scale", "integer", "decimal"):
        return code_text(text)
    return text


def _code_order(code: str) -> tuple[int, float | str]:
    number = as_number(code)
    return (0, number) if number is not None else (1, code)


def typed(item: Item, text: str) -> Any:
    """The value as the instrument checks and stores it (numbers as numbers, lists as lists)."""
    if item.type == "select_multiple":
        return [as_number(c) if as_number(c) is not None else c for c in text.split()]
    if item.type in ("select_one", "scale", "integer", "decimal"):
        number = as_number(text)
        return number if number is not None else text
    return text


def read_form(form: Instrument, data: Mapping[str, str],
              household: bool) -> tuple[str, dict[str, str]]:
    """The outcome code and the canonical keyed values from submitted form fields."""
    outcome = (data.get(OUTCOME_FIELD) or "").strip() if household else ""
    values = {}
    for item in entry_items(form):
        text = canonical(item, data.get(item.code, ""))
        if text:
            values[item.code] = text
    return outcome, values


def check_keyed(form: Instrument, outcome: str, values: Mapping[str, str],
                household: bool) -> dict[str, UserError]:
    """Field -> message for everything that cannot be saved (empty dict: fine)."""
    errors: dict[str, UserError] = {}
    answers = {code: typed(form.item(code), text) for code, text in values.items()}
    if household:
        meaning = OUTCOME_CODES.get(outcome)
        if meaning is None:
            errors[OUTCOME_FIELD] = UserError(N_(
                "Fieldwork outcome: type 1–5 (1 completed, 2 no procedure in the last 12 "
                "months, 3 refused, 4 not at home, 5 not found)"))
            return errors
        if meaning in NO_INTERVIEW:
            for code in answers:
                errors[code] = UserError(N_("No answers when there was no interview"))
            return errors
        if form.has_item(SCREENING_ITEM) and code_text(answers.get(SCREENING_ITEM, "")) in "12":
            screened = code_text(answers.get(SCREENING_ITEM)) == "2"
            if screened != (meaning == Outcome.screened_out.value):
                errors[OUTCOME_FIELD] = UserError(N_(
                    "Outcome 2 (no procedure in the last 12 months) goes with screening answer "
                    "2, and only with it"))
    errors.update(validate_answers(form, answers))
    return errors


def keyed_values(session: Session, keying: Keying) -> dict[str, str]:
    rows = session.exec(select(KeyingAnswer).where(KeyingAnswer.keying_id == keying.id))
    return {row.item_code: row.value for row in rows}


def save_pass(session: Session, keying: Keying, outcome: str, values: Mapping[str, str],
              form: Instrument) -> KeyingResult:
    """Store a checked pass and move the case on; the caller has run :func:`check_keyed`."""
    if keying.state != "draft":
        raise ValueError("this keying pass is already saved / lần nhập này đã lưu")
    for old in session.exec(select(KeyingAnswer).where(KeyingAnswer.keying_id == keying.id)):
        session.delete(old)
    session.flush()
    for code, text in values.items():
        session.add(KeyingAnswer(keying_id=keying.id, item_code=code, value=text))
    keying.outcome = OUTCOME_CODES.get(outcome)
    keying.state, keying.finished_at = "done", utcnow()
    keying.draft = None  # the pass itself now holds the values
    session.add(keying)
    case = session.get(EntryCase, keying.case_id)
    assert case is not None
    case.updated_at = utcnow()
    if keying.pass_no == 1 and case.double_required:
        case.state = CaseState.keyed_once.value
        session.add(case)
        session.flush()
        return KeyingResult(case.state, None, 0)
    if keying.pass_no == 1:
        response_id = finalise(session, case, keying.outcome, values, form,
                               ReviewStatus.received.value, keying.keyer_id)
        case.state = CaseState.single.value
        return KeyingResult(case.state, response_id, 0)
    first = session.exec(select(Keying).where(Keying.case_id == case.id,
                                              Keying.pass_no == 1)).one()
    differences = compare(_with_outcome(first.outcome, keyed_values(session, first)),
                          _with_outcome(keying.outcome, dict(values)))
    if not differences:
        response_id = finalise(session, case, keying.outcome, values, form,
                               ReviewStatus.verified.value, first.keyer_id)
        case.state = CaseState.verified.value
        return KeyingResult(case.state, response_id, 0)
    for code, (a, b) in differences.items():
        session.add(Discrepancy(case_id=case.id, item_code=code, first_value=a, second_value=b))
    case.state = CaseState.mismatch.value
    session.add(case)
    session.flush()
    return KeyingResult(case.state, None, len(differences))


def _with_outcome(outcome: str | None, values: dict[str, str]) -> dict[str, str]:
    return {OUTCOME_FIELD: outcome, **values} if outcome else values


def compare(first: Mapping[str, str], second: Mapping[str, str]) -> dict[str, tuple[str | None,
                                                                                   str | None]]:
    """Every field whose two keyed values differ (a value against a blank counts), form order."""
    codes = list(dict.fromkeys([*first, *second]))
    return {c: (first.get(c), second.get(c)) for c in codes if first.get(c) != second.get(c)}


def finalise(session: Session, case: EntryCase, outcome: str | None, values: Mapping[str, str],
             form: Instrument, status: str, enumerator_id: int,
             verified_by: User | None = None) -> int:
    """Store the final response through the shared path (one per document, exactly once).
    ``verified_by``: the supervisor who reconciled it (None: the two passes agreed)."""
    version = session.get(InstrumentVersion, case.instrument_version_id)
    assert version is not None
    answers = {code: typed(form.item(code), text) for code, text in values.items()}
    meta: dict[str, Any] = {"enumerator_id": enumerator_id}
    if case.sample_unit_id is not None:
        unit = session.get(SampleUnit, case.sample_unit_id)
        assert unit is not None
        meta.update(design_meta(session, unit), questionnaire_id=case.questionnaire_id,
                    outcome=outcome)
    else:
        meta.update(desk_id=case.desk_id, slip_serial=case.slip_serial)
    result = store_response(
        session, instrument_version=version, mode="paper", answers=answers, status=status,
        client_uuid=uuid.uuid5(uuid.NAMESPACE_URL, f"sipas-entry:{case.entry_key}"), **meta)
    case.response_id = result.response.id
    session.add(case)
    session.flush()
    assert result.response.id is not None
    if result.created:  # webhooks, in this transaction (services/webhooks/outbox.py)
        from survey.services.webhooks import outbox

        if status == ReviewStatus.verified.value:
            outbox.response_verified(session, result.response, verified_by)
        if case.desk_id is not None and status != ReviewStatus.held.value:
            desk = session.get(Desk, case.desk_id)
            if desk is not None:
                from survey.services.dossiers.follow_up import open_case

                outbox.low_rating(session, result.response, desk, answers)
                open_case(session, result.response, desk, answers)
    return result.response.id
