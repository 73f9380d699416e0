"""Survey rounds: the unit of household estimation and of publication.

Publishing freezes a round: its sample, its responses' design columns and its current
weights version. Later corrections make a new weights version (see
:mod:`survey.services.sample.weights`), so a published number can always be traced to the exact
weights it was computed with and never changes silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from survey.messages import N_, UserError
from survey.models import Response, ReviewStatus, RoundStatus, SampleUnit, SurveyRound, utcnow
from survey.models_sample import WeightsVersion
from survey.services.audit import record
from survey.services.scope import EVERYTHING, Scope, contains_unit, within


@dataclass(frozen=True)
class RoundInfo:
    code: str
    name: str
    year: int
    status: str
    weights_version: int
    published_at: datetime | None
    hamlets: int
    responses: int
    weights_computed: bool


def get_round(session: Session, code: str, *, lock: bool = False) -> SurveyRound:
    """The round with ``code``, or a :class:`UserError` that names the known rounds.

    ``lock``: locked until the transaction ends and read after the lock, for a write that
    first checks the round (open? a sample yet? weights?): publishing, drawing, weighting
    and listing then take turns, so a round is published once and nothing changes a round
    that was published a moment ago (survey/services/locks.py).
    """
    query = select(SurveyRound).where(SurveyRound.code == code)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.exec(query).first()
    if found is None:
        known = sorted(r.code for r in session.exec(select(SurveyRound)))
        if known:
            raise UserError(N_("no survey round '%(code)s'; known rounds: %(known)s"),
                            code=code, known=", ".join(known))
        raise UserError(N_("no survey round '%(code)s': create the round first"), code=code)
    return found


def ensure_open(round_: SurveyRound, action: str) -> None:
    """Refuse ``action`` (named for the log and the CLI) on a published round: its data are
    frozen."""
    if round_.status == RoundStatus.published.value:
        raise UserError(N_("round %(round)s is published (frozen, weights version %(version)d): "
                           "its data cannot be changed"), round=round_.code,
                        version=round_.weights_version)


def create_round(session: Session, code: str, name: str, year: int,
                 user_id: int | None = None, unit_id: int | None = None) -> SurveyRound:
    """A new open round; ``unit_id``: the area it covers (its sample is drawn there)."""
    code, name = code.strip(), name.strip()
    if not code or len(code) > 32:
        raise UserError(N_("a round code must be 1–32 characters (e.g. 2026)"))
    if not name or len(name) > 200:
        raise UserError(N_("a round needs a name of at most 200 characters "
                           "(e.g. \"Khảo sát SIPAS 2026\")"))
    if not 2000 <= year <= 2100:
        raise UserError(N_("year must be between 2000 and 2100, got %(year)s"), year=year)
    if session.exec(select(SurveyRound).where(SurveyRound.code == code)).first():
        raise UserError(N_("a round '%(code)s' already exists"), code=code)
    row = SurveyRound(code=code, name=name, year=year, unit_id=unit_id)
    session.add(row)
    session.flush()
    record(session, "round.create", "survey_round", row.id, user_id=user_id,
           detail={"code": code, "name": name, "year": year})
    return row


def list_rounds(session: Session, scope: Scope = EVERYTHING) -> list[RoundInfo]:
    out = []
    for r in sorted(visible_rounds(session, scope), key=lambda r: (r.year, r.code)):
        hamlets = session.exec(
            select(func.count()).select_from(SampleUnit).where(SampleUnit.round_id == r.id)
        ).one()
        responses = session.exec(
            select(func.count()).select_from(Response).where(Response.round_id == r.id)
        ).one()
        computed = _current_version(session, r) is not None
        out.append(RoundInfo(r.code, r.name, r.year, r.status, r.weights_version,
                             r.published_at, int(hamlets), int(responses), computed))
    return out


def _current_version(session: Session, round_: SurveyRound) -> WeightsVersion | None:
    return session.exec(
        select(WeightsVersion).where(
            WeightsVersion.round_id == round_.id,
            WeightsVersion.version == round_.weights_version,
        )
    ).first()


def publish_round(session: Session, code: str, user_id: int | None = None,
                  reason: str | None = None) -> SurveyRound:
    """Freeze the round and its current weights version; weights must exist."""
    round_ = get_round(session, code, lock=True)
    ensure_open(round_, "publish it again")
    if _current_version(session, round_) is None:
        raise UserError(N_("round %(round)s has no computed weights yet: compute them before "
                           "publishing"), round=code)
    round_.status = RoundStatus.published.value
    round_.published_at = utcnow()
    session.add(round_)
    session.flush()
    record(session, "round.publish", "survey_round", round_.id, user_id=user_id,
           reason=(reason or "").strip() or None,
           detail={"code": code, "weights_version": round_.weights_version})
    from survey.services.webhooks import outbox

    outbox.round_published(session, round_)
    return round_


def visible_rounds(session: Session, scope: Scope = EVERYTHING) -> list[SurveyRound]:
    """Rounds in (year, id) order; for an area, those that sampled or keyed in it (a
    national deployment's province rounds are each their own province's)."""
    query = select(SurveyRound).order_by(col(SurveyRound.year), col(SurveyRound.id))
    if not scope.everything:
        sampled = select(SampleUnit.id).where(SampleUnit.round_id == SurveyRound.id,
                                              within(scope, SampleUnit.unit_id))
        keyed = select(Response.id).where(Response.round_id == SurveyRound.id,
                                          within(scope, Response.unit_id))
        query = query.where(within(scope, SurveyRound.unit_id) | sampled.exists()
                            | keyed.exists())
    return list(session.exec(query))


def owned_round(session: Session, code: str, scope: Scope = EVERYTHING,
                lock: bool = False) -> SurveyRound:
    """The round ``code`` if the area runs it (its own area's round; the whole deployment
    runs every round), else the same refusal as for a round that does not exist: a
    province sees the ministry's national round but does not draw, weight or publish it."""
    if scope.everything:
        return get_round(session, code, lock=lock)
    query = select(SurveyRound).where(SurveyRound.code == code)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    round_ = session.exec(query).first()  # never the list of every area's round codes
    if round_ is None or round_.unit_id is None or \
            not contains_unit(session, scope, round_.unit_id):
        raise UserError(N_("no survey round '%(code)s' of your area"), code=code)
    return round_


