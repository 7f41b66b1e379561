"""Marginal values from the LP duals, in planner words and units. Pure: no files.

Signs (HiGHS, minimisation): a row dual is d(cost)/d(right-hand side); a column's reduced cost
is d(cost)/d(the bound it sits at). So one more tonne of capacity at an offer whose ``Buy`` sits
at its upper bound changes the cost by its reduced cost (negative: a saving); a cap row
``sum (1[o in g] - share) F <= 0`` with dual y <= 0 changes the cost by ``-y * Total`` per unit
of share, i.e. loosening the cap by one percentage point saves ``-y * Total / 100``.
Ranges are HiGHS's bound ranging: the bound values between which the value holds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from model.lp.formulation import Built, Numbers
from model.lp.highs import Duals
from model.plan.results import cap_tonnes

SIGNIFICANT = 1e-7  # currency per unit: below this a dual is solver noise
# 'Sensitivity ranging' = Auto asks HiGHS for ranging up to this many variables. Ranging is one
# extra solve with the final basis per non-basic column; measured at the large benchmark
# (333,476 variables): 1.9 s, about 14 % of HiGHS's own solve, and about 125 MB, about 23 % of
# HiGHS's memory. Below this size it costs well under a second.
RANGING_AUTO_MAX_VARIABLES = 100_000
RANGING = "Sensitivity ranging"  # the setting, and the Summary row that says what was done


def ranging_wanted(setting: str, n_variables: int) -> bool:
    """Whether to ask HiGHS for ranging, by the 'Sensitivity ranging' setting."""
    if setting == "Auto":
        return n_variables <= RANGING_AUTO_MAX_VARIABLES
    return setting == "Yes"


def ranging_summary(setting: str, n_variables: int, ranged: bool) -> str:
    """The Summary row: whether 'Holds from' / 'Holds to' were worked out, and why not."""
    if ranged:
        return "Yes (Marginal values: Holds from / Holds to)"
    if setting == "No":
        return "No (Settings)"
    return (
        f"No: {n_variables:,} variables, over the {RANGING_AUTO_MAX_VARIABLES:,} 'Auto' ranges;"
        " set it to Yes on Settings (about 15 % more solve time)"
    )


COLUMNS = [
    "Kind",
    "Item",
    "Material",
    "Sector",
    "Period",
    "Value",
    "Unit",
    "Holds from",
    "Holds to",
    "Meaning",
]


def extract_marginals(b: Built, duals: Duals, num: Numbers) -> pd.DataFrame:
    """One row per capacity, minimum purchase, cap, stock floor and budget that has a value,
    and one per demand row (the marginal cost of demand)."""
    data, idx = b.data, b.idx
    values = duals.values
    cur = data.currency
    periods = np.asarray(data.periods, dtype=object)
    offers = data.offers
    frames = []

    # Capacity and minimum purchase: reduced cost of Buy at its upper / lower bound.
    d = duals.col["buy"]
    lo, hi = duals.col_range["buy"]
    buy = values["buy"]
    o, t = idx.buy["o"].to_numpy(), idx.buy["t"].to_numpy()
    at_ub = (np.abs(buy - num.buy_ub) <= 1e-6 * np.maximum(1.0, num.buy_ub)) & (d < 0)
    at_lb = (
        (num.buy_lb > 0)
        & (np.abs(buy - num.buy_lb) <= 1e-6 * np.maximum(1.0, num.buy_lb))
        & (d > 0)
    )
    for mask, kind, value, unit, meaning in (
        (
            at_ub & (np.abs(d) > SIGNIFICANT),
            "Capacity",
            -d,
            f"{cur} per t of capacity",
            "saving from one more tonne of capacity in this period",
        ),
        (
            at_lb & (np.abs(d) > SIGNIFICANT),
            "Min purchase",
            d,
            f"{cur} per t of minimum",
            "extra cost of each tonne the minimum purchase forces",
        ),
    ):
        sel = np.flatnonzero(mask)
        frames.append(
            pd.DataFrame(
                {
                    "Kind": kind,
                    "Item": offers["supplier"].to_numpy()[o[sel]],
                    "Material": offers["material"].to_numpy()[o[sel]],
                    "Sector": "",
                    "Period": periods[t[sel]],
                    "Value": value[sel],
                    "Unit": unit,
                    "Holds from": lo[sel],
                    "Holds to": hi[sel],
                    "Meaning": meaning,
                }
            )
        )

    # Caps: loosening by one percentage point.
    if len(idx.caps):
        y = duals.row["caps"]
        _, total = cap_tonnes(idx, values)
        per_point = -y * total / 100.0
        # A cap that holds its scope at 0 t (shares that leave nothing buyable) is worth
        # nothing per point of 0 t, yet it is what stops the purchases: report it per tonne
        # of headroom, the row's own dual.
        stuck = (total <= 1e-9) & (np.abs(y) > SIGNIFICANT)
        sel = np.flatnonzero((np.abs(per_point) > SIGNIFICANT) | stuck)
        caps = idx.caps.iloc[sel]
        frames.append(
            pd.DataFrame(
                {
                    "Kind": "Cap",
                    "Item": (caps["rule"] + ": " + caps["group"]).to_numpy(),
                    "Material": caps["material"].to_numpy(),
                    "Sector": caps["sector"].to_numpy(),
                    "Period": periods[caps["t"].to_numpy()],
                    "Value": np.where(stuck[sel], -y[sel], per_point[sel]),
                    "Unit": np.where(
                        stuck[sel], f"{cur} per t of headroom", f"{cur} per percentage point"
                    ),
                    "Holds from": np.nan,
                    "Holds to": np.nan,
                    "Meaning": np.where(
                        stuck[sel],
                        "nothing is bought in this cap's scope: saving from letting the group "
                        "supply one tonne beyond its share (raise the share, or add offers)",
                        "saving from loosening the cap by one point "
                        "(the cost of tightening it, for a small change)",
                    ),
                }
            )
        )

    # Stock floors and the budget.
    for family, kind, table, sign, unit, meaning in (
        (
            "floor",
            "Stock floor",
            idx.floor,
            1.0,
            f"{cur} per t of floor",
            "extra cost of one more tonne of required stock",
        ),
        (
            "budget",
            "Budget",
            None,
            -1.0,
            f"{cur} per {cur} of budget",
            "saving from one more unit of budget in this period",
        ),
    ):
        y = duals.row[family]
        if not len(y):
            continue
        lo, hi = duals.row_range[family]
        sel = np.flatnonzero(np.abs(y) > SIGNIFICANT)
        if table is not None:
            mat, per = table["material"].to_numpy()[sel], table["t"].to_numpy()[sel]
        else:
            mat, per = np.full(len(sel), ""), np.asarray(idx.budget_periods)[sel]
        frames.append(
            pd.DataFrame(
                {
                    "Kind": kind,
                    "Item": kind,
                    "Material": mat,
                    "Sector": "",
                    "Period": periods[per],
                    "Value": sign * y[sel],
                    "Unit": unit,
                    "Holds from": lo[sel],
                    "Holds to": hi[sel],
                    "Meaning": meaning,
                }
            )
        )

    # Demand: every row, the price of one more tonne.
    y = duals.row["demand"]
    lo, hi = duals.row_range["demand"]
    dem = idx.demand
    frames.append(
        pd.DataFrame(
            {
                "Kind": "Demand",
                "Item": "Demand",
                "Material": dem["material"].to_numpy(),
                "Sector": dem["sector"].to_numpy(),
                "Period": periods[dem["t"].to_numpy()],
                "Value": np.where(np.abs(y) > SIGNIFICANT, y, 0.0),
                "Unit": f"{cur} per t of demand",
                "Holds from": lo,
                "Holds to": hi,
                "Meaning": "cost of one more tonne demanded (the marginal price of supply)",
            }
        )
    )
    out = pd.concat([f for f in frames if len(f)], ignore_index=True) if frames else None
    if out is None or out.empty:
        return pd.DataFrame({c: [] for c in COLUMNS})
    for c in ("Holds from", "Holds to"):
        v = out[c].astype(float)
        out[c] = np.where(np.abs(v) >= 1e29, np.nan, v)  # HiGHS's infinity: no limit
    if b.move_cost > 0:
        # The handling tie-breaker moves a dual by a few times its size (989,999.98 for a
        # true 990,000): shown to the decimal ten times coarser than it, the noise is gone.
        # Only values per tonne: the budget's (per currency unit) and a cap's (per point of
        # a total) are on other scales.
        digits = -math.ceil(math.log10(10 * b.move_cost))
        per_t = out["Kind"].isin(["Capacity", "Min purchase", "Stock floor", "Demand"])
        value = out["Value"].astype(float)
        out["Value"] = np.where(per_t, value.round(digits) + 0.0, value)  # + 0.0: no "-0"
    return out[COLUMNS]
