"""Read population totals for post-stratification and raking from CSV files.

The formats are documented in :mod:`analysis.weighting`.  Analysts type these files by
hand from census tables, so every error names the file, the line and the problem, and
labels on both sides are compared as stripped strings (a code ``1`` in the CSV matches a
``1``, ``1.0`` or ``"1 "`` in the data).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.weighting_calibration import CellMismatchError


def to_label(value: object) -> str | None:
    """The string a data value is compared as; ``None`` for a missing value."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def data_labels(columns: Mapping[str, np.ndarray], name: str, source: str) -> list[str]:
    """Labels of one data column; a missing value is an error, as R's ``na.fail``."""
    if name not in columns:
        known = ", ".join(sorted(columns)[:20])
        raise ValueError(f"{source}: column '{name}' is not in the data (data columns: {known})")
    labels = [to_label(v) for v in np.asarray(columns[name], dtype=object).tolist()]
    missing = [i for i, v in enumerate(labels) if v is None]
    if missing:
        raise ValueError(
            f"{source}: data column '{name}' is missing in {len(missing)} row(s), "
            f"first data row {missing[0] + 1}; weighting cells must be known for every row"
        )
    return labels  # type: ignore[return-value]


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, stripped fields) of the non-blank lines; line 1 is the header."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [
                (n, [f.strip() for f in row])
                for n, row in enumerate(csv.reader(handle), start=1)
                if any(f.strip() for f in row)
            ]
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV ({exc})") from None
    if not rows:
        raise ValueError(f"{path}: the file is empty")
    return rows


def _total(path: Path, line: int, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{path} line {line}: total '{text}' is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{path} line {line}: total {text} must be a non-negative number")
    return value


def _check_width(path: Path, line: int, fields: list[str], width: int) -> None:
    if len(fields) != width:
        raise ValueError(f"{path} line {line}: expected {width} fields, found {len(fields)}")


@dataclass(frozen=True)
class PoststrataTable:
    """A joint table: per-row cell tuples of the data and the totals keyed the same way."""

    path: Path
    names: tuple[str, ...]
    cells: np.ndarray
    totals: dict[Hashable, float]
    lines: dict[Hashable, int]

    def explain(self, exc: CellMismatchError) -> str:
        """Rephrase a cell mismatch with this file's name and line."""
        desc = ", ".join(f"{n}={v}" for n, v in zip(self.names, exc.label, strict=True))
        return _explain(self.path, self.lines.get(exc.label), desc, exc.kind, partial_hint=True)


def _explain(path: Path, line: int | None, desc: str, kind: str, partial_hint: bool) -> str:
    if kind == "sample" and line is None:
        return f"{path}: the data has rows in cell {desc} but the file has no line for it"
    if kind == "sample":
        return f"{path} line {line}: cell {desc} has total 0 but the data has rows in it"
    if kind == "zero":
        return f"{path} line {line}: every data row in cell {desc} has weight 0"
    hint = " (allow partial tables to ignore it)" if partial_hint else "; remove the line"
    return f"{path} line {line}: no data row falls in cell {desc}{hint}"


def read_poststrata_csv(path: str | Path, columns: Mapping[str, np.ndarray]) -> PoststrataTable:
    """Parse a ``<cell variables...>,total`` file and label the data rows by cell."""
    path = Path(path)
    rows = _read_rows(path)
    header_line, header = rows[0]
    lowered = [h.lower() for h in header]
    if lowered.count("total") != 1:
        raise ValueError(f"{path} line {header_line}: the header needs one 'total' column")
    names = tuple(h for h in header if h.lower() != "total")
    if not names or "" in names or len(set(names)) != len(names):
        raise ValueError(
            f"{path} line {header_line}: the header needs distinct, named cell variables "
            "besides 'total'"
        )
    at = lowered.index("total")
    totals: dict[Hashable, float] = {}
    lines: dict[Hashable, int] = {}
    for line, fields in rows[1:]:
        _check_width(path, line, fields, len(header))
        key = tuple(f for i, f in enumerate(fields) if i != at)
        if key in lines:
            raise ValueError(f"{path} line {line}: cell repeats line {lines[key]}")
        totals[key] = _total(path, line, fields[at])
        lines[key] = line
    if not totals:
        raise ValueError(f"{path}: no totals below the header")
    per_column = [data_labels(columns, n, str(path)) for n in names]
    cells = np.empty(len(per_column[0]), dtype=object)
    cells[:] = list(zip(*per_column, strict=True))
    return PoststrataTable(path, names, cells, totals, lines)


@dataclass(frozen=True)
class MarginsTable:
    """One-way (or any) margins from a long file, ready for :func:`analysis.weighting.rake`."""

    path: Path
    names: tuple[str, ...]
    margins: tuple[tuple[np.ndarray, dict[Hashable, float]], ...]
    lines: tuple[dict[Hashable, int], ...]

    def explain(self, exc: CellMismatchError) -> str:
        """Rephrase a cell mismatch with this file's name, line and variable."""
        m = exc.margin if exc.margin is not None else 0
        desc = f"{self.names[m]}={exc.label}"
        return _explain(self.path, self.lines[m].get(exc.label), desc, exc.kind, False)


def read_margins_csv(path: str | Path, columns: Mapping[str, np.ndarray]) -> MarginsTable:
    """Parse a ``variable,value,total`` file into one margin per variable."""
    path = Path(path)
    rows = _read_rows(path)
    header_line, header = rows[0]
    if [h.lower() for h in header] != ["variable", "value", "total"]:
        raise ValueError(
            f"{path} line {header_line}: the header must be 'variable,value,total', "
            f"found '{','.join(header)}'"
        )
    totals: dict[str, dict[Hashable, float]] = {}
    lines: dict[str, dict[Hashable, int]] = {}
    for line, fields in rows[1:]:
        _check_width(path, line, fields, 3)
        variable, value, total = fields
        if not variable or not value:
            raise ValueError(f"{path} line {line}: variable and value must not be empty")
        if variable not in columns:
            known = ", ".join(sorted(columns)[:20])
            raise ValueError(
                f"{path} line {line}: variable '{variable}' is not a data column ({known})"
            )
        seen = lines.setdefault(variable, {})
        if value in seen:
            raise ValueError(f"{path} line {line}: {variable}={value} repeats line {seen[value]}")
        totals.setdefault(variable, {})[value] = _total(path, line, total)
        seen[value] = line
    if not totals:
        raise ValueError(f"{path}: no margins below the header")
    names = tuple(totals)
    margins = tuple(
        (np.array(data_labels(columns, n, str(path)), dtype=object), totals[n]) for n in names
    )
    return MarginsTable(path, names, margins, tuple(lines[n] for n in names))


def totals_columns(path: str | Path, kind: str) -> list[str]:
    """The data columns a totals file refers to, so a caller reads only those.

    ``kind`` is ``"poststratify"`` (the header minus ``total``) or ``"rake"`` (the distinct
    entries of the ``variable`` column, in file order).
    """
    if kind not in ("poststratify", "rake"):
        raise ValueError(f"kind must be 'poststratify' or 'rake', not {kind!r}")
    path = Path(path)
    rows = _read_rows(path)
    header = rows[0][1]
    if kind == "poststratify":
        return [h for h in header if h.lower() != "total"]
    if [h.lower() for h in header] != ["variable", "value", "total"]:
        raise ValueError(
            f"{path} line {rows[0][0]}: the header must be 'variable,value,total', "
            f"found '{','.join(header)}'"
        )
    return list(dict.fromkeys(fields[0] for _, fields in rows[1:] if fields and fields[0]))
