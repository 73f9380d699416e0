"""Questionnaire IDs with a check digit, unique for the life of the database.

Format ``RR-PPPP-SSS-C``: the round's number in this database (``SurveyRound.id``, two
digits or more), the PSU code, a serial within it and a Luhn (mod 10) check digit over all
the digits, which catches every single-digit error and most adjacent swaps. PSU numbers
restart with every draw, so without the round two rounds would print the same ID and
leftover paper of one round would be keyed into the other.

Paper printed before the round prefix existed carries ``PPPP-SSS-C`` (check digit over PSU
and serial); :func:`parse_questionnaire_id` still reads it as a *legacy* ID, and the entry
screen asks for the round when such an ID exists in more than one open round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = re.compile(r"^[0-9]+$")  # ASCII only: "²".isdigit() is true, but int("²") raises


@dataclass(frozen=True)
class ParsedId:
    """One reading of a typed ID: ``round_id`` is None for a legacy (pre-prefix) ID."""

    round_id: int | None
    psu_code: str
    serial: int


def luhn_digit(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def make_questionnaire_id(round_id: int, psu_code: str, serial: int) -> str:
    """The printed ID of serial ``serial`` of PSU ``psu_code`` in round ``round_id``."""
    if not _DIGITS.match(psu_code or ""):
        raise ValueError(f"PSU code must be digits for questionnaire IDs, got {psu_code!r}")
    if not 1 <= serial <= 999:
        raise ValueError(f"serial must be 1–999, got {serial}")
    prefix = f"{round_id:02d}"
    body = f"{prefix}{psu_code}{serial:03d}"
    return f"{prefix}-{psu_code}-{serial:03d}-{luhn_digit(body)}"


def legacy_questionnaire_id(psu_code: str, serial: int) -> str:
    """The ID as printed before round prefixes (``PPPP-SSS-C``), to match old paper."""
    body = f"{psu_code}{serial:03d}"
    return f"{psu_code}-{serial:03d}-{luhn_digit(body)}"


def parse_questionnaire_id(text: str) -> list[ParsedId]:
    """Every reading of ``text`` whose check digit holds (empty: a typing error).

    ``01-0101-003-7`` and ``0101-003-7`` (legacy) are read as printed. The digits alone
    (``0101010037``, two keys fewer) can split two ways; both readings are returned and the
    sample decides which one exists.
    """
    grouped = re.sub(r"[\s./-]+", "-", (text or "").strip(" \t\r\n-"))
    if grouped.count("-") in (2, 3):  # typed in groups, with dashes, spaces or dots
        return _grouped(grouped.split("-"))
    cleaned = grouped.replace("-", "")
    if not _DIGITS.match(cleaned) or len(cleaned) < 5 \
            or luhn_digit(cleaned[:-1]) != int(cleaned[-1]):
        return []
    body, serial = cleaned[:-4], int(cleaned[-4:-1])
    readings = [ParsedId(None, body, serial)]
    for width in (2, 3):
        if len(body) > width:
            readings.append(ParsedId(int(body[:width]), body[width:], serial))
    return readings


def _grouped(parts: list[str]) -> list[ParsedId]:
    if not all(_DIGITS.match(p) for p in parts):
        return []
    if len(parts) == 4 and len(parts[2]) == 3 and len(parts[3]) == 1:
        if luhn_digit("".join(parts[:3])) == int(parts[3]):
            return [ParsedId(int(parts[0]), parts[1], int(parts[2]))]
        return []
    if len(parts) == 3 and len(parts[1]) == 3 and len(parts[2]) == 1:
        if luhn_digit(parts[0] + parts[1]) == int(parts[2]):
            return [ParsedId(None, parts[0], int(parts[1]))]
    return []


def check_questionnaire_id(qid: str) -> bool:
    """Does the check digit of a printed ID (either format) hold?"""
    return bool(parse_questionnaire_id(qid))


def serial_of(qid: str) -> int | None:
    """The serial of a stored ID of either format (the second-to-last part)."""
    parts = (qid or "").split("-")
    return int(parts[-2]) if len(parts) in (3, 4) and _DIGITS.match(parts[-2]) else None
