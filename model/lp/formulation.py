"""The linear program of DESIGN §2 as sparse matrices, one block per family: the direct route
to HiGHS. (The same LP in Pyomo's algebra, for reading and for the Pyomo route, is
:mod:`model.lp.algebra`; ``tests/test_routes.py`` checks they agree entry by entry.)

``build_model(data, factors)`` derives the sparse index tables from the data (only tuples that
exist: an offer in the periods it is available, a sector for a material it demands, a stock lot
from the period it can first be filled), then calls one ``add_<family>`` per constraint family in
a fixed order. Each family's docstring states the math it builds.

Notation: see :mod:`model.input.data`. One reformulation of DESIGN §2: ``Buy[o,t]`` is an auxiliary
variable equal to ``sum_k x[o,k,t] + y[o,t]`` (row ``Define_Buy``). Capacity (§2.2) and minimum
purchase (§2.3) then become bounds of ``Buy``, and caps over purchases, the budget and the
purchase cost use one term per offer instead of one per sector: the same LP, fewer nonzeros.

The numbers a scenario changes (bounds of ``Buy``, its cost, demand, floors, alternative limits)
come from :func:`numbers`, so the stress test can push a scenario into an already built model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model.input.data import INITIAL, KG_PER_T, PlanData
from model.lp.families import CONSTRAINT, VARIABLE
from model.lp.scenarios import Factors

_TOL = 1e-9  # a right-hand side this close to 0 is 0
# The handling tie-breaker per tonne moved into or out of a stock lot, as a share of the
# smallest cost coefficient of the workbook (per tonne): it scales with the money unit, so the
# plan is the same whether prices are in USD or million USD per kg (DESIGN §2), and it is
# 1/20,000 of any real cost per tonne. Smaller is slower: on the large benchmark (smallest
# cost: holding, 200 per tonne) this share gives 0.01 per tonne and 116,463 iterations; 1e-6
# gave 158,493 (+36 %). Costs reported exclude it (model.plan.results).
MOVE_COST_SHARE = 5e-5
# The tie-breaker is used only on models of at least this many variables: below, DESIGN §2's
# exact later steps choose among the cheapest plans (the least-norm plan moves no tonne through
# stock for nothing), and a tie-breaker in the cost would hide from step 2 the plans that stock
# up at no extra cost — the very plans that survive an embargo. model.lp.highs leaves step 3 out
# from this size on.
MOVE_COST_FROM = 60_000
_BASIS_COLUMN = {"Mine country": "mine", "Refine country": "refine", "Supplier": "supplier"}


@dataclass
class Indexes:
    """Sparse index tables; row order = order of the Pyomo index set it defines."""

    buy: pd.DataFrame  # o, t, material  -> Buy, ToStock (ToStock only where stockable)
    deliver: pd.DataFrame  # o, k, t, material, d (demand row)
    lots: pd.DataFrame  # L, material, offer (-1 if none), start, initial_t, stock_row (-1 if none)
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

    # Lots (numbered as in lot_origins): one per offer that can stock, from its first period;
    # one per Initial stock row; one initial lot per material with stock of unknown origin.
    first_buy = to_stock.groupby("o")["t"].min()
    offer_lots = pd.DataFrame(
        {
            "L": first_buy.index.astype(int),
            "material": offers.loc[first_buy.index, "material"].to_numpy(),
            "offer": first_buy.index.astype(int),
            "start": first_buy.to_numpy().astype(int),
            "initial_t": 0.0,
            "stock_row": -1,
        }
    )
    unknown = mats["unknown_initial_t"].to_numpy() if "unknown_initial_t" in mats else None
    if unknown is None:
        unknown = mats["initial_t"].to_numpy()
    init_lots = pd.DataFrame(
        {
            "L": len(offers) + np.flatnonzero(unknown > 0),
            "material": mats.index.to_numpy()[unknown > 0],
            "offer": -1,
            "start": 0,
            "initial_t": unknown[unknown > 0],
            "stock_row": -1,
        }
    )
    sl = data.stock_lots
    sheet_lots = pd.DataFrame(
        {
            "L": len(offers) + len(mats) + np.arange(len(sl)),
            "material": sl["material"].to_numpy(dtype=object),
            "offer": -1,
            "start": 0,
            "initial_t": sl["tonnes"].to_numpy(dtype=float),
            "stock_row": np.arange(len(sl)),
        }
    )
    lots = pd.concat(
        [x for x in (offer_lots, init_lots, sheet_lots) if len(x)] or [offer_lots],
        ignore_index=True,
    ).astype({"L": int, "offer": int, "start": int, "initial_t": float, "stock_row": int})
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
            # the Demand row's own penalty where given, else its sector's (DESIGN §2)
            penalty_per_kg=dem["penalty_per_kg"]
            .fillna(dem["sector"].map(data.sectors["penalty_per_kg"]))
            .to_numpy()
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

    caps, cap_terms = _cap_instances(data, buy, deliver, draw, lot_origins(data))
    # The index tables stay alive while HiGHS solves: names as categories and positions as
    # 32-bit integers cut them from 91 to 56 MB at the large benchmark (the peak memory is
    # mostly the malloc arenas, though: model.lp.highs.one_malloc_arena).
    deliver, draw = _compact(deliver), _compact(draw)
    cap_terms = cap_terms.astype({"c": np.int32, "pos": np.int32})
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


def lot_origins(data: PlanData) -> pd.DataFrame:
    """Origin (mine, refine, supplier; NaN = unknown) of every source a cap can see, indexed
    by the number shared by an offer and its lot (0..), then each material's ``initial`` lot,
    then each Initial stock row's lot (DESIGN §2.7)."""
    cols = list(_BASIS_COLUMN.values())
    unknown = pd.DataFrame(np.nan, index=range(len(data.materials)), columns=cols, dtype=object)
    table = pd.concat(
        [data.offers[cols], unknown, data.stock_lots[cols].astype(object)], ignore_index=True
    )
    table.index.name = "L"
    return table


