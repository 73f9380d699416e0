"""Does ``sipas index`` read big files the lean way and still give exactly the same numbers?

Issue 14: ten million rows took 7.1 GB, mostly answer codes held as floats and float
checks. Codes are now read as 16-bit integers, weights as declared floats, columns freed as
they are converted; any value that does not fit makes a second, plain read. These tests
pin that the lean path changes no number and no error message (the 10M-row figures are in
``benchmarks/bench_index.py --rows 10080000 --psus 400 --minimal``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from analysis.cli import index_command
from analysis.engine import slots_of
from analysis.io import read_csv

SMALL = Path(__file__).resolve().parent / "reference" / "sipas_small.csv"
ITEMS = ["I1", "I2", "I3", "II1", "II2", "V1", "V2"]
ARGS = ["--element", "I=I1,I2,I3", "--element", "II=II1,II2", "--element", "V=V1,V2",
        "--weight", "weight", "--strata", "stratum2", "--psu", "psu", "--by", "district",
        "--format", "json"]


def _index(path: Path, *extra: str) -> dict:
    r = CliRunner().invoke(index_command, [str(path), *ARGS, *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8, np.uint16, np.int32, np.int64])
def test_slots_of_integer_codes_equal_the_float_path(dtype) -> None:
    rng = np.random.default_rng(5)
    lo = 0 if np.dtype(dtype).kind == "u" else -130 if dtype != np.int8 else -128
    hi = 127 if dtype == np.int8 else 300
    values = rng.integers(lo, hi, 5000).astype(dtype)
    for top in (5, 9, 254, 1000):
        got = slots_of(values, top)
        assert np.array_equal(got, slots_of(values.astype(float), top)), (dtype, top)
        assert got.dtype == (np.uint8 if top < 255 else np.int64)


def test_slots_of_floats_keep_missing_halves_negatives_and_infinities_out() -> None:
    v = np.array([np.nan, 1, 2.5, -1, 9, np.inf, -np.inf, 0, 5, 6])
    assert slots_of(v, 5).tolist() == [0, 2, 0, 0, 0, 0, 0, 1, 6, 0]


def test_codes_are_read_as_small_integers_when_they_are_whole(tmp_path: Path) -> None:
    table = read_csv(SMALL, ITEMS, code_columns=ITEMS, number_columns=["weight"])
    assert table.codes("I1").dtype == np.int16
    plain = read_csv(SMALL, ITEMS)
    for item in ITEMS:
        lean, full = table.codes(item), plain.numeric(item)
        assert np.array_equal(np.where(lean < 0, np.nan, lean), full, equal_nan=True)


def test_a_code_that_is_not_whole_reads_the_file_plainly_and_is_refused(
    tmp_path: Path
) -> None:
    """4.5 cannot be a 16-bit integer: the second read gives floats, and 4.5 is no code."""
    lines = SMALL.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    at = header.index("I1")
    cells = lines[1].split(",")
    cells[at] = "4.5"
    odd = tmp_path / "odd.csv"
    odd.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    table = read_csv(odd, ["I1"], code_columns=["I1"])
    assert table.codes("I1").dtype == np.float64 and table.codes("I1")[0] == 4.5
    # 4.5 is not an answer code: said, not silently taken as missing (issue 19)
    r = CliRunner().invoke(index_command, [str(odd), *ARGS])
    assert r.exit_code == 1 and "data row 1: 4.5 is not an answer code" in r.output


def test_a_word_in_the_weight_column_gets_the_same_message_as_before(tmp_path: Path) -> None:
    lines = SMALL.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("weight")] = "nhiều"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([lines[0], *lines[1:3], ",".join(cells), *lines[4:]]) + "\n",
                   encoding="utf-8")
    r = CliRunner().invoke(index_command, [str(bad), *ARGS])
    assert r.exit_code == 1
    assert r.output.strip() == "error: column 'weight' has values that are not numbers"


def test_the_lean_read_gives_the_numbers_of_the_plain_one(monkeypatch) -> None:
    """The whole ``sipas index`` output with declared types equals the inferred read's."""
    import analysis.io as io

    lean = _index(SMALL, "--target", "0.8")
    original = io.read_csv

    def plain(path, columns=None, text_columns=(), code_columns=(), number_columns=()):
        return original(path, columns, text_columns)

    monkeypatch.setattr(io, "read_csv", plain)
    assert _index(SMALL, "--target", "0.8") == lean


def test_import_ahead_imports_in_a_thread_and_leaves_a_missing_module_to_the_caller(
) -> None:
    """A command reading a round imports what its estimate needs while the database
    works (analysis.io.import_ahead): the modules are there once the thread is joined,
    and a module that cannot be imported stops the thread quietly, not the command."""
    from tests.support import fresh_python

    script = ("import sys, threading\n"
              "from analysis.io import AHEAD, import_ahead\n"
              "assert 'pandas' not in sys.modules and 'scipy.special' not in sys.modules\n"
              "t = import_ahead()\n"
              "assert t.name == 'sipas-import-ahead' and t is not threading.current_thread()\n"
              "t.join()\n"
              "print(all(m in sys.modules for m in AHEAD))\n"
              "t = import_ahead(('no_such_module_sipas', 'colorsys'))\n"
              "t.join()\n"
              "print('colorsys' in sys.modules)\n")
    assert fresh_python(script) == ["True", "False"]  # stopped at the first failure
