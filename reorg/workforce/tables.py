"""The plan's tables: plan/stations.csv, plan/years.csv and plan/summary.json (issue 13 point 4).

stations.csv: one row per open station, cadre and year: stock_previous (the year before; the
run's placed staff for the first year), hires, leavers, transfers_in, transfers_out (doctors),
rotations (doctors rotated in from a centre for the year; present, not on the payroll), stock
(= stock_previous + hires + transfers_in - transfers_out - leavers), upgraded (main station meeting
the national criteria that year), upgrade_works (1 in the year of the works).
years.csv: per year: staff, doctors, hires, leavers, transfers, rotations, upgrade works, each cost
in million VND (recurrent: salaries and allowances of the plan's hires, rotations; capital:
upgrades and new stations) with cost_total = their sum, the budgets, and for every target its
shortfall, share met and met (0/1), and with draws its probability of being met.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..schema import CADRES
from .evaluate import DOC, station_shortfall, units
from .planner import PlanResult
from .targets import BY_KEY

MONEY_DIGITS = 3  # million VND to the thousand VND


def stations_table(plan: PlanResult) -> pd.DataFrame:
    inst, tr, sched = plan.inst, plan.trajectory, plan.schedule
    J, K, T = len(inst.codes), len(CADRES), len(inst.years)
    prev = np.concatenate([inst.stock0[:, :, None], tr.stock[:, :, :-1]], axis=2)
    t_in = np.zeros((J, K, T), dtype=int)
    t_out = np.zeros((J, K, T), dtype=int)
    t_in[:, DOC, :], t_out[:, DOC, :] = tr.transfers_in, tr.transfers_out
    rot = np.zeros((J, K, T), dtype=int)
    rot[:, DOC, :] = tr.rotated
    upgraded = np.repeat(tr.upgraded[:, None, :], K, axis=1)
    works = np.repeat(sched.upgrades[:, None, :], K, axis=1)
    grid = np.meshgrid(np.arange(J), np.arange(K), np.arange(T), indexing="ij")
    jj, kk, tt = (g.ravel() for g in grid)
    frame = pd.DataFrame(
        {
            "station_code": np.array(inst.codes, dtype=object)[jj],
            "new_code": inst.new_code[jj],
            "role": np.where(inst.main[jj], "main", "point"),
            "year": np.array(inst.years)[tt],
            "cadre": np.array(CADRES, dtype=object)[kk],
            "stock_previous": prev.ravel(),
            "hires": sched.hires.ravel(),
            "leavers": tr.leavers.ravel(),
            "transfers_in": t_in.ravel(),
            "transfers_out": t_out.ravel(),
            "rotations": rot.ravel(),
            "stock": tr.stock.ravel(),
            "upgraded": upgraded.ravel().astype(int),
            "upgrade_works": works.ravel(),
        }
    )
    return frame.sort_values(["station_code", "year", "cadre"], kind="stable", key=_cadre_order).reset_index(drop=True)


def _cadre_order(col: pd.Series) -> pd.Series:
    return col.map({c: i for i, c in enumerate(CADRES)}) if col.name == "cadre" else col


def costs(plan: PlanResult) -> pd.DataFrame:
    """Each year's costs by kind (million VND), recomputed from the plan."""
    inst, sched = plan.inst, plan.schedule
    cum = np.cumsum(sched.hires, axis=2)  # J x K x T persons hired so far
    salaries = np.einsum("jkt,k->t", cum, inst.salary)
    allowances = np.einsum("jkt,jk->t", cum, inst.allowance)
    rotations = sched.rotations.sum(axis=0) * inst.params["plan_rotation_cost_mvnd"]
    works = sched.upgrades * inst.capex[:, None]
    upgrades = works[~inst.new_site].sum(axis=0)
    new_sites = works[inst.new_site].sum(axis=0)
    frame = pd.DataFrame(
        {
            "cost_salaries_mvnd": salaries,
            "cost_allowances_mvnd": allowances,
            "cost_rotations_mvnd": rotations,
            "cost_upgrades_mvnd": upgrades,
            "cost_new_stations_mvnd": new_sites,
        }
    ).round(MONEY_DIGITS)
    recurrent = ["cost_salaries_mvnd", "cost_allowances_mvnd", "cost_rotations_mvnd"]
    frame["cost_recurrent_mvnd"] = frame[recurrent].sum(axis=1).round(MONEY_DIGITS)
    frame["cost_capital_mvnd"] = (frame["cost_upgrades_mvnd"] + frame["cost_new_stations_mvnd"]).round(MONEY_DIGITS)
    frame["cost_total_mvnd"] = (frame["cost_recurrent_mvnd"] + frame["cost_capital_mvnd"]).round(MONEY_DIGITS)
    return frame


