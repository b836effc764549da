"""Rules as small named functions a scenario can switch and a report can cite."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike


def staff_norm(population: float, region: str, params: dict) -> int:
    """Circular 03/2023/TT-BYT staffing norm of one station (persons).

    N = ceil((base + steps) x coefficient), where steps = ceil((population - threshold) / step)
    above the region's threshold (regions I/II: 6,000 and one per 2,500; region III: 5,000 and one
    per 1,000) and the coefficient is 1.0 / 1.2 / 1.3 for regions I / II / III (DOMAIN.md 1D; the
    order of application is the documented assumption).
    """
    if region == "III":
        threshold, step = params["norm_pop_threshold_region_III"], params["norm_pop_step_region_III"]
    else:
        threshold, step = params["norm_pop_threshold_region_I_II"], params["norm_pop_step_region_I_II"]
    extra = math.ceil((population - threshold) / step) if population > threshold else 0
    coef = params[f"geo_coef_region_{region}"]
    return int(math.ceil(round((params["staff_base"] + extra) * coef, 9)))


def staff_norms(population: Iterable[float], region: Iterable[str], params: dict) -> np.ndarray:
    """`staff_norm` of each station (population and region of each, in order)."""
    return np.array([staff_norm(p, r, params) for p, r in zip(population, region)], dtype=int)


def weighted_gini(values: ArrayLike, weights: ArrayLike) -> float:
    """Gini coefficient of `values` across people (each value weighted by its population)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = np.isfinite(v) & (w > 0)
    v, w = v[keep], w[keep]
    if len(v) == 0 or v.sum() == 0:
        return 0.0
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cw = np.cumsum(w)
    cvw = np.cumsum(v * w)
    total_w, total_vw = cw[-1], cvw[-1]
    # area under the Lorenz curve by trapezoids
    lorenz = cvw / total_vw
    prev = np.concatenate([[0.0], lorenz[:-1]])
    area = np.sum((w / total_w) * (lorenz + prev) / 2.0)
    return float(1.0 - 2.0 * area)
