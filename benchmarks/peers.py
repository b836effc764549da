"""Peer comparison: reorg's catchment model vs spopt's PMedian (CBC through PuLP), same instance.

    .venv/bin/python benchmarks/peers.py [--geodata DIR] [--instances small hcmc national]
        [--repeat 5] [--repeat-large 3] [--time-limit 1200] [--no-write] [--json FILE]

Every instance is a p-median of the regional centre catchments built from the real pack by reorg's
own stages: clients = new communes (P_c residents), facilities = regional centres (one per old
district), cost = person-minutes A[c, k] (reorg.optimise.catchments.instance of the network
stage's door-to-door minutes). Instances (`--instances`):

- `small`: the uncapacitated p-median of Nghệ An (40) and Thanh Hóa (38), p = half the centres.
- `hcmc`: Hồ Chí Minh City (79), the capacitated catchment model exactly as reorg's own run with
  `policy.catchments=optimise` builds it: A, P, capacities (old district population x (1 +
  `centre_capacity_slack`)), `capacity_penalty_per_person` (rho) and p = `centres_kept` (-1: all
  centres) are captured from the arguments reorg's pipeline passes to its catchment solver (its
  objective is checked against the pipeline's own record). reorg's model has a soft capacity
  (e_k >= load_k - cap_k, rho x sum e_k in the objective); spopt's capacitated PMedian has a hard one
  (load_k <= cap_k y_k). spopt gets the identical formulation: its own model from
  `PMedian.from_cost_matrix(cost, P, p_facilities=p, facility_capacities=cap)`, then one
  continuous e_k >= 0 added to its capacity row k and rho x sum e_k to its objective
  (peer_spopt_worker.add_soft_capacity). With p = all centres, reorg's y_k = 1 and spopt's
  sum y = p are the same constraint.
- `hcmc-hard` (not in the default list: CBC needs minutes on it): the same HCMC data with spopt's
  stock capacitated p-median (hard capacity, nothing added) against reorg's model with
  rho = `HARD_PENALTY`. Equivalence is proven per run, not assumed: every plan with no resident
  above capacity has the same objective in both models, and the soft model admits more plans, so
  soft optimum <= hard optimum; when reorg's proven-optimal soft plan has no resident above
  capacity it is feasible for the hard model, hence optimal there too and the optima are equal.
  The table says whether that held (excess persons of reorg's plan = 0).
- `national`: the uncapacitated p-median of the whole country: the 3,321 new communes x the 691
  regional centres, p = 345. reorg's minutes are per province (its network is a province's graph);
  the national matrix takes them as they are for a commune and a centre in the same province, and
  for a pair in different provinces it uses the rule of one of reorg's road edges (network.py):
  great-circle km x `circuity_factor` at each end's terrain speed (half the way each), from the
  demand part's node (the old commune's point, or the part's own point) to the centre's seat, plus
  the part's within-commune access minutes. Both sides get this same matrix. reorg runs
  solve_catchments: its Lagrangian p-median stalls at a relative gap near 1e-4 here, so it goes on
  to Lagrangian reduced-cost fixing and a MIP on the surviving variables (catchments.
  reduced_cost_fixing, restricted_p_median), whose optimum is proven optimal for the full problem;
  the row's note gives the variables kept of the 2.3 M. `--national-lagrangian` runs the
  Lagrangian alone instead (`reorg_lagrangian`: bounds only, no proof when the gap stays open).
  spopt builds the full model (2.3 M variables) in PuLP and hands it to CBC; `--wall-limit`
  stops it.

Solvers:
- reorg: `reorg_catchments` (the single call into reorg.optimise.catchments.solve_catchments; an
  uncapacitated instance gets capacity 1e12 per centre so reorg takes its Lagrangian p-median path,
  with the MIP as fallback) in this process; timed: model building + solve.
- spopt: peer_spopt_worker.py in a separate process and venv (benchmarks/.venv-peers, made here from
  benchmarks/requirements-peers.txt when missing); spopt's cost is A / P with weights P, so its
  objective sum P x A / P = sum A is the same person-minutes; timed: model building + solve, after
  imports. spopt and reorg share `--time-limit` (CBC's `-sec`; reorg's `solver_time_limit_s`).

For each instance the two solvers run back to back, `--repeat` (small instances) or `--repeat-large`
(hcmc, hcmc-hard, national) times, alternating; the medians are reported with the load average seen.
Prints a Markdown table and writes it, with the command line, into benchmarks/RESULTS.md between
`<!-- peers:start -->` and `<!-- peers:end -->`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from unittest import mock

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

PEER_VENV = HERE / ".venv-peers"
REQUIREMENTS = HERE / "requirements-peers.txt"
WORKER = HERE / "peer_spopt_worker.py"
RESULTS = HERE / "RESULTS.md"
START, END = "<!-- peers:start -->", "<!-- peers:end -->"
HEADING = "## Peer comparison: catchment models vs spopt PMedian (CBC)"
TARGET_SPEEDUP = 20.0
EQUAL_RTOL = 1e-6
UNCAPACITATED = 1e12  # capacity per centre that cannot bind: reorg's Lagrangian p-median path
HARD_PENALTY = 1e4  # person-minutes per resident above capacity in the `hcmc-hard` instance
NATIONAL_P = 345
HCMC = "79"
NATIONAL_SPOPT_EARLIER = (  # an attempt made by hand before this script could stop spopt; not measured by it
    "an earlier spopt + CBC attempt on this instance (2026-11-30, run by a colleague outside this script): PuLP built the "
    "model in about 9 minutes, then CBC ran 27 minutes without returning despite its 1,200 s limit and was stopped "
    "(no plan, no gap)"
)
SMALL = ("40", "38")


# --- the one call into reorg's catchment solver (adjust here when its return type changes) -------------


def unpack_catchments(out) -> dict:
    """What solve_catchments returned, as the fields this benchmark reads."""
    assign, rec = out.assign, out.record  # a CatchmentsResult: the plan and its solve record
    terms = rec.get("terms") or {}
    return {
        "assign": assign,
        "objective": rec["objective"],
        "solve_s": rec["seconds"],
        "status": rec["status"],
        "solver": rec["solver"],
        "relative_gap": rec.get("relative_gap"),
        "excess_persons": terms.get("excess_persons"),
        "variables": rec.get("variables"),
        "constraints": rec.get("constraints"),
        "method": rec.get("method"),
        "best_bound": rec.get("best_bound"),
        # the large uncapacitated path (Lagrangian, reduced-cost fixing, MIP on the survivors)
        "iterations": rec.get("lagrangian_iterations", rec.get("iterations")),
        "lagrangian_bound": rec.get("lagrangian_bound"),
        "lagrangian_plan": rec.get("lagrangian_plan"),
        "assignment_variables_kept": rec.get("assignment_variables_kept"),
        "assignment_variables_total": rec.get("assignment_variables_total"),
        "centres_closed": rec.get("centres_closed"),
        "centres_opened": rec.get("centres_opened"),
    }


def reorg_catchments(A: np.ndarray, P: np.ndarray, capacity: np.ndarray, params: dict, seed: int) -> dict:
    """reorg.optimise.catchments.solve_catchments(A, P, capacity, params=params, seed=seed), unpacked."""
    from reorg.optimise.catchments import solve_catchments

    out = unpack_catchments(solve_catchments(A, P, capacity, params=params, seed=seed))
    if out["method"] == "lagrangian + reduced-cost fixing + MIP":
        out["solver"] = f"reorg Lagrangian + reduced-cost fixing + restricted MIP ({out['solver']})"
    return out


def reorg_lagrangian(A: np.ndarray, p: int) -> dict:
    """reorg's uncapacitated fast path alone: reorg.optimise.catchments.p_median_lagrangian(A, p), the first
    thing solve_catchments runs on an uncapacitated instance; its MIP fallback is not run."""
    from reorg.optimise.catchments import LAGRANGIAN_GAP, p_median_lagrangian

    t = time.perf_counter()
    centres, lb, ub, iterations = p_median_lagrangian(A, p)
    seconds = time.perf_counter() - t
    gap = (ub - lb) / max(1.0, abs(ub))
    assign = np.asarray(centres)[np.argmin(A[:, centres], axis=1)]
    return {
        "assign": assign,
        "objective": float(ub),
        "best_bound": float(lb),
        "solve_s": seconds,
        "relative_gap": gap,
        "status": "optimal"
        if gap <= LAGRANGIAN_GAP
        else f"gap {gap:.1e} > {LAGRANGIAN_GAP:g}: solve_catchments would hand over to its MIP",
        "solver": "reorg Lagrangian p-median alone (p_median_lagrangian, MIP fallback not run)",
        "excess_persons": None,
        "iterations": int(iterations),
        "variables": None,
        "constraints": None,
    }


# ---------------------------------------------------------------------------------------------------


def peer_python() -> Path:
    """The peer venv's python; creates the venv and installs the requirements when missing or changed."""
    py = PEER_VENV / "bin" / "python"
    stamp = PEER_VENV / ".requirements.sha256"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if py.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return py
    print(f"creating {PEER_VENV.relative_to(ROOT)} (spopt, pulp) ...", file=sys.stderr)
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(want + "\n")
    return py


