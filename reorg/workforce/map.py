"""The plan's map (issue 13 point 4): plan/map.html, an offline Leaflet page (`leaflet.offline_page`,
``templates/map_plan.html``, ``assets/map_plan.js``) with the open stations coloured by their gap
in the year chosen with a year selector, and a popup per station and year with its staff by cadre
(stock at the end of the year, hires, leavers), the doctors rotated in, its shortfall per target
and, for a main station, whether it meets the national criteria.

A station's gap in a year is its shortfall summed over the targets on (`PlanResult.shortfall`),
the province's doctors per 10,000 residents left out (not a station's). The colour classes are the
indicator table's row `plan_station_gap`. Every text from input files (station names, codes) is
escaped in the popups and travels as JSON data; words come from [plan_map] and [plan_target].
"""

from __future__ import annotations

from typing import Any

import numpy as np
from markupsafe import escape

from .. import __version__, fmt, i18n, indicators, leaflet, map_popups, tables
from ..map_geometry import display_polygons, geojson, round_coords
from ..render import COLOURS
from ..schema import CADRES
from .targets import BY_KEY

GAP = "plan_station_gap"
DECIMALS = 5  # coordinates: about a metre
#: the new communes' outlines under the stations (panes keep that order when layers are toggled)
PANES = (("reorgCommunes", 401), ("reorgStations", 404))
OUTLINE_STYLE = {"color": COLOURS["new"], "weight": 0.8, "opacity": 0.7, "fill": False}


def station_targets(on: tuple[str, ...]) -> tuple[str, ...]:
    """The targets on that a station can fall short of (not the province's)."""
    return tuple(k for k in on if BY_KEY[k].scope != "province")


