"""Models that scale with the demand (issue 12, point 9): the catchment solver never returns a run
without a plan when one is known (the Lagrangian or greedy plan is the MIP's start and is kept when
the MIP ends at its time limit without a better one), the record states the returned plan's
objective, bound and gap honestly, and with time enough the solve reaches the optimum (checked
against brute force)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from reorg import i18n
from reorg import params as param_defs
from reorg.optimise import _mip, pmedian_mip, pmedian_start
from reorg.optimise import catchments as catchment_model
from reorg.optimise.records import MipRecord, NearestCandidatesRecord


def points_instance(n: int, seed: int, centres: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """n random demand points (residents 100..5000); candidate centres at the first `centres`
    points (all by default); A = residents x euclidean minutes."""
    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2))
    seats = xy[: (centres or n)]
    P = rng.integers(100, 5000, n).astype(float)
    minutes = 60.0 * np.hypot(xy[:, None, 0] - seats[None, :, 0], xy[:, None, 1] - seats[None, :, 1])
    return P[:, None] * minutes, P


def brute_force(A: np.ndarray, p: int) -> float:
    return min(float(A[:, list(ks)].min(axis=1).sum()) for ks in itertools.combinations(range(A.shape[1]), p))


def check_plan(res: catchment_model.CatchmentsResult, A: np.ndarray, p: int) -> float:
    """The plan exists, uses at most p centres, and the record's objective is its recomputed cost,
    with a bound at most the objective and a gap >= 0 consistent with both."""
    assert res.assign is not None and res.record.has_plan
    assert len(np.unique(res.assign)) <= p
    cost = float(A[np.arange(A.shape[0]), res.assign].sum())
    rec = res.record
    assert rec.objective == pytest.approx(cost, rel=1e-9)
    assert rec.terms is not None and rec.terms["total"] == pytest.approx(cost, rel=1e-9)
    assert rec.best_bound is not None and rec.best_bound <= cost * (1 + 1e-9)
    assert rec.relative_gap is not None and rec.relative_gap >= 0
    assert rec.relative_gap == pytest.approx((cost - rec.best_bound) / cost, abs=1e-9)
    return cost


def test_600_nodes_tiny_time_limit_still_returns_the_known_plan(monkeypatch):
    A, P = points_instance(600, seed=7)
    p = 200
    monkeypatch.setattr(catchment_model, "LAGRANGIAN_MAX_ITER", 30)  # the gap stays open: the MIP is needed
    params = {**param_defs.defaults(), "centres_kept": p, "solver_time_limit_s": 0.01}
    res = catchment_model.solve_catchments(A, P, np.full(A.shape[1], 1e12), params=params, seed=1)
    cost = check_plan(res, A, p)
    rec = res.record
    assert isinstance(rec, NearestCandidatesRecord)
    assert rec.status in ("optimal", _mip.KEPT_AT_LIMIT, "feasible (time limit)")
    assert cost <= rec.lagrangian_plan * (1 + 1e-12)  # never worse than the plan known before the MIP
    assert rec.best_bound >= rec.lagrangian_bound * (1 - 1e-12)  # the bound is the best known
    if rec.status == _mip.KEPT_AT_LIMIT:
        assert cost == pytest.approx(rec.lagrangian_plan, rel=1e-12) and rec.relative_gap > 0
    summary = rec.summary()
    assert summary["objective"] == rec.objective and summary["relative_gap"] == rec.relative_gap


def test_restricted_mip_with_no_time_keeps_the_lagrangian_plan():
    """The restricted MIP itself, stopped at once: it returns the start it was handed (SCIP takes
    hints) or nothing, and then the Lagrangian plan is kept; the bound is the best known, the gap
    that of the plan returned."""
    A, P = points_instance(600, seed=11)
    p = 200
    run = catchment_model.lagrangian_bound(A, p, max_iter=30)
    fixing = pmedian_mip.reduced_cost_fixing(A, p, run.multipliers, run.upper, run.centres)
    assign, mip = pmedian_mip.restricted_p_median(A, p, fixing, solver_name="SCIP", seed=1, time_limit_s=0.01, start=run.centres)
    kept = _mip.keep_known(mip, run.upper, run.lower)
    assert kept == (assign is None)
    if kept:
        assert mip.status == _mip.KEPT_AT_LIMIT and mip.objective == run.upper
    assert mip.has_plan and mip.objective is not None and mip.objective <= run.upper * (1 + 1e-9)
    assert mip.best_bound is not None and run.lower * (1 - 1e-12) <= mip.best_bound <= mip.objective
    assert mip.relative_gap == pytest.approx((mip.objective - mip.best_bound) / mip.objective, abs=1e-12)


def test_keep_known_on_a_record_without_plan():
    rec = MipRecord(model="catchments", status=_mip.STATUS_NAMES["NOT_SOLVED"], time_limit_reached=True)
    assert _mip.keep_known(rec, 120.0, 100.0)
    assert rec.has_plan and rec.status == _mip.KEPT_AT_LIMIT and rec.objective == 120.0
    assert rec.best_bound == 100.0 and rec.relative_gap == pytest.approx(20.0 / 120.0)
    # a MIP plan better than the known one stays, with the better of both bounds
    rec = MipRecord(model="m", status="feasible (time limit)", has_plan=True, objective=110.0, best_bound=90.0)
    assert not _mip.keep_known(rec, 120.0, 100.0)
    assert rec.objective == 110.0 and rec.best_bound == 100.0 and rec.relative_gap == pytest.approx(10.0 / 110.0)
    # a worse MIP plan gives way to the known one; without any bound the gap is not claimed
    rec = MipRecord(model="m", status="feasible (time limit)", has_plan=True, objective=130.0, time_limit_reached=True)
    assert _mip.keep_known(rec, 120.0) and rec.objective == 120.0 and rec.relative_gap is None


def test_every_kept_status_has_words_in_every_language():
    for lang in ("en", "vi"):
        for status in (_mip.KEPT_AT_LIMIT, _mip.KEPT):
            word = i18n.word("solver_status", status, lang)
            assert word and (lang == "en" or word != status)


def test_full_mip_with_capacities_and_no_time_returns_the_start_plan():
    """The capacitated MIP (no Lagrangian path) stopped at once: the greedy start, or better."""
    A, P = points_instance(120, seed=5, centres=40)
    p = 8
    capacity = np.full(40, P.sum() / 10)  # capacities bind
    rho = 50.0
    params = {**param_defs.defaults(), "centres_kept": p, "solver_time_limit_s": 0.01, "capacity_penalty_per_person": rho}
    res = catchment_model.solve_catchments(A, P, capacity, params=params, seed=1)
    assert res.assign is not None and res.record.has_plan and len(np.unique(res.assign)) <= p
    terms = catchment_model.objective_terms(A, P, capacity, res.assign, rho)
    assert res.record.objective == pytest.approx(terms["total"], rel=1e-6)
    start = pmedian_start.start_plan(A, p, P=P)
    assert start is not None
    assert terms["total"] <= catchment_model.objective_terms(A, P, capacity, start, rho)["total"] * (1 + 1e-9)
    rec = res.record
    assert rec.relative_gap is None or rec.relative_gap >= 0


@pytest.mark.parametrize("path", ["lagrangian+fixing", "full MIP"])
def test_normal_limit_reaches_the_brute_force_optimum(monkeypatch, path):
    A, P = points_instance(30, seed=2)
    p = 3
    optimum = brute_force(A, p)
    params = {**param_defs.defaults(), "centres_kept": p, "solver_time_limit_s": 60}
    if path == "lagrangian+fixing":
        monkeypatch.setattr(catchment_model, "LAGRANGIAN_MAX_ITER", 5)
        res = catchment_model.solve_catchments(A, P, np.full(30, 1e12), params=params, seed=1)
    else:
        res = catchment_model.solve_catchments(A, P, np.full(30, 1e12), params=params, seed=1, solver_name="CBC")
    cost = check_plan(res, A, p)
    assert res.record.status == "optimal" and cost == pytest.approx(optimum, rel=1e-9)
    assert res.record.relative_gap <= 1e-6 and math.isfinite(res.record.best_bound)


def test_start_values_meet_the_mip_rows():
    """The start handed to the full MIP is a feasible point of it (sum y = p even when a chosen
    centre serves nobody, e_k the residents above capacity)."""
    A, P = points_instance(50, seed=9, centres=20)
    capacity = np.full(20, P.sum() / 6)
    assign = pmedian_start.start_plan(A, 5, P=P)
    values = np.asarray(pmedian_start.start_values(A, P, capacity, assign, p=6, p_all=False))
    x, y, e = values[: 50 * 20].reshape(50, 20), values[1000:1020], values[1020:]
    assert (x.sum(axis=1) == 1).all() and (x <= y[None, :]).all() and y.sum() == 6
    assert np.allclose(e, np.maximum(0, x.T @ P - capacity))
