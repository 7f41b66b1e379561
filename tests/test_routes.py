"""The two routes to HiGHS give it the same LP: the algebraic Pyomo model of model/algebra.py
compiled by Pyomo's standard-form compiler, and the sparse blocks of model/formulation.py
stacked directly. Compared entry by entry (matrix, costs, bounds, row sides), keyed by family
and index tuple, on every example, every hand-solved toy and generated workbooks: a family
added to one route and not the other fails here."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, small_rows, write

from model.input.validate import load
from model.lp.formulation import build_model
from model.lp.highs import hand_over, run
from model.lp.scenarios import factors


def canonical(handle) -> dict[str, object]:
    """The LP keyed by (family, index tuple) of rows and columns, independent of ordering."""
    b = handle.built
    lp = handle.highs.getLp()

    def key_of(blocks, family, i):
        return (family, blocks[family][i])

    col_keys = {
        f: vb.table[vb.cols].itertuples(index=False, name=None) for f, vb in b.var_blocks.items()
    }
    col_keys = {f: list(v) for f, v in col_keys.items()}
    row_keys = {f: rb.keys() for f, rb in b.row_blocks.items()}
    col_key = {
        int(c): key_of(col_keys, f, i)
        for f, cols in handle.col.items()
        for i, c in enumerate(cols)
        if c >= 0
    }
    row_key = {
        int(r): key_of(row_keys, f, i)
        for f, rows in handle.row.items()
        for i, r in enumerate(rows)
        if r >= 0
    }
    start = np.asarray(lp.a_matrix_.start_)
    index = np.asarray(lp.a_matrix_.index_)
    value = np.asarray(lp.a_matrix_.value_)
    entries = {}
    for j in range(lp.num_col_):
        for k in range(start[j], start[j + 1]):
            if value[k] != 0:
                entries[(row_key[int(index[k])], col_key[j])] = round(float(value[k]), 9)
    cost = {col_key[j]: round(c, 9) for j, c in enumerate(lp.col_cost_) if c != 0}
    bounds = {col_key[j]: (lp.col_lower_[j], lp.col_upper_[j]) for j in range(lp.num_col_)}
    used = {rk for rk, _ in entries}
    rows = {
        row_key[i]: (lp.row_lower_[i], lp.row_upper_[i])
        for i in range(lp.num_row_)
        if row_key[i] in used
    }
    return {"entries": entries, "cost": cost, "bounds": bounds, "rows": rows}


def assert_same_lp(data, scenario=None) -> None:
    f = factors(data, scenario)
    direct = hand_over(build_model(data, f))
    via_pyomo = hand_over(build_model(data, f, route="pyomo"))
    a, b = canonical(direct), canonical(via_pyomo)
    assert a["entries"] == b["entries"]
    assert a["cost"] == b["cost"]
    assert a["rows"] == b["rows"]
    # Pyomo drops columns that appear nowhere; every column it keeps has the same bounds.
    assert {k: a["bounds"][k] for k in b["bounds"]} == b["bounds"]
    used = {ck for _, ck in a["entries"]} | set(a["cost"])
    assert not (set(a["bounds"]) - set(b["bounds"])) & used
    one, two = run(direct), run(via_pyomo)
    assert one.status == two.status
    if one.status == "Optimal":
        assert one.objective == pytest.approx(two.objective, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("book", ["national-plan.xlsx", "small-example.xlsx"])
def test_same_lp_on_the_examples_and_every_scenario(book):
    data = load(EXAMPLES / book)
    for scenario in [None, *data.scenario_names]:
        assert_same_lp(data, scenario)


def test_same_lp_with_budget_and_limits(tmp_path):
    rows = small_rows()
    rows["Settings"].append({"Setting": "Budget per period", "Value": 12_000_000})
    rows["Materials"][0].update(
        {
            "Max stock (t)": 45,
            "Max draw (t per period)": 30,
            "Below-floor penalty (per kg per period)": 5,
        }
    )
    rows["Alternatives"] = [
        {"Sector": "Automotive", "Material": "NdPr oxide", "Max share (%)": 10, "Cost (per kg)": 70}
    ]
    data = load(write(tmp_path / "b.xlsx", rows))
    f = factors(data, None)
    a = canonical(hand_over(build_model(data, f)))
    b = canonical(hand_over(build_model(data, f, route="pyomo")))
    assert a["entries"] == b["entries"] and a["cost"] == b["cost"] and a["rows"] == b["rows"]
    families = {rk[0] for rk, _ in a["entries"]}
    assert {"budget", "ceiling", "max_draw", "floor", "caps"} <= families


def _toys() -> list[tuple[str, object]]:
    """Every hand-solved toy workbook of tests/test_model.py, by its builder."""
    sys.path.insert(0, str(Path(__file__).parent))
    import test_model as tm

    return [
        ("floor hard", tm.floor_rows(None)),
        ("floor soft", tm.floor_rows(5)),
        ("initial stock lots", tm.lots_rows("China")),
        ("initial stock unknown", tm.lots_rows(None)),
        ("sailco", tm.sailco(1.0)),
    ]


@pytest.mark.parametrize("name,rows", _toys(), ids=[n for n, _ in _toys()])
def test_same_lp_on_the_toys(tmp_path, name, rows):
    assert_same_lp(load(write(tmp_path / "toy.xlsx", rows)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_lp_on_generated_workbooks(tmp_path, seed):
    """The benchmark's generator at small size, three seeds: many suppliers and countries,
    caps of every kind (EACH, ALL, sector bans), scenarios, alternatives."""
    from model.cli.bench import synthetic_rows
    from model.input.template import write_input_workbook

    book = tmp_path / "gen.xlsx"
    write_input_workbook(book, synthetic_rows("small", seed=seed), force=True)
    data = load(book)
    assert_same_lp(data, data.scenario_names[0] if data.scenario_names else None)


def test_the_algebraic_model_reads_like_design():
    """DESIGN §2.1 for NdPr oxide, Automotive, 2027-Q1 of the small example: every offer's
    delivery to Automotive, every lot's draw, and the shortfall, summing to the demand."""
    from pyomo.repn import generate_standard_repn

    from model.lp.algebra import declare

    data = load(EXAMPLES / "small-example.xlsx")
    b = build_model(data, factors(data, None))
    m = declare(b)
    con = m.Meet_Demand["NdPr oxide", "Automotive", 0]
    repn = generate_standard_repn(con.body)
    names = sorted(v.name for v in repn.linear_vars)
    offers = data.offers
    expected = sorted(
        [f"Deliver[{o},Automotive,0]" for o in offers.index[offers["first"] == 0]]
        + [f"Draw[{L},Automotive,0]" for L in b.idx.lots["L"][b.idx.lots["start"] == 0]]
        + ["Shortfall[NdPr oxide,Automotive,0]"]
    )
    assert names == expected
    assert all(c == 1 for c in repn.linear_coefs)
    demand = data.demand
    d = demand[(demand["sector"] == "Automotive") & (demand["t"] == 0)]["tonnes"].iloc[0]
    assert con.lower == con.upper == pytest.approx(d)
    # A stock balance: closing = opening + put in - drawn, for the lot of the first supplier.
    bal = m.Stock_Balance[0, 0]
    terms = dict(
        zip(
            (v.name for v in generate_standard_repn(bal.body).linear_vars),
            generate_standard_repn(bal.body).linear_coefs,
            strict=True,
        )
    )
    assert terms["Stock[0,0]"] == 1 and terms["ToStock[0,0]"] == -1
    assert all(terms[f"Draw[0,{k},0]"] == 1 for k in ("Automotive",) if f"Draw[0,{k},0]" in terms)
    # The objective prices what is bought at 1000 x the price per kg.
    price = offers.at[0, "price_per_kg"] * 1000
    assert m.Price[0, 0] == pytest.approx(price)


def test_one_registry_of_families():
    """model/lp/families.py lists every family once; the blocks are built in its order under
    its Pyomo names, and the algebraic model declares a component of each name (a family
    missing from either statement, or named differently, fails here)."""
    from pyomo.environ import Constraint, Var

    from model.lp.algebra import to_pyomo
    from model.lp.families import CONSTRAINTS, VARIABLES
    from model.lp.formulation import build_model
    from model.lp.scenarios import factors

    data = load(EXAMPLES / "national-plan.xlsx")
    b = build_model(data, factors(data, None))
    assert list(b.var_blocks) == [f.name for f in VARIABLES]
    assert [vb.name for vb in b.var_blocks.values()] == [f.pyomo for f in VARIABLES]
    assert list(b.row_blocks) == [f.name for f in CONSTRAINTS]
    assert [rb.name for rb in b.row_blocks.values()] == [f.pyomo for f in CONSTRAINTS]
    b = build_model(data, factors(data, None), route="pyomo")
    m = to_pyomo(b).m
    assert {v.name for v in m.component_objects(Var)} == {f.pyomo for f in VARIABLES}
    assert {c.name for c in m.component_objects(Constraint)} == {f.pyomo for f in CONSTRAINTS}
