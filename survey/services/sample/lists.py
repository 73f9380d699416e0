"""Fieldwork of the sample: the lists enumerators carry, and the counts they bring back.

The list says, per enumerator, which hamlets to visit and which questionnaire IDs (with
check digits) to fill there; the listed count of eligible residents per hamlet comes back
from the field and sets the within-hamlet probability used by the weights (the frame's
sizes are years old; the listing is today's).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlmodel import Session, select

from survey.models import AdminUnit, SampleUnit, Stratum, User
from survey.models_sample import FieldAssignment
from survey.services.data.cells import neutralise_formula
from survey.services.data.csv_text import csv_records
from survey.services.geography import ancestry_table
from survey.services.sample.questionnaire_ids import make_questionnaire_id
from survey.services.sample.rounds import ensure_open, get_round
from survey.services.scope import EVERYTHING, Scope, within

UNASSIGNED = "—"
CSV_COLUMNS = ("round", "enumerator", "enumerator_name", "stratum", "commune", "hamlet",
               "hamlet_code", "psu", "serial", "questionnaire_id")


@dataclass(frozen=True)
class FieldworkHamlet:
    """One sampled hamlet on an enumerator's list."""

    enumerator: str
    enumerator_name: str
    stratum: str
    commune: str
    hamlet: str
    hamlet_code: str
    psu_code: str
    prob_stage1: float
    listed: int | None
    questionnaire_ids: tuple[str, ...]


def fieldwork_hamlets(session: Session, round_code: str,
                      scope: Scope = EVERYTHING) -> list[FieldworkHamlet]:
    """Every sampled hamlet of the round (in the area), ordered by enumerator then PSU."""
    round_ = get_round(session, round_code)
    names = ancestry_table(session)
    rows = session.exec(
        select(SampleUnit, Stratum, AdminUnit, FieldAssignment, User)
        .join(Stratum, Stratum.id == SampleUnit.stratum_id)  # type: ignore[arg-type]
        .join(AdminUnit, AdminUnit.id == SampleUnit.unit_id)  # type: ignore[arg-type]
        .outerjoin(FieldAssignment,
                   FieldAssignment.sample_unit_id == SampleUnit.id)  # type: ignore[arg-type]
        .outerjoin(User, User.id == FieldAssignment.enumerator_id)  # type: ignore[arg-type]
        .where(SampleUnit.round_id == round_.id, within(scope, SampleUnit.unit_id))
    ).all()
    out = []
    for su, stratum, unit, assignment, user in rows:
        first, last = ((assignment.first_serial, assignment.last_serial) if assignment
                       else (1, su.sample_size))
        out.append(FieldworkHamlet(
            user.username if user else UNASSIGNED, user.full_name if user else "",
            f"{stratum.code} {stratum.name}", names[unit.id].get("commune", ""), unit.name,
            unit.code, su.psu_code, su.prob_stage1, su.listed_persons,
            tuple(make_questionnaire_id(su.round_id, su.psu_code, s)
                  for s in range(first, last + 1)),
        ))  # fmt: skip
    if not out:
        raise ValueError(f"round {round_code!r} has no sample yet: run `sipas sample draw`")
    return sorted(out, key=lambda h: (h.enumerator, h.psu_code))


def fieldwork_csv(round_code: str, hamlets: list[FieldworkHamlet]) -> str:
    """One line per questionnaire ID (UTF-8 with BOM, so Excel shows Vietnamese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for h in hamlets:
        for serial, qid in enumerate(h.questionnaire_ids, start=1):
            writer.writerow([neutralise_formula(str(cell)) for cell in (
                round_code, h.enumerator, h.enumerator_name, h.stratum, h.commune, h.hamlet,
                h.hamlet_code, h.psu_code, serial, qid)])
    return "\ufeff" + buffer.getvalue()


def parse_listed_counts(text: str) -> dict[str, int]:
    """``psu,listed`` lines (header required) → PSU code → listed count."""
    reader = iter(csv_records(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != ["psu", "listed"]:
        raise ValueError("the listing file needs the header psu,listed")
    counts: dict[str, int] = {}
    for line, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        psu, listed = fields[0].strip(), fields[1].strip() if len(fields) > 1 else ""
        if psu in counts:
            raise ValueError(f"line {line}: PSU {psu!r} appears twice")
        if not listed.isdigit() or int(listed) < 1:
            raise ValueError(f"line {line}: listed count must be a positive whole number, "
                             f"got {listed!r}")
        counts[psu] = int(listed)
    return counts


def set_listed_counts(session: Session, round_code: str, counts: dict[str, int]) -> int:
    """Store the field listing's count per PSU; every PSU named must be in the sample."""
    round_ = get_round(session, round_code, lock=True)
    ensure_open(round_, "change its listing counts")
    units = {su.psu_code: su for su in
             session.exec(select(SampleUnit).where(SampleUnit.round_id == round_.id))}
    unknown = sorted(set(counts) - set(units))
    if unknown:
        raise ValueError(f"PSU(s) not in the sample of round {round_code!r}: "
                         f"{', '.join(unknown[:5])}")
    for psu, listed in counts.items():
        units[psu].listed_persons = listed
        session.add(units[psu])
    session.flush()
    return len(counts)
