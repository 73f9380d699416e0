"""Cells that a spreadsheet must not run: one neutraliser for every CSV and XLSX SIPAS writes.

A text cell that starts like a formula (``=HYPERLINK(...)``, ``@SUM``, ``+cmd|...``) runs
when the file is opened in Excel or LibreOffice; a frame unit's name, an enumerator's name
or a citizen's comment can be made to start that way. Such cells get a leading ``'``, which
spreadsheets show as text. The leaders include the fullwidth and other look-alike forms
(``＝``, ``＋``, ``－``, ``＠``, the minus sign …) that some spreadsheets and locales turn
into the ASCII ones. Numbers (``-1.5``, ``+84``) stay as they are.
"""

from __future__ import annotations

FORMULA_PREFIXES = (
    "=", "+", "-", "@", "\t", "\r",
    "\uff1d", "\uff0b", "\uff0d", "\uff20",  # fullwidth = + - @
    "\u2212", "\ufe62", "\ufe63", "\ufe66",  # minus sign; small + - =
)  # fmt: skip


def neutralise_formula(cell: str) -> str:
    """Prefix ``'`` to text that a spreadsheet would run as a formula."""
    if cell and cell.startswith(FORMULA_PREFIXES):
        if cell[0] in "+-" and cell.isascii():
            try:
                float(cell)
            except ValueError:
                pass
            else:
                return cell  # a number such as -1.5 or +84
        return "'" + cell
    return cell