def province_run(code: str, geodata: str | None, sets: list[str] | None = None):
    """reorg's pipeline for one province (default scenario plus `sets`)."""
    import reorg.pipeline as pipeline
    from reorg.scenario import load_scenario

    return pipeline.run(load_scenario(None, sets=sets, province=code), geodata=geodata)


def small_instance(code: str, geodata: str | None) -> dict:
    from reorg.optimise.catchments import instance
    from reorg.params import defaults

    r = province_run(code, geodata)
    A, P = instance(r.reformed.demand, r.network.centre_minutes, r.network.centre_codes, r.reformed.new.index)
    p = A.shape[1] // 2
    return {
        "key": code,
        "label": f"{code} {r.pack.province_name}",
        "kind": "uncapacitated",
        "A": A,
        "P": P,
        "capacity": None,
        "penalty": None,
        "p": p,
        "params": dict(defaults(), centres_kept=p),
        "seed": 1,
        "large": False,
    }


def hcmc_instances(geodata: str | None, hard: bool) -> list[dict]:
    """HCMC's catchment model as reorg's own run (policy.catchments=optimise) passes it to its solver."""
    import reorg.optimise.catchments as catchments

    original = catchments.solve_catchments
    seen: list = []

    def capture(A, P, capacity, **kw):
        out = original(A, P, capacity, **kw)
        seen.append((np.array(A, dtype=float), np.array(P, dtype=float), np.array(capacity, dtype=float), dict(kw), out))
        return out

    with mock.patch.object(catchments, "solve_catchments", capture):
        r = province_run(HCMC, geodata, ["policy.catchments=optimise"])
    if len(seen) != 1:
        raise SystemExit(f"expected one catchment solve in reorg's HCMC run, saw {len(seen)}")
    A, P, cap, kw, out = seen[0]
    params, seed = dict(kw["params"]), int(kw["seed"])
    if params["contiguous_catchments"]:
        raise SystemExit("HCMC's run asks for contiguous catchments: spopt has no such constraint")
    K = A.shape[1]
    p = K if int(params["centres_kept"]) < 0 else min(int(params["centres_kept"]), K)
    params["centres_kept"] = p  # same model: p = K keeps every centre (y_k = 1 for all k)
    pipeline_objective = unpack_catchments(out)["objective"]
    base = {
        "A": A,
        "P": P,
        "capacity": cap,
        "p": p,
        "seed": seed,
        "large": True,
        "pipeline_objective": pipeline_objective,
        "label": f"{HCMC} {r.pack.province_name}",
    }
    rho = float(params["capacity_penalty_per_person"])
    rows = [dict(base, key="hcmc", kind=f"capacitated, soft (rho = {rho:g})", penalty=rho, params=params)]
    if hard:
        rows.append(
            dict(
                base,
                key="hcmc-hard",
                kind="capacitated, hard",
                penalty=None,
                params=dict(params, capacity_penalty_per_person=HARD_PENALTY),
            )
        )
    return rows


