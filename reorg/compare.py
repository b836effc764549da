"""`reorg compare RUN1 RUN2 [...] --out DIR`: scenario runs of one province side by side.

Reads only what every run folder (`outputs/<scenario>/`) holds: `summary.json` (the contract),
`stations.csv`, `communes_after.csv`, `indicators.csv` (labels and units) and `map.html`. Writes,
atomically (`reorg.outputs.atomic_dir`):

- `comparison.csv`: one row per indicator (every key of `indicators.after`): `indicator`,
  `label`, `unit`, `before` (the first run's pre-reform value: the network before the reform is
  the same for every run of a province), one column per run named by its scenario name (the exact
  numbers of its summary.json), and `best`: the run(s) best for that indicator (lower is better
  for minutes, shortfalls, Gini, centre excess and over capacity, residents per health worker;
  higher for shares, doctors per 10k and staff totals; empty for neutral counts such as
  population, open and main stations, staff norm). Tied runs are joined with ";".
- `comparison.md` and `comparison.html` (self-contained: inline CSS, charts as inline SVG drawn
  with matplotlib, no script of its own): the runs' synthetic-data notices first, the indicators
  side by side with the best value of each row marked, the counts and staff, the solver records,
  the stations whose role differs, the communes whose regional centre differs and, in the HTML,
  each run's own map side by side (an iframe whose `srcdoc` holds the run's map.html).

Refused with exit code 2 (`InputError`), nothing written: fewer than two runs, the same folder
twice, a folder that is not a run (no summary.json), runs of different provinces, runs written by
reorg versions whose major.minor differ, an output folder that is (or holds, or lies inside) one
of the runs, or an existing folder that is not an earlier comparison.
"""
from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ._errors import InputError, Problem

FILES = ("comparison.csv", "comparison.md", "comparison.html")

# Direction of each indicator: "lower" or "higher" is better; None for neutral counts.
NEUTRAL = frozenset({"population", "open_stations", "main_stations", "staff_norm_total"})
_LOWER = ("minutes", "shortfall", "gini", "excess", "over_capacity", "per_health_worker")
_HIGHER = ("share", "per_10k", "doctors_total", "staff_total", "with_doctor")

NOTICES = {
    "synthetic_pack": "Synthetic demo province: every boundary, name and figure is made up.",
    "synthetic_roster": ("Synthetic roster: station locations and staff are simulated (seeded), not real data. "
                         "Station locations and staff rosters are not public; give a roster CSV to use real ones."),
    "synthetic_centres": "Regional centres: beds, staff and capacity are synthetic (seeded rules from DOMAIN.md defaults).",
}
RESERVED = {"indicator", "label", "unit", "before", "best"}  # columns of comparison.csv


def direction(indicator: str) -> str | None:
    """'lower' or 'higher' when that is better for `indicator`; None for neutral counts (no best)."""
    if indicator in NEUTRAL:
        return None
    if any(k in indicator for k in _LOWER):
        return "lower"
    if any(k in indicator for k in _HIGHER):
        return "higher"
    return None


def _number(v) -> float | int | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v if math.isfinite(v) else None


def best_runs(values: dict[str, float | int | None], how: str | None) -> list[str]:
    """Names of the runs with the best value (all of them when tied); [] when there is no best."""
    ok = {n: v for n, v in values.items() if _number(v) is not None}
    if how is None or len(ok) < 2:
        return []
    target = min(ok.values()) if how == "lower" else max(ok.values())
    return [n for n, v in ok.items() if math.isclose(v, target, rel_tol=1e-12, abs_tol=1e-12)]


# ---------------------------------------------------------------- reading the runs

@dataclass
class Run:
    folder: Path
    summary: dict
    name: str = ""  # column name: the scenario name (made unique when two runs share one)
    stations: list[dict] = field(default_factory=list)
    communes: list[dict] = field(default_factory=list)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)


def _read_csv(path: Path, needed: tuple[str, ...]) -> list[dict]:
    if not path.is_file():
        raise InputError(Problem(file=str(path), message="missing from the run folder (was it written by `reorg run`?)"))
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(Problem(file=str(path), message=f"cannot be read as a UTF-8 CSV file: {exc}")) from None
    missing = [c for c in needed if c not in header]
    if missing:
        raise InputError(Problem(file=str(path), field=missing[0], row=1, message=f"column(s) missing: {', '.join(missing)}"))
    return rows


