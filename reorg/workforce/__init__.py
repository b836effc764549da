"""The plan over years (issue 13; MODEL.md 7b): from a run's reformed network and placed staff, a
multi-period OR-Tools model decides hires, doctor transfers, rotations from regional centres and
station upgrades per year against named targets with deadlines, under graduate supply, leavers,
costs and budgets; then answers, per target, the earliest year it is met and the least budget that
meets it by its deadline.

targets.py: the targets and the `[plan]` table's checks; instance.py: the data from a run;
model.py: the MIP; answers.py: earliest years and least budgets; robustness.py: seeded draws of
leavers; tables.py: stations.csv, years.csv, summary.json; cli.py: `reorg plan`.
"""