def gaps(plan: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each station's gap per year (J x T) and each station target's shortfall (J x T)."""
    inst = plan.inst
    each = {k: np.asarray(plan.shortfall(k)) for k in station_targets(plan.settings.targets)}
    total = sum(each.values(), np.zeros((len(inst.codes), len(inst.years)), dtype=int))
    return np.asarray(total, dtype=int), each


def popup(plan: Any, j: int, t: int, name: str, gap: int, each: dict[str, np.ndarray], words: dict[str, str], lang: str) -> str:
    """Station j's popup for year index t (names escaped here)."""
    inst, tr = plan.inst, plan.trajectory
    year = inst.years[t]
    role = words["role_main"] if inst.main[j] else words["role_point"]
    sub = escape(words["sub"].format(role=role, code=inst.codes[j], year=year))
    n = lambda v: fmt.count(v, lang)  # noqa: E731
    rows = [
        (i18n.text(f"cadre.{c}", lang), n(tr.stock[j, k, t]), n(plan.schedule.hires[j, k, t]), n(tr.leavers[j, k, t]))
        for k, c in enumerate(CADRES)
    ]
    staff = map_popups.table(rows, head=(words["col_cadre"], words["col_stock"], words["col_hires"], words["col_leavers"]))
    facts = [(words["col_rotated"], n(tr.rotated[j, t])), (words["gap_row"].format(year=year), f"<b>{n(gap)}</b>")]
    facts += [(i18n.text(f"plan_target.name_{k}", lang), n(v[j, t])) for k, v in each.items()]
    if inst.main[j]:
        facts.append((words["upgraded"], escape(words["yes"] if tr.upgraded[j, t] else words["no"])))
    return map_popups.popup(name, str(sub), staff + map_popups.table(facts))


def commune_outlines(result: Any) -> dict:
    """The run's new communes as outlines (GeoJSON, simplified for display as on the run's map)."""
    new = result.reformed.new.sort_index()
    shapes = geojson(round_coords(display_polygons(new.geometry.to_numpy())))
    features = [
        {"type": "Feature", "id": code, "geometry": g, "properties": {"style": OUTLINE_STYLE}}
        for code, g in zip(new.index, shapes)
        if g is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def render_plan_map(result: Any, lang: str = i18n.DEFAULT_LANG) -> str:
    """plan/map.html of a run with a plan (offline, the same bytes for the same run)."""
    plan = result.workforce
    inst = plan.inst
    words = i18n.section("plan_map", lang)
    ind = indicators.get(GAP)
    colours = list(ind.colours())
    total, each = gaps(plan)
    names = tables.station_names(result)
    st = result.stations.loc[inst.codes]
    lon, lat = st["lon"].to_numpy(float), st["lat"].to_numpy(float)
    years = list(inst.years)
    start = 0
    features, counts = [], [[0] * len(colours) for _ in years]
    for j, code in enumerate(inst.codes):
        classes = [int(ind.map_class(int(g)) or 0) for g in total[j]]
        for t, k in enumerate(classes):
            counts[t][k] += 1
        name = names.get(code, code) or code
        popups = [popup(plan, j, t, name, int(total[j, t]), each, words, lang) for t in range(len(years))]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(float(lon[j]), DECIMALS), round(float(lat[j]), DECIMALS)]},
                "properties": {
                    "code": code,
                    "name": f"{name} ({code})",
                    "classes": classes,
                    "gaps": [int(g) for g in total[j]],
                    "popups": popups,
                    "style": {
                        "radius": 7 if inst.main[j] else 4.5,
                        "fillColor": colours[classes[start]],
                        "fillOpacity": 0.9,
                        "color": "#333333",
                        "weight": 1.2 if inst.main[j] else 0.6,
                        "pane": "reorgStations",
                    },
                },
            }
        )
    ok = np.isfinite(lon) & np.isfinite(lat)
    if ok.any():
        bounds = [[float(lat[ok].min()), float(lon[ok].min())], [float(lat[ok].max()), float(lon[ok].max())]]
    else:
        bounds = [[8.0, 102.0], [23.5, 110.0]]
    bounds = [[round(v, DECIMALS) for v in corner] for corner in bounds]
    centre = [round((bounds[0][0] + bounds[1][0]) / 2, DECIMALS), round((bounds[0][1] + bounds[1][1]) / 2, DECIMALS)]
    targets = ", ".join(i18n.text(f"plan_target.name_{k}", lang) for k in station_targets(plan.settings.targets))
    data = {
        "map": {
            "center": centre,
            "zoom": 9,
            "bounds": bounds,
            "attribution": leaflet.attribution(words["attribution"]),
            "panes": [list(p) for p in PANES],
            "layers": [
                {
                    "key": "stations",
                    "name": str(escape(words["layer"])),
                    "points": True,
                    "popups": False,  # bound by map_plan.js, the year's popup
                    "data": {"type": "FeatureCollection", "features": features},
                },
                {
                    "key": "communes",
                    "name": str(escape(words["layer_communes"])),
                    "pane": "reorgCommunes",
                    "interactive": False,
                    "data": commune_outlines(result),
                },
            ],
        },
        "years": years,
        "colours": colours,
        "counts": counts,
        "heads": [words["legend_head"].format(year=y) for y in years],
    }
    flags = tables.synthetic_flags(result)
    title = result.scenario.title or result.scenario.name
    page = {
        "title": words["title"].format(title=title),
        "sub": i18n.text(
            "plan_report.byline",
            lang,
            code=result.pack.province_code,
            name=result.pack.province_name,
            scenario=result.scenario.name,
            seed=result.scenario.seed,
            version=__version__,
        ),
        "warns": i18n.notices({k: bool(flags.get(k)) for k in i18n.NOTICE_KEYS}, lang),
        "years": years,
        "start": start,
        "head": words["legend_head"].format(year=years[start]),
        "classes": list(zip(colours, leaflet.class_labels(ind, lang), counts[start])),
        "note": words["note"].format(targets=targets),
    }
    return leaflet.offline_page(
        "map_plan.html",
        lang=lang,
        title=page["title"],
        data=data,
        script="map_plan.js",
        page=page,
        version=__version__,
    )
