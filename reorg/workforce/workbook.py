"""plan/plan.xlsx: the plan in a workbook (reorg.workbook's sheets and writer; same run, same bytes).

Sheets: about (what the workbook is, the synthetic-data notices), targets (each target's deadline,
value, answers and its sentence of the report), years (staff, flows, costs by kind, budgets and the
share of each target met; labels and formats of the indicator table's plan rows), assumptions (the
plan's parameters). Words from [plan_xlsx], [plan_target], [xlsx] and [report].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import i18n, indicators
from ..workbook import Column, Sheet, about_sheet, write_sheets
from . import report as plan_report


def _kind(column: str) -> str:
    ind = indicators.get(f"plan_{column}")
    return "count" if ind.format == "count" else "decimal"


def target_sheet(summary: dict, years: pd.DataFrame, lang: str) -> Sheet:
    t = i18n.translator(lang)
    said = dict(plan_report.sentences(summary, years, lang))
    columns = [
        Column(t("plan_xlsx.col_target")),
        Column(t("plan_xlsx.col_deadline"), "number"),
        Column(t("plan_xlsx.col_value"), "number"),
        Column(t("plan_xlsx.col_hard")),
        Column(t("plan_xlsx.col_met_from"), "number"),
        Column(t("plan_xlsx.col_earliest"), "number"),
        Column(t("plan_xlsx.col_least_budget"), "decimal"),
        Column(t("plan_xlsx.col_short"), "count"),
        Column(t("plan_xlsx.col_sentence")),
    ]
    rows = [
        [
            plan_report.target_name(tg["target"], lang),
            tg["deadline"],
            tg["value"],
            t("xlsx.yes" if tg["hard"] else "xlsx.no"),
            tg["met_in_plan_from"],
            tg["earliest_year"],
            tg["least_budget_mvnd_per_year"],
            tg["short_at_any_budget"],
            said[tg["target"]],
        ]
        for tg in summary["targets"]
    ]
    return Sheet(t("plan_xlsx.sheet_targets"), columns, rows)


def year_sheet(summary: dict, years: pd.DataFrame, lang: str) -> Sheet:
    t = i18n.translator(lang)
    shown = (*plan_report.FLOWS, *plan_report.COSTS)
    columns = [Column(t("plan_report.col_year"), "number")]
    columns += [
        Column(plan_report.label(c, lang) + ("" if _kind(c) == "count" else f" ({plan_report.unit_of(c, lang)})"), _kind(c))
        for c in shown
    ]
    columns += [Column(t("plan_xlsx.col_budget_recurrent"), "decimal"), Column(t("plan_xlsx.col_budget_capital"), "decimal")]
    keys = [tg["target"] for tg in summary["targets"]]
    columns += [Column(t("plan_xlsx.col_met_share", name=plan_report.target_name(k, lang)), "share") for k in keys]
    names = ["year", *shown, "budget_recurrent_mvnd", "budget_capital_mvnd", *(f"met_share_{k}" for k in keys)]
    rows = [[row[c] for c in names] for row in years.to_dict("records")]
    return Sheet(t("plan_xlsx.sheet_years"), columns, rows)


def assumption_sheet(result: Any, lang: str) -> Sheet:
    t = i18n.translator(lang)
    columns = [
        Column(t("report.col_parameter"), "code"),
        Column(t("plan_xlsx.col_description")),
        Column(t("report.col_value"), "number"),
        Column(t("report.col_unit")),
        Column(t("report.col_source")),
        Column(t("report.col_confidence")),
    ]
    rows = [
        [p["name"], p["description"], p["value"], p["unit"], p["source"], p["confidence"]]
        for p in plan_report.assumptions(result, lang)
    ]
    return Sheet(t("xlsx.sheet_assumptions"), columns, rows)


def write_plan_workbook(result: Any, summary: dict, path: Path, lang: str | None = None) -> Path:
    """plan/plan.xlsx of a run with a plan at `path` (`lang`: default the run's); returns `path`."""
    lang = lang or result.scenario.lang
    t = i18n.translator(lang)
    years = plan_report.years_table(result.workforce)
    s = result.scenario
    start, end = summary["years"][0], summary["years"][-1]
    about = about_sheet(
        [
            (t("xlsx.title"), f"{s.title} · {t('plan_report.title', start=start, end=end)}"),
            (t("xlsx.province"), f"{result.pack.province_code} {result.pack.province_name}"),
            (t("xlsx.scenario"), s.name),
            (t("xlsx.seed"), str(s.seed)),
            (t("xlsx.reorg"), summary["reorg_version"]),
            (t("xlsx.contents"), t("plan_xlsx.contents")),
        ],
        plan_report.notices(result, lang),
        [],
        lang,
    )
    sheets = [about, target_sheet(summary, years, lang), year_sheet(summary, years, lang), assumption_sheet(result, lang)]
    write_sheets(sheets, Path(path), title=s.title, lang=lang)
    return Path(path)
