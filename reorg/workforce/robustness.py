"""Robustness (issue 13 point 6): the plan fixed, the leavers drawn.

Each of `draws` replays (seed + 1000 + draw) draws every year, for each station and cadre, the
leavers among the staff then in post (hires included) as Binomial(stock, rate) with the model's
rates (instance.rates); hires, rotations and upgrades are kept, transfers shrink when the sending
station no longer has the doctors (evaluate.trajectory). The result: for each target and year, the
share of draws in which the target is met (shortfall 0).
"""

from __future__ import annotations

import numpy as np

from .evaluate import station_shortfall, trajectory
from .instance import Instance
from .model import Schedule


def met_probability(inst: Instance, sched: Schedule, on: tuple[str, ...], draws: int, seed: int) -> dict[str, list[float]]:
    """target -> per year, the share of `draws` replays in which it is met."""
    met = {key: np.zeros(len(inst.years)) for key in on}
    for d in range(draws):
        rng = np.random.default_rng(seed + 1000 + d)

        def draw(stock: np.ndarray, rng: np.random.Generator = rng) -> np.ndarray:
            return rng.binomial(np.maximum(stock, 0), inst.rates)

        tr = trajectory(inst, sched, np.zeros_like(inst.leavers), draw=draw)
        for key in on:
            met[key] += station_shortfall(inst, tr, key).sum(axis=0) == 0
    return {key: [round(float(v) / draws, 6) for v in met[key]] for key in on} if draws else {}
