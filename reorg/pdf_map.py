"""The map on paper: a static, vector map of the province after the reform for report.pdf and
comparison.pdf (`StaticMap`, `from_result`, `from_map_html`, `drawing`, `map_page`).

The map is a reportlab Drawing (paths and circles, its words as text: it prints sharp, stays
small and can be searched): the new communes filled by the map's indicator (the scenario's
``[map] indicator``; classes, colours and class labels from the indicator table), the regional
centres' catchment outlines, the main stations, the station points, the closed stations and the
regional centres, a legend, a scale bar (km) and a north arrow. Longitude and latitude are drawn
as x = lon * cos(mid latitude), y = lat (an equirectangular projection, close enough at a
province's size); polygons are simplified as a coverage (neighbours keep their shared edges) to a
tolerance of about half a point on the page, so the file stays small. The symbols' colours are
the HTML map's (`render.COLOURS`), its words those of the ``[pdf_map]`` message section.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from . import fmt, i18n, indicators, leaflet, tables
from .map_geometry import display_polygons, drop_small_holes
from .pdf_charts import FONT, FONT_BOLD
from .render import COLOURS, DEFAULT_INDICATOR

#: the largest gap a simplification may leave on paper, points
TOLERANCE_PT = 0.5
#: km in a degree of latitude
KM_PER_DEGREE = 111.32
ROLES = ("main", "point", "closed")


@dataclass
class StaticMap:
    """What the paper map draws, in lon/lat: `communes` (geometry, fill colour), `catchments`
    (outlines), station positions by role, `centres`, and the indicator colouring the communes
    (`nodata`: some commune has no value)."""

    indicator: str
    communes: list[tuple[Any, str]] = field(default_factory=list)
    catchments: list[Any] = field(default_factory=list)
    stations: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {r: [] for r in ROLES})
    centres: list[tuple[float, float]] = field(default_factory=list)
    nodata: bool = False
    #: the name of each commune of `communes` (an inset names the far islands it shows)
    names: list[str] = field(default_factory=list)

    def bounds(self) -> tuple[float, float, float, float]:
        geoms = [g for g, _ in self.communes]
        if not geoms:
            return (0.0, 0.0, 1.0, 1.0)
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
        return minx, miny, maxx, maxy


def _tolerance(bounds: tuple[float, float, float, float], width_pt: float) -> float:
    """Degrees of latitude that make `TOLERANCE_PT` on a map `width_pt` wide."""
    minx, miny, maxx, maxy = bounds
    k = math.cos(math.radians((miny + maxy) / 2))
    extent = max((maxx - minx) * k, (maxy - miny) * 0.6, 1e-6)
    return TOLERANCE_PT * extent / width_pt


def _simplify(geoms: list[Any], tolerance: float) -> list[Any]:
    """`geoms` simplified as a coverage (each on its own when they are not a clean coverage)."""
    try:
        out = list(display_polygons(geoms, tolerance))
    except shapely.errors.GEOSException:
        out = list(shapely.simplify(np.asarray(geoms, dtype=object), tolerance, preserve_topology=True))
    return out


def _catchments(geoms: list[Any], groups: list[Any]) -> list[Any]:
    """The outline of each group's polygons (simplified polygons are no clean coverage: overlay)."""
    by: dict[str, list[Any]] = {}
    for g, key in zip(geoms, groups):
        if isinstance(key, str) and g is not None and not g.is_empty:
            by.setdefault(key, []).append(g)
    return [drop_small_holes(shapely.union_all(by[k])) for k in sorted(by)]


