"""The plan over years from a run: the model's plan, the diagnosis of hard targets, the answers per
target and the robustness draws, in one `PlanResult` (tables.py writes it)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import InputError, Problem
from ..schema import CADRES
from . import answers as answer_defs
from . import instance as instance_defs
from .evaluate import Trajectory, station_shortfall, trajectory
from .model import Schedule
from .robustness import met_probability
from .solve import solve_plan
from .targets import BY_KEY, DENSITY_PATH, PlanSettings


@dataclass
class PlanResult:
    settings: PlanSettings
    inst: instance_defs.Instance
    schedule: Schedule
    trajectory: Trajectory
    answers: list[answer_defs.Answer]
    probabilities: dict[str, list[float]] = field(default_factory=dict)
    diagnosis: list[dict] = field(default_factory=list)  # hard targets the nearest feasible plan misses
    nearest: bool = False  # the hard targets cannot all hold: this is the plan nearest to them

    def shortfall(self, key: str) -> np.ndarray:
        """Target `key`'s shortfall per station and year in the plan."""
        return station_shortfall(self.inst, self.trajectory, key)


def supply_problems(inst: instance_defs.Instance, file: str) -> list[Problem]:
    """A cadre whose derived graduates per year round to zero: a supply of zero, named by the
    parameters it was derived from."""
    out = []
    for c in CADRES:
        if inst.graduates[c] == 0 and inst.params[f"plan_graduates_{c}"] == -1:
            via = f"{DENSITY_PATH[c]}_2030" if c in DENSITY_PATH else "plan_graduates_per_100k"
            out.append(Problem.of("plan_zero_supply_derived", file=file, field=f"params.plan_graduates_{c}", via=via))
    return out


def make_plan(
    result: Any,
    settings: PlanSettings,
    *,
    stage: Callable[[str], AbstractContextManager[object]] | None = None,
) -> PlanResult:
    """The plan for `result`'s province under `settings`. `stage(name)`: a context manager timing
    each step (pipeline.Progress.stage)."""
    stage = stage or (lambda name: nullcontext())
    with stage("plan:data"):
        inst = instance_defs.build(result)
        problems = supply_problems(inst, result.scenario.source)
        if problems:
            raise InputError(problems)
    with stage("plan:model"):
        sched = solve_plan(inst, on=settings.targets, hard=settings.hard)
        nearest, diagnosis = False, []
        if not sched.feasible and settings.hard:
            nearest = True
            relaxed = solve_plan(inst, on=settings.targets)
            relaxed.records = sched.records + relaxed.records
            sched = relaxed
    tr = trajectory(inst, sched, inst.leavers)
    if nearest:
        for key in settings.hard:
            short = station_shortfall(inst, tr, key).sum(axis=0)
            deadline = int(inst.params[BY_KEY[key].deadline_param])
            for t, year in enumerate(inst.years):
                if year >= deadline and short[t] > 0:
                    diagnosis.append({"target": key, "year": year, "short_by": int(short[t])})
    answers = []
    with stage("plan:answers"):
        for key in settings.targets:
            answers.append(answer_defs.answer(inst, key))
    probabilities = {}
    if settings.draws:
        with stage("plan:draws"):
            probabilities = met_probability(inst, sched, settings.targets, settings.draws, inst.seed)
    return PlanResult(settings, inst, sched, tr, answers, probabilities, diagnosis, nearest)
