"""Staff placement model (MODEL.md 4.2): move health workers between the stations of the new
province, within a travel-time limit, to cover the Circular 03/2023 norms and cadre minimums.

Formulation (integer flows; OR-Tools MIP backend, CBC by default; three lexicographic stages):

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
Objective, lexicographic (each stage solved on the previous stage's model plus one row)
    1. shortfall = w sum_j v_j + sum_j u_j
    2. person-minutes moved = sum t_ij f_ijk + sum t_cj o_cj,
       with shortfall <= (stage 1 value returned) + 1e-6
    3. persons moved = sum f_ijk + sum o_cj,
       with also person-minutes <= (stage 2 value returned) (1 + 1e-7) + 1e-6
Known plan (`_known_plan`): the `stay` rule as a point of the model (closed stations' staff to
their main station, hires where most needed), handed to the backend as stage 1's start; each
stage's plan is the next stage's start (it meets the row that holds the previous optimum). When a
stage ends without a plan at most as good, the known plan is kept (`_mip.keep_known`: status,
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
    solver = _mip.new_solver(params["mip_solver"], seed)
    inf = solver.infinity()
    f = {}
    for i, j in arcs:
        for k in (0, 1):
            if a[i, k] > 0:
                f[i, j, k] = solver.IntVar(0, int(a[i, k]), f"f_{codes[i]}_{codes[j]}_{COMMODITIES[k]}")
    open_idx = np.flatnonzero(role != "closed")
    g = {(j, k): solver.IntVar(0, hires[k], f"g_{codes[j]}_{COMMODITIES[k]}") for k in (0, 1) if hires[k] > 0 for j in open_idx}
    rot = {}
    q = int(params["rotation_doctors_per_centre"])
    if q > 0:
        for ci in range(len(net.centre_codes)):
            for j in open_idx:
                if ct[ci, j] <= params["max_move_minutes"]:
                    rot[ci, j] = solver.IntVar(0, q, f"o_{net.centre_codes[ci]}_{codes[j]}")
    out_: dict[tuple[Position, int], list[Any]] = {}
    in_: dict[tuple[Position, int], list[Any]] = {}
    for (i, j, k), v in f.items():
        out_.setdefault((i, k), []).append(v)
        in_.setdefault((j, k), []).append(v)
    for (j, k), v in g.items():
        in_.setdefault((j, k), []).append(v)
    for (_ci, j), v in rot.items():
        in_.setdefault((j, 0), []).append(v)
    staff: dict[tuple[Position, int], Any] = {}
    for j in range(len(codes)):
        for k in (0, 1):
            outs = out_.get((j, k), [])
            if outs:
                solver.Add(solver.Sum(outs) <= int(a[j, k]))
            staff[j, k] = int(a[j, k]) - solver.Sum(outs) + solver.Sum(in_.get((j, k), []))
            if role[j] == "closed":
                solver.Add(staff[j, k] == 0)
            elif k == 0 and a[j, 0] >= 1:
                solver.Add(staff[j, 0] >= 1)  # the last doctor stays
    for k in (0, 1):
        if hires[k] > 0:
            solver.Add(solver.Sum([g[j, k] for j in open_idx]) == hires[k])
    for ci in range(len(net.centre_codes)):
        vs = [v for (c2, j), v in rot.items() if c2 == ci]
        if vs:
            solver.Add(solver.Sum(vs) <= q)
    u, v = {}, {}
    for j in open_idx:
        u[j] = solver.NumVar(0, inf, f"u_{codes[j]}")
        solver.Add(u[j] >= float(n[j]) - staff[j, 0] - staff[j, 1])
        if r[j] > 0:
            v[j] = solver.NumVar(0, inf, f"v_{codes[j]}")
            solver.Add(v[j] >= float(r[j]) - staff[j, 0])
    w = params["doctor_shortfall_weight"]
    shortfall = w * solver.Sum(list(v.values())) + solver.Sum(list(u.values()))
    minutes = solver.Sum(
        [float(tt[i, j]) * x for (i, j, k), x in f.items()] + [float(ct[ci, j]) * x for (ci, j), x in rot.items()]
    )
    persons = solver.Sum(list(f.values()) + list(rot.values()))
    current: dict[int, float] = {}  # the plan being read: variable index -> value
    val = lambda x: int(round(current.get(x.index(), 0.0)))  # noqa: E731
    doctorless_before = open_sites_without_doctor(a[:, 0], role)

    def plan_terms() -> dict:
        """The three objectives of the plan the last solve returned, from its integer flows and the
        unrounded minutes (the shortfalls from the staff the plan leaves, not from u and v)."""
        after = a.astype(float).copy()
        fv = {key: val(x) for key, x in f.items()}  # each variable's value read once
        rv = {key: val(x) for key, x in rot.items()}
        for (i, j, k), x in fv.items():
            after[i, k] -= x
            after[j, k] += x
        for (j, k), x in g.items():
            after[j, k] += val(x)
        for (_ci, j), x in rv.items():
            after[j, 0] += x
        is_open = role != "closed"
        dshort = float(np.maximum(0, r - after[:, 0])[is_open].sum())
        sshort = float(np.maximum(0, n - after.sum(axis=1))[is_open].sum())
        pm = sum(x * float(tt[i, j]) for (i, j, k), x in fv.items()) + sum(x * float(ct[ci, j]) for (ci, j), x in rv.items())
        return {
            "weighted_shortfall": float(w * dshort + sshort),
            "doctor_shortfall": dshort,
            "staff_shortfall": sshort,
            "person_minutes_moved": float(pm),
            "persons_moved": int(sum(fv.values()) + sum(rv.values())),
            "open_sites_without_doctor_before_moves": doctorless_before,
            "open_sites_without_doctor": open_sites_without_doctor(after[:, 0], role),
        }

    records: list[MipRecord] = []
    mps: dict[str, str] = {}
    limit = params["solver_time_limit_s"]
    holds = [
        lambda obj: solver.Add(shortfall <= obj + 1e-6),  # integer weights: the optimum is a whole number of staff
        lambda obj: solver.Add(minutes <= obj * (1 + 1e-7) + 1e-6),
    ]
    # the known plan: the `stay` rule's moves (closed stations' staff to their main station) and the
    # hires where most needed; each stage's plan is the next stage's known plan (it meets the new row)
    known = _known_plan(codes, role, new_code, tt, a, n, r, arcs, hires, f, g, u, v, main_of=_main_positions(role, new_code))
    for number, (stage, objective) in enumerate(zip(STAGES, (shortfall, minutes, persons))):
        if number:
            holds[number - 1](records[-1].objective)
        solver.Minimize(objective)
        hint = [known.get(i, 0.0) for i in range(solver.NumVariables())]
        rec = _mip.solve(solver, model="staff_placement", stage=stage, time_limit_s=limit, hint=hint)
        records.append(rec)
        if export:
            mps[rec.label.replace(":", "_")] = _mip.mps_text(solver, rec.label.replace(":", "_"))
        key = STAGE_TERMS[number]
        current.clear()
        current.update(known)
        known_value = plan_terms()[key]
        mip_value = None
        if rec.has_plan:
            current.clear()
            current.update({x.index(): x.solution_value() for x in solver.variables()})
            mip_value = plan_terms()[key]
        if mip_value is None or known_value < mip_value - 1e-9 * max(1.0, abs(mip_value)):
            if mip_value is not None:
                rec.objective = mip_value  # the MIP plan's value on the same formula as the known plan's
            _mip.keep_known(rec, known_value)
            current.clear()
            current.update(known)
        rec.terms = plan_terms()
        known = dict(current)
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
                values[f[i, to, k].index()] = float(a[i, k])
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
        values[x.index()] = float(placed.get((int(j), k), 0))
    for j, x in u.items():
        values[x.index()] = float(max(0.0, n[j] - after[j].sum()))
    for j, x in v.items():
        values[x.index()] = float(max(0.0, r[j] - after[j, 0]))
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
