"""Rosters: stations (location, facility score, staff by cadre) and regional centres.

Station locations and staff rosters are not public. A planner may give a roster, CSV or Excel
(schema in `schema.ROSTER`, documented in the README, read by `roster_input`, checked by
`validate.roster`; `roster_template` writes one to fill in); when none is given
`synthesise_stations` draws a seeded, plausible one, and every output says so. Regional centres
are always synthesised at the district seat (the district's thị trấn where one exists) with
synthetic beds and staff. The stations added by the merger (special zones, new sites) are built
here and placed by `reform.stations_after_merger`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import i18n, validate
from ._errors import Problem
from .rules import staff_norms
from .schema import CADRES

STATION_COLUMNS = ["station_code", "old_code", "lon", "lat", "facility_score", *CADRES, "region", "origin"]


@dataclass(frozen=True)
class Roster:
    """The stations of the old communes before the merger (`STATION_COLUMNS`, by station code),
    whether they were simulated (no roster CSV given) and the warnings found reading the CSV."""

    stations: pd.DataFrame
    synthetic: bool
    warnings: list[Problem] = field(default_factory=list)


def stations_before_merger(
    path: str | Path | None, old: pd.DataFrame, params: dict, seed: int, sheet: str | None = None
) -> Roster:
    """The roster at `path` (CSV, or the sheet `sheet` of an Excel workbook, default its first),
    checked against the province's old communes (`old`, by code), or a seeded synthetic roster
    when no path is given."""
    if path:
        return read_roster(path, old, sheet)
    return Roster(stations=synthesise_stations(old, params, seed), synthetic=True)


def read_roster(path: str | Path, old: pd.DataFrame, sheet: str | None = None) -> Roster:
    """Read a roster (CSV or Excel, English or Vietnamese headers), checked by `validate.roster`
    against the province's old communes (`old`, by code); a station's missing region is its old
    commune's."""
    checked = validate.roster(path, old, sheet)
    st = checked.rows.copy()
    st["old_code"] = st["station_code"]
    for c in CADRES:
        st[c] = st[c].astype(int)
    if "region" not in st:
        st["region"] = None
    st["region"] = st["region"].where(st["region"].notna(), st["old_code"].map(old["region"]))
    st["origin"] = "roster"
    out = st[STATION_COLUMNS].set_index("station_code", drop=False).rename_axis(None).sort_index()
    warnings = list(checked.warnings)
    # a `reorg roster-template` given back with rows still marked synthetic is not real data
    marker = {i18n.text("roster_xlsx.source_synthetic", lang).strip().casefold() for lang in i18n.LANGS}
    source = st["source"].fillna("").astype(str).str.strip().str.casefold() if "source" in st else pd.Series(dtype=str)
    n = int(source.isin(marker).sum())
    if n:
        warnings.append(
            Problem.of("roster_xlsx.template_values", file=str(path), field="source", severity="warning", n=n, total=len(st))
        )
    return Roster(stations=out, synthetic=n > 0, warnings=warnings)


