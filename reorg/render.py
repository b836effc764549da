"""Render stage: one self-contained, offline HTML map of a run (`render_map(result) -> str`).

The page is built by `leaflet.offline_page` from the template ``templates/map.html`` (banner, legends)
and the script ``assets/map.js``; this module only draws: it turns the run's geometry and measures
(``result.measures``, computed by measure.py) into GeoJSON layers with their styles and popups.
Labels are in English or Vietnamese (the scenario's ``[map] lang``), from the ``[map]`` section of
the message files; the colour classes of the new communes (``[map] indicator``) and of the before map
come from the indicator table (``indicators.toml``, commune-scope rows).

The "after" map (Leaflet layer control): New communes (filled by the map indicator), Old communes
(thin outlines), Main stations, Station points, Closed stations, Regional centres, Centre catchments,
Lines to centre (off at opening) and Staff gaps (off at opening: each open station sized and coloured
by staff after minus the norm after; red shortfall, blue surplus).

A view switch in the banner shows the map after the reform, before it, or both side by side with
synchronised pan and zoom. The "before" map (its own layer control, `before_layer_names(lang)`)
draws the old communes coloured by minutes to their own station before the reform, every old station
and the district health centres; it reuses the after map's features and is built on first use. A
search box finds new and old communes by name, accent-insensitive ("dien chau" finds "Xã Diễn
Châu"). When every layer is drawn the page sets `window.reorgDrawn` (ms since navigation) and
`data-reorg-drawn` on <body> (used by the browser test and `benchmarks/map_load.py`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from markupsafe import Markup, escape

from . import __version__, fmt, i18n, indicators, leaflet, pages, tables
from . import map_popups as popups
from .map_geometry import DECIMALS, display_polygons, drop_small_holes, geojson, label_points, point, round_coords, unions

if TYPE_CHECKING:
    import pandas as pd

LANGS = i18n.LANGS
DEFAULT_INDICATOR = "minutes_main_after"
#: the indicator that colours the old communes on the before map
BEFORE_INDICATOR = "minutes_main_before"

LAYER_KEYS = ("new", "old", "main", "point", "closed", "centres", "catchments", "lines", "gaps")
BEFORE_LAYER_KEYS = ("communes", "stations", "centres")
#: layers off when the map opens
LAYERS_OFF = ("lines", "gaps")

#: colours of the map's symbols (legend and layers)
COLOURS = {
    "main": "#08306b",
    "point": "#2171b5",
    "closed": "#636363",
    "centre": "#7a0177",
    "catch": "#54278f",
    "old": "#525252",
    "new": "#252525",
    "line": "#7a0177",
    "before_station": "#01665e",
    "road": "#8c6d31",
    "demand": "#e6550d",
}
#: the layers of the real inputs, drawn only when the run has them, off at opening (issue 12)
INPUT_LAYER_KEYS = ("roads", "demand")
#: Staff gaps layer: one hue per sign, the marker's area grows with the persons missing or in surplus
GAP_COLOURS = {"short": "#d7301f", "meets": "#bdbdbd", "surplus": "#2171b5"}
#: panes keep the stacking order when layers are toggled
PANES = (("reorgCommunes", 401), ("reorgOutlines", 402), ("reorgLines", 403), ("reorgStations", 404), ("reorgGaps", 405))


def _lang(lang: str | None) -> str:
    lang = (lang or "en").lower()
    if lang not in LANGS:
        raise ValueError(f"unknown map language '{lang}'; choose one of {', '.join(LANGS)}")
    return lang


def layer_names(lang: str = "en") -> tuple[str, ...]:
    """Names of the after map's layers, in the order of its layer control."""
    words = popups.words("map.layer", _lang(lang))
    return tuple(words[k] for k in LAYER_KEYS)


def before_layer_names(lang: str = "en") -> tuple[str, ...]:
    """Names of the before map's layers, in the order of its layer control."""
    words = popups.words("map.before_layer", _lang(lang))
    return tuple(words[k] for k in BEFORE_LAYER_KEYS)


