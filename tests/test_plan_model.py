"""The plan over years (issue 13): a tiny plan solved by hand, the accounting of plan/stations.csv
and years.csv on a real province, monotonicity, the answers, the draws and every bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from reorg import i18n
from reorg import params as param_defs
from reorg.optimise.records import MipRecord
from reorg.schema import CADRES
from reorg.workforce import answers, evaluate, model, robustness, solve
from reorg.workforce.instance import Instance, leavers_schedule
from reorg.workforce.targets import BY_KEY

ROOT = Path(__file__).resolve().parents[1]
DOC = CADRES.index("doctor")
YEARLY_DOCTOR = 12 * 2.34 * 2.34  # base salary (million VND/month) x 12 x a new doctor's coefficient
DOCTOR_PAY = YEARLY_DOCTOR * (1 + 0.4)  # with the 40 % occupational allowance


def tiny(**overrides) -> Instance:
    """Two main stations, two years: A has a doctor, B none; one doctor graduates each year."""
    p = param_defs.defaults() | {"plan_start_year": 2026, "plan_end_year": 2027, "plan_relative_gap": 0.0}
    p |= overrides.pop("params", {})
    stock0 = np.zeros((2, len(CADRES)), dtype=int)
    stock0[0, DOC] = overrides.pop("a_doctors", 1)
    salary = np.array([12 * p["plan_base_salary_mvnd_month"] * (2.34 if c == "doctor" else 1.86) for c in CADRES])
    inst = Instance(
        province="xx",
        codes=["A", "B"],
        new_code=np.array(["1", "2"]),
        main=np.array([True, True]),
        hard_area=np.array([False, False]),
        stock0=stock0,
        norm=np.array([5, 5]),
        upgraded0=np.array([True, False]),
        capex=np.array([1800.0, 1800.0]),
        new_site=np.array([False, False]),
        years=[2026, 2027],
        leavers=np.zeros((2, len(CADRES), 2), dtype=int),
        rates=np.zeros((2, len(CADRES))),
        graduates={c: (1 if c == "doctor" else 0) for c in CADRES},
        population=10_000.0,
        per10k_count=1,
        arcs=[(0, 1), (1, 0)],
        arc_minutes=np.array([10.0, 10.0]),
        centre_codes=[],
        rotation_arcs=[],
        rotation_minutes=np.zeros(0),
        rotation_cap=0,
        salary=salary,
        allowance=0.4 * np.repeat(salary[None, :], 2, axis=0),
        params=p,
        seed=1,
    )
    return replace(inst, **overrides)


def test_tiny_plan_hires_the_missing_doctor_where_it_is_missing():
    inst = tiny()
    sched = solve.solve_plan(inst, on=["doctors_min_main"])
    # shortfall and cost; no transfer stage: A's only doctor cannot move, so there is no transfer variable
    assert [(r.stage, r.status) for r in sched.records] == [("1_shortfall", "optimal"), ("2_cost", "optimal")]
    assert sched.records[0].objective == pytest.approx(0.0)  # met in both years
    assert sched.hires[:, DOC, :].tolist() == [[0, 0], [1, 0]]  # B's doctor in 2026, nothing else
    # cost: the hired doctor's pay in 2026 and again in 2027 (no capital: the upgrade target is off)
    assert sched.records[1].objective == pytest.approx(2 * DOCTOR_PAY)
    assert sched.transfers.sum() == 0  # A's only doctor never moves


def test_tiny_plan_under_a_budget_too_small_for_a_doctor_weighs_the_longer_miss_more():
    inst = tiny(params={"plan_budget_recurrent_mvnd": DOCTOR_PAY - 1})
    sched = solve.solve_plan(inst, on=["doctors_min_main"])
    assert sched.hires.sum() == 0
    assert sched.records[0].objective == pytest.approx(1 * 1 + 1 * 2)  # 1 short in 2026 (weight 1) and 2027 (weight 2)


def test_tiny_plan_moves_a_second_doctor_rather_than_hiring_when_no_one_graduates():
    inst = tiny(a_doctors=2, graduates={c: 0 for c in CADRES})
    sched = solve.solve_plan(inst, on=["doctors_min_main"])
    assert sched.records[0].objective == pytest.approx(0.0)
    assert sched.transfers[0].tolist() == [1, 0]  # A -> B in 2026
    tr = evaluate.trajectory(inst, sched, inst.leavers)
    assert tr.stock[:, DOC, :].tolist() == [[1, 1], [1, 1]]


def test_tiny_plan_replaces_a_leaver_the_year_they_leave():
    leavers = np.zeros((2, len(CADRES), 2), dtype=int)
    leavers[0, DOC, 1] = 1  # A's doctor leaves in 2027
    inst = tiny(leavers=leavers, params={"plan_doctors_min_main_year": 2026})
    sched = solve.solve_plan(inst, on=["doctors_min_main"])
    assert sched.records[0].objective == pytest.approx(0.0)
    assert sched.hires[:, DOC, :].tolist() == [[0, 1], [1, 0]]


def test_tiny_upgrade_takes_effect_the_next_year():
    inst = tiny(params={"plan_upgraded_year": 2027})
    sched = solve.solve_plan(inst, on=["upgraded"])
    assert sched.upgrades.tolist() == [[0, 0], [1, 0]]  # B's works in 2026, upgraded in 2027
    assert sched.records[1].objective == pytest.approx(1800.0)
    tr = evaluate.trajectory(inst, sched, inst.leavers)
    assert tr.upgraded.tolist() == [[True, True], [False, True]]


def test_tiny_answers_earliest_year_least_budget_and_short_by():
    a = answers.answer(tiny(), "doctors_min_main")
    assert (a.earliest_year, a.short_by) == (2026, None)
    assert a.least_budget_mvnd == pytest.approx(DOCTOR_PAY)  # one doctor's pay a year
    # two doctors needed at each main station, one graduate a year: 3 short in 2026 at any budget
    b = answers.answer(tiny(params={"doctors_min_main_station": 2}), "doctors_min_main")
    assert b.least_budget_mvnd is None and b.short_by == pytest.approx(2.0)  # 1 at A + 2 at B - 1 hire
    assert b.earliest_year is None
    # under a budget too small for a doctor the target is never met
    c = answers.answer(tiny(params={"plan_budget_recurrent_mvnd": DOCTOR_PAY - 1}), "doctors_min_main")
    assert c.earliest_year is None and c.least_budget_mvnd == pytest.approx(DOCTOR_PAY)


def test_leavers_schedule_shares_the_rounded_total_by_largest_remainder():
    stock0 = np.array([[10], [3], [0]])
    out = leavers_schedule(stock0, np.array([[0.05], [0.05], [0.05]]), 3, ["a", "b", "c"])
    expected_total = [round(13 * (1 - 0.95 ** (t + 1))) for t in range(3)]
    assert np.cumsum(out.sum(axis=(0, 1))).tolist() == expected_total
    assert out[2].sum() == 0 and out[0].sum() >= out[1].sum()


def test_draws_with_no_leavers_replay_the_plan_exactly():
    inst = tiny()
    sched = solve.solve_plan(inst, on=["doctors_min_main"])
    prob = robustness.met_probability(inst, sched, ("doctors_min_main",), 5, 7)
    assert prob == {"doctors_min_main": [1.0, 1.0]}
    # every doctor leaves every year: never met
    sure = replace(inst, rates=np.ones((2, len(CADRES))))
    assert robustness.met_probability(sure, sched, ("doctors_min_main",), 3, 7) == {"doctors_min_main": [0.0, 0.0]}


# ----------------------------------------------------------------------------- a real province


@pytest.fixture(scope="module")
def lai_chau(tmp_path_factory):
    """Lai Châu (12), the whole plan with every target, a capital budget, and 20 draws."""
    out = tmp_path_factory.mktemp("plan")
    proc = subprocess.run(
        [sys.executable, "-m", "reorg", "plan", str(ROOT / "scenarios/official.toml"), "--province", "12", "--out", str(out),
         "--quiet", "--draws", "20", "--set", "params.plan_budget_capital_mvnd=9000", "--set", "params.plan_budget_recurrent_mvnd=3000",
         "--set", "params.solver_time_limit_s=10"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out / "official_12" / "plan"


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_stations_csv_accounts_for_every_person(lai_chau):
    rows = _rows(lai_chau / "stations.csv")
    prev: dict[tuple[str, str], int] = {}
    for r in rows:
        n = {k: int(r[k]) for k in ("stock_previous", "hires", "leavers", "transfers_in", "transfers_out", "stock")}
        assert n["stock"] == n["stock_previous"] + n["hires"] + n["transfers_in"] - n["transfers_out"] - n["leavers"], r
        key = (r["station_code"], r["cadre"])
        if key in prev:
            assert n["stock_previous"] == prev[key], r  # the chain holds from year to year
        prev[key] = n["stock"]
        assert n["stock"] >= 0
    years = {int(r["year"]) for r in rows}
    assert years == set(range(2026, 2031))


def test_years_csv_costs_add_up_and_stay_within_the_budgets(lai_chau):
    rows = _rows(lai_chau / "years.csv")
    stations = _rows(lai_chau / "stations.csv")
    for r in rows:
        f = {k: float(v) for k, v in r.items() if k.startswith(("cost_", "budget_"))}
        parts = ("salaries", "allowances", "rotations", "upgrades", "new_stations")
        assert f["cost_total_mvnd"] == pytest.approx(sum(f[f"cost_{p}_mvnd"] for p in parts), abs=1e-6)
        assert f["cost_recurrent_mvnd"] <= 3000 + 1e-6 and f["cost_capital_mvnd"] <= 9000 + 1e-6
        hires = sum(int(s["hires"]) for s in stations if s["year"] == r["year"])
        assert int(r["hires"]) == hires
    # the capital budget binds: the upgrades are spread over the years, at most 5 (5 x 1,800) a year
    assert max(int(r["upgrade_works"]) for r in rows) <= 5 and sum(int(r["upgrade_works"]) for r in rows) > 5


def test_summary_answers_every_target_with_records(lai_chau):
    s = json.loads((lai_chau / "summary.json").read_text(encoding="utf-8"))
    assert [t["target"] for t in s["targets"]] == [
        "norm", "titles", "doctors_min_main", "res72_doctors", "permanent_doctor", "upgraded", "doctors_per_10k"
    ]  # fmt: skip
    for t in s["targets"]:
        assert (t["least_budget_mvnd_per_year"] is None) != (t["short_at_any_budget"] is None) or t["beyond_horizon"]
        assert len(t["probability_met"]) == 5 and all(0 <= p <= 1 for p in t["probability_met"])
    res72 = next(t for t in s["targets"] if t["target"] == "res72_doctors")
    assert res72["short_at_any_budget"] > 0  # 4 doctors a station by 2027 is beyond the graduates
    stage1 = s["solver"][0]
    assert stage1["model"] == "workforce_staff:1_shortfall" and stage1["relative_gap"] <= 0.005 + 1e-9, stage1
    for r in s["solver"]:  # every solve says how far its plan may be from the optimum
        assert r["status"] == "infeasible" or (r["best_bound"] is not None and r["relative_gap"] is not None), r
    assert s["synthetic_roster"] is True


@pytest.fixture(scope="module")
def lai_chau_instance():
    from reorg.pipeline import run
    from reorg.scenario import load_scenario
    from reorg.workforce.instance import build

    sc = load_scenario(ROOT / "scenarios/official.toml", ["params.plan_relative_gap=0.0"], "12")
    return build(run(sc))


def _shortfall(inst: Instance) -> float:
    on = ["norm", "titles", "doctors_min_main", "permanent_doctor", "upgraded", "doctors_per_10k"]
    rec = solve.solve_plan(inst, on=on).records[0]
    assert rec.status == "optimal"
    return float(rec.objective or 0.0)


def test_more_budget_or_graduates_never_increase_the_shortfall_more_leavers_never_decrease_it(lai_chau_instance):
    inst = lai_chau_instance
    tight = replace(inst, params=inst.params | {"plan_budget_recurrent_mvnd": 500.0, "plan_budget_capital_mvnd": 2000.0})
    loose = replace(inst, params=inst.params | {"plan_budget_recurrent_mvnd": 2000.0, "plan_budget_capital_mvnd": 8000.0})
    s_tight, s_loose, s_free = _shortfall(tight), _shortfall(loose), _shortfall(inst)
    assert s_tight > s_loose > s_free  # each budget binds here, so the order is strict
    fewer = replace(inst, graduates={c: max(n // 2, 1) for c, n in inst.graduates.items()})
    assert _shortfall(fewer) > s_free
    more = replace(inst, leavers=leavers_schedule(inst.stock0, np.full_like(inst.rates, 0.05), 5, inst.codes))
    assert more.leavers.sum() > inst.leavers.sum()
    assert _shortfall(more) > s_free


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "sets, field",
    [
        (["params.plan_end_year=2025"], "params.plan_end_year"),
        (["params.plan_res72_doctors_year=2025"], "params.plan_res72_doctors_year"),
        (["params.plan_budget_capital_mvnd=-0.5"], "params.plan_budget_capital_mvnd"),
        (["params.plan_graduates_doctor=0"], "params.plan_graduates_doctor"),
        (["params.plan_res72_doctors=1", "params.doctors_min_main_station=2"], "params.plan_res72_doctors"),
        (["plan.targets=['nrom']"], "plan.targets"),
        (["plan.hard=['upgraded']", "plan.targets=['norm']"], "plan.hard"),
    ],
)
def test_bad_plan_input_exits_2_naming_the_key_and_writes_nothing(tmp_path, sets, field):
    args = [a for s in sets for a in ("--set", s)]
    proc = subprocess.run(
        [sys.executable, "-m", "reorg", "plan", str(ROOT / "scenarios/official.toml"), "--province", "12",
         "--out", str(tmp_path / "out"), "--quiet", *args],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert f"'{field}'" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_hard_targets_that_cannot_hold_give_the_diagnosis_and_the_nearest_plan(lai_chau_instance):
    from reorg.workforce.planner import PlanResult
    from reorg.workforce.targets import PlanSettings

    inst = lai_chau_instance
    sched = solve.solve_plan(inst, on=["res72_doctors"], hard=["res72_doctors"])
    assert not sched.feasible and sched.records[0].status == "infeasible"
    del PlanResult, PlanSettings


# ----------------------------------------------------------------------------- the model's shortcuts


def test_the_plans_own_shortfall_replayed_equals_the_models_so_no_row_was_dropped_that_could_miss(lai_chau_instance):
    """The model has no row for a need met in every plan and no hire only such rows could use; the
    trajectory (evaluate.py, every row counted) of its plan must then weigh exactly the record's
    shortfall: a dropped row that the plan misses would show here."""
    inst = replace(lai_chau_instance, params=lai_chau_instance.params | {"plan_budget_recurrent_mvnd": 1500.0})
    on = ["norm", "titles", "doctors_min_main", "res72_doctors", "permanent_doctor", "upgraded", "doctors_per_10k"]
    sched = solve.solve_plan(inst, on=on)
    tr = evaluate.trajectory(inst, sched, inst.leavers)
    weighed = 0.0
    for key in on:
        deadline = int(inst.params[BY_KEY[key].deadline_param])
        short = evaluate.station_shortfall(inst, tr, key).sum(axis=0)
        weighed += sum(model.weight(y, deadline) * short[t] for t, y in enumerate(inst.years))
    stage1 = [r for r in sched.records if r.stage == "1_shortfall"]
    assert weighed == pytest.approx(sum(r.objective or 0.0 for r in stage1))
    m = model.PlanModel(inst, on=on)
    full = len(inst.codes) * len(CADRES) * len(inst.years)
    assert 0 < len(m.h) < full  # some hires are left out (norm met without them), not all
    # a hire is left out only where no row counts that cadre at that station from that year on
    for j, k, t in np.ndindex(len(inst.codes), len(CADRES), len(inst.years)):
        if (j, k, t) not in m.h and min(2, inst.graduates[CADRES[k]]) > 0:
            counted = [n for rows in m.needs.values() for tt, ns in rows.items() if tt >= t for n in ns if (j, k) in n[2]]
            assert not counted, (inst.codes[j], CADRES[k], t)


def test_shortfall_stage_reports_the_shortfall_alone_with_a_bound_below_it():
    # too small a budget for a doctor: short 1 in 2026 and 2027 (weights 1 and 2), nothing hired
    inst = tiny(params={"plan_budget_recurrent_mvnd": DOCTOR_PAY - 1})
    rec = solve.solve_plan(inst, on=["doctors_min_main"]).records[0]
    assert rec.objective == pytest.approx(3.0) and rec.best_bound == pytest.approx(3.0) and rec.relative_gap == 0
    # the weight on cost breaks ties only: the target from 2027, a doctor hired in 2026 or in 2027
    # meets it alike (shortfall 0), the 2027 one costs a year's pay less
    m = model.PlanModel(tiny(params={"plan_doctors_min_main_year": 2027}), on=["doctors_min_main"])
    rec = solve.shortfall_stage(m, m.shortfall_terms(), gap=0.0)
    assert rec.objective == pytest.approx(0.0) and rec.best_bound == pytest.approx(0.0)
    # the first stage alone already hires B's doctor the year the target counts, not a year early
    assert m.schedule([rec]).hires[:, DOC, :].tolist() == [[0, 0], [0, 1]]
    assert m.value(m.cost_terms()) == pytest.approx(DOCTOR_PAY)


def test_cost_gap_keeps_the_plans_gap_over_its_parts_within_the_target():
    rec = MipRecord(model="u", stage="2_cost", objective=1000.0, best_bound=998.0, has_plan=True)
    g = solve.cost_gap(0.005, 200.0, [rec])
    assert g == pytest.approx(0.005 + (0.005 * 1000 - 2) / 200)
    plan, bound = 200.0, 200.0 / (1 + g)  # the worst stop SCIP allows: (P - D) / D = g
    assert (plan - bound + 2) / (plan + 1000) <= 0.005 + 1e-12
    assert solve.cost_gap(0.005, 200.0, []) == 0.005  # no other part: the target itself


def test_a_stage_stopped_at_its_gap_limit_is_not_called_optimal():
    """OR-Tools reports a MIP stopped at its relative gap limit as OPTIMAL; the plan's records say
    "feasible (gap limit)" unless the gap is closed, and leave other statuses alone."""
    open_gap = MipRecord(model="s", stage="2_cost", status="optimal", objective=101.0, best_bound=100.0, relative_gap=0.0099)
    closed = MipRecord(model="s", stage="1_shortfall", status="optimal", objective=7.0, best_bound=7.0, relative_gap=0.0)
    timed = MipRecord(
        model="s", stage="3_transfers", status="feasible (time limit)", objective=5.0, best_bound=4.0, relative_gap=0.2
    )
    out = solve.label_gap_stops([closed, open_gap, timed])
    assert [r.status for r in out] == ["optimal", "feasible (gap limit)", "feasible (time limit)"]
    assert i18n.word("solver_status", "feasible (gap limit)", "vi") != "feasible (gap limit)"


def test_the_plans_gap_over_its_parts_is_within_the_target_unless_a_time_limit_stopped_it(lai_chau_instance):
    """The stopping rules (`first_stage`, `cost_gap`) at the default gaps, under a recurrent budget
    that binds (the knapsack that keeps the first stage's bound below its plans)."""
    p = lai_chau_instance.params | {"plan_relative_gap": 0.005, "plan_budget_recurrent_mvnd": 1500.0}
    inst = replace(lai_chau_instance, params=p)
    on = ["norm", "titles", "doctors_min_main", "res72_doctors", "permanent_doctor", "upgraded", "doctors_per_10k"]
    sched = solve.solve_plan(inst, on=on)
    for stage in ("1_shortfall", "2_cost"):
        recs = [r for r in sched.records if r.stage == stage]
        assert len(recs) == 2 and all(r.has_plan and r.best_bound is not None for r in recs)
        objective = sum(r.objective or 0.0 for r in recs)
        bound = sum(r.best_bound or 0.0 for r in recs)
        assert bound <= objective + 1e-6
        if not any(r.time_limit_reached for r in recs):
            assert (objective - bound) / objective <= 0.005 + 1e-9, (stage, objective, bound)
    first = sched.records[0]
    assert first.model == "workforce_staff" and float(first.best_bound or 0).is_integer()  # rounded up: shortfalls are integers
