"""XLSForm both ways: the shipped questionnaires as XLSForms that pyxform (ODK's reference
converter) accepts, and XLSForm workbooks (SIPAS's own, or made by hand as in Kobo) read
back as SIPAS forms, with a clear line naming the cell for what SIPAS cannot carry."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from survey.cli import main
from survey.instruments import (
    Instrument,
    default_forms_dir,
    load_instrument,
    load_instrument_file,
    load_instrument_text,
    parse,
    relevant_items,
    validate_answers,
)
from survey.instruments.xlsform.export import write_xlsform
from survey.instruments.xlsform.reader import XLSFormError, read_xlsform
from survey.instruments.xlsform.xpath import XPathError, carried_expression, to_xpath
from survey.instruments.yaml_dump import instrument_yaml

XF = "{http://www.w3.org/2002/xforms}"
VI, EN = "label::Tiếng Việt (vi)", "label::English (en)"
SHIPPED = sorted(path.stem for path in default_forms_dir().glob("*.yaml"))


@pytest.mark.parametrize("code", ["sipas_services", "desk_evaluation"])
def test_each_questionnaire_converts_to_an_xform_with_its_rules_and_both_languages(
        tmp_path: Path, code: str) -> None:
    from pyxform.xls2xform import convert

    out = tmp_path / f"{code}.xlsx"
    done = CliRunner().invoke(main, ["xlsform", code, "--out", str(out)])
    assert done.exit_code == 0, done.output
    result = convert(xlsform=str(out))
    assert result.warnings == []
    root = ElementTree.fromstring(result.xform)
    form = load_instrument(code)
    binds = {b.get("nodeset").rsplit("/", 1)[-1]: b for b in root.iter(f"{XF}bind")}
    for item in form.items:
        bind = binds[item.code]
        assert (bind.get("required") == "true()") == (item.required and item.type != "note")
        if item.relevant_text:  # ${x} becomes a path to x; the rest of the rule is kept
            expected = re.sub(r"\$\{(\w+)\}", lambda m: f"/data/{m.group(1)}",
                              item.relevant_text)
            assert bind.get("relevant").replace(" ", "") == expected.replace(" ", ""), item.code
        if item.min is not None:
            assert f">= {item.min}" in bind.get("constraint")
    languages = {t.get("lang") for t in root.iter(f"{XF}translation")}
    assert languages == {"Tiếng Việt (vi)", "English (en)"}
    text = result.xform
    for item in form.items:  # every question's wording, in both languages
        assert item.label["vi"] in text and item.label.get("en", item.label["vi"]) in text


def test_no_answer_is_offered_only_where_the_form_allows_it(tmp_path: Path) -> None:
    from survey.instruments.xlsform.export import xlsform_rows

    form = load_instrument("desk_evaluation")
    survey, choices, settings = xlsform_rows(form)
    lists: dict[str, set[str]] = {}
    for row in choices:
        lists.setdefault(row["list_name"], set()).add(row["name"])
    by = {row["name"]: row for row in survey}
    for item in form.items:
        if item.type in ("scale", "select_one"):
            name = by[item.code]["type"].split()[1]
            assert (str(form.missing_code) in lists[name]) == item.na_allowed, item.code
    assert settings["form_id"] == "desk_evaluation" and settings["version"] == form.version


def test_a_bad_xlsform_request_is_one_clear_line(tmp_path: Path) -> None:
    for args, said in ((["nothing_here", "--out", str(tmp_path / "x.xlsx")], "no questionnaire"),
                       (["desk_evaluation", "--out", str(tmp_path / "x.csv")], ".xlsx"),
                       (["desk_evaluation", "--out", str(tmp_path / "no" / "x.xlsx")],
                        "does not exist")):
        for command in (["xlsform"], ["xlsform", "export"]):
            done = CliRunner().invoke(main, [*command, *args])
            assert done.exit_code != 0 and said in done.output, done.output
            assert "Traceback" not in done.output


# --- the round trip ------------------------------------------------------------------------

def comparable(form: Instrument) -> Instrument:
    """The instrument without where it was read from (file, text, hash, YAML lines)."""
    sections = tuple(dataclasses.replace(
        s, items=tuple(dataclasses.replace(i, line=None) for i in s.items))
        for s in form.sections)
    return dataclasses.replace(form, sections=sections, source_text="", content_hash="",
                               path=None)


RICH_FORM = """
code: rich_form
version: "1"
kind: policy
languages: [vi, en]
title: {vi: Phiếu thử, en: Test form}
scale:
  - {code: 1, label: {vi: Kém, en: Poor}}
  - {code: 2, label: {vi: Được, en: Fair}}
  - {code: 3, label: {vi: Tốt, en: Good}}
