"""Post-solve check: recompute every constraint family from the plan tables that will be
written, independently of Pyomo and HiGHS, so a wrong plan cannot be written silently."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.input.data import PlanData
from model.lp.formulation import Numbers, lot_origins
from model.plan.results import COST_ROWS, STOCKPILE, Plan, lot_source, offer_tonnes

ABS_TOL = 1e-4  # tonnes; HiGHS's feasibility tolerance is 1e-7 on scaled rows
REL_TOL = 1e-6


class PlanCheckError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "the solved plan breaks its own constraints:\n  " + "\n  ".join(problems[:20])
        )


def _tol(x: np.ndarray | float) -> np.ndarray | float:
    return ABS_TOL + REL_TOL * np.abs(x)


def check_plan(
    data: PlanData,
    buy_keys: pd.DataFrame,
    demand_keys: pd.DataFrame,
    caps: pd.DataFrame,
    num: Numbers,
    plan: Plan,
) -> list[str]:
    """Every violation found (empty when the plan holds). ``buy_keys`` (o, t) and
    ``demand_keys`` (material, sector, t) are aligned with ``num``; ``caps`` is the table of
    cap instances (rule, group, material, sector, t, share, column, purchases)."""
    problems: list[str] = []
    p = data.periods
    s = plan.sheets
    offers = data.offers

    # §2.1 demand
    alloc = s["Allocation"]
    got = alloc.groupby(["Material", "Sector", "_t"])["Tonnes"].sum()
    want = pd.Series(num.demand, index=pd.MultiIndex.from_frame(demand_keys))
    want.index.names = got.index.names
    both = pd.concat([got.rename("got"), want.rename("want")], axis=1).fillna(0.0)
    bad = both[np.abs(both["got"] - both["want"]) > _tol(both["want"])]
    for (m, k, t), r in bad.head(10).iterrows():
        problems.append(
            f"demand of {k} for {m} in {p[t]}: {r['want']:g} t, allocated {r['got']:g} t"
        )

    # §2.2-2.3 capacity and minimum purchase; purchases add up
    bought = offer_tonnes(plan).groupby(["_o", "_t"])["q"].sum()
    keys = pd.MultiIndex.from_frame(buy_keys[["o", "t"]])
    q = bought.reindex(keys).fillna(0.0).to_numpy()
    over = np.flatnonzero(q > num.buy_ub + _tol(num.buy_ub))
    under = np.flatnonzero(q < num.buy_lb - _tol(num.buy_lb))
    extra = set(bought.index) - set(keys)
    for i in over[:10]:
        o, t = buy_keys.iloc[i]["o"], buy_keys.iloc[i]["t"]
        problems.append(
            f"{offers.at[o, 'supplier']} / {offers.at[o, 'material']} in {p[t]}: "
            f"bought {q[i]:g} t over capacity {num.buy_ub[i]:g} t"
        )
    for i in under[:10]:
        o, t = buy_keys.iloc[i]["o"], buy_keys.iloc[i]["t"]
        problems.append(
            f"{offers.at[o, 'supplier']} / {offers.at[o, 'material']} in {p[t]}: "
            f"bought {q[i]:g} t under the minimum {num.buy_lb[i]:g} t"
        )
    for o, t in list(extra)[:10]:
        problems.append(f"{offers.at[o, 'supplier']} bought in {p[t]}, outside its window")
    pur = s["Purchases"]
    split = np.abs(pur["To sectors (t)"] + pur["To stock (t)"] - pur["Total (t)"])
    if (split > _tol(pur["Total (t)"])).any():
        problems.append("Purchases: To sectors + To stock differs from Total")

    problems += _check_stock(data, num, plan)
    problems += _check_caps(data, caps, plan)

    # §2.8 budget
    if data.budget_per_period is not None:
        spend = pd.concat([s["Purchases"][["_t", "Cost"]], s["Recycling"][["_t", "Cost"]]])
        for t, c in spend.groupby("_t")["Cost"].sum().items():
            if c > data.budget_per_period + _tol(data.budget_per_period):
                problems.append(f"spending in {p[t]} ({c:,.0f}) is over the budget")

    # the cost rows add up to the objective
    sm = plan.summary
    parts = sum(sm[k] for k in COST_ROWS)
    if abs(parts - sm["Total cost"]) > 1e-6 * max(1.0, abs(sm["Total cost"])) + 1e-3:
        problems.append(f"cost rows add up to {parts:,.2f}, the optimum is {sm['Total cost']:,.2f}")
    del offers
    return problems


def _check_stock(data: PlanData, num: Numbers, plan: Plan) -> list[str]:
    problems: list[str] = []
    p = data.periods
    st = plan.sheets["Stock"]
    mats = data.materials
    for m, g in st.groupby("Material", sort=False):
        g = g.sort_values("_t")
        opening, closing = g["Opening (t)"].to_numpy(), g["Closing (t)"].to_numpy()
        bal = opening + g["Bought (t)"].to_numpy() - g["Drawn (t)"].to_numpy() - closing
        if abs(opening[0] - mats.at[m, "initial_t"]) > ABS_TOL:
            problems.append(f"{m}: opening stock differs from the initial stock")
        if (np.abs(opening[1:] - closing[:-1]) > _tol(closing[:-1])).any():
            problems.append(f"{m}: a period opens with other than the last closing stock")
        for t in np.flatnonzero(np.abs(bal) > _tol(closing)):
            problems.append(f"{m} in {p[g['_t'].iloc[t]]}: stock does not balance")
        if (closing < -ABS_TOL).any():
            problems.append(f"{m}: negative stock")
        short = g["Closing (t)"] + g["Below floor (t)"] < g["Floor (t)"] - _tol(g["Floor (t)"])
        for t in g.loc[short, "_t"]:
            problems.append(f"{m} in {p[t]}: stock below its floor beyond the reported gap")
        if np.isnan(mats.at[m, "floor_penalty_per_kg"]) and (g["Below floor (t)"] > ABS_TOL).any():
            problems.append(f"{m}: below a hard floor")
        cap = mats.at[m, "max_stock_t"]
        if np.isfinite(cap) and (closing > cap + _tol(cap)).any():
            problems.append(f"{m}: stock above its Max stock")
        draw = mats.at[m, "max_draw_t"]
        if np.isfinite(draw) and (g["Drawn (t)"] > draw + _tol(draw)).any():
            problems.append(f"{m}: draws above its Max draw")
    # The stockpile column of Allocation matches Drawn, and no lot gives more than it got.
    alloc = plan.sheets["Allocation"]
    drawn = alloc[alloc["_lot"]]
    by_mt = drawn.groupby(["Material", "_t"])["Tonnes"].sum()
    st_drawn = st.set_index(["Material", "_t"])["Drawn (t)"]
    diff = (by_mt.reindex(st_drawn.index).fillna(0.0) - st_drawn).abs()
    if (diff > _tol(st_drawn)).any():
        problems.append("Allocation from stockpile differs from Stock 'Drawn (t)'")
    pur = plan.sheets["Purchases"]
    rec = plan.sheets["Recycling"]
    put = pd.concat(
        [
            pur[["_o", "_t", "To stock (t)"]].rename(columns={"To stock (t)": "q"}),
            rec[["_o", "_t", "_to_stock"]].rename(columns={"_to_stock": "q"}),
        ]
    )
    # Per lot, cumulative tonnes out never exceed cumulative tonnes in (one table per side).
    lots = drawn[drawn["_offer"] >= 0]
    if len(lots):
        periods = range(len(p))
        out = (
            lots.groupby(["_offer", "_t"])["Tonnes"]
            .sum()
            .unstack(fill_value=0.0)
            .reindex(columns=periods, fill_value=0.0)
            .cumsum(axis=1)
        )
        inn = (
            put.groupby(["_o", "_t"])["q"]
            .sum()
            .unstack(fill_value=0.0)
            .reindex(index=out.index, columns=periods, fill_value=0.0)
            .fillna(0.0)
            .cumsum(axis=1)
        )
        over = (out.to_numpy() > inn.to_numpy() + _tol(inn.to_numpy())).any(axis=1)
        for o in out.index[over]:
            problems.append(
                f"more drawn from the {STOCKPILE} lot of "
                f"{data.offers.at[o, 'supplier']} than was put in"
            )
    # Lots held at the start (Materials Initial stock, Initial stock rows) give at most what
    # they held.
    held = lot_origins(data).assign(tonnes=0.0)
    n_offers, n_mats = len(data.offers), len(data.materials)
    held.iloc[n_offers : n_offers + n_mats, -1] = mats["unknown_initial_t"].to_numpy()
    held.iloc[n_offers + n_mats :, -1] = data.stock_lots["tonnes"].to_numpy()
    out = drawn[drawn["_src"] >= n_offers].groupby("_src")["Tonnes"].sum()
    cap = held["tonnes"].reindex(out.index).to_numpy()
    for lot in out.index[out.to_numpy() > cap + _tol(cap)]:
        problems.append(f"more drawn from {lot_source(data, int(lot))} than it held")
    return problems


def _check_caps(data: PlanData, caps: pd.DataFrame, plan: Plan) -> list[str]:
    """Recompute every cap instance from Purchases/Recycling (Sector ALL) or Allocation."""
    problems: list[str] = []
    if caps.empty:
        return problems
    offers = data.offers
    s = plan.sheets
    mat_code = {m: i for i, m in enumerate(data.materials.index)}
    sec_code = {k: i for i, k in enumerate(data.sectors.index)}
    # Material and origin of every source, numbered as offers then lots (lot_origins).
    source_mat = (
        pd.concat(
            [
                offers["material"],
                data.materials.index.to_series(),
                data.stock_lots["material"],
            ],
            ignore_index=True,
        )
        .map(mat_code)
        .to_numpy()
    )
    origins = lot_origins(data)
    bought = offer_tonnes(plan)
    alloc = s["Allocation"]
    received = alloc[alloc["_src"] >= 0]
    received = pd.DataFrame(
        {
            "_o": received["_src"].to_numpy(),
            "_t": received["_t"].to_numpy(),
            "kc": received["Sector"].map(sec_code).to_numpy(),
            "q": received["Tonnes"].to_numpy(),
        }
    )
    # Instances with integer codes: material -1 = ALL.
    inst = pd.DataFrame(
        {
            "c": np.arange(len(caps)),
            "_t": caps["t"].to_numpy(),
            "mc": caps["material"].map(mat_code).fillna(-1).astype(int).to_numpy(),
            "kc": caps["sector"].map(sec_code).fillna(-1).astype(int).to_numpy(),
        }
    )
    purchases = caps["purchases"].to_numpy().astype(bool)
    parts = []
    for mode, flows in ((True, bought), (False, received)):
        flows = flows.assign(fm=source_mat[flows["_o"].to_numpy()])
        on = ["_t"] if mode else ["_t", "kc"]
        these = inst[purchases == mode]
        # A named material joins on it; ALL (-1) takes every material of the period.
        named = these[these["mc"] >= 0].merge(flows.rename(columns={"fm": "mc"}), on=[*on, "mc"])
        pooled = these[these["mc"] < 0].merge(flows, on=on)
        parts += [named[["c", "_o", "q"]], pooled[["c", "_o", "q"]]]
    terms = pd.concat(parts, ignore_index=True)
    c, o, q = terms["c"].to_numpy(), terms["_o"].to_numpy(), np.array(terms["q"], dtype=float)
    in_group = np.zeros(len(terms), dtype=bool)
    columns = caps["column"].to_numpy()
    for column in np.unique(columns.astype(str)):
        codes, uniques = pd.factorize(origins[column])
        group_code = pd.Index(uniques).get_indexer(caps["group"])
        sel = columns[c] == column
        in_group[sel] = codes[o[sel]] == group_code[c[sel]]
        q[sel] = np.where(codes[o[sel]] >= 0, q[sel], 0.0)  # unknown origin: neither side
    total = np.bincount(c, weights=q, minlength=len(caps))
    group = np.bincount(c, weights=q * in_group, minlength=len(caps))
    over = np.flatnonzero(group > caps["share"].to_numpy() * total + _tol(total))
    for i in over[:20]:
        r = caps.iloc[i]
        problems.append(
            f"cap '{r['rule']}': {r['group']} has {group[i]:g} of {total[i]:g} t "
            f"({r['material']}, {r['sector']}, {data.periods[r['t']]}), over "
            f"{r['share'] * 100:g} %"
        )
    return problems
