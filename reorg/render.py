"""Render stage: one self-contained, offline HTML map of a run (`render_map(result) -> str`).

The map is opened by officials on laptops without network, so the document makes no request at
all: Leaflet 1.9.4 (BSD-2, vendored in `reorg/assets/`) is inlined with its images as data: URIs,
folium's CDN extras (jQuery, Bootstrap, Font Awesome, awesome-markers) are left out, there is no
tile layer, and popups are bound by a small inline script instead of folium's jQuery popups.

Labels (layer names, legend, banner, popups, controls) are in English or Vietnamese, from the
scenario's `[map] lang` (`en` | `vi`); `layer_names(lang)` gives the layer names.

The "after" map (Leaflet layer control): New communes (filled by the scenario's map indicator), Old
communes (thin outlines), Main stations, Station points, Closed stations, Regional centres, Centre
catchments, Lines to centre (off at opening) and Staff gaps (off at opening: each open station
sized and coloured by staff after minus the norm after; red shortfall, blue surplus).

A view switch in the banner shows the map after the reform, before it, or both side by side with
synchronised pan and zoom. The "before" map (its own layer control, `before_layer_names(lang)`)
draws the old communes coloured by minutes to their own station before the reform
(population-weighted over the parts of split communes), every old station and the district
health centres. It reuses the geometry of the after map's layers (no second copy in the file)
and is created on first use. A search box (inline script, no plugin) finds new and old communes
by name, accent-insensitive ("dien chau" finds "Xã Diễn Châu"), zooms to the match and opens its
popup. When every layer is drawn the page sets `window.reorgDrawn` (ms since navigation) and
`data-reorg-drawn` on <body> (used by the browser test and `benchmarks/map_load.py`).

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
from jinja2.utils import htmlsafe_json_dumps

from . import __version__

ASSETS = Path(__file__).resolve().parent / "assets"

#: display tolerance of `shapely.coverage_simplify`, degrees (about 70 m)
SIMPLIFY_TOLERANCE = 0.0007
#: decimals kept in coordinates (1e-5 degree is about 1 m)
DECIMALS = 5

LANGS = ("en", "vi")

CADRE_LABELS = OrderedDict([
    ("doctor", "Doctor (bác sĩ)"),
    ("assistant_doctor", "Assistant doctor (y sĩ)"),
    ("nurse", "Nurse (điều dưỡng)"),
    ("midwife", "Midwife (hộ sinh)"),
    ("pharmacist", "Pharmacist (dược)"),
    ("other", "Other"),
])
CADRE_LABELS_VI = OrderedDict([
    ("doctor", "Bác sĩ"),
    ("assistant_doctor", "Y sĩ"),
    ("nurse", "Điều dưỡng"),
    ("midwife", "Hộ sinh"),
    ("pharmacist", "Dược sĩ"),
    ("other", "Khác"),
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
#: Vietnamese label, unit (and class labels) of each indicator
INDICATORS_VI = {
    "minutes_main_after": dict(label="Số phút tới trạm y tế chính, sau sắp xếp", unit="phút"),
    "minutes_nearest_after": dict(label="Số phút tới trạm hoặc điểm trạm gần nhất, sau sắp xếp", unit="phút"),
    "minutes_centre_after": dict(label="Số phút tới trung tâm y tế khu vực, sau sắp xếp", unit="phút"),
    "staff_per_1000": dict(label="Nhân lực trạm trên 1.000 dân, sau sắp xếp", unit="người / 1.000 dân"),
    "gap_after": dict(label="Nhân lực trừ định mức Thông tư 03/2023, sau sắp xếp", unit="người",
                      class_labels=["≤ −6 (thiếu)", "−5 đến −3", "−2 đến −1", "0 (đạt định mức)", "+1 đến +2", "+3 đến +5", "≥ +6 (thừa)"]),
}
#: the before map colours old communes by minutes to their own station on the same scale
BEFORE_SPEC = dict(label="Minutes to the commune's own station, before the reform", unit="min",
                   breaks=INDICATORS["minutes_main_after"]["breaks"], colours=_YL_OR_RD_8, digits=0)
BEFORE_SPEC_VI = dict(BEFORE_SPEC, label="Số phút tới trạm y tế của xã, trước sắp xếp", unit="phút")

_LAYER_KEYS = ("new", "old", "main", "point", "closed", "centres", "catchments", "lines", "gaps")
_LAYER_NAMES = {
    "en": ("New communes", "Old communes", "Main stations", "Station points", "Closed stations",
           "Regional centres", "Centre catchments", "Lines to centre", "Staff gaps"),
    "vi": ("Xã/phường mới", "Xã/phường cũ", "Trạm y tế chính", "Điểm trạm", "Trạm đóng cửa",
           "Trung tâm y tế khu vực", "Vùng phục vụ của trung tâm", "Đường tới trung tâm", "Thiếu nhân lực"),
}
_BEFORE_LAYER_NAMES = {
    "en": ("Old communes: minutes to own station", "Stations before the reform", "District health centres"),
    "vi": ("Xã/phường cũ: số phút tới trạm của xã", "Trạm y tế trước sắp xếp", "Trung tâm y tế huyện"),
}
#: layers off when the map opens
LAYERS_OFF = ("lines", "gaps")


def layer_names(lang: str = "en") -> tuple[str, ...]:
    """Names of the after map's layers, in the order of its layer control."""
    return _LAYER_NAMES[_lang(lang)]


def before_layer_names(lang: str = "en") -> tuple[str, ...]:
    """Names of the before map's layers, in the order of its layer control."""
    return _BEFORE_LAYER_NAMES[_lang(lang)]


#: English layer names (after map)
LAYER_NAMES = _LAYER_NAMES["en"]

ROLE_LABELS = {"main": "Main station (trạm chính)", "point": "Station point (điểm trạm)", "closed": "Closed"}
ROLE_LABELS_VI = {"main": "Trạm y tế chính", "point": "Điểm trạm", "closed": "Trạm đóng cửa"}

_COL = {"main": "#08306b", "point": "#2171b5", "closed": "#636363", "centre": "#7a0177", "catch": "#54278f",
        "old": "#525252", "new": "#252525", "line": "#7a0177", "before_station": "#01665e"}

