"""How the plan's model (model.py) is solved: the lexicographic stages, the upgrades apart from
the staff (`solve_plan`), the shortfall stage with cost as its tie-break (`shortfall_stage`), its
further rounds (`first_stage`) and the cost stage's stopping gap (`cost_gap`)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np

from ..optimise import _mip
from ..optimise.records import MipRecord
from ..schema import CADRES
from .instance import Instance
from .model import STAGES, PlanModel, Schedule, Terms

FIRST_STAGE_ROUNDS = 1  # the shortfall stage's rounds after the first (`first_stage`)
GAP_LIMIT = "feasible (gap limit)"  # the status of a stage stopped at its gap limit, short of proven optimal
GAP_TOLERANCE = 1e-9  # a relative gap below this is a proof of optimality


def solve_plan(inst: Instance, *, on: Iterable[str], hard: Iterable[str] = ()) -> Schedule:
    """The plan: the lexicographic stages (module docstring), the upgrades apart from the staff.

    The two parts share no variable and no row: upgrades meet only the `upgraded` target and the
    capital budget, staff every other target and the recurrent budget. So the least total
    shortfall is the sum of each part's least shortfall, any plan holding the total there holds
    each part at its own, and the least cost (and fewest transfers) under that is each part's: the
    parts are solved apart (`solve_part`), exactly; together the LP relaxation would trade a
    fraction of an upgrade against staff shortfall, a bound about 5 % below the optimum (measured
    on Nghệ An), and the cost stage could not close its gap. When hard targets leave no plan,
    `feasible` is False and the schedule is empty (planner.py diagnoses and solves without them)."""
    on, hard = tuple(on), tuple(hard)
    staff_on = tuple(k for k in on if k != "upgraded")
    parts = []
    if "upgraded" in on:
        parts.append(
            solve_part(inst, on=("upgraded",), hard=tuple(k for k in hard if k == "upgraded"), name="workforce_upgrades")
        )
    if staff_on:
        others = parts[0].records if parts else []
        staff = solve_part(
            inst, on=staff_on, hard=tuple(k for k in hard if k != "upgraded"), name="workforce_staff", others=others
        )
        parts.insert(0, staff)
    if not parts:
        J, K, T = len(inst.codes), len(CADRES), len(inst.years)
        z = np.zeros((J, K, T), dtype=int)
        return Schedule(
            z, np.zeros((len(inst.arcs), T), dtype=int), np.zeros((len(inst.rotation_arcs), T), dtype=int), z[:, 0, :].copy()
        )
    out = parts[0]
    for part in parts[1:]:
        out = Schedule(
            out.hires + part.hires,
            out.transfers + part.transfers,
            out.rotations + part.rotations,
            out.upgrades + part.upgrades,
            out.records + part.records,
            out.feasible and part.feasible,
        )
    return out


def cost_gap(rel: float, plan_cost: float, others: list[MipRecord]) -> float:
    """The cost stage's gap limit for a part whose start plan costs `plan_cost`, so that the plan's
    gap (the parts added up) is within `rel`: the other parts' cost records (`others`, solved
    before) leave room of rel x their cost less their own gap. Stopping at it, (P - D) <= g P and
    P <= plan_cost give (P - D + their gap) <= rel (P + their cost)."""
    other = [r for r in others if r.stage == STAGES[1]]
    if plan_cost <= 0 or not other or any(not r.has_plan or r.objective is None or r.best_bound is None for r in other):
        return rel
    cost = sum(float(r.objective or 0.0) for r in other)
    room = rel * cost - sum(float(r.objective or 0.0) - float(r.best_bound or 0.0) for r in other)
    return rel + max(room, 0.0) / plan_cost


def shortfall_stage(m: PlanModel, shortfall: Terms, *, gap: float, time_limit_s: float | None = None) -> MipRecord:
    """The first stage: the least shortfall, each plan's cost added at a weight eps small enough
    (eps x the most a plan can cost, `cost_ceiling`, < 1/2) that it only orders plans of the same
    shortfall when every shortfall is an integer (integer needs and weights): solved to the end,
    the lexicographic optimum of the first two stages, and short of it a plan as cheap as the
    search found for its shortfall, the cost stage's start (without it the cost stage started
    from whichever plan of that shortfall came first, and SCIP did not improve it in 15 s on Nghệ
    An). The record is the shortfall's: its plan's shortfall, and the bound every plan's shortfall
    s >= D - eps c >= D - eps C (D the weighted stage's bound, C the ceiling), rounded up to an
    integer. Needs that are not all integers: the shortfall alone."""
    ceiling = m.cost_ceiling()
    if not m.integral or ceiling <= 0:
        rec = m.solve_stage(shortfall, stage=STAGES[0], gap=gap, time_limit_s=time_limit_s)
        m.weighted = (rec.best_bound, 0.0)
        return rec
    eps = 0.5 / (ceiling + 1.0)
    weighted = dict(shortfall)
    for var, coef in m.cost_terms().items():
        weighted[var] = weighted.get(var, 0.0) + eps * coef
    rec = m.solve_stage(weighted, stage=STAGES[0], gap=gap, time_limit_s=time_limit_s)
    m.weighted = (rec.best_bound, eps * ceiling)
    if rec.has_plan:
        rec.objective = m.value(shortfall)
        if rec.best_bound is not None:
            rec.best_bound = min(max(0.0, math.ceil(rec.best_bound - eps * ceiling - 1e-6)), rec.objective)
        rec.relative_gap = _mip.relative_gap(rec.objective, rec.best_bound)
    return rec


def solve_part(
    inst: Instance, *, on: tuple[str, ...], hard: tuple[str, ...], name: str, others: list[MipRecord] | None = None
) -> Schedule:
    """The three lexicographic stages of one part by `plan_mip_solver` (SCIP), the first started
    from the plan that does nothing (always feasible without hard targets), each later one from the
    previous stage's plan (`_mip.set_hint`) with a row holding that stage's value. The cost stage
    stops at the gap that keeps the plan's (this part and `others`, the parts solved before, added
    up) within `plan_relative_gap` (`cost_gap`); the shortfall stage first at `plan_shortfall_gap`
    (`plan_relative_gap` if smaller), then closer (`first_stage`) while the cost stage's relaxation
    shows its gap could not close."""
    p = inst.params
    cadres = CADRES if any(k != "upgraded" for k in on) else ()
    m = PlanModel(inst, on=on, hard=hard, cadres=cadres, name=name)
    m.solver.SetHint(m.decisions(), [0.0] * len(m.decisions()))
    records: list[MipRecord] = []
    sched: Schedule | None = None
    hint: list[float] = []
    start_cost = 0.0
    for stage, expr in zip(STAGES, (m.shortfall_terms(), m.cost_terms(), m.transfers_terms()), strict=True):
        if stage == STAGES[2] and not expr:
            break  # no transfer or rotation variable: nothing to count
        gap = float(p["plan_relative_gap"])
        if hint:
            _mip.set_hint(m.solver, hint)
        if stage == STAGES[0]:
            rec, sched, hint, start_cost = first_stage(m, expr, others or [])
            records.append(rec)
            if not rec.has_plan:
                break
            continue
        if stage == STAGES[1]:
            gap = cost_gap(gap, start_cost, others or [])
        rec = m.solve_stage(expr, stage=stage, gap=gap)
        records.append(rec)
        if not rec.has_plan:
            break
        sched, hint = m.schedule(records), m.values()
        m.hold(expr, m.value(expr))
    if sched is None:
        sched = m.schedule(records)
        sched.feasible = False
    sched.records = label_gap_stops(records)
    return sched


def label_gap_stops(records: list[MipRecord]) -> list[MipRecord]:
    """`records`, those OR-Tools reports as optimal although they stopped at their gap limit (a
    relative gap above `GAP_TOLERANCE` remains) relabelled `GAP_LIMIT`: only a closed gap is a proof."""
    for rec in records:
        if rec.status == _mip.STATUS_NAMES["OPTIMAL"] and (rec.relative_gap or 0.0) > GAP_TOLERANCE:
            rec.status = GAP_LIMIT
    return records


def first_stage(m: PlanModel, shortfall: Terms, others: list[MipRecord]) -> tuple[MipRecord, Schedule | None, list[float], float]:
    """The shortfall stage (`shortfall_stage`) and its hold row; returns its record, plan, values
    (the next stage's start) and the plan's cost. The cost stage holds the shortfall found, and
    its relaxation trades each unit above the least shortfall for cost (about 85 million VND a
    unit on Nghệ An): a plan short of the least by a few units can leave the cost stage's bound
    too low to close its gap in any time. So, with the hold row in place, the cost stage's LP
    relaxation is solved; while its bound leaves the start plan's cost further from it than the
    cost stage's gap (`cost_gap`), the shortfall stage goes on from its plan until a plan of less
    shortfall (at most `FIRST_STAGE_ROUNDS` times, within `plan_time_limit_s` in all; the record
    counts the seconds of every round and relaxation, and its status, bound and gap are the last round's)."""
    p = m.inst.params
    rel = float(p["plan_relative_gap"])
    gap = min(rel, float(p["plan_shortfall_gap"]))
    limit = float(p["plan_time_limit_s"])
    rec = shortfall_stage(m, shortfall, gap=gap)
    seconds = rec.seconds
    if not rec.has_plan:
        return rec, None, [], 0.0
    for round_ in range(FIRST_STAGE_ROUNDS + 1):
        sched, values = m.schedule([rec]), m.values()
        cost, value = m.value(m.cost_terms()), m.value(shortfall)
        row = m.hold(shortfall, value)
        if round_ == FIRST_STAGE_ROUNDS or not rec.relative_gap or limit - seconds < 1.0:
            break
        t = time.perf_counter()
        bound = m.relaxed(m.cost_terms())
        seconds += time.perf_counter() - t
        if bound is None or cost - bound <= cost_gap(rel, cost, others) * bound:
            break  # the cost stage's root can close its gap (SCIP's gap: over the bound)
        # the shortfall stage again, from its plan, to the gap that stops it at the first plan of
        # less shortfall (its value with the weight on cost below value - 1 + the most that weight adds)
        row.SetUb(m.inf)
        _mip.set_hint(m.solver, values)
        solved, tie = m.weighted
        gap = max(0.0, (math.ceil(value) - 1 + tie - solved) / solved) if solved and solved > 0 else 0.0
        again = shortfall_stage(m, shortfall, gap=gap, time_limit_s=limit - seconds)
        seconds += again.seconds
        if not again.has_plan or again.objective is None or rec.objective is None or again.objective > rec.objective:
            row.SetUb(value + 1e-6 * max(1.0, abs(value)))  # keep the plan found before
            _mip.set_hint(m.solver, values)
            break
        rec = again
    rec.seconds = round(seconds, 3)
    rec.time_limit_s = limit
    _mip.set_hint(m.solver, values)
    return rec, sched, values, cost