#: English layer names (after map)
LAYER_NAMES = layer_names("en")


def map_indicator(key: str) -> indicators.Indicator:
    """The indicator table's row of a province-map indicator (ValueError when it cannot colour the map)."""
    allowed = indicators.map_keys("commune")
    if key not in allowed:
        raise ValueError(f"unknown map indicator '{key}'; choose one of {', '.join(allowed)}")
    return indicators.get(key)


def gap_style(gap: Any) -> dict:
    """Marker of a station on the Staff gaps layer: red shortfall, blue surplus, radius ~ sqrt(persons)."""
    x = fmt.finite(gap)
    g = 0 if x is None else int(round(x))
    kind = "short" if g < 0 else "surplus" if g > 0 else "meets"
    radius = 4.0 if g == 0 else min(4.5 + 3.0 * math.sqrt(abs(g)), 20.0)
    return {
        "pane": "reorgGaps",
        "radius": round(radius, 2),
        "color": "#333333",
        "weight": 0.8,
        "opacity": 1,
        "fillColor": GAP_COLOURS[kind],
        "fillOpacity": 0.8,
    }


class _Classes:
    """Colours the features of one indicator and counts them per class (for the legend)."""

    def __init__(self, ind: indicators.Indicator, lang: str):
        self.ind = ind
        self.lang = lang
        self.colours = ind.colours()
        self.counts = [0] * len(self.colours)
        self.nodata = False

    def fill(self, value: Any) -> str:
        k = self.ind.map_class(fmt.finite(value))
        if k is None:
            self.nodata = True
            return indicators.no_data_colour()
        self.counts[k] += 1
        return self.colours[k]

    def legend(self) -> dict:
        return {
            "label": self.ind.label(self.lang),
            "unit": i18n.text(f"unit.{self.ind.unit}", self.lang),
            "classes": list(zip(self.colours, leaflet.class_labels(self.ind, self.lang), self.counts)),
            "nodata": self.nodata,
        }


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _rows(df: pd.DataFrame) -> dict[Any, dict[str, Any]]:
    """`df.to_dict("index")` (the same Python values), built column by column: several times faster."""
    cols = list(df.columns)
    values = [_native(df.iloc[:, i]) for i in range(len(cols))]
    return {key: dict(zip(cols, row)) for key, row in zip(df.index.tolist(), zip(*values))}


def _native(col: pd.Series) -> list[Any]:
    """The column's values as Python objects, as `to_dict` gives them (numpy scalars unboxed)."""
    out = col.tolist()
    if col.dtype == object:
        out = [v.item() if isinstance(v, np.generic) else v for v in out]
    return out


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ""


def input_layers(result: Any, lang: str) -> list[dict]:
    """The road network (the simplified graph's segments) with a road file, and the demand points
    (a circle per point, its area by residents) with a population raster: off at opening."""
    words = popups.words("map.layer", lang)
    dec = DECIMALS
    out: list[dict] = []
    lines = getattr(result.network, "road_lines", None)
    if lines is not None and len(lines):
        coords = [[[round(a, dec), round(b, dec)], [round(c, dec), round(d, dec)]] for a, b, c, d in lines.tolist()]
        road = {"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": coords}}
        road["properties"] = {"style": {"color": COLOURS["road"], "weight": 1.0, "opacity": 0.7}}
        data = _fc([road])
        out.append({"key": "roads", "name": str(escape(words["roads"])), "data": data, "show": False})
        out[-1].update(pane="reorgLines", interactive=False)
    if getattr(result, "population", None) is not None:
        d = result.reformed.demand
        top = max(float(d["population"].max()), 1.0)
        points = [
            {
                "type": "Feature",
                "geometry": point(lon, lat),
                "properties": {
                    "style": {
                        "radius": round(1.0 + 7.0 * math.sqrt(max(pop, 0.0) / top), 2),
                        "stroke": False,
                        "fillColor": COLOURS["demand"],
                        "fillOpacity": 0.55,
                        "pane": "reorgLines",
                        "interactive": False,
                    }
                },
            }
            for lon, lat, pop in zip(d["lon"].tolist(), d["lat"].tolist(), d["population"].astype(float).tolist())
        ]
        out.append({"key": "demand", "name": str(escape(words["demand"])), "data": _fc(points), "show": False, "points": True})
    return out


