"""Can any string reach a CSV export as a spreadsheet formula, or come back changed?"""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from survey.services.data.cells import FORMULA_PREFIXES, neutralise_formula
from survey.services.data.export import write_csv

risky = st.one_of(
    st.text(),
    st.builds(lambda p, s: p + s, st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'"]),
              st.text()),
    st.sampled_from(["=HYPERLINK(\"http://x\")", "@SUM(A1)", "-2+3", "+84 912 345 678",
                     "Ấp Bàu Sen", "1e5", "-1", "\r\n=cmd|' /C calc'!A0", "Trả lời \"tốt\""]),
)


def _is_number(text: str) -> bool:
    """A plain number as a person types it (ASCII; a sign at most in front)."""
    if not text.isascii() or text[:1] in ("\t", "\r", "=", "@"):
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


@settings(max_examples=2000)
@given(st.lists(st.lists(risky, min_size=3, max_size=3), min_size=1, max_size=5))
def test_no_cell_starts_a_formula_and_everything_else_round_trips(rows: list[list[str]]) -> None:
    out = io.StringIO()
    write_csv(["a", "b", "c"], iter(rows), out)
    text = out.getvalue()
    assert text.startswith("\ufeff")
    back = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert back[0] == ["a", "b", "c"]
    for original, written in zip(rows, back[1:], strict=True):
        for cell_in, cell_out in zip(original, written, strict=True):
            if cell_out.startswith(FORMULA_PREFIXES):
                assert _is_number(cell_out)
            if cell_in.startswith(FORMULA_PREFIXES) and not _is_number(cell_in):
                assert cell_out == "'" + cell_in
            else:
                assert cell_out == cell_in


def test_numbers_stay_numbers() -> None:
    assert neutralise_formula("-1.5") == "-1.5"
    assert neutralise_formula("=1+1") == "'=1+1"


def test_look_alike_leaders_are_neutralised_too() -> None:
    for cell in ("\uff1d1+1", "\uff0bcmd", "\uff20SUM(A1)", "\u2212HYPERLINK(1)", "\ufe66x"):
        assert neutralise_formula(cell) == "'" + cell
    assert neutralise_formula("\uff0d\uff11") == "'\uff0d\uff11"  # fullwidth "-1": not ASCII
