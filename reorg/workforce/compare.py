"""The comparison's section on plans over years (issue 13 point 5): `reorg compare` of runs whose
folders hold plan/ (plan/summary.json and plan/years.csv) adds a section before the maps: for each
target, the first year each plan meets it, its earliest year under the budget and its least yearly
budget; the yearly totals of each plan (staff, doctors, hires, leavers, costs); and two charts (the
total cost per year and the number of targets met per year, one line per run).

Reads only the run folders' files (as reorg.compare does). Words from [plan_compare] and
[plan_target], labels and formats of the yearly columns from the indicator table (scope "plan").
With fewer than two runs holding a plan, the comparison is left as it was.
"""

from __future__ import annotations

import csv
import json
from typing import Any

from .. import document as doc
from .. import fmt, i18n, indicators
from . import charts
from .targets import TARGETS

#: years.csv columns of the yearly totals table (indicator keys: "plan_" + column)
TOTALS = ("staff", "doctors", "hires", "leavers", "cost_recurrent_mvnd", "cost_capital_mvnd", "cost_total_mvnd")


def read_plan(folder: Any) -> dict[str, Any] | None:
    """A run folder's plan: {"summary": plan/summary.json, "years": plan/years.csv rows} or None
    when the run has no plan (or it cannot be read)."""
    s, y = folder / "plan" / "summary.json", folder / "plan" / "years.csv"
    if not (s.is_file() and y.is_file()):
        return None
    try:
        summary = json.loads(s.read_text(encoding="utf-8"))
        with y.open(encoding="utf-8", newline="") as fh:
            years = list(csv.DictReader(fh))
    except (UnicodeDecodeError, ValueError, csv.Error):
        return None
    if not isinstance(summary, dict) or "targets" not in summary:
        return None
    return {"summary": summary, "years": years}


def number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def answers(target: dict | None, lang: str) -> list[str]:
    """A target's three answers for a run's cell: met in the plan from, earliest year, least budget."""
    t = i18n.translator(lang)
    if target is None:
        return [t("plan_compare.not_on")] * 3
    met = str(target["met_in_plan_from"]) if target.get("met_in_plan_from") is not None else t("plan_compare.not_met")
    if target.get("earliest_year") is not None:
        earliest = str(target["earliest_year"])
    else:
        earliest = t("plan_compare.undecided") if target.get("undecided") else t("plan_compare.not_met")
    if target.get("least_budget_mvnd_per_year") is not None:
        budget = fmt.indicator("plan_cost_total_mvnd", target["least_budget_mvnd_per_year"], lang)
    elif target.get("short_at_any_budget") is not None:
        budget = t("plan_compare.any_budget", short=fmt.number(target["short_at_any_budget"], 0, lang))
    elif target.get("beyond_horizon"):
        budget = t("plan_compare.beyond")
    else:
        budget = t("plan_compare.undecided")
    return [met, earliest, budget]


def target_rows(planned: list[tuple[str, dict]], lang: str) -> list[list[doc.Rich]]:
    t = i18n.translator(lang)
    on = {name: {tg["target"]: tg for tg in p["summary"]["targets"]} for name, p in planned}
    keys = [tg.key for tg in TARGETS if any(tg.key in by for by in on.values())]
    measures = (t("plan_compare.met_from"), t("plan_compare.earliest"), t("plan_compare.least_budget"))
    rows: list[list[doc.Rich]] = []
    for key in keys:
        cells = {name: answers(on[name].get(key), lang) for name, _ in planned}
        for m, measure in enumerate(measures):
            name_cell = t(f"plan_target.name_{key}") if m == 0 else ""
            rows.append([name_cell, measure, *(cells[name][m] for name, _ in planned)])
    return rows


def year_rows(planned: list[tuple[str, dict]], lang: str) -> list[list[doc.Rich]]:
    by_run = {name: {int(row["year"]): row for row in p["years"]} for name, p in planned}
    years = sorted(set().union(*by_run.values()))
    rows: list[list[doc.Rich]] = []
    for year in years:
        for c in TOTALS:
            key = f"plan_{c}"
            unit = i18n.text(f"unit.{indicators.get(key).unit}", lang)
            cells = [
                fmt.indicator(key, number(by_run[name][year].get(c)), lang) if year in by_run[name] else fmt.DASH
                for name, _ in planned
            ]
            rows.append([str(year), f"{indicators.get(key).label(lang)} ({unit})", *cells])
    return rows


