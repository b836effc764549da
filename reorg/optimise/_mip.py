"""Shared MIP plumbing: create an OR-Tools solver, solve with a time limit, record the solve, and
write the model as MPS with full-precision numbers."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

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
# the backends that take a random seed through OR-Tools (SetSolverSpecificParametersAsString);
# CBC and HiGHS refuse the call there (and are deterministic), so no seed is claimed for them
SEED_PARAMETER = {"SCIP": "randomization/randomseedshift = {seed}"}


def new_solver(name: str, seed: int) -> pywraplp.Solver:
    """An OR-Tools solver of backend `name`; `solver.reorg_seed` is the seed it was given, or None."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver(name)
    if solver is None:
        raise RuntimeError(f"OR-Tools has no {name} backend here")
    solver.reorg_backend, solver.reorg_seed = name, None
    template = SEED_PARAMETER.get(name)
    if template:
        if not solver.SetSolverSpecificParametersAsString(template.format(seed=seed % 2**31)):
            raise RuntimeError(f"{name} refused its seed parameter")
        solver.reorg_seed = seed % 2**31
    return solver


def solve(solver: pywraplp.Solver, *, model: str, time_limit_s: float, stage: str | None = None) -> MipRecord:
    """Solve and return the record: status, objective, bound, gap, size, seconds."""
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
