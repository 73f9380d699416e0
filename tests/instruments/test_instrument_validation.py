"""Checking answers against an instrument: the rules the QR and paper-entry screens share."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from survey.instruments import (
    Instrument,
    effective_answers,
    load_instrument,
    load_instrument_text,
    relevant_items,
    validate_answers,
)

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
CATALOGUES = Path(__file__).resolve().parents[2] / "survey" / "translations"


def as_text(errors: dict[str, object], lang: str = "vi") -> dict[str, str]:
    """The messages as a reader of ``lang`` sees them (Vietnamese from the real catalogue)."""
    from babel.support import NullTranslations, Translations

    catalogue = Translations.load(str(CATALOGUES), [lang]) if lang != "en" \
        else NullTranslations()

    def gettext(msgid: str, **params: object) -> str:
        text = catalogue.gettext(msgid)
        return text % params if params else text

    return {code: e.localised(gettext, lang) for code, e in errors.items()}  # type: ignore[attr-defined]


def both(errors: dict[str, object]) -> dict[str, str]:
    vi, en = as_text(errors, "vi"), as_text(errors, "en")
    return {code: f"{vi[code]} / {en[code]}" for code in errors}


@pytest.fixture(scope="module")
def services() -> Instrument:
    return load_instrument("sipas_services", FORMS_DIR)


@pytest.fixture(scope="module")
def desk() -> Instrument:
    return load_instrument("desk_evaluation", FORMS_DIR)


def complete_household(**overrides: object) -> dict[str, object]:
    """A fresh, valid, screened-in household answer set (as a paper keyer would type it)."""
    answers: dict[str, object] = {
        "a_sex": "2", "a_age_band": "3", "a_ethnicity": "1", "a_education": "4",
        "a_occupation": "3", "a_urban_rural": "2", "a_terrain": "2", "s_procedure_12m": "1",
        "e_fields": ["1", "3"], "e_levels": "1 2",
    }
    answers |= {f"c{e}_{i}": "4" for e, n in enumerate([4, 4, 5, 3, 3], 1)
                for i in range(1, n + 1)}
    answers |= {f"p{n}": "2" for n in range(1, 10)}
    answers["comment"] = "Cán bộ nhiệt tình."
    answers |= overrides
    return answers


def test_is_a_complete_household_questionnaire_valid(services: Instrument) -> None:
    assert validate_answers(services, complete_household()) == {}


def test_is_the_no_answer_code_nine_accepted_for_criteria(services: Instrument) -> None:
    assert validate_answers(services, complete_household(c5_1=9, c5_2="9")) == {}


def test_is_a_screened_out_respondent_valid_with_demographics_only(
        services: Instrument) -> None:
    answers = {k: v for k, v in complete_household().items() if k.startswith("a_")}
    answers["s_procedure_12m"] = 2
    assert validate_answers(services, answers) == {}


def test_are_answers_to_skipped_items_flagged(services: Instrument) -> None:
    errors = validate_answers(services, complete_household(s_procedure_12m="2"))
    assert set(errors) == {code for code in complete_household() if code[0] in "cpe"}
    assert both(errors)["c1_1"] == ("Câu này được bỏ qua nhưng lại có trả lời / "
                                    "Answer given to a question that should be skipped")


def test_is_a_missing_required_answer_named_in_both_languages(services: Instrument) -> None:
    answers = complete_household()
    del answers["c3_2"]
    assert both(validate_answers(services, answers)) == {
        "c3_2": "Câu này bắt buộc trả lời / This question is required"}


@pytest.mark.parametrize(("code", "value", "fragment"), [
    ("c1_1", "6", "Code '6' is not one of the choices (1, 2, 3, 4, 5, 9)"),
    ("c1_1", [4], "is not one of the choices"),
    ("a_sex", 9.5, "is not one of the choices"),
    ("e_fields", ["1", "42"], "Code '42' is not one of the choices"),
    ("e_fields", "1 1", "selected twice"),
    ("p1", "4", "Code '4' is not one of the choices (1, 2, 3, 9)"),
    ("comment", 12, "must be text"),
])
def test_are_codes_outside_the_choices_refused(services: Instrument, code: str, value: object,
                                               fragment: str) -> None:
    errors = validate_answers(services, complete_household(**{code: value}))
    assert list(errors) == [code] and fragment in str(errors[code])


def test_is_an_other_field_asked_only_when_other_is_selected(services: Instrument) -> None:
    assert "e_fields_other" not in relevant_items(services, complete_household())
    with_other = complete_household(e_fields="1 98", e_fields_other="Thuế")
    assert "e_fields_other" in relevant_items(services, with_other)
    assert validate_answers(services, with_other) == {}
    assert "e_fields_other" in validate_answers(services, complete_household(
        e_fields_other="Thuế"))


def test_are_unknown_item_codes_reported(services: Instrument) -> None:
    errors = validate_answers(services, complete_household(c6_1=4))
    assert both(errors) == {"c6_1": "Không có câu hỏi mã 'c6_1' / Unknown item 'c6_1'"}


def test_do_skipped_answers_disappear_from_later_conditions(services: Instrument) -> None:
    kept = effective_answers(services, complete_household(s_procedure_12m=2))
    assert "c1_1" not in kept and kept["a_sex"] == "2"


@pytest.mark.parametrize(("value", "fragment"), [
    ("0", "between 1 and 20"), (21, "between 1 and 20"), ("2.5", "whole number"),
    ("hai", "must be a number"), (True, "must be a number"),
])
def test_is_the_number_of_visits_checked(desk: Instrument, value: object,
                                         fragment: str) -> None:
    answers = {"service_field": 1, "overall": 5, "on_time": 1, "staff_attitude": 5,
               "visits": value}
    errors = validate_answers(desk, answers)
    assert list(errors) == ["visits"] and fragment in str(errors["visits"])


def test_is_a_minimal_desk_evaluation_valid(desk: Instrument) -> None:
    answers = {"service_field": "3", "overall": "4", "on_time": "3", "staff_attitude": "5",
               "visits": "2", "feedback_handling": "9", "dossier_code": ""}
    assert validate_answers(desk, answers) == {}


FORM_WITH_CONSTRAINTS = {
    "code": "checks", "version": "1", "kind": "policy", "title": {"vi": "Kiểm tra"},
    "sections": [{"code": "s", "title": {"vi": "S"}, "items": [
        {"code": "members", "type": "integer", "min": 1, "max": 30, "label": {"vi": "Số người"},
         "na_allowed": True, "missing_code": 99},
        {"code": "adults", "type": "integer", "label": {"vi": "Số người lớn"},
         "constraint": ". <= ${members}",
         "constraint_message": {"vi": "Không vượt quá số người", "en": "At most the members"}},
        {"code": "share", "type": "decimal", "min": 0, "max": 1, "label": {"vi": "Tỷ lệ"},
         "constraint": ". != 0.5"},
        {"code": "visit_date", "type": "date", "label": {"vi": "Ngày"}},
        {"code": "info", "type": "note", "label": {"vi": "Cảm ơn"}},
    ]}],
}


@pytest.fixture(scope="module")
def checks() -> Instrument:
    return load_instrument_text(yaml.safe_dump(FORM_WITH_CONSTRAINTS, allow_unicode=True))


@pytest.mark.parametrize(("answers", "expected"), [
    ({"members": 4, "adults": 3}, {}),
    ({"members": 4, "adults": "5"},
     {"adults": "Không vượt quá số người / At most the members"}),
    ({"members": 99, "adults": 5}, {}),  # 99 (no answer) skips the range; expressions see 99
    ({"share": "0.5"}, {"share": "Giá trị không thỏa điều kiện . != 0.5 / "
                                 "The value fails the constraint . != 0.5"}),
    ({"share": 1.5}, {"share": "Giá trị phải trong khoảng 0–1 / "
                               "The value must be between 0 and 1"}),
    ({"visit_date": "2024-02-30"}, {"visit_date": "Ngày không hợp lệ (YYYY-MM-DD) / "
                                                  "Invalid date (YYYY-MM-DD)"}),
    ({"visit_date": date(2024, 2, 29)}, {}),
    ({"info": "x"}, {"info": "Mục này không nhận câu trả lời / A note takes no answer"}),
])
def test_are_constraints_ranges_dates_and_notes_checked(checks: Instrument, answers: dict,
                                                        expected: dict) -> None:
    assert both(validate_answers(checks, answers)) == expected
