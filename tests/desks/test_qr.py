"""Do the QR images and the A5 poster decode back to exactly the desk URL?"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from survey.services.desks.qr import CALL_TO_ACTION_VI, poster_pdf, qr_png, qr_svg, render
from tests.support import unavailable

URL = "https://sipas.example.gov.vn/d/WyJQTC1NQzEiLDFd.qG7KSyXDV7EQ_SXf8B886qwIijE"


def decode_image(gray: np.ndarray) -> str:
    """OpenCV's ArUco-based detector (the classic one misses ~4% of valid codes)."""
    import cv2

    text, points, _ = cv2.QRCodeDetectorAruco().detectAndDecode(gray)
    if not text:
        text, points, _ = cv2.QRCodeDetector().detectAndDecode(gray)
    assert points is not None and text, "no QR code found"
    return str(text)


def decode_png(data: bytes) -> str:
    import cv2

    return decode_image(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE))


def decode_svg(data: bytes, scale: int = 8) -> str:
    """Rasterise our one-path SVG (M x y hW v1 h-W z runs) and decode it."""
    svg = data.decode()
    n = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))  # type: ignore[union-attr]
    grid = np.full((n, n), 255, np.uint8)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1", svg):
        grid[int(y), int(x):int(x) + int(width)] = 0
    return decode_image(np.kron(grid, np.ones((scale, scale), np.uint8)))


def test_png_decodes_to_the_desk_url() -> None:
    assert decode_png(qr_png(URL)) == URL


def test_svg_decodes_to_the_desk_url_and_has_a_white_background() -> None:
    data = qr_svg(URL)
    assert b'fill="#fff"' in data
    assert decode_svg(data) == URL


def test_poster_is_a5_embeds_dejavu_and_decodes_to_the_desk_url(tmp_path: Path) -> None:
    missing = [t for t in ("pdftoppm", "pdfinfo", "pdffonts", "pdftotext") if not shutil.which(t)]
    if missing:
        unavailable(f"poppler-utils is not installed (missing {', '.join(missing)})")
    import cv2

    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(poster_pdf(URL, "Bộ phận Một cửa xã Phú Lâm", "UBND xã Phú Lâm", "PL-MC1"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"Page size:\s+419\.\d+ x 595\.\d+ pts", info.stdout)  # A5 portrait
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    assert "DejaVuSans" in fonts.stdout and " yes " in fonts.stdout  # embedded
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert CALL_TO_ACTION_VI in words and "Bộ phận Một cửa xã Phú Lâm" in words
    assert URL in words.replace("\n", "")
    subprocess.run(["pdftoppm", "-r", "110", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    page = cv2.imread(str(tmp_path / "page.png"), cv2.IMREAD_GRAYSCALE)
    assert decode_image(page) == URL


def test_unknown_formats_and_empty_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown QR format"):
        render("gif", URL, "x")
    with pytest.raises(ValueError, match="non-empty URL"):
        qr_png("")