def series(planned: list[tuple[str, dict]]) -> tuple[list[int], dict[str, list[float | None]], dict[str, list[float | None]]]:
    """The years, and per run the total cost and the number of targets met in each year."""
    by_run = {name: {int(row["year"]): row for row in p["years"]} for name, p in planned}
    years = sorted(set().union(*by_run.values()))
    cost = {name: [number(rows[y]["cost_total_mvnd"]) if y in rows else None for y in years] for name, rows in by_run.items()}
    met: dict[str, list[float | None]] = {}
    for name, p in planned:
        keys = [tg["target"] for tg in p["summary"]["targets"]]
        rows = by_run[name]
        met[name] = [float(sum(int(rows[y].get(f"met_{k}") or 0) for k in keys)) if y in rows else None for y in years]
    return years, cost, met


def figures(planned: list[tuple[str, dict]], lang: str) -> list[str]:
    """Total cost per year and targets met per year, one line per run (inline SVG)."""
    t = i18n.translator(lang)
    years, cost, met = series(planned)
    return [
        charts.lines(years, cost, title=t("plan_compare.chart_cost"), ylabel=i18n.text("unit.plan.mvnd", lang), lang=lang),
        charts.lines(years, met, title=t("plan_compare.chart_met"), ylabel=t("plan_compare.chart_met_y"), lang=lang),
    ]


def planned_runs(runs: list[Any]) -> tuple[list[tuple[str, dict]], list[str]]:
    """The runs holding a plan as (name, plan), and the names of those without one."""
    plans = [(r.name, read_plan(r.folder)) for r in runs]
    return [(name, p) for name, p in plans if p is not None], [name for name, p in plans if p is None]


def plan_pdf(runs: list[Any], S: dict, width: float, lang: str = i18n.DEFAULT_LANG) -> list:
    """The plan section of comparison.pdf (S: its paragraph styles): the targets' answers side by
    side and the two charts; [] when fewer than two runs hold a plan."""
    from reportlab.platypus import Paragraph, Spacer

    from . import charts_pdf

    planned, without = planned_runs(runs)
    if len(planned) < 2:
        return []
    t = i18n.translator(lang)
    names = [name for name, _ in planned]
    out: list = [
        Paragraph(charts_pdf.esc(t("plan_compare.h")), S["h2"]),
        Paragraph(charts_pdf.esc(t("plan_compare.note")), S["small"]),
    ]
    if without:
        out.append(Paragraph(charts_pdf.esc(t("plan_compare.without", runs=", ".join(without))), S["small"]))
    rows = [[doc.plain(c) for c in row] for row in target_rows(planned, lang)]
    share = width * 0.45 / len(names)
    head = [t("plan_compare.col_target"), t("plan_compare.col_measure"), *names]
    out.append(charts_pdf.table(S, head, rows, [width * 0.3, width * 0.25] + [share] * len(names), set(range(2, len(head)))))
    years, cost, met = series(planned)
    out += [
        Spacer(1, 6),
        charts_pdf.lines(
            years, cost, title=t("plan_compare.chart_cost"), ylabel=i18n.text("unit.plan.mvnd", lang), width=width, lang=lang
        ),
        charts_pdf.lines(
            years, met, title=t("plan_compare.chart_met"), ylabel=t("plan_compare.chart_met_y"), width=width, lang=lang
        ),
        Paragraph(charts_pdf.esc(t("plan_compare.h_years")), S["h2"]),
    ]
    totals = [[doc.plain(c) for c in row] for row in year_rows(planned, lang)]
    head = [t("plan_report.col_year"), t("plan_compare.col_quantity"), *names]
    out.append(charts_pdf.table(S, head, totals, [width * 0.1, width * 0.45] + [share] * len(names), set(range(2, len(head)))))
    return out


