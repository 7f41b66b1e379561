"""The example workbooks: the committed ones (``python inputs/make_examples.py`` rewrites them)
and the ones ``ree-plan serve`` offers (written from here, so an installed ree-plan has them).

Figures are illustrative, based on public figures (USGS Mineral Commodity Summaries 2025; IEA
Global Critical Minerals Outlook 2024/2025; company reports of Lynas, MP Materials, Iluka,
Solvay, Neo Performance and Energy Fuels via press, 2024-2025; Fastmarkets/SMM/Argus prices
2024-2025; METI/JOGMEC strategy; EU Regulation 2024/1252). They are not official data.
"""

from __future__ import annotations

from pathlib import Path

from model.input.template import write_input_workbook

EXAMPLES = ("national-plan.xlsx", "small-example.xlsx")
NOTE_SOURCES = (
    "Illustrative only, based on public figures: USGS Mineral Commodity Summaries 2025; IEA "
    "Global Critical Minerals Outlook 2024/2025; company reports (Lynas, MP Materials, Iluka, "
    "Solvay, Neo, Energy Fuels) via press 2024-2025; Fastmarkets/SMM/Argus prices 2024-2025; "
    "METI/JOGMEC stockpile strategy; EU Critical Raw Materials Act (2024/1252). Not official data."
)

NOTE_PROBABILITIES = (
    "Scenario probabilities (Scenarios, 'Probability (%)': the chance that the shock starts "
    "within the horizon) are illustrative guesses for 'ree-plan hedge', not forecasts."
)

NOTE_RISKS = (
    "Risks (Risks sheet, for 'ree-plan sample' and 'ree-plan risk'): chances per year and mean"
    " durations are illustrative orders of magnitude from the episodes since 2010 (the 2010"
    " embargo on Japan, the 2010-2014 quotas, the April 2025 heavy rare earth licences,"
    " Myanmar's border closures in 2021 and fighting from 2024, Lynas's licence disputes), not"
    " forecasts."
)

QUARTERS = [f"{y}-Q{q}" for y in (2027, 2028) for q in (1, 2, 3, 4)]
QUARTER_DAYS = [90, 91, 92, 92, 91, 91, 92, 92]  # 2028 is a leap year


