"""Small instances with answers known by hand, and the pieces the pipeline relies on."""

from __future__ import annotations

import os
import time

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from reorg import params as param_defs
from reorg._errors import InputError, Problem
from reorg.optimise.baseline import choose_main_stations, largest_district_centre
from reorg.outputs import atomic_dir, beside
from reorg.rules import staff_norm, weighted_gini
from reorg.scenario import load_scenario


@pytest.mark.parametrize(
    "pop,region,expected",
    [
        (4000, "I", 5),  # base only
        (6000, "I", 5),  # at the threshold: no step
        (6001, "I", 6),  # one step started
        (8500, "I", 6),  # (8500-6000)/2500 = 1 step
        (8501, "I", 7),
        (10000, "II", 9),  # (5 + 2) x 1.2 = 8.4 -> 9
        (5000, "III", 7),  # 5 x 1.3 = 6.5 -> 7
        (5500, "III", 8),  # (5 + 1) x 1.3 = 7.8 -> 8
        (12000, "III", 16),  # (5 + 7) x 1.3 = 15.6 -> 16
    ],
)
def test_circular_03_norm(pop, region, expected):
    assert staff_norm(pop, region, param_defs.defaults()) == expected


def test_gini_known_values():
    assert weighted_gini([5, 5, 5], [1, 2, 3]) == pytest.approx(0.0)
    assert weighted_gini([0, 0, 10], [1, 1, 1]) == pytest.approx(2 / 3)
    assert weighted_gini([1, 2], [1, 1]) == pytest.approx(1 / 6)
    # weights act as repeated people
    assert weighted_gini([1, 2], [2, 1]) == pytest.approx(weighted_gini([1, 1, 2], [1, 1, 1]))


def test_main_station_rule_minutes_then_facilities():
    scores = pd.DataFrame(
        {
            "station_code": ["a", "b", "c", "d", "e"],
            "new_code": ["X", "X", "X", "Y", "Y"],
            "weighted_minutes": [10.0, 8.02, 8.04, 5.0, 5.0],
            "facility_score": [1.0, 0.4, 0.9, 0.2, 0.6],
        }
    )
    main = choose_main_stations(scores)
    assert main["X"] == "c"  # b and c tie at 8.0 min (rounded to 0.1): better facilities win
    assert main["Y"] == "e"


def test_centre_of_largest_district_share():
    demand = pd.DataFrame(
        {
            "new_code": ["X", "X", "X", "Y"],
            "district_code": ["001", "002", "002", "001"],
            "population": [5000.0, 3000.0, 2500.0, 10.0],
        }
    )
    centres = pd.DataFrame(index=["001", "002"])
    out = largest_district_centre(demand, centres)
    assert out["X"] == "002" and out["Y"] == "001"


def test_atomic_dir_keeps_previous_run_on_failure(tmp_path):
    final = tmp_path / "run"
    with atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("first")
    with pytest.raises(RuntimeError):
        with atomic_dir(final) as tmp:
            (tmp / "a.txt").write_text("second, half written")
            raise RuntimeError("killed")
    assert (final / "a.txt").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "no temporary folder left behind"


def test_beside_runs_its_parts_in_another_process_and_returns_their_seconds(tmp_path):
    def part(name):
        (tmp_path / name).write_text(str(os.getpid()))

    job = beside({"a": lambda: part("a"), "b": lambda: part("b")})
    seconds = job.join()
    assert list(seconds) == ["a", "b"] and all(s >= 0 for s in seconds.values())
    pids = {(tmp_path / n).read_text() for n in "ab"}
    assert pids != {str(os.getpid())} and len(pids) == 1, "both parts ran in one child process"
    # not enabled: the same parts run here, at join
    assert set(beside({"c": lambda: part("c")}, enabled=False).join()) == {"c"}
    assert (tmp_path / "c").read_text() == str(os.getpid())


