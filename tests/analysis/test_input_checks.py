"""Input that used to pass silently or speak Arrow now gets one clear line (issue 19)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis import io
from analysis.cli import estimate_command, index_command

SMALL = Path(__file__).resolve().parent / "reference" / "sipas_small.csv"
DESIGN = ["--weight", "weight", "--strata", "stratum2", "--psu", "psu"]


def _rows() -> tuple[list[str], list[list[str]]]:
    with SMALL.open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    return table[0], table[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def _fails(command, args, *phrases: str) -> str:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(command, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    line = result.output.strip()
    assert line.startswith("error: ") and "\n" not in line and "Traceback" not in line
    for phrase in phrases:
        assert phrase in line, line
    return line


def test_all_zero_weights_are_refused_not_reported_as_no_answers(tmp_path: Path) -> None:
    header, rows = _rows()
    w = header.index("weight")
    data = _write(tmp_path / "zero.csv", header, [[*r[:w], "0", *r[w + 1:]] for r in rows])
    _fails(estimate_command, [data, "--var", "I1", "--satisfied", "4,5", *DESIGN],
           "every weight is zero")


def test_a_column_name_twice_in_the_header_is_refused(tmp_path: Path) -> None:
    header, rows = _rows()
    data = _write(tmp_path / "dup.csv", [*header, "I1"], [[*r, "1"] for r in rows])
    _fails(estimate_command, [data, "--var", "I1", "--satisfied", "4,5", *DESIGN],
           "'I1' appears twice", "columns 7 and 14")


@pytest.mark.parametrize(("value", "shown"), [("4.5", "4.5"), ("-4", "-4")])
def test_an_answer_that_is_not_a_code_is_named_not_dropped(tmp_path: Path, value: str,
                                                           shown: str) -> None:
    header, rows = _rows()
    i2 = header.index("I2")
    rows[5][i2] = value
    data = _write(tmp_path / "odd.csv", header, rows)
    for command, args in ((index_command, ["--element", "I=I1,I2,I3"]),
                          (estimate_command, ["--var", "I2", "--satisfied", "4,5"])):
        _fails(command, [data, *args, *DESIGN], "'I2'", "data row 6", f"{shown} is not an "
               "answer code")


def test_a_typed_negative_among_empty_cells_is_refused(tmp_path: Path) -> None:
    """Whole numbers are read as 16-bit codes with −1 for an empty cell: a typed −1 among
    empty cells is still caught."""
    header, rows = _rows()
    i1 = header.index("I1")
    assert any(r[i1] == "" for r in rows)  # the file has empty answers
    rows[2][i1] = "-1"
    data = _write(tmp_path / "neg.csv", header, rows)
    _fails(index_command, [data, "--element", "I=I1,I2,I3", *DESIGN], "'I1'",
           "negative number")


def test_a_target_for_a_share_must_be_a_share() -> None:
    for command, args in ((index_command, ["--element", "I=I1,I2,I3"]),
                          (estimate_command, ["--var", "I1", "--satisfied", "4,5"])):
        _fails(command, [SMALL, *args, *DESIGN, "--target", "2"], "between 0 and 1",
               "got 2")
    mean = CliRunner().invoke(estimate_command, [str(SMALL), "--var", "I1", *DESIGN,
                                                 "--target", "3.5", "--format", "csv"])
    assert mean.exit_code == 0, mean.output  # a mean score's target is not a share


def test_an_item_nobody_answered_says_so_on_every_row(tmp_path: Path) -> None:
    header, rows = _rows()
    i3 = header.index("I3")
    data = _write(tmp_path / "none.csv", header, [[*r[:i3], "", *r[i3 + 1:]] for r in rows])
    out = CliRunner().invoke(index_command, [str(data), "--element", "I=I3", *DESIGN,
                                             "--format", "csv"])
    assert out.exit_code == 0, out.output
    notes = [row["note"] for row in csv.DictReader(out.output.splitlines())]
    assert notes == ["no valid answers"] * 3  # criterion, element, overall (was "df ≤ 0")


def test_margins_that_add_up_differently_are_warned_about(tmp_path: Path) -> None:
    """R's rake warns too; before, the run converged silently with one margin unmet."""
    margins = tmp_path / "m.csv"
    margins.write_text("variable,value,total\ndistrict,D1,5200\ndistrict,D2,3400\n"
                       "district,D3,2400\nstratum2,S1,1800\nstratum2,S2,2500\n"
                       "stratum2,S3,1700\nstratum2,S4,3000\nstratum2,S5,9000\n",
                       encoding="utf-8")
    out = CliRunner().invoke(estimate_command, [str(SMALL), "--var", "I1", "--satisfied",
                                                "4,5", *DESIGN, "--rake", str(margins),
                                                "--format", "csv"])
    assert out.exit_code == 0
    assert "warning: the margins' grand totals differ (district 11,000, stratum2 18,000)" \
        in out.output
    fine = CliRunner().invoke(estimate_command, [str(SMALL), "--var", "I1", "--satisfied",
                                                 "4,5", *DESIGN, "--rake",
                                                 str(SMALL.parent / "issue19_margins.csv")])
    assert fine.exit_code == 0 and "warning" not in fine.output


