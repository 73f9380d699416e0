"""Response, cooperation, refusal and contact rates by AAPOR's Standard Definitions.

The American Association for Public Opinion Research, *Standard Definitions: Final
Dispositions of Case Codes and Outcome Rates for Surveys* (10th edition, 2023), section
"Response rates" and following. Case counts:

- ``I`` complete interviews, ``P`` partial interviews;
- ``R`` refusals and break-offs, ``NC`` non-contacts, ``O`` other eligible non-interviews;
- ``UH`` / ``UO`` cases of unknown eligibility (household / other);
- ``NE`` cases known not to be eligible (they enter no rate);
- ``e`` the estimated share of unknown-eligibility cases that are eligible. By default it
  is the share eligible among cases whose eligibility is known, (I+P+R+NC+O) / (that + NE),
  the "proportional allocation" estimate the Standard Definitions describe.

Cases not yet finalised (paper not yet keyed) are pending: they belong in no rate yet.
"""

from __future__ import annotations

from dataclasses import dataclass

# Each rate: (name, formula as printed on the page).
FORMULAS: tuple[tuple[str, str], ...] = (
    ("RR1", "I / ((I+P) + (R+NC+O) + (UH+UO))"),
    ("RR2", "(I+P) / ((I+P) + (R+NC+O) + (UH+UO))"),
    ("RR3", "I / ((I+P) + (R+NC+O) + e(UH+UO))"),
    ("RR4", "(I+P) / ((I+P) + (R+NC+O) + e(UH+UO))"),
    ("RR5", "I / ((I+P) + (R+NC+O))"),
    ("RR6", "(I+P) / ((I+P) + (R+NC+O))"),
    ("COOP1", "I / ((I+P) + R + O)"),
    ("COOP2", "(I+P) / ((I+P) + R + O)"),
    ("COOP3", "I / ((I+P) + R)"),
    ("COOP4", "(I+P) / ((I+P) + R)"),
    ("REF1", "R / ((I+P) + (R+NC+O) + (UH+UO))"),
    ("REF2", "R / ((I+P) + (R+NC+O) + e(UH+UO))"),
    ("REF3", "R / ((I+P) + (R+NC+O))"),
    ("CON1", "((I+P) + R + O) / ((I+P) + (R+NC+O) + (UH+UO))"),
    ("CON2", "((I+P) + R + O) / ((I+P) + (R+NC+O) + e(UH+UO))"),
    ("CON3", "((I+P) + R + O) / ((I+P) + (R+NC+O))"),
)


@dataclass(frozen=True)
class Dispositions:
    """Final dispositions of the cases issued (counts)."""

    I: int = 0  # noqa: E741 - AAPOR's own letter
    P: int = 0
    R: int = 0
    NC: int = 0
    O: int = 0  # noqa: E741
    UH: int = 0
    UO: int = 0
    NE: int = 0

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if value < 0:
                raise ValueError(f"disposition {name} cannot be negative, got {value}")

    @property
    def eligible(self) -> int:
        return self.I + self.P + self.R + self.NC + self.O

    @property
    def unknown(self) -> int:
        return self.UH + self.UO


def estimated_e(d: Dispositions) -> float | None:
    """Share eligible among cases of known eligibility (None when there are none)."""
    known = d.eligible + d.NE
    return d.eligible / known if known else None


def rates(d: Dispositions, e: float | None = None) -> dict[str, float | None]:
    """Every rate of :data:`FORMULAS` (None where its denominator is zero).

    ``e`` defaults to :func:`estimated_e`; it must lie in [0, 1].
    """
    if e is None:
        e = estimated_e(d)
    if e is not None and not 0 <= e <= 1:
        raise ValueError(f"e must be between 0 and 1, got {e}")
    e_unknown = (e or 0.0) * d.unknown
    interviews, full = d.I + d.P, d.I
    all_unknown = d.eligible + d.unknown
    some_unknown = d.eligible + e_unknown
    cooperating = interviews + d.R + d.O

    def ratio(top: float, bottom: float) -> float | None:
        return top / bottom if bottom > 0 else None

    return {
        "RR1": ratio(full, all_unknown), "RR2": ratio(interviews, all_unknown),
        "RR3": ratio(full, some_unknown), "RR4": ratio(interviews, some_unknown),
        "RR5": ratio(full, d.eligible), "RR6": ratio(interviews, d.eligible),
        "COOP1": ratio(full, cooperating), "COOP2": ratio(interviews, cooperating),
        "COOP3": ratio(full, interviews + d.R), "COOP4": ratio(interviews, interviews + d.R),
        "REF1": ratio(d.R, all_unknown), "REF2": ratio(d.R, some_unknown),
        "REF3": ratio(d.R, d.eligible),
        "CON1": ratio(cooperating, all_unknown), "CON2": ratio(cooperating, some_unknown),
        "CON3": ratio(cooperating, d.eligible),
    }  # fmt: skip
