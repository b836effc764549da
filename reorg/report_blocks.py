"""The report's content as blocks (reorg.document): summary, decisions, indicators before and after,
staff, the communes that lose most, main stations, centres, the travel network, assumptions, the
decisions explained and the solver's records, in English or Vietnamese. `report.py` writes them as
report.md and report.html."""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import document as doc
from . import fmt, i18n, indicators, tables, terrain
from .schema import CADRES


def _notices(summary: dict, lang: str) -> list[doc.Block]:
    flags = {k: bool(summary.get(k)) for k in i18n.NOTICE_KEYS}
    return [doc.Para(n, "notice") for n in i18n.notices(flags, lang)]


def report_blocks(
    result: Any, summary: dict, lang: str = i18n.DEFAULT_LANG, *, frames: dict[str, pd.DataFrame] | None = None
) -> list[doc.Block]:
    """The report of a run as blocks, in `lang` (report.md and report.html); `frames`: the run's
    `tables.shared_tables` when already built."""
    r = result
    frames = frames or {}
    t = i18n.translator(lang)
    c = summary["counts"]
    n = lambda v: fmt.count(v, lang)  # noqa: E731
    one = lambda v: fmt.number(v, 1, lang)  # noqa: E731
    B: list[doc.Block] = [
        doc.Heading(r.scenario.title, 1),
        doc.Para(
            doc.rich(
                t("report.byline"),
                code=r.pack.province_code,
                name=r.pack.province_name,
                scenario=doc.code(r.scenario.name),
                seed=r.scenario.seed,
                version=r.version,
            )
        ),
    ]
    B += _notices(summary, lang)
    B += [
        doc.Heading(t("report.h_summary")),
        doc.Para(
            t(
                "report.summary",
                old=n(c["old_communes"]),
                new=n(c["new_communes"]),
                stations=n(c["stations"]),
                main=n(c["main_stations"]),
                points=n(c["point_stations"]),
                closed=n(c["closed_stations"]),
                centres=n(c["regional_centres"]),
            )
        ),
        doc.Figures(t("report.h_charts"), []),  # filled by the HTML page
        doc.Heading(t("report.h_decisions")),
        doc.Items([doc.join(doc.bold(t(f"policy.{k}")), ": ", v) for k, v in r.plan.rule_texts(lang).items()]),
        doc.Heading(t("report.h_indicators")),
    ]
    rows = []
    for row in tables.indicator_table(r, lang).to_dict("records"):
        k = row["indicator"]
        rows.append(
            [
                row["label"],
                row["unit"],
                fmt.indicator(k, row["before"], lang),
                fmt.indicator(k, row["after"], lang),
                fmt.indicator_change(k, row["before"], row["after"], lang),
            ]
        )
    B.append(
        doc.Table(
            [
                t("report.col_indicator"),
                t("report.col_unit"),
                t("report.col_before"),
                t("report.col_after"),
                t("report.col_change"),
            ],
            rows,
            "llrrr",
        )
    )
    s = summary["staff"]
    B += [
        doc.Heading(t("report.h_staff")),
        doc.Table(
            [t("report.col_cadre"), t("report.col_before"), t("report.col_after")],
            [
                [t(f"cadre.{k}") if k != "total" else t("report.total"), n(s["before"][k]), n(s["after"][k])]
                for k in [*CADRES, "total"]
            ],
            "lrr",
        ),
        doc.Para(t("report.staff_line", moved=n(s["moved"]), hired=n(s["hired"]), lost=n(s["lost"]))),
        doc.Heading(t("report.h_losers")),
        doc.Para(t("report.losers_note")),
    ]
    B.append(
        doc.Table(
            [
                t("report.col_old_commune"),
                t("report.col_new_commune"),
                t("report.col_population"),
                t("report.col_before"),
                t("report.col_after"),
                t("report.col_change"),
            ],
            [
                [
                    f"{row['old_name']} ({row['old_code']})",
                    row["new_name"],
                    n(row["population"]),
                    one(row["minutes_main_before"]),
                    one(row["minutes_main_after"]),
                    fmt.signed(row["minutes_main_change"], 1, lang),
                ]
                for row in r.measures.losers.to_dict("records")
            ],
            "llrrrr",
        )
    )
    w = summary["extremes"]["worst_commune_main_station_after"]
    B.append(doc.Para(t("report.worst", name=w["name"], code=w["code"], minutes=one(w["minutes"]))))
    B += (
        _main_stations(r, lang, frames.get("communes"), frames.get("stations"))
        + _centres(r, lang, frames.get("centres"))
        + _network(r, summary, lang)
        + _roads_against_adjacency(r, lang)
    )
    B += terrain.report_blocks(getattr(r, "terrain", None), r.scenario.params, lang)
    if r.warnings:  # summary.json keeps them in English; the report in its language
        B += [doc.Heading(t("report.h_warnings")), doc.Items([p.format(lang) for p in r.warnings])]
    B += _plan(r, lang) + _assumptions(r, lang) + _explanations(r, lang, stations=frames.get("stations")) + _solver(r, lang)
    B += [doc.Heading(t("report.h_measurements")), doc.Para(doc.rich(t("report.measurements"), file=doc.code("run.json")))]
    return B


