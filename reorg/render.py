"""Render stage: one self-contained, offline HTML map of a run (`render_map(result) -> str`).

The map is opened by officials on laptops without network, so the document makes no request at
all: Leaflet 1.9.4 (BSD-2, vendored in `reorg/assets/`) is inlined with its images as data: URIs,
folium's CDN extras (jQuery, Bootstrap, Font Awesome, awesome-markers) are left out, there is no
tile layer, and popups are bound by a small inline script instead of folium's jQuery popups.

Layers (Leaflet layer control): New communes (filled by the scenario's map indicator), Old
communes (thin outlines), Main stations, Station points, Closed stations, Regional centres, Centre
catchments (new communes dissolved by centre) and Lines to centre (off at opening).

Polygons are simplified as a coverage (`shapely.coverage_simplify`), so neighbours keep shared
edges and no gaps open between them, then rounded to 5 decimals (about 1 m). Element ids are
reassigned from a counter before rendering, so the same result always gives the same bytes.
"""
from __future__ import annotations

import base64
import bisect
import functools
import html
import json
import math
import re
from collections import OrderedDict
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure
from folium.utilities import JsCode

from . import __version__

ASSETS = Path(__file__).resolve().parent / "assets"

#: display tolerance of `shapely.coverage_simplify`, degrees (about 70 m)
SIMPLIFY_TOLERANCE = 0.0007
#: decimals kept in coordinates (1e-5 degree is about 1 m)
DECIMALS = 5

CADRE_LABELS = OrderedDict([
    ("doctor", "Doctor (bác sĩ)"),
    ("assistant_doctor", "Assistant doctor (y sĩ)"),
    ("nurse", "Nurse (điều dưỡng)"),
    ("midwife", "Midwife (hộ sinh)"),
    ("pharmacist", "Pharmacist (dược)"),
    ("other", "Other"),
])

# ColorBrewer schemes (Cynthia Brewer, Apache-2.0 style licence), hard-coded for stable output.
_YL_OR_RD_8 = ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"]
_YL_GN_BU_7 = ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"]
_RD_BU_7 = ["#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac"]
NO_DATA = "#d9d9d9"

#: indicator -> label, unit, class breaks (a value v falls in class bisect_right(breaks, v)), colours
INDICATORS = {
    "minutes_main_after": dict(label="Minutes to the main station, after the reform", unit="min",
                               breaks=[10, 20, 30, 45, 60, 90, 120], colours=_YL_OR_RD_8, digits=0),
    "minutes_nearest_after": dict(label="Minutes to the nearest open station, after the reform", unit="min",
                                  breaks=[10, 20, 30, 45, 60, 90, 120], colours=_YL_OR_RD_8, digits=0),
    "minutes_centre_after": dict(label="Minutes to the regional centre, after the reform", unit="min",
                                 breaks=[10, 20, 30, 45, 60, 90, 120], colours=_YL_OR_RD_8, digits=0),
    "staff_per_1000": dict(label="Station staff per 1,000 residents, after the reform", unit="staff / 1,000 residents",
                           breaks=[0.75, 1.0, 1.25, 1.5, 2.0, 3.0], colours=_YL_GN_BU_7, digits=2),
    # a signed quantity: diverging colours, red = shortfall, blue = surplus, centred on 0
    "gap_after": dict(label="Staff minus Circular 03/2023 norm, after the reform", unit="persons",
                      breaks=[-5.5, -2.5, -0.5, 0.5, 2.5, 5.5], colours=_RD_BU_7, digits=0,
                      class_labels=["≤ −6 (shortfall)", "−5 to −3", "−2 to −1", "0 (meets norm)", "+1 to +2", "+3 to +5", "≥ +6 (surplus)"]),
}

LAYER_NAMES = ("New communes", "Old communes", "Main stations", "Station points", "Closed stations",
               "Regional centres", "Centre catchments", "Lines to centre")

ROLE_LABELS = {"main": "Main station (trạm chính)", "point": "Station point (điểm trạm)", "closed": "Closed"}

