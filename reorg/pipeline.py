"""The pipeline: load -> validate -> reform -> network -> optimise -> measure -> render -> report.

`run(scenario)` computes everything in memory (`RunResult`); `write(result, out_dir)` renders and
writes the scenario folder atomically. Bad input raises InputError before anything is written.
Each stage only moves forward: it reads what the earlier stages returned and returns its own
result (warnings included), never modifying theirs. `STAGES` names the stages in order.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from . import __version__, fmt, i18n, islands, network, reform, roster, runinfo
from ._errors import Problem
from .load import Pack, load_pack
from .measure import Measures, measure
from .optimise.decide import decide
from .optimise.plan import Plan
from .population import RasterDemand, raster_demand
from .scenario import Scenario, titled
from .terrain import DemTerrain, apply_dem

if TYPE_CHECKING:
    from .workforce.planner import PlanResult


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


# the stages in order (timings, peak memory); what each does is in the message files' [progress]
STAGES: tuple[str, ...] = ("load", "validate", "reform", "network", "optimise", "measure", "render", "report")
#: the stages of a run with a plan over years (`reorg plan`, `[plan]`): the plan after measuring
PLAN_STAGES: tuple[str, ...] = (*STAGES[:6], "plan", *STAGES[6:])


class Progress:
    """Stage-by-stage progress on stderr: `[4/8] build the travel network    done in 0.61 s`.

    Also measures each stage: `timings` (seconds) and `peak_memory_mb` (the largest resident
    memory of the process while the stage ran: the kernel's peak counter is reset when a stage
    starts and read when it ends; where it cannot be reset, the process peak so far). Stages may
    nest (the optimise stage measures each model as `optimise:<model>`): an inner stage's peak
    counts towards the outer one's, and only the eight top-level stages are printed. `started`:
    when the Progress was made (UTC, ISO 8601), the run's start in run.json (pass the same
    Progress to `run` and `write`). The measurements go to run.json, never to summary.json."""

    STAGES = STAGES  # the keys, in order

    def __init__(self, enabled: bool = True, stream: TextIO | None = None, lang: str | None = None) -> None:
        self.enabled = enabled
        self.lang = lang  # the language of the stage lines; None: the scenario's (set by `run`)
        self.stream = stream or sys.stderr
        self.timings: dict[str, float] = {}
        self.peak_memory_mb: dict[str, float] = {}
        self.started = runinfo.now()
        self.peak_per_stage = True  # False where the peak could not be reset (then: process peak so far)
        self._open: list = []  # the stages running, outermost first

    def stage(self, name: str) -> AbstractContextManager[object]:
        """`with progress.stage(name):` times the block and measures its peak memory as stage `name`."""
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
                    labels = progress.labels()
                    width = max(len(label) for label in labels.values())
                    progress.stream.write(f"[{k}/{len(progress.STAGES)}] {labels[name]:<{width}}")
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
                    seconds = fmt.number(dt, 2, progress.lang or i18n.DEFAULT_LANG)
                    word = "progress.failed" if exc_type else "progress.done"
                    progress.stream.write(f" {i18n.text(word, progress.lang or i18n.DEFAULT_LANG, seconds=seconds)}\n")
                    progress.stream.flush()
                return False

        return _Stage()

    def labels(self) -> dict[str, str]:
        """What each top-level stage does, in the progress's language."""
        return {k: i18n.text(f"progress.{k}", self.lang or i18n.DEFAULT_LANG) for k in self.STAGES}


