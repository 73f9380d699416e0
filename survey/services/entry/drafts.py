"""What a keyer has typed on a pass that is not saved yet, kept on the server.

The keying screen sends the form every few answers (and when the tab is hidden); a submit
that fails its checks, or that arrives after the login has expired, is kept the same way.
Opening the pass again puts every typed value back, so a closed tab, a network drop or a
30-minute idle logout never costs a questionnaire. Nothing here is a stored response: a
draft becomes data only through :func:`survey.services.entry.keying.save_pass`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from survey.models import utcnow
from survey.models_entry import Keying

MAX_DRAFT_BYTES = 60_000  # a full questionnaire with long comments is under 10 KB


def keep_draft(session: Session, keying: Keying, outcome: str,
               values: Mapping[str, str]) -> datetime | None:
    """Keep the typed values of a pass still in draft; the caller commits.

    Returns when it was kept, or None when the pass is already saved (a late autosave of a
    finished pass changes nothing) or the draft is implausibly large.
    """
    if keying.state != "draft":
        return None
    text = json.dumps({"outcome": outcome, "values": dict(values)}, ensure_ascii=False,
                      sort_keys=True)
    if len(text.encode("utf-8")) > MAX_DRAFT_BYTES:
        return None
    keying.draft, keying.draft_saved_at = text, utcnow()
    session.add(keying)
    return keying.draft_saved_at


def draft_of(keying: Keying) -> tuple[str, dict[str, str]]:
    """The outcome and values kept for this pass (empty when there is none)."""
    if not keying.draft:
        return "", {}
    try:
        data = json.loads(keying.draft)
    except ValueError:
        return "", {}
    values = data.get("values") if isinstance(data, dict) else None
    if not isinstance(values, dict):
        return "", {}
    return str(data.get("outcome") or ""), {str(k): str(v) for k, v in values.items()}