_COL = {"main": "#08306b", "point": "#2171b5", "closed": "#636363", "centre": "#7a0177", "catch": "#54278f",
        "old": "#525252", "new": "#252525", "line": "#7a0177"}


# --------------------------------------------------------------------------------------------
# assets


@functools.lru_cache(maxsize=None)
def _leaflet_js() -> str:
    js = (ASSETS / "leaflet.js").read_text(encoding="utf-8")
    # no source map: devtools would try to fetch it
    return re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", js)


@functools.lru_cache(maxsize=None)
def _leaflet_css() -> str:
    css = (ASSETS / "leaflet.css").read_text(encoding="utf-8")

    def inline(m: re.Match) -> str:
        name = Path(m.group(1)).name
        data = base64.b64encode((ASSETS / name).read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    css = re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", inline, css)
    if re.search(r"url\((?!\s*[\"']?(data:|#))", css):
        raise RuntimeError("leaflet.css still references an external url()")
    return css


# --------------------------------------------------------------------------------------------
# formatting helpers


def _esc(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _isnan(x) -> bool:
    try:
        return x is None or (isinstance(x, float) and math.isnan(x)) or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _num(x, digits: int = 0) -> str:
    if _isnan(x):
        return "–"
    x = float(x)
    if digits == 0:
        return f"{round(x):,}"
    return f"{x:,.{digits}f}"


def _signed(x) -> str:
    if _isnan(x):
        return "–"
    x = int(round(float(x)))
    return f"+{x}" if x > 0 else ("0" if x == 0 else f"−{abs(x)}")


def _round_coords(g):
    return shapely.transform(g, lambda c: np.rint(c * 10 ** DECIMALS) / 10 ** DECIMALS)


def _mapping(g) -> dict:
    """GeoJSON geometry with plain lists (stable json)."""
    return json.loads(shapely.to_geojson(g)) if g is not None else None


def _display_polygons(geoms) -> np.ndarray:
    """Coverage-simplified copies (None stays None), unrounded."""
    arr = np.asarray(geoms, dtype=object)
    out = np.full(len(arr), None, dtype=object)
    ok = np.array([g is not None and not shapely.is_empty(g) for g in arr], dtype=bool)
    if ok.any():
        out[ok] = shapely.coverage_simplify(arr[ok], tolerance=SIMPLIFY_TOLERANCE)
    return out


def _drop_small_holes(g, min_area: float = 2e-5):
    """Holes left by slivers between source polygons would draw as stray outlines."""
    if g is None or g.is_empty:
        return g
    parts = g.geoms if g.geom_type == "MultiPolygon" else [g]
    polys = [shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= min_area]) for p in parts
             if p.geom_type == "Polygon"]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _indicator_class(value, spec) -> int | None:
    if _isnan(value):
        return None
    return bisect.bisect_right(spec["breaks"], float(value))


def _class_labels(spec) -> list[str]:
    if "class_labels" in spec:
        return spec["class_labels"]
    b = spec["breaks"]
    d = spec["digits"]

    def f(v):
        return f"{v:g}" if d == 0 else f"{v:.{d}f}".rstrip("0").rstrip(".")

    labels = [f"< {f(b[0])}"]
    labels += [f"{f(lo)} – {f(hi)}" for lo, hi in zip(b[:-1], b[1:])]
    labels.append(f"≥ {f(b[-1])}")
    return labels


