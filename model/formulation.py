"""The linear program of DESIGN §2 as a Pyomo model, built sparse.

``build_model(data, factors)`` derives the sparse index tables from the data (only tuples that
exist: an offer in the periods it is available, a sector for a material it demands, a stock lot
from the period it can first be filled), then calls one ``add_<family>`` per constraint family in
a fixed order. Each family's docstring states the math it builds.

Notation: see :mod:`model.data`. One reformulation of DESIGN §2: ``Buy[o,t]`` is an auxiliary
variable equal to ``sum_k x[o,k,t] + y[o,t]`` (row ``Define_Buy``). Capacity (§2.2) and minimum
purchase (§2.3) then become bounds of ``Buy``, and caps over purchases, the budget and the
purchase cost use one term per offer instead of one per sector: the same LP, fewer nonzeros.

The numbers a scenario changes (bounds of ``Buy``, its cost, demand, floors, alternative limits)
come from :func:`numbers`, so the stress test can push a scenario into an already built model.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from model.data import INITIAL, KG_PER_T, PlanData
from model.scenarios import Factors

# Pyomo constraint name -> the family key used in Built.cons and model.explain
FAMILY_OF = {
    "Meet_Demand": "demand",
    "Define_Buy": "buy",
    "Stock_Balance": "stock",
    "Stock_Floor": "floor",
    "Stock_Ceiling": "ceiling",
    "Max_Draw": "max_draw",
    "Cap_Share": "caps",
    "Budget": "budget",
}
_TOL = 1e-9  # a right-hand side this close to 0 is 0
# Currency per tonne moved into or out of a stock lot: a tie-breaker, not a cost. One cent a
# tonne is below any price a workbook holds (prices are per kg, so >= 1 per tonne in practice)
# yet above HiGHS's tolerances; on the large benchmark the plan's true cost matched the exact
# two-pass optimum to 1e-15 (relative). Costs reported exclude it (model.results).
MOVE_COST_PER_T = 0.01
_BASIS_COLUMN = {"Mine country": "mine", "Refine country": "refine", "Supplier": "supplier"}


@dataclass
class Indexes:
    """Sparse index tables; row order = order of the Pyomo index set it defines."""

    buy: pd.DataFrame  # o, t, material  -> Buy, ToStock (ToStock only where stockable)
    deliver: pd.DataFrame  # o, k, t, material, d (demand row)
    lots: pd.DataFrame  # L, material, offer (-1 for initial), start, initial_t
    stock: pd.DataFrame  # L, t, material
    to_stock: pd.DataFrame  # o, t, material (subset of buy)
    draw: pd.DataFrame  # L, k, t, material, offer, d
    demand: pd.DataFrame  # material, sector, t, tonnes (data.demand)
    avoid: pd.DataFrame  # d, material, sector, t, max_share, cost_per_kg
    shortfall: pd.DataFrame  # d, material, sector, t, penalty_per_kg
    floor: pd.DataFrame  # material, t, base_floor_t, penalty (NaN = hard)
    below: pd.DataFrame  # material, t (soft floors only)
    ceiling: pd.DataFrame  # material, t, max_stock_t
    max_draw: pd.DataFrame  # material, t, max_draw_t
    caps: pd.DataFrame  # one row per cap instance: rule, basis, group, material, sector, t, share
    cap_terms: pd.DataFrame  # c (instance), family ("buy"/"deliver"/"draw"), pos, coef
    budget_periods: list[int] = field(default_factory=list)


def _positions(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    return pd.Series(np.arange(len(df)), index=pd.MultiIndex.from_frame(df[keys]))


def index_sets(data: PlanData) -> Indexes:
    """Build every sparse index table from the data (scenario-independent)."""
    n = len(data.periods)
    offers = data.offers
    mats = data.materials
    dem = data.demand.reset_index(drop=True)
    dem = dem.assign(d=np.arange(len(dem)))

    # Buy[o,t]: offer o in its window.
    span = (offers["last"] - offers["first"] + 1).clip(lower=0).to_numpy()
    o_rep = np.repeat(offers.index.to_numpy(), span)
    t_rep = np.concatenate(
        [np.arange(f, f + s) for f, s in zip(offers["first"], span, strict=True)] or [[]]
    )
    buy = pd.DataFrame(
        {
            "o": o_rep.astype(int),
            "t": t_rep.astype(int),
            "material": offers["material"].to_numpy()[o_rep],
        }
    )

    # Deliver[o,k,t]: offer available in t, sector k demands m(o) in t.
    deliver = buy.merge(dem[["material", "sector", "t", "d"]], on=["material", "t"])
    deliver = deliver.rename(columns={"sector": "k"})[["o", "k", "t", "material", "d"]]

    stockable = ~(mats["max_stock_t"] == 0)
    to_stock = buy[buy["material"].map(stockable).to_numpy()].reset_index(drop=True)

    # Lots: one per offer that can stock, from its first period; one initial lot per material.
    first_buy = to_stock.groupby("o")["t"].min()
    offer_lots = pd.DataFrame(
        {
            "L": first_buy.index.astype(int),
            "material": offers.loc[first_buy.index, "material"].to_numpy(),
            "offer": first_buy.index.astype(int),
            "start": first_buy.to_numpy().astype(int),
            "initial_t": 0.0,
        }
    )
    init = mats[mats["initial_t"] > 0]
    init_lots = pd.DataFrame(
        {
            "L": len(offers) + np.flatnonzero(mats["initial_t"] > 0),
            "material": init.index.to_numpy(),
            "offer": -1,
            "start": 0,
            "initial_t": init["initial_t"].to_numpy(),
        }
    )
    lots = pd.concat([offer_lots, init_lots], ignore_index=True)
    span = (n - lots["start"]).to_numpy()
    l_rep = np.repeat(np.arange(len(lots)), span)
    stock = pd.DataFrame(
        {
            "L": lots["L"].to_numpy()[l_rep],
            "t": np.concatenate([np.arange(s, n) for s in lots["start"]] or [[]]).astype(int),
            "material": lots["material"].to_numpy()[l_rep],
        }
    )
    draw = stock.merge(dem[["material", "sector", "t", "d"]], on=["material", "t"])
    draw = draw.rename(columns={"sector": "k"})
    draw["offer"] = draw["L"].map(lots.set_index("L")["offer"]).astype(int)
    draw = draw[["L", "k", "t", "material", "offer", "d"]]

    alt = data.alternatives
    avoid = dem.merge(
        alt[["material", "sector", "max_share", "cost_per_kg"]], on=["material", "sector"]
    )[["d", "material", "sector", "t", "max_share", "cost_per_kg"]]
    shortfall = (
        dem[["d", "material", "sector", "t"]].assign(
            penalty_per_kg=dem["sector"].map(data.sectors["penalty_per_kg"]).to_numpy()
        )
        if data.allow_shortfall
        else dem.iloc[0:0][["d", "material", "sector", "t"]].assign(penalty_per_kg=0.0)
    )

    days = np.asarray(data.days)
    total = dem.groupby(["material", "t"])["tonnes"].sum().reset_index()
    total["base_floor_t"] = (
        total["material"].map(mats["min_cover_days"]).to_numpy()
        * total["tonnes"].to_numpy()
        / days[total["t"].to_numpy()]
    )
    floor = total[total["base_floor_t"] > 0][["material", "t", "base_floor_t"]]
    floor = floor.assign(penalty=floor["material"].map(mats["floor_penalty_per_kg"]).to_numpy())
    floor = floor.reset_index(drop=True)
    below = floor[floor["penalty"].notna()][["material", "t"]].reset_index(drop=True)

    stock_mt = stock[["material", "t"]].drop_duplicates()
    ceiling = stock_mt.assign(max_stock_t=stock_mt["material"].map(mats["max_stock_t"]).to_numpy())
    ceiling = ceiling[ceiling["max_stock_t"].notna()].reset_index(drop=True)
    draw_mt = draw[["material", "t"]].drop_duplicates()
    max_draw = draw_mt.assign(max_draw_t=draw_mt["material"].map(mats["max_draw_t"]).to_numpy())
    max_draw = max_draw[max_draw["max_draw_t"].notna()].reset_index(drop=True)

    caps, cap_terms = _cap_instances(data, buy, deliver, draw)
    budget_periods = (
        sorted(buy["t"].unique().tolist()) if data.budget_per_period is not None else []
    )
    return Indexes(
        buy,
        deliver,
        lots,
        stock,
        to_stock,
        draw,
        dem,
        avoid,
        shortfall.reset_index(drop=True),
        floor,
        below,
        ceiling,
        max_draw,
        caps,
        cap_terms,
        budget_periods,
    )


def _cap_instances(
    data: PlanData, buy: pd.DataFrame, deliver: pd.DataFrame, draw: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Expand each Caps row into its instances (group x material set x sector set x period)
    and their terms, keeping only instances where the group can receive something."""
    offers = data.offers
    materials = list(data.materials.index)
    sectors = list(data.sectors.index)
    inst_rows: list[tuple[Any, ...]] = []
    inst_mat: list[tuple[int, str]] = []
    inst_sec: list[tuple[int, str]] = []
    for cap in data.caps.itertuples():
        if cap.max_share >= 1.0:
            continue  # can never bind (validation warns)
        col = _BASIS_COLUMN[cap.basis]
        groups = sorted(offers[col].unique()) if cap.group == "EACH" else [cap.group]
        msets = (
            [[m] for m in materials]
            if cap.material == "EACH"
            else [materials]
            if cap.material == "ALL"
            else [[cap.material]]
        )
        ksets = (
            [[k] for k in sectors]
            if cap.sector == "EACH"
            else [None]
            if cap.sector == "ALL"
            else [[cap.sector]]
        )
        for g in groups:
            for ms in msets:
                for ks in ksets:
                    for t in range(cap.first, cap.last + 1):
                        c = len(inst_rows)
                        inst_rows.append(
                            (
                                cap.rule,
                                cap.basis,
                                g,
                                ms[0] if len(ms) == 1 and cap.material != "ALL" else "ALL",
                                "ALL"
                                if ks is None
                                else (ks[0] if cap.sector != "ALL" and len(ks) == 1 else "ALL"),
                                t,
                                cap.max_share,
                                col,
                                ks is None,
                            )
                        )
                        inst_mat.extend((c, m) for m in ms)
                        if ks is not None:
                            inst_sec.extend((c, k) for k in ks)
    caps = pd.DataFrame.from_records(
        inst_rows,
        columns=[
            "rule",
            "basis",
            "group",
            "material",
            "sector",
            "t",
            "share",
            "column",
            "purchases",
        ],
    )
    if caps.empty:
        return caps, pd.DataFrame({"c": [], "family": [], "pos": [], "coef": []})
    cm = pd.DataFrame.from_records(inst_mat, columns=["c", "material"])
    cm = cm.merge(caps[["t", "purchases"]], left_on="c", right_index=True)
    parts = []
    pb = cm[cm["purchases"]].merge(buy.assign(pos=np.arange(len(buy))), on=["material", "t"])
    parts.append(pb[["c", "o", "pos"]].assign(family="buy"))
    cs = pd.DataFrame.from_records(inst_sec, columns=["c", "k"])
    cmk = cm[~cm["purchases"]].merge(cs, on="c")
    pdv = cmk.merge(deliver.assign(pos=np.arange(len(deliver))), on=["material", "t", "k"])
    parts.append(pdv[["c", "o", "pos"]].assign(family="deliver"))
    dr = draw.assign(pos=np.arange(len(draw)))
    dr = dr[dr["offer"] >= 0].rename(columns={"offer": "o"})
    pdr = cmk.merge(dr, on=["material", "t", "k"])
    parts.append(pdr[["c", "o", "pos"]].assign(family="draw"))
    terms = pd.concat(parts, ignore_index=True).astype({"c": int, "o": int, "pos": int})
    col = caps["column"].to_numpy()[terms["c"].to_numpy()]
    value = np.empty(len(terms), dtype=object)
    for name in np.unique(col):
        sel = col == name
        value[sel] = offers[name].to_numpy()[terms["o"].to_numpy()[sel]]
    in_group = value == caps["group"].to_numpy()[terms["c"].to_numpy()]
    share = caps["share"].to_numpy()[terms["c"].to_numpy()]
    terms["coef"] = np.where(in_group, 1.0 - share, -share)
    terms["in_group"] = in_group
    # An instance whose group has no term cannot bind: drop it, renumber the rest.
    live = np.unique(terms.loc[in_group, "c"].to_numpy())
    renumber = pd.Series(np.arange(len(live)), index=live)
    terms = terms[terms["c"].isin(live)].copy()
    terms["c"] = terms["c"].map(renumber).to_numpy()
    caps = caps.iloc[live].reset_index(drop=True)
    return caps, terms[["c", "family", "pos", "coef", "in_group"]].reset_index(drop=True)


