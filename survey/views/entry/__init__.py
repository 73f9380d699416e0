"""Paper entry: keying and review screens (keying.py), assignments (assign.py), one blueprint.

The app factory imports ``survey.views.entry`` and registers ``bp``; importing the two route
modules here attaches their routes to it.
"""

from survey.views.entry import assign, keying  # noqa: F401  (their routes join the blueprint)
from survey.views.entry.blueprint import bp

__all__ = ["bp"]
