"""The pages of `reorg compare`: comparison.md and comparison.html (template
``templates/comparison.html``), from the runs and the tables `reorg.compare` computed.

Both pages are one list of blocks (`reorg.document`); the HTML page adds the charts (matplotlib,
inline SVG) and each run's own map side by side. Words come from the message files' [compare]
section, indicator labels from the indicator table, numbers from `reorg.fmt` (one more decimal
than the reports, to tell close runs apart). A run is any object with `name`, `folder` and
`summary` (see `reorg.compare.Run`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from . import compare_maps, fmt, i18n, indicators, pages, tables
from . import document as doc

EXTRA_DIGITS = 1  # more decimals than the reports: runs often differ in the second decimal
STAFF_KEYS = ("moved", "hired", "lost", "person_minutes_moved")


def number(v: Any) -> float | int | None:
    """`v` when it is a finite number (not a bool), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v if math.isfinite(v) else None


def indicator_value(key: str, v: Any, lang: str) -> str:
    """A value of indicator `key` (a key missing from the indicator table: 2 decimals)."""
    if key in indicators.table():
        return fmt.indicator(key, v, lang, extra_digits=EXTRA_DIGITS)
    return fmt.amount(v, lang)


def notices(runs: list[Any], lang: str) -> list[str]:
    """The synthetic-data notices that apply to some run, each with the runs it applies to."""
    out = []
    for key in i18n.NOTICE_KEYS:
        which = [r.name for r in runs if r.summary.get(key)]
        if which:
            text = i18n.notices({key: True}, lang)[0]
            scope = (
                i18n.text("compare.scope_every_run", lang)
                if len(which) == len(runs)
                else i18n.text("compare.scope_runs", lang, runs=", ".join(which))
            )
            out.append(f"{text} ({scope})")
    return out


def _count_label(key: str, lang: str) -> str:
    msg = f"compare.count_{key}"
    return i18n.text(msg, lang) if msg in i18n.messages(lang) else key.replace("_", " ")


def _count_rows(runs: list[Any], lang: str) -> list[Sequence[doc.Rich]]:
    t = i18n.translator(lang)
    keys: list[str] = []
    for r in runs:
        keys += [k for k in (r.summary.get("counts") or {}) if k not in keys]
    rows: list[Sequence[doc.Rich]] = [
        [_count_label(k, lang)] + [fmt.count(number((r.summary.get("counts") or {}).get(k)), lang) for r in runs] for k in keys
    ]
    staff0 = runs[0].summary.get("staff") or {}
    for cadre in staff0.get("after") or {}:
        name = (
            t(f"cadre.{cadre}") if f"cadre.{cadre}" in i18n.messages(lang) else t("report.total") if cadre == "total" else cadre
        )
        rows.append(
            [t("compare.staff_after", cadre=name)]
            + [fmt.count(number(((r.summary.get("staff") or {}).get("after") or {}).get(cadre)), lang) for r in runs]
        )
    for k in STAFF_KEYS:
        rows.append([t(f"compare.staff_{k}")] + [fmt.count(number((r.summary.get("staff") or {}).get(k)), lang) for r in runs])
    return rows


def _solver_rows(runs: list[Any], lang: str) -> list[list[doc.Rich]]:
    t = i18n.translator(lang)
    rows: list[list[doc.Rich]] = []
    for r in runs:
        recs = r.summary.get("solver") or []
        if not recs:
            rows.append([r.name, t("compare.no_model"), "", "", "", "", ""])
        for rec in recs:
            gap = number(rec.get("relative_gap"))
            rows.append(
                [
                    r.name,
                    i18n.word("model", rec.get("model", ""), lang),
                    str(rec.get("solver", "")),
                    i18n.word("solver_status", rec.get("status", ""), lang)
                    + (" " + t("compare.time_limit_reached") if rec.get("time_limit_reached") else ""),
                    fmt.amount(number(rec.get("objective")), lang),
                    fmt.amount(number(rec.get("best_bound")), lang),
                    fmt.DASH if gap is None else fmt.share(gap, 4, lang),
                ]
            )
    return rows


