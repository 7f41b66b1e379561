"""The validated planning data: what the model is built from.

Notation (used throughout the package):

=====  ==============================  =========================================
index  set                             meaning
=====  ==============================  =========================================
o      ``OFFERS``                      a Suppliers or Recycling row (an offer)
L      ``LOTS``                        a stock lot: one per offer, one per Initial stock
                                       row, plus ``initial`` (origin unknown)
m      ``MATERIALS``                   a rare earth material (oxide)
k      ``SECTORS``                     a demand sector
t      ``PERIODS``                     a planning period (0-based position)
g      cap group                       a country or supplier named by a Caps row
=====  ==============================  =========================================

Units: tonnes (t) of oxide; money in the workbook currency, prices per kg, so a cost is
tonnes x 1000 x price.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from model.input.issues import Issue

INITIAL = "initial"  # the lot holding each material's Initial stock; its origin is unknown
KG_PER_T = 1000.0


@dataclass(frozen=True)
class PlanData:
    """Everything the model needs, checked and typed.

    Tables (all with a ``row`` column: the Excel row the record came from):

    - ``materials``: index material; initial_t (the whole opening stock), unknown_initial_t
      (the part of it whose origin is unknown: the ``initial`` lot), min_cover_days,
      max_stock_t (NaN = none), holding_per_kg, max_draw_t (NaN = none),
      floor_penalty_per_kg (NaN = hard floor)
    - ``sectors``: index sector; penalty_per_kg
    - ``demand``: material, sector, t, tonnes (only positive demand), penalty_per_kg (the
      Demand row's own shortfall penalty; NaN = the sector's)
    - ``offers``: index o (0..); kind ("Suppliers"/"Recycling"), supplier, material, mine, refine,
      capacity_t, price_per_kg, min_purchase_t, first, last (period positions, inclusive)
    - ``alternatives``: material, sector, max_share (fraction 0..1), cost_per_kg
    - ``caps``: rule, basis, group, material, sector, max_share (fraction), first, last
    - ``scenarios``: scenario, effect, basis, target, change (fraction, -1 = stops), first, last,
      probability (fraction, the scenario's chance of starting within the horizon; 0 = none)
    - ``stock_lots``: index i (0..); material, tonnes, mine, refine, supplier (NaN = unknown):
      the Initial stock sheet, one lot per row
    """

    source: str
    currency: str
    allow_shortfall: bool
    budget_per_period: float | None
    time_limit_s: float
    # "Auto", "Yes" or "No": HiGHS's ranging of the marginal values (see model.plan.marginals)
    ranging: str
    periods: list[str]
    days: list[float]
    materials: pd.DataFrame
    sectors: pd.DataFrame
    demand: pd.DataFrame
    offers: pd.DataFrame
    alternatives: pd.DataFrame
    caps: pd.DataFrame
    scenarios: pd.DataFrame
    warnings: list[Issue] = field(default_factory=list)
    route: str = "Auto"  # "Auto", "Pyomo" or "Direct": how the LP reaches HiGHS (model.lp.route)
    risk_weight: float = 0.0  # w of DESIGN §5, 0..1
    risk_level: float = 0.9  # a of DESIGN §5, 0..<1
    # DESIGN §7: risk, effect, basis, target, change (fraction), chance (per year, fraction),
    # duration (mean periods), row
    risks: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                c: []
                for c in (
                    "risk",
                    "effect",
                    "basis",
                    "target",
                    "change",
                    "chance",
                    "duration",
                    "row",
                )
            }
        )
    )
    stock_lots: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {c: [] for c in ("material", "tonnes", "mine", "refine", "supplier", "row")}
        )
    )

    @property
    def scenario_names(self) -> list[str]:
        return list(dict.fromkeys(self.scenarios["scenario"]))

    @property
    def probabilities(self) -> dict[str, float]:
        """Scenario -> probability (fraction), for the scenarios whose probability is > 0."""
        sc = self.scenarios
        if "probability" not in sc.columns:
            return {}
        p = sc.groupby("scenario", sort=False)["probability"].first()
        return {str(k): float(v) for k, v in p.items() if v > 0}