def _read_summary(folder: Path) -> dict:
    f = folder / "summary.json"
    try:
        s = json.loads(f.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(Problem(file=str(f), message=f"cannot be read as JSON: {exc}")) from None
    if not isinstance(s, dict):
        raise InputError(Problem(file=str(f), message="not a summary.json written by reorg (not a JSON object)"))
    for key, sub in (("reorg_version", None), ("scenario", "name"), ("province", "code"), ("indicators", "after"), ("indicators", "before")):
        ok = key in s and (sub is None or (isinstance(s[key], dict) and sub in s[key]))
        if not ok:
            raise InputError(Problem(file=str(f), field=key if sub is None else f"{key}.{sub}",
                                     message="missing: not a summary.json written by reorg"))
    return s


def _version(run: Run) -> tuple[str, ...]:
    v = str(run.summary["reorg_version"])
    m = re.match(r"^(\d+)\.(\d+)", v)
    if not m:
        raise InputError(Problem(file=str(run.folder / "summary.json"), field="reorg_version", message=f"'{v}' is not a version number"))
    return m.groups()


def _load_runs(folders: list[Path]) -> list[Run]:
    if len(folders) < 2:
        raise InputError(Problem(file="reorg compare", message=f"give at least two run folders to compare (got {len(folders)}: "
                                 f"{', '.join(map(str, folders)) or 'none'})"))
    problems = []
    for f in folders:
        if not f.is_dir():
            problems.append(Problem(file=str(f), message="no such folder"))
        elif not (f / "summary.json").is_file():
            inner = sorted(p.parent.name for p in f.glob("*/summary.json"))
            hint = f"; it holds the runs {', '.join(inner)}: give those folders instead" if inner else ""
            problems.append(Problem(file=str(f), message=f"not a reorg run folder: summary.json is missing{hint}"))
    if problems:
        raise InputError(problems)
    seen: dict[Path, Path] = {}
    for f in folders:
        r = f.resolve()
        if r in seen:
            raise InputError(Problem(file=str(f), message=f"the same run folder is given twice ({seen[r]} and {f})"))
        seen[r] = f
    runs = [Run(f, _read_summary(f)) for f in folders]

    first = runs[0]
    p0 = first.summary["province"]
    problems = [Problem(file=str(r.folder / "summary.json"), field="province.code",
                        message=f"{r.folder} is province {r.summary['province']['code']} ({r.summary['province'].get('name', '?')}) but "
                                f"{first.folder} is province {p0['code']} ({p0.get('name', '?')}): runs of different provinces cannot be compared")
                for r in runs[1:] if str(r.summary["province"]["code"]) != str(p0["code"])]
    if problems:
        raise InputError(problems)
    v0 = _version(first)
    problems = [Problem(file=str(r.folder / "summary.json"), field="reorg_version",
                        message=f"{r.folder} was written by reorg {r.summary['reorg_version']} but {first.folder} by reorg "
                                f"{first.summary['reorg_version']}: incompatible reorg versions (major.minor differ), run both again with one version")
                for r in runs[1:] if _version(r) != v0]
    if problems:
        raise InputError(problems)

    taken: set[str] = set()
    for r in runs:
        base = str(r.summary["scenario"]["name"]) or r.folder.name
        name, k = (base if base not in RESERVED else f"{base}_run"), 2
        while name in taken:
            name, k = f"{base}#{k}", k + 1
        taken.add(name)
        r.name = name
    return runs


def _read_tables(run: Run) -> None:
    run.stations = _read_csv(run.folder / "stations.csv", ("station_code", "station_name", "new_commune_code", "new_commune_name", "role"))
    run.communes = _read_csv(run.folder / "communes_after.csv", ("new_commune_code", "new_commune_name", "centre_code"))
    ind = run.folder / "indicators.csv"
    if ind.is_file():
        run.labels = {r["indicator"]: (r.get("label") or r["indicator"], r.get("unit") or "") for r in _read_csv(ind, ("indicator",))}


def _check_out(out_dir: Path, runs: list[Run]) -> None:
    out = out_dir.resolve()
    for r in runs:
        f = r.folder.resolve()
        if out == f or out in f.parents or f in out.parents:
            raise InputError(Problem(file=str(out_dir), field="--out", message=f"would replace or write into the run folder {r.folder}: "
                                                                               "choose a folder outside the runs"))
    if out.exists() and not out.is_dir():
        raise InputError(Problem(file=str(out_dir), field="--out", message="exists and is not a folder"))
    if out.is_dir() and any(out.iterdir()) and not (out / "comparison.csv").is_file():
        raise InputError(Problem(file=str(out_dir), field="--out", message="exists and is not an earlier comparison: "
                                                                           "it would be replaced, choose a new or empty folder"))


# ---------------------------------------------------------------- tables

def indicator_rows(runs: list[Run]) -> list[dict]:
    """One row per indicator: indicator, label, unit, before, one value per run, best (list of names)."""
    keys: list[str] = []
    for r in runs:
        keys += [k for k in r.summary["indicators"]["after"] if k not in keys]
    rows = []
    for k in keys:
        label, unit = next((r.labels[k] for r in runs if k in r.labels), (k, ""))
        vals = {r.name: _number(r.summary["indicators"]["after"].get(k)) for r in runs}
        rows.append({"indicator": k, "label": label, "unit": unit, "before": _number(runs[0].summary["indicators"]["before"].get(k)),
                     "values": vals, "direction": direction(k), "best": best_runs(vals, direction(k))})
    return rows


def _before_differs(runs: list[Run]) -> list[str]:
    """Indicators whose pre-reform value differs between the runs (different rosters or parameters)."""
    out = []
    b0 = runs[0].summary["indicators"]["before"]
    for k, v in b0.items():
        if any(_number(r.summary["indicators"]["before"].get(k)) != _number(v) for r in runs[1:]):
            out.append(k)
    return out


def role_differences(runs: list[Run]) -> list[dict]:
    """Stations whose role is not the same in every run (a station missing from a run counts as a difference)."""
    by_run = [{s["station_code"]: s for s in r.stations} for r in runs]
    codes: list[str] = []
    seen: set[str] = set()
    for t in by_run:
        for c in t:
            if c not in seen:
                seen.add(c)
                codes.append(c)
    out = []
    for c in codes:
        roles = [t[c]["role"] if c in t else None for t in by_run]
        if len(set(roles)) > 1:
            info = next(t[c] for t in by_run if c in t)
            out.append({"station_code": c, "station_name": info["station_name"], "new_commune_code": info["new_commune_code"],
                        "new_commune_name": info["new_commune_name"], "roles": dict(zip((r.name for r in runs), roles))})
    return sorted(out, key=lambda d: (d["new_commune_code"], d["station_code"]))


def centre_differences(runs: list[Run]) -> list[dict]:
    """New communes whose regional centre is not the same in every run."""
    by_run = [{c["new_commune_code"]: c for c in r.communes} for r in runs]
    codes = sorted(set().union(*by_run))
    out = []
    for c in codes:
        centres = [t[c]["centre_code"] if c in t else None for t in by_run]
        if len(set(centres)) > 1:
            info = next(t[c] for t in by_run if c in t)
            shown = {}
            for r, t in zip(runs, by_run):
                row = t.get(c)
                shown[r.name] = None if row is None else (f"{row['centre_name']} ({row['centre_code']})" if row.get("centre_name") else row["centre_code"])
            out.append({"new_commune_code": c, "new_commune_name": info["new_commune_name"], "population": info.get("population", ""),
                        "centres": shown})
    return out


def role_transitions(runs: list[Run], diffs: list[dict]) -> list[tuple[str, str, str, int]]:
    """(other run, role in the first run, role in the other run, stations) for every change against the first run."""
    out = []
    for r in runs[1:]:
        counts: dict[tuple[str, str], int] = {}
        for d in diffs:
            a, b = d["roles"][runs[0].name], d["roles"][r.name]
            if a != b:
                counts[(a or "absent", b or "absent")] = counts.get((a or "absent", b or "absent"), 0) + 1
        out += [(r.name, a, b, n) for (a, b), n in sorted(counts.items())]
    return out


# ---------------------------------------------------------------- formatting

def _csv_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)  # the shortest text that reads back as exactly this number
    return str(v)


