"""``sipas estimate`` and ``sipas index``: thin click wrappers over the analysis engine.

They read a CSV file and import nothing of the app (``survey``), Flask or SQLModel: start-up
time, and analysts' machines need not run the app. The app's CLI adds ``--db``/``--round``
and ``--instrument`` on top (``survey/commands/analysis.py``): it extracts the data and hands
it here as a CSV path (or, for ``index --instrument``, as ``_table``: the columns already
read, see :func:`analysis.io.from_columns`), with ``_source`` (how the output names where
the data came from) and, for ``index``, ``_elements`` and code defaults. Any bad input ends
with one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import click

LONELY = ("fail", "remove", "certainty", "adjust", "average")


def _codes(text: str | None, default: tuple[int, ...], option: str) -> tuple[int, ...]:
    if text is None:
        return default
    try:
        codes = tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise ValueError(f"{option} must be integer codes like 4,5 (got {text!r})") from None
    if not codes:
        raise ValueError(f"{option} is empty")
    return codes


NO_ANSWER = 9  # the forms' code for "no answer" (Không trả lời)


def _looks_coded_with_no_answer(y) -> bool:  # type: ignore[no-untyped-def]
    """Answer codes 1–5 with the 'no answer' code among them: a mean would count the 9."""
    import numpy as np

    seen = np.unique(y[~np.isnan(y)])
    return bool(seen.size) and NO_ANSWER in seen and set(seen.tolist()) <= {1, 2, 3, 4, 5, 9}


def share_target(target: float | None) -> None:
    """A target for a proportion is a share: 0.80, not 80 or 2."""
    if target is not None and not 0 < target < 1:
        raise ValueError(f"--target is a share between 0 and 1 for a proportion (got "
                         f"{target:g}); write 0.80 for 80%")


NO_ANSWER_NOTE = (f"code {NO_ANSWER} is counted as a value (the forms' 'no answer'): add "
                  "--valid 1,2,3,4,5 to leave it out")


def _noted(rows: list, names: set[str]) -> list:
    """The rows of the variables in ``names`` with :data:`NO_ANSWER_NOTE` before their note."""
    import dataclasses

    return [dataclasses.replace(r, note="; ".join(x for x in (NO_ANSWER_NOTE, r.note) if x))
            if r.name in names else r for r in rows]


def _emit(fmt: str, head: dict, key: str, dicts: list[dict], table) -> None:  # type: ignore[no-untyped-def]
    """Print rows as JSON (``head`` plus ``key``: the rows), CSV, or ``table()``'s text."""
    import json

    if fmt == "json":
        click.echo(json.dumps({**head, key: dicts}, ensure_ascii=False, indent=1,
                              allow_nan=False))
        return
    from analysis.report import rows_csv

    click.echo(rows_csv(dicts) if fmt == "csv" else table())