def _main_stations(
    r: Any, lang: str, communes: pd.DataFrame | None = None, stations: pd.DataFrame | None = None
) -> list[doc.Block]:
    t = i18n.translator(lang)
    names = tables.station_names(r, stations)
    score = r.stations["facility_score"]
    rows = []
    for row in (tables.commune_table(r) if communes is None else communes).to_dict("records"):
        ms = row["main_station_code"]
        known = ms in names
        rows.append(
            [
                row["new_commune_name"],
                f"{names[ms]} ({ms})" if known else str(ms),
                fmt.number(score.get(ms), 2, lang) if known else fmt.DASH,
                fmt.number(row["minutes_main_after"], 1, lang),
                fmt.count(row["stations_open"], lang),
            ]
        )
    return [
        doc.Heading(t("report.h_main_stations")),
        doc.Table(
            [
                t("report.col_new_commune"),
                t("report.col_main_station"),
                t("report.col_facility_score"),
                t("report.col_mean_minutes"),
                t("report.col_sites"),
            ],
            rows,
            "llrrr",
        ),
    ]


def _centres(r: Any, lang: str, centres: pd.DataFrame | None = None) -> list[doc.Block]:
    t = i18n.translator(lang)
    rows: list[list[doc.Rich]] = [list(row) for row in tables.centre_rows(r, lang, centres)]
    return [doc.Heading(t("report.h_centres")), doc.Table([t(k) for k in tables.CENTRE_COLUMNS], rows, "llrrrrr")]


def _roads_against_adjacency(r: Any, lang: str) -> list[doc.Block]:
    """With roads: the access indicators of the same decisions on the road minutes and on the
    adjacency model's (issue 12 point 8: how much the travel model changes the answers)."""
    adj = getattr(r, "adjacency", None)
    if adj is None:
        return []
    t = i18n.translator(lang)
    rows: list[list[doc.Rich]] = []
    for k, roads_value in r.measures.after.items():
        ind = indicators.get(k)
        if ind.format not in ("minutes", "share") or k not in adj.after:
            continue
        rows.append(
            [
                ind.label(lang),
                i18n.text(f"unit.{ind.unit}", lang),
                fmt.indicator(k, adj.after[k], lang),
                fmt.indicator(k, roads_value, lang),
                fmt.indicator_change(k, adj.after[k], roads_value, lang),
            ]
        )
    head = [
        t("report.col_indicator"),
        t("report.col_unit"),
        t("roads.col_adjacency"),
        t("roads.col_roads"),
        t("roads.col_difference"),
    ]
    return [doc.Heading(t("roads.h_against")), doc.Para(t("roads.against_note")), doc.Table(head, rows, "llrrr")]


