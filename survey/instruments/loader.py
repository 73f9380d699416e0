"""Finding and loading the questionnaires in ``forms/``.

The forms directory is ``$SIPAS_FORMS`` when set, else the repository's ``forms/`` beside
the ``survey`` package; every file is read as UTF-8 text, whose sha256 identifies the exact
version that a response was collected with.
"""

from __future__ import annotations

import os
from pathlib import Path

from survey.instruments.builder import build_instrument
from survey.instruments.errors import FormError, Problem
from survey.instruments.schema import Instrument
from survey.instruments.yaml_source import YamlSyntaxError, load_yaml

FORM_SUFFIXES = (".yaml", ".yml")


def default_forms_dir() -> Path:
    """``$SIPAS_FORMS`` if set, else ``forms/`` at the root of the repository."""
    configured = os.environ.get("SIPAS_FORMS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "forms"


def load_instrument_text(text: str, file: str = "<text>") -> Instrument:
    """Load an instrument from YAML text (``file`` only names it in messages)."""
    try:
        data = load_yaml(text)
    except YamlSyntaxError as exc:
        raise FormError([Problem(file, exc.line, None, str(exc))]) from None
    instrument, problems = build_instrument(data, text, file)
    if instrument is None:
        raise FormError(problems or [Problem(file, None, None, "the file is empty")])
    return instrument


def load_instrument_file(path: str | os.PathLike[str]) -> Instrument:
    """Load and check one form file; :class:`FormError` lists every problem it has."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormError([Problem(str(file), None, None,
                                 f"not UTF-8 text (byte {exc.start})")]) from None
    except OSError as exc:
        raise FormError([Problem(str(file), None, None, f"cannot read: {exc.strerror}")]) \
            from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM left by a Windows editor is not part of the form
    return load_instrument_text(text, str(file))


def load_forms_dir(path: str | os.PathLike[str] | None = None) -> dict[str, Instrument]:
    """Every instrument in the directory, keyed by code; all files' problems at once."""
    directory = Path(path) if path is not None else default_forms_dir()
    if not directory.is_dir():
        raise FormError([Problem(str(directory), None, None, "forms directory not found")])
    instruments: dict[str, Instrument] = {}
    problems: list[Problem] = []
    for file in sorted(p for p in directory.iterdir() if p.suffix in FORM_SUFFIXES):
        try:
            instrument = load_instrument_file(file)
        except FormError as exc:
            problems.extend(exc.problems)
            continue
        if instrument.code in instruments:
            other = instruments[instrument.code].path
            problems.append(Problem(str(file), None, None,
                                    f"instrument code {instrument.code!r} is also used by "
                                    f"{other}; keep one version per code in a directory"))
            continue
        instruments[instrument.code] = instrument
    if problems:
        raise FormError(problems)
    return instruments


def load_instrument(code: str, forms_dir: str | os.PathLike[str] | None = None) -> Instrument:
    """The instrument with this code from the forms directory (KeyError names the choices)."""
    instruments = load_forms_dir(forms_dir)
    try:
        return instruments[code]
    except KeyError:
        known = ", ".join(sorted(instruments)) or "none"
        raise KeyError(f"no instrument {code!r} in forms (found: {known})") from None
