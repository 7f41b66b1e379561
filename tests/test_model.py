"""Hand-solved toys, one or more per constraint family of DESIGN §2.

Each docstring works the optimum out by hand; costs are tonnes x 1000 x price per kg.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import EXAMPLES, toy, write

from model.input.issues import InputError
from model.input.validate import load
from model.lp.highs import INFEASIBLE, OPTIMAL
from model.studies.baseline import Outcome, plan_problems, solve_data, solve_workbook


@pytest.fixture(params=["direct", "pyomo"], autouse=True)
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every toy through both routes to HiGHS (model/algebra.py, or the sparse blocks):
    the same hand-worked optimum either way."""
    import model.lp.route

    monkeypatch.setattr(model.lp.route, "choose", lambda setting, n: request.param)
    return request.param


def solved(tmp_path: Path, rows) -> Outcome:
    out = solve_workbook(write(tmp_path / "toy.xlsx", rows))
    assert out.status == OPTIMAL, out.solution.explanation
    return out


def sheet(out: Outcome, name: str) -> pd.DataFrame:
    return out.plan.public(name)


def sup(name: str, cap: float, price: float, **kw) -> dict:
    return {"Supplier": name, "Capacity (t per period)": cap, "Price (per kg)": price, **kw}


def test_merit_order_and_capacity(tmp_path: Path):
    """Demand 100; S1 60 t at 10, S2 100 t at 20: 60 x 10,000 + 40 x 20,000 = 1,400,000."""
    out = solved(
        tmp_path, toy({"P1": 30}, {("A", "M"): [100]}, [sup("S1", 60, 10), sup("S2", 100, 20)])
    )
    assert out.solution.objective == pytest.approx(1_400_000)
    p = sheet(out, "Purchases").set_index("Supplier")["Total (t)"]
    assert p.to_dict() == pytest.approx({"S1": 60, "S2": 40})
    assert out.plan.summary["Total cost"] == pytest.approx(1_400_000)


def three_countries(share: float) -> dict:
    return toy(
        {"P1": 30},
        {("A", "M"): [100]},
        [
            sup("CN", 100, 10, **{"Mine country": "China"}),
            sup("AU", 100, 20, **{"Mine country": "Australia"}),
            sup("US", 100, 30, **{"Mine country": "USA"}),
        ],
        Caps=[
            {
                "Rule": "each",
                "Basis": "Mine country",
                "Group": "EACH",
                "Material": "EACH",
                "Sector": "ALL",
                "Max share (%)": share,
            }
        ],
    )


def test_cap_each_country(tmp_path: Path):
    """Cap 50 % per country: China 50 at 10 + Australia 50 at 20 = 1,500,000.
    Cap 40 %: 40 x 10 + 40 x 20 + 20 x 30 (x 1000) = 1,800,000."""
    assert solved(tmp_path, three_countries(50)).solution.objective == pytest.approx(1_500_000)
    out = solved(tmp_path, three_countries(40))
    assert out.solution.objective == pytest.approx(1_800_000)
    conc = sheet(out, "Concentration")
    assert set(conc["Group"]) == {"China", "Australia", "USA"}
    assert (conc["Share (%)"] <= conc["Cap (%)"] + 1e-6).all()
    assert conc.set_index("Group").loc[["China", "Australia"], "Binding"].tolist() == ["Yes"] * 2


def two_materials(material: str) -> dict:
    offers = [
        sup("CN", 200, 10, Material="M1", **{"Mine country": "China"}),
        sup("CN", 200, 10, Material="M2", **{"Mine country": "China"}),
        sup("OT", 200, 20, Material="M1"),
        sup("OT", 200, 50, Material="M2"),
    ]
    return toy(
        {"P1": 30},
        {("A", "M1"): [100], ("A", "M2"): [100]},
        offers,
        Caps=[
            {
                "Rule": "cn",
                "Basis": "Mine country",
                "Group": "China",
                "Material": material,
                "Sector": "ALL",
                "Max share (%)": 50,
            }
        ],
    )


def test_cap_all_materials_pooled_vs_each(tmp_path: Path):
    """Pooled (ALL): China <= 100 of 200 t; spend China where the other source is dearest:
    M2 from China (100 x 10), M1 from OT (100 x 20) = 3,000,000.
    EACH: China <= 50 of each: M1 50x10 + 50x20 = 1,500,000; M2 50x10 + 50x50 = 3,000,000;
    total 4,500,000."""
    assert solved(tmp_path, two_materials("ALL")).solution.objective == pytest.approx(3_000_000)
    assert solved(tmp_path, two_materials("EACH")).solution.objective == pytest.approx(4_500_000)


