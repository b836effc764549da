"""Report stage: summary.json (the contract other tools read), report.md, report.html,
decisions.gpkg and CSV tables of every decision.

summary.json keys are documented in the README and are stable. report.md and report.html are one
list of blocks (`report_blocks`, words from the message files' [report] section, numbers from
`reorg.fmt`), written as Markdown and through the template ``templates/report.html``. The PDF is
`reorg.pdf.write_pdf`, called by the pipeline beside `write_all`. Reports hold no timings: the
seconds and memory of a run are in run.json.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import charts, i18n, pages, tables
from . import document as doc
from . import params as parameters
from .report_blocks import report_blocks
from .schema import CADRES


def _clean(x: Any) -> Any:
    """JSON-safe, rounded values (floats to 6 significant decimals, NaN to null)."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if not math.isfinite(x) else round(x, 6)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def build_summary(result: Any) -> dict:
    """summary.json of a run (see the README for its keys)."""
    r = result
    m = r.measures
    roles = r.plan.roles.value_counts()
    moves = r.plan.moves
    kept = moves.loc[moves["from_station"] != "hire"] if len(moves) else moves
    flags = tables.synthetic_flags(r)
    return _clean(
        {
            "reorg_version": r.version,
            "scenario": {
                "name": r.scenario.name,
                "title": r.scenario.title,
                "source": r.scenario.source,
                "seed": r.scenario.seed,
                "policy": r.scenario.policy,
                "params_overridden": {k: v for k, v in r.scenario.params.items() if v != parameters.BY_NAME[k].default},
                "map": dict(r.scenario.map),
                "lang": r.scenario.lang,
            },
            "province": {"code": r.pack.province_code, "name": r.pack.province_name},
            "synthetic_roster": flags["synthetic_roster"],
            "synthetic_pack": flags["synthetic_pack"],
            "synthetic_centres": flags["synthetic_centres"],
            **({"synthetic_dem": flags["synthetic_dem"]} if getattr(r, "terrain", None) is not None else {}),
            **({"synthetic_population": flags["synthetic_population"]} if getattr(r, "population", None) is not None else {}),
            "counts": {
                "old_communes": int(len(r.reformed.old)),
                "new_communes": int(len(r.reformed.new)),
                "stations": int(len(r.stations)),
                "main_stations": int(roles.get("main", 0)),
                "point_stations": int(roles.get("point", 0)),
                "closed_stations": int(roles.get("closed", 0)),
                "regional_centres": int(len(r.centres)),
                "split_old_communes": int(r.reformed.demand.loc[r.reformed.demand["split"], "old_code"].nunique()),
                "special_zone_stations": int((r.stations["origin"] == "special_zone_synthetic").sum()),
                "new_sites_needed": int((r.stations["origin"] == "new_site_needed").sum()),
            },
            "staff": {
                "before": tables.staff_totals(r.stations),
                "after": tables.staff_totals(r.plan.staff_after),
                "moved": int(kept["persons"].sum()) if len(moves) else 0,
                "hired": int(sum(r.plan.hired.values())),
                "lost": int(sum(r.plan.lost.values())),
                "hired_by_cadre": {c: int(r.plan.hired.get(c, 0)) for c in CADRES},
                "lost_by_cadre": {c: int(r.plan.lost.get(c, 0)) for c in CADRES},
                "person_minutes_moved": float((kept["persons"] * kept["minutes"]).sum()) if len(moves) else 0.0,
            },
            "indicators": {"before": m.before, "after": m.after},
            "extremes": m.extremes,
            "decision_rules": r.plan.rule_texts(),
            "network": {
                "ferry_links": r.network.ferry_links,
                "pieces_without_land_link": r.network.n_components_before_ferries - 1,
                "nodes": r.network.graph.number_of_nodes(),
                "edges": r.network.graph.number_of_edges(),
                "shortest_path_method": "scipy.sparse.csgraph.dijkstra from every facility",
                "travel_model": r.network.travel_model,
                # where the residents are and how terrain is known (issue 12): always stated
                "population_model": "raster" if getattr(r, "population", None) is not None else "commune_points",
                "demand_points": int(len(r.reformed.demand)),
                "terrain_source": "dem" if getattr(r, "terrain", None) is not None else "density_rule",
                **({"roads": {"file": Path(r.scenario.roads).name, **r.network.roads}} if r.network.roads else {}),
                **({"terrain": r.terrain.summary()} if getattr(r, "terrain", None) is not None else {}),
                **({"population": r.population.summary()} if getattr(r, "population", None) is not None else {}),
            },
            "warnings": [p.format() for p in r.warnings],
            "solver": r.plan.solver_summary(),
            "diagnoses": [
                {**{k: v for k, v in d.items() if k != "message_key"}, "message": r.plan.diagnosis_text(d)}
                for d in r.plan.diagnoses
            ],
        }
    )


