"""Computing and storing a round's weights as a numbered version.

The rows weighted are the round's paper questionnaires with a fieldwork outcome (rejected
ones excluded). Respondents are verified questionnaires completed or screened out; every
other outcome (refused, absent, not found) and every questionnaire not yet verified is a
nonrespondent whose weight its hamlet's respondents carry. The arithmetic is in
:mod:`survey.services.sample.weights_calc`.

An open round's current version is overwritten; a published round refuses, unless a new
version is asked for explicitly — then the old version's weights stay in
``response_weight`` and the audit trail says who made the new one and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import delete, insert, update
from sqlmodel import Session, select

from analysis.weighting import totals_columns
from survey.messages import N_, UserError
from survey.models import AdminUnit, Answer, Outcome, Response, SampleUnit, Stratum
from survey.models_sample import ResponseWeight, WeightsVersion
from survey.services.audit import record
from survey.services.sample.rounds import get_round
from survey.services.sample.weights_calc import compute_arrays

RESPONDED = (Outcome.completed.value, Outcome.screened_out.value)
FRAME_COLUMNS = ("urban_rural",)


@dataclass(frozen=True)
class WeightsSummary:
    round_code: str
    version: int
    respondents: int
    nonrespondents: int
    unverified: int
    sum_base: float
    sum_final: float
    min_weight: float
    max_weight: float
    kish_deff: float
    collapsed: tuple[str, ...]
    rake_iterations: int | None
    trimmed: int
    margins: tuple[tuple[str, str, float, float], ...] = ()  # variable, value, target, achieved

    def as_dict(self) -> dict[str, object]:
        return {k: ([list(x) if isinstance(x, tuple) else x for x in v]
                    if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _answers(session: Session, ids: list[int], items: list[str]) -> dict[str, dict[int, object]]:
    out: dict[str, dict[int, object]] = {item: {} for item in items}
    if not items:
        return out
    for row in session.exec(select(Answer).where(Answer.item_code.in_(items),  # type: ignore[attr-defined]
                                                 Answer.response_id.in_(ids))):  # type: ignore[attr-defined]
        out[row.item_code][row.response_id] = (
            row.value_num if row.value_num is not None else row.value_text)
    return out


def compute_weights(
    session: Session,
    round_code: str,
    *,
    min_respondents: int = 5,
    adults_item: str | None = None,
    margins: Path | None = None,
    trim: float | None = None,
    new_version: bool = False,
    reason: str | None = None,
    user_id: int | None = None,
    margins_label: str | None = None,
) -> WeightsSummary:
    """Compute, store and return the round's weights (see the module docstring).

    ``margins_label`` names the margins in the stored options and the audit (an uploaded
    file's name rather than the temporary path it was read from).
    """
    round_ = get_round(session, round_code, lock=True)
    published = round_.status == "published"
    if published and not new_version:
        raise UserError(N_("round %(round)s is published with weights version %(version)d: its "
                           "weights are frozen; make a new version %(next)d, with a reason"),
                        round=round_code, version=round_.weights_version,
                        next=round_.weights_version + 1)
    if new_version and not published:
        raise UserError(N_("round %(round)s is still open: its weights are recomputed in place; "
                           "a new version is for published rounds"), round=round_code)
    if new_version and not (reason or "").strip():
        raise UserError(N_("a new weights version of a published round needs a reason "
                           "(--reason)"))
    rows = session.exec(
        select(Response, SampleUnit, Stratum, AdminUnit)
        .join(SampleUnit, SampleUnit.id == Response.sample_unit_id)  # type: ignore[arg-type]
        .join(Stratum, Stratum.id == SampleUnit.stratum_id)  # type: ignore[arg-type]
        .join(AdminUnit, AdminUnit.id == SampleUnit.unit_id)  # type: ignore[arg-type]
        .where(Response.round_id == round_.id, Response.mode == "paper",
               Response.status != "rejected", Response.outcome.is_not(None))  # type: ignore[union-attr]
        .order_by(Response.id)
    ).all()
    if not rows:
        raise UserError(N_("round %(round)s has no sampled questionnaires with a fieldwork "
                           "outcome to weight"), round=round_code)
    unlisted = sorted({su.psu_code for _, su, _, _ in rows if not su.listed_persons})
    if unlisted:
        raise UserError(N_("%(n)d sampled hamlet(s) have no listed count from the field "
                           "(PSU %(psus)s): enter the listing counts first"),
                        n=len(unlisted), psus=", ".join(unlisted[:5]))
    responded = np.array([r.outcome in RESPONDED and r.status == "verified"
                          for r, _, _, _ in rows])
    if not responded.any():
        raise UserError(N_("round %(round)s has no verified respondents yet"), round=round_code)
    ids = [r.id for r, _, _, _ in rows]
    items = ([adults_item] if adults_item else [])
    wanted = totals_columns(margins, "rake") if margins is not None else []
    items += [c for c in wanted if c not in FRAME_COLUMNS]
    answers = _answers(session, ids, items)
    adults = None
    if adults_item:
        values = [answers[adults_item].get(i) for i in ids]
        missing = [r.questionnaire_id for (r, _, _, _), v, ok in zip(rows, values, responded,
                                                                     strict=True)
                   if ok and not isinstance(v, float)]
        if missing:
            raise UserError(N_("%(n)d respondent(s) have no number of adults in '%(item)s' "
                               "(e.g. %(ids)s)"), n=len(missing), item=adults_item,
                            ids=", ".join(str(m) for m in missing[:3]))
        adults = np.array([v if isinstance(v, float) else 1.0 for v in values])
    columns = {item: np.array([answers[item].get(i) for i in ids], dtype=object)
               for item in items if item != adults_item}
    columns["urban_rural"] = np.array([u.urban_rural for _, _, _, u in rows], dtype=object)
    result = compute_arrays(
        prob_stage1=np.array([su.prob_stage1 for _, su, _, _ in rows]),
        issued=np.array([float(su.sample_size) for _, su, _, _ in rows]),
        listed=np.array([float(su.listed_persons or 0) for _, su, _, _ in rows]),
        psu=np.array([su.psu_code for _, su, _, _ in rows], dtype=object),
        stratum=np.array([s.code for _, _, s, _ in rows], dtype=object),
        responded=responded, adults=adults, min_respondents=min_respondents,
        margins=margins, columns=columns, trim=trim,
    )  # fmt: skip
    final = result.final[responded]
    summary = WeightsSummary(
        round_code, round_.weights_version + (1 if new_version else 0), int(responded.sum()),
        int((~responded).sum()),
        sum(1 for r, _, _, _ in rows if r.outcome in RESPONDED and r.status != "verified"),
        float(result.base.sum()),
        float(final.sum()), float(final.min()), float(final.max()),
        float(len(final) * (final**2).sum() / final.sum() ** 2), result.collapsed,
        result.rake_iterations, result.trimmed, result.achieved,
    )  # fmt: skip
    options = {"min_respondents": min_respondents, "adults_item": adults_item,
               "margins": (margins_label or str(margins)) if margins else None, "trim": trim,
               "reason": reason}
    _store(session, round_, summary, options, rows, result.prob_stage2, result.final, responded)
    record(session, "weights.compute", "survey_round", round_.id, user_id=user_id,
           reason=reason, detail={"version": summary.version, **options})
    return summary


def _store(session, round_, summary, options, rows, prob2, final, responded) -> None:  # type: ignore[no-untyped-def]
    """Write the version record, its per-response rows and the responses' design columns."""
    version = session.exec(select(WeightsVersion).where(
        WeightsVersion.round_id == round_.id, WeightsVersion.version == summary.version)).first()
    if version is None:
        version = WeightsVersion(round_id=round_.id, version=summary.version)
    version.options, version.summary = options, summary.as_dict()
    session.add(version)
    round_.weights_version = summary.version
    session.add(round_)
    session.flush()
    session.exec(delete(ResponseWeight).where(ResponseWeight.version_id == version.id))  # type: ignore[arg-type]
    per_row = []
    for (r, su, s, _), p2, w, ok in zip(rows, prob2.tolist(), final.tolist(), responded.tolist(),
                                        strict=True):
        per_row.append({"id": r.id, "prob_stage1": su.prob_stage1, "prob_stage2": p2,
                        "weight": w if ok else None, "stratum": s.code, "psu": su.psu_code})
    weighted = {row["id"] for row in per_row}
    others = session.exec(select(Response.id).where(
        Response.round_id == round_.id, Response.weight.is_not(None))).all()  # type: ignore[union-attr]
    per_row += [{"id": i, "weight": None} for i in others if i not in weighted]
    session.execute(update(Response), [d for d in per_row if "psu" in d])
    if len(per_row) > len(weighted):
        session.execute(update(Response), [d for d in per_row if "psu" not in d])
    session.execute(insert(ResponseWeight), [
        {"version_id": version.id, "response_id": d["id"], "prob_stage1": d["prob_stage1"],
         "prob_stage2": d["prob_stage2"], "weight": d["weight"]}
        for d in per_row if "psu" in d])
    session.flush()
