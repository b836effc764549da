"""Reduced-cost fixing of the uncapacitated p-median (pmedian_mip.reduced_cost_fixing) and the MIP on
the surviving variables: same optimum as the full MIP, and no variable of an optimal plan removed,
on real province instances and a random one, from multipliers of weak and strong Lagrangian runs."""

from __future__ import annotations

import numpy as np
import pytest

from reorg import params as param_defs
from reorg.optimise import catchments as catchment_model
from reorg.optimise import pmedian_mip
from reorg.optimise.records import NearestCandidatesRecord
from reorg.pipeline import run
from reorg.scenario import load_scenario


def random_instance(seed: int = 3, communes: int = 300, centres: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sites, seats = rng.random((communes, 2)), rng.random((centres, 2))
    P = rng.integers(100, 5000, communes).astype(float)
    minutes = 60.0 * np.hypot(sites[:, None, 0] - seats[None, :, 0], sites[:, None, 1] - seats[None, :, 1])
    return P[:, None] * minutes, P


def full_mip(A: np.ndarray, P: np.ndarray, p: int) -> tuple[np.ndarray, float]:
    """The full MIP (every x_ck) solved by CBC through solve_catchments: its plan and optimum."""
    params = {**param_defs.defaults(), "centres_kept": p, "solver_time_limit_s": 600}
    res = catchment_model.solve_catchments(A, P, np.full(A.shape[1], 1e12), params=params, seed=1, solver_name="CBC")
    assert res.record.status == "optimal"
    return res.assign, float(res.record.objective)


@pytest.fixture(scope="module")
def instances(geodata):
    out = {"random 300 x 60": (*random_instance(), 20)}
    for code in ("40", "38"):
        r = run(load_scenario(None, province=code), geodata=str(geodata))
        A, P = catchment_model.instance(r.reformed.demand, r.network.centre_minutes, r.network.centre_codes, r.reformed.new.index)
        out[code] = (A, P, A.shape[1] // 3)
    return out


@pytest.mark.parametrize("name", ["random 300 x 60", "40", "38"], ids=["random 300 x 60", "40 Nghệ An", "38 Thanh Hóa"])
def test_fixing_then_restricted_mip_gives_the_full_optimum(instances, name):
    A, P, p = instances[name]
    assign, optimum = full_mip(A, P, p)
    opt_centres = np.unique(assign)
    kept_counts = []
    for iterations in (5, 40, 5000):  # weak multipliers (wide gap, little fixed) to strong ones
        bound = catchment_model.lagrangian_bound(A, p, max_iter=iterations)
        assert bound.lower <= optimum * (1 + 1e-9) and bound.upper >= optimum * (1 - 1e-9)
        fixing = pmedian_mip.reduced_cost_fixing(A, p, bound.multipliers, bound.upper, bound.centres)
        assert fixing.lower == pytest.approx(bound.lower, rel=1e-9)
        # no variable of the full MIP's optimal plan is fixed
        assert fixing.keep[np.arange(len(assign)), assign].all()
        assert not fixing.closed[opt_centres].any()
        assert set(np.flatnonzero(fixing.opened)) <= set(opt_centres.tolist())
        # the incumbent's plan survives too
        incumbent = np.asarray(bound.centres)[np.argmin(A[:, bound.centres], axis=1)]
        assert fixing.keep[np.arange(len(incumbent)), incumbent].all()
        restricted, rec = pmedian_mip.restricted_p_median(A, p, fixing, solver_name="SCIP", seed=1, time_limit_s=600)
        assert rec.status == "optimal" and restricted is not None
        assert rec.objective == pytest.approx(optimum, rel=1e-9)
        assert float(A[np.arange(len(restricted)), restricted].sum()) == pytest.approx(optimum, rel=1e-9)
        assert len(np.unique(restricted)) <= p and fixing.keep[np.arange(len(restricted)), restricted].all()
        kept_counts.append(int(fixing.keep.sum()))
        assert rec.variables == fixing.keep.sum() + A.shape[1] - fixing.closed.sum()  # only the survivors are built
    assert kept_counts[-1] < A.size // 2  # strong multipliers fix most assignment variables


def test_fixing_is_never_wrong_on_random_instances():
    """Six small instances from weak multipliers (15 iterations): the fixing keeps the full CBC MIP's
    optimal plan and the restricted MIP reaches the same optimum."""
    for seed in range(6):
        A, P = random_instance(seed, communes=60, centres=15)
        p = 4 + seed % 3
        assign, optimum = full_mip(A, P, p)
        bound = catchment_model.lagrangian_bound(A, p, max_iter=15)
        fixing = pmedian_mip.reduced_cost_fixing(A, p, bound.multipliers, bound.upper, bound.centres)
        assert fixing.keep[np.arange(len(assign)), assign].all()
        _, rec = pmedian_mip.restricted_p_median(A, p, fixing, solver_name="CBC", seed=1, time_limit_s=600)
        assert rec.objective == pytest.approx(optimum, rel=1e-9)


def test_solve_catchments_uses_the_fixing_when_the_gap_stays_open(monkeypatch):
    A, P = random_instance()
    p = 20
    _, optimum = full_mip(A, P, p)
    monkeypatch.setattr(catchment_model, "LAGRANGIAN_MAX_ITER", 10)  # the gap cannot close in 10 iterations
    params = {**param_defs.defaults(), "centres_kept": p}
    res = catchment_model.solve_catchments(A, P, np.full(A.shape[1], 1e12), params=params, seed=1)
    rec = res.record
    assert isinstance(rec, NearestCandidatesRecord)
    assert rec.method == "lagrangian + reduced-cost fixing + nearest-candidates MIP" and rec.status == "optimal"
    assert rec.objective == pytest.approx(optimum, rel=1e-9) and rec.terms["total"] == pytest.approx(optimum, rel=1e-9)
    assert rec.lagrangian_iterations == 10 and rec.lagrangian_bound < optimum <= rec.lagrangian_plan * (1 + 1e-12)
    assert rec.assignment_variables_total == A.size and 0 < rec.assignment_variables_kept < A.size
    # the last MIP: its candidate pairs (at least one per commune, at most the survivors), the open
    # centres' y and one placeholder per commune with survivors left out
    candidates = rec.variables - (A.shape[1] - rec.centres_closed) - rec.placeholders_last
    assert A.shape[0] <= candidates <= rec.assignment_variables_kept and rec.rounds >= 1
    assert "seconds" not in rec.summary() and rec.summary()["method"] == rec.method
    assert len(np.unique(res.assign)) <= p
