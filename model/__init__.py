"""ree-plan: a rare earth sourcing optimizer.

The stages, one folder each: :mod:`model.input` (read the workbook, check it into
:class:`model.input.data.PlanData`) -> :mod:`model.lp` (the LP of DESIGN §2, HiGHS) ->
:mod:`model.plan` (the plan's tables, marginal values, Overview, post-solve check) ->
:mod:`model.excel` (the plan workbook). :mod:`model.studies` says what is solved in what order
(baseline, choice among equally cheap plans, stress, hedge, frontier); :mod:`model.cli` is the
command.

Notation (see :mod:`model.input.data`): o offer, L stock lot, m material, k sector, t period,
g cap group; tonnes of oxide; prices per kg, so a cost is tonnes x 1000 x price.
"""

from typing import Any

from model.input.data import PlanData
from model.input.issues import InputError, Issue

__all__ = ["InputError", "Issue", "PlanData", "load", "solve_data", "solve_workbook", "stress_data"]


def __getattr__(name: str) -> Any:
    """The stages load on first use, so ``python -m model.cli`` starts light."""
    if name == "load":
        from model.input.validate import load

        return load
    if name in ("solve_data", "solve_workbook"):
        from model.studies import baseline

        return getattr(baseline, name)
    if name == "stress_data":
        from model.studies.stress import stress_data

        return stress_data
    raise AttributeError(name)
