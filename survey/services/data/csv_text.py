"""Reading uploaded CSV text: one place that knows the pitfalls.

``newline=""`` lets the csv module handle CR, LF and CRLF line ends itself (a bare CR
otherwise raises "new-line character seen in unquoted field"), and any malformed input
becomes a ValueError naming the line, which every import turns into a clear message.
"""

from __future__ import annotations

import csv
import io


def csv_records(text: str) -> list[list[str]]:
    """All records of a CSV text, BOM dropped; malformed CSV is a ValueError naming its line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        return list(reader)
    except csv.Error as exc:
        raise ValueError(
            f"line {reader.line_num}: not a valid CSV file ({exc}) / tệp CSV không hợp lệ"
        ) from None
