"""The decisions of a scenario, whatever produced them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import i18n
from .records import SolveRecord

#: a decision rule or diagnosis as words: a key of the message files' [decision] section and its fields
Rule = tuple[str, dict]


@dataclass
class Plan:
    """Decisions after the reform.

    roles: station_code -> "main" | "point" | "closed".
    main_station: new commune code -> station_code of its main station.
    centre_of: new commune code -> centre_code (old district code) serving it.
    staff_after: station_code x cadre -> persons after the reform.
    moves: one row per move (from_station, to_station, cadre, persons, minutes, reason).
    rules: the rule or model behind each decision (a message key of [decision] and its fields), for the report.
    solver: one record per solve (empty for rule-based decisions), typed by method (records.py).
    models: with `export_models`, file name -> text of each solved model (MPS) and its data (CSV),
    written into the output folder's `models/`.
    """

    roles: pd.Series
    main_station: pd.Series
    centre_of: pd.Series
    staff_after: pd.DataFrame
    moves: pd.DataFrame
    rules: dict[str, Rule]
    solver: list[SolveRecord] = field(default_factory=list)
    hired: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    diagnoses: list[dict] = field(default_factory=list)
    explain: dict[str, pd.DataFrame] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)

    def rule_texts(self, lang: str = i18n.DEFAULT_LANG) -> dict[str, str]:
        """The rule behind each decision, in words of `lang`."""

        def words(fields: dict) -> dict:  # a policy value (keep_all, optimise...) in words of `lang`
            return {k: i18n.word("policy_choice", v, lang) if isinstance(v, str) else v for k, v in fields.items()}

        return {name: i18n.text(f"decision.{key}", lang, **words(fields)) for name, (key, fields) in self.rules.items()}

    def diagnosis_text(self, diagnosis: dict, lang: str = i18n.DEFAULT_LANG) -> str:
        """A diagnosis's message in words of `lang`."""
        key, fields = diagnosis["message_key"]
        return i18n.text(f"decision.{key}", lang, **fields)

    def solver_summary(self) -> list[dict]:
        """The deterministic part of every solve record (summary.json)."""
        return [rec.summary() for rec in self.solver]
