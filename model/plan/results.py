"""Solved model -> the tidy tables of the plan workbook (DESIGN §4). Pure: no files.

Values below :data:`TOL` tonnes are zeroed; only non-zero rows are kept in the long tables.
Columns whose name starts with ``_`` are keys for the post-solve check, not written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model.input.data import KG_PER_T, PlanData
from model.lp.formulation import Indexes, Numbers

TOL = 1e-6  # tonnes: below this a value is noise from the solver
STOCKPILE, ALTERNATIVES, SHORTFALL = "Stockpile", "Alternatives", "Shortfall"
# The Summary rows that add up to "Total cost" (DESIGN §4).
COST_ROWS = (
    "Purchase cost",
    "Recycling cost",
    "Holding cost",
    "Alternatives cost",
    "Shortfall penalty",
    "Below-floor penalty",
)


@dataclass
class Plan:
    summary: dict[str, Any]
    sheets: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)  # sentences the Overview opens with

    def public(self, name: str) -> pd.DataFrame:
        df = self.sheets[name]
        return df[[c for c in df.columns if not c.startswith("_")]]


def bought(plan: Plan) -> pd.DataFrame:
    """Purchases and recycling of a plan in one table: Supplier, Material, Mine country,
    Refine country, Period, _t, Tonnes, Cost (a recycling stream's name stands in the Supplier
    column, its Country in both country columns)."""
    return bought_from(plan.sheets)


def bought_from(sheets: Mapping[str, pd.DataFrame], internal: bool = True) -> pd.DataFrame:
    """:func:`bought` of a plan's tables, also as read back from a plan workbook (``compare``:
    ``internal`` False, no ``_t`` column, and an empty sheet may have no columns at all)."""
    cols = ["Supplier", "Material", "Mine country", "Refine country", "Period"]
    cols += ["_t", "Tonnes", "Cost"] if internal else ["Tonnes", "Cost"]
    pur = sheets["Purchases"].rename(columns={"Total (t)": "Tonnes"})
    rec = sheets["Recycling"].rename(columns={"Stream": "Supplier"})
    if "Country" in rec.columns:
        rec = rec.assign(**{"Mine country": rec["Country"], "Refine country": rec["Country"]})
    parts = [d.reindex(columns=cols) for d in (pur, rec)]
    if not internal:  # read back: an empty sheet adds nothing (nor an all-NaN dtype)
        parts = [p for p in parts if len(p)] or [pd.DataFrame(columns=cols)]
    return pd.concat(parts, ignore_index=True)


def offer_tonnes(plan: Plan) -> pd.DataFrame:
    """Tonnes bought per offer and period, purchases and recycling alike: ``_o``, ``_t``,
    ``Period``, ``q``."""
    cols = ["_o", "_t", "Period"]
    return pd.concat(
        [
            plan.sheets["Purchases"][[*cols, "Total (t)"]].rename(columns={"Total (t)": "q"}),
            plan.sheets["Recycling"][[*cols, "Tonnes"]].rename(columns={"Tonnes": "q"}),
        ],
        ignore_index=True,
    )


PENALTY_ROWS = ("Shortfall penalty", "Below-floor penalty")  # costs that are not money spent


def penalty_parts(
    data: PlanData, idx: Indexes, values: dict[str, np.ndarray]
) -> tuple[float, float]:
    """(shortfall penalty, below-floor penalty) of a solution: the part of its cost that is
    not money spent but prices unmet needs."""
    short = values["shortfall"] @ idx.shortfall["penalty_per_kg"].to_numpy()
    floor = idx.below["material"].map(data.materials["floor_penalty_per_kg"]).to_numpy()
    return float(short * KG_PER_T), float(values["below"] @ floor * KG_PER_T)


def penalties(summary: dict[str, Any]) -> float:
    """The penalties of a plan, from its Summary rows."""
    return float(sum(summary[k] for k in PENALTY_ROWS))


def shortfall_tonnes(values: dict[str, np.ndarray]) -> float:
    """Tonnes short in a solution, solver noise below :data:`TOL` left out."""
    return float(_clean(values["shortfall"]).sum())


def _clean(v: np.ndarray) -> np.ndarray:
    return np.where(np.abs(v) < TOL, 0.0, v)


def lot_source(data: PlanData, lot: int) -> str:
    """The Allocation 'Source' of a draw from lot ``lot`` (numbered as in
    :func:`model.lp.formulation.lot_origins`)."""
    n_offers, n_mats = len(data.offers), len(data.materials)
    if lot < n_offers:
        return f"{STOCKPILE} ({data.offers.at[lot, 'supplier']})"
    if lot < n_offers + n_mats:
        return f"{STOCKPILE} (initial)"
    r = data.stock_lots.iloc[lot - n_offers - n_mats]
    named = [
        str(r["supplier"]) if isinstance(r["supplier"], str) else "",
        f"refined in {r['refine']}" if isinstance(r["refine"], str) else "",
        f"mined in {r['mine']}" if isinstance(r["mine"], str) else "",
    ]
    origin = next((x for x in named if x), f"Initial stock row {int(r['row'])}")
    return f"{STOCKPILE} (initial: {origin})"


def extract(
    data: PlanData,
    idx: Indexes,
    num: Numbers,
    values: dict[str, np.ndarray],
    objective: float,
    scenario: str | None,
    solver: str,
    solve_s: float,
    status: str = "Optimal",
) -> Plan:
    """Build every plan table from the solution ``values`` (per family, index-table order)."""
    v = _net_pass_through(idx, {f: _clean(x) for f, x in values.items()})
    periods = np.asarray(data.periods, dtype=object)
    offers = data.offers

    # Purchases and recycling, one row per (offer, period) bought.
    buy = idx.buy.assign(total=v["buy"], cost=v["buy"] * num.buy_cost)
    to_sectors = idx.deliver.assign(q=v["deliver"]).groupby(["o", "t"])["q"].sum()
    to_stock = idx.to_stock.assign(q=v["to_stock"]).set_index(["o", "t"])["q"]
    keys = pd.MultiIndex.from_frame(buy[["o", "t"]])
    buy["to_sectors"] = _clean(to_sectors.reindex(keys).fillna(0.0).to_numpy())
    buy["to_stock"] = _clean(to_stock.reindex(keys).fillna(0.0).to_numpy())
    buy = buy[buy["total"] > 0]
    o = buy["o"].to_numpy()
    is_sup = offers["kind"].to_numpy()[o] == "Suppliers"
    sup = buy[is_sup]
    os_ = sup["o"].to_numpy()
    purchases = pd.DataFrame(
        {
            "Supplier": offers["supplier"].to_numpy()[os_],
            "Material": offers["material"].to_numpy()[os_],
            "Mine country": offers["mine"].to_numpy()[os_],
            "Refine country": offers["refine"].to_numpy()[os_],
            "Period": periods[sup["t"].to_numpy()],
            "To sectors (t)": sup["to_sectors"].to_numpy(),
            "To stock (t)": sup["to_stock"].to_numpy(),
            "Total (t)": sup["total"].to_numpy(),
            "Cost": sup["cost"].to_numpy(),
            "_o": os_,
            "_t": sup["t"].to_numpy(),
        }
    )
    rec = buy[~is_sup]
    orr = rec["o"].to_numpy()
    recycling = pd.DataFrame(
        {
            "Stream": offers["supplier"].to_numpy()[orr],
            "Material": offers["material"].to_numpy()[orr],
            "Country": offers["mine"].to_numpy()[orr],
            "Period": periods[rec["t"].to_numpy()],
            "Tonnes": rec["total"].to_numpy(),
            "Cost": rec["cost"].to_numpy(),
            "_o": orr,
            "_t": rec["t"].to_numpy(),
            "_to_stock": rec["to_stock"].to_numpy(),
        }
    )

    # Allocation: where each sector's demand came from.
    parts = []
    dl = idx.deliver.assign(q=v["deliver"])
    dl = dl[dl["q"] > 0]
    parts.append(
        pd.DataFrame(
            {
                "m": dl["material"],
                "k": dl["k"],
                "t": dl["t"],
                "source": offers["supplier"].to_numpy()[dl["o"].to_numpy()],
                "q": dl["q"],
                "_offer": dl["o"],
                "_src": dl["o"],
                "_lot": False,
            }
        )
    )
    dr = idx.draw.assign(q=v["draw"])
    dr = dr[dr["q"] > 0]
    parts.append(
        pd.DataFrame(
            {
                "m": dr["material"],
                "k": dr["k"],
                "t": dr["t"],
                "source": dr["L"].map({int(x): lot_source(data, int(x)) for x in dr["L"].unique()}),
                "q": dr["q"],
                "_offer": dr["offer"],
                "_src": dr["L"],
                "_lot": True,
            }
        )
    )
    for fam, label in (("avoid", ALTERNATIVES), ("shortfall", SHORTFALL)):
        tab = getattr(idx, fam).assign(q=v[fam])
        tab = tab[tab["q"] > 0]
        parts.append(
            pd.DataFrame(
                {
                    "m": tab["material"],
                    "k": tab["sector"],
                    "t": tab["t"],
                    "source": label,
                    "q": tab["q"],
                    "_offer": -1,
                    "_src": -1,
                    "_lot": False,
                }
            )
        )
    alloc = pd.concat(parts, ignore_index=True)
    alloc = alloc.sort_values(["m", "k", "t", "source"], kind="stable")
    allocation = pd.DataFrame(
        {
            "Material": alloc["m"].to_numpy(),
            "Sector": alloc["k"].to_numpy(),
            "Period": periods[alloc["t"].to_numpy().astype(int)],
            "Source": alloc["source"].to_numpy(),
            "Tonnes": alloc["q"].to_numpy().astype(float),
            "_t": alloc["t"].to_numpy().astype(int),
            "_offer": alloc["_offer"].to_numpy().astype(int),
            "_src": alloc["_src"].to_numpy().astype(int),
            "_lot": alloc["_lot"].to_numpy().astype(bool),
        }
    )

    shortfall = allocation[allocation["Source"] == SHORTFALL][
        ["Material", "Sector", "Period", "Tonnes", "_t"]
    ].reset_index(drop=True)

    stock = _stock_table(data, idx, num, v)
    concentration = _concentration(data, idx, v)

    purchase_cost = float(purchases["Cost"].sum())
    recycling_cost = float(recycling["Cost"].sum())
    holding = float(
        (v["stock"] * idx.stock["material"].map(data.materials["holding_per_kg"]).to_numpy()).sum()
        * KG_PER_T
    )
    alt_cost = float((v["avoid"] * idx.avoid["cost_per_kg"].to_numpy()).sum() * KG_PER_T)
    short_pen, below_pen = penalty_parts(data, idx, v)
    summary: dict[str, Any] = {
        "Status": status,
        "Total cost": objective,
        "Purchase cost": purchase_cost,
        "Recycling cost": recycling_cost,
        "Holding cost": holding,
        "Alternatives cost": alt_cost,
        "Shortfall penalty": short_pen,
        "Below-floor penalty": below_pen,
        "Shortfall (t)": float(v["shortfall"].sum()),
        "Below floor (t)": float(v["below"].sum()),
        "Scenario": scenario or "Baseline",
        "Input file": data.source,
        "Solver": solver,
        "Solve time (s)": round(solve_s, 3),
        "Currency": data.currency,
    }
    sheets = {
        "Purchases": purchases.reset_index(drop=True),
        "Recycling": recycling.reset_index(drop=True),
        "Allocation": allocation.reset_index(drop=True),
        "Stock": stock,
        "Concentration": concentration,
        "Shortfall": shortfall,
    }
    return Plan(summary, sheets)


def _net_pass_through(idx: Indexes, v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Report tonnes put into an offer's lot and drawn in the same period as delivered.

    ``y[o,t] = 20, w[o,k,t] = 20`` and ``x[o,k,t] = 20`` are the same plan to the LP (same
    cost, same caps, same stock) and HiGHS may return either; a planner should not read
    "20 t bought to stock and 20 t drawn". Moving min(y, sum_k w) from (y, w) to x keeps every
    constraint and the objective, so it is done before any table is built.
    """
    draw = idx.draw
    own = (draw["offer"] >= 0).to_numpy() & (v["draw"] > 0)
    if not own.any() or not len(idx.to_stock):
        return v
    d = draw[own]
    key = pd.MultiIndex.from_arrays([d["offer"], d["t"]])
    w_sum = pd.Series(v["draw"][own], index=key).groupby(level=[0, 1]).sum()
    y = pd.Series(v["to_stock"], index=pd.MultiIndex.from_frame(idx.to_stock[["o", "t"]]))
    passed = np.minimum(y.reindex(w_sum.index).fillna(0.0), w_sum)
    passed = passed[passed > 0]
    if passed.empty:
        return v
    v = {f: x.copy() for f, x in v.items()}
    ratio = (passed / w_sum.reindex(passed.index)).reindex(key).fillna(0.0).to_numpy()
    moved = v["draw"][own] * ratio
    rows = np.flatnonzero(own)
    v["draw"][rows] -= moved
    deliver_pos = pd.Series(
        np.arange(len(idx.deliver)), index=pd.MultiIndex.from_frame(idx.deliver[["o", "k", "t"]])
    )
    target = deliver_pos.reindex(pd.MultiIndex.from_arrays([d["offer"], d["k"], d["t"]]))
    # Only draws of an offer's lot in a period it also put tonnes in move; those have a
    # delivery variable (the offer sells then). Other draws keep their values (moved 0).
    some = moved > 0
    np.add.at(v["deliver"], target.to_numpy()[some].astype(int), moved[some])
    ys = pd.Series(np.arange(len(idx.to_stock)), index=y.index).reindex(passed.index)
    v["to_stock"][ys.to_numpy().astype(int)] -= passed.to_numpy()
    return {f: _clean(x) for f, x in v.items()}


