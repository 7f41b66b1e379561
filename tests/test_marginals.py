"""Marginal values checked by moving the right-hand side and solving again."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import toy, write

from model.studies.baseline import solve_workbook


def rows(
    china_cap: float = 40, australia_cap: float = 40, demand: float = 100, cap_s1: float = 100
) -> dict:
    """100 t demanded; China 10/kg, Australia 20/kg, USA 30/kg; China and Australia capped.
    At 40 % / 40 %: 40 x 10,000 + 40 x 20,000 + 20 x 30,000 = 1,800,000."""
    return toy(
        {"P1": 30},
        {("A", "M"): [demand]},
        [
            {
                "Supplier": "CN",
                "Capacity (t per period)": cap_s1,
                "Price (per kg)": 10,
                "Mine country": "China",
            },
            {
                "Supplier": "AU",
                "Capacity (t per period)": 100,
                "Price (per kg)": 20,
                "Mine country": "Australia",
            },
            {
                "Supplier": "US",
                "Capacity (t per period)": 100,
                "Price (per kg)": 30,
                "Mine country": "USA",
            },
        ],
        Caps=[
            {
                "Rule": "china",
                "Basis": "Mine country",
                "Group": "China",
                "Material": "ALL",
                "Sector": "ALL",
                "Max share (%)": china_cap,
            },
            {
                "Rule": "australia",
                "Basis": "Mine country",
                "Group": "Australia",
                "Material": "ALL",
                "Sector": "ALL",
                "Max share (%)": australia_cap,
            },
        ],
    )


def cost(tmp_path: Path, **kw) -> float:
    return solve_workbook(write(tmp_path / "m.xlsx", rows(**kw))).solution.objective


def marginals(tmp_path: Path, **kw):
    out = solve_workbook(write(tmp_path / "m.xlsx", rows(**kw)))
    return out.solution.objective, out.plan.sheets["Marginal values"]


def test_cap_point_matches_a_resolve(tmp_path: Path):
    """Loosening China from 40 % to 41 % swaps 1 t of USA (30/kg) for China (10/kg): saves
    20,000, which is what the cap's marginal value says."""
    base, mv = marginals(tmp_path)
    assert base == pytest.approx(1_800_000)
    china = mv[(mv["Kind"] == "Cap") & (mv["Item"] == "china: China")]
    assert china["Value"].item() == pytest.approx(20_000)
    assert base - cost(tmp_path, china_cap=41) == pytest.approx(china["Value"].item())
    australia = mv[(mv["Kind"] == "Cap") & (mv["Item"] == "australia: Australia")]
    assert base - cost(tmp_path, australia_cap=41) == pytest.approx(australia["Value"].item())


def test_demand_matches_a_resolve(tmp_path: Path):
    """One more tonne splits 40/40/20 under the caps: 0.4 x 10,000 + 0.4 x 20,000 +
    0.2 x 30,000 = 18,000."""
    base, mv = marginals(tmp_path)
    value = mv[mv["Kind"] == "Demand"]["Value"].item()
    assert value == pytest.approx(18_000)
    assert cost(tmp_path, demand=101) - base == pytest.approx(value)


def test_capacity_matches_a_resolve(tmp_path: Path):
    """China's capacity cut to 30 t (below its 40 % cap): China 30, Australia 40 (its cap),
    USA 30 = 2,000,000. One more tonne of Chinese capacity replaces a USA tonne: saves
    20,000, the capacity's marginal value, and holds while the China cap does not bind."""
    base, mv = marginals(tmp_path, cap_s1=30)
    assert base == pytest.approx(2_000_000)
    cap = mv[(mv["Kind"] == "Capacity") & (mv["Item"] == "CN")]
    assert cap["Value"].item() == pytest.approx(20_000)
    assert base - cost(tmp_path, cap_s1=31) == pytest.approx(cap["Value"].item())
    assert cap["Holds from"].item() <= 30 < 40 <= cap["Holds to"].item()


def _with_ranging(setting: str) -> dict:
    r = rows(cap_s1=30)
    r["Settings"] = [{"Setting": "Sensitivity ranging", "Value": setting}]
    return r


def test_ranging_setting(tmp_path: Path, monkeypatch):
    """'Sensitivity ranging': Yes ranges; No leaves Holds from/to blank with the same values;
    Auto ranges up to RANGING_AUTO_MAX_VARIABLES variables and says why not above."""
    import model.plan.marginals as mg

    def solved(setting: str):
        out = solve_workbook(write(tmp_path / f"r-{setting}.xlsx", _with_ranging(setting)))
        return out.plan.summary[mg.RANGING], out.plan.sheets["Marginal values"]

    yes_note, yes = solved("yes")
    assert yes_note.startswith("Yes")
    cap = yes[yes["Kind"] == "Capacity"]
    assert cap["Holds from"].item() <= 30 < 40 <= cap["Holds to"].item()

    no_note, no = solved("No")
    assert no_note == "No (Settings)"
    assert no["Holds from"].isna().all() and no["Holds to"].isna().all()
    assert no["Value"].tolist() == pytest.approx(yes["Value"].tolist())

    assert solved("Auto")[0].startswith("Yes")  # a toy is far below the limit
    monkeypatch.setattr(mg, "RANGING_AUTO_MAX_VARIABLES", 3)
    auto_note, auto = solved("Auto")
    assert auto_note.startswith("No: ") and "over the 3 'Auto' ranges" in auto_note
    assert auto["Holds from"].isna().all()
    assert mg.ranging_wanted("Auto", 3) and not mg.ranging_wanted("Auto", 4)
    assert mg.ranging_wanted("Yes", 10**9) and not mg.ranging_wanted("No", 1)
