"""Staff placement model (MODEL.md 4.2): move health workers between the stations of the new
province, within a travel-time limit, to cover the Circular 03/2023 norms and cadre minimums.

Formulation (integer flows; OR-Tools MIP backend, CBC by default; three lexicographic stages):

Sets
    J: stations (open: main or point; closed ones must be emptied); K: cadres;
    arcs (i, j): j open, i != j, t_ij <= `max_move_minutes` and j among the
    `move_candidates` nearest open stations of i, plus every open j of i's new commune when i is
    closed; R: regional centres (doctor rotation).
Data
    a_ik: staff of cadre k at i after attrition; h_k: hires of cadre k; n_j: norm of site j (on the
    residents it serves); r_j: doctor minimum (`doctors_min_main_station` at main stations, else 0);
    t_ij minutes between stations; q_c: doctors centre c may rotate (`rotation_doctors_per_centre`).
Variables
    f_ijk in Z+ persons of cadre k moved from i to j; g_jk in Z+ hires of cadre k placed at j;
    o_cj in Z+ doctors rotated from centre c to j (t_cj <= max_move_minutes);
    u_j >= 0 staff shortfall of site j; v_j >= 0 doctor shortfall of site j.
    staff_jk = a_jk - sum_j' f_jj'k + sum_i f_ijk + g_jk (+ sum_c o_cj for doctors).
Constraints
    sum_j' f_jj'k <= a_jk;  staff_jk = 0 at closed stations;  sum_j g_jk = h_k;  sum_j o_cj <= q_c;
    u_j >= n_j - sum_k staff_jk;  v_j >= r_j - staff_j,doctor.
Objective, lexicographic
    1. shortfall  = `doctor_shortfall_weight` x sum_j v_j + sum_j u_j
    2. person-minutes moved = sum t_ij f_ijk + sum t_cj o_cj      (with stage 1 held at its optimum)
    3. persons moved = sum f_ijk + sum o_cj                        (with stages 1 and 2 held)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import CADRES
from . import _mip

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
    arcs = set()
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
                # a closed station with no open site within the limit: its nearest site of the commune (reported)
                arcs.add((i, int(same[np.argmin(tt[i, same])])))
    return sorted(arcs)


COMMODITIES = ("doctor", "staff")  # doctors, and every other cadre (interchangeable in every objective term)


def solve_staff(stations: pd.DataFrame, roles: pd.Series, norms: pd.Series, centres: pd.DataFrame, net, params: dict, seed: int):
    """Returns (staff_after, moves, records, info).

    Cadres other than doctors enter the objective only through the total norm, so the model moves
    two commodities (doctors; other staff) and each station's outgoing other staff are then drawn
    from its cadres, largest first: the same optimum, a third of the variables.
    """
    codes = list(net.station_codes)
    st = stations.loc[codes]
    role = roles.reindex(codes).to_numpy()
    new_code = st["new_code"].to_numpy()
    tt = net.station_station
    base, lost = apply_attrition(st[list(CADRES)], params, seed)
    a_full = base.to_numpy()
    doc = CADRES.index("doctor")
    a = np.c_[a_full[:, doc], a_full.sum(axis=1) - a_full[:, doc]]  # commodities
    hires_c = {c: int(params[f"hires_{c}"]) for c in CADRES}
    hires = [hires_c["doctor"], sum(v for c, v in hires_c.items() if c != "doctor")]
    n = norms.reindex(codes).fillna(0).to_numpy()
    r = np.where(role == "main", params["doctors_min_main_station"], 0)
    arcs = _arcs(codes, role, new_code, tt, params)
    solver = _mip.new_solver(params["mip_solver"], seed)
    inf = solver.infinity()
    f = {}
    for (i, j) in arcs:
        for k in (0, 1):
            if a[i, k] > 0:
                f[i, j, k] = solver.IntVar(0, int(a[i, k]), "")
    open_idx = np.flatnonzero(role != "closed")
    g = {(j, k): solver.IntVar(0, hires[k], "") for k in (0, 1) if hires[k] > 0 for j in open_idx}
    rot = {}
    q = int(params["rotation_doctors_per_centre"])
    if q > 0:
        for ci in range(len(net.centre_codes)):
            for j in open_idx:
                if net.centre_station[ci, j] <= params["max_move_minutes"]:
                    rot[ci, j] = solver.IntVar(0, q, "")
    out_, in_ = {}, {}
    for (i, j, k), v in f.items():
        out_.setdefault((i, k), []).append(v)
        in_.setdefault((j, k), []).append(v)
    for (j, k), v in g.items():
        in_.setdefault((j, k), []).append(v)
    for (ci, j), v in rot.items():
        in_.setdefault((j, 0), []).append(v)
    staff = {}
    for j in range(len(codes)):
        for k in (0, 1):
            outs = out_.get((j, k), [])
            if outs:
                solver.Add(solver.Sum(outs) <= int(a[j, k]))
            staff[j, k] = int(a[j, k]) - solver.Sum(outs) + solver.Sum(in_.get((j, k), []))
            if role[j] == "closed":
                solver.Add(staff[j, k] == 0)
    for k in (0, 1):
        if hires[k] > 0:
            solver.Add(solver.Sum([g[j, k] for j in open_idx]) == hires[k])
    for ci in range(len(net.centre_codes)):
        vs = [v for (c2, j), v in rot.items() if c2 == ci]
        if vs:
            solver.Add(solver.Sum(vs) <= q)
    u, v = {}, {}
    for j in open_idx:
        u[j] = solver.NumVar(0, inf, "")
        solver.Add(u[j] >= float(n[j]) - staff[j, 0] - staff[j, 1])
        if r[j] > 0:
            v[j] = solver.NumVar(0, inf, "")
            solver.Add(v[j] >= float(r[j]) - staff[j, 0])
    w = params["doctor_shortfall_weight"]
    shortfall = w * solver.Sum(list(v.values())) + solver.Sum(list(u.values()))
    minutes = solver.Sum([float(tt[i, j]) * x for (i, j, k), x in f.items()] + [float(net.centre_station[ci, j]) * x for (ci, j), x in rot.items()])
    persons = solver.Sum(list(f.values()) + list(rot.values()))
    records = []
    limit = params["solver_time_limit_s"]
    solver.Minimize(shortfall)
    rec1 = _mip.solve(solver, model="staff_placement", stage="1_shortfall", time_limit_s=limit, seed=seed)
    records.append(rec1)
    if rec1["has_plan"]:
        # hold stage 1 at its value (integer weights: the optimum is a whole number of staff)
        solver.Add(shortfall <= rec1["objective"] + 1e-6)
        solver.Minimize(minutes)
        rec2 = _mip.solve(solver, model="staff_placement", stage="2_person_minutes", time_limit_s=limit, seed=seed)
        records.append(rec2)
        if rec2["has_plan"]:
            solver.Add(minutes <= rec2["objective"] * (1 + 1e-7) + 1e-6)
            solver.Minimize(persons)
            rec3 = _mip.solve(solver, model="staff_placement", stage="3_persons_moved", time_limit_s=limit, seed=seed)
            records.append(rec3)
    info = {"lost": lost, "hires": hires_c, "arcs": len(arcs)}
    if not rec1["has_plan"] or not records[-1]["has_plan"]:
        info["fallback"] = "staff stay: no plan within the time limit"
        return pd.DataFrame(a_full, index=codes, columns=list(CADRES)), pd.DataFrame(columns=MOVE_COLUMNS), records, info
    val = lambda x: int(round(x.solution_value()))  # noqa: E731
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
            rows.append({"from_station": codes[i], "to_station": codes[j], "cadre": c, "persons": m, "minutes": round(float(tt[i, j]), 1),
                         "reason": _reason(i, j, 0 if c == "doctor" else 1, role, r, a, n)})
    for (ci, j), x in sorted(rot.items()):
        p = val(x)
        if p > 0:
            after[j, doc] += p
            rows.append({"from_station": f"centre:{net.centre_codes[ci]}", "to_station": codes[j], "cadre": "doctor", "persons": p,
                         "minutes": round(float(net.centre_station[ci, j]), 1), "reason": "rotation of a centre doctor to a main station short of doctors"})
    for (j, k), x in sorted(g.items()):
        p = val(x)
        if p <= 0:
            continue
        pool = {"doctor": hires_c["doctor"]} if k == 0 else {c: hires_c[c] for c in others}
        for _ in range(p):
            c = max(pool, key=lambda c: (pool[c], -CADRES.index(c)))
            pool[c] -= 1
            hires_c_left = pool
            after[j, CADRES.index(c)] += 1
            rows.append({"from_station": "hire", "to_station": codes[j], "cadre": c, "persons": 1, "minutes": 0.0, "reason": "new hire placed where the shortfall is"})
        if k == 0:
            hires_c["doctor"] = hires_c_left["doctor"]
        else:
            for c in others:
                hires_c[c] = hires_c_left[c]
    moves = pd.DataFrame(rows, columns=MOVE_COLUMNS)
    if len(moves):
        moves = moves.groupby(["from_station", "to_station", "cadre"], as_index=False, sort=True).agg(
            persons=("persons", "sum"), minutes=("minutes", "first"), reason=("reason", "first"))[MOVE_COLUMNS]
    staff_after = pd.DataFrame(after, index=codes, columns=list(CADRES))
    mv = moves[~moves["from_station"].isin(["hire"])] if len(moves) else moves
    info["terms"] = {"weighted_shortfall": rec1["objective"], "doctor_shortfall": float(sum(x.solution_value() for x in v.values())),
                     "staff_shortfall": float(sum(x.solution_value() for x in u.values())),
                     "person_minutes_moved": float((mv["persons"] * mv["minutes"]).sum()) if len(mv) else 0.0,
                     "persons_moved": int(mv["persons"].sum()) if len(mv) else 0}
    info["hires"] = {c: int(params[f"hires_{c}"]) for c in CADRES}
    return staff_after, moves, records, info


def _reason(i, j, k, role, r, a, n) -> str:
    """Why a move from i to j of commodity k (0 doctors, 1 other staff), in the planner's terms."""
    why = []
    if role[i] == "closed":
        why.append("its station closes")
    if k == 0 and r[j] > 0 and a[j, 0] < r[j]:
        why.append(f"the main station has {int(a[j, 0])} doctor(s) for a minimum of {int(r[j])}")
    if a[j].sum() < n[j]:
        why.append(f"the destination has {int(a[j].sum())} staff for a norm of {int(n[j])}")
    if a[i].sum() > n[i] and role[i] != "closed":
        why.append(f"the origin has {int(a[i].sum())} staff for a norm of {int(n[i])}")
    return "; ".join(why) or "rebalancing"


def shortfall_terms(staff: pd.DataFrame, roles: pd.Series, norms: pd.Series, params: dict) -> dict:
    """Stage-1 objective of any staffing (the baseline's, for comparison)."""
    role = roles.reindex(staff.index)
    open_ = role != "closed"
    total = staff[list(CADRES)].sum(axis=1)
    u = np.maximum(0, norms.reindex(staff.index).fillna(0) - total)[open_].sum()
    r = np.where(role == "main", params["doctors_min_main_station"], 0)
    v = np.maximum(0, r - staff["doctor"].to_numpy())[open_.to_numpy()].sum()
    return {"weighted_shortfall": float(params["doctor_shortfall_weight"] * v + u), "doctor_shortfall": float(v), "staff_shortfall": float(u)}
