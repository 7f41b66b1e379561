"""``ree-plan compare`` (DESIGN §6): two plans side by side — what moved when a planner changed a
cap or a probability. Pure: plans in (:class:`model.input.plan_book.PlanBook`), tables out.

Rows present in one plan only count as 0 in the other. Plans over different periods or
materials are compared on what they share, with a warning naming the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model.input.plan_book import PlanBook
from model.plan.results import COST_ROWS, bought_from

TOL = 1e-6  # tonnes: a change below this is solver noise, not a change
TOP = 12  # purchases listed on the Overview


@dataclass
class Comparison:
    a: str  # the plans' file names
    b: str
    summary: pd.DataFrame  # Item, A, B, Change
    purchases: pd.DataFrame  # Supplier, Material, Period, A (t), B (t), Change (t), A cost, B cost
    stock: pd.DataFrame  # Material, Period, A closing (t), B closing (t), Change (t)
    shortfall: pd.DataFrame  # Material, Sector, Period, A (t), B (t)
    concentration: pd.DataFrame  # Basis, Material, Period, A/B largest and share, Cap (%)
    top: pd.DataFrame = field(default_factory=pd.DataFrame)  # the purchases that moved most
    lines: list[str] = field(default_factory=list)  # the Overview's sentences
    warnings: list[str] = field(default_factory=list)


def _shared(a: PlanBook, b: PlanBook, what: str, col: str, warnings: list[str]) -> set[Any]:
    """The values of ``col`` both plans have (over their Stock sheets), warning of the rest."""
    va = set(a.sheets["Stock"][col].dropna()) if len(a.sheets["Stock"]) else set()
    vb = set(b.sheets["Stock"][col].dropna()) if len(b.sheets["Stock"]) else set()
    for plan, only in ((a, va - vb), (b, vb - va)):
        if only:
            warnings.append(
                f"{what} only in {plan.name}, left out of the comparison: "
                + ", ".join(str(v) for v in sorted(only, key=str))
            )
    return va & vb if (va and vb) else va | vb


def _side_by_side(
    a: pd.DataFrame, b: pd.DataFrame, keys: list[str], values: dict[str, tuple[str, str]]
) -> pd.DataFrame:
    """Outer join on ``keys``; ``values`` maps a source column to its (A, B) names; a row in
    one plan only is 0 in the other."""
    left = a.groupby(keys, sort=False)[list(values)].sum() if len(a) else None
    right = b.groupby(keys, sort=False)[list(values)].sum() if len(b) else None
    empty = pd.DataFrame(columns=[*keys, *(n for pair in values.values() for n in pair)])
    if left is None and right is None:
        return empty
    none = pd.DataFrame(
        columns=list(values), index=pd.MultiIndex.from_arrays([[]] * len(keys), names=keys)
    )
    left = left if left is not None else none
    right = right if right is not None else none
    both = left.rename(columns={k: v[0] for k, v in values.items()}).join(
        right.rename(columns={k: v[1] for k, v in values.items()}), how="outer"
    )
    both = both.apply(pd.to_numeric, errors="coerce").fillna(0.0)
    return both.reset_index()


def compare_plans(a: PlanBook, b: PlanBook) -> Comparison:
    warnings: list[str] = []
    periods = _shared(a, b, "periods", "Period", warnings)
    materials = _shared(a, b, "materials", "Material", warnings)

    def keep(df: pd.DataFrame) -> pd.DataFrame:
        if not len(df):
            return df
        return df[df["Period"].isin(periods) & df["Material"].isin(materials)]

    order = _period_order(a, b)

    # Summary: every item both have; numbers get their change.
    items = [k for k in a.summary if k in b.summary]
    rows = []
    for k in items:
        va, vb = a.summary[k], b.summary[k]
        change = (
            vb - va
            if isinstance(va, int | float)
            and isinstance(vb, int | float)
            and not isinstance(va, bool)
            else None
        )
        rows.append({"Item": k, "A": va, "B": vb, "Change": change})
    summary = pd.DataFrame(rows, columns=["Item", "A", "B", "Change"])

    purchases = _side_by_side(
        keep(bought_from(a.sheets, internal=False)),
        keep(bought_from(b.sheets, internal=False)),
        ["Supplier", "Material", "Period"],
        {"Tonnes": ("A (t)", "B (t)"), "Cost": ("A cost", "B cost")},
    )
    purchases["Change (t)"] = purchases["B (t)"] - purchases["A (t)"]
    purchases = purchases[
        ["Supplier", "Material", "Period", "A (t)", "B (t)", "Change (t)", "A cost", "B cost"]
    ]
    purchases = _sorted(purchases, order, ["Period", "Material", "Supplier"])

    stock = _side_by_side(
        keep(a.sheets["Stock"]),
        keep(b.sheets["Stock"]),
        ["Material", "Period"],
        {"Closing (t)": ("A closing (t)", "B closing (t)")},
    )
    stock["Change (t)"] = stock["B closing (t)"] - stock["A closing (t)"]
    stock = _sorted(stock, order, ["Material", "Period"])

    shortfall = _side_by_side(
        keep(a.sheets["Shortfall"]),
        keep(b.sheets["Shortfall"]),
        ["Material", "Sector", "Period"],
        {"Tonnes": ("A (t)", "B (t)")},
    )
    shortfall = _sorted(shortfall, order, ["Material", "Sector", "Period"])

    concentration = _concentration(a, b, keep, order)
    comparison = Comparison(
        a.name, b.name, summary, purchases, stock, shortfall, concentration, warnings=warnings
    )
    comparison.top = top_changes(comparison)
    comparison.lines = _sentences(comparison, a, b)
    return comparison


def _period_order(a: PlanBook, b: PlanBook) -> dict[Any, int]:
    seen: dict[Any, int] = {}
    for p in (a, b):
        for period in p.sheets["Stock"].get("Period", pd.Series(dtype=object)):
            seen.setdefault(period, len(seen))
    return seen


def _sorted(df: pd.DataFrame, order: dict[Any, int], keys: list[str]) -> pd.DataFrame:
    if not len(df):
        return df.reset_index(drop=True)
    rank = df["Period"].map(order).fillna(len(order))
    cols = [("_rank" if k == "Period" else k) for k in keys]
    return (
        df.assign(_rank=rank)
        .sort_values(cols, kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _largest(p: PlanBook, keep: Any) -> pd.DataFrame:
    """Per basis, material and period: the largest group's share of what the plan bought."""
    bought = keep(bought_from(p.sheets, internal=False))
    out = []
    for basis in ("Mine country", "Refine country", "Supplier"):
        if not len(bought):
            break
        by = bought.groupby(["Material", "Period", basis])["Tonnes"].sum()
        total = bought.groupby(["Material", "Period"])["Tonnes"].sum()
        share = (by / total.reindex(by.index.droplevel(2)).to_numpy()).dropna()
        if share.empty:
            continue
        top = share.groupby(level=[0, 1]).idxmax()
        for (m, t), key in top.items():
            out.append((basis, m, t, key[2], float(share[key]) * 100.0))
    return pd.DataFrame(out, columns=["Basis", "Material", "Period", "Largest", "Share (%)"])


