"""Scenario files (TOML) with documented keys, and `--set KEY=VALUE` overrides.

Keys (all optional except `province` unless given on the command line):

    name = "nghe_an_official"    # output folder name (default: the file name without .toml)
    title = "..."                 # shown on the map and in the report (or per language: {en = "...",
                                  # vi = "..."}); "{province}" is replaced by the
                                  # province's name; default: the province's name and the policies
    province = "40"               # new province code (1 July 2025), e.g. 40 Nghệ An; a scenario without
                                  # one (scenarios/official.toml) runs any province given by --province
    geodata = "../geodata/demo"   # pack directory, relative to this file (default: $REORG_GEODATA)
    roster = "stations.csv"       # station roster, CSV or Excel (.xlsx), relative to this file
                                  # (default: synthetic); also --roster
    roster_sheet = "Trạm"         # the roster workbook's sheet (default: its first); also --roster-sheet
    seed = 20250701               # seed of every random draw (synthetic roster, attrition)
    export_models = false         # write each solved model (MPS) and its data into <output>/models/

    [terrain]
    dem = "dem.tif"               # elevation model (GeoTIFF, metres, any CRS), relative to this file
                                  # (also --dem): terrain and staffing region by Decree 272/2025

    [population]
    raster = "population.tif"     # population raster (GeoTIFF, persons per cell, any CRS), relative to
                                  # this file (also --population-raster): where people live

    [policy]
    station_roles = "keep_all"          # keep_all | optimise (close points that add little access)
    main_station = "moh_rule"           # moh_rule (least minutes, then facilities) | optimise (roles model)
    catchments = "largest_district"     # largest_district | optimise (catchment model)
    staff = "stay"                      # stay | optimise (staff placement model)

    [params]                      # any parameter of reorg.params by name, e.g.
    doctor_presence_share = 0.9

    [map]
    indicator = "minutes_main_after"    # colour of new communes: minutes_main_after, minutes_nearest_after,
                                        # minutes_centre_after, minutes_main_before, staff_per_1000, gap_after
                                        # (the commune rows of indicators.toml with map breaks)

    [travel]
    roads = "roads.osm.pbf"             # road network (OSM .osm.pbf, or GeoPackage/GeoJSON lines with OSM
                                        # tags), relative to this file (also --roads): minutes on roads
                                        # (roads_graph.py); default: the adjacency model (network.py)

    [output]
    lang = "en"                         # language of every output (map, reports, PDF, workbook): en | vi
                                        # (also --lang; `[map] lang` is read as an older spelling of it)
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import i18n, indicators
from . import params as param_defs
from ._errors import InputError, Problem, did_you_mean
from .workforce.targets import PlanSettings
from .workforce.targets import settings as plan_settings

POLICIES = {  # first value = default
    "station_roles": ("keep_all", "optimise"),
    "main_station": ("moh_rule", "optimise"),
    "catchments": ("largest_district", "optimise"),
    "staff": ("stay", "optimise"),
}
MAP_LANGS = i18n.LANGS
OUTPUT_KEYS = {"lang": i18n.LANGS}
#: indicators that can colour the province map: the commune-scope rows of the indicator table with map classes
MAP_INDICATORS = indicators.map_keys("commune")
TOP_KEYS = {
    "name": str,
    "title": str,
    "province": str,
    "geodata": str,
    "roster": str,
    "roster_sheet": str,
    "seed": int,
    "export_models": bool,
    "policy": dict,
    "params": dict,
    "map": dict,
    "output": dict,
    "terrain": dict,
    "population": dict,
    "travel": dict,
    "plan": dict,
}
#: the input files of the tables `[terrain]`, `[population]` and `[travel]`: {table: (key, ...)}
INPUT_TABLES = {"terrain": ("dem",), "population": ("raster",), "travel": ("roads",)}


@dataclass
class Scenario:
    name: str
    title: str
    province: str | None
    geodata: str | None
    roster: str | None
    seed: int
    policy: dict[str, str]
    params: dict[str, Any]
    map: dict[str, Any]
    source: str
    raw: dict = field(default_factory=dict)
    export_models: bool = False
    lang: str = i18n.DEFAULT_LANG  # language of every output: `[output] lang`, --lang
    roster_sheet: str | None = None  # the sheet of an Excel roster (None: its first)
    dem: str | None = None  # elevation model: `[terrain] dem`, --dem
    population_raster: str | None = None  # population raster: `[population] raster`, --population-raster
    roads: str | None = None  # road network file (`[travel] roads`, --roads); None: the adjacency model
    plan: PlanSettings | None = None  # the plan over years (`[plan]`, `reorg plan`); None: no plan


def _default_name(path: str | Path | None, file_data: dict, province: str | None) -> str:
    """The output folder's name: the file's name, with the province code when the file names no
    province (`official.toml --province 79` writes outputs/official_79/)."""
    if not path:
        return f"province_{province or 'x'}"
    stem = Path(path).stem
    return stem if "province" in file_data or not province else f"{stem}_{province}"


def _title(given: str | dict | None, lang: str) -> str:
    """The scenario's own title in `lang`: the text, or its entry for `lang` (else English) when
    the title is given per language; "" when none (then `titled` builds one)."""
    if isinstance(given, dict):
        return str(given.get(lang) or given.get(i18n.DEFAULT_LANG) or "")
    return given or ""


def titled(scenario: Scenario, province_name: str) -> Scenario:
    """`scenario` with its title for the province `province_name`: the scenario's own title with
    "{province}" replaced, else the province's name and what the policies decide, in the output
    language ("Tỉnh Nghệ An: official merger, baseline decisions")."""
    if scenario.title:
        return replace(scenario, title=scenario.title.replace("{province}", province_name))
    t = i18n.translator(scenario.lang)
    optimised = [key for key, value in scenario.policy.items() if value != POLICIES[key][0]]
    if not optimised:
        what = t("scenario.official")
    elif len(optimised) == len(POLICIES):
        what = t("scenario.all_optimised")
    else:
        what = t("scenario.some_optimised", policies=", ".join(t(f"scenario.policy_{k}") for k in optimised))
    return replace(scenario, title=t("scenario.title", province=province_name, what=what))


def parse_value(text: str) -> Any:
    """A --set value as TOML (numbers, booleans, quoted strings), else the plain text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_sets(data: dict, sets: list[str], file: str) -> dict:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for item in sets or []:
        if "=" not in item:
            raise InputError(Problem.of("set_syntax", file="--set", field=item))
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        target = data
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise InputError(Problem.of("set_not_table", file=f"--set {item}", field=key, part=part))
        target[parts[-1]] = parse_value(value.strip())
    return data


