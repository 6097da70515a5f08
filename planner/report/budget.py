"""A strategy's budget on a funder's lines, per budget period (from the engine's).

The engine's budget (:func:`planner.tco.budget.budget_table`: nominal and real
dollars per budget period and category, F&A rows with base and rate) is put on
the funder's lines by the rules of :mod:`planner.rules`; no amount is computed
here, only summed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planner import rules
from planner.costing import INDIRECT, View
from planner.resolve import ResolvedOwnedStrategy
from planner.tco import Evaluation
from planner.tco.budget import budget_table

FUNDER_BUDGET_COLUMNS = (
    "strategy",
    "budget_period",
    "calendar_year",
    "line",
    "line_name",
    "categories",
    "fa_rate",
    "fa_base_usd",
    "amount_usd",
)
"""Columns of :func:`funder_budget`."""

ROW_KINDS = ("line", "direct_total", "indirect", "total", "funded")
"""Kinds of row of :func:`budget_sheet`, in order. [-]"""


def rule_category(evaluation: Evaluation, strategy: str, category: str) -> str:
    """The rules' category of an engine cost category (capex split by threshold).

    Parameters
    ----------
    evaluation : Evaluation
        For the strategy's server and the institution's threshold.
    strategy : str
        Strategy name.
    category : str
        Engine category (``capex``, ``cloud_on_demand`` ...).

    Returns
    -------
    str
        ``capex_equipment`` or ``capex_supplies`` for capex (a server priced
        at or above the equipment threshold is equipment, 2 CFR 200.1, as the
        engine decides its F&A); the category itself otherwise.
    """
    if category != "capex":
        return category
    resolved = evaluation.resolved
    found = resolved.strategy(strategy)
    threshold = resolved.institution.equipment_threshold_usd
    if (
        isinstance(found, ResolvedOwnedStrategy)
        and found.server.server_price_usd < threshold
    ):
        return "capex_supplies"
    return "capex_equipment"


def funder_budget(
    evaluation: Evaluation, *, funder: str = "nsf", view: View = "award"
) -> pd.DataFrame:
    """Every strategy's budget per period on the funder's lines.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    funder : str, default "nsf"
        A funder id of :mod:`planner.rules`.
    view : {"award", "institution"}, default "award"
        Whose budget.

    Returns
    -------
    pandas.DataFrame
        :data:`FUNDER_BUDGET_COLUMNS`: one row per strategy, period and line;
        F&A rows (the funder's indirect line) one per rate, with the base they
        are charged on (``fa_base_usd``). ``amount_usd`` is in nominal dollars
        of each period for a ``nominal`` funder, in the currency year's for a
        ``current`` one.
    """
    rule = rules.funder(funder)
    lines = rules.funder_lines(funder)
    budget = budget_table(evaluation, view)
    amount = "nominal_usd" if rule.prices == "nominal" else "real_usd"
    records = []
    for row in budget.to_dict("records"):
        value = float(row[amount])
        if row["category"] == INDIRECT:
            rate = float(row["fa_rate"])
            records.append(
                {
                    "strategy": row["strategy"],
                    "budget_period": int(row["budget_period"]),
                    "calendar_year": int(row["calendar_year"]),
                    "line": rule.indirect_line,
                    "line_name": f"{rule.indirect_line_name}, {rate:.1%} on its base",
                    "categories": str(row["fa_base"]),
                    "fa_rate": rate,
                    "fa_base_usd": value / rate if rate else 0.0,
                    "amount_usd": value,
                }
            )
            continue
        category = rule_category(evaluation, str(row["strategy"]), str(row["category"]))
        if category in lines.index:
            line = str(lines.loc[category, "line"])
            name = str(lines.loc[category, "line_name"])
        else:
            line, name = rule.default_line, f"{rule.default_line} ({category})"
        records.append(
            {
                "strategy": row["strategy"],
                "budget_period": int(row["budget_period"]),
                "calendar_year": int(row["calendar_year"]),
                "line": line,
                "line_name": name,
                "categories": category,
                "fa_rate": 0.0,
                "fa_base_usd": 0.0,
                "amount_usd": value,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(FUNDER_BUDGET_COLUMNS))
    if frame.empty:
        return frame
    grouped = frame.groupby(
        ["strategy", "budget_period", "calendar_year", "line", "line_name", "fa_rate"],
        as_index=False,
        sort=False,
    ).agg(
        categories=("categories", lambda c: ", ".join(sorted(set(c)))),
        fa_base_usd=("fa_base_usd", "sum"),
        amount_usd=("amount_usd", "sum"),
    )
    return grouped[list(FUNDER_BUDGET_COLUMNS)].sort_values(
        ["strategy", "budget_period", "fa_rate", "line"],
        kind="stable",
        ignore_index=True,
    )


def budget_sheet(
    table: pd.DataFrame, strategy: str, *, funder: str, horizon_years: int
) -> pd.DataFrame:
    """One strategy's budget as the funder's form: lines by budget period.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`funder_budget`.
    strategy : str
        Strategy name.
    funder : str
        The funder id the table was made with.
    horizon_years : int
        Budget periods 1..N.

    Returns
    -------
    pandas.DataFrame
        ``kind`` (:data:`ROW_KINDS`), ``line``, ``line_name``, one column per
        budget period (``1`` .. ``N``, integers) and ``total``: the funder's
        lines, the direct total, the F&A lines (each rate with its base in
        ``line_name``), the total, and the funder's share where it funds less
        than all. [USD]
    """
    rule = rules.funder(funder)
    mine = table[table["strategy"] == strategy]
    periods = list(range(1, horizon_years + 1))
    rows: list[dict[Any, Any]] = []

    def amounts(frame: pd.DataFrame) -> dict[Any, Any]:
        by_period = {
            int(str(p)): float(v)
            for p, v in frame.groupby("budget_period")["amount_usd"].sum().items()
        }
        values: dict[Any, Any] = {p: by_period.get(p, 0.0) for p in periods}
        values["total"] = float(frame["amount_usd"].sum())
        return values

    direct = mine[mine["line"] != rule.indirect_line]
    for (line, name), group in direct.groupby(["line", "line_name"], sort=True):
        rows.append({"kind": "line", "line": line, "line_name": name} | amounts(group))
    rows.append(
        {
            "kind": "direct_total",
            "line": rule.direct_total_line,
            "line_name": rule.direct_total_name,
        }
        | amounts(direct)
    )
    indirect = mine[mine["line"] == rule.indirect_line]
    for rate, group in indirect.groupby("fa_rate", sort=True):
        fa_rate = float(str(rate))
        base = float(group["fa_base_usd"].sum())
        rows.append(
            {
                "kind": "indirect",
                "line": rule.indirect_line,
                "line_name": f"{rule.indirect_line_name}: {fa_rate:.1%} of "
                f"${base:,.0f} base ({', '.join(sorted(set(group['categories'])))})",
            }
            | amounts(group)
        )
    rows.append(
        {"kind": "total", "line": rule.total_line, "line_name": rule.total_name}
        | amounts(mine)
    )
    if rule.funded_fraction < 1:
        total = amounts(mine)
        rows.append(
            {
                "kind": "funded",
                "line": "funded",
                "line_name": f"Funder pays {rule.funded_fraction:.0%}",
            }
            | {key: value * rule.funded_fraction for key, value in total.items()}
        )
    return pd.DataFrame(rows, columns=["kind", "line", "line_name", *periods, "total"])
