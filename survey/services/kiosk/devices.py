"""Registering, revoking and recognising counter tablets, and opening tickets on them.

A kiosk's address is ``/kiosk/<key>``: the key is 32 random URL-safe characters shown once
when the device is registered (as a link and a QR code to open on the tablet); the database
keeps only its SHA-256, so a leaked backup signs in no tablet and a revoked key stays dead.
The key is looked up by its hash (an index, not a comparison in Python), so the time a
lookup takes says nothing about the key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from survey.messages import N_, UserError
from survey.models import Desk, as_utc, utcnow
from survey.models_kiosk import KioskDevice, KioskTicket
from survey.services.audit import record
from survey.services.locks import locked

MAX_NAME = 100
MAX_REF = 40
# A device seen within this long is shown as "online" on the desk's page.
SEEN_RECENTLY = timedelta(minutes=2)


class KioskError(LookupError):
    """An address that names no usable kiosk (``revoked`` says which kind)."""

    def __init__(self, revoked: bool = False) -> None:
        super().__init__("revoked kiosk" if revoked else "unknown kiosk")
        self.revoked = revoked


@dataclass(frozen=True)
class Registered:
    device: KioskDevice
    key: str  # shown once: only its hash is stored


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def kiosk_path(key: str) -> str:
    return f"/kiosk/{key}"


def register(session: Session, desk: Desk, name: str, user_id: int | None) -> Registered:
    """A new kiosk for ``desk``; audited. The caller commits and shows the key once.

    Names are unique among a desk's tablets in use (two "Quầy 3" would be told apart by
    nobody); the desk is locked first, so two supervisors adding the same name at once make
    one tablet and a clear refusal."""
    desk = locked(session, Desk, desk.id) or desk
    name = " ".join(name.split())
    if not name:
        raise UserError(N_("Give the tablet a name (e.g. 'Counter 3')."))
    if len(name) > MAX_NAME:
        raise UserError(N_("A tablet's name has at most %(n)d characters."), n=MAX_NAME)
    if not desk.active:
        raise UserError(N_("The desk %(code)s is disabled: enable it before adding a tablet."),
                        code=desk.code)
    taken = session.exec(select(KioskDevice.id).where(
        KioskDevice.desk_id == desk.id, col(KioskDevice.revoked_at).is_(None),
        func.lower(KioskDevice.name) == name.lower())).first()
    if taken is not None:
        raise UserError(N_("This desk already has a tablet named %(name)s."), name=name)
    key = secrets.token_urlsafe(24)
    device = KioskDevice(desk_id=desk.id, name=name, key_hash=key_hash(key), created_by=user_id)
    session.add(device)
    session.flush()
    record(session, "kiosk.register", "kiosk_device", device.id, user_id=user_id,
           detail={"desk": desk.code, "name": name})
    return Registered(device, key)


def revoke(session: Session, device_id: int, user_id: int | None) -> KioskDevice | None:
    """Revoke a kiosk (its address stops working at once); audited once, however many ask
    at the same moment. None when there is no such kiosk."""
    device = locked(session, KioskDevice, device_id)
    if device is None:
        return None
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        session.add(device)
        session.flush()
        record(session, "kiosk.revoke", "kiosk_device", device.id, user_id=user_id,
               detail={"name": device.name})
    return device


def resolve(session: Session, key: str) -> tuple[KioskDevice, Desk]:
    """The kiosk and its desk for an address's key, or :class:`KioskError`."""
    if not key or len(key) > 64:
        raise KioskError()
    device = session.exec(select(KioskDevice).where(
        KioskDevice.key_hash == key_hash(key))).first()
    if device is None:
        raise KioskError()
    desk = session.get(Desk, device.desk_id)
    if device.revoked_at is not None or desk is None or not desk.active:
        raise KioskError(revoked=True)
    return device, desk


def seen(session: Session, device: KioskDevice, now: datetime | None = None) -> None:
    """Note that the tablet asked for something (at most one write a minute)."""
    now = now or utcnow()
    last = device.last_seen_at
    if last is None or now - as_utc(last) > timedelta(minutes=1):
        device.last_seen_at = now
        session.add(device)


def devices_of(session: Session, desk_id: int) -> list[KioskDevice]:
    return list(session.exec(select(KioskDevice).where(KioskDevice.desk_id == desk_id)
                             .order_by(col(KioskDevice.revoked_at).is_not(None),
                                       col(KioskDevice.id))).all())


def open_ticket(session: Session, device: KioskDevice, ref: str, within: timedelta,
                source: str = "api", dossier_hash: str | None = None
                ) -> tuple[KioskTicket, bool]:
    """An invitation to rate on this kiosk (the queue system closed a ticket), and whether
    it is new. A queue system that sends the same ticket number again (its retry after a
    timeout) gets the same ticket while it waits, not a second one: the device is locked
    first, so six such sends at once make one."""
    ref = ref.strip()
    if len(ref) > MAX_REF:
        raise UserError(N_("A ticket number has at most %(n)d characters."), n=MAX_REF)
    locked(session, KioskDevice, device.id)
    if ref:
        again = session.exec(select(KioskTicket).where(
            KioskTicket.device_id == device.id, KioskTicket.ref == ref,
            KioskTicket.opened_at >= utcnow() - within,
            col(KioskTicket.response_id).is_(None))).first()
        if again is not None:
            return again, False
    ticket = KioskTicket(device_id=device.id, ref=ref, source=source, dossier_hash=dossier_hash)
    session.add(ticket)
    session.flush()
    return ticket, True


def waiting_ticket(session: Session, device: KioskDevice, after: int, within: timedelta,
                   now: datetime | None = None) -> KioskTicket | None:
    """The newest ticket of this kiosk opened within ``within`` (a ticket older than the
    rating screen would stay up is gone), newer than the last one the kiosk has shown
    (``after``: so a ticket left unanswered does not come back) and not yet rated."""
    since = (now or utcnow()) - within
    return session.exec(
        select(KioskTicket)
        .where(KioskTicket.device_id == device.id, KioskTicket.id > after,
               KioskTicket.opened_at >= since, col(KioskTicket.response_id).is_(None))
        .order_by(col(KioskTicket.id).desc()).limit(1)
    ).first()