#: every other text of the map, by language
TEXT = {
    "en": {
        "view": "View:", "view_after": "After the reform", "view_before": "Before the reform", "view_compare": "Side by side",
        "label_after": "After the reform (from 1 July 2025)", "label_before": "Before the reform (to 30 June 2025)",
        "search_placeholder": "Find a commune…", "search_label": "Find a commune by name",
        "search_none": "No commune found", "search_new": "new commune", "search_old": "old commune",
        "new_commune_sub": "New commune {code} (after 1 July 2025)",
        "old_commune_sub": "Old commune {code} (before 1 July 2025)", "now_in": "Now part of",
        "district": "District", "special_zone": "special zone",
        "population": "Population",
        "min_main_before": "Minutes to main station, before", "min_main_after": "Minutes to main station, after",
        "min_nearest_after": "Minutes to nearest open station, after", "min_centre_after": "Minutes to regional centre, after",
        "min_own_before": "Minutes to own station, before", "min_centre_before": "Minutes to district centre, before",
        "main_station": "Main station", "regional_centre": "Regional centre",
        "staff_after": "Station staff, after", "staff_norm": "Staff norm (Circular 03/2023)", "gap": "Gap (staff − norm)",
        "staff_per_1000": "Staff per 1,000 residents", "station_staff_before": "Station staff, before",
        "norm_before": "Staff norm, before", "gap_before": "Gap, before",
        "staff_by_cadre": "Staff by cadre", "before": "Before", "after": "After", "total_staff": "Total staff",
        "norm": "Norm (Circular 03/2023)", "pop_served": "Population served",
        "station_sub": "Station {code} · {role}", "new_commune": "New commune",
        "beds": "Beds", "staff": "Staff", "doctors": "Doctors", "capacity": "Capacity (population)",
        "served_after": "Population served, after", "served_before": "Population served, before",
        "load": "Load (served / capacity)", "communes_served": "New communes served",
        "centre_sub": "Centre {code}", "at": "at", "dcentre_sub": "District health centre {code} (before the reform)",
        "legend_new": "New communes: {label} ({unit})", "legend_old_fill": "Old communes: {label} ({unit})",
        "no_data": "no data (no residents)",
        "sym_main": "Main station (trạm chính)", "sym_point": "Station point (điểm trạm)", "sym_closed": "Closed station",
        "sym_centre": "Regional centre (trung tâm y tế)", "sym_new_boundary": "New commune boundary",
        "sym_old_boundary": "Old commune boundary (before 1 July 2025)", "sym_catch": "Centre catchment boundary",
        "sym_line": "Line from commune to its centre (off at opening)",
        "gaps_head": "Staff gaps: staff minus norm at each open station, after (layer off at opening)",
        "gap_short": "shortfall (size: persons missing)", "gap_meets": "meets the norm", "gap_surplus": "surplus (size: persons above the norm)",
        "sym_before_station": "Station (one per old commune)", "sym_dcentre": "District health centre",
        "legend_note": "Click a commune, station or centre for details. Boundaries simplified for display.",
        "banner_sub": "{province} (province {code}) · scenario {scenario} · colour: {label}",
        "warn_pack": "Synthetic demo province: the whole geodata pack (boundaries, names, population) is made up, not real data",
        "warn_roster": "Synthetic roster: station staff and locations are simulated, not real data",
        "attribution": "boundaries simplified for display",
    },
    "vi": {
        "view": "Xem:", "view_after": "Sau sắp xếp", "view_before": "Trước sắp xếp", "view_compare": "So sánh hai bên",
        "label_after": "Sau sắp xếp (từ 1/7/2025)", "label_before": "Trước sắp xếp (đến 30/6/2025)",
        "search_placeholder": "Tìm xã/phường…", "search_label": "Tìm xã/phường theo tên",
        "search_none": "Không tìm thấy xã/phường", "search_new": "xã/phường mới", "search_old": "xã/phường cũ",
        "new_commune_sub": "Xã/phường mới {code} (từ 1/7/2025)",
        "old_commune_sub": "Xã/phường cũ {code} (trước 1/7/2025)", "now_in": "Nay thuộc",
        "district": "Huyện", "special_zone": "đặc khu",
        "population": "Dân số",
        "min_main_before": "Số phút tới trạm chính, trước sắp xếp", "min_main_after": "Số phút tới trạm chính, sau sắp xếp",
        "min_nearest_after": "Số phút tới trạm/điểm trạm gần nhất, sau sắp xếp",
        "min_centre_after": "Số phút tới trung tâm y tế khu vực, sau sắp xếp",
        "min_own_before": "Số phút tới trạm của xã, trước sắp xếp", "min_centre_before": "Số phút tới trung tâm y tế huyện, trước sắp xếp",
        "main_station": "Trạm y tế chính", "regional_centre": "Trung tâm y tế khu vực",
        "staff_after": "Nhân lực trạm, sau sắp xếp", "staff_norm": "Định mức nhân lực (Thông tư 03/2023)",
        "gap": "Chênh lệch (nhân lực − định mức)", "staff_per_1000": "Nhân lực trên 1.000 dân",
        "station_staff_before": "Nhân lực trạm, trước sắp xếp", "norm_before": "Định mức, trước sắp xếp",
        "gap_before": "Chênh lệch, trước sắp xếp",
        "staff_by_cadre": "Nhân lực theo chức danh", "before": "Trước", "after": "Sau", "total_staff": "Tổng nhân lực",
        "norm": "Định mức (Thông tư 03/2023)", "pop_served": "Dân số phục vụ",
        "station_sub": "Trạm {code} · {role}", "new_commune": "Xã/phường mới",
        "beds": "Giường bệnh", "staff": "Nhân lực", "doctors": "Bác sĩ", "capacity": "Công suất (dân số)",
        "served_after": "Dân số phục vụ, sau sắp xếp", "served_before": "Dân số phục vụ, trước sắp xếp",
        "load": "Mức tải (phục vụ / công suất)", "communes_served": "Số xã/phường mới phục vụ",
        "centre_sub": "Trung tâm {code}", "at": "tại", "dcentre_sub": "Trung tâm y tế huyện {code} (trước sắp xếp)",
        "legend_new": "Xã/phường mới: {label} ({unit})", "legend_old_fill": "Xã/phường cũ: {label} ({unit})",
        "no_data": "không có số liệu (không có dân)",
        "sym_main": "Trạm y tế chính", "sym_point": "Điểm trạm", "sym_closed": "Trạm đóng cửa",
        "sym_centre": "Trung tâm y tế khu vực", "sym_new_boundary": "Ranh giới xã/phường mới",
        "sym_old_boundary": "Ranh giới xã/phường cũ (trước 1/7/2025)", "sym_catch": "Ranh giới vùng phục vụ của trung tâm",
        "sym_line": "Đường từ xã/phường tới trung tâm (tắt khi mở bản đồ)",
        "gaps_head": "Thiếu nhân lực: nhân lực trừ định mức tại mỗi trạm, sau sắp xếp (lớp tắt khi mở bản đồ)",
        "gap_short": "thiếu (kích thước theo số người thiếu)", "gap_meets": "đạt định mức", "gap_surplus": "thừa (kích thước theo số người thừa)",
        "sym_before_station": "Trạm y tế (mỗi xã/phường cũ một trạm)", "sym_dcentre": "Trung tâm y tế huyện",
        "legend_note": "Bấm vào xã/phường, trạm hoặc trung tâm để xem chi tiết. Ranh giới được đơn giản hóa để hiển thị.",
        "banner_sub": "{province} (mã tỉnh {code}) · kịch bản {scenario} · màu: {label}",
        "warn_pack": "Tỉnh mô phỏng: toàn bộ dữ liệu địa lý (ranh giới, tên, dân số) là giả lập, không phải số liệu thực",
        "warn_roster": "Danh sách trạm mô phỏng: nhân lực và vị trí trạm là giả lập, không phải số liệu thực",
        "attribution": "ranh giới được đơn giản hóa để hiển thị",
    },
}


def _lang(lang) -> str:
    lang = (lang or "en").lower()
    if lang not in LANGS:
        raise ValueError(f"unknown map language '{lang}'; choose one of {', '.join(LANGS)}")
    return lang


def indicator_spec(indicator: str, lang: str = "en") -> dict:
    """Label, unit, breaks and colours of a map indicator in a language."""
    spec = dict(INDICATORS[indicator])
    if _lang(lang) == "vi":
        spec.update(INDICATORS_VI[indicator])
    return spec


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


def _vi_number(s: str) -> str:
    """1,234.5 -> 1.234,5 (Vietnamese separators)."""
    return s.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _num(x, digits: int = 0, lang: str = "en") -> str:
    if _isnan(x):
        return "–"
    x = float(x)
    s = f"{round(x):,}" if digits == 0 else f"{x:,.{digits}f}"
    return _vi_number(s) if lang == "vi" else s


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


def _label_point(g) -> list[float] | None:
    """[lat, lon] of a point inside the polygon (where a search opens its popup)."""
    if g is None or g.is_empty:
        return None
    p = g.representative_point()
    return [round(p.y, DECIMALS), round(p.x, DECIMALS)]


