"""Loading form files: every problem of a broken file is reported with file, line and item."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.instruments import (
    FormError,
    load_forms_dir,
    load_instrument,
    load_instrument_file,
    load_instrument_text,
)


def item_of(form: dict[str, Any], code: str) -> dict[str, Any]:
    for section in form["sections"]:
        for item in section["items"]:
            if item.get("code") == code:
                return item
    raise KeyError(code)


def line_text(path: Path, number: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[number - 1]


def item_lines(path: Path, code: str) -> set[int]:
    """Lines of every item block whose code is ``code`` (a block ends at the next item)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: set[int] = set()
    for start, line in enumerate(lines):
        if line.strip() == f"- code: {code}":
            indent = len(line) - len(line.lstrip())
            end = start + 1
            while end < len(lines) and len(lines[end]) - len(lines[end].lstrip()) > indent:
                end += 1
            found |= set(range(start + 1, end + 1))
    return found


def problems_of(path: Path) -> str:
    with pytest.raises(FormError) as caught:
        load_instrument_file(path)
    return str(caught.value)


def test_does_the_minimal_form_load(write_form: Callable[..., Path],
                                    form: dict[str, Any]) -> None:
    instrument = load_instrument_file(write_form(form))
    assert [i.code for i in instrument.items] == ["screen", "sat", "age"]
    assert instrument.elements[0].items == ("sat",)
    assert instrument.item("sat").missing_code == 9


def test_are_source_text_and_content_hash_the_exact_file(write_form: Callable[..., Path],
                                                         form: dict[str, Any]) -> None:
    path = write_form(form)
    instrument = load_instrument_file(path)
    text = path.read_text(encoding="utf-8")
    assert instrument.source_text == text
    assert instrument.content_hash == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_is_a_byte_order_mark_from_a_windows_editor_ignored(write_form: Callable[..., Path],
                                                             form: dict[str, Any]) -> None:
    text = yaml.safe_dump(form, sort_keys=False, allow_unicode=True)
    path = write_form("\ufeff" + text)
    assert load_instrument_file(path).source_text == text


# (mutation, item named in the message, fragment of the problem)
BAD_ITEMS: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("duplicate code", lambda f: item_of(f, "age").update(code="sat"), "sat", "used twice"),
    ("unknown type", lambda f: item_of(f, "age").update(type="numbr"), "age",
     "unknown type 'numbr'"),
    ("no vi label", lambda f: item_of(f, "age").update(label={"en": "Age"}), "age",
     "no Vietnamese"),
    ("empty vi label", lambda f: item_of(f, "age").update(label={"vi": " "}), "age",
     "label.vi must be non-empty"),
    ("duplicated choice", lambda f: item_of(f, "screen")["choices"].append(
        {"code": 1, "label": {"vi": "Lại có"}}), "screen", "choice code 1 appears twice"),
    ("unknown reference", lambda f: item_of(f, "sat").update(relevant="${screan} = 1"), "sat",
     "unknown item ${screan}"),
    ("later reference", lambda f: item_of(f, "sat").update(relevant="${age} > 30"), "sat",
     "comes later"),
    ("self reference", lambda f: item_of(f, "sat").update(relevant="${sat} = 1"), "sat",
     "refers to the item itself"),
    ("unparsable", lambda f: item_of(f, "sat").update(relevant="${screen} = = 1"), "sat",
     "cannot be parsed"),
    ("dot in relevant", lambda f: item_of(f, "sat").update(relevant=". = 1"), "sat",
     "only allowed in a constraint"),
    ("bad constraint", lambda f: item_of(f, "age").update(constraint=". >"), "age",
     "constraint '. >' cannot be parsed"),
    ("unknown element", lambda f: item_of(f, "sat").update(element="VI"), "sat",
     "unknown element 'VI'"),
    ("element on non-scale", lambda f: item_of(f, "age").update(element="I"), "age",
     "element is only for scale items"),
    ("min > max", lambda f: item_of(f, "age").update(min=60, max=18), "age",
     "min 60 is greater than max 18"),
    ("decimal min on integer", lambda f: item_of(f, "age").update(min=1.5), "age",
     "whole number"),
    ("choices missing", lambda f: item_of(f, "screen").pop("choices"), "screen",
     "needs 'choices'"),
    ("unknown choice list", lambda f: item_of(f, "screen").update(choices="yes_noo"),
     "screen", "unknown choice list 'yes_noo'"),
    ("typo in a key", lambda f: item_of(f, "sat").update(relevent="${screen} = 1"), "sat",
     "unknown key 'relevent'"),
    ("bad identifier", lambda f: item_of(f, "age").update(code="Tuổi"), "Tuổi",
     "lower-case letters"),
    ("reserved column", lambda f: item_of(f, "age").update(code="weight"), "weight",
     "already an export column"),
    ("unknown choice compared", lambda f: item_of(f, "sat").update(relevant="${screen} = 3"),
     "sat", "not one of its choice codes"),
    ("yes/no choice code", lambda f: item_of(f, "screen")["choices"].append(
        {"code": False, "label": {"vi": "Không biết"}}), "screen", "reads as a yes/no value"),
    ("missing code in range", lambda f: item_of(f, "age").update(na_allowed=True, min=1),
     "age", "missing code 9 lies inside the allowed range"),
    ("required note", lambda f: f["sections"][0]["items"].append(
        {"code": "n", "type": "note", "required": True, "label": {"vi": "Ghi chú"}}), "n",
     "a note takes no answer"),
    ("language not declared", lambda f: item_of(f, "age").update(
        label={"vi": "Tuổi", "fr": "Âge"}), "age", "language 'fr'"),
]