def _stock_table(
    data: PlanData, idx: Indexes, num: Numbers, v: dict[str, np.ndarray]
) -> pd.DataFrame:
    n = len(data.periods)
    mats = list(data.materials.index)
    grid = pd.MultiIndex.from_product([mats, range(n)], names=["material", "t"])

    def total(table: pd.DataFrame, values: np.ndarray) -> np.ndarray:
        s = table.assign(q=values).groupby(["material", "t"])["q"].sum()
        return s.reindex(grid).fillna(0.0).to_numpy()

    closing = total(idx.stock, v["stock"])
    bought = total(idx.to_stock, v["to_stock"])
    drawn = total(idx.draw, v["draw"])
    initial = data.materials["initial_t"].reindex(mats).to_numpy()
    opening = np.empty_like(closing)
    closing2 = closing.reshape(len(mats), n)
    opening2 = opening.reshape(len(mats), n)
    opening2[:, 0] = initial
    opening2[:, 1:] = closing2[:, :-1]
    floor = pd.Series(num.floor, index=pd.MultiIndex.from_frame(idx.floor[["material", "t"]]))
    floor = floor.reindex(grid).fillna(0.0).to_numpy()
    below = pd.Series(v["below"], index=pd.MultiIndex.from_frame(idx.below[["material", "t"]]))
    below = below.reindex(grid).fillna(0.0).to_numpy()
    dem = idx.demand.assign(q=num.demand).groupby(["material", "t"])["q"].sum()
    dem = dem.reindex(grid).fillna(0.0).to_numpy()
    days = np.tile(np.asarray(data.days), len(mats))
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(dem > 0, closing / (dem / days), np.nan)
    t = np.tile(np.arange(n), len(mats))
    return pd.DataFrame(
        {
            "Material": np.repeat(mats, n),
            "Period": np.asarray(data.periods, dtype=object)[t],
            "Opening (t)": _clean(opening),
            "Bought (t)": bought,
            "Drawn (t)": drawn,
            "Closing (t)": closing,
            "Floor (t)": _clean(floor),
            "Below floor (t)": below,
            "Days of cover": cover,
            "_t": t,
        }
    )


