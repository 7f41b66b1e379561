"""Every cross-sheet check of DESIGN §1, turning a :class:`RawBook` into :class:`PlanData`.

Each check appends :class:`Issue` objects naming ``Sheet!Cell``; nothing is raised until all
checks have run, so a planner sees every problem of a workbook in one run.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from model.input.data import PlanData
from model.input.issues import WARNING, InputError, Issue
from model.input.workbook import MAX_NUMBER, SHEET_SPECS, RawBook, Table, read_workbook

MINE, REFINE, SUPPLIER, MATERIAL, SECTOR = (
    "Mine country",
    "Refine country",
    "Supplier",
    "Material",
    "Sector",
)
CAP_BASES = (MINE, REFINE, SUPPLIER)
OFFER_BASES = (MINE, REFINE, SUPPLIER, MATERIAL)
EFFECT_BASES = {"Capacity": OFFER_BASES, "Price": OFFER_BASES, "Demand": (MATERIAL, SECTOR)}
EACH, ALL = "EACH", "ALL"

SETTINGS = {  # key -> (kind, default)
    "Currency": ("text", "USD"),
    "Allow shortfall": ("yes/no", True),
    "Budget per period": ("number", None),
    "Time limit (s)": ("number", 60.0),
    "Sensitivity ranging": ("auto/yes/no", "Auto"),
    "Model route": ("route", "Auto"),  # Auto, Pyomo or Direct: how the LP reaches HiGHS
    "Risk weight (%)": ("percent", 0.0),  # hedge: weight of CVaR against expected cost
    "Risk level (%)": ("percent", 90.0),  # hedge: CVaR's level (the dearest 10 % at 90)
}
PROBABILITY_SLACK = 1e-9  # scenario probabilities may sum above 100 % by rounding only


def load(path: str | os.PathLike[str]) -> PlanData:
    """Read and validate a workbook; raise :class:`InputError` with every problem found."""
    return validate(read_workbook(path))


def _word(value: Any, choices: Iterable[str]) -> str | None:
    """Match a keyword case-insensitively; return its canonical spelling or None."""
    if value is None:
        return None
    folded = " ".join(str(value).split()).casefold()
    return next((c for c in choices if c.casefold() == folded), None)


def _shape(label: str) -> str:
    """'2027-Q1' -> '9999-a9': labels of one shape compare in planning order."""
    return re.sub(r"\d", "9", re.sub(r"[^\W\d_]", "a", str(label)))


def _hint(value: Any, names: Iterable[str]) -> str:
    # Names read from a sheet can be blank (NaN) where a column is missing: no hint from those.
    known = [n for n in names if isinstance(n, str)]
    close = difflib.get_close_matches(str(value), known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Checker:
    def __init__(self, book: RawBook):
        self.book = book
        self.issues: list[Issue] = list(book.issues)
        self.t = book.tables
        self.offer_names = pd.DataFrame(columns=["supplier", "material", "mine", "refine"])
        self.lot_names = pd.DataFrame(columns=["supplier", "material", "mine", "refine"])

    def cap_groups(self, basis: str) -> set[str]:
        """The names a cap's Group may take: the offers' and the Initial stock lots'."""
        lots = self.lot_names
        return basis_values(self.offer_names, basis) | {
            v for v in basis_values(lots, basis) if isinstance(v, str)
        }

    def error(self, table: Table, column: str, row: int, message: str) -> None:
        cell = table.cell(column, row).split("!", 1)[1]
        self.issues.append(Issue(table.sheet, cell, message))

    def warn(self, table: Table, column: str | None, row: int | None, message: str) -> None:
        cell = table.cell(column, row).split("!", 1)[1] if column and row else ""
        self.issues.append(Issue(table.sheet, cell, message, WARNING))

    # -- generic checks -------------------------------------------------------------------
    def unique(self, table: Table, key: tuple[str, ...]) -> None:
        if not key or table.df.empty:
            return
        df = table.df
        valid = df[list(key)].notna().all(axis=1)
        dup = df[valid].duplicated(list(key), keep="first")
        first_rows = df[valid].drop_duplicates(list(key)).set_index(list(key))["_row"]
        for _, rec in df[valid][dup].iterrows():
            k = tuple(rec[c] for c in key)
            first = first_rows.loc[k if len(k) > 1 else k[0]]
            what = " and ".join(f"{c} '{v}'" for c, v in zip(key, k, strict=True))
            self.error(
                table, key[-1], rec["_row"], f"{what} is already given in row {first}; keep one row"
            )

    def reference(
        self,
        table: Table,
        column: str,
        names: Iterable[str],
        what: str,
        extra: tuple[str, ...] = (),
    ) -> None:
        known = set(names)
        for value, row in zip(table.df[column], table.df["_row"], strict=True):
            if value is None or value in known or value in extra:
                continue
            allowed = f" or {' / '.join(extra)}" if extra else ""
            self.error(
                table,
                column,
                row,
                f"'{value}' is not a {what}{allowed} listed in the "
                f"workbook{_hint(value, known)}; add it or fix the spelling",
            )