def _indicator_class(value, spec) -> int | None:
    if _isnan(value):
        return None
    return bisect.bisect_right(spec["breaks"], float(value))


def _class_labels(spec, lang: str = "en") -> list[str]:
    if "class_labels" in spec:
        return spec["class_labels"]
    b = spec["breaks"]
    d = spec["digits"]

    def f(v):
        s = f"{v:g}" if d == 0 else f"{v:.{d}f}".rstrip("0").rstrip(".")
        return _vi_number(s) if lang == "vi" else s

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


def _json_script(value) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


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
    """A script added to the document's script section where the element sits among the map's
    children. `__MAP__` becomes the map's variable, `__KEY__` the variable of `refs[KEY]`."""

    def __init__(self, js: str, name: str, refs: dict | None = None):
        super().__init__()
        self._name = name
        self._js = js
        self._refs = refs or {}

    def render(self, **kwargs):
        figure = self.get_root()
        js = self._js.replace("__MAP__", self._parent.get_name())
        for key, el in self._refs.items():
            js = js.replace(f"__{key}__", el.get_name())
        figure.script.add_child(_Raw(js), name=self.get_name())


class _GeoJson(folium.GeoJson):
    """folium.GeoJson whose data is written into the document after rendering: branca compiles
    every rendered script as a Jinja template, which for megabytes of GeoJSON costs most of the
    render time (and would choke on a name containing `{{`)."""

    def __init__(self, data: dict, **kwargs):
        super().__init__({"type": "FeatureCollection", "features": []}, **kwargs)
        self.real_data = data
        self.data = {"reorgData": "__REORG_DATA_PLACEHOLDER__"}

    def placeholder(self) -> str:
        return f'{{"reorgData": "__REORG_DATA_{self.get_name()}__"}}'


class OfflineMap(folium.Map):
    """A folium Map that links no CDN file (Leaflet is inlined by `render_map`)."""

    default_js: list = []
    default_css: list = []


_HELPERS_JS = r"""
<script>
var reorgStationPopups = {};
function reorgPopupOptions() {
    return {maxWidth: 440, autoPanPaddingTopLeft: [60, 170], autoPanPaddingBottomRight: [20, 30]};
}
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
    if (p.popup) {
        layer.bindPopup(p.popup, reorgPopupOptions());
        if (p.role) { reorgStationPopups[p.code] = p.popup; }
    } else if (p.popupOf) {
        // the same popup as the station's own marker, looked up when opened (one copy in the file)
        layer.bindPopup(function () { return reorgStationPopups[p.popupOf] || ''; }, reorgPopupOptions());
    }
    if (p.name && !p.icon) { layer.bindTooltip(p.name, {sticky: true, direction: 'top', opacity: 0.9}); }
    if (p.code) { layer.reorgCode = p.code; }
}
</script>
"""

