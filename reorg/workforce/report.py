"""The plan's report (issue 13 point 4): plan/report.md and plan/report.html (written by
report_files.py), and the words and tables the PDF's plan pages (report_pdf.py) and plan.xlsx share.

One list of blocks (reorg.document), written as Markdown and through ``templates/report.html``
with the shared page stylesheet: the synthetic-data notices, one sentence per target (when the plan
reaches it and what it has spent by then; its earliest year under the budget; its least yearly
budget, or "cannot be met at any budget: short by N"), the budgets, each year's staff, flows and
costs by kind, the trajectory charts (share met per target; cost per year stacked by kind with the
budget lines), the draws' probabilities, the diagnosis of hard targets when the plan is the nearest
feasible one, and the plan's assumptions (its `plan_*` parameters and the targets' values). Words
from the message files ([plan_report], [plan_target]), labels, units and formats of the yearly
columns from the indicator table (scope "plan"), numbers from `reorg.fmt`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import document as doc
from .. import fmt, i18n, indicators, pages, tables
from .. import params as parameters
from . import charts
from .tables import summary as plan_summary_of
from .tables import years_table
from .targets import BY_KEY

#: years.csv columns shown in the flows table and the costs table (indicator keys: "plan_" + column)
FLOWS = ("staff", "doctors", "hires", "leavers", "transfers", "rotations")
COST_PARTS = ("cost_salaries_mvnd", "cost_allowances_mvnd", "cost_rotations_mvnd", "cost_upgrades_mvnd", "cost_new_stations_mvnd")
COSTS = (*COST_PARTS, "cost_total_mvnd")


def label(column: str, lang: str) -> str:
    """A years.csv column's label from the indicator table."""
    return indicators.get(f"plan_{column}").label(lang)


def value(column: str, v: Any, lang: str) -> str:
    """A years.csv value in its indicator's format."""
    return fmt.indicator(f"plan_{column}", v, lang)


def money(v: Any, lang: str) -> str:
    """Million VND as the indicator table formats the plan's costs."""
    return value("cost_total_mvnd", v, lang)


def unit_of(column: str, lang: str) -> str:
    return i18n.text(f"unit.{indicators.get(f'plan_{column}').unit}", lang)


def scenario_info(result: Any) -> dict[str, Any]:
    sc = result.scenario
    return {"name": sc.name, "title": sc.title, "province": sc.province, "seed": sc.seed, "lang": sc.lang}


def plan_summary(result: Any) -> dict[str, Any]:
    """The plan's summary.json content, computed from the run (the same as plan/summary.json)."""
    return plan_summary_of(
        result.workforce, years_table(result.workforce), synthetic_roster=result.synthetic_roster, scenario=scenario_info(result)
    )


def target_name(key: str, lang: str) -> str:
    return i18n.text(f"plan_target.name_{key}", lang)


def target_about(key: str, target_value: Any, lang: str) -> str:
    return i18n.text(f"plan_target.about_{key}", lang, value=fmt.plain(target_value, lang))


def target_unit(key: str, lang: str) -> str:
    return i18n.text(f"plan_target.unit_{key}", lang)