@dataclass
class Numbers:
    """The scenario-dependent numbers, aligned with the index tables."""

    buy_lb: np.ndarray
    buy_ub: np.ndarray
    buy_cost: np.ndarray  # currency per tonne
    demand: np.ndarray  # t, per demand row
    floor: np.ndarray  # t, per floor row
    avoid_ub: np.ndarray  # t, per avoid row


def numbers(data: PlanData, idx: Indexes, f: Factors) -> Numbers:
    """Bounds, costs and right-hand sides of §2 under the factors ``f``."""
    o, t = idx.buy["o"].to_numpy(), idx.buy["t"].to_numpy()
    offers = data.offers
    ub = offers["capacity_t"].to_numpy()[o] * f.capacity[o, t]
    lb = np.minimum(offers["min_purchase_t"].to_numpy()[o], ub)
    cost = offers["price_per_kg"].to_numpy()[o] * f.price[o, t] * KG_PER_T
    demand = idx.demand["tonnes"].to_numpy() * f.demand
    dem = idx.demand.assign(tonnes=demand)
    total = dem.groupby(["material", "t"])["tonnes"].sum()
    keys = pd.MultiIndex.from_frame(idx.floor[["material", "t"]])
    ft = idx.floor["t"].to_numpy()
    floor = (
        idx.floor["material"].map(data.materials["min_cover_days"]).to_numpy()
        * total.reindex(keys).fillna(0.0).to_numpy()
        / np.asarray(data.days)[ft]
    )
    floor = np.where(f.released[ft], 0.0, floor)
    avoid_ub = idx.avoid["max_share"].to_numpy() * demand[idx.avoid["d"].to_numpy()]
    return Numbers(lb, ub, cost, demand, floor, avoid_ub)


