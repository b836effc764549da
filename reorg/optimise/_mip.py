"""Shared MIP plumbing: create an OR-Tools solver, solve with a time limit, record the solve, and
write the model as MPS with full-precision numbers; solve a MIP by its LP relaxation when the
relaxation's optimal vertex is integral (`solve_relaxation`), and restrict a model to the optimal
face of its last LP solve (`fix_to_optimal_face`), for lexicographic objectives."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .records import MipRecord

if TYPE_CHECKING:
    from ortools.linear_solver import pywraplp

STATUS_NAMES = {  # pywraplp.Solver result codes (OR-Tools is imported only when a model is solved)
    "OPTIMAL": "optimal",
    "FEASIBLE": "feasible (time limit)",
    "INFEASIBLE": "infeasible",
    "UNBOUNDED": "unbounded",
    "ABNORMAL": "abnormal",
    "NOT_SOLVED": "not solved (time limit, no plan found)",
}
# the statuses of a record whose MIP returned no plan, or a worse one, than a plan known beforehand
KEPT_AT_LIMIT = "feasible (time limit; best known plan kept)"
KEPT = "feasible (best known plan kept)"
NO_BOUND = 1e19  # a backend's "no bound yet" (SCIP reports -1e20): no bound
SMALLEST_LIMIT_S = 0.01  # the solve's floor on its time limit (the scenario's own floor is params.py's)
# the backends that take a random seed through OR-Tools (SetSolverSpecificParametersAsString);
# CBC and HiGHS refuse the call there (and are deterministic), so no seed is claimed for them
SEED_PARAMETER = {"SCIP": "randomization/randomseedshift = {seed}"}
LP_BACKEND = "GLOP"  # the LP backend of `solve_relaxation` (a simplex method: its optimum is a vertex)
# GLOP without its presolve: a model changed by bounds and objective only (a lexicographic stage on
# the previous one's face) is then re-solved from the previous basis (Nghệ An's staff stage 2:
# 0.33 s -> 0.13 s)
LP_PARAMETERS = "use_preprocessing: false"
INTEGRAL_TOL = 1e-6  # a value within this of a whole number is that number
FACE_TOL = 1e-7  # a reduced cost or dual beyond this is nonzero (the LP backend is accurate to ~1e-9)


def new_solver(name: str, seed: int) -> pywraplp.Solver:
    """An OR-Tools solver of backend `name`; `solver.reorg_seed` is the seed it was given, or None."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver(name)
    if solver is None:
        raise RuntimeError(f"OR-Tools has no {name} backend here")
    solver.reorg_backend, solver.reorg_seed = name, None
    if name == LP_BACKEND and not solver.SetSolverSpecificParametersAsString(LP_PARAMETERS):
        raise RuntimeError(f"{name} refused its parameters")
    template = SEED_PARAMETER.get(name)
    if template:
        if not solver.SetSolverSpecificParametersAsString(template.format(seed=seed % 2**31)):
            raise RuntimeError(f"{name} refused its seed parameter")
        solver.reorg_seed = seed % 2**31
    return solver


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|objective - bound| / |objective| (the absolute difference when the objective is 0), None
    without a finite bound."""
    if objective is None or bound is None or not math.isfinite(bound) or abs(bound) >= NO_BOUND:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9) if abs(objective) > 1e-9 else abs(objective - bound)


def set_hint(solver: pywraplp.Solver, values: Sequence[float]) -> None:
    """Hand a known plan to the backend as its start: one value per variable, in creation order."""
    variables = solver.variables()
    if len(values) != len(variables):
        raise ValueError(f"hint of {len(values)} values for {len(variables)} variables")
    solver.SetHint(variables, [float(v) for v in values])


def solve_relaxation(
    solver: pywraplp.Solver,
    *,
    model: str,
    time_limit_s: float,
    stage: str | None = None,
    integer: Sequence[bool] | None = None,
) -> tuple[MipRecord, list[float] | None]:
    """Solve the LP relaxation of the MIP held by `solver` (an LP backend, `LP_BACKEND`: integrality is
    ignored). Returns the record and, when the LP's optimal vertex is integral (every integer
    variable within `INTEGRAL_TOL` of a whole number), its values rounded: that plan is then an
    optimum of the MIP, its bound the LP optimum (record status optimal, gap 0). Otherwise (a
    fractional vertex, a time limit, no optimum) the values are None and the caller solves the MIP.
    `integer`: which variables are integer, by index (read from the solver when not given)."""
    rec = solve(solver, model=model, stage=stage, time_limit_s=time_limit_s)
    if rec.status != STATUS_NAMES["OPTIMAL"]:
        return rec, None
    values = np.array(_solution(solver).variable_value, dtype=float)
    is_integer = np.array([v.integer() for v in solver.variables()] if integer is None else integer, dtype=bool)
    rounded = np.where(is_integer, np.rint(values), values)
    if len(values) and np.abs(values - rounded).max() > INTEGRAL_TOL:
        return rec, None
    return rec, rounded.tolist()


def _solution(solver: pywraplp.Solver):
    """The last solve's values, reduced costs and duals, as one response proto (a call per vector,
    not per variable)."""
    from ortools.linear_solver import linear_solver_pb2

    response = linear_solver_pb2.MPSolutionResponse()
    solver.FillSolutionResponseProto(response)
    return response


def copy_as_mip(solver: pywraplp.Solver, backend: str, seed: int) -> pywraplp.Solver:
    """The model held by `solver` (bounds, rows, integrality, names; not its objective) in a new
    solver of MIP backend `backend`, the variables in the same order."""
    from ortools.linear_solver import linear_solver_pb2

    proto = linear_solver_pb2.MPModelProto()
    solver.ExportModelToProto(proto)
    mip = new_solver(backend, seed)
    error = mip.LoadModelFromProtoKeepNames(proto)
    if error:
        raise RuntimeError(f"the {backend} copy of the model failed: {error}")
    return mip


def fix_to_optimal_face(
    solver: pywraplp.Solver, values: Sequence[float], tol: float = FACE_TOL, variables: Sequence | None = None
) -> int:
    """Restrict the model just solved by LP (optimal at `values`, a vertex) to the set of its optimal
    solutions, the optimal face, by complementary slackness: every variable with a nonzero reduced
    cost is fixed at its value (a bound), every row with a nonzero dual becomes an equality at its
    activity. Exact: a point of the model is optimal if and only if it meets these with any optimal
    dual (here the LP backend's, nonzero beyond `tol`); the bounds change, not the matrix, so a
    totally unimodular structure stays so. Call before the model changes (reduced costs and duals
    belong to the last solve). `variables`: solver.variables(), when the caller holds them (the call
    wraps every variable anew). Returns the number of variables and rows fixed."""
    response = _solution(solver)
    costs, duals = np.array(response.reduced_cost, dtype=float), np.array(response.dual_value, dtype=float)
    activity = solver.ComputeConstraintActivities()  # before any change: it needs the solve's state
    fixed = 0
    if len(costs):
        variables = solver.variables() if variables is None else variables
        for p in np.flatnonzero(np.abs(costs) > tol).tolist():
            v = variables[p]
            if v.lb() != v.ub():
                v.SetBounds(values[p], values[p])
                fixed += 1
    if len(duals) and (np.abs(duals) > tol).any():
        for p in np.flatnonzero(np.abs(duals) > tol).tolist():
            c, act = solver.constraint(p), activity[p]  # one row at a time: constraints() wraps them all
            if c.lb() != c.ub():
                side = c.lb() if abs(act - c.lb()) <= abs(act - c.ub()) else c.ub()
                c.SetBounds(side, side)
                fixed += 1
    return fixed


def keep_known(rec: MipRecord, objective: float, bound: float | None = None) -> bool:
    """Compare the MIP's result with a plan known before the solve (value `objective`; `bound` a
    lower bound proven elsewhere, e.g. Lagrangian). Returns True when the known plan is to be
    returned (the MIP found none, or a worse one): the record then describes that plan (status
    KEPT_AT_LIMIT or KEPT, its objective, has_plan). In both cases best_bound is the best of the
    MIP's and `bound`, and relative_gap is recomputed for the plan returned."""
    bounds = [b for b in (rec.best_bound if rec.has_plan else None, bound) if b is not None and math.isfinite(b)]
    best = max(bounds) if bounds else None
    tol = 1e-9 * max(1.0, abs(objective))
    kept = not (rec.has_plan and rec.objective is not None and rec.objective <= objective + tol)
    if kept:
        rec.status = KEPT_AT_LIMIT if rec.time_limit_reached or rec.status == STATUS_NAMES["NOT_SOLVED"] else KEPT
        rec.objective, rec.has_plan = float(objective), True
    if best is not None and rec.objective is not None:
        best = min(best, rec.objective)  # a bound above the plan is rounding
    rec.best_bound = best
    rec.relative_gap = relative_gap(rec.objective, best)
    return kept


