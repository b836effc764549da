"""The plan's pages in report.pdf (`plan_pages`), after the run's own pages when the run has a plan
over years: the sentences per target, the budgets, the trajectory charts (charts_pdf.py), each
year's staff, flows and costs, the share met per target, the draws, the diagnosis of hard targets
and the plan's assumptions. The same words and numbers as plan/report.md (report.py); every text
is escaped for reportlab's paragraph markup.
"""

from __future__ import annotations

from typing import Any

from .. import fmt, i18n
from . import charts_pdf
from . import report as plan_report
from .charts_pdf import esc, table
from .tables import years_table


def plan_pages(result: Any, S: dict, width: float, lang: str = i18n.DEFAULT_LANG) -> list:
    """The flowables of the plan's pages (S: report.pdf's paragraph styles)."""
    from reportlab.platypus import CondPageBreak, PageBreak, Paragraph, Spacer

    t = i18n.translator(lang)
    summary = plan_report.plan_summary(result)
    years = years_table(result.workforce)
    start, end = summary["years"][0], summary["years"][-1]
    n = lambda v: fmt.count(v, lang)  # noqa: E731

    def P(text: str, style: str = "base") -> Any:
        return Paragraph(esc(text), S[style])

    story: list = [
        PageBreak(),
        P(t("plan_report.title", start=start, end=end), "h1"),
        P(
            t(
                "plan_report.intro",
                start=start,
                end=end,
                stations=n(summary["stations"]),
                main=n(summary["main_stations"]),
                population=n(summary["population"]),
            )
        ),
        P(t("plan_report.h_targets"), "h2"),
        P(t("plan_report.targets_note"), "small"),
    ]
    said = plan_report.sentences(summary, years, lang)
    story += [P("• " + s) for _, s in said] or [P(t("plan_report.no_targets"))]
    if summary["nearest_feasible"]:
        story += [P(t("plan_report.h_diagnosis"), "h2"), P(t("plan_report.nearest"), "notice")]
        story += [P("• " + x) for x in plan_report.diagnosis_items(summary, lang)]
    story.append(P(t("plan_report.h_budgets"), "h2"))
    story += [P(x) for x in plan_report.budget_lines(summary, years, lang)]

    c = plan_report.chart_data(result, summary, lang)
    story += [CondPageBreak(250), P(t("plan_report.h_charts"), "h2")]
    if c["met"]:
        story += [
            charts_pdf.lines(c["years"], c["met"], title=c["met_title"], ylabel=c["met_y"], width=width, lang=lang, percent=True)
        ]
        story.append(Spacer(1, 6))
    story.append(
        charts_pdf.stacked_bars(
            c["years"], c["costs"], limits=c["limits"], title=c["cost_title"], ylabel=c["cost_y"], width=width, lang=lang
        )
    )

    story += [CondPageBreak(200), P(t("plan_report.h_years"), "h2"), P(t("plan_report.years_note"), "small")]
    for columns, units in ((plan_report.FLOWS, False), (plan_report.COSTS, True)):
        head = plan_report.year_header(columns, lang, units=units)
        share = (width - width * 0.1) / len(columns)
        story += [
            table(
                S,
                head,
                plan_report.year_rows(years, columns, lang),
                [width * 0.1] + [share] * len(columns),
                set(range(len(head))),
            ),
            Spacer(1, 6),
        ]
    year_head = [t("plan_compare.col_target"), *(str(y) for y in summary["years"])]
    cols = [width * 0.4] + [width * 0.6 / len(years)] * len(years)
    if said:
        story += [
            table(S, year_head, plan_report.share_rows(summary, years, "met_share", lang), cols, set(range(1, len(year_head))))
        ]
    if summary["draws"] and said:
        story += [
            P(t("plan_report.h_draws"), "h2"),
            P(t("plan_report.draws_note", draws=n(summary["draws"])), "small"),
            table(S, year_head, plan_report.share_rows(summary, years, "probability", lang), cols, set(range(1, len(year_head)))),
        ]

    story += [PageBreak(), P(t("plan_report.h_assumptions"), "h1"), P(t("plan_report.assumptions_note"), "small")]
    rows = [
        [
            f"{p['name']}: {p['description']}",
            plan_report.assumption_value(p["name"], p["value"], lang),
            p["unit"],
            p["source"],
            p["confidence"],
        ]
        for p in plan_report.assumptions(result, lang)
    ]
    head = [t(f"report.col_{k}") for k in ("parameter", "value", "unit", "source", "confidence")]
    story.append(table(S, head, rows, [width * 0.43, width * 0.11, width * 0.17, width * 0.22, width * 0.07], {1}))
    return story