def _concentration(a: PlanBook, b: PlanBook, keep: Any, order: dict[Any, int]) -> pd.DataFrame:
    la, lb = _largest(a, keep), _largest(b, keep)
    keys = ["Basis", "Material", "Period"]
    both = la.merge(lb, on=keys, how="outer", suffixes=(" A", " B"))
    both = both.rename(
        columns={
            "Largest A": "A largest",
            "Share (%) A": "A (%)",
            "Largest B": "B largest",
            "Share (%) B": "B (%)",
        }
    )
    # The tightest cap either plan shows for that group (rows of its Concentration sheet).
    caps = pd.concat([a.sheets["Concentration"], b.sheets["Concentration"]], ignore_index=True)
    cap = []
    for r in both.itertuples(index=False):
        groups = {g for g in (r[3], r[5]) if isinstance(g, str)}
        if not len(caps):
            cap.append(np.nan)
            continue
        sel = caps[
            caps["Group"].isin(groups)
            & caps["Material"].isin([r[1], "ALL"])
            & (caps["Period"] == r[2])
        ]
        cap.append(
            float(pd.to_numeric(sel["Cap (%)"], errors="coerce").min()) if len(sel) else np.nan
        )
    both["Cap (%)"] = cap
    both = both[[*keys, "A largest", "A (%)", "B largest", "B (%)", "Cap (%)"]]
    both[["A (%)", "B (%)"]] = both[["A (%)", "B (%)"]].fillna(0.0)
    return _sorted(both, order, ["Basis", "Material", "Period"])


def _money(v: float, currency: str) -> str:
    return f"{v:,.0f} {currency}".strip()


def _sentences(c: Comparison, a: PlanBook, b: PlanBook) -> list[str]:
    cur = a.currency or b.currency
    s = c.summary.set_index("Item")
    lines = []
    if "Total cost" in s.index and s.at["Total cost", "Change"] is not None:
        change = float(s.at["Total cost", "Change"])
        parts = [
            (k, float(s.at[k, "Change"]))
            for k in COST_ROWS
            if k in s.index
            and s.at[k, "Change"] is not None
            and abs(float(s.at[k, "Change"])) >= 0.5
        ]
        parts.sort(key=lambda kv: -abs(kv[1]))
        how = "rises" if change > 0 else "falls" if change < 0 else "is unchanged"
        text = f"From {c.a} to {c.b}, the total cost {how}"
        if change:
            text += f" by {_money(abs(change), cur)}"
            text += f" ({_money(float(s.at['Total cost', 'A']), cur)} -> "
            text += f"{_money(float(s.at['Total cost', 'B']), cur)})"
        if parts:
            text += "; largest parts: " + ", ".join(
                f"{k.lower()} {'+' if v > 0 else '-'}{_money(abs(v), cur)}" for k, v in parts[:3]
            )
        lines.append(text + ".")
    moved = c.purchases[c.purchases["Change (t)"].abs() > TOL]
    if len(moved):
        lines.append(
            f"{len(moved)} purchase{'s' if len(moved) != 1 else ''} (offer and period) changed; "
            "the largest changes are listed below."
        )
    else:
        lines.append("No purchase changed.")
    short_a = float(c.shortfall["A (t)"].sum()) if len(c.shortfall) else 0.0
    short_b = float(c.shortfall["B (t)"].sum()) if len(c.shortfall) else 0.0
    if abs(short_b - short_a) > TOL:
        lines.append(f"Shortfall: {short_a:,.1f} t -> {short_b:,.1f} t.")
    elif short_a > TOL:
        lines.append(f"Shortfall unchanged at {short_a:,.1f} t.")
    else:
        lines.append("Neither plan leaves demand unmet.")
    stock_moved = c.stock[c.stock["Change (t)"].abs() > TOL]
    if len(stock_moved):
        lines.append(
            f"Closing stock differs in {len(stock_moved)} material-period"
            f"{'s' if len(stock_moved) != 1 else ''} (sheet Stock)."
        )
    return lines


def top_changes(c: Comparison, n: int = TOP) -> pd.DataFrame:
    """The purchases that changed most, largest change in tonnes first."""
    moved = c.purchases[c.purchases["Change (t)"].abs() > TOL]
    return moved.reindex(moved["Change (t)"].abs().sort_values(ascending=False).index).head(n)
