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
