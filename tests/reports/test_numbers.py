"""Do Vietnamese pages write a decimal comma (80,4 %), English a dot, and exports plain numbers?"""

from __future__ import annotations

import csv
import io
import re

from flask.testing import FlaskClient

from survey.services.reports.rows import number, pct


def test_does_the_shared_formatter_follow_the_language() -> None:
    assert pct(0.80412, 1, "vi") == "80,4" and pct(0.80412, 1, "en") == "80.4"
    assert pct(0.80412) == "80.4"  # callers without a language keep the dot
    assert number(-0.0312, "+.3f", "vi") == "-0,031" and number(None, ".2f", "vi") == "–"
    assert number(1234.5, ".1f", "vi") == "1234,5"  # no thousands separator to confuse


def test_are_dashboard_numbers_comma_in_vietnamese_and_dot_in_english(
    analyst: FlaskClient,
) -> None:
    vi = analyst.get("/reports/?lang=vi").get_data(as_text=True)
    en = analyst.get("/reports/?lang=en").get_data(as_text=True)
    vi_index = re.search(r'id="sipas-index">([^<]+)<', vi)
    en_index = re.search(r'id="sipas-index">([^<]+)<', en)
    assert vi_index and en_index
    assert re.fullmatch(r"\d+,\d", vi_index.group(1))
    assert en_index.group(1) == vi_index.group(1).replace(",", ".")
    assert re.search(r'id="sipas-ci">\d+,\d–\d+,\d<', vi)
    assert re.search(r'id="sipas-ci">\d+\.\d–\d+\.\d<', en)


def test_do_exports_stay_numeric_whatever_the_language(analyst: FlaskClient) -> None:
    analyst.get("/reports/?lang=vi")
    data = analyst.get("/reports/exports/download?format=csv&status=verified&round=2025").data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    weights = [r["weight"] for r in rows if r["weight"]]
    assert weights and all("," not in w for w in weights)
    assert all(float(w) > 0 for w in weights)