def _split(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def design_options(func: Callable) -> Callable:
    """Options shared by both commands (R ``svydesign`` arguments)."""
    opts = [
        click.option("--by", "by", help="Domain column (one estimate per value)."),
        click.option("--weight", help="Weight column (default: from the fpc, or 1)."),
        click.option("--strata", help="Stratum column; province:stratum for strata nested in "
                     "provinces (R strata = ~interaction(province, stratum)), e.g. a national "
                     "file of every province's sample."),
        click.option("--psu", help="Cluster column(s) per stage, e.g. hamlet or psu,household."),
        click.option("--fpc", help="Population size or sampling fraction column(s) per stage."),
        click.option("--nest", is_flag=True, help="PSU ids repeat across strata (R nest=TRUE)."),
        click.option("--lonely-psu", type=click.Choice(LONELY), default="fail",
                     show_default=True, help="Strata with one PSU, as options(survey.lonely.psu)."),
        click.option("--poststratify", type=click.Path(dir_okay=False),
                     help="Post-stratify to the population totals in this CSV."),
        click.option("--rake", type=click.Path(dir_okay=False),
                     help="Rake to the one-way margins in this CSV."),
        click.option("--level", type=float, default=0.95, show_default=True),
        click.option("--target", type=float, help="Target share, e.g. 0.80."),
        click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]),
                     default="table", show_default=True),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def one_line_errors(func: Callable) -> Callable:
    """Turn any failure into one clear line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> None:
        import warnings

        try:
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always")
                try:
                    func(*args, **kwargs)
                finally:  # what the estimates should be read with, one line each
                    for message in dict.fromkeys(str(w.message) for w in said):
                        click.echo(f"warning: {message}", err=True)
        except (ValueError, KeyError, OSError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except MemoryError:
            click.echo("error: not enough memory for this file", err=True)
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - the contract is: never a traceback
            click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(1)

    return wrapper


def _load(data: str, needed: list[str], opts: dict, codes: list[str] | None = None):
    """Read the CSV and build the design (with calibration if asked).

    ``codes`` are answer-code columns, read as small integers when they hold whole numbers.
    """
    from analysis.design import make_design
    from analysis.estimate import Domains
    from analysis.io import read_csv

    if data is None and opts.get("_table") is None:
        raise ValueError("give a DATA.csv file")
    psu, fpc = _split(opts["psu"]), _split(opts["fpc"])
    strata = [c.strip() for c in opts["strata"].split(":")] if opts["strata"] else []
    cal_cols = _calibration_columns(opts)
    text = [c for c in [*strata, opts["by"], opts.get("_within_column"), *psu] if c] + cal_cols
    cols = needed + text + [c for c in [opts["weight"], *fpc] if c]
    given = opts.get("_table")  # the app's database path hands the columns over directly
    if callable(given):  # ... or how to read them, when the answer was not kept already
        given = given()
    table = given or read_csv(data, cols, text_columns=text, code_columns=codes or (),
                              number_columns=[c for c in [opts["weight"], *fpc] if c])
    if table.n == 0:
        raise ValueError(f"{data} has no rows")
    design = make_design(
        table.n,
        weights=table.numeric(opts["weight"]) if opts["weight"] else None,
        strata=_strata(table, strata) if strata else None,
        clusters=[table.categorical(c) for c in psu],
        fpc=[table.numeric(c) for c in fpc], nest=opts["nest"], lonely_psu=opts["lonely_psu"],
    )
    design = _calibrate(design, table, opts, cal_cols)
    by = Domains.of(opts["by"], table.categorical(opts["by"]) if opts["by"] else None)
    for c in set(cols) - set(needed) - {opts.get("_within_column")}:  # the design holds
        table.release(c)  # what it needs of these now
    return table, design, by


def _strata(table: Any, columns: list[str]) -> Any:
    """The stratum of each row: one column's, or the combination of several (``a:b``, as R's
    ``interaction(a, b)``): a province's strata nested in the national design. A row with
    any part empty has no stratum (refused by the design, as R refuses it)."""
    if len(columns) == 1:
        return table.categorical(columns[0])
    import numpy as np

    parts = [table.categorical(c) for c in columns]
    missing = np.zeros(table.n, dtype=bool)
    text = np.full(table.n, "", dtype=object)
    for k, part in enumerate(parts):
        missing |= part.codes < 0
        labels = np.array(list(part.labels) + [""], dtype=object)
        text = text + ("" if k == 0 else ":") + labels[part.codes]
    text[missing] = ""
    return text


def _calibration_columns(opts: dict) -> list[str]:
    """Data columns a --poststratify/--rake totals file refers to (read as text)."""
    from pathlib import Path

    cols: list[str] = []
    for key in ("poststratify", "rake"):
        if opts[key]:
            if not Path(opts[key]).is_file():
                raise ValueError(f"no such file: {opts[key]}")
            from analysis.weighting import totals_columns  # lazy: the weighting module

            cols += totals_columns(opts[key], key)
    return list(dict.fromkeys(cols))


def _calibrate(design, table, opts: dict, cal_cols: list[str]):
    if not (opts["poststratify"] or opts["rake"]):
        return design
    import numpy as np

    from analysis import weighting  # lazy: written by the weighting module's owner

    columns = {}
    for c in cal_cols:
        if table.has(c):
            cat = table.categorical(c)
            labels = np.array(list(cat.labels) + [""], dtype=object)
            columns[c] = labels[cat.codes]
    if opts["poststratify"]:
        design = weighting.poststratify_from_csv(design, columns, opts["poststratify"])
    if opts["rake"]:
        design = weighting.rake_from_csv(design, columns, opts["rake"])
    return design


def _design_info(data: str, design, opts: dict, extra: dict) -> dict:
    source = opts.get("_source") or {"file": data}
    info = {**source, "weight": opts["weight"], "strata": opts["strata"],
            "psu": _split(opts["psu"]) or None, "fpc_columns": _split(opts["fpc"]) or None,
            "by": opts["by"], "level": opts["level"]}
    info.update(design.summary())
    info.update(extra)
    return info


def check_codes(name: str, values, empty: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Refuse an answer that is not a code (4.5, −4): it would silently count as missing.

    ``values`` are whole numbers with −1 for ``empty`` cells, or floats with NaN for them.
    """
    import numpy as np

    if values.dtype.kind in "iu":
        negative = values < 0
        if int(negative.sum()) <= empty:  # only the empty cells
            return
        typed = np.flatnonzero(values < -1) if empty else np.flatnonzero(negative)
        if typed.size == 0:  # a typed −1 hides among the empty cells' −1s
            raise ValueError(f"column {name!r} holds a negative number: answer codes are "
                             "whole numbers from 0 (leave the cell empty for no answer)")
        row = int(typed[0])
        text = str(int(values[row]))
    else:
        with np.errstate(invalid="ignore"):
            bad = ~np.isnan(values) & ((values < 0) | (values != np.floor(values)))
        if not bad.any():
            return
        row = int(np.flatnonzero(bad)[0])
        text = f"{float(values[row]):g}"
    raise ValueError(f"column {name!r}, data row {row + 1}: {text} is not an answer code "
                     "(whole numbers from 0; leave the cell empty for no answer)")


