"""Seeded workbooks of every kind a planner writes, for the command x workbook matrix.

``kinds(seed)`` draws one workbook's features; ``rows(seed)`` its sheets. The features cover
what broke commands before (issue 18): shortfall or stock below its floor in the quiet world,
hard floors, scenarios whose stress test is infeasible, scenarios with and without
probabilities, one scenario or many, the Initial stock sheet, a budget, percentages typed as
text, and sweeps whose points are all infeasible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

COUNTRIES = ["China", "Australia", "USA", "Malaysia", "Myanmar"]


def kinds(seed: int) -> dict[str, Any]:
    """The features of generated workbook ``seed`` (each drawn, so every pair turns up)."""
    rng = np.random.default_rng(seed)
    return {
        "materials": int(rng.integers(1, 4)),
        "sectors": int(rng.integers(1, 4)),
        "periods": int(rng.integers(3, 6)),
        "scarce": bool(rng.random() < 0.5),  # capacity below demand: shortfall
        "allow_shortfall": bool(rng.random() < 0.75),
        "hard_floor": bool(rng.random() < 0.4),
        "cover": bool(rng.random() < 0.6),
        "initial_sheet": bool(rng.random() < 0.4),
        "budget": bool(rng.random() < 0.25),
        "percent_text": bool(rng.random() < 0.5),
        "caps": bool(rng.random() < 0.7),
        "scenarios": int(rng.choice([0, 1, 1, 2, 4])),
        "probabilities": bool(rng.random() < 0.6),
        "recycling": bool(rng.random() < 0.5),
        # drawn apart, so that the features above stay what they were before Risks existed
        "risks": bool(np.random.default_rng([seed, 7]).random() < 0.5),
        "rng": rng,
    }


def rows(seed: int) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """(sheets, features) of generated workbook ``seed``."""
    k = kinds(seed)
    rng = k.pop("rng")
    periods = [f"2027-Q{i + 1}" if i < 4 else f"2028-Q{i - 3}" for i in range(k["periods"])]
    mats = [f"M{i + 1}" for i in range(k["materials"])]
    secs = [f"S{i + 1}" for i in range(k["sectors"])]
    out: dict[str, list[dict[str, Any]]] = {}
    settings = [{"Setting": "Allow shortfall", "Value": "Yes" if k["allow_shortfall"] else "No"}]
    out["Periods"] = [{"Period": p, "Days": 91} for p in periods]
    out["Sectors"] = [
        {"Sector": s, "Shortfall penalty (per kg)": float(rng.choice([150, 400, 2000]))}
        for s in secs
    ]
    demand = []
    need = {m: 0.0 for m in mats}
    for s in secs:
        for m in mats:
            if rng.random() < 0.8 or (s == secs[0]):
                q = [float(rng.integers(20, 200)) for _ in periods]
                need[m] = max(need[m], sum(q) / len(q) * len(secs))
                demand.append({"Sector": s, "Material": m, **dict(zip(periods, q, strict=True))})
    out["Demand"] = demand
    materials, lots = [], []
    for m in mats:
        row: dict[str, Any] = {"Material": m}
        if k["cover"]:
            row["Min cover (days)"] = float(rng.choice([15, 30, 60]))
            if not k["hard_floor"]:
                row["Below-floor penalty (per kg per period)"] = float(rng.choice([5, 50, 500]))
        row["Holding cost (per kg per period)"] = float(rng.choice([0.5, 1, 2]))
        stock = float(rng.integers(0, 150))
        if stock > 0 and k["initial_sheet"]:
            c = str(rng.choice(COUNTRIES[:3]))
            lots.append({"Material": m, "Tonnes": stock, "Mine country": c, "Refine country": c})
        elif stock > 0:
            row["Initial stock (t)"] = stock
        materials.append(row)
    out["Materials"] = materials
    if lots:
        out["Initial stock"] = lots
    suppliers = []
    for m in mats:
        n = int(rng.integers(2, 5))
        share = 0.5 if k["scarce"] else 1.6
        for j in range(n):
            mine = str(rng.choice(COUNTRIES))
            refine = "China" if j == 0 else str(rng.choice(COUNTRIES))
            suppliers.append(
                {
                    "Supplier": f"Sup{j + 1}",
                    "Material": m,
                    "Mine country": mine,
                    "Refine country": refine,
                    "Capacity (t per period)": round(need[m] * share * (1.5 if j == 0 else 1) / n),
                    # Ties on purpose: equal prices give many equally cheap plans.
                    "Price (per kg)": float(rng.choice([50, 60, 60, 80])),
                }
            )
    out["Suppliers"] = suppliers
    if k["recycling"]:
        out["Recycling"] = [
            {
                "Stream": "Scrap",
                "Material": mats[0],
                "Country": "Japan",
                "Capacity (t per period)": 10,
                "Cost (per kg)": 70,
            }
        ]
    share = "65%" if k["percent_text"] else 65
    if k["caps"]:
        out["Caps"] = [
            {
                "Rule": "Refine cap",
                "Basis": "Refine country",
                "Group": "EACH",
                "Material": "EACH",
                "Sector": "ALL",
                "Max share (%)": share,
            }
        ]
        if len(secs) > 1:
            out["Caps"].append(
                {
                    "Rule": "No China for S2",
                    "Basis": "Refine country",
                    "Group": "China",
                    "Material": "ALL",
                    "Sector": "S2",
                    "Max share (%)": 0,
                }
            )
    scen = []
    names = ["Embargo", "Surge", "Outage", "Price spike"][: k["scenarios"]]
    for i, name in enumerate(names):
        start = periods[min(len(periods) - 1, 1 + i % 2)]
        effect = [
            ("Capacity", "Refine country", "China", -100),
            ("Demand", "Sector", "ALL", 50),
            ("Capacity", "Supplier", "Sup2", -100),
            ("Price", "Material", "ALL", 80),
        ][i]
        row = {
            "Scenario": name,
            "Effect": effect[0],
            "Basis": effect[1],
            "Target": effect[2],
            "Change (%)": f"{effect[3]}%" if k["percent_text"] else effect[3],
            "First period": start,
            "Last period": periods[-1],
        }
        if k["probabilities"]:
            row["Probability (%)"] = float(rng.choice([5, 10, 20]))
        scen.append(row)
    if scen:
        out["Scenarios"] = scen
    if k["risks"]:  # DESIGN §7
        pct = (lambda v: f"{v}%") if k["percent_text"] else (lambda v: v)
        out["Risks"] = [
            {
                "Risk": "China stops",
                "Effect": "Capacity",
                "Basis": "Refine country",
                "Target": "China",
                "Change (%)": pct(-100),
                "Chance per year (%)": pct(30),
                "Duration (periods)": 2,
            },
            {
                "Risk": "Demand surge",
                "Effect": "Demand",
                "Basis": "Sector",
                "Target": "ALL",
                "Change (%)": pct(40),
                "Chance per year (%)": pct(20),
                "Duration (periods)": 1.5,
            },
        ]
    if k["budget"]:
        spend = sum(need.values()) * 1000 * 60
        settings.append({"Setting": "Budget per period", "Value": round(spend * 0.9)})
    if k["percent_text"]:
        settings.append({"Setting": "Risk level (%)", "Value": "80%"})
    out["Settings"] = settings
    return out, k