def test_sector_ban_holds_through_the_stockpile(tmp_path: Path):
    """Defense may get nothing China-refined. Lynas (50/kg) sells only in P1; ChinaCo (10/kg)
    in both. Defense needs 10 t in P2, so P1 buys 10 t of Lynas into stock (500,000); Auto gets
    ChinaCo both periods (2 x 100,000). Total 700,000. Stock bought from ChinaCo would be
    cheaper but keeps its origin, so it cannot serve Defense."""
    rows = toy(
        {"P1": 30, "P2": 30},
        {("Auto", "M"): [10, 10], ("Defense", "M"): [0, 10]},
        [
            sup("ChinaCo", 100, 10, **{"Refine country": "China"}),
            sup("Lynas", 100, 50, **{"Refine country": "Malaysia", "Last period": "P1"}),
        ],
        Caps=[
            {
                "Rule": "ban",
                "Basis": "Refine country",
                "Group": "China",
                "Material": "ALL",
                "Sector": "Defense",
                "Max share (%)": 0,
            }
        ],
    )
    out = solved(tmp_path, rows)
    assert out.solution.objective == pytest.approx(700_000)
    alloc = sheet(out, "Allocation")
    defense = alloc[alloc["Sector"] == "Defense"]
    assert defense[["Period", "Source", "Tonnes"]].values.tolist() == [
        ["P2", "Stockpile (Lynas)", pytest.approx(10)]
    ]


def floor_rows(penalty: float | None) -> dict:
    mat = {"Material": "M", "Min cover (days)": 5, "Holding cost (per kg per period)": 1}
    if penalty is not None:
        mat["Below-floor penalty (per kg per period)"] = penalty
    return toy({"P1": 10, "P2": 10}, {("A", "M"): [10, 10]}, [sup("S", 100, 10)], materials=[mat])


def test_stock_floor_hard(tmp_path: Path):
    """Daily demand 1 t, cover 5 days: floor 5 t at the end of each period. P1 buys 15, P2 10:
    250,000 + holding 5 t x 1000 x 1 x 2 periods = 260,000."""
    out = solved(tmp_path, floor_rows(None))
    assert out.solution.objective == pytest.approx(260_000)
    stock = sheet(out, "Stock")
    assert stock["Closing (t)"].tolist() == pytest.approx([5, 5])
    assert stock["Days of cover"].tolist() == pytest.approx([5, 5])


def test_stock_floor_soft(tmp_path: Path):
    """Penalty 0.5/kg/period is cheaper than stock (10/kg once + 1/kg/period): stay 5 t below
    in both periods: 200,000 + 5 x 1000 x 0.5 x 2 = 205,000."""
    out = solved(tmp_path, floor_rows(0.5))
    assert out.solution.objective == pytest.approx(205_000)
    assert out.plan.summary["Below floor (t)"] == pytest.approx(10)
    assert out.plan.summary["Below-floor penalty"] == pytest.approx(5_000)


def test_min_purchase(tmp_path: Path):
    """S2 (20/kg) must sell at least 5 t: 5 x 20,000 + 5 x 10,000 = 150,000."""
    rows = toy(
        {"P1": 30},
        {("A", "M"): [10]},
        [sup("S1", 100, 10), sup("S2", 100, 20, **{"Min purchase (t per period)": 5})],
    )
    out = solved(tmp_path, rows)
    assert out.solution.objective == pytest.approx(150_000)


def test_max_draw(tmp_path: Path):
    """50 t in stock but at most 5 t drawn a period: buy 15 + 15 at 10 = 300,000."""
    rows = toy(
        {"P1": 30, "P2": 30},
        {("A", "M"): [20, 20]},
        [sup("S", 100, 10)],
        materials=[{"Material": "M", "Initial stock (t)": 50, "Max draw (t per period)": 5}],
    )
    out = solved(tmp_path, rows)
    assert out.solution.objective == pytest.approx(300_000)
    assert sheet(out, "Stock")["Drawn (t)"].tolist() == pytest.approx([5, 5])