def from_result(result: Any, width_pt: float = 480.0) -> StaticMap:
    """The paper map of a run (a `pipeline.RunResult`), simplified for a map `width_pt` wide."""
    ind = indicators.get((result.scenario.map or {}).get("indicator", DEFAULT_INDICATOR))
    new = result.reformed.new.sort_index()
    geoms = list(new.geometry.to_numpy())
    ok = [g is not None and not g.is_empty for g in geoms]
    tol = _tolerance(tuple(shapely.total_bounds([g for g, k in zip(geoms, ok) if k])), width_pt)
    simple = _simplify(geoms, tol)
    values = result.measures.communes.reindex(new.index)[ind.key].to_numpy() if ind.key in result.measures.communes else []
    m = StaticMap(ind.key)
    colours = ind.colours()
    names = new["commune_name"].astype(str).tolist()
    for g, v, name in zip(simple, values if len(values) else [None] * len(simple), names):
        if g is None or g.is_empty:
            continue
        k = ind.map_class(fmt.finite(v))
        m.nodata |= k is None
        m.communes.append((g, indicators.no_data_colour() if k is None else colours[k]))
        m.names.append(str(name))
    m.catchments = _catchments(simple, list(result.plan.centre_of.reindex(new.index)))
    st = result.measures.stations.sort_index()
    pos = result.stations.reindex(st.index)
    for role, lon, lat in zip(st["role"], pos["lon"], pos["lat"]):
        lon, lat = fmt.finite(lon), fmt.finite(lat)
        if role in ROLES and lon is not None and lat is not None:
            m.stations[role].append((lon, lat))
    centres = result.centres.sort_index()
    for lon, lat in zip(centres["lon"], centres["lat"]):
        lon, lat = fmt.finite(lon), fmt.finite(lat)
        if lon is not None and lat is not None:
            m.centres.append((lon, lat))
    return m


def from_map_html(text: str, indicator: str = DEFAULT_INDICATOR, width_pt: float = 240.0) -> StaticMap:
    """The paper map of a run from its map.html (the data the HTML map draws: the communes' fills
    are the HTML map's), simplified for a map `width_pt` wide."""
    found = re.search(r'<script type="application/json" id="reorg-data">(.*?)</script>', text, re.S)
    if not found:
        raise ValueError("not a reorg map.html (no map data)")
    layers = {layer["key"]: layer["data"]["features"] for layer in json.loads(found.group(1))["map"]["layers"]}
    m = StaticMap(indicator)
    new = [f for f in layers.get("new", []) if f.get("geometry")]
    geoms = list(shapely.from_geojson([json.dumps(f["geometry"]) for f in new])) if new else []
    if geoms:
        tol = _tolerance(tuple(shapely.total_bounds(geoms)), width_pt)
        geoms = list(shapely.simplify(np.asarray(geoms, dtype=object), tol, preserve_topology=True))
    nodata = indicators.no_data_colour()
    for g, f in zip(geoms, new):
        fill = str(f["properties"].get("style", {}).get("fillColor", nodata))
        m.nodata |= fill == nodata
        m.communes.append((g, fill))
        m.names.append(str(f["properties"].get("name", "")))
    catch = [f["geometry"] for f in layers.get("catchments", []) if f.get("geometry")]
    m.catchments = list(shapely.from_geojson([json.dumps(g) for g in catch])) if catch else []
    for role in ROLES:
        m.stations[role] = [tuple(f["geometry"]["coordinates"][:2]) for f in layers.get(role, [])]
    m.centres = [tuple(f["geometry"]["coordinates"][:2]) for f in layers.get("centres", [])]
    return m


# ---------------------------------------------------------------------------------- drawing


def _nice_km(km: float) -> float:
    """The round length (1, 2, 2.5 or 5 times a power of ten) not above `km`."""
    p = 10 ** math.floor(math.log10(km))
    return max(s * p for s in (1, 2, 2.5, 5) if s * p <= km)


def _legend_entries(m: StaticMap, lang: str) -> list[tuple[str, Any]]:
    """(label, swatch) of the legend: the indicator's classes, no data, then the symbols."""
    ind = indicators.get(m.indicator)
    w = i18n.translator(lang)
    out: list[tuple[str, Any]] = list(zip(leaflet.class_labels(ind, lang), (("fill", c) for c in ind.colours())))
    if m.nodata:
        out.append((w("pdf_map.no_data"), ("fill", indicators.no_data_colour())))
    # every symbol, drawn or not: maps side by side then have legends of one height
    return out + [
        (w("pdf_map.main"), ("main",)),
        (w("pdf_map.point"), ("point",)),
        (w("pdf_map.closed"), ("closed",)),
        (w("pdf_map.centre"), ("centre",)),
        (w("pdf_map.catchment"), ("catch",)),
    ]


