"""Benchmarks of reorg on this machine: one entry point that prints Markdown tables and records
them in benchmarks/RESULTS.md.

    python benchmarks/run.py [--geodata DIR] [--repeat N] [--skip-national] [--skip-map] [--skip-peers] [--no-write]

1. End to end, as a user runs it (`python -m reorg run SCENARIO --quiet`, a fresh process each
   time, imports included): Nghệ An official and optimise, and Thanh Hóa (province 38, the
   largest unit of work: 547 old communes) official and optimise. Wall time; peak memory of the
   whole run (resident memory of the process and any children, summed, sampled every 20 ms);
   and per stage (load, validate, reform, network, optimise, measure, render, report) and per
   optimisation model the seconds and the peak resident memory that the run itself records in
   run.json (`timings`, `peak_memory_mb`: the kernel's peak counter, reset when a stage starts).
2. The national official run (`scenarios/national_official.toml`: 34 provinces in worker
   processes): wall time, peak memory of all its processes together (sampled), its counts against
   the official totals, and per stage the seconds summed over the provinces and the largest peak
   memory of any province's process.
3. Each optimisation model of the optimise runs (status, objective, gap, seconds).
4. The shortest-path method of the network stage: scipy's csgraph Dijkstra from every facility at
   once against networkx's single-source Dijkstra from each facility (same graph, same minutes).
5. The Nghệ An map in headless Chromium (benchmarks/map_load.py): file size, time until every
   layer is drawn, all network requests blocked.
6. The peer comparison (benchmarks/peers.py, its own venv and block in RESULTS.md).

Each end-to-end timing is the median of `--repeat` runs (the national run: `--national-repeat`,
default 1). Targets (issue 10): Nghệ An official <= 2.2 s, optimise <= 4 s; national <= 18 s wall
and <= 4 GB; map < 8 MB and drawn < 3 s. Beside each wall time, the same script's figure for
reorg 0.1 (commit d8d437c, recorded in RESULTS.md on 2026-11-27 on this machine type).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- run:start -->", "<!-- run:end -->"
STAGES = ("load", "validate", "reform", "network", "optimise", "measure", "render", "report")
# label, scenario file, --province or None, target seconds or None, reorg 0.1's wall seconds (d8d437c)
RUNS = [
    ("Nghệ An official", "nghe_an_official.toml", None, 2.2, 2.83),
    ("Nghệ An optimise", "nghe_an_optimise.toml", None, 4.0, 4.80),
    ("Thanh Hóa official", "nghe_an_official.toml", "38", None, 3.54),
    ("Thanh Hóa optimise", "nghe_an_optimise.toml", "38", None, 7.01),
]
NATIONAL = "national_official.toml"
NATIONAL_TARGET_S, NATIONAL_TARGET_MB = 18.0, 4096.0
NATIONAL_BEFORE_S = 23.6  # reorg 0.1 (d8d437c), the same command
OFFICIAL_NEW_COMMUNES = 3321  # DOMAIN.md: 3,321 new communes (Resolution 202/2025/QH15 and the NA resolutions)
SAMPLE_S = 0.02
#: another checkout of reorg (its root and its Python) timed alternately with this one, run for run, so that
#: both are measured on the same machine at the same time (`--baseline ROOT PYTHON`); None: not measured
BASELINE: tuple[Path, str] | None = None


def baseline_wall(args: list[str], geodata: str, out: Path) -> float | None:
    """Wall seconds of `python -m reorg run ARGS` in the baseline checkout (None without a baseline)."""
    if BASELINE is None:
        return None
    root, python = BASELINE
    # the baseline reads its own copy of the scenario (the same decisions and parameters in the
    # spelling that version understands: reorg 0.1 has no per-language titles)
    own = root / "scenarios" / Path(args[0]).name
    args = [str(own), *args[1:]] if own.is_file() else args
    wall, _, _ = timed([python, "-m", "reorg", "run", *args, "--geodata", geodata, "--out", str(out), "--quiet"], cwd=root)
    return wall


def _tree_rss_kb(root_pid: int) -> int:
    """Resident memory (kB) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            with open(f"/proc/{entry}/statm") as f:
                pages = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        pid = int(entry)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def timed(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, peak MB of the process tree, completed process)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(p.pid))
            done.wait(SAMPLE_S)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = p.communicate()
    wall = time.perf_counter() - t
    done.set()
    th.join()
    if p.returncode != 0:
        raise SystemExit(f"benchmark run failed ({p.returncode}): {shlex.join(cmd)}\n{err[-3000:]}")
    return wall, peak[0] / 1024, subprocess.CompletedProcess(cmd, p.returncode, out, err)


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def reorg_run(scenario: str, province: str | None, geodata: str, out: Path, name: str) -> tuple[float, float, dict, dict]:
    """(wall seconds, peak MB, summary.json, run.json) of one run in a fresh process."""
    cmd = [
        sys.executable,
        "-m",
        "reorg",
        "run",
        str(ROOT / "scenarios" / scenario),
        "--set",
        f'name="{name}"',
        "--geodata",
        geodata,
        "--out",
        str(out),
        "--quiet",
    ] + (["--province", province] if province else [])
    wall, mb, _ = timed(cmd)
    return wall, mb, _json(out / name / "summary.json"), _json(out / name / "run.json")


