"""Scenario factors (DESIGN §3): how a scenario scales capacity, price and demand.

A scenario is the set of Scenarios rows sharing a name; factors of several matching rows
multiply. ``Capacity`` and ``Price`` rows match offers by mine country, refine country,
supplier or material; ``Demand`` rows match demand by material or sector. Every period inside a
``Capacity`` row's window releases the stock floor of every material.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.input.data import PlanData
from model.input.issues import InputError, Issue

_OFFER_COLUMN = {
    "Mine country": "mine",
    "Refine country": "refine",
    "Supplier": "supplier",
    "Material": "material",
}
_DEMAND_COLUMN = {"Material": "material", "Sector": "sector"}


@dataclass(frozen=True)
class Factors:
    """Multipliers of one scenario; all ones (and nothing released) in the baseline."""

    name: str | None
    capacity: np.ndarray  # (offers, periods)
    price: np.ndarray  # (offers, periods)
    demand: np.ndarray  # (demand rows,), aligned with data.demand
    released: np.ndarray  # (periods,) bool: stock floor released
    first: int  # earliest period the scenario touches (0 for the baseline)


def baseline(data: PlanData) -> Factors:
    n, n_offers = len(data.periods), len(data.offers)
    return Factors(
        None,
        np.ones((n_offers, n)),
        np.ones((n_offers, n)),
        np.ones(len(data.demand)),
        np.zeros(n, dtype=bool),
        0,
    )


def factors(data: PlanData, name: str | None) -> Factors:
    """The factors of scenario ``name`` (None = baseline); an unknown name is an input error."""
    if name is None:
        return baseline(data)
    rows = data.scenarios[data.scenarios["scenario"] == name]
    if rows.empty:
        known = ", ".join(f"'{s}'" for s in data.scenario_names) or "none"
        raise InputError(
            [Issue("Scenarios", "", f"no scenario named '{name}'; the workbook has: {known}")]
        )
    base = baseline(data)
    capacity, price, demand, released = (
        base.capacity.copy(),
        base.price.copy(),
        base.demand.copy(),
        base.released.copy(),
    )
    periods = np.arange(len(data.periods))
    for r in rows.itertuples():
        window = (periods >= r.first) & (periods <= r.last)
        factor = 1.0 + r.change
        if r.effect in ("Capacity", "Price"):
            match = (
                np.ones(len(data.offers), dtype=bool)
                if r.target == "ALL"
                else (data.offers[_OFFER_COLUMN[r.basis]] == r.target).to_numpy()
            )
            target = capacity if r.effect == "Capacity" else price
            target[np.ix_(match, window)] *= factor
            if r.effect == "Capacity":
                released |= window
        else:
            match = (
                np.ones(len(data.demand), dtype=bool)
                if r.target == "ALL"
                else (data.demand[_DEMAND_COLUMN[r.basis]] == r.target).to_numpy()
            )
            demand[match & window[data.demand["t"].to_numpy()]] *= factor
    return Factors(name, capacity, price, demand, released, int(rows["first"].min()))