def rounds_with_data(session: Session, scope: Scope = EVERYTHING) -> list[SurveyRound]:
    """Rounds holding at least one verified response (in the area), latest first (what a
    report can show)."""
    has_data = select(Response.id).where(Response.round_id == SurveyRound.id,
                                         Response.status == ReviewStatus.verified.value,
                                         within(scope, Response.unit_id))
    return list(session.exec(select(SurveyRound).where(has_data.exists())
                             .order_by(col(SurveyRound.year).desc(), col(SurveyRound.id).desc())))


def pick_round(session: Session, round_code: str | None,
               scope: Scope = EVERYTHING) -> SurveyRound:
    """The named round; when none is named, the latest round with verified data (a newer
    round drawn but not yet keyed would show nothing), else the latest round. For an area,
    only its rounds (:func:`visible_rounds`): another's is not found."""
    if round_code:
        if scope.everything:
            found = session.exec(select(SurveyRound).where(SurveyRound.code == round_code)
                                 ).first()
            rounds = list(session.exec(select(SurveyRound))) if found is None else []
        else:
            rounds = visible_rounds(session, scope)
            found = next((r for r in rounds if r.code == round_code), None)
        if found is None:
            known = ", ".join(r.code for r in rounds) or "none"
            raise ValueError(f"no survey round {round_code!r} in the database (rounds: {known})")
        return found
    with_data = rounds_with_data(session, scope)
    if with_data:
        return with_data[0]
    latest = visible_rounds(session, scope)
    if not latest:
        raise ValueError("the database has no survey round yet")
    return latest[-1]
