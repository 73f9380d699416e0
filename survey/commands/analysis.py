"""``sipas estimate`` and ``sipas index`` as the app's CLI offers them: the analysis commands
plus what needs the app — ``--db``/``--round`` (read a round's verified responses) and
``--instrument`` (a questionnaire's elements and codes from ``forms/``).

Why here: ``analysis/`` imports nothing of ``survey/``; the app side extracts the data and
hands it to the analysis command: for ``index --instrument`` the round's design columns and
criteria straight from the tables (the dashboard's reader, tested equal to the export), for
anything else a CSV of the very export analysts download. Flask is not imported: only the
database layer, and only with ``--db``.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from analysis import cli as analysis_cli

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DB_OPTIONS = [
    click.Option(["--db"], is_flag=True,
                 help="Read the app's verified responses of one round (DATABASE_URL); "
                      "design columns default to weight, stratum, psu."),
    click.Option(["--round", "round_code"], help="With --db: the round code (default latest)."),
]
INSTRUMENT_OPTION = click.Option(
    ["--instrument"], help="Instrument code in forms/ (its elements and codes).")
AS_OPTION = click.Option(
    ["--as", "as_user"], metavar="USER",
    help="With --db: what this account may read: an account limited to an area gets its "
         "area's estimates only (a domain of the round's design), as its dashboard.")


def _area(kwargs: dict[str, Any]) -> None:
    """``--as USER``: an area's account reads the round as a domain, its area's rows only."""
    username = kwargs.pop("as_user", None)
    if not username:
        return
    if not kwargs.get("db"):
        raise ValueError("--as needs --db")
    from survey.commands import area_of_account
    from survey.services.data.analysis_extract import database_session
    from survey.services.reports.round_data import CODE

    with database_session() as session:
        scope = area_of_account(session, username)
    if scope.everything:
        return
    if kwargs.get("within"):
        raise ValueError(f"--within: {username} is limited to {scope.name}, which --as "
                         "chooses already")
    kwargs["within"] = f"{CODE}{scope.level}={scope.code}"
    kwargs["_within_as"] = (scope.level, scope.name)


def _from_database(kwargs: dict[str, Any]) -> Path | None:
    """Point the command at an extract of the round; returns the folder to remove after."""
    db, round_code = kwargs.pop("db"), kwargs.pop("round_code")
    if not db:
        if round_code:
            raise ValueError("--round needs --db")
        if kwargs["data"] is None:
            raise ValueError("give a DATA.csv file (or --db)")
        return None
    if kwargs["data"] is not None:
        raise ValueError("give either DATA.csv or --db, not both")
    from survey.services.data.analysis_extract import (
        direct_columns,
        extract_round,
        read_round,
        round_fingerprint,
    )

    for option, column in (("weight", "weight"), ("strata", "stratum"), ("psu", "psu")):
        if not kwargs[option]:
            kwargs[option] = column
    asked, instrument = _columns_asked(kwargs), kwargs.get("_instrument_code")
    if instrument is not None and direct_columns(asked):
        # the same question about the same data is answered from the report cache: read
        # the round only when the answer is not kept (see _with_app)
        code, stamp = round_fingerprint(round_code, instrument)
        options = sorted((k, repr(v)) for k, v in kwargs.items() if k != "data")
        kwargs["_question"] = (stamp, tuple(options))
        kwargs["_table"] = lambda: read_round(code, instrument, asked, stamp).table  # type: ignore[union-attr]
        kwargs["_source"] = {"database_round": code}
        return None
    direct = read_round(round_code, instrument, asked)
    if direct is not None:
        kwargs["_table"], kwargs["_source"] = direct.table, {"database_round": direct.round_code}
        return None
    extract = extract_round(round_code)
    kwargs["data"] = str(extract.path)
    kwargs["_source"] = {"database_round": extract.round_code}
    return extract.path.parent


def _columns_asked(kwargs: dict[str, Any]) -> dict[str, list[str]] | None:
    """The columns an ``index --instrument`` run reads, or None when another command or
    option needs the export's other columns (fpc, calibration margins)."""
    elements = kwargs.get("_elements")
    if not elements or kwargs.get("fpc") or kwargs.get("poststratify") or kwargs.get("rake"):
        return None
    within = (kwargs.get("within") or "").partition("=")[0].strip()
    return {"items": [c for e in elements for c in e.items],
            "design": [c for c in (kwargs["weight"], kwargs["strata"], kwargs["by"], within,
                                   *analysis_cli._split(kwargs["psu"])) if c]}


