"""Optimise stage: decisions on station roles, staff placement and centre catchments.

`baseline` holds the simple rules provinces applied first (issue: a real province end to end);
the OR-Tools models live beside it, one module per model.
"""

from .plan import Plan  # noqa: F401