def comparison_csv(rows: list[dict], runs: list[Run]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["indicator", "label", "unit", "before", *(r.name for r in runs), "best"])
    for row in rows:
        w.writerow([row["indicator"], row["label"], row["unit"], _csv_cell(row["before"]),
                    *(_csv_cell(row["values"][r.name]) for r in runs), ";".join(row["best"])])
    return buf.getvalue()


def fmt(v, unit: str = "") -> str:
    """A value for reading: shares in %, whole numbers with thousands separators."""
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if unit == "share":
        return f"{100 * v:.2f} %"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and unit not in ("min", "0..1", "/10k")):
        return f"{v:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if unit in ("0..1", "/10k"):
        return f"{v:.3f}"
    return f"{v:.2f}"


def _md_escape(t) -> str:
    return str(t).replace("|", "\\|")


def _md_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    align = align or ["---"] * len(header)
    return (["| " + " | ".join(_md_escape(h) for h in header) + " |", "|" + "|".join(align) + "|"]
            + ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows])


def _notices(runs: list[Run]) -> list[str]:
    out = []
    for key, text in NOTICES.items():
        which = [r.name for r in runs if r.summary.get(key)]
        if which:
            scope = "every run" if len(which) == len(runs) else "run" + ("s " if len(which) > 1 else " ") + ", ".join(which)
            out.append(f"{text} ({scope})")
    return out


