"""Solve one p-median instance with spopt's PMedian and its default CBC (PuLP).

Run by benchmarks/peers.py in its own venv (benchmarks/.venv-peers: spopt + pulp), never in the
package's venv:

    .venv-peers/bin/python peer_spopt_worker.py INSTANCE.npz [--repeat N] [--time-limit S] [--log FILE]

INSTANCE.npz holds `cost` (clients x facilities, cost per unit of weight: person-minutes / persons),
`weights` (persons per client), `p` (facilities to open) and `A` (person-minutes, to check the
objective: spopt minimises sum weights x cost = sum A over the chosen assignment). Optional:

- `capacities` (persons per facility): spopt's capacitated p-median,
  `PMedian.from_cost_matrix(..., facility_capacities=capacities)`, whose capacity rows are
  sum_i w_i z_ij <= c_j y_j (hard capacity);
- `penalty` (with `capacities`; person-minutes per person above capacity): the soft capacity of
  reorg's catchment model, added to spopt's model after it is built: one continuous e_j >= 0 per
  facility enters spopt's own capacity row j (sum_i w_i z_ij - e_j <= c_j y_j) and `penalty` x
  sum_j e_j is added to spopt's objective. Nothing else of spopt's model changes.

Each repeat times spopt's model building (`PMedian.from_cost_matrix`, plus the soft-capacity
columns when asked) and its solve (`.solve(PULP_CBC_CMD)`, which writes the model, runs PuLP's
bundled CBC and reads the solution back). With `--time-limit`, CBC stops there and its log (kept
with `--log`) gives the best bound and gap. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path


def cbc_bound(log_text: str) -> dict:
    """Best bound and gap from a CBC log (its closing 'Objective value / Lower bound / Gap' lines)."""
    out: dict = {}
    for key, pattern in (
        ("cbc_objective", r"Objective value:\s+([-+0-9.eE]+)"),
        ("cbc_lower_bound", r"Lower bound:\s+([-+0-9.eE]+)"),
        ("cbc_gap", r"Gap:\s+([-+0-9.eE]+)"),
    ):
        found = re.findall(pattern, log_text)
        if found:
            out[key] = float(found[-1])
    m = re.search(r"Result - (.+)", log_text)
    if m:
        out["cbc_result"] = m.group(1).strip()
    return out


def add_soft_capacity(model, capacities, penalty: float) -> None:
    """Turn spopt's hard capacity rows into reorg's soft capacity: e_j >= 0 in row j, penalty x e_j in the objective."""
    import pulp

    y = model.fac_vars
    rows = []
    for _name, con in model.problem.constraints.items():  # spopt's capacity rows: the only rows holding y_j with coefficient -c_j
        terms = dict(con.items())
        ys = [
            j
            for j in range(len(y))
            if y[j] in terms
            and abs(terms[y[j]] + float(capacities[j])) <= 1e-9 * max(1.0, float(capacities[j]))
            and len(terms) > 2
        ]
        if len(ys) == 1:
            rows.append((ys[0], con))
    if sorted(j for j, _ in rows) != list(range(len(y))):
        raise RuntimeError(f"found {len(rows)} capacity rows of spopt's model, expected one per facility ({len(y)})")
    e = [pulp.LpVariable(f"e[{j}]", lowBound=0) for j in range(len(y))]
    for j, con in rows:
        con.addInPlace(e[j], -1)
    model.problem.setObjective(model.problem.objective + pulp.lpSum(float(penalty) * v for v in e))
    model.excess_vars = e


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("instance")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=None, help="CBC time limit in seconds (default: none)")
    ap.add_argument("--log", default=None, help="keep CBC's log of the last repeat here")
    args = ap.parse_args(argv)

    import numpy as np
    import pulp
    from spopt.locate import PMedian

    data = np.load(args.instance)
    cost, weights, p, A = data["cost"], data["weights"], int(data["p"]), data["A"]
    capacities = data["capacities"] if "capacities" in data.files else None
    penalty = float(data["penalty"]) if "penalty" in data.files else None
    runs = []
    with tempfile.TemporaryDirectory(prefix="reorg-peers-cbc-") as tmp:
        log = Path(args.log) if args.log else Path(tmp) / "cbc.log"
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            if capacities is None:
                model = PMedian.from_cost_matrix(cost, weights, p_facilities=p)
            else:
                model = PMedian.from_cost_matrix(cost, weights, p_facilities=p, facility_capacities=capacities)
                if penalty is not None:
                    add_soft_capacity(model, capacities, penalty)
            t1 = time.perf_counter()
            try:
                model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=args.time_limit, logPath=str(log)))
                solved = True
            except (RuntimeError, pulp.PulpSolverError):  # spopt's check_status (no plan at the time limit), or CBC failed
                solved = False
            t2 = time.perf_counter()
            run = {
                "build_s": t1 - t0,
                "solve_s": t2 - t1,
                "seconds": t2 - t0,
                "status": pulp.LpStatus[model.problem.status],
                "solution_status": pulp.LpSolution[model.problem.sol_status],
                "variables": len(model.problem.variables()),
                "constraints": len(model.problem.constraints),
            }
            run.update(cbc_bound(log.read_text(errors="replace")) if log.exists() else {})
            if not solved:
                runs.append(dict(run, objective=None))
                del model
                continue
            assign = np.full(cost.shape[0], -1)
            for k, clients in enumerate(model.fac2cli):
                assign[list(clients)] = k
            assert (assign >= 0).all(), "every client is assigned"
            load = np.bincount(assign, weights=weights, minlength=cost.shape[1])
            excess = float(np.maximum(0.0, load - capacities).sum()) if capacities is not None else 0.0
            run.update(
                {
                    "objective": float(model.problem.objective.value()),
                    "assignment_objective": float(A[np.arange(len(assign)), assign].sum()),
                    "excess_persons": excess,
                    "open": sorted(int(k) for k, clients in enumerate(model.fac2cli) if len(clients)),
                }
            )
            runs.append(run)
            del model
    json.dump({"solver": f"spopt {version('spopt')} PMedian, PuLP {version('pulp')} PULP_CBC_CMD", "runs": runs}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
