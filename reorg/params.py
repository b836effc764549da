"""Named model parameters: every number the simulator uses, with its default, unit and confidence.

Defaults come from ../shared/design/DOMAIN.md; each parameter's description and source (DOMAIN.md
section and source ids such as [S23]) are words, in the message files' [param] and [param_source]
sections by parameter name (`description`, `source`), its unit's words in [param_unit];
confidence follows DOMAIN.md: H (read in the document), M (one secondary source), L (assumption,
shown as such wherever it is used). A scenario overrides any of them under `[params]` by name.
The report's assumptions page prints this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import i18n
from ._errors import InputError, Problem, did_you_mean
from .schema import CADRES


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    unit: str  # English unit words; in other languages from the message files' [param_unit]
    confidence: str  # H / M / L
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None


_P = Param
PARAMETERS: tuple[Param, ...] = (
    # --- Circular 03/2023/TT-BYT staffing norm (DOMAIN.md 1D) ---
    _P("staff_base", 5, "persons", "H", 0, 50),
    _P("norm_pop_threshold_region_I_II", 6000, "persons", "H", 0, None),
    _P("norm_pop_step_region_I_II", 2500, "persons", "H/L", 1, None),
    _P("norm_pop_threshold_region_III", 5000, "persons", "H", 0, None),
    _P("norm_pop_step_region_III", 1000, "persons", "H", 1, None),
    _P("geo_coef_region_I", 1.0, "multiplier", "H", 0.1, 5),
    _P("geo_coef_region_II", 1.2, "multiplier", "H", 0.1, 5),
    _P("geo_coef_region_III", 1.3, "multiplier", "H", 0.1, 5),
    _P("doctors_min_main_station", 1, "doctors", "M", 0, 10),
    # --- staffing region (I/II/III) classification: definition not verified (DOMAIN 1D, open question 2) ---
    _P("region_rule", "type_terrain", "-", "L"),
    _P("mountain_density_max_per_km2", 150.0, "persons/km²", "L", 0, None),
    # --- terrain from an elevation model (DOMAIN 1B: Decree 272/2025) ---
    _P("mountain_elevation_m", 200.0, "m", "H", 0, 9000),
    _P("mountain_area_share", 2 / 3, "share", "H", 0, 1),
    _P("dem_min_coverage_share", 0.5, "share", "L", 0, 1),
    # --- demand points from a population raster (issue 12 point 3) ---
    _P("demand_cell_m", 1000.0, "m", "L", 100, 100000),
    # --- synthetic roster (DOMAIN 1G) ---
    _P("synth_staff_sd", 1.7, "persons", "H", 0, 10),
    _P("doctor_presence_share", 0.597, "share", "H", 0, 1),
    _P("synth_facility_score_min", 0.3, "score 0..1", "L", 0, 1),
    _P("synth_facility_score_max", 1.0, "score 0..1", "L", 0, 1),
    _P("centre_beds_min", 50, "beds", "L", 0, None),
    _P("centre_beds_max", 300, "beds", "L", 0, None),
    _P("centre_staff_per_bed", 1.25, "persons/bed", "L", 0, 10),
    _P("centre_doctor_share", 0.25, "share", "L", 0, 1),
    _P("centre_capacity_slack", 0.2, "share", "L", 0, 10),
    # --- travel model (DOMAIN 1H; MODEL.md section 7) ---
    _P("speed_urban_kmh", 30.0, "km/h", "L", 1, 120),
    _P("speed_lowland_kmh", 45.0, "km/h", "L", 1, 120),
    _P("speed_mountain_kmh", 15.0, "km/h", "L", 1, 120),
    _P("season_speed_factor", 1.0, "multiplier", "L", 0.05, 2),
    _P("sea_speed_kmh", 40.0, "km/h", "M", 1, 120),
    _P("circuity_factor", 1.3, "ratio", "L", 1, 3),
    # --- optimisation models (MODEL.md section 4; DOMAIN.md 1C, 1D, 1F, 1H) ---
    _P("mip_solver", "CBC", "-", "-", choices=("CBC", "SCIP", "HIGHS")),
    _P("solver_time_limit_s", 30.0, "s", "-", 1, 3600),
    _P("main_facility_weight_minutes", 5.0, "min per resident per unit of score", "L", 0, 120),
    _P("point_keep_cost_person_minutes", 20000.0, "person-minutes", "L", 0, None),
    _P("max_minutes_nearest_facility", 60.0, "min", "L", 1, 1440),
    _P("points_budget", -1, "points", "L", -1, None),
    _P("doctor_shortfall_weight", 10.0, "staff per doctor", "L", 1, 1000),
    _P("max_move_minutes", 60.0, "min", "L", 0, 1440),
    _P("move_candidates", 15, "stations", "-", 1, 1000),
    _P("rotation_doctors_per_centre", 0, "doctors", "M", 0, 100),
    *(_P(f"attrition_{c}", 0.0, "share", "-", 0, 1) for c in CADRES),
    *(_P(f"hires_{c}", 0, "persons", "-", 0, 100000) for c in CADRES),
    _P("capacity_penalty_per_person", 120.0, "person-minutes per person", "L", 0, None),
    _P("centres_kept", -1, "centres", "M", -1, None),
    _P("contiguous_catchments", False, "bool", "-"),
    _P("nopolygon_link_km", 10.0, "km", "L", 0, 1000),
    _P("adjacency_tolerance_m", 200.0, "m", "L", 0, 5000),
    # --- road network travel model, used with `[travel] roads` (DOMAIN 1H; issue 12) ---
    _P("roads_buffer_km", 10.0, "km", "L", 0, 500),
    _P("snap_max_km", 2.0, "km", "L", 0, 1000),
    _P("offroad_speed_kmh", 5.0, "km/h", "H", 0.1, 60),
    _P("road_speed_motorway_kmh", 50.0, "km/h", "L", 0, 130),
    _P("road_speed_trunk_kmh", 50.0, "km/h", "L", 0, 130),
    _P("road_speed_primary_kmh", 45.0, "km/h", "L", 0, 130),
    _P("road_speed_secondary_kmh", 40.0, "km/h", "L", 0, 130),
    _P("road_speed_tertiary_kmh", 35.0, "km/h", "L", 0, 130),
    _P("road_speed_unclassified_kmh", 30.0, "km/h", "L", 0, 130),
    _P("road_speed_residential_kmh", 25.0, "km/h", "L", 0, 130),
    _P("road_speed_service_kmh", 20.0, "km/h", "H", 0, 130),
    _P("road_speed_track_kmh", 12.0, "km/h", "L", 0, 130),
    _P("road_speed_path_kmh", 10.0, "km/h", "H", 0, 130),
    _P("road_speed_footway_kmh", 5.0, "km/h", "H", 0, 130),
    _P("surface_paved_factor", 0.9, "multiplier", "H", 0, 1),
    _P("surface_compacted_factor", 0.85, "multiplier", "H", 0, 1),
    _P("surface_unpaved_factor", 0.7, "multiplier", "H", 0, 1),
    _P("smoothness_worst_factor", 0.3, "multiplier", "H", 0, 1),
    _P("tracktype_worst_factor", 0.6, "multiplier", "H", 0, 1),
    _P("ferry_speed_kmh", 5.0, "km/h", "H", 0.1, 120),
    # --- the plan over years (`reorg plan`, issue 13; DOMAIN.md 1D, 1F, 1G2, 1I): every name starts with plan_ ---
    _P("plan_start_year", 2026, "year", "-", 2025, 2100),
    _P("plan_end_year", 2030, "year", "-", 2025, 2100),
    _P("plan_budget_recurrent_mvnd", -1.0, "million VND/year", "-", -1, None),
    _P("plan_budget_capital_mvnd", -1.0, "million VND/year", "-", -1, None),
    *(_P(f"plan_graduates_{c}", -1, "persons/year", "L", -1, 100000) for c in CADRES),
    _P("plan_commune_post_share", 0.1, "share", "L", 0, 1),
    _P("plan_doctors_per_10k_2025", 15.0, "per 10,000", "H", 0, 1000),
    _P("plan_doctors_per_10k_2030", 19.0, "per 10,000", "H", 0, 1000),
    _P("plan_nurses_per_10k_2025", 25.0, "per 10,000", "H", 0, 1000),
    _P("plan_nurses_per_10k_2030", 33.0, "per 10,000", "H", 0, 1000),
    _P("plan_pharmacists_per_10k_2025", 3.4, "per 10,000", "H", 0, 1000),
    _P("plan_pharmacists_per_10k_2030", 4.0, "per 10,000", "H", 0, 1000),
    _P("plan_graduates_per_100k", 1.0, "per 100,000 per year", "L", 0, 1000),
    _P("plan_max_hires_per_station", 2, "persons/year", "L", 0, 100),
    *(_P(f"plan_leave_rate_{c}", 0.002, "share/year", "L", 0, 1) for c in CADRES),
    _P("plan_leave_doctor_mountain_factor", 3.0, "multiplier", "L", 0, 100),
    _P("plan_base_salary_mvnd_month", 2.34, "million VND/month", "H", 0, None),
    _P("plan_salary_coef_doctor", 2.34, "coefficient", "M", 0, 20),
    _P("plan_salary_coef_other", 1.86, "coefficient", "M", 0, 20),
    _P("plan_occupational_allowance", 0.4, "share", "M", 0, 5),
    _P("plan_occupational_allowance_hard", 1.0, "share", "M", 0, 5),
    _P("plan_attraction_allowance", 0.7, "share", "M", 0, 5),
    _P("plan_rotation_cost_mvnd", 30.0, "million VND per doctor-year", "L", 0, None),
    _P("plan_upgrade_capex_mvnd", 1800.0, "million VND", "M", 0, None),
    _P("plan_new_station_capex_mvnd", 4000.0, "million VND", "L", 0, None),
    _P("plan_upgrade_score", 0.8, "score 0..1", "L", 0, 1),
    _P("plan_norm_year", 2026, "year", "H", 2000, 2100),
    _P("plan_titles_year", 2026, "year", "H", 2000, 2100),
    _P("plan_doctors_min_main_year", 2026, "year", "M", 2000, 2100),
    _P("plan_res72_doctors", 4, "doctors", "M", 0, 50),
    _P("plan_res72_doctors_year", 2027, "year", "M", 2000, 2100),
    _P("plan_permanent_doctor_year", 2030, "year", "M", 2000, 2100),
    _P("plan_upgraded_year", 2030, "year", "M", 2000, 2100),
    _P("plan_doctors_per_10k_year", 2030, "year", "H", 2000, 2100),
    _P("plan_relative_gap", 0.005, "share", "-", 0, 1),
    _P("plan_shortfall_gap", 0.0025, "share", "-", 0, 1),
    _P("plan_mip_solver", "SCIP", "-", "-", choices=("SCIP", "CBC")),
    _P("plan_time_limit_s", 15.0, "s", "-", 1, 3600),
)

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}
# used by the `roads` travel model only (roads.py, roads_graph.py): left out of the assumptions
# table of a run without roads, whose outputs then stay as they were before roads existed
ROADS_ONLY: frozenset[str] = frozenset(
    name
    for name in BY_NAME
    if name.startswith(("road_speed_", "surface_", "smoothness_", "tracktype_"))
    or name in ("roads_buffer_km", "snap_max_km", "offroad_speed_kmh", "ferry_speed_kmh")
)


def applies(name: str, travel_model: str) -> bool:
    """Whether parameter `name` takes part in a run with `travel_model` ("adjacency" or "roads"); the
    plan's parameters (`plan_*`, the plan's own assumptions table) take no part in a run."""
    return (travel_model == "roads" or name not in ROADS_ONLY) and not is_plan(name)


def is_plan(name: str) -> bool:
    """Whether parameter `name` is one of the plan over years' (`reorg plan`; workforce/)."""
    return name.startswith("plan_")


def description(name: str, lang: str = i18n.DEFAULT_LANG) -> str:
    """What parameter `name` does, in `lang`."""
    return i18n.text(f"param.{name}", lang)


def source(name: str, lang: str = i18n.DEFAULT_LANG) -> str:
    """Where parameter `name`'s value comes from (DOMAIN.md section, source ids), in `lang`."""
    return i18n.text(f"param_source.{name}", lang)


def unit_text(name: str, lang: str = i18n.DEFAULT_LANG) -> str:
    """The unit of parameter `name`, in `lang`."""
    return i18n.text(f"param_unit.{BY_NAME[name].unit}", lang)


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
