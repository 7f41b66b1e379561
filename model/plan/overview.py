"""The director's one-minute view of a plan, and the tables its charts draw. Pure: no files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.input.data import PlanData
from model.plan.results import COST_ROWS, PENALTY_ROWS, Plan, offer_tonnes, penalties
from model.plan.results import bought as all_bought

# Periods the Overview shows one by one (what to buy now, cover); later ones are summed or left
# to their sheets, so a long horizon still prints legibly on one page wide.
OVERVIEW_PERIODS = 8


@dataclass
class Overview:
    money_spent: float  # the cost rows that are money paid (purchases, recycling, holding, alts)
    penalties: float  # shortfall and below-floor penalties: not paid, they price unmet needs
    cost: pd.DataFrame  # Item, Value, Share (%), What it is
    buy: pd.DataFrame  # Supplier, Material, Refine country, one column per period, Total, Cost
    concentration: pd.DataFrame  # Material, Basis, Country, horizon share, peak share, cap
    cover: pd.DataFrame  # Material, Target (days), then days of cover at each period end
    shortfall: pd.DataFrame  # Sector, Shortfall (t), Penalty
    binding_caps: pd.DataFrame  # Rule, Group, Material, Sector, Periods binding
    why_short: pd.DataFrame  # WHY_COLUMNS: each cause of each material's shortfall per period
    at_capacity: pd.DataFrame  # Supplier, Material, Periods at capacity, value of +1 t
    mix: dict[str, pd.DataFrame]  # material -> period x refine country (t bought)
    stock: dict[str, pd.DataFrame]  # material -> period x [Closing (t), Floor (t)]


def _cap_for(data: PlanData, basis: str, country: str, material: str) -> float:
    caps = data.caps
    sel = caps[
        (caps["basis"] == basis)
        & caps["group"].isin([country, "EACH"])
        & caps["material"].isin([material, "EACH"])
        & (caps["sector"] == "ALL")
    ]
    return float(sel["max_share"].min() * 100) if len(sel) else np.nan


def build_overview(data: PlanData, plan: Plan) -> Overview:
    s = plan.summary
    total = s["Total cost"]
    cost = pd.DataFrame(
        {"Item": ["Total cost", *COST_ROWS], "Value": [total, *(s[k] for k in COST_ROWS)]}
    )
    cost["Share (%)"] = cost["Value"] / total * 100 if total else np.nan
    cost["What it is"] = [
        "",
        *(
            "penalty: not spent, it prices unmet needs" if k in PENALTY_ROWS else "money spent"
            for k in COST_ROWS
        ),
    ]
    penalty_cost = penalties(s)

    bought = all_bought(plan).rename(columns={"Tonnes": "t_"})
    periods = list(data.periods)
    conc_rows = []
    for m in data.materials.index:
        b = bought[bought["Material"] == m]
        if b["t_"].sum() <= 0:
            continue
        for basis in ("Mine country", "Refine country"):
            by = b.groupby(basis)["t_"].sum() / b["t_"].sum() * 100
            top = by.idxmax()
            # groupby + unstack: pivot_table's result, at a fifth of its cost
            per = b.groupby(["_t", basis])["t_"].sum().unstack(fill_value=0.0)
            peak = (per[top] / per.sum(axis=1) * 100).max()
            conc_rows.append((m, basis, top, by[top], peak, _cap_for(data, basis, top, m)))
    concentration = pd.DataFrame(
        conc_rows,
        columns=[
            "Material",
            "Basis",
            "Largest country",
            "Share over horizon (%)",
            "Highest period share (%)",
            "Cap (%)",
        ],
    )

    st = plan.sheets["Stock"]
    cover = st.pivot(index="Material", columns="Period", values="Days of cover")
    cover = cover.reindex(index=list(data.materials.index), columns=periods[:OVERVIEW_PERIODS])
    cover = cover.reset_index()
    cover.insert(1, "Target (days)", cover["Material"].map(data.materials["min_cover_days"]))

    sf = plan.sheets["Shortfall"]
    # Each row at its own penalty: the Demand row's where given, else the sector's.
    own = data.demand.drop_duplicates(["material", "sector"]).set_index(["material", "sector"])
    own = own["penalty_per_kg"].reindex(pd.MultiIndex.from_frame(sf[["Material", "Sector"]]))
    per_kg = own.to_numpy()
    per_kg = np.where(np.isnan(per_kg), sf["Sector"].map(data.sectors["penalty_per_kg"]), per_kg)
    sf = sf.assign(_penalty=sf["Tonnes"].to_numpy() * 1000 * per_kg)
    short = sf.groupby("Sector")[["Tonnes", "_penalty"]].sum()
    shortfall = pd.DataFrame({"Sector": list(data.sectors.index)})
    shortfall["Shortfall (t)"] = shortfall["Sector"].map(short["Tonnes"]).fillna(0.0)
    shortfall["Penalty"] = shortfall["Sector"].map(short["_penalty"]).fillna(0.0)

    mv = plan.sheets.get("Marginal values")
    if mv is None:  # a hedge: what binds, read off the plan, without what relaxing it saves
        mv = binding_from_plan(data, plan)
    conc = plan.sheets["Concentration"]
    keys = ["Rule", "Group", "Material", "Sector"]
    # A cap binds where the group is at its share, or where its marginal value is not zero
    # (a cap that leaves a material unbuyable holds the plan at "buy nothing": 0 t of 0 t,
    # not "at the cap" to the eye, yet it is what causes the shortfall).
    at_cap = conc.loc[conc["Binding"] == "Yes", [*keys, "Period"]]
    capv = mv[mv["Kind"] == "Cap"]
    valued = pd.DataFrame(columns=[*keys, "Period", "Value"])
    if len(capv):
        item = capv["Item"].str.split(": ", n=1, expand=True)
        valued = capv.assign(Rule=item[0], Group=item[1])[[*keys, "Period", "Value", "Unit"]]
    both = pd.concat([at_cap, valued[[*keys, "Period"]]]).drop_duplicates()
    binding_caps = both.groupby(keys, sort=False).size().rename("Periods binding").reset_index()
    if len(valued):
        per_point = valued[valued["Unit"].str.endswith("percentage point")]
        point = per_point.groupby(keys, sort=False)["Value"].mean()
        point = point.rename("Average value of +1 point")
        binding_caps = binding_caps.merge(point.reset_index(), on=keys, how="left")
    why_short = shortfall_causes(data, plan)

    cols = ["Supplier", "Material", "Refine country"]
    wide = (
        bought.pivot_table(index=cols, columns="Period", values="t_", aggfunc="sum", sort=False)
        .reindex(columns=periods)
        .fillna(0.0)
    )
    wide.columns = [f"{p} (t)" for p in wide.columns]
    tonnes = wide.sum(axis=1)
    if len(periods) > OVERVIEW_PERIODS:  # the next periods, then the rest in one column
        later = wide.iloc[:, OVERVIEW_PERIODS:].sum(axis=1)
        wide = wide.iloc[:, :OVERVIEW_PERIODS].assign(**{"Later (t)": later})
    wide["Total (t)"] = tonnes
    per_offer = bought.groupby(["Supplier", "Material"])["Cost"].sum().reset_index()
    wide = wide.reset_index().merge(per_offer, on=["Supplier", "Material"], how="left")
    wide["Average price (per kg)"] = wide["Cost"] / (wide["Total (t)"] * 1000).where(
        wide["Total (t)"] > 0
    )
    buy = wide.sort_values("Cost", ascending=False).reset_index(drop=True)

    if len(mv):
        capv = mv[mv["Kind"] == "Capacity"]
        at_capacity = (
            capv.groupby(["Item", "Material"], sort=False)
            .agg(
                **{
                    "Periods at capacity": ("Value", "size"),
                    "Average value of +1 t": ("Value", "mean"),
                }
            )
            .reset_index()
            .rename(columns={"Item": "Supplier"})
        )
        at_capacity = at_capacity.sort_values("Average value of +1 t", ascending=False)
    else:
        at_capacity = pd.DataFrame(
            columns=["Supplier", "Material", "Periods at capacity", "Average value of +1 t"]
        )

    mix, stock = {}, {}
    for m in data.materials.index:
        b = bought[bought["Material"] == m]
        table = (
            b.groupby(["Period", "Refine country"])["t_"]
            .sum()
            .unstack(fill_value=0.0)
            .reindex(periods)
            .fillna(0.0)
        )
        table.columns.name = "Refine country"
        mix[m] = table.reset_index()
        sm = st[st["Material"] == m].set_index("Period")[["Closing (t)", "Floor (t)"]]
        stock[m] = sm.reindex(periods).reset_index()
    return Overview(
        total - penalty_cost,
        penalty_cost,
        cost,
        buy,
        concentration,
        cover,
        shortfall,
        binding_caps,
        why_short,
        at_capacity.reset_index(drop=True),
        mix,
        stock,
    )


MARGINAL_KEYS = ["Kind", "Item", "Material", "Sector", "Period", "Value", "Unit"]


def binding_from_plan(data: PlanData, plan: Plan) -> pd.DataFrame:
    """For a plan without marginal values (a hedge's copy: the extensive form's duals price the
    whole scenario tree): the caps at their share and the offers bought at capacity, read off
    the plan's own tables, in the shape of ``Marginal values`` with every ``Value`` blank."""
    conc = plan.sheets["Concentration"]
    caps = conc[conc["Binding"] == "Yes"]
    rows = [
        ("Cap", f"{r.Rule}: {r.Group}", r.Material, r.Sector, r.Period, np.nan, "per point")
        for r in caps.itertuples()
    ]
    offers = data.offers
    bought = offer_tonnes(plan)
    cap_t = offers["capacity_t"].reindex(bought["_o"]).to_numpy()
    full = bought[bought["q"].to_numpy() >= cap_t - 1e-6 * np.maximum(1.0, cap_t)]
    rows += [
        (
            "Capacity",
            offers.at[o, "supplier"],
            offers.at[o, "material"],
            None,
            period,
            np.nan,
            "per t of capacity",
        )
        for o, period in zip(full["_o"], full["Period"], strict=True)
    ]
    return pd.DataFrame(rows, columns=MARGINAL_KEYS)