def test_beside_raises_the_childs_failure_in_the_parent():
    def fail():
        raise InputError([Problem("report.pdf", None, "font", "missing")])

    with pytest.raises(InputError, match="missing"):
        beside({"pdf": fail}).join()

    class Unpicklable(Exception):
        def __reduce__(self):
            raise TypeError("no")

    def fail_oddly():
        raise Unpicklable("odd")

    with pytest.raises(RuntimeError, match="Unpicklable: odd"):
        beside({"x": fail_oddly}).join()


def test_beside_cancel_stops_the_child(tmp_path):
    job = beside({"slow": lambda: time.sleep(30)})
    t = time.perf_counter()
    job.cancel()
    assert time.perf_counter() - t < 5
    job.cancel()  # twice: nothing left to stop


def test_params_reject_unknown_and_out_of_range():
    with pytest.raises(InputError, match="did you mean 'staff_base'"):
        param_defs.resolve({"staff_bse": 5})
    with pytest.raises(InputError, match="out of range"):
        param_defs.resolve({"doctor_presence_share": 2})
    with pytest.raises(InputError, match="expected a number"):
        param_defs.resolve({"circuity_factor": "high"})
    assert param_defs.resolve({"staff_base": 6})["staff_base"] == 6


def test_every_parameter_is_documented():
    for p in param_defs.PARAMETERS:  # the words are in the message files, in every language
        for lang in ("en", "vi"):
            assert param_defs.description(p.name, lang) and param_defs.source(p.name, lang), (p.name, lang)
        assert p.unit and p.confidence in {"H", "M", "L", "H/L", "M/L", "-"}, p.name


def test_scenario_set_overrides(tmp_path):
    sc = tmp_path / "s.toml"
    sc.write_text('province = "40"\n[params]\nstaff_base = 6\n', encoding="utf-8")
    s = load_scenario(sc, ["params.staff_base=7", "seed=3", "title='Thử nghiệm'"])
    assert s.params["staff_base"] == 7 and s.seed == 3 and s.title == "Thử nghiệm" and s.name == "s"
    with pytest.raises(InputError, match="expected a whole number"):
        load_scenario(sc, ["seed=abc"])


def test_scipy_shortest_paths_match_networkx(geodata):
    """The measured shortest-path method gives networkx's Dijkstra minutes on a real province graph."""
    from reorg.pipeline import run

    r = run(load_scenario(None, province="15"), geodata=str(geodata))
    G = r.network.graph
    rng = np.random.default_rng(0)
    demand = r.reformed.demand
    for j in rng.choice(len(r.network.station_codes), 5, replace=False):
        code = r.network.station_codes[j]
        dist = nx.single_source_dijkstra_path_length(G, ("station", code), weight="minutes")
        for i in rng.choice(len(demand), 20, replace=False):
            row = demand.loc[i]
            node = ("commune", row["old_code"]) if not row["split"] else ("part", i)
            expected = dist[node] + r.network.access_minutes[i]
            assert r.network.station_minutes[i, j] == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_progress_measures_each_stage_peak_memory():
    """Each stage records the peak resident memory while it ran, not the process peak so far: a
    stage that holds 300 MB shows it, the stage after it (the memory freed) does not, and an
    inner stage's peak counts towards its outer stage."""
    from reorg.pipeline import Progress

    p = Progress(enabled=False)
    with p.stage("load"):
        pass
    with p.stage("optimise"):
        with p.stage("optimise:big"):
            block = np.ones(300 * 2**20 // 8)  # 300 MB, touched
            block.sum()
            del block
        with p.stage("optimise:small"):
            pass
    with p.stage("measure"):
        pass
    assert p.peak_per_stage, "the kernel's peak counter could not be reset (/proc/self/clear_refs)"
    m = p.peak_memory_mb
    assert set(m) == {"load", "optimise", "optimise:big", "optimise:small", "measure"}
    assert m["optimise:big"] - m["load"] > 250, m
    assert m["optimise"] >= m["optimise:big"], m
    assert m["optimise:small"] < m["optimise:big"] - 250, m
    assert m["measure"] < m["optimise:big"] - 250, m
    assert set(p.timings) == set(m)
    assert p.timings["optimise"] >= p.timings["optimise:big"] + p.timings["optimise:small"], (
        "an inner stage's time counts in its outer stage"
    )
