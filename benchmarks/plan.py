"""The plan over years, end to end (issue 13 "Speed"): `reorg plan` on each scenario, in a child
process, with its stage times (run.json) and every solve's status, bound and gap (plan/summary.json).

    python benchmarks/plan.py [--scenario scenarios/nghe_an_plan_2030.toml ...] [--national]
                              [--results benchmarks/RESULTS.md]

Targets: Nghệ An, 5 years, all targets on: <= 30 s end to end, gap <= 0.5 % (bound shown); the
national plan (`--province all`) <= 15 min. Prints markdown tables; with --results, replaces the
section between `<!-- plan:start -->` and `<!-- plan:end -->`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["scenarios/nghe_an_plan_2030.toml", "scenarios/lao_cai_plan_2030.toml"]


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run_plan(scenario: str, out: Path, extra: list[str]) -> tuple[float, Path, str]:
    before = load()
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "reorg", "plan", str(ROOT / scenario), "--out", str(out), "--quiet", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{scenario}: exit {proc.returncode}\n{proc.stderr}")
    return seconds, out, f"{before} -> {load()}"


def fmt_gap(r: dict) -> str:
    gap = r.get("relative_gap")
    return "n/a" if gap is None else f"{gap:.2e}"


def province_rows(name: str, seconds: float, folder: Path, loads: str) -> list[str]:
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    s = json.loads((folder / "plan" / "summary.json").read_text(encoding="utf-8"))
    t = run["timings"]
    lines = [
        f"**{name}** ({s['stations']} open stations, {s['main_stations']} main, {len(s['years'])} years, "
        f"{len(s['targets'])} targets): {seconds:.1f} s end to end (run {t.get('load', 0) + t.get('validate', 0) + t.get('reform', 0) + t.get('network', 0) + t.get('optimise', 0) + t.get('measure', 0):.1f} s, "
        f"plan {t.get('plan', 0):.1f} s = data {t.get('plan:data', 0):.1f} + model {t.get('plan:model', 0):.1f} + answers "
        f"{t.get('plan:answers', 0):.1f}, outputs {t.get('render', 0) + t.get('report', 0):.1f} s); "
        f"peak memory {max(run['peak_memory_mb'].values()):.0f} MB; load average (1 min) {loads}",
        "",
        "| solve | backend | status | objective | bound | gap | time limit reached |",
        "|---|---|---|---|---|---|---|",
    ]
    for stage, g in s.get("plan_gap", {}).items():
        lines.append(
            f"| **plan, {stage}** (parts added up) | | | {g['objective']:,.1f} | {g['bound']:,.1f} | {g['relative_gap']:.2e} | |"
        )
    for r in s["solver"]:
        obj = "n/a" if r.get("objective") is None else f"{r['objective']:,.1f}"
        bound = "n/a" if r.get("best_bound") is None else f"{r['best_bound']:,.1f}"
        lines.append(
            f"| {r['model']} | {r.get('backend', '')} | {r['status']} | {obj} | {bound} | {fmt_gap(r)} | "
            f"{'yes' if r.get('time_limit_reached') else 'no'} |"
        )
    return [*lines, ""]


def national_rows(folder: Path) -> list[str]:
    """Per stage, the largest plan gap (parts added up) over the provinces, and the solves stopped
    by their time limit, from each province's plan/summary.json."""
    plans = sorted(folder.glob("*/provinces/*/plan/summary.json"))
    worst: dict[str, tuple[float, str]] = {}
    limited = []
    for path in plans:
        s = json.loads(path.read_text(encoding="utf-8"))
        name = path.parent.parent.name
        for stage, g in (s.get("plan_gap") or {}).items():
            gap = float(g.get("relative_gap") or 0.0)
            if gap >= worst.get(stage, (-1.0, ""))[0]:
                worst[stage] = (gap, name)
        limited += [f"{name} {r['model']}:{r.get('stage')}" for r in s.get("solver", []) if r.get("time_limit_reached")]
    lines = [f"{len(plans)} provinces planned. Largest plan gap (parts added up) over them:"]
    lines += [f"- {stage}: {gap:.2e} ({name})" for stage, (gap, name) in sorted(worst.items())]
    lines += [f"- solves stopped by their time limit: {', '.join(limited) if limited else 'none'}", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", action="append", help="scenario file(s) (default: Nghệ An and Lào Cai plans)")
    ap.add_argument("--national", action="store_true", help="also time the national plan (--province all)")
    ap.add_argument("--results", help="RESULTS.md to update between the plan markers")
    args = ap.parse_args(argv)
    out = [
        "## The plan over years (benchmarks/plan.py)",
        "",
        f"Command: `python benchmarks/plan.py{' --national' if args.national else ''}` · {platform.python_version()}, "
        f"{os.cpu_count()} cores · each figure with the 1-minute load average before -> after (2 cores: a load above 2 "
        "means other work ran beside it).",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for sc in args.scenario or DEFAULT:
            seconds, folder, loads = run_plan(sc, Path(tmp) / Path(sc).stem, [])
            out += province_rows(Path(sc).stem, seconds, folder / Path(sc).stem, loads)
        if args.national:
            seconds, folder, loads = run_plan("scenarios/official.toml", Path(tmp) / "national", ["--province", "all"])
            out += [
                f"**National plan** (`reorg plan scenarios/official.toml --province all`): {seconds:.0f} s end to end; load {loads}",
                "",
                *national_rows(folder),
            ]
    text = "\n".join(out)
    print(text)
    if args.results:
        path = Path(args.results)
        old = path.read_text(encoding="utf-8")
        start, end = "<!-- plan:start -->", "<!-- plan:end -->"
        block = f"{start}\n{text}\n{end}"
        new = (
            old[: old.index(start)] + block + old[old.index(end) + len(end) :]
            if start in old
            else old.rstrip() + "\n\n" + block + "\n"
        )
        path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
