"""Checking a set of answers against an instrument: the rules every entry screen shares.

The QR form, the paper-entry screens and imports all call :func:`validate_answers`, so a
respondent's answers are judged the same way wherever they were typed. Answers may arrive
as text (web forms) or typed values; "3" and 3 mean the same choice.

Skip logic follows XLSForm: an item whose ``relevant`` is false has no value, so later
conditions see it as unanswered even if a value was typed before the skip changed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from survey.instruments.schema import Instrument, Item
from survey.instruments.values import as_number, is_missing, selection
from survey.messages import N_, UserError, WordedError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def relevant_items(instrument: Instrument, answers: Mapping[str, Any]) -> tuple[str, ...]:
    """Codes of the items that apply to this respondent, in form order."""
    relevant = _effective_answers(instrument, answers)[1]
    return tuple(item.code for item in instrument.items if item.code in relevant)


def effective_answers(instrument: Instrument, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers with those of skipped (non-relevant) items removed."""
    return _effective_answers(instrument, answers)[0]


def _effective_answers(instrument: Instrument,
                       answers: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    kept: dict[str, Any] = {}
    relevant: set[str] = set()
    for item in instrument.items:
        if item.relevant is None or item.relevant.holds(kept):
            relevant.add(item.code)
            if item.is_question and item.code in answers:
                value = answers[item.code]
                kept[item.code] = selection(value) if item.type == "select_multiple" else value
    return kept, relevant


def validate_answers(instrument: Instrument, answers: Mapping[str, Any]) -> dict[str, str]:
    """Item code -> a message (:class:`~survey.messages.UserError`, shown in the reader's
    language) for every answer that is not acceptable.

    Checks: unknown item codes, answers to skipped items, required answers missing where
    the item applies, choice codes, numbers and their range, dates, and constraints.
    """
    errors: dict[str, UserError] = {}
    for code in answers:
        if not instrument.has_item(code):
            errors[code] = UserError(N_("Unknown item '%(code)s'"), code=code)
    kept, relevant = _effective_answers(instrument, answers)
    for item in instrument.items:
        if not item.is_question:
            if not is_missing(answers.get(item.code)):
                errors[item.code] = UserError(N_("A note takes no answer"))
            continue
        value = answers.get(item.code)
        if item.code not in relevant:
            if not is_missing(value):
                errors[item.code] = UserError(N_("Answer given to a question that should be "
                                                 "skipped"))
            continue
        if is_missing(value):
            if item.required:
                errors[item.code] = UserError(N_("This question is required"))
            continue
        message = check_value(item, value)
        if message is None and item.constraint is not None and not item.is_missing_code(value):
            if not item.constraint.holds(kept, current=value):
                message = _constraint_message(item)
        if message is not None:
            errors[item.code] = message
    return errors


def check_value(item: Item, value: Any) -> UserError | None:
    """Is a (non-empty) value acceptable for the item's type, choices and range?"""
    if item.is_missing_code(value):
        return None
    if item.type in ("select_one", "scale"):
        if isinstance(value, list | tuple | set) or item.choice(value) is None:
            return _bad_choice(item, value)
    elif item.type == "select_multiple":
        chosen = selection(value)
        bad = [v for v in chosen if item.choice(v) is None]
        if bad:
            return _bad_choice(item, bad[0])
        if len({str(v) for v in chosen}) != len(chosen):
            return UserError(N_("A choice is selected twice"))
    elif item.type in ("integer", "decimal"):
        return _check_number(item, value)
    elif item.type == "date":
        return _check_date(value)
    elif item.type == "text" and not isinstance(value, str):
        return UserError(N_("The answer must be text"))
    return None


def _check_number(item: Item, value: Any) -> UserError | None:
    number = as_number(value)
    if number is None:
        return UserError(N_("The answer must be a number"))
    if item.type == "integer" and not float(number).is_integer():
        return UserError(N_("The answer must be a whole number"))
    if (item.min is not None and number < item.min) or \
            (item.max is not None and number > item.max):
        low = "" if item.min is None else _show(item.min)
        high = "" if item.max is None else _show(item.max)
        return UserError(N_("The value must be between %(low)s and %(high)s"), low=low, high=high)
    return None


def _check_date(value: Any) -> UserError | None:
    if isinstance(value, date):
        return None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            date.fromisoformat(value.strip())
            return None
        except ValueError:
            pass
    return UserError(N_("Invalid date (YYYY-MM-DD)"))


def _bad_choice(item: Item, value: Any) -> UserError:
    codes = ", ".join(str(c) for c in item.choice_codes)
    if item.na_allowed and item.missing_code is not None:
        codes += f", {item.missing_code}"
    return UserError(N_("Code '%(value)s' is not one of the choices (%(codes)s)"), value=value,
                     codes=codes)


def _constraint_message(item: Item) -> UserError:
    if item.constraint_message:
        return WordedError(dict(item.constraint_message))
    return UserError(N_("The value fails the constraint %(rule)s"), rule=item.constraint_text)


def _show(number: int | float) -> str:
    return str(int(number)) if isinstance(number, float) and math.isfinite(number) and \
        number.is_integer() else str(number)
