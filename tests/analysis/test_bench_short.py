"""Does the benchmark's command run on a 20k-row export and agree with the dense slow path?

The slow path builds the full (n, k) influence matrix R's ``svyrecvar`` sees (the route
calibrated designs take); an identity calibration forces it.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from make_data import ELEMENTS, ITEMS, element_options, generate  # noqa: E402

from analysis.design import make_design  # noqa: E402
from analysis.estimate import Domains  # noqa: E402
from analysis.index import Element, sipas_index  # noqa: E402
from analysis.io import read_csv  # noqa: E402


class Identity:
    """A calibration that changes nothing, to route the variance through the dense path."""

    def residualize(self, x: np.ndarray) -> np.ndarray:
        return x


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "sipas_20k.csv"
    generate(path, 20_000, strata=8, psus=5)
    return path


def test_benchmark_command_runs_and_matches_the_slow_path(data):
    sipas = Path(sys.executable).with_name("sipas")
    cmd = [str(sipas), "index", str(data)]
    for e in element_options():
        cmd += ["--element", e]
    cmd += ["--weight", "weight", "--strata", "stratum", "--psu", "psu", "--by", "stratum",
            "--format", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    fast = json.loads(out.stdout)["estimates"]
    assert len(fast) == 9 * (len(ITEMS) + len(ELEMENTS) + 1)

    t = read_csv(data, text_columns=["stratum", "psu"])
    d = make_design(t.n, weights=t.numeric("weight"), strata=t.categorical("stratum"),
                    clusters=[t.categorical("psu")])
    slow_design = dataclasses.replace(d, calibrations=(Identity(),))
    els, pos = [], 0
    for name, k in ELEMENTS.items():
        els.append(Element(name, tuple(ITEMS[pos:pos + k])))
        pos += k
    slow = sipas_index(slow_design, {c: t.numeric(c) for c in ITEMS}, els,
                       Domains.of("stratum", t.categorical("stratum")))
    for a, b in zip(fast, slow, strict=True):
        assert a["indicator"] == b.name and a["df"] == b.df
        assert a["estimate"] == pytest.approx(b.estimate, rel=1e-9)
        assert a["se"] == pytest.approx(b.se, rel=1e-9)
