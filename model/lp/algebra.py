"""The linear program of DESIGN §2 in Pyomo's own algebra: read it beside DESIGN §2.

:func:`declare` states the model as a Pyomo ``ConcreteModel``: sparse index ``Set`` s (only
tuples that exist: an offer in the periods it is available, a sector for a material it
demands, a stock lot from the period it can first be filled), ``Param`` s holding the
scenario's numbers, ``Var`` s, one ``Constraint`` rule per family written as the sum it states,
and the objective. Notation as in :mod:`model.input.data`:

====================  =======================================  =========================
Pyomo                 DESIGN §2                                index
====================  =======================================  =========================
``Buy[o,t]``          sum_k x[o,k,t] + y[o,t]                  offer o available in t
``Deliver[o,k,t]``    x[o,k,t]                                 k demands m(o) in t
``ToStock[o,t]``      y[o,t]                                   m(o) may be stocked
``Stock[L,t]``        s[L,t]                                   lot L from its start
``Draw[L,k,t]``       w[L,k,t]                                 k demands m(L) in t
``Avoid[m,k,t]``      a[m,k,t]                                 an Alternatives row
``Shortfall[m,k,t]``  u[m,k,t]                                 Allow shortfall = Yes
``BelowFloor[m,t]``   b[m,t]                                   a Below-floor penalty
====================  =======================================  =========================

``Buy`` is the one reformulation: capacity (§2.2) and minimum purchase (§2.3) are its bounds,
and ``Define_Buy`` ties it to deliveries and stocking. The scenario (capacity, price and demand
factors, released floors) arrives in the ``Param`` values (:func:`model.lp.formulation.numbers`);
each row of the Initial stock sheet is a lot L of ``STOCK`` with its tonnes as its opening
stock and its origin in ``origin``; each Demand row carries its own shortfall penalty.

This model is written from DESIGN, not derived from the sparse blocks of
:mod:`model.lp.formulation` that the direct route hands to HiGHS: ``tests/test_routes.py``
compares the two entry by entry, so each checks the other. :func:`compile_lp` compiles it
with Pyomo's ``LinearStandardFormCompiler`` for HiGHS. Pyomo is imported here only, and this
module only when the Pyomo route is taken (:mod:`model.lp.route`).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyomo.core.base import (  # the modelling parts only: a third of pyomo.environ's import
    ConcreteModel,
    Constraint,
    Objective,
    Param,
    Set,
    Var,
    minimize,
)
from pyomo.core.base.set import NonNegativeReals
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from model.input.data import KG_PER_T
from model.lp.formulation import Built, index_tuples, lot_origins

_BASIS = {"Mine country": "mine", "Refine country": "refine", "Supplier": "supplier"}


def _group(pairs: Any) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for key, member in pairs:
        out[key].append(member)
    return out


def declare(b: Built) -> ConcreteModel:
    """State DESIGN §2 for the data, index tables and scenario numbers of ``b``."""
    data, idx, num = b.data, b.idx, b.num
    offers, mats = data.offers, data.materials
    m = ConcreteModel(name="ree-plan")

    # -- sets: only the tuples that exist ----------------------------------------------------
    def ordered(keys: list[Any], dimen: int) -> Set:
        return Set(initialize=keys, dimen=dimen, ordered=True)

    m.BUY = ordered(index_tuples(idx.buy, ["o", "t"]), 2)
    m.DELIVER = ordered(index_tuples(idx.deliver, ["o", "k", "t"]), 3)
    m.TO_STOCK = ordered(index_tuples(idx.to_stock, ["o", "t"]), 2)
    m.STOCK = ordered(index_tuples(idx.stock, ["L", "t"]), 2)
    m.DRAW = ordered(index_tuples(idx.draw, ["L", "k", "t"]), 3)
    m.DEMAND = ordered(index_tuples(idx.demand, ["material", "sector", "t"]), 3)
    m.AVOID = ordered(index_tuples(idx.avoid, ["material", "sector", "t"]), 3)
    m.SHORT = ordered(index_tuples(idx.shortfall, ["material", "sector", "t"]), 3)
    m.FLOOR = ordered(index_tuples(idx.floor, ["material", "t"]), 2)
    m.BELOW = ordered(index_tuples(idx.below, ["material", "t"]), 2)
    m.CEILING = ordered(index_tuples(idx.ceiling, ["material", "t"]), 2)
    m.MAX_DRAW = ordered(index_tuples(idx.max_draw, ["material", "t"]), 2)
    m.CAPS = ordered(list(range(len(idx.caps))), 1)
    m.BUDGET_T = ordered(list(idx.budget_periods), 1)

    # Who can serve whom (the sums' ranges): offers and lots of a material, per sector/period.
    material = dict(zip(offers.index, offers["material"], strict=True))
    lot_material = dict(zip(idx.lots["L"], idx.lots["material"], strict=True))
    deliver_to = _group(((material[o], k, t), o) for o, k, t in m.DELIVER)
    draw_to = _group(((lot_material[L], k, t), L) for L, k, t in m.DRAW)
    sectors_of = _group(((o, t), k) for o, k, t in m.DELIVER)
    draws_of = _group(((L, t), k) for L, k, t in m.DRAW)
    lots_at = _group(((lot_material[L], t), L) for L, t in m.STOCK)
    draws_at = _group(((lot_material[L], t), (L, k)) for L, k, t in m.DRAW)
    buys_at = _group(((material[o], t), o) for o, t in m.BUY)
    buys_in = _group((t, o) for o, t in m.BUY)

    # -- parameters: the scenario's numbers -------------------------------------------------
    def param(index: Set, values: Any) -> Param:
        return Param(index, initialize=dict(zip(index, np.asarray(values).tolist(), strict=True)))

    m.Cap = param(m.BUY, num.buy_ub)  # C_o f_ot (0 outside the offer's window)
    m.MinBuy = param(m.BUY, num.buy_lb)  # min(Min purchase_o, C_o f_ot)
    m.Price = param(m.BUY, num.buy_cost)  # 1000 p_ot per tonne
    m.D = param(m.DEMAND, num.demand)  # D[m,k,t], with the Demand factor
    m.Floor = param(m.FLOOR, num.floor)  # Min cover x demand / days (0 when released)
    m.AvoidMax = param(m.AVOID, num.avoid_ub)  # Max share x D
    m.AltCost = param(m.AVOID, idx.avoid["cost_per_kg"].to_numpy() * KG_PER_T)
    m.Penalty = param(m.SHORT, idx.shortfall["penalty_per_kg"].to_numpy() * KG_PER_T)
    m.MaxStock = param(m.CEILING, idx.ceiling["max_stock_t"].to_numpy())
    m.MaxDraw = param(m.MAX_DRAW, idx.max_draw["max_draw_t"].to_numpy())
    init = dict(zip(idx.lots["L"], idx.lots["initial_t"], strict=True))
    holding = mats["holding_per_kg"].to_dict()
    below_pen = mats["floor_penalty_per_kg"].to_dict()
    # Per offer and lot (numbered alike): mine, refine, supplier (not a str = unknown).
    origin = {col: values.tolist() for col, values in lot_origins(data).items()}

    # -- variables, all >= 0 ----------------------------------------------------------------
    m.Buy = Var(m.BUY, bounds=lambda m, o, t: (m.MinBuy[o, t], m.Cap[o, t]))
    m.Deliver = Var(m.DELIVER, domain=NonNegativeReals)
    m.ToStock = Var(m.TO_STOCK, domain=NonNegativeReals)
    m.Stock = Var(m.STOCK, domain=NonNegativeReals)
    m.Draw = Var(m.DRAW, domain=NonNegativeReals)
    m.Avoid = Var(m.AVOID, bounds=lambda m, *i: (0.0, m.AvoidMax[i]))  # §2.6
    m.Shortfall = Var(m.SHORT, domain=NonNegativeReals)
    m.BelowFloor = Var(m.BELOW, domain=NonNegativeReals)

    # -- §2.1 demand ---------------------------------------------------------------------------
    def meet_demand(m: Any, mat: str, k: str, t: int) -> Any:
        i = (mat, k, t)
        supply = (
            sum(m.Deliver[o, k, t] for o in deliver_to[i])
            + sum(m.Draw[L, k, t] for L in draw_to[i])
            + (m.Avoid[i] if i in m.AVOID else 0)
            + (m.Shortfall[i] if i in m.SHORT else 0)
        )
        return Constraint.Skip if isinstance(supply, int) else supply == m.D[i]

    m.Meet_Demand = Constraint(m.DEMAND, rule=meet_demand)

    # -- §2.2-2.3 what is bought from an offer goes to sectors or to its stock lot --------------
    def define_buy(m: Any, o: int, t: int) -> Any:
        to_stock = m.ToStock[o, t] if (o, t) in m.TO_STOCK else 0
        return m.Buy[o, t] == sum(m.Deliver[o, k, t] for k in sectors_of[o, t]) + to_stock

    m.Define_Buy = Constraint(m.BUY, rule=define_buy)

    # -- §2.4 stock balance, per lot -------------------------------------------------------------
    def stock_balance(m: Any, L: int, t: int) -> Any:
        opening = m.Stock[L, t - 1] if (L, t - 1) in m.STOCK else (init[L] if t == 0 else 0.0)
        put_in = m.ToStock[L, t] if (L, t) in m.TO_STOCK else 0  # an offer's lot has L = o
        drawn = sum(m.Draw[L, k, t] for k in draws_of[L, t])
        return m.Stock[L, t] == opening + put_in - drawn

    m.Stock_Balance = Constraint(m.STOCK, rule=stock_balance)

    # -- §2.5 floor, ceiling and draws on the material's total stock ---------------------------
    def stock_floor(m: Any, mat: str, t: int) -> Any:
        below = m.BelowFloor[mat, t] if (mat, t) in m.BELOW else 0
        return sum(m.Stock[L, t] for L in lots_at[mat, t]) + below >= m.Floor[mat, t]

    def stock_ceiling(m: Any, mat: str, t: int) -> Any:
        return sum(m.Stock[L, t] for L in lots_at[mat, t]) <= m.MaxStock[mat, t]

    def max_draw(m: Any, mat: str, t: int) -> Any:
        return sum(m.Draw[L, k, t] for L, k in draws_at[mat, t]) <= m.MaxDraw[mat, t]

    m.Stock_Floor = Constraint(m.FLOOR, rule=stock_floor)
    m.Stock_Ceiling = Constraint(m.CEILING, rule=stock_ceiling)
    m.Max_Draw = Constraint(m.MAX_DRAW, rule=max_draw)

    # -- §2.7 concentration caps: the group's flow <= share x everyone's flow -----------------
    caps = idx.caps.to_dict("records")
    every_material = list(mats.index)

    def cap_share(m: Any, c: int) -> Any:
        cap = caps[c]
        t, of = cap["t"], origin[_BASIS[cap["basis"]]]
        scope = every_material if cap["material"] == "ALL" else [cap["material"]]
        if cap["purchases"]:  # Sector ALL: F = Buy, the origin mix of everything bought
            flows = [(m.Buy[o, t], of[o]) for mm in scope for o in buys_at[mm, t]]
        else:  # a sector: F = what it receives, straight or from a lot, by origin
            ks = [cap["sector"]]  # EACH was expanded into one instance per sector
            flows = [
                (m.Deliver[o, k, t], of[o])
                for mm in scope
                for k in ks
                for o in deliver_to.get((mm, k, t), [])
            ] + [
                (m.Draw[L, k, t], of[L])
                for mm in scope
                for k in ks
                for L in draw_to.get((mm, k, t), [])
                if isinstance(of[L], str)  # unknown origin: on neither side
            ]
        group = sum(v for v, g in flows if g == cap["group"])
        total = sum(v for v, _ in flows)
        return group <= cap["share"] * total

    m.Cap_Share = Constraint(m.CAPS, rule=cap_share)

    # -- §2.8 budget -----------------------------------------------------------------------------
    def budget(m: Any, t: int) -> Any:
        spend = sum(m.Price[o, t] * m.Buy[o, t] for o in buys_in[t])
        return spend <= data.budget_per_period

    m.Budget = Constraint(m.BUDGET_T, rule=budget)

    # -- objective: purchases, holding, alternatives, penalties; the handling tie-breaker ----
    eps = b.move_cost  # per tonne moved into or out of a lot: no cost, a tie-breaker (§2)
    m.Total_Cost = Objective(
        expr=sum(m.Price[i] * m.Buy[i] for i in m.BUY)
        + sum(holding[lot_material[L]] * KG_PER_T * m.Stock[L, t] for L, t in m.STOCK)
        + sum(m.AltCost[i] * m.Avoid[i] for i in m.AVOID)
        + sum(m.Penalty[i] * m.Shortfall[i] for i in m.SHORT)
        + sum(below_pen[mat] * KG_PER_T * m.BelowFloor[mat, t] for mat, t in m.BELOW)
        + eps * (sum(m.ToStock[i] for i in m.TO_STOCK) + sum(m.Draw[i] for i in m.DRAW)),
        sense=minimize,
    )
    return m


# Each family of the direct route (model.lp.formulation) and its Pyomo component.
VARS = {
    "buy": "Buy",
    "deliver": "Deliver",
    "to_stock": "ToStock",
    "stock": "Stock",
    "draw": "Draw",
    "avoid": "Avoid",
    "shortfall": "Shortfall",
    "below": "BelowFloor",
}
ROWS = {
    "demand": "Meet_Demand",
    "buy": "Define_Buy",
    "stock": "Stock_Balance",
    "floor": "Stock_Floor",
    "ceiling": "Stock_Ceiling",
    "max_draw": "Max_Draw",
    "caps": "Cap_Share",
    "budget": "Budget",
}


@dataclass(frozen=True)
class PyomoModel:
    """The declared model and, per family, its components' data in index-table order (for the
    plan and the duals)."""

    m: ConcreteModel
    vars: dict[str, list[Any]]
    cons: dict[str, list[Any]]


def to_pyomo(b: Built) -> PyomoModel:
    """Declare ``b``'s model in Pyomo (:func:`declare`) with its families' components."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # Pyomo makes many small objects; collection passes only cost time here
    try:
        m = declare(b)
    finally:
        if gc_was_enabled:
            gc.enable()
    variables = {}
    for family, name in VARS.items():
        var = getattr(m, name)
        variables[family] = [var[k] for k in var.index_set()]
    constraints = {}
    for family, name in ROWS.items():
        con = getattr(m, name)
        constraints[family] = [con[k] if k in con else None for k in con.index_set()]  # noqa: SIM401
    return PyomoModel(m, variables, constraints)


