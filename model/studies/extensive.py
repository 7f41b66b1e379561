"""The extensive form (DESIGN §5): one copy of the §2 model per scenario, tied by
non-anticipativity, as one LP's arrays. ``hedge`` minimises H over it; DESIGN §2's step 2
(:mod:`model.studies.choose`) minimises the weighted stress cost over it with the baseline copy
held on its optimal face.

How the copies are built. The copies share one build of the §2 families
(:func:`model.lp.formulation.build_model`): the same index tables and sparse blocks, stacked once
(:func:`model.lp.highs.stack`); a copy differs only in the numbers a scenario changes (bounds of
``Buy`` and ``Avoid``, purchase costs and the budget's coefficients, demand, floors), taken from
:func:`model.lp.formulation.numbers`. Non-anticipativity (every variable of copy s in a period
t < t0_s equals the baseline copy's) is imposed by substitution: copy s *uses the baseline copy's
columns* for those periods, so the equalities need no rows. Before t0_s the scenario's factors are
all 1 and nothing is released, so copy s's rows of those periods are the baseline's rows over
the same columns; they are left out (HiGHS would drop them as duplicates anyway). Every family,
cap scope, the budget, alternatives and penalties thus hold in every copy by construction.

The hedge's general information rule (DESIGN §5, ``history=True``): copy s uses, in period t,
the columns of the first copy (the baseline first, then sheet order) whose factors (capacity,
price, demand, released floors) agree with s's in every period up to and including t. Agreement
through t implies agreement through t - 1, so the copies that share a period form a tree of
groups that only split as time goes on; a row of period t reaches back at most to t - 1 (stock
balance), so a copy that shares period t has every column of its period-t rows shared, and the
rows are left out as above. Without ``history`` (DESIGN §2's step 2, which states §3's stress
test: each scenario known in full from its start), a copy shares only with the baseline copy,
before its t0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from model.input.data import PlanData
from model.lp.families import periods_of
from model.lp.formulation import Built, Numbers, numbers
from model.lp.highs import stack
from model.lp.least_norm import Lp
from model.lp.scenarios import Factors, all_factors

BASELINE = "Baseline"


@dataclass
class Copy:
    """One scenario's copy of the §2 model inside the extensive form."""

    name: str
    probability: float
    first: int  # t0: the scenario's earliest First period (the baseline's: 0)
    num: Numbers
    colmap: np.ndarray  # column of the single model -> column of the extensive form
    rows: np.ndarray  # rows of the single model this copy has (t >= t0)
    row_ids: np.ndarray  # their rows in the extensive form
    cost: np.ndarray  # C_s per column of the single model (currency per unit, no tie-breaker)
    # Per period, the copy whose columns this copy uses (itself where it decides alone): the
    # baseline copy (0) before t0, and with the history rule, any copy of the same history.
    rep: np.ndarray


@dataclass
class ExtensiveForm:
    """The extensive form's LP as arrays: ``row_lower <= a x <= row_upper``, ``lower <= x <=
    upper``, minimise ``objective x`` (H); ``tidy`` is the second pass's objective (every copy's
    cost once, plus the handling tie-breaker)."""

    copies: list[Copy]
    col: dict[str, np.ndarray]  # family -> columns of the single model (what each copy maps)
    objective: np.ndarray
    tidy: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    a: Any  # scipy.sparse.csc_array; None once handed over for good
    n_rows_single: int
    eta: int  # CVaR's eta column (-1 without CVaR)
    z: np.ndarray  # CVaR's z_s columns

    def lp(self) -> Lp:
        """The first pass's LP (H) as arrays."""
        return Lp(self.objective, self.lower, self.upper, self.row_lower, self.row_upper, self.a)


def own_from(c: Copy) -> int:
    """The first period in which copy ``c`` does not use the baseline copy's decisions (the
    number of periods when it shares them all)."""
    apart = np.flatnonzero(c.rep != 0)
    return int(apart[0]) if len(apart) else len(c.rep)


def sharing(data: PlanData, facs: list[Factors], history: bool) -> np.ndarray:
    """``rep[s, t]``: the copy whose period-t columns copy s uses (s itself where it decides
    alone). With ``history``, the first copy whose factors agree with s's through t (DESIGN
    §5's general rule); without, the baseline copy (0) before s's first period, else s."""
    n_t = len(data.periods)
    rep = np.tile(np.arange(len(facs))[:, None], (1, n_t))
    if not history:
        for s, f in enumerate(facs):
            rep[s, : f.first] = 0
        return rep
    demand_t = data.demand["t"].to_numpy()
    group = [-1] * len(facs)  # each copy's history through t - 1, as its representative
    for t in range(n_t):
        first_with: dict[tuple[int, bytes, bytes, bytes, bool], int] = {}
        for s, f in enumerate(facs):
            signature = (
                group[s],
                f.capacity[:, t].tobytes(),
                f.price[:, t].tobytes(),
                f.demand[demand_t == t].tobytes(),
                bool(f.released[t]),
            )
            rep[s, t] = first_with.setdefault(signature, s)
        group = [int(g) for g in rep[:, t]]
    return rep


