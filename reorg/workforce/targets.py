"""The plan's targets (issue 13; DOMAIN.md 1D, 1E, 1F), and the checks of a scenario's `[plan]` table.

Each target is a named rule with a deadline year (a parameter) and, where it has one, a value (a
parameter); its words are in the message files' `[plan_target]` section. A target is *met* in a year
when its shortfall that year is zero:

    norm              every open station has its Circular 03 staff norm (persons on the payroll)
    titles            every open station has a doctor or an assistant doctor (rotated doctors count),
                      a nurse and a midwife (Circular 03's required titles; one missing title = 1)
    doctors_min_main  every main station has `doctors_min_main_station` doctors (rotated ones count)
    res72_doctors     every main station has `plan_res72_doctors` doctors (rotated ones count)
    permanent_doctor  every main station has a doctor of its own (rotated doctors do not count)
    upgraded          every main station meets the national criteria (upgraded)
    doctors_per_10k   the province's station doctors reach `plan_doctors_per_10k_2030` x
                      `plan_commune_post_share` per 10,000 residents (the commune share of the
                      national target)

The scenario's `[plan]` table:

    [plan]
    targets = ["norm", "titles", ...]   # the targets on (default: all)
    hard = ["doctors_min_main"]         # targets that must hold from their deadline (default: none)
    draws = 0                           # replays of the plan against seeded draws of leavers (--draws)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import InputError, Problem, did_you_mean
from ..schema import CADRES


@dataclass(frozen=True)
class Target:
    key: str
    deadline_param: str
    value_param: str | None  # the parameter giving its value, None for a yes/no target
    scope: str  # "open" (every open station), "main" (main stations) or "province"
    cadres: tuple[str, ...]  # the cadres it counts (none: upgrades)
    rotation_counts: bool  # whether doctors rotated from a centre count towards it


TARGETS: tuple[Target, ...] = (
    Target("norm", "plan_norm_year", None, "open", CADRES, False),
    Target("titles", "plan_titles_year", None, "open", ("doctor", "assistant_doctor", "nurse", "midwife"), True),
    Target("doctors_min_main", "plan_doctors_min_main_year", "doctors_min_main_station", "main", ("doctor",), True),
    Target("res72_doctors", "plan_res72_doctors_year", "plan_res72_doctors", "main", ("doctor",), True),
    Target("permanent_doctor", "plan_permanent_doctor_year", None, "main", ("doctor",), False),
    Target("upgraded", "plan_upgraded_year", None, "main", (), False),
    Target("doctors_per_10k", "plan_doctors_per_10k_year", "plan_doctors_per_10k_2030", "province", ("doctor",), False),
)
BY_KEY: dict[str, Target] = {t.key: t for t in TARGETS}
#: targets on the same quantity (doctors at every main station): a later one asking for fewer is a contradiction
SAME_QUANTITY = (("doctors_min_main", "res72_doctors"),)
PLAN_KEYS = ("targets", "hard", "draws")


@dataclass(frozen=True)
class PlanSettings:
    """What the `[plan]` table asks: the targets on (in `TARGETS` order), the hard ones, the draws."""

    targets: tuple[str, ...]
    hard: tuple[str, ...]
    draws: int = 0


def settings(table: Any, params: dict, *, file: str) -> PlanSettings:
    """`[plan]` (a dict, or None for the defaults) checked against `params`: InputError naming the key."""
    table = {} if table is None else table
    if not isinstance(table, dict):
        raise InputError(Problem.of("expected_table", file=file, field="plan", value=table))
    problems = [
        Problem.of("unknown_key", file=file, field=f"plan.{k}", hint=did_you_mean(k, PLAN_KEYS))
        for k in table
        if k not in PLAN_KEYS
    ]
    lists = {}
    for key, default in (("targets", [t.key for t in TARGETS]), ("hard", [])):
        value = table.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(Problem.of("plan_expected_list", file=file, field=f"plan.{key}", value=value))
            continue
        for v in value:
            if v not in BY_KEY:
                problems.append(
                    Problem.of("plan_unknown_target", file=file, field=f"plan.{key}", value=v, choices=", ".join(BY_KEY))
                )
        lists[key] = [v for v in value if v in BY_KEY]
    draws = table.get("draws", 0)
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 0:
        problems.append(Problem.of("expected_whole", file=file, field="plan.draws", value=draws))
    if problems:
        raise InputError(problems)
    on = tuple(t.key for t in TARGETS if t.key in lists["targets"])
    hard = tuple(t.key for t in TARGETS if t.key in lists["hard"])
    for key in hard:
        if key not in on:
            problems.append(Problem.of("plan_hard_not_on", file=file, field="plan.hard", value=key))
    problems += check_params(params, on, file=file)
    if problems:
        raise InputError(problems)
    return PlanSettings(targets=on, hard=hard, draws=int(draws))


def check_params(params: dict, on: tuple[str, ...], *, file: str) -> list[Problem]:
    """Years, budgets, supplies and targets that cannot make a plan, each naming its parameter."""
    start, end = params["plan_start_year"], params["plan_end_year"]
    problems = []
    if end < start:
        problems.append(Problem.of("plan_years_reversed", file=file, field="params.plan_end_year", start=start, end=end))
    for key in on:
        name = BY_KEY[key].deadline_param
        if params[name] < start:
            problems.append(
                Problem.of("plan_deadline_before_start", file=file, field=f"params.{name}", value=params[name], start=start)
            )
    for name in ("plan_budget_recurrent_mvnd", "plan_budget_capital_mvnd"):
        if params[name] < 0 and params[name] != -1:
            problems.append(Problem.of("plan_negative_budget", file=file, field=f"params.{name}", value=params[name]))
    for c in CADRES:
        if params[f"plan_graduates_{c}"] == 0:
            problems.append(Problem.of("plan_zero_supply", file=file, field=f"params.plan_graduates_{c}"))
    if params["plan_graduates_per_100k"] == 0 and any(params[f"plan_graduates_{c}"] == -1 for c in DERIVED_PER_100K):
        problems.append(Problem.of("plan_zero_supply", file=file, field="params.plan_graduates_per_100k"))
    if params["plan_commune_post_share"] == 0:
        problems.append(Problem.of("plan_zero_supply", file=file, field="params.plan_commune_post_share"))
    for first, later in SAME_QUANTITY:
        if first in on and later in on:
            a, b = BY_KEY[first], BY_KEY[later]
            va, vb = params[a.value_param or ""], params[b.value_param or ""]
            if params[b.deadline_param] >= params[a.deadline_param] and vb < va:
                problems.append(
                    Problem.of(
                        "plan_targets_contradict",
                        file=file,
                        field=f"params.{b.value_param}",
                        later=later,
                        later_value=vb,
                        later_year=params[b.deadline_param],
                        first=first,
                        first_value=va,
                        first_year=params[a.deadline_param],
                    )
                )
    return problems


#: cadres with no national per-10,000 path: graduates from `plan_graduates_per_100k`
DERIVED_PER_100K = ("assistant_doctor", "midwife", "other")
#: cadres whose graduates follow Decision 201's national path: the parameters' stem
DENSITY_PATH = {"doctor": "plan_doctors_per_10k", "nurse": "plan_nurses_per_10k", "pharmacist": "plan_pharmacists_per_10k"}


def graduates(params: dict, population: float) -> dict[str, int]:
    """Graduates per year and cadre who take commune posts in a province of `population`: the
    parameter when given (not -1), else the national path's yearly growth (Decision 201, 2025 to
    2030) x `plan_commune_post_share` x population / 10,000, or `plan_graduates_per_100k`."""
    out = {}
    for c in CADRES:
        given = params[f"plan_graduates_{c}"]
        if given != -1:
            out[c] = int(given)
        elif c in DENSITY_PATH:
            stem = DENSITY_PATH[c]
            growth = (params[f"{stem}_2030"] - params[f"{stem}_2025"]) / 5.0
            out[c] = max(0, round(growth * params["plan_commune_post_share"] * population / 10_000))
        else:
            out[c] = max(0, round(params["plan_graduates_per_100k"] * population / 100_000))
    return out


def doctors_per_10k_count(params: dict, population: float) -> int:
    """The station doctors the doctors-per-10,000 target asks of a province of `population`."""
    import math

    return math.ceil(params["plan_doctors_per_10k_2030"] * params["plan_commune_post_share"] * population / 10_000 - 1e-9)