def solve(
    solver: pywraplp.Solver,
    *,
    model: str,
    time_limit_s: float,
    stage: str | None = None,
    hint: Sequence[float] | None = None,
    gap: float | None = None,
) -> MipRecord:
    """Solve and return the record: status, objective, bound, gap, size, seconds. `hint`: a known
    plan (one value per variable, creation order) handed to the backend as its start. `gap`: stop
    at this relative gap between the plan and its bound (the backend's default otherwise)."""
    from ortools.linear_solver import pywraplp

    status = {getattr(pywraplp.Solver, k): v for k, v in STATUS_NAMES.items()}
    if hint is not None:
        set_hint(solver, hint)
    solver.SetTimeLimit(max(1, int(max(SMALLEST_LIMIT_S, time_limit_s) * 1000)))
    t = time.perf_counter()
    if gap is None:
        code = solver.Solve()
    else:
        settings = pywraplp.MPSolverParameters()
        settings.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, float(gap))
        code = solver.Solve(settings)
    seconds = time.perf_counter() - t
    has_plan = code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    obj = solver.Objective().Value() if has_plan else None
    bound = solver.Objective().BestBound() if has_plan else None
    if bound is not None and abs(bound) >= NO_BOUND:
        bound = None
    if code == pywraplp.Solver.OPTIMAL and (bound is None or not math.isfinite(bound)):
        bound = obj
    gap = relative_gap(obj, bound)
    version = solver.SolverVersion()
    if solver.reorg_backend == "HIGHS" and "highs" not in version.lower():
        version = "HiGHS"  # OR-Tools 9.15 reports its HiGHS backend as "PDLP Solver"
    return MipRecord(
        model=model,
        stage=stage,
        solver=f"OR-Tools {version}",
        backend=solver.reorg_backend,
        status=status.get(code, str(code)),
        has_plan=has_plan,
        objective=obj,
        best_bound=bound,
        relative_gap=gap,
        seconds=round(seconds, 3),
        time_limit_s=time_limit_s,
        time_limit_reached=code == pywraplp.Solver.FEASIBLE
        or (code == pywraplp.Solver.NOT_SOLVED and seconds >= time_limit_s * 0.95),
        seed=solver.reorg_seed,
        variables=solver.NumVariables(),
        constraints=solver.NumConstraints(),
    )


