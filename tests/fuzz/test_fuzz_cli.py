"""Does every ``sipas`` subcommand answer garbage options and values with a message and exit
code 1 or 2 (or succeed), never a traceback?

The command tree and each command's options are read from click itself, so a new command
is fuzzed as soon as it is registered. ``run`` (it would serve) is left out. Commands run
in a temporary working directory against a migrated test database.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from survey.cli import main
from tests.fuzz.strategies import NASTY

LEFT_OUT = {("run",), ("webhook", "run")}  # they serve (run --once is tested in tests/webhooks)
# A shell cannot put NUL in an argument (argv entries are C strings): no NUL here.
token = st.one_of(st.sampled_from([t for t in NASTY if len(t) < 1000 and "\x00" not in t]),
                  st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                          max_size=20),
                  st.sampled_from(["-", "--", "--x", "-h", "/", ".", "nope.csv", "2025-Q3",
                                   "PL-MC1", "sipas.db"]))


def leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...],
                                                                           list[str]]]:
    """(command path, its option names) for every runnable command under ``group``."""
    ctx = click.Context(group)
    out = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = (*prefix, name)
        if command is None or path in LEFT_OUT:
            continue
        if isinstance(command, click.Group):
            out.extend(leaves(command, path))
        else:
            opts = [o for p in command.params if isinstance(p, click.Option) for o in p.opts]
            out.append((path, opts))
    return out


COMMANDS = leaves(main)


@st.composite
def argv(draw: st.DrawFn) -> list[str]:
    path, opts = draw(st.sampled_from(COMMANDS))
    args = list(path)
    for _ in range(draw(st.integers(0, 5))):
        if opts and draw(st.booleans()):
            args.append(draw(st.sampled_from(opts)))
        args.append(draw(token))
    return args


def test_every_command_is_fuzzed() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"desk add", "frame import", "volumes import", "export", "estimate"} <= names


@pytest.mark.usefixtures("engine")
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=argv())
def test_garbage_arguments_get_a_message_not_a_traceback(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args, env=cli_env, input="")
    event(f"exit {result.exit_code}")
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, (args, repr(result.exception))
    assert "Traceback" not in result.output, args
    assert result.exit_code in (0, 1, 2), (args, result.exit_code)
    if result.exit_code:
        assert result.output.strip(), f"{args}: failed without a message"
