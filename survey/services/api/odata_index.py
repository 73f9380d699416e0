"""The SIPAS index as OData entity sets, one per household questionnaire (``index_<code>``).

Power BI reads estimates as it reads responses. The rows are ``sipas index --db --format
json``'s estimates for one round and one breakdown, flattened into a fixed set of columns
(round, by, domain, indicator, level, n, estimate, se, ci_low, ci_high, df, deff, note), so
the numbers are the command's by construction (the same function computes them, through
the same cache). ``$filter`` chooses them: ``round eq 'R'`` (default: the latest round with
verified data) and ``by eq 'district'`` (default: the whole province); ``$select``, ``$top``
and ``$skip`` apply to the rows; there is no paging (a breakdown is at most a few thousand
rows).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from survey.messages import N_, UserError
from survey.models import Instrument

PREFIX = "index_"
DOMAINS = ("province", "district", "commune", "hamlet", "stratum")
COLUMNS = {"id": "Edm.String", "round": "Edm.String", "by": "Edm.String",
           "domain": "Edm.String", "indicator": "Edm.String", "level": "Edm.String",
           "n": "Edm.Int64", "estimate": "Edm.Double", "se": "Edm.Double",
           "ci_low": "Edm.Double", "ci_high": "Edm.Double", "df": "Edm.Double",
           "deff": "Edm.Double", "note": "Edm.String"}


def index_sets(session: Session) -> list[str]:
    """``index_<code>`` for each questionnaire whose round the index reads (households)."""
    codes = session.exec(select(Instrument.code).where(Instrument.kind != "desk")
                         .order_by(col(Instrument.code))).all()
    return [PREFIX + c for c in codes]


def entity_types() -> str:
    """The CSDL of one index entity type (the same columns for every questionnaire)."""
    props = "".join(f'<Property Name="{n}" Type="{t}"' + (' Nullable="false"/>' if n == "id"
                                                          else "/>")
                    for n, t in COLUMNS.items())
    return f'<EntityType Name="IndexRow"><Key><PropertyRef Name="id"/></Key>{props}</EntityType>'


def chosen(filter_text: str) -> tuple[str | None, str | None]:
    """``round eq 'R' and by eq 'district'`` → (round, by); anything else is refused."""
    import re

    round_code = by = None
    text = filter_text.strip()
    if not text:
        return None, None
    for part in re.split(r"\s+and\s+", text):
        m = re.fullmatch(r"\s*\(?\s*(round|by)\s+eq\s+'((?:[^']|'')*)'\s*\)?\s*", part)
        if m is None:
            raise UserError(N_("$filter on the index: only round eq '…' and by eq '…', not "
                               "'%(part)s'"), part=part[:60])
        value = m.group(2).replace("''", "'")
        if m.group(1) == "round":
            round_code = value
        elif value not in DOMAINS:
            raise UserError(N_("$filter: by takes one of %(domains)s"),
                            domains=", ".join(DOMAINS))
        else:
            by = value
    return round_code, by


def index_rows(engine: Engine, instrument: str, round_code: str | None,
               by: str | None, as_user: str | None = None) -> list[dict[str, Any]]:
    """The command's estimates as rows of the entity set (ValueError: the data cannot);
    ``as_user``: an area's account, which gets its area's estimates only."""
    from survey.commands.analysis import index_output_for

    argv = ["--db", "--format", "json", "--instrument", instrument]
    if as_user:
        argv += ["--as", as_user]
    if round_code:
        argv += ["--round", round_code]
    if by:
        argv += ["--by", by]
    text, _warnings = index_output_for(argv, engine)
    body = json.loads(text)
    shown_round = body["design"].get("database_round")
    rows = []
    for estimate in body["estimates"]:
        domain = estimate.get("domain")
        value = None if not domain else str(next(iter(domain.values())))
        rows.append({
            "id": "|".join(str(x) for x in (shown_round, by or "", value or "",
                                             estimate.get("indicator"))),
            "round": shown_round, "by": by, "domain": value,
            **{k: estimate.get(k) for k in ("indicator", "level", "n", "estimate", "se",
                                             "ci_low", "ci_high", "df", "deff", "note")}})
    return rows
