"""Read survey CSV files (the app's export or an analyst's file) into numpy columns, fast.

Arrow's CSV reader is multi-threaded and dictionary-encodes text columns in C++, so a million
rows become integer codes without a Python loop. UTF-8 with or without BOM; empty cells (and
``NA``) are missing; a geography level the file lacks is an all-empty column.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis.codes import Categorical

NULLS = ["", "NA"]


@dataclass(frozen=True, eq=False)
class Table:
    """Columns read from a CSV: numbers as float arrays (NaN = empty), text as codes."""

    path: str
    n: int
    names: tuple[str, ...]
    _columns: dict
    _categories: dict = field(default_factory=dict)  # strata and --by are often one column

    def has(self, name: str) -> bool:
        return name in self._columns

    def _get(self, name: str):
        if name not in self._columns:
            raise ValueError(f"column {name!r} is not in {self.path} (or was not read)")
        return self._columns[name]

    def numeric(self, name: str) -> np.ndarray:
        """A column as float64 (NaN where empty); text that is not a number is an error."""
        import pyarrow as pa
        import pyarrow.compute as pc

        col = self._get(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            try:
                col = pc.cast(col, pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ValueError(f"column {name!r} has values that are not numbers") from None
        if pa.types.is_boolean(col.type):
            col = col.cast(pa.int8())
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
                or pa.types.is_null(col.type)):
            raise ValueError(f"column {name!r} has values that are not numbers")
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False)

    def codes(self, name: str) -> np.ndarray:
        """An answer-code column: int16 with -1 where empty when the file held whole numbers
        (read that way by ``read_csv(code_columns=...)``), else :meth:`numeric`'s floats.

        Either feeds :func:`analysis.engine.slots_of`; the integer form is a quarter of the
        memory of floats and skips the float checks.
        """
        import pyarrow as pa

        col = self._get(name)
        if pa.types.is_integer(col.type) and col.type.bit_width <= 16:
            return col.fill_null(-1).to_numpy().astype(np.int16, copy=False)
        return self.numeric(name)

    def null_count(self, name: str) -> int:
        """Empty cells of a column."""
        return int(self._get(name).null_count)

    def release(self, name: str) -> None:
        """Forget a column once it has been converted: a big file's memory is freed as it
        is used, not at the end."""
        self._columns.pop(name, None)
        self._categories.pop(name, None)

    def categorical(self, name: str) -> Categorical:
        """A column as integer codes into its distinct values (-1 where empty)."""
        if name not in self._categories:
            self._categories[name] = self._categorical(name)
        return self._categories[name]

    def _categorical(self, name: str) -> Categorical:
        import pyarrow as pa
        import pyarrow.compute as pc

        col = self._get(name)
        if not pa.types.is_dictionary(col.type):
            col = pc.dictionary_encode(col.cast(pa.string()))
        col = col.unify_dictionaries() if isinstance(col, pa.ChunkedArray) else col
        chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
        if not chunks:
            return Categorical(np.zeros(0, dtype=np.int64), ())
        labels = chunks[0].dictionary.to_pylist()
        idx = np.concatenate([c.indices.fill_null(-1).to_numpy(zero_copy_only=False)
                              for c in chunks]).astype(np.int64)
        if not labels:
            return Categorical(np.full(idx.shape, -1, dtype=np.int64), ())
        # stable output whatever the row order: numbers in numeric order, then text
        order = np.array(sorted(range(len(labels)), key=lambda i: _sort_key(labels[i])),
                         dtype=np.int64)
        rank = np.empty(len(labels) + 1, dtype=np.int64)
        rank[order] = np.arange(len(labels))
        rank[-1] = -1  # an empty cell's index -1 picks this: one pass over the rows
        codes = rank[idx]
        return Categorical(codes, tuple(str(labels[i]) for i in order))


# what an estimate from columns imports on its way (pyarrow imports pandas on its first
# array, whatever the input; the t quantile is scipy's), in the order they need each other
AHEAD = ("numpy", "pandas", "pyarrow", "pyarrow.compute", "scipy.special", "analysis.index",
         "analysis.estimate")


def import_ahead(modules: Sequence[str] = AHEAD) -> threading.Thread:
    """Start importing ``modules`` in a thread, and return it (join it before using them).

    Why: a command that reads a round from the database waits about a second at national
    size for the answers, and the Python thread holds nothing then. The imports an estimate
    needs cost about 0.4 s of processor time and can run in that wait instead of after it.
    An import that fails here is simply left for the caller's own import to report.
    """
    def run() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError:  # the caller's import says what is missing
                return

    thread = threading.Thread(target=run, name="sipas-import-ahead", daemon=True)
    thread.start()
    return thread


def from_columns(name: str, n: int, text: dict[str, np.ndarray],
                 numbers: dict[str, np.ndarray]) -> Table:
    """A :class:`Table` of columns already in memory (the app's database path), read exactly
    as a CSV of them would be: empty text is missing, numbers are floats with NaN."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols: dict = {}
    for col, values in text.items():
        try:  # text already (the usual case): Arrow converts it without a Python loop
            arr = pa.array(values, type=pa.string(), from_pandas=True)
            arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            arr = pa.array([None if v is None or v == "" else str(v) for v in values],
                           type=pa.string())
        cols[col] = pa.chunked_array([arr])
    for col, values in numbers.items():
        arr = np.asarray(values, dtype=float)
        cols[col] = pa.chunked_array([pa.array(arr, mask=np.isnan(arr), type=pa.float64())])
    return Table(name, n, tuple(cols), cols)


def _sort_key(label: object) -> tuple:
    try:
        return (0, float(label), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(label))


def read_csv(path: str | Path, columns: Iterable[str] | None = None,
             text_columns: Iterable[str] = (), code_columns: Iterable[str] = (),
             number_columns: Iterable[str] = ()) -> Table:
    """Read ``columns`` (all when None) of a CSV; ``text_columns`` are kept as text codes.

    ``code_columns`` (answer codes) are read as 16-bit integers, a quarter of the memory of
    floats, and ``number_columns`` (weights, fpc) as floats. Declared types also spare Arrow
    its type inference, which holds a big file's text in memory (2.3 GB instead of 0.9 GB
    for ten million rows). If any value does not fit (4.5 as a code, a word as a weight), a
    second read lets Arrow infer the types: the values, and the errors, are then exactly
    what a plain read gives.
    """
    import pyarrow as pa

    text = set(text_columns)
    types = {c: pa.float64() for c in number_columns if c not in text}
    types.update({c: pa.int16() for c in code_columns if c not in text})
    if types:
        try:
            return _read(Path(path), columns, text, types)
        except _NotWhole:
            pass
    return _read(Path(path), columns, text, {})


class _NotWhole(Exception):
    """A typed column held something else (a code that is not a 16-bit whole number)."""


BLOCK_BYTES = 1 << 24  # Arrow reads in blocks of this size; a line must fit in one
LONGEST_LINE = 1 << 30  # blocks grow ×16 up to this when a line does not fit


def _read(path: Path, columns: Iterable[str] | None, text: set[str],
          numbers: dict, block: int | None = None) -> Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    block = block or BLOCK_BYTES
    wanted = list(dict.fromkeys(columns)) if columns is not None else None
    try:
        header = _header(path)
        if wanted is not None:
            missing = [c for c in wanted if c not in header]
            if missing:
                raise ValueError(f"column {missing[0]!r} is not in {path} "
                                 f"(columns: {', '.join(header[:30])})")
        types = {c: pa.dictionary(pa.int32(), pa.string()) for c in text if c in header}
        types.update({c: t for c, t in numbers.items() if c in header})
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=block),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted, column_types=types, null_values=NULLS,
                strings_can_be_null=True, quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        if numbers and "conversion error" in str(exc):
            raise _NotWhole from None
        if "straddl" in str(exc):  # one line longer than a block: read in bigger blocks
            if block < LONGEST_LINE:
                return _read(path, columns, text, numbers, block * 16)
            raise ValueError(f"cannot read {path}: a line is longer than "
                             f"{LONGEST_LINE >> 20} MB (is it a CSV file, one row per "
                             "line?)") from None
        raise ValueError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {path}: not UTF-8") from None
    cols = {name: table.column(name) for name in table.column_names}
    return Table(str(path), table.num_rows, tuple(table.column_names), cols)


def read_header(path: str | Path) -> list[str]:
    """A CSV's column names (BOM removed; a name twice is refused)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    return _header(path)


def _header(path: Path) -> list[str]:
    """Column names from the first line (BOM removed), to report unknown columns clearly."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
    if not first.strip():
        raise ValueError(f"{path} is empty")
    names = next(csv.reader([first]))
    seen: dict[str, int] = {}
    for at, name in enumerate(names, start=1):
        if name in seen:  # Arrow would keep both and a --var could mean either
            raise ValueError(f"{path}: column {name!r} appears twice in the header "
                             f"(columns {seen[name]} and {at}); rename one")
        seen[name] = at
    return names