class _Released(Mapping):
    """Answer-code columns read on first access and then dropped from the table, so that a
    ten-million-row file holds one item's integers at a time besides everyone's slots."""

    def __init__(self, table, names: list[str]) -> None:  # type: ignore[no-untyped-def]
        self._table, self._names = table, list(names)

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        if name not in self._names:
            raise KeyError(name)
        values = self._table.codes(name)
        check_codes(name, values, self._table.null_count(name))
        self._table.release(name)
        return values

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@click.command("estimate")
@click.argument("data", required=False, type=click.Path(dir_okay=False))
@click.option("--var", "variables", multiple=True, required=True, help="Column to estimate.")
@click.option("--satisfied", help="Codes counted as satisfied, e.g. 4,5 (a proportion).")
@click.option("--valid", help="Valid answer codes (default 1,2,3,4,5 with --satisfied; for a "
              "mean, the codes that count as values).")
@click.option("--ci", type=click.Choice(["logit", "mean", "asin", "beta"]), default="logit",
              show_default=True, help="CI method for proportions (as R svyciprop).")
@click.option("--repweights", help="SEs from replicate weight columns starting with this "
              "(e.g. rep_), combined as DATA.replicates.json says (see sipas replicates).")
@design_options
@one_line_errors
def estimate_command(data: str, variables: tuple[str, ...], satisfied: str | None,
                     valid: str | None, ci: str, repweights: str | None,
                     **opts: object) -> None:
    """Design-based means or proportions with CIs, as R's survey package."""
    import numpy as np

    from analysis.engine import NumericIndicator, run
    from analysis.estimate import satisfied_indicator, to_rows
    from analysis.report import render

    if repweights is not None and (opts["strata"] or opts["psu"] or opts["fpc"]
                                   or opts["rake"] or opts["poststratify"]):
        raise ValueError("with --repweights the replicate weights carry the design: leave "
                         "out --strata, --psu, --fpc and calibration")
    rep_columns, rep_info = (_replicate_columns(data, repweights) if repweights is not None
                             else ([], {}))
    table, design, by = _load(data, list(variables) + rep_columns, opts)
    if satisfied is not None:
        share_target(opts["target"])  # type: ignore[arg-type]
        sat = _codes(satisfied, (4, 5), "--satisfied")
        val = _codes(valid, (1, 2, 3, 4, 5), "--valid")
        inds = []
        for v in variables:
            y = table.numeric(v)
            check_codes(v, y)
            inds.append(satisfied_indicator(v, y, sat, val))
    else:  # means; of a coded item, over its valid codes (--valid), never its "no answer"
        codes = _codes(valid, (), "--valid") if valid is not None else None
        inds, warned = [], set()
        for v in variables:
            y = table.numeric(v)
            ok = ~np.isnan(y) if codes is None else np.isin(y, codes)
            inds.append(NumericIndicator(v, y, ok))
            if codes is None and _looks_coded_with_no_answer(y):
                warned.add(v)
    res = run(design, inds, by.codes, len(by.labels))
    if repweights is not None:
        res = _replicate_se(res, table, design, inds, by, rep_columns, rep_info)
    rows = to_rows(res, list(variables), by, [satisfied is not None] * len(inds), ci,
                   opts["level"], opts["target"],
                   design_rows=design.n if design.calibrations else None)
    if satisfied is None and warned:
        rows = _noted(rows, warned)
    info = _design_info(data, design, opts, {"ci": ci, "satisfied": satisfied})
    click.echo(render(rows, info, opts["fmt"], "variable", opts["level"]))


@click.command("index")
@click.argument("data", required=False, type=click.Path(dir_okay=False))
@click.option("--element", "elements", multiple=True, help="NAME=COL,COL,... (repeatable).")
@click.option("--satisfied", help="Satisfied codes (default 4,5 or the instrument's).")
@click.option("--valid", help="Valid codes (default 1..5 or the instrument's).")
@click.option("--within", help="COL=VALUE: only this subpopulation's estimates (a domain of "
              "the whole design, as R's subset()); --by breaks it down.")
@design_options
@one_line_errors
def index_command(data: str, elements: tuple[str, ...], satisfied: str | None,
                  valid: str | None, **opts: object) -> None:
    """SIPAS criterion, element and overall indices with logit CIs."""
    click.echo(index_output(data, elements, satisfied, valid, **opts))


def _within(text: str | None) -> tuple[str, str] | None:
    """``COL=VALUE`` → (column, value); refused without both."""
    if not text:
        return None
    column, eq, value = text.partition("=")
    if not eq or not column.strip() or not value.strip():
        raise ValueError(f"--within takes COL=VALUE, e.g. province=Tỉnh An Hòa (got {text!r})")
    return column.strip(), value.strip()


