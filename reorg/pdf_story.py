"""The content of report.pdf as reportlab flowables (`build_story`): title, notices, summary,
charts, indicators, staff, decisions, centres, solver records and assumptions, in English or
Vietnamese. `pdf.py` lays them out on A4 pages."""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from . import fmt, i18n, tables
from .pdf_charts import FONT, chart_centres, chart_minutes, chart_staff
from .schema import CADRES


def _esc(x: Any) -> str:
    return escape("" if x is None else str(x))


def _isnum(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _words(lang: str):
    """A function key, **fields -> the message as reportlab paragraph markup: the message escaped,
    its fields given as markup (escape data with `_esc`, make it bold with `_b`)."""

    def words(key: str, **fields: Any) -> str:
        return _esc(i18n.text(key, lang)).format(**fields)

    return words


def _b(x: Any) -> str:
    return f"<b>{_esc(x)}</b>"


#: what `Paragraph.wrap` leaves on a paragraph: its size, lines and fragments as broken
_WRAP_STATE = ("width", "height", "blPara", "frags", "_wrapWidths", "_width_max", "_splitLongWordCount", "_hyphenations")
#: (text, style, width) -> (size, wrap state) of the cells wrapped in this process (cleared when full)
_LINES: dict[tuple[str, Any, float], tuple[tuple[float, float], dict[str, Any]]] = {}
_LINES_MAX = 4096


@functools.cache
def _cell_paragraph() -> Any:
    """A Paragraph class for table cells that keeps its lines for the width it was last wrapped to.
    A table split over pages wraps every cell of what is left once more on each page (and again to
    draw it): most of the time of a table of many pages went into breaking the same lines again.
    A cell made by `_cell` also takes the lines of an equal cell (same text, style and width)
    wrapped earlier in the process: the headers and the assumptions' rows of every province.
    (A function, so that reportlab is imported only when a PDF is written.)"""
    from reportlab.platypus import Paragraph

    class CellParagraph(Paragraph):
        _wrapped: tuple[float, tuple[float, float]] | None = None
        _key: tuple[str, Any] | None = None

        def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 (reportlab's names)
            if self._wrapped is None or self._wrapped[0] != availWidth:
                key = None if self._key is None else (*self._key, availWidth)
                done = None if key is None else _LINES.get(key)
                if done is None:
                    size = super().wrap(availWidth, availHeight)
                    if key is not None:
                        if len(_LINES) >= _LINES_MAX:
                            _LINES.clear()
                        _LINES[key] = (size, {k: self.__dict__[k] for k in _WRAP_STATE if k in self.__dict__})
                else:
                    size = done[0]
                    self.__dict__.update(done[1])
                self._wrapped = (availWidth, size)
            return self._wrapped[1]

    return CellParagraph


@functools.lru_cache(maxsize=4096)
def _parsed(text: str, style: Any) -> Any:
    """A Paragraph of `text` in `style` as parsed by reportlab, kept as a template: the same cells
    (headers, the assumptions' rows) come back in every province a worker writes."""
    from reportlab.platypus import Paragraph

    return Paragraph(text, style)


def _cell(text: str, style: Any) -> Any:
    """A table cell's paragraph: `text` (markup) in `style`, its markup parsed once per process
    (each cell gets its own copies of the parsed fragments)."""
    done = _parsed(text, style)
    out = _cell_paragraph()(done.text, done.style, bulletText=done.bulletText, frags=[f.clone() for f in done.frags])
    out._key = (text, style)
    return out


def _table(
    S,
    head: list[str],
    rows: list[list],
    widths: list[float],
    right: Collection[int] = frozenset(),
    zebra: bool = True,
    bold_last: bool = False,
):
    """A table whose header row repeats on every page; cells wrap. A cell is paragraph markup (data
    escaped with `_esc`); one without markup that fits its column on one line is drawn as a plain
    string, which looks the same and is much faster than a Paragraph."""
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import LongTable, TableStyle
    from reportlab.platypus.tables import CellStyle

    room = [w - 2 * 3.5 - 0.5 for w in widths]  # the column less its padding

    def cell(k, c):
        if not isinstance(c, str):
            return c
        if "<" not in c and "&" not in c and stringWidth(c, FONT, 8) <= room[k]:
            return c
        return _cell(c, S["cellr"] if k in right else S["cell"])

    data = [[_cell(_esc(h), S["headr"] if k in right else S["head"]) for k, h in enumerate(head)]]
    data += [[cell(k, c) for k, c in enumerate(r)] for r in rows]

    def cell_style(name: str, body: bool, alignment: str) -> Any:
        # what the commands FONT (body rows), ALIGN, VALIGN and the paddings make of a cell, set
        # once and shared by the cells alike instead of set command by command on every cell (so
        # no cell style command may be added below: it would change every cell sharing the style)
        out = CellStyle(name)
        if body:
            out.fontname, out.fontsize, out.leading = FONT, 8, 9.8
        out.alignment, out.valign = alignment, "TOP"
        out.topPadding, out.bottomPadding, out.leftPadding, out.rightPadding = 2, 2.5, 3.5, 3.5
        return out

    header = cell_style("head", False, "LEFT")
    body = [cell_style(f"body{k}", True, "RIGHT" if k in right else "LEFT") for k in range(len(widths))]
    t = LongTable(data, colWidths=widths, repeatRows=1, cellStyles=[[header] * len(widths)] + [body] * len(rows))
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f2")),
    ]
    if zebra:
        shade = colors.HexColor("#f5f7fa")
        for i in range(2, len(data), 2):
            style.append(("BACKGROUND", (0, i), (-1, i), shade))
    if bold_last:
        style.append(("LINEABOVE", (0, -1), (-1, -1), 1.0, colors.HexColor("#555555")))
    t.setStyle(TableStyle(style))
    return t


def build_story(result: Any, summary: dict, S: dict, width: float, lang: str = i18n.DEFAULT_LANG) -> list:
    """The flowables of report.pdf in `lang`."""
    from reportlab.platypus import CondPageBreak, PageBreak, Paragraph, Spacer

    r = result
    c = summary["counts"]
    w = _words(lang)
    n = lambda v: fmt.count(v, lang)  # noqa: E731
    one = lambda v: fmt.number(v, 1, lang)  # noqa: E731
    story: list = []
    P = lambda text, style="base": Paragraph(text, S[style])  # noqa: E731

    # --- title page
    story += [
        Spacer(1, 40),
        P(_esc(r.scenario.title or r.scenario.name), "title"),
        P(
            w(
                "pdf.byline",
                code=_esc(r.pack.province_code),
                name=_b(r.pack.province_name),
                scenario=_b(r.scenario.name),
                seed=_esc(r.scenario.seed),
                version=_esc(r.version),
            ),
            "subtitle",
        ),
        P(w("pdf.intro")),
    ]
    flags = {k: bool(summary.get(k)) for k in i18n.NOTICE_KEYS}
    for notice in i18n.notices(flags, lang) + tables.travel_notices(r, lang):
        story.append(P(_esc(notice), "notice"))
    story.append(P(w("pdf.h_figures"), "h2"))
    figures = [
        (key, c[key])
        for key in (
            "old_communes",
            "new_communes",
            "stations",
            "main_stations",
            "point_stations",
            "closed_stations",
            "regional_centres",
            "split_old_communes",
            "new_sites_needed",
        )
    ]
    story.append(
        _table(
            S,
            ["", i18n.text("pdf.col_count", lang)],
            [[w(f"pdf.count_{k}"), n(v)] for k, v in figures],
            [width * 0.62, width * 0.2],
            right={1},
        )
    )
    story.append(P(w("pdf.h_rules"), "h2"))
    rules = [[_esc(i18n.text(f"policy.{k}", lang)), _esc(v)] for k, v in r.plan.rule_texts(lang).items()]
    story.append(
        _table(S, [i18n.text("pdf.col_decision", lang), i18n.text("pdf.col_rule", lang)], rules, [width * 0.24, width * 0.76])
    )
    story.append(PageBreak())

    # --- indicators
    story.append(P(w("pdf.h_indicators"), "h1"))
    story.append(P(w("pdf.indicators_note"), "small"))
    rows = []
    for row in tables.indicator_table(r, lang).to_dict("records"):
        k = row["indicator"]
        rows.append(
            [
                _esc(row["label"]),
                _esc(row["unit"]),
                fmt.indicator(k, row["before"], lang),
                fmt.indicator(k, row["after"], lang),
                fmt.indicator_change(k, row["before"], row["after"], lang),
            ]
        )
    story.append(
        _table(
            S,
            [i18n.text(f"report.col_{k}", lang) for k in ("indicator", "unit", "before", "after", "change")],
            rows,
            [width * 0.5, width * 0.11, width * 0.13, width * 0.13, width * 0.13],
            right={2, 3, 4},
        )
    )

    # --- charts
    story.append(PageBreak())
    story.append(P(w("report.h_charts"), "h1"))
    story.append(chart_minutes(r, width, lang))
    story.append(P(w("pdf.chart_minutes_caption"), "caption"))
    story.append(Spacer(1, 6))
    story.append(chart_staff(r, width, lang))
    for chart in chart_centres(r, width, lang):
        story.append(CondPageBreak(120))
        story.append(chart)

    # --- losers
    story.append(PageBreak())
    story.append(P(w("report.h_losers"), "h1"))
    story.append(P(w("pdf.losers_note"), "small"))
    rows = [
        [
            f"{_esc(row['old_name'])} ({_esc(row['old_code'])})",
            _esc(row["new_name"]),
            n(row["population"]),
            one(row["minutes_main_before"]),
            one(row["minutes_main_after"]),
            fmt.signed(row["minutes_main_change"], 1, lang),
        ]
        for row in r.measures.losers.to_dict("records")
    ]
    story.append(
        _table(
            S,
            [
                i18n.text(k, lang)
                for k in (
                    "report.col_old_commune",
                    "report.col_new_commune",
                    "report.col_population",
                    "pdf.col_min_before",
                    "pdf.col_min_after",
                    "report.col_change",
                )
            ],
            rows,
            [width * 0.27, width * 0.25, width * 0.13, width * 0.11, width * 0.11, width * 0.13],
            right={2, 3, 4, 5},
        )
    )
    worst = summary["extremes"]["worst_commune_main_station_after"]
    story.append(Spacer(1, 4))
    story.append(P(w("report.worst", name=_b(worst["name"]), code=_esc(worst["code"]), minutes=one(worst["minutes"]))))
    isl = summary["extremes"].get("islands", [])
    if isl:
        story.append(
            P(
                w(
                    "pdf.islands",
                    islands="; ".join(
                        w(
                            "pdf.island",
                            name=_esc(i["name"]),
                            code=_esc(i["code"]),
                            residents=n(i["population"]),
                            main=fmt.number(i["minutes_main_after"], 0, lang),
                        )
                        for i in isl
                    ),
                ),
                "small",
            )
        )

    story += _decisions(r, summary, S, width, lang)
    story += _centres_and_solver(r, S, width, lang)
    story += _assumptions(r, S, width, lang)
    return story


def _decisions(r: Any, summary: dict, S: dict, width: float, lang: str) -> list:
    from reportlab.platypus import CondPageBreak, Paragraph

    w = _words(lang)
    n = lambda v: fmt.count(v, lang)  # noqa: E731
    P = lambda text, style="base": Paragraph(text, S[style])  # noqa: E731
    head = lambda *keys: [i18n.text(k, lang) for k in keys]  # noqa: E731
    story = [P(w("report.h_decisions"), "h1"), P(w("pdf.h_main_stations"), "h2")]
    names = tables.station_names(r)
    scores = r.stations["facility_score"]
    rows = []
    for row in tables.commune_table(r).to_dict("records"):
        ms = row["main_station_code"]
        score = scores.get(ms) if ms in names else None
        rows.append(
            [
                _esc(row["new_commune_name"]),
                f"{_esc(names.get(ms, ''))} ({_esc(ms)})",
                fmt.number(score if _isnum(score) else None, 2, lang),
                fmt.number(row["minutes_main_after"], 1, lang),
                n(row["stations_open"]),
            ]
        )
    story.append(
        _table(
            S,
            head(
                "report.col_new_commune",
                "report.col_main_station",
                "report.col_facility_score",
                "report.col_mean_minutes",
                "pdf.col_open_sites",
            ),
            rows,
            [width * 0.3, width * 0.34, width * 0.12, width * 0.12, width * 0.12],
            right={2, 3, 4},
        )
    )

    name_of = lambda code: names.get(code, code)  # noqa: E731
    pts = r.plan.explain.get("points")
    if pts is not None and len(pts):
        closed = pts[pts["role"] == "closed"].sort_values(["saves_person_minutes", "station_code"])
        kept = pts[pts["role"] == "point"]
        story.append(P(w("pdf.h_points_closed"), "h2"))
        story.append(P(w("pdf.points_note", closed=n(len(closed)), kept=n(len(kept))), "small"))
        rows = [
            [
                f"{_esc(name_of(row['station_code']))} ({_esc(row['station_code'])})",
                _esc(r.reformed.new["commune_name"].get(row["new_code"], "")),
                n(row["users"]),
                n(row["saves_person_minutes"]),
                fmt.number(row["saves_minutes_per_user"], 1, lang),
            ]
            for row in closed.to_dict("records")
        ]
        if rows:
            story.append(
                _table(
                    S,
                    head(
                        "report.col_station",
                        "report.col_new_commune",
                        "report.col_users",
                        "report.col_saves",
                        "report.col_saves_per_user",
                    ),
                    rows,
                    [width * 0.3, width * 0.26, width * 0.14, width * 0.15, width * 0.15],
                    right={2, 3, 4},
                )
            )

    story.append(CondPageBreak(160))
    story.append(P(w("pdf.h_staff"), "h2"))
    s = summary["staff"]
    rows = [
        [
            _esc(i18n.text(f"cadre.{k}", lang) if k != "total" else i18n.text("report.total", lang)),
            n(s["before"][k]),
            n(s["after"][k]),
            fmt.signed(s["after"][k] - s["before"][k], 0, lang),
        ]
        for k in [*CADRES, "total"]
    ]
    story.append(
        _table(
            S,
            head("report.col_cadre", "report.col_before", "report.col_after", "report.col_change"),
            rows,
            [width * 0.4, width * 0.15, width * 0.15, width * 0.15],
            right={1, 2, 3},
            bold_last=True,
        )
    )
    story.append(
        P(
            w(
                "pdf.staff_line",
                moved=_b(n(s["moved"])),
                hired=_b(n(s["hired"])),
                lost=_b(n(s["lost"])),
                minutes=n(s["person_minutes_moved"]),
            )
        )
    )
    mv = r.plan.moves
    if len(mv):
        story.append(P(w("pdf.moves_note", persons=n(mv["persons"].sum()), moves=n(len(mv))), "small"))
        rows = [
            [
                _esc(name_of(row["from_station"])),
                f"{_esc(name_of(row['to_station']))} ({_esc(row['to_station'])})",
                _esc(i18n.text(f"cadre.{row['cadre']}", lang)),
                n(row["persons"]),
                fmt.number(row["minutes"], 0, lang),
                _esc(tables.move_reason(row["reason"], lang)),
            ]
            for row in mv.sort_values(["minutes", "from_station", "to_station", "cadre"], ascending=[False, True, True, True])
            .head(40)
            .to_dict("records")
        ]
        story.append(
            _table(
                S,
                head(
                    "report.col_from",
                    "report.col_to",
                    "report.col_cadre",
                    "report.col_persons",
                    "report.col_minutes",
                    "report.col_why",
                ),
                rows,
                [width * 0.17, width * 0.21, width * 0.19, width * 0.08, width * 0.08, width * 0.27],
                right={3, 4},
            )
        )
    else:
        story.append(P(w("pdf.no_moves"), "small"))
    return story


def _centres_and_solver(r: Any, S: dict, width: float, lang: str) -> list:
    from reportlab.platypus import CondPageBreak, Paragraph

    w = _words(lang)
    P = lambda text, style="base": Paragraph(text, S[style])  # noqa: E731
    head = lambda *keys: [i18n.text(k, lang) for k in keys]  # noqa: E731
    story = [CondPageBreak(200), P(w("report.h_centres"), "h2")]
    rows = [[_esc(cell) for cell in row] for row in tables.centre_rows(r, lang)]
    story.append(
        _table(
            S,
            head(*tables.CENTRE_COLUMNS),
            rows,
            [width * 0.24, width * 0.18, width * 0.08, width * 0.12, width * 0.13, width * 0.13, width * 0.12],
            right={2, 3, 4, 5, 6},
        )
    )

    story += [CondPageBreak(160), P(w("report.h_solver"), "h1")]
    if not r.plan.solver:
        story.append(P(w("pdf.no_solver")))
    else:
        rows = []
        for rec in r.plan.solver:
            gap = fmt.DASH if rec.get("relative_gap") is None else fmt.share(rec["relative_gap"], 4, lang)
            status = _esc(i18n.word("solver_status", rec["status"], lang)) + (
                " " + _b(i18n.text("report.time_limit_reached", lang)) if rec.get("time_limit_reached") else ""
            )
            rows.append(
                [
                    _esc(i18n.word("model", rec["model"], lang)),
                    _esc(rec.get("solver", "")),
                    status,
                    fmt.amount(rec.get("objective"), lang),
                    fmt.amount(rec.get("best_bound"), lang),
                    gap,
                    fmt.amount(rec.get("baseline_objective"), lang),
                ]
            )
        story.append(
            _table(
                S,
                head(
                    "report.col_model",
                    "report.col_solver",
                    "report.col_status",
                    "report.col_objective",
                    "report.col_best_bound",
                    "report.col_gap",
                    "report.col_baseline_objective",
                ),
                rows,
                [width * 0.19, width * 0.1, width * 0.19, width * 0.14, width * 0.14, width * 0.1, width * 0.14],
                right={3, 4, 5, 6},
            )
        )
        story.append(P(w("pdf.baseline_note"), "small"))
    for d in r.plan.diagnoses:
        communes = d.get("communes", [])
        story.append(P(w("report.rule_not_met", rule=_esc(d["rule"])) + " " + _esc(r.plan.diagnosis_text(d, lang)), "notice"))
        if communes:
            listed = ", ".join(f"{_esc(r.reformed.new['commune_name'].get(cc, cc))} ({_esc(cc)})" for cc in communes[:60])
            story.append(
                P(
                    w("report.communes_concerned", n=len(communes), communes=listed + (" …" if len(communes) > 60 else "")),
                    "small",
                )
            )
    return story


def _assumptions(r: Any, S: dict, width: float, lang: str) -> list:
    from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer

    w = _words(lang)
    P = lambda text, style="base": Paragraph(text, S[style])  # noqa: E731
    story = [PageBreak(), P(w("report.h_assumptions"), "h1"), P(w("pdf.assumptions_note"), "small")]
    set_here = [
        w("scenario.set_item", name=p["name"], value=fmt.plain(p["value"], lang), default=fmt.plain(p["default"], lang))
        for p in tables.parameters_set(r)
    ]
    if set_here:
        story.append(P(_esc(w("scenario.set_here", items="; ".join(set_here))), "small"))
    rows = []
    for p in tables.parameter_table(r, lang).to_dict("records"):
        vs = _esc(tables.parameter_value(p["value"], lang))
        if p["value"] != p["default"]:
            vs = w("pdf.value_not_default", value=f"<b>{vs}</b>", default=_esc(tables.parameter_value(p["default"], lang)))
        rows.append(
            [
                f"<b>{_esc(p['name'])}</b><br/>{_esc(p['description'])}",
                vs,
                _esc(p["unit"]),
                _esc(p["source"]),
                _esc(p["confidence"]),
            ]
        )
    story.append(
        _table(
            S,
            [i18n.text(f"report.col_{k}", lang) for k in ("parameter", "value", "unit", "source", "confidence")],
            rows,
            [width * 0.43, width * 0.11, width * 0.17, width * 0.22, width * 0.07],
            right={1},
        )
    )
    density = r.scenario.params["mountain_density_max_per_km2"]
    story.append(KeepTogether([Spacer(1, 8), P(w("pdf.regions_note", density=tables.parameter_value(density, lang)), "small")]))
    return story
