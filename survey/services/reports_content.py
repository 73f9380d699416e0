"""The printable report's content: headings, sentences, tables and charts, in one language.

Built once from a :class:`~survey.services.reports.Dashboard` and rendered to PDF or HTML
by :mod:`survey.services.reports_render`, so both formats (and the dashboard, which formats
with the same :func:`pct`) print the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from survey.services import charts
from survey.services.reports import Dashboard
from survey.services.reports_rows import IndexRow, ci_text, in_language, pct
from survey.services.reports_words import T, verdict_words

WIDE_FIRST = (40, 11, 22, 7, 20)


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
    ci = f"{t['ci']} {int(100 * hh.level)}%: {ci_text(o)}%" if o.has_ci else why
    verdict = verdict_words(o, hh.target, lang)
    return (f"{t['sipas_index']} ({t['round']} {hh.round_code}"
            f"{', ' + hh.scope if hh.scope else ''}): {pct(o.estimate)}% ({ci}), "
            f"n = {o.n}. {verdict}")


def _row(label: str, r: IndexRow, target: float | None, lang: str) -> tuple[str, ...]:
    if not r.shown:
        return (label, "–", in_language(r.reason, lang), str(r.n), "")
    verdict = verdict_words(r, target, lang, short=True) if target is not None else ""
    why = ci_text(r) if r.has_ci else in_language(r.reason, lang)
    return (label, pct(r.estimate), why, str(r.n), verdict)


def build_content(dash: Dashboard, lang: str = "vi", png: bool = True) -> Content:
    """Every block of the report, charts included (PNG for the PDF, SVG for HTML)."""
    t = T[lang]
    hh = dash.household
    fmt = "png" if png else "svg"
    blocks: list[Block] = [Block("p", headline(dash, lang))]

    def chart(rows: list[tuple[str, IndexRow]], title: str, target: float | None) -> None:
        img = charts.dot_chart(rows, target, title, fmt=fmt)
        blocks.append(Block("chart", title, chart=img if png else b"",
                            chart_svg=b"" if png else img))

    head = (t["indicator"], t["index_pct"], t["ci_pct"], "n", t["verdict"])
    if hh.overall is not None:
        blocks.append(Block("h2", t["by_element"]))
        rows = [_row("SIPAS", hh.overall, hh.target, lang)]
        rows += [_row(f"{e.code}. {e.label}", e, hh.target, lang) for e in hh.elements]
        blocks.append(Block("table", header=head, rows=tuple(rows), widths=WIDE_FIRST))
        chart([(e.label if e.code == e.label else f"{e.code}. {e.label}", e)
             for e in (hh.overall, *hh.elements)],
              t["by_element"], hh.target)
        blocks.append(Block("h2", t["by_criterion"]))
        crit = []
        for _el, items in hh.criteria:
            for c in items:
                crit.append((c.code, c.label[:70], pct(c.estimate) if c.shown else "–",
                             ci_text(c) if c.has_ci else in_language(c.reason, lang), str(c.n),
                             "–" if c.mean_score is None else f"{c.mean_score:.2f}",
                             pct(c.dissatisfied)))
        blocks.append(Block("table", header=(t["code"], t["criterion"], t["index_pct"],
                                             t["ci_pct"], "n", t["mean_score"],
                                             t["dissatisfied_pct"]), rows=tuple(crit),
                            widths=(7, 44, 9, 13, 6, 10, 11)))
        for col, domains in hh.breakdowns.items():
            blocks.append(Block("h2", f"{t['by']} {t[col]}"))
            blocks.append(Block("table", header=(t[col],) + head[1:], rows=tuple(
                _row(d.domain, d.overall, hh.target, lang) for d in domains),
                widths=WIDE_FIRST))
            if col != "hamlet":
                chart([(d.domain, d.overall) for d in domains], f"{t['by']} {t[col]}",
                      hh.target)
        if hh.priorities:
            blocks.append(Block("h2", t["priorities"]))
            blocks.append(Block("table", header=(t["code"], t["priority"], "%", t["ci_pct"],
                                                 "n"), rows=tuple(
                (p.code, p.label[:80], pct(p.estimate), ci_text(p), str(p.n))
                for p in hh.priorities), widths=(6, 60, 8, 14, 6)))
        blocks.append(Block("h2", t["vs_previous_round"]))
        if dash.round_changes:
            blocks.append(Block("table", header=(t["indicator"], dash.household.round_code,
                                                 dash.previous_round or "", t["difference"],
                                                 t["ci_pct"], t["conclusion"]), rows=tuple(
                (c.label, pct(c.current.estimate), pct(c.previous.estimate),
                 "–" if c.diff is None else f"{100 * c.diff:+.1f}",
                 "–" if c.ci_low is None else f"{100 * c.ci_low:+.1f}…{100 * c.ci_high:+.1f}",
                 c.words(lang)) for c in dash.round_changes)))
        else:
            blocks.append(Block("p", t["no_previous_round"]))
    blocks += _desk_blocks(dash, lang, fmt, png)
    blocks.append(Block("h2", t["methodology"]))
    blocks += [Block("p", p) for p in methodology(dash, lang)]
    title = f"{t['title']} — {dash.period.code}"
    return Content(title, lang, tuple(blocks))


def _desk_blocks(dash: Dashboard, lang: str, fmt: str, png: bool) -> list[Block]:
    t = T[lang]
    desk = dash.desk
    out = [Block("h2", f"{t['desk_evaluations']} — {desk.period.code}"),
           Block("p", t["desk_caveat"])]
    if desk.overall is None:
        return out + [Block("p", desk.problem or "")]
    o = desk.overall
    out.append(Block("p", f"{t['desk_overall']}: {pct(o.estimate)}% ({ci_text(o)}%), "
                          f"n = {o.n}."))
    if desk.overall_weighted is not None:
        w = desk.overall_weighted
        left = (f" {t['left_out']}: {', '.join(desk.unweighted_desks)}."
                if desk.unweighted_desks else "")
        out.append(Block("p", f"{t['desk_weighted']}: {pct(w.estimate)}% ({ci_text(w)}%)."
                              f" {t['model_caveat']}{left}"))
    rows = []
    for d in desk.desks:
        h = d.headline
        rows.append((d.key, d.name[:45], str(d.evaluations),
                     pct(h.estimate) if h.shown else in_language(h.reason, lang), ci_text(h),
                     "–" if d.dossiers is None else str(d.dossiers),
                     "–" if d.coverage is None else f"{100 * d.coverage:.1f}%"))
    out.append(Block("table", header=(t["desk"], t["name"], t["evaluations"], "%",
                                      t["ci_pct"], t["dossiers"], t["coverage"]),
                     rows=tuple(rows)))
    img = charts.dot_chart([(d.key, d.headline) for d in desk.desks], dash.options.target,
                           t["by_desk"], fmt=fmt)
    out.append(Block("chart", t["by_desk"], chart=img if png else b"",
                     chart_svg=b"" if png else img))
    if dash.desk_trend:
        img = charts.trend_chart(dash.desk_trend, dash.options.target, t["trend"], fmt=fmt)
        out.append(Block("chart", t["trend"], chart=img if png else b"",
                         chart_svg=b"" if png else img))
    if dash.desk_changes:
        out.append(Block("h2", f"{desk.period.code} / {dash.previous_period.code}"
                         if dash.previous_period else ""))
        out.append(Block("table", header=(t["desk"], t["difference"], t["conclusion"]),
                         rows=tuple((c.code, "–" if c.diff is None else f"{100 * c.diff:+.1f}",
                                     c.words(lang)) for c in dash.desk_changes)))
    return out


def methodology(dash: Dashboard, lang: str) -> list[str]:
    """Design, n, PSUs, df, design effect, weighting, and what desk evaluations can say."""
    t = T[lang]
    hh = dash.household
    d = hh.design
    deffs = [c.deff for _e, items in hh.criteria for c in items if c.deff is not None]
    deff = f"{sorted(deffs)[len(deffs) // 2]:.2f}" if deffs else "–"
    out = [t["method_design"].format(
        round=hh.round_code, rows=d.get("rows", 0), n=d.get("respondents", 0),
        strata=d.get("strata", 0), psus=d.get("psus", 0), df=d.get("df", 0), deff=deff,
        level=int(100 * hh.level), min_n=hh.min_n, target=int(100 * hh.target))]
    out.append(t["method_index"])
    out.append(t["method_desk"])
    out.append(f"{t['generated']}: {date.today().isoformat()}.")
    return out