def _travel_model(net: dict, lang: str) -> list[doc.Block]:
    """Which travel model gave the minutes (issue 12); with roads, its counts and flagged points."""
    t = i18n.translator(lang)
    roads = net.get("roads")
    if not roads:
        return [doc.Para(t("roads.model_adjacency"))]
    n = {k: fmt.count(v, lang) for k, v in roads.items() if isinstance(v, int)}
    out: list[doc.Block] = [
        doc.Para(t("roads.model_roads", file=roads["file"])),
        doc.Para(
            t(
                "roads.counts",
                ways=n["ways"],
                ferries=n["ferries"],
                nodes_before=n["nodes_before"],
                edges_before=n["edges_before"],
                nodes_after=n["nodes_after"],
                edges_after=n["edges_after"],
                sea_links=n["sea_links"],
                snapped=n["snapped_points"],
                flagged=n["flagged_points"],
            )
        ),
    ]
    if roads["flagged"]:
        places = "; ".join(
            f"{f['code']} {f['name']} ({fmt.number(f['km'], 1, lang)} km)".replace("  ", " ") for f in roads["flagged"]
        )
        out.append(doc.Para(t("roads.flagged", places=places)))
    return out


def _network(r: Any, summary: dict, lang: str) -> list[doc.Block]:
    t = i18n.translator(lang)
    net = summary["network"]
    out: list[doc.Block] = [
        doc.Heading(t("report.h_network")),
        doc.Para(
            t(
                "report.network",
                nodes=fmt.count(net["nodes"], lang),
                edges=fmt.count(net["edges"], lang),
                method=t("method.shortest_paths"),
                pieces=fmt.count(net["pieces_without_land_link"], lang),
            )
        ),
        *_travel_model(net, lang),
        doc.Para(
            t(f"roads.population_{net['population_model']}", points=fmt.count(net["demand_points"], lang))
            + " "
            + t(f"roads.terrain_{net['terrain_source']}")
        ),
    ]
    if net["ferry_links"]:
        out.append(
            doc.Items(
                [
                    t(
                        "report.ferry" if f["nodes"] else "island.ferry_direct",
                        start=f["from"],
                        start_name=f["from_name"],
                        end=f["to"],
                        end_name=f["to_name"],
                        mode=t(f"island.mode_{f['mode']}"),
                        km=fmt.number(f["km"], 1, lang),
                        minutes=fmt.number(f["minutes"], 0, lang),
                        nodes=fmt.count(f["nodes"], lang),
                    )
                    for f in net["ferry_links"]
                ]
            )
        )
    isl = summary["extremes"].get("islands", [])
    if isl:
        each = "; ".join(
            t(
                "report.island",
                name=i["name"],
                code=i["code"],
                residents=fmt.count(i["population"], lang),
                main=fmt.number(i["minutes_main_after"], 0, lang),
                centre=fmt.number(i["minutes_centre_after"], 0, lang),
            )
            for i in isl
        )
        out.append(doc.Para(t("report.islands", speed=fmt.number(r.scenario.params["sea_speed_kmh"], 0, lang), islands=each)))
    zones = summary["extremes"].get("special_zones", [])
    if zones:
        out += [
            doc.Heading(t("island.h_special_zones"), 3),
            doc.Para(t("island.note")),
            doc.Items(
                [
                    t(
                        "island.zone",
                        name=z["name"],
                        code=z["code"],
                        residents=fmt.count(z["population"], lang),
                        centre=z["centre_name"],
                        where=t("island.on_island" if z["centre_on_island"] else "island.off_island"),
                        main=fmt.number(z["minutes_main_after"], 0, lang),
                        minutes=fmt.number(z["minutes_centre_after"], 0, lang),
                        most=fmt.number(z["max_minutes_centre_after"], 0, lang),
                    )
                    for z in zones
                ]
            ),
        ]
    return out


def _assumptions(r: Any, lang: str) -> list[doc.Block]:
    t = i18n.translator(lang)
    rows: list[list[doc.Rich]] = [
        [
            doc.join(doc.code(p["name"]), ": " + str(p["description"])),
            tables.parameter_value(p["value"], lang),
            str(p["unit"]),
            str(p["source"]),
            str(p["confidence"]),
        ]
        for p in tables.parameter_table(r, lang).to_dict("records")
    ]
    set_here = [
        t("scenario.set_item", name=p["name"], value=fmt.plain(p["value"], lang), default=fmt.plain(p["default"], lang))
        for p in tables.parameters_set(r)
    ]
    return [
        doc.Heading(t("report.h_assumptions")),
        doc.Para(t("report.assumptions_note")),
        *([doc.Para(t("scenario.set_here", items="; ".join(set_here)))] if set_here else []),
        doc.Table(
            [
                t("report.col_parameter"),
                t("report.col_value"),
                t("report.col_unit"),
                t("report.col_source"),
                t("report.col_confidence"),
            ],
            rows,
            "lrlll",
        ),
    ]


