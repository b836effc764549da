"""Shared MIP plumbing: create an OR-Tools solver, solve with a time limit, record the solve."""
from __future__ import annotations

import math
import time

STATUS_NAMES = {  # pywraplp.Solver result codes (OR-Tools is imported only when a model is solved)
    "OPTIMAL": "optimal",
    "FEASIBLE": "feasible (time limit)",
    "INFEASIBLE": "infeasible",
    "UNBOUNDED": "unbounded",
    "ABNORMAL": "abnormal",
    "NOT_SOLVED": "not solved (time limit, no plan found)",
}
SEED_PARAMETER = {"SCIP": "randomization/randomseedshift = {seed}", "CBC": "", "HIGHS": ""}


def new_solver(name: str, seed: int):
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver(name)
    if solver is None:
        raise RuntimeError(f"OR-Tools has no {name} backend here")
    template = SEED_PARAMETER.get(name, "")
    if template:
        solver.SetSolverSpecificParametersAsString(template.format(seed=seed % 2**31))
    return solver


def solve(solver, *, model: str, time_limit_s: float, seed: int, stage: str | None = None) -> dict:
    """Solve and return the record kept in summary.json: status, objective, bound, gap, seconds."""
    from ortools.linear_solver import pywraplp

    status = {getattr(pywraplp.Solver, k): v for k, v in STATUS_NAMES.items()}
    solver.SetTimeLimit(int(max(1.0, time_limit_s) * 1000))
    t = time.perf_counter()
    code = solver.Solve()
    seconds = time.perf_counter() - t
    has_plan = code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    obj = solver.Objective().Value() if has_plan else None
    bound = solver.Objective().BestBound() if has_plan else None
    if code == pywraplp.Solver.OPTIMAL and (bound is None or not math.isfinite(bound)):
        bound = obj
    gap = None
    if obj is not None and bound is not None and math.isfinite(bound):
        gap = abs(obj - bound) / max(abs(obj), 1e-9) if abs(obj) > 1e-9 else abs(obj - bound)
    return {
        "model": model if stage is None else f"{model}:{stage}",
        "solver": f"OR-Tools {solver.SolverVersion()}",
        "status": status.get(code, str(code)),
        "has_plan": has_plan,
        "objective": obj,
        "best_bound": bound,
        "relative_gap": gap,
        "seconds": round(seconds, 3),
        "time_limit_s": time_limit_s,
        "time_limit_reached": code == pywraplp.Solver.FEASIBLE or (code == pywraplp.Solver.NOT_SOLVED and seconds >= time_limit_s * 0.95),
        "seed": seed,
        "variables": solver.NumVariables(),
        "constraints": solver.NumConstraints(),
    }
