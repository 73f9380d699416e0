"""One-stop desks and their signed evaluation links.

A printed QR code must be unforgeable (nobody can invent a desk's link), unguessable
(links are not numbered) and revocable (a poster photographed and shared on social media
can be retired). The link carries ``[desk code, token version]`` signed with the app's
SECRET_KEY; rotating a desk bumps its version, so every older poster stops working, and
disabling it stops them all. Nothing is stored per token: verification is one HMAC and
one primary-key lookup, which matters at hundreds of submissions per second.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, update
from sqlmodel import Session, select

from survey.messages import N_, UserError
from survey.models import AdminUnit, Desk, Response
from survey.services.scope import EVERYTHING, Scope, area_for, desk_ids_within, desks_within

TOKEN_SALT = "sipas.desk-evaluation.v1"
EVALUATION_PATH = "/d/"
DESK_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


class DeskTokenError(ValueError):
    """A desk link that cannot be used; subclasses say why, so the page can be kind."""


class InvalidDeskToken(DeskTokenError):
    """Tampered, truncated or made up: the signature does not verify."""


class RotatedDeskToken(DeskTokenError):
    """A genuine but retired link: the desk has a newer QR code."""


class DisabledDesk(DeskTokenError):
    """The desk no longer takes evaluations."""


@dataclass(frozen=True)
class DeskSummary:
    """A desk with its evaluation count, for lists (CLI and admin screen)."""

    desk: Desk
    evaluations: int


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=TOKEN_SALT)


def desk_token(secret_key: str, desk: Desk) -> str:
    """The signed token of the desk's current QR code."""
    return str(_serializer(secret_key).dumps([desk.code, desk.token_version]))


def desk_url(base_url: str, secret_key: str, desk: Desk) -> str:
    """The public evaluation link printed in the QR code (base URL from SIPAS_BASE_URL)."""
    return f"{base_url.rstrip('/')}{EVALUATION_PATH}{desk_token(secret_key, desk)}"


def token_payload(secret_key: str, token: str) -> tuple[str, int]:
    """Verify the signature only (no database): (desk code, version)."""
    try:
        payload = _serializer(secret_key).loads(token)
    except (BadSignature, UnicodeError, ValueError):
        raise InvalidDeskToken("this link is not a valid desk link") from None
    if (not isinstance(payload, list) or len(payload) != 2 or not isinstance(payload[0], str)
            or not isinstance(payload[1], int) or isinstance(payload[1], bool)):
        raise InvalidDeskToken("this link is not a valid desk link")
    return payload[0], payload[1]


def resolve_token(session: Session, secret_key: str, token: str) -> Desk:
    """The desk a link belongs to, or a :class:`DeskTokenError` saying why it is unusable.

    Only the desk's own link, byte for byte, is its link. The signature alone is not enough:
    base64 decoding is lenient (padding, unused bits of the last character, stray
    characters), so one genuine link has endless spellings that verify, and anything keyed
    on the spelling (a cache, a counter) could be multiplied by respelling it.
    """
    code, version = token_payload(secret_key, token)
    desk = session.exec(select(Desk).where(Desk.code == code)).first()
    if desk is None:
        raise InvalidDeskToken("this link names no desk")
    if version != desk.token_version:
        raise RotatedDeskToken(f"desk {code} has a newer QR code")
    if not hmac.compare_digest(token.encode("utf-8", "surrogateescape"),
                               desk_token(secret_key, desk).encode("ascii")):
        raise InvalidDeskToken("this is not the desk's link as printed")
    if not desk.active:
        raise DisabledDesk(f"desk {code} is disabled")
    return desk


def dossier_secret(secret_key: str) -> bytes:
    """The key of dossier-code hashes, derived so it is never the session-signing key itself."""
    return hmac.new(secret_key.encode("utf-8"), b"sipas dossier code v1", hashlib.sha256).digest()


def check_desk_code(code: str) -> str:
    code = code.strip()
    if not DESK_CODE.fullmatch(code):
        raise ValueError(
            f"desk code {code!r} must be 1-32 letters, digits, '.', '_' or '-', starting with "
            "a letter or digit / mã bàn không hợp lệ"
        )
    return code