@pytest.mark.parametrize(("case", "mutate", "item", "fragment"),
                         BAD_ITEMS, ids=[c[0] for c in BAD_ITEMS])
def test_does_each_bad_item_give_a_form_error_naming_file_line_item_and_problem(
        write_form: Callable[..., Path], form: dict[str, Any], case: str,
        mutate: Callable[[dict[str, Any]], None], item: str, fragment: str) -> None:
    mutate(form)
    path = write_form(form)
    with pytest.raises(FormError) as caught:
        load_instrument_file(path)
    [problem] = [p for p in caught.value.problems if fragment in p.message]
    assert (problem.file, problem.item) == (str(path), item)
    assert problem.line in item_lines(path, item)
    assert f"{path}:{problem.line}: item {item!r}: " in str(caught.value)


def test_does_selected_on_a_number_item_name_the_problem(write_form: Callable[..., Path],
                                                         form: dict[str, Any]) -> None:
    form["sections"][0]["items"].append(
        {"code": "later", "type": "text", "label": {"vi": "x"},
         "relevant": "selected(${age}, 1)"})
    assert "selected() needs a choice item, but ${age} is integer" in \
        problems_of(write_form(form))


def test_are_all_problems_of_a_file_reported_at_once(write_form: Callable[..., Path],
                                                     form: dict[str, Any]) -> None:
    item_of(form, "screen").update(type="choose_one")
    item_of(form, "sat").update(element="X", relevant="${nope} = 1")
    item_of(form, "age").update(min=5, max=1)
    path = write_form(form)
    with pytest.raises(FormError) as caught:
        load_instrument_file(path)
    assert len(caught.value.problems) == 4
    assert {p.item for p in caught.value.problems} == {"screen", "sat", "age"}
    assert str(caught.value).startswith(f"{path}: 4 problems in form")


@pytest.mark.parametrize(("mutate", "fragment"), [
    (lambda f: f.update(version=2023.10), "must be quoted text"),
    (lambda f: f.update(kind="census"), "kind 'census' must be one of"),
    (lambda f: f.update(code="Mini Form"), "instrument code 'Mini Form'"),
    (lambda f: f.pop("title"), "title is missing"),
    (lambda f: f.update(satisfied_codes=[4, 6]), "satisfied_codes [6] are not scale codes"),
    (lambda f: f.update(dissatisfied_codes=[1, 4]), "overlap"),
    (lambda f: f.update(missing_code=5), "missing_code 5 is also a scale code"),
    (lambda f: f.update(languages=["en"]), "must include 'vi'"),
    (lambda f: f["elements"].append({"code": "II", "label": {"vi": "Thủ tục"}}),
     "element 'II' has no items"),
    (lambda f: f.update(sections=[]), "sections must be a non-empty list"),
    (lambda f: f.update(colour="blue"), "unknown key 'colour' in the instrument"),
])
def test_are_instrument_level_problems_named(write_form: Callable[..., Path],
                                             form: dict[str, Any],
                                             mutate: Callable[[dict[str, Any]], None],
                                             fragment: str) -> None:
    mutate(form)
    path = write_form(form)
    message = problems_of(path)
    assert fragment in message
    assert message.splitlines()[1].strip().startswith(str(path))