def _within_rows(table, design, answers, els, by, within, opts, sat, val) -> list:  # type: ignore[no-untyped-def]
    """Estimates for the rows with ``within`` = (column, value) and for each ``--by``
    domain among them: domains of the whole design (its strata, PSUs and df, as R's
    ``subset()`` keeps them), never the rows alone. Nothing of the other rows is shown:
    an area's account reads its own area's numbers only."""
    import numpy as np

    from analysis.estimate import Domains
    from analysis.index import sipas_index

    column, value = within
    cat = table.categorical(column)
    inside = (cat.codes == cat.labels.index(value)) if value in cat.labels else \
        np.zeros(table.n, dtype=bool)
    table.release(column)
    if not inside.any():
        raise ValueError(f"no rows have {column} = {value!r}")
    shown = opts.get("_within_as") or within  # the app names the area, not its code column
    answers = {k: answers[k] for k in answers}  # read once: two estimations follow

    def estimate(domains: Domains) -> list:  # type: ignore[type-arg]
        return [r for r in sipas_index(design, answers, els, domains, sat, val,
                                       opts["level"], opts["target"]) if r.domain]

    rows = estimate(Domains.of(shown[0], np.where(inside, shown[1], "")))
    if by.column is not None:
        names = np.array([*by.labels, ""], dtype=object)[by.codes]  # -1: no value: ""
        rows += estimate(Domains.of(by.column, np.where(inside, names, "")))
    return rows


def index_output(data: str, elements: tuple[str, ...], satisfied: str | None,
                 valid: str | None, **opts: object) -> str:
    """What ``sipas index`` prints (without its final newline), for the command and for the
    app's API, which must answer exactly as the command does; raises ValueError on bad input."""
    from analysis.index import Element, parse_element, sipas_index
    from analysis.report import render

    given: list[Element] | None = opts.get("_elements")  # type: ignore[assignment]
    if bool(elements) == bool(given):
        raise ValueError("give either --element NAME=COL,... or --instrument ID")
    els = given or [parse_element(e) for e in elements]
    share_target(opts["target"])  # type: ignore[arg-type]
    sat = _codes(satisfied, opts.get("_satisfied") or (4, 5), "--satisfied")  # type: ignore[arg-type]
    val = _codes(valid, opts.get("_valid") or (1, 2, 3, 4, 5), "--valid")  # type: ignore[arg-type]
    items = [c for e in els for c in e.items]
    within = _within(opts.get("within"))  # type: ignore[arg-type]
    opts["_within_column"] = within[0] if within else None
    table, design, by = _load(data, items, opts, codes=items)
    answers = _Released(table, items)
    if within:
        rows = _within_rows(table, design, answers, els, by, within, opts, sat, val)
    else:
        rows = sipas_index(design, answers, els, by, sat, val, opts["level"], opts["target"])
    info = _design_info(data, design, opts, {
        "satisfied": list(sat), "valid": list(val), "ci": "logit",
        "elements": {e.name: list(e.items) for e in els}})
    if within:
        shown = opts.get("_within_as") or within
        info["within"] = {str(shown[0]): str(shown[1])}
    return render(rows, info, opts["fmt"], "indicator", opts["level"])



MAX_PAIRS_DOMAINS = 20  # every pair of more domains than this is too long a list: --versus


@click.command("compare")
@click.argument("data", required=False, type=click.Path(dir_okay=False))
@click.option("--var", "variable", required=True, help="Column to compare.")
@click.option("--satisfied", help="Codes counted as satisfied, e.g. 4,5 (a share).")
@click.option("--valid", help="Valid answer codes (default 1,2,3,4,5 with --satisfied).")
@click.option("--versus", help="Compare every domain of --by with this one (default: every "
              "pair).")
@click.option("--previous", type=click.Path(dir_okay=False),
              help="The previous round's file (same columns): this round minus that one, "
                   "as independent samples, overall and per domain of --by.")
@design_options
@one_line_errors
def compare_command(data: str, variable: str, satisfied: str | None, valid: str | None,
                    versus: str | None, previous: str | None, **opts: object) -> None:
    """Differences between domains (or rounds) with design-based SEs, as R svycontrast."""
    from analysis.compare import domain_differences
    from analysis.report import render_differences

    if opts["target"] is not None:
        raise ValueError("--target is not used by compare (it compares two estimates)")
    if previous is None and not opts["by"]:
        raise ValueError("give --by COLUMN (domains to compare) or --previous FILE (rounds)")
    indicator, table, design, by = _one_indicator(data, variable, satisfied, valid, opts)
    labels = list(by.labels)
    info = _design_info(data, design, opts, {"satisfied": satisfied, "compare": "domains"})
    if previous is None:
        if versus is not None:
            if versus not in labels:
                raise ValueError(f"--versus {versus!r} is not a value of {opts['by']} "
                                 f"({', '.join(labels[:20])})")
            base = labels.index(versus)
            pairs = [(k, base) for k in range(len(labels)) if k != base]
        else:
            if len(labels) > MAX_PAIRS_DOMAINS:
                raise ValueError(f"{opts['by']} has {len(labels)} values: too many for every "
                                 "pair; give --versus VALUE")
            pairs = [(a, b) for a in range(len(labels)) for b in range(a + 1, len(labels))]
        rows = domain_differences(design, indicator, by.codes, labels, pairs, opts["level"])
    else:
        rows = _round_differences(indicator, design, by, previous, variable, satisfied,
                                  valid, opts)
        info["compare"] = "rounds"
        info["previous"] = previous
    click.echo(render_differences(rows, info, opts["fmt"], opts["level"],
                                  satisfied is not None))


