"""Station roles model (MODEL.md 4.1): one main station per new commune; every other station a
point or closed.

Formulation (a facility-location MIP, solved with OR-Tools (CBC backend by default)):

Sets
    C: new communes; S(c): stations of commune c; D(c): demand parts (old commune pieces) of c.
Data
    p_d: residents of part d; t_ds: door-to-door minutes from d to s; P_c = sum of p_d over D(c);
    f_s in [0, 1]: facility score; w: `main_facility_weight_minutes` (minutes per resident per unit
    of facility score); k: `point_keep_cost_person_minutes`; T: `max_minutes_nearest_facility`;
    B: `points_budget` (-1 = none). A(d) = {s in S(c): t_ds <= T}, or the nearest station of d when
    none is that close (such parts are reported).
    G: groups of parts with the same new commune and the same A(d) in the same order of minutes
    (ties by station position); every part of a group has the same nearest open site for any y,
    so one assignment per group is exact (a_gs = sum over d in g of p_d t_ds, in row order). With
    one point per old commune groups are few merges; with a population raster thousands of
    points fall into a few groups per commune (issue 12 point 9).
Variables
    y_s in {0,1} station s stays open; m_s in {0,1} s is the main station; x_gs in [0,1] group g
    uses s as its nearest open site (integral once y is fixed).
Objective (person-minutes)
    min  sum_g sum_{s in A(g)} a_gs x_gs                   [nearest_minutes]
       + sum_c sum_{s in S(c)} (sum_{d in D(c)} p_d t_ds) m_s [main_minutes]
       - w sum_c P_c sum_{s in S(c)} f_s m_s                [facility_bonus]
       + k sum_s (y_s - m_s)                                 [point_cost]
Constraints
    sum_{s in S(c)} m_s = 1 (c in C);  m_s <= y_s;  sum_{s in A(g)} x_gs = 1 (g);  x_gs <= y_s;
    policy keep_all: y_s = 1 for all s;  budget (policy optimise, B >= 0): sum_s (y_s - m_s) <= B;
    main rule "moh_rule": m_s = 1 for the MoH rule's choice (baseline.choose_main_stations).
Diagnosis (`optimise_roles`)
    when the budget makes the model infeasible: min sum_s (y_s - m_s) under the other constraints
    (stage `fewest_points`) gives the fewest points the travel limit needs, B*; the model is solved
    again with B = B* (stage `budget_relaxed`).
Known plan (`start`, the baseline rules' roles and main stations): when it meets every constraint
of the solve, it is handed to the backend as its start (`_mip.set_hint`: y, m, and each group at
its nearest open site) and kept when the MIP ends without a plan at most as good
(`_mip.keep_known`: status, objective and gap then describe the plan returned). Its gap is then
measured against the best of the MIP's bound and a bound by parts: each group at its nearest
candidate, each commune at its best main station (the fixed one under moh_rule), and the point
cost of the fewest points allowed (all but the main stations under keep_all, else none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _mip
from .records import MipRecord, ModelExport


@dataclass
class RolesSolve:
    """One solve of the roles model: the plan (None without one), its record, the demand parts
    beyond the travel limit (row, new commune, minutes to the nearest station) and, when asked
    for, the model as MPS text."""

    roles: pd.Series | None
    main: pd.Series | None
    record: MipRecord
    beyond: list[tuple] = field(default_factory=list)
    mps: str | None = None


@dataclass
class RolesResult:
    """The roles decided (the baseline's when no plan was found), every solve's record, the
    diagnosis when a rule cannot hold (None otherwise) and the exported models."""

    roles: pd.Series
    main: pd.Series
    records: list[MipRecord]
    diagnosis: dict | None = None
    export: ModelExport | None = None


def _members(codes: np.ndarray) -> dict:
    """Positions of each value of `codes`, in order, by value (sorted)."""
    order = np.argsort(codes, kind="stable")
    values, starts = np.unique(codes[order], return_index=True)
    return dict(zip(values.tolist(), np.split(order, starts[1:])))


def _instance(demand: pd.DataFrame, stations: pd.DataFrame, minutes: np.ndarray, params: dict):
    """(col, parts, beyond): each part (row, new commune, A(d) ordered by minutes then station
    position) and the parts with no station within T."""
    col = {c: j for j, c in enumerate(stations.index)}
    T = params["max_minutes_nearest_facility"]
    parts, beyond = [], []
    names = stations.index.to_numpy()
    of_commune = _members(stations["new_code"].to_numpy())
    rows_of = _members(demand["new_code"].to_numpy())
    labels = demand.index.to_numpy()
    for new_code, positions in rows_of.items():
        cols = of_commune.get(new_code, np.zeros(0, dtype=int))
        block = minutes[np.ix_(labels[positions], cols)]
        for i, t in zip(labels[positions].tolist(), block):
            ok = np.flatnonzero(t <= T)
            if not len(ok):
                ok = np.array([int(np.argmin(t))])
                beyond.append((i, new_code, float(t.min())))
            order = ok[np.lexsort((cols[ok], t[ok]))]
            parts.append((i, new_code, names[cols[order]].tolist()))
    return col, parts, beyond


def _groups(parts: list[tuple]) -> list[tuple]:
    """Parts of the same new commune with the same ordered A(d), as (first part's row, new
    commune, ordered A(g), rows), in the order of their first part."""
    out: dict[tuple, list] = {}
    for i, new_code, allowed in parts:
        key = (new_code, tuple(allowed))
        out.setdefault(key, []).append(i)
    return [(rows[0], key[0], list(key[1]), rows) for key, rows in out.items()]  # in order of first part


def _feasible(
    roles: pd.Series, stations: pd.DataFrame, groups: list[tuple], *, keep_all: bool, budget: int | None, fixed_main
) -> bool:
    """Whether the plan `roles` meets the solve's constraints: one main station per new commune,
    every station open under keep_all, the points budget, the fixed main stations, and an open
    station in A(g) for every group."""
    roles = roles.reindex(stations.index)
    is_open = roles != "closed"
    mains = stations.loc[roles == "main", "new_code"].value_counts()
    if len(mains) != stations["new_code"].nunique() or (mains != 1).any():
        return False
    if keep_all and not is_open.all():
        return False
    if budget is not None and budget >= 0 and not keep_all and int((roles == "point").sum()) > budget:
        return False
    if fixed_main is not None and any(roles.get(s) != "main" for s in fixed_main.to_numpy() if s in roles.index):
        return False
    return all(any(bool(is_open[s]) for s in allowed) for _g, _c, allowed, _rows in groups)


def objective_terms(
    demand: pd.DataFrame, stations: pd.DataFrame, minutes: np.ndarray, params: dict, roles: pd.Series, main: pd.Series
) -> dict:
    """The model's objective, term by term, for any plan (used to compare with the baseline)."""
    col = {c: j for j, c in enumerate(stations.index)}
    pop = demand["population"].to_numpy()
    open_ = roles.reindex(stations.index).to_numpy() != "closed"
    same = stations["new_code"].to_numpy()[None, :] == demand["new_code"].to_numpy()[:, None]
    near = np.where(same & open_[None, :], minutes, np.inf).min(axis=1)
    mains = main.reindex(demand["new_code"]).map(col).to_numpy()
    main_min = minutes[np.arange(len(demand)), mains]
    pc = demand.groupby("new_code")["population"].sum()
    score = stations["facility_score"]
    products = pc.reindex(main.index).to_numpy(dtype=float) * score.reindex(main.to_numpy()).to_numpy(dtype=float)
    bonus = params["main_facility_weight_minutes"] * float(sum(products.tolist()))  # in main's order, as a sum of terms
    points = int((roles == "point").sum())
    terms = {
        "nearest_minutes": float(pop @ near),
        "main_minutes": float(pop @ main_min),
        "facility_bonus": -bonus,
        "point_cost": params["point_keep_cost_person_minutes"] * points,
    }
    terms["total"] = sum(terms.values())
    return terms


def solve_roles(
    demand: pd.DataFrame,
    stations: pd.DataFrame,
    minutes: np.ndarray,
    params: dict,
    *,
    policy: str,
    main_rule: str,
    fixed_main: pd.Series | None,
    seed: int,
    budget: int | None = None,
    minimise_points: bool = False,
    stage: str | None = None,
    export: bool = False,
    start: pd.Series | None = None,
) -> RolesSolve:
    """Solve the roles model once (`export`: keep the model as MPS text). `start`: a known plan
    (roles), handed to the MIP as its start and kept when the MIP finds no better one, when it
    meets every constraint of this solve."""
    col, parts, beyond = _instance(demand, stations, minutes, params)
    groups = _groups(parts)
    solver = _mip.new_solver(params["mip_solver"], seed)
    inf = solver.infinity()
    codes = list(stations.index)
    y = {s: solver.BoolVar(f"y_{s}") for s in codes}
    m = {s: solver.BoolVar(f"m_{s}") for s in codes}

    def add_row(lb: float, ub: float, terms: list) -> None:
        row = solver.Constraint(lb, ub)
        for var, coef in terms:
            row.SetCoefficient(var, coef)

    pop_all = demand["population"].to_numpy()
    labels = demand.index.to_numpy()
    rows_of = _members(demand["new_code"].to_numpy())
    score = stations["facility_score"].to_numpy(dtype=float)
    cost: dict = {}  # the objective's coefficient of each variable (the terms below, combined)
    bound = 0.0  # a lower bound by parts: each group at its nearest candidate, each commune's best main
    fixed = fixed_main if main_rule == "moh_rule" and fixed_main is not None else None
    fixed_set = set() if fixed is None else set(fixed.to_numpy())
    k_point = params["point_keep_cost_person_minutes"]
    for new_code, members in _members(stations["new_code"].to_numpy()).items():
        add_row(1, 1, [(m[codes[j]], 1.0) for j in members])
        at = rows_of.get(new_code, np.zeros(0, dtype=int))
        rows, pop = labels[at], pop_all[at]
        pc = float(pop.sum())
        main_terms = {}
        for j in members.tolist():
            s = codes[j]
            add_row(-inf, 0, [(m[s], 1.0), (y[s], -1.0)])
            wmin = float(pop @ minutes[rows, j])
            bonus = params["main_facility_weight_minutes"] * pc * float(score[j])
            cost[m[s]] = wmin - bonus
            main_terms[s] = wmin - bonus
        forced = [codes[j] for j in members.tolist() if codes[j] in fixed_set]
        bound += min(main_terms[s] for s in (forced or [codes[j] for j in members.tolist()]))
    x: list[tuple[list[str], list]] = []  # each group's A(g) in order and its variables (creation order)
    pop_of = demand["population"].to_dict()
    for first, _new_code, allowed, rows in groups:
        xs = [solver.NumVar(0, 1, f"x_{first}_{s}") for s in allowed]
        near: list[float] = []
        add_row(1, 1, [(v, 1.0) for v in xs])
        for s, v in zip(allowed, xs):
            add_row(-inf, 0, [(v, 1.0), (y[s], -1.0)])
            a_gs = 0.0
            for i in rows:  # row order: the sum the exported data rebuild
                a_gs += float(pop_of[i] * minutes[i, col[s]])
            cost[v] = a_gs
            near.append(a_gs)
        bound += min(near)
        x.append((allowed, xs))
    keep_all = policy == "keep_all"
    if keep_all:
        for s in codes:
            add_row(1, 1, [(y[s], 1.0)])
    if fixed is not None:
        for _c, s in fixed.items():
            if s in m:
                add_row(1, 1, [(m[s], 1.0)])
    points = [(y[s], 1.0) for s in codes] + [(m[s], -1.0) for s in codes]  # sum_s (y_s - m_s)
    B = params["points_budget"] if budget is None else budget
    if B is not None and B >= 0 and not keep_all:
        add_row(-inf, B, points)
    least_points = len(codes) - stations["new_code"].nunique() if keep_all else 0  # points: y_s - m_s summed
    most_points = len(codes) - stations["new_code"].nunique()
    bound = float(least_points if minimise_points else bound + min(k_point * least_points, k_point * most_points))
    objective = solver.Objective()
    if minimise_points:
        for var, coef in points:
            objective.SetCoefficient(var, coef)
    else:
        for s in codes:
            objective.SetCoefficient(y[s], k_point)
            objective.SetCoefficient(m[s], cost[m[s]] - k_point)
        for _allowed, xs in x:
            for v in xs:
                objective.SetCoefficient(v, cost[v])
    objective.SetMinimization()
    known = (
        start if start is not None and _feasible(start, stations, groups, keep_all=keep_all, budget=B, fixed_main=fixed) else None
    )
    hint = None
    if known is not None:
        is_open = (known.reindex(codes) != "closed").to_dict()
        hint = [float(is_open[s]) for s in codes] + [float(known[s] == "main") for s in codes]
        for allowed, _xs in x:
            first_open = next(s for s in allowed if is_open[s])
            hint += [float(s == first_open) for s in allowed]
    rec = _mip.solve(solver, model="station_roles", stage=stage, time_limit_s=params["solver_time_limit_s"], hint=hint)
    mps = _mip.mps_text(solver, rec.label.replace(":", "_")) if export else None
    roles = None
    if rec.has_plan:
        roles = pd.Series(
            {s: ("main" if m[s].solution_value() > 0.5 else "point" if y[s].solution_value() > 0.5 else "closed") for s in codes},
            name="role",
        )
    if known is not None:
        roles = _keep_better(
            rec, roles, known.reindex(codes).rename("role"), demand, stations, minutes, params, minimise_points, bound
        )
    if roles is None:
        return RolesSolve(None, None, rec, beyond, mps)
    main = roles[roles == "main"].index.to_series(index=stations.loc[roles[roles == "main"].index, "new_code"].to_numpy())
    return RolesSolve(roles, main, rec, beyond, mps)


def _value(roles: pd.Series, demand, stations, minutes, params, minimise_points: bool) -> float:
    """The solve's objective for a plan: its points when minimising them, else the total."""
    if minimise_points:
        return float((roles == "point").sum())
    main = roles[roles == "main"].index.to_series(index=stations.loc[roles[roles == "main"].index, "new_code"].to_numpy())
    return float(objective_terms(demand, stations, minutes, params, roles, main)["total"])


def _keep_better(rec: MipRecord, roles, known: pd.Series, demand, stations, minutes, params, minimise_points: bool, bound: float):
    """The MIP's plan, or the known plan when the MIP has none or a worse one (both valued on the
    same formula, `objective_terms`); the record then describes the known plan (`_mip.keep_known`,
    with `bound`, a lower bound proven by parts, beside the MIP's own)."""
    start_value = _value(known, demand, stations, minutes, params, minimise_points)
    mip_value = None if roles is None else _value(roles, demand, stations, minutes, params, minimise_points)
    if mip_value is not None and start_value >= mip_value - 1e-9 * max(1.0, abs(mip_value)):
        return roles  # the MIP's plan is at least as good: its record stands
    if mip_value is not None:
        rec.objective = mip_value  # the MIP plan's value on the same formula as the known plan's
    _mip.keep_known(rec, start_value, bound)
    return known


def optimise_roles(
    demand: pd.DataFrame,
    stations: pd.DataFrame,
    minutes: np.ndarray,
    params: dict,
    *,
    policy: str,
    main_rule: str,
    baseline_roles: pd.Series,
    baseline_main: pd.Series,
    seed: int,
    export: bool = False,
) -> RolesResult:
    """Roles with a diagnosis when the rules cannot all hold (budget below what the travel limit needs):
    the diagnosis names the rule, the communes concerned and the nearest feasible plan's figures."""
    common = dict(policy=policy, main_rule=main_rule, fixed_main=baseline_main, seed=seed, export=export, start=baseline_roles)
    first = solve_roles(demand, stations, minutes, params, **common)
    solves, diagnosis = [first], None
    if first.record.status == "infeasible":
        # the budget is the only rule that can conflict: find the fewest points the travel limit needs
        fewest = solve_roles(demand, stations, minutes, params, **common, budget=-1, minimise_points=True, stage="fewest_points")
        need = int(round(fewest.record.objective)) if fewest.record.has_plan and fewest.record.objective is not None else None
        relaxed = solve_roles(demand, stations, minutes, params, **common, budget=need, stage="budget_relaxed")
        solves += [fewest, relaxed]
        needed_in = (
            sorted(set(stations.loc[relaxed.roles[relaxed.roles == "point"].index, "new_code"]))
            if relaxed.roles is not None
            else []
        )
        diagnosis = {
            "model": "station_roles",
            "rule": "points_budget",
            "message_key": (
                "points_budget_infeasible",
                {"budget": params["points_budget"], "max_minutes": params["max_minutes_nearest_facility"], "need": need},
            ),
            "minimum_feasible_points": need,
            "communes": needed_in,
        }
    final = solves[-1]
    rec, roles, main = final.record, final.roles, final.main
    if not rec.has_plan:
        # no plan within the time limit: the baseline plan stands, flagged in the record
        roles, main = baseline_roles.copy(), baseline_main.copy()
        rec.fallback = "no plan within the time limit: the baseline roles are kept"
    rec.terms = objective_terms(demand, stations, minutes, params, roles, main)
    rec.baseline_objective = objective_terms(demand, stations, minutes, params, baseline_roles, baseline_main)["total"]
    rec.beyond_limit_parts = len(final.beyond)
    out = (
        ModelExport(
            mps={x.record.label.replace(":", "_"): x.mps for x in solves if x.mps is not None},
            tables={"roles_minutes": minutes_table(demand, stations, minutes, params)},
        )
        if export
        else None
    )
    return RolesResult(roles, main, [x.record for x in solves], diagnosis, out)


def minutes_table(demand: pd.DataFrame, stations: pd.DataFrame, minutes: np.ndarray, params: dict) -> pd.DataFrame:
    """The data of the roles model, one row per (demand part, station of its new commune): the
    part's row, its group (the first part's row: x_{group}_{station} is the group's variable, its
    coefficient the sum over the group's parts, in row order, of residents x minutes), residents
    and minutes in full, the station's facility score, and whether the station is in A(d) (the
    stations the part may use as its nearest site)."""
    col, parts, _ = _instance(demand, stations, minutes, params)
    group = {i: first for first, _c, _a, rows in _groups(parts) for i in rows}
    rows = []
    for i, new_code, allowed in parts:
        for s in stations.index[stations["new_code"] == new_code]:
            rows.append(
                (
                    int(i),
                    int(group[i]),
                    demand.at[i, "old_code"],
                    new_code,
                    s,
                    float(demand.at[i, "population"]),
                    float(stations.at[s, "facility_score"]),
                    float(minutes[i, col[s]]),
                    s in allowed,
                )
            )
    return pd.DataFrame(
        rows,
        columns=["part", "group", "old_code", "new_code", "station_code", "population", "facility_score", "minutes", "allowed"],
    )


def point_savings(demand: pd.DataFrame, stations: pd.DataFrame, minutes: np.ndarray, roles: pd.Series) -> pd.DataFrame:
    """For each point kept or closed: the minutes it saves the residents who would use it.

    saves_person_minutes = sum over parts of population x (nearest minutes without the site - with it),
    other decisions unchanged; saves_minutes_per_user = that / residents for whom it is the nearest site.
    """
    pop = demand["population"].to_numpy()
    same = stations["new_code"].to_numpy()[None, :] == demand["new_code"].to_numpy()[:, None]
    open_ = roles.reindex(stations.index).to_numpy() != "closed"
    # one pass over the matrix: each part's nearest open site of its commune, which one, the second nearest
    masked = np.where(same & open_[None, :], minutes, np.inf)
    best = masked.min(axis=1)
    which = masked.argmin(axis=1)
    second = np.partition(masked, 1, axis=1)[:, 1] if masked.shape[1] > 1 else np.full(len(best), np.inf)
    rows = []
    for j, s in enumerate(stations.index):
        if roles[s] == "main":
            continue
        if open_[j]:  # with s: today's nearest; without: the second nearest where s is the nearest
            a, b = best, np.where(which == j, second, best)
        else:  # with s (closed today): s where it is nearer; without: today's nearest
            a, b = np.minimum(best, np.where(same[:, j], minutes[:, j], np.inf)), best
        users = (b - a) > 1e-9
        saved = float(pop[users] @ (b - a)[users])
        n = float(pop[users].sum())
        rows.append(
            {
                "station_code": s,
                "new_code": stations.at[s, "new_code"],
                "role": roles[s],
                "users": round(n),
                "saves_person_minutes": round(saved, 1),
                "saves_minutes_per_user": round(saved / n, 2) if n else 0.0,
            }
        )
    return pd.DataFrame(
        rows, columns=["station_code", "new_code", "role", "users", "saves_person_minutes", "saves_minutes_per_user"]
    )