def render_map(result: Any) -> str:
    """The map of a run (a `pipeline.RunResult`) as one self-contained HTML document (utf-8, no
    network, the same bytes for the same result)."""
    sc = result.scenario
    mp = sc.map or {}
    lang = _lang(sc.lang)
    t = popups.words("map", lang)
    names = dict(zip(LAYER_KEYS, layer_names(lang)))
    after_classes = _Classes(map_indicator(mp.get("indicator", DEFAULT_INDICATOR)), lang)
    before_classes = _Classes(indicators.get(BEFORE_INDICATOR), lang)
    reformed, meas = result.reformed, result.measures
    new = reformed.new.sort_index()
    old = reformed.old.sort_index()
    communes = _rows(meas.communes.reindex(new.index))  # plain dicts: row lookups are hot

    # --- geometry for display ---
    new_disp = display_polygons(new.geometry.to_numpy())
    old_disp = display_polygons(old.geometry.to_numpy())
    centre_of = result.plan.centre_of.reindex(new.index)
    groups = {}
    for ccode in sorted(set(centre_of.dropna())):
        geoms = [g for g in new_disp[(centre_of == ccode).to_numpy()] if g is not None]
        if geoms:
            groups[ccode] = geoms
    catchments = [(ccode, drop_small_holes(u)) for ccode, u in zip(groups, unions(list(groups.values())))]
    new_lab = dict(zip(new.index, label_points(new_disp)))
    old_lab = dict(zip(old.index, label_points(old_disp)))
    new_geo = dict(zip(new.index, geojson(round_coords(new_disp))))
    old_geo = dict(zip(old.index, geojson(round_coords(old_disp))))
    catch_geo = geojson(round_coords(np.array([g for _, g in catchments], dtype=object)))

    # --- names ---
    new_names = new["commune_name"].astype(str).to_dict()
    old_names = old["commune_name"].astype(str).to_dict()
    st_rows = _rows(meas.stations)
    stations = result.stations
    st_lon, st_lat, st_origin = stations["lon"].to_dict(), stations["lat"].to_dict(), stations["origin"].to_dict()
    st_old = stations["old_code"].to_dict()
    st_new = stations["new_code"].to_dict()
    station_names = {}
    for code, st in st_rows.items():
        oc = _text(st.get("old_code", st_old.get(code)))
        nc = st.get("new_code", st_new.get(code))
        if oc in old_names:
            station_names[code] = old_names[oc]
        elif nc in new_names:
            station_names[code] = f"{new_names[nc]} ({t['special_zone']})"
        else:
            station_names[code] = code
    centres = _rows(result.centres)
    centre_names = {c: str(row["name"]) for c, row in centres.items()}

    # --- New communes ---
    features: dict[str, list[dict]] = {k: [] for k in LAYER_KEYS}
    for code in new.index:
        if new_geo[code] is None:
            continue
        row = communes[code]
        features["new"].append(
            {
                "type": "Feature",
                "id": code,
                "geometry": new_geo[code],
                "properties": {
                    "code": code,
                    "name": new_names[code],
                    "lab": new_lab[code],
                    "style": {
                        "fillColor": after_classes.fill(row.get(after_classes.ind.key)),
                        "fillOpacity": 0.78,
                        "color": COLOURS["new"],
                        "weight": 1.0,
                        "opacity": 0.9,
                    },
                    "popup": popups.commune(code, row, station_names, centre_names, lang),
                },
            }
        )

    # --- Old communes (outlines here; filled by minutes before the reform on the before map) ---
    agg = _rows(meas.old_communes)
    st_meas = meas.stations
    st_by_old = st_meas[st_meas["old_code"].astype(str).isin(old.index)].sort_index()
    st_by_old = _rows(st_by_old[~st_by_old["old_code"].duplicated()].set_index("old_code"))
    districts = old["district_name"].to_dict() if "district_name" in old.columns else {}
    for code in old.index:
        if old_geo[code] is None:
            continue
        a = agg.get(code)
        name = old_names[code]
        went_to = _text(a["new_names"]) if a is not None else ""
        features["old"].append(
            {
                "type": "Feature",
                "id": code,
                "geometry": old_geo[code],
                "properties": {
                    "code": code,
                    "name": name,
                    "newName": went_to,
                    "lab": old_lab[code],
                    "fillBefore": before_classes.fill(a["minutes_main_before"] if a is not None else None),
                    "popupBefore": popups.old_commune(
                        code, name, _text(districts.get(code)), went_to, a, st_by_old.get(code), lang
                    ),
                    "style": {"fill": False, "color": COLOURS["old"], "weight": 0.8, "opacity": 0.85, "dashArray": "3,2"},
                },
            }
        )

    # --- Stations by role, and their staff gaps ---
    counts = {
        "main": 0,
        "point": 0,
        "closed": 0,
        "centre": len(centres),
        "before_stations": 0,
        "gap_short": 0,
        "gap_meets": 0,
        "gap_surplus": 0,
    }
    cross = pages.asset("closed.svg")
    gaps = []
    for code in sorted(st_rows):
        st = st_rows[code]
        role = st["role"]
        if role not in ("main", "point", "closed") or code not in st_lon:
            continue
        counts[role] += 1
        geometry = point(st_lon[code], st_lat[code])
        props: dict[str, Any] = {
            "code": code,
            "name": station_names[code],
            "role": role,
            "popup": popups.station(code, station_names[code], st, new_names.get(st.get("new_code"), ""), lang),
        }
        if st_origin[code] == "new_site_needed":
            props["newSite"] = True  # not there before the reform
        else:
            counts["before_stations"] += 1
        if role == "main":
            props["style"] = {
                "pane": "reorgStations",
                "radius": 7,
                "color": "#ffffff",
                "weight": 1.5,
                "opacity": 1,
                "fillColor": COLOURS["main"],
                "fillOpacity": 1,
                "className": f"reorg-main reorg-st-{code}",
            }
        elif role == "point":
            props["style"] = {
                "pane": "reorgStations",
                "radius": 4,
                "color": COLOURS["point"],
                "weight": 2,
                "opacity": 1,
                "fillColor": "#ffffff",
                "fillOpacity": 1,
                "className": f"reorg-point reorg-st-{code}",
            }
        else:
            props["icon"] = {"className": f"reorg-closed reorg-st-{code}", "html": cross, "size": [12, 12]}
        features[role].append({"type": "Feature", "id": code, "geometry": geometry, "properties": props})
        if role != "closed":
            gap = st.get("gap_after")
            x = fmt.finite(gap)
            g0 = 0 if x is None else int(round(x))
            counts["gap_short" if g0 < 0 else "gap_surplus" if g0 > 0 else "gap_meets"] += 1
            style = gap_style(gap)
            style["className"] = f"reorg-gap reorg-gap-st-{code}"
            gaps.append(
                (
                    -abs(g0),
                    code,
                    {
                        "type": "Feature",
                        "id": code,
                        "geometry": geometry,
                        "properties": {
                            "code": code,
                            "name": f"{station_names[code]}: {fmt.signed(gap, 0, lang)}",
                            "popupOf": code,
                            "style": style,
                        },
                    },
                )
            )
    # largest gaps drawn first, small ones stay clickable on top
    features["gaps"] = [f for _, _, f in sorted(gaps, key=lambda x: (x[0], x[1]))]

    # --- Regional centres, their catchments and the lines to them ---
    centre_meas = _rows(meas.centres)
    for code in sorted(centres):
        c, mc = centres[code], centre_meas.get(code)
        features["centres"].append(
            {
                "type": "Feature",
                "id": code,
                "geometry": point(c["lon"], c["lat"]),
                "properties": {
                    "code": code,
                    "name": centre_names[code],
                    "icon": {"className": f"reorg-centre reorg-c-{code}", "html": "<div></div>", "size": [19, 19]},
                    "popup": popups.centre(code, c, mc, lang),
                    "popupBefore": popups.centre(code, c, mc, lang, before=True),
                },
            }
        )
    for (ccode, _), geo in zip(catchments, catch_geo):
        features["catchments"].append(
            {
                "type": "Feature",
                "id": ccode,
                "geometry": geo,
                "properties": {"style": {"fill": False, "color": COLOURS["catch"], "weight": 3, "opacity": 0.9}},
            }
        )
    admin_lon, admin_lat = new["admin_lon"].to_dict(), new["admin_lat"].to_dict()
    for code in new.index:
        ccode = centre_of.get(code)
        if not isinstance(ccode, str) or ccode not in centres:
            continue
        lon, lat = fmt.finite(admin_lon[code]), fmt.finite(admin_lat[code])
        if lon is None or lat is None:
            p = new.geometry[code].representative_point()
            lon, lat = p.x, p.y
        c = centres[ccode]
        line = {"type": "LineString", "coordinates": [point(lon, lat)["coordinates"], point(c["lon"], c["lat"])["coordinates"]]}
        features["lines"].append(
            {
                "type": "Feature",
                "id": code,
                "geometry": line,
                "properties": {"style": {"color": COLOURS["line"], "weight": 1.5, "opacity": 0.8, "dashArray": "5,4"}},
            }
        )

    # --- the page ---
    layer_options: dict[str, dict[str, Any]] = {
        "new": {"pane": "reorgCommunes", "popups": True},
        "old": {"pane": "reorgOutlines", "interactive": False},
        "main": {"points": True, "popups": True},
        "point": {"points": True, "popups": True},
        "closed": {"points": True, "popups": True},
        "centres": {"points": True, "popups": True},
        "catchments": {"pane": "reorgOutlines", "interactive": False},
        "lines": {"pane": "reorgLines", "interactive": False},
        "gaps": {"points": True, "popups": True},
    }
    layers = [
        {"key": k, "name": str(escape(names[k])), "data": _fc(features[k]), "show": k not in LAYERS_OFF, **layer_options[k]}
        for k in LAYER_KEYS
    ] + input_layers(result, lang)
    minx, miny, maxx, maxy = shapely.total_bounds(new.geometry.to_numpy())
    dec = DECIMALS
    attribution = leaflet.attribution(t["attribution"])
    data = {
        "map": {
            "center": [round((miny + maxy) / 2, dec), round((minx + maxx) / 2, dec)],
            "zoom": 9,
            "bounds": [[round(miny, dec), round(minx, dec)], [round(maxy, dec), round(maxx, dec)]],
            "attribution": attribution,
            "panes": [list(p) for p in PANES],
            "layers": layers,
        },
        "app": {
            "text": {
                k: t[k]
                for k in (
                    "label_after",
                    "label_before",
                    "search_placeholder",
                    "search_label",
                    "search_none",
                    "search_new",
                    "search_old",
                )
            },
            "attribution": attribution,
            "beforeLayerNames": [str(escape(n)) for n in before_layer_names(lang)],
            "beforeStationColour": COLOURS["before_station"],
        },
    }
    pack = result.pack
    warns = i18n.notices(tables.synthetic_flags(result), lang) + tables.travel_notices(result, lang)
    banner = {
        "title": sc.title or sc.name,
        "province": pack.province_name,
        "code": pack.province_code,
        "scenario": sc.name,
        "label": after_classes.ind.label(lang),
        "warns": warns,
    }
    return leaflet.offline_page(
        "map.html",
        lang=lang,
        title=f"{sc.title or sc.name} · {pack.province_name}",
        data=data,
        script="map.js",
        banner=banner,
        after=after_classes.legend(),
        before=before_classes.legend(),
        counts=counts,
        colours=COLOURS,
        gap_colours=GAP_COLOURS,
        cross_svg=Markup(cross),
        no_data=indicators.no_data_colour(),
        version=__version__,
    )
