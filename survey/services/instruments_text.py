"""Parsed instruments of stored versions, read from their frozen YAML text."""

from __future__ import annotations

from functools import lru_cache

from survey.instruments import Instrument, load_instrument_text

NOT_EXPORTED = frozenset({"dossier_code"})


@lru_cache(maxsize=64)
def parse_stored(source_text: str) -> Instrument:
    """The instrument exactly as it was published (cached: versions are frozen)."""
    return load_instrument_text(source_text, "<stored version>")


def item_codes_of(source_text: str) -> tuple[str, ...]:
    """Answer-bearing item codes in questionnaire order (notes and dossier codes left out)."""
    return tuple(
        item.code for item in parse_stored(source_text).questions if item.code not in NOT_EXPORTED
    )
