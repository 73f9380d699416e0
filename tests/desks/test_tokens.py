"""Are desk links unforgeable, revocable, and checked without a lookup table?"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from survey.models import Desk
from survey.services.desks.links import (
    DisabledDesk,
    InvalidDeskToken,
    RotatedDeskToken,
    add_desk,
    desk_token,
    desk_url,
    dossier_secret,
    resolve_token,
    rotate_desk,
    set_desk_active,
    token_payload,
)

KEY = "k" * 32


def test_a_link_carries_the_desk_code_and_version_under_a_signature() -> None:
    desk = Desk(code="PL-MC1", name="x", token_version=3)
    url = desk_url("https://sipas.example.gov.vn/", KEY, desk)
    assert url.startswith("https://sipas.example.gov.vn/d/")
    assert token_payload(KEY, url.rsplit("/", 1)[1]) == ("PL-MC1", 3)


@pytest.mark.parametrize("token", ["", "abc", "WyJQTC1NQzEiLDFd", "WyJQTC1NQzEiLDFd.x", "..."])
def test_made_up_or_truncated_tokens_are_invalid(token: str) -> None:
    with pytest.raises(InvalidDeskToken):
        token_payload(KEY, token)


def test_a_token_signed_with_another_key_is_invalid() -> None:
    token = desk_token("another key entirely, 32 chars!", Desk(code="D1", name="x"))
    with pytest.raises(InvalidDeskToken):
        token_payload(KEY, token)


def test_the_dossier_key_is_derived_not_the_secret_key_itself() -> None:
    assert dossier_secret(KEY) != KEY.encode() and len(dossier_secret(KEY)) == 32
    assert dossier_secret(KEY) == dossier_secret(KEY) != dossier_secret(KEY + "x")


def test_rotation_retires_old_links_and_disabling_stops_current_ones(engine: Engine) -> None:
    with Session(engine) as session:
        desk = add_desk(session, "PL-MC1", "Một cửa Phú Lâm")
        old = desk_token(KEY, desk)
        assert resolve_token(session, KEY, old).code == "PL-MC1"
        rotate_desk(session, "PL-MC1")
        with pytest.raises(RotatedDeskToken):
            resolve_token(session, KEY, old)
        new = desk_token(KEY, desk)
        assert new != old and resolve_token(session, KEY, new).token_version == 2
        set_desk_active(session, "PL-MC1", False)
        with pytest.raises(DisabledDesk):
            resolve_token(session, KEY, new)
        with pytest.raises(InvalidDeskToken):
            resolve_token(session, KEY, desk_token(KEY, Desk(code="GONE", name="x")))


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [("bad code", "x", "desk code"), ("", "x", "desk code"), ("OK", " ", "desk needs a name"),
     ("DUP", "x", "already exists")],
)
def test_bad_desks_are_refused_with_a_precise_message(
    engine: Engine, code: str, name: str, message: str
) -> None:
    with Session(engine) as session:
        add_desk(session, "DUP", "first")
        with pytest.raises(ValueError, match=message):
            add_desk(session, code, name)


def test_only_the_desks_own_spelling_of_its_link_is_its_link(engine: Engine) -> None:
    """Lenient base64 lets one signed link be spelt many ways; only the printed one works."""
    with Session(engine) as session:
        desk = add_desk(session, "VAR1", "Bàn thử")
        session.commit()
        token = desk_token(KEY, desk)
        payload, sig = token.split(".")
        last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        twins = [payload + "." + sig[:-1] + c for c in last if c != sig[-1]]
        variants = [token + "=", token + "==", token[:-1] + "ꞏ" + token[-1], *twins]
        lenient = [v for v in variants if _verifies(v)]
        assert lenient, "the test needs variants that the signature check alone accepts"
        assert resolve_token(session, KEY, token).code == "VAR1"
        for variant in lenient:
            with pytest.raises(InvalidDeskToken):
                resolve_token(session, KEY, variant)


def _verifies(token: str) -> bool:
    try:
        token_payload(KEY, token)
    except InvalidDeskToken:
        return False
    return True


def test_parallel_rotations_each_retire_a_version(engine: Engine) -> None:
    """Issue 15: 8 parallel rotations were audited 8 times, but the version rose by 3."""
    from concurrent.futures import ThreadPoolExecutor

    with Session(engine) as session:
        add_desk(session, "ROT1", "Bàn thử")
        session.commit()

    def rotate(_: int) -> int:
        with Session(engine) as session:
            version = rotate_desk(session, "ROT1").token_version
            session.commit()
            return version

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(rotate, range(8)))
    assert sorted(versions) == list(range(2, 10))  # every rotation got its own version
    with Session(engine) as session:
        from survey.services.desks.links import get_desk

        assert get_desk(session, "ROT1").token_version == 9
