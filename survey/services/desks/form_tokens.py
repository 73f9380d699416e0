"""Server-issued form instances for the citizen's desk form.

Each rendered form carries a token the server signed: ``[desk id, form UUID]`` with the time
it was issued. The UUID is what makes a submission idempotent (a double tap, Back, a flaky
network store it once), so it must come from the server: a made-up UUID would let one
phone post endlessly without ever loading the form. The token also stands in for a CSRF
cookie on this public, anonymous form: it is bound to the desk and cannot be forged, and it
needs no cookie, so a phone that blocks cookies still gets through. An expired or unreadable
token stores nothing, and the page comes back with the answers kept and a fresh token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

FORM_SALT = "sipas.desk-form.v1"
DEFAULT_MAX_AGE = 24 * 3600  # a form left open on a phone all day can still be sent


class FormTokenError(ValueError):
    """The form instance cannot be used; ``expired`` says whether it was once genuine."""

    def __init__(self, message: str, expired: bool) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class FormInstance:
    token: str
    client_uuid: uuid.UUID


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=FORM_SALT)


def issue_form(secret_key: str, desk_id: int) -> FormInstance:
    """A new form instance for this desk."""
    client_uuid = uuid.uuid4()
    token = str(_serializer(secret_key).dumps([desk_id, client_uuid.hex]))
    return FormInstance(token, client_uuid)


def read_form(secret_key: str, token: str | None, desk_id: int,
              max_age: int = DEFAULT_MAX_AGE) -> FormInstance:
    """The form instance a posted token names, if the server issued it for this desk."""
    if not token or len(token) > 200:
        raise FormTokenError("no form token", expired=False)
    try:
        payload = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise FormTokenError("the form has expired", expired=True) from None
    except (BadSignature, UnicodeError, ValueError):
        raise FormTokenError("this form was not issued by the server", expired=False) from None
    if (not isinstance(payload, list) or len(payload) != 2 or payload[0] != desk_id
            or not isinstance(payload[1], str)):
        raise FormTokenError("this form belongs to another desk", expired=False)
    try:
        return FormInstance(token, uuid.UUID(hex=payload[1]))
    except ValueError:
        raise FormTokenError("this form was not issued by the server", expired=False) from None
