"""The nearest-candidates MIP of the uncapacitated p-median (pmedian_mip.nearest_candidates_p_median):
each commune's cheapest surviving centres plus a placeholder priced at the next one, the lists of the
communes that take it doubled until the plan meets the bound. Checked against the full MIP, with
short first lists (several rounds), with no time (the known plan kept, honest gap), and on
shortest-path instances of the benchmark's kind."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from reorg import params as param_defs
from reorg.optimise import _mip, pmedian_mip
from reorg.optimise import catchments as catchment_model
from reorg.optimise.records import NearestCandidatesRecord


def points(n: int, seed: int, centres: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sites, seats = rng.random((n, 2)), rng.random((centres, 2))
    P = rng.integers(100, 5000, n).astype(float)
    return P[:, None] * 60.0 * np.hypot(sites[:, None, 0] - seats[None, :, 0], sites[:, None, 1] - seats[None, :, 1])


def graph(n: int, seed: int) -> np.ndarray:
    """Shortest-path costs on a connected random graph of n nodes and n^2 / 50 edges, costs 1..100
    (integer costs: many ties, several optimal plans)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    edges = {}
    for i in range(1, n):
        a, b = int(order[i]), int(order[rng.integers(0, i)])
        edges[min(a, b), max(a, b)] = int(rng.integers(1, 101))
    while len(edges) < n * n // 50:
        a, b = (int(v) for v in rng.integers(0, n, 2))
        if a != b:
            edges.setdefault((min(a, b), max(a, b)), int(rng.integers(1, 101)))
    (rows, cols), w = zip(*edges.keys()), list(edges.values())
    return dijkstra(coo_matrix((w, (rows, cols)), shape=(n, n)).tocsr(), directed=False)


def full_optimum(A: np.ndarray, p: int) -> float:
    """The full assignment MIP (every x_ck) solved by CBC through solve_catchments."""
    params = {**param_defs.defaults(), "centres_kept": p, "solver_time_limit_s": 600}
    res = catchment_model.solve_catchments(
        A, np.ones(len(A)), np.full(A.shape[1], 1e12), params=params, seed=1, solver_name="CBC"
    )
    assert res.record.status == "optimal"
    return float(res.record.objective)


def weak_start(A: np.ndarray, p: int, iterations: int) -> tuple[catchment_model.LagrangianBound, pmedian_mip.Fixing]:
    run = catchment_model.lagrangian_bound(A, p, max_iter=iterations)
    return run, pmedian_mip.reduced_cost_fixing(A, p, run.multipliers, run.upper, run.centres)


def plan_cost(A: np.ndarray, assign: np.ndarray) -> float:
    return float(A[np.arange(len(assign)), assign].sum())


@pytest.mark.parametrize("case", ["points 120 x 40, p 6", "graph 90, p 12"])
def test_short_lists_grow_until_the_full_optimum(monkeypatch, case):
    """First lists of 2 centres: the placeholders are taken, the lists grow over several rounds, and
    the plan returned is the full MIP's optimum, proven (bound = objective), from a weak start."""
    A, p = (points(120, 2, 40), 6) if case.startswith("points") else (graph(90, 5), 12)
    optimum = full_optimum(A, p)
    monkeypatch.setattr(pmedian_mip, "CANDIDATES_MIN", 2)
    monkeypatch.setattr(pmedian_mip, "CANDIDATES_PER_SHARE", 0.0)
    run, fixing = weak_start(A, p, 10)
    assert run.upper > optimum * (1 + 1e-9) or run.lower < optimum * (1 - 1e-9)  # the start is not proven
    assign, rec = pmedian_mip.nearest_candidates_p_median(
        A, p, fixing, start=run.centres, start_bound=run.lower, seed=1, time_limit_s=600
    )
    assert isinstance(rec, NearestCandidatesRecord) and rec.status == "optimal" and rec.has_plan
    assert rec.rounds >= 2 and rec.candidates_first == 2
    assert plan_cost(A, assign) == pytest.approx(optimum, rel=1e-9) and len(np.unique(assign)) <= p
    assert rec.objective == pytest.approx(optimum, rel=1e-9)
    assert rec.best_bound == pytest.approx(optimum, rel=1e-9) and rec.relative_gap <= pmedian_mip.FIXED_MIP_GAP
    # the last MIP: each commune's candidates, the centres not closed, a placeholder where some are left
    assert rec.variables >= A.shape[0] + A.shape[1] - int(fixing.closed.sum()) + rec.placeholders_last


