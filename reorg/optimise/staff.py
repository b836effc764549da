"""Staff placement model (MODEL.md 4.2): move health workers between the stations of the new
province, within a travel-time limit, to cover the Circular 03/2023 norms and cadre minimums.

Formulation (integer flows; three lexicographic stages, each solved by its LP relaxation where
that is integral, else by an OR-Tools MIP backend, CBC by default):

Sets
    J: stations (open: main or point; closed ones must be emptied); K = {doctor, staff}: doctors
    and every other cadre together (other cadres enter every term only through the total norm);
    arcs (i, j): j open, i != j, t_ij <= `max_move_minutes` and j among the `move_candidates`
    nearest open stations of i; plus, when i is closed, every open j of i's new commune with
    t_ij <= `max_move_minutes`; a closed i with no arc at all gets one arc, to the nearest open
    site of its commune, whatever its minutes (its staff must go somewhere);
    R: regional centres (doctor rotation).
Data
    a_ik: staff of commodity k at i after attrition; h_k: hires of commodity k; n_j: norm of site j
    (on the residents it serves); r_j: doctor minimum (`doctors_min_main_station` at main stations,
    else 0); t_ij: minutes between stations i and j; t_cj: minutes from centre c to station j;
    q: doctors each centre may rotate (`rotation_doctors_per_centre`); w: `doctor_shortfall_weight`.
Variables
    f_ijk in {0..a_ik} persons of commodity k moved along arc (i, j) (only where a_ik > 0);
    g_jk in {0..h_k} hires of commodity k placed at open j;
    o_cj in {0..q} doctors rotated from centre c to open j, where t_cj <= `max_move_minutes`;
    u_j >= 0 staff shortfall and v_j >= 0 doctor shortfall of open site j (v_j only where r_j > 0).
    staff_jk = a_jk - sum_j' f_jj'k + sum_i f_ijk + g_jk (+ sum_c o_cj for doctors).
Constraints
    sum_j' f_jj'k <= a_jk;  staff_jk = 0 at closed stations;  sum_j g_jk = h_k;  sum_j o_cj <= q;
    u_j >= n_j - sum_k staff_jk;  v_j >= r_j - staff_j,doctor  (open j);
    staff_j,doctor >= 1 for every open j with a_j,doctor >= 1: an open station that has a doctor
    after attrition keeps at least one (issue 13). Taking a station's only doctor can never lower
    the number of open sites without a doctor (Decision 281: one doctor at every station), so it
    is not traded for a main station's `doctors_min_main_station` or a staff norm elsewhere; those
    are met from stations with two or more doctors, closed stations, rotations and hires, or
    reported as shortfall.
Objective, lexicographic
    1. shortfall = w sum_j v_j + sum_j u_j
    2. person-minutes moved = sum t_ij f_ijk + sum t_cj o_cj, over the plans of least shortfall
    3. persons moved = sum f_ijk + sum o_cj, over the plans of least shortfall and, among them,
       least person-minutes
How each stage is solved (`_mip.solve_relaxation`, `_mip.fix_to_optimal_face`)
    The LP relaxation first (`_mip.LP_BACKEND`, a simplex: its optimum is a vertex). Where that
    vertex is integral it is an optimum of the MIP, proven by the LP bound (record: backend GLOP,
    status optimal, gap 0); on every instance tried (Nghệ An, Thanh Hóa, Lai Châu) all three are.
    The next stage is then the same model restricted to the previous stage's optimal face by
    complementary slackness: each variable with a nonzero reduced cost fixed at its value, each
    row with a nonzero dual made an equality. Exact: the LP optimum equals the MIP optimum, so
    the integer plans optimal for the previous stage are LP-optimal, hence exactly the integer
    points of that face (the face of an optimal dual holds every optimal solution); bounds
    change, not the matrix, so the next LP keeps its structure (and, in practice, an integral
    vertex). The first stage whose vertex is fractional, and every later one, is solved by the
    MIP backend (`mip_solver`) on the model as it stands, each later stage with one more row
    holding the previous optimum: shortfall <= (stage value) + 1e-6 (integer weights: whole
    numbers of staff), person-minutes <= (stage value) (1 + 1e-7) + 1e-6. The exported MPS of a
    stage is the model it solved (the earlier stages' faces as bounds and equalities).
    Same optimum as the three-MIP method solved by CBC (Nghệ An 17 / 6,967.539862 / 450,
    Thanh Hóa 32 / 6,690.799409 / 644, Lai Châu 16 / 2,375.414583 / 71); where a stage has tied
    optima the plan may differ (its other terms, e.g. open sites without a doctor).
Known plan (`_known_plan`): the `stay` rule as a point of the model (closed stations' staff to
their main station, hires where most needed), the MIP backend's start; each stage's plan is the
next stage's start (it meets the row or face that holds the previous optimum). When a stage ends
without a plan at most as good, the known plan is kept (`_mip.keep_known`: status,
objective and gap describe the plan returned), so the model always returns a plan. Its size
depends on the stations only (norms are per site, whatever the number of demand points), and its
arcs are already sparse (`move_candidates` nearest sites).
Reported with each stage's terms: `open_sites_without_doctor_before_moves` (open j with
a_j,doctor = 0) and `open_sites_without_doctor` (after the plan); the rule above makes the second
at most the first.
Baseline (the `stay` rule, `stay_staff`): staff stay after attrition, and the staff of a closed
station join the main station of its commune.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import i18n
from ..schema import CADRES
from . import _mip
from .records import MipRecord, ModelExport

if TYPE_CHECKING:
    from ..network import Network

#: a station's position: a Python int, or a numpy integer where it comes from np.flatnonzero
Position = int | np.integer[Any]

MOVE_COLUMNS = ["from_station", "to_station", "cadre", "persons", "minutes", "reason"]


def apply_attrition(staff: pd.DataFrame, params: dict, seed: int) -> tuple[pd.DataFrame, dict]:
    """Remove round(rate x total) workers of each cadre, drawn at random (seeded) among them."""
    rng = np.random.default_rng(seed + 17)
    staff = staff.copy()
    lost = {}
    for c in CADRES:
        rate = params[f"attrition_{c}"]
        total = int(staff[c].sum())
        n = int(round(rate * total))
        lost[c] = n
        if n <= 0:
            continue
        people = np.repeat(np.arange(len(staff)), staff[c].to_numpy())
        gone = rng.choice(people, size=n, replace=False)
        counts = np.bincount(gone, minlength=len(staff))
        staff[c] = staff[c].to_numpy() - counts
    return staff, lost


def _arcs(codes, roles, new_code, tt, params):
    open_idx = np.flatnonzero(roles != "closed")
    K = int(params["move_candidates"])
    limit = params["max_move_minutes"]
    arcs: set[tuple[int, int]] = set()
    for i in range(len(codes)):
        t = tt[i, open_idx]
        ok = open_idx[(t <= limit) & (open_idx != i)]
        if len(ok) > K:
            ok = ok[np.argsort(tt[i, ok], kind="stable")[:K]]
        arcs.update((i, int(j)) for j in ok)
        if roles[i] == "closed":
            same = open_idx[new_code[open_idx] == new_code[i]]
            near = same[tt[i, same] <= limit]
            if len(near):
                arcs.update((i, int(j)) for j in near)
            elif len(ok) == 0 and len(same):
                # a closed station with no open site within the limit: the nearest site of its commune, beyond the limit
                arcs.add((i, int(same[np.argmin(tt[i, same])])))
    return sorted(arcs)


COMMODITIES = ("doctor", "staff")  # doctors, and every other cadre (interchangeable in every objective term)
STAGES = ("1_shortfall", "2_person_minutes", "3_persons_moved")
STAGE_TERMS = ("weighted_shortfall", "person_minutes_moved", "persons_moved")  # each stage's objective among the terms


@dataclass
class StaffResult:
    """The staff placed: staff after (station x cadre), the moves, one record per stage solved (each
    with the terms of its own plan), the workers lost to attrition and hired (by cadre), the
    number of arcs, a fallback note when no plan was found, and the exported models."""

    staff_after: pd.DataFrame
    moves: pd.DataFrame
    records: list[MipRecord]
    lost: dict[str, int]
    hires: dict[str, int]
    arcs: int
    fallback: str | None = None
    export: ModelExport | None = field(default=None, repr=False)


def stay_staff(
    stations: pd.DataFrame, roles: pd.Series, main_station: pd.Series, params: dict, seed: int
) -> tuple[pd.DataFrame, dict]:
    """The `stay` rule: staff stay where they are after attrition; the staff of a closed station
    join the main station of its new commune. Returns (staff by station x cadre, lost by cadre)."""
    staff, lost = apply_attrition(stations[list(CADRES)], params, seed)
    for s in roles.index[roles == "closed"]:
        target = main_station[stations.at[s, "new_code"]]
        staff.loc[target] += staff.loc[s]
        staff.loc[s] = 0
    return staff, lost


def solve_staff(
    stations: pd.DataFrame,
    roles: pd.Series,
    norms: pd.Series,
    centres: pd.DataFrame | None,
    net: Network,
    params: dict,
    seed: int,
    *,
    export: bool = False,
) -> StaffResult:
    """Solve the three stages (`export`: keep each stage's model as MPS text and the model's data).

    Cadres other than doctors enter the objective only through the total norm, so the model moves
    two commodities (doctors; other staff) and each station's outgoing other staff are then drawn
    from its cadres, largest first: the same optimum, a third of the variables.
    """
    codes = list(net.station_codes)
    st = stations.loc[codes]
    role = roles.reindex(codes).to_numpy()
    new_code = st["new_code"].to_numpy()
    tt = net.station_station
    ct = net.centre_station
    if tt is None or ct is None:
        raise ValueError("the staff model needs the network's station-to-station and centre-to-station minutes")
    base, lost = apply_attrition(st[list(CADRES)], params, seed)
    a_full = base.to_numpy()
    doc = CADRES.index("doctor")
    a = np.c_[a_full[:, doc], a_full.sum(axis=1) - a_full[:, doc]]  # commodities
    hires_c = {c: int(params[f"hires_{c}"]) for c in CADRES}
    hires = [hires_c["doctor"], sum(v for c, v in hires_c.items() if c != "doctor")]
    n = norms.reindex(codes).fillna(0).to_numpy()
    r = np.where(role == "main", params["doctors_min_main_station"], 0)
    arcs = _arcs(codes, role, new_code, tt, params)
    # the model is written as a proto (one call per row, not per coefficient) and loaded into the LP backend
    from ortools.linear_solver import linear_solver_pb2

    proto = linear_solver_pb2.MPModelProto()
    inf = math.inf
    integer: list[bool] = []  # by variable index (creation order)

    def new_var(lb: float, ub: float, name: str, is_integer: bool = True) -> int:
        if export:  # names only for the exported MPS (a fifth of the building time otherwise)
            proto.variable.add(lower_bound=lb, upper_bound=ub, is_integer=is_integer, name=name)
        else:
            proto.variable.add(lower_bound=lb, upper_bound=ub, is_integer=is_integer)
        integer.append(is_integer)
        return len(integer) - 1

    def add_row(lb: float, ub: float, terms: list[tuple[int, float]]) -> None:
        row = proto.constraint.add(lower_bound=lb, upper_bound=ub)
        if terms:
            index, coef = zip(*terms)
            row.var_index.extend(index)
            row.coefficient.extend(coef)

    f: dict[tuple[int, int, int], int] = {}  # (i, j, k) -> variable index
    for i, j in arcs:
        for k in (0, 1):
            if a[i, k] > 0:
                f[i, j, k] = new_var(0, int(a[i, k]), f"f_{codes[i]}_{codes[j]}_{COMMODITIES[k]}")
    open_idx = np.flatnonzero(role != "closed")
    g = {(int(j), k): new_var(0, hires[k], f"g_{codes[j]}_{COMMODITIES[k]}") for k in (0, 1) if hires[k] > 0 for j in open_idx}
    rot: dict[tuple[int, int], int] = {}
    q = int(params["rotation_doctors_per_centre"])
    if q > 0:
        for ci in range(len(net.centre_codes)):
            for j in open_idx:
                if ct[ci, j] <= params["max_move_minutes"]:
                    rot[ci, int(j)] = new_var(0, q, f"o_{net.centre_codes[ci]}_{codes[j]}")
    # staff_jk = a_jk + (the terms of flow_[j, k]): -1 on flows out of j, +1 on flows, hires and rotations into j
    flow_: dict[tuple[int, int], list[tuple[int, float]]] = {}
    for (i, _j, k), x in f.items():
        flow_.setdefault((i, k), []).append((x, -1.0))
    for (_i, j, k), x in f.items():
        flow_.setdefault((j, k), []).append((x, 1.0))
    for (j, k), x in g.items():
        flow_.setdefault((j, k), []).append((x, 1.0))
    for (_ci, j), x in rot.items():
        flow_.setdefault((j, 0), []).append((x, 1.0))
    for j in range(len(codes)):
        for k in (0, 1):
            terms = flow_.get((j, k), [])
            outs = [(x, 1.0) for x, coef in terms if coef < 0]
            if outs:
                add_row(-inf, int(a[j, k]), outs)
            if role[j] == "closed":
                add_row(-int(a[j, k]), -int(a[j, k]), terms)
            elif k == 0 and a[j, 0] >= 1:
                add_row(1 - int(a[j, 0]), inf, terms)  # the last doctor stays
    for k in (0, 1):
        if hires[k] > 0:
            add_row(hires[k], hires[k], [(g[int(j), k], 1.0) for j in open_idx])
    for ci in range(len(net.centre_codes)):
        vs = [(x, 1.0) for (c2, _j), x in rot.items() if c2 == ci]
        if vs:
            add_row(-inf, q, vs)
    u: dict[int, int] = {}
    v: dict[int, int] = {}
    for j in open_idx.tolist():
        u[j] = new_var(0, inf, f"u_{codes[j]}", is_integer=False)
        add_row(float(n[j]) - int(a[j, 0]) - int(a[j, 1]), inf, [(u[j], 1.0), *flow_.get((j, 0), []), *flow_.get((j, 1), [])])
        if r[j] > 0:
            v[j] = new_var(0, inf, f"v_{codes[j]}", is_integer=False)
            add_row(float(r[j]) - int(a[j, 0]), inf, [(v[j], 1.0), *flow_.get((j, 0), [])])
    solver = _mip.new_solver(_mip.LP_BACKEND, seed)  # the LP relaxation first; the MIP backend if it is fractional
    error = solver.LoadModelFromProtoKeepNames(proto)
    if error:
        raise RuntimeError(f"the staff model did not load: {error}")
    variables = solver.variables()
    w = params["doctor_shortfall_weight"]
    # the three objectives, as (variable index, coefficient)
    shortfall = [(x, 1.0) for x in u.values()] + [(x, float(w)) for x in v.values()]
    minutes = [(x, float(tt[i, j])) for (i, j, k), x in f.items()] + [(x, float(ct[ci, j])) for (ci, j), x in rot.items()]
    persons = [(x, 1.0) for x in f.values()] + [(x, 1.0) for x in rot.values()]
    # the plan's arrays: flows (from, to, commodity, variable, minutes), hires, rotations
    fi, fj, fk = np.array(list(f), dtype=int).reshape(-1, 3).T
    fx = np.array(list(f.values()), dtype=int)
    ft = np.array([float(tt[i, j]) for i, j, _k in f], dtype=float)
    gj, gk = np.array(list(g), dtype=int).reshape(-1, 2).T
    gx = np.array(list(g.values()), dtype=int)
    rj = np.array([j for _ci, j in rot], dtype=int)
    rx = np.array(list(rot.values()), dtype=int)
    rt = np.array([float(ct[ci, j]) for ci, j in rot], dtype=float)
    doctorless_before = open_sites_without_doctor(a[:, 0], role)
    is_open = role != "closed"

    def plan_terms(values: np.ndarray) -> dict:
        """The three objectives of a plan (its variables' values), from its integer flows and the
        unrounded minutes (the shortfalls from the staff the plan leaves, not from u and v)."""
        whole = np.rint(values).astype(np.int64)
        fv, gv, rv = whole[fx], whole[gx], whole[rx]
        after = a.astype(float).copy()
        np.subtract.at(after, (fi, fk), fv)
        np.add.at(after, (fj, fk), fv)
        np.add.at(after, (gj, gk), gv)
        np.add.at(after[:, 0], rj, rv)
        dshort = float(np.maximum(0, r - after[:, 0])[is_open].sum())
        sshort = float(np.maximum(0, n - after.sum(axis=1))[is_open].sum())
        moved_f, moved_r = np.flatnonzero(fv), np.flatnonzero(rv)
        pm = sum(int(fv[p]) * ft[p] for p in moved_f.tolist()) + sum(int(rv[p]) * rt[p] for p in moved_r.tolist())
        return {
            "weighted_shortfall": float(w * dshort + sshort),
            "doctor_shortfall": dshort,
            "staff_shortfall": sshort,
            "person_minutes_moved": float(pm),
            "persons_moved": int(fv.sum() + rv.sum()),
            "open_sites_without_doctor_before_moves": doctorless_before,
            "open_sites_without_doctor": open_sites_without_doctor(after[:, 0], role),
        }

    records: list[MipRecord] = []
    mps: dict[str, str] = {}
    limit = params["solver_time_limit_s"]
    objectives = (shortfall, minutes, persons)
    holds = (lambda obj: obj + 1e-6, lambda obj: obj * (1 + 1e-7) + 1e-6)  # the MIP's rows holding stages 1 and 2
    # the known plan: the `stay` rule's moves (closed stations' staff to their main station) and the
    # hires where most needed; each stage's plan is the next stage's known plan (it meets the new row)
    known_at = _known_plan(codes, role, new_code, tt, a, n, r, arcs, hires, f, g, u, v, main_of=_main_positions(role, new_code))
    known = np.zeros(len(variables))
    known[list(known_at)] = list(known_at.values())
    mip: Any = None  # the MIP backend's model, from the first stage whose LP vertex is fractional
    mip_from = len(STAGES)
    for number, stage in enumerate(STAGES):
        values: np.ndarray | None = None
        if mip is None:
            _set_objective(solver, variables, objectives[number])
            rec, lp_values = _mip.solve_relaxation(
                solver, model="staff_placement", stage=stage, time_limit_s=limit, integer=integer
            )
            if lp_values is not None:
                values, solved = np.array(lp_values), solver
            else:  # the stages from here on are MIPs on the model as it stands (the earlier stages' faces)
                mip, mip_from, lp_seconds = _mip.copy_as_mip(solver, params["mip_solver"], seed), number, rec.seconds
        if mip is not None:
            if number > mip_from:
                add = mip.Constraint(-inf, holds[number - 1](records[-1].objective))
                mip_variables = mip.variables()  # a new list of every variable at each call: once
                for x, coef in objectives[number - 1]:
                    add.SetCoefficient(mip_variables[x], coef)
            _set_objective(mip, mip.variables(), objectives[number])
            left = max(_mip.SMALLEST_LIMIT_S, limit - (lp_seconds if number == mip_from else 0.0))
            rec = _mip.solve(mip, model="staff_placement", stage=stage, time_limit_s=left, hint=known.tolist())
            rec.time_limit_s = limit
            if number == mip_from:
                rec.seconds = round(rec.seconds + lp_seconds, 3)
            solved = mip
            if rec.has_plan:
                values = np.array([x.solution_value() for x in mip.variables()])
        records.append(rec)
        if export:
            mps[rec.label.replace(":", "_")] = _mip.mps_text(solved, rec.label.replace(":", "_"))
        key = STAGE_TERMS[number]
        known_value = float(plan_terms(known)[key])
        plan_value = None if values is None else float(plan_terms(values)[key])
        if mip is None and plan_value is not None:
            rec.objective = rec.best_bound = plan_value  # the LP's optimum: this plan's value, summed as its terms
            rec.relative_gap = 0.0
        current = known if values is None else values
        if plan_value is None or known_value < plan_value - 1e-9 * max(1.0, abs(plan_value)):
            if plan_value is not None:
                rec.objective = plan_value  # the MIP plan's value on the same formula as the known plan's
            _mip.keep_known(rec, known_value)
            current = known
        rec.terms = plan_terms(current)
        if mip is None and number + 1 < len(STAGES):
            if current is values:
                _mip.fix_to_optimal_face(
                    solver, current.tolist(), variables=variables
                )  # stage 1's (2's) optimal plans: the next stage's model
            else:  # the known plan kept over the LP's (rounding): the next stages are MIPs holding this one
                mip, mip_from, lp_seconds = _mip.copy_as_mip(solver, params["mip_solver"], seed), number, 0.0
        known = current
    whole = np.rint(known).astype(np.int64)
    val = lambda x: int(whole[x])  # noqa: E731
    exported = (
        ModelExport(mps=mps, tables=_model_tables(codes, st, role, a, n, r, arcs, tt, rot, ct, net.centre_codes))
        if export
        else None
    )
    # disaggregate: each station's outgoing other staff, largest cadres first (deterministic)
    others = [c for c in CADRES if c != "doctor"]
    stock = {i: {c: int(a_full[i, CADRES.index(c)]) for c in others} for i in range(len(codes))}
    after = a_full.copy()
    rows = []
    for (i, j, k), x in sorted(f.items()):
        p = val(x)
        if p <= 0:
            continue
        if k == 0:
            parts = {"doctor": p}
        else:
            parts = {}
            for _ in range(p):
                c = max(others, key=lambda c: (stock[i][c], -others.index(c)))
                stock[i][c] -= 1
                parts[c] = parts.get(c, 0) + 1
        for c, m in parts.items():
            kk = CADRES.index(c)
            after[i, kk] -= m
            after[j, kk] += m
            rows.append(
                {
                    "from_station": codes[i],
                    "to_station": codes[j],
                    "cadre": c,
                    "persons": m,
                    "minutes": round(float(tt[i, j]), 1),
                    "reason": _reason(i, j, 0 if c == "doctor" else 1, role, r, a, n),
                }
            )
    for (ci, j), x in sorted(rot.items()):
        p = val(x)
        if p > 0:
            after[j, doc] += p
            rows.append(
                {
                    "from_station": f"centre:{net.centre_codes[ci]}",
                    "to_station": codes[j],
                    "cadre": "doctor",
                    "persons": p,
                    "minutes": round(float(ct[ci, j]), 1),
                    "reason": i18n.text("reason.rotation"),
                }
            )
    pools = {0: {"doctor": hires_c["doctor"]}, 1: {c: hires_c[c] for c in others}}  # hires left to place, by cadre
    for (j, k), x in sorted(g.items()):
        pool = pools[k]
        for _ in range(max(0, val(x))):
            c = max(pool, key=lambda c: (pool[c], -CADRES.index(c)))
            pool[c] -= 1
            after[j, CADRES.index(c)] += 1
            rows.append(
                {
                    "from_station": "hire",
                    "to_station": codes[j],
                    "cadre": c,
                    "persons": 1,
                    "minutes": 0.0,
                    "reason": i18n.text("reason.hire"),
                }
            )
    moves = pd.DataFrame(rows, columns=MOVE_COLUMNS)
    if len(moves):
        moves = moves.groupby(["from_station", "to_station", "cadre"], as_index=False, sort=True).agg(
            persons=("persons", "sum"), minutes=("minutes", "first"), reason=("reason", "first")
        )[MOVE_COLUMNS]
    staff_after = pd.DataFrame(after, index=codes, columns=list(CADRES))
    return StaffResult(
        staff_after, moves, records, lost, {c: int(params[f"hires_{c}"]) for c in CADRES}, len(arcs), None, exported
    )


def _set_objective(solver: Any, variables: list[Any], terms: list[tuple[int, float]]) -> None:
    """Minimise sum coef x_index over `terms` (variable index, coefficient)."""
    objective = solver.Objective()
    objective.Clear()
    for x, coef in terms:
        objective.SetCoefficient(variables[x], coef)
    objective.SetMinimization()


def _main_positions(role: np.ndarray, new_code: np.ndarray) -> dict[Any, int]:
    """The main station's position of each new commune."""
    return {new_code[j]: int(j) for j in np.flatnonzero(role == "main")}


def _known_plan(codes, role, new_code, tt, a, n, r, arcs, hires, f, g, u, v, *, main_of) -> dict[int, float]:
    """The `stay` rule as a point of the MIP (variable index -> value): each closed station's staff
    go to its commune's main station (or, without that arc, to the nearest site of its commune it
    has an arc to, else its nearest arc); each hire goes, one by one, to the open site that needs
    it most (doctors: doctor minimum then norm; other staff: norm; ties by position); no rotation;
    u and v the shortfalls left. Open stations keep their staff, so the last-doctor rows hold."""
    values: dict[int, float] = {}
    after = a.astype(float).copy()
    targets: dict[int, list[int]] = {}
    for i, j in arcs:
        targets.setdefault(i, []).append(j)
    for i in np.flatnonzero(role == "closed").tolist():
        js = sorted(targets.get(i, []), key=lambda j: (tt[i, j], j))
        same = [j for j in js if new_code[j] == new_code[i]]
        main = main_of.get(new_code[i])
        to = main if main in js else (same[0] if same else (js[0] if js else None))
        if to is None:
            continue
        for k in (0, 1):
            if (i, to, k) in f:
                values[f[i, to, k]] = float(a[i, k])
                after[i, k] -= a[i, k]
                after[to, k] += a[i, k]
    open_idx = np.flatnonzero(role != "closed")
    placed: dict[tuple[int, int], int] = {}
    for k in (0, 1):
        for _ in range(hires[k] if len(open_idx) else 0):
            need = np.maximum(0, n - after.sum(axis=1))
            if k == 0:
                need = need + (len(codes) + 1) * np.maximum(0, r - after[:, 0])  # the doctor minimum first
            j = int(open_idx[np.argmax(need[open_idx])])
            placed[j, k] = placed.get((j, k), 0) + 1
            after[j, k] += 1
    for (j, k), x in g.items():
        values[x] = float(placed.get((int(j), k), 0))
    for j, x in u.items():
        values[x] = float(max(0.0, n[j] - after[j].sum()))
    for j, x in v.items():
        values[x] = float(max(0.0, r[j] - after[j, 0]))
    return values


def _model_tables(codes, st, role, a, n, r, arcs, tt, rot, ct, centre_codes) -> dict[str, pd.DataFrame]:
    """The staff model's data: `staff_minutes` (every arc: station to station, and centre to station
    for rotations, minutes in full) and `staff_sites` (role, staff by commodity after attrition,
    norm and doctor minimum of each station)."""
    pairs = [(codes[i], codes[j], "station", float(tt[i, j])) for i, j in arcs]
    pairs += [(str(centre_codes[ci]), codes[j], "centre", float(ct[ci, j])) for ci, j in sorted(rot)]
    minutes = pd.DataFrame(pairs, columns=["from_code", "to_station", "from_kind", "minutes"])
    sites = pd.DataFrame(
        {
            "station_code": codes,
            "new_code": st["new_code"].to_numpy(),
            "role": role,
            "doctors": a[:, 0].astype(int),
            "other_staff": a[:, 1].astype(int),
            "norm": n.astype(float),
            "doctor_minimum": r.astype(int),
        }
    )
    return {"staff_minutes": minutes, "staff_sites": sites}


def _reason(i, j, k, role, r, a, n) -> str:
    """Why a move from i to j of commodity k (0 doctors, 1 other staff), in the planner's terms."""
    why = []
    if role[i] == "closed":
        why.append(i18n.text("reason.closes"))
    if k == 0 and r[j] > 0 and a[j, 0] < r[j]:
        why.append(i18n.text("reason.doctors_short", doctors=int(a[j, 0]), minimum=int(r[j])))
    if a[j].sum() < n[j]:
        why.append(i18n.text("reason.destination_short", staff=int(a[j].sum()), norm=int(n[j])))
    if a[i].sum() > n[i] and role[i] != "closed":
        why.append(i18n.text("reason.origin_surplus", staff=int(a[i].sum()), norm=int(n[i])))
    return "; ".join(why) or i18n.text("reason.rebalancing")


def open_sites_without_doctor(doctors: np.ndarray, role: np.ndarray) -> int:
    """Open stations and points (role != closed) with no doctor."""
    return int(((np.asarray(doctors) < 1) & (np.asarray(role) != "closed")).sum())


def shortfall_terms(staff: pd.DataFrame, roles: pd.Series, norms: pd.Series, params: dict) -> dict:
    """Stage-1 objective of any staffing (the baseline's, for comparison)."""
    role = roles.reindex(staff.index)
    open_ = role != "closed"
    total = staff[list(CADRES)].sum(axis=1)
    u = np.maximum(0, norms.reindex(staff.index).fillna(0) - total)[open_].sum()
    r = np.where(role == "main", params["doctors_min_main_station"], 0)
    v = np.maximum(0, r - staff["doctor"].to_numpy())[open_.to_numpy()].sum()
    return {
        "weighted_shortfall": float(params["doctor_shortfall_weight"] * v + u),
        "doctor_shortfall": float(v),
        "staff_shortfall": float(u),
    }