def _cap_instances(
    data: PlanData,
    buy: pd.DataFrame,
    deliver: pd.DataFrame,
    draw: pd.DataFrame,
    origins: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Expand each Caps row into its instances (group x material set x sector set x period)
    and their terms, keeping only instances where the group can receive something.

    A term is a flow from a source (an offer, or a stock lot for draws) whose origin is
    ``origins`` of its number; a draw from a lot whose origin is unknown for the cap's basis
    counts on neither side."""
    offers = data.offers
    materials = list(data.materials.index)
    sectors = list(data.sectors.index)
    # Which materials each country or supplier offers or holds in stock: a group with none in
    # a material set has no instance there (its row would read 0 <= 0).
    held = pd.concat([offers[["material", *_BASIS_COLUMN.values()]], data.stock_lots])
    offered = {
        col: held.dropna(subset=[col]).groupby(col)["material"].agg(set).to_dict()
        for col in _BASIS_COLUMN.values()
    }
    templates: list[tuple[Any, ...]] = []
    for cap in data.caps.itertuples():
        if cap.max_share >= 1.0:
            continue  # can never bind (validation warns)
        col = _BASIS_COLUMN[cap.basis]
        groups = sorted(offered[col]) if cap.group == "EACH" else [cap.group]
        if cap.material == "EACH":
            msets = [(m,) for m in materials]
        else:
            msets = [tuple(materials)] if cap.material == "ALL" else [(cap.material,)]
        if cap.sector == "EACH":
            ksets: list[tuple[str, ...] | None] = [(k,) for k in sectors]
        else:
            ksets = [None] if cap.sector == "ALL" else [(cap.sector,)]
        m_label = [m[0] if cap.material != "ALL" else "ALL" for m in msets]
        for g in groups:
            has = offered[col].get(g, set())
            for ms, ml in zip(msets, m_label, strict=True):
                if has.isdisjoint(ms):
                    continue
                for ks in ksets:
                    templates.append(
                        (
                            cap.rule,
                            cap.basis,
                            g,
                            ml,
                            "ALL" if ks is None else ks[0],
                            cap.max_share,
                            col,
                            ks is None,
                            cap.first,
                            cap.last,
                            ms,
                            ks,
                        )
                    )
    names = [
        "rule",
        "basis",
        "group",
        "material",
        "sector",
        "share",
        "column",
        "purchases",
        "first",
        "last",
        "ms",
        "ks",
    ]
    tmpl = pd.DataFrame.from_records(templates, columns=names)
    empty_terms = pd.DataFrame({"c": [], "family": [], "pos": [], "coef": [], "in_group": []})
    if tmpl.empty:
        return tmpl.drop(columns=["first", "last", "ms", "ks"]).assign(t=[]), empty_terms
    # One instance per template and period of its window.
    span = (tmpl["last"] - tmpl["first"] + 1).to_numpy()
    j = np.repeat(np.arange(len(tmpl)), span)
    t = np.concatenate(
        [np.arange(a, b + 1) for a, b in zip(tmpl["first"], tmpl["last"], strict=True)]
    )
    caps = tmpl.iloc[j].drop(columns=["first", "last", "ms", "ks"]).reset_index(drop=True)
    caps.insert(5, "t", t)
    inst = pd.DataFrame({"c": np.arange(len(caps)), "j": j, "t": t})
    tm = pd.DataFrame(
        [(n, m) for n, ms in enumerate(tmpl["ms"]) for m in ms], columns=["j", "material"]
    )
    tk = pd.DataFrame(
        [(n, k) for n, ks in enumerate(tmpl["ks"]) if ks is not None for k in ks],
        columns=["j", "k"],
    )
    purchases = tmpl["purchases"].to_numpy()
    parts = []
    by_purchase = inst[purchases[inst["j"].to_numpy()]].merge(tm, on="j")
    pb = by_purchase.merge(buy.assign(pos=np.arange(len(buy))), on=["material", "t"])
    parts.append(pb[["c", "o", "pos"]].rename(columns={"o": "src"}).assign(family="buy"))
    by_sector = inst[~purchases[inst["j"].to_numpy()]].merge(tm, on="j").merge(tk, on="j")
    pdv = by_sector.merge(deliver.assign(pos=np.arange(len(deliver))), on=["material", "t", "k"])
    parts.append(pdv[["c", "o", "pos"]].rename(columns={"o": "src"}).assign(family="deliver"))
    dr = draw.assign(pos=np.arange(len(draw))).rename(columns={"L": "src"})
    pdr = by_sector.merge(dr, on=["material", "t", "k"])
    parts.append(pdr[["c", "src", "pos"]].assign(family="draw"))
    terms = pd.concat(parts, ignore_index=True).astype({"c": int, "src": int, "pos": int})
    c, src = terms["c"].to_numpy(), terms["src"].to_numpy()
    # Is the term's source in the instance's group? Compare integer codes, column by column;
    # an unknown origin (code -1) is on neither side.
    in_group = np.zeros(len(terms), dtype=bool)
    known = np.ones(len(terms), dtype=bool)
    columns = list(_BASIS_COLUMN.values())
    inst_col = caps["column"].map({col: n for n, col in enumerate(columns)}).to_numpy()
    for n, col in enumerate(columns):
        codes, uniques = pd.factorize(origins[col])
        group_code = pd.Index(uniques).get_indexer(caps["group"])
        sel = inst_col[c] == n
        code = codes[src[sel]]
        in_group[sel] = code == group_code[c[sel]]
        known[sel] = code >= 0
    share = caps["share"].to_numpy()[c]
    terms["coef"] = np.where(in_group, 1.0 - share, -share)
    terms["in_group"] = in_group
    # An instance whose group has no term in that period cannot bind: drop it, renumber.
    live = np.bincount(c[in_group], minlength=len(caps)) > 0
    renumber = np.cumsum(live) - 1
    keep = live[c] & known
    terms = terms[keep].copy()
    terms["c"] = renumber[terms["c"].to_numpy()]
    caps = caps[live].reset_index(drop=True)
    terms = terms[["c", "family", "pos", "coef", "in_group"]].reset_index(drop=True)
    # A category, not a string per term: ~20 MB less resident at the large benchmark.
    terms["family"] = pd.Categorical(terms["family"], categories=["buy", "deliver", "draw"])
    return caps, terms


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


def number_maker(data: PlanData, idx: Indexes) -> Callable[[Factors], Numbers]:
    """:func:`numbers` for many scenarios of one model (``risk``'s hundreds of paths): what
    does not depend on the factors is computed once. The demand behind each floor is summed
    in row order without pandas' compensated summation, so a floor may differ from
    :func:`numbers`'s in its last bit; ``risk``'s path costs are held to ``stress``'s within
    1e-9 (tests/test_risk.py)."""
    o, t = idx.buy["o"].to_numpy(), idx.buy["t"].to_numpy()
    offers = data.offers
    capacity = offers["capacity_t"].to_numpy()[o]
    min_purchase = offers["min_purchase_t"].to_numpy()[o]
    price = offers["price_per_kg"].to_numpy()[o] * KG_PER_T
    tonnes = idx.demand["tonnes"].to_numpy()
    # Demand summed per (material, period) in row order, as a groupby sums it.
    groups = pd.MultiIndex.from_frame(idx.demand[["material", "t"]].astype(object))
    keys = pd.MultiIndex.from_frame(idx.floor[["material", "t"]].astype(object))
    unique = groups.unique()
    group_of = unique.get_indexer(groups)
    floor_group = unique.get_indexer(keys)  # -1: no demand for that material and period
    ft = idx.floor["t"].to_numpy()
    cover_days = idx.floor["material"].map(data.materials["min_cover_days"]).to_numpy(float)
    days = np.asarray(data.days, float)[ft]
    avoid_share = idx.avoid["max_share"].to_numpy()
    avoid_d = idx.avoid["d"].to_numpy()

    def make(f: Factors) -> Numbers:
        ub = capacity * f.capacity[o, t]
        lb = np.minimum(min_purchase, ub)
        cost = price * f.price[o, t]
        demand = tonnes * f.demand
        total = np.zeros(len(unique))
        np.add.at(total, group_of, demand)
        need = np.where(floor_group >= 0, total[np.maximum(floor_group, 0)], 0.0)
        floor = cover_days * need / days
        floor = np.where(f.released[ft], 0.0, floor)
        return Numbers(lb, ub, cost, demand, floor, avoid_share * demand[avoid_d])

    return make


# -- the model ----------------------------------------------------------------------------


@dataclass
class VarBlock:
    """One variable family: ``n`` columns over the rows of ``table`` (key columns ``cols``)."""

    name: str  # Pyomo name, e.g. "Deliver"
    table: pd.DataFrame
    cols: list[str]
    lb: np.ndarray
    ub: np.ndarray  # inf = no upper bound


@dataclass
class RowBlock:
    """One constraint family: ``lo <= sum(coef * var) <= hi`` for ``n`` rows.

    ``parts`` are (row ids, variable family, positions in that family, coefficients): the
    sparse matrix of the family, which both routes to HiGHS consume.
    """

    name: str  # Pyomo name, e.g. "Meet_Demand"
    n: int
    parts: list[tuple[np.ndarray, str, np.ndarray, np.ndarray]]
    lo: np.ndarray  # -inf = open
    hi: np.ndarray  # +inf = open
    keys: Callable[[], list[Any]]  # index of the Pyomo component, built only when asked


@dataclass
class Built:
    """A built model: its families of variables and rows and the objective (the Pyomo route
    declares its own model from it: :func:`model.lp.algebra.to_pyomo`). Its owners change it
    only through its methods: the route chosen (:meth:`on_route`), the row blocks' parts
    released once HiGHS or the extensive form holds the matrix (:meth:`release_blocks`)."""

    data: PlanData
    idx: Indexes
    num: Numbers
    var_blocks: dict[str, VarBlock] = field(default_factory=dict)
    row_blocks: dict[str, RowBlock] = field(default_factory=dict)
    cost: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (family, coefs)
    route: str = "direct"  # "direct" or "pyomo": how hand_over gives the LP to HiGHS
    route_setting: str = "Direct"  # what chose it: Auto, Pyomo or Direct (model.lp.route)
    trivially_infeasible: list[tuple[str, Any]] = field(default_factory=list)
    move_cost: float = 0.0  # the handling tie-breaker per tonne moved (add_objective)

    @property
    def n_variables(self) -> int:
        return sum(len(vb.lb) for vb in self.var_blocks.values())

    def on_route(self, route: str, setting: str) -> None:
        """How :func:`model.lp.highs.hand_over` gives this LP to HiGHS, and what chose it."""
        self.route, self.route_setting = route, setting

    def release_blocks(self) -> None:
        """Drop the row blocks' sparse parts: once stacked into HiGHS (or the extensive form)
        they are only memory (the index tables, the bounds and the keys stay)."""
        for rb in self.row_blocks.values():
            rb.parts = []


def _compact(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its text columns as categories (a few names repeated over many rows)."""
    text = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    return df.astype(dict.fromkeys(text, "category")) if len(df) else df


def index_tuples(df: pd.DataFrame, cols: Sequence[str]) -> list[tuple]:
    return list(zip(*(df[c].tolist() for c in cols), strict=True))


def _var(
    b: Built,
    family: str,
    df: pd.DataFrame,
    cols: Sequence[str],
    lb: Any = 0.0,
    ub: Any = None,
) -> None:
    """Declare a family of non-negative variables over the rows of ``df``."""
    n = len(df)
    lb_a = np.broadcast_to(np.asarray(lb if lb is not None else 0.0, dtype=float), (n,)).copy()
    ub_a = np.full(n, np.inf) if ub is None else np.asarray(ub, dtype=float).copy()
    b.var_blocks[family] = VarBlock(VARIABLE[family].pyomo, df, list(cols), lb_a, ub_a)


def _side(value: Any, n: int, open_side: float) -> np.ndarray:
    if value is None:
        return np.full(n, open_side)
    return np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()


def _add_rows(
    b: Built,
    family: str,
    n: int,
    parts: list[tuple[np.ndarray, str, np.ndarray, np.ndarray]],
    lo: Any,
    hi: Any,
    keys: Callable[[], list[Any]],
) -> None:
    """Declare a family of rows ``lo <= sum(coef * var) <= hi`` (None = open side)."""
    parts = [
        (
            np.asarray(r, dtype=np.int64),
            f,
            np.asarray(p, dtype=np.int64),
            np.asarray(c, dtype=float),
        )
        for r, f, p, c in parts
    ]
    block = RowBlock(
        CONSTRAINT[family].pyomo, n, parts, _side(lo, n, -np.inf), _side(hi, n, np.inf), keys
    )
    b.row_blocks[family] = block
    # A row no variable enters is either always true or infeasible before any solve.
    counts = np.zeros(n, dtype=np.int64)
    for r, _, _, _ in parts:
        counts += np.bincount(r, minlength=n)
    empty = np.flatnonzero(counts == 0)
    bad = empty[(block.lo[empty] > _TOL) | (block.hi[empty] < -_TOL)]
    if len(bad):
        all_keys = keys()
        b.trivially_infeasible.extend((family, all_keys[i]) for i in bad)


def _table_keys(df: pd.DataFrame, cols: Sequence[str]) -> Callable[[], list[Any]]:
    return lambda: index_tuples(df, cols)


def build_model(
    data: PlanData, f: Factors, idx: Indexes | None = None, route: str = "direct"
) -> Built:
    """Build the §2 model: variables, then each constraint family, then the objective.

    The families are sparse matrices: the direct route gives them to HiGHS. On the ``pyomo``
    route (:mod:`model.lp.route`) they are the map from each family to its positions, and HiGHS
    gets the algebraic model of :mod:`model.lp.algebra`, compiled by Pyomo.
    """
    idx = idx or index_sets(data)
    num = numbers(data, idx, f)
    b = Built(data, idx, num)
    add_variables(b)
    add_demand(b)
    add_purchases(b)
    add_stock_balance(b)
    add_stock_limits(b)
    add_caps(b)
    add_budget(b)
    add_objective(b)
    b.route = route
    return b


def add_variables(b: Built) -> None:
    """Variables, all >= 0: ``Buy[o,t]`` (lb = min(Min purchase, C_o f_ot), ub = C_o f_ot),
    ``Deliver[o,k,t]`` (x), ``ToStock[o,t]`` (y), ``Draw[L,k,t]`` (w), ``Stock[L,t]`` (s),
    ``Avoid[m,k,t]`` (a <= Max share/100 * D, §2.6), ``Shortfall[m,k,t]`` (u),
    ``BelowFloor[m,t]`` (b)."""
    idx, num = b.idx, b.num
    _var(b, "buy", idx.buy, ["o", "t"], lb=num.buy_lb, ub=num.buy_ub)
    _var(b, "deliver", idx.deliver, ["o", "k", "t"])
    _var(b, "to_stock", idx.to_stock, ["o", "t"])
    _var(b, "stock", idx.stock, ["L", "t"])
    _var(b, "draw", idx.draw, ["L", "k", "t"])
    _var(b, "avoid", idx.avoid, ["material", "sector", "t"], ub=num.avoid_ub)
    _var(b, "shortfall", idx.shortfall, ["material", "sector", "t"])
    _var(b, "below", idx.below, ["material", "t"])


def _all(
    family_table: pd.DataFrame, rows: np.ndarray, family: str, coef: float = 1.0
) -> tuple[np.ndarray, str, np.ndarray, np.ndarray]:
    """Every variable of a family, each in row ``rows[i]`` with coefficient ``coef``."""
    n = len(family_table)
    return (rows, family, np.arange(n), np.full(n, coef))


def add_demand(b: Built) -> None:
    """§2.1, for each (m,k,t) with D > 0:

    .. math:: \\sum_{o: m(o)=m} x_{okt} + \\sum_{L \\in lots(m)} w_{Lkt} + a_{mkt} + u_{mkt}
              = D_{mkt}
    """
    idx = b.idx
    parts = [
        _all(getattr(idx, f), getattr(idx, f)["d"].to_numpy(), f)
        for f in ("deliver", "draw", "avoid", "shortfall")
    ]
    _add_rows(
        b,
        "demand",
        len(idx.demand),
        parts,
        b.num.demand,
        b.num.demand,
        _table_keys(idx.demand, ["material", "sector", "t"]),
    )


def add_purchases(b: Built) -> None:
    """Definition of ``Buy`` for each available (o,t); capacity (§2.2) and minimum purchase
    (§2.3) are its bounds:

    .. math:: Buy_{ot} - \\sum_k x_{okt} - y_{ot} = 0, \\quad
              \\min(MinP_o, C_o f_{ot}) \\le Buy_{ot} \\le C_o f_{ot}
    """
    idx = b.idx
    n = len(idx.buy)
    parts = [
        _all(idx.buy, np.arange(n), "buy"),
        _all(idx.deliver, _lookup(idx.deliver, idx.buy, ["o", "t"]), "deliver", -1.0),
        _all(idx.to_stock, _lookup(idx.to_stock, idx.buy, ["o", "t"]), "to_stock", -1.0),
    ]
    _add_rows(b, "buy", n, parts, 0.0, 0.0, _table_keys(idx.buy, ["o", "t"]))


def add_stock_balance(b: Built) -> None:
    """§2.4, for each lot L and period t from the lot's start:

    .. math:: s_{Lt} - s_{L,t-1} - y_{Lt} + \\sum_k w_{Lkt} = [L = initial, t = 1] \\cdot Init_m

    (the opening stock of a lot is 0; of the ``initial`` lot, the Materials Initial stock; of
    an Initial stock row's lot, its Tonnes).
    """
    idx = b.idx
    st = idx.stock
    n = len(st)
    pos = _positions(st, ["L", "t"])
    following = pos.reindex(pd.MultiIndex.from_arrays([st["L"], st["t"] + 1]))
    has_next = following.notna().to_numpy()
    lots = idx.lots.set_index("L")
    parts = [
        _all(st, np.arange(n), "stock"),
        (
            following.to_numpy()[has_next].astype(int),
            "stock",
            np.flatnonzero(has_next),
            np.full(int(has_next.sum()), -1.0),
        ),
        _all(
            idx.to_stock,
            _lookup(idx.to_stock.rename(columns={"o": "L"}), st, ["L", "t"]),
            "to_stock",
            -1.0,
        ),
        _all(idx.draw, _lookup(idx.draw, st, ["L", "t"]), "draw"),
    ]
    rhs = np.where(st["t"].to_numpy() == 0, st["L"].map(lots["initial_t"]).to_numpy(), 0.0)
    _add_rows(b, "stock", n, parts, rhs, rhs, _table_keys(st, ["L", "t"]))


def _rows_of(table: pd.DataFrame, members: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each member (material, t), the row of ``table`` with the same (material, t):
    (row ids, positions of the members that have one)."""
    r = pd.Series(
        np.arange(len(table)), index=pd.MultiIndex.from_frame(table[["material", "t"]])
    ).reindex(pd.MultiIndex.from_frame(members[["material", "t"]]))
    ok = r.notna().to_numpy()
    return r.to_numpy()[ok].astype(int), np.flatnonzero(ok)


def add_stock_limits(b: Built) -> None:
    """§2.5 on each material's total stock, where a limit is given:

    .. math:: \\sum_{L \\in lots(m)} s_{Lt} + b_{mt} \\ge Cover_m \\sum_k D_{mkt} / d_t
              \\quad (0 \\text{ in released periods})

    .. math:: \\sum_L s_{Lt} \\le MaxStock_m, \\qquad \\sum_{L,k} w_{Lkt} \\le MaxDraw_m
    """
    idx = b.idx
    for family, table in (("floor", idx.floor), ("ceiling", idx.ceiling)):
        rows, members = _rows_of(table, idx.stock)
        parts = [(rows, "stock", members, np.ones(len(rows)))]
        if family == "floor":
            parts.append(_all(idx.below, _lookup(idx.below, table, ["material", "t"]), "below"))
            lo, hi = b.num.floor, None
        else:
            lo, hi = None, table["max_stock_t"].to_numpy()
        _add_rows(b, family, len(table), parts, lo, hi, _table_keys(table, ["material", "t"]))
    table = idx.max_draw
    rows, members = _rows_of(table, idx.draw)
    _add_rows(
        b,
        "max_draw",
        len(table),
        [(rows, "draw", members, np.ones(len(rows)))],
        None,
        table["max_draw_t"].to_numpy(),
        _table_keys(table, ["material", "t"]),
    )


def add_caps(b: Built) -> None:
    """§2.7, one row per cap instance c (group g, material set M, sector set K, period t):

    .. math:: \\sum_{o: m(o) \\in M} (1[o \\in g] - share_c) F_{ot} \\le 0

    with :math:`F_{ot} = Buy_{ot}` when the Sector is ALL, else
    :math:`F_{ot} = \\sum_{k \\in K} (x_{okt} + w_{okt})` (draws from offer o's own lot), plus
    the draws of each Initial stock lot, by the origin its row gives; a lot whose origin is
    unknown for the cap's basis (and the ``initial`` lot) is left out.
    """
    terms = b.idx.cap_terms
    parts = []
    for family in ("buy", "deliver", "draw"):
        sel = terms[terms["family"] == family]
        parts.append((sel["c"].to_numpy(), family, sel["pos"].to_numpy(), sel["coef"].to_numpy()))
    n = len(b.idx.caps)
    _add_rows(b, "caps", n, parts, None, 0.0, lambda: list(range(n)))


def add_budget(b: Built) -> None:
    """§2.8, for each period t when a budget is set:
    :math:`\\sum_o 1000\\, p_{ot} Buy_{ot} \\le Budget`."""
    idx = b.idx
    periods = idx.budget_periods
    row = (
        pd.Series(np.arange(len(periods)), index=periods).reindex(idx.buy["t"]).to_numpy()
        if periods
        else np.zeros(0)
    )
    parts = [(row.astype(int), "buy", np.arange(len(idx.buy)), b.num.buy_cost)] if periods else []
    _add_rows(
        b,
        "budget",
        len(periods),
        parts,
        None,
        b.data.budget_per_period,
        lambda: list(periods),
    )


def add_objective(b: Built) -> None:
    """Minimise purchase + holding + alternatives + shortfall penalty + below-floor penalty,
    plus a handling tie-breaker on tonnes moved into and out of stock lots:

    .. math:: \\sum_t 1000 (\\sum_o p_{ot} Buy_{ot} + \\sum_{m,L} H_m s_{Lt}
              + \\sum_{m,k} A_{km} a_{mkt} + \\sum_{m,k} P_k u_{mkt} + \\sum_m B_m b_{mt})
              + \\epsilon (\\sum_{o,t} y_{ot} + \\sum_{L,k,t} w_{Lkt})

    with :math:`\\epsilon` = :data:`MOVE_COST_SHARE` times the smallest positive cost
    coefficient (per tonne) of the other terms. Lots have no cost of their own, so
    "buy into lot A, draw lot B" ties with "deliver straight, keep lot B"; HiGHS returned the
    first for 684,000 t of the large benchmark. The tie-breaker picks the second in the same
    solve (a second, exact pass cost twice HiGHS's own time). The plan's costs exclude it.
    :math:`\\epsilon` is 0 below :data:`MOVE_COST_FROM` variables, where DESIGN §2's exact
    steps 2 and 3 choose (:mod:`model.studies.choose`).
    """
    idx, data = b.idx, b.data
    holding = idx.stock["material"].map(data.materials["holding_per_kg"]).to_numpy() * KG_PER_T
    below = idx.below["material"].map(data.materials["floor_penalty_per_kg"]).to_numpy()
    b.cost = [
        ("buy", b.num.buy_cost),
        ("stock", holding),
        ("avoid", idx.avoid["cost_per_kg"].to_numpy() * KG_PER_T),
        ("shortfall", idx.shortfall["penalty_per_kg"].to_numpy() * KG_PER_T),
        ("below", below * KG_PER_T),
    ]
    b.cost = [(family, np.asarray(coefs, dtype=float)) for family, coefs in b.cost]
    positive = [c[c > 0].min() for _, c in b.cost if (c > 0).any()]
    b.move_cost = (
        MOVE_COST_SHARE * min(positive) if positive and b.n_variables >= MOVE_COST_FROM else 0.0
    )
    b.cost += [
        ("to_stock", np.full(len(idx.to_stock), b.move_cost)),
        ("draw", np.full(len(idx.draw), b.move_cost)),
    ]


def _lookup(keys: pd.DataFrame, table: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Row positions in ``table`` of the key rows ``keys`` (all must exist)."""
    pos = _positions(table, cols)
    return pos.reindex(pd.MultiIndex.from_frame(keys[cols])).to_numpy()


__all__ = [
    "Built",
    "Indexes",
    "Numbers",
    "build_model",
    "index_sets",
    "lot_origins",
    "numbers",
    "INITIAL",
]
