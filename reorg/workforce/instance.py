"""The data of a plan over years, from a run's result (network, roles, staff after placement).

Everything the model (model.py) reads is here as arrays over open stations (`codes`), cadres
(`CADRES`) and years (`years`): the starting staff, the leavers schedule, the graduates per year,
each station's norm, hard-area flag, upgrade state and capital cost, the transfer arcs between
stations and the rotation arcs from centres, and the per-person costs.

Leavers (a deterministic rate in the model): each year's expected leavers of a cadre, the staff in
post at the start times `plan_leave_rate_<cadre>` (x `plan_leave_doctor_mountain_factor` for the
doctors of region III stations), compounded over the years; the province's rounded total of each
year is shared among the stations by largest remainder (the station whose expected leavers run
furthest ahead of those already counted loses the next person; ties by station code). Leavers come
from the staff in post at the start: the plan's own hires stay over the horizon (robustness.py
replays the plan with everyone at risk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..optimise.decide import site_norms
from ..schema import CADRES
from . import targets as target_defs


@dataclass
class Instance:
    """A plan's data. Arrays: stations x cadres (x years); `years` are calendar years."""

    province: str
    codes: list[str]  # open stations (main or point) after the run
    new_code: np.ndarray  # each station's new commune
    main: np.ndarray  # bool: main station of its new commune
    hard_area: np.ndarray  # bool: region III or island commune (higher allowances)
    stock0: np.ndarray  # int, stations x cadres: staff after the run's placement
    norm: np.ndarray  # int: Circular 03 norm of each station (the residents it serves)
    upgraded0: np.ndarray  # bool: main station meeting the national criteria at the start
    capex: np.ndarray  # million VND to upgrade (or build, at a new site) each station
    new_site: np.ndarray  # bool: a station to build (no station there today)
    years: list[int]
    leavers: np.ndarray  # int, stations x cadres x years
    rates: np.ndarray  # stations x cadres: share leaving each year
    graduates: dict[str, int]  # per year and cadre
    population: float
    per10k_count: int  # station doctors the doctors-per-10k target asks
    arcs: list[tuple[int, int]]  # doctor transfers i -> j between open stations
    arc_minutes: np.ndarray
    centre_codes: list[str]
    rotation_arcs: list[tuple[int, int]]  # (centre, station) within reach
    rotation_minutes: np.ndarray
    rotation_cap: int  # doctors each centre may rotate per year
    salary: np.ndarray  # million VND per person-year by cadre (hires' starting grade)
    allowance: np.ndarray  # million VND per person-year by station x cadre (occupational + attraction)
    params: dict
    seed: int


def leavers_schedule(stock0: np.ndarray, rate: np.ndarray, n_years: int, codes: list[str]) -> np.ndarray:
    """Integer leavers (stations x cadres x years): see the module docstring."""
    ns, nk = stock0.shape
    out = np.zeros((ns, nk, n_years), dtype=int)
    order = np.argsort(np.array(codes, dtype=object), kind="stable")
    rank = np.empty(ns, dtype=int)
    rank[order] = np.arange(ns)
    for k in range(nk):
        counted = np.zeros(ns, dtype=int)
        for t in range(n_years):
            expected = stock0[:, k] * (1.0 - (1.0 - rate[:, k]) ** (t + 1))
            total = int(round(expected.sum() + 1e-9))
            need = total - int(counted.sum())
            for _ in range(max(need, 0)):
                room = counted < stock0[:, k]
                if not room.any():
                    break
                ahead = np.where(room, expected - counted, -np.inf)
                best = np.lexsort((rank, -ahead))[0]
                counted[best] += 1
                out[best, k, t] += 1
    return out


