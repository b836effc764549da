"""Every model re-checked from the outputs alone (`--export-models`): the exported MPS re-solved by
another backend reaches the reported optimum; the exported data rebuild the model's coefficients
exactly; the staff baseline follows the `stay` rule; each staff stage carries its own terms; the
records carry only their method's fields."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from ortools.linear_solver.python import model_builder

from conftest import ROOT
from reorg import params as param_defs
from reorg.optimise import _mip
from reorg.optimise import catchments as catchment_model
from reorg.optimise import roles as roles_model
from reorg.optimise.records import LagrangianRecord, MipRecord
from reorg.pipeline import run, write
from reorg.scenario import load_scenario

SCENARIO = ROOT / "scenarios" / "nghe_an_optimise.toml"
# the models are solved with CBC, the staff model's stages by their LP relaxation (GLOP: its optimal
# vertex is integral); each is re-solved with another backend (SCIP, except the staff model's second
# stage, where HiGHS is the faster)
RESOLVE_WITH = {"staff_placement_2_person_minutes": "highs"}
LP_SOLVED = ("staff_placement_1_shortfall", "staff_placement_2_person_minutes", "staff_placement_3_persons_moved")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, geodata):
    result = run(load_scenario(SCENARIO, ["export_models=true"]), geodata=str(geodata))
    folder = write(result, tmp_path_factory.mktemp("recheck"))
    return result, folder, json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _model(path) -> model_builder.Model:
    m = model_builder.Model()
    assert m.import_from_mps_file(str(path)), path
    return m


def _objective(model: model_builder.Model) -> dict[str, float]:
    proto = model.export_to_proto()
    return {v.name: v.objective_coefficient for v in proto.variable if v.objective_coefficient != 0}


def test_every_model_is_exported(exported):
    _, folder, s = exported
    names = sorted(p.name for p in (folder / "models").iterdir())
    stems = [rec["model"].replace(":", "_") for rec in s["solver"]]
    assert stems == [
        "station_roles",
        "staff_placement_1_shortfall",
        "staff_placement_2_person_minutes",
        "staff_placement_3_persons_moved",
        "catchments",
    ]
    assert names == sorted(
        [f"{x}.mps" for x in stems] + ["roles_minutes.csv", "staff_minutes.csv", "staff_sites.csv", "catchments_minutes.csv"]
    )


@pytest.mark.parametrize(
    "stem",
    [
        "station_roles",
        "staff_placement_1_shortfall",
        "staff_placement_2_person_minutes",
        "staff_placement_3_persons_moved",
        "catchments",
    ],
)
def test_exported_model_resolved_by_another_backend_reaches_the_reported_optimum(exported, stem):
    _, folder, s = exported
    rec = next(r for r in s["solver"] if r["model"].replace(":", "_") == stem)
    assert rec["backend"] == ("GLOP" if stem in LP_SOLVED else "CBC") and rec["status"] == "optimal"
    assert rec["relative_gap"] == 0.0 or stem not in LP_SOLVED
    model = _model(folder / "models" / f"{stem}.mps")
    assert model.num_variables == rec["variables"] and model.num_constraints == rec["constraints"]
    solver = model_builder.Solver(RESOLVE_WITH.get(stem, "scip"))
    solver.set_time_limit_in_seconds(300)
    assert solver.solve(model) == model_builder.SolveStatus.OPTIMAL
    assert solver.objective_value == pytest.approx(rec["objective"], rel=1e-6, abs=1e-6)


def test_exported_data_rebuild_the_coefficients_exactly(exported):
    result, folder, _ = exported
    models = folder / "models"
    # roles: the coefficient of x_{group}_{station} is the sum over the group's parts, in row
    # order, of residents x minutes, as written; a group's parts share their ordered A(d)
    rm = pd.read_csv(models / "roles_minutes.csv", dtype={"old_code": str, "new_code": str, "station_code": str})
    obj = _objective(_model(models / "station_roles.mps"))
    used = rm[rm["allowed"]]
    a: dict[tuple, float] = {}
    for g, st, pm in zip(used["group"], used["station_code"], used["population"] * used["minutes"]):
        a[g, st] = a.get((g, st), 0.0) + pm
    assert len(a) and all(obj.get(f"x_{g}_{st}", 0.0) == v for (g, st), v in a.items())
    assert len([name for name in obj if name.startswith("x_")]) == sum(v != 0 for v in a.values())
    for _g, grp in used.groupby("group"):
        order = {p: tuple(part.sort_values(["minutes", "station_code"])["station_code"]) for p, part in grp.groupby("part")}
        assert len(set(order.values())) == 1, "the parts of a group share A(d) in the same order"
    # staff, stage 2: the coefficient of each flow is the arc's minutes, as written
    sm = pd.read_csv(models / "staff_minutes.csv", dtype={"from_code": str, "to_station": str})
    obj = _objective(_model(models / "staff_placement_2_person_minutes.mps"))
    flows = {name: c for name, c in obj.items() if name.startswith("f_")}
    minutes = {(a, b): t for a, b, t in zip(sm["from_code"], sm["to_station"], sm["minutes"])}
    assert flows and all(c == minutes[tuple(name.split("_")[1:3])] for name, c in flows.items())
    # catchments: a_ck rebuilt from the parts' residents x minutes, summed in row order
    cm = pd.read_csv(models / "catchments_minutes.csv", dtype={"old_code": str, "new_code": str, "centre_code": str})
    obj = _objective(_model(models / "catchments.mps"))
    a = {}
    for key, pm in zip(zip(cm["new_code"], cm["centre_code"]), cm["population"] * cm["minutes"]):
        a[key] = a.get(key, 0.0) + pm
    assert len(a) == len(result.reformed.new) * len(result.network.centre_codes)
    assert all(obj.get(f"x_{c}_{k}", 0.0) == v for (c, k), v in a.items())


def test_staff_baseline_includes_the_staff_of_closed_stations(exported):
    """The stay rule sends a closed station's staff to its commune's main station: the baseline
    shortfall, recomputed from the exported sites and the roles in stations.csv, counts them."""
    _, folder, s = exported
    sites = pd.read_csv(folder / "models" / "staff_sites.csv", dtype={"station_code": str, "new_code": str}).set_index(
        "station_code"
    )
    st = pd.read_csv(folder / "stations.csv", dtype={"station_code": str, "new_commune_code": str}).set_index("station_code")
    assert (st.loc[sites.index, "role"] == sites["role"]).all()
    main_of = st[st["role"] == "main"].reset_index().set_index("new_commune_code")["station_code"]
    doctors, total = sites["doctors"].astype(float).copy(), (sites["doctors"] + sites["other_staff"]).astype(float)
    closed = sites.index[sites["role"] == "closed"]
    assert len(closed) > 0 and total[closed].sum() > 0
    w = s["scenario"]["params_overridden"].get("doctor_shortfall_weight", param_defs.BY_NAME["doctor_shortfall_weight"].default)

    def shortfall(doc, tot):
        is_open = sites["role"] != "closed"
        return float((w * np.maximum(0, sites["doctor_minimum"] - doc) + np.maximum(0, sites["norm"] - tot))[is_open].sum())

    without = shortfall(doctors, total)  # the closed stations' staff left out
    for c in closed:
        m = main_of[sites.at[c, "new_code"]]
        doctors[m] += doctors[c]
        total[m] += total[c]
    expected = shortfall(doctors, total)
    stage1 = next(r for r in s["solver"] if r["model"] == "staff_placement:1_shortfall")
    assert stage1["baseline_objective"] == pytest.approx(expected, abs=1e-9)
    assert expected < without, "the closed stations' staff reduce the baseline shortfall"
    assert stage1["objective"] <= stage1["baseline_objective"]


def test_no_open_station_loses_its_last_doctor(exported):
    """Issue 13: every open station with a doctor after attrition (the exported staff_sites.csv)
    still has one after the moves (stations.csv); the count of open sites without a doctor before
    the moves is the exported data's."""
    _, folder, s = exported
    sites = pd.read_csv(folder / "models" / "staff_sites.csv", dtype={"station_code": str, "new_code": str}).set_index(
        "station_code"
    )
    st = pd.read_csv(folder / "stations.csv", dtype={"station_code": str, "new_commune_code": str}).set_index("station_code")
    is_open = sites["role"] != "closed"
    had = sites.index[is_open & (sites["doctors"] >= 1)]
    assert len(had) > 300
    assert (st.loc[had, "doctor_after"] >= 1).all(), list(had[st.loc[had, "doctor_after"] < 1])
    terms = next(r for r in s["solver"] if r["model"] == "staff_placement:3_persons_moved")["terms"]
    assert terms["open_sites_without_doctor_before_moves"] == int((is_open & (sites["doctors"] < 1)).sum())
    assert terms["open_sites_without_doctor"] == int((st.loc[sites.index[is_open], "doctor_after"] < 1).sum())
    assert terms["open_sites_without_doctor"] <= terms["open_sites_without_doctor_before_moves"]