# ---------------------------------------------------------------- files


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """`frame` as UTF-8 CSV, floats to 6 significant digits (%.6g), missing values empty.

    The cells are what pandas' `to_csv` writes, given to the same `csv.writer` (comma, minimal
    quoting, "\n" line ends) a column at a time: floats formatted here, missing values as "",
    any other value as it is (the writer writes its `str`). A column of another kind (dates,
    categories...) falls back to `to_csv` itself. About 1.5 times as fast as `to_csv`."""
    if not all(_csv_ready(dtype) for dtype in frame.dtypes):
        out = frame.copy(deep=False)
        for name in out.columns[[dtype.kind == "f" for dtype in out.dtypes]]:
            out[name] = ["" if v != v else f"{v:.6g}" for v in out[name].tolist()]
        out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        return
    columns = [_csv_cells(column) for _, column in frame.items()]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(frame.columns.tolist())
        writer.writerows(zip(*columns))


def _csv_ready(dtype: Any) -> bool:
    """A column dtype `_csv_cells` writes as pandas would: numpy floats, integers and booleans,
    objects and strings."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "fiubO"
    return isinstance(dtype, pd.StringDtype)


def _csv_cells(column: pd.Series) -> list[Any]:
    """The CSV cells of one column: floats as %.6g (each distinct value formatted once), missing
    values as "", other values as they are."""
    if column.dtype.kind == "f":
        values = column.to_numpy(dtype=float)
        if len(values) > 64 and not ((values == 0) & np.signbit(values)).any():  # -0.0 and 0.0: one key
            distinct, inverse = np.unique(values, return_inverse=True)
            if 2 * len(distinct) < len(values):
                return np.array(_g6(distinct), dtype=object)[inverse].tolist()
        return _g6(values)
    if column.dtype.kind in "iub":
        return column.tolist()
    cells = column.to_numpy(dtype=object, copy=True)
    cells[pd.isna(cells)] = ""
    return cells.tolist()


def _g6(values: np.ndarray) -> list[str]:
    """Floats as %.6g, NaN as ""."""
    if np.isnan(values).any():
        return ["" if v != v else f"{v:.6g}" for v in values.tolist()]
    return list(map("{:.6g}".format, values.tolist()))


def write_gpkg(result: Any, path: Path, *, stations: pd.DataFrame | None = None, communes: pd.DataFrame | None = None) -> None:
    """decisions.gpkg: stations, new communes, centre catchments and staff moves (fixed timestamp).
    `stations`/`communes`: the run's `tables.station_table`/`commune_table` when already built."""
    from .outputs import fixed_gpkg_timestamp

    r = result
    st = tables.station_table(r) if stations is None else stations
    gst = gpd.GeoDataFrame(st, geometry=gpd.points_from_xy(st["lon"], st["lat"]), crs="EPSG:4326")
    com = tables.commune_table(r) if communes is None else communes
    gcom = gpd.GeoDataFrame(com, geometry=r.reformed.new.geometry.reindex(com["new_commune_code"]).to_numpy(), crs="EPSG:4326")
    cat = catchments(gcom)
    cat["centre_name"] = cat["centre_code"].map(r.centres["name"])
    cat["capacity"] = cat["centre_code"].map(r.centres["capacity"])
    mv = r.plan.moves.copy()
    if len(mv):
        a = r.stations.loc[mv["from_station"]]
        b = r.stations.loc[mv["to_station"]]
        geom = shapely.linestrings(np.stack([np.c_[a["lon"], a["lat"]], np.c_[b["lon"], b["lat"]]], axis=1))
    else:
        geom = []
        mv = pd.DataFrame(
            {
                "from_station": pd.Series(dtype=str),
                "to_station": pd.Series(dtype=str),
                "cadre": pd.Series(dtype=str),
                "persons": pd.Series(dtype=int),
                "minutes": pd.Series(dtype=float),
                "reason": pd.Series(dtype=str),
            }
        )
    gmv = gpd.GeoDataFrame(mv, geometry=gpd.GeoSeries(geom, crs="EPSG:4326"), crs="EPSG:4326")
    with fixed_gpkg_timestamp(sync=False):  # written in the run's temporary folder
        gst.to_file(path, layer="stations", driver="GPKG")
        gcom.to_file(path, layer="communes_after", driver="GPKG")
        cat.to_file(path, layer="catchments", driver="GPKG")
        gmv.to_file(path, layer="staff_moves", driver="GPKG", geometry_type="LineString")
        if getattr(r, "population", None) is not None:  # the demand points of a population raster
            points = demand_points(r.reformed)
            gpd.GeoDataFrame(points, geometry=gpd.points_from_xy(points["lon"], points["lat"]), crs="EPSG:4326").to_file(
                path, layer="demand_points", driver="GPKG"
            )


