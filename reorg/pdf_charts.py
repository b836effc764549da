"""The charts of report.pdf, drawn as reportlab vector graphics (no matplotlib, no raster image;
their text is text, so it prints sharp and can be searched): residents by travel minutes to their
(main) station before/after, station staff by cadre before/after, regional centre loads after
(more than 40 centres continue in further charts on the same scale, each fitting on a page).

Also the PDF's font: DejaVu Sans, the TTF that matplotlib ships (so no system font is needed),
located from matplotlib's package data without importing matplotlib (else the system's DejaVu
fonts; else a RuntimeError saying where it looked). Words come from the message files ([pdf]),
numbers from `reorg.fmt`.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np

from . import fmt, i18n, tables

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"


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
    raise RuntimeError(
        "report.pdf needs the DejaVu Sans fonts (" + ", ".join(names) + "), which matplotlib ships in "
        "mpl-data/fonts/ttf; none found in "
        + ", ".join(str(c) for c in candidates)
        + " (is matplotlib installed? pip install matplotlib)"
    )


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with reportlab, once."""
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


_BLUE = "#3182bd"
_RED = "#de2d26"
_LIGHT = "#9ecae1"


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


def _text(
    d,
    x: float,
    y: float,
    text: str,
    size: float = _TICK_SIZE,
    anchor: str = "start",
    bold: bool = False,
    color: str = _INK,
    angle: int = 0,
) -> None:
    from reportlab.graphics.shapes import Group, String

    s = String(
        0 if angle else x,
        0 if angle else y,
        text,
        fontName=FONT_BOLD if bold else FONT,
        fontSize=size,
        fillColor=_col(color),
        textAnchor=anchor,
    )
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


def _tick_label(v: float, step: float, lang: str = i18n.DEFAULT_LANG) -> str:
    """A tick value with as many decimals as its step needs (2.5 → one), thousands separated."""
    decimals = 0
    while decimals < 4 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1
    return fmt.number(v, decimals, lang)


def _legend(d, items: list[tuple[str, str, str]], cx: float, y: float, room: float, size: float = _LABEL_SIZE) -> float:
    """A legend row (wrapped into more rows if needed) centred on `cx`, its first baseline at `y`.
    items: (kind "box" or "dash", colour, label). Returns the height used."""
    from reportlab.graphics.shapes import Line, Rect

    key, gap, pad = 11.0, 4.0, 14.0
    widths = [key + gap + _width(label, size) for _, _, label in items]
    rows: list[tuple[list[tuple[tuple[str, str, str], float]], float]] = []
    row: list[tuple[tuple[str, str, str], float]] = []
    used = 0.0
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
                d.add(
                    Line(
                        x,
                        yy + size * 0.35,
                        x + key,
                        yy + size * 0.35,
                        strokeColor=_col(colour),
                        strokeWidth=1,
                        strokeDashArray=[3, 2],
                    )
                )
            else:
                d.add(Rect(x, yy - 0.5, key, size * 0.85, fillColor=_col(colour), strokeColor=None))
            _text(d, x + key + gap, yy, label, size)
            x += w + pad
    return len(rows) * line


def _value_axis(d, x0: float, y0: float, w: float, h: float, ticks: list[float], label: str, lang: str) -> None:
    """Vertical value axis at `x0`: horizontal grid lines, tick labels and the axis label (turned)."""
    from reportlab.graphics.shapes import Line

    top, step = ticks[-1], ticks[1] - ticks[0]
    widest = 0.0
    for t in ticks:
        y = y0 + h * t / top
        if t > 0:
            d.add(Line(x0, y, x0 + w, y, strokeColor=_col(_GRID), strokeWidth=0.5))
        d.add(Line(x0 - 3, y, x0, y, strokeColor=_col(_INK), strokeWidth=0.6))
        s = _tick_label(t, step, lang)
        widest = max(widest, _width(s, _TICK_SIZE))
        _text(d, x0 - 5, y - _TICK_SIZE * 0.35, s, anchor="end")
    _text(d, x0 - 9 - widest - _LABEL_SIZE * 0.3, y0 + h / 2, label, _LABEL_SIZE, anchor="middle", angle=90)


def _axis_lines(d, x0: float, y0: float, w: float, h: float) -> None:
    """The left and bottom spines (drawn last, over the bars' edges)."""
    from reportlab.graphics.shapes import Line

    d.add(Line(x0, y0, x0, y0 + h, strokeColor=_col(_INK), strokeWidth=0.7))
    d.add(Line(x0, y0, x0 + w, y0, strokeColor=_col(_INK), strokeWidth=0.7))


