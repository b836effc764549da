"""Benchmarks of reorg on this machine: prints Markdown tables and records them in RESULTS.md.

    python benchmarks/run.py [--geodata DIR] [--repeat N]

1. End to end, as a user runs it (a subprocess each, `/usr/bin/time` for wall time and peak
   memory): Nghệ An official and optimise, Thanh Hóa (the largest province by old communes, 547)
   official and optimise; stage timings from each run's summary.json.
2. Each optimisation model on Nghệ An and Thanh Hóa: status, objective, gap, seconds, from the
   optimise runs' solver records.
3. The shortest-path method of the network stage: scipy's csgraph Dijkstra from every facility at
   once against networkx's single-source Dijkstra from each facility, same graph, same minutes.
Each timing is the median of `--repeat` runs. Targets: Nghệ An official <= 5 s, optimise <= 10 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- run:start -->", "<!-- run:end -->"
RUNS = [("Nghệ An official", "nghe_an_official.toml", "40", 5.0), ("Nghệ An optimise", "nghe_an_optimise.toml", "40", 10.0),
        ("Thanh Hóa official", "nghe_an_official.toml", "38", None), ("Thanh Hóa optimise", "nghe_an_optimise.toml", "38", None)]


def timed_run(scenario: str, province: str, geodata: str, out: Path) -> tuple[float, int, dict]:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "reorg", "run", str(ROOT / "scenarios" / scenario), "--province", province,
           "--set", "name=bench", "--geodata", geodata, "--out", str(out), "--quiet"]
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"benchmark run failed: {' '.join(cmd)}\n{p.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return wall, rss, json.loads((out / "bench" / "summary.json").read_text(encoding="utf-8"))


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
        u, v, w = zip(*((index[a], index[b], d["minutes"]) for a, b, d in G.edges(data=True)))
        m = csr_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(len(nodes), len(nodes)))
        return dijkstra(m, directed=False, indices=[index[s] for s in sources]), index

    def with_networkx():
        return {s: nx.single_source_dijkstra_path_length(G, s, weight="minutes") for s in sources}

    times = {}
    for name, fn in (("scipy.sparse.csgraph.dijkstra (all sources at once)", with_scipy), ("networkx single_source_dijkstra (each source)", with_networkx)):
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            res = fn()
            runs.append(time.perf_counter() - t)
        times[name] = (statistics.median(runs), res)
    (sp, index), nxd = times["scipy.sparse.csgraph.dijkstra (all sources at once)"][1], times["networkx single_source_dijkstra (each source)"][1]
    diff = max(abs(sp[i, index[n]] - d) for i, s in enumerate(sources) for n, d in nxd[s].items())
    return {"nodes": G.number_of_nodes(), "edges": G.number_of_edges(), "sources": len(sources), "max_abs_diff": diff,
            "seconds": {k: v[0] for k, v in times.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--geodata", default=os.environ.get("REORG_GEODATA", str(ROOT.parent / "shared" / "geodata")))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    lines = [START, "## End to end, per stage, per model (benchmarks/run.py)", "",
             f"Command: `python benchmarks/run.py --repeat {args.repeat}` · {dt.date.today()} · {os.cpu_count()} cores, "
             f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB · Python {platform.python_version()} · "
             f"median of {args.repeat} runs, each a fresh process (imports included).", "",
             "| run | wall s | target | peak memory MB | load | validate | reform | network | optimise | measure | render | report |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    solver_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, scenario, province, target in RUNS:
            res = [timed_run(scenario, province, args.geodata, Path(tmp) / label.replace(" ", "_")) for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in res)
            rss = max(r[1] for r in res) / 1024
            s = res[-1][2]
            tm = {k: statistics.median(r[2]["timings"].get(k, 0.0) for r in res) for k in ("load", "validate", "reform", "network", "optimise", "measure", "render", "report")}
            ok = "" if target is None else (f"≤ {target:g} s ✓" if wall <= target else f"≤ {target:g} s ✗")
            lines.append(f"| {label} | {wall:.2f} | {ok} | {rss:.0f} | " + " | ".join(f"{tm[k]:.2f}" for k in tm) + " |")
            for rec in s["solver"]:
                secs = statistics.median(next(x for x in r[2]["solver"] if x["model"] == rec["model"])["seconds"] for r in res)
                solver_rows.append(f"| {label} | {rec['model']} | {rec['solver']} | {rec['status']} | {rec['objective']:,.1f} | "
                                   f"{100 * (rec['relative_gap'] or 0):.4f} % | {secs:.3f} | {rec['variables']:,} |")
            print(lines[-1], flush=True)
    lines += ["", "(The report stage time is measured before it ends, so it shows 0 in summary.json.)", "",
              "### Each model", "", "| run | model | solver | status | objective | gap | seconds | variables |", "|---|---|---|---|---:|---:|---:|---:|"] + solver_rows
    lines += ["", "### Shortest-path method of the network stage", "", "| province | nodes | edges | sources | method | seconds | max difference (min) |", "|---|---:|---:|---:|---|---:|---:|"]
    ratios = []
    for code, name in (("40", "Nghệ An"), ("38", "Thanh Hóa")):
        sp = shortest_paths(args.geodata, code, args.repeat)
        for method, secs in sp["seconds"].items():
            lines.append(f"| {name} | {sp['nodes']} | {sp['edges']} | {sp['sources']} | {method} | {secs:.3f} | {sp['max_abs_diff']:.1e} |")
        sec = list(sp["seconds"].values())
        ratios.append(sec[1] / sec[0])
    lines += ["", f"scipy's Dijkstra from every facility at once is the network stage's method: the same minutes as networkx, "
                  f"{min(ratios):.0f} to {max(ratios):.0f} times faster here.", END]
    block = "\n".join(lines)
    print(block)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    if START in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
