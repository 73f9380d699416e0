"""Factories for form files: a fresh, valid minimal instrument per call, easy to break."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

MINIMAL_FORM: dict[str, Any] = {
    "code": "mini",
    "version": "1.0",
    "kind": "household",
    "languages": ["vi", "en"],
    "title": {"vi": "Phiếu thử", "en": "Test form"},
    "scale": [{"code": c, "label": {"vi": f"Mức {c}"}} for c in range(1, 6)],
    "satisfied_codes": [4, 5],
    "dissatisfied_codes": [1, 2],
    "missing_code": 9,
    "elements": [{"code": "I", "label": {"vi": "Tiếp cận", "en": "Access"}}],
    "sections": [
        {"code": "main", "title": {"vi": "Phần chính"}, "items": [
            {"code": "screen", "type": "select_one", "required": True,
             "label": {"vi": "Có giải quyết thủ tục không?"},
             "choices": [{"code": 1, "label": {"vi": "Có"}},
                         {"code": 2, "label": {"vi": "Không"}}]},
            {"code": "sat", "type": "scale", "element": "I", "required": True,
             "na_allowed": True, "label": {"vi": "Hài lòng?"},
             "relevant": "${screen} = 1"},
            {"code": "age", "type": "integer", "min": 18, "max": 99,
             "label": {"vi": "Tuổi"}},
        ]},
    ],
}


def minimal_form() -> dict[str, Any]:
    """A new deep copy of the minimal valid form, safe to mutate."""
    return copy.deepcopy(MINIMAL_FORM)


@pytest.fixture
def form() -> dict[str, Any]:
    """The minimal valid form as a fresh dict, to be broken one way per test."""
    return minimal_form()


@pytest.fixture
def write_form(tmp_path: Path) -> Callable[..., Path]:
    """Write a form (a dict, dumped as YAML, or raw text) into a fresh directory."""

    def write(form: dict[str, Any] | str, name: str = "form.yaml") -> Path:
        text = form if isinstance(form, str) else yaml.safe_dump(
            form, sort_keys=False, allow_unicode=True)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def make_form() -> Callable[[], dict[str, Any]]:
    """The factory itself, for property tests (which may not use function-scoped fixtures)."""
    return minimal_form
