"""Fixed assignments of the catchments model: island communes served from their own island.

DOMAIN.md 1H ("island special zones keep their own health centre"): an island commune with a
centre on its island (`islands.island_centres`) is assigned to that centre, a fixed assignment
rather than a choice. The model (catchments.py) is solved on the other communes and the other
centres: the fixed communes' rows and the fixed centres' columns leave the instance (a centre is
fixed when it serves a fixed commune or stands in one), and when `centres_kept` = p >= 0 the
fixed centres count towards p (the model keeps p minus their number, at least one). The fixed
centres serve their islands only, and `full_assign` puts both parts back together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catchments import objective_terms


@dataclass
class Restricted:
    """The catchments instance without the fixed communes and centres.

    communes, centres: positions kept (into the full A's rows and columns); A, P, capacity, host,
    neighbours: the instance on them (host and neighbours renumbered); params: with `centres_kept`
    reduced by the fixed centres; fixed: the full instance's fixed centre position of each commune
    (-1 where free)."""

    communes: np.ndarray
    centres: np.ndarray
    A: np.ndarray
    P: np.ndarray
    capacity: np.ndarray
    host: np.ndarray | None
    neighbours: dict[int, list[int]] | None
    params: dict
    fixed: np.ndarray

    def full_assign(self, assign: np.ndarray) -> np.ndarray:
        """The full instance's centre position of every commune: the model's for the free communes
        (`assign`, positions in the restricted instance), the fixed centre for the others."""
        out = self.fixed.copy()
        out[self.communes] = self.centres[np.asarray(assign, dtype=int)]
        return out

    def objective_of(self, full: np.ndarray, rho: float) -> float | None:
        """The restricted model's objective for a full assignment (e.g. the baseline's), None when a
        free commune is served there by a fixed centre (not a plan of the restricted model)."""
        col = np.full(int(max(self.centres.max(initial=-1), np.max(full, initial=-1))) + 1, -1)
        col[self.centres] = np.arange(len(self.centres))
        mine = col[np.asarray(full, dtype=int)[self.communes]]
        if (mine < 0).any():
            return None
        return objective_terms(self.A, self.P, self.capacity, mine, rho)["total"]


def without_fixed(
    A: np.ndarray,
    P: np.ndarray,
    capacity: np.ndarray,
    fixed: np.ndarray,
    host: np.ndarray | None,
    neighbours: dict[int, list[int]] | None,
    params: dict,
) -> Restricted:
    """The instance (A, P, capacity, host, neighbours) without the communes whose `fixed` centre
    position is given (NaN where free) and without the fixed centres (module docstring)."""
    fixed = np.asarray(fixed, dtype=float)
    is_fixed = ~np.isnan(fixed)
    fixed_pos = np.where(is_fixed, np.nan_to_num(fixed, nan=-1), -1).astype(int)
    nC, nK = A.shape
    fixed_k = np.zeros(nK, dtype=bool)
    fixed_k[fixed_pos[is_fixed]] = True
    if host is not None:
        fixed_k |= is_fixed[np.asarray(host, dtype=int)]
    communes = np.flatnonzero(~is_fixed)
    centres = np.flatnonzero(~fixed_k)
    p = int(params["centres_kept"])
    sub_params = dict(params)
    if p >= 0 and fixed_k.any():
        sub_params["centres_kept"] = max(1, p - int(fixed_k.sum()))
    row = np.full(nC, -1)
    row[communes] = np.arange(len(communes))
    sub_host = None
    if host is not None:
        sub_host = row[np.asarray(host, dtype=int)[centres]]
    sub_neigh = None
    if neighbours is not None:
        sub_neigh = {int(row[c]): [int(row[n]) for n in ns if row[n] >= 0] for c, ns in neighbours.items() if row[c] >= 0}
    return Restricted(
        communes=communes,
        centres=centres,
        A=A[np.ix_(communes, centres)],
        P=P[communes],
        capacity=np.asarray(capacity, dtype=float)[centres],
        host=sub_host,
        neighbours=sub_neigh,
        params=sub_params,
        fixed=fixed_pos,
    )
