"""Helpers shared by the tests: environment checks that skip locally but fail in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = Path("/usr/bin/chromium")
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def unavailable(reason: str) -> None:
    """Skip on a bare developer machine; under CI=true the missing piece is a failure."""
    if IN_CI:
        pytest.fail(f"CI must run this test, but: {reason}")
    pytest.skip(reason)


def reference_path(*parts: str) -> Path:
    path = SHARED_REFERENCE.joinpath(*parts)
    if not path.exists():
        unavailable(f"reference data {path} is missing (clone shared/ beside the repo)")
    return path


def artifact_dir(tmp_path: Path, feature: str = "") -> Path:
    """Screenshots go to $SIPAS_TEST_ARTIFACTS/<feature> (CI keeps it), else the test's tmp."""
    target = Path(os.environ.get("SIPAS_TEST_ARTIFACTS", tmp_path)) / feature
    target.mkdir(parents=True, exist_ok=True)
    return target