def _left_room(ticks: list[float], lang: str) -> float:
    """Room left of the plot for the value axis: its tick labels and its turned label."""
    step = ticks[1] - ticks[0]
    return 14 + _LABEL_SIZE + max(_width(_tick_label(t, step, lang), _TICK_SIZE) for t in ticks)


def chart_minutes(result: Any, width: float, lang: str = i18n.DEFAULT_LANG) -> Any:
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
    t = i18n.translator(lang)
    _text(dr, width / 2, H - 12, t("pdf.chart_minutes"), _TITLE_SIZE, anchor="middle", bold=True)
    legend_h = _legend(
        dr,
        [("box", _LIGHT, t("pdf.chart_minutes_before")), ("box", _RED, t("pdf.chart_minutes_after"))],
        width / 2,
        H - 29,
        width,
    )
    yticks = _nice_ticks(max(float(hb.max()), float(ha.max()), 0.0) * 1.04)
    x0, y0 = _left_room(yticks, lang), 36.0
    pw, ph = width - x0 - 8, H - 29 - legend_h - y0 + 2
    _value_axis(dr, x0, y0, pw, ph, yticks, t("pdf.chart_residents_thousands"), lang)
    sx, sy = pw / hi, ph / yticks[-1]
    bw = (edges[1] - edges[0]) * 0.42
    for k in range(len(hb)):
        mid = (edges[k] + edges[k + 1]) / 2
        for v, left, colour in ((hb[k], mid - bw, _LIGHT), (ha[k], mid, _RED)):
            if v > 0:
                dr.add(Rect(x0 + left * sx, y0, bw * sx, v * sy, fillColor=_col(colour), strokeColor=None))
    xticks = [t for t in _nice_ticks(hi, 9) if t <= hi + 1e-9]
    for tick in xticks:
        x = x0 + tick * sx
        dr.add(Line(x, y0, x, y0 - 3, strokeColor=_col(_INK), strokeWidth=0.6))
        _text(dr, x, y0 - 4 - _TICK_SIZE, _tick_label(tick, xticks[1] - xticks[0], lang), anchor="middle")
    _text(dr, x0 + pw / 2, y0 - 27, t("pdf.chart_minutes_x"), _LABEL_SIZE, anchor="middle")
    _axis_lines(dr, x0, y0, pw, ph)
    return dr


def chart_staff(result: Any, width: float, lang: str = i18n.DEFAULT_LANG) -> Any:
    """Station staff by cadre before and after: grouped bars with their values."""
    from reportlab.graphics.shapes import Drawing, Line, Rect

    t = i18n.translator(lang)
    s = tables.staff_frame(result)
    before = [int(v) for v in s["before"]]
    after = [int(v) for v in s["after"]]
    H = 205.0
    dr = Drawing(width, H)
    _text(dr, width / 2, H - 12, t("pdf.chart_staff"), _TITLE_SIZE, anchor="middle", bold=True)
    legend_h = _legend(
        dr, [("box", _LIGHT, t("pdf.chart_before")), ("box", _BLUE, t("pdf.chart_after"))], width / 2, H - 29, width
    )
    yticks = _nice_ticks(1.12 * max(1, *before, *after))
    x0, y0 = _left_room(yticks, lang), 30.0
    pw, ph = width - x0 - 8, H - 29 - legend_h - y0 + 2
    _value_axis(dr, x0, y0, pw, ph, yticks, t("pdf.chart_persons"), lang)
    n = max(1, len(s))
    gw = pw / n
    bw = gw * 0.38
    sy = ph / yticks[-1]
    labels = [fmt.count(v, lang) for v in before + after]
    vsize = 7.0
    while vsize > 5 and max((_width(t, vsize) for t in labels), default=0) > bw + gw * 0.08:
        vsize -= 0.5
    names = [t(f"cadre.{c}") for c in s.index]
    for k, (cadre, b, a) in enumerate(zip(names, before, after)):
        cx = x0 + gw * (k + 0.5)
        for v, left, colour in ((b, cx - bw, _LIGHT), (a, cx, _BLUE)):
            if v > 0:
                dr.add(Rect(left, y0, bw, v * sy, fillColor=_col(colour), strokeColor=None))
            _text(dr, left + bw / 2, y0 + v * sy + 2, fmt.count(v, lang), vsize, anchor="middle")
        dr.add(Line(cx, y0, cx, y0 - 3, strokeColor=_col(_INK), strokeWidth=0.6))
        first, _, rest = cadre.partition(" (")
        lines = [first] + ([f"({rest}"] if rest else [])
        size = 7.5
        while size > 5.5 and max(_width(line, size) for line in lines) > gw - 4:
            size -= 0.5
        for j, line in enumerate(lines):
            _text(dr, cx, y0 - 4 - size - j * (size + 1.5), _fit(line, size, gw - 2), size, anchor="middle")
    _axis_lines(dr, x0, y0, pw, ph)
    return dr


