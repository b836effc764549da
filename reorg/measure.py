"""Measure stage: the same indicators before and after the reform (MODEL.md section 5).

Before = the pre-reform network: every old station is the station of its own commune and every
district centre serves its own district. After = the plan: its open stations (main and points), the
main station of each new commune, the centre assigned to each new commune and the staff after moves.

Definitions (population-weighted over demand parts; minutes are door to door, see network.py):
- pop_minutes_nearest_facility: mean minutes to the nearest open station or point;
- pop_minutes_main_station: mean minutes to one's own station (before) / main station (after);
- pop_minutes_regional_centre: mean minutes to one's centre;
- pop_share_within_30min / 60min: share of people within 30 / 60 minutes of the nearest facility;
- main_stations_with_doctor_share: main stations with at least one doctor / main stations;
- open_sites_without_doctor: open stations and points with no doctor;
- stations_meeting_norm_share: open sites whose staff meet their Circular 03/2023 norm; a site's
  norm is computed on the population it serves (residents of its new commune for whom it is the
  nearest open site; before the reform, its own commune);
- staff_shortfall_total: sum over open sites of max(0, norm - staff);
- doctors_per_10k: station doctors per 10,000 residents;
- gini_minutes_nearest_facility: Gini of minutes to the nearest facility across people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .islands import special_zone_figures
from .optimise.baseline import same_code
from .rules import staff_norms, weighted_gini
from .schema import CADRES

if TYPE_CHECKING:
    from .network import Network
    from .optimise.plan import Plan
    from .reform import Reformed


@dataclass
class Measures:
    before: dict
    after: dict
    demand: pd.DataFrame  # per demand part: minutes before/after
    stations: pd.DataFrame  # per station: role, served population, norm, staff, gap, before and after
    centres: pd.DataFrame  # per centre: population served vs capacity, before and after
    communes: pd.DataFrame  # per new commune
    old_communes: pd.DataFrame  # per old commune: population, minutes before/after, the new communes it went to
    losers: pd.DataFrame  # the old communes (parts) that lose most minutes to their main station
    extremes: dict


def _wmean(values, weights) -> float:
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    ok = np.isfinite(values)
    if weights[ok].sum() <= 0:
        return float("nan")
    return float(np.average(values[ok], weights=weights[ok]))


def old_commune_table(d: pd.DataFrame) -> pd.DataFrame:
    """Per old commune (sorted by code): population, the population-weighted minutes to its own station
    before, to the main station after and to the district centre before over its demand parts (a
    commune without residents takes the plain mean of its parts), and `new_names`, the names of the
    new communes its parts went to (sorted, comma-separated)."""
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
        out[c] = weighted.fillna(g[c + "_s"].sum() / n)
    names: dict = {}
    for code, name in zip(d["old_code"].tolist(), d["new_name"].tolist()):
        if not pd.isna(code):  # as groupby: a missing code is no group
            names.setdefault(code, set()).add(str(name))
    out["new_names"] = pd.Series({code: ", ".join(sorted(names[code])) for code in out.index}, index=out.index, dtype="str")
    return out


def _served(demand: pd.DataFrame, cols: np.ndarray, minutes: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Index (into stations) of the nearest allowed station of each demand part, -1 if none."""
    m = np.where(allowed, minutes, np.inf)
    best = np.argmin(m, axis=1)
    best[~np.isfinite(m[np.arange(len(m)), best])] = -1
    return best


