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

    def localised(self, gettext: Callable[..., str]) -> str:
        """The message in the reader's language, given the page's ``gettext``."""
        return gettext(self.msgid, **self.params)
