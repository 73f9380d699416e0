"""Do charts stay legible with 500 desks, and is a kept chart never a stale one?"""

from __future__ import annotations

from dataclasses import replace

from survey.services.reports import charts
from survey.services.reports.rows import IndexRow


def _row(share: float, suppressed: bool = False) -> IndexRow:
    return IndexRow("overall", "x", "item", 40, share, 0.01, share - 0.05, share + 0.05, 39,
                    1.0, None, None, None, None, "", suppressed)


def test_are_500_desks_charted_as_their_extremes_with_the_rest_in_the_table() -> None:
    rows = [(f"MC{i:03d}", _row(0.3 + 0.6 * ((i * 37) % 500) / 500)) for i in range(500)]
    rows[7] = ("MC007", _row(0.99, suppressed=True))  # suppressed rows are never charted
    drawn, left_out = charts.extremes(rows)
    assert len(drawn) == charts.CHART_ROWS and left_out == 500 - charts.CHART_ROWS
    shares = [r.estimate for _k, r in drawn]
    assert shares == sorted(shares, reverse=True)
    ranked = sorted((r.estimate for _k, r in rows if r.shown), reverse=True)
    assert shares[:15] == ranked[:15] and shares[15:] == ranked[-15:]
    svg = charts.dot_chart(rows, 0.8, "Tỷ lệ hài lòng theo Bộ phận", lang="vi").decode()
    assert "15 cao nhất và 15 thấp nhất" in svg and "còn 470 dòng khác" in svg
    english = charts.dot_chart(rows, 0.8, "Share satisfied by desk", lang="en").decode()
    assert "the 15 highest and the 15 lowest" in english and "470 more" in english


def test_is_a_small_chart_drawn_whole_in_its_own_order() -> None:
    rows = [(f"D{i}", _row(0.5 + i / 100)) for i in range(12)]
    drawn, left_out = charts.extremes(rows)
    assert drawn == rows and left_out == 0


def test_does_new_data_draw_a_new_chart() -> None:
    rows = [("MC001", _row(0.81)), ("MC002", _row(0.62))]
    first = charts.dot_chart(rows, 0.8, "t", lang="en")
    assert charts.dot_chart(list(rows), 0.8, "t", lang="en") is first  # kept: same data
    changed = [("MC001", replace(rows[0][1], estimate=0.71, ci_low=0.66, ci_high=0.76)),
               rows[1]]
    again = charts.dot_chart(changed, 0.8, "t", lang="en")
    assert again != first and b"71.0" in again and b"81.0" in first


def test_is_a_long_chart_kept_while_the_rows_it_draws_are_the_same() -> None:
    """Of 500 desks the chart draws the extremes: a new evaluation at a desk in the middle
    changes its row, not the chart; one at a drawn desk draws it again."""
    rows = [(f"MC{i:03d}", _row(0.3 + 0.6 * ((i * 37) % 500) / 500)) for i in range(500)]
    first = charts.dot_chart(rows, 0.8, "Share satisfied by desk", lang="en")
    drawn = {key for key, _r in charts.extremes(rows)[0]}
    middle = next(i for i, (key, _r) in enumerate(rows) if key not in drawn)
    moved = list(rows)
    moved[middle] = (rows[middle][0], replace(rows[middle][1], estimate=0.6, n=41))
    assert charts.dot_chart(moved, 0.8, "Share satisfied by desk", lang="en") is first
    top = next(i for i, (key, _r) in enumerate(rows) if key in drawn)
    moved[top] = (rows[top][0], replace(rows[top][1], estimate=0.95, ci_high=0.97))
    again = charts.dot_chart(moved, 0.8, "Share satisfied by desk", lang="en")
    assert again != first and b"95.0" in again


def test_is_a_trend_chart_kept_only_while_its_numbers_are_the_same() -> None:
    series = [("all desks", [_row(0.7), None, _row(0.8)])]
    first = charts.trend_chart(["2025-Q1", "2025-Q2", "2025-Q3"], series, 0.8, "t",
                               counts=[40, 0, 41])
    again = charts.trend_chart(("2025-Q1", "2025-Q2", "2025-Q3"), [("all desks", (
        _row(0.7), None, _row(0.8)))], 0.8, "t", counts=(40, 0, 41))
    assert again is first
    moved = charts.trend_chart(["2025-Q1", "2025-Q2", "2025-Q3"], series, 0.8, "t",
                               counts=[40, 0, 42])
    assert moved != first and b"n = 42" in moved


def test_a_vietnamese_chart_says_why_a_dot_is_missing_in_vietnamese() -> None:
    """Seen on the dashboard's commune chart: "n < min n" on a Vietnamese page."""
    rows = [("Xã An Ngãi", _row(0.8)), ("Xã Tân Hòa", _row(0.7, suppressed=True)),
            ("Xã Phú Lâm", replace(_row(0.75), ci_low=None, ci_high=None))]
    vi = charts.dot_chart(rows, 0.8, "Chỉ số theo xã", lang="vi").decode()
    assert "n dưới mức tối thiểu" in vi and "không có KTC" in vi
    assert "min n" not in vi and "no CI" not in vi
    en = charts.dot_chart(rows, 0.8, "Index by commune", lang="en").decode()
    assert "n &lt; min n" in en and "no CI" in en


def test_are_label_widths_measured_as_the_chart_lays_them_out() -> None:
    """A dot chart's left margin comes from its longest label, measured character by
    character (a label laid out whole costs FreeType milliseconds): the sum of advances
    is what matplotlib's unhinted layout gives, never narrower (kerning only narrows a
    line), so no label is cut at the edge."""
    from matplotlib.font_manager import FontProperties, findfont, get_font
    from matplotlib.ft2font import LoadFlags

    font = get_font(findfont(FontProperties(family="DejaVu Sans")))
    for text in ("Bộ phận Một cửa số 001 huyện Đông Hòa", "Ấp 01-2-3",
                 "Xã Vĩnh Lợi — Huyện Đông Hòa, Tỉnh Phú Yên", "WAVE To Ty",
                 "Tỷ lệ hài lòng theo Bộ phận (15 cao nhất và 15 thấp nhất)"):
        for size in (8, 10):
            font.set_size(size, 72)
            font.set_text(text, 0.0, flags=LoadFlags.NO_HINTING)
            laid_out = font.get_width_height()[0] / 64 / 72
            measured = charts._text_inches(text, size)
            assert laid_out * 0.999 <= measured <= laid_out * 1.1, (text, size)
            assert charts._text_inches(text, size) == measured  # the same, from the table


def test_a_warm_worker_measures_vietnamese_labels_without_freetype(monkeypatch) -> None:
    """The warm-up measures every Vietnamese and English letter at both sizes, so a first
    page's labels are added up from the table instead of asked of FreeType one by one."""
    import matplotlib.font_manager

    monkeypatch.setattr(charts, "_ADVANCES", {})  # a new worker's table
    charts.warm_up()
    monkeypatch.setattr(matplotlib.font_manager, "get_font", _refuse)
    for size in (8, 10):
        assert charts._text_inches("Ủy ban nhân dân xã Đông Hòa – Bộ phận Một cửa", size) > 1


def _refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise AssertionError("FreeType asked for a letter the warm-up measured")
