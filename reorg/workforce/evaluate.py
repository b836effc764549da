"""A plan's trajectory: stock, presence, upgrades and every target's shortfall, year by year.

`trajectory` replays a schedule (model.Schedule) against a leavers array: the model's own
deterministic leavers (the same numbers the MIP used) or seeded draws (robustness.py). Within a
year: leavers go first, then hires arrive and transfers move doctors (a transfer moves at most the
doctors the sending station still has beyond its first, so a draw can shrink it), rotated doctors
are present for the year; an upgrade counts from the next year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..schema import CADRES
from .instance import Instance
from .model import Schedule
from .targets import BY_KEY

DOC = CADRES.index("doctor")
AD = CADRES.index("assistant_doctor")


@dataclass
class Trajectory:
    stock: np.ndarray  # J x K x T, after the year's flows
    leavers: np.ndarray  # J x K x T
    transfers_in: np.ndarray  # J x T (doctors)
    transfers_out: np.ndarray  # J x T
    rotated: np.ndarray  # J x T doctors rotated in from centres
    upgraded: np.ndarray  # bool J x T: meets the national criteria in that year
    moved: np.ndarray  # A x T transfers as carried out


def trajectory(
    inst: Instance, sched: Schedule, leavers: np.ndarray, draw: Callable[[np.ndarray], np.ndarray] | None = None
) -> Trajectory:
    """The plan replayed against `leavers` (J x K x T), or, with `draw`, against the leavers
    `draw(stock at the start of the year)` gives each year (robustness.py)."""
    J, K, T = len(inst.codes), len(CADRES), len(inst.years)
    stock = np.zeros((J, K, T), dtype=int)
    t_in, t_out = np.zeros((J, T), dtype=int), np.zeros((J, T), dtype=int)
    moved = np.zeros_like(sched.transfers)
    leavers = leavers.copy()
    prev = inst.stock0.astype(int).copy()
    for t in range(T):
        if draw is not None:
            leavers[:, :, t] = draw(prev)
        cur = prev - np.minimum(leavers[:, :, t], prev) + sched.hires[:, :, t]
        left = leavers[:, :, t].copy()
        np.minimum(left, prev, out=left)
        leavers[:, :, t] = left
        spare = np.maximum(prev[:, DOC] - left[:, DOC] - 1, 0)
        for a, (i, j) in enumerate(inst.arcs):
            n = int(sched.transfers[a, t])
            if n:
                n = min(n, int(spare[i]))
                spare[i] -= n
                moved[a, t] = n
                cur[i, DOC] -= n
                cur[j, DOC] += n
                t_out[i, t] += n
                t_in[j, t] += n
        stock[:, :, t] = cur
        prev = cur
    rotated = np.zeros((J, T), dtype=int)
    for r, (_c, j) in enumerate(inst.rotation_arcs):
        rotated[j] += sched.rotations[r]
    done = np.cumsum(sched.upgrades, axis=1) - sched.upgrades  # works of earlier years
    upgraded = inst.upgraded0[:, None] | (done > 0)
    return Trajectory(stock, leavers, t_in, t_out, rotated, upgraded & inst.main[:, None], moved)


def station_shortfall(inst: Instance, tr: Trajectory, key: str) -> np.ndarray:
    """Shortfall of target `key` at each station (J x T; the province's target on row 0 only)."""
    J, T = len(inst.codes), len(inst.years)
    p = inst.params
    doc = tr.stock[:, DOC, :]
    present = doc + tr.rotated
    main = inst.main[:, None]
    if key == "norm":
        return np.maximum(inst.norm[:, None] - tr.stock.sum(axis=1), 0)
    if key == "titles":
        return (
            (present + tr.stock[:, AD, :] < 1).astype(int)
            + (tr.stock[:, CADRES.index("nurse"), :] < 1)
            + (tr.stock[:, CADRES.index("midwife"), :] < 1)
        )
    if key in ("doctors_min_main", "res72_doctors"):
        need = p[BY_KEY[key].value_param or ""]
        return np.where(main, np.maximum(need - present, 0), 0)
    if key == "permanent_doctor":
        return np.where(main, np.maximum(1 - doc, 0), 0)
    if key == "upgraded":
        return np.where(main & ~tr.upgraded, 1, 0)
    if key == "doctors_per_10k":
        out = np.zeros((J, T), dtype=int)
        out[0] = np.maximum(inst.per10k_count - doc.sum(axis=0), 0)
        return out
    raise KeyError(key)


def units(inst: Instance, key: str) -> int:
    """How many units the target counts (stations x titles, or the province's doctors): the base of
    its share met."""
    main = int(inst.main.sum())
    return {
        "norm": int(inst.norm.sum()),
        "titles": 3 * len(inst.codes),
        "doctors_min_main": main * int(inst.params["doctors_min_main_station"]),
        "res72_doctors": main * int(inst.params["plan_res72_doctors"]),
        "permanent_doctor": main,
        "upgraded": main,
        "doctors_per_10k": inst.per10k_count,
    }[key]
