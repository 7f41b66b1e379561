"""Constraint rows and variable bounds in planner words, pointing at the workbook.

Used to explain an infeasible plan (HiGHS's irreducible infeasible subset) and, later, to label
marginal values.
"""

from __future__ import annotations

from typing import Any

from model.lp.families import keys_of
from model.lp.formulation import Built


def row_keys(b: Built, family: str) -> list[Any]:
    """The members of a constraint family of ``b``, in row order (:mod:`model.lp.families`)."""
    return keys_of(b.idx, family)


def _offer(b: Built, o: int) -> str:
    r = b.data.offers.loc[o]
    return f"{r['supplier']} / {r['material']} ({r['kind']} row {r['row']})"


def describe_row(b: Built, family: str, key: Any) -> str:
    """One constraint row as a sentence naming its sheet and row."""
    d = b.data
    p = d.periods
    mats = d.materials
    if family == "demand":
        m, k, t = key
        rows = d.demand[(d.demand["material"] == m) & (d.demand["sector"] == k)]["row"]
        where = f"Demand row {int(rows.iloc[0])}" if len(rows) else "Demand"
        extra = "" if d.allow_shortfall else " (shortfall is not allowed: Settings)"
        return f"- meet the demand of {k} for {m} in {p[t]} ({where}){extra}"
    if family == "buy":
        o, t = key
        return f"- what is bought from {_offer(b, o)} in {p[t]} goes to sectors or stock"
    if family == "stock":
        lot, t = key
        r = b.idx.lots.set_index("L").loc[lot]
        if r["offer"] >= 0:
            origin = f"stock bought from {_offer(b, r['offer'])}"
        elif r["stock_row"] >= 0:
            row = int(b.data.stock_lots["row"].iloc[int(r["stock_row"])])
            origin = f"initial stock (Initial stock row {row})"
        else:
            origin = "initial stock"
        return f"- {r['material']} {origin}: what is put in, less what is drawn, in {p[t]}"
    if family == "floor":
        m, t = key
        hard = (
            " (a hard floor: no Below-floor penalty)"
            if mats.at[m, "floor_penalty_per_kg"] != mats.at[m, "floor_penalty_per_kg"]
            else ""
        )
        return (
            f"- keep {m} stock at or above {mats.at[m, 'min_cover_days']:g} days of cover "
            f"in {p[t]} (Materials row {mats.at[m, 'row']}){hard}"
        )
    if family == "ceiling":
        m, t = key
        return (
            f"- keep {m} stock at or below its Max stock in {p[t]} "
            f"(Materials row {mats.at[m, 'row']})"
        )
    if family == "max_draw":
        m, t = key
        return f"- draw at most the Max draw of {m} in {p[t]} (Materials row {mats.at[m, 'row']})"
    if family == "caps":
        c = b.idx.caps.loc[key]
        row = d.caps.loc[d.caps["rule"] == c["rule"], "row"]
        return (
            f"- cap '{c['rule']}' (Caps row {int(row.iloc[0])}): {c['group']} at most "
            f"{c['share'] * 100:g} % of {c['material']} for {c['sector']} in {p[c['t']]}"
        )
    if family == "budget":
        return f"- spend at most the Budget per period in {p[key]} (Settings)"
    return f"- {family} {key}"


def describe_col(b: Built, family: str, i: int) -> str:
    """A variable's bound as a sentence."""
    idx, p = b.idx, b.data.periods
    if family == "buy":
        o, t = idx.buy.loc[i, "o"], idx.buy.loc[i, "t"]
        return f"- buy between the Min purchase and the Capacity of {_offer(b, o)} in {p[t]}"
    if family == "avoid":
        r = idx.avoid.loc[i]
        return (
            f"- alternatives avoid at most their Max share of {r['sector']}'s "
            f"{r['material']} demand in {p[r['t']]}"
        )
    return f"- the bounds of {family} #{i}"