def validate(book: RawBook) -> PlanData:
    """Check a workbook read by :func:`read_workbook`; return the data or raise InputError."""
    c = _Checker(book)
    t = c.t
    for name, table in t.items():
        c.unique(table, SHEET_SPECS[name].key)

    settings = _settings(c, t["Settings"])

    periods_df = t["Periods"].df.dropna(subset=["Period"])
    periods = list(dict.fromkeys(periods_df["Period"]))
    days = [
        float(d) if d is not None else 1.0 for d in periods_df.drop_duplicates("Period")["Days"]
    ]
    if t["Periods"].present and not periods:
        c.issues.append(Issue("Periods", "A2", "no periods listed; add at least one period"))
    position = {p: i for i, p in enumerate(periods)}
    sortable = len(periods) > 1 and all(a < b for a, b in zip(periods, periods[1:], strict=False))

    def period_index(table: Table, column: str, row: int, label: Any, default: int) -> int | None:
        """Position of a period label; a label beyond a sortable horizon lies outside it."""
        if label is None:
            return default
        if label in position:
            return position[label]
        if sortable and _shape(label) == _shape(periods[0]):
            if label > periods[-1]:
                return len(periods)  # after the horizon
            if label < periods[0]:
                return -1  # before the horizon
        c.error(
            table,
            column,
            row,
            f"'{label}' is not a period on the Periods sheet"
            f"{_hint(label, periods)}; use one of its labels",
        )
        return None

    materials = _materials(c, t["Materials"])
    sectors = _sectors(t["Sectors"])
    demand = _demand(c, t["Demand"], book.period_columns, periods, materials.index, sectors.index)
    offers = _offers(c, t["Suppliers"], t["Recycling"], materials.index, period_index, len(periods))
    stock_lots = _stock_lots(c, t["Initial stock"], materials)
    alternatives = _alternatives(c, t["Alternatives"], materials.index, sectors.index)
    caps = _caps(c, t["Caps"], offers, materials.index, sectors.index, period_index, len(periods))
    scenarios = _scenarios(
        c, t["Scenarios"], offers, materials.index, sectors.index, period_index, len(periods)
    )
    risks = _risks(c, t["Risks"], materials.index, sectors.index)
    _warnings(c, materials, sectors, demand, offers)
    _cap_warnings(c, caps, offers, demand)
    _origin_warnings(c, caps, materials, stock_lots, demand)

    errors = [i for i in c.issues if i.severity != WARNING]
    if errors:
        raise InputError(c.issues)
    return PlanData(
        source=book.path,
        currency=settings["Currency"],
        allow_shortfall=settings["Allow shortfall"],
        budget_per_period=settings["Budget per period"],
        time_limit_s=settings["Time limit (s)"],
        ranging=settings["Sensitivity ranging"],
        route=settings["Model route"],
        risk_weight=settings["Risk weight (%)"] / 100.0,
        risk_level=settings["Risk level (%)"] / 100.0,
        periods=periods,
        days=days,
        materials=materials,
        sectors=sectors,
        demand=demand,
        offers=offers,
        alternatives=alternatives,
        caps=caps,
        scenarios=scenarios,
        risks=risks,
        stock_lots=stock_lots,
        warnings=[i for i in c.issues if i.severity == WARNING],
    )