def _runs_rows(runs: list[Any], lang: str) -> list[list[doc.Rich]]:
    rows: list[list[doc.Rich]] = []
    for r in runs:
        sc = r.summary["scenario"]
        pol = ", ".join(
            f"{i18n.word('policy', k, lang)}: {i18n.word('policy_choice', v, lang)}" for k, v in (sc.get("policy") or {}).items()
        )
        par = ", ".join(
            f"{k} = {tables.parameter_value(v, lang)}" for k, v in (sc.get("params_overridden") or {}).items()
        ) or i18n.text("compare.none", lang)
        rows.append(
            [r.name, str(sc.get("title", "")), pol, str(sc.get("seed", "")), par, str(r.summary["reorg_version"]), str(r.folder)]
        )
    return rows


MODEL_KEYS = ("travel_model", "population_model", "terrain_source")


def _models(runs: list[Any], lang: str) -> list[doc.Block]:
    """When the runs' travel model, population model or terrain source differ (an adjacency run
    against a road run, issue 12), a section saying which run used which: the differences below
    are then (also) those of the model."""
    t = i18n.translator(lang)
    seen = [{k: (r.summary.get("network") or {}).get(k) for k in MODEL_KEYS} for r in runs]
    if all(s == seen[0] for s in seen) or not any(any(s.values()) for s in seen):
        return []
    items = [
        t("compare_models.run", run=r.name, models="; ".join(t(f"compare_models.{k}_{s[k]}") for k in MODEL_KEYS if s[k]))
        for r, s in zip(runs, seen)
    ]
    return [doc.Heading(t("compare_models.h")), doc.Para(t("compare_models.note")), doc.Items(items)]


def _int(v: Any) -> float | int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None


def title(runs: list[Any], lang: str = i18n.DEFAULT_LANG) -> str:
    """The comparison's title (its page, PDF and workbook): how many runs, of which province."""
    prov = runs[0].summary["province"]
    return i18n.text("compare.title", lang, n=len(runs), code=prov["code"], name=prov.get("name", ""))