def test_max_stock(tmp_path: Path):
    """S1 (10/kg) sells only in P1, S2 (30/kg) only in P2; stock at most 4 t: P1 buys 14,
    P2 buys 6: 140,000 + 180,000 = 320,000."""
    rows = toy(
        {"P1": 30, "P2": 30},
        {("A", "M"): [10, 10]},
        [sup("S1", 100, 10, **{"Last period": "P1"}), sup("S2", 100, 30, **{"First period": "P2"})],
        materials=[{"Material": "M", "Max stock (t)": 4}],
    )
    assert solved(tmp_path, rows).solution.objective == pytest.approx(320_000)


def test_budget(tmp_path: Path):
    """Budget 600,000 buys 60 t at 10; 40 t go short at 1000/kg: 600,000 + 40,000,000."""
    rows = toy(
        {"P1": 30},
        {("A", "M"): [100]},
        [sup("S", 100, 10)],
        Settings=[{"Setting": "Budget per period", "Value": 600_000}],
    )
    out = solved(tmp_path, rows)
    assert out.solution.objective == pytest.approx(40_600_000)
    assert out.plan.summary["Shortfall (t)"] == pytest.approx(40)


def test_alternatives(tmp_path: Path):
    """Substitute avoids up to 30 % at 20/kg, cheaper than 50/kg: 30 x 20,000 + 70 x 50,000
    = 4,100,000."""
    rows = toy(
        {"P1": 30},
        {("A", "M"): [100]},
        [sup("S", 100, 50)],
        Alternatives=[{"Sector": "A", "Material": "M", "Max share (%)": 30, "Cost (per kg)": 20}],
    )
    out = solved(tmp_path, rows)
    assert out.solution.objective == pytest.approx(4_100_000)
    assert out.plan.summary["Alternatives cost"] == pytest.approx(600_000)


def test_recycling_is_a_source(tmp_path: Path):
    """Recycling at 15/kg beats the 20/kg supplier up to its 30 t: 30 x 15,000 + 70 x 20,000
    = 1,850,000."""
    rows = toy(
        {"P1": 30},
        {("A", "M"): [100]},
        [sup("S", 100, 20)],
        Recycling=[
            {
                "Stream": "R",
                "Material": "M",
                "Country": "Japan",
                "Capacity (t per period)": 30,
                "Cost (per kg)": 15,
            }
        ],
    )
    out = solved(tmp_path, rows)
    assert out.solution.objective == pytest.approx(1_850_000)
    assert sheet(out, "Recycling")[["Stream", "Tonnes"]].values.tolist() == [
        ["R", pytest.approx(30)]
    ]
    assert out.plan.summary["Recycling cost"] == pytest.approx(450_000)


def test_shortfall_goes_to_the_cheaper_sector(tmp_path: Path):
    """60 t for 50 + 50 demanded: Defense (1000/kg) is served, Auto (100/kg) short 40 t:
    600,000 + 40 x 100,000 = 4,600,000."""
    rows = toy(
        {"P1": 30},
        {("Auto", "M"): [50], ("Defense", "M"): [50]},
        [sup("S", 60, 10)],
        sectors={"Auto": 100, "Defense": 1000},
    )
    out = solved(tmp_path, rows)
    assert out.solution.objective == pytest.approx(4_600_000)
    short = sheet(out, "Shortfall")
    assert short[["Sector", "Tonnes"]].values.tolist() == [["Auto", pytest.approx(40)]]


def test_infeasible_is_explained(tmp_path: Path):
    """No shortfall allowed, 100 t demanded, 50 t offered: infeasible, and the explanation
    names the demand row and the supplier's capacity."""
    rows = toy(
        {"P1": 30},
        {("A", "M"): [100]},
        [sup("S", 50, 10)],
        Settings=[{"Setting": "Allow shortfall", "Value": "No"}],
    )
    out = solve_workbook(write(tmp_path / "toy.xlsx", rows))
    assert out.status == INFEASIBLE
    text = "\n".join(out.solution.explanation)
    assert "demand of A for M in P1 (Demand row 2)" in text
    assert "Capacity of S / M (Suppliers row 2)" in text


def test_nothing_can_meet_demand(tmp_path: Path):
    """A material with demand and no source at all, shortfall not allowed: infeasible before
    any solve, with the demand row named."""
    rows = toy(
        {"P1": 30},
        {("A", "M"): [10], ("A", "N"): [5]},
        [sup("S", 50, 10)],
        Settings=[{"Setting": "Allow shortfall", "Value": "No"}],
    )
    out = solve_workbook(write(tmp_path / "toy.xlsx", rows))
    assert out.status == INFEASIBLE
    assert any("demand of A for N in P1" in line for line in out.solution.explanation)


