"""Messages a service gives a person, in the language of whoever reads them.

Services import nothing from Flask, yet their refusals end up on a page in Vietnamese or
English. A :class:`UserError` therefore carries an English message id and its values, not
a finished sentence: a view translates it with the page's catalogue (:func:`localised`),
the CLI prints the English text. ``N_`` marks the id for ``pybabel extract`` (one of its
default keywords) without translating it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(msgid: str) -> str:  # noqa: N802 - the conventional name pybabel looks for
    """Mark ``msgid`` for extraction; it is translated where it is shown."""
    return msgid


class UserError(ValueError):
    """A refusal with a message for a person: ``msgid`` % ``params``."""

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid, self.params = msgid, params
        super().__init__(msgid % params if params else msgid)

    def localised(self, gettext: Callable[..., str], lang: str = "vi") -> str:
        """The message in the reader's language, given the page's ``gettext`` (a value that
        is itself a message, e.g. "line 3: <what is wrong>", is translated too)."""
        params = {k: v.localised(gettext, lang) if isinstance(v, UserError) else v
                  for k, v in self.params.items()}
        return gettext(self.msgid, **params)


class WordedError(UserError):
    """A message whose words come with the data (an instrument's own constraint message in
    Vietnamese and English), not from the catalogue."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = {k: v for k, v in texts.items() if v}
        super().__init__(self.texts.get("en") or self.texts["vi"])
        self.msgid, self.params = str(self), {}

    def localised(self, gettext: Callable[..., str], lang: str = "vi") -> str:
        return self.texts.get(lang) or self.texts["vi"]