def add_desk(session: Session, code: str, name: str, agency: str = "", admin_level: str = "",
             unit_code: str | None = None, scope: Scope = EVERYTHING) -> Desk:
    """Create a desk in ``unit_code`` (none: the area's own unit); a duplicate code, an
    unknown unit or one outside the area is a clear ValueError."""
    code = check_desk_code(code)
    name, agency, admin_level = _checked(name, agency, admin_level)
    unit_id = area_for(session, scope, unit_code)
    if session.exec(select(Desk).where(Desk.code == code)).first() is not None:
        raise UserError(N_("desk %(code)s already exists"), code=code)
    desk = Desk(code=code, name=name, agency=agency, admin_level=admin_level, unit_id=unit_id)
    session.add(desk)
    session.flush()
    return desk


LEVELS = ("", "province", "district", "commune")


def _checked(name: str, agency: str, admin_level: str) -> tuple[str, str, str]:
    name, agency, admin_level = name.strip(), agency.strip(), admin_level.strip()
    if not name or len(name) > 200:
        raise UserError(N_("a desk needs a name of 1–200 characters"))
    if len(agency) > 200:
        raise UserError(N_("the agency must be at most 200 characters"))
    if admin_level not in LEVELS:
        raise UserError(N_("the level must be province, district or commune"))
    return name, agency, admin_level


def edit_desk(session: Session, code: str, name: str, agency: str, admin_level: str,
              unit_code: str | None = None,
              scope: Scope = EVERYTHING) -> dict[str, dict[str, str]]:
    """Change a desk's name, agency, level and unit within the area (never its code:
    printed QR codes name it).

    Returns the changes (field -> old, new) for the audit row; the caller records and commits.
    The desk is locked first, so that each of several edits at once is compared with what
    the one before it saved (each audit row's "old" is what the desk really was).
    """
    desk = get_desk(session, code, lock=True, scope=scope)
    name, agency, admin_level = _checked(name, agency, admin_level)
    changes = {field: {"old": getattr(desk, field), "new": value}
               for field, value in (("name", name), ("agency", agency),
                                    ("admin_level", admin_level))
               if getattr(desk, field) != value}
    for field, change in changes.items():
        setattr(desk, field, change["new"])
    if unit_code is not None:  # a move within the area (the form sends the current unit)
        unit_id = area_for(session, scope, unit_code) if unit_code.strip() else None
        if unit_id is None and not scope.everything:
            raise UserError(N_("a desk of your area needs an administrative unit"))
        if unit_id != desk.unit_id:
            changes["unit"] = {"old": unit_code_of(session, desk.unit_id),
                               "new": unit_code_of(session, unit_id)}
            desk.unit_id = unit_id
    session.add(desk)
    session.flush()
    return changes


def unit_code_of(session: Session, unit_id: int | None) -> str:
    """The code of a unit ('' for none), for audit rows and forms."""
    if unit_id is None:
        return ""
    return session.exec(select(AdminUnit.code).where(AdminUnit.id == unit_id)).one()


def get_desk(session: Session, code: str, *, lock: bool = False,
             scope: Scope = EVERYTHING) -> Desk:
    """The desk with ``code``; ``lock``: locked until the transaction ends and read after
    the lock, for a change decided on what it reads (survey/services/locks.py). A desk
    outside ``scope`` is not found, as if it did not exist."""
    query = select(Desk).where(Desk.code == code, desks_within(scope))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    desk = session.exec(query).first()
    if desk is None:
        raise ValueError(f"no desk with code {code!r} / không có bàn mã {code!r}")
    return desk


def list_desks(session: Session, scope: Scope = EVERYTHING) -> list[DeskSummary]:
    """Every desk of the area in code order with its number of evaluations (one grouped
    query)."""
    counts = dict(
        session.exec(
            select(Response.desk_id, func.count())
            .where(Response.desk_id.in_(desk_ids_within(scope)))  # type: ignore[union-attr]
            .group_by(Response.desk_id)
        ).all()
    )
    desks = session.exec(select(Desk).where(desks_within(scope)).order_by(Desk.code)).all()
    return [DeskSummary(desk, int(counts.get(desk.id, 0))) for desk in desks]


def rotate_desk(session: Session, code: str) -> Desk:
    """Give the desk a new QR code; every earlier link now gets the 'retired' page."""
    desk = get_desk(session, code)
    # One atomic increment in the database: a read-modify-write here lost updates when
    # several rotations raced on PostgreSQL (8 audited rotations, version up by 3).
    session.execute(update(Desk).where(Desk.id == desk.id)
                    .values(token_version=Desk.token_version + 1))
    session.refresh(desk)
    return desk


def set_desk_active(session: Session, code: str, active: bool) -> Desk:
    desk = get_desk(session, code, lock=True)
    desk.active = active
    session.add(desk)
    session.flush()
    return desk
