"""Command line: `reorg run`, `reorg validate`, `reorg demo-pack`.

The one place that turns errors into messages and exit codes: 0 done, 2 bad input (a readable
message naming file, row and field; nothing written), 1 internal error.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from ._errors import InputError, ReorgError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="reorg", description="Simulate the reorganisation of Vietnam's grassroots health network after the 2025 reform."
    )
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario and write outputs/<name>/")
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
    r.add_argument("--quiet", action="store_true", help="no progress display")
    r.add_argument(
        "--workers", type=int, default=2, help="--province all: local worker processes (default: 2; 0: in this process)"
    )
    r.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="--province all: run the provinces on an existing Dask distributed cluster, e.g. tcp://10.0.0.5:8786",
    )
    v = sub.add_parser("validate", help="check a geodata pack (and a roster) and report every problem")
    v.add_argument("--geodata", help="geodata pack directory (default: $REORG_GEODATA)")
    v.add_argument("--province", help="new province code; default: every province")
    v.add_argument("--roster", help="station roster CSV to check against the province")
    d = sub.add_parser("demo-pack", help="generate the synthetic demo geodata pack")
    d.add_argument("--out", default="geodata/demo", help="directory (default: geodata/demo)")
    for module in PLUGIN_COMMANDS:
        __import__(f"reorg.{module}", fromlist=["add_parser"]).add_parser(sub)
    return p


# modules that add a subcommand: each has add_parser(subparsers), which sets `handler` as a default
PLUGIN_COMMANDS: tuple[str, ...] = ("compare", "sweep")


def cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import Progress, run, write
    from .scenario import load_scenario

    sets = (
        list(args.sets)
        + ([f"output.lang='{args.lang}'"] if args.lang else [])
        + (["export_models=true"] if args.export_models else [])
    )
    if (args.province or load_scenario(args.scenario, sets).province or "").lower() == "all":
        from .national import finish, run_national

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
        raise InputError(
            "--scheduler runs the provinces of a national run (--province all) on a Dask cluster; "
            "a single province runs in this process",
            file="--scheduler",
        )
    scenario = load_scenario(args.scenario, sets, args.province)
    progress = Progress(enabled=not args.quiet)
    result = run(scenario, geodata=args.geodata, progress=progress)
    folder = write(result, args.out, progress=progress)
    if result.synthetic_roster:
        print("note: synthetic roster (no roster CSV given): station staff and locations are simulated", file=sys.stderr)
    print(f"outputs: {folder}")
    print(f"map: {folder / 'map.html'}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from . import reform
    from .load import load_pack, province_codes
    from .params import defaults
    from .roster import read_roster

    provinces = [args.province] if args.province else province_codes(args.geodata)
    errors: list = []
    for code in provinces:
        try:
            pack = load_pack(args.geodata, code)
            for w in pack.warnings:
                print(w.format())
            if args.roster:
                given = read_roster(args.roster, reform.classify_old_communes(pack, defaults()).frame)
                for w in given.warnings:
                    print(w.format())
            print(
                f"province {pack.province_code} {pack.province_name}: {len(pack.communes_before)} old communes -> {len(pack.communes_after)} new communes, ok"
            )
        except InputError as exc:
            errors.extend(exc.problems)
            if len(provinces) == 1 or any(p.file and p.row is None and "not found" in p.message for p in exc.problems):
                break
    if errors:
        raise InputError(list(dict.fromkeys(errors)))  # each problem once, in the order found
    return 0


def cmd_demo_pack(args: argparse.Namespace) -> int:
    from .demo import make_demo_pack

    path = make_demo_pack(Path(args.out))
    print(f"demo pack: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {"run": cmd_run, "validate": cmd_validate, "demo-pack": cmd_demo_pack}.get(args.command) or args.handler
    try:
        return handler(args)
    except InputError as exc:
        print(f"reorg {args.command}: bad input, nothing written", file=sys.stderr)
        for p in exc.problems:
            if p.severity == "warning":
                print(p.format(), file=sys.stderr)
        print(exc.describe(limit=200), file=sys.stderr)
        return 2
    except ReorgError as exc:
        print(f"reorg {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reorg: interrupted, nothing written", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - the last resort: an internal error, with its traceback for a bug report
        traceback.print_exc()
        print(
            f"reorg {args.command}: internal error (a bug in reorg, not in your input); please report the traceback above",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
