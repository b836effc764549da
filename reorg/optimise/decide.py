"""The optimise stage: the baseline rules, replaced model by model as the scenario's policy asks.

policy.station_roles: keep_all | optimise      policy.main_station: moh_rule | optimise
policy.staff: stay | optimise                  policy.catchments: largest_district | optimise
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..islands import island_centres
from ..rules import staff_norms
from ..schema import CADRES
from . import catchments as catchment_model
from . import roles as roles_model
from . import staff as staff_model
from .baseline import baseline_plan, same_code
from .fixed import without_fixed
from .plan import Plan

if TYPE_CHECKING:
    from ..network import Network
    from ..reform import Reformed


def served_population(
    demand: pd.DataFrame, stations: pd.DataFrame, minutes: np.ndarray, roles: pd.Series, main: pd.Series
) -> pd.Series:
    """Residents for whom each open site is the nearest open site of their new commune."""
    open_ = roles.reindex(stations.index).to_numpy() != "closed"
    same = same_code(demand["new_code"], stations["new_code"])
    m = np.where(same & open_[None, :], minutes, np.inf)
    best = np.argmin(m, axis=1)
    none = ~np.isfinite(m[np.arange(len(m)), best])
    if none.any():
        col = {c: j for j, c in enumerate(stations.index)}
        best[none] = main.reindex(demand.loc[none, "new_code"]).map(col).to_numpy()
    pop = np.bincount(best, weights=demand["population"].to_numpy(), minlength=len(stations))
    return pd.Series(pop, index=stations.index)


def site_norms(
    demand: pd.DataFrame, stations: pd.DataFrame, minutes: np.ndarray, roles: pd.Series, main: pd.Series, params: dict
) -> pd.Series:
    """The staff norm of each site for the residents it serves (0 at a closed station)."""
    served = served_population(demand, stations, minutes, roles, main)
    norms = staff_norms(served.to_numpy(), stations["region"].to_numpy(), params)
    return pd.Series(np.where(roles.reindex(stations.index).to_numpy() != "closed", norms, 0), index=stations.index)


def decide(
    reformed: Reformed,
    stations: pd.DataFrame,
    centres: pd.DataFrame,
    net: Network,
    params: dict,
    policy: dict,
    seed: int,
    *,
    stage: Callable[[str], AbstractContextManager[object]] | None = None,
    export: bool = False,
) -> Plan:
    """The plan under the scenario's policies. `stage(model)`: a context manager that measures each
    model solved (building and solving), e.g. `Progress.stage`; none by default. `export`: keep every
    solved model (MPS) and its data (CSV) in `plan.models`."""
    stage = stage or (lambda model: contextlib.nullcontext())
    demand = reformed.demand
    st = stations.loc[net.station_codes]
    S = net.station_minutes
    plan = baseline_plan(reformed, st, centres, net)
    base_roles, base_main = plan.roles.copy(), plan.main_station.copy()

    # --- station roles
    if policy["station_roles"] != "keep_all" or policy["main_station"] != "moh_rule":
        with stage("station_roles"):
            roles_res = roles_model.optimise_roles(
                demand,
                st,
                S,
                params,
                policy=policy["station_roles"],
                main_rule=policy["main_station"],
                baseline_roles=base_roles,
                baseline_main=base_main,
                seed=seed,
                export=export,
            )
        plan.roles, plan.main_station = roles_res.roles.reindex(st.index), roles_res.main.reindex(reformed.new.index)
        plan.solver += roles_res.records
        if roles_res.diagnosis:
            plan.diagnoses.append(roles_res.diagnosis)
        if roles_res.export:
            plan.models.update(roles_res.export.files())
        plan.rules["station_roles"] = (
            "roles_model",
            {"policy": policy["station_roles"], "main_station": policy["main_station"]},
        )
        plan.explain["points"] = roles_model.point_savings(demand, st, S, plan.roles)
    # --- staff
    norms = site_norms(demand, st, S, plan.roles, plan.main_station, params)
    stay, lost = staff_model.stay_staff(st, plan.roles, plan.main_station, params, seed)
    if policy["staff"] == "optimise":
        with stage("staff_placement"):
            staff_res = staff_model.solve_staff(st, plan.roles, norms, centres, net, params, seed, export=export)
        # the baseline of stage 1: the `stay` rule under the same roles (closed stations' staff join the main station)
        staff_res.records[0].baseline_objective = staff_model.shortfall_terms(stay, plan.roles, norms, params)[
            "weighted_shortfall"
        ]
        plan.solver += staff_res.records
        if staff_res.export:
            plan.models.update(staff_res.export.files())
        plan.staff_after, plan.moves = staff_res.staff_after, staff_res.moves
        plan.lost, plan.hired = staff_res.lost, {c: int(params[f"hires_{c}"]) for c in CADRES}
        staff_after = staff_res.staff_after
        plan.rules["staff"] = (
            "staff_model",
            {"doctors_min": params["doctors_min_main_station"], "max_minutes": f"{params['max_move_minutes']:g}"},
        )
        short = staff_model.shortfall_terms(staff_after, plan.roles, norms, params)
        if short["doctor_shortfall"] > 0:
            r = np.where(plan.roles.reindex(staff_after.index) == "main", params["doctors_min_main_station"], 0)
            lacking = staff_after.index[(staff_after["doctor"].to_numpy() < r)]
            communes = sorted(set(st.loc[lacking, "new_code"]))
            avail = int(staff_after["doctor"].sum())
            need = int(params["doctors_min_main_station"]) * int((plan.roles == "main").sum())
            plan.diagnoses.append(
                {
                    "model": "staff_placement",
                    "rule": "doctors_min_main_station",
                    "message_key": (
                        "doctors_min_not_met",
                        {
                            "minimum": params["doctors_min_main_station"],
                            "need": need,
                            "available": avail,
                            "max_minutes": f"{params['max_move_minutes']:g}",
                            "missing": int(short["doctor_shortfall"]),
                            "stations": len(communes),
                        },
                    ),
                    "doctor_shortfall": short["doctor_shortfall"],
                    "communes": communes,
                }
            )
    else:
        plan.staff_after, plan.lost = stay, lost
    # --- catchments
    A, P = catchment_model.instance(demand, net.centre_minutes, net.centre_codes, reformed.new.index)
    cap = centres["capacity"].reindex(net.centre_codes).to_numpy(dtype=float)
    cidx = {c: k for k, c in enumerate(net.centre_codes)}
    base_assign = plan.centre_of.reindex(reformed.new.index).map(cidx).to_numpy()
    if policy["catchments"] == "optimise":
        host = _centre_hosts(reformed, centres, net, st)
        neigh = (
            catchment_model.commune_neighbours(reformed.new.geometry, params["adjacency_tolerance_m"])
            if params["contiguous_catchments"]
            else None
        )
        fixed = island_centres(demand, net).reindex(reformed.new.index).map(cidx)
        sub = without_fixed(A, P, cap, fixed.to_numpy(dtype=float), host, neigh, params)
        with stage("catchments"):
            catch_res = catchment_model.solve_catchments(
                sub.A,
                sub.P,
                sub.capacity,
                params=sub.params,
                seed=seed,
                host=sub.host,
                neighbours=sub.neighbours,
                export=export,
                names=(reformed.new.index[sub.communes], np.asarray(net.centre_codes, dtype=object)[sub.centres]),
            )
        rec = catch_res.record
        rec.baseline_objective = sub.objective_of(base_assign, params["capacity_penalty_per_person"])
        plan.solver.append(rec)
        if catch_res.export:
            parts = demand["new_code"].isin(set(reformed.new.index[sub.communes])).to_numpy()
            catch_res.export.tables["catchments_minutes"] = catchment_model.minutes_table(
                demand[parts],
                net.centre_minutes[np.ix_(parts, sub.centres)],
                np.asarray(net.centre_codes, dtype=object)[sub.centres],
                sub.capacity,
            )
            plan.models.update(catch_res.export.files())
        assign = base_assign if catch_res.assign is None else sub.full_assign(catch_res.assign)
        new_centre = pd.Series(np.asarray(net.centre_codes, dtype=object)[assign], index=reformed.new.index)
        changed = new_centre != plan.centre_of
        ex = pd.DataFrame(
            {
                "new_code": reformed.new.index,
                "centre_before": plan.centre_of.to_numpy(),
                "centre_after": new_centre.to_numpy(),
                "population": P,
                "minutes_before": A[np.arange(len(P)), base_assign] / np.maximum(P, 1e-9),
                "minutes_after": A[np.arange(len(P)), assign] / np.maximum(P, 1e-9),
            }
        )
        ex["minutes_gained"] = ex["minutes_before"] - ex["minutes_after"]
        plan.explain["catchments"] = ex[changed.to_numpy()].reset_index(drop=True)
        plan.centre_of = new_centre
        key = "catchment_model" + ("_contiguous" if params["contiguous_catchments"] else "")
        key += "_kept" if params["centres_kept"] >= 0 else ""
        plan.rules["catchments"] = (key, {"kept": params["centres_kept"]})
    return plan


def _centre_hosts(reformed: Reformed, centres: pd.DataFrame, net: Network, st: pd.DataFrame) -> np.ndarray:
    """Commune position of each centre's seat (the new commune its host old commune's station is in)."""
    pos = {c: i for i, c in enumerate(reformed.new.index)}
    host_new = st[st["old_code"] != ""].set_index("old_code")["new_code"]
    zone = centres["host_new_code"] if "host_new_code" in centres else pd.Series("", index=centres.index)
    seat = {k: zone[k] or host_new[centres.at[k, "host_old_code"]] for k in net.centre_codes}
    return np.array([pos[seat[k]] for k in net.centre_codes])
