"""Questionnaires as XLSForm workbooks, both ways, for ODK Collect and KoboToolbox.

``export``: an instrument as a workbook that pyxform converts; ``reader``: a workbook (ODK's,
Kobo's or the export) back as a SIPAS form file, refusing by sheet, row and column what SIPAS
cannot carry; ``items`` and ``sheets``: one question row, and the workbook's cells;
``xpath``: expressions between SIPAS's notation and XLSForm's XPath.
"""
