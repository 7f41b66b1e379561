"""ree-plan: a rare earth sourcing optimizer.

Stages, one module each: :mod:`model.workbook` (read) -> :mod:`model.validate` (check, into
:class:`model.data.PlanData`) -> :mod:`model.formulation` (the LP of DESIGN §2 as sparse
families) -> :mod:`model.solve` (HiGHS) -> :mod:`model.results`, :mod:`model.marginals`,
:mod:`model.overview` (tables) -> :mod:`model.check` (post-solve check) -> :mod:`model.report`
(the plan workbook). :mod:`model.run` wires them; :mod:`model.cli` is the command.

Notation (see :mod:`model.data`): o offer, L stock lot, m material, k sector, t period,
g cap group; tonnes of oxide; prices per kg, so a cost is tonnes x 1000 x price.
"""

from typing import Any

from model.data import PlanData
from model.issues import InputError, Issue

__all__ = ["InputError", "Issue", "PlanData", "load", "solve_data", "solve_workbook", "stress_data"]


def __getattr__(name: str) -> Any:
    """The stages load on first use, so ``python -m model.cli`` starts light."""
    if name == "load":
        from model.validate import load

        return load
    if name in ("solve_data", "solve_workbook", "stress_data"):
        from model import run

        return getattr(run, name)
    raise AttributeError(name)
