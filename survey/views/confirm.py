"""A confirmation step for irreversible staff actions, without JavaScript.

The action's form posts as usual; without ``confirmed=1`` the view answers with a page that
says what will happen and posts the same request again with ``confirmed=1`` (CSRF
included). Only then is anything changed.
"""

from __future__ import annotations

from flask import render_template, request


def confirmed() -> bool:
    return request.form.get("confirmed") == "1"


def confirm_page(title: str, consequence: str, button: str, back: str,
                 keep: dict[str, str] | None = None) -> str:
    return render_template("confirm.html", title=title, consequence=consequence,
                           button=button, back=back, keep=keep or {})
