"""The questionnaires shipped in forms/: do they load, and are they what SIPAS asks?"""

from __future__ import annotations

import json
import keyword
import re
import unicodedata
from pathlib import Path

import pytest

from survey.instruments import Instrument, load_forms_dir, load_instrument, relevant_items
from survey.instruments.loader import default_forms_dir
from survey.instruments.schema import RESERVED_CODES

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


@pytest.fixture(scope="module")
def forms() -> dict[str, Instrument]:
    return load_forms_dir(FORMS_DIR)


@pytest.fixture(scope="module")
def services(forms: dict[str, Instrument]) -> Instrument:
    return forms["sipas_services"]


def test_does_every_shipped_form_load(forms: dict[str, Instrument]) -> None:
    assert {"sipas_services", "desk_evaluation"} <= set(forms)
    assert forms["sipas_services"].kind == "household"
    assert forms["desk_evaluation"].kind == "desk"


def test_is_the_default_forms_directory_the_repositorys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIPAS_FORMS", raising=False)
    assert default_forms_dir() == FORMS_DIR
    assert load_instrument("sipas_services").code == "sipas_services"


def test_are_the_19_criteria_in_five_elements_of_4_4_5_3_3(services: Instrument) -> None:
    assert [e.code for e in services.elements] == ["I", "II", "III", "IV", "V"]
    assert [len(e.items) for e in services.elements] == [4, 4, 5, 3, 3]
    assert [code for e in services.elements for code in e.items] == [
        f"c{e}_{i}" for e, n in enumerate([4, 4, 5, 3, 3], start=1) for i in range(1, n + 1)]
    for element in services.elements:
        for code in element.items:
            item = services.item(code)
            assert item.type == "scale" and item.element == element.code
            assert item.na_allowed and item.missing_code == 9


def test_is_the_satisfaction_scale_one_to_five_with_the_official_labels(
        services: Instrument) -> None:
    assert services.valid_codes == (1, 2, 3, 4, 5)
    assert services.satisfied_codes == (4, 5) and services.dissatisfied_codes == (1, 2)
    assert services.missing_code == 9
    assert [c.label["vi"] for c in services.scale] == [
        "Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


def test_are_element_labels_vietnamese_with_english(services: Instrument) -> None:
    assert services.elements[0].label == {"vi": "Tiếp cận dịch vụ", "en": "Access to services"}
    assert all(set(e.label) == {"vi", "en"} for e in services.elements)


def test_does_the_wording_match_the_reference_transcription(services: Instrument) -> None:
    assert services.item("c3_3").label["vi"] == (
        "Công chức hướng dẫn hồ sơ dễ hiểu, đảm bảo người dân có thể hoàn thiện hồ sơ sau một "
        "lần hướng dẫn.")
    assert services.item("p9").label["vi"].startswith("Nâng cao hơn nữa chất lượng dịch vụ")


def test_does_part_a_ask_the_demographics_with_the_five_age_bands(services: Instrument) -> None:
    bands = [c.label["vi"] for c in services.item("a_age_band").choices]
    assert bands == ["18–25 tuổi", "26–34 tuổi", "35–49 tuổi", "50–60 tuổi", "Trên 60 tuổi"]
    for code in ("a_sex", "a_ethnicity", "a_education", "a_occupation", "a_urban_rural"):
        assert services.item(code).section == "part_a"
    assert not any(services.has_item(c) for c in ("province", "commune", "hamlet"))


def test_are_the_nine_priorities_rated_very_much_much_little(services: Instrument) -> None:
    priorities = [i for i in services.items if i.section == "priorities"]
    assert [i.code for i in priorities] == [f"p{n}" for n in range(1, 10)]
    assert all([c.label["vi"] for c in i.choices] == ["Rất nhiều", "Nhiều", "Ít"]
               for i in priorities)


def test_are_fields_and_agency_levels_multiple_choice(services: Instrument) -> None:
    assert services.item("e_fields").type == "select_multiple"
    assert services.item("e_levels").type == "select_multiple"


def test_is_a_screened_out_respondent_asked_nothing_after_screening(
        services: Instrument) -> None:
    answered_no = relevant_items(services, {"a_sex": 1, "s_procedure_12m": 2})
    assert answered_no[-1] == "s_procedure_12m"
    assert not any(code.startswith(("c", "p", "e_")) for code in answered_no)
    answered_yes = relevant_items(services, {"s_procedure_12m": "1"})
    assert {f"c{e}_1" for e in range(1, 6)} <= set(answered_yes)
    assert "comment" in answered_yes and "e_fields_other" not in answered_yes


@pytest.mark.parametrize("code", ["sipas_services", "desk_evaluation"])
def test_are_item_codes_unique_safe_column_names(forms: dict[str, Instrument],
                                                 code: str) -> None:
    codes = [item.code for item in forms[code].items]
    assert len(codes) == len(set(codes))
    for item_code in codes:
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,31}", item_code), item_code
        assert item_code.isidentifier() and not keyword.iskeyword(item_code)
        assert item_code not in RESERVED_CODES


@pytest.mark.parametrize("code", ["sipas_services", "desk_evaluation"])
def test_is_every_text_bilingual_and_in_composed_unicode(forms: dict[str, Instrument],
                                                         code: str) -> None:
    instrument = forms[code]
    assert unicodedata.is_normalized("NFC", instrument.source_text)
    for item in instrument.items:
        assert item.label["vi"] and item.label.get("en"), item.code
        for choice in item.choices:
            assert choice.label["vi"] and choice.label.get("en"), (item.code, choice.code)


def test_does_the_desk_form_have_the_short_phone_first_items(
        forms: dict[str, Instrument]) -> None:
    desk = forms["desk_evaluation"]
    assert [i.code for i in desk.items] == [
        "dossier_code", "service_field", "overall", "low_reasons", "on_time", "staff_attitude",
        "visits", "posted_procedures", "feedback_handling", "comment"]
    # what went wrong: asked only after a rating of 1 or 2, any number of reasons
    reasons = desk.item("low_reasons")
    assert reasons.type == "select_multiple" and not reasons.required
    assert [reasons.relevant.holds({"overall": r}) for r in (1, 2, 3, 4, 5)] == \
        [True, True, False, False, False]
    assert desk.item("dossier_code").type == "text" and not desk.item("dossier_code").required
    assert desk.item("overall").type == "scale" and desk.item("overall").element is None
    assert (desk.item("visits").min, desk.item("visits").max) == (1, 20)
    assert desk.item("service_field").choices == forms["sipas_services"].item(
        "e_fields").choices


def test_is_to_dict_json_ready_with_expression_trees(services: Instrument) -> None:
    data = json.loads(json.dumps(services.to_dict(), ensure_ascii=False))
    item = next(i for i in data["items"] if i["code"] == "c1_1")
    assert item["relevant"] == "${s_procedure_12m} = 1"
    assert item["relevant_json"]["node"] == "binary"
    assert data["elements"][2]["items"] == ["c3_1", "c3_2", "c3_3", "c3_4", "c3_5"]
    assert data["content_hash"] == services.content_hash
