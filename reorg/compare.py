"""`reorg compare OUT1 OUT2 [...] --out DIR`: scenario runs side by side.

Writes `comparison.csv` (one row per indicator, one column per run, the `before` value of the
pre-reform network and the `best` run), `comparison.md` and `comparison.html` (self-contained:
indicators with the best value of each row marked, counts and staff, solver records, the stations
whose role differs, the communes whose centre differs, charts, and each run's own map side by
side). Runs of different provinces, or written by incompatible reorg versions, are refused.
"""
from __future__ import annotations

import html
import json
import math
from pathlib import Path

import pandas as pd

from ._errors import InputError, Problem

LOWER_IS_BETTER = ("minutes", "shortfall", "gini", "excess", "over_capacity", "population_per_health_worker")
HIGHER_IS_BETTER = ("share", "doctors_per_10k", "doctors_total", "staff_total")
NEUTRAL = {"population", "open_stations", "main_stations", "staff_norm_total"}


def direction(indicator: str) -> str | None:
    """'min' when lower is better, 'max' when higher is better, None for neutral counts."""
    if indicator in NEUTRAL:
        return None
    if any(k in indicator for k in LOWER_IS_BETTER):
        return "min"
    if any(k in indicator for k in HIGHER_IS_BETTER):
        return "max"
    return None


def _load(folder: Path) -> dict:
    f = folder / "summary.json"
    if not f.is_file():
        raise InputError(Problem(file=str(folder), message="not a reorg run folder: summary.json is missing"))
    try:
        s = json.loads(f.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(Problem(file=str(f), message=f"cannot be read: {exc}")) from None
    for key in ("scenario", "province", "indicators", "reorg_version", "counts"):
        if key not in s:
            raise InputError(Problem(file=str(f), field=key, message="missing key: not a summary.json written by reorg"))
    return s


def _check(folders: list[Path], summaries: list[dict]) -> None:
    if len(folders) < 2:
        raise InputError(Problem(file="reorg compare", message="give at least two run folders to compare"))
    resolved = [f.resolve() for f in folders]
    if len(set(resolved)) < len(resolved):
        raise InputError(Problem(file="reorg compare", message="the same run folder is given twice"))
    names = [s["scenario"]["name"] for s in summaries]
    if len(set(names)) < len(names):
        raise InputError(Problem(file="reorg compare", message=f"two runs have the same scenario name: {', '.join(names)}"))
    provinces = {s["province"]["code"] for s in summaries}
    if len(provinces) > 1:
        listed = "; ".join(f"{f} = province {s['province']['code']} {s['province']['name']}" for f, s in zip(folders, summaries))
        raise InputError(Problem(file="reorg compare", message=f"runs of different provinces cannot be compared: {listed}"))
    versions = {".".join(s["reorg_version"].split(".")[:2]) for s in summaries}
    if len(versions) > 1:
        listed = "; ".join(f"{f} = reorg {s['reorg_version']}" for f, s in zip(folders, summaries))
        raise InputError(Problem(file="reorg compare", message=f"runs written by incompatible reorg versions: {listed}"))


def indicator_frame(folders: list[Path], summaries: list[dict]) -> pd.DataFrame:
    names = [s["scenario"]["name"] for s in summaries]
    labels = {}
    ind_csv = folders[0] / "indicators.csv"
    if ind_csv.exists():
        t = pd.read_csv(ind_csv, dtype=str)
        labels = {r["indicator"]: (r["label"], r["unit"]) for _, r in t.iterrows()}
    keys = list(summaries[0]["indicators"]["after"])
    for s in summaries[1:]:
        keys += [k for k in s["indicators"]["after"] if k not in keys]
    rows = []
    for k in keys:
        label, unit = labels.get(k, (k, ""))
        row = {"indicator": k, "label": label, "unit": unit, "before": summaries[0]["indicators"]["before"].get(k)}
        vals = {n: s["indicators"]["after"].get(k) for n, s in zip(names, summaries)}
        row.update(vals)
        d = direction(k)
        ok = {n: v for n, v in vals.items() if isinstance(v, (int, float)) and math.isfinite(v)}
        if d and ok:
            target = min(ok.values()) if d == "min" else max(ok.values())
            best = [n for n, v in ok.items() if abs(v - target) <= 1e-9 * max(1.0, abs(target))]
            row["best"] = ";".join(best) if len(best) < len(ok) else "tie"
        else:
            row["best"] = ""
        rows.append(row)
    return pd.DataFrame(rows, columns=["indicator", "label", "unit", "before", *names, "best"])


def role_differences(folders: list[Path], names: list[str]) -> pd.DataFrame:
    frames = []
    for f, n in zip(folders, names):
        st = pd.read_csv(f / "stations.csv", dtype=str, keep_default_na=False)
        frames.append(st.set_index("station_code")[["station_name", "new_commune_name", "role"]].rename(columns={"role": n}))
    t = frames[0]
    for fr in frames[1:]:
        t = t.join(fr[[fr.columns[-1]]], how="outer")
    differ = t[names].nunique(axis=1, dropna=False) > 1
    return t[differ].reset_index().rename(columns={"index": "station_code"})


def centre_differences(folders: list[Path], names: list[str]) -> pd.DataFrame:
    frames = []
    for f, n in zip(folders, names):
        c = pd.read_csv(f / "communes_after.csv", dtype=str, keep_default_na=False)
        col = c["centre_name"] if "centre_name" in c else c["centre_code"]
        frames.append(pd.DataFrame({"new_commune_code": c["new_commune_code"], "new_commune_name": c["new_commune_name"], n: col}).set_index("new_commune_code"))
    t = frames[0]
    for fr in frames[1:]:
        t = t.join(fr[[fr.columns[-1]]], how="outer")
    differ = t[names].nunique(axis=1, dropna=False) > 1
    return t[differ].reset_index()


def _fmt(v, unit="") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, str):
        return v
    if unit == "share":
        return f"{100 * v:.1f} %"
    if float(v).is_integer() or abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.2f}"


