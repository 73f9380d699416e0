"""Printable fieldwork lists (PDF), one file per enumerator, in Vietnamese.

DejaVu Sans covers every Vietnamese diacritic; the core PDF fonts do not. Each list opens
with the enumerator's hamlets (IDs and counts), then one table per hamlet with a line per
questionnaire ID and blank columns for the fieldwork outcome, which the enumerator fills in
by hand and the office keys back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from survey.services.sample.lists import FieldworkHamlet

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
OUTCOME_HINT = ("Kết quả phỏng vấn: 1 Hoàn thành · 2 Không có giao dịch (12 tháng qua) · "
                "3 Từ chối · 4 Vắng nhà · 5 Không tìm thấy")


def _pdf() -> FPDF:
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not regular.is_file():
        raise ValueError(f"font {regular} is missing: install fonts-dejavu-core")
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold if bold.is_file() else regular))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    return pdf


def fieldwork_pdf(round_name: str, hamlets: Sequence[FieldworkHamlet]) -> bytes:
    """The list of one enumerator's hamlets (all of ``hamlets`` share the enumerator)."""
    if not hamlets:
        raise ValueError("no hamlets to print")
    pdf = _pdf()
    pdf.add_page()
    who = hamlets[0]
    heading = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, f"Danh sách điều tra thực địa — {round_name}", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    name = f"{who.enumerator} {who.enumerator_name}".strip()
    total = sum(len(h.questionnaire_ids) for h in hamlets)
    pdf.multi_cell(0, 6, f"Điều tra viên: {name}\nSố thôn/ấp: {len(hamlets)} · Số phiếu: {total}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    with pdf.table(col_widths=(14, 40, 40, 40, 46), headings_style=heading,
                   line_height=6) as table:
        table.row(["PSU", "Tầng (huyện/xã)", "Xã/Phường", "Thôn/Ấp", "Mã phiếu"])
        for h in hamlets:
            table.row([h.psu_code, h.stratum, h.commune, h.hamlet,
                       f"{h.questionnaire_ids[0]} … {h.questionnaire_ids[-1]} "
                       f"({len(h.questionnaire_ids)})"])
    for h in hamlets:
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 7, f"{h.hamlet} — {h.commune} (PSU {h.psu_code})", new_x="LMARGIN",
                       new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        pdf.multi_cell(0, 5, f"{OUTCOME_HINT}\nSố người được lập danh sách: ________",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        with pdf.table(col_widths=(12, 34, 80, 54), headings_style=heading,
                       line_height=6) as table:
            table.row(["STT", "Mã phiếu", "Họ tên / địa chỉ người trả lời",
                       "Kết quả phỏng vấn (1–5)"])
            for serial, qid in enumerate(h.questionnaire_ids, start=1):
                table.row([str(serial), qid, "", ""])
    return bytes(pdf.output())


def write_fieldwork_pdfs(
    out_dir: Path, round_code: str, round_name: str, hamlets: Sequence[FieldworkHamlet]
) -> list[Path]:
    """One PDF per enumerator in ``out_dir``; returns the paths written."""
    by_enumerator: dict[str, list[FieldworkHamlet]] = {}
    for h in hamlets:
        by_enumerator.setdefault(h.enumerator, []).append(h)
    paths = []
    for enumerator, own in sorted(by_enumerator.items()):
        label = ("chua_phan_cong" if enumerator == "—"
                 else re.sub(r"[^A-Za-z0-9_.-]", "_", enumerator))
        path = out_dir / f"fieldwork_{round_code}_{label}.pdf"
        path.write_bytes(fieldwork_pdf(round_name, own))
        paths.append(path)
    return paths
