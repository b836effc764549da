"""National report: report.md and report.html of a national run, from its summary.json.

One list of blocks (`reorg.document`) written as Markdown and through ``templates/national.html``;
words from the message files' [national] section, indicator labels from the indicator table,
numbers from `reorg.fmt`. No timings (they change from run to run: run.json holds them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from . import charts, fmt, i18n, indicators, pages
from . import document as doc
from .names import short_name

ROW_KEYS = (  # the national table's indicators, in this order
    "pop_minutes_main_station",
    "pop_minutes_nearest_facility",
    "pop_minutes_regional_centre",
    "pop_share_main_station_within_30min",
    "pop_share_main_station_within_60min",
    "pop_share_within_30min",
    "pop_share_centre_within_60min",
    "open_stations",
    "main_stations",
    "main_stations_with_doctor_share",
    "stations_meeting_norm_share",
    "staff_total",
    "staff_norm_total",
    "staff_shortfall_total",
    "doctor_shortfall_main_stations",
    "doctors_per_10k",
    "population_per_health_worker",
    "centres_over_capacity",
)
COUNT_KEYS = (
    "old_communes",
    "new_communes",
    "stations",
    "main_stations",
    "point_stations",
    "closed_stations",
    "regional_centres",
)


def error_line(failure: dict) -> str:
    """One line of a failure's message: the first problem of bad input, the last line of a traceback."""
    lines = [ln for ln in (failure.get("error") or "unknown error").strip().splitlines() if ln.strip()]
    if not lines:
        return "unknown error"
    return lines[0] if failure.get("exit_code") == 2 else lines[-1]


def _notices(summary: dict, lang: str) -> list[doc.Block]:
    flags = {k: bool(summary.get(k)) for k in ("synthetic_pack", "synthetic_roster", "synthetic_centres")}
    return [doc.Para(n, "notice") for n in i18n.notices(flags, lang)]


def _status_line(summary: dict, lang: str) -> str:
    nat = summary["national"]
    line = i18n.text("national.status", lang, done=nat["done"], provinces=nat["provinces"])
    if summary["failed"]:
        line += " " + i18n.text(
            "national.status_failed", lang, failed=", ".join(f"{f['code']} {f['name'] or '?'}" for f in summary["failed"])
        )
    return line + "."


def province_columns(lang: str = i18n.DEFAULT_LANG) -> list[tuple[str, Callable[[dict], str]]]:
    """The columns of the provinces' table: (header, function of a province record -> text)."""
    t = i18n.translator(lang)

    def done(f: Callable[[dict], str]) -> Callable[[dict], str]:
        return lambda p: f(p) if p["status"] == "done" else fmt.DASH

    def ind(per: str, key: str) -> Callable[[dict], str]:
        return done(lambda p: fmt.indicator(key, p["indicators"][per].get(key), lang))

    def cnt(key: str) -> Callable[[dict], str]:
        return done(lambda p: fmt.count(p["counts"].get(key), lang))

    return [
        (t("national.col_code"), lambda p: p["code"]),
        (t("national.col_province"), lambda p: p["name"] or "?"),
        (t("national.col_status"), lambda p: p["status"]),
        (t("national.col_old_communes"), cnt("old_communes")),
        (t("national.col_new_communes"), cnt("new_communes")),
        (t("national.col_main_stations"), cnt("main_stations")),
        (t("national.col_points"), cnt("point_stations")),
        (t("national.col_closed"), cnt("closed_stations")),
        (t("national.col_centres"), cnt("regional_centres")),
        (t("national.col_population"), done(lambda p: fmt.count(p.get("population"), lang))),
        (t("national.col_main_before"), ind("before", "pop_minutes_main_station")),
        (t("national.col_main_after"), ind("after", "pop_minutes_main_station")),
        (t("national.col_nearest_after"), ind("after", "pop_minutes_nearest_facility")),
        (t("national.col_within_30_before"), ind("before", "pop_share_main_station_within_30min")),
        (t("national.col_within_30_after"), ind("after", "pop_share_main_station_within_30min")),
        (t("national.col_staff"), done(lambda p: fmt.count(p["staff"]["after"]["total"], lang))),
        (t("national.col_shortfall_after"), ind("after", "staff_shortfall_total")),
    ]


def _head(summary: dict, lang: str) -> list[doc.Block]:
    t = i18n.translator(lang)
    sc, nat = summary["scenario"], summary["national"]
    B: list[doc.Block] = [doc.Heading(sc["title"], 1)]
    B += _notices(summary, lang)
    B += [
        doc.Para(
            doc.rich(
                t("national.byline"),
                scenario=doc.code(sc["name"]),
                source=sc["source"],
                version=summary["reorg_version"],
                status=_status_line(summary, lang),
            )
        ),
        doc.Para(doc.rich(t("national.folders"), provinces=doc.code("provinces/"), index=doc.code("index.html"))),
        doc.Heading(t("national.h_totals")),
        doc.Table(
            ["", t("national.col_count")],
            [[t(f"national.count_{k}"), fmt.count(nat["counts"].get(k), lang)] for k in COUNT_KEYS]
            + [[t("national.count_population"), fmt.count(nat["population"], lang)]],
            "lr",
        ),
        doc.Table(
            [t("national.col_indicator"), t("national.col_before"), t("national.col_after")],
            [
                [
                    indicators.get(k).label(lang),
                    fmt.indicator(k, nat["indicators"]["before"].get(k), lang),
                    fmt.indicator(k, nat["indicators"]["after"].get(k), lang),
                ]
                for k in ROW_KEYS
            ],
            "lrr",
        ),
        doc.Table(
            [t("national.col_cadre"), t("national.col_before"), t("national.col_after")],
            [
                [
                    t(f"cadre.{c}") if f"cadre.{c}" in i18n.messages(lang) else t("report.total") if c == "total" else c,
                    fmt.count(nat["staff"]["before"][c], lang),
                    fmt.count(nat["staff"]["after"][c], lang),
                ]
                for c in nat["staff"]["before"]
            ],
            "lrr",
        ),
    ]
    return B