def cap_tonnes(idx: Indexes, v: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per cap instance: tonnes of the group, and of everyone, that the cap counts."""
    terms = idx.cap_terms
    q = np.zeros(len(terms))
    for family in ("buy", "deliver", "draw"):
        sel = (terms["family"] == family).to_numpy()
        q[sel] = v[family][terms.loc[sel, "pos"].to_numpy().astype(int)]
    c = terms["c"].to_numpy().astype(int)
    n = len(idx.caps)
    total = np.bincount(c, weights=q, minlength=n)
    group = np.bincount(c, weights=q * terms["in_group"].to_numpy(), minlength=n)
    return group, total


def _concentration(data: PlanData, idx: Indexes, v: dict[str, np.ndarray]) -> pd.DataFrame:
    caps = idx.caps
    cols = [
        "Rule",
        "Group",
        "Material",
        "Sector",
        "Period",
        "Group (t)",
        "Total (t)",
        "Share (%)",
        "Cap (%)",
        "Binding",
    ]
    if caps.empty:
        return pd.DataFrame({c: [] for c in cols})
    group, total = cap_tonnes(idx, v)
    group, total = _clean(group), _clean(total)
    share = np.divide(group, total, out=np.zeros_like(total), where=total > 0) * 100.0
    cap = caps["share"].to_numpy() * 100.0
    binding = (total > 0) & (group >= cap / 100.0 * total - 1e-6 * np.maximum(total, 1.0))
    out = pd.DataFrame(
        {
            "Rule": caps["rule"].to_numpy(),
            "Group": caps["group"].to_numpy(),
            "Material": caps["material"].to_numpy(),
            "Sector": caps["sector"].to_numpy(),
            "Period": np.asarray(data.periods, dtype=object)[caps["t"].to_numpy()],
            "Group (t)": group,
            "Total (t)": total,
            "Share (%)": share,
            "Cap (%)": cap,
            "Binding": np.where(binding, "Yes", "No"),
            "_c": np.arange(len(caps)),
            "_t": caps["t"].to_numpy(),
        }
    )
    # Like the other long tables, only rows that say something: the group received tonnes,
    # or the cap binds (a ban met at 0 t). At the large benchmark 23,000 of 35,800 instances
    # are groups that bought nothing in that period.
    return out[(out["Group (t)"] > 0) | binding].reset_index(drop=True)