def plan_blocks(runs: list[Any], lang: str = i18n.DEFAULT_LANG) -> list[doc.Block]:
    """The plan section of a comparison of `runs` (reorg.compare.Run: name, folder); [] when fewer
    than two of them hold a plan."""
    t = i18n.translator(lang)
    planned, without = planned_runs(runs)
    if len(planned) < 2:
        return []
    names = [name for name, _ in planned]
    out: list[doc.Block] = [doc.Heading(t("plan_compare.h")), doc.Para(t("plan_compare.note"), "muted")]
    if without:
        out.append(doc.Para(t("plan_compare.without", runs=", ".join(without))))
    out += [
        doc.Table(
            [t("plan_compare.col_target"), t("plan_compare.col_measure"), *names],
            target_rows(planned, lang),
            "ll" + "r" * len(names),
            id="plan-targets",
        ),
        doc.Figures(t("plan_report.h_charts"), figures(planned, lang)),
        doc.Heading(t("plan_compare.h_years"), 3),
        doc.Table(
            [t("plan_report.col_year"), t("plan_compare.col_quantity"), *names],
            year_rows(planned, lang),
            "ll" + "r" * len(names),
            id="plan-years",
            long=True,
        ),
    ]
    return out


def with_plan(runs: list[Any], blocks: list[doc.Block], lang: str = i18n.DEFAULT_LANG) -> list[doc.Block]:
    """The comparison's `blocks` with the plan section before its last heading (the maps)."""
    section = plan_blocks(runs, lang)
    if not section:
        return blocks
    last = max((i for i, b in enumerate(blocks) if isinstance(b, doc.Heading)), default=len(blocks))
    return [*blocks[:last], *section, *blocks[last:]]


def plan_sheets(runs: list[Any], lang: str = i18n.DEFAULT_LANG) -> list[Any]:
    """comparison.xlsx's plan sheets (`workbook.Sheet`): the targets' answers side by side (years and
    budgets as numbers, words where a plan has none) and the yearly totals of each plan; [] when
    fewer than two runs hold a plan."""
    from ..workbook import Column, Sheet

    planned, _ = planned_runs(runs)
    if len(planned) < 2:
        return []
    t = i18n.translator(lang)
    names = [name for name, _ in planned]
    on = {name: {tg["target"]: tg for tg in p["summary"]["targets"]} for name, p in planned}
    keys = [tg.key for tg in TARGETS if any(tg.key in by for by in on.values())]
    measures = (t("plan_compare.met_from"), t("plan_compare.earliest"), t("plan_compare.least_budget"))
    fields = ("met_in_plan_from", "earliest_year", "least_budget_mvnd_per_year")
    rows, kinds = [], []
    for key in keys:
        words = {name: answers(on[name].get(key), lang) for name in names}
        for m, measure in enumerate(measures):
            cells = [(on[name].get(key) or {}).get(fields[m]) for name in names]
            cells = [
                c if isinstance(c, int | float) and not isinstance(c, bool) else words[name][m] for c, name in zip(cells, names)
            ]
            rows.append([t(f"plan_target.name_{key}"), measure, *cells])
            kind = "number" if m < 2 else "decimal"  # a year, or million VND a year
            kinds.append(["text", "text", *(kind if isinstance(c, int | float) else "text" for c in cells)])
    targets = Sheet(
        t("plan_compare.sheet_targets"),
        [Column(t("plan_compare.col_target")), Column(t("plan_compare.col_measure")), *(Column(n, "number") for n in names)],
        rows,
        kinds,
    )
    by_run = {name: {int(row["year"]): row for row in p["years"]} for name, p in planned}
    totals = []
    for year in sorted(set().union(*by_run.values())):
        for c in TOTALS:
            ind = indicators.get(f"plan_{c}")
            label = f"{ind.label(lang)} ({i18n.text(f'unit.{ind.unit}', lang)})"
            totals.append([year, label, *(number(by_run[name][year].get(c)) if year in by_run[name] else None for name in names)])
    years = Sheet(
        t("plan_compare.sheet_years"),
        [
            Column(t("plan_report.col_year"), "number"),
            Column(t("plan_compare.col_quantity")),
            *(Column(n, "number") for n in names),
        ],
        totals,
    )
    return [targets, years]