def blocks(
    runs: list[Any],
    rows: list[dict],
    roles: list[dict],
    transitions: list[tuple],
    centres: list[dict],
    before_diff: list[str],
    lang: str = i18n.DEFAULT_LANG,
) -> list[doc.Block]:
    """The comparison as blocks (the charts as an empty `Figures`, filled in the HTML page)."""
    t = i18n.translator(lang)
    names = [r.name for r in runs]
    absent = t("compare.absent")
    B: list[doc.Block] = [doc.Heading(title(runs, lang), 1)]
    B += [doc.Para(n, "notice") for n in notices(runs, lang)]
    B += [
        doc.Heading(t("compare.h_runs")),
        doc.Table(
            [t(f"compare.col_{k}") for k in ("run", "title", "policy", "seed", "params", "reorg", "folder")],
            _runs_rows(runs, lang),
            id="runs",
        ),
        *_models(runs, lang),
        doc.Heading(t("compare.h_indicators")),
        doc.Para(
            doc.rich(
                t("compare.indicators_note"),
                before=doc.code(t("compare.col_before")),
                bold=doc.bold(t("compare.bold")),
                best=doc.code(t("compare.col_best")),
            ),
            "muted",
        ),
    ]
    if before_diff:
        B.append(
            doc.Para(
                doc.rich(t("compare.before_differs"), keys=", ".join(before_diff), before=doc.code(t("compare.col_before"))),
                "muted",
            )
        )
    body: list[list[doc.Rich]] = []
    classes = []
    for row in rows:
        k = row["indicator"]
        cells: list[doc.Rich] = [
            (
                (("b", indicator_value(k, row["values"][n], lang)),)
                if n in row["best"]
                else indicator_value(k, row["values"][n], lang)
            )
            for n in names
        ]
        body.append(
            [row["label"], row["unit"], indicator_value(k, row["before"], lang), *cells, ", ".join(row["best"]) or fmt.DASH]
        )
        classes.append(["", "", "before", *("best" if n in row["best"] else "" for n in names), "bestnames"])
    B += [
        doc.Table(
            [t("compare.col_indicator"), t("compare.col_unit"), t("compare.col_before"), *names, t("compare.col_best")],
            body,
            "llr" + "r" * len(names) + "l",
            id="indicators",
            classes=classes,
        ),
        doc.Figures(t("compare.h_charts")),
        doc.Heading(t("compare.h_counts")),
        doc.Table(["", *names], _count_rows(runs, lang), "l" + "r" * len(names), id="counts"),
        doc.Heading(t("compare.h_solver")),
        doc.Table(
            [t(f"compare.col_{k}") for k in ("run", "model", "solver", "status", "objective", "best_bound", "gap")],
            _solver_rows(runs, lang),
            "llllrrr",
            id="solver",
        ),
    ]
    diag = [(r.name, d) for r in runs for d in (r.summary.get("diagnoses") or [])]
    if diag:
        B += [
            doc.Para(t("compare.diagnoses")),
            doc.Items([doc.join(doc.code(n), f" {d.get('model', '')}: {d.get('message', d.get('rule', ''))}") for n, d in diag]),
        ]
    B.append(doc.Heading(t("compare.h_roles", n=len(roles))))
    if roles:
        if transitions:
            B += [
                doc.Para(t("compare.transitions")),
                doc.Table(
                    [
                        t("compare.col_run"),
                        t("compare.col_role_in", run=names[0]),
                        t("compare.col_role_in_run"),
                        t("compare.col_stations"),
                    ],
                    [[a, b, c, fmt.count(n, lang)] for a, b, c, n in transitions],
                    "lllr",
                    id="role-transitions",
                ),
            ]
        rrows: list[list[doc.Rich]] = [
            [
                d["station_code"],
                d["station_name"],
                f"{d['new_commune_name']} ({d['new_commune_code']})",
                *(d["roles"][n] or absent for n in names),
            ]
            for d in roles
        ]
        B.append(
            doc.Table(
                [t("compare.col_station"), t("compare.col_station_name"), t("compare.col_new_commune"), *names],
                rrows,
                id="role-differences",
                long=len(rrows) > 25,
                classes=[["diff" if j >= 3 and row[j] != row[3] else "" for j in range(len(row))] for row in rrows],
            )
        )
    else:
        B.append(doc.Para(t("compare.no_role_differences")))
    B.append(doc.Heading(t("compare.h_centres", n=len(centres))))
    if centres:
        crows: list[list[doc.Rich]] = [
            [
                d["new_commune_code"],
                d["new_commune_name"],
                fmt.count(number(_int(d["population"])), lang),
                *(d["centres"][n] or absent for n in names),
            ]
            for d in centres
        ]
        B.append(
            doc.Table(
                [t("compare.col_commune"), t("compare.col_commune_name"), t("compare.col_population"), *names],
                crows,
                "llr",
                id="centre-differences",
                long=len(crows) > 25,
                classes=[["diff" if j >= 4 and row[j] != row[3] else "" for j in range(len(row))] for row in crows],
            )
        )
    else:
        B.append(doc.Para(t("compare.no_centre_differences")))
    B.append(doc.Heading(t("compare.h_maps")))
    return B


def markdown(runs: list[Any], page_blocks: list[doc.Block], lang: str = i18n.DEFAULT_LANG) -> str:
    """comparison.md: the blocks, and where each run's map is."""
    t = i18n.translator(lang)
    maps: list[doc.Block] = [
        doc.Para(doc.rich(t("compare.maps_md"), page=doc.code("comparison.html"))),
        doc.Items([doc.join(doc.code(r.name), f": {r.folder / 'map.html'}") for r in runs]),
    ]
    return doc.markdown(page_blocks + maps)


def html(runs: list[Any], rows: list[dict], page_blocks: list[doc.Block], lang: str = i18n.DEFAULT_LANG) -> str:
    """comparison.html: the blocks with the charts, then each run's own map (its map.html, put
    back together from the pieces the maps share by `reorg.compare_maps`, in an iframe)."""
    figures = charts(rows, runs, lang)
    filled = [
        doc.Figures(b.title, [figures["access"], figures["staff"]]) if isinstance(b, doc.Figures) and not b.svgs else b
        for b in page_blocks
    ]
    maps = []
    texts: list[str] = []
    for r in runs:
        mp = r.folder / "map.html"
        maps.append(
            {
                "name": r.name,
                "title": r.summary["scenario"].get("title", ""),
                "folder": str(r.folder),
                "index": len(texts) if mp.is_file() else None,
            }
        )
        if mp.is_file():
            texts.append(mp.read_text(encoding="utf-8", errors="replace"))
    title = doc.plain(page_blocks[0].text) if isinstance(page_blocks[0], doc.Heading) else ""
    shared = compare_maps.payload(texts) if texts else None
    return pages.render("comparison.html", lang, title=title, blocks=filled, maps=maps, rich=doc.html, payload=shared)