def test_post_solve_check_catches_a_tampered_plan(tmp_path: Path):
    """The check recomputes from the written tables: move 5 t of one delivery and it fails."""
    rows = toy(
        {"P1": 30},
        {("A", "M"): [100]},
        [sup("S1", 60, 10), sup("S2", 100, 20)],
        Caps=[
            {
                "Rule": "c",
                "Basis": "Supplier",
                "Group": "S1",
                "Material": "ALL",
                "Sector": "A",
                "Max share (%)": 60,
            }
        ],
    )
    out = solved(tmp_path, rows)
    assert plan_problems(out.built, out.plan) == []
    alloc = out.plan.sheets["Allocation"]
    alloc.loc[alloc.index[0], "Tonnes"] += 5
    problems = plan_problems(out.built, out.plan)
    assert any("demand of A for M" in p for p in problems), problems
    alloc.loc[alloc.index[0], "Tonnes"] -= 5
    assert plan_problems(out.built, out.plan) == []
    # S1 delivers 60 of A's 100 t, at its 60 % cap; credit S2's 40 t to S1 and the cap breaks.
    s2 = alloc["Source"] == "S2"
    out.plan.sheets["Allocation"] = alloc.assign(
        Source=alloc["Source"].where(~s2, "S1"),
        _offer=alloc["_offer"].where(~s2, 0),
        _src=alloc["_src"].where(~s2, 0),
    )
    assert any("cap 'c': S1 has 100 of 100 t" in p for p in plan_problems(out.built, out.plan))
    pur = out.plan.sheets["Purchases"]
    pur.loc[pur["Supplier"] == "S1", "Total (t)"] = 70
    assert any("over capacity" in p for p in plan_problems(out.built, out.plan))


def test_handling_tie_breaker_keeps_cost_and_avoids_rotation():
    """Small example: the 40 t floor is bought into stock in Q1 and simply kept. Rotating it
    (buy into a new lot, draw an old one) costs the same, and without the handling
    tie-breaker HiGHS reports 62 t bought into stock and 22 t drawn. With it: 40 t in,
    nothing drawn, and the optimum unchanged (26,920,000; the tie-breaker is not a cost)."""
    from conftest import EXAMPLES

    out = solve_workbook(EXAMPLES / "small-example.xlsx")
    assert out.solution.objective == pytest.approx(26_920_000, abs=1e-6)
    stock = sheet(out, "Stock")
    assert stock["Bought (t)"].tolist() == pytest.approx([40, 0, 0])
    assert stock["Drawn (t)"].sum() == pytest.approx(0)


def test_hard_floor_infeasibility_names_floor_and_capacity(tmp_path: Path):
    """Floor 5 t (5 days of 1 t/day) on top of 10 t demanded, 12 t of capacity, no shortfall:
    infeasible in P1; the explanation names the floor, the demand and the capacity."""
    rows = toy(
        {"P1": 10, "P2": 10},
        {("A", "M"): [10, 10]},
        [sup("S", 12, 10)],
        materials=[{"Material": "M", "Min cover (days)": 5}],
        Settings=[{"Setting": "Allow shortfall", "Value": "No"}],
    )
    out = solve_workbook(write(tmp_path / "toy.xlsx", rows))
    assert out.status == INFEASIBLE
    text = "\n".join(out.solution.explanation)
    assert "keep M stock at or above 5 days of cover in P1 (Materials row 2)" in text
    assert "a hard floor" in text
    assert "Capacity of S / M (Suppliers row 2) in P1" in text
    assert "cannot be negative" not in text


def test_post_solve_check_catches_a_lot_drawn_beyond_what_it_got(tmp_path: Path):
    """The small example stocks 40 t from its Q1 purchases; credit the Q2 draw to a lot that
    never got anything (MP Materials, offer 2) and the per-lot check fails."""
    out = solve_data(load(EXAMPLES / "small-example.xlsx"), "China embargo in Q2")
    assert plan_problems(out.built, out.plan) == []
    alloc = out.plan.sheets["Allocation"]
    drawn = alloc["_lot"] & (alloc["Tonnes"] > 0)
    assert drawn.any()
    alloc.loc[drawn, "_offer"] = 2
    problems = plan_problems(out.built, out.plan)
    assert any("more drawn from the Stockpile lot of MP Materials" in p for p in problems)