def extensive_form(
    data: PlanData, b: Built, wanted: list[tuple[str, float, int]], history: bool = False
) -> ExtensiveForm:
    """The extensive form's arrays: one copy of ``b`` per scenario, sharing the baseline
    copy's columns before each scenario's start (with ``history``: the columns of every copy
    with the same history, DESIGN §5); CVaR columns and rows when w > 0."""
    idx = b.idx
    st = stack(b)
    n_col, n_row = len(st.cost), st.a.shape[0]
    col_t = np.concatenate([vb.table["t"].to_numpy() for vb in b.var_blocks.values()])
    row_t = np.concatenate([periods_of(idx, f) for f in st.row]).astype(np.int64)
    coo = st.a.tocoo()
    # 32-bit indices throughout: the copies' index arrays are the build's largest temporaries.
    a_r, a_c, a_v = coo.row.astype(np.int32), coo.col.astype(np.int32), coo.data
    del coo, st.a
    # Entries of the budget rows carry each offer's price: copy-dependent.
    budget_entry = np.isin(a_r, st.row.get("budget", np.zeros(0, dtype=np.int64)))
    buy_pos = np.full(n_col, -1, dtype=np.int64)
    buy_pos[st.col["buy"]] = np.arange(len(st.col["buy"]))
    moves = np.concatenate([st.col["to_stock"], st.col["draw"]])
    true_cost = st.cost.copy()
    true_cost[moves] -= b.move_cost  # the tie-breaker is no cost (§2)

    copies: list[Copy] = []
    lower, upper, rl, ru = [], [], [], []
    rows_r, rows_c, rows_v = [], [], []
    n_glob, r_glob = 0, 0
    w, a = data.risk_weight, data.risk_level
    names = [None if name == BASELINE else name for name, _, _ in wanted]
    by_name = all_factors(data, names)
    facs = [by_name[n] for n in names]
    rep = sharing(data, facs, history)
    for s, ((name, p, t0), f) in enumerate(zip(wanted, facs, strict=True)):
        num = numbers(data, idx, f)
        own = rep[s, col_t] == s  # the copy's own columns; elsewhere another copy's
        colmap = np.arange(n_col, dtype=np.int32)
        for t in np.flatnonzero(rep[s] != s):
            at = col_t == t
            colmap[at] = copies[rep[s, t]].colmap[at]
        colmap[own] = n_glob + np.arange(int(own.sum()))
        if name == BASELINE:
            assert own.all()
        lo, hi = st.lower.copy(), st.upper.copy()
        lo[st.col["buy"]], hi[st.col["buy"]] = num.buy_lb, num.buy_ub
        hi[st.col["avoid"]] = num.avoid_ub
        lower.append(lo[own])
        upper.append(hi[own])
        cost = true_cost.copy()
        cost[st.col["buy"]] = num.buy_cost
        kept = np.flatnonzero(rep[s, row_t] == s)
        rowmap = np.full(n_row, -1, dtype=np.int32)
        rowmap[kept] = r_glob + np.arange(len(kept))
        r_lo, r_hi = st.row_lower.copy(), st.row_upper.copy()
        r_lo[st.row["demand"]] = r_hi[st.row["demand"]] = num.demand
        r_lo[st.row["floor"]] = num.floor
        rl.append(r_lo[kept])
        ru.append(r_hi[kept])
        v = a_v.copy()
        v[budget_entry] = num.buy_cost[buy_pos[a_c[budget_entry]]]
        sel = rowmap[a_r] >= 0
        rows_r.append(rowmap[a_r[sel]])
        rows_c.append(colmap[a_c[sel]])
        rows_v.append(v[sel])
        copies.append(Copy(name, p, t0, num, colmap, kept, rowmap[kept], cost, rep[s]))
        n_glob += int(own.sum())
        r_glob += len(kept)

    obj = np.zeros(n_glob)
    for c in copies:
        np.add.at(obj, c.colmap, (1.0 - w) * c.probability * c.cost)
    lower_a, upper_a = np.concatenate(lower), np.concatenate(upper)
    rl_a, ru_a = np.concatenate(rl), np.concatenate(ru)
    extra: dict[str, Any] = {"eta": -1, "z": np.zeros(0, dtype=np.int64)}
    if w > 0:
        # eta (free), z_s >= 0; rows C_s(x) - eta - z_s <= 0.
        eta = n_glob
        z = n_glob + 1 + np.arange(len(copies))
        for s, c in enumerate(copies):
            nz = np.flatnonzero(c.cost)
            rows_r.append(np.full(len(nz) + 2, r_glob + s))
            rows_c.append(np.concatenate([c.colmap[nz], [eta, z[s]]]))
            rows_v.append(np.concatenate([c.cost[nz], [-1.0, -1.0]]))
        obj = np.concatenate([obj, [w], [w * c.probability / (1.0 - a) for c in copies]])
        lower_a = np.concatenate([lower_a, [-np.inf], np.zeros(len(copies))])
        upper_a = np.concatenate([upper_a, np.full(len(copies) + 1, np.inf)])
        rl_a = np.concatenate([rl_a, np.full(len(copies), -np.inf)])
        ru_a = np.concatenate([ru_a, np.zeros(len(copies))])
        r_glob += len(copies)
        extra = {"eta": eta, "z": z}
    n_total = len(obj)
    matrix = sparse.csc_array(
        (np.concatenate(rows_v), (np.concatenate(rows_r), np.concatenate(rows_c))),
        shape=(r_glob, n_total),
    )
    matrix.sum_duplicates()
    # 32-bit indices (HiGHS's own type): kept for the second pass, handed over without a copy.
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    # Second pass: every copy's cost counts once, plus the tie-breaker on stock moves.
    tidy = np.zeros(n_total)
    for c in copies:
        np.add.at(tidy, c.colmap, c.cost)
        tidy[c.colmap[moves]] = b.move_cost
    return ExtensiveForm(
        copies,
        st.col,
        obj,
        tidy,
        lower_a,
        upper_a,
        rl_a,
        ru_a,
        matrix,
        n_row,
        int(extra["eta"]),
        np.asarray(extra["z"]),
    )
