"""Peer comparison: reorg's catchment model vs spopt's PMedian (CBC through PuLP), same instance.

    .venv/bin/python benchmarks/peers.py [--geodata DIR] [--provinces 40 38] [--repeat 5] [--no-write]

The instance is the uncapacitated p-median of the regional centre catchments, from the real pack:
clients = the new communes of the province (P_c residents), facilities = its regional centres
(one per old district), cost = person-minutes A[c, k] (reorg.optimise.catchments.instance), p =
half the centres (rounded down) kept.

- reorg: `solve_catchments(A, P, capacity=1e12 each, params=defaults with centres_kept=p, seed=1)`
  in this process; timed: model building + solve. For this uncapacitated instance reorg takes its
  exact Lagrangian p-median path (numpy; the MIP is the fallback when the gap does not close),
  and the record names the method used.
- spopt: `PMedian.from_cost_matrix(A / P, P, p_facilities=p).solve(pulp.PULP_CBC_CMD(msg=False))`
  in a separate process and venv (benchmarks/.venv-peers, made here from
  benchmarks/requirements-peers.txt when missing), instance passed as .npz; spopt's objective is
  sum P_c x A_ck / P_c = sum A, the same objective; timed: model building + solve.

Both take the median of `--repeat` timed solves (each after the imports; the first is not
discarded). Prints a Markdown table and writes it, with the command line, into
benchmarks/RESULTS.md between `<!-- peers:start -->` and `<!-- peers:end -->`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

PEER_VENV = HERE / ".venv-peers"
REQUIREMENTS = HERE / "requirements-peers.txt"
WORKER = HERE / "peer_spopt_worker.py"
RESULTS = HERE / "RESULTS.md"
START, END = "<!-- peers:start -->", "<!-- peers:end -->"
HEADING = "## Peer comparison: uncapacitated catchments vs spopt PMedian (CBC)"
TARGET_SPEEDUP = 20.0
EQUAL_RTOL = 1e-6


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


def build_instance(code: str, geodata: str | None):
    import reorg.pipeline as PL
    from reorg.optimise.catchments import instance
    from reorg.scenario import load_scenario

    r = PL.run(load_scenario(None, province=code), geodata=geodata)
    A, P = instance(r.reformed.demand, r.network.centre_minutes, r.network.centre_codes, r.reformed.new.index)
    return A, P, r.pack.province_name


def solve_reorg(A, P, p: int, repeat: int) -> dict:
    from reorg.optimise.catchments import solve_catchments
    from reorg.params import defaults

    K = A.shape[1]
    params = dict(defaults(), centres_kept=p)
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = solve_catchments(A, P, np.full(K, 1e12), params=params, seed=1)
        assign, rec = res.assign, res.record
        seconds = time.perf_counter() - t0
        runs.append({"seconds": seconds, "solve_s": rec["seconds"], "status": rec["status"], "objective": rec["objective"],
                     "assignment_objective": float(A[np.arange(len(assign)), assign].sum()), "open": sorted({int(k) for k in assign}),
                     "variables": rec.get("variables"), "constraints": rec.get("constraints"), "solver": rec["solver"]})  # None: Lagrangian
    return {"solver": runs[0]["solver"], "runs": runs}


def solve_spopt(py: Path, A, P, p: int, repeat: int) -> dict:
    cost = np.divide(A, P[:, None], out=np.zeros_like(A), where=P[:, None] > 0)  # per-person minutes
    with tempfile.TemporaryDirectory(prefix="reorg-peers-") as tmp:
        f = Path(tmp) / "instance.npz"
        np.savez(f, cost=cost, weights=P, p=np.int64(p), A=A)
        out = subprocess.run([str(py), str(WORKER), str(f), "--repeat", str(repeat)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"spopt worker failed:\n{out.stderr}")
    return json.loads(out.stdout)


def _median(res: dict, key: str = "seconds") -> float:
    return statistics.median(r[key] for r in res["runs"])


def compare(code: str, geodata: str | None, py: Path, repeat: int) -> dict:
    A, P, name = build_instance(code, geodata)
    n, K = A.shape
    p = K // 2
    ours = solve_reorg(A, P, p, repeat)
    peer = solve_spopt(py, A, P, p, repeat)
    o_obj, s_obj = ours["runs"][0]["objective"], peer["runs"][0]["objective"]
    rel = abs(o_obj - s_obj) / max(abs(o_obj), abs(s_obj), 1e-9)
    o_s, s_s = _median(ours), _median(peer)
    return {"code": code, "name": name, "communes": n, "centres": K, "p": p, "reorg": ours, "spopt": peer,
            "reorg_objective": o_obj, "spopt_objective": s_obj, "relative_diff": rel, "equal": rel < EQUAL_RTOL,
            "same_centres": ours["runs"][0]["open"] == peer["runs"][0]["open"],
            "reorg_seconds": o_s, "spopt_seconds": s_s, "speedup": s_s / o_s,
            "spopt_build_seconds": _median(peer, "build_s"), "spopt_solve_seconds": _median(peer, "solve_s"),
            "reorg_solve_seconds": _median(ours, "solve_s")}


def table(rows: list[dict]) -> str:
    lines = ["| instance | size (communes × centres) | p | reorg objective (person-min) | spopt objective (person-min) | equal | reorg s | spopt s | speed-up |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['code']} {r['name']} | {r['communes']} × {r['centres']} | {r['p']} | {r['reorg_objective']:,.1f} | {r['spopt_objective']:,.1f} "
                     f"| {'yes' if r['equal'] else 'NO'} (rel. diff {r['relative_diff']:.1e}) | {r['reorg_seconds']:.3f} | {r['spopt_seconds']:.3f} | {r['speedup']:.1f}× |")
    return "\n".join(lines)


def section(rows: list[dict], command: str, repeat: int) -> str:
    ours, peer = rows[0]["reorg"]["solver"], rows[0]["spopt"]["solver"]
    ok = all(r["speedup"] >= TARGET_SPEEDUP for r in rows)
    parts = [
        START, HEADING, "",
        f"Command: `{command}`", "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; reorg: {ours} (numpy {version('numpy')}); "
        f"peer: {peer}, in its own venv and process. Times are the median of {repeat} solves, each model building + solve, after imports.", "",
        "Instance: the uncapacitated p-median of the regional centre catchments on the real pack: clients = new communes (P_c residents), "
        "facilities = regional centres (one per old district), cost = person-minutes A[c,k], p = half the centres. spopt gets cost A/P "
        "and weights P, so its objective sum P·A/P is the same person-minutes.", "",
        table(rows), "",
        "Split of the times (medians): " + "; ".join(
            f"{r['code']}: {r['reorg']['solver'] if r['reorg']['solver'].startswith('reorg') else 'reorg ' + r['reorg']['solver']}: solve {r['reorg_solve_seconds']:.3f} s of {r['reorg_seconds']:.3f} s in all; spopt build {r['spopt_build_seconds']:.3f} s + solve {r['spopt_solve_seconds']:.3f} s (writing the model, CBC as a "
            f"separate program, reading back)" for r in rows) + ".", "",
    ]
    if ok:
        parts.append(f"Target met: same objective, reorg at least {TARGET_SPEEDUP:g}× faster on every instance.")
    else:
        slow = ", ".join(f"{r['code']} {r['speedup']:.1f}×" for r in rows if r["speedup"] < TARGET_SPEEDUP)
        parts.append(
            f"**Target not met: reorg is not {TARGET_SPEEDUP:g}× faster** ({slow}). Both sides hand a MIP of the same size to CBC and both "
            "prove it optimal in a fraction of a second, so the solver cannot make a 20× difference; what differs is the overhead around it. "
            "reorg builds its model one variable and one constraint at a time in Python (pywraplp: |C|·|K| assignment variables, |C|·|K| "
            "linking constraints, plus capacity rows and variables that the uncapacitated instance does not need), and that building takes "
            "most of reorg's time; spopt builds a PuLP model (also in Python) and pays a file round trip to the CBC program. Even with "
            "a free model build, reorg's CBC solve alone would be only " + ", ".join(f"{r['spopt_seconds'] / r['reorg_solve_seconds']:.1f}×" for r in rows)
            + " faster than spopt here. A larger "
            "speed-up would need a vectorised model build (e.g. OR-Tools' ModelBuilder with numpy arrays), dropping the capacity rows when "
            "capacities cannot bind, or a dedicated p-median method (e.g. Lagrangian bounds with a greedy/interchange heuristic) instead of "
            "a general MIP.")
    if not all(r["equal"] for r in rows):
        parts.append("")
        parts.append("**Objectives differ** on: " + ", ".join(r["code"] for r in rows if not r["equal"]) + ".")
    parts += ["", END]
    return "\n".join(parts)


def write_results(text: str) -> None:
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    if START in old and END in old:
        new = old[:old.index(START)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(new, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--geodata", default=os.environ.get("REORG_GEODATA") or str(ROOT.parent / "shared" / "geodata"))
    ap.add_argument("--provinces", nargs="+", default=["40", "38"], help="new province codes (default: 40 Nghệ An, 38 Thanh Hóa)")
    ap.add_argument("--repeat", type=int, default=5, help="timed solves per solver (median reported)")
    ap.add_argument("--no-write", action="store_true", help=f"print only, do not update {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--json", help="also write the raw measurements to this file")
    args = ap.parse_args(argv)
    py = peer_python()
    rows = [compare(code, args.geodata, py, args.repeat) for code in args.provinces]
    command = "python benchmarks/peers.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    text = section(rows, command.strip(), args.repeat)
    print(table(rows))
    print()
    print(text.split(table(rows))[1].replace(END, "").strip())
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str), encoding="utf-8")
    if not args.no_write:
        write_results(text)
        print(f"\nwritten: {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
