"""Render the report content to PDF (fpdf2, DejaVu Sans embedded) or standalone HTML.

The PDF embeds DejaVu Sans, which has every Vietnamese diacritic; the HTML is one file
(charts as ``data:`` SVG images, CSS inside) that prints well from any browser.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
from pathlib import Path
from typing import Any

from survey.services.reports import cache
from survey.services.reports.charts import data_uri
from survey.services.reports.content import Content

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "reports"


def _font(name: str) -> Path:
    path = FONT_DIR / name
    if not path.exists():
        raise ValueError(f"font {path} is missing: install fonts-dejavu-core for the PDF report")
    return path


KEEP_WITH_HEADING = 35.0  # mm: a heading needs room for a few rows of what follows
CAPTION_MM = 9.0


def _aspect(png: bytes) -> float:
    """Height ÷ width of a PNG, read from its header (1 if it is not a PNG)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        return 1.0
    width, height = struct.unpack(">II", png[16:24])
    return height / width if width else 1.0


def _keep_together(pdf: Any, height: float) -> None:
    """Start a new page unless ``height`` mm still fit on this one (and the page isn't new)."""
    if pdf.get_y() + height > pdf.page_break_trigger and pdf.get_y() > pdf.t_margin + 1:
        pdf.add_page()


def render_pdf(content: Content) -> bytes:
    """A4 PDF with the headline first, then tables, charts and the methodology note.

    Laying out thousands of table cells is most of a national report's time (fpdf2 breaks
    every cell's lines), so the document is kept on disk (:mod:`.cache`) under a hash of
    everything it shows, the date it prints included: the same report asked again is the
    same file, and a new day, new numbers or new words are a new one.
    """
    digest = hashlib.sha256(pickle.dumps(content, protocol=pickle.HIGHEST_PROTOCOL))
    return cache.remember("pdf", (digest.hexdigest(),), lambda: _render_pdf(content))


def _render_pdf(content: Content) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_compression(True)
    pdf.add_font("DejaVu", "", str(_font("DejaVuSans.ttf")))
    pdf.add_font("DejaVu", "B", str(_font("DejaVuSans-Bold.ttf")))
    pdf.set_title(content.title)
    pdf.set_author("SIPAS")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, content.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for block in content.blocks:
        if block.kind == "h2":
            _keep_together(pdf, KEEP_WITH_HEADING)  # a heading never ends a page alone
            pdf.ln(3)
            pdf.set_font("DejaVu", "B", 11)
            pdf.multi_cell(0, 6, block.text, new_x="LMARGIN", new_y="NEXT")
        elif block.kind == "p":
            pdf.set_font("DejaVu", "", 9)
            pdf.multi_cell(0, 5, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif block.kind == "table":
            pdf.set_font("DejaVu", "", 7)
            head = FontFace(emphasis="BOLD", fill_color=(230, 236, 245))
            extra = {"col_widths": block.widths} if block.widths else {}
            with pdf.table(headings_style=head, line_height=4, padding=0.8,
                           text_align="LEFT", **extra) as table:
                table.row(list(block.header))
                for row in block.rows:
                    table.row(list(row))
            pdf.ln(2)
        elif block.kind == "chart" and block.chart:
            width = pdf.epw * 0.9
            # the caption stays with its chart: both move to the next page if they must
            _keep_together(pdf, CAPTION_MM + width * _aspect(block.chart))
            pdf.set_font("DejaVu", "", 8)
            pdf.multi_cell(0, 4, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.image(io.BytesIO(block.chart), w=width)
            pdf.ln(2)
    return bytes(pdf.output())


def render_html(content: Content) -> str:
    """One self-contained HTML file (no scripts; charts inline as data: images)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]))
    charts = {i: data_uri(b.chart_svg) for i, b in enumerate(content.blocks) if b.chart_svg}
    return env.get_template("report_document.html").render(content=content, charts=charts)