def _settings(c: _Checker, table: Table) -> dict[str, Any]:
    values = {k: default for k, (_, default) in SETTINGS.items()}
    for key, value, row in zip(
        table.df["Setting"], table.df["Value"], table.df["_row"], strict=True
    ):
        name = _word(key, SETTINGS)
        if name is None:
            if key is not None:
                c.warn(
                    table,
                    "Setting",
                    row,
                    f"'{key}' is not a setting ree-plan knows "
                    f"({', '.join(SETTINGS)}); it is ignored",
                )
            continue
        if value is None:
            continue
        kind = SETTINGS[name][0]
        if kind == "text":
            values[name] = str(value)
        elif kind == "auto/yes/no":
            word = _word(value, ("Auto", "Yes", "No", "Y", "N"))
            if word is None:
                c.error(table, "Value", row, f"'{name}' must be Auto, Yes or No, not '{value}'")
            else:
                values[name] = {"Y": "Yes", "N": "No"}.get(word, word)
        elif kind == "route":
            word = _word(value, ("Auto", "Pyomo", "Direct"))
            if word is None:
                c.error(
                    table, "Value", row, f"'{name}' must be Auto, Pyomo or Direct, not '{value}'"
                )
            else:
                values[name] = word
        elif kind == "percent":
            text = str(value).strip().removesuffix("%").strip().replace(",", "")
            try:
                number = float(text)
            except ValueError:
                c.error(
                    table, "Value", row, f"'{name}' must be a percentage such as 50, not '{value}'"
                )
                continue
            top_open = name == "Risk level (%)"  # CVaR at 100 % divides by zero
            if (
                not math.isfinite(number)
                or number < 0
                or number > 100
                or (top_open and number >= 100)
            ):
                c.error(
                    table,
                    "Value",
                    row,
                    f"'{name}' must be between 0 and {'99.9' if top_open else '100'} %,"
                    f" not '{value}'",
                )
                continue
            values[name] = number
        elif kind == "yes/no":
            word = _word(value, ("Yes", "No", "Y", "N", "True", "False", "1", "0"))
            if word is None:
                c.error(table, "Value", row, f"'{name}' must be Yes or No, not '{value}'")
            else:
                values[name] = word in ("Yes", "Y", "True", "1")
        else:
            try:
                number = float(str(value).replace(",", ""))
            except ValueError:
                c.error(table, "Value", row, f"'{name}' must be a number, not '{value}'")
                continue
            if not math.isfinite(number) or number <= 0 or number > MAX_NUMBER:
                c.error(
                    table,
                    "Value",
                    row,
                    f"'{name}' must be a number greater than 0 and at most {MAX_NUMBER:g}, "
                    f"not '{value}'; leave it blank for none",
                )
                continue
            values[name] = number
    return values


def _materials(c: _Checker, table: Table) -> pd.DataFrame:
    df = table.df.dropna(subset=["Material"]).drop_duplicates("Material")
    out = pd.DataFrame(
        {
            "initial_t": df["Initial stock (t)"].astype(float).fillna(0.0).to_numpy(),
            "min_cover_days": df["Min cover (days)"].astype(float).fillna(0.0).to_numpy(),
            "max_stock_t": df["Max stock (t)"].astype(float).to_numpy(),
            "holding_per_kg": df["Holding cost (per kg per period)"]
            .astype(float)
            .fillna(0.0)
            .to_numpy(),
            "max_draw_t": df["Max draw (t per period)"].astype(float).to_numpy(),
            "floor_penalty_per_kg": df["Below-floor penalty (per kg per period)"]
            .astype(float)
            .to_numpy(),
            "row": df["_row"].to_numpy(),
        },
        index=pd.Index(df["Material"].astype(str), name="material"),
    )
    if table.present and out.empty:
        c.issues.append(Issue("Materials", "A2", "no materials listed; add at least one"))
    return out


def _sectors(table: Table) -> pd.DataFrame:
    df = table.df.dropna(subset=["Sector"]).drop_duplicates("Sector")
    return pd.DataFrame(
        {
            "penalty_per_kg": df["Shortfall penalty (per kg)"].astype(float).to_numpy(),
            "row": df["_row"].to_numpy(),
        },
        index=pd.Index(df["Sector"].astype(str), name="sector"),
    )