def test_a_line_longer_than_a_block_is_read_or_refused_in_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(io, "BLOCK_BYTES", 1024)  # a small block: a 5 kB cell straddles
    lines = ["a,b,psu"] + [f"{i % 5},x,{i % 7}" for i in range(400)]
    lines.insert(200, '1,"' + "y" * 5000 + '",2')
    data = tmp_path / "long.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = CliRunner().invoke(estimate_command, [str(data), "--var", "a", "--psu", "psu",
                                                "--format", "csv"])
    assert out.exit_code == 0, out.output  # read again in bigger blocks
    assert out.output.splitlines()[1].split(",")[2] == "401"
    monkeypatch.setattr(io, "LONGEST_LINE", 1024)  # and when no bigger block is allowed
    line = _fails(estimate_command, [data, "--var", "a", "--psu", "psu"], "longer than")
    assert "block size" not in line


@pytest.mark.parametrize(("given", "phrase"), [("1.5", "between 0 and 1"), ("0", "between 0 and 1"),
                                                ("half", "numbers like"), ("nan", "numbers like"),
                                                ("", "numbers like")])
def test_quantiles_must_be_shares(given: str, phrase: str) -> None:
    from analysis.cli import quantile_command

    _fails(quantile_command, [SMALL, "--var", "I1", *DESIGN, "--quantiles", given], phrase)


def test_compare_needs_domains_or_a_previous_round() -> None:
    from analysis.cli import compare_command

    _fails(compare_command, [SMALL, "--var", "I1", *DESIGN], "--by", "--previous")
    _fails(compare_command, [SMALL, "--var", "I1", *DESIGN, "--by", "district", "--versus",
                             "D9"], "'D9' is not a value of district")


def test_a_model_says_what_is_wrong_with_its_predictors(tmp_path: Path) -> None:
    from analysis.cli import model_command

    base = [SMALL, "--outcome", "I1", *DESIGN]
    _fails(model_command, base, "at least one --predictor")
    _fails(model_command, [*base, "--predictor", "I1"], "not as the outcome")
    _fails(model_command, [*base, "--predictor", "district", "--factor", "district"],
           "appear once")
    header, rows = _rows()
    rows = [[*r, "1"] for r in rows]
    same = _write(tmp_path / "one.csv", [*header, "sex"], rows)
    _fails(model_command, [same, "--outcome", "I1", *DESIGN, "--factor", "sex"],
           "fewer than two categories")
    twice = _write(tmp_path / "twice.csv", [*header, "w2"],
                   [[*r[:-1], r[header.index("weight")]] for r in rows])
    _fails(model_command, [twice, "--outcome", "I1", *DESIGN, "--predictor", "weight",
                           "--predictor", "w2"], "collinear")


def test_a_test_of_association_needs_two_sides(tmp_path: Path) -> None:
    from analysis.cli import association_command

    _fails(association_command, [SMALL, "--var", "I1", *DESIGN], "--by")
    header, rows = _rows()
    one = _write(tmp_path / "one.csv", [*header, "g"], [[*r, "x"] for r in rows])
    _fails(association_command, [one, "--var", "I1", *DESIGN, "--by", "g"],
           "at least two categories")


def test_replicate_weights_refuse_what_they_cannot_carry(tmp_path: Path) -> None:
    from analysis.cli import replicates_command

    out = tmp_path / "r.csv"
    _fails(replicates_command, [SMALL, "--weight", "weight", "--out", out], "--psu")
    _fails(replicates_command, [SMALL, "--weight", "weight", "--strata", "stratum", "--psu",
                                "psu", "--out", out], "only one PSU")
    _fails(replicates_command, [SMALL, *DESIGN, "--out", SMALL], "new file")
    _fails(estimate_command, [SMALL, "--var", "I1", *DESIGN, "--repweights", "rep_"],
           "leave out --strata")
    _fails(estimate_command, [SMALL, "--var", "I1", "--weight", "weight", "--repweights",
                              "rep_"], "replicates.json is missing")


def test_every_new_command_writes_csv(tmp_path: Path) -> None:
    """CSV is offered by every analysis command: a model's coefficients and small areas
    have no domain column, which the CSV writer used to add and then fail on."""
    import csv as csv_module

    from analysis.cli import (
        association_command,
        compare_command,
        model_command,
        quantile_command,
        smallarea_command,
    )

    ref = SMALL.parent
    cases = [
        (model_command, [ref / "issue19_compare.csv", "--outcome", "I1", "--predictor",
                         "district", *DESIGN], "term"),
        (smallarea_command, [ref / "smallarea_areas.csv", "--area", "commune", "--direct",
                             "direct", "--vardir", "vardir", "--aux", "desk_share"], "area"),
        (quantile_command, [ref / "issue19_compare.csv", "--var", "minutes", *DESIGN], "name"),
        (compare_command, [ref / "issue19_compare.csv", "--var", "I1", "--satisfied", "4,5",
                           "--by", "district", *DESIGN], "name"),
        (association_command, [ref / "issue19_compare.csv", "--var", "I2", "--by",
                               "district", *DESIGN], "variable"),
    ]
    for command, args, first in cases:
        out = CliRunner().invoke(command, [str(a) for a in args] + ["--format", "csv"])
        assert out.exit_code == 0, (command.name, out.output)
        rows = list(csv_module.DictReader(out.output.splitlines()))
        assert rows and first in rows[0], command.name
