"""Reading uploaded CSV text: one place that knows the pitfalls.

``newline=""`` lets the csv module handle CR, LF and CRLF line ends itself (a bare CR
otherwise raises "new-line character seen in unquoted field"), and any malformed input
becomes a ValueError naming the line, which every import turns into a clear message.

The separator is read off the header line: Excel set to Vietnamese (decimal comma) saves
"CSV" with semicolons, and a sheet pasted into a text editor has tabs. Whichever of comma,
semicolon and tab the header holds most of is the separator.
"""

from __future__ import annotations

import csv
import io

from survey.messages import N_, UserError

SEPARATORS = (",", ";", "\t")


def separator(text: str) -> str:
    """The separator the header line uses most (comma when it has none)."""
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    counts = [(header.count(s), -k, s) for k, s in enumerate(SEPARATORS)]
    best = max(counts)
    return best[2] if best[0] else ","


def csv_records(text: str) -> list[list[str]]:
    """All records of a CSV text, BOM dropped; malformed CSV is a ValueError naming its line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""),
                        delimiter=separator(text))
    try:
        return list(reader)
    except csv.Error as exc:
        raise UserError(N_("line %(line)d: not a valid CSV file (%(reason)s)"),
                        line=reader.line_num, reason=str(exc)) from None