def test_a_demand_rows_own_shortfall_penalty(tmp_path: Path):
    """Defense needs 20 t NdPr (50/kg) and 1 t Tb (1,000/kg); the budget, 1,000,000 a period,
    buys one of them. The sector's penalty is 2,000/kg; Tb's row says 50,000/kg. Per unit of
    budget, NdPr avoids 2,000/50 = 40 of penalty and Tb 50,000/1,000 = 50: buy the 1 t of Tb,
    leave 20 t NdPr short: 1,000,000 + 20 x 2,000,000 = 41,000,000. Without Tb's own penalty
    (2,000/kg: 2 per unit) the plan buys NdPr and leaves Tb short: 3,000,000."""
    rows = toy(
        {"P1": 90},
        {("Defense", "NdPr"): [20], ("Defense", "Tb"): [1]},
        [
            {
                "Supplier": "N",
                "Material": "NdPr",
                "Capacity (t per period)": 100,
                "Price (per kg)": 50,
            },
            {
                "Supplier": "T",
                "Material": "Tb",
                "Capacity (t per period)": 100,
                "Price (per kg)": 1000,
            },
        ],
        sectors={"Defense": 2000},
        Settings=[{"Setting": "Budget per period", "Value": 1_000_000}],
    )
    plain = solved(tmp_path, rows)
    assert plain.solution.objective == pytest.approx(3_000_000)
    tb = next(r for r in rows["Demand"] if r["Material"] == "Tb")
    tb["Shortfall penalty (per kg)"] = 50_000
    own = solved(tmp_path, rows)
    assert own.solution.objective == pytest.approx(41_000_000)
    short = own.plan.sheets["Shortfall"].set_index("Material")["Tonnes"]
    assert short.to_dict() == pytest.approx({"NdPr": 20})
    from model.plan.overview import build_overview

    ov = build_overview(own.built.data, own.plan)
    assert ov.shortfall.set_index("Sector").at["Defense", "Penalty"] == pytest.approx(40_000_000)


def lots_rows(china_refine: str | None) -> dict:
    """Defense may get nothing China-refined; Auto may. 90 t are in stock at the start: 60 t
    from OldCo (refined in China, or of unknown refining when ``china_refine`` is None) and
    30 t refined in Japan. ChinaCo (10/kg, China-refined) and JapanCo (30/kg) sell."""
    old = {"Material": "M", "Tonnes": 60, "Supplier": "OldCo", "Mine country": "China"}
    if china_refine:
        old["Refine country"] = china_refine
    return toy(
        {"P1": 30},
        {("Auto", "M"): [50], ("Defense", "M"): [100]},
        [
            sup("ChinaCo", 1000, 10, **{"Refine country": "China"}),
            sup("JapanCo", 1000, 30, **{"Refine country": "Japan"}),
        ],
        Caps=[
            {
                "Rule": "ban",
                "Basis": "Refine country",
                "Group": "China",
                "Material": "ALL",
                "Sector": "Defense",
                "Max share (%)": 0,
            }
        ],
        **{
            "Initial stock": [
                old,
                {"Material": "M", "Tonnes": 30, "Refine country": "Japan"},
            ]
        },
    )


def test_initial_stock_keeps_its_origin(tmp_path: Path):
    """The 60 t China-refined lot cannot serve Defense, so Defense takes the 30 t Japan lot and
    buys 70 t from JapanCo (2,100,000); Auto takes 50 t of the China lot (free). Total
    2,100,000; 10 t of the China lot stay in stock."""
    out = solved(tmp_path, lots_rows("China"))
    assert out.solution.objective == pytest.approx(2_100_000)
    alloc = sheet(out, "Allocation")
    got = alloc.groupby(["Sector", "Source"])["Tonnes"].sum().to_dict()
    assert got == {
        ("Auto", "Stockpile (initial: OldCo)"): pytest.approx(50),
        ("Defense", "JapanCo"): pytest.approx(70),
        ("Defense", "Stockpile (initial: refined in Japan)"): pytest.approx(30),
    }
    stock = sheet(out, "Stock")
    assert stock["Opening (t)"].tolist() == pytest.approx([90])
    assert stock["Closing (t)"].tolist() == pytest.approx([10])
    assert plan_problems(out.built, out.plan) == []
    # Tamper: credit the China lot's draw to Defense and the check sees the ban broken.
    alloc = out.plan.sheets["Allocation"]
    china = alloc["Source"] == "Stockpile (initial: OldCo)"
    out.plan.sheets["Allocation"] = alloc.assign(Sector=alloc["Sector"].where(~china, "Defense"))
    assert any("cap 'ban'" in p for p in plan_problems(out.built, out.plan))