def _solver_rows(runs: list[Run]) -> list[list[str]]:
    rows = []
    for r in runs:
        recs = r.summary.get("solver") or []
        if not recs:
            rows.append([r.name, "no model solved (rule-based decisions)", "", "", "", "", "", ""])
        for rec in recs:
            gap = rec.get("relative_gap")
            rows.append([r.name, str(rec.get("model", "")), str(rec.get("solver", "")),
                         str(rec.get("status", "")) + (" (time limit reached)" if rec.get("time_limit_reached") else ""),
                         fmt(_number(rec.get("objective"))), fmt(_number(rec.get("best_bound"))),
                         "–" if _number(gap) is None else f"{100 * gap:.4f} %",
                         "–" if _number(rec.get("seconds")) is None else f"{rec['seconds']:.2f}"])
    return rows


SOLVER_HEADER = ["run", "model", "solver", "status", "objective", "best bound", "gap", "seconds"]
STAFF_KEYS = ("moved", "hired", "lost", "person_minutes_moved")


def _count_rows(runs: list[Run]) -> list[list[str]]:
    keys: list[str] = []
    for r in runs:
        keys += [k for k in (r.summary.get("counts") or {}) if k not in keys]
    rows = [[k.replace("_", " ")] + [fmt(_number((r.summary.get("counts") or {}).get(k))) for r in runs] for k in keys]
    staff0 = runs[0].summary.get("staff") or {}
    for cadre in (staff0.get("after") or {}):
        rows.append([f"staff after: {cadre.replace('_', ' ')}"] + [fmt(_number(((r.summary.get("staff") or {}).get("after") or {}).get(cadre))) for r in runs])
    for k in STAFF_KEYS:
        rows.append([f"staff {k.replace('_', ' ')}"] + [fmt(_number((r.summary.get("staff") or {}).get(k))) for r in runs])
    return rows


def _runs_rows(runs: list[Run]) -> list[list[str]]:
    rows = []
    for r in runs:
        sc = r.summary["scenario"]
        pol = ", ".join(f"{k} {v}" for k, v in (sc.get("policy") or {}).items())
        par = ", ".join(f"{k} = {v}" for k, v in (sc.get("params_overridden") or {}).items()) or "none"
        rows.append([r.name, str(sc.get("title", "")), pol, str(sc.get("seed", "")), par, str(r.summary["reorg_version"]), str(r.folder)])
    return rows


RUNS_HEADER = ["run", "title", "policy", "seed", "parameters overridden", "reorg", "folder"]