def _split_cadres(totals: np.ndarray, has_doctor: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Spread each station's `totals` staff over the cadres (arrays, one entry per station): a
    doctor when present, then one assistant doctor (y sĩ), midwife, nurse and pharmacist in that
    order, the rest drawn among nurse, assistant doctor, midwife and other (synthetic assumption).

    The draws: station by station, one uniform number per extra person mapped through the
    cumulative shares (inverse CDF: what `rng.choice(..., p=...)` does, so the same numbers and
    cadres as drawing station by station)."""
    totals = np.asarray(totals, dtype=np.int64)
    staff = {c: np.zeros(len(totals), dtype=np.int64) for c in CADRES}
    left = totals.copy()
    doctor = np.asarray(has_doctor, dtype=bool) & (left > 0)
    staff["doctor"][doctor] = 1
    left -= doctor
    for cadre in ("assistant_doctor", "midwife", "nurse", "pharmacist"):
        one = left > 0
        staff[cadre][one] += 1
        left -= one
    n_extra = int(left.sum())
    if n_extra:
        share = np.array([0.35, 0.25, 0.15, 0.25])
        cdf = share.cumsum()
        cdf /= cdf[-1]
        drawn = cdf.searchsorted(rng.random(n_extra), side="right")
        owner = np.repeat(np.arange(len(totals)), left)
        for k, cadre in enumerate(("nurse", "assistant_doctor", "midwife", "other")):
            staff[cadre] += np.bincount(owner[drawn == k], minlength=len(totals))
    return staff


def synthesise_stations(old: pd.DataFrame, params: dict, seed: int) -> pd.DataFrame:
    """A seeded synthetic roster: one station per old commune at its representative point.

    Staff total ~ Normal(Circular 03/2023 norm of the commune, `synth_staff_sd`), at least 2;
    a doctor with probability `doctor_presence_share`; facility score uniform in
    [`synth_facility_score_min`, `synth_facility_score_max`].
    """
    rng = np.random.default_rng(seed)
    old = old.sort_index()
    norm = staff_norms(old["pop_2019"].to_numpy(), old["region"].to_numpy(), params)
    totals = np.maximum(2, np.rint(rng.normal(norm, params["synth_staff_sd"]))).astype(int)
    doctors = rng.random(len(old)) < params["doctor_presence_share"]
    lo, hi = params["synth_facility_score_min"], params["synth_facility_score_max"]
    score = np.round(rng.uniform(lo, max(lo, hi), len(old)), 3)
    if not len(old):
        return pd.DataFrame([], columns=STATION_COLUMNS).set_index("station_code", drop=False).rename_axis(None)
    codes = old.index.to_numpy()
    st = pd.DataFrame(
        {
            "station_code": codes,
            "old_code": codes,
            "lon": old["pt_lon"].to_numpy(dtype=float),
            "lat": old["pt_lat"].to_numpy(dtype=float),
            "facility_score": score.astype(float),
            **_split_cadres(totals, doctors, rng),
            "region": old["region"].to_numpy(dtype=object),
            "origin": "synthetic",
        },
        columns=STATION_COLUMNS,
    )
    return st.set_index("station_code", drop=False).rename_axis(None)


def special_zone_stations(new: pd.DataFrame, orphan_codes: Iterable[str], params: dict, seed: int) -> pd.DataFrame:
    """Stations for new communes without any predecessor (island special zones): one synthetic
    station at the unit's point, code 'Z' + new code, staffed to the region-III norm."""
    rng = np.random.default_rng(seed + 1)
    codes = sorted(orphan_codes)
    norms = [int(staff_norms([float(new.at[code, "pop_2019"])], ["III"], params)[0]) for code in codes]
    staff = _split_cadres(np.array(norms, dtype=np.int64), np.ones(len(codes), dtype=bool), rng)
    rows = []
    for k, code in enumerate(codes):
        rows.append(
            {
                "station_code": f"Z{code}",
                "old_code": "",
                "lon": float(new.at[code, "admin_lon"]),
                "lat": float(new.at[code, "admin_lat"]),
                "facility_score": 0.5,
                **{cadre: int(staff[cadre][k]) for cadre in CADRES},
                "region": "III",
                "origin": "special_zone_synthetic",
            }
        )
    return pd.DataFrame(rows, columns=STATION_COLUMNS).set_index("station_code", drop=False).rename_axis(None)


def new_site_stations(new: pd.DataFrame, codes: Iterable[str], params: dict) -> pd.DataFrame:
    """A new site for each new commune that no old station stands in (its old stations all lie in
    neighbouring communes): code 'N' + new code, at the commune's point, no staff yet."""
    rows = []
    for code in sorted(codes):
        rows.append(
            {
                "station_code": f"N{code}",
                "old_code": "",
                "lon": float(new.at[code, "admin_lon"]),
                "lat": float(new.at[code, "admin_lat"]),
                "facility_score": float(params["synth_facility_score_min"]),
                **dict.fromkeys(CADRES, 0),
                "region": "I" if new.at[code, "commune_type"] == "phuong" else "II",
                "origin": "new_site_needed",
            }
        )
    return pd.DataFrame(rows, columns=STATION_COLUMNS).set_index("station_code", drop=False).rename_axis(None)


def synthesise_centres(old: pd.DataFrame, districts: pd.DataFrame, params: dict) -> pd.DataFrame:
    """One regional centre per old district, at the district seat.

    The seat is the district's thị trấn (the most populous if several); for urban districts without
    one, the most populous phường; otherwise the most populous commune (flagged `seat_rule`).
    Beds are interpolated between `centre_beds_min` and `centre_beds_max` by district population;
    staff = beds x `centre_staff_per_bed`; capacity = district population x (1 + slack).
    Every centre's `origin` is "synthetic" (its beds, staff and capacity are made by these rules).
    """
    pop = old.groupby("district_code")["pop_2019"].sum()
    lo, hi = pop.min(), pop.max()
    rows = []
    columns = ["district_code", "district_name", "pop_2019", "commune_code", "commune_name", "commune_type", "pt_lon", "pt_lat"]
    ordered = pd.DataFrame(old[columns]).sort_values(["district_code", "pop_2019", "commune_code"], ascending=[True, False, True])
    kind = ordered["commune_type"].to_numpy()
    rank = np.where(kind == "thi_tran", 0, np.where(kind == "phuong", 1, 2))
    # the seat: the first thị trấn, else phường, else commune of each district, most populous first
    seats = ordered.assign(seat_rank=rank).sort_values(["district_code", "seat_rank"], kind="stable")
    seat_of = {r["district_code"]: r for r in seats.drop_duplicates("district_code").to_dict("records")}
    first_name = dict(zip(*ordered.drop_duplicates("district_code")[["district_code", "district_name"]].to_numpy().T))
    rules = ("thi_tran", "most_populous_phuong", "most_populous_commune")
    pop_of = dict(zip(pop.index, pop.to_numpy()))  # numpy integers, as `pop[dcode]`
    name_of = dict(zip(districts.index, districts["district_name"]))
    for dcode in sorted(pop.index):
        seat = seat_of[dcode]
        rule = rules[seat["seat_rank"]]
        frac = 0.5 if hi == lo else (pop_of[dcode] - lo) / (hi - lo)
        beds = int(round(params["centre_beds_min"] + frac * (params["centre_beds_max"] - params["centre_beds_min"])))
        staff = int(round(beds * params["centre_staff_per_bed"]))
        doctors = int(round(staff * params["centre_doctor_share"]))
        dname = name_of[dcode] if dcode in name_of else first_name[dcode]
        rows.append(
            {
                "centre_code": dcode,
                "name": f"Trung tâm Y tế {dname}",
                "district_name": dname,
                "host_old_code": seat["commune_code"],
                "host_name": seat["commune_name"],
                "seat_rule": rule,
                "lon": float(seat["pt_lon"]),
                "lat": float(seat["pt_lat"]),
                "beds": beds,
                "staff": staff,
                "doctors": doctors,
                "district_population": int(pop_of[dcode]),
                "capacity": int(round(pop_of[dcode] * (1 + params["centre_capacity_slack"]))),
                "origin": "synthetic",
            }
        )
    return pd.DataFrame(rows).set_index("centre_code", drop=False).rename_axis(None)