def _demand(
    c: _Checker,
    table: Table,
    period_columns: list[tuple[str, str]],
    periods: list[str],
    materials: pd.Index,
    sectors: pd.Index,
) -> pd.DataFrame:
    c.reference(table, "Sector", sectors, "sector")
    c.reference(table, "Material", materials, "material")
    seen: dict[str, str] = {}
    for label, letter in period_columns:
        if label in seen:
            c.issues.append(
                Issue(
                    "Demand",
                    f"{letter}1",
                    f"period '{label}' has a second "
                    f"column (first in column {seen[label]}); merge them",
                )
            )
        elif label not in periods:
            c.issues.append(
                Issue(
                    "Demand",
                    f"{letter}1",
                    f"'{label}' is not a period on the "
                    f"Periods sheet{_hint(label, periods)}; rename the column or "
                    "delete it",
                )
            )
        seen.setdefault(label, letter)
    if table.present:
        for p in periods:
            if p not in seen:
                c.issues.append(  # DESIGN §1: a period with no column is an error
                    Issue(
                        "Demand",
                        "1",
                        f"no column for period '{p}'; add a column headed '{p}' in row 1 "
                        "with the tonnes as numbers (blank cells are 0)",
                    )
                )
    df = table.df
    frames = []
    for i, p in enumerate(periods):
        key = f"period:{p}"
        if key not in df.columns:
            continue
        frames.append(
            pd.DataFrame(
                {
                    "material": df["Material"],
                    "sector": df["Sector"],
                    "t": i,
                    "tonnes": df[key].astype(float),
                    "penalty_per_kg": df["Shortfall penalty (per kg)"].astype(float),
                    "row": df["_row"],
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {"material": [], "sector": [], "t": [], "tonnes": [], "penalty_per_kg": [], "row": []}
        )
    long = pd.concat(frames, ignore_index=True)
    ok = (long["tonnes"] > 0) & long["material"].isin(materials) & long["sector"].isin(sectors)
    long = long[ok].drop_duplicates(["material", "sector", "t"])
    return long.astype({"t": int, "tonnes": float, "row": int}).reset_index(drop=True)


def _offers(
    c: _Checker, sup: Table, rec: Table, materials: pd.Index, period_index: Any, n: int
) -> pd.DataFrame:
    c.reference(sup, "Material", materials, "material")
    c.reference(rec, "Material", materials, "material")
    suppliers = set(sup.df["Supplier"].dropna())
    for name, row in zip(rec.df["Stream"], rec.df["_row"], strict=True):
        if name in suppliers:
            c.error(
                rec,
                "Stream",
                row,
                f"'{name}' is also a supplier's name; give the recycling stream a name of its own",
            )
    records = []
    for _, r in sup.df.iterrows():
        first = period_index(sup, "First period", r["_row"], r["First period"], 0)
        last = period_index(sup, "Last period", r["_row"], r["Last period"], n - 1)
        if first is not None and last is not None and (first >= n or last < 0):
            c.warn(
                sup,
                "First period",
                r["_row"],
                f"offer '{r['Supplier']}' / '{r['Material']}' is available only outside the "
                "planning horizon; it is not used",
            )
        elif first is not None and last is not None and first > last:
            c.error(
                sup,
                "Last period",
                r["_row"],
                "the Last period comes before the First period; swap or fix them",
            )
        records.append(
            (
                "Suppliers",
                r["Supplier"],
                r["Material"],
                r["Mine country"],
                r["Refine country"],
                r["Capacity (t per period)"],
                r["Price (per kg)"],
                r["Min purchase (t per period)"],
                first,
                last,
                r["_row"],
            )
        )
    for _, r in rec.df.iterrows():
        records.append(
            (
                "Recycling",
                r["Stream"],
                r["Material"],
                r["Country"],
                r["Country"],
                r["Capacity (t per period)"],
                r["Cost (per kg)"],
                0.0,
                0,
                n - 1,
                r["_row"],
            )
        )
    cols = [
        "kind",
        "supplier",
        "material",
        "mine",
        "refine",
        "capacity_t",
        "price_per_kg",
        "min_purchase_t",
        "first",
        "last",
        "row",
    ]
    df = pd.DataFrame.from_records(records, columns=cols)
    # Names of every offer row, even one with a bad number, so that caps and scenarios naming
    # it are not reported as well.
    c.offer_names = df[["supplier", "material", "mine", "refine"]]
    ok = df[
        ["supplier", "material", "mine", "refine", "capacity_t", "price_per_kg", "first", "last"]
    ].notna().all(axis=1) & df["material"].isin(materials)
    df = df[ok].drop_duplicates(["supplier", "material"])
    df = df.astype(
        {
            "capacity_t": float,
            "price_per_kg": float,
            "min_purchase_t": float,
            "first": int,
            "last": int,
            "row": int,
        }
    )
    df["first"] = df["first"].clip(lower=0)
    df["last"] = df["last"].clip(upper=n - 1)
    df = df.reset_index(drop=True)
    df.index.name = "o"
    return df


def _stock_lots(c: _Checker, table: Table, materials: pd.DataFrame) -> pd.DataFrame:
    """The Initial stock sheet: one lot per row, its origin as given (blank = unknown).

    Sets ``materials.initial_t`` to each material's whole opening stock (the ``initial`` lot,
    ``unknown_initial_t``, plus the lots)."""
    c.reference(table, "Material", materials.index, "material")
    df = table.df.dropna(subset=["Material", "Tonnes"])
    df = df[df["Material"].isin(materials.index)]
    lots = pd.DataFrame(
        {
            "material": df["Material"].astype(str).to_numpy(),
            "tonnes": df["Tonnes"].astype(float).to_numpy(),
            "mine": df["Mine country"].to_numpy(dtype=object),
            "refine": df["Refine country"].to_numpy(dtype=object),
            "supplier": df["Supplier"].to_numpy(dtype=object),
            "row": df["_row"].astype(int).to_numpy(),
        }
    )
    for col in ("mine", "refine", "supplier"):
        lots[col] = lots[col].where(lots[col].notna(), np.nan)
    c.lot_names = lots[["supplier", "material", "mine", "refine"]]
    materials["unknown_initial_t"] = materials["initial_t"]
    on_sheet = lots.groupby("material")["row"].agg(list)
    for m, rows in on_sheet.items():
        if materials.at[m, "initial_t"] > 0:
            listed = ", ".join(str(r) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
            c.error(
                c.t["Materials"],
                "Initial stock (t)",
                int(materials.at[m, "row"]),
                f"{m} has initial stock here and on the Initial stock sheet (rows {listed}); "
                "give it in one place: clear this cell, or remove those rows",
            )
    materials["initial_t"] = materials["initial_t"] + lots.groupby("material")[
        "tonnes"
    ].sum().reindex(materials.index).fillna(0.0)
    return lots


def _origin_warnings(
    c: _Checker,
    caps: pd.DataFrame,
    materials: pd.DataFrame,
    lots: pd.DataFrame,
    demand: pd.DataFrame,
) -> None:
    """Stock whose origin a cap cannot see (the Materials Initial stock, or an Initial stock
    row with that basis blank) counts on neither side of the cap (DESIGN §2.7): warn where
    such stock can reach a sector the cap restricts."""
    column = {MINE: "mine", REFINE: "refine", SUPPLIER: "supplier"}
    restricting = caps[(caps["sector"] != ALL) & (caps["max_share"] < 1.0)]
    if restricting.empty:
        return
    wanted = demand.groupby("material")["sector"].agg(set)
    blind: list[tuple[Table, str, int, str, float, set[str]]] = []
    for m, r in materials[materials["unknown_initial_t"] > 0].iterrows():
        blind.append(
            (
                c.t["Materials"],
                "Initial stock (t)",
                int(r["row"]),
                m,
                r["unknown_initial_t"],
                set(column),
            )
        )
    for r in lots.itertuples():
        unknown = {b for b, col in column.items() if not isinstance(getattr(r, col), str)}
        if unknown:
            first = next(b for b in column if b in unknown)
            blind.append((c.t["Initial stock"], first, r.row, r.material, r.tonnes, unknown))
    for table, col, row, m, tonnes, unknown in blind:
        sectors = wanted.get(m, set())
        hit = restricting[
            restricting["basis"].isin(unknown)
            & restricting["material"].isin([m, EACH, ALL])
            & (restricting["sector"].isin(sectors) | (restricting["sector"] == EACH))
        ]
        if hit.empty or not sectors:
            continue
        rules = ", ".join(f"'{x}'" for x in hit["rule"].head(3))
        more = f" and {len(hit) - 3} more" if len(hit) > 3 else ""
        bases = " / ".join(b.lower() for b in column if b in set(hit["basis"]))
        c.warn(
            table,
            col,
            row,
            f"{tonnes:g} t of {m} in stock at the start has no known {bases}, so cap "
            f"{rules}{more} cannot see it: it may reach the sector the cap restricts whatever "
            "its real origin; give its origin on the Initial stock sheet",
        )


def _alternatives(
    c: _Checker, table: Table, materials: pd.Index, sectors: pd.Index
) -> pd.DataFrame:
    c.reference(table, "Sector", sectors, "sector")
    c.reference(table, "Material", materials, "material")
    df = table.df.dropna(subset=["Sector", "Material", "Max share (%)", "Cost (per kg)"])
    df = df[df["Sector"].isin(sectors) & df["Material"].isin(materials)]
    return (
        pd.DataFrame(
            {
                "material": df["Material"],
                "sector": df["Sector"],
                "max_share": df["Max share (%)"].astype(float) / 100.0,
                "cost_per_kg": df["Cost (per kg)"].astype(float),
                "row": df["_row"].astype(int),
            }
        )
        .drop_duplicates(["material", "sector"])
        .reset_index(drop=True)
    )


def basis_values(offers: pd.DataFrame, basis: str) -> set[str]:
    column = {MINE: "mine", REFINE: "refine", SUPPLIER: "supplier", MATERIAL: "material"}[basis]
    return set(offers[column])


def _window(
    c: _Checker, table: Table, r: pd.Series, period_index: Any, n: int
) -> tuple[int | None, int | None]:
    first = period_index(table, "First period", r["_row"], r["First period"], 0)
    last = period_index(table, "Last period", r["_row"], r["Last period"], n - 1)
    if first is None or last is None:
        return None, None
    if first >= n or last < 0:
        c.error(
            table,
            "First period",
            r["_row"],
            "the window lies outside the planning horizon; use periods of the Periods sheet",
        )
        return None, None
    if first > last:
        c.error(
            table,
            "Last period",
            r["_row"],
            "the Last period comes before the First period; swap or fix them",
        )
        return None, None
    return max(first, 0), min(last, n - 1)


def _caps(
    c: _Checker,
    table: Table,
    offers: pd.DataFrame,
    materials: pd.Index,
    sectors: pd.Index,
    period_index: Any,
    n: int,
) -> pd.DataFrame:
    records = []
    for _, r in table.df.iterrows():
        row = r["_row"]
        basis = _word(r["Basis"], CAP_BASES)
        if r["Basis"] is not None and basis is None:
            c.error(
                table,
                "Basis",
                row,
                f"'{r['Basis']}' is not a basis for a cap; use {', '.join(CAP_BASES)}",
            )
        group = r["Group"]
        if _word(group, (EACH,)):
            group = EACH
        elif basis and group is not None and group not in c.cap_groups(basis):
            c.error(
                table,
                "Group",
                row,
                f"'{group}' is not a {basis.lower()} of any offer or stock lot"
                f"{_hint(group, c.cap_groups(basis))}; use one of them or EACH",
            )
        material = _word(r["Material"], (EACH, ALL)) or r["Material"]
        if material not in (EACH, ALL, None) and material not in materials:
            c.error(
                table,
                "Material",
                row,
                f"'{material}' is not a material listed in the "
                f"workbook{_hint(material, materials)}; use a material, EACH or ALL",
            )
        sector = _word(r["Sector"], (EACH, ALL)) or r["Sector"]
        if sector not in (EACH, ALL, None) and sector not in sectors:
            c.error(
                table,
                "Sector",
                row,
                f"'{sector}' is not a sector listed in the "
                f"workbook{_hint(sector, sectors)}; use a sector, EACH or ALL",
            )
        first, last = _window(c, table, r, period_index, n)
        share = r["Max share (%)"]
        if share is not None and share >= 100:
            c.warn(
                table, "Max share (%)", row, f"cap '{r['Rule']}' allows 100 % and can never bind"
            )
        records.append(
            (
                r["Rule"],
                basis,
                group,
                material,
                sector,
                None if share is None else share / 100.0,
                first,
                last,
                row,
            )
        )
    df = pd.DataFrame.from_records(
        records,
        columns=[
            "rule",
            "basis",
            "group",
            "material",
            "sector",
            "max_share",
            "first",
            "last",
            "row",
        ],
    )
    df = df.dropna().reset_index(drop=True)
    return df.astype({"first": int, "last": int, "row": int, "max_share": float})


def _scenarios(
    c: _Checker,
    table: Table,
    offers: pd.DataFrame,
    materials: pd.Index,
    sectors: pd.Index,
    period_index: Any,
    n: int,
) -> pd.DataFrame:
    records = []
    for _, r in table.df.iterrows():
        row = r["_row"]
        effect, basis, target = _shock(c, table, r, materials, sectors)
        first, last = _window(c, table, r, period_index, n)
        change = r["Change (%)"]
        records.append(
            (
                r["Scenario"],
                effect,
                basis,
                target,
                None if change is None else change / 100.0,
                first,
                last,
                row,
            )
        )
    _probabilities(c, table)
    df = pd.DataFrame.from_records(
        records, columns=["scenario", "effect", "basis", "target", "change", "first", "last", "row"]
    )
    df = df.dropna().reset_index(drop=True)
    df["first"] = df["first"].astype(int).clip(lower=0)
    df["last"] = df["last"].astype(int).clip(upper=n - 1)
    given = table.df.dropna(subset=["Scenario", "Probability (%)"])
    probability = given.groupby("Scenario")["Probability (%)"].first().astype(float) / 100.0
    df["probability"] = df["scenario"].map(probability).fillna(0.0).astype(float)
    return df.astype({"row": int, "change": float})


def _shock(
    c: _Checker, table: Table, r: Any, materials: pd.Index, sectors: pd.Index
) -> tuple[str | None, str | None, Any]:
    """A Scenarios or Risks row's Effect, Basis and Target, checked (DESIGN §3)."""
    row = r["_row"]
    effect = _word(r["Effect"], EFFECT_BASES)
    if r["Effect"] is not None and effect is None:
        c.error(
            table,
            "Effect",
            row,
            f"'{r['Effect']}' is not an effect; use Capacity, Price or Demand",
        )
    allowed = EFFECT_BASES.get(effect, OFFER_BASES + (SECTOR,))
    basis = _word(r["Basis"], allowed)
    if r["Basis"] is not None and basis is None:
        c.error(
            table,
            "Basis",
            row,
            f"'{r['Basis']}' is not a basis for a "
            f"{effect or 'scenario'} change; use {', '.join(allowed)}",
        )
    target = _word(r["Target"], (ALL,)) or r["Target"]
    if basis and target not in (ALL, None):
        if basis == SECTOR:
            names = set(sectors)
        elif basis == MATERIAL:
            names = set(materials)
        else:
            names = basis_values(c.offer_names, basis)
        if target not in names:
            c.error(
                table,
                "Target",
                row,
                f"'{target}' is not a {basis.lower()} in the "
                f"workbook{_hint(target, names)}; use one of them or ALL",
            )
    return effect, basis, target


def _risks(c: _Checker, table: Table, materials: pd.Index, sectors: pd.Index) -> pd.DataFrame:
    """DESIGN §7's Risks sheet: what can go wrong, each with its chance per year and mean
    duration, for sampling disruption paths."""
    records = []
    for _, r in table.df.iterrows():
        effect, basis, target = _shock(c, table, r, materials, sectors)
        change, chance = r["Change (%)"], r["Chance per year (%)"]
        records.append(
            (
                r["Risk"],
                effect,
                basis,
                target,
                None if change is None else change / 100.0,
                None if chance is None else chance / 100.0,
                r["Duration (periods)"],
                r["_row"],
            )
        )
    df = pd.DataFrame.from_records(
        records,
        columns=["risk", "effect", "basis", "target", "change", "chance", "duration", "row"],
    )
    df = df.dropna().reset_index(drop=True)
    return df.astype({"row": int, "change": float, "chance": float, "duration": float})


def _probabilities(c: _Checker, table: Table) -> None:
    """DESIGN §5: a scenario's rows agree on its probability; all of them sum to <= 100 %."""
    df = table.df.dropna(subset=["Scenario", "Probability (%)"])
    total, first_of = 0.0, {}
    for name, value, row in zip(df["Scenario"], df["Probability (%)"], df["_row"], strict=True):
        if name not in first_of:
            first_of[name] = (value, row)
            total += value
            if total > 100.0 + PROBABILITY_SLACK * 100.0:
                c.error(
                    table,
                    "Probability (%)",
                    row,
                    f"the probabilities of the scenarios add up to {total:g} % with "
                    f"'{name}'; together they may be at most 100 % (the rest is the chance "
                    "that no shock comes)",
                )
            continue
        first, first_row = first_of[name]
        if abs(value - first) > 1e-9:
            c.error(
                table,
                "Probability (%)",
                row,
                f"scenario '{name}' has probability {first:g} % in row {first_row} and "
                f"{value:g} % here; give one value (or leave the other rows blank)",
            )


def _cap_warnings(
    c: _Checker, caps: pd.DataFrame, offers: pd.DataFrame, demand: pd.DataFrame
) -> None:
    """An EACH cap whose share, times the number of groups that offer a material, is below
    100 % leaves part of the demand unbuyable: the optimum is then shortfall (or infeasible),
    with the cap the reason. Say so before any solve."""
    column = {MINE: "mine", REFINE: "refine", SUPPLIER: "supplier"}
    wanted = set(demand["material"])
    for r in caps.itertuples():
        if r.group != EACH or r.max_share >= 1.0:
            continue
        if r.material == EACH:
            sets = [[m] for m in sorted(wanted)]
        elif r.material == ALL:
            sets = [sorted(wanted)]
        else:
            sets = [[r.material]] if r.material in wanted else []
        for ms in sets:
            groups = offers.loc[offers["material"].isin(ms), column[r.basis]].nunique()
            if groups and groups * r.max_share < 1.0 - 1e-9:
                what = ms[0] if len(ms) == 1 else "the materials together"
                c.warn(
                    c.t["Caps"],
                    "Max share (%)",
                    int(r.row),
                    f"cap '{r.rule}' lets each {r.basis.lower()} give at most "
                    f"{r.max_share * 100:g} %, and only {groups} offer {what}: at most "
                    f"{groups * r.max_share * 100:g} % of it can be bought, the rest goes "
                    "short; raise the share or add offers",
                )


def _warnings(
    c: _Checker,
    materials: pd.DataFrame,
    sectors: pd.DataFrame,
    demand: pd.DataFrame,
    offers: pd.DataFrame,
) -> None:
    mat_table, sec_table = c.t["Materials"], c.t["Sectors"]
    over = materials[materials["initial_t"] > materials["max_stock_t"]]
    for m, r in over.iterrows():
        c.warn(
            mat_table,
            "Initial stock (t)",
            int(r["row"]),
            f"initial stock of {m} ({r['initial_t']:g} t) is above its max stock "
            f"({r['max_stock_t']:g} t); the plan must draw it down in the first period",
        )
    cheapest = offers.groupby("material")["price_per_kg"].min()
    uses = demand[["material", "sector", "penalty_per_kg"]].drop_duplicates(["material", "sector"])
    for m, k, own in uses.itertuples(index=False):
        if m in cheapest.index and k in sectors.index:
            penalty = own if np.isfinite(own) else sectors.at[k, "penalty_per_kg"]
            if np.isfinite(penalty) and penalty <= cheapest[m]:
                c.warn(
                    sec_table,
                    "Shortfall penalty (per kg)",
                    int(sectors.at[k, "row"]),
                    f"the shortfall penalty of {k} ({penalty:g}/kg) is at or below the "
                    f"cheapest price of {m} ({cheapest[m]:g}/kg): the plan would rather "
                    f"leave {k} short than buy; raise the penalty",
                )
    # A below-floor penalty at or above a sector's shortfall penalty makes stock worth more
    # than meeting demand: more days of cover then mean more shortfall, not less (the national
    # example's Tb at 3,000/kg both, before it was fixed).
    floor_pen = materials["floor_penalty_per_kg"]
    for m, k, own in uses.itertuples(index=False):
        if m not in materials.index or k not in sectors.index:
            continue
        fp = floor_pen.get(m, np.nan)
        penalty = own if np.isfinite(own) else sectors.at[k, "penalty_per_kg"]
        if np.isfinite(fp) and np.isfinite(penalty) and fp >= penalty:
            c.warn(
                mat_table,
                "Below-floor penalty (per kg per period)",
                int(materials.at[m, "row"]),
                f"the below-floor penalty of {m} ({fp:g}/kg per period) is at or above the "
                f"shortfall penalty of {k} ({penalty:g}/kg): the plan would rather leave {k} "
                "short than let stock fall below its floor, so more days of cover mean more "
                "shortfall; set it below the shortfall penalty",
            )
    no_offer = sorted(set(demand["material"]) - set(offers["material"]))
    for m in no_offer:
        c.warn(
            mat_table,
            "Material",
            int(materials.at[m, "row"]),
            f"{m} has demand but no supplier or recycling stream; it can only come from "
            "stock, alternatives or go short",
        )
