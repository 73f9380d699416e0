"""Tables of paper entry: cases, keying passes with their own answers, discrepancies.

A *case* is one paper document (a sampled questionnaire ID, or a desk slip by desk and
printed serial). Each keying pass keeps its own answers, apart from the final response,
so that the second keyer works blind and the comparison is field by field. The final
``response`` row is written only when the case is verified (both passes agree, or a
supervisor recorded the paper value of every mismatch) — or, for a case drawn out of
double keying, as ``received`` for the supervisor to review.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey.models import utcnow


class CaseState(enum.StrEnum):
    open = "open"  # first pass started, not saved yet
    keyed_once = "keyed_once"  # waiting for the blind second pass
    mismatch = "mismatch"  # both passes saved, they differ: supervisor reconciles
    single = "single"  # not drawn for double keying: stored as received
    verified = "verified"  # final response stored as verified


class EntryCase(SQLModel, table=True):
    """One paper document to key; ``entry_key`` pairs its keyings (``Q:<id>``, ``D:<desk>:<n>``)."""

    __tablename__ = "entry_case"
    __table_args__ = (
        CheckConstraint(
            "state IN ('open', 'keyed_once', 'mismatch', 'single', 'verified')",
            name="ck_entry_case_state",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_key: str = Field(max_length=80, unique=True)
    instrument_version_id: int = Field(foreign_key="instrument_version.id")
    round_id: int | None = Field(default=None, foreign_key="survey_round.id")
    sample_unit_id: int | None = Field(default=None, foreign_key="sample_unit.id", index=True)
    questionnaire_id: str | None = Field(default=None, max_length=32)
    desk_id: int | None = Field(default=None, foreign_key="desk.id")
    slip_serial: str | None = Field(default=None, max_length=32)
    double_required: bool = True
    state: str = Field(default=CaseState.open.value, max_length=16)
    response_id: int | None = Field(default=None, foreign_key="response.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Keying(SQLModel, table=True):
    """One keying pass (1 = first, 2 = blind second) by one keyer."""

    __tablename__ = "keying"
    __table_args__ = (
        UniqueConstraint("case_id", "pass_no"),
        UniqueConstraint("case_id", "keyer_id"),
        CheckConstraint("pass_no IN (1, 2)", name="ck_keying_pass"),
        CheckConstraint("state IN ('draft', 'done')", name="ck_keying_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="entry_case.id", index=True)
    pass_no: int
    keyer_id: int = Field(foreign_key="user_account.id", index=True)
    state: str = Field(default="draft", max_length=8)
    outcome: str | None = Field(default=None, max_length=16)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    # What the keyer has typed so far (JSON: outcome and values), kept while the pass is a
    # draft so that a closed tab, a lost connection or an expired session loses nothing.
    draft: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    draft_saved_at: datetime | None = None


class KeyingAnswer(SQLModel, table=True):
    """A keyed value as canonical text (codes as typed, selections sorted)."""

    __tablename__ = "keying_answer"

    keying_id: int = Field(foreign_key="keying.id", primary_key=True, ondelete="CASCADE")
    item_code: str = Field(max_length=64, primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Discrepancy(SQLModel, table=True):
    """A field where the two passes differ, and the value the supervisor read on paper."""

    __tablename__ = "entry_discrepancy"
    __table_args__ = (UniqueConstraint("case_id", "item_code"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="entry_case.id", index=True)
    item_code: str = Field(max_length=64)
    first_value: str | None = Field(default=None, sa_column=Column(Text))
    second_value: str | None = Field(default=None, sa_column=Column(Text))
    paper_value: str | None = Field(default=None, sa_column=Column(Text))
    resolved_by: int | None = Field(default=None, foreign_key="user_account.id")
    resolved_at: datetime | None = None


class LoginFailure(SQLModel, table=True):
    """Failed logins, kept in the database so throttling holds across workers and hosts."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)


class SerialAssignment(SQLModel, table=True):
    """A sub-range of a sampled hamlet's serials carried by one enumerator.

    The hamlet's own ``field_assignment`` row gives its whole range and default enumerator;
    a sub-range overrides that enumerator for its serials (ranges never overlap, checked by
    :mod:`survey.services.entry.assignments`), so two enumerators can share a large hamlet.
    """

    __tablename__ = "serial_assignment"
    __table_args__ = (
        UniqueConstraint("sample_unit_id", "first_serial"),
        CheckConstraint("first_serial >= 1 AND last_serial >= first_serial",
                        name="ck_serial_assignment_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sample_unit_id: int = Field(foreign_key="sample_unit.id", index=True)
    enumerator_id: int = Field(foreign_key="user_account.id", index=True)
    first_serial: int
    last_serial: int
    assigned_by: int | None = Field(default=None, foreign_key="user_account.id")
    assigned_at: datetime = Field(default_factory=utcnow)


class HqReview(SQLModel, table=True):
    """The second level of review (Survey Solutions' headquarters): after the province has
    verified a questionnaire, the ministry accepts it or sends it back with a comment.

    No row: not yet looked at (or changed since, which removes the row). ``returned`` sent
    the questionnaire back to the province as ``has_issues``; verifying it again removes
    the row, so it waits for the ministry again.
    """

    __tablename__ = "hq_review"
    __table_args__ = (
        CheckConstraint("state IN ('accepted', 'returned')", name="ck_hq_review_state"),
    )

    response_id: int = Field(foreign_key="response.id", primary_key=True, ondelete="CASCADE")
    state: str = Field(max_length=16)
    comment: str = Field(default="", max_length=2000)
    by_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow)