def target_sentence(target: dict, years: pd.DataFrame, lang: str) -> str:
    """One target in words (summary.json's `targets` row): whether and when the plan reaches it and
    what the plan has spent by then, its earliest year under the budget, its least budget (or the
    shortfall no budget removes), and, with draws, its probability of being met in the last year."""
    t = i18n.translator(lang)
    key, deadline = target["target"], target["deadline"]
    start, end = int(years["year"].iloc[0]), int(years["year"].iloc[-1])
    fields = {
        "name": target_name(key, lang),
        "about": target_about(key, target["value"], lang),
        "deadline": deadline,
        "start": start,
        "end": end,
        "unit": target_unit(key, lang),
    }
    year = target["met_in_plan_from"]
    if year is not None:
        cost = money(years.loc[years["year"] <= year, "cost_total_mvnd"].sum(), lang)
        if year <= deadline:
            parts = [t("plan_report.reached", year=year, cost=cost, **fields)]
        else:
            parts = [t("plan_report.reached_late", year=year, late=year - deadline, cost=cost, **fields)]
    else:
        cost = money(years["cost_total_mvnd"].sum(), lang)
        short_end = fmt.count(years[f"shortfall_{key}"].iloc[-1], lang)
        short = target["shortfall_at_deadline_in_plan"]
        if short is None:
            parts = [t("plan_report.not_reached_horizon", short_end=short_end, cost=cost, **fields)]
        else:
            parts = [t("plan_report.not_reached", short=fmt.count(short, lang), short_end=short_end, cost=cost, **fields)]
    if target["earliest_year"] is not None:
        parts.append(t("plan_report.earliest", year=target["earliest_year"]))
    elif target["undecided"] and target["least_budget_mvnd_per_year"] is None and target["short_at_any_budget"] is None:
        parts.append(t("plan_report.earliest_undecided"))
    else:
        parts.append(t("plan_report.earliest_none", end=end))
    if target["least_budget_mvnd_per_year"] is not None:
        parts.append(t("plan_report.least_budget", deadline=deadline, budget=money(target["least_budget_mvnd_per_year"], lang)))
    elif target["short_at_any_budget"] is not None:
        short_any = fmt.number(target["short_at_any_budget"], 0, lang)
        parts.append(t("plan_report.no_budget", deadline=deadline, short=short_any, unit=fields["unit"]))
    elif target["beyond_horizon"]:
        parts.append(t("plan_report.beyond_horizon", deadline=deadline))
    else:
        parts.append(t("plan_report.budget_undecided"))
    if target["hard"]:
        parts.append(t("plan_report.hard"))
    prob = target.get("probability_met")
    if prob:
        draws = fmt.count(target.get("draws", 0), lang)
        parts.append(t("plan_report.probability", draws=draws, end=end, share=fmt.share(prob[-1], 0, lang)))
    return " ".join(parts)