def _md_table(frame: pd.DataFrame, limit: int | None = None) -> list[str]:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in (frame.head(limit) if limit else frame).iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    if limit and len(frame) > limit:
        lines.append(f"\n… {len(frame) - limit} more rows in the CSV files of the runs.")
    return lines


def _notices(summaries, names) -> list[str]:
    out = []
    for n, s in zip(names, summaries):
        if s.get("synthetic_pack"):
            out.append(f"{n}: synthetic demo province: every boundary, name and figure is made up.")
        if s.get("synthetic_roster"):
            out.append(f"{n}: synthetic roster: station locations and staff are simulated (seeded), not real data.")
    return out


def compare_runs(folders: list[Path], out_dir: Path) -> Path:
    """Write comparison.csv, comparison.md and comparison.html for the runs in `folders` into `out_dir`."""
    from . import charts as CH
    from .outputs import atomic_dir

    folders = [Path(f) for f in folders]
    summaries = [_load(f) for f in folders]
    _check(folders, summaries)
    names = [s["scenario"]["name"] for s in summaries]
    ind = indicator_frame(folders, summaries)
    roles = role_differences(folders, names)
    centres = centre_differences(folders, names)
    prov = summaries[0]["province"]
    notices = _notices(summaries, names)

    md = [f"# Comparison of {len(names)} scenarios: province {prov['code']} {prov['name']}", ""]
    md += [f"> **{n}**" for n in notices] + ([""] if notices else [])
    md += ["Runs: " + ", ".join(f"`{n}` ({s['scenario'].get('title', '')})" for n, s in zip(names, summaries)), "",
           "## Indicators after the reform", "", "The best run of each row is in bold; `before` is the pre-reform network.", ""]
    md += ["| indicator | unit | before | " + " | ".join(names) + " |", "|---|---|---:|" + "---:|" * len(names)]
    for _, r in ind.iterrows():
        best = set(str(r["best"]).split(";")) if r["best"] not in ("", "tie") else set()
        cells = [(f"**{_fmt(r[n], r['unit'])}**" if n in best else _fmt(r[n], r["unit"])) for n in names]
        md.append(f"| {r['label']} | {r['unit']} | {_fmt(r['before'], r['unit'])} | " + " | ".join(cells) + " |")
    md += ["", "## Counts and staff", "", "| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for k in summaries[0]["counts"]:
        md.append(f"| {k} | " + " | ".join(_fmt(s["counts"].get(k)) for s in summaries) + " |")
    for k in ("moved", "hired", "lost"):
        md.append(f"| staff {k} | " + " | ".join(_fmt(s["staff"].get(k)) for s in summaries) + " |")
    md += ["", "## Solver records", ""]
    for n, s in zip(names, summaries):
        if not s.get("solver"):
            md.append(f"- `{n}`: rule-based decisions, no model solved")
        for rec in s.get("solver", []):
            gap = "–" if rec.get("relative_gap") is None else f"{100 * rec['relative_gap']:.4f} %"
            md.append(f"- `{n}` {rec['model']}: {rec['status']}, objective {_fmt(rec.get('objective'))}, gap {gap}")
    md += ["", f"## Stations whose role differs ({len(roles)})", ""] + (_md_table(roles, 60) if len(roles) else ["None."])
    md += ["", f"## Communes whose regional centre differs ({len(centres)})", ""] + (_md_table(centres, 60) if len(centres) else ["None."])
    md_text = "\n".join(md) + "\n"

    keys = [k for k in ("pop_minutes_nearest_facility", "pop_minutes_main_station", "pop_minutes_regional_centre") if k in set(ind["indicator"])]
    sub = ind.set_index("indicator")
    chart_access = CH.grouped_bars(["nearest site", "main station", "regional centre"][:len(keys)],
                                   {n: [float(sub.at[k, n] or 0) for k in keys] for n in names}, title="Mean minutes after the reform", ylabel="minutes")
    staff_keys = [k for k in ("staff_shortfall_total", "doctor_shortfall_main_stations") if k in sub.index]
    chart_staff = CH.grouped_bars(["staff shortfall", "doctors missing at main stations"][:len(staff_keys)],
                                  {n: [float(sub.at[k, n] or 0) for k in staff_keys] for n in names}, title="Staff shortfall after the reform", ylabel="persons")
    maps = ""
    for f, n in zip(folders, names):
        mp = f / "map.html"
        if mp.exists():
            maps += (f"<figure class='map'><figcaption>{html.escape(n)}</figcaption><iframe title='map of {html.escape(n)}' "
                     f"srcdoc=\"{html.escape(mp.read_text(encoding='utf-8'), quote=True)}\"></iframe></figure>")
    from .report import _md_to_html

    body = _md_to_html(md_text)
    body = body.replace("<h2>Counts and staff</h2>", f"<h2>Charts</h2><figure>{chart_access}</figure><figure>{chart_staff}</figure><h2>Counts and staff</h2>", 1)
    body += ("<h2>Maps side by side</h2><p>Each run's own map, as written by the run (offline, self-contained).</p>"
             f"<div class='maps'>{maps}</div>")
    css = ("body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}"
           "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 7px}"
           "th{background:#f0f0f0}td:not(:first-child){text-align:right}td strong{color:#116b2e}.notice{background:#fff3cd;border:1px solid #e0c36c;"
           "padding:0.6em 1em;font-weight:bold}h2{border-bottom:2px solid #3182bd;padding-bottom:2px}svg{max-width:100%;height:auto}"
           ".maps{display:flex;gap:1em;flex-wrap:wrap}.map{flex:1 1 600px;margin:0}.map iframe{width:100%;height:620px;border:1px solid #999}")
    page = (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Comparison: {html.escape(prov['name'])}</title>"
            f"<style>{css}</style></head><body>\n{body}\n</body></html>\n")
    with atomic_dir(Path(out_dir)) as tmp:
        ind.to_csv(tmp / "comparison.csv", index=False, encoding="utf-8", lineterminator="\n")
        (tmp / "comparison.md").write_text(md_text, encoding="utf-8")
        (tmp / "comparison.html").write_text(page, encoding="utf-8")
    return Path(out_dir)


def cmd_compare(args) -> int:
    out = compare_runs([Path(r) for r in args.runs], Path(args.out))
    print(f"comparison: {out / 'comparison.html'}")
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("compare", help="compare scenario runs side by side")
    p.add_argument("runs", nargs="+", help="run folders (outputs/<scenario>)")
    p.add_argument("--out", required=True, help="folder for comparison.html, comparison.md and comparison.csv")
    p.set_defaults(handler=cmd_compare)
