"""The pipeline: load -> validate -> reform -> network -> optimise -> measure -> render -> report.

`run(scenario)` computes everything in memory (`RunResult`); `write(result, out_dir)` renders and
writes the scenario folder atomically. Bad input raises InputError before anything is written.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import __version__
from . import network as N
from . import reform as R
from . import roster as RO
from .load import Pack, load_pack
from .measure import Measures, measure
from .optimise.decide import decide
from .optimise.plan import Plan
from .scenario import Scenario


def _reset_peak_rss() -> bool:
    """Reset this process's peak resident memory (Linux `clear_refs` 5, since 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (since the last reset): `VmHWM`, else `ru_maxrss`."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Progress:
    """Stage-by-stage progress on stderr: `[3/8] network .... 0.61 s`.

    Also measures each stage: `timings` (seconds) and `peak_memory_mb` (the largest resident
    memory of the process while the stage ran: the kernel's peak counter is reset when a stage
    starts and read when it ends; where it cannot be reset, the process peak so far). Stages may
    nest (the optimise stage measures each model as `optimise:<model>`): an inner stage's peak
    counts towards the outer one's, and only the eight top-level stages are printed."""

    STAGES = ("load", "validate", "reform", "network", "optimise", "measure", "render", "report")

    def __init__(self, enabled: bool = True, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.timings: dict[str, float] = {}
        self.peak_memory_mb: dict[str, float] = {}
        self.peak_per_stage = True  # False where the peak could not be reset (then: process peak so far)
        self._open: list = []  # the stages running, outermost first

    def stage(self, name: str):
        progress = self
        shown = name in self.STAGES

        class _Stage:
            def __enter__(self):
                if progress._open:  # the outer stage's peak so far, before the counter is reset
                    outer = progress._open[-1]
                    outer.peak = max(outer.peak, peak_rss_mb())
                progress.peak_per_stage = _reset_peak_rss() and progress.peak_per_stage
                self.peak = 0.0
                progress._open.append(self)
                self.t = time.perf_counter()
                if progress.enabled and shown:
                    k = progress.STAGES.index(name) + 1
                    progress.stream.write(f"[{k}/{len(progress.STAGES)}] {name:<9}")
                    progress.stream.flush()
                return self

            def __exit__(self, exc_type, exc, tb):
                dt = time.perf_counter() - self.t
                peak = max(self.peak, peak_rss_mb())
                progress._open.remove(self)
                if progress._open:
                    progress._open[-1].peak = max(progress._open[-1].peak, peak)
                progress.timings[name] = progress.timings.get(name, 0.0) + dt
                progress.peak_memory_mb[name] = max(progress.peak_memory_mb.get(name, 0.0), peak)
                if progress.enabled and shown:
                    progress.stream.write(f" {'failed' if exc_type else 'done'} in {dt:.2f} s\n")
                    progress.stream.flush()
                return False

        return _Stage()


@dataclass
class RunResult:
    scenario: Scenario
    pack: Pack
    reformed: R.Reformed
    stations: pd.DataFrame
    centres: pd.DataFrame
    network: N.Network
    plan: Plan
    measures: Measures
    synthetic_roster: bool
    timings: dict[str, float] = field(default_factory=dict)
    peak_memory_mb: dict[str, float] = field(default_factory=dict)
    version: str = __version__


def run(scenario: Scenario, *, geodata: str | None = None, progress: Progress | None = None) -> RunResult:
    progress = progress or Progress(enabled=False)
    params = scenario.params
    with progress.stage("load"):
        pack = load_pack(geodata or scenario.geodata, scenario.province)
    with progress.stage("validate"):
        old = R.classify_old_communes(pack, params)
        if scenario.roster:
            stations = RO.read_roster(scenario.roster, old)
            pack.warnings = pack.warnings + list(stations.attrs.pop("warnings", []))
            synthetic = False
        else:
            stations = RO.synthesise_stations(old, params, scenario.seed)
            synthetic = True
    with progress.stage("reform"):
        reformed = R.apply_merger(pack, old)
        orphans = reformed.new.index[reformed.new["n_old"] == 0]
        if len(orphans):
            zs = RO.special_zone_stations(reformed.new, orphans, params, scenario.seed)
            zs["new_code"] = [c[1:] for c in zs.index]
            stations = pd.concat([stations, zs])
        stations["new_code"] = R.station_new_commune(pack, stations)
        empty = sorted(set(reformed.new.index) - set(stations["new_code"]))
        if empty:
            ns = RO.new_site_stations(reformed.new, empty, params)
            ns["new_code"] = [c[1:] for c in ns.index]
            stations = pd.concat([stations, ns])
        stations["district_code"] = stations["old_code"].map(old["district_code"]).fillna("")
        centres = RO.synthesise_centres(old, pack.districts, params)
    with progress.stage("network"):
        net = N.build_network(reformed, stations, centres, params)
    with progress.stage("optimise"):
        plan = decide(reformed, stations, centres, net, params, scenario.policy, scenario.seed,
                      stage=lambda model: progress.stage(f"optimise:{model}"))
    with progress.stage("measure"):
        measures = measure(reformed, stations, centres, net, plan, params)
    return RunResult(scenario=scenario, pack=pack, reformed=reformed, stations=stations, centres=centres, network=net,
                     plan=plan, measures=measures, synthetic_roster=synthetic, timings=progress.timings,
                     peak_memory_mb=progress.peak_memory_mb)


def write(result: RunResult, out_root: str | Path, *, progress: Progress | None = None, clean: bool = True) -> Path:
    """Render and write `outputs/<name>/` atomically; returns the folder. `clean=False` leaves other
    runs' temporary folders alone (parallel runs writing into the same folder)."""
    from . import report as REP
    from .outputs import atomic_dir, clean_stale
    from .pdf import write_pdf
    from .render import render_map

    progress = progress or Progress(enabled=False)
    out_root = Path(out_root)
    final = out_root / result.scenario.name
    if clean:
        clean_stale(out_root)
    for stage in ("render", "report"):  # measured afresh by each write
        progress.timings.pop(stage, None)
        progress.peak_memory_mb.pop(stage, None)

    def measured() -> dict:  # the run's stages and this write's (the same dicts when `progress` ran the run)
        return {"timings": {**result.timings, **progress.timings},
                "peak_memory_mb": {**result.peak_memory_mb, **progress.peak_memory_mb}}

    with atomic_dir(final) as tmp:
        with progress.stage("render"):
            (tmp / "map.html").write_text(render_map(result), encoding="utf-8")
        with progress.stage("report"):
            summary = REP.write_all(result, tmp, **measured())
            write_pdf(result, summary, tmp / "report.pdf")
        REP.write_summary(summary, tmp, **measured())  # once the report stage has ended
    return final