def _national_block(r) -> tuple[list, list, np.ndarray, np.ndarray, dict]:
    """One province: new commune codes, centre codes, (A_own, P) and what the cross-province rule needs."""
    from reorg.network import terrain_speed
    from reorg.optimise.catchments import instance

    params = r.scenario.params
    old, demand, net = r.reformed.old, r.reformed.demand, r.network
    A, P = instance(demand, net.centre_minutes, net.centre_codes, r.reformed.new.index)
    speed = dict(zip(old.index, terrain_speed(old["terrain"], params)))
    fallback = params["speed_mountain_kmh"] * params["season_speed_factor"]  # network.py's speed for parts without old commune
    own_node = (demand["old_code"] != "") & ~demand["split"].astype(bool)
    node_lon = np.where(own_node, demand["old_code"].map(old["pt_lon"]), demand["lon"]).astype(float)
    node_lat = np.where(own_node, demand["old_code"].map(old["pt_lat"]), demand["lat"]).astype(float)
    part_speed = np.array([speed.get(c, fallback) if c else fallback for c in demand["old_code"]], dtype=float)
    centres = r.centres.loc[net.centre_codes]
    parts = {
        "new_code": demand["new_code"].to_numpy(),
        "population": demand["population"].to_numpy(dtype=float),
        "lon": node_lon,
        "lat": node_lat,
        "speed": part_speed,
        "access": np.asarray(net.access_minutes, dtype=float),
        "centre_lon": centres["lon"].to_numpy(dtype=float),
        "centre_lat": centres["lat"].to_numpy(dtype=float),
        # an island special zone's synthetic centre has no host old commune (islands.py): the fallback
        "centre_speed": np.array([speed.get(h, fallback) for h in centres["host_old_code"]], dtype=float),
        "circuity": float(params["circuity_factor"]),
    }
    return list(r.reformed.new.index), list(net.centre_codes), A, P, parts