def test_each_staff_stage_carries_the_terms_of_its_own_plan(exported):
    _, folder, s = exported
    recs = [r for r in s["solver"] if r["model"].startswith("staff_placement:")]
    assert [r["stage"] for r in recs] == ["1_shortfall", "2_person_minutes", "3_persons_moved"]
    t1, t2, t3 = (r["terms"] for r in recs)
    assert t1["weighted_shortfall"] == t2["weighted_shortfall"] == t3["weighted_shortfall"] == recs[0]["objective"]
    assert t2["person_minutes_moved"] == pytest.approx(recs[1]["objective"], rel=1e-9)
    assert t3["persons_moved"] == recs[2]["objective"]
    assert t3["person_minutes_moved"] <= recs[1]["objective"] * (1 + 1e-7) + 1e-6
    assert t1 != t3 and t2["persons_moved"] >= t3["persons_moved"], "stages 1 and 2 end with other plans than stage 3"
    # the terms use the unrounded minutes: the moves made, priced with the exported minutes
    moves = pd.read_csv(folder / "staff_moves.csv", dtype=str)
    moves = moves[moves["from_station"] != "hire"]
    sm = pd.read_csv(folder / "models" / "staff_minutes.csv", dtype={"from_code": str, "to_station": str})
    minutes = {(a, b): t for a, b, t in zip(sm["from_code"], sm["to_station"], sm["minutes"])}
    exact = sum(
        int(p) * minutes[(a.removeprefix("centre:"), b)]
        for a, b, p in zip(moves["from_station"], moves["to_station"], moves["persons"])
    )
    assert t3["person_minutes_moved"] == pytest.approx(exact, rel=1e-6, abs=1e-6)
    assert t3["persons_moved"] == moves["persons"].astype(int).sum()


