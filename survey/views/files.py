"""File downloads: a Content-Disposition that no name can break.

Names are built from round codes, desk codes and enumerator names that people chose; a
newline in one made the header invalid (a 500), a quote let a ``filename*=`` be smuggled in.
Only letters, digits, ``.``, ``_`` and ``-`` reach the header.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def disposition(name: str, inline: bool = False) -> str:
    safe = _UNSAFE.sub("_", name).strip("._")[:120] or "sipas-download"
    return f'{"inline" if inline else "attachment"}; filename="{safe}"'