def _symbol(kind: tuple, x: float, y: float, size: float) -> list:
    """The shapes of a station, centre or legend symbol centred on (x, y)."""
    from reportlab.graphics.shapes import Circle, Line, Polygon, Rect
    from reportlab.lib import colors

    hexc = colors.HexColor
    if kind[0] == "fill":
        return [
            Rect(
                x - size,
                y - size * 0.7,
                2 * size,
                1.4 * size,
                fillColor=hexc(kind[1]),
                strokeColor=hexc("#555555"),
                strokeWidth=0.3,
            )
        ]
    if kind[0] == "main":
        return [Circle(x, y, size * 0.55, fillColor=hexc(COLOURS["main"]), strokeColor=colors.white, strokeWidth=0.4)]
    if kind[0] == "point":
        return [Circle(x, y, size * 0.38, fillColor=colors.white, strokeColor=hexc(COLOURS["point"]), strokeWidth=0.6)]
    if kind[0] == "closed":
        r = size * 0.4
        return [
            Line(x - r, y - r, x + r, y + r, strokeColor=hexc(COLOURS["closed"]), strokeWidth=0.7),
            Line(x - r, y + r, x + r, y - r, strokeColor=hexc(COLOURS["closed"]), strokeWidth=0.7),
        ]
    if kind[0] == "centre":
        r = size * 0.8
        return [
            Polygon(
                [x, y + r, x + r, y, x, y - r, x - r, y],
                fillColor=hexc(COLOURS["centre"]),
                strokeColor=colors.white,
                strokeWidth=0.5,
            )
        ]
    return [Line(x - size, y, x + size, y, strokeColor=hexc(COLOURS["catch"]), strokeWidth=1.2)]