# -- the model ----------------------------------------------------------------------------


@dataclass
class Built:
    """A built model with the tables that map its components back to the workbook."""

    m: pyo.ConcreteModel
    data: PlanData
    idx: Indexes
    num: Numbers
    vars: dict[str, list[Any]]  # family -> VarData in index-table order
    cons: dict[str, list[Any]]  # family -> ConstraintData in index-table order


def _tuples(df: pd.DataFrame, cols: Sequence[str]) -> list[tuple]:
    return list(zip(*(df[c].tolist() for c in cols), strict=True))


def _var(
    m: pyo.ConcreteModel,
    name: str,
    df: pd.DataFrame,
    cols: Sequence[str],
    lb: Any = 0.0,
    ub: Any = None,
) -> list[Any]:
    """Declare a non-negative Var over the rows of ``df``; return its VarData in row order."""
    keys = _tuples(df, cols)
    setattr(m, name.upper() + "_INDEX", pyo.Set(initialize=keys, dimen=len(cols), ordered=True))
    v = pyo.Var(getattr(m, name.upper() + "_INDEX"), domain=pyo.NonNegativeReals)
    setattr(m, name, v)
    datas = [v[k] for k in keys]
    if lb is not None and np.ndim(lb):
        for vd, lo, hi in zip(
            datas, lb, ub if ub is not None else [None] * len(datas), strict=True
        ):
            vd.setlb(float(lo))
            vd.setub(None if hi is None else float(hi))
    elif ub is not None:
        for vd, hi in zip(datas, ub, strict=True):
            vd.setub(float(hi))
    return datas


