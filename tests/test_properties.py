"""Property-based tests (hypothesis) over generated packs and rosters.

Packs come from the project's own synthetic generator (`reorg.demo`, a seeded made-up province of
40 old and 12 new communes); rosters, parameters and policies are drawn by hypothesis. Examples per
property: INVARIANT_EXAMPLES valid runs, DEFECT_EXAMPLES runs with one injected defect. The examples
are derandomised so CI runs the same ones every time.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from reorg.cli import main
from reorg.demo import make_demo_pack
from reorg.pipeline import run
from reorg.scenario import load_scenario
from reorg.schema import CADRES, COMMUNES_AFTER, COMMUNES_BEFORE, MERGER

INVARIANT_EXAMPLES = 30
DEFECT_EXAMPLES = 40
_CACHE = Path(tempfile.mkdtemp(prefix="reorg-packs-"))


@functools.cache
def pack(seed: int) -> Path:
    return make_demo_pack(_CACHE / f"pack{seed}", seed=seed)


def roster_csv(pack_dir: Path, rng: np.random.Generator, path: Path) -> Path:
    b = gpd.read_file(pack_dir / COMMUNES_BEFORE.file, layer=COMMUNES_BEFORE.layer).sort_values("commune_code")
    inside = b.geometry.representative_point()
    r = pd.DataFrame(
        {
            "station_code": b["commune_code"],
            "lon": inside.x.round(6),
            "lat": inside.y.round(6),
            "facility_score": rng.uniform(0, 1, len(b)).round(3),
        }
    )
    for c in CADRES:
        r[c] = rng.integers(0, 4 if c != "doctor" else 3, len(b))
    r.to_csv(path, index=False)
    return path


policies = st.fixed_dictionaries(
    {
        "station_roles": st.sampled_from(["keep_all", "optimise"]),
        "main_station": st.sampled_from(["moh_rule", "optimise"]),
        "staff": st.sampled_from(["stay", "optimise"]),
        "catchments": st.sampled_from(["largest_district", "optimise"]),
    }
)


@settings(max_examples=INVARIANT_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 5),
    roster_seed=st.one_of(st.none(), st.integers(0, 10_000)),
    policy=policies,
    doctors_min=st.integers(0, 4),
    attrition=st.sampled_from([0.0, 0.1, 0.3]),
    hires=st.integers(0, 5),
    centres_kept=st.sampled_from([-1, 2, 3]),
    contiguous=st.booleans(),
)
def test_invariants_hold_for_any_valid_input(seed, roster_seed, policy, doctors_min, attrition, hires, centres_kept, contiguous):
    d = pack(seed)
    sets = [f"policy.{k}='{v}'" for k, v in policy.items()]
    sets += [
        f"params.doctors_min_main_station={doctors_min}",
        f"params.attrition_doctor={attrition}",
        f"params.attrition_nurse={attrition}",
        f"params.centres_kept={centres_kept}",
        f"params.contiguous_catchments={'true' if contiguous else 'false'}",
    ]
    if policy["staff"] == "optimise":
        sets += [f"params.hires_doctor={hires}"]
    with tempfile.TemporaryDirectory() as tmp:
        if roster_seed is not None:
            sets.append(f"roster='{roster_csv(d, np.random.default_rng(roster_seed), Path(tmp) / 'r.csv')}'")
        r = run(load_scenario(None, sets, province="99"), geodata=str(d))
    roles = r.plan.roles
    st_ = r.stations.loc[roles.index]
    # every old station exactly one role; one main station per new commune
    assert roles.isin(["main", "point", "closed"]).all() and roles.index.is_unique
    mains = st_[roles == "main"].groupby("new_code").size()
    assert set(mains.index) == set(r.reformed.new.index) and (mains == 1).all()
    if policy["station_roles"] == "keep_all":
        assert (roles != "closed").all()
    # staff conserved apart from the attrition and hires asked for
    before = r.stations[list(CADRES)].sum()
    after = r.plan.staff_after[list(CADRES)].sum()
    for c in CADRES:
        assert after[c] == before[c] - r.plan.lost.get(c, 0) + r.plan.hired.get(c, 0), c
    assert (r.plan.staff_after.loc[roles[roles == "closed"].index].to_numpy() == 0).all()
    # every commune one centre, among the kept ones
    assert r.plan.centre_of.notna().all() and r.plan.centre_of.index.equals(r.reformed.new.index)
    if policy["catchments"] == "optimise" and centres_kept > 0:
        assert r.plan.centre_of.nunique() <= centres_kept
    # indicators within their ranges
    for block in (r.measures.before, r.measures.after):
        for k, v in block.items():
            if v is None:
                continue
            assert np.isfinite(v), k
            if "share" in k or k.startswith("gini"):
                assert -1e-9 <= v <= 1 + 1e-9, (k, v)
            if k.startswith("pop_minutes"):
                assert v >= 0, (k, v)
        # the main station is one of the open sites: never nearer than the nearest one
        assert block["pop_minutes_nearest_facility"] <= block["pop_minutes_main_station"] + 1e-9
    if "optimise" in policy.values():
        assert r.plan.solver, "an optimised decision records its solve"
    for rec in r.plan.solver:
        assert rec["status"] == "optimal", rec


# ------------------------------------------------------------------ one defect injected


def _edit_csv(d: Path, fn):
    m = pd.read_csv(d / MERGER.file, dtype=str, keep_default_na=False)
    fn(m).to_csv(d / MERGER.file, index=False)


def _edit_layer(d: Path, layer, fn):
    g = gpd.read_file(d / layer.file, layer=layer.layer)
    g = fn(g)
    (d / layer.file).unlink()
    g.to_file(d / layer.file, layer=layer.layer)


def defect_negative_population(d, i):
    _edit_layer(d, COMMUNES_BEFORE, lambda g: g.assign(pop_2019=np.where(np.arange(len(g)) == i % len(g), -5, g["pop_2019"])))
    return "below the minimum"


def defect_unknown_old_code(d, i):
    def f(m):
        m.loc[i % len(m), "old_commune_code"] = "98765"
        return m

    _edit_csv(d, f)
    return "98765"


def defect_dropped_merger_row(d, i):
    _edit_csv(d, lambda m: m[m["n_new_targets"] == "1"].drop(index=m[m["n_new_targets"] == "1"].index[i % 30]))
    return "absent from the merger table"


def defect_short_code(d, i):
    def f(m):
        m.loc[i % len(m), "new_commune_code"] = m.loc[i % len(m), "new_commune_code"][1:]
        return m

    _edit_csv(d, f)
    return "keep their leading zeros"


def defect_duplicate_new_code(d, i):
    _edit_layer(
        d,
        COMMUNES_AFTER,
        lambda g: g.assign(
            commune_code=[g["commune_code"].iloc[0] if k == 1 + i % (len(g) - 1) else c for k, c in enumerate(g["commune_code"])]
        ),
    )
    return "duplicate code"


def defect_missing_column(d, i):
    col = ["pop_2019", "district_code", "lon", "commune_type"][i % 4]
    _edit_layer(d, COMMUNES_BEFORE, lambda g: g.drop(columns=[col]))
    return f"missing column '{col}'"


def defect_wrong_crs(d, i):
    _edit_layer(d, COMMUNES_AFTER, lambda g: g.to_crs("EPSG:3857"))
    return "expected EPSG:4326"


def defect_decimal_comma(d, i):
    def f(m):
        m.loc[i % len(m), "area_share"] = "0,7"
        return m

    _edit_csv(d, f)
    return "decimal comma"


def defect_not_utf8(d, i):
    text = (d / MERGER.file).read_text(encoding="utf-8")
    (d / MERGER.file).write_bytes(text.encode("utf-16"))
    return "not UTF-8"


def defect_swapped_point(d, i):
    _edit_layer(
        d,
        COMMUNES_BEFORE,
        lambda g: g.assign(
            lon=np.where(np.arange(len(g)) == i % len(g), g["lat"], g["lon"]),
            lat=np.where(np.arange(len(g)) == i % len(g), g["lon"], g["lat"]),
        ),
    )
    return "swapped"


DEFECTS = [
    defect_negative_population,
    defect_unknown_old_code,
    defect_dropped_merger_row,
    defect_short_code,
    defect_duplicate_new_code,
    defect_missing_column,
    defect_wrong_crs,
    defect_decimal_comma,
    defect_not_utf8,
    defect_swapped_point,
]


@settings(max_examples=DEFECT_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 5), defect=st.sampled_from(DEFECTS), i=st.integers(0, 1000))
def test_any_single_defect_is_named_and_nothing_is_written(seed, defect, i):
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "pack"
        shutil.copytree(pack(seed), d)
        expected = defect(d, i)
        out = Path(tmp) / "outputs"
        import io
        from contextlib import redirect_stderr, redirect_stdout

        for args in (
            ["validate", "--geodata", str(d), "--province", "99"],
            ["run", str(ROOT / "scenarios" / "demo.toml"), "--geodata", str(d), "--out", str(out), "--quiet"],
        ):
            err, std = io.StringIO(), io.StringIO()
            with redirect_stderr(err), redirect_stdout(std):
                rc = main(args)
            text = err.getvalue()
            assert rc == 2, (defect.__name__, args[0], text)
            assert expected in text, (defect.__name__, text)
            assert "Traceback" not in text
        assert not out.exists() or not any(out.iterdir()), "nothing written"
