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
    sum_k y_k = min(p, |K|) when p >= 0, else y_k = 1;
    contiguity (option `contiguous_catchments`): x_{h(k),k} = y_k and, for c != h(k),
    x_ck <= sum over c' in N(c) with a_c'k/P_c' < a_ck/P_c of x_c'k (every commune joins its centre
    through neighbours ever closer to it, which makes each catchment connected).

When no capacity can bind (every capacity at least the province's population) and catchments need
not be contiguous, the model is the uncapacitated p-median, solved exactly by `p_median_lagrangian`:
the Lagrangian relaxation of the assignment rows gives lower bounds, each relaxed solution's
centres (and a greedy + interchange start) give plans; the solve stops when the gap is at most
`LAGRANGIAN_GAP`. Its record (`LagrangianRecord`) has iterations and bounds, no MIP size or time
limit; with `export`, the MIP above is built and written, not solved. When the gap stays open (the
national 3,321 x 691 instance stalls near 1e-4; p-medians of a few hundred nodes and many centres
stall far wider), `pmedian_mip.reduced_cost_fixing` removes every variable that the best
multipliers prove cannot appear in a plan at most as costly as the best plan, and
`pmedian_mip.nearest_candidates_p_median` solves the rest exactly: MIPs on each commune's nearest
surviving centres with a placeholder priced at the next one, growing the lists of the communes that
take it until the plan meets the bound (record: `records.NearestCandidatesRecord`). The MIPs start
from the best known plan (the Lagrangian plan first); when the rounds do not prove the optimum
within the time limit, the better of their plan and the Lagrangian plan is returned, with the best
of all bounds and the gap (status `_mip.KEPT_AT_LIMIT` when the Lagrangian plan is kept). The full
MIP above (capacities or contiguity) starts from `pmedian_start.start_plan` and keeps it the same
way when it finds no better plan.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import _mip
from .pmedian_mip import nearest_candidates_p_median, reduced_cost_fixing
from .pmedian_start import greedy_interchange, start_plan, start_values
from .records import LagrangianRecord, MipRecord, ModelExport, NearestCandidatesRecord

if TYPE_CHECKING:
    import geopandas as gpd
    from ortools.linear_solver import pywraplp


@dataclass
class CatchmentsResult:
    """The centre (position in the centre list) serving each commune, None without a plan; the
    solve's record; the exported model (MPS of the MIP, built even when the Lagrangian path solved it)."""

    assign: np.ndarray | None
    record: MipRecord | LagrangianRecord | NearestCandidatesRecord
    export: ModelExport | None = None


def instance(
    demand: pd.DataFrame, centre_minutes: np.ndarray, centre_codes: Sequence[str], new_index: pd.Index
) -> tuple[np.ndarray, np.ndarray]:
    """(A, P): A[c, k] person-minutes for commune c served by centre k; P[c] residents."""
    idx = {c: i for i, c in enumerate(new_index)}
    rows = demand["new_code"].map(idx).to_numpy()
    pop = demand["population"].to_numpy()
    A = np.zeros((len(new_index), len(centre_codes)))
    np.add.at(A, rows, pop[:, None] * centre_minutes)
    P = np.bincount(rows, weights=pop, minlength=len(new_index))
    return A, P


def objective_terms(A: np.ndarray, P: np.ndarray, capacity: np.ndarray, assign_idx: np.ndarray, rho: float) -> dict:
    """The model's objective, term by term, for any assignment (centre position of each commune)."""
    load = np.bincount(assign_idx, weights=P, minlength=A.shape[1])
    excess = np.maximum(0, load - capacity)
    terms = {"pop_minutes": float(A[np.arange(len(assign_idx)), assign_idx].sum()), "capacity_penalty": float(rho * excess.sum())}
    terms["total"] = terms["pop_minutes"] + terms["capacity_penalty"]
    terms["excess_persons"] = float(excess.sum())
    return terms


LAGRANGIAN_GAP = 1e-6  # relative gap at which the Lagrangian p-median stops as proven optimal


@dataclass
class LagrangianBound:
    """What the subgradient run leaves: the best plan's centres and value (`upper`), the best lower
    bound L(l) (`lower`), the multipliers l that gave it, and the iterations run."""

    centres: list[int]
    lower: float
    upper: float
    iterations: int
    multipliers: np.ndarray


def lagrangian_bound(A: np.ndarray, p: int, *, max_iter: int = 5000, gap: float = LAGRANGIAN_GAP) -> LagrangianBound:
    """Lagrangian relaxation of the uncapacitated p-median (subgradient) with primal plans.

    min sum_ck A_ck x_ck, sum_k x_ck = 1, x_ck <= y_k, sum_k y_k = p. Relaxing the assignment rows
    with multipliers l_c gives L(l) = sum_c l_c + (sum of the p smallest r_k), r_k = sum_c
    min(0, A_ck - l_c): a lower bound. Each relaxed solution's centres, and a greedy + interchange
    start, give plans (upper bounds). Stops at a relative gap `gap` or when the step vanishes.
    """
    nC, nK = A.shape
    centres = greedy_interchange(A, p)
    ub = float(A[:, centres].min(axis=1).sum())
    lam = np.sort(A, axis=1)[:, min(1, nK - 1)].astype(float)
    best_lam = lam.copy()
    lb, step, stall = -np.inf, 2.0, 0
    it, last = 0, None
    red = np.empty_like(A, dtype=float)  # one buffer for the reduced costs of every iteration
    for it in range(1, max_iter + 1):  # noqa: B007 (the count is read after the loop)
        np.subtract(A, lam[:, None], out=red)
        np.minimum(0.0, red, out=red)
        r = red.sum(axis=0)
        ks = np.sort(np.argpartition(r, p - 1)[:p]) if p < nK else np.arange(nK)
        value = float(lam.sum() + r[ks].sum())
        if last is None or not np.array_equal(ks, last):  # a new set of centres: evaluate its plan
            plan = float(A[:, ks].min(axis=1).sum())
            if plan < ub - 1e-9 * abs(ub):
                ub, centres = plan, ks.tolist()
            last = ks
        if value > lb + 1e-12 * max(1.0, abs(value)):
            lb, stall, best_lam = value, 0, lam.copy()
        else:
            stall += 1
            if stall > 30:
                step, stall = step / 2, 0
        if ub - lb <= gap * max(1.0, abs(ub)) or step < 1e-10:
            break
        g = 1.0 - (red[:, ks] < 0).sum(axis=1)  # red_ck < 0 exactly when A_ck - l_c < 0
        norm = float(g @ g)
        if norm == 0:
            lb, best_lam = max(lb, ub), lam.copy()  # the relaxed solution is feasible: it is optimal
            break
        lam = lam + step * (ub - value) / norm * g
    return LagrangianBound(sorted(centres), min(lb, ub), ub, it, best_lam)


def p_median_lagrangian(
    A: np.ndarray, p: int, *, max_iter: int = 5000, gap: float = LAGRANGIAN_GAP
) -> tuple[list[int], float, float, int]:
    """Exact uncapacitated p-median by Lagrangian relaxation (`lagrangian_bound`): returns
    (centres, lower_bound, upper_bound, iterations); optimal when the gap is at most `gap`."""
    run = lagrangian_bound(A, p, max_iter=max_iter, gap=gap)
    return run.centres, run.lower, run.upper, run.iterations


LAGRANGIAN_MAX_ITER = 5000


def _lagrangian(
    A: np.ndarray, P: np.ndarray, capacity: np.ndarray, p: int, rho: float
) -> tuple[np.ndarray | None, LagrangianRecord, LagrangianBound]:
    t = time.perf_counter()
    run = lagrangian_bound(A, p, max_iter=LAGRANGIAN_MAX_ITER)
    seconds = time.perf_counter() - t
    lb, ub = run.lower, run.upper
    gap = (ub - lb) / max(1.0, abs(ub))
    proven = gap <= LAGRANGIAN_GAP
    rec = LagrangianRecord(
        model="catchments",
        solver="reorg Lagrangian p-median (numpy subgradient + interchange)",
        status="optimal" if proven else "gap open (handed over to the MIP)",
        has_plan=proven,
        objective=float(ub),
        best_bound=float(lb),
        relative_gap=float(gap),
        seconds=round(seconds, 3),
        iterations=int(run.iterations),
        max_iterations=LAGRANGIAN_MAX_ITER,
        gap_target=LAGRANGIAN_GAP,
        centres_kept=int(p),
    )
    if not proven:
        return None, rec, run
    assign = np.asarray(run.centres)[np.argmin(A[:, run.centres], axis=1)]
    rec.terms = objective_terms(A, P, capacity, assign, rho)
    return assign, rec, run


def _fixed_mip(
    A: np.ndarray,
    P: np.ndarray,
    capacity: np.ndarray,
    p: int,
    rho: float,
    run: LagrangianBound,
    *,
    seed: int,
    time_limit_s: float,
) -> tuple[np.ndarray, NearestCandidatesRecord]:
    t = time.perf_counter()
    fixing = reduced_cost_fixing(A, p, run.multipliers, run.upper, run.centres)
    assign, rec = nearest_candidates_p_median(
        A, p, fixing, start=run.centres, start_bound=run.lower, seed=seed, time_limit_s=time_limit_s
    )
    rec.seconds = round(time.perf_counter() - t, 3)
    rec.assignment_variables_kept = int(fixing.keep.sum())
    rec.assignment_variables_total = int(A.size)
    rec.centres_closed = int(fixing.closed.sum())
    rec.centres_opened = int(fixing.opened.sum()) if p < A.shape[1] else 0
    rec.lagrangian_iterations = int(run.iterations)
    rec.lagrangian_bound = float(run.lower)
    rec.lagrangian_plan = float(run.upper)
    rec.terms = objective_terms(A, P, capacity, assign, rho)
    return assign, rec


def build_mip(
    A: np.ndarray,
    P: np.ndarray,
    capacity: np.ndarray,
    *,
    params: dict,
    seed: int,
    host: np.ndarray | None = None,
    neighbours: dict[int, list[int]] | None = None,
    solver_name: str | None = None,
    names: tuple | None = None,
) -> tuple[pywraplp.Solver, dict[tuple[int, int], pywraplp.Variable]]:
    """The catchment MIP (formulation above) in an OR-Tools solver; returns (solver, x) with
    x[c, k] the assignment variables. `names`: (commune codes, centre codes) to name the variables."""
    nC, nK = A.shape
    rho = params["capacity_penalty_per_person"]
    cn, kn = names if names is not None else (range(nC), range(nK))
    cn, kn = [str(c) for c in cn], [str(k) for k in kn]
    solver = _mip.new_solver(solver_name or params["mip_solver"], seed)
    inf = solver.infinity()
    x = {(c, k): solver.BoolVar(f"x_{cn[c]}_{kn[k]}") for c in range(nC) for k in range(nK)}
    y = [solver.BoolVar(f"y_{kn[k]}") for k in range(nK)]
    e = [solver.NumVar(0, inf, f"e_{kn[k]}") for k in range(nK)]

    def add_row(lb: float, ub: float, terms: list) -> None:
        row = solver.Constraint(lb, ub)
        for var, coef in terms:
            row.SetCoefficient(var, coef)

    for c in range(nC):
        add_row(1, 1, [(x[c, k], 1.0) for k in range(nK)])
        for k in range(nK):
            add_row(-inf, 0, [(x[c, k], 1.0), (y[k], -1.0)])
    for k in range(nK):
        add_row(-float(capacity[k]), inf, [(e[k], 1.0)] + [(x[c, k], -float(P[c])) for c in range(nC)])
    p = int(params["centres_kept"])
    if p >= 0:
        add_row(min(p, nK), min(p, nK), [(v, 1.0) for v in y])
    else:
        for k in range(nK):
            add_row(1, 1, [(y[k], 1.0)])
    contiguous = bool(params["contiguous_catchments"] and host is not None and neighbours is not None)
    if contiguous and host is not None and neighbours is not None:
        per = A / np.maximum(P, 1e-9)[:, None]
        for k in range(nK):
            add_row(0, 0, [(x[int(host[k]), k], 1.0), (y[k], -1.0)])
            for c in range(nC):
                if c == host[k]:
                    continue
                closer = [c2 for c2 in neighbours.get(c, ()) if per[c2, k] < per[c, k]]
                if closer:
                    add_row(-inf, 0, [(x[c, k], 1.0)] + [(x[c2, k], -1.0) for c2 in closer])
                else:
                    add_row(0, 0, [(x[c, k], 1.0)])
    # variables in creation order: x (commune-major), y, e (what `start_values` gives for a plan)
    objective = solver.Objective()
    for c in range(nC):
        for k in range(nK):
            objective.SetCoefficient(x[c, k], float(A[c, k]))
    for k in range(nK):
        objective.SetCoefficient(e[k], rho)
    objective.SetMinimization()
    return solver, x


def solve_catchments(
    A: np.ndarray,
    P: np.ndarray,
    capacity: np.ndarray,
    *,
    params: dict,
    seed: int,
    host: np.ndarray | None = None,
    neighbours: dict[int, list[int]] | None = None,
    solver_name: str | None = None,
    export: bool = False,
    names: tuple | None = None,
) -> CatchmentsResult:
    """Solve the catchments model. `host[k]` is the commune index of centre k's seat; `names`:
    (commune codes, centre codes) naming the exported model's variables."""
    nC, nK = A.shape
    rho = params["capacity_penalty_per_person"]
    contiguous = params["contiguous_catchments"] and host is not None and neighbours is not None
    p_kept = int(params["centres_kept"])

    def build() -> tuple[pywraplp.Solver, dict[tuple[int, int], pywraplp.Variable]]:
        return build_mip(
            A, P, capacity, params=params, seed=seed, host=host, neighbours=neighbours, solver_name=solver_name, names=names
        )

    if solver_name is None and not contiguous and np.all(np.asarray(capacity) >= P.sum()) and np.isfinite(A).all():
        p = nK if p_kept < 0 else min(p_kept, nK)
        assign, lagrangian_rec, run = _lagrangian(A, P, capacity, p, rho)
        rec_fast: LagrangianRecord | NearestCandidatesRecord = lagrangian_rec
        if assign is None:  # gap open: fix what the bound excludes, solve the MIP on the rest
            assign, fixed_rec = _fixed_mip(A, P, capacity, p, rho, run, seed=seed, time_limit_s=params["solver_time_limit_s"])
            fixed_rec.seconds = round(fixed_rec.seconds + lagrangian_rec.seconds, 3)
            rec_fast = fixed_rec
        if assign is not None:  # a plan always: the MIPs', or the Lagrangian plan they kept
            out = ModelExport(mps={"catchments": _mip.mps_text(build()[0], "catchments")}) if export else None
            return CatchmentsResult(assign, rec_fast, out)
    solver, x = build()
    p_start = nK if p_kept < 0 else min(p_kept, nK)
    start = start_plan(A, p_start, host=host if contiguous else None, neighbours=neighbours if contiguous else None, P=P)
    hint = None if start is None else start_values(A, P, capacity, start, p=p_start, p_all=p_kept < 0)
    rec = _mip.solve(solver, model="catchments", time_limit_s=params["solver_time_limit_s"], hint=hint)
    out = ModelExport(mps={"catchments": _mip.mps_text(solver, "catchments")}) if export else None
    assign = None
    if rec.has_plan:
        assign = np.array([max(range(nK), key=lambda k: x[c, k].solution_value()) for c in range(nC)])
    if start is not None and _mip.keep_known(rec, objective_terms(A, P, capacity, start, rho)["total"]):
        assign = start
    if assign is None:
        return CatchmentsResult(None, rec, out)
    rec.terms = objective_terms(A, P, capacity, assign, rho)
    return CatchmentsResult(assign, rec, out)


def minutes_table(
    demand: pd.DataFrame, centre_minutes: np.ndarray, centre_codes: Sequence[str], capacity: np.ndarray
) -> pd.DataFrame:
    """The data of the catchments model, one row per (demand part, centre): the part's row, new
    commune and residents, the minutes in full and the centre's capacity. a_ck is the sum over
    the parts of c, in row order, of residents x minutes."""
    nD, nK = centre_minutes.shape
    return pd.DataFrame(
        {
            "part": np.repeat(np.arange(nD), nK),
            "old_code": np.repeat(demand["old_code"].to_numpy(), nK),
            "new_code": np.repeat(demand["new_code"].to_numpy(), nK),
            "population": np.repeat(demand["population"].to_numpy(dtype=float), nK),
            "centre_code": np.tile(np.asarray(centre_codes, dtype=object), nD),
            "minutes": centre_minutes.reshape(-1).astype(float),
            "capacity": np.tile(np.asarray(capacity, dtype=float), nD),
        }
    )


def commune_neighbours(new_geoms: gpd.GeoSeries, tolerance_m: float) -> dict[int, list[int]]:
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
