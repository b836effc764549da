"""The exact MIPs of the uncapacitated p-median after its Lagrangian run (catchments.lagrangian_bound).

1. `reduced_cost_fixing`: the best multipliers remove every assignment x_ck and every centre that no
   plan at most as costly as the incumbent can use (the restriction keeps the full optimum).
2. `nearest_candidates_p_median`: the MIP on the surviving pairs, sparser still when they are many
   (CANDIDATES_SHARE_MAX). Each commune c keeps its `size_c` cheapest surviving centres as
   candidates, and a placeholder w_c priced at the next surviving centre's a_ck stands for the others:

       min sum a_ck x_ck + sum_c ph_c w_c,  sum_k x_ck + w_c = 1,  x_ck <= y_k,  sum_k y_k = p.

   Any plan assigns c either to a candidate or to a centre at least as costly as ph_c, so this is a
   relaxation: its optimum (or its proven bound) is a lower bound of the full p-median. Its centres
   y are a plan of the full problem, evaluated on the full matrix (each commune at its cheapest
   open centre). When that plan costs no more than the relaxation's bound it is optimal; otherwise
   the communes that took their placeholder double their candidate lists and the MIP is solved
   again (a commune whose list holds all its surviving centres has no placeholder), until the plan
   is proven optimal or the time limit ends. Every MIP starts from the best plan known
   (`_mip.set_hint` through `_mip.solve`), and when the rounds end without proof, the best of the
   Lagrangian plan and the rounds' plans is returned with the best bound of all (`_mip.keep_known`).
   Record: `records.NearestCandidatesRecord`.

`restricted_p_median` is one such MIP without placeholders (every surviving pair a candidate).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from . import _mip
from .records import MipRecord, NearestCandidatesRecord

FIXING_TOLERANCE = 1e-9  # relative margin above the incumbent before a variable is fixed (rounding)


@dataclass
class Fixing:
    """Reduced-cost fixing of the p-median: `keep[c, k]` x_ck may be 1 in a plan at most as costly as
    the incumbent; `closed[k]` / `opened[k]` centres proven closed / open in every such plan; `lower`
    L(l) recomputed from the multipliers."""

    keep: np.ndarray
    closed: np.ndarray
    opened: np.ndarray
    lower: float


def reduced_cost_fixing(A: np.ndarray, p: int, multipliers: np.ndarray, upper: float, incumbent: Sequence[int]) -> Fixing:
    """Fix the variables of the uncapacitated p-median that no plan of cost <= `upper` can use.

    With multipliers l, reduced costs d_ck = A_ck - l_c, r_k = sum_c min(0, d_ck), S the p centres of
    smallest r_k (the relaxed solution), r_(p) = max over S, r_(p+1) = min outside S, and
    LB = L(l) = sum_c l_c + sum_{k in S} r_k. Fixing a variable and re-solving the relaxation gives
    the bound of every plan that uses it; a plan's cost is at least the Lagrangian bound of any
    restriction it satisfies (its assignment rows hold, so the relaxed terms vanish):

    - x_ck = 1 forces y_k = 1; the relaxation then takes column k with x_ck = 1 (value
      r_k - min(0, d_ck) + d_ck = r_k + max(0, d_ck)) and the p - 1 best other columns: when
      k is in S that is S itself, when k is not, S without the column of r_(p). Hence every plan
      with x_ck = 1 costs at least LB + max(0, r_k - r_(p)) + max(0, d_ck) (the first term is 0 for
      k in S, whose r_k <= r_(p)).
    - y_k = 1 for k not in S: at least LB + r_k - r_(p) (k replaces the column of r_(p)).
    - y_k = 0 for k in S: at least LB + r_(p+1) - r_k (the best column outside S replaces k).

    A bound above `upper` (by more than FIXING_TOLERANCE x |upper|) means no plan of cost <= upper
    (the incumbent's) sets that variable so: x_ck = 0, y_k = 0 or y_k = 1 respectively. Every
    optimal plan costs at most `upper`, so it survives the fixing whole, and the problem restricted
    to the surviving variables has the same optimum. The incumbent's pairs and centres are kept
    explicitly (they cannot be fixed but for rounding), so the restriction is feasible.
    """
    nC, nK = A.shape
    lam = np.asarray(multipliers, dtype=float)
    d = A - lam[:, None]
    r = np.minimum(0.0, d).sum(axis=0)
    tol = FIXING_TOLERANCE * max(1.0, abs(upper))
    closed = np.zeros(nK, dtype=bool)
    opened = np.zeros(nK, dtype=bool)
    if p < nK:
        order = np.argsort(r, kind="stable")
        inside, outside = order[:p], order[p:]
        lower = float(lam.sum() + r[inside].sum())
        r_p, r_next = float(r[inside].max()), float(r[outside].min())
        extra = np.maximum(0.0, r - r_p)  # what opening k costs the relaxation (0 inside S)
        closed[outside] = lower + r[outside] - r_p > upper + tol
        opened[inside] = lower + r_next - r[inside] > upper + tol
    else:  # every centre is open: no centre to choose
        lower = float(lam.sum() + r.sum())
        extra = np.zeros(nK)
        opened[:] = True
    keep = lower + extra[None, :] + np.maximum(0.0, d) <= upper + tol
    inc = np.asarray(incumbent, dtype=int)
    keep[np.arange(nC), inc[np.argmin(A[:, inc], axis=1)]] = True
    closed[inc] = False
    keep &= ~closed[None, :]
    return Fixing(keep, closed, opened, lower)


# The restricted MIP's backend, measured on the national instance (16,696 of 2,294,811 x_ck kept):
# HiGHS 2.8 s, SCIP 4.0 s, both at the optimum with bound = objective; CBC 4.3 s stopped at its
# default relative gap, 3e-6 above the optimum. SCIP: it takes the seed. Its relative gap is set to
# FIXED_MIP_GAP (OR-Tools would otherwise stop it at 1e-4: a 120-commune relaxation ended 5.6e-5 short).
FIXING_MIP_SOLVER = "SCIP"
FIXED_MIP_GAP = 1e-9  # largest relative gap between a plan and the best bound accepted as its proven optimum
# first candidate list of each commune: its max(CANDIDATES_MIN, ceil(CANDIDATES_PER_SHARE x |K| / p))
# cheapest surviving centres (a plan's communes share p centres: about |K| / p candidates lie near each)
CANDIDATES_MIN = 8
CANDIDATES_PER_SHARE = 2.0
# when the first lists would hold more than this share of the surviving pairs, every survivor is a
# candidate (no placeholder): the relaxation saves little and its bound is weaker. Measured on Thanh
# Hoa (166 x 26, p = 5, 2,095 survivors): first lists of 1,712 pairs 22 s, all survivors 10 s; on the
# 900-node benchmark (171,834 survivors) first lists of 18,000 pairs prove the optimum in seconds
# where all survivors do not in 60 s.
CANDIDATES_SHARE_MAX = 0.5


def first_candidates(n_centres: int, p: int) -> int:
    """The length of each commune's first candidate list (at most the number of centres)."""
    share = math.ceil(CANDIDATES_PER_SHARE * n_centres / max(1, p))
    return min(n_centres, max(CANDIDATES_MIN, share))


@dataclass
class CandidatesSolve:
    """One MIP on candidate pairs: `assign` the centre of each commune in its plan (on the full
    matrix: the candidate chosen, or the cheapest open centre when the commune is on its placeholder
    or a centre left out is cheaper), None without a plan; `open_` its centres (p);
    `placeholder_used[c]` the MIP put c on its placeholder; `record` the MIP's; `as_solved` the
    plan is the MIP's solution itself (its objective is the plan's cost)."""

    assign: np.ndarray | None
    open_: np.ndarray
    placeholder_used: np.ndarray
    record: MipRecord
    as_solved: bool = False


def candidates_mip(
    A: np.ndarray,
    p: int,
    fixing: Fixing,
    candidates: np.ndarray,
    placeholder: np.ndarray,
    *,
    solver_name: str,
    seed: int,
    time_limit_s: float,
    start: Sequence[int] | None = None,
) -> CandidatesSolve:
    """The p-median MIP on the pairs `candidates[c, k]` (a subset of fixing.keep), with a placeholder
    w_c of cost `placeholder[c]` for each commune where it is finite. Variables in order x (commune
    by commune, centres ascending), y (centres not closed; lower bound 1 for those proven open), w;
    rows: assignment (one per commune), x_ck <= y_k, sum y = p. Built as one model proto from numpy
    arrays. `start`: the centres of a known plan, handed to the backend as its start (each commune
    on its cheapest open candidate, or on its placeholder when none is open)."""
    from ortools.linear_solver import linear_solver_pb2

    nC, nK = A.shape
    cs, ks = np.nonzero(candidates)  # row-major: each commune's pairs are consecutive
    centres = np.flatnonzero(~fixing.closed)
    ypos = np.full(nK, -1)
    ypos[centres] = len(cs) + np.arange(len(centres))
    wc = np.flatnonzero(np.isfinite(placeholder))
    wpos = np.full(nC, -1)
    wpos[wc] = len(cs) + len(centres) + np.arange(len(wc))
    proto = linear_solver_pb2.MPModelProto(name="catchments_restricted")
    var = linear_solver_pb2.MPVariableProto
    proto.variable.extend(
        var(lower_bound=0.0, upper_bound=1.0, is_integer=True, objective_coefficient=a, name=f"x_{c}_{k}")
        for a, c, k in zip(A[cs, ks].tolist(), cs.tolist(), ks.tolist())
    )
    proto.variable.extend(
        var(lower_bound=1.0 if fixing.opened[k] else 0.0, upper_bound=1.0, is_integer=True, name=f"y_{k}")
        for k in centres.tolist()
    )
    proto.variable.extend(
        var(lower_bound=0.0, upper_bound=1.0, objective_coefficient=a, name=f"w_{c}")
        for a, c in zip(placeholder[wc].tolist(), wc.tolist())
    )
    row = linear_solver_pb2.MPConstraintProto
    starts = np.searchsorted(cs, np.arange(nC + 1))
    for c in range(nC):
        index = list(range(starts[c], starts[c + 1])) + ([int(wpos[c])] if wpos[c] >= 0 else [])
        proto.constraint.append(row(lower_bound=1.0, upper_bound=1.0, var_index=index, coefficient=[1.0] * len(index)))
    proto.constraint.extend(
        row(upper_bound=0.0, lower_bound=-np.inf, var_index=[j, y], coefficient=[1.0, -1.0])
        for j, y in enumerate(ypos[ks].tolist())
    )
    proto.constraint.append(
        row(lower_bound=float(p), upper_bound=float(p), var_index=ypos[centres].tolist(), coefficient=[1.0] * len(centres))
    )
    solver = _mip.new_solver(solver_name, seed)
    error = solver.LoadModelFromProto(proto)
    if error:
        raise RuntimeError(f"restricted p-median: {error}")
    hint = None
    if start is not None:
        inc = np.asarray(start, dtype=int)
        pick = np.where(candidates[:, inc], A[:, inc], np.inf)
        chosen = np.where(np.isfinite(pick.min(axis=1)), inc[np.argmin(pick, axis=1)], -1)
        hint = np.concatenate(
            [(chosen[cs] == ks).astype(float), np.isin(centres, inc).astype(float), (chosen[wc] < 0).astype(float)]
        ).tolist()
    rec = _mip.solve(solver, model="catchments", time_limit_s=time_limit_s, hint=hint, gap=FIXED_MIP_GAP)
    if not rec.has_plan:
        return CandidatesSolve(None, np.zeros(0, dtype=int), np.zeros(nC, dtype=bool), rec)
    response = linear_solver_pb2.MPSolutionResponse()
    solver.FillSolutionResponseProto(response)
    values = np.asarray(response.variable_value)
    x = values[: len(cs)] > 0.5
    open_ = centres[values[len(cs) : len(cs) + len(centres)] > 0.5]
    used = np.zeros(nC, dtype=bool)
    used[wc] = values[len(cs) + len(centres) :] > 1e-6
    assign = np.full(nC, -1)
    assign[cs[x]] = ks[x]
    if not len(open_):  # p = 0: no plan
        return CandidatesSolve(None, open_, used, rec)
    rows = np.arange(nC)
    nearest = open_[np.argmin(A[:, open_], axis=1)]
    better = (assign < 0) | (A[rows, nearest] < A[rows, np.maximum(assign, 0)])
    assign[better] = nearest[better]
    return CandidatesSolve(assign, open_, used, rec, as_solved=not better.any())


def restricted_p_median(
    A: np.ndarray,
    p: int,
    fixing: Fixing,
    *,
    solver_name: str,
    seed: int,
    time_limit_s: float,
    start: Sequence[int] | None = None,
) -> tuple[np.ndarray | None, MipRecord]:
    """The p-median MIP (min sum A_ck x_ck, sum_k x_ck = 1, x_ck <= y_k, sum_k y_k = p) on every
    variable `fixing` kept (`candidates_mip` without placeholders). Returns (centre of each commune
    or None, the MIP's record)."""
    out = candidates_mip(
        A,
        p,
        fixing,
        fixing.keep,
        np.full(A.shape[0], np.inf),
        solver_name=solver_name,
        seed=seed,
        time_limit_s=time_limit_s,
        start=start,
    )
    return out.assign, out.record


def nearest_candidates_p_median(
    A: np.ndarray,
    p: int,
    fixing: Fixing,
    *,
    start: Sequence[int],
    start_bound: float,
    seed: int,
    time_limit_s: float,
    solver_name: str = FIXING_MIP_SOLVER,
) -> tuple[np.ndarray, NearestCandidatesRecord]:
    """The rounds of nearest-candidates MIPs described above, from the known plan `start` (centres)
    with the lower bound `start_bound` proven elsewhere (Lagrangian). Returns the plan (centre of
    each commune: always one, the start's at worst) and its record (without the Lagrangian and
    fixing fields, which the caller fills)."""
    t0 = time.perf_counter()
    nC, nK = A.shape
    rows = np.arange(nC)
    order = np.argsort(np.where(fixing.keep, A, np.inf), axis=1, kind="stable")  # surviving centres first, cheapest first
    rank = np.empty_like(order)
    rank[rows[:, None], order] = np.arange(nK)[None, :]
    survivors = fixing.keep.sum(axis=1)
    size = np.minimum(survivors, first_candidates(nK, p))
    if size.sum() > CANDIDATES_SHARE_MAX * survivors.sum():
        size = survivors.copy()
    first = int(size.max()) if nC else 0
    inc = np.asarray(sorted(start), dtype=int)
    known = float(A[:, inc].min(axis=1).sum())
    best_assign: np.ndarray | None = None
    best_open = inc
    best_value, bound, rounds = math.inf, -math.inf, 0
    proven = False
    last: MipRecord | None = None
    placeholders = 0
    while True:
        remaining = time_limit_s - (time.perf_counter() - t0)
        if rounds and remaining <= _mip.SMALLEST_LIMIT_S:
            break
        candidates = rank < size[:, None]
        more = size < survivors
        placeholder = np.full(nC, np.inf)
        placeholder[more] = A[rows[more], order[rows[more], size[more]]]
        placeholders = int(more.sum())
        solve = candidates_mip(
            A,
            p,
            fixing,
            candidates,
            placeholder,
            solver_name=solver_name,
            seed=seed,
            time_limit_s=max(remaining, 0.0),
            start=best_open.tolist(),
        )
        rounds, last = rounds + 1, solve.record
        if solve.record.best_bound is not None:
            bound = max(bound, float(solve.record.best_bound))
        if solve.assign is not None:
            # the MIP's own objective when the plan is its solution, else the plan's cost on the full matrix
            mip_value = solve.record.objective
            value = float(mip_value) if mip_value is not None and solve.as_solved else float(A[rows, solve.assign].sum())
            if value < best_value - 1e-12 * max(1.0, abs(value)):
                best_assign, best_value, best_open = solve.assign, value, solve.open_
        top = min(best_value, known)
        proven = top - max(bound, start_bound) <= FIXED_MIP_GAP * max(1.0, abs(top))
        grow = solve.placeholder_used & more
        if proven or solve.record.status != "optimal" or not grow.any():
            break
        size[grow] = np.minimum(survivors[grow], 2 * size[grow])
    assert last is not None
    seconds = time.perf_counter() - t0
    mip = MipRecord(**{f.name: getattr(last, f.name) for f in fields(MipRecord)})
    mip.has_plan, mip.objective = best_assign is not None, None if best_assign is None else best_value
    mip.best_bound = bound if math.isfinite(bound) else None
    out_of_time = last.time_limit_reached or seconds >= 0.95 * time_limit_s
    mip.time_limit_s, mip.time_limit_reached = time_limit_s, not proven and out_of_time
    if proven:
        mip.status = "optimal"
    elif mip.has_plan:  # a plan, not proven: the rounds ended at the time limit
        mip.status = _mip.STATUS_NAMES["FEASIBLE"]
    if _mip.keep_known(mip, known, start_bound):  # the MIPs found no plan better than the known one
        best_assign = inc[np.argmin(A[:, inc], axis=1)]
        if proven:
            mip.status = "optimal"  # the known plan itself, proven optimal by the rounds' bound
    rec = NearestCandidatesRecord(
        **{f.name: getattr(mip, f.name) for f in fields(MipRecord) if f.name not in ("method", "seconds")},
        seconds=round(seconds, 3),
        rounds=rounds,
        candidates_first=first,
        placeholders_last=placeholders,
    )
    assert best_assign is not None
    return best_assign, rec
