"""Publishing questionnaires from forms/ into the database.

A published version is frozen: its YAML text is stored and never replaced. Changing a
form means giving it a new version; re-loading an unchanged form is a no-op, so
``sipas init`` is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from survey.instruments import Instrument as FormInstrument
from survey.instruments import load_forms_dir
from survey.models import Instrument, InstrumentVersion


@dataclass(frozen=True)
class PublishResult:
    code: str
    version: str
    created: bool


class FrozenVersionError(ValueError):
    """A published version's text was edited in place."""


def publish(session: Session, form: FormInstrument) -> PublishResult:
    """Store one instrument version (frozen), or confirm it is already stored unchanged."""
    instrument = session.exec(select(Instrument).where(Instrument.code == form.code)).first()
    if instrument is None:
        instrument = Instrument(code=form.code, kind=form.kind, title_vi=form.title["vi"])
        session.add(instrument)
        session.flush()
    existing = session.exec(
        select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == instrument.id,
            InstrumentVersion.version == form.version,
        )
    ).first()
    if existing is not None:
        if existing.content_hash != form.content_hash:
            raise FrozenVersionError(
                f"{form.code} version {form.version} is published and frozen, but its file has "
                "changed; give the edited form a new version / phiên bản đã công bố không được "
                "sửa, hãy đặt số phiên bản mới"
            )
        return PublishResult(form.code, form.version, created=False)
    session.add(
        InstrumentVersion(
            instrument_id=instrument.id,
            version=form.version,
            content_hash=form.content_hash,
            source_text=form.source_text,
        )
    )
    session.flush()
    return PublishResult(form.code, form.version, created=True)


def publish_forms_dir(session: Session, forms_dir: Path | None = None) -> list[PublishResult]:
    """Validate every form first, then publish; one bad file publishes nothing."""
    forms = load_forms_dir(forms_dir)
    return [publish(session, form) for form in forms.values()]


def latest_version(session: Session, code: str) -> InstrumentVersion:
    """The most recently published version of an instrument."""
    row = session.exec(
        select(InstrumentVersion)
        .join(Instrument, Instrument.id == InstrumentVersion.instrument_id)
        .where(Instrument.code == code)
        .order_by(InstrumentVersion.published_at.desc(), InstrumentVersion.id.desc())
    ).first()
    if row is None:
        raise ValueError(f"instrument {code!r} is not published; run `sipas init`")
    return row