WHY_COLUMNS = [
    "Material",
    "Period",
    "Unmet",
    "Tonnes",
    "Cause",
    "What to change",
    "Saving per unit",
    "Unit",
]


def shortfall_causes(data: PlanData, plan: Plan) -> pd.DataFrame:
    """Why each material is short, or its stock below its floor, in each period, from the
    marginal values of the rows that hold supply back: caps (the share; for stock, caps on
    purchases only), offers at capacity (in that period or before, when stock could have been
    built), the budget, a hard stock floor (for shortfall). ``Value`` is what relaxing
    the row by one unit would save (per percentage point, tonne or currency unit), so the
    first cause listed for a material and period is the one worth most to change."""
    sf = plan.sheets["Shortfall"]
    st = plan.sheets["Stock"]
    below = st[st["Below floor (t)"] > 1e-6]
    mv = plan.sheets.get("Marginal values")
    if sf.empty and below.empty:
        return pd.DataFrame(columns=WHY_COLUMNS)
    mv = mv if mv is not None else binding_from_plan(data, plan)
    order = {p: i for i, p in enumerate(data.periods)}
    # What is unmet, per material and period: shortfall (by the sectors short), then stock
    # below its floor (only caps on purchases can hold stock-building back).
    short = sf.groupby(["Material", "Period"], sort=False)["Tonnes"].sum()
    sectors = sf.groupby(["Material", "Period"], sort=False)["Sector"].agg(set).to_dict()
    unmet = [(m, p, q, "short") for (m, p), q in short.items()] + [
        (m, p, q, "below its floor")
        for m, p, q in zip(
            below["Material"], below["Period"], below["Below floor (t)"], strict=True
        )
    ]
    caps = data.caps.set_index("rule")
    offers = data.offers.set_index(["supplier", "material"])
    cur = data.currency
    prices = data.offers.groupby("material")["price_per_kg"].min().to_dict()
    daily_demand = {
        (m, t): q / data.days[t]
        for (m, t), q in data.demand.groupby(["material", "t"])["tonnes"].sum().items()
    }
    rows = []
    for m, p, tonnes, what in unmet:
        if tonnes <= 0:
            continue
        t = order[p]
        causes = []
        here = mv[mv["Period"] == p]
        who = sectors.get((m, p), set()) if what == "short" else set()
        for r in here[(here["Kind"] == "Cap") & here["Material"].isin([m, "ALL"])].itertuples():
            if r.Sector not in ("ALL", *who):
                continue
            rule, group = str(r.Item).split(": ", 1)
            row = int(caps.at[rule, "row"]) if rule in caps.index else None
            causes.append(
                (
                    f"cap '{rule}' holds {group} to its share"
                    + (f" of {r.Sector}" if r.Sector != "ALL" else ""),
                    f"Caps row {row}: Max share (%)" if row else "Caps: Max share (%)",
                    r.Value,
                    str(r.Unit),
                )
            )
        before = mv[mv["Period"].map(order).le(t)]
        full = before[(before["Kind"] == "Capacity") & (before["Material"] == m)]
        for (supplier, mat), g in full.groupby(["Item", "Material"], sort=False):
            o = offers.loc[(supplier, mat)] if (supplier, mat) in offers.index else None
            where = f"{o['kind']} row {int(o['row'])}" if o is not None else "Suppliers"
            when = "in " + p if (g["Period"] == p).any() else "before " + p
            causes.append(
                (
                    f"{supplier} sells all it can {when}",
                    f"{where}: Capacity (t per period), or add an offer",
                    g["Value"].max(),
                    f"{cur} per t",
                )
            )
        budget = before[before["Kind"] == "Budget"]
        if len(budget):
            causes.append(
                (
                    "the budget is spent",
                    "Settings: Budget per period",
                    budget["Value"].max(),
                    f"{cur} per {cur}",
                )
            )
        floor = here[(here["Kind"] == "Stock floor") & (here["Material"] == m)]
        hard = np.isnan(data.materials.at[m, "floor_penalty_per_kg"])
        if what == "short" and len(floor) and hard:
            # The floor's marginal value is per tonne of floor; the row to change is in days
            # of cover, and one day is the period's daily demand in tonnes.
            daily = daily_demand.get((m, t), np.nan)
            causes.append(
                (
                    f"the hard stock floor of {m} keeps stock that could be used",
                    f"Materials row {int(data.materials.at[m, 'row'])}: Min cover (days), "
                    "or give a Below-floor penalty",
                    floor["Value"].max() * daily,
                    f"{cur} per day of cover",
                )
            )
        cheapest = prices.get(m, np.inf)
        penalty = data.materials.at[m, "floor_penalty_per_kg"] if what != "short" else np.nan
        if np.isfinite(penalty) and penalty < cheapest:
            # Not held back: buying the missing stock costs more than being below the floor.
            causes.append(
                (
                    f"the below-floor penalty ({penalty:g}/kg) is under the cheapest price of"
                    f" {m} ({cheapest:g}/kg): the plan pays the penalty rather than buy",
                    f"Materials row {int(data.materials.at[m, 'row'])}: Below-floor penalty"
                    " (per kg per period)",
                    np.nan,
                    "",
                )
            )
        if not causes:
            causes.append(
                (
                    f"nothing more of {m} can be had in {p}",
                    f"Suppliers: add an offer of {m} available in {p}",
                    np.nan,
                    "",
                )
            )
        causes.sort(key=lambda c: -(c[2] if np.isfinite(c[2]) else 0.0))
        for i, (cause, change, value, unit) in enumerate(causes):
            # The tonnes once per material and period: the column adds up to what is unmet.
            rows.append((m, p, what, tonnes if i == 0 else np.nan, cause, change, value, unit))
    return pd.DataFrame(rows, columns=WHY_COLUMNS)