# ---------------------------------------------------------------- charts (matplotlib, inline SVG)

ACCESS = (("pop_minutes_nearest_facility", "nearest site"), ("pop_minutes_main_station", "main station"),
          ("pop_minutes_regional_centre", "regional centre"))
ACCESS_SHARES = (("pop_share_within_30min", "nearest site\n≤ 30 min"), ("pop_share_main_station_within_30min", "main station\n≤ 30 min"),
                 ("pop_share_main_station_within_60min", "main station\n≤ 60 min"), ("pop_share_centre_within_60min", "regional centre\n≤ 60 min"))
STAFF = (("staff_shortfall_total", "staff shortfall\n(all cadres)"), ("doctor_shortfall_main_stations", "doctors missing\nat main stations"))
COLOURS = ("#9e9e9e", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#d6616b", "#8c6d31", "#17becf", "#bcbd22", "#7f7f7f")


def _svg(fig, salt: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _bars(ax, panels: tuple, rows: dict, runs: list[Run], *, scale: float = 1.0, fmt_value=None) -> None:
    import numpy as np

    keys = [(k, lab) for k, lab in panels if k in rows]
    series = [("before", [rows[k]["before"] for k, _ in keys])] + [(r.name, [rows[k]["values"][r.name] for k, _ in keys]) for r in runs]
    n = len(series)
    width = 0.8 / n
    x = np.arange(len(keys))
    for s, (name, vals) in enumerate(series):
        v = [scale * (0.0 if a is None else float(a)) for a in vals]
        bars = ax.bar(x - 0.4 + width * (s + 0.5), v, width * 0.92, label=name, color=COLOURS[s % len(COLOURS)])
        ax.bar_label(bars, labels=[fmt_value(a) if fmt_value else f"{a:,.1f}" for a in v], fontsize=7, padding=1.5)
    ax.set_xticks(x, [lab for _, lab in keys], fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e5e5e5")
    ax.set_axisbelow(True)


def charts(rows: list[dict], runs: list[Run]) -> dict[str, str]:
    """Two inline SVG figures: access (mean minutes and shares within reach) and staff shortfall, before and per run."""
    from matplotlib.figure import Figure

    by_key = {r["indicator"]: r for r in rows}
    out = {}
    with __import__("matplotlib").rc_context({"font.family": "DejaVu Sans", "font.size": 9}):
        fig = Figure(figsize=(12, 3.8))
        a1, a2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 4]})
        _bars(a1, ACCESS, by_key, runs)
        a1.set_ylabel("population-weighted mean minutes")
        a1.set_title("Mean minutes to ...", fontsize=10)
        _bars(a2, ACCESS_SHARES, by_key, runs, scale=100, fmt_value=lambda a: f"{a:.1f}")
        a2.set_ylabel("% of residents")
        shares = [100 * v for k, _ in ACCESS_SHARES if k in by_key for v in [by_key[k]["before"], *by_key[k]["values"].values()] if v is not None]
        low = max(0, 10 * math.floor(min(shares, default=0) / 10) - 10)  # the differences are a few points near 100 %
        a2.set_ylim(low, 104)
        a2.set_title("Residents within reach (%" + (f", axis from {low} %)" if low else ")"), fontsize=10)
        fig.suptitle("Access after the reform, by run", fontsize=11, fontweight="bold", y=1.06)
        fig.legend(*a1.get_legend_handles_labels(), loc="upper center", ncol=len(runs) + 1, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.03))
        out["access"] = _svg(fig, "reorg-compare-access")

        fig = Figure(figsize=(8, 3.4))
        ax = fig.subplots()
        _bars(ax, STAFF, by_key, runs, fmt_value=lambda a: f"{a:,.0f}")
        ax.set_ylabel("persons")
        fig.suptitle("Staff shortfall against the Circular 03/2023 norm, by run", fontsize=11, fontweight="bold", y=1.08)
        fig.legend(*ax.get_legend_handles_labels(), loc="upper center", ncol=len(runs) + 1, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.03))
        out["staff"] = _svg(fig, "reorg-compare-staff")
    return out


# ---------------------------------------------------------------- Markdown and HTML

