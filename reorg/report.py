"""Report stage: summary.json (the contract other tools read), report.md, report.html,
decisions.gpkg and CSV tables of every decision.

summary.json keys are documented in the README and are stable.
"""
from __future__ import annotations

import html
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import params as P
from .schema import CADRES

SYNTHETIC_ROSTER_NOTICE = ("Synthetic roster: station locations and staff are simulated (seeded), not real data. "
                           "Station locations and staff rosters are not public; give a roster CSV to use real ones.")
SYNTHETIC_PACK_NOTICE = "Synthetic demo province: every boundary, name and figure of this run is made up."
SYNTHETIC_CENTRES_NOTICE = "Regional centres: beds, staff and capacity are synthetic (seeded rules from DOMAIN.md defaults)."

INDICATOR_LABELS = {
    "population": ("Population", "persons"),
    "open_stations": ("Open stations and points", "sites"),
    "main_stations": ("Main stations", "stations"),
    "pop_minutes_nearest_facility": ("Mean minutes to the nearest station or point", "min"),
    "pop_minutes_main_station": ("Mean minutes to one's main station", "min"),
    "pop_minutes_regional_centre": ("Mean minutes to one's regional centre", "min"),
    "pop_share_within_30min": ("Population within 30 min of a facility", "share"),
    "pop_share_within_60min": ("Population within 60 min of a facility", "share"),
    "pop_share_main_station_within_30min": ("Population within 30 min of its main station", "share"),
    "pop_share_main_station_within_60min": ("Population within 60 min of its main station", "share"),
    "pop_share_centre_within_60min": ("Population within 60 min of its centre", "share"),
    "main_stations_with_doctor_share": ("Main stations with at least one doctor", "share"),
    "stations_meeting_norm_share": ("Open sites meeting the Circular 03/2023 norm", "share"),
    "staff_norm_total": ("Staff required by the norm", "persons"),
    "staff_total": ("Station staff", "persons"),
    "staff_shortfall_total": ("Staff shortfall against the norm", "persons"),
    "doctor_shortfall_main_stations": ("Doctors missing at main stations (vs minimum)", "doctors"),
    "doctors_total": ("Station doctors", "doctors"),
    "doctors_per_10k": ("Station doctors per 10,000 residents", "/10k"),
    "population_per_health_worker": ("Residents per station health worker", "persons"),
    "gini_minutes_nearest_facility": ("Gini of minutes to the nearest facility", "0..1"),
    "gini_minutes_main_station": ("Gini of minutes to the main station", "0..1"),
    "pop_minutes_nearest_facility_urban": ("Minutes to nearest facility, urban", "min"),
    "pop_minutes_nearest_facility_lowland": ("Minutes to nearest facility, lowland", "min"),
    "pop_minutes_nearest_facility_mountain": ("Minutes to nearest facility, mountain", "min"),
    "centres_over_capacity": ("Regional centres over capacity", "centres"),
    "centre_excess_population": ("Population above centre capacity", "persons"),
}


