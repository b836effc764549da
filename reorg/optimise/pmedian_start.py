"""Known plans for the catchment p-median, handed to its MIPs as their start (and kept when a MIP
ends at its time limit without a better plan): greedy addition + vertex substitution, and the MIP
variables of a plan."""

from __future__ import annotations

import numpy as np


def greedy_interchange(A: np.ndarray, p: int, *, interchange: bool = True) -> list[int]:
    """Greedy addition then (`interchange`) vertex substitution (Teitz-Bart) for the p-median: a
    good first plan."""
    nC, nK = A.shape
    chosen: list[int] = []
    best = np.full(nC, np.inf)
    for _ in range(p):
        cost = np.minimum(best[:, None], A).sum(axis=0)
        cost[chosen] = np.inf
        k = int(np.argmin(cost))
        chosen.append(k)
        best = np.minimum(best, A[:, k])
    total = best.sum()
    improved = interchange
    while improved:
        improved = False
        for i in range(p):
            base = A[:, chosen[:i] + chosen[i + 1 :]].min(axis=1) if p > 1 else np.full(nC, np.inf)
            cost = np.minimum(base[:, None], A).sum(axis=0)
            cost[chosen] = np.inf
            k = int(np.argmin(cost))
            if cost[k] < total - 1e-9 * max(1.0, abs(total)):
                chosen[i], total, improved = k, cost[k], True
    return sorted(chosen)


START_INTERCHANGE_WORK = 5e8  # largest |C| x |K| x p for which the MIP's start is improved by interchange


def start_plan(
    A: np.ndarray,
    p: int,
    *,
    P: np.ndarray,
    host: np.ndarray | None = None,
    neighbours: dict[int, list[int]] | None = None,
) -> np.ndarray | None:
    """A feasible plan to start the catchment MIP: p centres by greedy addition (and interchange when
    cheap, START_INTERCHANGE_WORK), each commune at its cheapest open centre. With `host` and
    `neighbours` (contiguous catchments) the plan is returned only when it meets the contiguity rows
    (each commune reaches its centre through a neighbour closer to it), else None."""
    nC, nK = A.shape
    if p >= nK:
        chosen = list(range(nK))
    else:
        chosen = greedy_interchange(A, p, interchange=nC * nK * p <= START_INTERCHANGE_WORK)
    inc = np.asarray(chosen, dtype=int)
    assign = inc[np.argmin(A[:, inc], axis=1)]
    if host is None or neighbours is None:
        return assign
    per = A / np.maximum(P, 1e-9)[:, None]
    for k in inc.tolist():
        if assign[int(host[k])] != k:
            return None
    hosts = {int(host[k]) for k in inc.tolist()}
    for c in range(nC):
        k = int(assign[c])
        if c not in hosts and not any(assign[c2] == k and per[c2, k] < per[c, k] for c2 in neighbours.get(c, ())):
            return None
    return assign


def start_values(A: np.ndarray, P: np.ndarray, capacity: np.ndarray, assign: np.ndarray, *, p: int, p_all: bool) -> list[float]:
    """The catchment MIP's variables (build_mip's creation order: x, y, e) for the plan `assign`;
    y_k = 1 for the centres used, completed to p (all when `p_all`), e_k the residents above capacity."""
    nC, nK = A.shape
    x = np.zeros((nC, nK))
    x[np.arange(nC), assign] = 1.0
    y = np.ones(nK) if p_all else np.isin(np.arange(nK), assign).astype(float)
    if not p_all:  # sum_k y_k = p: centres that serve no commune are open too
        y[np.flatnonzero(y == 0)[: max(0, p - int(y.sum()))]] = 1.0
    load = np.bincount(assign, weights=P, minlength=nK)
    e = np.maximum(0.0, load - np.asarray(capacity, dtype=float))
    return np.concatenate([x.reshape(-1), y, e]).tolist()
