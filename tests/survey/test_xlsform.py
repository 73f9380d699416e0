"""The shipped questionnaires as XLSForms that pyxform (ODK's reference converter) accepts."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from survey.cli import main
from survey.instruments import load_instrument

XF = "{http://www.w3.org/2002/xforms}"


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
    from survey.instruments.xlsform import xlsform_rows

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
        done = CliRunner().invoke(main, ["xlsform", *args])
        assert done.exit_code != 0 and said in done.output, done.output
        assert "Traceback" not in done.output
