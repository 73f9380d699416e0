"""Setting what a process has loaded aside from the garbage collector.

Why: a worker or a command holds a few hundred thousand objects that live as long as it
does (modules, the app, templates, fonts). Python's full collections walk every one of
them, and a long job that makes millions of short-lived objects (a national export's
rows, a report's tables) triggers many collections: the CSV export of a million desk
evaluations spent a third of its 15 s in them. ``gc.freeze`` moves the objects alive now
to a generation the collector never walks; what is made afterwards is collected as before.

A server's workers set aside what they loaded once, after their warm-up
(:mod:`survey.serving`). A command does it only when it is the whole process (the
``sipas`` console script, :func:`one_job`): a test calling a command in its own process
must not have every object it holds at that moment kept forever.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_one_job = False


def one_job() -> None:
    """This process runs one command and ends (the ``sipas`` console script)."""
    global _one_job
    _one_job = True


def set_aside_loaded() -> int:
    """Collect once (what loading left unreachable is freed, not kept forever), then set
    every object alive aside from later collections. Returns how many were set aside."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def set_aside_for_the_job() -> None:
    """In a one-command process, set aside what it has loaded (the app, its modules)."""
    if _one_job:
        set_aside_loaded()


@contextmanager
def collector_paused() -> Iterator[None]:
    """In a one-command process, no garbage collection inside (reference counting still
    frees everything that forms no cycle); elsewhere, nothing changes.

    For a bulk job whose objects are rows, lists of strings that form no cycles: a national
    CSV export makes some fifty million of them, and even with what was loaded set aside,
    collecting the young ones took a third of its time.
    """
    if not _one_job or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