def _markdown(runs, rows, roles, transitions, centres, notices, before_diff) -> str:
    prov = runs[0].summary["province"]
    names = [r.name for r in runs]
    md = [f"# Comparison of {len(runs)} scenario runs: province {prov['code']} {prov.get('name', '')}", ""]
    md += [line for n in notices for line in (f"> **{n}**", "")]
    md += ["## Runs", ""] + _md_table(RUNS_HEADER, _runs_rows(runs)) + [""]
    md += ["## Indicators after the reform", "",
           "`before` is the network before the reform (the first run's figures). The best run of each row is in **bold** and named "
           "in `best` (ties: every tied run); neutral counts have no best.", ""]
    if before_diff:
        md += [f"Note: the pre-reform values differ between the runs for {', '.join(before_diff)} (different rosters or parameters); "
               "`before` is the first run's.", ""]
    body = []
    for row in rows:
        cells = [(f"**{fmt(row['values'][n], row['unit'])}**" if n in row["best"] else fmt(row["values"][n], row["unit"])) for n in names]
        body.append([row["label"], row["unit"], fmt(row["before"], row["unit"]), *cells, ", ".join(row["best"]) or "–"])
    md += _md_table(["indicator", "unit", "before", *names, "best"], body, ["---", "---", "---:"] + ["---:"] * len(names) + ["---"]) + [""]
    md += ["## Counts and staff", ""] + _md_table(["", *names], _count_rows(runs), ["---"] + ["---:"] * len(names)) + [""]
    md += ["## Solver records", ""] + _md_table(SOLVER_HEADER, _solver_rows(runs)) + [""]
    diag = [(r.name, d) for r in runs for d in (r.summary.get("diagnoses") or [])]
    if diag:
        md += ["Diagnoses (rules that could not all hold):", ""] + [f"- `{n}` {d.get('model', '')}: {d.get('message', d.get('rule', ''))}" for n, d in diag] + [""]
    md += [f"## Stations whose role differs ({len(roles)})", ""]
    if roles:
        if transitions:
            md += ["Changes against the first run:", ""] + _md_table(["run", f"role in {names[0]}", "role in the run", "stations"],
                                                                      [[a, b, c, str(n)] for a, b, c, n in transitions]) + [""]
        md += _md_table(["station", "station name", "new commune", *names],
                        [[d["station_code"], d["station_name"], f"{d['new_commune_name']} ({d['new_commune_code']})",
                          *(d["roles"][n] or "absent" for n in names)] for d in roles])
    else:
        md.append("None: every station has the same role in every run.")
    md += ["", f"## Communes whose regional centre differs ({len(centres)})", ""]
    if centres:
        md += _md_table(["commune", "commune name", "population", *names],
                        [[d["new_commune_code"], d["new_commune_name"], fmt(_number(_int(d["population"]))),
                          *(d["centres"][n] or "absent" for n in names)] for d in centres])
    else:
        md.append("None: every commune has the same regional centre in every run.")
    md += ["", "## Maps", "", "Each run's own map (its `map.html`) is shown side by side in `comparison.html`:", ""]
    md += [f"- `{r.name}`: {r.folder / 'map.html'}" for r in runs]
    return "\n".join(md) + "\n"


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None


CSS = """
body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1500px;margin:1.5em auto;padding:0 1.2em;color:#222;line-height:1.35}
h1{font-size:1.5em;margin-bottom:.3em}h2{border-bottom:2px solid #3182bd;padding-bottom:2px;margin-top:1.6em;font-size:1.2em}
.notice{background:#fff3cd;border:1px solid #e0c36c;padding:.5em 1em;margin:.4em 0;font-weight:bold}
.scroll{overflow-x:auto;max-width:100%}.long{max-height:32em;overflow:auto;border:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.86em}td,th{border:1px solid #ccc;padding:3px 8px;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0}td.num{text-align:right;white-space:nowrap}
td.best{background:#e3f4e6;color:#116b2e;font-weight:bold}td.before{color:#555;background:#fafafa}td.bestnames{color:#116b2e}
td.diff{background:#fdf0e6}.muted{color:#666;font-size:.9em}figure{margin:1em 0}svg{max-width:100%;height:auto}
code{background:#f3f3f3;padding:0 3px}
.maps{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:1em}
.maps figure{margin:0;display:flex;flex-direction:column}.maps figcaption{font-weight:bold;margin-bottom:.3em;flex:1}
.maps iframe{width:100%;height:720px;border:1px solid #999}
"""


