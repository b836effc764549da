"""Answers per target (issue 13 point 3), each solved, not guessed, each solve recorded:

- earliest year: the first year from which the target can hold in every later year of the
  horizon under the scenario's budgets and supply, the target alone considered. One MIP: binaries
  z_t (met in year t, z_t <= z_t+1), shortfall_t <= BIG_t (1 - z_t), maximise sum z_t.
- least budget: the least yearly budget B (recurrent and capital spending together, the same every
  year) with which the target holds from its deadline on. One MIP: the target hard from its
  deadline, rec_t + cap_t <= B, minimise B (the scenario's own budgets lifted).
- when no budget suffices (not enough graduates, or the cap on hires per station): the least
  shortfall the target can have in its deadline year at any budget: "short by N".

Each question uses only the cadres its target counts (model.PlanModel `cadres`): hiring other
cadres cannot help it, so the answer is the same and the model smaller; and, as every model of the
plan, no row its target meets in every plan nor any hire only such rows could use (model.py "Left
out, exactly"): Nghệ An's norm question 26.8k -> 5.0k variables, titles 22.7k -> 141.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..optimise.records import MipRecord
from .instance import Instance
from .model import PlanModel
from .targets import BY_KEY

INFEASIBLE = "infeasible"


@dataclass
class Answer:
    target: str
    deadline: int
    earliest_year: int | None  # None: not within the horizon under the budgets
    least_budget_mvnd: float | None  # None: no budget suffices (see short_by)
    short_by: float | None  # the least shortfall in the deadline year at any budget, when no budget suffices
    records: list[MipRecord] = field(default_factory=list)
    undecided: bool = False  # a solve stopped without a plan (time limit): the answer is unknown
    beyond_horizon: bool = False  # the deadline falls after the plan's last year


def answer(inst: Instance, key: str) -> Answer:
    """The earliest year and the least budget of target `key`: one model (the target's shortfall in
    every year, binaries z_t, a budget variable B), solved up to three times with other bounds."""
    t_def = BY_KEY[key]
    deadline = int(inst.params[t_def.deadline_param])
    m = PlanModel(inst, on=[key], cadres=t_def.cadres, shortfall_years="all", name=f"answer_{key}")
    s, inf = m.solver, m.inf
    z = [s.IntVar(0, 1, f"z_{y}") for y in inst.years]
    for t, vs in m.v[key].items():
        big = float(sum(v.ub() for v in vs))
        if vs:
            m.row(-inf, big, {**dict.fromkeys(vs, 1.0), z[t]: big})  # sum v <= big (1 - z_t)
    for t in range(len(z) - 1):
        m.row(-inf, 0, {z[t]: 1.0, z[t + 1]: -1.0})
    budget = s.NumVar(0, inf, "budget")
    for rec_t, cap_t in zip(m.rec, m.cap, strict=True):
        m.row(-inf, 0, {rec_t: 1.0, cap_t: 1.0, budget: -1.0})
    # 1. earliest year, under the scenario's budgets
    rec1 = m.solve_stage(dict.fromkeys(z, 1.0), stage="earliest_year", maximise=True)
    records = [rec1]
    earliest = None
    if rec1.has_plan:
        met = [round(v.solution_value()) for v in z]
        earliest = inst.years[met.index(1)] if 1 in met else None
    if deadline > inst.years[-1]:  # beyond the horizon: no least budget to meet it there
        return Answer(key, deadline, earliest, None, None, records, undecided=not rec1.has_plan, beyond_horizon=True)
    # 2. least budget: the target met from its deadline, the scenario's budgets lifted
    for rows in m.budget_rows:
        for row in rows:
            row.SetUb(inf)
    for t, year in enumerate(inst.years):
        if year >= deadline:
            z[t].SetLb(1)
    rec2 = m.solve_stage({budget: 1.0}, stage="least_budget")
    records.append(rec2)
    if rec2.has_plan:
        return Answer(key, deadline, earliest, float(budget.solution_value()), None, records, undecided=not rec1.has_plan)
    if rec2.status != INFEASIBLE:
        return Answer(key, deadline, earliest, None, None, records, undecided=True)
    # 3. no budget suffices: the least shortfall in the deadline year, at any budget
    for v in z:
        v.SetLb(0)
    rec3 = m.solve_stage(dict.fromkeys(m.v[key][inst.years.index(deadline)], 1.0), stage="least_shortfall")
    records.append(rec3)
    short = float(rec3.objective) if rec3.has_plan and rec3.objective is not None else None
    return Answer(key, deadline, earliest, None, short, records, undecided=not (rec1.has_plan and rec3.has_plan))
