"""Does ``sipas estimate`` / ``sipas index`` keep the CLI contract of issue 5?"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.cli import estimate_command, index_command

SMALL = Path(__file__).resolve().parent / "reference" / "sipas_small.csv"
DESIGN = ["--weight", "weight", "--strata", "stratum2", "--psu", "psu"]
ELEMENTS = ["--element", "I=I1,I2,I3", "--element", "II=II1,II2", "--element", "V=V1,V2"]


def invoke(cmd, args):
    return CliRunner().invoke(cmd, [str(a) for a in args])


def test_does_analysis_import_nothing_of_the_app():
    """Imports run downhill: survey/ may use analysis/, never the other way round."""
    import ast

    root = Path(__file__).resolve().parents[2] / "analysis"
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "survey"]
    assert found == []


def test_do_the_commands_import_neither_flask_nor_sqlmodel():
    code = (
        "import sys; from click.testing import CliRunner; from survey.cli import main; "
        f"r = CliRunner().invoke(main, ['index', {str(SMALL)!r}, '--element', 'I=I1,I2', "
        "'--format', 'json']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlmodel')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_index_json_has_the_contract_shape_whole_sample_first():
    r = invoke(index_command, [SMALL, *ELEMENTS, *DESIGN, "--by", "district", "--format",
                               "json", "--target", "0.8"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert set(body) == {"design", "estimates"}
    est = body["estimates"]
    keys = {"indicator", "level", "domain", "n", "estimate", "se", "ci_low", "ci_high", "df",
            "deff", "note", "target", "verdict", "p_value"}
    assert keys <= set(est[0])
    assert est[0]["domain"] == {} and est[-1]["domain"] == {"district": "D3"}
    assert [e["level"] for e in est[:11]] == ["criterion"] * 7 + ["element"] * 3 + ["overall"]
    assert est[0]["verdict"] in ("above", "below", "inconclusive")


def test_estimate_table_is_in_percent_with_bilingual_headers():
    r = invoke(estimate_command, [SMALL, "--var", "I1", "--satisfied", "4,5", *DESIGN])
    assert r.exit_code == 0, r.output
    head = r.output.splitlines()[0]
    assert "Ước lượng / Estimate" in head and "Miền / Domain" in head
    assert " %" in r.output.splitlines()[2]


def test_estimate_csv_and_mean_of_a_numeric_column():
    r = invoke(estimate_command, [SMALL, "--var", "weight", *DESIGN, "--format", "csv"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("variable,domain,n,estimate,se,ci_low,ci_high,df,deff")
    assert len(lines) == 2


@pytest.mark.parametrize("args,message", [
    (["--var", "nope"], "column 'nope' is not in"),
    (["--var", "I1", "--weight", "psu"], "not numbers"),
    (["--var", "I1", "--strata", "stratum", "--psu", "psu"], "Stratum (S6) has only one PSU"),
    (["--var", "I1", "--satisfied", "4,x"], "--satisfied must be integer codes"),
])
def test_bad_input_gives_one_line_and_non_zero_exit(args, message):
    r = invoke(estimate_command, [SMALL, *args])
    assert r.exit_code != 0
    assert message in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert "Traceback" not in r.output


def test_negative_weight_and_empty_domain_are_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("\ufeffw,y,tỉnh,empty\n-1,1,Tây Ninh,\n2,3,Tây Ninh,\n", encoding="utf-8")
    r = invoke(estimate_command, [bad, "--var", "y", "--weight", "w"])
    assert r.exit_code == 1 and "negative" in r.output
    r = invoke(estimate_command, [bad, "--var", "y", "--by", "empty"])
    assert r.exit_code == 1 and "empty" in r.output


def test_a_bom_file_with_vietnamese_values_is_read():
    r = invoke(estimate_command, [_bom_file(), "--var", "y", "--by", "tỉnh", "--format",
                                  "json"])
    assert r.exit_code == 0, r.output
    est = json.loads(r.output)["estimates"]
    assert [e["domain"] for e in est] == [{}, {"tỉnh": "Hà Nội"}, {"tỉnh": "Tây Ninh"}]


def _bom_file() -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "bom.csv"
    path.write_text("\ufeffy,tỉnh\n1,Tây Ninh\n3,Tây Ninh\n2,Hà Nội\n4,Hà Nội\n",
                    encoding="utf-8")
    return path


def test_db_and_a_file_together_are_refused():
    from survey.commands.analysis import index_command as app_index_command

    r = invoke(app_index_command, [SMALL, *ELEMENTS, "--db"])
    assert r.exit_code == 1 and "either DATA.csv or --db" in r.output
