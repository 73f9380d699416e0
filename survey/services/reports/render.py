"""Render the report content to PDF (fpdf2, DejaVu Sans embedded) or standalone HTML.

The PDF embeds DejaVu Sans, which has every Vietnamese diacritic; the HTML is one file
(charts as ``data:`` SVG images, CSS inside) that prints well from any browser.
"""

from __future__ import annotations

import io
from pathlib import Path

from survey.services.reports.charts import data_uri
from survey.services.reports.content import Content

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "reports"


def _font(name: str) -> Path:
    path = FONT_DIR / name
    if not path.exists():
        raise ValueError(f"font {path} is missing: install fonts-dejavu-core for the PDF report")
    return path


def render_pdf(content: Content) -> bytes:
    """A4 PDF with the headline first, then tables, charts and the methodology note."""
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
            pdf.set_font("DejaVu", "", 8)
            pdf.multi_cell(0, 4, block.text, new_x="LMARGIN", new_y="NEXT")
            width = pdf.epw * 0.9
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
