"""The two routes to HiGHS give it the same LP: the Pyomo model compiled by Pyomo's
standard-form compiler, and the same families stacked directly as sparse matrices."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXAMPLES, small_rows, write

from model.formulation import build_model
from model.scenarios import factors
from model.solve import hand_over, run
from model.validate import load


def canonical(handle) -> dict[str, object]:
    """The LP keyed by (family, position) of rows and columns, independent of ordering."""
    lp = handle.highs.getLp()
    col_key = {
        int(c): (f, i) for f, cols in handle.col.items() for i, c in enumerate(cols) if c >= 0
    }
    row_key = {
        int(r): (f, i) for f, rows in handle.row.items() for i, r in enumerate(rows) if r >= 0
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
    rows = {
        row_key[i]: (lp.row_lower_[i], lp.row_upper_[i])
        for i in range(lp.num_row_)
        if row_key[i] in {rk for rk, _ in entries}
    }
    return {"entries": entries, "cost": cost, "bounds": bounds, "rows": rows}


@pytest.mark.parametrize("book", ["national-plan.xlsx", "small-example.xlsx"])
def test_same_lp_both_routes(book):
    data = load(EXAMPLES / book)
    f = factors(data, data.scenario_names[0])
    direct = hand_over(build_model(data, f))
    via_pyomo = hand_over(build_model(data, f, pyomo=True))
    a, b = canonical(direct), canonical(via_pyomo)
    assert a["entries"] == b["entries"]
    assert a["cost"] == b["cost"]
    assert a["rows"] == b["rows"]
    # Pyomo drops columns that appear nowhere; every column it keeps has the same bounds.
    assert {k: a["bounds"][k] for k in b["bounds"]} == b["bounds"]
    assert run(direct).objective == pytest.approx(run(via_pyomo).objective, rel=1e-9)


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
    b = canonical(hand_over(build_model(data, f, pyomo=True)))
    assert a["entries"] == b["entries"] and a["cost"] == b["cost"] and a["rows"] == b["rows"]
    families = {rk[0] for rk, _ in a["entries"]}
    assert {"budget", "ceiling", "max_draw", "floor", "caps"} <= families
