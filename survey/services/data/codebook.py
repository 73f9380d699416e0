"""The codebook of an export: one row per column, so a file can be read without the app.

REDCap calls it a data dictionary. Each column has its name, Vietnamese and English labels,
type, measurement level, codes with their labels in both languages, the missing ("no
answer") code, the skip rule that decides when the question is asked, and the form versions
that hold it. It describes exactly the columns of the export with the same filters (the same
versions, the same free-text rule, the 0/1 choice columns), so the two always match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from survey.models import InstrumentVersion
from survey.services.data.export import DESIGN_COLUMNS
from survey.services.instruments_text import parse_stored

HEADER = ["variable", "label_vi", "label_en", "type", "measure", "codes_vi", "codes_en",
          "missing_code", "skip_rule", "form_versions", "source"]
DESIGN_EN = {
    "response_id": "Response id in the system", "instrument": "Questionnaire",
    "instrument_version": "Questionnaire version", "round": "Survey round",
    "mode": "Mode (paper/qr)", "status": "Review status", "outcome": "Interview outcome",
    "province": "Province", "district": "District", "commune": "Commune",
    "hamlet": "Hamlet / residential group", "stratum": "Stratum", "psu": "Primary sampling "
    "unit (PSU)", "prob_stage1": "Stage-1 selection probability",
    "prob_stage2": "Stage-2 selection probability", "weight": "Weight",
    "questionnaire_id": "Questionnaire ID", "enumerator": "Data entry by",
    "desk": "One-stop desk", "created_at": "Entered at (UTC)",
}
DESIGN_TYPES = {"response_id": "integer", "prob_stage1": "number", "prob_stage2": "number",
                "weight": "number", "created_at": "datetime (ISO 8601, UTC)"}
ITEM_TYPES = {"scale": "integer (code)", "select_one": "integer (code)",
              "select_multiple": "text (codes separated by spaces)", "integer": "integer",
              "decimal": "number", "text": "text"}
CHOSEN_EN = {0: "not chosen", 1: "chosen"}


@dataclass
class _Item:
    label_en: str
    type: str
    codes_vi: dict[int, str]
    codes_en: dict[int, str]
    skip: str
    versions: list[str]


def _items(versions: Iterable[InstrumentVersion]) -> dict[str, _Item]:
    """What the forms say about each item, the first version that has it for its words."""
    found: dict[str, _Item] = {}
    for version in versions:
        form = parse_stored(version.source_text)
        tag = f"{form.code} {version.version}"
        for item in form.questions:
            if item.code in found:
                if tag not in found[item.code].versions:
                    found[item.code].versions.append(tag)
                continue
            choices = item.choices or (form.scale if item.type == "scale" else ())
            numbered = [c for c in choices if str(c.code).lstrip("-").isdigit()]
            codes_vi = {int(c.code): c.label.get("vi", str(c.code)) for c in numbered}
            codes = {int(c.code): c.label.get("en") or c.label.get("vi", str(c.code))
                     for c in numbered}
            if item.na_allowed and item.missing_code is not None:
                missing = form.missing_label or {}
                codes_vi[int(item.missing_code)] = missing.get("vi", "Không trả lời")
                codes[int(item.missing_code)] = missing.get("en", "No answer")
            found[item.code] = _Item(item.label.get("en") or item.label.get("vi", item.code),
                                     item.type, codes_vi, codes, item.relevant_text or "",
                                     [tag])
    return found


def _codes(labels: dict[int, str]) -> str:
    return " | ".join(f"{k} = {v}" for k, v in sorted(labels.items()))


def codebook_rows(session: Session, cols, version_ids: list[int]) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """One row per column of ``cols`` (:class:`survey.services.data.formats.Columns`)."""
    versions = session.exec(select(InstrumentVersion).where(
        InstrumentVersion.id.in_(version_ids)).order_by(InstrumentVersion.id)).all()  # type: ignore[union-attr]
    items = _items(versions)
    parents = {f"{code}_{c}": (code, c) for code, picks in cols.choices.items() for c in picks}
    rows = []
    for name in cols.names:
        vi = cols.labels.get(name, "")
        missing = cols.missing.get(name)
        if name in DESIGN_COLUMNS:
            rows.append([name, vi, DESIGN_EN.get(name, ""), DESIGN_TYPES.get(name, "text"),
                         cols.measure.get(name, "nominal"), "", "", "", "", "", "design"])
        elif name in parents:
            code, choice = parents[name]
            item = items.get(code)
            en = (f"{item.label_en}: {item.codes_en.get(int(choice), choice)}"
                  if item and choice.lstrip("-").isdigit() else name)
            rows.append([name, vi, en, "integer (0/1)", "nominal",
                         _codes(cols.value_labels.get(name, {})), _codes(CHOSEN_EN), "",
                         item.skip if item else "", ", ".join(item.versions) if item else "",
                         f"choice of {code}"])
        else:
            item = items.get(name)
            rows.append([
                name, vi, item.label_en if item else "",
                ITEM_TYPES.get(item.type, item.type) if item else "text",
                cols.measure.get(name, "nominal"),
                _codes(cols.value_labels.get(name) or (item.codes_vi if item else {})),
                _codes(item.codes_en) if item else "",
                "" if missing is None else str(missing), item.skip if item else "",
                ", ".join(item.versions) if item else "", "question"])
    return rows