def _clean(x):
    """JSON-safe, rounded values (floats to 6 significant decimals, NaN to null)."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if not math.isfinite(x) else round(x, 6)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def staff_totals(frame: pd.DataFrame) -> dict:
    out = {c: int(frame[c].sum()) for c in CADRES}
    out["total"] = int(sum(out.values()))
    return out


def build_summary(result) -> dict:
    r = result
    m = r.measures
    roles = r.plan.roles.value_counts()
    before_staff = staff_totals(r.stations)
    after_staff = staff_totals(r.plan.staff_after)
    moves = r.plan.moves
    moved = int(moves.loc[moves["from_station"] != "hire", "persons"].sum()) if len(moves) else 0
    return _clean({
        "reorg_version": r.version,
        "scenario": {"name": r.scenario.name, "title": r.scenario.title, "source": r.scenario.source, "seed": r.scenario.seed,
                     "policy": r.scenario.policy, "params_overridden": {k: v for k, v in r.scenario.params.items() if v != P.BY_NAME[k].default},
                     "map": dict(r.scenario.map)},
        "province": {"code": r.pack.province_code, "name": r.pack.province_name},
        "synthetic_roster": bool(r.synthetic_roster),
        "synthetic_pack": bool(r.pack.synthetic),
        "synthetic_centres": True,
        "counts": {
            "old_communes": int(len(r.reformed.old)),
            "new_communes": int(len(r.reformed.new)),
            "stations": int(len(r.stations)),
            "main_stations": int(roles.get("main", 0)),
            "point_stations": int(roles.get("point", 0)),
            "closed_stations": int(roles.get("closed", 0)),
            "regional_centres": int(len(r.centres)),
            "split_old_communes": int(r.reformed.demand.loc[r.reformed.demand["split"], "old_code"].nunique()),
            "special_zone_stations": int((r.stations["origin"] == "special_zone_synthetic").sum()),
            "new_sites_needed": int((r.stations["origin"] == "new_site_needed").sum()),
        },
        "staff": {"before": before_staff, "after": after_staff, "moved": moved,
                  "hired": int(sum(r.plan.hired.values())), "lost": int(sum(r.plan.lost.values())),
                  "hired_by_cadre": {c: int(r.plan.hired.get(c, 0)) for c in CADRES},
                  "lost_by_cadre": {c: int(r.plan.lost.get(c, 0)) for c in CADRES},
                  "person_minutes_moved": float((moves.loc[moves["from_station"] != "hire", "persons"] * moves.loc[moves["from_station"] != "hire", "minutes"]).sum()) if len(moves) else 0.0},
        "indicators": {"before": m.before, "after": m.after},
        "extremes": m.extremes,
        "decision_rules": r.plan.rules,
        "network": {"ferry_links": r.network.ferry_links, "pieces_without_land_link": r.network.n_components_before_ferries - 1,
                    "nodes": r.network.graph.number_of_nodes(), "edges": r.network.graph.number_of_edges(),
                    "shortest_path_method": "scipy.sparse.csgraph.dijkstra from every facility"},
        "warnings": [p.format() for p in r.warnings],
        "solver": r.plan.solver_summary(),
        "diagnoses": r.plan.diagnoses,
    })


# ---------------------------------------------------------------- tables

def station_table(result) -> pd.DataFrame:
    r = result
    st = r.measures.stations
    old = r.reformed.old
    t = pd.DataFrame({
        "station_code": st.index,
        "station_name": [old["commune_name"].get(o, "") if o else r.reformed.new["commune_name"].get(n, "") for o, n in zip(st["old_code"], st["new_code"])],
        "old_commune_code": st["old_code"].to_numpy(),
        "new_commune_code": st["new_code"].to_numpy(),
        "new_commune_name": st["new_code"].map(r.reformed.new["commune_name"]).to_numpy(),
        "role": st["role"].to_numpy(),
        "facility_score": r.stations["facility_score"].reindex(st.index).to_numpy(),
        "region": r.stations["region"].reindex(st.index).to_numpy(),
        "origin": r.stations["origin"].reindex(st.index).to_numpy(),
        "lon": r.stations["lon"].reindex(st.index).round(6).to_numpy(),
        "lat": r.stations["lat"].reindex(st.index).round(6).to_numpy(),
    })
    for c in CADRES:
        t[f"{c}_before"] = st[f"{c}_before"].to_numpy()
    for c in CADRES:
        t[f"{c}_after"] = st[f"{c}_after"].to_numpy()
    for c in ("staff_before", "staff_after", "served_pop_before", "served_pop_after", "norm_before", "norm_after", "gap_before", "gap_after"):
        t[c] = st[c].to_numpy()
    t["served_pop_before"] = t["served_pop_before"].round(0).astype(int)
    t["served_pop_after"] = t["served_pop_after"].round(0).astype(int)
    return t.reset_index(drop=True)


def commune_table(result) -> pd.DataFrame:
    c = result.measures.communes.copy()
    c.insert(0, "new_commune_code", c.index)
    c = c.rename(columns={"commune_name": "new_commune_name"})
    c["centre_name"] = c["centre_code"].map(result.centres["name"])
    c["population"] = c["population"].round(0).astype(int)
    return c.reset_index(drop=True)


def centre_table(result) -> pd.DataFrame:
    cen = result.centres.join(result.measures.centres[["served_pop_before", "served_pop_after", "communes_after", "load_after", "excess_after"]])
    return cen.reset_index(drop=True)


def indicator_table(result) -> pd.DataFrame:
    b, a = result.measures.before, result.measures.after
    rows = []
    for k in b:
        label, unit = INDICATOR_LABELS.get(k, (k, ""))
        bv, av = b[k], a.get(k)
        change = None if bv is None or av is None else av - bv
        rows.append({"indicator": k, "label": label, "unit": unit, "before": bv, "after": av, "change": change})
    return pd.DataFrame(rows)


def parameter_table(result) -> pd.DataFrame:
    return pd.DataFrame([{"name": p.name, "value": result.scenario.params[p.name], "default": p.default, "unit": p.unit,
                          "description": p.description, "source": p.source, "confidence": p.confidence} for p in P.PARAMETERS])


# ---------------------------------------------------------------- files

def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6g")


def write_gpkg(result, path: Path) -> None:
    r = result
    st = station_table(r)
    gst = gpd.GeoDataFrame(st, geometry=gpd.points_from_xy(st["lon"], st["lat"]), crs="EPSG:4326")
    com = commune_table(r)
    gcom = gpd.GeoDataFrame(com, geometry=r.reformed.new.geometry.reindex(com["new_commune_code"]).to_numpy(), crs="EPSG:4326")
    cat = gcom.dissolve(by="centre_code", aggfunc={"population": "sum", "new_commune_code": "count"}).rename(columns={"new_commune_code": "n_communes"}).reset_index()
    cat["centre_name"] = cat["centre_code"].map(r.centres["name"])
    cat["capacity"] = cat["centre_code"].map(r.centres["capacity"])
    cat["geometry"] = cat.geometry.apply(lambda g: g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g)
    mv = r.plan.moves.copy()
    if len(mv):
        a = r.stations.loc[mv["from_station"]]
        b = r.stations.loc[mv["to_station"]]
        geom = shapely.linestrings(np.stack([np.c_[a["lon"], a["lat"]], np.c_[b["lon"], b["lat"]]], axis=1))
    else:
        geom = []
        mv = pd.DataFrame({"from_station": pd.Series(dtype=str), "to_station": pd.Series(dtype=str), "cadre": pd.Series(dtype=str),
                           "persons": pd.Series(dtype=int), "minutes": pd.Series(dtype=float), "reason": pd.Series(dtype=str)})
    gmv = gpd.GeoDataFrame(mv, geometry=gpd.GeoSeries(geom, crs="EPSG:4326"), crs="EPSG:4326")
    from .outputs import fixed_gpkg_timestamp

    with fixed_gpkg_timestamp():
        gst.to_file(path, layer="stations", driver="GPKG")
        gcom.to_file(path, layer="communes_after", driver="GPKG")
        cat.to_file(path, layer="catchments", driver="GPKG")
        gmv.to_file(path, layer="staff_moves", driver="GPKG", geometry_type="LineString")


def write_summary(summary: dict, folder: Path) -> None:
    """`summary.json` (no measurement: seconds and memory are in run.json)."""
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def write_all(result, folder: Path) -> dict:
    """Every output file except the map and summary.json, into `folder` (a temporary folder renamed
    by the caller); returns the summary, which the caller writes with `write_summary`."""
    summary = build_summary(result)
    _write_csv(station_table(result), folder / "stations.csv")
    _write_csv(commune_table(result), folder / "communes_after.csv")
    _write_csv(centre_table(result), folder / "centres.csv")
    _write_csv(indicator_table(result), folder / "indicators.csv")
    _write_csv(result.plan.moves, folder / "staff_moves.csv")
    _write_csv(travel_table(result), folder / "travel_minutes.csv")
    for name, frame in result.plan.explain.items():
        _write_csv(frame, folder / f"explain_{name}.csv")
    write_gpkg(result, folder / "decisions.gpkg")
    md = report_markdown(result, summary)
    (folder / "report.md").write_text(md, encoding="utf-8")
    (folder / "report.html").write_text(report_html(result, summary), encoding="utf-8")
    from .pdf import write_pdf
    write_pdf(result, summary, folder / "report.pdf")
    return summary


def travel_table(result) -> pd.DataFrame:
    """Every (demand part, facility) pair the decisions use: stations of the part's new commune and
    every regional centre, with door-to-door minutes."""
    r = result
    d = r.reformed.demand
    S, C = r.network.station_minutes, r.network.centre_minutes
    st_new = r.stations["new_code"].reindex(r.network.station_codes).to_numpy()
    di, sj = np.nonzero(d["new_code"].to_numpy()[:, None] == st_new[None, :])
    nc = len(r.network.centre_codes)
    ci = np.repeat(np.arange(len(d)), nc)
    cj = np.tile(np.arange(nc), len(d))
    scodes = np.asarray(r.network.station_codes, dtype=object)
    ccodes = np.asarray(r.network.centre_codes, dtype=object)
    t = pd.DataFrame({
        "demand_code": np.r_[d["old_code"].to_numpy()[di], d["old_code"].to_numpy()[ci]],
        "new_commune_code": np.r_[d["new_code"].to_numpy()[di], d["new_code"].to_numpy()[ci]],
        "facility_code": np.r_[scodes[sj], ccodes[cj]],
        "facility_kind": np.r_[np.full(len(di), "station", dtype=object), np.full(len(ci), "centre", dtype=object)],
        "population": np.r_[d["population"].to_numpy()[di], d["population"].to_numpy()[ci]].round(1),
        "minutes": np.r_[S[di, sj], C[ci, cj]].round(2),
        "_order": np.r_[di, ci],
    })
    return t.sort_values(["_order", "facility_kind", "facility_code"], kind="stable").drop(columns="_order").reset_index(drop=True)


# ---------------------------------------------------------------- report text

WHOLE_UNITS = {"persons", "sites", "stations", "doctors", "centres"}


def _fmt(v, unit=""):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if unit == "share":
        return f"{100 * v:.1f} %"
    if unit in WHOLE_UNITS:
        return f"{v:,.0f}"
    if isinstance(v, (int, np.integer)) or (isinstance(v, float) and abs(v) >= 1000):
        return f"{v:,.0f}"
    return f"{v:.2f}"


def _notices(result) -> list[str]:
    out = []
    if result.pack.synthetic:
        out.append(SYNTHETIC_PACK_NOTICE)
    if result.synthetic_roster:
        out.append(SYNTHETIC_ROSTER_NOTICE)
    out.append(SYNTHETIC_CENTRES_NOTICE)
    return out


def report_markdown(result, summary: dict) -> str:
    r = result
    c = summary["counts"]
    lines = [f"# {r.scenario.title}", "", f"Province {r.pack.province_code} {r.pack.province_name} · scenario `{r.scenario.name}` · seed {r.scenario.seed} · reorg {r.version}", ""]
    for n in _notices(r):
        lines += [f"> **{n}**", ""]
    lines += ["## Summary", "",
              f"{c['old_communes']} old communes merged into {c['new_communes']} new communes. {c['stations']} stations: "
              f"{c['main_stations']} main, {c['point_stations']} points, {c['closed_stations']} closed. {c['regional_centres']} regional centres.",
              "", "## Decisions", ""]
    for k, v in r.plan.rules.items():
        lines.append(f"- **{k}**: {v}")
    lines += ["", "## Indicators before and after", "", "| indicator | unit | before | after | change |", "|---|---|---:|---:|---:|"]
    for _, row in indicator_table(r).iterrows():
        u = row["unit"]
        ch = row["change"]
        chs = "–" if ch is None or (isinstance(ch, float) and not math.isfinite(ch)) else (f"{100 * ch:+.1f} pts" if u == "share" else f"{ch:+,.0f}" if u in WHOLE_UNITS else f"{ch:+,.2f}")
        lines.append(f"| {row['label']} | {u} | {_fmt(row['before'], u)} | {_fmt(row['after'], u)} | {chs} |")
    s = summary["staff"]
    lines += ["", "## Staff by cadre", "", "| cadre | before | after |", "|---|---:|---:|"]
    for k in [*CADRES, "total"]:
        lines.append(f"| {k} | {s['before'][k]:,} | {s['after'][k]:,} |")
    lines += ["", f"Moved: {s['moved']}; hired: {s['hired']}; lost: {s['lost']}.", "",
              "## The ten old communes that lose most", "", "Minutes to the main station, population-weighted.", "",
              "| old commune | new commune | population | before | after | change |", "|---|---|---:|---:|---:|---:|"]
    for _, row in r.measures.losers.iterrows():
        lines.append(f"| {row['old_name']} ({row['old_code']}) | {row['new_name']} | {row['population']:,.0f} | {row['minutes_main_before']:.1f} | {row['minutes_main_after']:.1f} | {row['minutes_main_change']:+.1f} |")
    w = summary["extremes"]["worst_commune_main_station_after"]
    lines += ["", f"Worst new commune (minutes to its main station): {w['name']} ({w['code']}), {w['minutes']:.1f} min.", "",
              "## Main stations", "", "| new commune | main station | facility score | mean minutes | sites |", "|---|---|---:|---:|---:|"]
    st = station_table(r).set_index("station_code")
    com = commune_table(r)
    for _, row in com.iterrows():
        ms = row["main_station_code"]
        lines.append(f"| {row['new_commune_name']} | {st.at[ms, 'station_name']} ({ms}) | {st.at[ms, 'facility_score']:.2f} | {row['minutes_main_after']:.1f} | {row['stations_open']} |")
    lines += ["", "## Regional centres", "", "| centre | seat | beds | capacity | served before | served after | load |", "|---|---|---:|---:|---:|---:|---:|"]
    for _, row in centre_table(r).iterrows():
        lines.append(f"| {row['name']} | {row['host_name']} | {row['beds']} | {row['capacity']:,} | {row['served_pop_before']:,.0f} | {row['served_pop_after']:,.0f} | {100 * row['load_after']:.0f} % |")
    net = summary["network"]
    lines += ["", "## Travel network", "",
              f"{net['nodes']} nodes, {net['edges']} edges; shortest paths: {net['shortest_path_method']}. "
              f"Pieces of the province without a land link: {net['pieces_without_land_link']}."]
    for f in net["ferry_links"]:
        lines.append(f"- ferry link {f['from']} → {f['to']}: {f['km']} km, {f['minutes']} min ({f['nodes']} nodes joined)")
    isl = summary["extremes"].get("islands", [])
    if isl:
        lines += ["", f"New communes with residents on islands reached by a ferry link (ferry speed {r.scenario.params['ferry_speed_kmh']:g} km/h, DOMAIN 1H): "
                  + "; ".join(f"{i['name']} ({i['code']}, {i['population']:,} residents, {i['minutes_main_after']:.0f} min to the main station, {i['minutes_centre_after']:.0f} min to the centre)" for i in isl)]
    if summary["warnings"]:
        lines += ["", "## Input warnings", ""] + [f"- {w}" for w in summary["warnings"]]
    lines += ["", "## Assumptions", "", "Every parameter, its value in this run, and its source (DOMAIN.md). Confidence L marks an assumption.", "",
              "| parameter | value | unit | source | conf. |", "|---|---:|---|---|---|"]
    for _, p in parameter_table(r).iterrows():
        lines.append(f"| `{p['name']}`: {p['description']} | {p['value']} | {p['unit']} | {p['source']} | {p['confidence']} |")
    lines += _explanations(r)
    lines += _solver_section(r)
    return "\n".join(lines)


def _solver_section(r) -> list[str]:
    lines = ["", "## Solver quality", ""]
    if not r.plan.solver:
        return lines + ["No optimisation model was solved: every decision follows the baseline rules above.", ""]
    lines += ["| model | solver | status | objective | best bound | gap | limit s | seed | baseline objective |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for rec in r.plan.solver:
        gap = "–" if rec.get("relative_gap") is None else f"{100 * rec['relative_gap']:.4f} %"
        flag = " **(time limit reached: best plan found, not proven optimal)**" if rec.get("time_limit_reached") else ""
        limit = "–" if rec.get("time_limit_s") is None else f"{rec['time_limit_s']:g}"
        seed = "–" if rec.get("seed") is None else str(rec["seed"])
        lines.append(f"| {rec['model']} | {rec['solver']} | {rec['status']}{flag} | {_fmt(rec.get('objective'))} | {_fmt(rec.get('best_bound'))} | {gap} | "
                     f"{limit} | {seed} | {_fmt(rec.get('baseline_objective'))} |")
    lines += ["", "Objective terms of each solve's plan (the baseline objective is the same objective evaluated on the baseline rules' decisions; "
              "a seed is shown where the backend takes one; solve seconds are measurements, kept apart from these results):", ""]
    for rec in r.plan.solver:
        if rec.get("terms"):
            lines.append(f"- **{rec['model']}**: " + "; ".join(f"{k} = {_fmt(v)}" for k, v in rec["terms"].items()))
    for d in r.plan.diagnoses:
        lines += ["", f"> **Rule cannot be met: {d['rule']}.** {d['message']}", "",
                  f"Communes concerned ({len(d.get('communes', []))}): " + ", ".join(f"{r.reformed.new['commune_name'].get(c, c)} ({c})" for c in d.get("communes", [])[:60])
                  + (" …" if len(d.get("communes", [])) > 60 else "")]
    return lines + [""]


def _explanations(r, limit: int = 40) -> list[str]:
    lines = []
    st = station_table(r).set_index("station_code")
    name = lambda code: st["station_name"].get(code, code)  # noqa: E731
    pts = r.plan.explain.get("points")
    if pts is not None and len(pts):
        closed = pts[pts["role"] == "closed"].sort_values("saves_person_minutes")
        kept = pts[pts["role"] == "point"].sort_values("saves_person_minutes")
        lines += ["", "## Points closed and kept", "",
                  f"{len(closed)} points closed, {len(kept)} kept. A point's value is the travel it saves the residents for whom it is the nearest site "
                  "(person-minutes for one trip each, other decisions unchanged). All in `explain_points.csv`.", "",
                  "| station | new commune | decision | residents using it | saves (person-min) | saves per resident (min) |", "|---|---|---|---:|---:|---:|"]
        for _, row in pd.concat([closed, kept.head(max(0, limit - len(closed)))]).head(limit).iterrows():
            lines.append(f"| {name(row['station_code'])} ({row['station_code']}) | {r.reformed.new['commune_name'].get(row['new_code'], '')} | "
                         f"{'closed' if row['role'] == 'closed' else 'kept'} | {row['users']:,} | {row['saves_person_minutes']:,.0f} | {row['saves_minutes_per_user']:.1f} |")
    mv = r.plan.moves
    if len(mv):
        lines += ["", "## Staff moves", "", f"{int(mv['persons'].sum())} persons in {len(mv)} moves (hires included). All in `staff_moves.csv`.", "",
                  "| from | to | cadre | persons | minutes | why |", "|---|---|---|---:|---:|---|"]
        for _, row in mv.sort_values(["minutes", "from_station"], ascending=[False, True]).head(limit).iterrows():
            lines.append(f"| {name(row['from_station'])} | {name(row['to_station'])} ({row['to_station']}) | {row['cadre']} | {row['persons']} | {row['minutes']:.0f} | {row['reason']} |")
    ch = r.plan.explain.get("catchments")
    if ch is not None:
        cname = r.centres["name"]
        lines += ["", "## Communes whose regional centre changed", "", f"{len(ch)} communes. Minutes gained = mean minutes to the centre before minus after.", "",
                  "| new commune | centre before | centre after | residents | minutes gained |", "|---|---|---|---:|---:|"]
        for _, row in ch.sort_values("minutes_gained", ascending=False).head(limit).iterrows():
            lines.append(f"| {r.reformed.new['commune_name'].get(row['new_code'], '')} | {cname.get(row['centre_before'], '')} | {cname.get(row['centre_after'], '')} | "
                         f"{row['population']:,.0f} | {row['minutes_gained']:+.1f} |")
    return lines


def charts(result) -> dict[str, str]:
    """The report's charts as inline SVG: travel minutes before/after, staff by cadre, centre loads."""
    from . import charts as CH

    d = result.measures.demand
    out = {"minutes": CH.histogram({"before": d["minutes_main_before"].to_numpy(), "after": d["minutes_main_after"].to_numpy()}, d["population"].to_numpy(),
                                   title="Distribution of travel minutes to one's (main) station", xlabel="minutes", ylabel="residents")}
    s = build_staff_frame(result)
    out["staff"] = CH.grouped_bars(list(s.index), {"before": s["before"].tolist(), "after": s["after"].tolist()}, title="Station staff by cadre", ylabel="persons")
    cen = result.measures.centres.sort_values(["load_after", "name"], ascending=[False, True])
    out["centres"] = CH.hbars([str(x) for x in cen["name"]], (cen["load_after"] * 100).round(1).tolist(), threshold=100.0,
                              title="Regional centre loads after the reform", xlabel="population served / capacity (%)")
    return out