def test_exported_models_are_the_same_bytes_on_a_second_run(exported, geodata, tmp_path):
    _, folder, _ = exported
    again = write(run(load_scenario(SCENARIO, ["export_models=true"]), geodata=str(geodata)), tmp_path)
    for p in sorted((folder / "models").iterdir()):
        assert (again / "models" / p.name).read_bytes() == p.read_bytes(), p.name
    assert not (write(run(load_scenario(SCENARIO), geodata=str(geodata)), tmp_path / "plain") / "models").exists()


def test_lagrangian_record_has_no_mip_fields_and_its_exported_mip_agrees(exported):
    result, _, _ = exported
    A, Pp = catchment_model.instance(
        result.reformed.demand, result.network.centre_minutes, result.network.centre_codes, result.reformed.new.index
    )
    params = {**param_defs.defaults(), "centres_kept": A.shape[1] // 2}
    res = catchment_model.solve_catchments(
        A,
        Pp,
        np.full(A.shape[1], 1e12),
        params=params,
        seed=1,
        export=True,
        names=(result.reformed.new.index, result.network.centre_codes),
    )
    rec = res.record
    assert isinstance(rec, LagrangianRecord) and rec.status == "optimal" and rec.iterations > 0
    names = {f.name for f in fields(rec)}
    for mip_only in ("variables", "constraints", "time_limit_s", "time_limit_reached", "seed", "backend"):
        assert mip_only not in names and mip_only not in rec.summary()
    assert "seconds" not in rec.summary() and rec.measured() == {"seconds": rec.seconds}
    assert rec.best_bound <= rec.objective and rec.relative_gap <= catchment_model.LAGRANGIAN_GAP
    # the equivalent MIP, built and exported but not solved by reorg, solved by SCIP
    model = model_builder.Model()
    assert model.import_from_mps_string(res.export.mps["catchments"])
    solver = model_builder.Solver("scip")
    assert solver.solve(model) == model_builder.SolveStatus.OPTIMAL
    assert solver.objective_value == pytest.approx(rec.objective, rel=1e-6)


def test_seed_is_claimed_only_where_the_backend_takes_it():
    demand = pd.DataFrame({"new_code": ["X", "X"], "population": [1000.0, 10.0], "old_code": ["a", "b"]})
    stations = pd.DataFrame({"new_code": ["X", "X"], "facility_score": [0.5, 0.5]}, index=["sa", "sb"])
    minutes = np.array([[2.0, 30.0], [30.0, 2.0]])
    for backend, claimed in (("CBC", None), ("SCIP", 20250701), ("HIGHS", None)):
        params = {**param_defs.defaults(), "mip_solver": backend}
        rec = roles_model.solve_roles(
            demand, stations, minutes, params, policy="optimise", main_rule="optimise", fixed_main=None, seed=20250701
        ).record
        assert isinstance(rec, MipRecord) and rec.backend == backend and rec.seed == claimed
        assert ("seed" in rec.summary()) == (claimed is not None) and "seconds" not in rec.summary()
        assert backend.lower() in rec.solver.lower()


def test_mps_text_keeps_every_number_and_row_kind():
    """Ranged and negative-bounded rows, an objective constant and digits OR-Tools' own exporter
    would cut to six: read back, the model is the same model."""
    solver = _mip.new_solver("CBC", 1)
    x = solver.IntVar(0, 10, "x")
    y = solver.IntVar(-3, solver.infinity(), "y")
    z = solver.NumVar(-solver.infinity(), 1.000000000000001, "z")
    solver.Add(2 * x + 2 * y >= 3.1234567890123, "g")
    solver.Add(x - z <= 7.000000000001, "l")
    ranged = solver.Constraint(1.0, 2.5, "r")
    for v in (x, y, z):
        ranged.SetCoefficient(v, 1.0)
    solver.Add(x + y == 4, "e")
    solver.Minimize(x + 1.0100000000000001 * y + 0.1 + 1e-7 * z)
    model = model_builder.Model()
    assert model.import_from_mps_string(_mip.mps_text(solver, "t"))
    proto = model.export_to_proto()
    rows = {c.name: (c.lower_bound, c.upper_bound, list(c.coefficient)) for c in proto.constraint}
    inf = float("inf")
    assert rows == {
        "g": (3.1234567890123, inf, [2.0, 2.0]),
        "l": (-inf, 7.000000000001, [1.0, -1.0]),
        "r": (1.0, 2.5, [1.0, 1.0, 1.0]),
        "e": (4.0, 4.0, [1.0, 1.0]),
    }
    vs = {v.name: (v.lower_bound, v.upper_bound, v.objective_coefficient, v.is_integer) for v in proto.variable}
    assert vs == {
        "x": (0.0, 10.0, 1.0, True),
        "y": (-3.0, inf, 1.0100000000000001, True),
        "z": (-inf, 1.000000000000001, 1e-7, False),
    }
    assert proto.objective_offset == 0.1