@dataclass
class RunResult:
    """What a run computed, stage by stage; `warnings`: every stage's, in the order found."""

    scenario: Scenario
    pack: Pack
    reformed: reform.Reformed
    stations: pd.DataFrame
    centres: pd.DataFrame
    network: network.Network
    plan: Plan
    measures: Measures
    synthetic_roster: bool
    warnings: list[Problem] = field(default_factory=list)
    terrain: DemTerrain | None = None  # terrain from an elevation model (--dem), else the density guess
    population: RasterDemand | None = None  # demand points from a population raster, else one per commune part
    workforce: PlanResult | None = None  # the plan over years (workforce/), with `[plan]` or `reorg plan`
    adjacency: Measures | None = None  # with roads: the same decisions measured on the adjacency model
    timings: dict[str, float] = field(default_factory=dict)
    peak_memory_mb: dict[str, float] = field(default_factory=dict)
    version: str = __version__


def run(scenario: Scenario, *, geodata: str | None = None, progress: Progress | None = None) -> RunResult:
    """Every stage up to measure, in memory; InputError (nothing computed further) on bad input."""
    progress = progress or Progress(enabled=False)
    progress.lang = progress.lang or scenario.lang
    if scenario.plan is not None:
        progress.STAGES = PLAN_STAGES
    params = scenario.params
    with progress.stage("load"):
        pack = load_pack(geodata or scenario.geodata, scenario.province)
        scenario = titled(scenario, pack.province_name)
    with progress.stage("validate"):
        old = reform.classify_old_communes(pack, params)
        dem = apply_dem(old, scenario.dem, pack, params) if scenario.dem else None
        old = dem.classified if dem else old
        given = roster.stations_before_merger(scenario.roster, old.frame, params, scenario.seed, scenario.roster_sheet)
    with progress.stage("reform"):
        reformed = reform.apply_merger(pack, old)
        raster = None
        if scenario.population_raster:
            with progress.stage("reform:raster"):  # the raster's demand points, timed apart in run.json
                raster = raster_demand(reformed, scenario.population_raster, pack, params)
            reformed = raster.reformed
        stations = reform.stations_after_merger(pack, reformed, given.stations, params, scenario.seed)
        centres = islands.with_special_zone_centres(
            reformed, roster.synthesise_centres(reformed.old, pack.districts, params), params
        )
    road_warnings: list[Problem] = []
    with progress.stage("network"):
        # with roads, the adjacency model (the road model's base) is timed apart in run.json
        with progress.stage("network:adjacency") if scenario.roads else nullcontext():
            adjacency_net = network.build_network(reformed, stations, centres, params)
        net = adjacency_net
        if scenario.roads:
            net, road_warnings = _road_network(scenario.roads, pack, reformed, stations, centres, params, adjacency_net, progress)
    with progress.stage("optimise"):
        plan = decide(
            reformed,
            stations,
            centres,
            net,
            params,
            scenario.policy,
            scenario.seed,
            stage=lambda model: progress.stage(f"optimise:{model}"),
            export=scenario.export_models,
        )
    with progress.stage("measure"):
        measures = measure(reformed, stations, centres, net, plan, params)
        # with roads, the same decisions measured on the adjacency model too: how much the roads change
        adjacency = measure(reformed, stations, centres, adjacency_net, plan, params) if scenario.roads else None
    result = RunResult(
        scenario=scenario,
        pack=pack,
        reformed=reformed,
        stations=stations,
        centres=centres,
        network=net,
        plan=plan,
        measures=measures,
        synthetic_roster=given.synthetic,
        warnings=[*pack.warnings, *reformed.warnings, *given.warnings, *road_warnings],
        terrain=dem,
        population=raster,
        adjacency=adjacency,
        timings=progress.timings,
        peak_memory_mb=progress.peak_memory_mb,
    )
    if scenario.plan is not None:
        from .workforce.planner import make_plan

        with progress.stage("plan"):
            result.workforce = make_plan(result, scenario.plan, stage=progress.stage)
    return result


