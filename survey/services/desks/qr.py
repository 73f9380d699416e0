"""QR codes of desk links as PNG, SVG and a printable A5 poster (PDF).

The poster is what actually hangs at the counter, so it is vector (crisp at any printer
resolution), embeds DejaVu Sans (Vietnamese diacritics render on any machine, no font
substitution) and prints the URL as text for phones that cannot scan. Error correction
level M survives the scuffs and reflections of a laminated sheet while keeping the code
small enough to scan from arm's length.
"""

from __future__ import annotations

import io
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_M

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
CALL_TO_ACTION_VI = "Quét mã QR để đánh giá mức độ hài lòng"
CALL_TO_ACTION_EN = "Scan the QR code to rate our service"
FORMATS = ("png", "svg", "pdf")
A5_MM = (148.0, 210.0)  # ISO 216, given explicitly (fpdf2 warns on the "A5" name)


def qr_matrix(url: str) -> list[list[bool]]:
    """Dark modules, quiet zone (4 modules) included."""
    if not url:
        raise ValueError("a QR code needs a non-empty URL")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_png(url: str, box_size: int = 10) -> bytes:
    """A black-on-white PNG, ``box_size`` pixels per module."""
    from PIL import Image

    matrix = qr_matrix(url)
    n = len(matrix)
    image = Image.new("1", (n, n), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    image = image.resize((n * box_size, n * box_size), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def qr_svg(url: str, module_mm: float = 1.0) -> bytes:
    """One path on a white square: small, scalable, and safe on coloured paper."""
    matrix = qr_matrix(url)
    n = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    size = f"{n * module_mm:g}mm"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size}" '
        f'height="{size}" shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/><path fill="#000" d="{"".join(runs)}"/>'
        "</svg>\n"
    )
    return svg.encode("utf-8")


def poster_pdf(url: str, desk_name: str, agency: str = "", desk_code: str = "") -> bytes:
    """An A5 portrait poster: heading, desk, agency, QR code, call to action, URL as text."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode

    for font in (FONT_REGULAR, FONT_BOLD):
        if not font.exists():
            raise ValueError(f"font {font} is missing (install fonts-dejavu-core)")
    pdf = FPDF(orientation="P", unit="mm", format=A5_MM)
    pdf.set_title(f"SIPAS QR - {desk_name}")
    pdf.set_creator("SIPAS")
    pdf.set_auto_page_break(False)
    pdf.set_margins(12, 12, 12)
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.add_page()
    width = pdf.w - 24
    pdf.set_text_color(179, 38, 30)
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(width, 7, "ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG", align="C", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(width, 6.5, desk_name, align="C", new_x="LMARGIN", new_y="NEXT")
    if agency:
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(width, 5.5, agency, align="C", new_x="LMARGIN", new_y="NEXT")
    matrix = qr_matrix(url)
    side = 96.0
    module = side / len(matrix)
    left, top = (pdf.w - side) / 2, max(pdf.get_y() + 4, 50.0)
    pdf.set_fill_color(0, 0, 0)
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                # a hair of overlap so no white seams appear between adjacent modules
                pdf.rect(left + start * module, top + y * module, (x - start) * module + 0.02,
                         module + 0.02, style="F")
            else:
                x += 1
    pdf.set_y(top + side + 4)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(width, 6.5, CALL_TO_ACTION_VI, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.set_text_color(85, 85, 85)
    pdf.multi_cell(width, 5, CALL_TO_ACTION_EN, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 7.5)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(width, 3.8, url, align="C", wrapmode=WrapMode.CHAR, new_x="LMARGIN",
                   new_y="NEXT")
    if desk_code:
        pdf.set_y(pdf.h - 14)
        pdf.set_font("DejaVu", "", 7)
        pdf.set_text_color(120, 120, 120)
        pdf.cell(width, 4, f"SIPAS · {desk_code}", align="C")
    return bytes(pdf.output())


def render(fmt: str, url: str, desk_name: str, agency: str = "", desk_code: str = "") -> bytes:
    """The QR code in one of :data:`FORMATS` (by file extension, without the dot)."""
    if fmt == "png":
        return qr_png(url)
    if fmt == "svg":
        return qr_svg(url)
    if fmt == "pdf":
        return poster_pdf(url, desk_name, agency, desk_code)
    raise ValueError(f"unknown QR format {fmt!r}; choose one of {', '.join(FORMATS)}")
