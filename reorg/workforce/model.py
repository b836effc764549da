"""The multi-period staffing and investment model (issue 13; MODEL.md 7b), OR-Tools MIP.

Formulation (names as in the code):

Sets
    J: open stations (`inst.codes`), M ⊆ J main stations; K: cadres (`CADRES`, or the subset a
    question needs); T: years `inst.years` (t = 0 is the first); A: doctor transfer arcs (i, j)
    between open stations (`inst.arcs`: the `move_candidates` nearest within `max_move_minutes`);
    R: rotation arcs (c, j) from a regional centre within `max_move_minutes`.
Data
    s0_jk staff after the run's placement; L_jkt leavers (instance.py: a deterministic rate);
    G_k graduates per year; H `plan_max_hires_per_station`; n_j Circular 03 norm; m
    `doctors_min_main_station`; d72 `plan_res72_doctors`; P `inst.per10k_count`; up0_j upgraded at
    the start; cap_j capital cost of upgrading (or building) j; q `rotation_doctors_per_centre`;
    pay_jk salary + allowances of a hired person per year; rc `plan_rotation_cost_mvnd`;
    D_g deadline of target g; B_rec, B_cap yearly budgets (none when -1).
Variables
    h_jkt ∈ {0..min(H, G_k)} hires; x_ijt ∈ Z+ doctors transferred along arc (i, j) in year t;
    o_cjt ∈ {0..q} doctors rotated from centre c to j for year t; u_jt ∈ {0, 1} upgrade of main
    station j in year t (effective from t + 1);
    S_jkt >= 0 stock; v_gjt >= 0 shortfall of target g at j in year t (t >= D_g).
Constraints
    S_jkt = S_jk,t-1 + h_jkt - L_jkt + [k = doctor] (sum_i x_ijt - sum_j' x_ij't)   (S_jk,-1 = s0_jk)
    sum_{t' <= t} sum_j' x_ij't' <= max(0, s0_i,doctor - 1 - sum_{t' <= t} L_i,doctor,t')
        (a station never sends its only doctor: it sends at most the doctors it started with
        beyond the first, less its leavers so far; x only from stations with s0 >= 2)
    sum_k h_jkt <= H;  sum_j h_jkt <= G_k;  sum_j o_cjt <= q;  sum_t u_jt <= 1 - up0_j
    upgraded U_jt = up0_j + sum_{t' < t} u_jt'
    rec_t = sum_jk pay_jk sum_{t' <= t} h_jkt' + rc sum o_cjt <= B_rec;  cap_t = sum_j cap_j u_jt <= B_cap
    rotated presence O_jt = sum_c o_cjt
    norm:             v >= n_j - sum_k S_jkt                         (j in J)
    titles:           v >= 1 - (S_doctor + S_assistant_doctor + O), v >= 1 - S_nurse, v >= 1 - S_midwife
    doctors_min_main: v >= m - (S_doctor + O);  res72_doctors: v >= d72 - (S_doctor + O)   (j in M)
    permanent_doctor: v >= 1 - S_doctor (j in M);  upgraded: v = 1 - U_jt (j in M)
    doctors_per_10k:  v >= P - sum_j S_j,doctor,t
    a hard target: v = 0 for t >= D_g
Objective, lexicographic
    1. shortfall = sum_g sum_{t >= D_g} (t - D_g + 1) sum_j v_gjt   (a target missed longer weighs more)
       (solved as shortfall + eps cost, eps x the most a plan can cost < 1/2: the cost only breaks
       ties between plans of the same shortfall, an integer; the record is the shortfall's,
       `solve.shortfall_stage`)
    2. cost = sum_t (rec_t + cap_t)
    3. transfers = sum x + sum o
    each stage with one row holding the previous stage at its plan's value (`solve.solve_plan`).
Left out, exactly
    A row whose need the least stocks reach in every plan (F_jkt = s0_jk - sum_{t' <= t} L_jkt',
    for the doctors of a station that may send min(F, 1)): its v is 0 in every plan. A hire h_jkt
    when no remaining row counts cadre k at j in year t or later, a transfer x_ijt when none counts
    j's doctors from t on: it can lower no shortfall and only adds cost, so no optimal plan of any
    stage (nor any answer, answers.py) has it. A stock no decision touches is the constant F.
Other cadres than doctors are hired, not moved: the run's placement already moved them, and no
target asks for more than one nurse or midwife per station.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..optimise import _mip
from ..optimise.records import MipRecord
from ..schema import CADRES
from .instance import Instance
from .targets import BY_KEY

STAGES = ("1_shortfall", "2_cost", "3_transfers")
# SCIP without the feasibility pump: on the plan's models it spent 3-4 s of the shortfall stage's
# root before RENS, which found the same plan in under 2 s without it (Nghệ An, benchmarks/RESULTS.md)
SCIP_SETTINGS = {"SCIP": "heuristics/feaspump/freq = -1"}
DOC = CADRES.index("doctor")


@dataclass
class Schedule:
    """A plan's decisions (arrays over stations x cadres x years, as the instance) and its records."""

    hires: np.ndarray  # int, J x K x T
    transfers: np.ndarray  # int, A x T (doctors along inst.arcs)
    rotations: np.ndarray  # int, R x T (doctors along inst.rotation_arcs)
    upgrades: np.ndarray  # int, J x T (1 in the year the works are done)
    records: list[MipRecord] = field(default_factory=list)
    feasible: bool = True


