"""The director's one-minute view of a plan, and the tables its charts draw. Pure: no files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.data import PlanData
from model.results import COST_ROWS, Plan
from model.results import bought as all_bought


@dataclass
class Overview:
    cost: pd.DataFrame  # Item, Value, Share (%)
    buy: pd.DataFrame  # Supplier, Material, Refine country, one column per period, Total, Cost
    concentration: pd.DataFrame  # Material, Basis, Country, horizon share, peak share, cap
    cover: pd.DataFrame  # Material x period: days of cover at period end
    shortfall: pd.DataFrame  # Sector, Shortfall (t), Penalty
    binding_caps: pd.DataFrame  # Rule, Group, Material, Sector, Periods binding
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
    cover = cover.reindex(index=list(data.materials.index), columns=periods)
    cover = cover.reset_index()

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
    conc = plan.sheets["Concentration"]
    bind = conc[conc["Binding"] == "Yes"]
    keys = ["Rule", "Group", "Material", "Sector"]
    binding_caps = bind.groupby(keys, sort=False).size().rename("Periods binding").reset_index()
    capv = mv[mv["Kind"] == "Cap"] if mv is not None else pd.DataFrame()
    if len(capv):
        item = capv["Item"].str.split(": ", n=1, expand=True)
        point = (
            capv.assign(Rule=item[0], Group=item[1])
            .groupby(keys, sort=False)["Value"]
            .mean()
            .rename("Average value of +1 point")
        )
        binding_caps = binding_caps.merge(point.reset_index(), on=keys, how="left")

    cols = ["Supplier", "Material", "Refine country"]
    wide = (
        bought.pivot_table(index=cols, columns="Period", values="t_", aggfunc="sum", sort=False)
        .reindex(columns=periods)
        .fillna(0.0)
    )
    wide.columns = [f"{p} (t)" for p in wide.columns]
    wide["Total (t)"] = wide.sum(axis=1)
    per_offer = bought.groupby(["Supplier", "Material"])["Cost"].sum().reset_index()
    wide = wide.reset_index().merge(per_offer, on=["Supplier", "Material"], how="left")
    buy = wide.sort_values("Cost", ascending=False).reset_index(drop=True)

    if mv is not None and len(mv):
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
        cost,
        buy,
        concentration,
        cover,
        shortfall,
        binding_caps,
        at_capacity.reset_index(drop=True),
        mix,
        stock,
    )
