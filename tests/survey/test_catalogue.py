"""Has every message a person can read a Vietnamese translation — in Python (``_``, ``N_``,
``gettext``) and in the templates? A message added in English and forgotten in the catalogue
would show English on a Vietnamese page."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "survey" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
MARKERS = {"_", "N_", "_l", "gettext", "lazy_gettext"}
TEMPLATE_CALL = re.compile(r"""_\(\s*(['"])((?:\\.|(?!\1).)+)\1""")


def _translated() -> set[str]:
    with CATALOGUE.open("rb") as handle:
        return {m.id for m in read_po(handle) if isinstance(m.id, str) and m.string}


def _python_messages() -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / "survey").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in MARKERS \
                    and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                found.add((node.args[0].value, str(path.relative_to(ROOT))))
    return found


def _template_messages() -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / "survey" / "templates").rglob("*.html"):
        for match in TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8")):
            text = match.group(2).replace("\\'", "'").replace('\\"', '"')
            found.add((text, str(path.relative_to(ROOT))))
    return found


def test_every_marked_message_has_a_vietnamese_translation() -> None:
    translated = _translated()
    missing = sorted((where, msgid) for msgid, where in _python_messages() | _template_messages()
                     if msgid not in translated)
    assert not missing, "\n".join(f"{where}: {msgid!r}" for where, msgid in missing)
