"""Whole numbers as people (and address bars) type them: one check for every form and query.

``"²".isdigit()`` is true but ``int("²")`` raises, and ``"9" * 5000`` is digits that no
column holds: only ASCII digits, and at most ``digits`` of them, make a number here.
"""

from __future__ import annotations


def whole_number(text: str | None, digits: int = 9) -> int | None:
    """``text`` as a non-negative whole number, or None when it is anything else."""
    if text and text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None