def sentences(summary: dict, years: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    """(target, its sentence) for every target on, in the targets' order."""
    return [(tg["target"], target_sentence({**tg, "draws": summary["draws"]}, years, lang)) for tg in summary["targets"]]


def budget_text(v: float, lang: str) -> str:
    return i18n.text("plan_report.no_limit", lang) if v < 0 else i18n.text("plan_report.million", lang, value=money(v, lang))


def budget_lines(summary: dict, years: pd.DataFrame, lang: str) -> list[str]:
    """The budgets, what the plan spends, and its totals, in words."""
    b = summary["budgets_mvnd_per_year"]
    tot = summary["totals"]
    n = lambda v: fmt.count(v, lang)  # noqa: E731
    return [
        i18n.text(
            "plan_report.budgets", lang, recurrent=budget_text(b["recurrent"], lang), capital=budget_text(b["capital"], lang)
        ),
        i18n.text(
            "plan_report.spent",
            lang,
            total=money(tot["cost_total_mvnd"], lang),
            years=len(years),
            rec=money(years["cost_recurrent_mvnd"].max(), lang),
            cap=money(years["cost_capital_mvnd"].max(), lang),
        ),
        i18n.text(
            "plan_report.totals",
            lang,
            hires=n(tot["hires"]),
            leavers=n(tot["leavers"]),
            transfers=n(tot["transfers"]),
            rotations=n(tot["rotations"]),
            works=n(tot["upgrade_works"]),
        ),
    ]


def year_rows(years: pd.DataFrame, columns: tuple[str, ...], lang: str) -> list[list[str]]:
    return [[str(int(row["year"])), *(value(c, row[c], lang) for c in columns)] for row in years.to_dict("records")]


def year_header(columns: tuple[str, ...], lang: str, *, units: bool = False) -> list[str]:
    head = [label(c, lang) + (f" ({unit_of(c, lang)})" if units else "") for c in columns]
    return [i18n.text("plan_report.col_year", lang), *head]


def share_rows(summary: dict, years: pd.DataFrame, column: str, lang: str) -> list[list[str]]:
    """A row per target: its name and a share per year (`column`: met_share or probability)."""
    return [
        [target_name(tg["target"], lang), *(fmt.share(v, 0, lang) for v in years[f"{column}_{tg['target']}"])]
        for tg in summary["targets"]
    ]


def assumptions(result: Any, lang: str) -> list[dict[str, Any]]:
    """The plan's parameters (`plan_*`) and the values of the targets on: name, value, default,
    unit, description, source, confidence."""
    plan = result.workforce
    names = [p.name for p in parameters.PARAMETERS if parameters.is_plan(p.name)]
    for key in plan.settings.targets:
        extra = BY_KEY[key].value_param
        if extra and extra not in names:
            names.append(extra)
    values = plan.inst.params
    return [
        {
            "name": name,
            "value": values[name],
            "default": parameters.BY_NAME[name].default,
            "unit": parameters.unit_text(name, lang),
            "description": parameters.description(name, lang),
            "source": parameters.source(name, lang),
            "confidence": parameters.BY_NAME[name].confidence,
        }
        for name in names
    ]


def assumption_value(name: str, v: Any, lang: str) -> str:
    """A parameter's value for reading; a year as it is written (2030, not 2,030)."""
    return str(v) if parameters.BY_NAME[name].unit == "year" else tables.parameter_value(v, lang)


def notices(result: Any, lang: str) -> list[str]:
    """The run's synthetic-data notices (the same words as the run's report)."""
    flags = tables.synthetic_flags(result)
    return i18n.notices({k: bool(flags.get(k)) for k in i18n.NOTICE_KEYS}, lang)


def diagnosis_items(summary: dict, lang: str) -> list[str]:
    return [
        i18n.text(
            "plan_report.diagnosis_item",
            lang,
            name=target_name(d["target"], lang),
            short=fmt.count(d["short_by"], lang),
            unit=target_unit(d["target"], lang),
            year=d["year"],
        )
        for d in summary["diagnosis"]
    ]


def report_blocks(result: Any, summary: dict, lang: str = i18n.DEFAULT_LANG) -> list[doc.Block]:
    """The plan's report as blocks, in `lang`."""
    t = i18n.translator(lang)
    years = years_table(result.workforce)
    start, end = summary["years"][0], summary["years"][-1]
    n = lambda v: fmt.count(v, lang)  # noqa: E731
    B: list[doc.Block] = [
        doc.Heading(t("plan_report.title", start=start, end=end), 1),
        doc.Para(
            doc.rich(
                t("plan_report.byline"),
                code=result.pack.province_code,
                name=result.pack.province_name,
                scenario=doc.code(result.scenario.name),
                seed=result.scenario.seed,
                version=summary["reorg_version"],
            )
        ),
        *(doc.Para(x, "notice") for x in notices(result, lang)),
        doc.Para(
            t(
                "plan_report.intro",
                start=start,
                end=end,
                stations=n(summary["stations"]),
                main=n(summary["main_stations"]),
                population=n(summary["population"]),
            )
        ),
        doc.Para(
            t(
                "plan_report.graduates",
                items="; ".join(f"{t(f'cadre.{c}')} {n(v)}" for c, v in summary["graduates_per_year"].items()),
            )
        ),
        doc.Heading(t("plan_report.h_targets")),
    ]
    said = sentences(summary, years, lang)
    B += (
        [doc.Para(t("plan_report.targets_note"), "muted"), doc.Items([s for _, s in said])]
        if said
        else [doc.Para(t("plan_report.no_targets"))]
    )
    if summary["nearest_feasible"]:
        B += [
            doc.Heading(t("plan_report.h_diagnosis")),
            doc.Para(t("plan_report.nearest"), "notice"),
            doc.Items(diagnosis_items(summary, lang)),
        ]
    B += [doc.Heading(t("plan_report.h_budgets")), *(doc.Para(x) for x in budget_lines(summary, years, lang))]
    B += [
        doc.Heading(t("plan_report.h_years")),
        doc.Para(t("plan_report.years_note"), "muted"),
        doc.Table(year_header(FLOWS, lang), year_rows(years, FLOWS, lang), "r" * (len(FLOWS) + 1), id="plan-flows"),
        doc.Table(year_header(COSTS, lang, units=True), year_rows(years, COSTS, lang), "r" * (len(COSTS) + 1), id="plan-costs"),
        doc.Figures(t("plan_report.h_charts"), []),  # filled by the HTML page
    ]
    year_head = [t("plan_compare.col_target"), *(str(y) for y in summary["years"])]
    if said:
        B.append(doc.Table(year_head, share_rows(summary, years, "met_share", lang), "l" + "r" * len(years), id="plan-met"))
    if summary["draws"] and said:
        B += [
            doc.Heading(t("plan_report.h_draws")),
            doc.Para(t("plan_report.draws_note", draws=n(summary["draws"]))),
            doc.Table(year_head, share_rows(summary, years, "probability", lang), "l" + "r" * len(years), id="plan-draws"),
        ]
    B += assumption_blocks(result, lang)
    B.append(
        doc.Para(
            doc.rich(
                t("plan_report.files"),
                stations=doc.code("plan/stations.csv"),
                years=doc.code("plan/years.csv"),
                summary=doc.code("plan/summary.json"),
                map=doc.code("plan/map.html"),
            ),
            "muted",
        )
    )
    return B


def assumption_blocks(result: Any, lang: str) -> list[doc.Block]:
    t = i18n.translator(lang)
    rows: list[list[doc.Rich]] = [
        [
            doc.join(doc.code(p["name"]), ": " + str(p["description"])),
            assumption_value(p["name"], p["value"], lang),
            str(p["unit"]),
            str(p["source"]),
            str(p["confidence"]),
        ]
        for p in assumptions(result, lang)
    ]
    head = [t(f"report.col_{k}") for k in ("parameter", "value", "unit", "source", "confidence")]
    return [
        doc.Heading(t("plan_report.h_assumptions")),
        doc.Para(t("plan_report.assumptions_note"), "muted"),
        doc.Table(head, rows, "lrlll", id="plan-assumptions"),
    ]


def chart_data(result: Any, summary: dict, lang: str = i18n.DEFAULT_LANG) -> dict[str, Any]:
    """What the trajectory charts draw: the years, each target's share met per year, the costs
    per year by kind and the budget lines (a budget of -1, no limit, has no line), with the
    charts' words."""
    t = i18n.translator(lang)
    years = years_table(result.workforce)
    b = summary["budgets_mvnd_per_year"]
    return {
        "years": [int(y) for y in years["year"]],
        "met": {target_name(tg["target"], lang): years[f"met_share_{tg['target']}"].tolist() for tg in summary["targets"]},
        "met_title": t("plan_report.chart_met"),
        "met_y": t("plan_report.chart_met_y"),
        "costs": {label(c, lang): years[c].tolist() for c in COST_PARTS},
        "limits": {t(f"plan_report.budget_{k}"): float(b[k]) for k in ("recurrent", "capital") if b[k] >= 0},
        "cost_title": t("plan_report.chart_cost"),
        "cost_y": t("plan_report.chart_cost_y"),
    }


def report_charts(result: Any, summary: dict, lang: str = i18n.DEFAULT_LANG) -> list[str]:
    """The trajectory charts as inline SVG: share met per target per year; cost per year stacked by
    kind with the budget lines."""
    c = chart_data(result, summary, lang)
    out = []
    if c["met"]:
        out.append(charts.lines(c["years"], c["met"], title=c["met_title"], ylabel=c["met_y"], lang=lang, percent=True))
    out.append(
        charts.stacked_bars(c["years"], c["costs"], limits=c["limits"], title=c["cost_title"], ylabel=c["cost_y"], lang=lang)
    )
    return out


def report_html(result: Any, summary: dict, lang: str = i18n.DEFAULT_LANG) -> str:
    blocks = report_blocks(result, summary, lang)
    figures = report_charts(result, summary, lang)
    blocks = [doc.Figures(b.title, figures) if isinstance(b, doc.Figures) else b for b in blocks]
    title = doc.plain(blocks[0].text) if isinstance(blocks[0], doc.Heading) else ""
    return pages.render("report.html", lang, title=f"{result.scenario.title} · {title}", blocks=blocks, rich=doc.html)
