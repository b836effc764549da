"""Load time of the offline map in headless Chromium (Nghệ An, official scenario).

    REORG_GEODATA=../shared/geodata .venv/bin/python benchmarks/map_load.py [--repeat 5] [--keep out.html]

Builds the Nghệ An map (scenarios/nghe_an_official.toml), writes it to a temporary file and opens
it `--repeat` times in the system Chromium (/usr/bin/chromium, through Playwright), each time in
a fresh browser context with every request that is not file: or data: blocked (any attempt is
reported and fails the run). Measured from the start of navigation (Navigation Timing, ms):
DOMContentLoaded, the `load` event, and "all layers drawn" (the map sets `window.reorgDrawn`
two animation frames after its last layer was added, i.e. after the first paint of every layer);
then the time to switch to the side-by-side before/after view and draw it. Prints a Markdown
table with the median of the runs, the file size and the target (< 3 s to all layers drawn,
< 8 MB).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
TARGET_S = 3.0
TARGET_MB = 8.0

_COMPARE_JS = """() => new Promise(resolve => {
    const t0 = performance.now();
    window.reorgApp.setView('compare');
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
})"""


def build_map(geodata: str, scenario: Path) -> tuple[str, float, float]:
    from reorg.pipeline import run
    from reorg.render import render_map
    from reorg.scenario import load_scenario

    t = time.perf_counter()
    result = run(load_scenario(scenario), geodata=geodata)
    t_run = time.perf_counter() - t
    t = time.perf_counter()
    doc = render_map(result)
    return doc, t_run, time.perf_counter() - t


def measure(path: Path, repeat: int) -> list[dict]:
    from playwright import sync_api

    rows = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeat):
                blocked: list[str] = []
                errors: list[str] = []

                def route(r, blocked=blocked):
                    if r.request.url.startswith(("file:", "data:")):
                        r.continue_()
                    else:
                        blocked.append(r.request.url)
                        r.abort()

                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.route("**/*", route)
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_function("window.reorgDrawn !== undefined", timeout=60_000)
                nav = page.evaluate("""(() => { const n = performance.getEntriesByType('navigation')[0];
                    return {dcl: n.domContentLoadedEventEnd, load: n.loadEventStart}; })()""")
                drawn = page.evaluate("window.reorgDrawn")
                compare = page.evaluate(_COMPARE_JS)
                paths = page.locator(".leaflet-pane path").count()
                context.close()
                if blocked or errors:
                    raise SystemExit(f"the map tried to load {blocked[:5]} / console errors {errors[:5]}")
                rows.append({"dcl": nav["dcl"], "load": nav["load"], "drawn": drawn, "compare": compare, "paths": paths})
        finally:
            browser.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--geodata", default=os.environ.get("REORG_GEODATA"), help="geodata pack (default $REORG_GEODATA)")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "nghe_an_official.toml"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", help="also write the map to this file")
    args = ap.parse_args(argv)
    if not args.geodata:
        ap.error("set REORG_GEODATA or give --geodata")
    if not Path(CHROMIUM).exists():
        ap.error(f"{CHROMIUM} not installed (apt-get install chromium)")

    doc, t_run, t_render = build_map(args.geodata, Path(args.scenario))
    data = doc.encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "map.html"
        path.write_bytes(data)
        if args.keep:
            Path(args.keep).write_bytes(data)
        rows = measure(path, args.repeat)

    med = {k: statistics.median(r[k] for r in rows) for k in ("dcl", "load", "drawn", "compare")}
    size_mb = len(data) / 1e6
    cpus = os.cpu_count()
    print(f"## Map load time: Nghệ An, `{Path(args.scenario).name}`\n")
    print(f"Command: `python benchmarks/map_load.py --repeat {args.repeat}`\n")
    print(
        f"Machine: {cpus} cores, Python {platform.python_version()}, Chromium headless (`{CHROMIUM}`), "
        "viewport 1400×900, every request other than file:/data: blocked (none attempted).\n"
    )
    print(
        f"Map: {size_mb:.2f} MB ({len(data):,} bytes), {rows[0]['paths']} SVG paths drawn at opening; "
        f"pipeline run {t_run:.2f} s, render_map {t_render:.2f} s.\n"
    )
    print("| run | DOMContentLoaded (ms) | `load` event (ms) | all layers drawn (ms) | switch to side by side, drawn (ms) |")
    print("|---|---:|---:|---:|---:|")
    for k, r in enumerate(rows, 1):
        print(f"| {k} | {r['dcl']:.0f} | {r['load']:.0f} | {r['drawn']:.0f} | {r['compare']:.0f} |")
    print(f"| **median** | **{med['dcl']:.0f}** | **{med['load']:.0f}** | **{med['drawn']:.0f}** | **{med['compare']:.0f}** |")
    ok = med["drawn"] / 1000 < TARGET_S and size_mb < TARGET_MB
    print(
        f"\nTarget: all layers drawn < {TARGET_S:g} s and file < {TARGET_MB:g} MB: "
        f"**{'met' if ok else 'NOT met'}** (median {med['drawn'] / 1000:.2f} s, {size_mb:.2f} MB)."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