def _solver(r: Any, lang: str) -> list[doc.Block]:
    t = i18n.translator(lang)
    out: list[doc.Block] = [doc.Heading(t("report.h_solver"))]
    if not r.plan.solver:
        return out + [doc.Para(t("report.no_solver"))]
    rows = []
    for rec in r.plan.solver:
        gap = fmt.DASH if rec.get("relative_gap") is None else fmt.share(rec["relative_gap"], 4, lang)
        status: doc.Rich = i18n.word("solver_status", rec["status"], lang)
        if rec.get("time_limit_reached"):
            status = doc.join(i18n.word("solver_status", rec["status"], lang) + " ", doc.bold(t("report.time_limit_reached")))
        rows.append(
            [
                i18n.word("model", rec["model"], lang),
                rec["solver"],
                status,
                fmt.amount(rec.get("objective"), lang),
                fmt.amount(rec.get("best_bound"), lang),
                gap,
                fmt.DASH if rec.get("time_limit_s") is None else f"{rec['time_limit_s']:g}",
                fmt.DASH if rec.get("seed") is None else str(rec["seed"]),
                fmt.amount(rec.get("baseline_objective"), lang),
            ]
        )
    out.append(
        doc.Table(
            [
                t("report.col_model"),
                t("report.col_solver"),
                t("report.col_status"),
                t("report.col_objective"),
                t("report.col_best_bound"),
                t("report.col_gap"),
                t("report.col_limit"),
                t("report.col_seed"),
                t("report.col_baseline_objective"),
            ],
            rows,
            "lllrrrrrr",
        )
    )
    out.append(doc.Para(t("report.terms_note")))
    items = []
    for rec in r.plan.solver:  # each solve's own terms (the staff model's stages each have theirs)
        if rec.get("terms"):
            items.append(
                doc.join(
                    doc.bold(i18n.word("model", rec["model"], lang)),
                    ": " + "; ".join(f"{k} = {fmt.amount(v, lang)}" for k, v in rec["terms"].items()),
                )
            )
    if items:
        out.append(doc.Items(items))
    names = r.reformed.new["commune_name"]
    for d in r.plan.diagnoses:
        communes = d.get("communes", [])
        out += [
            doc.Para(
                doc.join(doc.bold(t("report.rule_not_met", rule=d["rule"])), " " + r.plan.diagnosis_text(d, lang)), "notice"
            ),
            doc.Para(
                t(
                    "report.communes_concerned",
                    n=len(communes),
                    communes=", ".join(f"{names.get(c, c)} ({c})" for c in communes[:60]) + (" …" if len(communes) > 60 else ""),
                )
            ),
        ]
    return out


def _doctorless_sites(r: Any, t: Any, n: Any) -> list[doc.Block]:
    """The staff model's open sites without a doctor before and after the moves (its last stage's
    terms), as one sentence; nothing when the staff were not placed by the model."""
    terms = next((rec.terms for rec in reversed(r.plan.solver) if rec.model == "staff_placement" and rec.terms), None)
    if not terms or "open_sites_without_doctor" not in terms:
        return []
    return [
        doc.Para(
            t(
                "pmodels.doctorless_sites",
                before=n(terms["open_sites_without_doctor_before_moves"]),
                after=n(terms["open_sites_without_doctor"]),
            )
        )
    ]