#: the before/after views, the before map and the commune search (placeholders filled by _Script)
_APP_JS = r"""
(function () {
    var cfg = __CONFIG__;
    var T = cfg.text;
    var after = __MAP__;
    var layers = {newc: __NEW__, oldc: __OLD__, main: __MAIN__, point: __POINT__, closed: __CLOSED__, centres: __CENTRES__};
    var popupOpts = reorgPopupOptions();
    L.DomUtil.addClass(after.getContainer(), 'reorg-after-map');
    document.body.classList.add('reorg-view-after');

    function featuresOf(group) {
        var out = [];
        group.eachLayer(function (l) { if (l.feature) { out.push(l.feature); } });
        return out;
    }
    function viewLabel(map, text) {
        var c = L.control({position: 'bottomright'});
        c.onAdd = function () { var d = L.DomUtil.create('div', 'reorg-view-label'); d.textContent = text; return d; };
        c.addTo(map);
    }
    viewLabel(after, T.label_after);

    // ---- the map before the reform: built from the after map's features on first use
    var before = null, beforeLayers = null, beforeByCode = {};
    function buildBefore(center, zoom) {
        before = L.map('reorg-before-map', {zoomSnap: 0.25, zoomDelta: 0.5, center: center, zoom: zoom});
        before.createPane('reorgCommunes').style.zIndex = 401;
        before.createPane('reorgOutlines').style.zIndex = 402;
        before.createPane('reorgLines').style.zIndex = 403;
        before.createPane('reorgStations').style.zIndex = 404;
        before.attributionControl.setPrefix(false);
        before.attributionControl.addAttribution(cfg.attribution);
        L.control.scale({imperial: false, position: 'bottomright'}).addTo(before);
        viewLabel(before, T.label_before);
        var communes = L.geoJSON(featuresOf(layers.oldc), {
            pane: 'reorgCommunes',
            style: function (f) {
                return {fillColor: f.properties.fillBefore, fillOpacity: 0.78, color: '#525252', weight: 0.8, opacity: 0.9};
            },
            onEachFeature: function (f, l) {
                var p = f.properties;
                l.bindPopup(p.popupBefore, popupOpts);
                l.bindTooltip(p.name, {sticky: true, direction: 'top', opacity: 0.9});
                l.reorgCode = p.code;
                beforeByCode[p.code] = l;
            }
        });
        var st = featuresOf(layers.main).concat(featuresOf(layers.point), featuresOf(layers.closed))
            .filter(function (f) { return !f.properties.newSite; })
            .sort(function (a, b) { return a.properties.code < b.properties.code ? -1 : (a.properties.code > b.properties.code ? 1 : 0); });
        var stations = L.geoJSON(st, {
            pointToLayer: function (f, latlng) {
                return L.circleMarker(latlng, {pane: 'reorgStations', radius: 4.5, color: '#ffffff', weight: 1.2, opacity: 1,
                    fillColor: cfg.beforeStationColour, fillOpacity: 1,
                    className: 'reorg-before-st reorg-before-st-' + f.properties.code});
            },
            onEachFeature: function (f, l) {
                l.bindPopup(f.properties.popup, popupOpts);
                l.bindTooltip(f.properties.name, {sticky: true, direction: 'top', opacity: 0.9});
            }
        });
        var centres = L.geoJSON(featuresOf(layers.centres), {
            pointToLayer: function (f, latlng) {
                return L.marker(latlng, {keyboard: false, title: f.properties.name, icon: L.divIcon({
                    className: 'reorg-centre reorg-dcentre reorg-dc-' + f.properties.code, html: '<div></div>',
                    iconSize: [19, 19], iconAnchor: [9.5, 9.5], popupAnchor: [0, -9.5]})});
            },
            onEachFeature: function (f, l) { l.bindPopup(f.properties.popupBefore, popupOpts); }
        });
        beforeLayers = {communes: communes, stations: stations, centres: centres};
        var overlays = {};
        overlays[cfg.beforeLayerNames[0]] = communes;
        overlays[cfg.beforeLayerNames[1]] = stations;
        overlays[cfg.beforeLayerNames[2]] = centres;
        communes.addTo(before); stations.addTo(before); centres.addTo(before);
        L.control.layers(null, overlays, {collapsed: false, position: 'topleft'}).addTo(before);
        before.on('move zoomend', function () { follow(before, after); });
    }

    // ---- synchronised views
    var view = 'after', syncing = false;
    function follow(src, dst) {
        if (syncing || view !== 'compare' || !dst) { return; }
        syncing = true;
        dst.setView(src.getCenter(), src.getZoom(), {animate: false});
        syncing = false;
    }
    after.on('move zoomend', function () { follow(after, before); });

    var buttons = Array.prototype.slice.call(document.querySelectorAll('.reorg-view-btn'));
    function setView(v) {
        if (v === view || ['after', 'before', 'compare'].indexOf(v) < 0) { return; }
        var src = view === 'before' ? before : after;
        var bounds = src.getBounds(), center = src.getCenter(), zoom = src.getZoom();
        document.body.classList.remove('reorg-view-' + view);
        document.body.classList.add('reorg-view-' + v);
        if (v === 'compare') {  // the two maps sit below the banner
            var banner = document.getElementById('reorg-banner');
            document.body.style.setProperty('--reorg-top', Math.ceil(banner.getBoundingClientRect().bottom + 6) + 'px');
        }
        view = v;
        buttons.forEach(function (b) { b.setAttribute('aria-pressed', b.getAttribute('data-view') === v ? 'true' : 'false'); });
        syncing = true;
        if (v !== 'after' && !before) { buildBefore(center, zoom); }
        if (v === 'after') {
            after.invalidateSize({pan: false});
            after.setView(center, zoom, {animate: false});
        } else if (v === 'before') {
            before.invalidateSize({pan: false});
            before.setView(center, zoom, {animate: false});
        } else {
            after.invalidateSize({pan: false});
            before.invalidateSize({pan: false});
            after.fitBounds(bounds, {animate: false});
            before.setView(after.getCenter(), after.getZoom(), {animate: false});
        }
        syncing = false;
    }
    buttons.forEach(function (b) {
        b.addEventListener('click', function () { setView(b.getAttribute('data-view')); });
    });

    // ---- search by commune name, accent-insensitive
    function fold(s) {
        return String(s || '').replace(/[\u0111\u0110]/g, 'd').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
            .toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
    }
    var PREFIX = /^(xa|phuong|thi tran|dac khu) /;
    var index = [];
    function addItems(group, kind) {
        group.eachLayer(function (l) {
            var p = l.feature && l.feature.properties;
            if (!p || !p.name) { return; }
            var full = fold(p.name);
            index.push({kind: kind, code: p.code, name: p.name, sub: p.newName || '', full: full,
                        bare: full.replace(PREFIX, ''), layer: l, feature: l.feature});
        });
    }
    addItems(layers.newc, 'new');
    addItems(layers.oldc, 'old');
    function search(q) {
        q = fold(q);
        if (!q) { return []; }
        var hits = [];
        index.forEach(function (it) {
            var s;
            if (it.code === q || it.bare === q || it.full === q) { s = 0; }
            else if (it.bare.indexOf(q) === 0 || it.full.indexOf(q) === 0) { s = 1; }
            else if ((' ' + it.full).indexOf(' ' + q) >= 0) { s = 2; }
            else if (it.full.indexOf(q) >= 0) { s = 3; }
            else { return; }
            hits.push({s: s, k: it.kind === 'new' ? 0 : 1, it: it});
        });
        hits.sort(function (a, b) {
            return (a.s - b.s) || (a.k - b.k) || (a.it.bare < b.it.bare ? -1 : (a.it.bare > b.it.bare ? 1 : 0))
                || (a.it.code < b.it.code ? -1 : (a.it.code > b.it.code ? 1 : 0));
        });
        return hits.slice(0, 12).map(function (h) { return h.it; });
    }
    var highlight = null;
    function clearHighlight() { if (highlight) { highlight.remove(); highlight = null; } }
    function show(it) {
        var m0 = view === 'before' ? before : after;
        if (m0 && m0._animatingZoom) { m0.once('zoomend', function () { show(it); }); return; }
        var toBefore = view === 'before' || (view === 'compare' && it.kind === 'old');
        var map = toBefore ? before : after;
        var p = it.feature.properties;
        var at = p.lab ? L.latLng(p.lab[0], p.lab[1]) : it.layer.getBounds().getCenter();
        map.closePopup();
        clearHighlight();
        map.fitBounds(it.layer.getBounds(), {maxZoom: 12, paddingTopLeft: [40, 150], paddingBottomRight: [40, 40], animate: false});
        highlight = L.geoJSON(it.feature, {pane: 'reorgLines', interactive: false,
            style: function () { return {color: '#00a6d6', weight: 4, opacity: 1, fill: false, className: 'reorg-highlight'}; }}).addTo(map);
        var target = null, content;
        if (it.kind === 'new') {
            content = p.popup;
            if (!toBefore && after.hasLayer(layers.newc)) { target = it.layer; }
        } else {
            content = p.popupBefore;
            if (toBefore && beforeByCode[it.code] && before.hasLayer(beforeLayers.communes)) { target = beforeByCode[it.code]; }
        }
        if (target) { target.openPopup(at); } else { L.popup(popupOpts).setLatLng(at).setContent(content).openOn(map); }
        map.once('popupclose', clearHighlight);
    }
    var Search = L.Control.extend({
        options: {position: 'topleft'},
        onAdd: function () {
            var div = L.DomUtil.create('div', 'reorg-search leaflet-bar');
            div.id = 'reorg-search';
            var input = L.DomUtil.create('input', 'reorg-search-input', div);
            input.type = 'search';
            input.placeholder = T.search_placeholder;
            input.setAttribute('aria-label', T.search_label);
            input.autocomplete = 'off';
            input.spellcheck = false;
            var list = L.DomUtil.create('ul', 'reorg-search-results', div);
            list.setAttribute('role', 'listbox');
            var items = [], active = -1, picked = false;
            function render() {
                list.innerHTML = '';
                items.forEach(function (it, k) {
                    var li = L.DomUtil.create('li', 'reorg-search-item' + (k === active ? ' active' : ''), list);
                    li.setAttribute('role', 'option');
                    li.setAttribute('data-code', it.code);
                    li.setAttribute('data-kind', it.kind);
                    var b = L.DomUtil.create('b', '', li);
                    b.textContent = it.name;
                    var sm = L.DomUtil.create('small', '', li);
                    sm.textContent = it.kind === 'new' ? T.search_new + ' ' + it.code
                        : T.search_old + ' ' + it.code + (it.sub ? ' → ' + it.sub : '');
                    li.addEventListener('mousedown', function (e) { e.preventDefault(); pick(k); });
                });
                if (!items.length && input.value.trim() && !picked) {
                    L.DomUtil.create('li', 'reorg-search-none', list).textContent = T.search_none;
                }
            }
            function pick(k) {
                var it = items[k];
                if (!it) { return; }
                input.value = it.name;
                items = []; active = -1; picked = true; render();
                input.blur();
                show(it);
            }
            input.addEventListener('input', function () { picked = false; items = search(input.value); active = items.length ? 0 : -1; render(); });
            input.addEventListener('keydown', function (e) {
                if (e.key === 'ArrowDown') { active = Math.min(items.length - 1, active + 1); render(); e.preventDefault(); }
                else if (e.key === 'ArrowUp') { active = Math.max(0, active - 1); render(); e.preventDefault(); }
                else if (e.key === 'Enter') { pick(active < 0 ? 0 : active); e.preventDefault(); }
                else if (e.key === 'Escape') { input.value = ''; items = []; active = -1; render(); }
            });
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        }
    });
    new Search().addTo(after);

    window.reorgApp = {after: after, before: function () { return before; }, view: function () { return view; },
                       setView: setView, search: search, show: show, fold: fold};
    requestAnimationFrame(function () {
        requestAnimationFrame(function () {
            window.reorgDrawn = performance.now();
            document.body.setAttribute('data-reorg-drawn', '1');
        });
    });
})();
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
.reorg-banner .v { margin-top: 5px; font-size: 12px; display: flex; justify-content: center; align-items: center; flex-wrap: wrap; }
.reorg-banner .v span { margin-right: 6px; color: #444; }
.reorg-view-btn { font: inherit; font-size: 12px; padding: 2px 9px; border: 1px solid #8c8c8c; background: #fff;
  color: #222; cursor: pointer; margin-left: -1px; }
.reorg-view-btn:first-of-type { border-radius: 4px 0 0 4px; }
.reorg-view-btn:last-of-type { border-radius: 0 4px 4px 0; }
.reorg-view-btn[aria-pressed="true"] { background: #08306b; border-color: #08306b; color: #fff; }
.reorg-before-map { position: absolute; top: 0; bottom: 0; left: 0; width: 100%; display: none; }
body.reorg-view-before .reorg-before-map { display: block; }
body.reorg-view-before .reorg-after-map { display: none; }
body.reorg-view-compare .reorg-before-map { display: block; width: 50%; border-right: 2px solid #333; box-sizing: border-box;
  top: var(--reorg-top, 0px); }
body.reorg-view-compare .reorg-after-map { position: absolute !important; left: 50% !important; width: 50% !important;
  top: var(--reorg-top, 0px) !important; bottom: 0 !important; height: auto !important; }
body.reorg-view-compare .reorg-banner { max-width: 92vw; top: 4px; padding: 4px 14px; }
body.reorg-view-compare .reorg-legend .more { display: none; }
.reorg-view-label { display: none; background: rgba(255,255,255,0.92); border: 1px solid #999; border-radius: 4px;
  padding: 3px 8px; font-weight: 600; font-size: 13px; }
body.reorg-view-compare .reorg-view-label { display: block; }
.reorg-legend { position: fixed; bottom: 22px; left: 10px; z-index: 1001; background: rgba(255,255,255,0.95);
  border: 1px solid #999; border-radius: 6px; padding: 8px 10px; font-size: 12px; line-height: 1.35;
  max-height: 70vh; overflow-y: auto; box-shadow: 0 1px 5px rgba(0,0,0,0.35); max-width: 300px; }
.reorg-legend h4 { margin: 0 0 4px 0; font-size: 12.5px; }
.reorg-legend .row { display: flex; align-items: center; margin: 1px 0; }
.reorg-legend .sw { width: 22px; height: 13px; border: 1px solid #777; margin-right: 6px; flex: none; }
.reorg-legend .sym { width: 22px; height: 16px; margin-right: 6px; flex: none; display: flex;
  align-items: center; justify-content: center; }
.reorg-legend hr { border: 0; border-top: 1px solid #ccc; margin: 6px 0; }
.reorg-legend-before { display: none; }
body.reorg-view-before #reorg-legend { display: none; }
body.reorg-view-before .reorg-legend-before, body.reorg-view-compare .reorg-legend-before { display: block; }
body.reorg-view-compare .reorg-legend { max-height: 42vh; }
body.reorg-view-compare #reorg-legend { left: calc(50% + 10px); }
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
.reorg-search { background: #fff; width: 250px; }
.reorg-search input { width: 100%; box-sizing: border-box; border: 0; border-radius: 4px; padding: 6px 8px;
  font: inherit; font-size: 13px; background: #fff; }
.reorg-search-results { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow-y: auto; border-top: 1px solid #ddd; }
.reorg-search-results:empty { display: none; }
.reorg-search-results li { padding: 4px 8px; cursor: pointer; font-size: 12.5px; line-height: 1.3; }
.reorg-search-results li small { display: block; color: #666; font-size: 11px; }
.reorg-search-results li.active, .reorg-search-results li.reorg-search-item:hover { background: #e3eef9; }
.reorg-search-results li.reorg-search-none { color: #777; cursor: default; }
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
# popups, legends, banner


def _station_name(result, code: str, old_code: str, new_code: str, lang: str = "en") -> str:
    old = result.reformed.old
    if old_code and old_code in old.index:
        return str(old.at[old_code, "commune_name"])
    new = result.reformed.new
    if new_code in new.index:
        return f"{new.at[new_code, 'commune_name']} ({TEXT[lang]['special_zone']})"
    return code


def _commune_popup(code: str, row: pd.Series, station_names: dict, centre_names: dict, lang: str = "en") -> str:
    t = TEXT[lang]
    main = row.get("main_station_code")
    centre = row.get("centre_code")
    main_txt = f"{_esc(station_names.get(main, main))} <small>({_esc(main)})</small>" if isinstance(main, str) else "–"
    centre_txt = f"{_esc(centre_names.get(centre, centre))}" if isinstance(centre, str) else "–"
    gap = row.get("gap_after")
    gap_cls = ' class="neg"' if not _isnan(gap) and gap < 0 else ""
    rows = [
        (t["population"], _num(row.get("population"), 0, lang)),
        (t["min_main_before"], _num(row.get("minutes_main_before"), 1, lang)),
        (t["min_main_after"], _num(row.get("minutes_main_after"), 1, lang)),
        (t["min_nearest_after"], _num(row.get("minutes_nearest_after"), 1, lang)),
        (t["min_centre_after"], _num(row.get("minutes_centre_after"), 1, lang)),
        (t["main_station"], main_txt),
        (t["regional_centre"], centre_txt),
        (t["staff_after"], _num(row.get("staff_after"), 0, lang)),
        (t["staff_norm"], _num(row.get("norm_after"), 0, lang)),
        (t["gap"], f"<span{gap_cls}>{_signed(gap)}</span>"),
        (t["staff_per_1000"], _num(row.get("staff_per_1000"), 2, lang)),
    ]
    return (f'<div class="reorg-pop"><h3>{_esc(row["commune_name"])}</h3>'
            f'<div class="sub">{_esc(t["new_commune_sub"].format(code=code))}</div>'
            + _table(rows) + "</div>")


def _station_popup(code: str, name: str, st: pd.Series, new_name: str, lang: str = "en") -> str:
    t = TEXT[lang]
    cadres = CADRE_LABELS_VI if lang == "vi" else CADRE_LABELS
    roles = ROLE_LABELS_VI if lang == "vi" else ROLE_LABELS
    role = st.get("role", "")
    rows = [(cadres[c], _num(st.get(f"{c}_before"), 0, lang), _num(st.get(f"{c}_after"), 0, lang)) for c in cadres]
    rows.append((t["total_staff"], f"<b>{_num(st.get('staff_before'), 0, lang)}</b>", f"<b>{_num(st.get('staff_after'), 0, lang)}</b>"))
    rows.append((t["norm"], _num(st.get("norm_before"), 0, lang), _num(st.get("norm_after"), 0, lang)))
    rows.append((t["gap"], _signed(st.get("gap_before")), _signed(st.get("gap_after"))))
    rows.append((t["pop_served"], _num(st.get("served_pop_before"), 0, lang), _num(st.get("served_pop_after"), 0, lang)))
    table = _table(rows, head=(t["staff_by_cadre"], t["before"], t["after"]))
    return (f'<div class="reorg-pop"><h3>{_esc(name)}</h3>'
            f'<div class="sub">{_esc(t["station_sub"].format(code=code, role=roles.get(role, role)))}'
            f'<br>{_esc(t["new_commune"])}: {_esc(new_name)}</div>{table}</div>')


def _centre_popup(code: str, c: pd.Series, mc: pd.Series | None, lang: str = "en", before: bool = False) -> str:
    t = TEXT[lang]
    served_b = mc.get("served_pop_before") if mc is not None else float("nan")
    served = mc.get("served_pop_after") if mc is not None else float("nan")
    load = mc.get("load_after") if mc is not None else float("nan")
    communes = mc.get("communes_after") if mc is not None else float("nan")
    rows = [
        (t["beds"], _num(c.get("beds"), 0, lang)),
        (t["staff"], _num(c.get("staff"), 0, lang)),
        (t["doctors"], _num(c.get("doctors"), 0, lang)),
        (t["capacity"], _num(c.get("capacity"), 0, lang)),
    ]
    if before:
        rows.append((t["served_before"], _num(served_b, 0, lang)))
    else:
        rows += [
            (t["served_after"], _num(served, 0, lang)),
            (t["load"], "–" if _isnan(load) else f"{100 * float(load):.0f} %"),
            (t["communes_served"], _num(communes, 0, lang)),
        ]
    host = c.get("host_name")
    sub = _esc((t["dcentre_sub"] if before else t["centre_sub"]).format(code=code))
    if isinstance(host, str) and host:
        sub += f" · {_esc(t['at'])} {_esc(host)}"
    return f'<div class="reorg-pop"><h3>{_esc(c.get("name", code))}</h3><div class="sub">{sub}</div>{_table(rows)}</div>'


def _old_commune_popup(code: str, name: str, district: str, new_names: str, agg: dict | None,
                       st: dict | None, lang: str = "en") -> str:
    t = TEXT[lang]
    g = (lambda k: agg.get(k) if agg is not None else float("nan"))  # noqa: E731
    s = (lambda k: st.get(k) if st is not None else float("nan"))  # noqa: E731
    gap = s("gap_before")
    gap_cls = ' class="neg"' if not _isnan(gap) and gap < 0 else ""
    rows = [
        (t["population"], _num(g("population"), 0, lang)),
        (t["min_own_before"], _num(g("minutes_main_before"), 1, lang)),
        (t["min_main_after"], _num(g("minutes_main_after"), 1, lang)),
        (t["min_centre_before"], _num(g("minutes_centre_before"), 1, lang)),
        (t["station_staff_before"], _num(s("staff_before"), 0, lang)),
        (t["norm_before"], _num(s("norm_before"), 0, lang)),
        (t["gap_before"], f"<span{gap_cls}>{_signed(gap)}</span>"),
    ]
    sub = _esc(t["old_commune_sub"].format(code=code))
    if district:
        sub += f" · {_esc(t['district'])}: {_esc(district)}"
    if new_names:
        sub += f"<br>{_esc(t['now_in'])}: {_esc(new_names)}"
    return f'<div class="reorg-pop"><h3>{_esc(name)}</h3><div class="sub">{sub}</div>{_table(rows)}</div>'


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _point(lon, lat) -> dict:
    return {"type": "Point", "coordinates": [round(float(lon), DECIMALS), round(float(lat), DECIMALS)]}


def _line_svg(colour: str, width: float, dash: str | None = None) -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<svg width="22" height="10"><line x1="0" y1="5" x2="22" y2="5" stroke="{colour}" stroke-width="{width}"{d}/></svg>'


def _class_rows(spec, class_counts: list[int], has_nodata: bool, lang: str) -> list[str]:
    rows = []
    for colour, label, n in zip(spec["colours"], _class_labels(spec, lang), class_counts):
        rows.append(f'<div class="row"><span class="sw" style="background:{colour}"></span>{_esc(label)}'
                    f' <span style="color:#777">&nbsp;({n})</span></div>')
    if has_nodata:
        rows.append(f'<div class="row"><span class="sw" style="background:{NO_DATA}"></span>{_esc(TEXT[lang]["no_data"])}</div>')
    return rows


#: Staff gaps layer: one hue per sign, the marker's area grows with the persons missing or in surplus
GAP_COLOURS = {"short": "#d7301f", "meets": "#bdbdbd", "surplus": "#2171b5"}


def _gap_style(gap) -> dict:
    """Marker of a station on the Staff gaps layer: red shortfall, blue surplus, radius ~ sqrt(persons)."""
    g = 0 if _isnan(gap) else int(round(float(gap)))
    kind = "short" if g < 0 else "surplus" if g > 0 else "meets"
    radius = 4.0 if g == 0 else min(4.5 + 3.0 * math.sqrt(abs(g)), 20.0)
    return {"pane": "reorgGaps", "radius": round(radius, 2), "color": "#333333", "weight": 0.8, "opacity": 1,
            "fillColor": GAP_COLOURS[kind], "fillOpacity": 0.8}


def _legend_html(spec, class_counts: list[int], has_nodata: bool, counts: dict, lang: str = "en") -> str:
    t = TEXT[lang]
    rows = [f'<h4>{_esc(t["legend_new"].format(label=spec["label"], unit=spec["unit"]))}</h4>']
    rows += _class_rows(spec, class_counts, has_nodata, lang)
    rows.append('<div class="more"><hr>')
    sym = [
        (f'<svg width="18" height="18"><circle cx="9" cy="9" r="7" fill="{_COL["main"]}" stroke="#fff" stroke-width="1.5"/></svg>',
         f'{t["sym_main"]} ({counts["main"]})'),
        (f'<svg width="18" height="18"><circle cx="9" cy="9" r="4" fill="#fff" stroke="{_COL["point"]}" stroke-width="2"/></svg>',
         f'{t["sym_point"]} ({counts["point"]})'),
        (_CROSS_SVG, f'{t["sym_closed"]} ({counts["closed"]})'),
        ('<div class="reorg-centre"><div></div></div>', f'{t["sym_centre"]} ({counts["centre"]})'),
        (_line_svg(_COL["new"], 1.2), t["sym_new_boundary"]),
        (_line_svg(_COL["old"], 1, "3,2"), t["sym_old_boundary"]),
        (_line_svg(_COL["catch"], 3), t["sym_catch"]),
        (_line_svg(_COL["line"], 1.5, "5,4"), t["sym_line"]),
    ]
    for svg, label in sym:
        rows.append(f'<div class="row"><span class="sym">{svg}</span>{_esc(label)}</div>')
    rows.append(f'<hr><h4>{_esc(t["gaps_head"])}</h4>')
    for kind, r in (("short", 8), ("meets", 4), ("surplus", 8)):
        rows.append(f'<div class="row"><span class="sym"><svg width="18" height="18"><circle cx="9" cy="9" r="{r}" '
                    f'fill="{GAP_COLOURS[kind]}" fill-opacity="0.8" stroke="#333" stroke-width="0.8"/></svg></span>'
                    f'{_esc(t["gap_" + kind])} <span style="color:#777">&nbsp;({counts["gap_" + kind]})</span></div>')
    rows.append(f'<hr><div style="color:#555">{_esc(t["legend_note"])} reorg {_esc(__version__)}.</div></div>')
    return f'<div class="reorg-legend" id="reorg-legend">{"".join(rows)}</div>'


def _before_legend_html(spec, class_counts: list[int], has_nodata: bool, counts: dict, lang: str = "en") -> str:
    t = TEXT[lang]
    rows = [f'<h4>{_esc(t["legend_old_fill"].format(label=spec["label"], unit=spec["unit"]))}</h4>']
    rows += _class_rows(spec, class_counts, has_nodata, lang)
    rows.append('<div class="more"><hr>')
    sym = [
        (f'<svg width="18" height="18"><circle cx="9" cy="9" r="5" fill="{_COL["before_station"]}" stroke="#fff" stroke-width="1.2"/></svg>',
         f'{t["sym_before_station"]} ({counts["before_stations"]})'),
        ('<div class="reorg-centre"><div></div></div>', f'{t["sym_dcentre"]} ({counts["centre"]})'),
        (_line_svg(_COL["old"], 0.8), t["sym_old_boundary"]),
    ]
    for svg, label in sym:
        rows.append(f'<div class="row"><span class="sym">{svg}</span>{_esc(label)}</div>')
    rows.append(f'<hr><div style="color:#555">{_esc(t["legend_note"])}</div></div>')
    return f'<div class="reorg-legend reorg-legend-before" id="reorg-legend-before">{"".join(rows)}</div>'


def _banner_html(result, spec, lang: str = "en") -> str:
    t = TEXT[lang]
    sc = result.scenario
    pack = result.pack
    title = sc.title or sc.name
    sub = _esc(t["banner_sub"]).format(province=_esc(pack.province_name), code=_esc(pack.province_code),
                                       scenario=f"<code>{_esc(sc.name)}</code>", label=_esc(spec["label"]))
    parts = [f'<div class="t">{_esc(title)}</div>', f'<div class="s">{sub}</div>']
    warns = []
    if getattr(pack, "synthetic", False):
        warns.append(t["warn_pack"])
    if result.synthetic_roster:
        warns.append(t["warn_roster"])
    for w in warns:
        parts.append(f'<div class="warn">{_esc(w)}</div>')
    buttons = "".join(
        f'<button type="button" class="reorg-view-btn" data-view="{v}" aria-pressed="{"true" if v == "after" else "false"}">'
        f'{_esc(t["view_" + v])}</button>' for v in ("after", "before", "compare"))
    parts.append(f'<div class="v" role="group" aria-label="{_esc(t["view"])}"><span>{_esc(t["view"])}</span>{buttons}</div>')
    return f'<div class="reorg-banner" id="reorg-banner">{"".join(parts)}</div>'


def _old_commune_before(result) -> pd.DataFrame:
    """Per old commune: population and population-weighted minutes over its demand parts, and the
    names of the new communes it went to."""
    d = result.measures.demand
    cols = ["minutes_main_before", "minutes_main_after", "minutes_centre_before"]
    w = d["population"].astype(float).clip(lower=0)
    parts = pd.DataFrame({"old_code": d["old_code"].to_numpy(), "population": w.to_numpy()})
    for c in cols:
        v = d[c].astype(float)
        parts[c + "_w"] = (v * w).to_numpy()
        parts[c + "_s"] = v.to_numpy()
    g = parts.groupby("old_code", sort=True)
    out = pd.DataFrame({"population": g["population"].sum()})
    n = g.size()
    for c in cols:
        weighted = g[c + "_w"].sum() / out["population"].where(out["population"] > 0)
        plain = g[c + "_s"].sum() / n  # no residents: plain mean of the parts
        out[c] = weighted.fillna(plain)
    names = d.groupby("old_code", sort=True)["new_name"].agg(lambda s: ", ".join(sorted(set(map(str, s)))))
    out["new_names"] = names
    return out


# --------------------------------------------------------------------------------------------
# the map


def build_map(result) -> OfflineMap:
    """The folium map of a run (ids not yet made deterministic; use `render_map`)."""
    sc = result.scenario
    mp = sc.map or {}
    lang = _lang(mp.get("lang", "en"))
    t = TEXT[lang]
    names = dict(zip(_LAYER_KEYS, layer_names(lang)))
    indicator = mp.get("indicator", "minutes_main_after")
    if indicator not in INDICATORS:
        raise ValueError(f"unknown map indicator '{indicator}'; choose one of {', '.join(INDICATORS)}")
    spec = indicator_spec(indicator, lang)
    before_spec = BEFORE_SPEC_VI if lang == "vi" else BEFORE_SPEC
    reformed = result.reformed
    meas = result.measures
    new = reformed.new.sort_index()
    old = reformed.old.sort_index()
    communes = meas.communes.reindex(new.index).to_dict("index")  # plain dicts: row lookups are hot

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
    new_lab = {code: _label_point(g) for code, g in zip(new.index, new_disp)}
    old_lab = {code: _label_point(g) for code, g in zip(old.index, old_disp)}
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
    attribution = f"reorg {__version__} · Leaflet (BSD-2) · {t['attribution']}"
    m.add_child(_Script(
        "__MAP__.createPane('reorgCommunes').style.zIndex = 401;\n"
        "__MAP__.createPane('reorgOutlines').style.zIndex = 402;\n"
        "__MAP__.createPane('reorgLines').style.zIndex = 403;\n"
        "__MAP__.createPane('reorgStations').style.zIndex = 404;\n"
        "__MAP__.createPane('reorgGaps').style.zIndex = 405;\n"
        "L.control.scale({imperial: false, position: 'bottomright'}).addTo(__MAP__);\n"
        "__MAP__.attributionControl.setPrefix(false);\n"
        f"__MAP__.attributionControl.addAttribution({json.dumps(attribution, ensure_ascii=False)});\n",
        "ReorgPanes"), name="reorg_panes")

    station_names = {}
    st_meas = meas.stations
    stations = result.stations
    for code in st_meas.index:
        oc = st_meas.at[code, "old_code"] if "old_code" in st_meas else stations.at[code, "old_code"]
        nc = st_meas.at[code, "new_code"] if "new_code" in st_meas else stations.at[code, "new_code"]
        station_names[code] = _station_name(result, code, oc if isinstance(oc, str) else "", nc, lang)
    centre_names = {c: str(result.centres.at[c, "name"]) for c in result.centres.index}

    # --- New communes ---
    feats = []
    class_counts = [0] * len(spec["colours"])
    has_nodata = False
    for code, g in zip(new.index, new_disp):
        if g is None:
            continue
        row = communes[code]
        k = _indicator_class(row.get(indicator), spec)
        if k is None:
            has_nodata = True
            fill = NO_DATA
        else:
            class_counts[k] += 1
            fill = spec["colours"][k]
        feats.append({"type": "Feature", "id": code, "geometry": _mapping(g), "properties": {
            "code": code, "name": str(new.at[code, "commune_name"]), "lab": new_lab[code],
            "style": {"fillColor": fill, "fillOpacity": 0.78, "color": _COL["new"], "weight": 1.0, "opacity": 0.9},
            "popup": _commune_popup(code, row, station_names, centre_names, lang)}})
    layer_new = _GeoJson(_fc(feats), name=names["new"], on_each_feature=JsCode("reorgOnEachFeature"),
                               pane="reorgCommunes").add_to(m)

    # --- Old communes (outlines here; filled by minutes before the reform on the before map) ---
    agg = _old_commune_before(result).to_dict("index")
    st_by_old = st_meas[st_meas["old_code"].astype(str).isin(old.index)].sort_index()
    st_by_old = st_by_old[~st_by_old["old_code"].duplicated()].set_index("old_code").to_dict("index")
    old_names = old["commune_name"].astype(str).to_dict()
    districts = old["district_name"].to_dict() if "district_name" in old.columns else {}
    before_counts = [0] * len(before_spec["colours"])
    before_nodata = False
    feats = []
    for code, g in zip(old.index, old_disp):
        if g is None:
            continue
        a = agg.get(code)
        k = _indicator_class(a["minutes_main_before"] if a is not None else None, before_spec)
        if k is None:
            before_nodata = True
            fill = NO_DATA
        else:
            before_counts[k] += 1
            fill = before_spec["colours"][k]
        name = old_names[code]
        new_names = str(a["new_names"]) if a is not None and isinstance(a["new_names"], str) else ""
        district = districts.get(code, "")
        district = str(district) if isinstance(district, str) else ""
        st = st_by_old.get(code)
        feats.append({"type": "Feature", "id": code, "geometry": _mapping(g), "properties": {
            "code": code, "name": name, "newName": new_names, "lab": old_lab[code], "fillBefore": fill,
            "popupBefore": _old_commune_popup(code, name, district, new_names, a, st, lang),
            "style": {"fill": False, "color": _COL["old"], "weight": 0.8, "opacity": 0.85, "dashArray": "3,2"}}})
    layer_old = _GeoJson(_fc(feats), name=names["old"], pane="reorgOutlines", interactive=False).add_to(m)

    # --- Stations, by role ---
    counts = {"main": 0, "point": 0, "closed": 0, "centre": len(result.centres), "before_stations": 0,
              "gap_short": 0, "gap_meets": 0, "gap_surplus": 0}
    by_role = {"main": [], "point": [], "closed": []}
    gaps = []
    st_rows = st_meas.to_dict("index")
    st_lon, st_lat, st_origin = stations["lon"].to_dict(), stations["lat"].to_dict(), stations["origin"].to_dict()
    new_names_of = new["commune_name"].astype(str).to_dict()
    for code in sorted(st_meas.index):
        st = st_rows[code]
        role = st["role"]
        if role not in by_role or code not in stations.index:
            continue
        counts[role] += 1
        lon, lat = st_lon[code], st_lat[code]
        nc = st.get("new_code")
        new_name = new_names_of.get(nc, "")
        props = {"code": code, "name": station_names[code], "role": role,
                 "popup": _station_popup(code, station_names[code], st, new_name, lang)}
        if st_origin[code] == "new_site_needed":
            props["newSite"] = True  # not there before the reform
        else:
            counts["before_stations"] += 1
        if role == "main":
            props["style"] = {"pane": "reorgStations", "radius": 7, "color": "#ffffff", "weight": 1.5, "opacity": 1,
                              "fillColor": _COL["main"], "fillOpacity": 1, "className": f"reorg-main reorg-st-{code}"}
        elif role == "point":
            props["style"] = {"pane": "reorgStations", "radius": 4, "color": _COL["point"], "weight": 2, "opacity": 1,
                              "fillColor": "#ffffff", "fillOpacity": 1, "className": f"reorg-point reorg-st-{code}"}
        else:
            props["icon"] = {"className": f"reorg-closed reorg-st-{code}", "html": _CROSS_SVG, "size": [12, 12]}
        by_role[role].append({"type": "Feature", "id": code, "geometry": _point(lon, lat), "properties": props})
        if role in ("main", "point"):
            gap = st.get("gap_after")
            g0 = 0 if _isnan(gap) else int(round(float(gap)))
            counts["gap_short" if g0 < 0 else "gap_surplus" if g0 > 0 else "gap_meets"] += 1
            style = _gap_style(gap)
            style["className"] = f"reorg-gap reorg-gap-st-{code}"
            gaps.append((-abs(g0), code, {"type": "Feature", "id": code, "geometry": _point(lon, lat), "properties": {
                "code": code, "name": f"{station_names[code]}: {_signed(gap)}", "popupOf": code, "style": style}}))
    role_layers = {}
    for role in ("main", "point", "closed"):
        role_layers[role] = _GeoJson(_fc(by_role[role]), name=names[role], point_to_layer=JsCode("reorgPointToLayer"),
                                           on_each_feature=JsCode("reorgOnEachFeature")).add_to(m)

    # --- Regional centres ---
    feats = []
    for code in sorted(result.centres.index):
        c = result.centres.loc[code]
        mc = meas.centres.loc[code] if code in meas.centres.index else None
        feats.append({"type": "Feature", "id": code, "geometry": _point(c["lon"], c["lat"]), "properties": {
            "code": code, "name": str(c["name"]),
            "icon": {"className": f"reorg-centre reorg-c-{code}", "html": "<div></div>", "size": [19, 19]},
            "popup": _centre_popup(code, c, mc, lang),
            "popupBefore": _centre_popup(code, c, mc, lang, before=True)}})
    layer_centres = _GeoJson(_fc(feats), name=names["centres"], point_to_layer=JsCode("reorgPointToLayer"),
                                   on_each_feature=JsCode("reorgOnEachFeature")).add_to(m)

    # --- Centre catchments ---
    feats = []
    for ccode, g in catchments:
        feats.append({"type": "Feature", "id": ccode, "geometry": _mapping(_round_coords(g)), "properties": {
            "style": {"fill": False, "color": _COL["catch"], "weight": 3, "opacity": 0.9}}})
    _GeoJson(_fc(feats), name=names["catchments"], pane="reorgOutlines", interactive=False).add_to(m)

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
    _GeoJson(_fc(feats), name=names["lines"], pane="reorgLines", interactive=False, show=False).add_to(m)

    # --- Staff gaps (off at opening): largest gaps drawn first, small ones stay clickable on top ---
    _GeoJson(_fc([f for _, _, f in sorted(gaps, key=lambda x: (x[0], x[1]))]), name=names["gaps"],
                   point_to_layer=JsCode("reorgPointToLayer"), on_each_feature=JsCode("reorgOnEachFeature"),
                   show=False).add_to(m)

    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    # not animated: a zoom animation still running when the page reports itself drawn would undo
    # the first search's zoom (Leaflet ends an animation by moving to the animation's target)
    # on a wide screen the province opens clear of the legend (bottom left, about 320 px wide)
    m.add_child(_Script(f"__MAP__.fitBounds({json.dumps(bounds)}, "
                        "{paddingTopLeft: [window.innerWidth >= 1100 ? 330 : 10, 80], paddingBottomRight: [10, 10], "
                        "animate: false});\n", "ReorgFit"), name="reorg_fit")

    # --- before/after views and search (after every layer exists) ---
    config = {"text": {k: t[k] for k in ("label_after", "label_before", "search_placeholder", "search_label",
                                         "search_none", "search_new", "search_old")},
              "attribution": attribution, "beforeLayerNames": list(before_layer_names(lang)),
              "beforeStationColour": _COL["before_station"]}
    m.add_child(_Script(_APP_JS.replace("__CONFIG__", _json_script(config)), "ReorgApp",
                        refs={"NEW": layer_new, "OLD": layer_old, "MAIN": role_layers["main"], "POINT": role_layers["point"],
                              "CLOSED": role_layers["closed"], "CENTRES": layer_centres}), name="reorg_app")

    fig.html.add_child(_Raw(_banner_html(result, spec, lang), "Banner"), name="reorg_banner")
    fig.html.add_child(_Raw('<div id="reorg-before-map" class="reorg-before-map"></div>', "BeforeMap"), name="reorg_before_map")
    fig.html.add_child(_Raw(_legend_html(spec, class_counts, has_nodata, counts, lang), "Legend"), name="reorg_legend")
    fig.html.add_child(_Raw(_before_legend_html(before_spec, before_counts, before_nodata, counts, lang), "LegendBefore"),
                       name="reorg_legend_before")
    return m


def render_map(result) -> str:
    """The map of a run as one self-contained HTML document (utf-8, no network, deterministic)."""
    m = build_map(result)
    lang = _lang((result.scenario.map or {}).get("lang", "en"))
    fig = m.get_root()
    assert isinstance(fig, Figure)
    _assign_ids(fig)
    for el in m._children.values():
        if isinstance(el, _GeoJson):
            el.data = {"reorgData": f"__REORG_DATA_{el.get_name()}__"}
    doc = fig.render()
    for el in m._children.values():
        if isinstance(el, _GeoJson):
            ph = el.placeholder()
            if doc.count(ph) != 1:
                raise RuntimeError(f"data placeholder of {el.get_name()} not found once in the document")
            doc = doc.replace(ph, str(htmlsafe_json_dumps(el.real_data, dumps=json.dumps, sort_keys=True)))
    # strip trailing spaces folium templates leave behind (smaller, stable diffs)
    doc = re.sub(r"[ \t]+\n", "\n", doc)
    doc = re.sub(r"<html>", f'<html lang="{lang}">', doc, count=1)
    check_offline(doc)
    return doc