class _RawPath:
    """A path given as PDF operators (``x y m x y l ... h``), for `canvas.drawPath`: written with
    numpy instead of one reportlab call per vertex (ten times faster for a province)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def getCode(self) -> str:  # noqa: N802 (reportlab's name)
        return self.code


@functools.lru_cache(maxsize=4096)
def _ring_format(n: int) -> str:
    """The %-format of a closed ring of `n` points as PDF operators: ``x y m x y l ... x y l h``,
    two decimals (``%.2f`` formats a float exactly as ``f"{x:.2f}"`` does)."""
    return "%.2f %.2f m " + "%.2f %.2f l " * (n - 1) + "h"


def _path_codes(polygons: list[Any], page: Any) -> list[str]:
    """Each polygon (its exterior ring, then its holes) as PDF path operators, its points placed
    on the page by `page` (an array of lon/lat rows -> an array of x/y rows); the coordinates of
    all polygons are fetched and placed at once, each ring formatted by one %-operation."""
    if not polygons:
        return []
    rings, owner = shapely.get_rings(np.asarray(polygons, dtype=object), return_index=True)
    counts = shapely.get_num_coordinates(rings).tolist()
    flat = page(shapely.get_coordinates(rings)).ravel().tolist()
    codes: list[list[str]] = [[] for _ in polygons]
    start = 0
    for i, n in zip(owner.tolist(), counts):
        codes[i].append(_ring_format(n) % tuple(flat[start : start + 2 * n]))
        start += 2 * n
    return [" ".join(c) for c in codes]


_KAPPA = 0.5523  # control points of a quarter circle drawn as a Bézier curve
_CIRCLE = (
    "%.2f %.2f m %.2f %.2f %.2f %.2f %.2f %.2f c %.2f %.2f %.2f %.2f %.2f %.2f c "
    "%.2f %.2f %.2f %.2f %.2f %.2f c %.2f %.2f %.2f %.2f %.2f %.2f c h"
)


def _symbols_code(one: str, columns: list[np.ndarray]) -> str:
    """`one` (a %-format) filled with the i-th value of every column, for each row, joined by spaces."""
    if not len(columns[0]):
        return ""
    return " ".join([one] * len(columns[0])) % tuple(np.column_stack(columns).ravel().tolist())


def _circles_code(xy: np.ndarray, r: float) -> str:
    """Circles of radius `r` centred on the rows of `xy`, as PDF path operators."""
    kr = _KAPPA * r
    xy = np.round(np.asarray(xy, dtype=float).reshape(-1, 2), 2)
    x, y = xy[:, 0], xy[:, 1]
    return _symbols_code(
        _CIRCLE,
        [
            x + r, y, x + r, y + kr, x + kr, y + r, x, y + r,
            x - kr, y + r, x - r, y + kr, x - r, y,
            x - r, y - kr, x - kr, y - r, x, y - r,
            x + kr, y - r, x + r, y - kr, x + r, y,
        ],
    )  # fmt: skip


def _crosses_code(xy: np.ndarray, r: float) -> str:
    x, y = np.asarray(xy, dtype=float).reshape(-1, 2).T
    return _symbols_code(
        "%.2f %.2f m %.2f %.2f l %.2f %.2f m %.2f %.2f l", [x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r]
    )


def _diamonds_code(xy: np.ndarray, r: float) -> str:
    x, y = np.asarray(xy, dtype=float).reshape(-1, 2).T
    return _symbols_code("%.2f %.2f m %.2f %.2f l %.2f %.2f l %.2f %.2f l h", [x, y + r, x + r, y, x, y - r, x - r, y])


#: a part of the province farther than this from its middle goes to an inset (km), and farther
#: than this many times the distance within which nine communes in ten lie
FAR_KM = 100.0
FAR_SPREAD = 3.0


def _far(m: StaticMap) -> Any:
    """A function (lon, lat arrays) -> bool array: True where a point lies so far from the
    province's communes (Trường Sa off Khánh Hòa, Hoàng Sa off Đà Nẵng) that drawing it on the
    main map would shrink the province to a corner; such parts are drawn in an inset."""
    if not m.communes:
        return lambda lon, lat: np.zeros(np.shape(lon), dtype=bool)
    parts, owner = shapely.get_parts(np.asarray([g for g, _ in m.communes], dtype=object), return_index=True)
    # the largest part of each commune (the first of equals): parts by commune, largest first
    order = np.lexsort((np.arange(len(parts)), -shapely.area(parts), owner))
    first = np.flatnonzero(np.r_[True, owner[order][1:] != owner[order][:-1]])
    c = shapely.get_coordinates(shapely.centroid(parts[order[first]]))
    mid = np.median(c, axis=0)
    k = math.cos(math.radians(float(mid[1])))

    def km(lon: Any, lat: Any) -> np.ndarray:
        return np.hypot((np.asarray(lon) - mid[0]) * k, np.asarray(lat) - mid[1]) * KM_PER_DEGREE

    limit = max(FAR_KM, FAR_SPREAD * float(np.percentile(km(c[:, 0], c[:, 1]), 90)))
    return lambda lon, lat: km(lon, lat) > limit


def _parts(geoms: list[Any]) -> tuple[list[Any], np.ndarray]:
    """The polygon parts of `geoms` and the index of the geometry each came from."""
    parts, owner = [], []
    for i, g in enumerate(geoms):
        for p in getattr(g, "geoms", [g]):
            if p.geom_type == "Polygon" and not p.is_empty:
                parts.append(p)
                owner.append(i)
    return parts, np.asarray(owner, dtype=int)


def drawing(m: StaticMap, width: float, height: float, lang: str = i18n.DEFAULT_LANG, font_size: float = 7.5) -> Any:
    """The map `m` as a reportlab flowable `width` x `height` points, all vector: the communes and
    catchment outlines as paths, then a Drawing of the symbols, a scale bar, a north arrow and the
    legend below the map (title, classes and symbols in columns)."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.shapes import Drawing, Polygon, Rect, String
    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import FILL_EVEN_ODD
    from reportlab.platypus import Flowable

    hexc = colors.HexColor
    ind = indicators.get(m.indicator)
    entries = _legend_entries(m, lang)
    cols = 3 if width > 380 else 2
    per_col = math.ceil(len(entries) / cols)
    line = font_size * 1.45
    legend_h = line * (per_col + 1.4)
    map_h = height - legend_h - 4
    d = Drawing(width, height)
    w = i18n.translator(lang)

    far = _far(m)
    parts, owner = _parts([g for g, _ in m.communes])
    centres_xy = shapely.get_coordinates(shapely.centroid(parts)) if parts else np.zeros((0, 2))
    is_far = far(centres_xy[:, 0], centres_xy[:, 1]) if parts else np.zeros(0, dtype=bool)
    lines, line_owner = _parts(m.catchments)
    lines_xy = shapely.get_coordinates(shapely.centroid(lines)) if lines else np.zeros((0, 2))
    lines_far = far(lines_xy[:, 0], lines_xy[:, 1]) if lines else np.zeros(0, dtype=bool)
    size = max(2.2, min(4.0, width / 120))
    pad = 6.0
    d.add(Rect(0, height - map_h, width, map_h, fillColor=None, strokeColor=hexc("#999999"), strokeWidth=0.5))
    # per map box (main, then the inset): its frame (None for the main map), the communes
    # (fill, path), the catchment outlines and the symbols (path, fill or None, stroke or None,
    # line width), drawn in this order
    layers: list[tuple[Any, list[tuple[str, str]], list[str], list[tuple[str, str | None, str | None, float]]]] = []
    scales = []
    # the main map fills the frame; far parts go to an inset in the corner (bottom right or top
    # left; the scale bar and north arrow hold the others) that hides least of the main map
    inset_w, inset_h = width * 0.3, map_h * 0.3
    corners = [(width - inset_w - 4, height - map_h + 4), (4.0, height - inset_h - 4 - font_size)]
    boxes = [(False, 0.0, height - map_h, width, map_h)]
    main_page: Any = None
    if is_far.any():
        boxes.append((True, *corners[0], inset_w, inset_h))
    for in_inset, bx0, by0, bw, bh in boxes:
        if in_inset:
            near = shapely.transform(np.asarray([p for p, f in zip(parts, is_far) if not f], dtype=object), main_page)
            hidden = [
                float(shapely.area(shapely.intersection(near, shapely.box(x, y, x + bw, y + bh + font_size))).sum())
                for x, y in corners
            ]
            bx0, by0 = corners[int(np.argmin(hidden))]
        chosen = [p for p, f in zip(parts, is_far) if f == in_inset]
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(chosen))
        k = math.cos(math.radians((miny + maxy) / 2))
        scale = min((bw - 2 * pad) / max((maxx - minx) * k, 1e-9), (bh - 2 * pad) / max(maxy - miny, 1e-9))
        ox = bx0 + (bw - (maxx - minx) * k * scale) / 2
        oy = by0 + (bh - (maxy - miny) * scale) / 2
        scales.append(scale)

        def page(
            a: np.ndarray,
            ox: float = ox,
            oy: float = oy,
            minx: float = minx,
            miny: float = miny,
            k: float = k,
            scale: float = scale,
        ) -> np.ndarray:
            return np.column_stack([ox + (a[:, 0] - minx) * k * scale, oy + (a[:, 1] - miny) * scale])

        main_page = main_page or page
        if in_inset:
            shown = sorted({m.names[i] for i in owner[is_far]} if m.names else set())
            label = w("pdf_map.inset", names=", ".join(shown))
            d.add(String(bx0 + 2, by0 + bh + 2.5, label, fontName=FONT, fontSize=font_size - 1.5, fillColor=hexc("#333333")))
        here = [i for i, f in enumerate(is_far) if f == in_inset]
        codes = _path_codes([parts[i] for i in here], page)
        communes = [(m.communes[owner[i]][1], code) for i, code in zip(here, codes)]
        outlines = _path_codes([p for p, f in zip(lines, lines_far) if f == in_inset], page)

        def at(points: list[tuple[float, float]], page: Any = page, in_inset: bool = in_inset) -> np.ndarray:
            a = np.asarray(points, dtype=float).reshape(-1, 2)
            return page(a[far(a[:, 0], a[:, 1]) == in_inset])

        symbols: list[tuple[str, str | None, str | None, float]] = [
            (_crosses_code(at(m.stations["closed"]), size * 0.4), None, COLOURS["closed"], 0.7),
            (_circles_code(at(m.stations["point"]), size * 0.38), "#ffffff", COLOURS["point"], 0.6),
            (_circles_code(at(m.stations["main"]), size * 0.55), COLOURS["main"], "#ffffff", 0.4),
            (_diamonds_code(at(m.centres), size * 0.88), COLOURS["centre"], "#ffffff", 0.5),
        ]
        layers.append(((bx0, by0, bw, bh) if in_inset else None, communes, outlines, symbols))
    scale = scales[0]

    # north arrow (top right) and scale bar (bottom left), on the map
    ax, ay = width - 14, height - 12
    d.add(Polygon([ax, ay, ax + 5, ay - 14, ax, ay - 10, ax - 5, ay - 14], fillColor=hexc("#222222"), strokeColor=None))
    d.add(String(ax, ay - 24, w("pdf_map.north"), fontName=FONT_BOLD, fontSize=font_size + 1, textAnchor="middle"))
    km_per_pt = KM_PER_DEGREE / scale
    km = _nice_km(km_per_pt * width / 4)
    bar = km / km_per_pt
    bx, by = 8.0, height - map_h + 8
    for i in range(4):
        fill = hexc("#222222") if i % 2 == 0 else colors.white
        d.add(Rect(bx + i * bar / 4, by, bar / 4, 3, fillColor=fill, strokeColor=hexc("#222222"), strokeWidth=0.4))
    small = font_size - 0.5
    d.add(String(bx, by + 5, "0", fontName=FONT, fontSize=small))
    km_text = w("pdf_map.km", km=fmt.number(km, 1 if km < 1 else 0, lang))
    d.add(String(bx + bar, by + 5, km_text, fontName=FONT, fontSize=small, textAnchor="middle"))
    d.add(String(bx + bar + 4, by - 0.5, w("pdf_map.scale"), fontName=FONT, fontSize=small - 1, fillColor=hexc("#555555")))

    # legend
    top = height - map_h - 4 - line * 0.9
    title = f"{ind.label(lang)} ({i18n.text(f'unit.{ind.unit}', lang)})"
    d.add(String(2, top, title, fontName=FONT_BOLD, fontSize=font_size))
    colw = width / cols
    for i, (label, kind) in enumerate(entries):
        x = 2 + (i // per_col) * colw
        y = top - line * (1 + i % per_col)
        for s in _symbol(kind, x + 6, y + font_size * 0.32, font_size * 0.6):
            d.add(s)
        d.add(String(x + 14, y, label, fontName=FONT, fontSize=font_size))

    class MapDrawing(Flowable):
        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            return width, height

        def draw(self) -> None:
            canv = self.canv
            canv.saveState()
            canv.setLineJoin(1)
            for frame, communes, outlines, symbols in layers:
                if frame is not None:
                    canv.setFillColor(colors.white)
                    canv.setStrokeColor(hexc("#666666"))
                    canv.setLineWidth(0.6)
                    canv.rect(*frame, stroke=1, fill=1)
                canv.setStrokeColor(colors.white)
                canv.setLineWidth(0.35)
                for fill, code in communes:
                    canv.setFillColor(hexc(fill))
                    canv.drawPath(_RawPath(code), stroke=1, fill=1, fillMode=FILL_EVEN_ODD)
                canv.setStrokeColor(hexc(COLOURS["catch"]))
                canv.setLineWidth(1.1)
                for code in outlines:
                    canv.drawPath(_RawPath(code), stroke=1, fill=0)
                for code, inside, edge, lw in symbols:
                    if not code:
                        continue
                    if inside:
                        canv.setFillColor(hexc(inside))
                    if edge:
                        canv.setStrokeColor(hexc(edge))
                    canv.setLineWidth(lw)
                    canv.drawPath(_RawPath(code), stroke=1 if edge else 0, fill=1 if inside else 0)
            canv.restoreState()
            renderPDF.draw(d, canv, 0, 0)

    return MapDrawing()


def map_page(result: Any, styles: dict, width: float, height: float, lang: str = i18n.DEFAULT_LANG) -> list:
    """The first page of report.pdf: a heading, the synthetic-data notices, the map of the province
    after the reform filling the rest of the page, and a page break."""
    from xml.sax.saxutils import escape

    from reportlab.platypus import PageBreak, Paragraph

    heading = i18n.text("pdf_map.title", lang, name=result.pack.province_name)
    sub = str(result.scenario.title or result.scenario.name)
    head = [Paragraph(escape(heading), styles["h1"]), Paragraph(escape(sub), styles["small"])]
    # a map of simulated stations travels without the rest of the report: it says so itself
    head += [Paragraph(escape(n), styles["notice"]) for n in i18n.notices(tables.synthetic_flags(result), lang)]
    used = sum(p.wrap(width, height)[1] + p.getSpaceBefore() + p.getSpaceAfter() for p in head)
    room = height - used - 16  # the frame pads its flowables by 6 points top and bottom
    return [*head, drawing(from_result(result, width), width, room, lang), PageBreak()]
