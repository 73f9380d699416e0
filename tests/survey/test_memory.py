"""Does a one-command process set aside what it loaded, and only such a process?"""

from __future__ import annotations

import gc

import pytest

from survey import memory
from tests.support import fresh_python


def test_a_command_in_another_process_leaves_the_collector_as_it_was() -> None:
    """A test (or the web app) calling a command in its own process: nothing is frozen,
    collection never paused (what a test holds must not be kept forever)."""
    assert not memory._one_job
    frozen = gc.get_freeze_count()
    memory.set_aside_for_the_job()
    assert gc.get_freeze_count() == frozen
    with memory.collector_paused():
        assert gc.isenabled()
    assert gc.isenabled()


def test_the_sipas_process_pauses_collection_for_its_bulk_job_and_resumes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_one_job", True)
    with memory.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), memory.collector_paused():
        raise RuntimeError("the disk is full")
    assert gc.isenabled()  # resumed after a failure too
    gc.disable()
    try:  # already paused by someone else: left paused
        with memory.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_console_script_marks_its_process_as_one_job() -> None:
    script = ("import gc, sys\n"
              "from survey import memory\n"
              "import survey.cli as cli\n"
              "seen = []\n"
              "cli.main = lambda: seen.append(memory._one_job)\n"
              "cli.run()\n"
              "print(seen, gc.get_freeze_count() > 0)\n")
    assert fresh_python(script) == ["[True]", "True"]  # marked, and frozen on the way out