def compile_lp(b: Built) -> tuple[Any, ...]:
    """Declare ``b``'s model in Pyomo and compile it with Pyomo's standard-form compiler:
    (col, row, cost, offset, lower, upper, row_lower, row_upper, a), the arrays
    :func:`model.lp.highs.hand_over` passes to HiGHS; col/row map each family's positions."""
    pm = to_pyomo(b)
    info = LinearStandardFormCompiler().write(pm.m, mixed_form=True, set_sense=None)
    columns = info.columns
    col_of = {id(v): i for i, v in enumerate(columns)}
    col = {
        f: np.fromiter((col_of.get(id(v), -1) for v in vs), dtype=np.int64, count=len(vs))
        for f, vs in pm.vars.items()
    }
    row_of = {id(r[0]): i for i, r in enumerate(info.rows)}
    row = {
        f: np.fromiter((row_of.get(id(c), -1) for c in cs), dtype=np.int64, count=len(cs))
        for f, cs in pm.cons.items()
    }
    n_col, n_row = len(columns), len(info.rows)
    lower = np.fromiter((v.lb if v.lb is not None else -np.inf for v in columns), float, n_col)
    upper = np.fromiter((v.ub if v.ub is not None else np.inf for v in columns), float, n_col)
    sense = np.fromiter((r[1] for r in info.rows), np.int64, n_row)
    rhs = np.asarray(info.rhs, dtype=float)
    cost = np.asarray(info.c.toarray()[0], dtype=float) if info.c.shape[0] else np.zeros(n_col)
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return (
        col,
        row,
        cost,
        offset,
        lower,
        upper,
        np.where(sense == 1, -np.inf, rhs),
        np.where(sense == -1, np.inf, rhs),
        info.A.tocsc(),
    )