def test_does_invalid_yaml_name_the_file_and_line(write_form: Callable[..., Path]) -> None:
    path = write_form("code: mini\nversion: '1'\nsections:\n  - code: a\n   items: [\n")
    with pytest.raises(FormError) as caught:
        load_instrument_file(path)
    problem = caught.value.problems[0]
    assert problem.file == str(path) and problem.line == 5
    assert f"{path}:5: invalid YAML" in str(caught.value)


def test_is_a_duplicated_yaml_key_reported_with_its_line(write_form: Callable[..., Path],
                                                         form: dict[str, Any]) -> None:
    text = yaml.safe_dump(form, sort_keys=False, allow_unicode=True)
    text = text.replace("  - code: age\n", "  - code: age\n    label: Tuổi lần hai\n")
    path = write_form(text)
    with pytest.raises(FormError) as caught:
        load_instrument_file(path)
    [problem] = caught.value.problems
    assert problem.item == "age" and "key 'label' appears twice" in problem.message
    labels = [n for n in item_lines(path, "age") if "label:" in line_text(path, n)]
    assert problem.line == labels[1]  # the second one is the duplicate


def test_is_an_unquoted_yes_in_flow_style_reported_not_silently_kept(
        write_form: Callable[..., Path], form: dict[str, Any]) -> None:
    item_of(form, "screen")["choices"] = "yes_no"
    form["choice_lists"] = {"yes_no": [{"code": "yes", "label": {"vi": "Có"}},
                                       {"code": "no", "label": {"vi": "Không"}}]}
    text = yaml.safe_dump(form, sort_keys=False, allow_unicode=True).replace("'yes'", "yes") \
        .replace("'no'", "no")
    message = problems_of(write_form(text))
    assert "reads as a yes/no value" in message


def test_do_section_defaults_and_relevant_apply_to_every_item(
        write_form: Callable[..., Path], form: dict[str, Any]) -> None:
    form["sections"].append({
        "code": "crit", "title": {"vi": "Tiêu chí"}, "relevant": "${screen} = 1",
        "defaults": {"type": "scale", "element": "I", "na_allowed": True},
        "items": [{"code": "c1", "label": {"vi": "Một"}},
                  {"code": "c2", "label": {"vi": "Hai"}, "relevant": "${c1} >= 4"}]})
    instrument = load_instrument_file(write_form(form))
    assert instrument.elements[0].items == ("sat", "c1", "c2")
    assert instrument.item("c1").relevant_text == "${screen} = 1"
    assert instrument.item("c2").relevant_text == "(${screen} = 1) and (${c1} >= 4)"
    assert instrument.item("c2").type == "scale" and instrument.item("c2").na_allowed


def test_does_a_forms_directory_load_keyed_by_code_and_report_every_file(
        write_form: Callable[..., Path], form: dict[str, Any]) -> None:
    first = write_form(form, "a.yaml")
    form["code"] = "other"
    write_form(form, "b.yml")
    write_form("not a form", "notes.txt")
    assert sorted(load_forms_dir(first.parent)) == ["mini", "other"]
    write_form(dict(form, code="mini"), "c.yaml")
    item_of(form, "age")["type"] = "bogus"
    write_form(form, "d.yaml")
    with pytest.raises(FormError) as caught:
        load_forms_dir(first.parent)
    message = str(caught.value)
    assert "c.yaml: instrument code 'mini' is also used by" in message
    assert "d.yaml" in message and "unknown type 'bogus'" in message


def test_does_sipas_forms_choose_the_forms_directory(write_form: Callable[..., Path],
                                                     form: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_form(form)
    monkeypatch.setenv("SIPAS_FORMS", str(path.parent))
    assert load_instrument("mini").code == "mini"
    with pytest.raises(KeyError, match="no instrument 'sipas_services' in forms"):
        load_instrument("sipas_services")


def test_is_a_missing_forms_directory_a_form_error(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="forms directory not found"):
        load_forms_dir(tmp_path / "nowhere")


def test_is_a_missing_file_a_form_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="nowhere.yaml: cannot read"):
        load_instrument_file(tmp_path / "nowhere.yaml")