satisfied_codes: [3]
dissatisfied_codes: [1]
missing_code: 9
missing_label: {vi: Không biết, en: "Do not know"}
elements:
  - {code: A, label: {vi: Nhóm A, en: Group A}}
choice_lists:
  yes_no:
    - {code: 1, label: {vi: Có, en: "Yes"}}
    - {code: 2, label: {vi: Không, en: "No"}}
  unused:
    - {code: x, label: {vi: X}}
sections:
  - code: intro
    title: {vi: Mở đầu, en: Introduction}
    items:
      - code: consent
        type: select_one
        choices: yes_no
        required: true
        label: {vi: "Đồng ý?", en: "Consent?"}
        hint: {vi: Hỏi trước}
      - {code: members, type: integer, min: 1, max: 30, na_allowed: true, missing_code: 99,
         label: {vi: Số người, en: Members}, relevant: "${consent} = 1"}
      - code: adults
        type: integer
        label: {vi: Người lớn, en: Adults}
        constraint: . <= ${members}
        constraint_message: {vi: Không quá số người, en: Not more than the members}
        relevant: answered(${members}) and ${members} != 99
      - {code: income, type: decimal, min: 0.5, label: {vi: Thu nhập, en: Income}}
      - {code: visit_day, type: date, label: {vi: Ngày, en: Day}}
      - code: channels
        type: select_multiple
        label: {vi: Kênh, en: Channels}
        choices:
          - {code: web, label: {vi: Mạng, en: Web}}
          - {code: desk, label: {vi: Quầy, en: Desk}}
          - {code: phone, label: {vi: Điện thoại, en: Phone}}
      - code: channel_note
        type: note
        label: {vi: "Ghi chú: 'nhiều kênh'", en: Note}
        relevant: count_selected(${channels}) >= 2 or ${channels} in ('phone')
  - code: rating
    title: {vi: Đánh giá, en: Rating}
    description: {vi: Chấm điểm, en: Score it}
    relevant: ${consent} = 1 and not answered(${visit_day})
    defaults: {type: scale, element: A, required: true, na_allowed: true}
    items:
      - {code: r1, label: {vi: Câu 1, en: Q1}}
      - code: r2
        label: {vi: Câu 2, en: Q2}
        relevant: ${r1} not in (9) and (${members} - ${adults}) / 2 > 1
      - code: r_source
        type: select_one
        element: null
        missing_code: dk
        label: {vi: Nguồn, en: Source}
        choices:
          - {code: a, label: {vi: Báo, en: Press}}
          - {code: b, label: {vi: Bạn bè, en: Friends}}
        constraint: not (. = 'b') or ${r1} >= 2
