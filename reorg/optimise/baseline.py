"""Baseline decisions: the rules provinces applied first, stated as such in the report.

- keep_all: every old station stays open; one main station per new commune, the others points.
- main station by the MoH rule of convenience and facilities [DOMAIN 1C, S4]: least
  population-weighted minutes from the new commune's residents, then best facility score.
- each new commune is served by the centre of the old district that held most of its population;
  an island commune by the centre on its own island, when there is one (`islands.island_centres`,
  DOMAIN 1H: island special zones keep their own health centre).
- staff stay where they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..islands import island_centres
from ..schema import CADRES
from .plan import Plan

if TYPE_CHECKING:
    from ..network import Network
    from ..reform import Reformed

MOVE_COLUMNS = ["from_station", "to_station", "cadre", "persons", "minutes", "reason"]


def same_code(rows: pd.Series, columns: pd.Series) -> np.ndarray:
    """[i, j]: whether `rows[i] == columns[j]` (codes compared as the integers of one factorisation:
    the same matrix as comparing the texts, without comparing each pair of texts)."""
    codes, _ = pd.factorize(np.concatenate([rows.to_numpy(dtype=object), columns.to_numpy(dtype=object)]))
    row, column = codes[: len(rows)], codes[len(rows) :]
    return (column[None, :] == row[:, None]) & (row >= 0)[:, None]  # a missing code (-1) equals nothing


def main_station_scores(demand: pd.DataFrame, stations: pd.DataFrame, station_minutes: np.ndarray) -> pd.DataFrame:
    """For each station, the population-weighted mean minutes from the residents of its new
    commune (columns: station_code, new_code, weighted_minutes, facility_score)."""
    labels = demand.index.to_numpy()
    pop_all = demand["population"].to_numpy()
    names = stations.index.to_numpy()
    score = stations["facility_score"].to_numpy(dtype=float)
    members_of = stations.groupby("new_code", sort=True).indices  # positions, in station order
    parts_of = demand.groupby("new_code", sort=True).indices
    codes: list = []
    stations_at: list = []
    minutes: list = []
    for new_code in sorted(parts_of):
        members = members_of.get(new_code)
        if members is None or not len(members):
            continue
        at = parts_of[new_code]
        pop, at_rows = pop_all[at], labels[at]
        # one row per station, each contiguous: the same sums (and so the same bits) as
        # `np.average(station_minutes[at_rows, j], weights=pop)` station by station
        mins = np.ascontiguousarray(station_minutes[np.ix_(at_rows, members)].T)
        if pop.sum() > 0:
            w = np.multiply(mins, pop).sum(axis=1) / pop.sum()
        else:
            w = np.array([float(m.mean()) for m in mins])
        codes += [new_code] * len(members)
        stations_at += members.tolist()
        minutes += w.tolist()
    if not codes:
        return pd.DataFrame([])
    at_station = np.array(stations_at, dtype=int)
    return pd.DataFrame(
        {
            "station_code": names[at_station].tolist(),
            "new_code": codes,
            "weighted_minutes": minutes,
            "facility_score": score[at_station].tolist(),
        }
    )


def choose_main_stations(scores: pd.DataFrame) -> pd.Series:
    """MoH rule: most convenient (minutes rounded to 0.1 min), then best facilities, then code."""
    s = scores.assign(key=scores["weighted_minutes"].round(1))
    s = s.sort_values(["new_code", "key", "facility_score", "station_code"], ascending=[True, True, False, True])
    return s.drop_duplicates("new_code").set_index("new_code")["station_code"].rename("main_station")


def largest_district_centre(demand: pd.DataFrame, centres: pd.DataFrame) -> pd.Series:
    """Centre of the old district that held most of each new commune's population."""
    d = demand[demand["district_code"].isin(set(centres.index))]
    pop = d.groupby(["new_code", "district_code"])["population"].sum().reset_index()
    pop = pop.sort_values(["new_code", "population", "district_code"], ascending=[True, False, True])
    out = pop.drop_duplicates("new_code").set_index("new_code")["district_code"].rename("centre")
    return out


def nearest_centre(
    new_codes: Iterable[str], demand: pd.DataFrame, centre_minutes: np.ndarray, centre_codes: Sequence[str]
) -> pd.Series:
    """Population-weighted nearest centre, for new communes with no old district (special zones)."""
    out = {}
    for code in new_codes:
        rows = demand.index[demand["new_code"] == code].to_numpy()
        pop = demand.loc[rows, "population"].to_numpy()
        w = pop / pop.sum() if pop.sum() > 0 else np.full(len(rows), 1.0 / len(rows))
        out[code] = centre_codes[int(np.argmin(w @ centre_minutes[rows]))]
    return pd.Series(out, name="centre", dtype=object)


def baseline_plan(reformed: Reformed, stations: pd.DataFrame, centres: pd.DataFrame, net: Network) -> Plan:
    """The baseline rules' plan: every station kept, main stations by the MoH rule, catchments by largest district."""
    scores = main_station_scores(reformed.demand, stations, net.station_minutes)
    main = choose_main_stations(scores)
    roles = pd.Series("point", index=stations.index, name="role")
    roles.loc[main.to_numpy()] = "main"
    centre_of = largest_district_centre(reformed.demand, centres)
    missing = [c for c in reformed.new.index if c not in centre_of.index]
    if missing:
        centre_of = pd.concat([centre_of, nearest_centre(missing, reformed.demand, net.centre_minutes, net.centre_codes)])
    on_island = island_centres(reformed.demand, net)
    centre_of = centre_of.astype(object)
    centre_of.loc[on_island.index] = on_island
    return Plan(
        roles=roles,
        main_station=main.reindex(reformed.new.index),
        centre_of=centre_of.reindex(reformed.new.index),
        staff_after=stations[list(CADRES)].copy(),
        moves=pd.DataFrame(columns=MOVE_COLUMNS),
        rules={"station_roles": ("keep_all_moh_rule", {}), "catchments": ("largest_district", {}), "staff": ("stay", {})},
    )