# ---------------------------------------------------------------- charts (matplotlib, inline SVG)

ACCESS = ("pop_minutes_nearest_facility", "pop_minutes_main_station", "pop_minutes_regional_centre")
ACCESS_SHARES = (
    "pop_share_within_30min",
    "pop_share_main_station_within_30min",
    "pop_share_main_station_within_60min",
    "pop_share_centre_within_60min",
)
STAFF = ("staff_shortfall_total", "doctor_shortfall_main_stations")
COLOURS = ("#9e9e9e", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#d6616b", "#8c6d31", "#17becf", "#bcbd22", "#7f7f7f")


def _svg(fig: Any, salt: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _bars(ax: Any, keys: tuple, rows: dict, runs: list[Any], lang: str, *, scale: float = 1.0, digits: int = 1) -> None:
    import numpy as np

    t = i18n.translator(lang)
    keys = tuple(k for k in keys if k in rows)
    series = [(t("compare.col_before"), [rows[k]["before"] for k in keys])] + [
        (r.name, [rows[k]["values"][r.name] for k in keys]) for r in runs
    ]
    n = len(series)
    width = 0.8 / n
    x = np.arange(len(keys))
    for s, (name, vals) in enumerate(series):
        v = [scale * (0.0 if a is None else float(a)) for a in vals]
        bars = ax.bar(x - 0.4 + width * (s + 0.5), v, width * 0.92, label=name, color=COLOURS[s % len(COLOURS)])
        ax.bar_label(bars, labels=[fmt.number(a, digits, lang) for a in v], fontsize=7, padding=1.5)
    ax.set_xticks(x, [t(f"compare.chart_{k}") for k in keys], fontsize=8)
    if lang != "en":  # the value axis with the language's separators (English keeps matplotlib's own)
        from matplotlib.ticker import FuncFormatter

        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.number(v, 0 if float(v).is_integer() else 1, lang)))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e5e5e5")
    ax.set_axisbelow(True)


def _legend(fig: Any, ax: Any, runs: list[Any]) -> None:
    """One legend above a figure: before and each run, from the bars of `ax`."""
    fig.legend(
        *ax.get_legend_handles_labels(),
        loc="upper center",
        ncol=len(runs) + 1,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 1.03),
    )


def charts(rows: list[dict], runs: list[Any], lang: str = i18n.DEFAULT_LANG) -> dict[str, str]:
    """Two inline SVG figures: access (mean minutes and shares within reach) and staff shortfall, before and per run."""
    import matplotlib
    from matplotlib.figure import Figure

    t = i18n.translator(lang)
    by_key = {r["indicator"]: r for r in rows}
    out = {}
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 9}):
        fig = Figure(figsize=(12, 3.8))
        a1, a2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 4]})
        _bars(a1, ACCESS, by_key, runs, lang)
        a1.set_ylabel(t("compare.chart_minutes_y"))
        a1.set_title(t("compare.chart_minutes_title"), fontsize=10)
        _bars(a2, ACCESS_SHARES, by_key, runs, lang, scale=100)
        a2.set_ylabel(t("compare.chart_shares_y"))
        shares = [
            100 * v
            for k in ACCESS_SHARES
            if k in by_key
            for v in [by_key[k]["before"], *by_key[k]["values"].values()]
            if v is not None
        ]
        low = max(0, 10 * math.floor(min(shares, default=0) / 10) - 10)  # the differences are a few points near 100 %
        a2.set_ylim(low, 104)
        a2.set_title(
            t("compare.chart_shares_title_from", low=fmt.share(low / 100, 0, lang)) if low else t("compare.chart_shares_title"),
            fontsize=10,
        )
        fig.suptitle(t("compare.chart_access"), fontsize=11, fontweight="bold", y=1.06)
        _legend(fig, a1, runs)
        out["access"] = _svg(fig, "reorg-compare-access")

        fig = Figure(figsize=(8, 3.4))
        ax = fig.subplots()
        _bars(ax, STAFF, by_key, runs, lang, digits=0)
        ax.set_ylabel(t("compare.chart_persons"))
        fig.suptitle(t("compare.chart_staff"), fontsize=11, fontweight="bold", y=1.08)
        _legend(fig, ax, runs)
        out["staff"] = _svg(fig, "reorg-compare-staff")
    return out
