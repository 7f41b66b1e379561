"""Which route the LP takes to HiGHS: the algebraic Pyomo model (:mod:`model.lp.algebra`) or the
sparse blocks directly (:mod:`model.lp.formulation`). Both give HiGHS the same LP.

The ``Model route`` setting: ``Pyomo``, ``Direct``, or ``Auto`` (the default): the Pyomo route
wherever it adds at most 3 s or 25 % of HiGHS's own solve, whichever is larger, which on the
measured instances (README, Benchmark) means up to :data:`PYOMO_AUTO_MAX_VARIABLES` variables;
the direct route above.
"""

from __future__ import annotations

from model.input.data import PlanData
from model.lp.formulation import Built, Indexes, build_model
from model.lp.scenarios import Factors

# 'Auto' takes the Pyomo route up to this many variables. Measured (`ree-plan bench --routes`,
# README): the Pyomo route adds import + declare + compile = 1.7 s at 1,782 variables (HiGHS
# 0.04 s), 2.6 s at 34,540 (HiGHS 1.8 s: within the 3 s allowed), 15.6 s at 333,476 (HiGHS
# 39.6 s: over the 9.9 s allowed). It grows by about 42 microseconds a variable after a 1.5 s
# import, so it crosses 3 s near 36,000 variables, where 25 % of HiGHS is still below 3 s.
PYOMO_AUTO_MAX_VARIABLES = 40_000
ROUTE = "Model route"  # the setting, and the Summary row that says which route ran


def choose(setting: str, n_variables: int) -> str:
    """``"pyomo"`` or ``"direct"`` for the ``Model route`` setting and the model's size."""
    if setting == "Auto":
        return "pyomo" if n_variables <= PYOMO_AUTO_MAX_VARIABLES else "direct"
    return setting.lower()


def summary(setting: str, n_variables: int, route: str) -> str:
    """The Summary row: which route ran, and why."""
    what = {
        "pyomo": "Pyomo (the algebraic model, compiled by Pyomo)",
        "direct": "Direct (the sparse blocks, straight to HiGHS)",
    }[route]
    if setting != "Auto":
        return f"{what}; Settings"
    return (
        f"{what}; Auto: {n_variables:,} variables, "
        f"{'at most' if route == 'pyomo' else 'over'} {PYOMO_AUTO_MAX_VARIABLES:,}"
    )


def build(
    data: PlanData, f: Factors, idx: Indexes | None = None, setting: str | None = None
) -> Built:
    """Build the model and choose its route (``setting`` overrides the workbook's)."""
    b = build_model(data, f, idx)
    chosen = setting or data.route
    b.on_route(choose(chosen, b.n_variables), chosen)
    return b