def national_instance(geodata: str | None, cache: Path | None, lagrangian_only: bool) -> dict:
    """The national uncapacitated p-median: every new commune x every regional centre, p = NATIONAL_P."""
    from reorg.load import province_table
    from reorg.network import haversine_km
    from reorg.params import defaults

    pack = Path(geodata) if geodata else None
    digest = (
        hashlib.sha256((Path(geodata) / "SHA256SUMS").read_bytes() + version("reorg").encode()).hexdigest()[:16]
        if geodata
        else ""
    )
    cached = cache / f"national-{digest}.npz" if cache and digest else None
    if cached and cached.exists():
        data = np.load(cached)
        A, P = data["A"], data["P"]
    else:
        blocks = [_national_block(province_run(code, geodata)) for code in province_table(pack).index]
        communes = [c for b in blocks for c in b[0]]
        centres = [k for b in blocks for k in b[1]]
        clon = np.concatenate([b[4]["centre_lon"] for b in blocks])
        clat = np.concatenate([b[4]["centre_lat"] for b in blocks])
        cspeed = np.concatenate([b[4]["centre_speed"] for b in blocks])
        A = np.zeros((len(communes), len(centres)))
        P = np.zeros(len(communes))
        row0 = col0 = 0
        for new_codes, centre_codes, A_own, P_own, parts in blocks:
            km = haversine_km(parts["lon"][:, None], parts["lat"][:, None], clon[None, :], clat[None, :]) * parts["circuity"]
            minutes = parts["access"][:, None] + 60.0 * (km / 2 / parts["speed"][:, None] + km / 2 / cspeed[None, :])
            idx = {c: i for i, c in enumerate(new_codes)}
            rows = np.array([idx[c] for c in parts["new_code"]])
            block = np.zeros((len(new_codes), len(centres)))
            np.add.at(block, rows, parts["population"][:, None] * minutes)
            block[:, col0 : col0 + len(centre_codes)] = A_own  # reorg's own network minutes inside the province
            A[row0 : row0 + len(new_codes)] = block
            P[row0 : row0 + len(new_codes)] = P_own
            row0, col0 = row0 + len(new_codes), col0 + len(centre_codes)
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cached, A=A, P=P)
    return {
        "key": "national",
        "label": "Việt Nam (34 provinces)",
        "kind": "uncapacitated",
        "A": A,
        "P": P,
        "capacity": None,
        "penalty": None,
        "p": NATIONAL_P,
        "params": dict(defaults(), centres_kept=NATIONAL_P),
        "seed": 1,
        "large": True,
        "reorg_path": "lagrangian" if lagrangian_only else "solve_catchments",
    }


def run_reorg(inst: dict, time_limit: float) -> dict:
    A, P = inst["A"], inst["P"]
    capacity = inst["capacity"] if inst["capacity"] is not None else np.full(A.shape[1], UNCAPACITATED)
    params = dict(inst["params"], solver_time_limit_s=time_limit)
    t0 = time.perf_counter()
    if inst.get("reorg_path") == "lagrangian":
        res = reorg_lagrangian(A, inst["p"])
    else:
        res = reorg_catchments(A, P, capacity, params, inst["seed"])
    seconds = time.perf_counter() - t0
    assign = np.asarray(res.pop("assign"))
    return dict(
        res,
        seconds=seconds,
        open=sorted({int(k) for k in assign}),
        assignment_objective=float(A[np.arange(len(assign)), assign].sum()),
    )