def _one_indicator(data, variable, satisfied, valid, opts):  # type: ignore[no-untyped-def]
    """The design and the engine indicator of ``--var``: a share with --satisfied, a mean
    over --valid codes (or every value) otherwise."""
    import numpy as np

    from analysis.engine import NumericIndicator
    from analysis.estimate import satisfied_indicator

    table, design, by = _load(data, [variable], opts)
    y = table.numeric(variable)
    if satisfied is not None:
        check_codes(variable, y)
        indicator = satisfied_indicator(variable, y, _codes(satisfied, (4, 5), "--satisfied"),
                                        _codes(valid, (1, 2, 3, 4, 5), "--valid"))
    else:
        codes = _codes(valid, (), "--valid") if valid is not None else None
        indicator = NumericIndicator(variable, y, ~np.isnan(y) if codes is None
                                     else np.isin(y, codes))
    return indicator, table, design, by


def _round_differences(indicator, design, by, previous, variable, satisfied, valid,  # type: ignore[no-untyped-def]
                       opts):
    """This round minus the previous one, overall and per domain present in both."""
    from analysis.compare import round_difference
    from analysis.engine import run

    old_ind, _t, old_design, old_by = _one_indicator(previous, variable, satisfied, valid,
                                                     opts)
    new = run(design, [indicator], by.codes, len(by.labels))
    old = run(old_design, [old_ind], old_by.codes, len(old_by.labels))
    names = [("(toàn bộ / all)", 0, 0)]
    names += [(lab, 1 + i, 1 + list(old_by.labels).index(lab))
              for i, lab in enumerate(by.labels) if lab in old_by.labels]
    rows = []
    for label, i, j in names:
        rows.append(round_difference(
            f"{variable} [{label}]",
            ("đợt này / this round", float(new.estimate[i, 0]), float(new.se[i, 0]),
             int(new.df[i, 0])),
            ("đợt trước / previous", float(old.estimate[j, 0]), float(old.se[j, 0]),
             int(old.df[j, 0])),
            opts["level"]))
    return rows


@click.command("quantile")
@click.argument("data", required=False, type=click.Path(dir_okay=False))
@click.option("--var", "variable", required=True, help="Numeric column (e.g. visits, minutes).")
@click.option("--quantiles", "probs", default="0.5", show_default=True,
              help="Comma-separated shares, e.g. 0.25,0.5,0.75.")
@click.option("--valid", help="Only these codes count as values (e.g. leave a 9 out).")
@design_options
@one_line_errors
def quantile_command(data: str, variable: str, probs: str, valid: str | None,
                     **opts: object) -> None:
    """Medians and quantiles with Woodruff CIs, as R svyquantile (qrule math)."""
    import math

    import numpy as np

    from analysis.quantiles import quantiles

    if opts["target"] is not None:
        raise ValueError("--target is not used by quantile")
    try:
        shares = [float(p) for p in probs.split(",") if p.strip()]
    except ValueError:
        raise ValueError(f"--quantiles must be numbers like 0.25,0.5 (got {probs!r})") from None
    if not shares or any(not math.isfinite(p) for p in shares):
        raise ValueError(f"--quantiles must be numbers like 0.25,0.5 (got {probs!r})")
    table, design, by = _load(data, [variable], opts)
    y = table.numeric(variable)
    if valid is not None:
        y = np.where(np.isin(y, _codes(valid, (), "--valid")), y, np.nan)
    rows = quantiles(design, y, shares, by.codes, by.labels, opts["by"], variable,
                     opts["level"])  # type: ignore[arg-type]
    if valid is None and _looks_coded_with_no_answer(y):
        rows = _noted(rows, {variable})
    info = _design_info(data, design, opts, {"quantiles": shares, "rule": "math",
                                              "interval": "Woodruff (mean)"})
    from dataclasses import asdict

    from analysis.report import quantile_table

    _emit(str(opts["fmt"]), {"design": info}, "quantiles", [asdict(r) for r in rows],
          lambda: quantile_table(rows, opts["level"]))


@click.command("model")
@click.argument("data", required=False, type=click.Path(dir_okay=False))
@click.option("--outcome", required=True, help="Answer column modelled as satisfied or not.")
@click.option("--satisfied", default="4,5", show_default=True,
              help="Codes that count as satisfied.")