def _road_network(
    path: str,
    pack: Pack,
    reformed: reform.Reformed,
    stations: pd.DataFrame,
    centres: pd.DataFrame,
    params: dict,
    adjacency: network.Network,
    progress: Progress,
) -> tuple[network.Network, list[Problem]]:
    """The `roads` travel model (roads.py, roads_graph.py): the road file clipped to the province
    (its new communes' outline grown by `roads_buffer_km`), then minutes on roads. Timed in
    run.json as `network:roads_read` and `network:roads_graph`."""
    import shapely

    from . import roads, roads_graph

    with progress.stage("network:roads_read"):
        geoms = pack.communes_after.geometry
        outline = shapely.union_all(geoms[~(geoms.isna() | geoms.is_empty)].to_numpy())
        edges = roads.read_roads(path, params, outline, file=path)
    with progress.stage("network:roads_graph"):
        net, _, warnings = roads_graph.road_network(reformed, stations, centres, params, edges, file=path, base=adjacency)
    return net, warnings


def write(
    result: RunResult,
    out_root: str | Path,
    *,
    progress: Progress | None = None,
    clean: bool = True,
    parallel: bool = True,
) -> Path:
    """Render and write `outputs/<name>/` atomically; returns the folder. `clean=False` leaves other
    runs' temporary folders alone (parallel runs writing into the same folder). `parallel=False`:
    every file in this process (the same bytes; `parallel` writes the PDF in a forked second
    process). run.json's `report` is this process's time, waiting for the PDF included;
    `report:pdf` is the PDF's own seconds."""
    from . import report, workbook
    from .outputs import atomic_dir, beside, clean_stale
    from .render import render_map

    progress = progress or Progress(enabled=False)
    progress.lang = progress.lang or result.scenario.lang
    out_root = Path(out_root)

    def write_pdf(*args: Any, **kwargs: Any) -> None:  # reportlab is imported where the PDF is written
        from .pdf import write_pdf

        write_pdf(*args, **kwargs)

    final = out_root / result.scenario.name
    if clean:
        clean_stale(out_root)
    for stage in ("render", "report"):  # measured afresh by each write
        progress.timings.pop(stage, None)
        progress.peak_memory_mb.pop(stage, None)

    lang = result.scenario.lang
    with atomic_dir(final) as tmp:
        summary = report.build_summary(result)
        # the PDF (reportlab's import included, about half the writing) in a second process (when
        # this one has no other thread to inherit) while this one draws the map and writes the rest
        document = beside(
            {"report:pdf": lambda: write_pdf(result, summary, tmp / "report.pdf", lang=lang)},
            enabled=parallel and threading.active_count() == 1,
        )
        try:
            with progress.stage("render"):
                (tmp / "map.html").write_text(render_map(result), encoding="utf-8")
            with progress.stage("report"):
                frames = report.write_all(result, tmp, summary, lang=lang)  # the run's tables, built once
                report.write_gpkg(result, tmp / "decisions.gpkg", stations=frames["stations"], communes=frames["communes"])
                workbook.write_decisions(result, tmp / "decisions.xlsx", lang=lang, frames=frames)
                report.write_summary(summary, tmp)
                if result.workforce is not None:  # the plan over years: plan/
                    from .workforce.report_files import write_plan_pages
                    from .workforce.tables import write_plan

                    write_plan_pages(result, write_plan(result, tmp / "plan"), tmp / "plan")
                progress.timings.update(document.join())
        finally:
            document.cancel()
        if result.plan.models:  # --export-models: each solved model and its data
            (tmp / "models").mkdir()
            for name, text in sorted(result.plan.models.items()):
                (tmp / "models" / name).write_text(text, encoding="utf-8")
        # the run's stages and this write's (the same dicts when `progress` ran the run)
        runinfo.write(
            tmp,
            runinfo.province_record(
                started=progress.started,
                geodata=result.pack.directory,
                roster=result.scenario.roster,
                timings={**result.timings, **progress.timings},
                peak_memory_mb={**result.peak_memory_mb, **progress.peak_memory_mb},
                peak_per_stage=progress.peak_per_stage,
                solver=result.plan.solver,
            )
            | runinfo.raster_inputs(dem=result.scenario.dem, population_raster=result.scenario.population_raster),
        )
    return final