def run_spopt(py: Path, npz: Path, time_limit: float, wall_limit: float) -> dict:
    """One spopt solve in the worker; stopped (with its CBC) after `wall_limit` s, since CBC does not check
    its `-sec` limit inside a long root LP."""
    cmd = [str(py), str(WORKER), str(npz), "--repeat", "1", "--time-limit", str(time_limit)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=wall_limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker's own process group: the worker and its CBC
        proc.communicate()
        seconds = time.perf_counter() - t0
        return {
            "solver": "spopt (stopped)",
            "status": f"stopped at the {wall_limit:g} s wall limit",
            "solution_status": "no plan",
            "objective": None,
            "seconds": seconds,
            "build_s": None,
            "solve_s": None,
            "variables": None,
            "constraints": None,
            "cbc_result": f"CBC had not returned {seconds:.0f} s after the worker started (imports included)",
        }
    if proc.returncode != 0:
        raise SystemExit(f"spopt worker failed:\n{stderr}")
    res = json.loads(stdout)
    return dict(res["runs"][0], solver=res["solver"])


def measure(inst: dict, py: Path, repeat: int, time_limit: float, wall_limit: float) -> dict:
    A, P = inst["A"], inst["P"]
    cost = np.divide(A, P[:, None], out=np.zeros_like(A), where=P[:, None] > 0)  # per-person minutes
    ours, peer, load = [], [], [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="reorg-peers-") as tmp:
        npz = Path(tmp) / "instance.npz"
        extra = {}
        if inst["capacity"] is not None:
            extra["capacities"] = inst["capacity"]
            if inst["penalty"] is not None:
                extra["penalty"] = np.float64(inst["penalty"])
        np.savez(npz, cost=cost, weights=P, p=np.int64(inst["p"]), A=A, **extra)
        for i in range(repeat):
            print(f"  {inst['key']}: repeat {i + 1}/{repeat}: reorg ...", file=sys.stderr, flush=True)
            ours.append(run_reorg(inst, time_limit))
            print(
                f"  {inst['key']}: repeat {i + 1}/{repeat}: reorg {ours[-1]['seconds']:.3f} s; spopt ...",
                file=sys.stderr,
                flush=True,
            )
            peer.append(run_spopt(py, npz, time_limit, wall_limit))
            print(
                f"  {inst['key']}: repeat {i + 1}/{repeat}: spopt {peer[-1]['seconds']:.3f} s ({peer[-1]['status']})",
                file=sys.stderr,
                flush=True,
            )
            load.append(os.getloadavg()[0])
    o, s = ours[0], peer[0]
    s_obj = s["objective"]  # None when CBC stopped without a plan
    rel = abs(o["objective"] - s_obj) / max(abs(o["objective"]), abs(s_obj), 1e-9) if s_obj is not None else None
    med = statistics.median
    row = {k: v for k, v in inst.items() if k not in ("A", "P", "capacity", "params")}
    row.update(
        {
            "communes": A.shape[0],
            "centres": A.shape[1],
            "reorg": ours,
            "spopt": peer,
            "time_limit_s": time_limit,
            "reorg_objective": o["objective"],
            "spopt_objective": s_obj,
            "relative_diff": rel,
            "equal": rel is not None and rel < EQUAL_RTOL and all(r["objective"] == o["objective"] for r in ours),
            "same_centres": o["open"] == s.get("open"),
            "spopt_proven_optimal": s["solution_status"] == "Optimal Solution Found",
            "reorg_seconds": med(r["seconds"] for r in ours),
            "reorg_solve_seconds": med(r["solve_s"] for r in ours),
            "spopt_seconds": med(r["seconds"] for r in peer),
            "spopt_build_seconds": _median_known(r["build_s"] for r in peer),
            "spopt_solve_seconds": _median_known(r["solve_s"] for r in peer),
            "load_average": [round(x, 2) for x in load],
            "repeat": repeat,
        }
    )
    row["speedup"] = row["spopt_seconds"] / row["reorg_seconds"]
    if inst["key"] == "hcmc-hard":
        row["equivalence_proven"] = bool(all(r["excess_persons"] == 0 and r["status"] == "optimal" for r in ours))
    return row


def _median_known(values) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _num(x, fmt: str = ",.1f") -> str:
    return "n/a" if x is None else format(x, fmt)


def table(rows: list[dict]) -> str:
    lines = [
        "| instance | model | size (communes × centres) | p | reorg objective (person-min) | spopt objective (person-min) | equal | "
        "reorg s | spopt s (build + solve) | speed-up | runs | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["spopt_objective"] is None:
            eq = f"n/a: spopt {r['spopt'][0]['status']} ({r['spopt'][0].get('cbc_result', 'no result')})"
        else:
            eq = f"{'yes' if r['equal'] else 'NO'} (rel. diff {r['relative_diff']:.1e})"
        load = r["load_average"]
        lines.append(
            f"| {r['label']} | {r['kind']} | {r['communes']:,} × {r['centres']:,} | {r['p']} | {_num(r['reorg_objective'])} | "
            f"{_num(r['spopt_objective'])} | {eq} | {r['reorg_seconds']:.3f} | {r['spopt_seconds']:.2f} "
            f"({_num(r['spopt_build_seconds'], '.2f')} + {_num(r['spopt_solve_seconds'], '.2f')}) | "
            f"{'≥ ' if r['spopt_objective'] is None else ''}{r['speedup']:.1f}× | {r['repeat']} | "
            f"{min(load):.1f}–{max(load):.1f} |"
        )
    return "\n".join(lines)


def _notes(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        o = r["reorg"][0]
        s = r["spopt"][0]
        text = (
            f"**{r['label']}, {r['kind']}**: reorg: {o['solver'].removeprefix('reorg ')} ({o['status']}, gap {_num(o['relative_gap'], '.1e')}): "
            f"solve {r['reorg_solve_seconds']:.3f} s of {r['reorg_seconds']:.3f} s; spopt ({s['status']}; "
            f"{_num(s['variables'], ',')} variables, {_num(s['constraints'], ',')} constraints): build {_num(r['spopt_build_seconds'], '.2f')} s + solve "
            f"{_num(r['spopt_solve_seconds'], '.2f')} s (writing the model, CBC as a separate program, reading back); "
            f"same centres: {'n/a (spopt has no plan)' if s.get('open') is None else 'yes' if r['same_centres'] else 'no'}"
        )
        if r["key"] == "hcmc" and r.get("pipeline_objective") is not None:
            text += (
                f"; reorg's own pipeline run recorded {r['pipeline_objective']:,.1f} for this model "
                f"({'the same' if abs(r['pipeline_objective'] - r['reorg_objective']) <= EQUAL_RTOL * abs(r['reorg_objective']) else 'DIFFERENT'})"
            )
        if o.get("assignment_variables_kept") is not None:
            lgap = (o["lagrangian_plan"] - o["lagrangian_bound"]) / max(1.0, abs(o["lagrangian_plan"]))
            kept, total = o["assignment_variables_kept"], o["assignment_variables_total"]
            text += (
                f"; reorg's method: Lagrangian relaxation ({o['iterations']:,} subgradient iterations: lower bound "
                f"{o['lagrangian_bound']:,.1f}, best plan {o['lagrangian_plan']:,.1f}, gap {lgap:.1e}), then reduced-cost fixing "
                f"(kept {kept:,} of {total:,} assignment variables, {kept / total:.2%}; {o['centres_closed']:,} centres fixed "
                f"closed, {o['centres_opened']:,} fixed open), then the MIP on the surviving variables ({_num(o['variables'], ',')} "
                f"variables, {_num(o['constraints'], ',')} constraints): {o['status']}, objective {o['objective']:,.1f}, bound "
                f"{_num(o['best_bound'])}; optimal for the full problem because every fixed variable was proven unable to appear "
                "in a plan at most as costly as the Lagrangian's best plan"
            )
        elif o.get("iterations") is not None:
            text += (
                f"; reorg's Lagrangian: {o['iterations']:,} subgradient iterations, best plan {o['objective']:,.1f}, lower bound "
                f"{o['best_bound']:,.1f}"
            )
            if o["status"] != "optimal":
                text += (
                    " (its gap is not closed, so solve_catchments would go on to reduced-cost fixing and a MIP on the "
                    f"variables that survive of the {r['communes'] * r['centres']:,} assignment variables; not run here)"
                )
        if r["key"] == "hcmc-hard":
            text += (
                f"; reorg's plans have {max(x['excess_persons'] for x in r['reorg']):g} residents above capacity, so "
                + (
                    "the soft and hard optima are equal (proof in the docstring)"
                    if r["equivalence_proven"]
                    else "**the equivalence is not proven on this run**"
                )
                + f"; both sides run the same CBC, so the ratio measures how much easier CBC finds reorg's soft-capacity form "
                f"(rho = {HARD_PENALTY:g}) of this problem than spopt's hard capacity rows, not faster code"
            )
        if not r["spopt_proven_optimal"]:
            text += (
                f"; spopt did not prove a plan optimal within the {r['time_limit_s']:g} s limit: CBC says "
                f"'{s.get('cbc_result', 'no result')}', best plan {_num(s.get('cbc_objective'))}, lower bound "
                f"{_num(s.get('cbc_lower_bound'))}, gap {_num(s.get('cbc_gap'), '.2%')}; its time is a lower bound"
            )
        if r["key"] == "national":
            text += f"; {NATIONAL_SPOPT_EARLIER}"
        out.append("- " + text + ".")
    return out


def section(rows: list[dict], command: list[str]) -> str:
    ours = sorted({r["reorg"][0]["solver"] for r in rows})
    peer = rows[0]["spopt"][0]["solver"]
    parts = [
        START,
        HEADING,
        "",
        "Command" + ("s" if len(command) > 1 else "") + ": " + "; then ".join(f"`{c}`" for c in command),
        "",
        f"Machine: {os.cpu_count()} cores shared with other jobs (load average per instance in the table: 1-minute load at the start and "
        f"after each repeat), Python {platform.python_version()}, numpy {version('numpy')}; reorg: {'; '.join(ours)}; peer: {peer}, in its own venv "
        "and process. reorg and spopt run back to back, alternating, `runs` times per instance; times are medians, each model "
        "building + solve after imports.",
        "",
        "Instances (all from the real pack, built by reorg's own stages; spopt gets cost A/P and weights P, so its objective sum P·A/P "
        "is the same person-minutes):",
        "",
        "- Nghệ An, Thanh Hóa: the uncapacitated p-median of the province's catchments, p = half the centres.",
        "- Hồ Chí Minh City, capacitated, soft: the catchment model of reorg's own run with `policy.catchments=optimise` (A, P, "
        "capacities, rho and p captured from the call reorg's pipeline makes): min Σ a_ck x_ck + rho Σ e_k with e_k ≥ Σ_c P_c x_ck − "
        "cap_k, all centres kept. spopt solves the identical formulation: its own capacitated p-median "
        "(`PMedian.from_cost_matrix(..., facility_capacities=cap)`) with one continuous e_k ≥ 0 added to its capacity row k "
        "(Σ P_c z_ck − e_k ≤ cap_k y_k) and rho Σ e_k added to its objective; nothing else changed.",
        "- Hồ Chí Minh City, capacitated, hard (when run): spopt's stock capacitated p-median against reorg's soft model with "
        f"rho = {HARD_PENALTY:g}; equal optima are proven on the run when reorg's optimal soft plan has no resident above capacity "
        "(a hard-feasible plan costs the same in both models and the soft model is a relaxation).",
        f"- Việt Nam: the uncapacitated p-median of all new communes × all regional centres, p = {NATIONAL_P}. A commune and a centre "
        "in the same province keep reorg's network minutes; a pair in different provinces gets the rule of reorg's road edge: "
        "great-circle km × circuity at each end's terrain speed (half the way each), from the part's node to the centre's seat, plus "
        "the part's access minutes. Same matrix on both sides.",
        "",
        f"Both solvers have the same time limit per solve ({rows[0]['time_limit_s']:g} s: CBC's `-sec` for spopt, "
        "`solver_time_limit_s` for reorg's MIP).",
        "",
        table(rows),
        "",
        *_notes(rows),
        "",
    ]
    proven = [r for r in rows if r["spopt_proven_optimal"] and all(x["status"] == "optimal" for x in r["reorg"])]
    met = [r for r in proven if r["equal"] and r["speedup"] >= TARGET_SPEEDUP]
    open_ = [r for r in rows if r not in proven]
    if open_:
        parts.append(
            "Not proven optimal by both sides (objectives are best plans, times are up to the stop): "
            + ", ".join(f"{r['label']} ({r['kind']})" for r in open_)
            + "."
        )
        parts.append("")
    parts.append(
        f"Both optimal, same objective and reorg at least {TARGET_SPEEDUP:g}× faster: "
        + ", ".join(f"{r['label']} ({r['kind']})" for r in met)
        + "."
        if met
        else f"reorg is not {TARGET_SPEEDUP:g}× faster on any instance with the same objective."
    )
    slow = [r for r in rows if r["speedup"] < TARGET_SPEEDUP]
    if slow:
        parts.append("")
        parts.append(
            f"**Below {TARGET_SPEEDUP:g}×**: "
            + ", ".join(
                f"{r['label']} ({r['kind']}) "
                + (
                    f"≥ {r['speedup']:.1f}× (spopt stopped without a plan)"
                    if r["spopt_objective"] is None
                    else f"{r['speedup']:.1f}×"
                )
                for r in slow
            )
            + ". Where both sides hand the same capacitated MIP to CBC, the solver time dominates both and the ratio can only "
            "reflect the model building and the file round trip, not a better method."
        )
    if not all(r["equal"] for r in rows):
        parts.append("")
        parts.append(
            "**Objectives not shown equal** on: " + ", ".join(f"{r['label']} ({r['kind']})" for r in rows if not r["equal"]) + "."
        )
    parts += ["", END]
    return "\n".join(parts)


def write_results(text: str) -> None:
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    if START in old and END in old:
        new = old[: old.index(START)] + text + old[old.index(END) + len(END) :]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(new, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--geodata", default=os.environ.get("REORG_GEODATA") or str(ROOT.parent / "shared" / "geodata"))
    ap.add_argument(
        "--instances", nargs="+", default=["small", "hcmc", "national"], choices=["small", "hcmc", "hcmc-hard", "national"]
    )
    ap.add_argument("--repeat", type=int, default=5, help="runs per solver on the small instances (median reported)")
    ap.add_argument("--repeat-large", type=int, default=3, help="runs per solver on hcmc, hcmc-hard and national")
    ap.add_argument("--time-limit", type=float, default=1200.0, help="seconds per solve, both solvers")
    ap.add_argument(
        "--wall-limit",
        type=float,
        default=None,
        help="stop a spopt solve (build, CBC, reading back) after this many s (default: 2 x --time-limit)",
    )
    ap.add_argument("--cache", type=Path, default=None, help="keep the national instance here (keyed on the pack's SHA256SUMS)")
    ap.add_argument(
        "--national-lagrangian",
        action="store_true",
        help="national: run reorg's Lagrangian p-median alone (bounds, no proof) instead of solve_catchments "
        "(Lagrangian, then reduced-cost fixing and the MIP on the surviving variables)",
    )
    ap.add_argument(
        "--repeat-national", type=int, default=None, help="runs per solver on the national instance (default: --repeat-large)"
    )
    ap.add_argument("--no-write", action="store_true", help=f"print only, do not update {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--json", help="also write the raw measurements to this file")
    ap.add_argument("--from-json", nargs="+", type=Path, help="no measuring: rebuild the block from --json files of earlier runs")
    args = ap.parse_args(argv)
    command = ("python benchmarks/peers.py " + shlex.join(argv if argv is not None else sys.argv[1:])).strip()
    if args.from_json:
        rows = [row for f in args.from_json for row in json.loads(f.read_text(encoding="utf-8"))]
        missing = [r["label"] for r in rows if "command" not in r]
        if missing:
            raise SystemExit(f"no command recorded for {', '.join(missing)}")
        commands = list(dict.fromkeys(r["command"] for r in rows)) + [command]
        return report(rows, commands, args.no_write)
    py = peer_python()
    instances: list[dict] = []
    if "small" in args.instances:
        instances += [small_instance(code, args.geodata) for code in SMALL]
    if "hcmc" in args.instances or "hcmc-hard" in args.instances:
        hc = hcmc_instances(args.geodata, hard="hcmc-hard" in args.instances)
        instances += [i for i in hc if i["key"] in args.instances]
    if "national" in args.instances:
        instances.append(national_instance(args.geodata, args.cache, args.national_lagrangian))
    rows = []
    for inst in instances:
        print(
            f"{inst['label']} ({inst['kind']}): {inst['A'].shape[0]} × {inst['A'].shape[1]}, p = {inst['p']}",
            file=sys.stderr,
            flush=True,
        )
        repeat = args.repeat_large if inst["large"] else args.repeat
        if inst["key"] == "national" and args.repeat_national is not None:
            repeat = args.repeat_national
        wall = args.wall_limit if args.wall_limit is not None else 2 * args.time_limit
        rows.append(dict(measure(inst, py, repeat, args.time_limit, wall), command=command))
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=2, default=str), encoding="utf-8")
    return report(rows, [command], args.no_write)


def report(rows: list[dict], commands: list[str], no_write: bool) -> int:
    text = section(rows, commands)
    print(text)
    if not no_write:
        write_results(text)
        print(f"\nwritten: {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
