"""The printable report's content: headings, sentences, tables and charts, in one language.

Built once from a :class:`~survey.services.reports.dashboard.Dashboard` and rendered to PDF or HTML
by :mod:`survey.services.reports.render`, so both formats (and the dashboard, which formats
with the same :func:`pct`) print the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from survey.services.reports import charts
from survey.services.reports.compare import Difference
from survey.services.reports.dashboard import Dashboard
from survey.services.reports.rows import IndexRow, ci_text, in_language, number, pct
from survey.services.reports.trend import CHART_AGENCIES
from survey.services.reports.words import T, merged_text, verdict_words

WIDE_FIRST = (40, 11, 22, 7, 20)
WITH_RANK = (32, 10, 20, 6, 17, 15)  # a breakdown whose areas are ranked


@dataclass(frozen=True)
class Block:
    kind: str  # h1, h2, p, table, chart
    text: str = ""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    chart: bytes = b""
    chart_svg: bytes = b""
    widths: tuple[int, ...] = ()  # relative column widths in the PDF


@dataclass(frozen=True)
class Content:
    title: str
    lang: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)


def headline(dash: Dashboard, lang: str) -> str:
    """The one sentence leaders read: index, CI, n and the verdict against the target."""
    t = T[lang]
    hh = dash.household
    o = hh.overall
    if o is None:
        return t["no_household"] + (f" ({hh.problem})" if hh.problem else "")
    why = in_language(o.reason, lang)
    if not o.shown:
        return f"{t['sipas_index']} ({t['round']} {hh.round_code}): {why}"
    ci = f"{t['ci']} {int(100 * hh.level)}%: {ci_text(o, lang)}%" if o.has_ci else why
    verdict = verdict_words(o, hh.target, lang)
    return (f"{t['sipas_index']} ({t['round']} {hh.round_code}"
            f"{', ' + hh.scope if hh.scope else ''}): {pct(o.estimate, 1, lang)}% ({ci}), "
            f"n = {o.n}. {verdict}")


def _row(label: str, r: IndexRow, target: float | None, lang: str) -> tuple[str, ...]:
    if not r.shown:
        return (label, "–", in_language(r.reason, lang), str(r.n), "")
    verdict = verdict_words(r, target, lang, short=True) if target is not None else ""
    why = ci_text(r, lang) if r.has_ci else in_language(r.reason, lang)
    return (label, pct(r.estimate, 1, lang), why, str(r.n), verdict)


def _image(title: str, img: bytes, png: bool) -> Block:
    return Block("chart", title, chart=img if png else b"", chart_svg=b"" if png else img)


def _points(c: Difference, lang: str) -> tuple[str, str]:
    """A difference and its CI in points (signed), in the reader's number format."""
    diff = number(None if c.diff is None else 100 * c.diff, "+.1f", lang)
    if c.ci_low is None or c.ci_high is None:
        return diff, "–"
    return diff, f"{number(100 * c.ci_low, '+.1f', lang)}…{number(100 * c.ci_high, '+.1f', lang)}"


