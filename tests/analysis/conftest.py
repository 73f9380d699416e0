"""Shared fixtures: R's api data (../shared/reference) and the pinned R values."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
API = HERE.parents[1] / ".." / "shared" / "reference" / "api"
SMALL = HERE / "reference" / "sipas_small.csv"


@pytest.fixture(scope="session")
def api_dir() -> Path:
    if not (API / "apistrat.csv").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"reference data missing at {API}")
        pytest.skip(f"R's api data not found at {API} (clone shared/ beside the repo)")
    return API


@pytest.fixture(scope="session")
def r_expected() -> dict[str, float]:
    """Values written by tests/analysis/reference/r_reference.R (the R call is in the file)."""
    with (HERE / "reference" / "r_expected.csv").open(encoding="utf-8") as fh:
        return {row["key"]: float(row["value"]) for row in csv.DictReader(fh)}