def set_origins(sets: list[str] | None) -> dict[str, str]:
    """The dotted key each `--set KEY=VALUE` gives, and the option as typed ("--set KEY=VALUE"),
    the last one of a key winning: the place a problem with that key's value is blamed on."""
    out: dict[str, str] = {}
    for item in sets or []:
        if "=" in item:
            out[item.split("=", 1)[0].strip()] = f"--set {item}"
    return out


def _blame(problems: list[Problem], origins: dict[str, str]) -> list[Problem]:
    """`problems` with a key given by --set blamed on that --set (its longest given prefix)."""
    out = []
    for p in problems:
        parts = (p.field or "").split(".")
        given = next((origins[k] for k in (".".join(parts[:n]) for n in range(len(parts), 0, -1)) if k in origins), None)
        out.append(dataclasses.replace(p, file=given) if given and p.file != given else p)
    return out


def scenario_lang(path: str | Path | None) -> str | None:
    """The output language a scenario file asks for (`[output] lang`, else `[map] lang`), None when
    the file cannot be read or names no known language: the language of its error messages."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    for table in ("output", "map"):
        lang = data.get(table, {}).get("lang") if isinstance(data.get(table), dict) else None
        if lang in i18n.LANGS:
            return str(lang)
    return None


def load_scenario(path: str | Path | None, sets: list[str] | None = None, province: str | None = None) -> Scenario:
    """Read, override and check a scenario file; every problem is reported with its key, and blamed
    on the `--set KEY=VALUE` that gave the value when one did. Paths in the file are relative to
    the file; paths given by --set to the current directory."""
    origins = set_origins(sets)
    try:
        return _load(path, sets or [], province, origins)
    except InputError as exc:
        raise InputError(_blame(exc.problems, origins)) from None


def _load(path: str | Path | None, sets: list[str], province: str | None, origins: dict[str, str]) -> Scenario:
    data: dict = {}
    file = str(path) if path else "(no scenario file)"
    base = Path(".")
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputError(Problem.of("scenario_not_found", file=str(p.resolve()), path=str(p.resolve())))
        base = p.parent
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise InputError(Problem.of("scenario_not_utf8", file=file)) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(Problem.of("not_toml", file=file, reason=str(exc))) from None
    file_data = dict(data)
    data = apply_sets(data, sets, file)
    if province is not None:
        data["province"] = str(province)
    problems = []
    for key, value in data.items():
        if key not in TOP_KEYS:
            problems.append(Problem.of("unknown_key", file=file, field=key, hint=did_you_mean(key, TOP_KEYS)))
            continue
        want = TOP_KEYS[key]
        if key == "province" and isinstance(value, int) and not isinstance(value, bool):
            data[key] = value = f"{value:02d}"
        if want is int and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(Problem.of("expected_whole", file=file, field=key, value=value))
        elif key == "title" and isinstance(value, dict):  # a title per language: {en = "...", vi = "..."}
            problems += [
                Problem.of("not_one_of", file=file, field=f"title.{k}", value=k, choices=", ".join(i18n.LANGS))
                for k in value
                if k not in i18n.LANGS
            ]
            problems += [
                Problem.of("expected_text", file=file, field=f"title.{k}", value=v)
                for k, v in value.items()
                if not isinstance(v, str)
            ]
        elif want is not int and not isinstance(value, want):
            problems.append(Problem.of("expected_table" if want is dict else "expected_text", file=file, field=key, value=value))
    policy = {k: v[0] for k, v in POLICIES.items()}
    for key, value in (data.get("policy") or {}).items() if isinstance(data.get("policy"), dict) else []:
        if key not in POLICIES:
            problems.append(Problem.of("unknown_policy", file=file, field=f"policy.{key}", hint=did_you_mean(key, POLICIES)))
        elif value not in POLICIES[key]:
            problems.append(
                Problem.of("not_one_of", file=file, field=f"policy.{key}", value=value, choices=", ".join(POLICIES[key]))
            )
        else:
            policy[key] = value
    mp = {"indicator": "minutes_main_after", "lang": "en"}
    allowed = {"indicator": MAP_INDICATORS, "lang": MAP_LANGS}
    for key, value in (data.get("map") or {}).items() if isinstance(data.get("map"), dict) else []:
        if key not in allowed:
            problems.append(Problem.of("unknown_map_key", file=file, field=f"map.{key}", hint=did_you_mean(key, allowed)))
        elif value not in allowed[key]:
            problems.append(Problem.of("not_one_of", file=file, field=f"map.{key}", value=value, choices=", ".join(allowed[key])))
        else:
            mp[key] = value
    out = {"lang": mp.pop("lang")}
    for key, value in (data.get("output") or {}).items() if isinstance(data.get("output"), dict) else []:
        if key not in OUTPUT_KEYS:
            problems.append(
                Problem.of("unknown_output_key", file=file, field=f"output.{key}", hint=did_you_mean(key, OUTPUT_KEYS))
            )
        elif value not in OUTPUT_KEYS[key]:
            problems.append(
                Problem.of("not_one_of", file=file, field=f"output.{key}", value=value, choices=", ".join(OUTPUT_KEYS[key]))
            )
        else:
            out[key] = value
    for table, keys in INPUT_TABLES.items():
        given = data.get(table)
        for key, value in given.items() if isinstance(given, dict) else []:
            if key not in keys:
                problems.append(Problem.of("unknown_key", file=file, field=f"{table}.{key}", hint=did_you_mean(key, keys)))
            elif not isinstance(value, str) or not value:
                problems.append(Problem.of("expected_text", file=file, field=f"{table}.{key}", value=value))
    if problems:
        raise InputError(problems)
    values = param_defs.resolve(data.get("params") or {}, file=file)
    if policy["staff"] != "optimise":
        hires = [k for k, v in values.items() if k.startswith("hires_") and v > 0]
        if hires:
            raise InputError(Problem.of("hires_need_staff_model", file=file, field=f"params.{hires[0]}"))
    planned = plan_settings(data.get("plan"), values, file=file) if "plan" in data else None
    name = data.get("name") or _default_name(path, file_data, data.get("province"))
    if not name.replace("_", "").replace("-", "").isalnum():
        raise InputError(Problem.of("bad_name", file=file, field="name", value=name))

    def rel(key, table=None):  # a path of the file is relative to the file; one given by --set, to the current directory
        v = data.get(key) if table is None else (data.get(table) or {}).get(key)
        dotted = key if table is None else f"{table}.{key}"
        if v is None:
            return None
        return str(Path(v) if Path(v).is_absolute() or dotted in origins or table in origins else base / v)

    return Scenario(
        name=name,
        title=_title(data.get("title"), out["lang"]),
        province=data.get("province"),
        geodata=rel("geodata"),
        roster=rel("roster"),
        seed=int(data.get("seed", 20250701)),
        policy=policy,
        params=values,
        map=mp,
        source=file,
        raw=data,
        export_models=bool(data.get("export_models", False)),
        lang=out["lang"],
        roster_sheet=data.get("roster_sheet"),
        dem=rel("dem", "terrain"),
        population_raster=rel("raster", "population"),
        roads=rel("roads", "travel"),
        plan=planned,
    )
