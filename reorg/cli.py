"""Command line: `reorg run`, `reorg validate`, `reorg demo-pack` (and the commands of `PLUGIN_COMMANDS`).

The one place that turns errors into messages and exit codes: 0 done, 2 bad input (a readable
message naming file, row and field; nothing written), 1 internal error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from . import i18n
from ._errors import InputError, Problem, ReorgError, grouped


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with `command` (a core command or a plugin's), the plugin
    modules of the other commands are not imported (`compare` alone imports the PDF and page
    builders: a second of a run's start-up)."""
    p = argparse.ArgumentParser(
        prog="reorg", description="Simulate the reorganisation of Vietnam's grassroots health network after the 2025 reform."
    )
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario and write outputs/<name>/")
    _run_arguments(r)
    pl = sub.add_parser(
        "plan",
        help="run a scenario, then plan staff and investment year by year (outputs/<name>/plan/)",
        description="Run the scenario, then plan hires, doctor transfers, rotations and station upgrades year by "
        "year (params plan_start_year..plan_end_year) against the targets of its [plan] table (default: all), "
        "under its budgets and graduate supply.",
    )
    _run_arguments(pl)
    pl.add_argument(
        "--draws", type=int, metavar="N", help="replay the plan against N seeded draws of leavers (scenario: [plan] draws)"
    )
    pl.set_defaults(plan=True)
    v = sub.add_parser("validate", help="check a geodata pack (and a roster) and report every problem")
    v.add_argument("--geodata", help="geodata pack directory (default: $REORG_GEODATA)")
    v.add_argument("--province", help="new province code; default: every province")
    v.add_argument("--roster", help="station roster (CSV or Excel .xlsx) to check against the province")
    v.add_argument("--roster-sheet", metavar="NAME", help="the roster workbook's sheet (default: its first)")
    v.add_argument("--lang", choices=list(i18n.LANGS), help="language of the messages (default: en)")
    v.add_argument("--strict", action="store_true", help="treat warnings as errors: exit 2")
    d = sub.add_parser("demo-pack", help="generate the synthetic demo geodata pack")
    d.add_argument("--out", default="geodata/demo", help="directory (default: geodata/demo)")
    for name, module in PLUGIN_COMMANDS.items():
        if command is not None and command != name:
            continue
        __import__(f"reorg.{module}", fromlist=["add_parser"]).add_parser(sub)
    return p


def _run_arguments(r: argparse.ArgumentParser) -> None:
    """The arguments of `reorg run` (and `reorg plan`)."""
    r.add_argument("scenario", help="scenario TOML file")
    r.add_argument("--geodata", help="geodata pack directory (default: the scenario's, else $REORG_GEODATA)")
    r.add_argument("--out", default="outputs", help="output root (default: outputs)")
    r.add_argument("--province", help="new province code, overrides the scenario's")
    r.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key, e.g. params.doctor_presence_share=0.9",
    )
    r.add_argument(
        "--lang",
        choices=["en", "vi"],
        help="language of every output: map, reports, PDF (default: the scenario's [output] lang, else en)",
    )
    r.add_argument(
        "--export-models",
        action="store_true",
        help="write each solved model (MPS, with its variable names) and its data into <output>/models/",
    )
    r.add_argument(
        "--roster", help="station roster: CSV or Excel (.xlsx), English or Vietnamese headers (overrides the scenario's)"
    )
    r.add_argument("--roster-sheet", metavar="NAME", help="the roster workbook's sheet (default: its first)")
    r.add_argument(
        "--dem", metavar="FILE", help="elevation model (GeoTIFF, any CRS): terrain by Decree 272/2025 (scenario: [terrain] dem)"
    )
    r.add_argument(
        "--population-raster",
        metavar="FILE",
        help="population raster (GeoTIFF, persons per cell, any CRS): where people live (scenario: [population] raster)",
    )
    r.add_argument(
        "--roads",
        metavar="FILE",
        help="road network (.osm.pbf, or GeoPackage/GeoJSON lines with OSM tags): travel minutes on roads",
    )
    r.add_argument("--quiet", action="store_true", help="no progress display")
    r.add_argument("--strict", action="store_true", help="treat warnings as errors: exit 2, nothing written")
    r.add_argument(
        "--workers", type=int, default=2, help="--province all: local worker processes (default: 2; 0: in this process)"
    )
    r.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="--province all: run the provinces on an existing Dask distributed cluster, e.g. tcp://10.0.0.5:8786",
    )


# commands added by a module: each module has add_parser(subparsers), which sets `handler` as a default
PLUGIN_COMMANDS: dict[str, str] = {"compare": "compare", "sweep": "sweep", "roster-template": "roster_template"}
CORE_COMMANDS = ("run", "plan", "validate", "demo-pack")