def chart_centres(result: Any, width: float, lang: str = i18n.DEFAULT_LANG) -> list:
    """Regional centre loads after the reform (population served / capacity), one horizontal bar per
    centre, highest load on top; red above full capacity. More than `_CENTRES_PER_CHART` centres
    continue in further drawings on the same scale, so that each drawing fits on a page."""
    from reportlab.graphics.shapes import Drawing, Line, Rect

    t = i18n.translator(lang)
    cen = result.measures.centres.sort_values(["load_after", "name"], ascending=[False, True])
    names = [str(n) for n in cen["name"]]
    fractions = cen["load_after"].astype(float).to_numpy()
    loads = fractions * 100
    if not names:
        return []
    finite = loads[np.isfinite(loads)]
    top = max(100.0, float(finite.max()) if len(finite) else 0.0)
    name_size, value_size, row = 7.5, 7.0, 12.5
    room_names = min(width * 0.42, max(_width(n, name_size) for n in names) + 2)
    x0 = room_names + 8
    pw = width - x0 - 8
    # leave room right of the longest bar for its value label
    xticks = _nice_ticks(top * (1 + (_width(fmt.share(1, 0, lang), value_size) + 8) / pw), 6)
    sx = pw / xticks[-1]
    step = xticks[1] - xticks[0]
    drawings = []
    per = math.ceil(len(names) / math.ceil(len(names) / _CENTRES_PER_CHART))  # balanced: 70 centres → 35 + 35
    chunks = [range(i, min(i + per, len(names))) for i in range(0, len(names), per)]
    for part, chunk in enumerate(chunks):
        title = t("pdf.chart_centres") + (" " + t("pdf.chart_continued", part=part + 1, parts=len(chunks)) if part else "")
        y0 = 38.0
        ph = row * len(chunk) + 4
        legend_items = [
            ("box", _BLUE, t("pdf.chart_within_capacity")),
            ("box", _RED, t("pdf.chart_over_capacity")),
            ("dash", _INK, t("pdf.chart_full_capacity", full=fmt.share(1, 0, lang))),
        ]
        legend_rows = 1 if sum(11 + 4 + 14 + _width(t, _LABEL_SIZE) for _, _, t in legend_items) <= width else 2
        H = y0 + ph + 18 + legend_rows * _LABEL_SIZE * 1.45 + 6
        dr = Drawing(width, H)
        _text(dr, width / 2, H - 12, title, _TITLE_SIZE, anchor="middle", bold=True)
        _legend(dr, legend_items, width / 2, H - 29, width)
        for tick in xticks:
            x = x0 + tick * sx
            if tick > 0:
                dr.add(Line(x, y0, x, y0 + ph, strokeColor=_col(_GRID), strokeWidth=0.5))
            dr.add(Line(x, y0, x, y0 - 3, strokeColor=_col(_INK), strokeWidth=0.6))
            _text(dr, x, y0 - 4 - _TICK_SIZE, _tick_label(tick, step, lang), anchor="middle")
        labels = []
        for j, i in enumerate(chunk):
            yc = y0 + ph - 2 - row * (j + 0.5)
            v = loads[i]
            _text(dr, x0 - 4, yc - name_size * 0.35, _fit(names[i], name_size, room_names), name_size, anchor="end")
            if math.isfinite(v) and v > 0:
                dr.add(Rect(x0, yc - row * 0.35, v * sx, row * 0.7, fillColor=_col(_RED if v > 100 else _BLUE), strokeColor=None))
            labels.append((x0 + (v * sx if math.isfinite(v) and v > 0 else 0) + 3, yc, fmt.share(fractions[i], 0, lang)))
        x100 = x0 + 100 * sx
        dr.add(Line(x100, y0, x100, y0 + ph, strokeColor=_col(_INK), strokeWidth=1, strokeDashArray=[3, 2]))
        for x, yc, label in labels:  # over the dashed line, on a white ground so that both stay legible
            dr.add(
                Rect(
                    x - 1, yc - row * 0.35, _width(label, value_size) + 2, row * 0.7, fillColor=_col("#ffffff"), strokeColor=None
                )
            )
            _text(dr, x, yc - value_size * 0.35, label, value_size)
        _text(dr, x0 + pw / 2, y0 - 27, t("pdf.chart_centres_x"), _LABEL_SIZE, anchor="middle")
        _axis_lines(dr, x0, y0, pw, ph)
        drawings.append(dr)
    return drawings
