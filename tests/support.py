"""Helpers shared by the tests: environment checks that skip locally but fail in CI."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

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


_CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client: Any, path: str) -> str:
    """The CSRF token a browser would post back, read from the form on ``path``."""
    found = _CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: Any, username: str, password: str) -> Any:
    """Log ``client`` in through the real login form (CSRF included); returns the client."""
    reply = client.post("/auth/login", data={"username": username, "password": password,
                                              "csrf_token": csrf_token(client, "/auth/login")})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:300]
    return client