def _med(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def _ok(value: float, target: float | None, unit: str) -> str:
    if target is None:
        return ""
    return f"≤ {target:g} {unit} {'✓' if value <= target else '✗'}"


def end_to_end(geodata: str, repeat: int, tmp: Path, lines: list[str]) -> list[str]:
    lines += [
        "### 1. End to end, per stage",
        "",
        f"Each run is a fresh process (`python -m reorg run SCENARIO --quiet`, imports included); median of {repeat} runs. "
        "*Peak MB*: resident memory of the whole run, sampled every 20 ms. Per stage: seconds, and the peak resident memory of "
        "the process during the stage (run.json `timings` and `peak_memory_mb`; the kernel's peak counter `VmHWM` is reset "
        "when a stage starts). Thanh Hóa (38) is the largest province by old communes (547).",
        "",
        "| run | wall s | reorg 0.1 wall s | target | peak MB | " + " | ".join(STAGES) + " |",
        "|---|---:|---:|---|---:|" + "---:|" * len(STAGES),
    ]
    solver_rows, model_rows = [], []
    for label, scenario, province, target, before in RUNS:
        res, base = [], []
        for k in range(repeat):  # this checkout and the baseline alternately
            res.append(reorg_run(scenario, province, geodata, tmp / f"e2e_{k}", "bench"))
            extra = ["--province", province] if province else []
            base.append(
                baseline_wall([str(ROOT / "scenarios" / scenario), "--set", 'name="base"', *extra], geodata, tmp / f"base_{k}")
            )
        wall = _med(r[0] for r in res)
        if BASELINE is not None:
            before = _med(base)
        mb = max(r[1] for r in res)
        secs = {k: _med(r[3]["timings"].get(k) for r in res) for k in STAGES}
        peaks = {k: max(r[3]["peak_memory_mb"].get(k, 0.0) for r in res) for k in STAGES}
        lines.append(
            f"| {label} | {wall:.2f} | {before:.2f} | {_ok(wall, target, 's')} | {mb:.0f} | "
            + " | ".join(f"{secs[k]:.2f} s · {peaks[k]:.0f} MB" for k in STAGES)
            + " |"
        )
        print(lines[-1], flush=True)
        for key in res[-1][3]["timings"]:
            if key.startswith("optimise:"):
                model_rows.append(
                    f"| {label} | {key.split(':', 1)[1]} | {_med(r[3]['timings'].get(key) for r in res):.2f} | "
                    f"{max(r[3]['peak_memory_mb'].get(key, 0.0) for r in res):.0f} |"
                )
        for rec in res[-1][2]["solver"]:
            s = _med(r[3]["solver_seconds"].get(rec["model"]) for r in res)
            solver_rows.append(
                f"| {label} | {rec['model']} | {rec['solver']} | {rec['status']} | {rec['objective']:,.1f} | "
                f"{100 * (rec['relative_gap'] or 0):.4f} % | {s:.3f} | {'–' if rec.get('variables') is None else format(rec['variables'], ',')} |"
            )
    lines += [
        "",
        "Each optimisation model within the optimise stage (run.json `timings` and `peak_memory_mb` under "
        "`optimise:<model>`: building the model and solving it; median seconds, largest peak):",
        "",
        "| run | model | seconds | peak MB |",
        "|---|---|---:|---:|",
    ] + model_rows
    print("\n".join(lines[-len(model_rows) - 2 :]), flush=True)
    return solver_rows


def national(geodata: str, repeat: int, tmp: Path, lines: list[str]) -> None:
    res: list = []
    base_walls: list[float] = []
    for k in range(repeat):
        out = tmp / f"national_{k}"
        cmd = [
            sys.executable,
            "-m",
            "reorg",
            "run",
            str(ROOT / "scenarios" / NATIONAL),
            "--geodata",
            geodata,
            "--out",
            str(out),
            "--quiet",
        ]
        wall, mb, _ = timed(cmd)
        base_wall = baseline_wall([str(ROOT / "scenarios" / NATIONAL)], geodata, tmp / f"national_base_{k}")
        if base_wall is not None:
            base_walls.append(base_wall)
        name = next(p for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
        res.append((wall, mb, _json(name / "summary.json"), _json(name / "run.json")))
    wall, mb, s, measured = _med(r[0] for r in res), max(r[1] for r in res), res[-1][2], res[-1][3]
    n = s["national"]
    new = n["counts"]["new_communes"]
    stages_sum = {k: _med(r[3]["timings"]["stages_sum"].get(k) for r in res) for k in STAGES}
    stages_max = {k: max(r[3]["peak_memory_mb"]["stages_max"].get(k, 0.0) for r in res) for k in STAGES}
    lines += [
        "",
        "### 2. National official run",
        "",
        f"`python -m reorg run scenarios/{NATIONAL} --quiet`: {n['provinces']} provinces, {n['done']} done, {n['failed']} failed, "
        f"{measured['execution']['workers']} worker processes ({measured['execution']['start_method']}); "
        f"{n['counts']['old_communes']:,} old communes, {new:,} new communes "
        f"({'= the official 3,321 ✓' if new == OFFICIAL_NEW_COMMUNES else 'official 3,321 ✗'}); "
        f"{'median of ' + str(repeat) + ' runs' if repeat > 1 else 'one run'}. *Peak MB*: every process of the run together "
        "(the main process and its workers), sampled every 20 ms. Per stage: seconds summed over the 34 provinces (they run "
        "in parallel, so the sum exceeds the wall time), and the largest peak memory of any province's process during that stage.",
        "",
        "| run | wall s | reorg 0.1 wall s | target | peak MB (all processes) | target | " + " | ".join(STAGES) + " |",
        "|---|---:|---:|---|---:|---|" + "---:|" * len(STAGES),
        f"| national official | {wall:.1f} | {_med(base_walls) if base_walls else NATIONAL_BEFORE_S:.1f} | {_ok(wall, NATIONAL_TARGET_S, 's')} | {mb:,.0f} | {_ok(mb, NATIONAL_TARGET_MB, 'MB')} | "
        + " | ".join(f"{stages_sum[k]:.1f} s · {stages_max[k]:.0f} MB" for k in STAGES)
        + " |",
    ]
    slow = sorted(measured["timings"]["provinces"].items(), key=lambda kv: -(kv[1] or 0))[:3]
    names = {p["code"]: p["name"] for p in s["provinces"]}
    lines += [
        "",
        "Slowest provinces (seconds in their worker): "
        + ", ".join(f"{names.get(c, c)} {v:.1f} s" for c, v in slow)
        + f"; national files (report, index map) {measured['timings']['national_outputs']:.1f} s.",
    ]
    print("\n".join(lines[-6:]), flush=True)


def shortest_paths(geodata: str, province: str, repeat: int) -> dict:
    import networkx as nx
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from reorg.pipeline import run
    from reorg.scenario import load_scenario

    r = run(load_scenario(None, province=province), geodata=geodata)
    G = r.network.graph
    sources = [n for n in G if n[0] in ("station", "centre")]

    def with_scipy():
        nodes = list(G)
        index = {n: k for k, n in enumerate(nodes)}
        u, v, w = zip(*((index[a], index[b], max(d["minutes"], 1e-9)) for a, b, d in G.edges(data=True)))
        m = csr_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(len(nodes), len(nodes)))
        return dijkstra(m, directed=False, indices=[index[s] for s in sources]), index

    def with_networkx():
        return {s: nx.single_source_dijkstra_path_length(G, s, weight="minutes") for s in sources}

    times = {}
    for name, fn in (
        ("scipy.sparse.csgraph.dijkstra (all sources at once)", with_scipy),
        ("networkx single_source_dijkstra (each source)", with_networkx),
    ):
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            res = fn()
            runs.append(time.perf_counter() - t)
        times[name] = (statistics.median(runs), res)
    (sp, index), nxd = (
        times["scipy.sparse.csgraph.dijkstra (all sources at once)"][1],
        times["networkx single_source_dijkstra (each source)"][1],
    )
    diff = max(abs(sp[i, index[n]] - d) for i, s in enumerate(sources) for n, d in nxd[s].items())
    return {
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "sources": len(sources),
        "max_abs_diff": diff,
        "seconds": {k: v[0] for k, v in times.items()},
    }


def map_load(geodata: str, repeat: int, tmp: Path, lines: list[str]) -> None:
    import map_load as map_load_bench

    doc, _, t_render = map_load_bench.build_map(geodata, ROOT / "scenarios" / "nghe_an_official.toml")
    data = doc.encode("utf-8")
    path = tmp / "map.html"
    path.write_bytes(data)
    rows = map_load_bench.measure(path, repeat)
    med = {k: statistics.median(r[k] for r in rows) for k in ("dcl", "load", "drawn", "compare")}
    mb = len(data) / 1e6
    lines += [
        "",
        "### 5. The Nghệ An map in headless Chromium",
        "",
        f"`scenarios/nghe_an_official.toml`, map built by `render_map` in {t_render:.2f} s, opened {repeat} times in "
        f"`{map_load_bench.CHROMIUM}` (headless, viewport 1400×900, a fresh context each time, every request other than file:/data: "
        f"blocked: none attempted, no console error); times from the start of navigation, median of {repeat}. "
        "*Drawn*: two animation frames after the last layer was added (`window.reorgDrawn`).",
        "",
        "| map | size MB | target | DOMContentLoaded ms | load event ms | all layers drawn ms | target | side-by-side view drawn ms | SVG paths |",
        "|---|---:|---|---:|---:|---:|---|---:|---:|",
        f"| Nghệ An official | {mb:.2f} | {_ok(mb, map_load_bench.TARGET_MB, 'MB')} | {med['dcl']:.0f} | {med['load']:.0f} | {med['drawn']:.0f} | "
        f"{_ok(med['drawn'] / 1000, map_load_bench.TARGET_S, 's')} | {med['compare']:.0f} | {rows[0]['paths']:,} |",
    ]
    print("\n".join(lines[-3:]), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--geodata", default=os.environ.get("REORG_GEODATA", str(ROOT.parent / "shared" / "geodata")))
    ap.add_argument("--repeat", type=int, default=3, help="end-to-end runs per scenario (median), and shortest-path repeats")
    ap.add_argument("--national-repeat", type=int, default=1, help="national runs (median)")
    ap.add_argument("--map-repeat", type=int, default=5, help="map loads in Chromium (median)")
    ap.add_argument("--skip-national", action="store_true")
    ap.add_argument("--skip-map", action="store_true")
    ap.add_argument("--skip-peers", action="store_true", help="do not run benchmarks/peers.py (its block in RESULTS.md is kept)")
    ap.add_argument("--no-write", action="store_true", help="print only, do not update RESULTS.md")
    ap.add_argument(
        "--baseline",
        nargs=2,
        metavar=("ROOT", "PYTHON"),
        help="another checkout of reorg and its Python (e.g. reorg 0.1), timed alternately with this one: the "
        "'reorg 0.1 wall s' columns are then measured in this session instead of taken from the 0.1 record",
    )
    args = ap.parse_args()
    global BASELINE
    if args.baseline:
        BASELINE = (Path(args.baseline[0]).resolve(), args.baseline[1])
    geodata = str(Path(args.geodata).resolve())
    cmdline = "python benchmarks/run.py" + "".join(
        f" {a}" for a in sys.argv[1:] if not a.startswith("--geodata") and a != geodata
    )
    load = os.getloadavg()
    lines = [
        START,
        "## End to end, per stage, national run, models, map (benchmarks/run.py)",
        "",
        f"Command: `{cmdline}` · {dt.date.today()} · {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB · Python {platform.python_version()} · "
        f"load average at the start {load[0]:.2f}.",
        "",
        (
            "The *reorg 0.1 wall s* columns were measured in this session, alternately with this checkout, run for run "
            "(`--baseline`: reorg 0.1 at commit d8d437c, same machine, same moment)."
            if args.baseline
            else "The *reorg 0.1 wall s* columns are reorg 0.1's figures recorded on 2026-11-27 with the same script (commit d8d437c)."
        ),
        "",
        "Both packages are byte-compiled first (`python -m compileall reorg`), as pip does on an install that is not "
        "editable: this machine sets PYTHONDONTWRITEBYTECODE, so an editable checkout would compile its modules in every run.",
        "",
    ]
    # byte-compile both packages first, as pip does when it installs one (not in editable mode):
    # this machine sets PYTHONDONTWRITEBYTECODE, so an editable checkout would otherwise compile
    # its own modules again in every run
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "reorg")], check=True)
    if BASELINE is not None:
        subprocess.run([BASELINE[1], "-m", "compileall", "-q", str(BASELINE[0] / "reorg")], check=True)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        solver_rows = end_to_end(geodata, args.repeat, tmp, lines)
        if not args.skip_national:
            national(geodata, args.national_repeat, tmp, lines)
        lines += [
            "",
            "### 3. Each model (optimise runs, solve seconds: median)",
            "",
            "| run | model | solver | status | objective | gap | seconds | variables |",
            "|---|---|---|---|---:|---:|---:|---:|",
        ] + solver_rows
        lines += [
            "",
            "### 4. Shortest-path method of the network stage",
            "",
            "| province | nodes | edges | sources | method | seconds | max difference (min) |",
            "|---|---:|---:|---:|---|---:|---:|",
        ]
        ratios = []
        for code, name in (("40", "Nghệ An"), ("38", "Thanh Hóa")):
            sp = shortest_paths(geodata, code, args.repeat)
            for method, secs in sp["seconds"].items():
                lines.append(
                    f"| {name} | {sp['nodes']} | {sp['edges']} | {sp['sources']} | {method} | {secs:.3f} | {sp['max_abs_diff']:.1e} |"
                )
            sec = list(sp["seconds"].values())
            ratios.append(sec[1] / sec[0])
        lines += [
            "",
            f"scipy's Dijkstra from every facility at once is the network stage's method: the same minutes as networkx, "
            f"{min(ratios):.0f} to {max(ratios):.0f} times faster here.",
        ]
        if not args.skip_map:
            map_load(geodata, args.map_repeat, tmp, lines)
    lines += ["", "The peer comparison (catchments against spopt) is the block above, from `python benchmarks/peers.py`.", END]
    block = "\n".join(lines)
    print(block)
    if not args.no_write:
        text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
        if START in text:
            text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        RESULTS.write_text(text, encoding="utf-8")
    if not args.skip_peers:
        peers = [sys.executable, str(ROOT / "benchmarks" / "peers.py"), "--geodata", geodata, "--repeat", "9"] + (
            ["--no-write"] if args.no_write else []
        )
        rc = subprocess.call(peers, cwd=ROOT)
        if rc:
            print(f"peers.py failed with exit code {rc}", file=sys.stderr)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