def _table(rows, head=None) -> str:
    out = ['<table class="reorg-t">']
    if head:
        out.append('<tr class="h">' + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr>")
    for r in rows:
        cells = "".join(f"<td>{c}</td>" for c in r[1:])
        out.append(f"<tr><th>{_esc(r[0])}</th>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# folium pieces


class _Raw(Element):
    """Literal text in the document (no Jinja parsing: leaflet.js is not a template)."""

    def __init__(self, text: str, name: str = "Raw"):
        super().__init__()
        self._name = name
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class _Script(Element):
    """A script run right after the map is created (before the layers are added)."""

    def __init__(self, js: str, name: str):
        super().__init__()
        self._name = name
        self._js = js

    def render(self, **kwargs):
        figure = self.get_root()
        figure.script.add_child(_Raw(self._js.replace("__MAP__", self._parent.get_name())), name=self.get_name())


class OfflineMap(folium.Map):
    """A folium Map that links no CDN file (Leaflet is inlined by `render_map`)."""

    default_js: list = []
    default_css: list = []


_HELPERS_JS = r"""
<script>
function reorgPointToLayer(feature, latlng) {
    var p = feature.properties;
    if (p.icon) {
        return L.marker(latlng, {pane: p.pane || 'markerPane', keyboard: false, title: p.name,
            icon: L.divIcon({className: p.icon.className, html: p.icon.html,
                             iconSize: p.icon.size, iconAnchor: [p.icon.size[0] / 2, p.icon.size[1] / 2],
                             popupAnchor: [0, -p.icon.size[1] / 2]})});
    }
    return L.circleMarker(latlng, p.style);
}
function reorgOnEachFeature(feature, layer) {
    var p = feature.properties;
    if (p.popup) { layer.bindPopup(p.popup, {maxWidth: 440, autoPanPaddingTopLeft: [60, 170], autoPanPaddingBottomRight: [20, 30]}); }
    if (p.name && !p.icon) { layer.bindTooltip(p.name, {sticky: true, direction: 'top', opacity: 0.9}); }
    if (p.code) { layer.reorgCode = p.code; }
}
</script>
"""

_STYLE_CSS = """
<style>
html, body { font-family: "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
.leaflet-container { background: #f4f1ea; }
.reorg-banner { position: fixed; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1001;
  max-width: 46vw; background: rgba(255,255,255,0.95); border: 1px solid #999; border-radius: 6px;
  padding: 6px 14px; box-shadow: 0 1px 5px rgba(0,0,0,0.35); text-align: center; line-height: 1.3; }
.reorg-banner .t { font-size: 16px; font-weight: 600; }
.reorg-banner .s { font-size: 12px; color: #444; }
.reorg-banner .warn { margin-top: 4px; font-size: 12.5px; font-weight: 600; color: #8a1c00;
  background: #fff0d9; border: 1px solid #e6a23c; border-radius: 4px; padding: 3px 6px; }
.reorg-legend { position: fixed; bottom: 22px; left: 10px; z-index: 1001; background: rgba(255,255,255,0.95);
  border: 1px solid #999; border-radius: 6px; padding: 8px 10px; font-size: 12px; line-height: 1.35;
  max-height: 70vh; overflow-y: auto; box-shadow: 0 1px 5px rgba(0,0,0,0.35); max-width: 300px; }
.reorg-legend h4 { margin: 0 0 4px 0; font-size: 12.5px; }
.reorg-legend .row { display: flex; align-items: center; margin: 1px 0; }
.reorg-legend .sw { width: 22px; height: 13px; border: 1px solid #777; margin-right: 6px; flex: none; }
.reorg-legend .sym { width: 22px; height: 16px; margin-right: 6px; flex: none; display: flex;
  align-items: center; justify-content: center; }
.reorg-legend hr { border: 0; border-top: 1px solid #ccc; margin: 6px 0; }
.reorg-centre div { width: 11px; height: 11px; background: #7a0177; border: 2px solid #fff;
  box-shadow: 0 0 0 1px #3f003d; transform: rotate(45deg); margin: 2px; }
.reorg-closed svg { display: block; }
.reorg-t { border-collapse: collapse; font-size: 12px; margin-top: 4px; }
.reorg-t th, .reorg-t td { border: 1px solid #ccc; padding: 1px 6px; text-align: right; }
.reorg-t th:first-child { text-align: left; font-weight: normal; }
.reorg-t tr.h th { font-weight: 600; background: #f0f0f0; }
path.leaflet-interactive:focus { outline: none; }
.reorg-pop h3 { margin: 0 0 2px 0; font-size: 14px; }
.reorg-pop .sub { color: #555; font-size: 11.5px; margin-bottom: 3px; }
.reorg-pop .neg { color: #b2182b; font-weight: 600; }
</style>
"""

_CROSS_SVG = ('<svg width="12" height="12" viewBox="0 0 12 12"><path d="M2 2L10 10M10 2L2 10" '
              'stroke="#fff" stroke-width="4"/><path d="M2 2L10 10M10 2L2 10" stroke="#636363" stroke-width="2.2"/></svg>')


def _assign_ids(root: Element) -> None:
    """Deterministic ids (`<name>_000001`, in tree order) in place of branca's random ones."""
    counter = 0
    seen: set[int] = set()

    def visit(el: Element) -> None:
        nonlocal counter
        if id(el) in seen:
            return
        seen.add(id(el))
        counter += 1
        el._id = f"{counter:06d}"
        for attr in ("header", "html", "script"):
            sub = el.__dict__.get(attr)
            if isinstance(sub, Element):
                visit(sub)
        old_names = {k: c.get_name() for k, c in el._children.items()}
        for child in list(el._children.values()):
            visit(child)
        # children keyed by their (old) name get their new name
        el._children = OrderedDict(
            (child.get_name() if key == old_names[key] else key, child) for key, child in el._children.items())

    visit(root)


_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc\s*=", re.I)
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.I)
_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def check_offline(doc: str) -> None:
    """Raise if the document would load any script or style from elsewhere."""
    problems = []
    for m in _SCRIPT_SRC.finditer(doc):
        problems.append(doc[m.start():m.start() + 120])
    for m in _LINK_TAG.finditer(doc):
        problems.append(m.group(0))
    for m in re.finditer(r"@import|url\(\s*[\"']?(?:https?:)?//", doc):
        problems.append(doc[m.start():m.start() + 120])
    for m in _EXTERNAL.finditer(doc):
        ctx = doc[max(0, m.start() - 40):m.start() + 120]
        if re.search(r"<(script|link|img|iframe)\b", ctx, re.I):
            problems.append(ctx)
    if problems:
        raise RuntimeError("map is not self-contained: " + " | ".join(sorted(set(problems))[:5]))


# --------------------------------------------------------------------------------------------
# the map


def _station_name(result, code: str, old_code: str, new_code: str) -> str:
    old = result.reformed.old
    if old_code and old_code in old.index:
        return str(old.at[old_code, "commune_name"])
    new = result.reformed.new
    if new_code in new.index:
        return f"{new.at[new_code, 'commune_name']} (special zone)"
    return code


def _commune_popup(code: str, row: pd.Series, station_names: dict, centre_names: dict) -> str:
    main = row.get("main_station_code")
    centre = row.get("centre_code")
    main_txt = f"{_esc(station_names.get(main, main))} <small>({_esc(main)})</small>" if isinstance(main, str) else "–"
    centre_txt = f"{_esc(centre_names.get(centre, centre))}" if isinstance(centre, str) else "–"
    gap = row.get("gap_after")
    gap_cls = ' class="neg"' if not _isnan(gap) and gap < 0 else ""
    rows = [
        ("Population", _num(row.get("population"))),
        ("Minutes to main station, before", _num(row.get("minutes_main_before"), 1)),
        ("Minutes to main station, after", _num(row.get("minutes_main_after"), 1)),
        ("Minutes to nearest open station, after", _num(row.get("minutes_nearest_after"), 1)),
        ("Minutes to regional centre, after", _num(row.get("minutes_centre_after"), 1)),
        ("Main station", main_txt),
        ("Regional centre", centre_txt),
        ("Station staff, after", _num(row.get("staff_after"))),
        ("Staff norm (Circular 03/2023)", _num(row.get("norm_after"))),
        ("Gap (staff − norm)", f"<span{gap_cls}>{_signed(gap)}</span>"),
        ("Staff per 1,000 residents", _num(row.get("staff_per_1000"), 2)),
    ]
    return (f'<div class="reorg-pop"><h3>{_esc(row["commune_name"])}</h3>'
            f'<div class="sub">New commune {_esc(code)} (after 1 July 2025)</div>'
            + _table(rows) + "</div>")


def _station_popup(code: str, name: str, st: pd.Series, new_name: str) -> str:
    role = st.get("role", "")
    rows = [(CADRE_LABELS[c], _num(st.get(f"{c}_before")), _num(st.get(f"{c}_after"))) for c in CADRE_LABELS]
    rows.append(("Total staff", f"<b>{_num(st.get('staff_before'))}</b>", f"<b>{_num(st.get('staff_after'))}</b>"))
    rows.append(("Norm (Circular 03/2023)", _num(st.get("norm_before")), _num(st.get("norm_after"))))
    rows.append(("Gap (staff − norm)", _signed(st.get("gap_before")), _signed(st.get("gap_after"))))
    rows.append(("Population served", _num(st.get("served_pop_before")), _num(st.get("served_pop_after"))))
    table = _table(rows, head=("Staff by cadre", "Before", "After"))
    return (f'<div class="reorg-pop"><h3>{_esc(name)}</h3>'
            f'<div class="sub">Station {_esc(code)} · {_esc(ROLE_LABELS.get(role, role))}'
            f'<br>New commune: {_esc(new_name)}</div>{table}</div>')


def _centre_popup(code: str, c: pd.Series, mc: pd.Series | None) -> str:
    served = mc.get("served_pop_after") if mc is not None else float("nan")
    load = mc.get("load_after") if mc is not None else float("nan")
    communes = mc.get("communes_after") if mc is not None else float("nan")
    rows = [
        ("Beds", _num(c.get("beds"))),
        ("Staff", _num(c.get("staff"))),
        ("Doctors", _num(c.get("doctors"))),
        ("Capacity (population)", _num(c.get("capacity"))),
        ("Population served, after", _num(served)),
        ("Load (served / capacity)", "–" if _isnan(load) else f"{100 * float(load):.0f} %"),
        ("New communes served", _num(communes)),
    ]
    host = c.get("host_name")
    sub = f"Centre {_esc(code)}" + (f" · at {_esc(host)}" if isinstance(host, str) and host else "")
    return f'<div class="reorg-pop"><h3>{_esc(c.get("name", code))}</h3><div class="sub">{sub}</div>{_table(rows)}</div>'


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _point(lon, lat) -> dict:
    return {"type": "Point", "coordinates": [round(float(lon), DECIMALS), round(float(lat), DECIMALS)]}


def _legend_html(spec, class_counts: list[int], has_nodata: bool, counts: dict) -> str:
    rows = [f'<h4>New communes: {_esc(spec["label"])} ({_esc(spec["unit"])})</h4>']
    for colour, label, n in zip(spec["colours"], _class_labels(spec), class_counts):
        rows.append(f'<div class="row"><span class="sw" style="background:{colour}"></span>{_esc(label)}'
                    f' <span style="color:#777">&nbsp;({n})</span></div>')
    if has_nodata:
        rows.append(f'<div class="row"><span class="sw" style="background:{NO_DATA}"></span>no data (no residents)</div>')
    rows.append("<hr>")
    sym = [
        (f'<svg width="18" height="18"><circle cx="9" cy="9" r="7" fill="{_COL["main"]}" stroke="#fff" stroke-width="1.5"/></svg>',
         f'Main station (trạm chính) ({counts["main"]})'),
        (f'<svg width="18" height="18"><circle cx="9" cy="9" r="4" fill="#fff" stroke="{_COL["point"]}" stroke-width="2"/></svg>',
         f'Station point (điểm trạm) ({counts["point"]})'),
        (_CROSS_SVG, f'Closed station ({counts["closed"]})'),
        ('<div class="reorg-centre"><div></div></div>', f'Regional centre (trung tâm y tế) ({counts["centre"]})'),
        (f'<svg width="22" height="10"><line x1="0" y1="5" x2="22" y2="5" stroke="{_COL["new"]}" stroke-width="1.2"/></svg>',
         "New commune boundary"),
        (f'<svg width="22" height="10"><line x1="0" y1="5" x2="22" y2="5" stroke="{_COL["old"]}" stroke-width="1" stroke-dasharray="3,2"/></svg>',
         "Old commune boundary (before 1 July 2025)"),
        (f'<svg width="22" height="10"><line x1="0" y1="5" x2="22" y2="5" stroke="{_COL["catch"]}" stroke-width="3"/></svg>',
         "Centre catchment boundary"),
        (f'<svg width="22" height="10"><line x1="0" y1="5" x2="22" y2="5" stroke="{_COL["line"]}" stroke-width="1.5" stroke-dasharray="5,4"/></svg>',
         "Line from commune to its centre (off at opening)"),
    ]
    for svg, label in sym:
        rows.append(f'<div class="row"><span class="sym">{svg}</span>{_esc(label)}</div>')
    rows.append('<hr><div style="color:#555">Click a commune, station or centre for details. '
                f'Boundaries simplified for display. reorg {_esc(__version__)}.</div>')
    return f'<div class="reorg-legend" id="reorg-legend">{"".join(rows)}</div>'


def _banner_html(result, spec) -> str:
    sc = result.scenario
    pack = result.pack
    title = sc.title or sc.name
    parts = [f'<div class="t">{_esc(title)}</div>',
             f'<div class="s">{_esc(pack.province_name)} (province {_esc(pack.province_code)}) · scenario '
             f'<code>{_esc(sc.name)}</code> · colour: {_esc(spec["label"])}</div>']
    warns = []
    if getattr(pack, "synthetic", False):
        warns.append("Synthetic demo province: the whole geodata pack (boundaries, names, population) is made up, not real data")
    if result.synthetic_roster:
        warns.append("Synthetic roster: station staff and locations are simulated, not real data")
    for w in warns:
        parts.append(f'<div class="warn">{_esc(w)}</div>')
    return f'<div class="reorg-banner" id="reorg-banner">{"".join(parts)}</div>'


def build_map(result) -> OfflineMap:
    """The folium map of a run (ids not yet made deterministic; use `render_map`)."""
    sc = result.scenario
    indicator = (sc.map or {}).get("indicator", "minutes_main_after")
    if indicator not in INDICATORS:
        raise ValueError(f"unknown map indicator '{indicator}'; choose one of {', '.join(INDICATORS)}")
    spec = INDICATORS[indicator]
    reformed = result.reformed
    meas = result.measures
    new = reformed.new.sort_index()
    old = reformed.old.sort_index()
    communes = meas.communes.reindex(new.index)

    # --- geometry for display ---
    new_disp = _display_polygons(new.geometry.to_numpy())
    old_disp = _display_polygons(old.geometry.to_numpy())
    centre_of = result.plan.centre_of.reindex(new.index)
    catchments = []
    for ccode in sorted(set(centre_of.dropna())):
        sel = (centre_of == ccode).to_numpy()
        geoms = [g for g in new_disp[sel] if g is not None]
        if not geoms:
            continue
        try:
            u = shapely.coverage_union_all(geoms)
            if not u.is_valid:
                raise ValueError
        except Exception:  # not a clean coverage: fall back to an overlay union
            u = shapely.union_all(geoms)
        catchments.append((ccode, _drop_small_holes(u)))
    new_disp = _round_coords(new_disp)
    old_disp = _round_coords(old_disp)

    minx, miny, maxx, maxy = shapely.total_bounds(new.geometry.to_numpy())
    bounds = [[round(miny, DECIMALS), round(minx, DECIMALS)], [round(maxy, DECIMALS), round(maxx, DECIMALS)]]

    m = OfflineMap(location=[round((miny + maxy) / 2, DECIMALS), round((minx + maxx) / 2, DECIMALS)], zoom_start=9,
                   tiles=None, control_scale=False, zoom_snap=0.25, zoom_delta=0.5, prefer_canvas=False)
    fig = m.get_root()
    fig.title = None  # written after the charset declaration
    fig.header._children.clear()
    fig.header.add_child(_Raw('<meta charset="utf-8" />', "MetaCharset"), name="meta_charset")
    fig.header.add_child(_Raw(f"<title>{_esc(sc.title or sc.name)} · {_esc(result.pack.province_name)}</title>", "Title"),
                         name="title")
    fig.header.add_child(_Raw(f"<style>\n{_leaflet_css()}\n</style>", "LeafletCss"), name="leaflet_css")
    fig.header.add_child(_Raw(f"<script>\n{_leaflet_js()}\n</script>", "LeafletJs"), name="leaflet_js")
    fig.header.add_child(_Raw(_STYLE_CSS, "ReorgCss"), name="reorg_css")
    fig.header.add_child(_Raw(_HELPERS_JS, "ReorgJs"), name="reorg_js")

    # panes keep the stacking order when layers are toggled (Leaflet re-adds a layer on top)
    m.add_child(_Script(
        "__MAP__.createPane('reorgCommunes').style.zIndex = 401;\n"
        "__MAP__.createPane('reorgOutlines').style.zIndex = 402;\n"
        "__MAP__.createPane('reorgLines').style.zIndex = 403;\n"
        "__MAP__.createPane('reorgStations').style.zIndex = 404;\n"
        "L.control.scale({imperial: false, position: 'bottomright'}).addTo(__MAP__);\n"
        "__MAP__.attributionControl.setPrefix(false);\n"
        f"__MAP__.attributionControl.addAttribution({json.dumps(f'reorg {__version__} · Leaflet (BSD-2) · boundaries simplified for display')});\n",
        "ReorgPanes"), name="reorg_panes")

    station_names = {}
    st_meas = meas.stations
    stations = result.stations
    for code in st_meas.index:
        oc = st_meas.at[code, "old_code"] if "old_code" in st_meas else stations.at[code, "old_code"]
        nc = st_meas.at[code, "new_code"] if "new_code" in st_meas else stations.at[code, "new_code"]
        station_names[code] = _station_name(result, code, oc if isinstance(oc, str) else "", nc)
    centre_names = {c: str(result.centres.at[c, "name"]) for c in result.centres.index}

    # --- New communes ---
    feats = []
    class_counts = [0] * len(spec["colours"])
    has_nodata = False
    for code, g in zip(new.index, new_disp):
        if g is None:
            continue
        row = communes.loc[code]
        k = _indicator_class(row.get(indicator), spec)
        if k is None:
            has_nodata = True
            fill = NO_DATA
        else:
            class_counts[k] += 1
            fill = spec["colours"][k]
        feats.append({"type": "Feature", "id": code, "geometry": _mapping(g), "properties": {
            "code": code, "name": str(new.at[code, "commune_name"]),
            "style": {"fillColor": fill, "fillOpacity": 0.78, "color": _COL["new"], "weight": 1.0, "opacity": 0.9},
            "popup": _commune_popup(code, row, station_names, centre_names)}})
    folium.GeoJson(_fc(feats), name="New communes", on_each_feature=JsCode("reorgOnEachFeature"),
                   pane="reorgCommunes").add_to(m)

    # --- Old communes ---
    feats = []
    for code, g in zip(old.index, old_disp):
        if g is None:
            continue
        feats.append({"type": "Feature", "id": code, "geometry": _mapping(g), "properties": {
            "style": {"fill": False, "color": _COL["old"], "weight": 0.8, "opacity": 0.85, "dashArray": "3,2"}}})
    folium.GeoJson(_fc(feats), name="Old communes", pane="reorgOutlines", interactive=False).add_to(m)

    # --- Stations, by role ---
    counts = {"main": 0, "point": 0, "closed": 0, "centre": len(result.centres)}
    by_role = {"main": [], "point": [], "closed": []}
    for code in sorted(st_meas.index):
        st = st_meas.loc[code]
        role = st["role"]
        if role not in by_role or code not in stations.index:
            continue
        counts[role] += 1
        lon, lat = stations.at[code, "lon"], stations.at[code, "lat"]
        nc = st.get("new_code")
        new_name = str(new.at[nc, "commune_name"]) if nc in new.index else ""
        props = {"code": code, "name": station_names[code], "role": role,
                 "popup": _station_popup(code, station_names[code], st, new_name)}
        if role == "main":
            props["style"] = {"pane": "reorgStations", "radius": 7, "color": "#ffffff", "weight": 1.5, "opacity": 1,
                              "fillColor": _COL["main"], "fillOpacity": 1, "className": f"reorg-main reorg-st-{code}"}
        elif role == "point":
            props["style"] = {"pane": "reorgStations", "radius": 4, "color": _COL["point"], "weight": 2, "opacity": 1,
                              "fillColor": "#ffffff", "fillOpacity": 1, "className": f"reorg-point reorg-st-{code}"}
        else:
            props["icon"] = {"className": f"reorg-closed reorg-st-{code}", "html": _CROSS_SVG, "size": [12, 12]}
        by_role[role].append({"type": "Feature", "id": code, "geometry": _point(lon, lat), "properties": props})
    for role, name in (("main", "Main stations"), ("point", "Station points"), ("closed", "Closed stations")):
        folium.GeoJson(_fc(by_role[role]), name=name, point_to_layer=JsCode("reorgPointToLayer"),
                       on_each_feature=JsCode("reorgOnEachFeature")).add_to(m)

    # --- Regional centres ---
    feats = []
    for code in sorted(result.centres.index):
        c = result.centres.loc[code]
        mc = meas.centres.loc[code] if code in meas.centres.index else None
        feats.append({"type": "Feature", "id": code, "geometry": _point(c["lon"], c["lat"]), "properties": {
            "code": code, "name": str(c["name"]),
            "icon": {"className": f"reorg-centre reorg-c-{code}", "html": "<div></div>", "size": [19, 19]},
            "popup": _centre_popup(code, c, mc)}})
    folium.GeoJson(_fc(feats), name="Regional centres", point_to_layer=JsCode("reorgPointToLayer"),
                   on_each_feature=JsCode("reorgOnEachFeature")).add_to(m)

    # --- Centre catchments ---
    feats = []
    for ccode, g in catchments:
        feats.append({"type": "Feature", "id": ccode, "geometry": _mapping(_round_coords(g)), "properties": {
            "style": {"fill": False, "color": _COL["catch"], "weight": 3, "opacity": 0.9}}})
    folium.GeoJson(_fc(feats), name="Centre catchments", pane="reorgOutlines", interactive=False).add_to(m)

    # --- Lines to centre (off at opening) ---
    feats = []
    for code in new.index:
        ccode = centre_of.get(code)
        if not isinstance(ccode, str) or ccode not in result.centres.index:
            continue
        lon, lat = new.at[code, "admin_lon"], new.at[code, "admin_lat"]
        if _isnan(lon) or _isnan(lat):
            p = new.geometry[code].representative_point()
            lon, lat = p.x, p.y
        c = result.centres.loc[ccode]
        line = {"type": "LineString", "coordinates": [_point(lon, lat)["coordinates"], _point(c["lon"], c["lat"])["coordinates"]]}
        feats.append({"type": "Feature", "id": code, "geometry": line, "properties": {
            "style": {"color": _COL["line"], "weight": 1.5, "opacity": 0.8, "dashArray": "5,4"}}})
    folium.GeoJson(_fc(feats), name="Lines to centre", pane="reorgLines", interactive=False, show=False).add_to(m)

    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    folium.FitBounds(bounds, padding_top_left=(10, 80), padding_bottom_right=(10, 10)).add_to(m)

    fig.html.add_child(_Raw(_banner_html(result, spec), "Banner"), name="reorg_banner")
    fig.html.add_child(_Raw(_legend_html(spec, class_counts, has_nodata, counts), "Legend"),
                       name="reorg_legend")
    return m


def render_map(result) -> str:
    """The map of a run as one self-contained HTML document (utf-8, no network, deterministic)."""
    m = build_map(result)
    fig = m.get_root()
    assert isinstance(fig, Figure)
    _assign_ids(fig)
    doc = fig.render()
    # strip trailing spaces folium templates leave behind (smaller, stable diffs)
    doc = re.sub(r"[ \t]+\n", "\n", doc)
    check_offline(doc)
    return doc