def national_plan() -> dict[str, list[dict]]:
    """A national plan in the spirit of Japan's strategy: quarterly, 2027-2028."""
    ndpr, dy, tb = "NdPr oxide", "Dy oxide", "Tb oxide"
    # Quarterly demand (t REO): Japan uses ~19,000 t REO a year, magnets the largest part.
    base = {
        ("Automotive", ndpr): 900,
        ("Electronics", ndpr): 500,
        ("Renewables", ndpr): 300,
        ("Defense", ndpr): 40,
        ("Automotive", dy): 60,
        ("Electronics", dy): 15,
        ("Renewables", dy): 25,
        ("Defense", dy): 4,
        ("Automotive", tb): 12,
        ("Electronics", tb): 6,
        ("Renewables", tb): 4,
        ("Defense", tb): 1,
    }
    growth = {"Automotive": 0.03, "Renewables": 0.02, "Electronics": 0.0, "Defense": 0.01}
    demand = []
    for (sector, material), q0 in base.items():
        row = {"Sector": sector, "Material": material}
        for i, p in enumerate(QUARTERS):
            row[p] = round(q0 * (1 + growth[sector]) ** i, 1)
        demand.append(row)

    def offer(name, material, mine, refine, cap, price, first=None, last=None, minp=None):
        return {
            "Supplier": name,
            "Material": material,
            "Mine country": mine,
            "Refine country": refine,
            "Capacity (t per period)": cap,
            "Price (per kg)": price,
            "Min purchase (t per period)": minp,
            "First period": first,
            "Last period": last,
        }

    suppliers = [
        # China: ~91% of separation, ~99.9% of heavy rare earth separation (IEA).
        offer("China Northern RE", ndpr, "China", "China", 1500, 62),
        offer("China Southern RE", dy, "China", "China", 100, 230),
        offer("China Southern RE", tb, "China", "China", 25, 980),
        # Myanmar supplies ~45% of heavy rare earth feed, separated in China.
        offer("Myanmar feed via China", dy, "Myanmar", "China", 60, 225),
        offer("Myanmar feed via China", tb, "Myanmar", "China", 12, 960),
        # Lynas: Mt Weld -> Kuantan, 10,500 t/yr NdPr; first Dy/Tb outside China in 2025.
        offer("Lynas", ndpr, "Australia", "Malaysia", 600, 75, minp=200),
        offer("Lynas", dy, "Australia", "Malaysia", 15, 700),
        offer("Lynas", tb, "Australia", "Malaysia", 4, 2000),
        # MP Materials: US DoD NdPr price floor $110/kg.
        offer("MP Materials", ndpr, "USA", "USA", 150, 110),
        # Energy Fuels: 850-1,000 t/yr NdPr now, heavy rare earths in phase 2.
        offer("Energy Fuels", ndpr, "USA", "USA", 100, 100),
        offer("Energy Fuels", dy, "USA", "USA", 5, 800, first="2028-Q1"),
        offer("Energy Fuels", tb, "USA", "USA", 1.5, 2500, first="2028-Q1"),
        # Iluka Eneabba: 17,500 t/yr REO incl. Dy, Tb; commissioning 2027.
        offer("Iluka Eneabba", ndpr, "Australia", "Australia", 300, 95, first="2027-Q3"),
        offer("Iluka Eneabba", dy, "Australia", "Australia", 20, 750, first="2027-Q3"),
        offer("Iluka Eneabba", tb, "Australia", "Australia", 5, 2200, first="2027-Q3"),
        # Solvay La Rochelle (France) and Neo Sillamae (Estonia) separate mixed feed.
        offer("Solvay La Rochelle", ndpr, "Various", "France", 150, 100),
        offer("Solvay La Rochelle", dy, "Various", "France", 3, 900),
        offer("Solvay La Rochelle", tb, "Various", "France", 1, 2500),
        offer("Neo Sillamae", ndpr, "Various", "Estonia", 200, 90),
    ]

    def stock(material, tonnes, mine, refine, supplier):
        return {
            "Material": material,
            "Tonnes": tonnes,
            "Mine country": mine,
            "Refine country": refine,
            "Supplier": supplier,
        }

    recycling = [
        {
            "Stream": "Domestic magnet recycling",
            "Material": ndpr,
            "Country": "Japan",
            "Capacity (t per period)": 40,
            "Cost (per kg)": 70,
        },
        {
            "Stream": "Domestic magnet recycling",
            "Material": dy,
            "Country": "Japan",
            "Capacity (t per period)": 3,
            "Cost (per kg)": 300,
        },
        {
            "Stream": "HyProMag",
            "Material": ndpr,
            "Country": "United Kingdom",
            "Capacity (t per period)": 15,
            "Cost (per kg)": 85,
        },
    ]
    return {
        "Settings": [
            {"Setting": "Currency", "Value": "USD"},
            {"Setting": "Allow shortfall", "Value": "Yes"},
            {"Setting": "Time limit (s)", "Value": 60},
            {"Setting": "Sensitivity ranging", "Value": "Auto"},
            # ree-plan hedge: 0 = least expected cost; raise it to protect the worst cases.
            {"Setting": "Risk weight (%)", "Value": 0},
            {"Setting": "Risk level (%)", "Value": 90},
        ],
        "Periods": [{"Period": p, "Days": d} for p, d in zip(QUARTERS, QUARTER_DAYS, strict=True)],
        "Materials": [
            # JOGMEC: about 60 days of consumption in the stockpile. Below-floor penalties
            # above the price of rebuying keep the reserve to the end of the horizon.
            {
                "Material": ndpr,
                "Min cover (days)": 60,
                "Max stock (t)": 3000,
                "Holding cost (per kg per period)": 0.5,
                "Below-floor penalty (per kg per period)": 150,
            },
            {
                "Material": dy,
                "Min cover (days)": 60,
                "Max stock (t)": 250,
                "Holding cost (per kg per period)": 2,
                "Below-floor penalty (per kg per period)": 1000,
            },
            {
                "Material": tb,
                "Min cover (days)": 60,
                "Max stock (t)": 50,
                "Holding cost (per kg per period)": 5,
                # Below Electronics' shortfall penalty (3,000/kg): at 3,000 the plan left
                # Electronics short rather than let Tb stock dip (check warns of that now).
                "Below-floor penalty (per kg per period)": 2500,
            },
        ],
        "Sectors": [
            {"Sector": "Automotive", "Shortfall penalty (per kg)": 5000},
            {"Sector": "Defense", "Shortfall penalty (per kg)": 20000},
            {"Sector": "Renewables", "Shortfall penalty (per kg)": 4000},
            {"Sector": "Electronics", "Shortfall penalty (per kg)": 3000},
        ],
        "Demand": demand,
        "Suppliers": suppliers,
        # The stockpile at the start, by origin (illustrative): mostly Chinese material bought
        # before 2010, plus Lynas material since. The caps see each lot's origin, so the
        # China-refined Dy and Tb cannot serve Defense.
        "Initial stock": [
            stock(ndpr, 800, "China", "China", "China Northern RE"),
            stock(ndpr, 400, "Australia", "Malaysia", "Lynas"),
            stock(dy, 50, "China", "China", "China Southern RE"),
            stock(dy, 20, "Myanmar", "China", "Myanmar feed via China"),
            stock(dy, 10, "Australia", "Malaysia", "Lynas"),
            stock(tb, 10, "China", "China", "China Southern RE"),
            stock(tb, 4, "Myanmar", "China", "Myanmar feed via China"),
            stock(tb, 2, "Australia", "Malaysia", "Lynas"),
        ],
        "Recycling": recycling,
        "Alternatives": [
            # Rare-earth-free motors (ferrite, induction) and Dy-lean magnets (grain-boundary
            # diffusion) avoid part of the demand at a cost.
            {"Sector": "Automotive", "Material": ndpr, "Max share (%)": 10, "Cost (per kg)": 150},
            {"Sector": "Automotive", "Material": dy, "Max share (%)": 30, "Cost (per kg)": 400},
            {"Sector": "Electronics", "Material": ndpr, "Max share (%)": 5, "Cost (per kg)": 120},
        ],
        "Caps": [
            {
                "Rule": "METI 50% per mine country",
                "Basis": "Mine country",
                "Group": "EACH",
                "Material": "EACH",
                "Sector": "ALL",
                "Max share (%)": 50,
            },
            {
                "Rule": "EU CRMA 65% per refining country",
                "Basis": "Refine country",
                "Group": "EACH",
                "Material": "ALL",
                "Sector": "ALL",
                "Max share (%)": 65,
            },
            {
                "Rule": "No China-refined for Defense",
                "Basis": "Refine country",
                "Group": "China",
                "Material": "ALL",
                "Sector": "Defense",
                "Max share (%)": 0,
            },
        ],
        "Scenarios": [
            # 2010: two months without Chinese shipments = two thirds of a quarter.
            {
                "Scenario": "2010-style embargo",
                "Effect": "Capacity",
                "Basis": "Refine country",
                "Target": "China",
                "Change (%)": -67,
                "First period": "2027-Q3",
                "Last period": "2027-Q3",
                "Probability (%)": 10,  # illustrative: chance it starts by the horizon
            },
            # April 2025: export licences on Dy, Tb and five more; magnet exports -74%.
            {
                "Scenario": "Heavy RE licence shock",
                "Effect": "Capacity",
                "Basis": "Supplier",
                "Target": "China Southern RE",
                "Change (%)": -75,
                "First period": "2028-Q1",
                "Last period": "2028-Q2",
                "Probability (%)": 20,  # illustrative: chance it starts by the horizon
            },
            {
                "Scenario": "Heavy RE licence shock",
                "Effect": "Capacity",
                "Basis": "Supplier",
                "Target": "Myanmar feed via China",
                "Change (%)": -75,
                "First period": "2028-Q1",
                "Last period": "2028-Q2",
            },
            {
                "Scenario": "Heavy RE licence shock",
                "Effect": "Price",
                "Basis": "Material",
                "Target": dy,
                "Change (%)": 200,
                "First period": "2028-Q1",
                "Last period": "2028-Q2",
            },
            {
                "Scenario": "Heavy RE licence shock",
                "Effect": "Price",
                "Basis": "Material",
                "Target": tb,
                "Change (%)": 150,
                "First period": "2028-Q1",
                "Last period": "2028-Q2",
            },
            {
                "Scenario": "Myanmar feed disruption",
                "Effect": "Capacity",
                "Basis": "Mine country",
                "Target": "Myanmar",
                "Change (%)": -100,
                "First period": "2027-Q4",
                "Last period": "2028-Q1",
                "Probability (%)": 15,  # illustrative: chance it starts by the horizon
            },
            {
                "Scenario": "EV demand surge",
                "Effect": "Demand",
                "Basis": "Sector",
                "Target": "Automotive",
                "Change (%)": 30,
                "First period": "2028-Q1",
                "Last period": "2028-Q4",
                "Probability (%)": 20,  # illustrative: chance it starts by the horizon
            },
        ],
        # DESIGN §7: what can go wrong, for 'ree-plan sample' and 'ree-plan risk'. Chances
        # and durations are illustrative orders of magnitude from the episodes since 2010
        # (see NOTE_RISKS), not forecasts.
        "Risks": [
            {
                # 2010 embargo (2 months), 2010-2014 quotas, April 2025 licences: about four
                # episodes in 15 years, from a quarter to years.
                "Risk": "China export restriction",
                "Effect": "Capacity",
                "Basis": "Refine country",
                "Target": "China",
                "Change (%)": -60,
                "Chance per year (%)": 20,
                "Duration (periods)": 2,
            },
            {
                # April 2025: licences on Dy, Tb and five more; Chinese heavy separation.
                "Risk": "Heavy RE licences",
                "Effect": "Capacity",
                "Basis": "Supplier",
                "Target": "China Southern RE",
                "Change (%)": -75,
                "Chance per year (%)": 15,
                "Duration (periods)": 3,
            },
            {
                # Border closures 2021, fighting in Kachin State from 2024.
                "Risk": "Myanmar feed stops",
                "Effect": "Capacity",
                "Basis": "Mine country",
                "Target": "Myanmar",
                "Change (%)": -100,
                "Chance per year (%)": 30,
                "Duration (periods)": 2,
            },
            {
                # Lynas in Malaysia: licence conditions 2019 and 2023; start-up delays.
                "Risk": "Lynas outage",
                "Effect": "Capacity",
                "Basis": "Supplier",
                "Target": "Lynas",
                "Change (%)": -50,
                "Chance per year (%)": 10,
                "Duration (periods)": 1.5,
            },
            {
                # 2011 after the embargo: Dy $1,400 (from ~$300); Europe 2025: 3x China's.
                "Risk": "Dy price spike",
                "Effect": "Price",
                "Basis": "Material",
                "Target": dy,
                "Change (%)": 100,
                "Chance per year (%)": 15,
                "Duration (periods)": 3,
            },
            {
                # NdPr roughly doubled in 2021-2022 and fell back by 2023.
                "Risk": "NdPr price spike",
                "Effect": "Price",
                "Basis": "Material",
                "Target": ndpr,
                "Change (%)": 60,
                "Chance per year (%)": 15,
                "Duration (periods)": 3,
            },
        ],
    }


