"""Parsed instruments of stored versions, read from their frozen YAML text."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from survey.instruments import Instrument, load_instrument_text

NOT_EXPORTED = frozenset({"dossier_code"})


@lru_cache(maxsize=64)
def parse_stored(source_text: str) -> Instrument:
    """The instrument exactly as it was published (cached: versions are frozen)."""
    return load_instrument_text(source_text, "<stored version>")


def item_codes_of(source_text: str) -> tuple[str, ...]:
    """Answer-bearing item codes in questionnaire order (notes and dossier codes left out)."""
    return tuple(
        item.code for item in parse_stored(source_text).questions if item.code not in NOT_EXPORTED
    )


def warm_up(engine: Engine) -> int:
    """Parse the latest published version of every instrument, as a server worker starts
    (survey/serving.py): the household questionnaire's YAML takes about 0.1 s to parse,
    which the first dashboard of each worker would otherwise pay. Returns how many were."""
    from sqlmodel import Session, select

    from survey.models import Instrument as InstrumentRow
    from survey.services.instruments import latest_version

    with Session(engine) as session:
        codes = session.exec(select(InstrumentRow.code)).all()
        done = 0
        for code in codes:
            try:
                parse_stored(latest_version(session, code).source_text)
                done += 1
            except ValueError:  # created, never published: nothing to parse
                continue
    return done