def years_table(plan: PlanResult) -> pd.DataFrame:
    inst, tr, sched = plan.inst, plan.trajectory, plan.schedule
    p = inst.params
    frame = pd.DataFrame(
        {
            "year": inst.years,
            "staff": tr.stock.sum(axis=(0, 1)),
            "doctors": tr.stock[:, DOC, :].sum(axis=0),
            "hires": sched.hires.sum(axis=(0, 1)),
            "leavers": tr.leavers.sum(axis=(0, 1)),
            "transfers": tr.moved.sum(axis=0),
            "rotations": sched.rotations.sum(axis=0),
            "upgrade_works": sched.upgrades.sum(axis=0),
        }
    )
    frame = pd.concat([frame, costs(plan)], axis=1)
    frame["budget_recurrent_mvnd"] = p["plan_budget_recurrent_mvnd"]
    frame["budget_capital_mvnd"] = p["plan_budget_capital_mvnd"]
    for key in plan.settings.targets:
        short = station_shortfall(inst, tr, key).sum(axis=0)
        base = max(units(inst, key), 1)
        frame[f"shortfall_{key}"] = short
        frame[f"met_share_{key}"] = np.round(1.0 - short / base, 6)
        frame[f"met_{key}"] = (short == 0).astype(int)
        if plan.probabilities:
            frame[f"probability_{key}"] = plan.probabilities[key]
    return frame


def first_met(years: pd.DataFrame, key: str) -> int | None:
    """The first year from which target `key` holds in every later year of the plan."""
    met = years[f"met_{key}"].to_numpy()
    for t in range(len(met)):
        if met[t:].all():
            return int(years["year"].iloc[t])
    return None


def summary(plan: PlanResult, years: pd.DataFrame, *, synthetic_roster: bool, scenario: dict[str, Any]) -> dict[str, Any]:
    inst, p = plan.inst, plan.inst.params
    targets = []
    for a in plan.answers:
        t_def = BY_KEY[a.target]
        deadline_row = years.loc[years["year"] == a.deadline]
        targets.append(
            {
                "target": a.target,
                "deadline": a.deadline,
                "value": p[t_def.value_param] if t_def.value_param else None,
                "hard": a.target in plan.settings.hard,
                "units": units(inst, a.target),
                "met_in_plan_from": first_met(years, a.target),
                "met_by_deadline_in_plan": bool(deadline_row[f"met_{a.target}"].iloc[0]) if len(deadline_row) else None,
                "shortfall_at_deadline_in_plan": int(deadline_row[f"shortfall_{a.target}"].iloc[0])
                if len(deadline_row)
                else None,
                "earliest_year": a.earliest_year,
                "least_budget_mvnd_per_year": None if a.least_budget_mvnd is None else round(a.least_budget_mvnd, MONEY_DIGITS),
                "short_at_any_budget": None if a.short_by is None else round(a.short_by, 6),
                "beyond_horizon": a.beyond_horizon,
                "undecided": a.undecided,
                "probability_met": plan.probabilities.get(a.target),
            }
        )
    records = [r.summary() for r in plan.schedule.records] + [r.summary() for a in plan.answers for r in a.records]
    # the plan's own gap per stage: its parts' plans and bounds added up (solve.solve_plan solves them apart)
    stages: dict[str, list[float]] = {}
    for r in plan.schedule.records:
        if r.stage and r.objective is not None and r.best_bound is not None and r.status != "infeasible":
            acc = stages.setdefault(r.stage, [0.0, 0.0])
            acc[0] += r.objective
            acc[1] += r.best_bound
    plan_gap = {
        stage: {"objective": round(o, 6), "bound": round(b, 6), "relative_gap": round(abs(o - b) / max(abs(o), 1e-9), 9)}
        for stage, (o, b) in stages.items()
    }
    return {
        "reorg_version": __version__,
        "scenario": scenario,
        "synthetic_roster": synthetic_roster,
        "years": inst.years,
        "stations": len(inst.codes),
        "main_stations": int(inst.main.sum()),
        "population": round(inst.population),
        "graduates_per_year": inst.graduates,
        "doctors_per_10k_count": inst.per10k_count,
        "leavers_expected": {c: int(inst.leavers[:, k, :].sum()) for k, c in enumerate(CADRES)},
        "budgets_mvnd_per_year": {"recurrent": p["plan_budget_recurrent_mvnd"], "capital": p["plan_budget_capital_mvnd"]},
        "draws": plan.settings.draws,
        "nearest_feasible": plan.nearest,
        "diagnosis": plan.diagnosis,
        "targets": targets,
        "totals": {
            "hires": int(plan.schedule.hires.sum()),
            "leavers": int(plan.trajectory.leavers.sum()),
            "transfers": int(plan.trajectory.moved.sum()),
            "rotations": int(plan.schedule.rotations.sum()),
            "upgrade_works": int(plan.schedule.upgrades.sum()),
            "cost_total_mvnd": round(float(years["cost_total_mvnd"].sum()), MONEY_DIGITS),
        },
        "parameters": {k: v for k, v in sorted(p.items()) if k.startswith("plan_")},
        "plan_gap": plan_gap,
        "solver": records,
    }


def write_plan(result: Any, folder: Path) -> dict[str, Any]:
    """Write plan/stations.csv, plan/years.csv and plan/summary.json into `folder`; returns the summary."""
    plan = result.workforce
    if plan is None:
        raise ValueError("the run has no plan over years")
    folder.mkdir(parents=True, exist_ok=True)
    stations_table(plan).to_csv(folder / "stations.csv", index=False, lineterminator="\n")
    years = years_table(plan)
    years.to_csv(folder / "years.csv", index=False, lineterminator="\n")
    sc = result.scenario
    info = {"name": sc.name, "title": sc.title, "province": sc.province, "seed": sc.seed, "lang": sc.lang}
    out = summary(plan, years, synthetic_roster=result.synthetic_roster, scenario=info)
    (folder / "summary.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return out
