"""Regional centre catchments model (MODEL.md 4.3): every new commune served by exactly one centre.

Formulation (capacitated p-median with soft capacity; OR-Tools MIP backend, CBC by default):

Sets
    C: new communes; K: regional centres (old districts); N(c): communes bordering c.
Data
    a_ck = sum over the parts d of c of p_d x t_dk: person-minutes if centre k serves c;
    P_c: residents of c; cap_k: centre capacity (persons); rho: `capacity_penalty_per_person`
    (person-minutes per resident above capacity); p: `centres_kept` (-1 = all); h(k): the new
    commune holding centre k's seat.
Variables
    x_ck in {0,1} centre k serves c; y_k in {0,1} centre k is kept; e_k >= 0 residents above capacity.
Objective
    min sum_ck a_ck x_ck [pop_minutes] + rho sum_k e_k [capacity_penalty]
Constraints
    sum_k x_ck = 1 (c);  x_ck <= y_k;  e_k >= sum_c P_c x_ck - cap_k;
    sum_k y_k = p when p >= 0, else y_k = 1;
    contiguity (option `contiguous_catchments`): x_{h(k),k} = y_k and, for c != h(k),
    x_ck <= sum over c' in N(c) with a_c'k/P_c' < a_ck/P_c of x_c'k (every commune joins its centre
    through neighbours ever closer to it, which makes each catchment connected).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import _mip


def instance(demand: pd.DataFrame, centre_minutes: np.ndarray, centre_codes, new_index) -> tuple[np.ndarray, np.ndarray]:
    """(A, P): A[c, k] person-minutes for commune c served by centre k; P[c] residents."""
    idx = {c: i for i, c in enumerate(new_index)}
    rows = demand["new_code"].map(idx).to_numpy()
    pop = demand["population"].to_numpy()
    A = np.zeros((len(new_index), len(centre_codes)))
    np.add.at(A, rows, pop[:, None] * centre_minutes)
    P = np.bincount(rows, weights=pop, minlength=len(new_index))
    return A, P


def objective_terms(A, P, capacity, assign_idx: np.ndarray, rho: float) -> dict:
    load = np.bincount(assign_idx, weights=P, minlength=A.shape[1])
    excess = np.maximum(0, load - capacity)
    terms = {"pop_minutes": float(A[np.arange(len(assign_idx)), assign_idx].sum()), "capacity_penalty": float(rho * excess.sum())}
    terms["total"] = terms["pop_minutes"] + terms["capacity_penalty"]
    terms["excess_persons"] = float(excess.sum())
    return terms


def solve_catchments(A, P, capacity, *, params: dict, seed: int, host: np.ndarray | None = None, neighbours: dict | None = None,
                     solver_name: str | None = None):
    """Returns (assign_idx, record). `host[k]` is the commune index of centre k's seat."""
    nC, nK = A.shape
    rho = params["capacity_penalty_per_person"]
    solver = _mip.new_solver(solver_name or params["mip_solver"], seed)
    x = {(c, k): solver.BoolVar("") for c in range(nC) for k in range(nK)}
    y = [solver.BoolVar("") for _ in range(nK)]
    e = [solver.NumVar(0, solver.infinity(), "") for _ in range(nK)]
    for c in range(nC):
        solver.Add(sum(x[c, k] for k in range(nK)) == 1)
        for k in range(nK):
            solver.Add(x[c, k] <= y[k])
    for k in range(nK):
        solver.Add(e[k] >= sum(float(P[c]) * x[c, k] for c in range(nC)) - float(capacity[k]))
    p = int(params["centres_kept"])
    if p >= 0:
        solver.Add(sum(y) == min(p, nK))
    else:
        for k in range(nK):
            solver.Add(y[k] == 1)
    if params["contiguous_catchments"] and host is not None and neighbours is not None:
        per = A / np.maximum(P, 1e-9)[:, None]
        for k in range(nK):
            solver.Add(x[int(host[k]), k] == y[k])
            for c in range(nC):
                if c == host[k]:
                    continue
                closer = [c2 for c2 in neighbours.get(c, ()) if per[c2, k] < per[c, k]]
                if closer:
                    solver.Add(x[c, k] <= sum(x[c2, k] for c2 in closer))
                else:
                    solver.Add(x[c, k] == 0)
    pm = sum(float(A[c, k]) * x[c, k] for c in range(nC) for k in range(nK))
    solver.Minimize(pm + rho * sum(e))
    rec = _mip.solve(solver, model="catchments", time_limit_s=params["solver_time_limit_s"], seed=seed)
    if not rec["has_plan"]:
        return None, rec
    assign = np.array([max(range(nK), key=lambda k: x[c, k].solution_value()) for c in range(nC)])
    rec["terms"] = objective_terms(A, P, capacity, assign, rho)
    return assign, rec


def commune_neighbours(new_geoms, tolerance_m: float) -> dict[int, list[int]]:
    """Communes (by position) whose polygons come within `tolerance_m` of each other."""
    import shapely

    g = new_geoms.to_crs("EPSG:6933").to_numpy()
    tree = shapely.STRtree(g)
    left, right = tree.query(g, predicate="dwithin", distance=tolerance_m)
    out: dict[int, list[int]] = {}
    for a, b in zip(left, right):
        if a != b:
            out.setdefault(int(a), []).append(int(b))
    return out