def weight(year: int, deadline: int) -> int:
    """The objective's weight of a shortfall in `year`: years since the deadline, counting it."""
    return year - deadline + 1 if year >= deadline else 0


Terms = dict  # variable -> coefficient: a linear expression without constant


class PlanModel:
    """The model above over `cadres`, with the targets `on` (hard ones in `hard`). Rows are built
    with OR-Tools' low-level API (Constraint and SetCoefficient): several times faster to build
    than its operator API on models of this size."""

    def __init__(
        self,
        inst: Instance,
        *,
        on: Iterable[str],
        hard: Iterable[str] = (),
        cadres: Iterable[str] = CADRES,
        budget: tuple[float, float] | None = None,
        shortfall_years: str = "from_deadline",
        name: str = "workforce",
    ) -> None:
        p = inst.params
        self.inst, self.on, self.hard = inst, tuple(on), tuple(hard)
        self.kidx = [CADRES.index(c) for c in CADRES if c in set(cadres)]
        self.solver = _mip.new_solver(p["plan_mip_solver"], inst.seed)
        if self.solver.reorg_seed is not None and self.solver.reorg_backend in SCIP_SETTINGS:
            seed = _mip.SEED_PARAMETER[self.solver.reorg_backend].format(seed=self.solver.reorg_seed)
            if not self.solver.SetSolverSpecificParametersAsString(f"{seed}\n{SCIP_SETTINGS[self.solver.reorg_backend]}"):
                raise RuntimeError("SCIP refused the plan's settings")
        s, inf = self.solver, self.solver.infinity()
        self.inf = inf
        J, T = len(inst.codes), len(inst.years)
        self.name = name
        self.budget = budget if budget is not None else (p["plan_budget_recurrent_mvnd"], p["plan_budget_capital_mvnd"])
        H = int(p["plan_max_hires_per_station"])
        doctors = DOC in self.kidx
        T_all = range(T)
        cum = np.cumsum(inst.leavers, axis=2)
        # the stock of each (station, cadre) when no decision touches it, and the least it can be under
        # any plan: a sending station keeps at least one doctor (see the transfer rows below)
        self.fixed = inst.stock0[:, :, None] - cum
        self.floor = self.fixed.copy()
        may_send = [i for i, _ in inst.arcs if doctors and inst.stock0[i, DOC] >= 2]
        for i in set(may_send):
            self.floor[i, DOC] = np.minimum(self.fixed[i, DOC], 1)
        self.o = {}
        if doctors and inst.rotation_cap > 0:
            for r, (c, j) in enumerate(inst.rotation_arcs):
                for t in range(T):
                    self.o[r, t] = s.IntVar(0, inst.rotation_cap, f"o_{inst.centre_codes[c]}_{inst.codes[j]}_{inst.years[t]}")
        self.O_keys = {(inst.rotation_arcs[r][1], t) for r, t in self.o}
        self.u = {}
        if "upgraded" in self.on:
            for jpos in np.flatnonzero(inst.main & ~inst.upgraded0).tolist():
                for t in range(T):
                    self.u[jpos, t] = s.IntVar(0, 1, f"u_{inst.codes[jpos]}_{inst.years[t]}")
        # the rows each target asks for (`_needs`), without those met under any plan: their shortfall
        # is 0 in every plan, so they need no variable (and the hires only they could use none either)
        self.needs: dict[str, dict[int, list]] = {}
        for key in self.on:
            if key == "upgraded":
                continue
            deadline = int(p[BY_KEY[key].deadline_param])
            years = T_all if shortfall_years == "all" else [t for t in T_all if inst.years[t] >= deadline]
            self.needs[key] = {t: [n for n in self._needs(key, t) if not self._surely_met(n, t)] for t in years}
        # the last year in which each (station, cadre)'s stock counts in some row (-1: never); station
        # rows only for the transfers (a transfer leaves the province's doctors as they are)
        last = np.full((J, len(CADRES)), -1)
        last_station = np.full(J, -1)
        for by_year in self.needs.values():
            for t, year_needs in by_year.items():
                for _label, _need, members, _rot, province in year_needs:
                    for j, k in members:
                        last[j, k] = max(last[j, k], t)
                        if k == DOC and not province:
                            last_station[j] = max(last_station[j], t)
        self.h: dict[tuple[int, int, int], Any] = {}
        for k in self.kidx:
            top = min(H, inst.graduates[CADRES[k]])
            if top <= 0:
                continue
            for j in range(J):
                for t in range(int(last[j, k]) + 1):  # a hire after the last year its stock counts helps nothing
                    self.h[j, k, t] = s.IntVar(0, top, f"h_{inst.codes[j]}_{CADRES[k]}_{inst.years[t]}")
        self.x = {}
        if doctors:
            for a, (i, j) in enumerate(inst.arcs):
                if inst.stock0[i, DOC] >= 2:  # a station sends only doctors beyond its first (see below)
                    for t in range(int(last_station[j]) + 1):
                        self.x[a, t] = s.IntVar(
                            0, int(inst.stock0[i, DOC]) - 1, f"x_{inst.codes[i]}_{inst.codes[j]}_{inst.years[t]}"
                        )
        out: dict[tuple[int, int], list] = {}
        into: dict[tuple[int, int], list] = {}
        for (a, t), var in self.x.items():
            i, j = inst.arcs[a]
            out.setdefault((i, t), []).append(var)
            into.setdefault((j, t), []).append(var)
        # stock: S_t - S_t-1 - h_t - in_t + out_t = -L_t  (S_-1 = s0, a constant)
        self.S = {}
        touched = {(j, k) for j, k, _ in self.h} | {(j, DOC) for j, _ in {*out, *into}}
        for j in range(J):
            for k in self.kidx:
                if (j, k) not in touched:
                    continue  # its stock is `fixed`: a constant in the rows
                prev = None
                for t in range(T):
                    var = s.NumVar(0, inf, f"S_{inst.codes[j]}_{CADRES[k]}_{inst.years[t]}")
                    rhs = -float(inst.leavers[j, k, t]) + (float(inst.stock0[j, k]) if prev is None else 0.0)
                    terms = {var: 1.0}
                    if prev is not None:
                        terms[prev] = -1.0
                    if (j, k, t) in self.h:
                        terms[self.h[j, k, t]] = -1.0
                    if k == DOC:
                        for v in into.get((j, t), []):
                            terms[v] = -1.0
                        for v in out.get((j, t), []):
                            terms[v] = 1.0
                    self.row(rhs, rhs, terms)
                    self.S[j, k, t] = var
                    prev = var
        # a station never sends its only doctor: by year t it has sent at most the doctors it started
        # with beyond the first, less its leavers so far
        for j in range(J):
            sent: list = []
            for t in range(T):
                sent += out.get((j, t), [])
                if sent:
                    room = int(inst.stock0[j, DOC]) - 1 - int(inst.leavers[j, DOC, : t + 1].sum())
                    self.row(-inf, max(room, 0), dict.fromkeys(sent, 1.0))
        for j in range(J):
            for t in range(T):
                hs = [self.h[j, k, t] for k in self.kidx if (j, k, t) in self.h]
                if len(hs) > 1:
                    self.row(-inf, H, dict.fromkeys(hs, 1.0))
        for k in self.kidx:
            for t in range(T):
                hs = [self.h[j, k, t] for j in range(J) if (j, k, t) in self.h]
                if hs:
                    self.row(-inf, inst.graduates[CADRES[k]], dict.fromkeys(hs, 1.0))
        self.O: dict[tuple[int, int], list] = {}
        by_centre: dict[tuple[int, int], list] = {}
        for (r, t), var in self.o.items():
            c, j = inst.rotation_arcs[r]
            self.O.setdefault((j, t), []).append(var)
            by_centre.setdefault((c, t), []).append(var)
        for vs in by_centre.values():
            self.row(-inf, inst.rotation_cap, dict.fromkeys(vs, 1.0))
        for j in {j for j, _ in self.u}:
            self.row(-inf, 1, {self.u[j, t]: 1.0 for t in range(T)})
        # costs per year: the recurrent cost of year t is the pay of everyone hired up to t (hire_pay
        # accumulates each year's new hires) plus the year's rotations
        self.rec, self.cap, self.budget_rows = [], [], []
        pay_of_year: dict[int, dict] = {}
        for (j, k, tt), var in self.h.items():
            pay_of_year.setdefault(tt, {})[var] = -float(inst.salary[k] + inst.allowance[j, k])
        rot_of_year: dict[int, dict] = {}
        for (_r, tt), var in self.o.items():
            rot_of_year.setdefault(tt, {})[var] = -float(p["plan_rotation_cost_mvnd"])
        cap_of_year: dict[int, dict] = {}
        for (j, tt), var in self.u.items():
            cap_of_year.setdefault(tt, {})[var] = -float(inst.capex[j])
        hire_pay = None
        for t in range(T):
            pay = s.NumVar(0, inf, f"hire_pay_{inst.years[t]}")
            self.row(0, 0, {pay: 1.0, **({hire_pay: -1.0} if hire_pay is not None else {}), **pay_of_year.get(t, {})})
            hire_pay = pay
            rec = s.NumVar(0, inf, f"recurrent_{inst.years[t]}")
            self.row(0, 0, {rec: 1.0, pay: -1.0, **rot_of_year.get(t, {})})
            cap = s.NumVar(0, inf, f"capital_{inst.years[t]}")
            self.row(0, 0, {cap: 1.0, **cap_of_year.get(t, {})})
            rows = (
                self.row(-inf, float(self.budget[0]) if self.budget[0] >= 0 else inf, {rec: 1.0}),
                self.row(-inf, float(self.budget[1]) if self.budget[1] >= 0 else inf, {cap: 1.0}),
            )
            self.budget_rows.append(rows)
            self.rec.append(rec)
            self.cap.append(cap)
        # shortfalls
        self.integral = True  # every need an integer: every plan's shortfall is an integer (`solve.solve_part`)
        # the last shortfall stage's bound as solved (with the weight on cost) and the most that
        # weight adds to a plan's value (`solve.shortfall_stage`)
        self.weighted: tuple[float | None, float] = (None, 0.0)
        self.v: dict[str, dict[int, list]] = {}  # target -> year index -> shortfall variables
        for key in self.on:
            deadline = int(p[BY_KEY[key].deadline_param])
            if key == "upgraded":
                years = T_all if shortfall_years == "all" else [t for t in T_all if inst.years[t] >= deadline]
                self.v[key] = {t: self._upgrade_shortfall(t, hard=key in self.hard and inst.years[t] >= deadline) for t in years}
                continue
            self.v[key] = {
                t: self._shortfall(key, t, rows, hard=key in self.hard and inst.years[t] >= deadline)
                for t, rows in self.needs[key].items()
            }

    def row(self, lb: float, ub: float, terms: Terms) -> Any:
        c = self.solver.Constraint(float(lb), float(ub))
        for var, coef in terms.items():
            c.SetCoefficient(var, coef)
        return c

    # ------------------------------------------------------------------ targets
    def _needs(self, key: str, t: int) -> list[tuple[str, float, list[tuple[int, int]], int | None, bool]]:
        """The rows of target `key` in year index t: (label, need, the (station, cadre) stocks that
        count, the station whose rotated doctors count or None, whether the row is the province's)."""
        inst, p = self.inst, self.inst.params
        ks = set(self.kidx)
        out: list[tuple[str, float, list[tuple[int, int]], int | None, bool]] = []
        main = [int(j) for j in np.flatnonzero(inst.main)]
        if key == "norm":
            for j in range(len(inst.codes)):
                if inst.norm[j] > 0:
                    out.append((inst.codes[j], float(inst.norm[j]), [(j, k) for k in self.kidx], None, False))
        elif key == "titles":
            ad = CADRES.index("assistant_doctor")
            for j in range(len(inst.codes)):
                rot = j if (j, t) in self.O_keys else None
                out.append((f"{inst.codes[j]}_doctor", 1.0, [(j, k) for k in (DOC, ad) if k in ks], rot, False))
                for c in ("nurse", "midwife"):
                    k = CADRES.index(c)
                    out.append((f"{inst.codes[j]}_{c}", 1.0, [(j, k)] if k in ks else [], None, False))
        elif key in ("doctors_min_main", "res72_doctors"):
            need = float(p[BY_KEY[key].value_param or ""])
            for j in main:
                rot = j if (j, t) in self.O_keys else None
                out.append((inst.codes[j], need, [(j, DOC)] if DOC in ks else [], rot, False))
        elif key == "permanent_doctor":
            for j in main:
                out.append((inst.codes[j], 1.0, [(j, DOC)] if DOC in ks else [], None, False))
        elif key == "doctors_per_10k":
            members = [(j, DOC) for j in range(len(inst.codes))] if DOC in ks else []
            out.append(("province", float(inst.per10k_count), members, None, True))
        return out

    def _surely_met(self, need: tuple, t: int) -> bool:
        """Whether a row (`_needs`) holds in every plan: the least stocks it counts reach its need."""
        _label, value, members, _rot, _province = need
        return sum(int(self.floor[j, k, t]) for j, k in members) >= value

    def _shortfall(self, key: str, t: int, rows: list, *, hard: bool) -> list:
        """The shortfall variables of target `key` in year index t, one per row: v + have >= need
        (`have`: the stocks some decision touches, the others' fixed stock moved to the need)."""
        s, year = self.solver, self.inst.years[t]
        terms: list = []
        for label, need, members, rot, _province in rows:
            have: Terms = {}
            for j, k in members:
                if (j, k, t) in self.S:
                    have[self.S[j, k, t]] = 1.0
                else:
                    need -= float(self.fixed[j, k, t])
            if rot is not None:
                have.update(dict.fromkeys(self.O.get((rot, t), []), 1.0))
            self.integral = self.integral and float(need).is_integer()
            var = s.NumVar(0, 0 if hard else max(need, 0.0), f"v_{key}_{label}_{year}")
            self.row(need, self.inf, {var: 1.0, **have})
            terms.append(var)
        return terms

    def _upgrade_shortfall(self, t: int, *, hard: bool) -> list:
        """The upgrade target's shortfall variables in year index t: v = 1 - U_jt at main stations."""
        inst, s, year = self.inst, self.solver, self.inst.years[t]
        terms: list = []
        for j in np.flatnonzero(inst.main).tolist():
            if not inst.upgraded0[j]:
                var = s.NumVar(0, 0 if hard else 1.0, f"v_upgraded_{inst.codes[j]}_{year}")
                self.row(1.0, self.inf, {var: 1.0, **{self.u[j, tt]: 1.0 for tt in range(t) if (j, tt) in self.u}})
                terms.append(var)
        return terms

    # ------------------------------------------------------------------ objectives
    def shortfall_terms(self) -> Terms:
        out: Terms = {}
        for key, by_year in self.v.items():
            deadline = int(self.inst.params[BY_KEY[key].deadline_param])
            for t, vs in by_year.items():
                w = weight(self.inst.years[t], deadline)
                if w:
                    out.update(dict.fromkeys(vs, float(w)))
        return out

    def cost_terms(self) -> Terms:
        return dict.fromkeys(self.rec + self.cap, 1.0)

    def cost_ceiling(self) -> float:
        """The most any plan of this model can cost: each year's recurrent cost at most its budget
        and at most the pay of every hire the variables allow so far plus every rotation, the
        capital cost at most its budget and every upgrade the year allows."""
        inst, T = self.inst, len(self.inst.years)
        pay = np.zeros(T)
        for (j, k, t), var in self.h.items():
            pay[t] += var.ub() * float(inst.salary[k] + inst.allowance[j, k])
        rot = np.zeros(T)
        for (_r, t), var in self.o.items():
            rot[t] += var.ub() * float(inst.params["plan_rotation_cost_mvnd"])
        cap = np.zeros(T)
        for (j, t), var in self.u.items():
            cap[t] += var.ub() * float(inst.capex[j])
        rec = np.cumsum(pay) + rot
        b_rec, b_cap = self.budget
        rec = np.minimum(rec, b_rec) if b_rec >= 0 else rec
        cap = np.minimum(cap, b_cap) if b_cap >= 0 else cap
        return float(rec.sum() + cap.sum())

    def transfers_terms(self) -> Terms:
        return dict.fromkeys(list(self.x.values()) + list(self.o.values()), 1.0)

    def solve_stage(
        self, terms: Terms, *, stage: str, maximise: bool = False, gap: float | None = None, time_limit_s: float | None = None
    ) -> MipRecord:
        objective = self.solver.Objective()
        objective.Clear()
        for var, coef in terms.items():
            objective.SetCoefficient(var, coef)
        if maximise:
            objective.SetMaximization()
        else:
            objective.SetMinimization()
        p = self.inst.params
        return _mip.solve(
            self.solver,
            model=self.name,
            stage=stage,
            time_limit_s=p["plan_time_limit_s"] if time_limit_s is None else time_limit_s,
            gap=p["plan_relative_gap"] if gap is None else gap,
        )

    def value(self, terms: Terms) -> float:
        return float(sum(coef * var.solution_value() for var, coef in terms.items()))

    def hold(self, terms: Terms, value: float) -> Any:
        """Keep `terms` at most `value` (a previous stage's plan) in the later stages; the row."""
        return self.row(-self.inf, value + 1e-6 * max(1.0, abs(value)), terms)

    def relaxed(self, terms: Terms) -> float | None:
        """The least value of `terms` in the LP relaxation of the model as it is (its rows, every
        variable continuous), by GLOP on a copy; None if GLOP did not solve it."""
        from ortools.linear_solver import linear_solver_pb2, pywraplp

        objective = self.solver.Objective()
        objective.Clear()
        for var, coef in terms.items():
            objective.SetCoefficient(var, coef)
        objective.SetMinimization()
        proto = linear_solver_pb2.MPModelProto()
        self.solver.ExportModelToProto(proto)
        proto.ClearField("solution_hint")
        for var in proto.variable:
            var.is_integer = False
        lp = pywraplp.Solver.CreateSolver("GLOP")
        if lp is None or lp.LoadModelFromProto(proto):
            return None
        return lp.Objective().Value() if lp.Solve() == pywraplp.Solver.OPTIMAL else None

    def decisions(self) -> list:
        """The decision variables (hires, transfers, rotations, upgrades): the rest follows from them."""
        return [*self.h.values(), *self.x.values(), *self.o.values(), *self.u.values()]

    def values(self) -> list[float]:
        return [v.solution_value() for v in self.solver.variables()]

    def schedule(self, records: list[MipRecord]) -> Schedule:
        inst = self.inst
        J, K, T = len(inst.codes), len(CADRES), len(inst.years)
        hires = np.zeros((J, K, T), dtype=int)
        for (j, k, t), v in self.h.items():
            hires[j, k, t] = round(v.solution_value())
        transfers = np.zeros((len(inst.arcs), T), dtype=int)
        for (a, t), v in self.x.items():
            transfers[a, t] = round(v.solution_value())
        rotations = np.zeros((len(inst.rotation_arcs), T), dtype=int)
        for (r, t), v in self.o.items():
            rotations[r, t] = round(v.solution_value())
        upgrades = np.zeros((J, T), dtype=int)
        for (j, t), v in self.u.items():
            upgrades[j, t] = round(v.solution_value())
        return Schedule(hires, transfers, rotations, upgrades, records)