def _explanations(r: Any, lang: str, limit: int = 40, stations: pd.DataFrame | None = None) -> list[doc.Block]:
    t = i18n.translator(lang)
    n = lambda v: fmt.count(v, lang)  # noqa: E731
    out: list[doc.Block] = []
    names = tables.station_names(r, stations)

    def name(code: str) -> str:
        return names.get(code, code)

    communes = r.reformed.new["commune_name"]
    pts = r.plan.explain.get("points")
    if pts is not None and len(pts):
        closed = pts[pts["role"] == "closed"].sort_values("saves_person_minutes")
        kept = pts[pts["role"] == "point"].sort_values("saves_person_minutes")
        shown = pd.concat([closed, kept.head(max(0, limit - len(closed)))]).head(limit)
        out += [
            doc.Heading(t("report.h_points")),
            doc.Para(
                doc.rich(t("report.points_note"), closed=n(len(closed)), kept=n(len(kept)), file=doc.code("explain_points.csv"))
            ),
            doc.Table(
                [
                    t("report.col_station"),
                    t("report.col_new_commune"),
                    t("report.col_decision"),
                    t("report.col_users"),
                    t("report.col_saves"),
                    t("report.col_saves_per_user"),
                ],
                [
                    [
                        f"{name(row['station_code'])} ({row['station_code']})",
                        communes.get(row["new_code"], ""),
                        t("report.closed" if row["role"] == "closed" else "report.kept"),
                        n(row["users"]),
                        n(row["saves_person_minutes"]),
                        fmt.number(row["saves_minutes_per_user"], 1, lang),
                    ]
                    for row in shown.to_dict("records")
                ],
                "lllrrr",
            ),
        ]
    mv = r.plan.moves
    if len(mv):
        shown = mv.sort_values(["minutes", "from_station"], ascending=[False, True]).head(limit)
        out += [
            doc.Heading(t("report.h_moves")),
            doc.Para(
                doc.rich(
                    t("report.moves_note"), persons=n(mv["persons"].sum()), moves=n(len(mv)), file=doc.code("staff_moves.csv")
                )
            ),
            *_doctorless_sites(r, t, n),
            doc.Table(
                [
                    t("report.col_from"),
                    t("report.col_to"),
                    t("report.col_cadre"),
                    t("report.col_persons"),
                    t("report.col_minutes"),
                    t("report.col_why"),
                ],
                [
                    [
                        name(row["from_station"]),
                        f"{name(row['to_station'])} ({row['to_station']})",
                        t(f"cadre.{row['cadre']}"),
                        n(row["persons"]),
                        fmt.number(row["minutes"], 0, lang),
                        tables.move_reason(row["reason"], lang),
                    ]
                    for row in shown.to_dict("records")
                ],
                "lllrrl",
            ),
        ]
    ch = r.plan.explain.get("catchments")
    if ch is not None:
        cname = r.centres["name"]
        out += [
            doc.Heading(t("report.h_catchments")),
            doc.Para(t("report.catchments_note", n=n(len(ch)))),
            doc.Table(
                [
                    t("report.col_new_commune"),
                    t("report.col_centre_before"),
                    t("report.col_centre_after"),
                    t("report.col_residents"),
                    t("report.col_minutes_gained"),
                ],
                [
                    [
                        communes.get(row["new_code"], ""),
                        cname.get(row["centre_before"], ""),
                        cname.get(row["centre_after"], ""),
                        n(row["population"]),
                        fmt.signed(row["minutes_gained"], 1, lang),
                    ]
                    for row in ch.sort_values("minutes_gained", ascending=False).head(limit).to_dict("records")
                ],
                "lllrr",
            ),
        ]
    return out


def _plan(r: Any, lang: str) -> list[doc.Block]:
    """With a plan over years (`reorg plan`): one sentence per target, and where the whole plan is."""
    if getattr(r, "workforce", None) is None:
        return []
    from .workforce import report as plan_report
    from .workforce.tables import years_table

    t = i18n.translator(lang)
    years = years_table(r.workforce)
    summary = plan_report.plan_summary(r)
    return [
        doc.Heading(t("plan_report.title", start=years["year"].iloc[0], end=years["year"].iloc[-1])),
        doc.Items([sentence for _, sentence in plan_report.sentences(summary, years, lang)]),
        doc.Para(doc.rich(t("plan_report.see_plan"), file=doc.code("plan/report.html"))),
    ]
