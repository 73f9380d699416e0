"""Item codes of a stored instrument version, read from its frozen YAML text."""

from __future__ import annotations

from functools import lru_cache

import yaml

NOT_EXPORTED = frozenset({"dossier_code"})
NO_VALUE_TYPES = frozenset({"note"})


@lru_cache(maxsize=64)
def item_codes_of(source_text: str) -> tuple[str, ...]:
    """Answer-bearing item codes in questionnaire order (notes and dossier codes left out)."""
    data = yaml.safe_load(source_text) or {}
    codes: list[str] = []
    for section in data.get("sections") or []:
        for item in section.get("items") or []:
            code = item.get("code")
            if code and item.get("type") not in NO_VALUE_TYPES and code not in NOT_EXPORTED:
                codes.append(code)
    return tuple(codes)
