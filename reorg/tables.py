"""The tables of a run, as data frames: stations, new communes, regional centres, indicators,
parameters, travel minutes and staff by cadre.

The CSV files, report.md/html and report.pdf are all built from these tables (the report and the
PDF never import each other). Columns are stable: they are the CSV files' columns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import fmt, i18n, indicators
from . import params as parameters
from .schema import CADRES


def staff_totals(frame: pd.DataFrame) -> dict[str, int]:
    """Staff of every cadre in `frame` (one column per cadre) and their `total`."""
    out = {c: int(frame[c].sum()) for c in CADRES}
    out["total"] = int(sum(out.values()))
    return out


def staff_frame(result: Any) -> pd.DataFrame:
    """Station staff by cadre (rows) before and after the reform (columns)."""
    b = staff_totals(result.stations)
    a = staff_totals(result.plan.staff_after)
    return pd.DataFrame({"before": [b[c] for c in CADRES], "after": [a[c] for c in CADRES]}, index=list(CADRES))


def station_names(result: Any, stations: pd.DataFrame | None = None) -> dict[str, str]:
    """The name of every station by its code: its old commune's, or its new commune's for a station
    with no old commune (special-zone stations, new sites). `stations`: the run's `station_table`
    when already built (its codes and names are these)."""
    if stations is not None:
        return dict(zip(stations["station_code"].tolist(), stations["station_name"].tolist()))
    st = result.measures.stations
    by_old = st["old_code"].map(result.reformed.old["commune_name"]).fillna("")
    by_new = st["new_code"].map(result.reformed.new["commune_name"]).fillna("")
    has_old = st["old_code"].fillna("").astype(bool)
    return dict(zip(st.index, np.where(has_old, by_old, by_new).tolist()))


def station_table(result: Any) -> pd.DataFrame:
    """One row per station: names, codes, role, score, place, staff before/after, served residents and norm."""
    r = result
    st = r.measures.stations
    names = station_names(r)
    t = pd.DataFrame(
        {
            "station_code": st.index,
            "station_name": [names[c] for c in st.index],
            "old_commune_code": st["old_code"].to_numpy(),
            "new_commune_code": st["new_code"].to_numpy(),
            "new_commune_name": st["new_code"].map(r.reformed.new["commune_name"]).to_numpy(),
            "role": st["role"].to_numpy(),
            "facility_score": r.stations["facility_score"].reindex(st.index).to_numpy(),
            "region": r.stations["region"].reindex(st.index).to_numpy(),
            "origin": r.stations["origin"].reindex(st.index).to_numpy(),
            "lon": r.stations["lon"].reindex(st.index).round(6).to_numpy(),
            "lat": r.stations["lat"].reindex(st.index).round(6).to_numpy(),
        }
    )
    for c in CADRES:
        t[f"{c}_before"] = st[f"{c}_before"].to_numpy()
    for c in CADRES:
        t[f"{c}_after"] = st[f"{c}_after"].to_numpy()
    for c in (
        "staff_before",
        "staff_after",
        "served_pop_before",
        "served_pop_after",
        "norm_before",
        "norm_after",
        "gap_before",
        "gap_after",
    ):
        t[c] = st[c].to_numpy()
    t["served_pop_before"] = t["served_pop_before"].round(0).astype(int)
    t["served_pop_after"] = t["served_pop_after"].round(0).astype(int)
    return t.reset_index(drop=True)


def commune_table(result: Any) -> pd.DataFrame:
    """One row per new commune: its measures after the reform and its regional centre."""
    c = result.measures.communes.copy()
    c.insert(0, "new_commune_code", c.index)
    c = c.rename(columns={"commune_name": "new_commune_name"})
    c["centre_name"] = c["centre_code"].map(result.centres["name"])
    c["population"] = c["population"].round(0).astype(int)
    return c.reset_index(drop=True)


def centre_table(result: Any) -> pd.DataFrame:
    """One row per regional centre: its data and the residents it serves before and after."""
    cen = result.centres.join(
        result.measures.centres[["served_pop_before", "served_pop_after", "communes_after", "load_after", "excess_after"]]
    )
    return cen.reset_index(drop=True)


def shared_tables(result: Any) -> dict[str, pd.DataFrame]:
    """The tables several outputs of a run are built from (the CSV files, report, workbook and
    GeoPackage), built once: `stations`, `communes` and `centres` (`station_table`,
    `commune_table`, `centre_table`). Read only: a writer that changes one copies it."""
    return {"stations": station_table(result), "communes": commune_table(result), "centres": centre_table(result)}


#: message keys of the centre rows' columns (report and PDF)
CENTRE_COLUMNS = (
    "report.col_centre",
    "report.col_seat",
    "report.col_beds",
    "report.col_capacity",
    "report.col_served_before",
    "report.col_served_after",
    "report.col_load",
)


def centre_rows(result: Any, lang: str = i18n.DEFAULT_LANG, table: pd.DataFrame | None = None) -> list[list[str]]:
    """The regional centres as the report and the PDF print them (CENTRE_COLUMNS): name, seat, beds,
    capacity, residents served before and after, load after; numbers formatted in `lang`
    (`table`: the run's `centre_table` when already built)."""
    return [
        [
            str(row["name"]),
            str(row["host_name"]),
            fmt.count(row["beds"], lang),
            fmt.count(row["capacity"], lang),
            fmt.count(row["served_pop_before"], lang),
            fmt.count(row["served_pop_after"], lang),
            fmt.share(row["load_after"], 0, lang),
        ]
        for row in (centre_table(result) if table is None else table).to_dict("records")
    ]


def indicator_table(result: Any, lang: str = i18n.DEFAULT_LANG) -> pd.DataFrame:
    """One row per indicator of the run (summary.json order): key, label and unit words in `lang`
    (from the indicator table), value before, after and the change."""
    b, a = result.measures.before, result.measures.after
    rows = []
    for k in b:
        ind = indicators.get(k)
        bv, av = b[k], a.get(k)
        change = None if bv is None or av is None else av - bv
        rows.append(
            {
                "indicator": k,
                "label": ind.label(lang),
                "unit": i18n.text(f"unit.{ind.unit}", lang),
                "before": bv,
                "after": av,
                "change": change,
            }
        )
    return pd.DataFrame(rows)


def _reason_patterns() -> list[tuple[str, re.Pattern]]:
    """Each [reason] message's English text as a pattern whose groups are its {fields}."""
    out = []
    for key, text in i18n.section("reason", "en").items():
        parts = re.split(r"\{(\w+)\}", str(text))
        rx = "".join(re.escape(p) if n % 2 == 0 else f"(?P<{p}>.+?)" for n, p in enumerate(parts))
        out.append((key, re.compile(rx + "$")))
    return out


def move_reason(reason: str, lang: str = i18n.DEFAULT_LANG) -> str:
    """A staff move's reason (staff_moves.csv's English, its parts joined by "; ") in `lang`; a part
    that is not a [reason] message is kept as it is."""
    if lang == "en":
        return reason
    out = []
    for part in str(reason).split("; "):
        for key, rx in _reason_patterns():
            m = rx.match(part)
            if m:
                fields = {k: fmt.count(int(v), lang) if v.lstrip("-").isdigit() else v for k, v in m.groupdict().items()}
                part = i18n.text(f"reason.{key}", lang, **fields)
                break
        out.append(part)
    return "; ".join(out)


def parameter_value(value: Any, lang: str = i18n.DEFAULT_LANG) -> str:
    """A parameter's value for reading: numbers with the language's separators (as many decimals as
    the value has), true/false as words, text (a choice such as a solver name) as it is."""
    if isinstance(value, bool):
        return i18n.text(f"param_value.{str(value).lower()}", lang)
    if isinstance(value, (int, float)):
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        digits = len(shown.split(".")[1]) if "." in shown and "e" not in shown else 0
        return fmt.number(value, digits, lang)
    return str(value)


def parameter_table(result: Any, lang: str = i18n.DEFAULT_LANG) -> pd.DataFrame:
    """Every parameter the run's travel model uses (`params.applies`): its value in this run,
    default, unit, description, source (words in `lang`) and confidence."""
    return pd.DataFrame(
        [
            {
                "name": p.name,
                "value": result.scenario.params[p.name],
                "default": p.default,
                "unit": parameters.unit_text(p.name, lang),
                "description": parameters.description(p.name, lang),
                "source": parameters.source(p.name, lang),
                "confidence": p.confidence,
            }
            for p in parameters.PARAMETERS
            if parameters.applies(p.name, result.network.travel_model)
        ]
    )


def parameters_set(result: Any) -> list[dict]:
    """The parameters this run's scenario sets to a value other than the default (name, value, default)."""
    return [
        {"name": p.name, "value": result.scenario.params[p.name], "default": p.default}
        for p in parameters.PARAMETERS
        if result.scenario.params[p.name] != p.default
    ]


def travel_table(result: Any) -> pd.DataFrame:
    """Every (demand part, facility) pair the decisions use: stations of the part's new commune and
    every regional centre, with door-to-door minutes."""
    r = result
    d = r.reformed.demand
    station_min, centre_min = r.network.station_minutes, r.network.centre_minutes
    st_new = r.stations["new_code"].reindex(r.network.station_codes).to_numpy()
    di, sj = np.nonzero(d["new_code"].to_numpy()[:, None] == st_new[None, :])
    nc = len(r.network.centre_codes)
    ci = np.repeat(np.arange(len(d)), nc)
    cj = np.tile(np.arange(nc), len(d))
    # a part's code: its old commune, or the special zone's own code where it has none (Côn Đảo)
    code = np.where(d["old_code"].to_numpy() != "", d["old_code"].to_numpy(), d["new_code"].to_numpy())
    scodes = np.asarray(r.network.station_codes, dtype=object)
    ccodes = np.asarray(r.network.centre_codes, dtype=object)
    part = np.r_[di, ci]
    facility = np.r_[scodes[sj], ccodes[cj]]
    # rows by part, then kind ("centre" before "station"), then facility code: a stable sort by
    # the codes' ranks, the order pandas' sort_values gives
    kind_rank = np.r_[np.ones(len(di), dtype=np.int64), np.zeros(len(ci), dtype=np.int64)]
    codes, distinct = pd.factorize(facility)
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[np.argsort(np.asarray(distinct, dtype=object), kind="stable")] = np.arange(len(distinct))
    code_rank = rank[codes]
    order = np.lexsort((code_rank, kind_rank, part))
    part = part[order]
    t = pd.DataFrame(
        {
            "demand_code": code[part],
            "new_commune_code": d["new_code"].to_numpy()[part],
            "facility_code": facility[order],
            "facility_kind": np.where(kind_rank[order] == 1, "station", "centre").astype(object),
            "population": d["population"].to_numpy()[part].round(1),
            "minutes": np.r_[station_min[di, sj], centre_min[ci, cj]][order].round(2),
        }
    )
    if "demand_id" in d.columns:  # demand points of a population raster: which point (decisions.gpkg demand_points)
        t.insert(0, "demand_id", d["demand_id"].to_numpy()[part])
    return t


def travel_notices(result: Any, lang: str = i18n.DEFAULT_LANG) -> list[str]:
    """The travel-model line of the map banner and the workbook's about sheet: with roads, the road
    file; none with the adjacency model (those outputs stay as they were; the report says it)."""
    roads = result.scenario.roads
    if result.network.travel_model != "roads" or not roads:
        return []
    return [i18n.text("roads.banner", lang, file=Path(roads).name)]


def synthetic_flags(result: Any) -> dict[str, bool]:
    """Which data of the run are synthetic: the pack, the station roster, the regional centres
    (a centre is synthetic when its `origin` says so, i.e. it was built by seeded rules)."""
    return {
        "synthetic_pack": bool(result.pack.synthetic),
        "synthetic_roster": bool(result.synthetic_roster),
        "synthetic_centres": bool((result.centres["origin"] == "synthetic").any()),
        "synthetic_dem": bool(getattr(result, "terrain", None) is not None and result.terrain.synthetic),
        "synthetic_population": bool(getattr(result, "population", None) is not None and result.population.synthetic),
    }