def _command(argv: list[str]) -> str | None:
    """The command named on the command line, when it is a known one (then only its module is needed)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in CORE_COMMANDS or first in PLUGIN_COMMANDS else None


def cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import Progress, run, write
    from .scenario import load_scenario

    sets = (
        list(args.sets)
        + ([f"output.lang='{args.lang}'"] if args.lang else [])
        + (["export_models=true"] if args.export_models else [])
        + ([f"roster={json.dumps(args.roster)}"] if args.roster else [])
        + ([f"roster_sheet={json.dumps(args.roster_sheet)}"] if args.roster_sheet else [])
        + ([f"terrain.dem={json.dumps(args.dem)}"] if args.dem else [])
        + ([f"population.raster={json.dumps(args.population_raster)}"] if args.population_raster else [])
        + ([f"travel.roads={json.dumps(args.roads)}"] if args.roads else [])
        + ([f"plan.draws={args.draws}"] if getattr(args, "draws", None) is not None else [])
    )
    base = load_scenario(args.scenario, sets)
    if getattr(args, "plan", False) and base.plan is None:  # `reorg plan` on a scenario without [plan]: its defaults
        sets.append("plan.draws=0")
    if (args.province or base.province or "").lower() == "all":
        from .national import finish, run_national

        if args.strict:
            raise InputError(Problem.of("strict_national", file="--strict"))

        return finish(
            run_national(
                args.scenario,
                sets,
                args.geodata,
                Path(args.out),
                progress=not args.quiet,
                workers=args.workers,
                scheduler=args.scheduler,
            )
        )
    if args.scheduler:
        raise InputError(Problem.of("scheduler_single", file="--scheduler"))
    scenario = load_scenario(args.scenario, sets, args.province)
    args.lang = lang = scenario.lang  # the language of the messages from here on
    progress = Progress(enabled=not args.quiet)
    result = run(scenario, geodata=args.geodata, progress=progress)
    for line in grouped(result.warnings, lang):  # what the report will list, on the terminal too
        print(line, file=sys.stderr)
    if args.strict and result.warnings:
        print(i18n.text("cli.strict", lang, command="run", n=len(result.warnings)), file=sys.stderr)
        return 2
    folder = write(result, args.out, progress=progress)
    if result.synthetic_roster:  # none given, or a template given back with its synthetic values
        key = "cli.synthetic_roster_template" if scenario.roster else "cli.synthetic_roster"
        print(i18n.text(key, lang), file=sys.stderr)
    print(i18n.text("cli.outputs", lang, path=folder))
    print(i18n.text("cli.map", lang, path=folder / "map.html"))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from . import reform
    from .load import load_pack, province_codes
    from .params import defaults
    from .roster import read_roster

    lang = args.lang or i18n.DEFAULT_LANG
    provinces = [args.province] if args.province else province_codes(args.geodata)
    errors: list = []
    warned = 0
    for code in provinces:
        try:
            pack = load_pack(args.geodata, code, whole=True)  # validate checks every row of every table
            old = reform.classify_old_communes(pack, defaults())  # the run's warnings about the pack
            warnings = [*pack.warnings, *old.warnings]
            if args.roster:
                warnings += read_roster(args.roster, old.frame, args.roster_sheet).warnings
            for line in grouped(warnings, lang):
                print(line)
            warned += len(warnings)
            status = "cli.ok" if not warnings else "cli.ok_warning" if len(warnings) == 1 else "cli.ok_warnings"
            print(
                i18n.text(
                    "cli.validated",
                    lang,
                    code=pack.province_code,
                    name=pack.province_name,
                    old=len(pack.communes_before),
                    new=len(pack.communes_after),
                    status=i18n.text(status, lang, n=len(warnings)),
                )
            )
        except InputError as exc:
            errors.extend(exc.problems)
            if len(provinces) == 1 or any(p.file and p.row is None and "not found" in p.message for p in exc.problems):
                break
    if errors:
        raise InputError(list(dict.fromkeys(errors)))  # each problem once, in the order found
    if args.strict and warned:
        print(i18n.text("cli.strict", lang, command="validate", n=warned), file=sys.stderr)
        return 2
    return 0


def cmd_demo_pack(args: argparse.Namespace) -> int:
    from .demo import make_demo_pack

    path = make_demo_pack(Path(args.out))
    print(f"demo pack: {path}")
    return 0


def message_lang(args: argparse.Namespace) -> str:
    """The language of a command's messages: its --lang (for `run`, the scenario's language once it
    is read), else the scenario file's `[output] lang` when it can be read, else English."""
    from .scenario import scenario_lang

    given = getattr(args, "lang", None)
    scenario = getattr(args, "scenario", None)
    return given or (scenario_lang(scenario) if isinstance(scenario, str) else None) or i18n.DEFAULT_LANG


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser(_command(argv)).parse_args(argv)
    handler = {"run": cmd_run, "plan": cmd_run, "validate": cmd_validate, "demo-pack": cmd_demo_pack}.get(
        args.command
    ) or args.handler
    try:
        return handler(args)
    except InputError as exc:
        lang = message_lang(args)
        # validate never writes; every other command says its outputs are untouched
        said = "cli.bad_input" if args.command == "validate" else "cli.bad_input_nothing_written"
        print(i18n.text(said, lang, command=args.command), file=sys.stderr)
        for line in grouped([p for p in exc.problems if p.severity == "warning"], lang):
            print(line, file=sys.stderr)
        print(exc.describe(limit=200, lang=lang), file=sys.stderr)
        return 2
    except ReorgError as exc:
        print(f"reorg {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(i18n.text("cli.interrupted", message_lang(args)), file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - the last resort: an internal error, with its traceback for a bug report
        traceback.print_exc()
        print(i18n.text("cli.internal_error", message_lang(args), command=args.command), file=sys.stderr)
        return 1


def entry() -> None:
    """The `reorg` command: `main`, then exit without tearing the interpreter down. Every output is
    written, closed and renamed into place by then (worker pools and forked writers joined), so
    freeing the run's millions of objects one by one would only cost time: about 0.4 s of a 4 s
    province run on this machine (mypy exits the same way). Standard streams are flushed first.
    Under a profiler, debugger or coverage tool (a trace or profile function set), which reports at
    the normal exit, the interpreter exits as usual."""
    code = main()
    if sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`reorg ... | head`) or stream
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
