"""Solve one uncapacitated p-median instance with spopt's PMedian and its default CBC (PuLP).

Run by benchmarks/peers.py in its own venv (benchmarks/.venv-peers: spopt + pulp), never in the
package's venv:

    .venv-peers/bin/python peer_spopt_worker.py INSTANCE.npz [--repeat N]

INSTANCE.npz holds `cost` (clients x facilities, cost per unit of weight: person-minutes / persons),
`weights` (persons per client), `p` (facilities to open) and `A` (person-minutes, to check the
objective: spopt minimises sum weights x cost = sum A over the chosen assignment). Each repeat
times spopt's model building (`PMedian.from_cost_matrix`) and its solve (`.solve(PULP_CBC_CMD)`,
which writes the model, runs PuLP's bundled CBC and reads the solution back). Prints one JSON
object on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from importlib.metadata import version


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("instance")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    import numpy as np
    import pulp
    from spopt.locate import PMedian

    data = np.load(args.instance)
    cost, weights, p, A = data["cost"], data["weights"], int(data["p"]), data["A"]
    runs = []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        model = PMedian.from_cost_matrix(cost, weights, p_facilities=p)
        t1 = time.perf_counter()
        model.solve(pulp.PULP_CBC_CMD(msg=False))
        t2 = time.perf_counter()
        assign = np.full(cost.shape[0], -1)
        for k, clients in enumerate(model.fac2cli):
            assign[list(clients)] = k
        assert (assign >= 0).all(), "every client is assigned"
        runs.append({
            "build_s": t1 - t0,
            "solve_s": t2 - t1,
            "seconds": t2 - t0,
            "status": pulp.LpStatus[model.problem.status],
            "objective": float(model.problem.objective.value()),
            "assignment_objective": float(A[np.arange(len(assign)), assign].sum()),
            "open": sorted(int(k) for k, clients in enumerate(model.fac2cli) if len(clients)),
            "variables": len(model.problem.variables()),
            "constraints": len(model.problem.constraints),
        })
    json.dump({"solver": f"spopt {version('spopt')} PMedian, PuLP {version('pulp')} PULP_CBC_CMD", "runs": runs}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