"""


def assert_round_trip(form: Instrument, tmp_path: Path) -> None:
    from pyxform.xls2xform import convert

    workbook = tmp_path / f"{form.code}.xlsx"
    write_xlsform(form, workbook)
    assert convert(xlsform=str(workbook)).warnings == []
    back = read_xlsform(workbook)
    assert comparable(back.instrument) == comparable(form)
    assert back.text == instrument_yaml(form)  # the same YAML, once both are normalised
    assert back.notes == ()


@pytest.mark.parametrize("code", SHIPPED)
def test_is_each_shipped_form_the_same_after_yaml_xlsform_yaml(tmp_path: Path,
                                                                code: str) -> None:
    assert_round_trip(load_instrument(code), tmp_path)


def test_does_every_form_feature_survive_the_round_trip(tmp_path: Path) -> None:
    """Ranges with a "no answer" code, messages, dates, text codes, a per-item missing
    code, section conditions, unused lists and rules that XPath spells otherwise."""
    assert_round_trip(load_instrument_text(RICH_FORM), tmp_path)


def test_is_the_canonical_yaml_of_a_form_the_same_form() -> None:
    for code in SHIPPED:
        form = load_instrument(code)
        text = instrument_yaml(form)
        assert comparable(load_instrument_text(text)) == comparable(form)
        assert instrument_yaml(load_instrument_text(text)) == text


# --- expressions ---------------------------------------------------------------------------

SIPAS_RULES = ["${a} = 1", "${a} != 1", "answered(${b})", "not answered(${b})",
               "${a} in (1, 2)", "${a} not in (2)", "${m} in (1, 3)", "count_selected(${m}) >= 2",
               "selected(${m}, 3) and ${a} > 1", "(${a} + 1) / 2 >= 1", "not (${a}) = 1",
               "${b} = 'x' or ${b} = \"it's\"", "-${a} < -1"]
ANSWERS = [{"a": a, "b": b, "m": m} for a in (None, 1, 2, 99) for b in (None, "x", "it's")
           for m in (None, [], ["1"], ["1", "3"])]


@pytest.mark.parametrize("rule", SIPAS_RULES)
def test_does_an_xpath_rule_read_back_mean_what_the_sipas_rule_meant(rule: str) -> None:
    xpath = to_xpath(rule)
    back = carried_expression(xpath, None)  # as if the sipas:: column had been lost
    for answers in ANSWERS:
        assert parse(back).holds(answers) == parse(rule).holds(answers), (xpath, back, answers)
    assert carried_expression(xpath, rule) == rule  # with it, the very text comes back


@pytest.mark.parametrize(("xpath", "sipas"), [
    ("${a} = 1", "${a} = 1"),
    ("selected(${m}, 'x')", "selected(${m}, 'x')"),
    ("${a} != ''", "answered(${a})"),
    ("${a} = ''", "not (answered(${a}))"),
    ("string-length(${b}) > 0", "answered(${b})"),
    ("count-selected(${m}) > 1", "count_selected(${m}) > 1"),
    ("not(${a} = 1)", "not(${a} = 1)"),
    ("${a} div 2 > .5", "(${a} / 2) > 0.5"),
    ("${a} != 1", "not (${a} = 1)"),  # a blank answer is unequal in XPath
    ("true()", "1"),
])
def test_is_an_xlsform_expression_said_in_sipas_notation(xpath: str, sipas: str) -> None:
    assert carried_expression(xpath, None) == sipas


@pytest.mark.parametrize(("xpath", "said"), [
    ("pulldata('hh', 'name', 'id', ${a}) = 'x'", "pulldata() cannot be carried into SIPAS"),
    ("if(${a} = 1, 2, 3) = 2", "if() cannot be carried"),
    ("/data/a = 1", "refer to a question as ${name}"),
    ("${a} mod 2 = 0", "'mod' cannot be carried"),
    ("string-length(${a}) > 3", "string-length() can be carried only as"),
    ("today() > ${d}", "today() cannot be carried"),
])
def test_is_what_sipas_cannot_say_refused_by_name(xpath: str, said: str) -> None:
    with pytest.raises(XPathError, match=re.escape(said)):
        carried_expression(xpath, None)


# --- reading a hand-made workbook ----------------------------------------------------------

def workbook(path: Path, survey: list[dict[str, Any]], choices: list[dict[str, Any]] = (),
             settings: dict[str, Any] | None = None) -> Path:
    """An XLSForm as someone writes one in Excel: row 1 the headers, then one row each."""
    book = Workbook()
    for index, (title, rows) in enumerate((("survey", survey), ("choices", choices),
                                           ("settings", [settings] if settings else []))):
        if index and not rows:
            continue
        sheet = book.active if index == 0 else book.create_sheet(title)
        sheet.title = title
        columns = list(dict.fromkeys(column for row in rows for column in row))
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(column) for column in columns])
    book.save(path)
    return path


YES_NO = [{"list_name": "yes_no", "name": "yes", VI: "Có", EN: "Yes"},
          {"list_name": "yes_no", "name": "no", VI: "Không", EN: "No"},
          {"list_name": "services", "name": "land", VI: "Đất đai", EN: "Land"},
          {"list_name": "services", "name": "other", VI: "Khác", EN: "Other"}]
KOBO_SURVEY = [
    {"type": "start", "name": "start"},
    {"type": "select_one yes_no", "name": "consent", VI: "Anh/Chị có đồng ý không?",
     EN: "Do you agree?", "required": "yes"},
    {"type": "begin group", "name": "about", VI: "Về Anh/Chị", EN: "About you",
     "relevant": "${consent} = 'yes'"},
    {"type": "integer", "name": "age", VI: "Tuổi", EN: "Age",
     "hint::Tiếng Việt (vi)": "Tính theo năm", "required": "true()",
     "constraint": ". >= 18 and . <= 99"},
    {"type": "select_multiple services", "name": "services", VI: "Dịch vụ", EN: "Services",
     "relevant": "${age} >= 60", "constraint": "count-selected(.) <= 1",
     "constraint_message::Tiếng Việt (vi)": "Chọn một", "constraint_message::English (en)":
     "Choose one"},
    {"type": "text", "name": "services_other", VI: "Khác (ghi rõ)", EN: "Other (specify)",
     "relevant": "selected(${services}, 'other')"},
    {"type": "end group"},
]
KOBO_SETTINGS = {"form_title": "Khảo sát thử", "form_id": "kobo_survey", "version": "2025.03",
                 "default_language": "Tiếng Việt (vi)"}


def test_is_a_hand_made_xlsform_read_field_by_field(tmp_path: Path) -> None:
    path = workbook(tmp_path / "kobo.xlsx", KOBO_SURVEY, YES_NO, KOBO_SETTINGS)
    done = read_xlsform(path)
    form = done.instrument
    assert (form.code, form.version, form.kind, form.languages) == (
        "kobo_survey", "2025.03", "household", ("vi", "en"))
    assert form.title == {"vi": "Khảo sát thử"}
    assert [s.code for s in form.sections] == ["main", "about"]
    assert form.sections[1].title == {"vi": "Về Anh/Chị", "en": "About you"}
    assert form.sections[1].relevant_text == "${consent} = 'yes'"
    consent, age, services, other = form.items
    assert consent.type == "select_one" and consent.required and consent.choice_codes == (
        "yes", "no")
    assert consent.label == {"vi": "Anh/Chị có đồng ý không?", "en": "Do you agree?"}
    assert consent.choice("yes").label == {"vi": "Có", "en": "Yes"}
    assert (age.type, age.required, age.min, age.max, age.constraint_text) == (
        "integer", True, 18, 99, None)
    assert age.hint == {"vi": "Tính theo năm"}
    assert age.relevant_text == "${consent} = 'yes'"
    assert services.relevant_text == "(${consent} = 'yes') and (${age} >= 60)"
    assert services.constraint_text == "count_selected(.) <= 1"
    assert services.constraint_message == {"vi": "Chọn một", "en": "Choose one"}
    assert other.type == "text" and other.relevant_text == (
        "(${consent} = 'yes') and (selected(${services}, 'other'))")
    assert any("start is left out" in note for note in done.notes)
    # the rules work as they did in Kobo
    assert set(relevant_items(form, {"consent": "no"})) == {"consent"}
    problems = validate_answers(form, {"consent": "yes", "age": 17})
    assert "age" in problems
    assert validate_answers(form, {"consent": "yes", "age": 70, "services": ["land"]}) == {}
    assert "services" in validate_answers(form, {"consent": "yes", "age": 70,
                                                 "services": ["land", "other"]})
    written = tmp_path / "kobo_survey.yaml"  # the text is a form file as forms/ holds
    written.write_text(done.text, encoding="utf-8")
    assert comparable(load_instrument_file(written)) == comparable(form)


def test_are_other_spellings_of_the_languages_understood(tmp_path: Path) -> None:
    path = workbook(tmp_path / "langs.xlsx", [
        {"type": "select_one yn", "name": "q1", "label": "Agree?", "label::vi": "Đồng ý?",
         "label::Français (fr)": "D'accord ? {oui, non}: #1"}],
        [{"list_name": "yn", "name": "1", "label::Vietnamese": "Có", "label": "Yes"},
         {"list_name": "yn", "name": "2", "label::Vietnamese": "Không", "label": "No"}],
        {"form_id": "langs", "version": "1", "default_language": "English (en)"})
    form = read_xlsform(path).instrument
    assert form.languages == ("vi", "en", "fr")
    assert form.items[0].label == {"vi": "Đồng ý?", "en": "Agree?",
                                   "fr": "D'accord ? {oui, non}: #1"}
    assert form.items[0].choices[0].label == {"vi": "Có", "en": "Yes"}
    assert form.items[0].choice_codes == (1, 2)


def test_is_an_export_without_its_sipas_columns_still_read(tmp_path: Path) -> None:
    """An XLSForm of an older SIPAS (or one that Kobo saved again): "no answer" is the
    '<list>_na' list that adds the missing code to a list."""
    path = tmp_path / "desk.xlsx"
    write_xlsform(load_instrument("desk_evaluation"), path)
    book = load_workbook(path)
    for sheet in book.worksheets:
        for column in reversed(range(1, sheet.max_column + 1)):
            if str(sheet.cell(1, column).value).startswith("sipas::"):
                sheet.delete_cols(column)
    book.save(path)
    form = read_xlsform(path).instrument
    original = load_instrument("desk_evaluation")
    assert [i.code for i in form.items] == [i.code for i in original.items]
    for item, before in zip(form.items, original.items, strict=True):
        assert (item.na_allowed, item.missing_code) == (before.na_allowed, before.missing_code)
        assert item.choices == before.choices and item.relevant_text == before.relevant_text
        assert (item.min, item.max) == (before.min, before.max)
    assert form.item("overall").type == "select_one"  # no sipas::scale: no index
    assert form.missing_label == original.missing_label


def edit_cells(path: Path, name: str, **cells: str) -> None:
    """Change cells of the survey row of question ``name``, as someone would in Excel."""
    book = load_workbook(path)
    sheet = book["survey"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    row = next(r for r in range(2, sheet.max_row + 1)
               if sheet.cell(r, headers["name"]).value == name)
    for column, value in cells.items():
        sheet.cell(row, headers[column]).value = value
    book.save(path)


def test_is_an_edit_made_in_excel_read_rather_than_undone(tmp_path: Path) -> None:
    path = tmp_path / "services.xlsx"
    write_xlsform(load_instrument("sipas_services"), path)
    edit_cells(path, "e_fields_other", relevant="selected(${e_fields}, 1)")
    edit_cells(path, "a_sex", **{VI: "Giới tính của Anh/Chị"})
    form = read_xlsform(path).instrument
    assert form.item("e_fields_other").relevant_text == (
        "(${s_procedure_12m} = 1) and (selected(${e_fields}, 1))")  # the section's stays
    assert form.item("a_sex").label["vi"] == "Giới tính của Anh/Chị"
    desk = tmp_path / "desk.xlsx"
    write_xlsform(load_instrument("desk_evaluation"), desk)
    edit_cells(desk, "visits", constraint=". >= 1 and . <= 10")
    visits = read_xlsform(desk).instrument.item("visits")
    assert (visits.min, visits.max, visits.constraint_text) == (1, 10, None)


# --- refusals ------------------------------------------------------------------------------

def q(kind: str, name: str, **cells: str) -> dict[str, str]:
    return {"type": kind, "name": name, VI: f"Câu {name}", **cells}


REFUSALS = {
    "pulldata": ([q("integer", "a"), q("text", "b", relevant="pulldata('hh', 'n', 'id', ${a})"
                                       " = 'x'")],
                 ["survey sheet, row 3, column relevant: pulldata() cannot be carried into "
                  "SIPAS"]),
    "repeat": ([q("begin repeat", "people"), q("text", "person"), {"type": "end repeat"},
                q("note", "n", relevant="${person} = 'x'")],
               ["survey sheet, row 2, column type: begin repeat cannot be carried into SIPAS",
                "survey sheet, row 5, column relevant: ${person} is inside a repeat"]),
    "geopoint": ([q("geopoint", "gps")],
                 ["survey sheet, row 2, column type: type 'geopoint' cannot be carried"]),
    "image": ([q("image", "photo")], ["row 2, column type: type 'image' cannot be carried"]),
    "calculate": ([q("calculate", "c", calculation="1 + 1")],
                  ["row 2, column type: type 'calculate' cannot be carried"]),
    "duplicate": ([q("integer", "a"), q("integer", "a")],
                  ["survey sheet, row 3, column name: name 'a' is also used on row 2"]),
    "unknown list": ([q("select_one nope", "a")],
                     ["survey sheet, row 2, column type: choice list 'nope' is not on the "
                      "choices sheet"]),
    "conditional required": ([q("integer", "a"), q("integer", "b", required="${a} > 1")],
                             ["survey sheet, row 3, column required: required '${a} > 1' "
                              "cannot be carried"]),
    "or_other": ([q("select_one yes_no or_other", "a")],
                 ["survey sheet, row 2, column type: 'or_other' cannot be carried"]),
    "choice filter": ([q("select_one yes_no", "a", choice_filter="name = 'yes'")],
                      ["survey sheet, row 2, column choice_filter: choice_filter cannot be "
                       "carried"]),
    "upper-case name": ([q("integer", "Age")],
                        ["survey sheet, row 2, column name: name 'Age' must be 1-32 "
                         "lower-case"]),
    "no vietnamese": ([q("integer", "a"), {"type": "integer", "name": "b", EN: "Age"}],
                      ["survey sheet, row 3, column label::Tiếng Việt (vi): no Vietnamese "
                       "label"]),
    "later item": ([q("integer", "a", relevant="${b} > 1"), q("integer", "b")],
                   ["survey sheet, row 2, column relevant: relevant refers to ${b}, which "
                    "comes later"]),
    "path": ([q("integer", "a"), q("integer", "b", constraint=". < /data/a")],
             ["survey sheet, row 3, column constraint: the XPath path or operator '/' "
              "cannot be carried"]),
    "mod": ([q("integer", "a", constraint=". mod 2 = 0")],
            ["row 2, column constraint: 'mod' cannot be carried"]),
    "unclosed group": ([q("begin group", "g"), q("integer", "a")],
                       ["survey sheet, row 2, column type: begin group 'g' has no end group"]),
    "unknown language": ([q("integer", "a", **{"label::Klingon": "x"})],
                         ["survey sheet, row 1, column label::Klingon: cannot tell the "
                          "language of 'Klingon'"]),
    "bad choice name": ([q("select_one odd", "a")],
                        ["choices sheet, row 6, column name: choice name 'a b' must be"]),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_is_what_sipas_cannot_carry_refused_naming_sheet_row_and_column(
        tmp_path: Path, case: str) -> None:
    survey, said = REFUSALS[case]
    choices = [*YES_NO, {"list_name": "odd", "name": "a b", VI: "x"}]
    path = workbook(tmp_path / "form.xlsx", survey, choices, {"form_id": "f", "version": "1"})
    with pytest.raises(XLSFormError) as caught:
        read_xlsform(path)
    for line in said:
        assert line in str(caught.value), str(caught.value)
    assert len(caught.value.problems) == len(said), caught.value.problems


def test_is_a_workbook_that_is_no_xlsform_one_clear_line(tmp_path: Path) -> None:
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    other = Workbook()
    other.active.title = "questions"
    other.save(tmp_path / "other.xlsx")
    cases = {
        text: "notes.xlsx: not an Excel workbook (.xlsx)",
        tmp_path / "other.xlsx": "other.xlsx: no survey sheet (sheets found: questions)",
        workbook(tmp_path / "no_type.xlsx", [{"name": "a", VI: "x"}]):
            "no_type.xlsx: survey sheet, row 1: no 'type' column",
        workbook(tmp_path / "no_name.xlsx", [{"type": "integer", VI: "x"}]):
            "no_name.xlsx: survey sheet, row 1: no 'name' column",
        workbook(tmp_path / "english.xlsx", [{"type": "integer", "name": "a", EN: "Age"}]):
            "english.xlsx: survey sheet, row 1: no Vietnamese label column",
        workbook(tmp_path / "id.xlsx", [q("integer", "a")], (), {"form_id": "My-Form"}):
            "id.xlsx: settings sheet, row 2, column form_id: form_id 'My-Form' must be",
    }
    for path, said in cases.items():
        with pytest.raises(XLSFormError) as caught:
            read_xlsform(path)
        assert str(caught.value).startswith(said), str(caught.value)
        assert "\n" not in str(caught.value)


# --- the command line ----------------------------------------------------------------------

def test_does_sipas_xlsform_import_write_the_form_and_keep_an_existing_file(
        tmp_path: Path) -> None:
    runner = CliRunner()
    sheet = tmp_path / "desk.xlsx"
    assert runner.invoke(main, ["xlsform", "export", "desk_evaluation", "--out",
                                str(sheet)]).exit_code == 0
    out = tmp_path / "forms" / "desk_evaluation.yaml"
    out.parent.mkdir()
    done = runner.invoke(main, ["xlsform", "import", str(sheet), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "wrote desk_evaluation 2026.1 (10 items)" in done.output
    assert out.read_text(encoding="utf-8") == instrument_yaml(load_instrument("desk_evaluation"))
    out.write_text("edited", encoding="utf-8")
    again = runner.invoke(main, ["xlsform", "import", str(sheet), "--out", str(out)])
    assert again.exit_code == 1 and "exists; add --force" in again.output
    assert out.read_text(encoding="utf-8") == "edited"
    forced = runner.invoke(main, ["xlsform", "import", str(sheet), "--out", str(out),
                                  "--force"])
    assert forced.exit_code == 0 and out.read_text(encoding="utf-8") != "edited"


def test_is_a_bad_import_one_clear_message(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = workbook(tmp_path / "bad.xlsx", [q("geopoint", "gps")])
    text = tmp_path / "text.xlsx"
    text.write_text("hello", encoding="utf-8")
    for args, said in (([str(bad), "--out", str(tmp_path / "x.yaml")],
                        "bad.xlsx: survey sheet, row 2, column type: type 'geopoint'"),
                       ([str(text), "--out", str(tmp_path / "x.yaml")],
                        "not an Excel workbook"),
                       ([str(bad), "--out", str(tmp_path / "x.txt")], "must be a .yaml"),
                       ([str(bad), "--out", str(tmp_path / "no" / "x.yaml")],
                        "does not exist"),
                       ([str(tmp_path / "none.xlsx"), "--out", str(tmp_path / "x.yaml")],
                        "does not exist")):
        done = runner.invoke(main, ["xlsform", "import", *args])
        assert done.exit_code in (1, 2) and said in done.output, done.output
        assert "Traceback" not in done.output and done.exception is None or isinstance(
            done.exception, SystemExit)
    assert not (tmp_path / "x.yaml").exists()
