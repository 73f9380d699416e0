"""Does the printable report say what the dashboard says, in Vietnamese, fast enough?"""

from __future__ import annotations

import re
import time
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.cli import main
from survey.services.reports.content import build_content, headline
from survey.services.reports.dashboard import DashboardOptions, build_dashboard
from survey.services.reports.render import render_pdf


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _dashboard_numbers(html: str) -> tuple[str, str, str, str]:
    index = re.search(r'id="sipas-index">([\d.,]+)<', html)
    ci = re.search(r'id="sipas-ci">([\d.,]+–[\d.,]+)<', html)
    n = re.search(r'id="sipas-n">(\d+)<', html)
    desk = re.search(r'id="desk-overall">([\d.,]+)<', html)
    assert index and ci and n and desk
    return index.group(1), ci.group(1), n.group(1), desk.group(1)


def test_are_the_pdf_headline_numbers_the_dashboards(analyst: FlaskClient) -> None:
    html = analyst.get("/reports/?period=2025-Q3").get_data(as_text=True)
    index, ci, n, desk = _dashboard_numbers(html)
    pdf = analyst.get("/reports/report?period=2025-Q3&format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = _pdf_text(pdf.data)
    assert f"Chỉ số SIPAS (đợt 2025): {index}% (KTC 95%: {ci}%), n = {n}." in text
    assert f"{desk}%" in text
    assert "Ghi chú phương pháp" in text and "không phải mẫu xác suất" in text


def test_does_the_cli_write_a_vietnamese_pdf_in_under_ten_seconds(
    demo: Flask, runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    start = time.perf_counter()
    result = runner.invoke(main, ["report", "--period", "2025-Q3", "--target", "0.80",
                                  "--out", str(out)])
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    assert elapsed < 10, f"the province's report took {elapsed:.1f} s"
    text = _pdf_text(out.read_bytes())
    with Session(demo.extensions["sipas_engine"]) as session:
        dash = build_dashboard(session, DashboardOptions(period="2025-Q3", target=0.80))
    assert headline(dash, "vi") in text.replace("\n", " ")
    for word in ("Chỉ số theo yếu tố", "Tiếp cận dịch vụ", "Đánh giá tại Bộ phận Một cửa",
                 "huyện", "Xu hướng theo quý"):
        assert word in text


def test_is_dejavu_embedded_so_diacritics_print(demo: Flask) -> None:
    import io

    from pypdf import PdfReader

    with Session(demo.extensions["sipas_engine"]) as session:
        dash = build_dashboard(session, DashboardOptions(period="2025-Q3"))
    reader = PdfReader(io.BytesIO(render_pdf(build_content(dash, "vi"))))
    fonts = {str(f["/BaseFont"]) for page in reader.pages
             for f in page["/Resources"]["/Font"].values()}
    assert any("DejaVuSans" in f for f in fonts)
    assert "Thủ tục hành chính" in reader.pages[0].extract_text()


def test_html_report_in_english_and_bad_suffix(demo: Flask, runner: CliRunner,
                                              cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(main, ["report", "--period", "2025", "--lang", "en", "--out",
                                  str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and "data:image/svg+xml;base64," in html
    assert "Methodology" in html and "not a probability sample" in html
    bad = runner.invoke(main, ["report", "--out", str(tmp_path / "r.docx")])
    assert bad.exit_code == 1 and ".pdf or .html" in bad.output


def test_labels_are_whole_and_captions_and_headings_never_end_a_page(demo: Flask) -> None:
    """Criterion labels were cut mid-word ("…giải quyết công v") and a trend caption sat
    alone at the foot of a page: every label is printed whole (wrapped), and no page ends
    with a heading or a chart caption whose chart went to the next page."""
    import io

    from pypdf import PdfReader

    with Session(demo.extensions["sipas_engine"]) as session:
        dash = build_dashboard(session, DashboardOptions(period="2025-Q3"))
    content = build_content(dash, "vi")
    reader = PdfReader(io.BytesIO(render_pdf(content)))
    pages = [page.extract_text() for page in reader.pages]
    flat = " ".join(" ".join(pages).split())

    def lowest_line(page: object) -> str:
        """The text drawn lowest on the page (PDF y grows upwards)."""
        found: list[tuple[float, str]] = []

        def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
            if text.strip():
                found.append((cm[5] + tm[5] * cm[3], text.strip()))

        page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
        low = min(y for y, _t in found)
        return " ".join(t for y, t in found if abs(y - low) < 1)
    labels = [c.label for _e, items in dash.household.criteria for c in items]
    assert labels and all(" ".join(label.split()) in flat for label in labels), [
        label for label in labels if " ".join(label.split()) not in flat]
    headings = {b.text for b in content.blocks if b.kind == "h2"}
    captions = [b.text for b in content.blocks if b.kind == "chart"]
    for number, page in enumerate(reader.pages, start=1):
        if number < len(reader.pages):
            last = lowest_line(page)
            assert last not in headings, f"page {number} ends with the heading {last!r}"
        lines = {line.strip() for line in page.extract_text().splitlines()}
        shown = sum(1 for caption in captions if caption in lines)
        assert len(page.images) >= shown, f"page {number}: a caption without its chart"
