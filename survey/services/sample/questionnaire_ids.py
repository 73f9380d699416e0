"""Questionnaire IDs with a check digit, so a mistyped ID is caught at the keyboard.

Format ``PPPP-SSS-C``: the PSU code, a serial within it and a Luhn (mod 10) check digit
over the digits, which catches every single-digit error and most adjacent swaps.
"""

from __future__ import annotations


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


def make_questionnaire_id(psu_code: str, serial: int) -> str:
    if not psu_code.isdigit():
        raise ValueError(f"PSU code must be digits for questionnaire IDs, got {psu_code!r}")
    if not 1 <= serial <= 999:
        raise ValueError(f"serial must be 1–999, got {serial}")
    body = f"{psu_code}{serial:03d}"
    return f"{psu_code}-{serial:03d}-{luhn_digit(body)}"


def check_questionnaire_id(qid: str) -> bool:
    parts = qid.strip().split("-")
    # ASCII digits only: "²".isdigit() is true, but int("²") raises (a 500 at the keyboard).
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts) \
            or len(parts[2]) != 1:
        return False
    return luhn_digit(parts[0] + parts[1]) == int(parts[2])
