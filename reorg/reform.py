"""Reform stage: apply the official 2025 merger to communes, population and stations.

Demand nodes are (old commune, new commune) parts: an old commune wholly merged is one part; one
split between several new communes gives one part per target, its population shared by area of
overlap (merger `share`). A part sits at the representative point of the old polygon inside the
new one, or at the old commune's point when it has no polygon. Each station belongs to the new
commune, among its official targets, that contains it (the largest target when none does); a
new commune without predecessor (island special zone) gets a synthetic station, and one that no
station stands in gets a new site (`stations_after_merger`).

Nothing here modifies the pack it is given: the warnings found are returned (`Reformed.warnings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import roster
from ._errors import Problem
from .load import Pack
from .schema import COMMUNES_BEFORE

URBAN_TYPES = ("phuong", "thi_tran")


@dataclass
class Reformed:
    """The province after the merger.

    old: old communes (GeoDataFrame by code) with terrain (urban/lowland/mountain), region (I/II/III),
        and the station point `pt_lon`, `pt_lat`.
    new: new communes (GeoDataFrame by code) with `population` (sum of its demand parts, persons).
    demand: one row per (old_code, new_code) part: population (persons), lon, lat, district_code.
    warnings: what the reform found and tolerated (a station point moved onto its new commune).
    """

    old: gpd.GeoDataFrame
    new: gpd.GeoDataFrame
    demand: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class OldCommunes:
    """The old communes classified (`classify_old_communes`) and the warnings found doing it."""

    frame: gpd.GeoDataFrame
    warnings: list[Problem] = field(default_factory=list)


def classify_old_communes(pack: Pack, params: dict) -> OldCommunes:
    """Terrain and staffing region of each old commune, and its representative point.

    Terrain (assumption, see params): wards and towns are urban; other communes are mountain when
    their 2019 density is below `mountain_density_max_per_km2`, else lowland. Region: urban I,
    lowland II, mountain III.
    """
    warnings: list[Problem] = []
    old = pack.communes_before.copy()
    area = old["area_km2"].astype(float)
    # communes without polygon take the density of their main new commune
    if area.isna().any():
        main_target = (
            pack.merger.sort_values("share", ascending=False)
            .drop_duplicates("old_commune_code")
            .set_index("old_commune_code")["new_commune_code"]
        )
        a = pack.communes_after
        dens_new = a["pop_2019"] / a["area_km2"].replace(0, np.nan)
        fallback = main_target.reindex(old.index).map(dens_new)
    else:
        fallback = pd.Series(np.nan, index=old.index)
    density = (old["pop_2019"] / area.replace(0, np.nan)).fillna(fallback).fillna(np.inf)
    terrain = np.where(
        old["commune_type"].isin(URBAN_TYPES),
        "urban",
        np.where(density < params["mountain_density_max_per_km2"], "mountain", "lowland"),
    )
    old["density_per_km2"] = density.replace(np.inf, np.nan)
    old["terrain"] = terrain
    old["region"] = pd.Series(terrain, index=old.index).map({"urban": "I", "lowland": "II", "mountain": "III"})
    # representative point: the pack's point when it lies in the polygon, else a point on the polygon
    pts = shapely.points(old["lon"].to_numpy(), old["lat"].to_numpy())
    geoms = old.geometry.to_numpy()
    has_poly = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    inside = np.zeros(len(old), dtype=bool)
    inside[has_poly] = shapely.contains(geoms[has_poly], pts[has_poly])
    rep = pts.copy()
    fix = has_poly & ~inside
    rep[fix] = shapely.point_on_surface(geoms[fix])
    # without polygon, the point must at least lie in one of the commune's official targets; if not
    # (the pack puts the Trường Sa islands' points on the mainland), take a point on the main target
    targets = targets_by_share(pack.merger) if not has_poly.all() else {}
    a = pack.communes_after
    for k in np.flatnonzero(~has_poly):
        code = old.index[k]
        polys = [a.geometry.get(t) for t in targets.get(code, []) if a.geometry.get(t) is not None]
        if polys and not any(g.contains(pts[k]) for g in polys):
            rep[k] = shapely.point_on_surface(polys[0])
            warnings.append(
                Problem.of(
                    "point_outside_new_commune",
                    file=COMMUNES_BEFORE.file,
                    layer=COMMUNES_BEFORE.layer,
                    field="lon",
                    code=code,
                    severity="warning",
                    lon=float(old.at[code, "lon"]),
                    lat=float(old.at[code, "lat"]),
                    new=targets[code][0],
                    x=float(shapely.get_x(rep[k])),
                    y=float(shapely.get_y(rep[k])),
                )
            )
    old["pt_lon"] = shapely.get_x(rep)
    old["pt_lat"] = shapely.get_y(rep)
    return OldCommunes(frame=old, warnings=warnings)


def apply_merger(pack: Pack, classified: OldCommunes) -> Reformed:
    """Demand parts and new-commune populations from the official merger table; the warnings of
    the classification carried on."""
    old = classified.frame
    m = pack.merger.merge(
        old[["commune_code", "pop_2019", "district_code", "pt_lon", "pt_lat"]],
        left_on="old_commune_code",
        right_on="commune_code",
        how="left",
    )
    m["population"] = m["pop_2019"] * m["share"]
    a = pack.communes_after
    # location of each part: representative point of old polygon inside new polygon
    lon = m["pt_lon"].to_numpy(copy=True)
    lat = m["pt_lat"].to_numpy(copy=True)
    split = m["n_new_targets"].astype(int).to_numpy() > 1
    if split.any():
        og = old.geometry.reindex(m.loc[split, "old_commune_code"]).to_numpy()
        ng = a.geometry.reindex(m.loc[split, "new_commune_code"]).to_numpy()
        ok = ~(pd.isna(og) | pd.isna(ng))
        inter = np.full(len(og), None, dtype=object)
        inter[ok] = shapely.intersection(og[ok], ng[ok])
        ok &= ~pd.isna(inter) & ~shapely.is_empty(inter) & (shapely.area(inter) > 0)
        rp = shapely.point_on_surface(inter[ok])
        idx = np.flatnonzero(split)[ok]
        lon[idx] = shapely.get_x(rp)
        lat[idx] = shapely.get_y(rp)
    demand = pd.DataFrame(
        {
            "old_code": m["old_commune_code"].to_numpy(),
            "new_code": m["new_commune_code"].to_numpy(),
            "district_code": m["district_code"].to_numpy(),
            "population": m["population"].to_numpy(dtype=float),
            "lon": lon,
            "lat": lat,
            "split": split,
        }
    )
    # special zones with no predecessor: demand at their point, with their own population
    orphans = a[~a["commune_code"].isin(set(demand["new_code"]))]
    if len(orphans):
        demand = pd.concat(
            [
                demand,
                pd.DataFrame(
                    {
                        "old_code": "",
                        "new_code": orphans["commune_code"].to_numpy(),
                        "district_code": "",
                        "population": orphans["pop_2019"].to_numpy(dtype=float),
                        "lon": orphans["admin_lon"].to_numpy(),
                        "lat": orphans["admin_lat"].to_numpy(),
                        "split": False,
                    }
                ),
            ],
            ignore_index=True,
        )
    demand = demand.sort_values(["old_code", "new_code"], kind="stable").reset_index(drop=True)
    new = a.copy()
    new["population"] = demand.groupby("new_code")["population"].sum().reindex(new.index).fillna(0.0)
    new["n_old"] = demand[demand["old_code"] != ""].groupby("new_code").size().reindex(new.index).fillna(0).astype(int)
    return Reformed(old=old, new=new, demand=demand, warnings=list(classified.warnings))


def station_new_commune(pack: Pack, stations: pd.DataFrame) -> pd.Series:
    """New commune of each station: the official target of its old commune that contains it,
    else the target with the largest share. Stations without an old commune keep `new_code`."""
    targets = targets_by_share(pack.merger)
    geometry = dict(zip(pack.communes_after.index, pack.communes_after.geometry.to_numpy()))
    codes, old_codes = list(stations.index), stations["old_code"].tolist()
    new_codes = stations["new_code"].tolist() if "new_code" in stations else [""] * len(codes)
    # the stations of a split commune: does each of its targets (with a polygon) contain the station?
    tests = [
        (k, c) for k, o in enumerate(old_codes) if o and len(targets[o]) > 1 for c in targets[o] if geometry.get(c) is not None
    ]
    inside: set[tuple[int, str]] = set()
    if tests:
        at = np.array([k for k, _ in tests])
        points = shapely.points(stations["lon"].to_numpy(dtype=float)[at], stations["lat"].to_numpy(dtype=float)[at])
        polygons = np.array([geometry[c] for _, c in tests], dtype=object)
        inside = {t for t, hit in zip(tests, shapely.contains(polygons, points).tolist()) if hit}
    out = {}
    for k, (st, old_code) in enumerate(zip(codes, old_codes)):
        if not old_code:
            out[st] = new_codes[k]
            continue
        cands = targets[old_code]
        out[st] = next((c for c in cands if (k, c) in inside), cands[0])
    return pd.Series(out, name="new_code")


def targets_by_share(merger: pd.DataFrame) -> dict[str, list[str]]:
    """The official targets of each old commune (code), the largest share first (ties: merger order)."""
    ordered = merger.sort_values(["old_commune_code", "share"], ascending=[True, False])
    out: dict[str, list[str]] = {}
    for old, new in zip(ordered["old_commune_code"].tolist(), ordered["new_commune_code"].tolist()):
        if not pd.isna(old):
            out.setdefault(old, []).append(new)
    return out


def stations_after_merger(pack: Pack, reformed: Reformed, stations: pd.DataFrame, params: dict, seed: int) -> pd.DataFrame:
    """The stations of the province after the merger: the old communes' `stations`, a synthetic one
    for each special zone, each in its new commune (`new_code`), a new site for each new commune
    without a station, and the old district of each (`district_code`, empty for added stations)."""
    st = with_special_zone_stations(reformed, stations, params, seed)
    st = st.assign(new_code=station_new_commune(pack, st))
    st = with_new_sites(reformed, st, params)
    return st.assign(district_code=st["old_code"].map(reformed.old["district_code"]).fillna(""))


def with_special_zone_stations(reformed: Reformed, stations: pd.DataFrame, params: dict, seed: int) -> pd.DataFrame:
    """`stations` and, for each new commune without predecessor (island special zones), a synthetic
    station in it (`roster.special_zone_stations`, `new_code` set)."""
    orphans = reformed.new.index[reformed.new["n_old"] == 0]
    if not len(orphans):
        return stations
    zones = roster.special_zone_stations(reformed.new, orphans, params, seed)
    return pd.concat([stations, zones.assign(new_code=[c[1:] for c in zones.index])])


def with_new_sites(reformed: Reformed, stations: pd.DataFrame, params: dict) -> pd.DataFrame:
    """`stations` (with `new_code`) and a new site for each new commune that none of them stands in
    (`roster.new_site_stations`, `new_code` set)."""
    empty = sorted(set(reformed.new.index) - set(stations["new_code"]))
    if not empty:
        return stations
    sites = roster.new_site_stations(reformed.new, empty, params)
    return pd.concat([stations, sites.assign(new_code=[c[1:] for c in sites.index])])
