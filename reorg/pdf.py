"""The printable report (`report.pdf`) for officials: A4, Unicode text (Vietnamese names keep their
diacritics), page numbers, table headers repeated on every page, deterministic bytes.

`write_pdf(result, summary, path)` lays out, with reportlab's platypus:

1. a title page: title, province, scenario, the synthetic-data notices, the merger in figures and
   the rule behind each kind of decision;
2. the indicators before and after the reform;
3. charts, drawn as reportlab vector graphics (no matplotlib, no raster image; their text is
   text, so it prints sharp and can be searched): residents by travel minutes to their (main)
   station before/after, station staff by cadre before/after, regional centre loads after (more
   than 40 centres continue in further charts on the same scale, each fitting on a page);
4. the ten old communes that lose most;
5. decisions: main station of every new commune, points closed and kept (optimised runs), staff
   by cadre and the staff moves;
6. regional centres; solver quality (one row per optimisation solve) and any rule that could not
   be met;
7. the assumptions: every parameter with its value, unit, source and confidence.

Text, the charts' included, is set in DejaVu Sans, the TTF that matplotlib ships (so no system
font is needed), embedded as a subset; the font file is located from matplotlib's package data
without importing matplotlib (else the system's DejaVu fonts; else a RuntimeError saying where
it looked). The document is built with reportlab's `invariant=1` (fixed creation
date and document id) and the charts are plain drawing operations, so the same result gives the
same bytes.
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

from . import report as REP
from .schema import CADRES

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"

_BLUE = "#3182bd"
_RED = "#de2d26"
_LIGHT = "#9ecae1"
CADRE_NAMES = {"doctor": "Doctor (bác sĩ)", "assistant_doctor": "Assistant doctor (y sĩ)", "nurse": "Nurse (điều dưỡng)",
               "midwife": "Midwife (hộ sinh)", "pharmacist": "Pharmacist (dược sĩ)", "other": "Other", "total": "Total"}


def _font_folder() -> Path:
    """The folder of DejaVuSans.ttf and DejaVuSans-Bold.ttf: matplotlib's package data, found without
    importing matplotlib (about 0.15 s, half the time of writing the whole report); else the system's
    DejaVu fonts. Raises a RuntimeError naming the places searched if neither is there."""
    names = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
    candidates = []
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None:
        candidates += [Path(loc) / "mpl-data" / "fonts" / "ttf" for loc in (spec.submodule_search_locations or [])]
    candidates.append(Path("/usr/share/fonts/truetype/dejavu"))  # Debian/Ubuntu fonts-dejavu-core
    for folder in candidates:
        if all((folder / n).is_file() for n in names):
            return folder
    raise RuntimeError("report.pdf needs the DejaVu Sans fonts (" + ", ".join(names) + "), which matplotlib ships in "
                       "mpl-data/fonts/ttf; none found in " + ", ".join(str(c) for c in candidates)
                       + " (is matplotlib installed? pip install matplotlib)")


def _register_fonts() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = _font_folder()
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
# Native reportlab vector drawings (no matplotlib, no raster): the text stays text (selectable,
# searchable, sharp in print) and the file is smaller and faster to write than with embedded PNGs.

_INK = "#333333"
_GRID = "#e5e5e5"
_TITLE_SIZE = 11
_LABEL_SIZE = 8.5  # axis labels, legend
_TICK_SIZE = 8
_CENTRES_PER_CHART = 40  # one drawing must fit on a page; more centres continue in a second drawing


def _col(c):
    from reportlab.lib import colors

    return colors.HexColor(c)


def _width(text: str, size: float, bold: bool = False) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, FONT_BOLD if bold else FONT, size)


def _text(d, x: float, y: float, text: str, size: float = _TICK_SIZE, anchor: str = "start", bold: bool = False,
          color: str = _INK, angle: int = 0) -> None:
    from reportlab.graphics.shapes import Group, String

    s = String(0 if angle else x, 0 if angle else y, text, fontName=FONT_BOLD if bold else FONT, fontSize=size,
               fillColor=_col(color), textAnchor=anchor)
    d.add(Group(s, transform=(0, 1, -1, 0, x, y)) if angle == 90 else s)


def _fit(text: str, size: float, room: float) -> str:
    """`text`, cut with an ellipsis if it is wider than `room` points."""
    if _width(text, size) <= room:
        return text
    while text and _width(text + "…", size) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _nice_ticks(hi: float, intervals: int = 5) -> list[float]:
    """Ticks 0, step, 2·step … up to the first tick ≥ `hi`; step 1, 2, 2.5 or 5 × 10ᵏ, about `intervals` of them."""
    hi = hi if math.isfinite(hi) and hi > 0 else 1.0
    raw = hi / intervals
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    n = math.ceil(hi / step - 1e-9)
    return [k * step for k in range(n + 1)]


def _tick_label(v: float, step: float) -> str:
    """A tick value with as many decimals as its step needs (2.5 → one), thousands separated."""
    decimals = 0
    while decimals < 4 and abs(step * 10 ** decimals - round(step * 10 ** decimals)) > 1e-9:
        decimals += 1
    return f"{v:,.{decimals}f}"


def _legend(d, items: list[tuple[str, str, str]], cx: float, y: float, room: float, size: float = _LABEL_SIZE) -> float:
    """A legend row (wrapped into more rows if needed) centred on `cx`, its first baseline at `y`.
    items: (kind "box" or "dash", colour, label). Returns the height used."""
    from reportlab.graphics.shapes import Line, Rect

    key, gap, pad = 11.0, 4.0, 14.0
    widths = [key + gap + _width(label, size) for _, _, label in items]
    rows, row, used = [], [], 0.0
    for item, w in zip(items, widths):
        if row and used + pad + w > room:
            rows.append((row, used))
            row, used = [], 0.0
        used += (pad if row else 0) + w
        row.append((item, w))
    rows.append((row, used))
    line = size * 1.45
    for k, (row, used) in enumerate(rows):
        x, yy = cx - used / 2, y - k * line
        for (kind, colour, label), w in row:
            if kind == "dash":
                d.add(Line(x, yy + size * 0.35, x + key, yy + size * 0.35, strokeColor=_col(colour), strokeWidth=1,
                           strokeDashArray=[3, 2]))
            else:
                d.add(Rect(x, yy - 0.5, key, size * 0.85, fillColor=_col(colour), strokeColor=None))
            _text(d, x + key + gap, yy, label, size)
            x += w + pad
    return len(rows) * line


def _value_axis(d, x0: float, y0: float, w: float, h: float, ticks: list[float], label: str) -> None:
    """Vertical value axis at `x0`: horizontal grid lines, tick labels and the axis label (turned)."""
    from reportlab.graphics.shapes import Line

    top, step = ticks[-1], ticks[1] - ticks[0]
    widest = 0.0
    for t in ticks:
        y = y0 + h * t / top
        if t > 0:
            d.add(Line(x0, y, x0 + w, y, strokeColor=_col(_GRID), strokeWidth=0.5))
        d.add(Line(x0 - 3, y, x0, y, strokeColor=_col(_INK), strokeWidth=0.6))
        s = _tick_label(t, step)
        widest = max(widest, _width(s, _TICK_SIZE))
        _text(d, x0 - 5, y - _TICK_SIZE * 0.35, s, anchor="end")
    _text(d, x0 - 9 - widest - _LABEL_SIZE * 0.3, y0 + h / 2, label, _LABEL_SIZE, anchor="middle", angle=90)


def _axis_lines(d, x0: float, y0: float, w: float, h: float) -> None:
    """The left and bottom spines (drawn last, over the bars' edges)."""
    from reportlab.graphics.shapes import Line

    d.add(Line(x0, y0, x0, y0 + h, strokeColor=_col(_INK), strokeWidth=0.7))
    d.add(Line(x0, y0, x0 + w, y0, strokeColor=_col(_INK), strokeWidth=0.7))


def _left_room(ticks: list[float]) -> float:
    """Room left of the plot for the value axis: its tick labels and its turned label."""
    step = ticks[1] - ticks[0]
    return 14 + _LABEL_SIZE + max(_width(_tick_label(t, step), _TICK_SIZE) for t in ticks)


def _chart_minutes(result, width: float):
    """Residents (thousands) by travel minutes to their station, before and after: grouped bars."""
    from reportlab.graphics.shapes import Drawing, Line, Rect

    d = result.measures.demand
    before = d["minutes_main_before"].to_numpy(float)
    after = d["minutes_main_after"].to_numpy(float)
    w = d["population"].to_numpy(float)
    allv = np.concatenate([before, after])
    allv = allv[np.isfinite(allv)]
    hi = max(10.0, float(np.ceil(np.percentile(allv, 99) / 10) * 10)) if len(allv) else 10.0
    edges = np.linspace(0, hi, 21)
    hb = np.histogram(np.clip(before, 0, hi), bins=edges, weights=w)[0] / 1000
    ha = np.histogram(np.clip(after, 0, hi), bins=edges, weights=w)[0] / 1000

    H = 218.0
    dr = Drawing(width, H)
    _text(dr, width / 2, H - 12, "Travel minutes to one's (main) station", _TITLE_SIZE, anchor="middle", bold=True)
    legend_h = _legend(dr, [("box", _LIGHT, "before: own commune's station"),
                            ("box", _RED, "after: main station of the new commune")], width / 2, H - 29, width)
    yticks = _nice_ticks(max(float(hb.max()), float(ha.max()), 0.0) * 1.04)
    x0, y0 = _left_room(yticks), 36.0
    pw, ph = width - x0 - 8, H - 29 - legend_h - y0 + 2
    _value_axis(dr, x0, y0, pw, ph, yticks, "residents (thousands)")
    sx, sy = pw / hi, ph / yticks[-1]
    bw = (edges[1] - edges[0]) * 0.42
    for k in range(len(hb)):
        mid = (edges[k] + edges[k + 1]) / 2
        for v, left, colour in ((hb[k], mid - bw, _LIGHT), (ha[k], mid, _RED)):
            if v > 0:
                dr.add(Rect(x0 + left * sx, y0, bw * sx, v * sy, fillColor=_col(colour), strokeColor=None))
    xticks = [t for t in _nice_ticks(hi, 9) if t <= hi + 1e-9]
    for t in xticks:
        x = x0 + t * sx
        dr.add(Line(x, y0, x, y0 - 3, strokeColor=_col(_INK), strokeWidth=0.6))
        _text(dr, x, y0 - 4 - _TICK_SIZE, _tick_label(t, xticks[1] - xticks[0]), anchor="middle")
    _text(dr, x0 + pw / 2, y0 - 27, "minutes (the last bar holds everything beyond)", _LABEL_SIZE, anchor="middle")
    _axis_lines(dr, x0, y0, pw, ph)
    return dr


def _chart_staff(result, width: float):
    """Station staff by cadre before and after: grouped bars with their values."""
    from reportlab.graphics.shapes import Drawing, Line, Rect

    s = REP.build_staff_frame(result)
    before = [int(v) for v in s["before"]]
    after = [int(v) for v in s["after"]]
    H = 205.0
    dr = Drawing(width, H)
    _text(dr, width / 2, H - 12, "Station staff by cadre", _TITLE_SIZE, anchor="middle", bold=True)
    legend_h = _legend(dr, [("box", _LIGHT, "before"), ("box", _BLUE, "after")], width / 2, H - 29, width)
    yticks = _nice_ticks(1.12 * max(1, *before, *after))
    x0, y0 = _left_room(yticks), 30.0
    pw, ph = width - x0 - 8, H - 29 - legend_h - y0 + 2
    _value_axis(dr, x0, y0, pw, ph, yticks, "persons")
    n = max(1, len(s))
    gw = pw / n
    bw = gw * 0.38
    sy = ph / yticks[-1]
    labels = [f"{v:,}" for v in before + after]
    vsize = 7.0
    while vsize > 5 and max((_width(t, vsize) for t in labels), default=0) > bw + gw * 0.08:
        vsize -= 0.5
    names = [CADRE_NAMES.get(c, c) for c in s.index]
    for k, (cadre, b, a) in enumerate(zip(names, before, after)):
        cx = x0 + gw * (k + 0.5)
        for v, left, colour in ((b, cx - bw, _LIGHT), (a, cx, _BLUE)):
            if v > 0:
                dr.add(Rect(left, y0, bw, v * sy, fillColor=_col(colour), strokeColor=None))
            _text(dr, left + bw / 2, y0 + v * sy + 2, f"{v:,}", vsize, anchor="middle")
        dr.add(Line(cx, y0, cx, y0 - 3, strokeColor=_col(_INK), strokeWidth=0.6))
        first, _, rest = cadre.partition(" (")
        lines = [first] + ([f"({rest}"] if rest else [])
        size = 7.5
        while size > 5.5 and max(_width(t, size) for t in lines) > gw - 4:
            size -= 0.5
        for j, t in enumerate(lines):
            _text(dr, cx, y0 - 4 - size - j * (size + 1.5), _fit(t, size, gw - 2), size, anchor="middle")
    _axis_lines(dr, x0, y0, pw, ph)
    return dr


def _chart_centres(result, width: float) -> list:
    """Regional centre loads after the reform (population served / capacity), one horizontal bar per
    centre, highest load on top; red above full capacity. More than `_CENTRES_PER_CHART` centres
    continue in further drawings on the same scale, so that each drawing fits on a page."""
    from reportlab.graphics.shapes import Drawing, Line, Rect

    cen = result.measures.centres.sort_values(["load_after", "name"], ascending=[False, True])
    names = [str(n) for n in cen["name"]]
    loads = (cen["load_after"].astype(float) * 100).to_numpy()
    if not names:
        return []
    finite = loads[np.isfinite(loads)]
    top = max(100.0, float(finite.max()) if len(finite) else 0.0)
    name_size, value_size, row = 7.5, 7.0, 12.5
    room_names = min(width * 0.42, max(_width(n, name_size) for n in names) + 2)
    x0 = room_names + 8
    pw = width - x0 - 8
    # leave room right of the longest bar for its value label
    xticks = _nice_ticks(top * (1 + (_width("100 %", value_size) + 8) / pw), 6)
    sx = pw / xticks[-1]
    step = xticks[1] - xticks[0]
    drawings = []
    per = math.ceil(len(names) / math.ceil(len(names) / _CENTRES_PER_CHART))  # balanced: 70 centres → 35 + 35
    chunks = [range(i, min(i + per, len(names))) for i in range(0, len(names), per)]
    for part, chunk in enumerate(chunks):
        title = "Regional centre loads after the reform" + (f" (continued, {part + 1}/{len(chunks)})" if part else "")
        y0 = 38.0
        ph = row * len(chunk) + 4
        legend_items = [("box", _BLUE, "within capacity"), ("box", _RED, "over capacity"), ("dash", _INK, "full capacity (100 %)")]
        legend_rows = 1 if sum(11 + 4 + 14 + _width(t, _LABEL_SIZE) for _, _, t in legend_items) <= width else 2
        H = y0 + ph + 18 + legend_rows * _LABEL_SIZE * 1.45 + 6
        dr = Drawing(width, H)
        _text(dr, width / 2, H - 12, title, _TITLE_SIZE, anchor="middle", bold=True)
        _legend(dr, legend_items, width / 2, H - 29, width)
        for t in xticks:
            x = x0 + t * sx
            if t > 0:
                dr.add(Line(x, y0, x, y0 + ph, strokeColor=_col(_GRID), strokeWidth=0.5))
            dr.add(Line(x, y0, x, y0 - 3, strokeColor=_col(_INK), strokeWidth=0.6))
            _text(dr, x, y0 - 4 - _TICK_SIZE, _tick_label(t, step), anchor="middle")
        labels = []
        for j, i in enumerate(chunk):
            yc = y0 + ph - 2 - row * (j + 0.5)
            v = loads[i]
            _text(dr, x0 - 4, yc - name_size * 0.35, _fit(names[i], name_size, room_names), name_size, anchor="end")
            if math.isfinite(v) and v > 0:
                dr.add(Rect(x0, yc - row * 0.35, v * sx, row * 0.7, fillColor=_col(_RED if v > 100 else _BLUE), strokeColor=None))
            labels.append((x0 + (v * sx if math.isfinite(v) and v > 0 else 0) + 3, yc, f"{v:.0f} %" if math.isfinite(v) else "–"))
        x100 = x0 + 100 * sx
        dr.add(Line(x100, y0, x100, y0 + ph, strokeColor=_col(_INK), strokeWidth=1, strokeDashArray=[3, 2]))
        for x, yc, label in labels:  # over the dashed line, on a white ground so that both stay legible
            dr.add(Rect(x - 1, yc - row * 0.35, _width(label, value_size) + 2, row * 0.7, fillColor=_col("#ffffff"), strokeColor=None))
            _text(dr, x, yc - value_size * 0.35, label, value_size)
        _text(dr, x0 + pw / 2, y0 - 27, "population served / capacity (%)", _LABEL_SIZE, anchor="middle")
        _axis_lines(dr, x0, y0, pw, ph)
        drawings.append(dr)
    return drawings


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
    story.append(_chart_minutes(r, width))
    story.append(P("Residents by travel minutes to their station: before the reform each old commune's own station, "
                   "after it the main station of the new commune.", "caption"))
    story.append(Spacer(1, 6))
    story.append(_chart_staff(r, width))
    for chart in _chart_centres(r, width):
        story.append(CondPageBreak(120))
        story.append(chart)

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
    story = build_story(result, summary, S, doc.width)
    from reportlab import rl_config

    a85 = rl_config.useA85
    rl_config.useA85 = 0  # binary streams: smaller, and no pure-Python ASCII85 encoding of the fonts and pages
    try:
        doc.build(story, onFirstPage=decor, onLaterPages=decor, canvasmaker=_numbered_canvas())
    finally:
        rl_config.useA85 = a85
    return path
