"""Islands: a regional centre on every island special zone, and island communes served from it.

DOMAIN.md 1H ("island special zones keep their own health centre"): each former island district
had its own district health centre, which continues as the special zone's health centre (Côn Đảo's
60-bed Military-Civilian Medical Centre, ...); an island's residents are served first by the centre
on their island, not by a mainland centre across the sea.

- `special_zone_centres`: the regional centres are synthesised one per OLD district
  (`roster.synthesise_centres`), so a special zone (đặc khu) made from an island district without
  old communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo) or from an island commune of a
  district seated on another island (Thổ Châu, of Phú Quốc) holds no centre. Each gets a synthetic
  centre at the zone's most populous place (its old commune's station point, or the pack's
  `admin_lon/admin_lat` of a zone without old commune), with synthetic beds and staff, `origin` "synthetic" and `seat_rule` "special_zone_island".
- `island_centres`: the rule both catchment policies keep (the official `largest_district` one
  and, as a fixed assignment, the optimised one): a new commune whose residents live mostly on a
  piece of land with no land link to the mainland (an island, `Network.part_piece` != 0) is served
  by the centre standing on one of its own island pieces, the nearest one for its residents, when
  such a centre exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .network import Network
    from .reform import Reformed

SPECIAL_ZONE = "dac_khu"
SEAT_RULE = "special_zone_island"


def centre_name(zone_name: str) -> str:
    """ "Trung tâm Y tế đặc khu Côn Đảo" for "Đặc khu Côn Đảo" (the type word in lower case, as in
    running Vietnamese text)."""
    prefix = "Đặc khu "
    rest = zone_name[len(prefix) :] if zone_name.startswith(prefix) else zone_name
    return f"Trung tâm Y tế đặc khu {rest}"


def special_zone_centres(reformed: Reformed, centres: pd.DataFrame, params: dict) -> pd.DataFrame:
    """A synthetic centre (code "DK" + the zone's code) for every special zone of the province in
    which no centre of `centres` stands (none of its old communes hosts one).

    Beds `centre_beds_min` (the smallest district centre of the rules); staff = beds x
    `centre_staff_per_bed`; doctors by `centre_doctor_share`; capacity = the zone's residents x (1 +
    `centre_capacity_slack`). Columns as `roster.synthesise_centres`, plus `host_new_code` (the
    zone, where the network attaches it)."""
    new, demand = reformed.new, reformed.demand
    hosts = set(centres["host_old_code"]) if len(centres) else set()
    rows = []
    for code in sorted(new.index[new["commune_type"] == SPECIAL_ZONE]):
        olds = set(demand.loc[demand["new_code"] == code, "old_code"]) - {""}
        if olds & hosts:
            continue
        # at the zone's most populous place (its old commune's station point; the zone's own point
        # when it has no old commune): a point on the island where its residents are
        parts = demand[demand["new_code"] == code].sort_values(["population", "old_code"], ascending=[False, True])
        lon, lat = float(parts["lon"].iloc[0]), float(parts["lat"].iloc[0])
        beds = int(params["centre_beds_min"])
        staff = int(round(beds * params["centre_staff_per_bed"]))
        pop = float(new.at[code, "population"])
        rows.append(
            {
                "centre_code": f"DK{code}",
                "name": centre_name(str(new.at[code, "commune_name"])),
                "district_name": str(new.at[code, "commune_name"]),
                "host_old_code": "",
                "host_name": str(new.at[code, "commune_name"]),
                "seat_rule": SEAT_RULE,
                "lon": lon,
                "lat": lat,
                "beds": beds,
                "staff": staff,
                "doctors": int(round(staff * params["centre_doctor_share"])),
                "district_population": int(round(pop)),
                "capacity": int(round(pop * (1 + params["centre_capacity_slack"]))),
                "origin": "synthetic",
                "host_new_code": code,
            }
        )
    return pd.DataFrame(rows, columns=[*centres.columns, "host_new_code"]) if rows else pd.DataFrame()


def with_special_zone_centres(reformed: Reformed, centres: pd.DataFrame, params: dict) -> pd.DataFrame:
    """`centres` (`host_new_code` empty) and a synthetic one on each special zone without a centre."""
    extra = special_zone_centres(reformed, centres, params)
    out = centres.assign(host_new_code="")
    if len(extra):
        out = pd.concat([out, extra.set_index("centre_code", drop=False).rename_axis(None)])
    return out


def main_piece(demand: pd.DataFrame, part_piece: np.ndarray) -> pd.Series:
    """The land piece holding most residents of each new commune (its parts' count when it has no
    residents; ties to the lower piece number)."""
    frame = pd.DataFrame(
        {"new_code": demand["new_code"].to_numpy(), "piece": part_piece, "w": demand["population"].to_numpy(dtype=float)}
    )
    frame["n"] = 1
    per = frame.groupby(["new_code", "piece"], sort=True)[["w", "n"]].sum().reset_index()
    per = per.sort_values(["new_code", "w", "n", "piece"], ascending=[True, False, False, True], kind="stable")
    return per.drop_duplicates("new_code").set_index("new_code")["piece"]


def island_centres(demand: pd.DataFrame, net: Network) -> pd.Series:
    """The centre of each island commune that has one on its island (index: new code).

    An island commune: most of its residents live on a piece with no land link to the mainland
    (piece != 0). Its centre: among the centres standing on a piece that holds any of its residents
    (other than the mainland), the one with the least population-weighted minutes (ties: code)."""
    if net.part_piece is None or net.centre_piece is None:
        return pd.Series(dtype=object, name="centre")
    main = main_piece(demand, net.part_piece)
    codes = np.asarray(net.centre_codes, dtype=object)
    out = {}
    for code in main.index[main.to_numpy() != 0]:
        rows = np.flatnonzero(demand["new_code"].to_numpy() == code)
        pieces = set(net.part_piece[rows].tolist()) - {0}
        on = np.flatnonzero(np.isin(net.centre_piece, sorted(pieces)))
        if not len(on):
            continue
        pop = demand["population"].to_numpy(dtype=float)[rows]
        w = pop / pop.sum() if pop.sum() > 0 else np.full(len(rows), 1.0 / len(rows))
        cost = w @ net.centre_minutes[np.ix_(rows, on)]
        best = min(range(len(on)), key=lambda j: (round(float(cost[j]), 6), str(codes[on[j]])))
        out[code] = codes[on[best]]
    return pd.Series(out, name="centre", dtype=object)


def special_zone_figures(
    parts: pd.DataFrame, communes: pd.DataFrame, new: pd.DataFrame, centres: pd.DataFrame, net: Network
) -> list[dict]:
    """One record per special zone of the province (summary.json `extremes.special_zones`): its
    residents, its centre after the reform (code, name, whether it stands on one of the zone's own
    pieces of land), the mean minutes to its main station and to the centre, and the most minutes
    any of its residents has to the centre.

    `parts`: measure's demand parts (new_code, population, centre_after, minutes_centre_after);
    `communes`: measure's communes (minutes_main_after, minutes_centre_after, centre_code)."""
    out = []
    piece_of = dict(zip(net.centre_codes, net.centre_piece)) if net.centre_piece is not None else {}
    for code in sorted(new.index[new["commune_type"] == SPECIAL_ZONE]):
        rows = np.flatnonzero(parts["new_code"].to_numpy() == code)
        centre = communes.at[code, "centre_code"]
        pieces = set(net.part_piece[rows].tolist()) if net.part_piece is not None else set()
        out.append(
            {
                "code": code,
                "name": str(new.at[code, "commune_name"]),
                "population": round(float(communes.at[code, "population"])),
                "centre_code": str(centre),
                "centre_name": str(centres.at[centre, "name"]) if centre in centres.index else "",
                "centre_seat_rule": str(centres.at[centre, "seat_rule"]) if centre in centres.index else "",
                "centre_on_island": bool(piece_of.get(centre, -1) in pieces),
                "minutes_main_after": float(communes.at[code, "minutes_main_after"]),
                "minutes_centre_after": float(communes.at[code, "minutes_centre_after"]),
                "max_minutes_centre_after": float(parts["minutes_centre_after"].to_numpy()[rows].max()),
            }
        )
    return out
