"""The printable report (`report.pdf`) for officials: A4, Unicode text (Vietnamese names keep their
diacritics), page numbers, table headers repeated on every page, deterministic bytes.

`write_pdf(result, summary, path)` lays out, with reportlab's platypus:

1. a title page: title, province, scenario, the synthetic-data notices, the merger in figures and
   the rule behind each kind of decision;
2. the indicators before and after the reform;
3. charts (matplotlib, rendered to PNG at 150 dpi in memory): travel minutes to one's (main)
   station before/after, station staff by cadre, regional centre loads;
4. the ten old communes that lose most;
5. decisions: main station of every new commune, points closed and kept (optimised runs), staff
   by cadre and the staff moves;
6. regional centres; solver quality (one row per optimisation solve) and any rule that could not
   be met;
7. the assumptions: every parameter with its value, unit, source and confidence.

Text is set in DejaVu Sans, the TTF that matplotlib ships (so no system font is needed), embedded
as a subset. The document is built with reportlab's `invariant=1` (fixed creation date and
document id) and the charts are drawn with fixed metadata, so the same result gives the same bytes.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from . import report as REP
from .schema import CADRES

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
DPI = 150

_BLUE = "#3182bd"
_RED = "#de2d26"
_LIGHT = "#9ecae1"
CADRE_NAMES = {"doctor": "Doctor (bác sĩ)", "assistant_doctor": "Assistant doctor (y sĩ)", "nurse": "Nurse (điều dưỡng)",
               "midwife": "Midwife (hộ sinh)", "pharmacist": "Pharmacist (dược sĩ)", "other": "Other", "total": "Total"}


def _register_fonts() -> None:
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    for bold, italic, name in ((0, 0, FONT), (1, 0, FONT_BOLD), (0, 1, FONT), (1, 1, FONT_BOLD)):
        addMapping(FONT, bold, italic, name)


def _styles() -> dict:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12.5, spaceAfter=4)
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=22, leading=27, spaceAfter=10, textColor=colors.HexColor("#08306b")),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=12, leading=16, spaceAfter=14, textColor=colors.HexColor("#333333")),
        "h1": ParagraphStyle("h1", base, fontName=FONT_BOLD, fontSize=15, leading=19, spaceBefore=4, spaceAfter=8,
                             textColor=colors.HexColor("#08306b")),
        "h2": ParagraphStyle("h2", base, fontName=FONT_BOLD, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=5),
        "notice": ParagraphStyle("notice", base, fontName=FONT_BOLD, fontSize=10, leading=13.5, textColor=colors.HexColor("#7a1c00"),
                                 backColor=colors.HexColor("#fff3cd"), borderColor=colors.HexColor("#e0b04c"), borderWidth=0.8,
                                 borderPadding=(5, 7, 5, 7), spaceBefore=6, spaceAfter=10),
        "small": ParagraphStyle("small", base, fontSize=8, leading=10, textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=9.8, spaceAfter=0),
        "cellb": ParagraphStyle("cellb", base, fontName=FONT_BOLD, fontSize=8, leading=9.8, spaceAfter=0),
        "cellr": ParagraphStyle("cellr", base, fontSize=8, leading=9.8, spaceAfter=0, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", base, fontName=FONT_BOLD, fontSize=8, leading=9.8, spaceAfter=0),
        "headr": ParagraphStyle("headr", base, fontName=FONT_BOLD, fontSize=8, leading=9.8, spaceAfter=0, alignment=TA_RIGHT),
        "caption": ParagraphStyle("caption", base, fontSize=8.5, leading=11, alignment=TA_CENTER, textColor=colors.HexColor("#444444")),
    }


def _esc(x) -> str:
    from xml.sax.saxutils import escape

    return escape("" if x is None else str(x))


def _isnum(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _change(ch, unit: str) -> str:
    if ch is None or (isinstance(ch, float) and not math.isfinite(ch)):
        return "–"
    if unit == "share":
        return f"{100 * ch:+.1f} pts"
    if unit in REP.WHOLE_UNITS:
        return f"{ch:+,.0f}"
    return f"{ch:+,.2f}"


def _table(S, head: list[str], rows: list[list], widths: list[float], right: set[int] = frozenset(), zebra: bool = True,
           bold_last: bool = False):
    """A table whose header row repeats on every page; cells wrap."""
    from reportlab.lib import colors
    from reportlab.platypus import LongTable, Paragraph, TableStyle

    def cell(k, c):
        if not isinstance(c, str):
            return c
        if k in right and "<" not in c and "&" not in c:
            return c  # a plain number: drawn as a string (much faster than a Paragraph)
        return Paragraph(c, S["cellr"] if k in right else S["cell"])

    data = [[Paragraph(_esc(h), S["headr"] if k in right else S["head"]) for k, h in enumerate(head)]]
    data += [[cell(k, c) for k, c in enumerate(r)] for r in rows]
    t = LongTable(data, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 1), (-1, -1), FONT, 8, 9.8),
        ("ALIGN", (0, 0), (-1, -1), "LEFT"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f2")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3.5),
    ]
    for k in sorted(right):
        style.append(("ALIGN", (k, 1), (k, -1), "RIGHT"))
    if zebra:
        for i in range(2, len(data), 2):
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f5f7fa")))
    if bold_last:
        style.append(("LINEABOVE", (0, -1), (-1, -1), 1.0, colors.HexColor("#555555")))
    t.setStyle(TableStyle(style))
    return t


# ------------------------------------------------------------------------------------ charts


def _png(fig) -> io.BytesIO:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    buf.seek(0)
    return buf


def _chart_minutes(result) -> io.BytesIO:
    import matplotlib.pyplot as plt

    d = result.measures.demand
    before = d["minutes_main_before"].to_numpy(float)
    after = d["minutes_main_after"].to_numpy(float)
    w = d["population"].to_numpy(float)
    allv = np.concatenate([before, after])
    allv = allv[np.isfinite(allv)]
    hi = max(10.0, float(np.ceil(np.percentile(allv, 99) / 10) * 10)) if len(allv) else 10.0
    edges = np.linspace(0, hi, 21)
    hb = np.histogram(np.clip(before, 0, hi), bins=edges, weights=w)[0]
    ha = np.histogram(np.clip(after, 0, hi), bins=edges, weights=w)[0]
    fig, ax = plt.subplots(figsize=(7.0, 2.9))
    width = (edges[1] - edges[0]) * 0.42
    mids = (edges[:-1] + edges[1:]) / 2
    ax.bar(mids - width / 2, hb / 1000, width=width, color=_LIGHT, label="before: own commune's station")
    ax.bar(mids + width / 2, ha / 1000, width=width, color=_RED, label="after: main station of the new commune")
    ax.set_xlabel("minutes (the last bar holds everything beyond)")
    ax.set_ylabel("residents (thousands)")
    ax.set_title("Travel minutes to one's (main) station", fontsize=11, fontweight="bold")
    ax.legend(frameon=False, fontsize=8.5)
    ax.grid(axis="y", color="#e5e5e5")
    ax.set_axisbelow(True)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.17)
    return _png(fig)


def _chart_staff(result) -> io.BytesIO:
    import matplotlib.pyplot as plt

    s = REP.build_staff_frame(result)
    x = np.arange(len(s))
    fig, ax = plt.subplots(figsize=(7.0, 2.7))
    ax.bar(x - 0.2, s["before"], width=0.4, color=_LIGHT, label="before")
    ax.bar(x + 0.2, s["after"], width=0.4, color=_BLUE, label="after")
    for k, (b, a) in enumerate(zip(s["before"], s["after"])):
        ax.text(k - 0.2, b, f"{b:,}", ha="center", va="bottom", fontsize=7)
        ax.text(k + 0.2, a, f"{a:,}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, [CADRE_NAMES.get(c, c).replace(" (", "\n(") for c in s.index], fontsize=7.5)
    ax.set_ylim(0, 1.18 * max(1, int(s["before"].max()), int(s["after"].max())))
    ax.set_ylabel("persons")
    ax.set_title("Station staff by cadre", fontsize=11, fontweight="bold")
    ax.legend(frameon=False, fontsize=8.5)
    ax.grid(axis="y", color="#e5e5e5")
    ax.set_axisbelow(True)
    for sp in ("top", "right"):
        ax.spines[sp].set_visible(False)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.2)
    return _png(fig)


def _chart_centres(result) -> io.BytesIO:
    import matplotlib.pyplot as plt

    cen = result.measures.centres.sort_values(["load_after", "name"], ascending=[True, False])
    names = [str(n) for n in cen["name"]]
    loads = (cen["load_after"].astype(float) * 100).to_numpy()
    height = max(2.2, 0.2 * len(names) + 0.9)
    fig, ax = plt.subplots(figsize=(7.0, height))
    ax.barh(np.arange(len(names)), loads, color=[_RED if v > 100 else _BLUE for v in loads], height=0.7)
    ax.axvline(100, color="#333333", lw=1, ls="--")
    ax.set_yticks(np.arange(len(names)), names, fontsize=7)
    ax.set_xlabel("population served / capacity (%)  · dashed: full capacity")
    ax.set_title("Regional centre loads after the reform", fontsize=11, fontweight="bold")
    ax.grid(axis="x", color="#e5e5e5")
    ax.set_axisbelow(True)
    for sp in ("top", "right"):
        ax.spines[sp].set_visible(False)
    left = min(0.55, (0.06 * max((len(n) for n in names), default=10) + 0.25) / 7.0)
    fig.subplots_adjust(left=left, right=0.97, top=1 - 0.4 / height, bottom=0.55 / height)
    return _png(fig)


def _image(buf: io.BytesIO, width: float):
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    iw, ih = ImageReader(buf).getSize()
    buf.seek(0)
    return Image(buf, width=width, height=width * ih / iw)


# ------------------------------------------------------------------------------------ the document


def _page_decor(title: str, footer: str):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4

    def draw(canvas, doc):
        canvas.saveState()
        w, h = A4
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        if doc.page > 1:
            canvas.drawString(doc.leftMargin, h - 12 * 2.8346, title)
            canvas.setStrokeColor(colors.HexColor("#cccccc"))
            canvas.setLineWidth(0.4)
            canvas.line(doc.leftMargin, h - 13.5 * 2.8346, w - doc.rightMargin, h - 13.5 * 2.8346)
        canvas.drawString(doc.leftMargin, 10 * 2.8346, footer)
        canvas.restoreState()

    return draw


def _numbered_canvas():
    """A canvas that writes "page N of M" once the page count is known."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as rl_canvas

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("initialFontName", FONT)  # no unembedded Helvetica in the file
            kwargs.setdefault("initialFontSize", 9.5)
            super().__init__(*args, **kwargs)
            self._saved = []

        def showPage(self):
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            n = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColorRGB(0.4, 0.4, 0.4)
                self.drawRightString(A4[0] - 18 * 2.8346, 10 * 2.8346, f"page {self._pageNumber} of {n}")
                super().showPage()
            super().save()

    return NumberedCanvas


