"""Scenario factors (DESIGN §3): how a scenario scales capacity, price and demand.

A scenario is the set of Scenarios rows sharing a name; factors of several matching rows
multiply. ``Capacity`` and ``Price`` rows match offers by mine country, refine country,
supplier or material; ``Demand`` rows match demand by material or sector. Every period inside a
``Capacity`` row's window releases the stock floor of every material.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
    return Shocks(data).factors(
        name,
        rows[["effect", "basis", "target", "change", "first", "last"]].itertuples(
            index=False, name=None
        ),
    )


def all_factors(data: PlanData, names: Iterable[str | None]) -> dict[str | None, Factors]:
    """:func:`factors` of many scenarios, the Scenarios sheet grouped once (a hedge over 200
    sampled paths asks for 170 scenarios three times over)."""
    rows = data.scenarios[["scenario", "effect", "basis", "target", "change", "first", "last"]]
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for r in rows.itertuples(index=False, name=None):
        grouped.setdefault(r[0], []).append(r[1:])
    shocks = Shocks(data)
    out: dict[str | None, Factors] = {}
    for name in names:
        if name is None:
            out[None] = baseline(data)
        elif name in grouped:
            out[name] = shocks.factors(name, grouped[name])
        else:
            out[name] = factors(data, name)  # the unknown name's input error
    return out


class Shocks:
    """The factors of scenarios given as rows (effect, basis, target, change, first, last):
    :func:`factors` for one scenario of the sheet, ``risk`` for hundreds of sampled paths, with
    each (basis, target)'s matching offers or demand rows found once."""

    def __init__(self, data: PlanData):
        self.data = data
        self.base = baseline(data)
        self.periods = np.arange(len(data.periods))
        self.demand_t = data.demand["t"].to_numpy()
        self._match: dict[tuple[str, str, str], np.ndarray] = {}

    def _matching(self, effect: str, basis: str, target: str) -> np.ndarray:
        key = ("offer" if effect in ("Capacity", "Price") else "demand", basis, target)
        if key not in self._match:
            table = self.data.offers if key[0] == "offer" else self.data.demand
            column = (_OFFER_COLUMN if key[0] == "offer" else _DEMAND_COLUMN).get(basis)
            self._match[key] = (
                np.ones(len(table), dtype=bool)
                if target == "ALL"
                else (table[column] == target).to_numpy()
            )
        return self._match[key]

    def factors(self, name: str | None, rows: Iterable[tuple[Any, ...]]) -> Factors:
        """Factors of several matching rows multiply, in the rows' order (DESIGN §3)."""
        base = self.base
        capacity, price, demand, released = (
            base.capacity.copy(),
            base.price.copy(),
            base.demand.copy(),
            base.released.copy(),
        )
        first = None
        for effect, basis, target, change, r_first, r_last in rows:
            window = (self.periods >= r_first) & (self.periods <= r_last)
            factor = 1.0 + change
            match = self._matching(effect, basis, target)
            if effect in ("Capacity", "Price"):
                target_array = capacity if effect == "Capacity" else price
                target_array[np.ix_(match, window)] *= factor
                if effect == "Capacity":
                    released |= window
            else:
                demand[match & window[self.demand_t]] *= factor
            first = int(r_first) if first is None else min(first, int(r_first))
        return Factors(name, capacity, price, demand, released, 0 if first is None else first)