def _instrument(kwargs: dict[str, Any]) -> None:
    """Hand the index command the instrument's elements and its satisfied/valid codes."""
    code = kwargs.pop("instrument")
    if not code:
        return
    from analysis.index import Element
    from survey.instruments import load_instrument

    inst = load_instrument(code)
    kwargs["_instrument_code"] = code
    kwargs["_elements"] = [Element(e.code, tuple(e.items), e.label.get("vi", ""))
                           for e in inst.elements]
    kwargs["_satisfied"] = tuple(inst.satisfied_codes)
    kwargs["_valid"] = tuple(inst.valid_codes)


def _with_app(base: click.Command, extra: list[click.Option],
              prepare: list[Callable[[dict[str, Any]], Any]]) -> click.Command:
    @analysis_cli.one_line_errors
    def callback(**kwargs: Any) -> None:
        folder: Path | None = None
        try:
            for step in prepare:
                made = step(kwargs)
                folder = folder or made
            assert base.callback is not None
            question = kwargs.pop("_question", None)
            if question is None:
                base.callback(**kwargs)
            else:
                from survey.services.reports import cache

                click.echo(cache.remember(f"cli-{base.name}", question,
                                          lambda: _printed(base, kwargs)), nl=False)
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    return click.Command(base.name, params=[*base.params, *extra], callback=callback,
                         help=base.help, short_help=base.short_help)


def _printed(base: click.Command, kwargs: dict[str, Any]) -> str:
    """What the command prints, captured to be kept (an error raises and keeps nothing)."""
    out = io.StringIO()
    assert base.callback is not None
    with contextlib.redirect_stdout(out):
        base.callback(**kwargs)
    return out.getvalue()


estimate_command = _with_app(analysis_cli.estimate_command, DB_OPTIONS, [_from_database])
compare_command = _with_app(analysis_cli.compare_command, DB_OPTIONS, [_from_database])
quantile_command = _with_app(analysis_cli.quantile_command, DB_OPTIONS, [_from_database])
model_command = _with_app(analysis_cli.model_command, DB_OPTIONS, [_from_database])
association_command = _with_app(analysis_cli.association_command, DB_OPTIONS,
                                [_from_database])
replicates_command = analysis_cli.replicates_command  # a file in, a file out
smallarea_command = analysis_cli.smallarea_command  # a table of areas in
index_command = _with_app(analysis_cli.index_command,
                          [INSTRUMENT_OPTION, *DB_OPTIONS, AS_OPTION],
                          [_instrument, _area, _from_database])


def index_output_for(args: list[str], engine: Engine | None = None) -> tuple[str, list[str]]:
    """What ``sipas index ARGS`` prints on stdout, and its warnings, without printing.

    The API's ``/api/v1/index`` answers with this, so it is the command's answer by
    construction: the same option parsing, the same reading of the round, the same cache.
    Bad input raises ValueError (or click's UsageError) with the command's message.
    ``engine``: the web app's database (the command line opens DATABASE_URL).
    """
    import warnings

    if engine is not None:
        from survey.services.data.analysis_extract import using_engine

        with using_engine(engine):
            return index_output_for(args)

    ctx = index_command.make_context("index", list(args))
    kwargs: dict[str, Any] = dict(ctx.params)
    folder: Path | None = None
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for step in (_instrument, _area, _from_database):
                made = step(kwargs)
                folder = folder or made
            question = kwargs.pop("_question", None)

            def compute() -> str:  # the command's printed text, newline included
                return analysis_cli.index_output(**kwargs) + "\n"

            if question is None:
                text = compute()
            else:
                from survey.services.reports import cache

                text = cache.remember("cli-index", question, compute)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return text, list(dict.fromkeys(str(w.message) for w in said))
