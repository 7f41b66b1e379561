"""One registry of the LP's families (DESIGN §2): each variable and constraint family once, with
its Pyomo name, the index table that holds one row per member, the columns that key a member,
and where its period is. The blocks (:mod:`model.lp.formulation`), the algebraic model
(:mod:`model.lp.algebra`, checked by ``tests/test_routes.py``), the explanation of an
infeasible plan (:mod:`model.lp.explain`), the stress test's fixing of periods
(:mod:`model.lp.highs`) and the hedge's copies (:mod:`model.studies.hedge`) read it here.

A new family: its entry below, then its statement in formulation.py (``add_<family>``) and
algebra.py (a rule under the same Pyomo name), its words in explain.py and its recomputation
in model/plan/check.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Family:
    name: str  # the key in blocks, handles and solutions, e.g. "demand"
    pyomo: str  # the Pyomo component, e.g. "Meet_Demand"
    design: str  # where DESIGN states it
    table: str | None  # the Indexes attribute with one row per member (None: see keys_of)
    keys: tuple[str, ...]  # the columns of that table that key a member


VARIABLES = (
    Family("buy", "Buy", "§2 Buy[o,t] (auxiliary: sum_k x + y)", "buy", ("o", "t")),
    Family("deliver", "Deliver", "§2 x[o,k,t]", "deliver", ("o", "k", "t")),
    Family("to_stock", "ToStock", "§2 y[o,t]", "to_stock", ("o", "t")),
    Family("stock", "Stock", "§2 s[L,t]", "stock", ("L", "t")),
    Family("draw", "Draw", "§2 w[L,k,t]", "draw", ("L", "k", "t")),
    Family("avoid", "Avoid", "§2 a[m,k,t]", "avoid", ("material", "sector", "t")),
    Family("shortfall", "Shortfall", "§2 u[m,k,t]", "shortfall", ("material", "sector", "t")),
    Family("below", "BelowFloor", "§2 b[m,t]", "below", ("material", "t")),
)
CONSTRAINTS = (
    Family("demand", "Meet_Demand", "§2.1", "demand", ("material", "sector", "t")),
    Family("buy", "Define_Buy", "§2.2-2.3 (capacity, minimum: Buy's bounds)", "buy", ("o", "t")),
    Family("stock", "Stock_Balance", "§2.4", "stock", ("L", "t")),
    Family("floor", "Stock_Floor", "§2.5 floor", "floor", ("material", "t")),
    Family("ceiling", "Stock_Ceiling", "§2.5 ceiling", "ceiling", ("material", "t")),
    Family("max_draw", "Max_Draw", "§2.5 draws", "max_draw", ("material", "t")),
    Family("caps", "Cap_Share", "§2.7 (one row per cap instance)", "caps", ()),
    Family("budget", "Budget", "§2.8 (one row per period)", None, ()),
)
VARIABLE = {f.name: f for f in VARIABLES}
CONSTRAINT = {f.name: f for f in CONSTRAINTS}


def keys_of(idx: Any, family: str) -> list[Any]:
    """The members of a constraint family, in row order: key tuples; a cap's instance number;
    a budget's period."""
    f = CONSTRAINT[family]
    if family == "budget":
        return list(idx.budget_periods)
    table = getattr(idx, f.table)
    if not f.keys:
        return list(range(len(table)))
    return list(zip(*(table[c].tolist() for c in f.keys), strict=True))


def periods_of(idx: Any, family: str) -> np.ndarray:
    """The period of each row of a constraint family, in row order."""
    if family == "budget":
        return np.asarray(idx.budget_periods, dtype=np.int64)
    table = getattr(idx, CONSTRAINT[family].table)
    return table["t"].to_numpy().astype(np.int64) if len(table) else np.zeros(0, np.int64)


def variable_table(idx: Any, family: str) -> pd.DataFrame:
    """The index table of a variable family: one row per variable, with its period ``t``."""
    return getattr(idx, VARIABLE[family].table)
