"""Questionnaires as data: the YAML form format, its loader, expressions and answer checks.

Pure Python (PyYAML and the standard library only): the analysis CLI imports this package,
so it must never pull in Flask or the database. See forms/README.md for the format.
"""

from survey.instruments.errors import FormError, Problem
from survey.instruments.expressions import Expr, ExpressionError, from_json, parse
from survey.instruments.loader import (
    default_forms_dir,
    load_forms_dir,
    load_instrument,
    load_instrument_file,
    load_instrument_text,
)
from survey.instruments.schema import Choice, Element, Instrument, Item, Section
from survey.instruments.validation import effective_answers, relevant_items, validate_answers

__all__ = [
    "Choice", "Element", "Expr", "ExpressionError", "FormError", "Instrument", "Item",
    "Problem", "Section", "default_forms_dir", "effective_answers", "from_json",
    "load_forms_dir", "load_instrument", "load_instrument_file", "load_instrument_text",
    "parse", "relevant_items", "validate_answers",
]