def build_staff_frame(result) -> pd.DataFrame:
    b = staff_totals(result.stations)
    a = staff_totals(result.plan.staff_after)
    return pd.DataFrame({"before": [b[c] for c in CADRES], "after": [a[c] for c in CADRES]}, index=list(CADRES))


def _md_to_html(md: str) -> str:
    """The report's own small Markdown subset (headings, tables, lists, quotes, paragraphs)."""
    out, table = [], []

    def inline(t):
        t = html.escape(t)
        import re

        t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", t)

    def flush():
        if table:
            head = [c.strip() for c in table[0].strip("|").split("|")]
            body = [[c.strip() for c in r.strip("|").split("|")] for r in table[2:]]
            out.append("<table><thead><tr>" + "".join(f"<th>{inline(h)}</th>" for h in head) + "</tr></thead><tbody>"
                       + "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body) + "</tbody></table>")
            table.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("# "):
            out.append(f"<h1>{inline(line[2:])}</h1>")
        elif line.startswith("## "):
            out.append(f"<h2>{inline(line[3:])}</h2>")
        elif line.startswith("> "):
            out.append(f"<p class='notice'>{inline(line[2:]).replace('<strong>', '').replace('</strong>', '')}</p>")
        elif line.startswith("- "):
            out.append(f"<li>{inline(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush()
    return "\n".join(out)


def report_html(result, summary: dict) -> str:
    body = _md_to_html(report_markdown(result, summary))
    ch = charts(result)
    figures = (f"<h2>Charts</h2><figure>{ch['minutes']}</figure><figure>{ch['staff']}</figure><figure>{ch['centres']}</figure>")
    body = body.replace("<h2>Decisions</h2>", figures + "<h2>Decisions</h2>", 1)
    css = ("body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
           "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 7px}"
           "th{background:#f0f0f0}td:not(:first-child){text-align:right}.notice{background:#fff3cd;border:1px solid #e0c36c;"
           "padding:0.6em 1em;font-weight:bold}figure{margin:1em 0}svg{max-width:100%;height:auto}h2{border-bottom:2px solid #3182bd;padding-bottom:2px}")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{html.escape(result.scenario.title)}</title>"
            f"<style>{css}</style></head><body>\n{body}\n</body></html>\n")
