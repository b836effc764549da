"""Islands (issue 11, point 6): every island special zone is served by a regional centre on its own
island (DOMAIN.md 1H), sea links run at `sea_speed_kmh` and name the communes at both ends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from reorg import islands, pipeline, tables
from reorg.network import Network
from reorg.optimise.fixed import without_fixed
from reorg.params import BY_NAME
from reorg.scenario import load_scenario

MAX_MINUTES = 600.0
# provinces with a special zone, a few of them: Côn Đảo (no old commune); Cát Hải and Bạch Long Vĩ;
# Phú Quốc, Thổ Châu (an island commune of Phú Quốc district) and Kiên Hải; Trường Sa
PROVINCES = {
    "79": ["Đặc khu Côn Đảo"],
    "31": ["Đặc khu Cát Hải", "Đặc khu Bạch Long Vĩ"],
    "91": ["Đặc khu Phú Quốc", "Đặc khu Thổ Châu", "Đặc khu Kiên Hải"],
    "56": ["Đặc khu Trường Sa"],
}

_runs: dict[tuple[str, ...], pipeline.RunResult] = {}


def _run(geodata, province: str, catchments: str = "largest_district", *sets: str) -> pipeline.RunResult:
    key = (province, catchments, *sets)
    if key not in _runs:
        sc = load_scenario(
            ROOT / "scenarios" / "nghe_an_official.toml",
            [f"name=p{province}", f"policy.catchments={catchments}", *sets],
            province=province,
        )
        _runs[key] = pipeline.run(sc, geodata=str(geodata))
    return _runs[key]


def _zone_rows(r: pipeline.RunResult, name: str) -> tuple[str, np.ndarray]:
    new = r.reformed.new
    code = new.index[new["commune_name"] == name]
    assert len(code) == 1, name
    return code[0], np.flatnonzero(r.reformed.demand["new_code"].to_numpy() == code[0])


@pytest.mark.parametrize("province", sorted(PROVINCES))
def test_island_special_zones_are_served_on_their_island(geodata, province):
    r = _run(geodata, province)
    net = r.network
    zones = r.reformed.new.index[r.reformed.new["commune_type"] == "dac_khu"]
    assert {r.reformed.new.at[z, "commune_name"] for z in zones} == set(PROVINCES[province])
    figures = {z["code"]: z for z in r.measures.extremes["special_zones"]}
    for name in PROVINCES[province]:
        code, rows = _zone_rows(r, name)
        centre = r.plan.centre_of[code]
        k = net.centre_codes.index(centre)
        pieces = set(net.part_piece[rows].tolist())
        assert net.centre_piece[k] in pieces, f"{name} is served by {centre}, not on its island"
        if pieces != {0}:  # the zone is an island: its centre is not on the mainland
            assert net.centre_piece[k] != 0, name
        worst = float(net.centre_minutes[rows, k].max())
        assert worst <= MAX_MINUTES, (name, worst)
        fig = figures[code]
        assert fig["centre_code"] == centre and fig["centre_on_island"] is True
        assert fig["max_minutes_centre_after"] == pytest.approx(worst)


def test_con_dao_gets_its_own_synthetic_centre_and_demand_code(geodata):
    r = _run(geodata, "79")
    code, rows = _zone_rows(r, "Đặc khu Côn Đảo")
    centre = r.plan.centre_of[code]
    c = r.centres.loc[centre]
    assert c["name"] == "Trung tâm Y tế đặc khu Côn Đảo"
    assert c["origin"] == "synthetic" and c["seat_rule"] == islands.SEAT_RULE and c["host_new_code"] == code
    assert c["staff"] > 0 and c["beds"] > 0
    # without the island rule the zone was sent to the mainland: the nearest mainland centre is far
    mainland = np.flatnonzero(r.network.centre_piece == 0)
    assert (
        r.network.centre_minutes[rows][:, mainland].min()
        > 3 * r.network.centre_minutes[rows, list(r.centres.index).index(centre)].max()
    )
    travel = tables.travel_table(r)
    zone = travel[travel["new_commune_code"] == code]
    assert len(zone) and (zone["demand_code"] == code).all()
    assert (travel["demand_code"] != "").all()


@pytest.mark.parametrize("province", ["79", "91"])
def test_sea_links_name_communes_at_both_ends(geodata, province):
    r = _run(geodata, province)
    old, new = r.reformed.old, r.reformed.new
    # an old commune's node names the old commune (a code a new one may reuse: 31108 Xã Hòn Tre of
    # Kiên Hải), a special zone without old commune its own node
    names = {**new["commune_name"].to_dict(), **old["commune_name"].to_dict()}
    assert r.network.ferry_links
    speed = BY_NAME["sea_speed_kmh"].default
    for link in r.network.ferry_links:
        for end in ("from", "to"):
            assert link[end] in names, link
            assert link[f"{end}_name"] == names[link[end]], link
        assert link["mode"] == "sea"
        assert link["minutes"] == pytest.approx(60 * link["km"] / speed, abs=0.1)


def test_optimised_catchments_keep_islands_on_their_centre(geodata):
    """Five centres kept in An Giang: the model alone would close the small island centres (Thổ
    Châu: 1,940 residents) and send their islands across the sea; fixed, the three island centres
    stay and count towards the five."""
    r = _run(geodata, "91", "optimise", "params.centres_kept=5")
    net = r.network
    assert r.plan.centre_of.nunique() == 5
    for name in PROVINCES["91"]:
        code, rows = _zone_rows(r, name)
        k = net.centre_codes.index(r.plan.centre_of[code])
        assert net.centre_piece[k] in set(net.part_piece[rows].tolist()), name
        assert net.centre_minutes[rows, k].max() <= MAX_MINUTES


def _toy_network(centre_piece, centre_minutes, part_piece) -> Network:
    n = len(part_piece)
    return Network(
        graph=None,  # type: ignore[arg-type]
        access_minutes=np.zeros(n),
        station_codes=[],
        centre_codes=[f"C{k}" for k in range(len(centre_piece))],
        station_minutes=np.zeros((n, 0)),
        centre_minutes=np.asarray(centre_minutes, dtype=float),
        part_piece=np.asarray(part_piece),
        centre_piece=np.asarray(centre_piece),
    )


def test_island_rule_prefers_the_centre_on_the_island_over_a_nearer_one():
    demand = pd.DataFrame({"new_code": ["A", "B", "B"], "population": [100.0, 50.0, 10.0]})
    # commune A on the mainland; B on island 1 (most residents) and island 2; C0 mainland, C1 on island 2
    net = _toy_network([0, 2], [[10, 90], [30, 200], [40, 5]], [0, 1, 2])
    out = islands.island_centres(demand, net)
    assert out.to_dict() == {"B": "C1"}, "an island commune goes to a centre on its islands, even a farther one"
    net = _toy_network([0, 0], [[10, 90], [30, 200], [40, 5]], [0, 1, 2])
    assert islands.island_centres(demand, net).empty, "no centre on its islands: the commune is left to the rules"


def test_fixed_assignment_leaves_the_island_out_of_the_model():
    A = np.array([[1.0, 9.0, 50.0], [2.0, 8.0, 60.0], [90.0, 95.0, 70.0]])
    P = np.array([1.0, 1.0, 1.0])
    sub = without_fixed(A, P, np.array([10.0, 10.0, 10.0]), np.array([np.nan, np.nan, 2.0]), None, None, {"centres_kept": 2})
    assert sub.communes.tolist() == [0, 1] and sub.centres.tolist() == [0, 1]
    assert sub.params["centres_kept"] == 1
    assert sub.full_assign(np.array([0, 0])).tolist() == [0, 0, 2]
    assert sub.objective_of(np.array([0, 1, 2]), 1.0) == pytest.approx(9.0)
    assert sub.objective_of(np.array([2, 1, 2]), 1.0) is None