def _rows(
    n: int, parts: list[tuple[np.ndarray, list[Any], np.ndarray, np.ndarray]]
) -> list[tuple[list[Any], list[float]]]:
    """Group terms into ``n`` rows; each part is (row ids, VarData list, positions, coefs)."""
    rows = np.concatenate([p[0] for p in parts]) if parts else np.array([], dtype=int)
    which = (
        np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
        if parts
        else (np.array([], dtype=int))
    )
    pos = np.concatenate([p[2] for p in parts]) if parts else np.array([], dtype=int)
    coef = np.concatenate([p[3] for p in parts]) if parts else np.array([])
    order = np.argsort(rows, kind="stable")
    rows, which, pos, coef = rows[order], which[order], pos[order], coef[order]
    bounds = np.searchsorted(rows, np.arange(n + 1))
    lists = [p[1] for p in parts]
    out = []
    which_l, pos_l, coef_l = which.tolist(), pos.tolist(), coef.tolist()
    for r in range(n):
        a, b = bounds[r], bounds[r + 1]
        out.append(([lists[which_l[i]][pos_l[i]] for i in range(a, b)], coef_l[a:b]))
    return out


def _lookup(keys: pd.DataFrame, table: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Row positions in ``table`` of the key rows ``keys`` (all must exist)."""
    pos = _positions(table, cols)
    return pos.reindex(pd.MultiIndex.from_frame(keys[cols])).to_numpy()


def _constraint(
    m: pyo.ConcreteModel, name: str, keys: list[tuple], rows: list[tuple], lo: Any, hi: Any
) -> list[Any]:
    """Declare ``lo <= sum(coef * var) <= hi`` for each row (None = open side).

    Returns the ConstraintData in key order (None for a row with no variable; one that cannot
    hold is recorded in ``m.trivially_infeasible``)."""
    trivial = m.trivially_infeasible
    where = {k: i for i, k in enumerate(keys)}
    lo_l = list(lo) if np.ndim(lo) else [lo] * len(keys)
    hi_l = list(hi) if np.ndim(hi) else [hi] * len(keys)

    def rule(_m: Any, *k: Any) -> Any:
        key = k if len(k) > 1 else k[0]
        i = where[key]
        vs, cs = rows[i]
        lo_i, hi_i = lo_l[i], hi_l[i]
        if not vs:  # nothing can move this row: fine, or infeasible before any solve
            if (lo_i is not None and lo_i > _TOL) or (hi_i is not None and hi_i < -_TOL):
                trivial.append((FAMILY_OF[name], key))
            return pyo.Constraint.Skip
        body = LinearExpression(constant=0.0, linear_coefs=cs, linear_vars=vs)
        if lo_i is not None and hi_i is not None and lo_i == hi_i:
            return body == lo_i
        if lo_i is not None:
            return body >= lo_i
        return body <= hi_i

    index = pyo.Set(
        initialize=keys,
        dimen=len(keys[0]) if keys and isinstance(keys[0], tuple) else 1,
        ordered=True,
    )
    setattr(m, name + "_INDEX", index)
    con = pyo.Constraint(index, rule=rule)
    setattr(m, name, con)
    return [con[k] if k in con else None for k in keys]  # noqa: SIM401


def build_model(data: PlanData, f: Factors, idx: Indexes | None = None) -> Built:
    """Build the §2 model: variables, then each constraint family, then the objective."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # Pyomo builds many small objects; collection passes only cost time here
    try:
        idx = idx or index_sets(data)
        num = numbers(data, idx, f)
        m = pyo.ConcreteModel(name="ree-plan")
        m.trivially_infeasible = []  # (constraint name, key) of rows no variable can satisfy
        b = Built(m, data, idx, num, {}, {})
        add_variables(b)
        add_demand(b)
        add_purchases(b)
        add_stock_balance(b)
        add_stock_limits(b)
        add_caps(b)
        add_budget(b)
        add_objective(b)
        return b
    finally:
        if gc_was_enabled:
            gc.enable()


def add_variables(b: Built) -> None:
    """Variables, all >= 0: ``Buy[o,t]`` (lb = min(Min purchase, C_o f_ot), ub = C_o f_ot),
    ``Deliver[o,k,t]`` (x), ``ToStock[o,t]`` (y), ``Draw[L,k,t]`` (w), ``Stock[L,t]`` (s),
    ``Avoid[d]`` (a <= Max share/100 * D, §2.6), ``Shortfall[d]`` (u), ``BelowFloor[m,t]`` (b)."""
    m, idx, num = b.m, b.idx, b.num
    v = b.vars
    v["buy"] = _var(m, "Buy", idx.buy, ["o", "t"], lb=num.buy_lb, ub=num.buy_ub)
    v["deliver"] = _var(m, "Deliver", idx.deliver, ["o", "k", "t"])
    v["to_stock"] = _var(m, "ToStock", idx.to_stock, ["o", "t"])
    v["stock"] = _var(m, "Stock", idx.stock, ["L", "t"])
    v["draw"] = _var(m, "Draw", idx.draw, ["L", "k", "t"])
    v["avoid"] = _var(m, "Avoid", idx.avoid, ["material", "sector", "t"], ub=num.avoid_ub)
    v["shortfall"] = _var(m, "Shortfall", idx.shortfall, ["material", "sector", "t"])
    v["below"] = _var(m, "BelowFloor", idx.below, ["material", "t"])


def _ones(n: int) -> np.ndarray:
    return np.ones(n)


def add_demand(b: Built) -> None:
    """§2.1, for each (m,k,t) with D > 0:

    .. math:: \\sum_{o: m(o)=m} x_{okt} + \\sum_{L \\in lots(m)} w_{Lkt} + a_{mkt} + u_{mkt}
              = D_{mkt}
    """
    idx, v = b.idx, b.vars
    n = len(idx.demand)
    parts = [
        (
            idx.deliver["d"].to_numpy(),
            v["deliver"],
            np.arange(len(idx.deliver)),
            _ones(len(idx.deliver)),
        ),
        (idx.draw["d"].to_numpy(), v["draw"], np.arange(len(idx.draw)), _ones(len(idx.draw))),
        (idx.avoid["d"].to_numpy(), v["avoid"], np.arange(len(idx.avoid)), _ones(len(idx.avoid))),
        (
            idx.shortfall["d"].to_numpy(),
            v["shortfall"],
            np.arange(len(idx.shortfall)),
            _ones(len(idx.shortfall)),
        ),
    ]
    keys = _tuples(idx.demand, ["material", "sector", "t"])
    b.cons["demand"] = _constraint(
        b.m, "Meet_Demand", keys, _rows(n, parts), b.num.demand, b.num.demand
    )


def add_purchases(b: Built) -> None:
    """Definition of ``Buy`` for each available (o,t); capacity (§2.2) and minimum purchase
    (§2.3) are its bounds:

    .. math:: Buy_{ot} - \\sum_k x_{okt} - y_{ot} = 0, \\quad
              \\min(MinP_o, C_o f_{ot}) \\le Buy_{ot} \\le C_o f_{ot}
    """
    idx, v = b.idx, b.vars
    n = len(idx.buy)
    deliver_row = _lookup(idx.deliver, idx.buy, ["o", "t"])
    to_stock_row = _lookup(idx.to_stock, idx.buy, ["o", "t"])
    parts = [
        (np.arange(n), v["buy"], np.arange(n), _ones(n)),
        (deliver_row, v["deliver"], np.arange(len(idx.deliver)), -_ones(len(idx.deliver))),
        (to_stock_row, v["to_stock"], np.arange(len(idx.to_stock)), -_ones(len(idx.to_stock))),
    ]
    b.cons["buy"] = _constraint(
        b.m, "Define_Buy", _tuples(idx.buy, ["o", "t"]), _rows(n, parts), 0.0, 0.0
    )


def add_stock_balance(b: Built) -> None:
    """§2.4, for each lot L and period t from the lot's start:

    .. math:: s_{Lt} - s_{L,t-1} - y_{Lt} + \\sum_k w_{Lkt} = [L = initial, t = 1] \\cdot Init_m

    (the opening stock of a lot is 0, or the Initial stock for the ``initial`` lot).
    """
    idx, v = b.idx, b.vars
    st = idx.stock
    n = len(st)
    pos = _positions(st, ["L", "t"])
    prev = pos.reindex(pd.MultiIndex.from_arrays([st["L"], st["t"] + 1]))
    has_next = prev.notna().to_numpy()
    lots = idx.lots.set_index("L")
    ts = idx.to_stock
    parts = [
        (np.arange(n), v["stock"], np.arange(n), _ones(n)),
        (
            prev.to_numpy()[has_next].astype(int),
            v["stock"],
            np.flatnonzero(has_next),
            -_ones(int(has_next.sum())),
        ),
        (
            _lookup(ts.rename(columns={"o": "L"}), st, ["L", "t"]),
            v["to_stock"],
            np.arange(len(ts)),
            -_ones(len(ts)),
        ),
        (
            _lookup(idx.draw, st, ["L", "t"]),
            v["draw"],
            np.arange(len(idx.draw)),
            _ones(len(idx.draw)),
        ),
    ]
    rhs = np.where(st["t"].to_numpy() == 0, st["L"].map(lots["initial_t"]).to_numpy(), 0.0)
    b.cons["stock"] = _constraint(
        b.m, "Stock_Balance", _tuples(st, ["L", "t"]), _rows(n, parts), rhs, rhs
    )


def add_stock_limits(b: Built) -> None:
    """§2.5 on each material's total stock, where a limit is given:

    .. math:: \\sum_{L \\in lots(m)} s_{Lt} + b_{mt} \\ge Cover_m \\sum_k D_{mkt} / d_t
              \\quad (0 \\text{ in released periods})

    .. math:: \\sum_L s_{Lt} \\le MaxStock_m, \\qquad \\sum_{L,k} w_{Lkt} \\le MaxDraw_m
    """
    idx, v, m = b.idx, b.vars, b.m
    st = idx.stock
    for name, table, extra in (("floor", idx.floor, True), ("ceiling", idx.ceiling, False)):
        n = len(table)
        rows_of_stock = pd.Series(
            np.arange(n), index=pd.MultiIndex.from_frame(table[["material", "t"]])
        ).reindex(pd.MultiIndex.from_frame(st[["material", "t"]]))
        ok = rows_of_stock.notna().to_numpy()
        parts = [
            (
                rows_of_stock.to_numpy()[ok].astype(int),
                v["stock"],
                np.flatnonzero(ok),
                _ones(int(ok.sum())),
            )
        ]
        if extra and len(idx.below):
            parts.append(
                (
                    _lookup(idx.below, table, ["material", "t"]),
                    v["below"],
                    np.arange(len(idx.below)),
                    _ones(len(idx.below)),
                )
            )
        keys = _tuples(table, ["material", "t"])
        if name == "floor":
            b.cons["floor"] = _constraint(
                m, "Stock_Floor", keys, _rows(n, parts), b.num.floor, None
            )
        else:
            b.cons["ceiling"] = _constraint(
                m, "Stock_Ceiling", keys, _rows(n, parts), None, table["max_stock_t"].to_numpy()
            )
    table = idx.max_draw
    n = len(table)
    r = pd.Series(np.arange(n), index=pd.MultiIndex.from_frame(table[["material", "t"]])).reindex(
        pd.MultiIndex.from_frame(idx.draw[["material", "t"]])
    )
    ok = r.notna().to_numpy()
    parts = [(r.to_numpy()[ok].astype(int), v["draw"], np.flatnonzero(ok), _ones(int(ok.sum())))]
    b.cons["max_draw"] = _constraint(
        m,
        "Max_Draw",
        _tuples(table, ["material", "t"]),
        _rows(n, parts),
        None,
        table["max_draw_t"].to_numpy(),
    )


def add_caps(b: Built) -> None:
    """§2.7, one row per cap instance c (group g, material set M, sector set K, period t):

    .. math:: \\sum_{o: m(o) \\in M} (1[o \\in g] - share_c) F_{ot} \\le 0

    with :math:`F_{ot} = Buy_{ot}` when the Sector is ALL, else
    :math:`F_{ot} = \\sum_{k \\in K} (x_{okt} + w_{okt})` (draws from offer o's own lot; the
    ``initial`` lot has no origin and is left out).
    """
    idx = b.idx
    terms = idx.cap_terms
    parts = []
    for family in ("buy", "deliver", "draw"):
        sel = terms[terms["family"] == family]
        parts.append(
            (
                sel["c"].to_numpy().astype(int),
                b.vars[family],
                sel["pos"].to_numpy().astype(int),
                sel["coef"].to_numpy(),
            )
        )
    n = len(idx.caps)
    b.cons["caps"] = _constraint(b.m, "Cap_Share", list(range(n)), _rows(n, parts), None, 0.0)


def add_budget(b: Built) -> None:
    """§2.8, for each period t when a budget is set:
    :math:`\\sum_o 1000\\, p_{ot} Buy_{ot} \\le Budget`."""
    idx = b.idx
    periods = idx.budget_periods
    if not periods:
        b.cons["budget"] = []
        return
    row = pd.Series(np.arange(len(periods)), index=periods).reindex(idx.buy["t"]).to_numpy()
    parts = [(row.astype(int), b.vars["buy"], np.arange(len(idx.buy)), b.num.buy_cost)]
    b.cons["budget"] = _constraint(
        b.m, "Budget", periods, _rows(len(periods), parts), None, b.data.budget_per_period
    )


def add_objective(b: Built) -> None:
    """Minimise purchase + holding + alternatives + shortfall penalty + below-floor penalty,
    plus a handling tie-breaker on tonnes moved into and out of stock lots:

    .. math:: \\sum_t 1000 (\\sum_o p_{ot} Buy_{ot} + \\sum_{m,L} H_m s_{Lt}
              + \\sum_{m,k} A_{km} a_{mkt} + \\sum_{m,k} P_k u_{mkt} + \\sum_m B_m b_{mt})
              + \\epsilon (\\sum_{o,t} y_{ot} + \\sum_{L,k,t} w_{Lkt})

    with :math:`\\epsilon` = :data:`MOVE_COST_PER_T`. Lots have no cost of their own, so
    "buy into lot A, draw lot B" ties with "deliver straight, keep lot B"; HiGHS returned the
    first for 684,000 t of the large benchmark. The tie-breaker picks the second in the same
    solve (a second, exact pass cost twice HiGHS's own time). The plan's costs exclude it.
    """
    idx, v, data = b.idx, b.vars, b.data
    holding = idx.stock["material"].map(data.materials["holding_per_kg"]).to_numpy() * KG_PER_T
    below = idx.below["material"].map(data.materials["floor_penalty_per_kg"]).to_numpy()
    parts = [
        (v["buy"], b.num.buy_cost),
        (v["stock"], holding),
        (v["avoid"], idx.avoid["cost_per_kg"].to_numpy() * KG_PER_T),
        (v["shortfall"], idx.shortfall["penalty_per_kg"].to_numpy() * KG_PER_T),
        (v["below"], below * KG_PER_T),
        (v["to_stock"], np.full(len(v["to_stock"]), MOVE_COST_PER_T)),
        (v["draw"], np.full(len(v["draw"]), MOVE_COST_PER_T)),
    ]
    vs: list[Any] = []
    cs: list[float] = []
    for vars_, coefs in parts:
        keep = np.flatnonzero(coefs != 0)
        vs.extend(vars_[i] for i in keep)
        cs.extend(coefs[keep].tolist())
    b.m.Total_Cost = pyo.Objective(
        expr=LinearExpression(constant=0.0, linear_coefs=cs, linear_vars=vs), sense=pyo.minimize
    )


__all__ = ["Built", "Indexes", "Numbers", "build_model", "index_sets", "numbers", "INITIAL"]