@click.option("--valid", help="Valid answer codes (default 1,2,3,4,5).")
@click.option("--predictor", "predictors", multiple=True,
              help="Predictor column (repeatable): numbers as a number, text as categories.")
@click.option("--factor", "factors", multiple=True,
              help="Predictor column read as categories even when it holds numbers (e.g. sex "
                   "coded 1/2; repeatable).")
@design_options
@one_line_errors
def model_command(data: str, outcome: str, satisfied: str, valid: str | None,
                  predictors: tuple[str, ...], factors: tuple[str, ...],
                  **opts: object) -> None:
    """Design-based logistic regression of "satisfied", as R svyglm(quasibinomial)."""
    from dataclasses import asdict

    import numpy as np

    from analysis.model import logistic

    if opts["target"] is not None or opts["by"]:
        raise ValueError("--target and --by are not used by model (add the column as a "
                         "--predictor)")
    named = list(predictors) + list(factors)
    if not named:
        raise ValueError("give at least one --predictor COLUMN (or --factor COLUMN)")
    if len(set(named)) != len(named) or outcome in named:
        raise ValueError("each column may appear once, and not as the outcome too")
    opts = dict(opts)
    table, design, _by = _load(data, [outcome, *named], opts)
    y = table.numeric(outcome)
    check_codes(outcome, y)
    sat = _codes(satisfied, (4, 5), "--satisfied")
    val = _codes(valid, (1, 2, 3, 4, 5), "--valid")
    bad = set(sat) - set(val)
    if bad:
        raise ValueError(f"satisfied codes {sorted(bad)} are not among the valid codes")
    yy = np.where(np.isin(y, val), np.isin(y, sat).astype(float), np.nan)
    columns, terms = [np.ones(design.n)], ["(Intercept)"]
    answered = ~np.isnan(yy)
    numbers = {}
    for name in named:
        if name in predictors:
            try:
                numbers[name] = table.numeric(name)
            except ValueError:
                pass  # text: categories
    for name in named:
        if name in numbers:
            answered &= ~np.isnan(numbers[name])
        else:
            answered &= table.categorical(name).codes >= 0
    for name in named:
        if name in numbers:
            columns.append(numbers[name])
            terms.append(name)
            continue
        cat = table.categorical(name)
        levels = sorted(set(cat.codes[answered].tolist()))  # glm drops unused levels
        if len(levels) < 2:
            raise ValueError(f"{name} has fewer than two categories among the rows modelled")
        for code in levels[1:]:  # the first category is the reference, as R's contrasts
            col = (cat.codes == code).astype(float)
            col[cat.codes < 0] = np.nan
            columns.append(col)
            terms.append(f"{name}{cat.labels[code]}")
    fit = logistic(design, yy, np.column_stack(columns), terms, opts["level"])  # type: ignore[arg-type]
    info = _design_info(data, design, opts, {"outcome": outcome, "satisfied": list(sat),
                                              "valid": list(val), "n_model": fit.n,
                                              "df_residual": fit.df,
                                              "family": "quasibinomial"})
    from analysis.report import model_table

    _emit(str(opts["fmt"]), {"design": info}, "coefficients",
          [asdict(c) for c in fit.coefficients], lambda: model_table(fit, opts["level"]))


@click.command("association")
@click.argument("data", required=False, type=click.Path(dir_okay=False))
@click.option("--var", "variable", required=True, help="Answer column (the table's rows).")
@click.option("--satisfied", help="Codes counted as satisfied: the rows become satisfied or "
              "not (else each valid code is a row).")
@click.option("--valid", help="Valid answer codes (default 1,2,3,4,5).")
@design_options
@one_line_errors
def association_command(data: str, variable: str, satisfied: str | None, valid: str | None,
                        **opts: object) -> None:
    """Rao–Scott test of association of an answer with --by, as R svychisq (F)."""
    import json
    from dataclasses import asdict

    import numpy as np

    from analysis.association import rao_scott
    from analysis.codes import Categorical

    if opts["target"] is not None:
        raise ValueError("--target is not used by association")
    if not opts["by"]:
        raise ValueError("give --by COLUMN: the groups the answer is tested against")
    table, design, by = _load(data, [variable], opts)
    y = table.numeric(variable)
    check_codes(variable, y)
    val = _codes(valid, (1, 2, 3, 4, 5), "--valid")
    if satisfied is not None:
        sat = _codes(satisfied, (4, 5), "--satisfied")
        codes = np.where(np.isin(y, val), np.isin(y, sat).astype(np.int64), -1)
        answer = Categorical(codes, ("not satisfied", "satisfied"))
    else:
        present = [c for c in val if np.isin(c, y)]
        lookup = {c: k for k, c in enumerate(present)}
        codes = np.array([lookup.get(int(v), -1) if np.isfinite(v) else -1 for v in y])
        answer = Categorical(codes, tuple(str(c) for c in present))
    groups = Categorical(by.codes, by.labels)  # type: ignore[arg-type]
    result = rao_scott(design, answer, groups)
    info = _design_info(data, design, opts, {"test": "Rao-Scott F (svychisq)",
                                              "satisfied": satisfied})
    if opts["fmt"] == "json":
        click.echo(json.dumps({"design": info, "test": asdict(result)}, ensure_ascii=False,
                              indent=1, allow_nan=False))
        return
    from analysis.report import association_text

    click.echo(association_text(result, variable, str(opts["by"]), opts["fmt"]))