def test_initial_stock_of_unknown_origin_counts_on_neither_side(tmp_path: Path):
    """With OldCo's refining blank, the cap cannot see the 60 t: Defense takes both lots (90 t)
    and buys 10 t of JapanCo (300,000); Auto buys 50 t of ChinaCo (500,000). Total 800,000,
    and check warns at the lot's row."""
    path = write(tmp_path / "toy.xlsx", lots_rows(None))
    data = load(path)
    warns = [str(w) for w in data.warnings]
    assert any(
        w.startswith("Initial stock!") and "refine country" in w and "'ban'" in w for w in warns
    ), warns
    out = solve_data(data)
    assert out.solution.objective == pytest.approx(800_000)


def test_initial_stock_in_two_places_is_an_error(tmp_path: Path):
    rows = lots_rows("China")
    rows["Materials"] = [{"Material": "M", "Initial stock (t)": 5}]
    with pytest.raises(InputError) as err:
        load(write(tmp_path / "toy.xlsx", rows))
    cells = [f"{i.sheet}!{i.cell}" for i in err.value.issues if i.severity != "warning"]
    assert cells == ["Materials!B2"], err.value.issues


def test_a_cap_group_may_name_a_stock_lot_origin(tmp_path: Path):
    """'OldCo' sells nothing but holds a lot: a cap on it is valid. OldCo may give Auto at most
    50 % of its 50 t, so Auto draws 25 t from OldCo's lot and buys 25 t of ChinaCo."""
    rows = lots_rows("China")
    rows["Caps"].append(
        {
            "Rule": "oldco",
            "Basis": "Supplier",
            "Group": "OldCo",
            "Material": "M",
            "Sector": "Auto",
            "Max share (%)": 50,
        }
    )
    out = solved(tmp_path, rows)
    assert out.solution.objective == pytest.approx(2_100_000 + 250_000)
    assert plan_problems(out.built, out.plan) == []


def sailco(unit: float) -> dict:
    """Winston's Sailco production-planning case (Operations Research, §3.10), published
    optimum $78,450: demand 40, 60, 75, 25 boats; regular time at most 40 a quarter at $400,
    overtime without limit at $450; $20 per boat held a quarter; 10 in stock at the start.
    Boats are tonnes, so a price per kg is the boat's cost / 1000; ``unit`` is the money unit
    (1e-6: the same case in million USD)."""
    return toy(
        {"Q1": 91, "Q2": 91, "Q3": 91, "Q4": 91},
        {("Sailboats", "M"): [40, 60, 75, 25]},
        [sup("Regular", 40, 0.4 * unit), sup("Overtime", 10_000, 0.45 * unit)],
        sectors={"Sailboats": 1000 * unit},
        materials=[
            {
                "Material": "M",
                "Initial stock (t)": 10,
                "Holding cost (per kg per period)": 0.02 * unit,
            }
        ],
    )


@pytest.mark.parametrize("unit", [1.0, 1e-3, 1e-6])
def test_the_optimum_does_not_depend_on_the_money_unit(tmp_path: Path, unit: float):
    """Published plan: regular time 40, 40, 40, 25; overtime 0, 10, 35, 0; 10 boats held after
    Q1. Cost 78,450 x unit. With a fixed handling tie-breaker of 0.01 per tonne moved, the
    million-USD run would trade holding (2e-5 per boat) against moves and buy differently."""
    out = solved(tmp_path, sailco(unit))
    assert out.solution.objective == pytest.approx(78_450 * unit, rel=1e-9)
    pur = sheet(out, "Purchases").pivot_table(
        index="Supplier", columns="Period", values="Total (t)", aggfunc="sum"
    )
    assert pur.loc["Regular", ["Q1", "Q2", "Q3", "Q4"]].tolist() == pytest.approx([40, 40, 40, 25])
    over = pur.loc["Overtime"].reindex(["Q1", "Q2", "Q3", "Q4"]).fillna(0.0).tolist()
    assert over == pytest.approx([0, 10, 35, 0], abs=1e-6)
    assert sheet(out, "Stock")["Closing (t)"].tolist() == pytest.approx([10, 0, 0, 0], abs=1e-6)
    assert plan_problems(out.built, out.plan) == []