def build_content(dash: Dashboard, lang: str = "vi", png: bool = True) -> Content:
    """Every block of the report, charts included (PNG for the PDF, SVG for HTML)."""
    t = T[lang]
    hh = dash.household
    fmt = "png" if png else "svg"
    blocks: list[Block] = [Block("p", headline(dash, lang))]
    blocks += [Block("p", line) for line in merged_text(hh.formers, lang)]

    def chart(rows: list[tuple[str, IndexRow]], title: str, target: float | None) -> None:
        blocks.append(_image(title, charts.dot_chart(rows, target, title, fmt=fmt, lang=lang),
                             png))

    head = (t["indicator"], t["index_pct"], t["ci_pct"], "n", t["verdict"])
    if hh.overall is not None:
        blocks.append(Block("h2", t["by_element"]))
        rows = [_row("SIPAS", hh.overall, hh.target, lang)]
        rows += [_row(f"{e.code}. {e.label}", e, hh.target, lang) for e in hh.elements]
        blocks.append(Block("table", header=head, rows=tuple(rows), widths=WIDE_FIRST))
        chart([(e.label if e.code == e.label else f"{e.code}. {e.label}", e)
               for e in (hh.overall, *hh.elements)], t["by_element"], hh.target)
        blocks.append(Block("h2", t["by_criterion"]))
        crit = []
        for _el, items in hh.criteria:
            for c in items:
                crit.append((c.code, c.label, pct(c.estimate, 1, lang) if c.shown else "–",
                             ci_text(c, lang) if c.has_ci else in_language(c.reason, lang),
                             str(c.n), number(c.mean_score, ".2f", lang),
                             pct(c.dissatisfied, 1, lang)))
        blocks.append(Block("table", header=(t["code"], t["criterion"], t["index_pct"],
                                             t["ci_pct"], "n", t["mean_score"],
                                             t["dissatisfied_pct"]), rows=tuple(crit),
                            widths=(7, 44, 9, 13, 6, 10, 11)))
        groups = {**hh.breakdowns, **hh.selections}
        for col, domains in groups.items():
            blocks.append(Block("h2", f"{t['by']} {t[col]}"))
            if col in hh.selections:
                blocks.append(Block("p", f"{hh.selection_titles[col]} {t['overlap']}"))
            ranked = any(d.rank for d in domains)
            blocks.append(Block("table", header=(t[col].capitalize(),) + head[1:] + (
                (t["rank"],) if ranked else ()), rows=tuple(
                _row(d.domain, d.overall, hh.target, lang) + (
                    (f"{d.rank[0]} ({d.rank[1]}–{d.rank[2]})" if d.rank else "–",)
                    if ranked else ()) for d in domains),
                widths=WITH_RANK if ranked else WIDE_FIRST))
            if ranked:
                blocks.append(Block("p", t["rank_note"]))
            if col != "hamlet":
                chart([(d.domain, d.overall) for d in domains], f"{t['by']} {t[col]}",
                      hh.target)
        if hh.priorities:
            blocks.append(Block("h2", t["priorities"]))
            blocks.append(Block("table", header=(t["code"], t["priority"], "%", t["ci_pct"],
                                                 "n"), rows=tuple(
                (p.code, p.label, pct(p.estimate, 1, lang), ci_text(p, lang), str(p.n))
                for p in hh.priorities), widths=(6, 60, 8, 14, 6)))
        blocks.append(Block("h2", t["vs_previous_round"]))
        if dash.round_changes:
            blocks.append(Block("table", header=(t["indicator"], dash.household.round_code,
                                                 dash.previous_round or "", t["difference"],
                                                 t["ci_pct"], t["conclusion"]), rows=tuple(
                (c.label, pct(c.current.estimate, 1, lang), pct(c.previous.estimate, 1, lang),
                 *_points(c, lang), c.words(lang)) for c in dash.round_changes)))
        else:
            blocks.append(Block("p", t["no_previous_round"]))
        blocks += round_trend_blocks(dash, lang, fmt, png)
    blocks += _desk_blocks(dash, lang, fmt, png)
    blocks.append(Block("h2", t["methodology"]))
    blocks += [Block("p", p) for p in methodology(dash, lang)]
    title = f"{t['title']} — {dash.period.code}"
    return Content(title, lang, tuple(_numbered(blocks, t["figure"])))


def _numbered(blocks: list[Block], word: str) -> list[Block]:
    """Charts captioned "Hình 3. …": a caption is then never mistaken for its heading."""
    out, n = [], 0
    for block in blocks:
        if block.kind == "chart":
            n += 1
            block = replace(block, text=f"{word} {n}. {block.text}")
        out.append(block)
    return out


