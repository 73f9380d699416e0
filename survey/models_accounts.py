"""Staff login sessions, kept in the database so that they can be revoked.

Flask's session cookie is signed, not stored: without a server-side record, a copied cookie
keeps working after logout, after a password reset and after an account is re-enabled, up
to its 8-hour limit. Each login gets a row here; the cookie carries a random token whose
hash names the row, and a request is logged in only while its row is open.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from survey.models import utcnow


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # sha256 of the cookie's token
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = Field(default=None)


class ApiToken(SQLModel, table=True):
    """A personal token for the API and the OData feed (Power BI, R, a province's systems).

    It acts as its user, with the user's role, so a disabled account or a changed role takes
    effect on the next call; only its SHA-256 is stored (the token is shown once). ``prefix``
    (the token's first characters) lets a person tell their tokens apart in the list.
    """

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = Field(default=None)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)
