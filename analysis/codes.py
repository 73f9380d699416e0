"""Integer codes for categorical columns (strata, PSUs, domains).

Every grouped computation in the engine is an ``np.bincount`` over small integer codes, so
columns are turned into codes once, as early as possible (the CSV reader already hands out
dictionary codes from Arrow, which avoids sorting a million strings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MISSING = -1


@dataclass(frozen=True, eq=False)
class Categorical:
    """A column as integer ``codes`` into ``labels``; ``-1`` marks an empty value."""

    codes: np.ndarray
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.codes)


def label_text(value: object) -> str:
    """Render a label the way R prints a factor level (2.0 → '2')."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def factorize(values: Categorical | np.ndarray | list) -> Categorical:
    """Codes for any column; missing values (None, NaN, '') get code -1."""
    if isinstance(values, Categorical):
        return values
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        labels, codes = np.unique(arr, return_inverse=True)
        return Categorical(codes.astype(np.int64), tuple(label_text(v) for v in labels))
    if arr.dtype.kind == "f":
        ok = ~np.isnan(arr)
        codes = np.full(arr.shape, MISSING, dtype=np.int64)
        labels, inner = np.unique(arr[ok], return_inverse=True)
        codes[ok] = inner
        return Categorical(codes, tuple(label_text(v) for v in labels))
    # words: a dictionary of the distinct ones (a few hundred areas), not a sort of every
    # row's text (np.unique sorted 37,000 names in 20-40 ms); the same sorted labels
    text = ["" if v is None else str(v) for v in arr.ravel().tolist()]
    labels = sorted(set(text) - {""})
    slot = dict(zip(labels, range(len(labels)), strict=True))
    slot[""] = MISSING
    codes = np.fromiter((slot[v] for v in text), dtype=np.int64, count=len(text))
    return Categorical(codes.reshape(arr.shape), tuple(labels))


def dense_codes(keys: np.ndarray, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Renumber non-negative integer ``keys`` as 0..k-1 in sorted order.

    Returns (codes, used_keys). A bincount presence table is O(n) when the key range is small
    (always, for strata × PSU), and ``np.unique`` takes over otherwise.
    """
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size == 0:
        return keys.copy(), keys.copy()
    top = int(keys.max()) + 1 if size is None else size
    if top <= max(4 * keys.size, 1 << 20):
        seen = np.bincount(keys, minlength=top) > 0
        used = np.flatnonzero(seen)
        remap = np.cumsum(seen) - 1
        return remap[keys], used
    used, codes = np.unique(keys, return_inverse=True)
    return codes.astype(np.int64), used


def combine(outer: np.ndarray, inner: np.ndarray, inner_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the pairs (outer, inner): the cross-classification of two coded columns."""
    return dense_codes(outer.astype(np.int64) * inner_size + inner)


def representative(codes: np.ndarray, size: int) -> np.ndarray:
    """One row index per code 0..size-1 (used where a property is constant within a code).

    A scatter assignment is O(n) and far faster than ``np.minimum.at``; which occurrence wins
    does not matter for properties that are constant within a group.
    """
    rep = np.zeros(size, dtype=np.int64)
    rep[codes] = np.arange(codes.size)
    return rep