def build(result: Any) -> Instance:
    """The plan's data from a run (`pipeline.run`)."""
    params = result.scenario.params
    plan, net, st = result.plan, result.network, result.stations.loc[result.network.station_codes]
    roles = plan.roles.reindex(st.index)
    is_open = (roles != "closed").to_numpy()
    codes = [str(c) for c in st.index[is_open]]
    sto = st.loc[codes]
    years = list(range(int(params["plan_start_year"]), int(params["plan_end_year"]) + 1))
    norms = site_norms(result.reformed.demand, st, net.station_minutes, plan.roles, plan.main_station, params)
    stock0 = plan.staff_after.reindex(codes)[list(CADRES)].fillna(0).to_numpy(dtype=int)
    main = (roles.loc[codes] == "main").to_numpy()
    island_new = set()
    if net.part_island is not None:
        island_new = set(result.reformed.demand.loc[net.part_island, "new_code"])
    region3 = (sto["region"] == "III").to_numpy()
    hard = region3 | sto["new_code"].isin(island_new).to_numpy()
    new_site = (sto["origin"] == "new_site_needed").to_numpy()
    upgraded0 = main & ~new_site & (sto["facility_score"].to_numpy(dtype=float) >= params["plan_upgrade_score"])
    capex = np.where(new_site, params["plan_new_station_capex_mvnd"], params["plan_upgrade_capex_mvnd"]).astype(float)
    rate = np.array([[params[f"plan_leave_rate_{c}"] for c in CADRES]] * len(codes), dtype=float).reshape(len(codes), len(CADRES))
    doc = CADRES.index("doctor")
    rate[region3, doc] = np.minimum(1.0, rate[region3, doc] * params["plan_leave_doctor_mountain_factor"])
    leavers = leavers_schedule(stock0, rate, len(years), codes)
    population = float(result.reformed.new["population"].sum())
    # transfers: between open stations, the `move_candidates` nearest within `max_move_minutes` (as the staff model)
    pos = [net.station_codes.index(c) for c in codes]
    tt = net.station_station[np.ix_(pos, pos)] if net.station_station is not None else np.full((len(codes),) * 2, np.inf)
    limit, k_near = params["max_move_minutes"], int(params["move_candidates"])
    arcs = []
    for i in range(len(codes)):
        ok = np.flatnonzero((tt[i] <= limit) & (np.arange(len(codes)) != i))
        ok = ok[np.argsort(tt[i, ok], kind="stable")[:k_near]]
        arcs += [(i, int(j)) for j in ok]
    arc_minutes = np.array([tt[i, j] for i, j in arcs], dtype=float)
    cap = int(params["rotation_doctors_per_centre"])
    rot_arcs: list[tuple[int, int]] = []
    ct = net.centre_station
    if cap > 0 and ct is not None:
        ctp = ct[:, pos]
        rot_arcs = [(c, j) for c in range(len(net.centre_codes)) for j in range(len(codes)) if ctp[c, j] <= limit]
    rot_minutes = np.array([ct[c, pos[j]] for c, j in rot_arcs], dtype=float) if ct is not None else np.zeros(0)
    yearly = 12.0 * params["plan_base_salary_mvnd_month"]
    salary = np.array([yearly * params["plan_salary_coef_doctor" if c == "doctor" else "plan_salary_coef_other"] for c in CADRES])
    share = np.where(
        hard,
        params["plan_occupational_allowance_hard"] + params["plan_attraction_allowance"],
        params["plan_occupational_allowance"],
    )
    return Instance(
        province=str(result.scenario.province),
        codes=codes,
        new_code=sto["new_code"].to_numpy(),
        main=main,
        hard_area=hard,
        stock0=stock0,
        norm=norms.reindex(codes).fillna(0).to_numpy(dtype=int),
        upgraded0=upgraded0,
        capex=capex,
        new_site=new_site,
        years=years,
        leavers=leavers,
        rates=rate,
        graduates=target_defs.graduates(params, population),
        population=population,
        per10k_count=target_defs.doctors_per_10k_count(params, population),
        arcs=arcs,
        arc_minutes=arc_minutes,
        centre_codes=list(net.centre_codes),
        rotation_arcs=rot_arcs,
        rotation_minutes=rot_minutes,
        rotation_cap=cap,
        salary=salary,
        allowance=share[:, None] * salary[None, :],
        params=params,
        seed=int(result.scenario.seed),
    )