def test_each_round_is_a_relaxation(monkeypatch):
    """A round's MIP optimum never exceeds the full optimum (the placeholder is priced at the cheapest
    centre left out), and its plan, evaluated on the full matrix, never falls below it."""
    A, p = graph(80, 9), 10
    optimum = full_optimum(A, p)
    run, fixing = weak_start(A, p, 5)
    order = np.argsort(np.where(fixing.keep, A, np.inf), axis=1, kind="stable")
    rows = np.arange(len(A))
    for size in (1, 2, 3, 5):
        candidates = np.zeros_like(fixing.keep)
        candidates[rows[:, None], order[:, :size]] = True
        candidates &= fixing.keep
        survivors = fixing.keep.sum(axis=1)
        placeholder = np.where(size < survivors, A[rows, order[rows, np.minimum(size, A.shape[1] - 1)]], np.inf)
        out = pmedian_mip.candidates_mip(
            A, p, fixing, candidates, placeholder, solver_name="SCIP", seed=1, time_limit_s=600, start=run.centres
        )
        assert out.record.status == "optimal" and out.assign is not None
        assert out.record.objective <= optimum * (1 + 1e-9) <= plan_cost(A, out.assign) * (1 + 2e-9)
        assert (out.placeholder_used <= np.isfinite(placeholder)).all()
        if not out.placeholder_used.any():  # no placeholder taken: the relaxation's plan is the optimum
            assert plan_cost(A, out.assign) == pytest.approx(optimum, rel=1e-9)


def test_no_time_keeps_the_known_plan_with_an_honest_gap():
    A, p = graph(300, 4), 100
    run, fixing = weak_start(A, p, 20)
    assign, rec = pmedian_mip.nearest_candidates_p_median(
        A, p, fixing, start=run.centres, start_bound=run.lower, seed=1, time_limit_s=0.01
    )
    cost = plan_cost(A, assign)
    assert rec.has_plan and len(np.unique(assign)) <= p
    assert cost <= run.upper * (1 + 1e-12) and rec.objective == pytest.approx(cost, rel=1e-12)
    assert rec.best_bound is not None and run.lower * (1 - 1e-12) <= rec.best_bound <= cost
    assert rec.relative_gap == pytest.approx((cost - rec.best_bound) / cost, abs=1e-12)
    if rec.status != "optimal":
        assert rec.time_limit_reached and rec.status in (_mip.KEPT_AT_LIMIT, _mip.STATUS_NAMES["FEASIBLE"])
        assert rec.relative_gap > 0
    if rec.status == _mip.KEPT_AT_LIMIT:
        assert cost == pytest.approx(run.upper, rel=1e-12)


def test_solve_catchments_reaches_the_optimum_of_a_graph_instance():
    """A shortest-path instance where the Lagrangian gap stays open (many ties): solve_catchments
    goes through the fixing and the nearest candidates and returns the full MIP's optimum."""
    A, p = graph(150, 3), 40
    optimum = full_optimum(A, p)
    params = {**param_defs.defaults(), "centres_kept": p, "solver_time_limit_s": 120}
    res = catchment_model.solve_catchments(A, np.ones(len(A)), np.full(len(A), 1e12), params=params, seed=1)
    rec = res.record
    assert res.assign is not None and plan_cost(A, res.assign) == pytest.approx(optimum, rel=1e-9)
    assert rec.status == "optimal" and rec.objective == pytest.approx(optimum, rel=1e-9)
    if isinstance(rec, NearestCandidatesRecord):
        assert rec.lagrangian_plan >= optimum * (1 - 1e-12) and rec.lagrangian_bound <= optimum * (1 + 1e-12)
        assert rec.summary()["method"] == "lagrangian + reduced-cost fixing + nearest-candidates MIP"
        assert {"rounds", "candidates_first", "placeholders_last"} <= set(rec.summary())