def small_example() -> dict[str, list[dict]]:
    """Three quarters, one material: small enough to solve by hand (see tests/test_examples.py).

    Baseline optimum, by hand: the floor is 30 days x 120 t / 90 days = 40 t at the end of every
    quarter, so Q1 buys 160 t and Q2, Q3 buy 120 t. China may be at most 65 % of what is bought:
    Q1 104 t China at 60 + 56 t Lynas at 80 = 10,720,000; Q2 and Q3 78 t + 42 t = 8,040,000 each;
    holding 40 t x 1000 x 1 = 40,000 a quarter. Total 26,920,000 USD.
    """
    ndpr = "NdPr oxide"
    periods = ["2027-Q1", "2027-Q2", "2027-Q3"]
    return {
        "Settings": [{"Setting": "Currency", "Value": "USD"}],
        "Periods": [{"Period": p, "Days": 90} for p in periods],
        "Materials": [
            {
                "Material": ndpr,
                "Initial stock (t)": 0,
                "Min cover (days)": 30,
                "Holding cost (per kg per period)": 1,
            }
        ],
        "Sectors": [
            {"Sector": "Automotive", "Shortfall penalty (per kg)": 500},
            {"Sector": "Defense", "Shortfall penalty (per kg)": 2000},
        ],
        "Demand": [
            {"Sector": "Automotive", "Material": ndpr, **dict.fromkeys(periods, 100)},
            {"Sector": "Defense", "Material": ndpr, **dict.fromkeys(periods, 20)},
        ],
        "Suppliers": [
            {
                "Supplier": "ChinaCo",
                "Material": ndpr,
                "Mine country": "China",
                "Refine country": "China",
                "Capacity (t per period)": 150,
                "Price (per kg)": 60,
            },
            {
                "Supplier": "Lynas",
                "Material": ndpr,
                "Mine country": "Australia",
                "Refine country": "Malaysia",
                "Capacity (t per period)": 60,
                "Price (per kg)": 80,
            },
            {
                "Supplier": "MP Materials",
                "Material": ndpr,
                "Mine country": "USA",
                "Refine country": "USA",
                "Capacity (t per period)": 30,
                "Price (per kg)": 110,
            },
        ],
        "Recycling": [
            {
                "Stream": "Magnet recycling",
                "Material": ndpr,
                "Country": "USA",
                "Capacity (t per period)": 10,
                "Cost (per kg)": 90,
            }
        ],
        "Caps": [
            {
                "Rule": "China at most 65%",
                "Basis": "Mine country",
                "Group": "China",
                "Material": "ALL",
                "Sector": "ALL",
                "Max share (%)": 65,
            },
            {
                "Rule": "No China-refined for Defense",
                "Basis": "Refine country",
                "Group": "China",
                "Material": "ALL",
                "Sector": "Defense",
                "Max share (%)": 0,
            },
        ],
        "Scenarios": [
            {
                "Scenario": "China embargo in Q2",
                "Effect": "Capacity",
                "Basis": "Mine country",
                "Target": "China",
                "Change (%)": -100,
                "First period": "2027-Q2",
                "Last period": "2027-Q2",
                "Probability (%)": 30,  # illustrative: chance it starts by the horizon
            },
        ],
    }


def write_examples(folder: Path) -> None:
    """Write both examples (:data:`EXAMPLES`) into ``folder``."""
    write_input_workbook(
        folder / "national-plan.xlsx",
        national_plan(),
        force=True,
        note=[
            "Example: a national rare earth plan in the spirit of Japan's strategy "
            "(quarterly, 2027-2028).",
            NOTE_SOURCES,
            NOTE_PROBABILITIES,
            NOTE_RISKS,
        ],
    )
    write_input_workbook(
        folder / "small-example.xlsx",
        small_example(),
        force=True,
        note=[
            "Example: a case small enough to check by hand (one material, three quarters).",
            "Illustrative figures only, not official data.",
            NOTE_PROBABILITIES,
        ],
    )
