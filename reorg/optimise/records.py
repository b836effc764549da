"""What each solve reports, typed by the method that solved it.

A record carries only the fields that mean something for its method: a MIP solve (`MipRecord`) has
a backend, a time limit, variables and constraints; the Lagrangian p-median (`LagrangianRecord`)
has iterations and its lower bound instead. `summary()` is the deterministic part written to
summary.json (everything but the measured seconds); `measured()` is the measured part (seconds).
Records also read like the dicts they replace (`rec["objective"]`, `rec.get("terms")`), so the
report, the PDF and the comparison read them without knowing the method.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

MEASURED = ("seconds",)  # fields measured rather than computed: never in summary.json


@dataclass(kw_only=True)
class SolveRecord:
    """Fields common to every method.

    model: the model's name (station_roles, staff_placement, catchments); stage: the solve's name
    within the model (the staff model's lexicographic stages), or None.
    objective: the value of the plan returned; best_bound: a proven lower bound on the optimum;
    relative_gap: |objective - best_bound| / |objective|.
    terms: the objective of the plan returned, term by term (recomputed from the plan, unrounded).
    baseline_objective: the same objective evaluated on the baseline rules' decisions (None where
    the stage has no baseline counterpart).
    """

    model: str
    stage: str | None = None
    method: str = ""
    solver: str = ""
    status: str = ""
    has_plan: bool = False
    objective: float | None = None
    best_bound: float | None = None
    relative_gap: float | None = None
    terms: dict[str, Any] | None = None
    baseline_objective: float | None = None
    fallback: str | None = None
    seconds: float = 0.0

    OPTIONAL: ClassVar[tuple[str, ...]] = ("stage", "fallback")  # left out of the summary when None

    @property
    def label(self) -> str:
        """`model` or `model:stage`: the name shown in reports and summary.json."""
        return self.model if self.stage is None else f"{self.model}:{self.stage}"

    def summary(self) -> dict[str, Any]:
        """The deterministic part (summary.json): every field but the measured seconds and has_plan;
        `model` is the label (model:stage)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in MEASURED or f.name == "has_plan" or (f.name in self.OPTIONAL and value is None):
                continue
            out[f.name] = value
        out["model"] = self.label
        return out

    def measured(self) -> dict[str, Any]:
        """The measured part (run.json): the seconds of the solve."""
        return {name: getattr(self, name) for name in MEASURED}

    def as_dict(self) -> dict[str, Any]:
        """The record as the dict it replaces: summary, measured part and has_plan."""
        return {**self.summary(), **self.measured(), "has_plan": self.has_plan}

    # read like a dict (the report and the PDF index records by key)
    def __getitem__(self, key: str) -> Any:
        return self.as_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.as_dict().get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.as_dict()


@dataclass(kw_only=True)
class MipRecord(SolveRecord):
    """A MIP solved by an OR-Tools backend.

    backend: CBC | SCIP | HIGHS, or GLOP where the MIP was solved by its LP relaxation, whose
    optimal vertex was integral (`_mip.solve_relaxation`: the staff model's stages); seed: the random seed passed to the backend (SCIP's
    `randomization/randomseedshift`), None when the backend takes none through OR-Tools (CBC and
    HiGHS, which are deterministic here), and then not claimed in the summary.
    time_limit_reached: the solve stopped at `time_limit_s`.
    variables, constraints: the model's size as solved (a later stage includes the rows holding
    earlier stages at their optimum). beyond_limit_parts: (roles model) demand parts with no
    station within the travel limit.
    """

    method: str = "mip"
    backend: str = ""
    time_limit_s: float = 0.0
    time_limit_reached: bool = False
    seed: int | None = None
    variables: int = 0
    constraints: int = 0
    beyond_limit_parts: int | None = None

    OPTIONAL: ClassVar[tuple[str, ...]] = ("stage", "fallback", "seed", "beyond_limit_parts")


@dataclass(kw_only=True)
class LagrangianRecord(SolveRecord):
    """The uncapacitated p-median solved by Lagrangian relaxation (catchments.p_median_lagrangian).

    objective: the best plan's value (the upper bound); best_bound: the best Lagrangian lower
    bound; relative_gap: (objective - best_bound) / max(1, objective), at most `gap_target`.
    iterations: subgradient iterations run (at most `max_iterations`); centres_kept: p.
    No time limit, no seed (the method is deterministic), no MIP variables or constraints.
    """

    method: str = "lagrangian_p_median"
    iterations: int = 0
    max_iterations: int = 0
    gap_target: float = 0.0
    centres_kept: int = 0


@dataclass(kw_only=True)
class NearestCandidatesRecord(MipRecord):
    """The uncapacitated p-median solved by Lagrangian relaxation, reduced-cost fixing and rounds of
    MIPs on each commune's nearest surviving centres with a placeholder for the others
    (pmedian_mip.nearest_candidates_p_median).

    objective: the plan returned (a round's plan or the Lagrangian plan, whichever costs less);
    best_bound: the best of the Lagrangian bound and the rounds' MIP bounds (each round's MIP is a
    relaxation of the full problem); status "optimal" when the plan reaches that bound.
    variables, constraints: the last round's MIP. assignment_variables_kept / _total: x_ck left by
    the fixing of |C| x |K|; centres_closed / centres_opened: y_k fixed to 0 / 1;
    lagrangian_iterations, lagrangian_bound, lagrangian_plan: the subgradient run before the
    fixing (its bound and best plan); rounds: MIPs solved; candidates_first: the longest first
    candidate list; placeholders_last: communes with a placeholder in the last round's MIP (0: the
    last MIP held every surviving pair).
    """

    method: str = "lagrangian + reduced-cost fixing + nearest-candidates MIP"
    assignment_variables_kept: int = 0
    assignment_variables_total: int = 0
    centres_closed: int = 0
    centres_opened: int = 0
    lagrangian_iterations: int = 0
    lagrangian_bound: float = 0.0
    lagrangian_plan: float = 0.0
    rounds: int = 0
    candidates_first: int = 0
    placeholders_last: int = 0


@dataclass
class ModelExport:
    """A solved model written for re-checking: MPS texts by file stem, and the data tables the
    model was built from (floats written in full, so the instance can be rebuilt exactly)."""

    mps: dict[str, str] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)  # file stem -> pandas DataFrame

    def files(self) -> dict[str, str]:
        """File name -> text: `<stem>.mps` and `<stem>.csv` (floats as Python writes them: the
        shortest text that reads back to the same double)."""
        out = {f"{stem}.mps": text for stem, text in self.mps.items()}
        for stem, frame in self.tables.items():
            out[f"{stem}.csv"] = frame.to_csv(index=False, lineterminator="\n")
        return out