def build_story(result, summary: dict, S: dict, width: float) -> list:
    from reportlab.platypus import CondPageBreak, KeepTogether, PageBreak, Paragraph, Spacer

    r = result
    c = summary["counts"]
    story = []
    P = (lambda text, style="base": Paragraph(text, S[style]))  # noqa: E731

    # --- title page
    story += [Spacer(1, 40), P(_esc(r.scenario.title or r.scenario.name), "title"),
              P(f"Province {_esc(r.pack.province_code)} <b>{_esc(r.pack.province_name)}</b> · scenario "
                f"<b>{_esc(r.scenario.name)}</b> · seed {r.scenario.seed} · reorg {_esc(r.version)}", "subtitle"),
              P("Reorganisation of the grassroots health network after the administrative reform of 1 July 2025: "
                "one main health station per new commune, the old stations kept as points or closed, district health "
                "centres serving as regional centres, health workers placed. Indicators compare the network before and "
                "after the reform.")]
    for n in REP._notices(r):
        story.append(P(_esc(n), "notice"))
    story.append(P("The merger in figures", "h2"))
    figures = [
        ["Old communes (before 1 July 2025)", f"{c['old_communes']:,}"],
        ["New communes", f"{c['new_communes']:,}"],
        ["Stations", f"{c['stations']:,}"],
        ["Main stations", f"{c['main_stations']:,}"],
        ["Station points kept", f"{c['point_stations']:,}"],
        ["Stations closed", f"{c['closed_stations']:,}"],
        ["Regional centres", f"{c['regional_centres']:,}"],
        ["Old communes split between new communes", f"{c['split_old_communes']:,}"],
        ["New sites needed (new commune without a station)", f"{c['new_sites_needed']:,}"],
    ]
    story.append(_table(S, ["", "count"], [[_esc(a), b] for a, b in figures], [width * 0.62, width * 0.2], right={1}))
    story.append(P("Decision rules", "h2"))
    rules = [[_esc(k.replace("_", " ")), _esc(v)] for k, v in r.plan.rules.items()]
    story.append(_table(S, ["decision", "rule or model"], rules, [width * 0.24, width * 0.76]))
    story.append(PageBreak())

    # --- indicators
    story.append(P("Indicators before and after the reform", "h1"))
    story.append(P("Population-weighted means and shares over every resident of the province (demand parts of old "
                   "communes); “after” is the network once the decisions below are applied.", "small"))
    rows = []
    for _, row in REP.indicator_table(r).iterrows():
        u = row["unit"]
        rows.append([_esc(row["label"]), _esc(u), REP._fmt(row["before"], u), REP._fmt(row["after"], u), _change(row["change"], u)])
    story.append(_table(S, ["indicator", "unit", "before", "after", "change"], rows,
                        [width * 0.5, width * 0.11, width * 0.13, width * 0.13, width * 0.13], right={2, 3, 4}))

    # --- charts
    story.append(PageBreak())
    story.append(P("Charts", "h1"))
    story.append(_image(_chart_minutes(r), width))
    story.append(P("Residents by travel minutes to their station: before the reform each old commune's own station, "
                   "after it the main station of the new commune.", "caption"))
    story.append(Spacer(1, 6))
    story.append(_image(_chart_staff(r), width))
    story.append(CondPageBreak(120))
    story.append(_image(_chart_centres(r), width * 0.92))

    # --- losers
    story.append(PageBreak())
    story.append(P("The ten old communes that lose most", "h1"))
    story.append(P("Population-weighted minutes to the main station, before and after the reform.", "small"))
    rows = []
    for _, row in r.measures.losers.iterrows():
        rows.append([f"{_esc(row['old_name'])} ({_esc(row['old_code'])})", _esc(row["new_name"]), f"{row['population']:,.0f}",
                     f"{row['minutes_main_before']:.1f}", f"{row['minutes_main_after']:.1f}", f"{row['minutes_main_change']:+.1f}"])
    story.append(_table(S, ["old commune", "new commune", "population", "min. before", "min. after", "change"], rows,
                        [width * 0.27, width * 0.25, width * 0.13, width * 0.11, width * 0.11, width * 0.13], right={2, 3, 4, 5}))
    w = summary["extremes"]["worst_commune_main_station_after"]
    story.append(Spacer(1, 4))
    story.append(P(f"Worst new commune (minutes to its main station): <b>{_esc(w['name'])}</b> ({_esc(w['code'])}), "
                   f"{w['minutes']:.1f} min."))
    isl = summary["extremes"].get("islands", [])
    if isl:
        story.append(P("New communes with residents on islands reached by a ferry link: " + "; ".join(
            f"{_esc(i['name'])} ({_esc(i['code'])}, {i['population']:,} residents, {i['minutes_main_after']:.0f} min to the "
            f"main station)" for i in isl), "small"))

    # --- decisions
    story.append(P("Decisions", "h1"))
    story.append(P("Main station of each new commune", "h2"))
    st = REP.station_table(r).set_index("station_code")
    rows = []
    for _, row in REP.commune_table(r).iterrows():
        ms = row["main_station_code"]
        name = st.at[ms, "station_name"] if ms in st.index else ""
        score = st.at[ms, "facility_score"] if ms in st.index else float("nan")
        rows.append([_esc(row["new_commune_name"]), f"{_esc(name)} ({_esc(ms)})", "–" if not _isnum(score) or not math.isfinite(score) else f"{score:.2f}",
                     f"{row['minutes_main_after']:.1f}", f"{row['stations_open']}"])
    story.append(_table(S, ["new commune", "main station", "facility score", "mean minutes", "open sites"], rows,
                        [width * 0.3, width * 0.34, width * 0.12, width * 0.12, width * 0.12], right={2, 3, 4}))

    name_of = lambda code: st["station_name"].get(code, code)  # noqa: E731
    pts = r.plan.explain.get("points")
    if pts is not None and len(pts):
        closed = pts[pts["role"] == "closed"].sort_values(["saves_person_minutes", "station_code"])
        kept = pts[pts["role"] == "point"]
        story.append(P("Points closed", "h2"))
        story.append(P(f"{len(closed)} points closed, {len(kept)} kept. A point's value is the travel it saves the residents for "
                       "whom it is the nearest site (person-minutes for one trip each, other decisions unchanged); every point "
                       "is in explain_points.csv.", "small"))
        rows = [[f"{_esc(name_of(row['station_code']))} ({_esc(row['station_code'])})", _esc(r.reformed.new["commune_name"].get(row["new_code"], "")),
                 f"{row['users']:,}", f"{row['saves_person_minutes']:,.0f}", f"{row['saves_minutes_per_user']:.1f}"]
                for _, row in closed.iterrows()]
        if rows:
            story.append(_table(S, ["station", "new commune", "residents using it", "saves (person-min)", "saves per resident (min)"],
                                rows, [width * 0.3, width * 0.26, width * 0.14, width * 0.15, width * 0.15], right={2, 3, 4}))

    story.append(CondPageBreak(160))
    story.append(P("Staff", "h2"))
    s = summary["staff"]
    rows = [[_esc(CADRE_NAMES[k]), f"{s['before'][k]:,}", f"{s['after'][k]:,}", f"{s['after'][k] - s['before'][k]:+,}"]
            for k in [*CADRES, "total"]]
    story.append(_table(S, ["cadre", "before", "after", "change"], rows, [width * 0.4, width * 0.15, width * 0.15, width * 0.15],
                        right={1, 2, 3}, bold_last=True))
    story.append(P(f"Moved: <b>{s['moved']:,}</b> persons; hired: <b>{s['hired']:,}</b>; lost: <b>{s['lost']:,}</b>; "
                   f"person-minutes moved: {s['person_minutes_moved']:,.0f}."))
    mv = r.plan.moves
    if len(mv):
        story.append(P(f"Staff moves: {int(mv['persons'].sum()):,} persons in {len(mv):,} moves (hires included); the 40 longest "
                       "are listed, every move is in staff_moves.csv.", "small"))
        rows = [[_esc(name_of(row["from_station"])), f"{_esc(name_of(row['to_station']))} ({_esc(row['to_station'])})", _esc(row["cadre"]),
                 f"{row['persons']}", f"{row['minutes']:.0f}", _esc(row["reason"])]
                for _, row in mv.sort_values(["minutes", "from_station", "to_station", "cadre"], ascending=[False, True, True, True]).head(40).iterrows()]
        story.append(_table(S, ["from", "to", "cadre", "persons", "minutes", "why"], rows,
                            [width * 0.19, width * 0.23, width * 0.12, width * 0.09, width * 0.09, width * 0.28], right={3, 4}))
    else:
        story.append(P("No staff move: every health worker stays at their station (staff of a closed station join the main station).", "small"))

    # --- centres
    story.append(CondPageBreak(200))
    story.append(P("Regional centres", "h2"))
    rows = []
    for _, row in REP.centre_table(r).iterrows():
        rows.append([_esc(row["name"]), _esc(row["host_name"]), f"{row['beds']:,}", f"{row['capacity']:,}", f"{row['served_pop_before']:,.0f}",
                     f"{row['served_pop_after']:,.0f}", f"{100 * row['load_after']:.0f} %"])
    story.append(_table(S, ["centre", "seat", "beds", "capacity", "served before", "served after", "load"], rows,
                        [width * 0.24, width * 0.18, width * 0.08, width * 0.12, width * 0.13, width * 0.13, width * 0.12],
                        right={2, 3, 4, 5, 6}))

    # --- solver quality
    story.append(CondPageBreak(160))
    story.append(P("Solver quality", "h1"))
    if not r.plan.solver:
        story.append(P("No optimisation model was solved: every decision follows the baseline rules (title page)."))
    else:
        rows = []
        for rec in r.plan.solver:
            gap = "–" if rec.get("relative_gap") is None else f"{100 * rec['relative_gap']:.4f} %"
            status = _esc(rec["status"]) + (" <b>(time limit reached: best plan found, not proven optimal)</b>" if rec.get("time_limit_reached") else "")
            rows.append([_esc(rec["model"]), _esc(rec.get("solver", "")), status, REP._fmt(rec.get("objective")), REP._fmt(rec.get("best_bound")), gap,
                         f"{rec['seconds']:.2f}", REP._fmt(rec.get("baseline_objective"))])
        story.append(_table(S, ["model", "solver", "status", "objective", "best bound", "gap", "seconds", "baseline objective"], rows,
                            [width * 0.17, width * 0.08, width * 0.15, width * 0.13, width * 0.13, width * 0.1, width * 0.09, width * 0.15],
                            right={3, 4, 5, 6, 7}))
        story.append(P("The baseline objective is the same objective evaluated on the baseline rules' decisions.", "small"))
    for d in r.plan.diagnoses:
        communes = d.get("communes", [])
        story.append(P(f"Rule cannot be met: {_esc(d['rule'])}. {_esc(d['message'])}", "notice"))
        if communes:
            story.append(P(f"Communes concerned ({len(communes)}): " + ", ".join(
                f"{_esc(r.reformed.new['commune_name'].get(cc, cc))} ({_esc(cc)})" for cc in communes[:60]) + (" …" if len(communes) > 60 else ""), "small"))

    # --- assumptions
    story.append(PageBreak())
    story.append(P("Assumptions", "h1"))
    story.append(P("Every parameter of the model, its value in this run and its source (DOMAIN.md). Confidence: H high, "
                   "M medium, L an assumption.", "small"))
    rows = []
    for _, p in REP.parameter_table(r).iterrows():
        v = p["value"]
        vs = f"{v:g}" if isinstance(v, float) else _esc(v)
        if p["value"] != p["default"]:
            vs = f"<b>{vs}</b> (default {_esc(p['default'])})"
        rows.append([f"<b>{_esc(p['name'])}</b><br/>{_esc(p['description'])}", vs, _esc(p["unit"]), _esc(p["source"]), _esc(p["confidence"])])
    story.append(_table(S, ["parameter", "value", "unit", "source", "conf."], rows,
                        [width * 0.43, width * 0.11, width * 0.17, width * 0.22, width * 0.07], right={1}))
    story.append(KeepTogether([Spacer(1, 8), P(
        "Staffing regions I/II/III and terrain are not in the geodata pack: a commune is urban (phường, thị trấn → region I), "
        "mountain (density below 150 /km² → region III) or lowland (region II). The norm of a site after the reform is computed on "
        "the residents for whom it is the nearest open site of their new commune.", "small")]))
    return story


def write_pdf(result, summary: dict, path: Path) -> Path:
    """Write the printable report of a run to `path` (A4, deterministic bytes); returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    _register_fonts()
    S = _styles()
    path = Path(path)
    title = f"{result.scenario.title or result.scenario.name} · {result.pack.province_name}"
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=17 * mm, title=title, author="reorg", creator=f"reorg {result.version}",
                            subject="Grassroots health network before and after the 2025 reform", invariant=1)
    footer = f"reorg {result.version} · scenario {result.scenario.name} · province {result.pack.province_code} {result.pack.province_name}"
    if result.synthetic_roster or getattr(result.pack, "synthetic", False):
        footer += " · synthetic data (see page 1)"
    decor = _page_decor(title, footer)
    with plt.rc_context({"font.family": "DejaVu Sans", "path.simplify": True}):
        story = build_story(result, summary, S, doc.width)
    from reportlab import rl_config

    a85 = rl_config.useA85
    rl_config.useA85 = 0  # binary streams: smaller, and no pure-Python ASCII85 encoding of the charts
    try:
        doc.build(story, onFirstPage=decor, onLaterPages=decor, canvasmaker=_numbered_canvas())
    finally:
        rl_config.useA85 = a85
    return path