def measure(
    reformed: Reformed, stations: pd.DataFrame, centres: pd.DataFrame, net: Network, plan: Plan, params: dict
) -> Measures:
    """Access and staffing before and after the plan: the province's figures, and per part, station, centre and commune."""
    demand = reformed.demand
    pop = demand["population"].to_numpy()
    S = net.station_minutes
    C = net.centre_minutes
    scode = np.array(net.station_codes, dtype=object)
    ccode = np.array(net.centre_codes, dtype=object)
    s_index = {c: j for j, c in enumerate(scode)}
    c_index = {c: j for j, c in enumerate(ccode)}
    n = len(demand)
    rows = np.arange(n)

    # --- before ---
    own = demand["old_code"].where(demand["old_code"] != "", "Z" + demand["new_code"])
    own_station = np.array([s_index.get(c, -1) for c in own])
    before_main = np.where(own_station >= 0, S[rows, np.maximum(own_station, 0)], np.nan)
    existed = stations["origin"].reindex(scode).to_numpy() != "new_site_needed"  # new sites did not exist before
    nearest_before = np.where(existed[None, :], S, np.inf).min(axis=1)
    own_centre = np.array([c_index.get(d, -1) for d in demand["district_code"]])
    nearest_c = C.argmin(axis=1)
    own_centre = np.where(own_centre >= 0, own_centre, nearest_c)
    before_centre = C[rows, own_centre]

    # --- after ---
    roles = plan.roles.reindex(scode).to_numpy()
    open_mask = roles != "closed"
    nearest_after = np.where(open_mask[None, :], S, np.inf).min(axis=1)
    main_of = plan.main_station.reindex(demand["new_code"]).to_numpy()
    main_idx = np.array([s_index[m] for m in main_of])
    after_main = S[rows, main_idx]
    centre_idx = np.array([c_index[c] for c in plan.centre_of.reindex(demand["new_code"]).to_numpy()])
    after_centre = C[rows, centre_idx]

    same_commune = same_code(demand["new_code"], stations["new_code"])
    served_after = _served(demand, scode, S, same_commune & open_mask[None, :])
    served_after = np.where(served_after >= 0, served_after, main_idx)

    served_before = pd.Series(pop).groupby(own_station).sum().reindex(range(len(scode))).fillna(0).to_numpy()
    served_after_pop = pd.Series(pop).groupby(served_after).sum().reindex(range(len(scode))).fillna(0).to_numpy()
    region = stations["region"].reindex(scode).to_numpy()
    norm_before = staff_norms(served_before, region, params)
    norm_after = np.where(open_mask, staff_norms(served_after_pop, region, params), 0)
    before_staff = stations[list(CADRES)].reindex(scode)
    after_staff = plan.staff_after[list(CADRES)].reindex(scode).fillna(0).astype(int)
    columns: dict[str, Any] = {
        "role": roles,
        "new_code": stations["new_code"].reindex(scode).to_numpy(),
        "old_code": stations["old_code"].reindex(scode).to_numpy(),
        "served_pop_before": served_before,
        "served_pop_after": served_after_pop,
        "norm_before": norm_before,
        "norm_after": norm_after,
    }
    for c in CADRES:
        columns[f"{c}_before"] = before_staff[c].to_numpy()
        columns[f"{c}_after"] = after_staff[c].to_numpy()
    columns["staff_before"] = before_staff.sum(axis=1).to_numpy()
    columns["staff_after"] = after_staff.sum(axis=1).to_numpy()
    st = pd.DataFrame(columns, index=scode)  # one frame at once: the columns a column at a time would give
    st["gap_before"] = st["staff_before"] - st["norm_before"]
    st["gap_after"] = np.where(open_mask, st["staff_after"] - st["norm_after"], 0)

    total_pop = float(pop.sum())
    dmin = params["doctors_min_main_station"]

    terr = demand["old_code"].map(reformed.old["terrain"]).fillna("mountain").to_numpy()

    def block(nearest, main_m, centre_m, is_main, is_open, norm, staff, doctors_col):
        main_doc = (st.loc[is_main, doctors_col] >= 1).mean() if is_main.any() else float("nan")
        out: dict[str, float | None] = {
            "population": round(total_pop),
            "open_stations": int(is_open.sum()),
            "main_stations": int(is_main.sum()),
            "pop_minutes_nearest_facility": _wmean(nearest, pop),
            "pop_minutes_main_station": _wmean(main_m, pop),
            "pop_minutes_regional_centre": _wmean(centre_m, pop),
            "pop_share_within_30min": float(pop[nearest <= 30].sum() / total_pop),
            "pop_share_within_60min": float(pop[nearest <= 60].sum() / total_pop),
            "pop_share_main_station_within_30min": float(pop[main_m <= 30].sum() / total_pop),
            "pop_share_main_station_within_60min": float(pop[main_m <= 60].sum() / total_pop),
            "pop_share_centre_within_60min": float(pop[centre_m <= 60].sum() / total_pop),
            "main_stations_with_doctor_share": float(main_doc),
            "stations_meeting_norm_share": float((staff[is_open] >= norm[is_open]).mean()),
            "staff_norm_total": int(norm[is_open].sum()),
            "staff_total": int(staff.sum()),
            "staff_shortfall_total": int(np.maximum(0, norm[is_open] - staff[is_open]).sum()),
            "doctor_shortfall_main_stations": int(np.maximum(0, dmin - st.loc[is_main, doctors_col]).sum()),
            "open_sites_without_doctor": int((st.loc[is_open, doctors_col] < 1).sum()),
            "doctors_total": int(st[doctors_col].sum()),
            "doctors_per_10k": float(st[doctors_col].sum() / total_pop * 1e4),
            "population_per_health_worker": float(total_pop / max(1, staff.sum())),
            "gini_minutes_nearest_facility": weighted_gini(nearest, pop),
            "gini_minutes_main_station": weighted_gini(main_m, pop),
        }
        for t in ("urban", "lowland", "mountain"):
            sel = terr == t
            out[f"pop_minutes_nearest_facility_{t}"] = _wmean(nearest[sel], pop[sel]) if sel.any() else None
        return out

    before = block(
        nearest_before,
        before_main,
        before_centre,
        existed,
        existed,
        st["norm_before"].to_numpy(),
        st["staff_before"].to_numpy(),
        "doctor_before",
    )
    after = block(
        nearest_after,
        after_main,
        after_centre,
        roles == "main",
        open_mask,
        st["norm_after"].to_numpy(),
        st["staff_after"].to_numpy(),
        "doctor_after",
    )

    d = demand[["old_code", "new_code", "district_code", "population"]].copy()
    d["old_name"] = d["old_code"].map(reformed.old["commune_name"]).fillna("")
    d["new_name"] = d["new_code"].map(reformed.new["commune_name"])
    d["minutes_main_before"], d["minutes_main_after"] = before_main, after_main
    d["minutes_nearest_before"], d["minutes_nearest_after"] = nearest_before, nearest_after
    d["minutes_centre_before"], d["minutes_centre_after"] = before_centre, after_centre
    d["main_station_after"] = main_of
    d["centre_before"], d["centre_after"] = ccode[own_centre], ccode[centre_idx]
    d["minutes_main_change"] = d["minutes_main_after"] - d["minutes_main_before"]

    cen = pd.DataFrame(index=ccode)
    cen["name"] = centres["name"].reindex(ccode).to_numpy()
    cen["capacity"] = centres["capacity"].reindex(ccode).to_numpy()
    cen["served_pop_before"] = d.groupby("centre_before")["population"].sum().reindex(ccode).fillna(0).to_numpy()
    cen["served_pop_after"] = d.groupby("centre_after")["population"].sum().reindex(ccode).fillna(0).to_numpy()
    cen["communes_after"] = plan.centre_of.value_counts().reindex(ccode).fillna(0).astype(int).to_numpy()
    cen["load_after"] = cen["served_pop_after"] / cen["capacity"]
    cen["excess_after"] = np.maximum(0, cen["served_pop_after"] - cen["capacity"])
    after["centres_over_capacity"] = int((cen["excess_after"] > 0).sum())
    after["centre_excess_population"] = float(cen["excess_after"].sum())
    before["centres_over_capacity"] = int((cen["served_pop_before"] > cen["capacity"]).sum())
    before["centre_excess_population"] = float(np.maximum(0, cen["served_pop_before"] - cen["capacity"]).sum())

    g = d.assign(
        w_main_b=d.minutes_main_before * d.population,
        w_main_a=d.minutes_main_after * d.population,
        w_near_a=d.minutes_nearest_after * d.population,
        w_cen_a=d.minutes_centre_after * d.population,
    )
    com = g.groupby("new_code").agg(
        population=("population", "sum"),
        w_main_b=("w_main_b", "sum"),
        w_main_a=("w_main_a", "sum"),
        w_near_a=("w_near_a", "sum"),
        w_cen_a=("w_cen_a", "sum"),
    )
    p = com["population"].replace(0, np.nan)
    # communes without residents (Hoàng Sa) take the plain mean over their parts
    plain = d.groupby("new_code")[
        ["minutes_main_before", "minutes_main_after", "minutes_nearest_after", "minutes_centre_after"]
    ].mean()
    communes = pd.DataFrame(index=reformed.new.index)
    communes["commune_name"] = reformed.new["commune_name"]
    communes["population"] = com["population"].reindex(communes.index).fillna(0)
    for col, w in (
        ("minutes_main_before", "w_main_b"),
        ("minutes_main_after", "w_main_a"),
        ("minutes_nearest_after", "w_near_a"),
        ("minutes_centre_after", "w_cen_a"),
    ):
        communes[col] = (com[w] / p).fillna(plain[col]).reindex(communes.index)
    communes["main_station_code"] = plan.main_station.reindex(communes.index)
    communes["centre_code"] = plan.centre_of.reindex(communes.index)
    by_new = st.groupby("new_code")
    communes["stations_open"] = (
        (st["role"] != "closed").groupby(st["new_code"]).sum().reindex(communes.index).fillna(0).astype(int)
    )
    communes["staff_after"] = by_new["staff_after"].sum().reindex(communes.index).fillna(0).astype(int)
    communes["norm_after"] = by_new["norm_after"].sum().reindex(communes.index).fillna(0).astype(int)
    communes["gap_after"] = communes["staff_after"] - communes["norm_after"]
    communes["staff_per_1000"] = communes["staff_after"] / communes["population"].replace(0, np.nan) * 1000
    island = (
        pd.Series(net.part_island, index=demand.index).groupby(demand["new_code"]).any()
        if net.part_island is not None
        else pd.Series(dtype=bool)
    )
    communes["island"] = island.reindex(communes.index).fillna(False).astype(bool)

    losers = d[d["population"] > 0].sort_values(["minutes_main_change", "old_code"], ascending=[False, True]).head(10)
    worst = communes.sort_values("minutes_main_after", ascending=False).iloc[0]
    extremes: dict[str, Any] = {
        "worst_commune_main_station_after": {
            "code": worst.name,
            "name": worst["commune_name"],
            "minutes": float(worst["minutes_main_after"]),
        }
    }
    extremes["islands"] = [
        {
            "code": c,
            "name": r["commune_name"],
            "population": round(float(r["population"])),
            "minutes_main_after": float(r["minutes_main_after"]),
            "minutes_centre_after": float(r["minutes_centre_after"]),
        }
        for c, r in communes[communes["island"]].iterrows()
    ]
    extremes["special_zones"] = special_zone_figures(d, communes, reformed.new, centres, net)
    return Measures(
        before=before,
        after=after,
        demand=d,
        stations=st,
        centres=cen,
        communes=communes,
        old_communes=old_commune_table(d),
        losers=losers,
        extremes=extremes,
    )