def test_is_form_error_a_value_error_so_callers_can_catch_bad_input_generally(
        write_form: Callable[..., Path]) -> None:
    with pytest.raises(ValueError, match="invalid YAML"):
        load_forms_dir(write_form("code: [unclosed\n").parent)


def test_does_importing_the_package_stay_free_of_flask_and_the_database() -> None:
    import subprocess
    import sys

    code = ("import sys, survey.instruments; "
            "bad = [m for m in ('flask', 'sqlmodel', 'sqlalchemy') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_does_an_unquoted_comma_in_a_flow_label_get_a_helpful_hint(
        write_form: Callable[..., Path], form: dict[str, Any]) -> None:
    text = yaml.safe_dump(form, sort_keys=False, allow_unicode=True)
    text += "choice_lists:\n  levels:\n    - {code: 1, label: {vi: Cấp xã, phường, en: x}}\n"
    message = problems_of(write_form(text))
    assert "stray key 'phường': an unquoted ', ' inside { } splits the text" in message


_KEYS = ["code", "version", "kind", "title", "vi", "en", "scale", "satisfied_codes",
         "missing_code", "elements", "choice_lists", "sections", "items", "type", "label",
         "choices", "required", "relevant", "constraint", "min", "max", "element",
         "na_allowed", "defaults", "languages"]
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.floats(allow_nan=True),
                     st.sampled_from(["scale", "select_one", "integer", "note", "q1", "I", "vi",
                                      "${q1} = 1", ". > 1", "selected(${q1}, 1)", "x y"]))
_YAMLISH = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=6)),
    max_leaves=30)


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from(_KEYS), _YAMLISH, max_size=8))
def test_does_any_structure_give_an_instrument_or_a_form_error_never_a_crash(
        data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        load_instrument_text(text, "fuzz.yaml")
    except FormError as exc:
        assert exc.problems and all(p.file == "fuzz.yaml" for p in exc.problems)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indexes) into a nested form, parents first."""
    found = [prefix]
    children = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else []
    for key, child in children:
        found.extend(_paths(child, (*prefix, key)))
    return found


@settings(deadline=None)
@given(data=st.data())
def test_does_any_single_corruption_of_a_valid_form_give_a_form_error_or_load(
        make_form: Callable[[], dict[str, Any]], data: st.DataObject) -> None:
    form = make_form()
    path = data.draw(st.sampled_from(_paths(form)[1:]))
    parent = form
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(_YAMLISH)
    try:
        load_instrument_text(yaml.safe_dump(form, allow_unicode=True), "fuzz.yaml")
    except FormError as exc:
        assert exc.problems


def test_forms_parse_with_libyaml_to_the_same_mappings_and_lines_as_pure_python() -> None:
    """Forms are parsed by LibYAML (8x quicker, every command and worker loads them): the
    same values and the same line on every mapping as PyYAML's own parser, and a refused
    file keeps PyYAML's fuller message (the alias's name)."""
    from survey.instruments import yaml_source

    assert issubclass(yaml_source._QuickFormLoader, yaml.CSafeLoader)

    def lines(quick: object, pure: object) -> None:
        if isinstance(pure, dict):
            assert isinstance(quick, yaml_source.LineDict) and quick.line == pure.line
            assert quick.duplicates == pure.duplicates
            for key in pure:
                lines(quick[key], pure[key])
        elif isinstance(pure, list):
            for q, p in zip(quick, pure, strict=True):
                lines(q, p)

    for form in sorted((Path(__file__).resolve().parents[2] / "forms").glob("*.yaml")):
        text = form.read_text(encoding="utf-8")
        quick = yaml_source.load_yaml(text)
        pure = yaml.load(text, Loader=yaml_source._FormLoader)  # noqa: S506
        assert quick == pure
        lines(quick, pure)
    with pytest.raises(yaml_source.YamlSyntaxError) as caught:
        yaml_source.load_yaml("code: x\nlabel: &a 1\nother: *b\n")
    assert str(caught.value) == "invalid YAML: found undefined alias 'b'"
    assert caught.value.line == 3
