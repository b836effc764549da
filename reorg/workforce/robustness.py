"""Robustness (issue 13 point 6): the plan fixed, the leavers drawn.

Each of `draws` replays (seed + 1000 + draw) draws every year, for each station and cadre, the
leavers among the staff then in post (hires included) as Binomial(stock, rate) with the model's
rates (instance.rates); hires, rotations and upgrades are kept, transfers shrink when the sending
station no longer has the doctors (evaluate.trajectory). The result: for each target and year, the
share of draws in which the target is met (shortfall 0).
"""

from __future__ import annotations

import numpy as np

from ..schema import CADRES
from .evaluate import station_shortfall, trajectory
from .instance import Instance
from .model import Schedule


def drawn_leavers(inst: Instance, sched: Schedule, rng: np.random.Generator) -> np.ndarray:
    """Leavers of one draw (J x K x T): each year among the staff in post after last year's flows."""
    J, K, T = len(inst.codes), len(CADRES), len(inst.years)
    out = np.zeros((J, K, T), dtype=int)
    stock = inst.stock0.astype(int).copy()
    zero = np.zeros((J, K, T), dtype=int)
    for t in range(T):
        out[:, :, t] = rng.binomial(np.maximum(stock, 0), inst.rates)
        # the stock at the end of year t under this draw so far (later years drawn on it)
        stock = trajectory(inst, sched, np.where(np.arange(T)[None, None, :] <= t, out, zero)).stock[:, :, t]
    return out


def met_probability(inst: Instance, sched: Schedule, on: tuple[str, ...], draws: int, seed: int) -> dict[str, list[float]]:
    """target -> per year, the share of `draws` replays in which it is met."""
    met = {key: np.zeros(len(inst.years)) for key in on}
    for d in range(draws):
        rng = np.random.default_rng(seed + 1000 + d)
        tr = trajectory(inst, sched, drawn_leavers(inst, sched, rng))
        for key in on:
            met[key] += station_shortfall(inst, tr, key).sum(axis=0) == 0
    return {key: [round(float(v) / draws, 6) for v in met[key]] for key in on} if draws else {}