def _provinces_md(summary: dict, lang: str) -> list[doc.Block]:
    cols = province_columns(lang)
    rows: list[Sequence[doc.Rich]] = [[f(p) for _, f in cols] + [p["folder"] or fmt.DASH] for p in summary["provinces"]]
    return [
        doc.Heading(i18n.text("national.h_provinces", lang)),
        doc.Table([h for h, _ in cols] + [i18n.text("national.col_folder", lang)], rows, "lll" + "r" * (len(cols) - 3) + "l"),
    ]


def _provinces_html(summary: dict, lang: str) -> list[doc.Block]:
    t = i18n.translator(lang)
    cols = province_columns(lang)
    rows: list[list[doc.Rich]] = []
    for p in summary["provinces"]:
        links: list[doc.Rich] = (
            [
                (doc.link(t("national.map"), f"{p['folder']}/map.html"),),
                (doc.link(t("national.report"), f"{p['folder']}/report.html"),),
            ]
            if p["folder"]
            else [fmt.DASH, fmt.DASH]
        )
        cells: list[doc.Rich] = [f(p) for _, f in cols]
        rows.append(cells + links)
    return [
        doc.Para((doc.link(t("national.country_map"), "index.html"),)),
        doc.Heading(t("national.h_provinces")),
        doc.Table(
            [h for h, _ in cols] + [t("national.map"), t("national.report")],
            rows,
            "lll" + "r" * (len(cols) - 3) + "ll",
            row_classes=["" if p["status"] == "done" else "failed" for p in summary["provinces"]],
        ),
    ]


def _tail(summary: dict, lang: str) -> list[doc.Block]:
    t = i18n.translator(lang)
    B: list[doc.Block] = []
    if summary["failed"]:
        B += [
            doc.Heading(t("national.h_failed")),
            doc.Para(doc.rich(t("national.failed_note"), file=doc.code("summary.json"), key=doc.code("failed"))),
            doc.Items(
                [
                    doc.join(
                        doc.bold(f"{f['code']} {f['name'] or '?'}"),
                        " " + t("national.exit_code", code=f["exit_code"]) + ": " + error_line(f),
                    )
                    for f in summary["failed"]
                ]
            ),
        ]
    ex = summary.get("execution")
    B += [doc.Heading(t("national.h_method")), doc.Para(t("national.method"))]
    if ex:
        B.append(doc.Para(t("national.workers", workers=ex["workers"], method=ex["start_method"])))
    B.append(doc.Para(doc.rich(t("national.measurements"), file=doc.code("run.json"))))
    return B


def _islands(summary: dict, lang: str) -> list[doc.Block]:
    """The island special zones of the provinces done: centre, on the island or not, minutes."""
    t = i18n.translator(lang)
    rows: list[Sequence[doc.Rich]] = [
        [
            f"{p['code']} {short_name(p['name'])}",
            f"{z['name']} ({z['code']})",
            fmt.count(z["population"], lang),
            z["centre_name"],
            t("island.yes" if z["centre_on_island"] else "island.no"),
            fmt.number(z["minutes_main_after"], 0, lang),
            fmt.number(z["minutes_centre_after"], 0, lang),
            fmt.number(z["max_minutes_centre_after"], 0, lang),
        ]
        for p in summary["provinces"]
        if p["status"] == "done"
        for z in p.get("special_zones", [])
    ]
    if not rows:
        return []
    cols = ("province", "zone", "residents", "centre", "on_island", "main", "centre_minutes", "most")
    return [
        doc.Heading(t("island.h_special_zones")),
        doc.Para(t("island.note")),
        doc.Table([t(f"island.col_{c}") for c in cols], rows, "llrllrrr"),
    ]


def report_markdown(summary: dict, lang: str = i18n.DEFAULT_LANG) -> str:
    """report.md of a national run."""
    return doc.markdown(_head(summary, lang) + _provinces_md(summary, lang) + _islands(summary, lang) + _tail(summary, lang))


def chart(summary: dict, lang: str = i18n.DEFAULT_LANG) -> str:
    """Mean minutes to one's main station by province, before and after (inline SVG)."""
    t = i18n.translator(lang)
    done = [p for p in summary["provinces"] if p["status"] == "done"]
    finite = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)  # noqa: E731
    rows = sorted(
        (
            (
                f"{p['code']} {short_name(p['name'])}",
                p["indicators"]["before"].get("pop_minutes_main_station"),
                p["indicators"]["after"].get("pop_minutes_main_station"),
            )
            for p in done
        ),
        key=lambda r: (-(r[2] if finite(r[2]) else -1), r[0]),
    )
    return charts.paired_hbars(
        rows,
        title=t("national.chart_title"),
        xlabel=t("national.chart_x"),
        legend=(t("national.chart_before"), t("national.chart_after")),
        lang=lang,
    )


def report_html(summary: dict, lang: str = i18n.DEFAULT_LANG) -> str:
    """report.html of a national run: totals, the provinces with links to their map and report, the chart."""
    blocks = (
        _head(summary, lang)
        + _provinces_html(summary, lang)
        + [doc.Figures(i18n.text("national.h_chart", lang), [chart(summary, lang)])]
        + _islands(summary, lang)
        + _tail(summary, lang)
    )
    return pages.render("national.html", lang, title=summary["scenario"]["title"], blocks=blocks, rich=doc.html)