def _num(v: float) -> str:
    """A number as MPS text that reads back to the same double (OR-Tools' own exporter keeps 6 digits)."""
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def mps_text(solver: pywraplp.Solver, name: str) -> str:
    """The solver's model as free-format MPS, with its variable names and every number in full.

    Rows keep their names, or are named c<position>; ranged rows use RANGES; integer columns sit
    between INTORG/INTEND markers and always carry explicit bounds; the objective's constant is
    written as minus the RHS of the objective row (the convention of OR-Tools and HiGHS)."""
    from ortools.linear_solver import linear_solver_pb2

    proto = linear_solver_pb2.MPModelProto()
    solver.ExportModelToProto(proto)
    inf = math.inf
    var_names = [v.name or f"v{j}" for j, v in enumerate(proto.variable)]
    if len(set(var_names)) != len(var_names):
        raise ValueError(f"model {name}: variable names are not unique")
    rows, ranges = [], []
    columns: list[list[tuple[str, float]]] = [[] for _ in proto.variable]
    for j, v in enumerate(proto.variable):
        if v.objective_coefficient != 0:
            columns[j].append(("COST", v.objective_coefficient))
    rhs = []
    if proto.objective_offset != 0:
        rhs.append(("COST", -proto.objective_offset))
    for i, c in enumerate(proto.constraint):
        row = c.name or f"c{i}"
        lo, up = c.lower_bound, c.upper_bound
        if lo == up:
            kind, value = "E", lo
        elif lo == -inf and up < inf:
            kind, value = "L", up
        elif up == inf and lo > -inf:
            kind, value = "G", lo
        elif lo > -inf and up < inf:
            kind, value = "G", lo
            ranges.append((row, up - lo))
        else:
            raise ValueError(f"model {name}: row {row} has no bound")
        rows.append(f" {kind}  {row}")
        if value != 0:
            rhs.append((row, value))
        for j, a in zip(c.var_index, c.coefficient):
            if a != 0:
                columns[j].append((row, a))
    lines = [
        f"NAME          {name}",
        "OBJSENSE",
        "    MAX" if proto.maximize else "    MIN",
        "ROWS",
        " N  COST",
        *rows,
        "COLUMNS",
    ]
    integer = False
    for j, v in enumerate(proto.variable):
        if v.is_integer != integer:
            lines.append("    MARKER  'MARKER'  'INTORG'" if v.is_integer else "    MARKER  'MARKER'  'INTEND'")
            integer = v.is_integer
        for row, a in columns[j] or [("COST", 0.0)]:
            lines.append(f"    {var_names[j]}  {row}  {_num(a)}")
    if integer:
        lines.append("    MARKER  'MARKER'  'INTEND'")
    lines.append("RHS")
    lines += [f"    RHS  {row}  {_num(value)}" for row, value in rhs]
    if ranges:
        lines.append("RANGES")
        lines += [f"    RNG  {row}  {_num(value)}" for row, value in ranges]
    lines.append("BOUNDS")
    for j, v in enumerate(proto.variable):
        lo, up, nm = v.lower_bound, v.upper_bound, var_names[j]
        if lo == up:
            lines.append(f" FX BND  {nm}  {_num(lo)}")
            continue
        if lo == -inf and up == inf:
            lines.append(f" FR BND  {nm}")
            continue
        if lo == -inf:
            lines.append(f" MI BND  {nm}")
        elif lo != 0 or v.is_integer:
            lines.append(f" LO BND  {nm}  {_num(lo)}")
        if up < inf:
            lines.append(f" UP BND  {nm}  {_num(up)}")
        elif v.is_integer:
            lines.append(f" PL BND  {nm}")
    lines.append("ENDATA")
    return "\n".join(lines) + "\n"