def _replicate_info(data: str) -> dict:
    import json
    from pathlib import Path

    side = Path(f"{data}.replicates.json")
    if not side.is_file():
        raise ValueError(f"{side} is missing: it says how the replicates combine (scale, "
                         "rscales); sipas replicates writes it beside the file")
    try:
        info = json.loads(side.read_text(encoding="utf-8"))
        info["scale"], info["rscales"] = float(info["scale"]), [float(r) for r in
                                                                info["rscales"]]
        info["df"] = int(info["df"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{side} is not a replicate description (scale, rscales, df)") from None
    return info


def _replicate_columns(data: str, prefix: str) -> tuple[list[str], dict]:
    """The replicate weight columns and their description (read once per command)."""
    from analysis.io import read_header

    names = [c for c in read_header(data) if c.startswith(prefix)]
    info = _replicate_info(data)
    if not names:
        raise ValueError(f"no column of {data} starts with {prefix!r}")
    if len(names) != len(info["rscales"]):
        raise ValueError(f"{len(names)} columns start with {prefix!r} but the description "
                         f"has {len(info['rscales'])} rscales")
    return names, info


def _replicate_se(res, table, design, inds, by, names: list[str], info: dict):  # type: ignore[no-untyped-def]
    """The engine's estimates with SEs and df from the replicate weights."""
    import dataclasses

    import numpy as np

    from analysis.replicates import ratio_replicates, replicate_variance

    weights = np.column_stack([table.numeric(c) for c in names])
    if np.isnan(weights).any() or (weights < 0).any():
        raise ValueError("replicate weights must be numbers ≥ 0 in every row")
    se = np.full(res.se.shape, np.nan)
    domains = [np.ones(design.n, dtype=bool)] + [by.codes == d for d in range(len(by.labels))]
    rscales = np.array(info["rscales"])
    for j, ind in enumerate(inds):
        a, b, valid = ind.row_values()
        for d, inside in enumerate(domains):
            thetas = ratio_replicates(weights, a, b, inside & valid)
            se[d, j] = float(np.sqrt(replicate_variance(thetas[:, None], info["scale"],
                                                        rscales)[0]))
    return dataclasses.replace(res, se=se, df=np.full(res.df.shape, info["df"]),
                               deff=np.full(res.deff.shape, np.nan))


@click.command("replicates")
@click.argument("data", required=False, type=click.Path(dir_okay=False))
@click.option("--type", "kind", type=click.Choice(["jkn", "bootstrap"]), default="jkn",
              show_default=True, help="Jackknife within strata, or the bootstrap.")
@click.option("--replicates", "count", type=int, default=50, show_default=True,
              help="Bootstrap replicates.")
@click.option("--seed", type=int, default=1, show_default=True, help="Bootstrap seed.")
@click.option("--prefix", default="rep_", show_default=True, help="Replicate column names.")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="The file to write: DATA without strata, PSU and fpc columns, with "
                   "replicate weights (and OUT.replicates.json).")
@design_options
@one_line_errors
def replicates_command(data: str, kind: str, count: int, seed: int, prefix: str, out: str,
                       **opts: object) -> None:
    """Replicate weights for releasing a file without its design identifiers."""
    import csv
    import dataclasses
    import json
    from pathlib import Path

    import numpy as np

    from analysis.replicates import bootstrap, jkn

    if opts["by"] or opts["target"] is not None:
        raise ValueError("replicates takes the design only (--weight, --strata, --psu, --fpc, "
                         "and --rake or --poststratify)")
    if not opts["weight"] or not opts["psu"]:
        raise ValueError("give --weight and --psu (and --strata, --fpc if the design has them)")
    if Path(out).resolve() == Path(data).resolve():
        raise ValueError("--out must be a new file, not DATA itself")
    cal_cols = _calibration_columns(opts)
    table, design, _by = _load(data, [str(opts["weight"]), *cal_cols], opts)
    # replicates of the design before calibration; then each replicate calibrated as the
    # full sample is (R: rake(as.svrepdesign(design), ...)), so the SEs count calibration
    plain = dataclasses.replace(design, weights=table.numeric(str(opts["weight"])),
                                calibrations=())
    reps = jkn(plain) if kind == "jkn" else bootstrap(plain, count, seed)
    weights = reps.weights(plain.weights)
    if design.calibrations:
        weights = np.column_stack([
            _calibrate(dataclasses.replace(plain, weights=weights[:, r]), table, opts,
                       cal_cols).weights for r in range(weights.shape[1])])
    dropped = {c for c in [opts["strata"], *_split(opts["psu"]), *_split(opts["fpc"])] if c}
    with open(data, encoding="utf-8-sig", newline="") as src, \
            open(out, "w", encoding="utf-8", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
        header = next(reader)
        keep = [i for i, h in enumerate(header) if h not in dropped]
        names = [f"{prefix}{r + 1}" for r in range(weights.shape[1])]
        clash = set(names) & set(header)
        if clash:
            raise ValueError(f"DATA has a column {sorted(clash)[0]!r} already: choose --prefix")
        writer.writerow([header[i] for i in keep] + names)
        at = header.index(str(opts["weight"]))
        for k, line in enumerate(reader):
            if design.calibrations:  # the file carries the calibrated weight
                line[at] = repr(float(design.weights[k]))
            writer.writerow([line[i] for i in keep] + [repr(float(v)) for v in weights[k]])
    side = {"type": kind, "scale": reps.scale, "rscales": reps.rscales.tolist(),
            "df": reps.df, "weight": opts["weight"], "prefix": prefix,
            "r": (f'svrepdesign(data = d, weights = ~{opts["weight"]}, repweights = '
                  f'"{prefix}[0-9]+", type = "other", scale = {reps.scale!r}, rscales = '
                  f'r$rscales, mse = FALSE)')}
    Path(f"{out}.replicates.json").write_text(json.dumps(side, indent=1), encoding="utf-8")
    click.echo(f"wrote {len(names)} {kind} replicate weights for {design.n} rows to {out} "
               f"(without {', '.join(sorted(dropped))}), and {out}.replicates.json")


@click.command("smallarea")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--area", required=True, help="Column naming each area (district, commune).")
@click.option("--direct", required=True, help="Column of the direct estimates.")
@click.option("--se", "se_column", help="Column of their SEs (or give --vardir).")
@click.option("--vardir", help="Column of their sampling variances (SE²).")
@click.option("--aux", "aux", multiple=True, required=True,
              help="Auxiliary column every area has (repeatable), e.g. desk_share.")
@click.option("--level", type=float, default=0.95, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@one_line_errors
def smallarea_command(data: str, area: str, direct: str, se_column: str | None,
                      vardir: str | None, aux: tuple[str, ...], level: float,
                      fmt: str) -> None:
    """Fay–Herriot small-area estimates (EBLUP, REML, Prasad–Rao MSE), as R sae."""

    import numpy as np
    from scipy.special import ndtri

    from analysis.io import read_csv
    from analysis.smallarea import fay_herriot

    if (se_column is None) == (vardir is None):
        raise ValueError("give the direct estimates' --se COLUMN or their --vardir COLUMN")
    if not 0 < level < 1:
        raise ValueError("--level must be between 0 and 1")
    table = read_csv(data, [area, direct, se_column or vardir, *aux], text_columns=[area])
    labels = table.categorical(area)
    if (labels.codes < 0).any():
        raise ValueError(f"an area has no name in {area}")
    names = [labels.labels[c] for c in labels.codes]
    if len(set(names)) != len(names):
        raise ValueError(f"an area appears twice in {area}: one row per area")
    y = table.numeric(direct)
    psi = table.numeric(vardir) if vardir else table.numeric(se_column) ** 2  # type: ignore[arg-type]
    x = np.column_stack([np.ones(table.n)] + [table.numeric(c) for c in aux])
    fit = fay_herriot(y, psi, x)
    z = float(ndtri(1 - (1 - level) / 2))
    rows = []
    for d, name in enumerate(names):
        rmse = float(np.sqrt(fit.mse[d]))
        rows.append({"area": name, "direct": float(y[d]), "direct_se": float(np.sqrt(psi[d])),
                     "direct_low": float(y[d] - z * np.sqrt(psi[d])),
                     "direct_high": float(y[d] + z * np.sqrt(psi[d])),
                     "model_estimate": float(fit.eblup[d]), "model_rmse": rmse,
                     "model_low": float(fit.eblup[d] - z * rmse),
                     "model_high": float(fit.eblup[d] + z * rmse),
                     "weight_of_model": float(fit.shrinkage[d]),
                     "note": "model (Fay–Herriot)"})
    model = {"method": "Fay-Herriot EBLUP, REML, Prasad-Rao MSE (R sae eblupFH/mseFH)",
             "area_variance": fit.refvar, "iterations": fit.iterations,
             "converged": fit.converged,
             "coefficients": {n: {"estimate": float(b), "se": float(s)} for n, b, s in
                              zip(["(Intercept)", *aux], fit.beta, fit.beta_se, strict=True)},
             "level": level, "intervals": "normal, estimate ± z·√MSE"}
    from analysis.report import smallarea_table

    _emit(fmt, {"model": model}, "areas", rows, lambda: smallarea_table(rows, model))
