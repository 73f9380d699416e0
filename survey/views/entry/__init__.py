"""Paper entry: keying and review (keying.py), drafts (drafts.py), assignments (assign.py).

The app factory imports ``survey.views.entry`` and registers ``bp``; importing the two route
modules here attaches their routes to it.
"""

from survey.views.entry import (  # noqa: F401  (their routes join the bp)
    assign,
    drafts,
    keying,
    ministry,
)
from survey.views.entry.blueprint import bp

__all__ = ["bp"]