def _desk_blocks(dash: Dashboard, lang: str, fmt: str, png: bool) -> list[Block]:
    t = T[lang]
    desk = dash.desk
    out = [Block("h2", f"{t['desk_evaluations']} — {desk.period.code}"),
           Block("p", t["desk_caveat"])]
    if desk.overall is None:
        return out + [Block("p", desk.problem or "")] + desk_trend_blocks(dash, lang, fmt, png)
    o = desk.overall
    out.append(Block("p", f"{t['desk_overall']}: {pct(o.estimate, 1, lang)}% "
                          f"({ci_text(o, lang)}%), n = {o.n}."))
    if desk.overall_weighted is not None:
        w = desk.overall_weighted
        left = (f" {t['left_out']}: {', '.join(desk.unweighted_desks)}."
                if desk.unweighted_desks else "")
        out.append(Block("p", f"{t['desk_weighted']}: {pct(w.estimate, 1, lang)}% "
                              f"({ci_text(w, lang)}%). {t['model_caveat']}{left}"))
    rows = []
    for d in desk.desks:
        h = d.headline
        rows.append((d.key, d.name, str(d.evaluations),
                     pct(h.estimate, 1, lang) if h.shown else in_language(h.reason, lang),
                     ci_text(h, lang), "–" if d.dossiers is None else str(d.dossiers),
                     "–" if d.coverage is None else f"{number(100 * d.coverage, '.1f', lang)}%"))
    out.append(Block("table", header=(t["desk"], t["name"], t["evaluations"], "%",
                                      t["ci_pct"], t["dossiers"], t["coverage"]),
                     rows=tuple(rows)))
    out.append(_image(t["by_desk"], charts.dot_chart(
        [(d.key, d.headline) for d in desk.desks], dash.options.target, t["by_desk"], fmt=fmt,
        lang=lang), png))
    out += desk_trend_blocks(dash, lang, fmt, png)
    if dash.desk_changes:
        out.append(Block("h2", f"{desk.period.code} / {dash.previous_period.code}"
                         if dash.previous_period else ""))
        out.append(Block("table", header=(t["desk"], t["difference"], t["conclusion"]),
                         rows=tuple((c.code, _points(c, lang)[0], c.words(lang))
                                    for c in dash.desk_changes)))
    return out


def _cell(r: IndexRow | None, lang: str) -> str:
    """One trend cell: share, CI and n (or why there is no number)."""
    if r is None:
        return "–"
    if not r.shown:
        return f"– (n = {r.n})"
    ci = f" ({ci_text(r, lang)})" if r.has_ci else ""
    return f"{pct(r.estimate, 1, lang)}{ci}, n = {r.n}"


def desk_trend_blocks(dash: Dashboard, lang: str, fmt: str, png: bool) -> list[Block]:
    """Share satisfied per quarter, all desks and per agency: a table and a chart."""
    trend = dash.desk_trend
    if trend is None:
        return []
    t = T[lang]
    series = trend.series(t["all_desks"])
    table = Block("table", header=("", *trend.quarters), rows=tuple(
        (name, *(_cell(r, lang) for r in rows)) for name, rows in series))
    img = charts.trend_chart(trend.quarters, trend.charted(t["all_desks"]),
                             dash.options.target, t["trend"], fmt=fmt, lang=lang,
                             counts=trend.counts)
    out = [Block("h2", t["trend"]), table, _image(t["trend"], img, png)]
    if trend.agencies_left_out:
        out.append(Block("p", t["trend_biggest"].format(n=CHART_AGENCIES)))
    return out


def round_trend_blocks(dash: Dashboard, lang: str, fmt: str, png: bool) -> list[Block]:
    """The SIPAS index of each round, when there are several rounds to put side by side."""
    points = dash.household_trend
    if len(points) < 2:
        return []
    t = T[lang]
    hh = dash.household
    table = Block("table", header=(t["round"].capitalize(), t["index_pct"], t["ci_pct"], "n",
                                   t["verdict"]),
                  rows=tuple(_row(code, r, hh.target, lang) for code, r in points),
                  widths=WIDE_FIRST)
    img = charts.trend_chart([c for c, _r in points], [("SIPAS", [r for _c, r in points])],
                             hh.target, t["round_trend"], fmt=fmt, lang=lang,
                             counts=[r.n for _c, r in points])
    return [Block("h2", t["round_trend"]), table, _image(t["round_trend"], img, png)]


def methodology(dash: Dashboard, lang: str) -> list[str]:
    """Design, n, PSUs, df, design effect, weighting, and what desk evaluations can say."""
    t = T[lang]
    hh = dash.household
    d = hh.design
    deffs = [c.deff for _e, items in hh.criteria for c in items if c.deff is not None]
    deff = number(sorted(deffs)[len(deffs) // 2], ".2f", lang) if deffs else "–"
    out = [t["method_design"].format(
        round=hh.round_code, rows=d.get("rows", 0), n=d.get("respondents", 0),
        strata=d.get("strata", 0), psus=d.get("psus", 0), df=d.get("df", 0), deff=deff,
        level=int(100 * hh.level), min_n=hh.min_n, target=int(100 * hh.target))]
    out.append(t["method_index"])
    out.append(t["method_desk"])
    out.append(f"{t['generated']}: {date.today().isoformat()}.")
    return out
