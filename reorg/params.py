"""Named model parameters: every number the simulator uses, with its default, unit and source.

Defaults and sources come from ../shared/design/DOMAIN.md (section and source ids such as [S23]);
confidence follows DOMAIN.md: H (read in the document), M (one secondary source), L (assumption,
shown as such wherever it is used). A scenario overrides any of them under `[params]` by name.
The report's assumptions page prints this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._errors import InputError, Problem, did_you_mean
from .schema import CADRES


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    unit: str
    description: str
    source: str
    confidence: str  # H / M / L
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None


_P = Param
PARAMETERS: tuple[Param, ...] = (
    # --- Circular 03/2023/TT-BYT staffing norm (DOMAIN.md 1D) ---
    _P("staff_base", 5, "persons", "base staff per station", "DOMAIN 1D, Circular 03/2023 Art. 5(2)(b) [S23]", "H", 0, 50),
    _P(
        "norm_pop_threshold_region_I_II",
        6000,
        "persons",
        "population above which stations in regions I/II get extra staff",
        "DOMAIN 1D [S23]",
        "H",
        0,
        None,
    ),
    _P(
        "norm_pop_step_region_I_II",
        2500,
        "persons",
        "+1 staff per this many residents above the threshold (regions I/II; the Circular says 2,000-3,000)",
        "DOMAIN 1D [S23]; midpoint is an assumption",
        "H/L",
        1,
        None,
    ),
    _P(
        "norm_pop_threshold_region_III",
        5000,
        "persons",
        "population above which stations in region III get extra staff",
        "DOMAIN 1D [S23]",
        "H",
        0,
        None,
    ),
    _P(
        "norm_pop_step_region_III",
        1000,
        "persons",
        "+1 staff per this many residents above the threshold (region III)",
        "DOMAIN 1D [S23]",
        "H",
        1,
        None,
    ),
    _P(
        "geo_coef_region_I",
        1.0,
        "multiplier",
        "regional coefficient, region I; norm = ceil((base + steps) x coef)",
        "DOMAIN 1D [S23]; order of application is an assumption",
        "H",
        0.1,
        5,
    ),
    _P("geo_coef_region_II", 1.2, "multiplier", "regional coefficient, region II", "DOMAIN 1D [S23]", "H", 0.1, 5),
    _P("geo_coef_region_III", 1.3, "multiplier", "regional coefficient, region III", "DOMAIN 1D [S23]", "H", 0.1, 5),
    _P(
        "doctors_min_main_station",
        1,
        "doctors",
        "minimum doctors at each main station (1: Decision 281/QĐ-TTg 2030 goal; 2: Nghệ An plan; 4-5: Resolution 72 for 2027)",
        "DOMAIN 1C/1D [S41][S44][S20]",
        "M",
        0,
        10,
    ),
    # --- staffing region (I/II/III) classification: definition not verified (DOMAIN 1D, open question 2) ---
    _P(
        "region_rule",
        "type_terrain",
        "-",
        "how old communes get staffing region I/II/III when the roster gives none: wards and towns I, lowland communes II, mountain communes III",
        "assumption (DOMAIN 1D says the definition is not verified)",
        "L",
    ),
    _P(
        "mountain_density_max_per_km2",
        150.0,
        "persons/km²",
        "a rural commune below this 2019 population density is classed mountain (no elevation data in the pack; Decree 272/2025 needs a DEM)",
        "assumption; DOMAIN 1B gives the legal definition",
        "L",
        0,
        None,
    ),
    # --- synthetic roster (DOMAIN 1G) ---
    _P(
        "synth_staff_sd",
        1.7,
        "persons",
        "spread of synthetic staff per station around its norm",
        "DOMAIN 1G: 6.3 ± 1.7 per station, 239 stations [S24]",
        "H",
        0,
        10,
    ),
    _P(
        "doctor_presence_share",
        0.597,
        "share",
        "share of stations with at least one doctor in a synthetic roster (national sample 59.7 %; Nghệ An end-2018 90 %)",
        "DOMAIN 1G [S24]; Nghệ An [S42]",
        "H",
        0,
        1,
    ),
    _P(
        "synth_facility_score_min",
        0.3,
        "score 0..1",
        "lowest synthetic facility score",
        "assumption (station condition data not public)",
        "L",
        0,
        1,
    ),
    _P("synth_facility_score_max", 1.0, "score 0..1", "highest synthetic facility score", "assumption", "L", 0, 1),
    _P(
        "centre_beds_min",
        50,
        "beds",
        "smallest synthetic regional centre (beds), given to the least populous district",
        "DOMAIN 1G: typical district centre 50-300 planned beds",
        "L",
        0,
        None,
    ),
    _P(
        "centre_beds_max",
        300,
        "beds",
        "largest synthetic regional centre (beds), given to the most populous district",
        "DOMAIN 1G [S57]: Diễn Châu 220 beds; range from memory",
        "L",
        0,
        None,
    ),
    _P(
        "centre_staff_per_bed",
        1.25,
        "persons/bed",
        "synthetic regional centre staff per bed (DOMAIN open question 5: centre norms not retrieved)",
        "assumption",
        "L",
        0,
        10,
    ),
    _P("centre_doctor_share", 0.25, "share", "share of doctors among synthetic regional centre staff", "assumption", "L", 0, 1),
    _P(
        "centre_capacity_slack",
        0.2,
        "share",
        "a centre can serve its old district population x (1 + slack)",
        "assumption (centres were sized for their districts)",
        "L",
        0,
        10,
    ),
    # --- travel model (DOMAIN 1H; MODEL.md section 7) ---
    _P(
        "speed_urban_kmh",
        30.0,
        "km/h",
        "effective motorbike speed in wards and towns (district/commune concrete roads 25-35)",
        "DOMAIN 1H, suggested effective speeds",
        "L",
        1,
        120,
    ),
    _P(
        "speed_lowland_kmh",
        45.0,
        "km/h",
        "effective motorbike speed between lowland communes (national/provincial roads 40-50)",
        "DOMAIN 1H",
        "L",
        1,
        120,
    ),
    _P(
        "speed_mountain_kmh",
        15.0,
        "km/h",
        "effective motorbike speed between mountain communes (unpaved mountain tracks 10-15)",
        "DOMAIN 1H",
        "L",
        1,
        120,
    ),
    _P(
        "season_speed_factor",
        1.0,
        "multiplier",
        "multiplies every road speed; 0.7 models the rainy season",
        "DOMAIN 1H (rainy-season factor 0.7)",
        "L",
        0.05,
        2,
    ),
    _P(
        "sea_speed_kmh",
        40.0,
        "km/h",
        "speed of every water link between pieces of the province with no land link (islands): a scheduled fast boat, door to door; ~14 km/h models a conventional boat",
        "DOMAIN 1H (sea crossings: SGGP 8 Mar 2024; condao.com.vn 31 May 2019; Vietnam News 2024)",
        "M",
        1,
        120,
    ),
    _P(
        "circuity_factor",
        1.3,
        "ratio",
        "road distance / straight-line distance",
        "assumption (not in DOMAIN.md; common literature range 1.2-1.4)",
        "L",
        1,
        3,
    ),
    # --- optimisation models (MODEL.md section 4; DOMAIN.md 1C, 1D, 1F, 1H) ---
    _P(
        "mip_solver",
        "CBC",
        "-",
        "OR-Tools MIP backend for the three models (CBC, SCIP or HIGHS); CBC was fastest overall here (SCIP is faster on the staff model's second stage; HiGHS is slowest), see benchmarks/RESULTS.md",
        "technical",
        "-",
        choices=("CBC", "SCIP", "HIGHS"),
    ),
    _P(
        "solver_time_limit_s",
        30.0,
        "s",
        "time limit of each solve; at the limit the best plan found and its gap are reported",
        "technical",
        "-",
        1,
        3600,
    ),
    _P(
        "main_facility_weight_minutes",
        5.0,
        "min per resident per unit of score",
        "station roles: a main site with facility score 1 instead of 0 is worth this many minutes of travel for every resident (MoH rule: most convenient location and best facilities, DOMAIN 1C [S4])",
        "assumption (the rule gives no weights)",
        "L",
        0,
        120,
    ),
    _P(
        "point_keep_cost_person_minutes",
        20000.0,
        "person-minutes",
        "station roles (optimise): a point stays open only if it saves its residents more than this (one trip each)",
        "assumption (DOMAIN 1C: provinces kept most points; no national rule)",
        "L",
        0,
        None,
    ),
    _P(
        "max_minutes_nearest_facility",
        60.0,
        "min",
        "station roles (optimise): nobody may be farther than this from an open site of their commune, where some site is that close",
        "assumption (DOMAIN 1F: no national travel-time standard was found)",
        "L",
        1,
        1440,
    ),
    _P(
        "points_budget",
        -1,
        "points",
        "station roles (optimise): most points kept in the province; -1 = no budget",
        "scenario choice (DOMAIN 1C: Sơn La kept 125 points for 75 stations)",
        "L",
        -1,
        None,
    ),
    _P(
        "doctor_shortfall_weight",
        10.0,
        "staff per doctor",
        "staff placement: one doctor missing at a main station weighs as this many staff missing from a norm (doctors first)",
        "assumption (MODEL 4.2: doctors weigh most)",
        "L",
        1,
        1000,
    ),
    _P(
        "max_move_minutes",
        60.0,
        "min",
        "staff placement: longest move between stations (travel minutes)",
        "assumption",
        "L",
        0,
        1440,
    ),
    _P(
        "move_candidates",
        15,
        "stations",
        "staff placement: each station may send staff to its this many nearest open stations within the limit (and to every site of its commune when it closes)",
        "technical (model size)",
        "-",
        1,
        1000,
    ),
    _P(
        "rotation_doctors_per_centre",
        0,
        "doctors",
        "staff placement: doctors each regional centre may rotate to stations (MoH letter 5851/BYT-TCCB; Nghệ An plan)",
        "DOMAIN 1C [S44]",
        "M",
        0,
        100,
    ),
    *(
        _P(
            f"attrition_{c}",
            0.0,
            "share",
            f"staff placement: share of {c.replace('_', ' ')}s lost before placement (seeded draw), e.g. to the private sector",
            "scenario choice",
            "-",
            0,
            1,
        )
        for c in CADRES
    ),
    *(
        _P(
            f"hires_{c}",
            0,
            "persons",
            f"staff placement: new {c.replace('_', ' ')}s hired and placed by the model",
            "scenario choice",
            "-",
            0,
            100000,
        )
        for c in CADRES
    ),
    _P(
        "capacity_penalty_per_person",
        120.0,
        "person-minutes per person",
        "catchments: cost of each resident above a centre's capacity (soft capacity)",
        "assumption",
        "L",
        0,
        None,
    ),
    _P(
        "centres_kept",
        -1,
        "centres",
        "catchments: number of regional centres kept; -1 = all",
        "scenario choice (DOMAIN 1C: HCMC dissolved its bed-less centres)",
        "M",
        -1,
        None,
    ),
    _P(
        "contiguous_catchments",
        False,
        "bool",
        "catchments: every centre's catchment is one connected piece",
        "scenario choice",
        "-",
    ),
    _P(
        "nopolygon_link_km",
        10.0,
        "km",
        "a commune without polygon in the pack is linked by road to its nearest communes within this distance; farther ones (islands) by sea links",
        "technical (MANIFEST: 12 units without polygon)",
        "L",
        0,
        1000,
    ),
    _P(
        "adjacency_tolerance_m",
        200.0,
        "m",
        "two communes are neighbours when their polygons come within this distance (the pack's polygons leave slivers, MANIFEST section 8)",
        "technical, from the pack's measured gaps",
        "L",
        0,
        5000,
    ),
)

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}


def defaults() -> dict[str, Any]:
    return {p.name: p.default for p in PARAMETERS}


def resolve(overrides: dict[str, Any] | None, *, file: str = "scenario") -> dict[str, Any]:
    """Defaults updated by `overrides`, each checked for name, type and range."""
    values = defaults()
    problems = []
    for key, value in (overrides or {}).items():
        if key not in BY_NAME:
            problems.append(Problem.of("unknown_param", file=file, field=f"params.{key}", hint=did_you_mean(key, BY_NAME)))
            continue
        p = BY_NAME[key]
        if isinstance(p.default, bool):
            if not isinstance(value, bool):
                problems.append(Problem.of("expected_bool", file=file, field=f"params.{key}", value=value))
                continue
        elif isinstance(p.default, str):
            if not isinstance(value, str):
                problems.append(Problem.of("expected_text", file=file, field=f"params.{key}", value=value))
                continue
            if p.choices and value not in p.choices:
                problems.append(
                    Problem.of("not_one_of", file=file, field=f"params.{key}", value=value, choices=", ".join(p.choices))
                )
                continue
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(Problem.of("expected_number", file=file, field=f"params.{key}", unit=p.unit, value=value))
                continue
            if isinstance(p.default, int) and not isinstance(p.default, bool) and float(value) != int(value):
                problems.append(Problem.of("expected_whole", file=file, field=f"params.{key}", value=value))
                continue
            if (p.minimum is not None and value < p.minimum) or (p.maximum is not None and value > p.maximum):
                problems.append(
                    Problem.of(
                        "out_of_range",
                        file=file,
                        field=f"params.{key}",
                        value=value,
                        minimum=p.minimum,
                        maximum=p.maximum,
                        unit=p.unit,
                    )
                )
                continue
            value = type(p.default)(value)
        values[key] = value
    if problems:
        raise InputError(problems)
    return values