def catchments(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """decisions.gpkg `catchments`: one row per regional centre (`centre_code`, sorted), the union
    of its communes' shapes (a MultiPolygon), their `population` and number (`n_communes`).
    What `communes.dissolve(by="centre_code", aggfunc={"population": "sum", "new_commune_code":
    "count"})` gives, each union the same `shapely.union_all` of the same shapes in the same order,
    without pandas' grouping of Python objects."""
    key = communes["centre_code"]
    keep = key.notna().to_numpy()
    codes, group = np.unique(key.to_numpy(dtype=object)[keep], return_inverse=True)
    order = np.argsort(group, kind="stable")  # a centre's communes in their table order
    starts = np.r_[0, np.cumsum(np.bincount(group, minlength=len(codes)))[:-1]].astype(np.intp)
    shapes = (
        [shapely.union_all(part) for part in np.split(communes.geometry.to_numpy()[keep][order], starts[1:])]
        if len(codes)
        else []
    )

    def total(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values[keep][order], starts) if len(codes) else values[:0]

    return gpd.GeoDataFrame(
        {
            "centre_code": pd.array(codes, dtype=key.dtype),
            "geometry": [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in shapes],
            "population": total(communes["population"].to_numpy()),
            "n_communes": total(communes["new_commune_code"].notna().to_numpy().astype(np.int64)),
        },
        geometry="geometry",
        crs=communes.crs,
    )


def demand_points(reformed: Any) -> pd.DataFrame:
    """decisions.gpkg `demand_points`: demand_id, lon, lat, population, old and new commune (code, name)."""
    d = reformed.demand
    return pd.DataFrame(
        {
            "demand_id": d["demand_id"],
            "lon": d["lon"].astype(float),
            "lat": d["lat"].astype(float),
            "population": d["population"].astype(float),
            "old_commune_code": d["old_code"],
            "old_commune_name": d["old_code"].map(reformed.old["commune_name"]).fillna(""),
            "new_commune_code": d["new_code"],
            "new_commune_name": d["new_code"].map(reformed.new["commune_name"]).fillna(""),
        }
    )


def write_summary(summary: dict, folder: Path) -> None:
    """`summary.json` (no measurement: seconds and memory are in run.json)."""
    (folder / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )


def write_all(
    result: Any,
    folder: Path,
    summary: dict,
    *,
    lang: str = i18n.DEFAULT_LANG,
    frames: dict[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """The CSV tables, report.md and report.html of a run (`summary`: its `build_summary`), into
    `folder` (a temporary folder renamed by the caller; decisions.gpkg is `write_gpkg`'s).
    Returns the run's `tables.shared_tables` (`frames` when given), for the GeoPackage and the
    workbook, which are built from the same tables."""
    frames = frames or tables.shared_tables(result)
    _write_csv(frames["stations"], folder / "stations.csv")
    _write_csv(frames["communes"], folder / "communes_after.csv")
    _write_csv(frames["centres"], folder / "centres.csv")
    _write_csv(tables.indicator_table(result), folder / "indicators.csv")
    _write_csv(result.plan.moves, folder / "staff_moves.csv")
    _write_csv(tables.travel_table(result), folder / "travel_minutes.csv")
    for name, frame in result.plan.explain.items():
        _write_csv(frame, folder / f"explain_{name}.csv")
    blocks = report_blocks(result, summary, lang, frames=frames)
    (folder / "report.md").write_text(doc.markdown(blocks), encoding="utf-8")
    (folder / "report.html").write_text(_page(result, blocks, lang), encoding="utf-8")
    return frames


# ---------------------------------------------------------------- Markdown and HTML


def report_charts(result: Any, lang: str = i18n.DEFAULT_LANG) -> list[str]:
    """The report's charts as inline SVG: travel minutes before/after, staff by cadre, centre loads."""
    t = i18n.translator(lang)
    d = result.measures.demand
    before, after = t("report.chart_before"), t("report.chart_after")
    out = [
        charts.histogram(
            {before: d["minutes_main_before"].to_numpy(), after: d["minutes_main_after"].to_numpy()},
            d["population"].to_numpy(),
            title=t("report.chart_minutes"),
            xlabel=t("report.chart_minutes_x"),
            ylabel=t("report.chart_residents"),
            lang=lang,
        )
    ]
    s = tables.staff_frame(result)
    out.append(
        charts.grouped_bars(
            [t(f"cadre.{c}") for c in s.index],
            {before: s["before"].tolist(), after: s["after"].tolist()},
            title=t("report.chart_staff"),
            ylabel=t("report.chart_persons"),
            lang=lang,
        )
    )
    cen = result.measures.centres.sort_values(["load_after", "name"], ascending=[False, True])
    out.append(
        charts.hbars(
            [str(x) for x in cen["name"]],
            (cen["load_after"] * 100).round(1).tolist(),
            threshold=100.0,
            title=t("report.chart_centres"),
            xlabel=t("report.chart_centres_x"),
            lang=lang,
        )
    )
    return out


def report_markdown(result: Any, summary: dict, lang: str = i18n.DEFAULT_LANG) -> str:
    """report.md of a run."""
    return doc.markdown(report_blocks(result, summary, lang))


def _page(result: Any, blocks: list[doc.Block], lang: str) -> str:
    figures = report_charts(result, lang)
    blocks = [doc.Figures(b.title, figures) if isinstance(b, doc.Figures) else b for b in blocks]
    return pages.render("report.html", lang, title=result.scenario.title, blocks=blocks, rich=doc.html)


def report_html(result: Any, summary: dict, lang: str = i18n.DEFAULT_LANG) -> str:
    """report.html of a run: the blocks of report.md and the charts, self-contained."""
    return _page(result, report_blocks(result, summary, lang), lang)
