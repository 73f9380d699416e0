"""Hypothesis strategies for hostile form posts: a valid post, bent field by field.

Starting from a valid post and mutating it reaches the deep code paths (the store, the
checks) far more often than random fields would; each field is kept, dropped, replaced by
junk (wrong types, huge, unicode, control characters, injection strings) or repeated, and
unknown fields are added. The CSRF token is real, missing, empty, junk or another session's.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

NASTY = ["", " ", "\x00", "\r\n", "NaN", "inf", "-inf", "1e309", "-1", "0", "9", "99", "98",
         "4.0", "4,5", "0x10", "1_000", "١٢", "５", "Ⅳ", "²", "5120-00²-2", "null", "None",
         "true", "[]", "{}",
         "<script>alert(1)</script>", "'; DROP TABLE response;--", "%00", "../../etc/passwd",
         "=cmd|' /C calc'!A0", "9" * 400, "x" * 100_000, "\u202e\u0301\u200b", "Ấp Nam 𝕏 😀"]

# Any character a browser can send (no lone surrogates: they cannot be UTF-8 encoded).
CHARS = st.characters(exclude_categories=("Cs",))
junk = st.one_of(
    st.sampled_from(NASTY),
    st.text(CHARS, max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(CHARS, min_size=1, max_size=3).map(lambda s: s * 3000),
)
field_name = st.one_of(st.text(CHARS, min_size=1, max_size=30),
                       st.sampled_from(["csrf_token", "form_token", "client_uuid", "iv", "id",
                                        "role",
                                        "status", "__class__", "a" * 5000]))


@st.composite
def bent(draw: st.DrawFn, base: dict[str, str], names: tuple[str, ...] = ()) -> MultiDict:
    """``base`` with a few fields dropped, junked or repeated; plus unknown fields.

    ``names`` are fields that the endpoint reads but ``base`` leaves out (tried too). Most
    fields are kept so that the deep paths (the checks, the store) are reached often.
    """
    every = list(base) + [n for n in names if n not in base]
    touched = draw(st.sets(st.sampled_from(every), max_size=3)) if every else set()
    out: MultiDict = MultiDict()
    for name in every:
        move = draw(st.sampled_from(["drop", "junk", "many"])) if name in touched else "keep"
        if move == "keep" and name in base:
            out.add(name, base[name])
        elif move == "junk":
            out.add(name, draw(junk))
        elif move == "many":
            for value in draw(st.lists(st.one_of(junk, st.just(base.get(name, ""))),
                                       min_size=2, max_size=4)):
                out.add(name, value)
    for name, value in draw(st.lists(st.tuples(field_name, junk), max_size=2)):
        out.add(name, value)
    return out


def with_csrf(draw: st.DrawFn, data: MultiDict, real: str, foreign: str,
              field: str = "csrf_token") -> str:
    """Put a token (CSRF, or the citizen form's instance) of a drawn kind into ``data``;
    return the kind."""
    kind = draw(st.sampled_from(["real"] * 6 + ["missing", "empty", "junk", "foreign"]))
    data.poplist(field)
    if kind != "missing":
        data[field] = {"real": real, "empty": "", "foreign": foreign}.get(kind, draw(junk))
    return kind


def encoded(data: MultiDict) -> dict[str, Any]:
    """Test-client keyword arguments posting ``data`` as a urlencoded form."""
    return {"data": data, "content_type": "application/x-www-form-urlencoded"}


raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"%", b"a=%zz&b=%", b"a=\xff\xfe", b"=&=&&", b"a" * 200_000 + b"=1"]),
)