def _h(t) -> str:
    return html.escape(str(t))


def _html_table(header: list[str], rows: list[list[str]], *, ident: str = "", num: set[int] = frozenset(), cls=None, long=False) -> str:
    """`cls(i, j)` gives an extra class for cell (i, j); cells are plain text, escaped here."""
    head = "".join(f"<th>{_h(c)}</th>" for c in header)
    body = []
    for i, r in enumerate(rows):
        cells = []
        for j, c in enumerate(r):
            k = " ".join(x for x in ("num" if j in num else "", cls(i, j) if cls else "") if x)
            cells.append(f"<td class='{k}'>{_h(c)}</td>" if k else f"<td>{_h(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    idattr = f" id='{ident}'" if ident else ""
    return f"<div class='scroll{' long' if long else ''}'><table{idattr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def _html(runs, rows, roles, transitions, centres, notices, before_diff, figs) -> str:
    prov = runs[0].summary["province"]
    names = [r.name for r in runs]
    title = f"Comparison of {len(runs)} scenario runs: province {prov['code']} {prov.get('name', '')}"
    p = [f"<h1>{_h(title)}</h1>"]
    p += [f"<p class='notice'>{_h(n)}</p>" for n in notices]
    p += ["<h2>Runs</h2>", _html_table(RUNS_HEADER, _runs_rows(runs), ident="runs")]

    p += ["<h2>Indicators after the reform</h2>",
          "<p class='muted'><b>before</b> is the network before the reform (the first run's figures). The best run of each row is "
          "<span style='color:#116b2e;font-weight:bold;background:#e3f4e6'>&nbsp;green and bold&nbsp;</span> and named in "
          "<b>best</b> (ties: every tied run); neutral counts have no best.</p>"]
    if before_diff:
        p.append(f"<p class='muted'>Note: the pre-reform values differ between the runs for {_h(', '.join(before_diff))} "
                 "(different rosters or parameters); <b>before</b> is the first run's.</p>")
    body, best_cells = [], set()
    for i, row in enumerate(rows):
        body.append([row["label"], row["unit"], fmt(row["before"], row["unit"]), *(fmt(row["values"][n], row["unit"]) for n in names),
                     ", ".join(row["best"]) or "–"])
        best_cells |= {(i, 3 + j) for j, n in enumerate(names) if n in row["best"]}
    last = 3 + len(names)
    p.append(_html_table(["indicator", "unit", "before", *names, "best"], body, ident="indicators", num=set(range(2, last)),
                         cls=lambda i, j: "best" if (i, j) in best_cells else ("before" if j == 2 else ("bestnames" if j == last else ""))))

    p += ["<h2>Charts</h2>", f"<figure>{figs['access']}</figure>", f"<figure>{figs['staff']}</figure>"]
    p += ["<h2>Counts and staff</h2>", _html_table(["", *names], _count_rows(runs), ident="counts", num=set(range(1, 1 + len(names))))]
    p += ["<h2>Solver records</h2>", _html_table(SOLVER_HEADER, _solver_rows(runs), ident="solver", num={4, 5, 6, 7})]
    diag = [(r.name, d) for r in runs for d in (r.summary.get("diagnoses") or [])]
    if diag:
        p.append("<p>Diagnoses (rules that could not all hold):</p><ul>"
                 + "".join(f"<li><code>{_h(n)}</code> {_h(d.get('model', ''))}: {_h(d.get('message', d.get('rule', '')))}</li>" for n, d in diag) + "</ul>")

    p.append(f"<h2>Stations whose role differs ({len(roles)})</h2>")
    if roles:
        if transitions:
            p += ["<p>Changes against the first run:</p>",
                  _html_table(["run", f"role in {names[0]}", "role in the run", "stations"], [[a, b, c, str(n)] for a, b, c, n in transitions],
                              ident="role-transitions", num={3})]
        rrows = [[d["station_code"], d["station_name"], f"{d['new_commune_name']} ({d['new_commune_code']})", *(d["roles"][n] or "absent" for n in names)]
                 for d in roles]
        p.append(_html_table(["station", "station name", "new commune", *names], rrows, ident="role-differences", long=len(rrows) > 25,
                             cls=lambda i, j: "diff" if j >= 3 and rrows[i][j] != rrows[i][3] else ""))
    else:
        p.append("<p>None: every station has the same role in every run.</p>")

    p.append(f"<h2>Communes whose regional centre differs ({len(centres)})</h2>")
    if centres:
        crows = [[d["new_commune_code"], d["new_commune_name"], fmt(_number(_int(d["population"]))), *(d["centres"][n] or "absent" for n in names)]
                 for d in centres]
        p.append(_html_table(["commune", "commune name", "population", *names], crows, ident="centre-differences", num={2}, long=len(crows) > 25,
                             cls=lambda i, j: "diff" if j >= 4 and crows[i][j] != crows[i][3] else ""))
    else:
        p.append("<p>None: every commune has the same regional centre in every run.</p>")

    p += ["<h2>Maps side by side</h2>",
          "<p class='muted'>These are the runs' own maps: each run's <code>map.html</code>, embedded unchanged (offline, no network "
          "needed). Each map has its own colour scale and legend; compare the legends before the colours.</p><div class='maps'>"]
    for r in runs:
        mp = r.folder / "map.html"
        cap = f"{_h(r.name)} <span class='muted'>({_h(r.summary['scenario'].get('title', ''))})</span>"
        if mp.is_file():
            doc = mp.read_text(encoding="utf-8", errors="replace")
            p.append(f"<figure><figcaption>{cap}</figcaption><iframe title='map of {_h(r.name)}' "
                     f"srcdoc=\"{html.escape(doc, quote=True)}\"></iframe></figure>")
        else:
            p.append(f"<figure><figcaption>{cap}</figcaption><p>No map.html in {_h(r.folder)}.</p></figure>")
    p.append("</div>")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{_h(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{CSS}</style></head><body>\n"
            + "\n".join(p) + "\n</body></html>\n")


# ---------------------------------------------------------------- entry points

def compare_runs(folders: list[Path], out_dir: Path) -> Path:
    """Compare the run folders (two or more, one province) and write comparison.csv, .md and .html
    into `out_dir` (atomically); returns `out_dir`. Raises InputError, writing nothing, when the
    runs cannot be compared."""
    from .outputs import atomic_dir

    folders = [Path(f) for f in folders]
    out_dir = Path(out_dir)
    runs = _load_runs(folders)
    _check_out(out_dir, runs)
    for r in runs:
        _read_tables(r)
    rows = indicator_rows(runs)
    roles = role_differences(runs)
    transitions = role_transitions(runs, roles)
    centres = centre_differences(runs)
    notices = _notices(runs)
    before_diff = _before_differs(runs)
    figs = charts(rows, runs)
    md = _markdown(runs, rows, roles, transitions, centres, notices, before_diff)
    page = _html(runs, rows, roles, transitions, centres, notices, before_diff, figs)
    with atomic_dir(out_dir) as tmp:
        (tmp / "comparison.csv").write_text(comparison_csv(rows, runs), encoding="utf-8", newline="")
        (tmp / "comparison.md").write_text(md, encoding="utf-8")
        (tmp / "comparison.html").write_text(page, encoding="utf-8")
    return out_dir


def cmd_compare(args) -> int:
    out = compare_runs([Path(r) for r in args.runs], Path(args.out))
    print(f"comparison: {out / 'comparison.html'}")
    print(f"table: {out / 'comparison.csv'}")
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("compare", help="compare scenario runs of one province side by side",
                              description="Compare two or more run folders (outputs/<scenario>) of one province: indicators, "
                                          "counts, solver records, station roles and centre catchments that differ, maps side by side.")
    p.add_argument("runs", nargs="+", help="run folders (outputs/<scenario>), two or more")
    p.add_argument("--out", required=True, help="folder for comparison.csv, comparison.md and comparison.html (replaced atomically)")
    p.set_defaults(handler=cmd_compare)
