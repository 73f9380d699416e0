"""Computed reports and charts kept on disk, for every worker of a host and after restarts.

The dashboard of a national round costs seconds the first time a worker draws it: reading
and estimating the round, drawing matplotlib charts. Each worker also keeps them in memory,
but a restart, a new worker or another of the four workers starts from nothing. Here a
result is written once to ``<instance>/cache/reports`` (``SIPAS_REPORT_CACHE`` names
another folder, or ``off``) and read back by anyone who asks the same question.

It never lies because the key is the question, never a name for it: everything the result
is made of goes into a SHA-256 — the database, the round's fingerprint (count, last change,
last id, Σ weights of its verified questionnaires, a hash of the geography), the form
version, every option, the language, and a hash of the code that computes it (the
``analysis`` package, this folder and ``survey/instruments``), so a new release never
reads an old release's numbers. A published round or a closed period keeps its
fingerprint, so it is computed once; anything that changes the data changes the key. Old
entries are simply never asked for again, and the oldest are removed beyond ``KEEP`` files.
Large answers that change often (a round as read) are kept one version per question
instead (:func:`keep_version`): the file names the question, and holds which version it is.

Pickle is the format, as in Django's file and database caches: the folder is the app's
own (created private), written only by the app, never by a user upload.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, TypeVar

from survey.config import instance_path_from_env

KEEP = 400  # files (a national dashboard's entries are about 0.1–1 MB each)
T = TypeVar("T")


@lru_cache(maxsize=1)
def code_stamp() -> str:
    """A hash of the source of everything that computes a cached result."""
    import analysis
    import survey.instruments

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for folder in (Path(analysis.__file__).resolve().parent, here,
                   Path(survey.instruments.__file__).resolve().parent):
        for path in sorted(folder.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def folder() -> Path | None:
    """The cache folder, or None when switched off."""
    raw = os.environ.get("SIPAS_REPORT_CACHE", "").strip()
    if raw.lower() == "off":
        return None
    return Path(raw).expanduser() if raw else instance_path_from_env() / "cache" / "reports"


def key_of(kind: str, parts: tuple) -> str:
    """The file name of a question: its kind, the code's stamp and every part, hashed."""
    text = repr((kind, code_stamp(), parts)).encode("utf-8")
    return f"{kind}-{hashlib.sha256(text).hexdigest()}"


def _path(where: Path, name: str) -> Path:
    return where / f"{name}.pickle"


def has(kind: str, parts: tuple) -> bool:
    """Is an answer to (kind, parts) kept (it may still turn out unreadable)?"""
    where = folder()
    return where is not None and _path(where, key_of(kind, parts)).exists()


def remember(kind: str, parts: tuple, compute: Callable[[], T]) -> T:
    """The stored answer to (kind, parts), or ``compute()``'s, stored for next time.

    A missing, unreadable or half-written file is a miss (the value is computed again); a
    folder that cannot be written only costs the saving, never the page.
    """
    name = key_of(kind, parts)  # once: a question may hold thousands of counts
    value = _load(name, pickle.load)
    if value is not MISSING:
        return value  # type: ignore[return-value]
    value = compute()
    _store(name, value)
    return value


MISSING = object()  # what :func:`recall` returns when nothing readable is kept


def recall(kind: str, parts: tuple) -> object:
    """The stored answer to (kind, parts), or :data:`MISSING`. Of a slot kept by
    :func:`keep_version`, this is the version kept."""
    return _load(key_of(kind, parts), pickle.load)


def keep(kind: str, parts: tuple, value: object) -> None:
    """Store ``value`` as the answer to (kind, parts); a folder that cannot be written
    (switched off, full, read-only) only costs the saving."""
    _store(key_of(kind, parts), value)


def keep_version(kind: str, slot: tuple, version: tuple, value: object) -> None:
    """Store ``value`` as the one kept ``version`` of ``slot``, in place of any other.

    For large answers that change often (a national round as read, about 30 MB): one file
    per version would fill the disk, and an old version is never asked for again. The
    version is written first, so that :func:`recall_version` tells a stale file from the
    right one without reading the rest (and :func:`recall` reads the version alone).
    """
    _store(key_of(kind, slot), version, value)


def recall_version(kind: str, slot: tuple, accept: Callable[[tuple], bool]
                   ) -> tuple[tuple, object] | object:
    """(version, value) kept for ``slot`` if ``accept(version)``, else :data:`MISSING`."""
    def take(fh: BinaryIO) -> object:
        version = pickle.load(fh)  # noqa: S301 - the app's own folder (see above)
        if not isinstance(version, tuple) or not accept(version):
            return MISSING
        return version, pickle.load(fh)  # noqa: S301

    return _load(key_of(kind, slot), take)


def _load(name: str, take: Callable[[BinaryIO], object]) -> object:
    """``take`` of the file kept under ``name`` (:func:`key_of`), or :data:`MISSING`: none
    kept, the cache off, or a missing, unreadable or half-written file."""
    where = folder()
    if where is None:
        return MISSING
    try:
        with _path(where, name).open("rb") as fh:
            return take(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
            IndexError, TypeError, ValueError):
        return MISSING


def _store(name: str, *values: object) -> None:
    """Write ``values`` pickled one after another as the file kept under ``name``."""
    where = folder()
    if where is None:
        return
    try:
        _write(where, _path(where, name),
               b"".join(pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL) for v in values))
    except OSError:
        pass


def _write(where: Path, path: Path, body: bytes) -> None:
    """Write atomically (another worker may read the same file at the same moment)."""
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=where, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _prune(where)


def _prune(where: Path) -> None:
    """Remove the least recently written files beyond ``KEEP``."""
    files = list(where.glob("*.pickle"))
    if len(files) <= KEEP:
        return

    def written(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0
    for old in sorted(files, key=written)[: len(files) - KEEP]:
        old.unlink(missing_ok=True)
