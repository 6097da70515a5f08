"""Exports of an evaluation: JSON-ready payloads and human-readable tables."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from planner.breakeven import BreakEven
from planner.tco import Evaluation

SUMMARY_COLUMNS = (
    "strategy",
    "kind",
    "npv_usd",
    "npv_project_usd",
    "total_nominal_usd",
    "equivalent_annual_cost_usd",
    "cost_per_reference_hour_usd",
    "utilisation",
    "unserved_reference_hours",
    "energy_kwh",
    "co2e_kg",
    "co2e_embodied_kg",
)
"""Columns of the per-strategy summary, in report order."""


def _clean(value: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, NaN and infinity to None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def yearly_by_strategy(evaluation: Evaluation) -> pd.DataFrame:
    """Cost, discounted cost, energy and CO2e of each strategy per year.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``year``, ``calendar_year``, ``cost_usd``,
        ``discounted_cost_usd``, ``energy_kwh`` and ``co2e_kg``.
    """
    return (
        evaluation.table.groupby(["strategy", "year", "calendar_year"], sort=False)[
            ["cost_usd", "discounted_cost_usd", "energy_kwh", "co2e_kg"]
        ]
        .sum()
        .reset_index()
    )


def evaluation_payload(
    evaluation: Evaluation, break_evens: list[BreakEven]
) -> dict[str, Any]:
    """The JSON of ``planner evaluate``: strategies with yearly flows, break-evens.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    break_evens : list of BreakEven
        Output of :func:`planner.breakeven.break_even_table`.

    Returns
    -------
    dict
        ``scenario`` (name, horizon, currency), ``strategies`` (name, kind,
        npv_usd, total_nominal_usd, equivalent_annual_cost_usd,
        cost_per_reference_hour_usd, utilisation, co2e_kg, co2e_embodied_kg, ...,
        and ``years``: year, calendar_year, cost_usd, discounted_cost_usd,
        co2e_kg) and ``break_even`` (onprem, cloud, utilisation, year,
        cloud_premium, explanation, ...). Undefined numbers are null.
    """
    yearly = yearly_by_strategy(evaluation)
    strategies = []
    for row in evaluation.summary.to_dict("records"):
        years = yearly[yearly["strategy"] == row["strategy"]]
        entry: dict[str, Any] = {"name": row["strategy"]}
        entry |= {
            str(key): _clean(value) for key, value in row.items() if key != "strategy"
        }
        entry["years"] = [
            {str(k): _clean(v) for k, v in year.items() if k != "strategy"}
            for year in years.to_dict("records")
        ]
        strategies.append(entry)
    scenario = evaluation.scenario
    return {
        "scenario": {
            "name": scenario.name,
            "start_year": scenario.start_year,
            "horizon_years": scenario.horizon_years,
            "currency_year": scenario.currency_year,
            "real_discount_rate": scenario.real_discount_rate,
        },
        "strategies": strategies,
        "break_even": [
            {key: _clean(value) for key, value in item.as_dict().items()}
            for item in break_evens
        ],
    }


def summary_table(evaluation: Evaluation) -> pd.DataFrame:
    """Per-strategy summary in report order, money rounded to the dollar.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`.
    """
    return summary_table_from(evaluation.summary)


def summary_table_from(summary: pd.DataFrame) -> pd.DataFrame:
    """Round and order an evaluation's summary frame (see :func:`summary_table`).

    Parameters
    ----------
    summary : pandas.DataFrame
        ``Evaluation.summary``.

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`, money to the dollar.
    """
    table = summary[list(SUMMARY_COLUMNS)].copy()
    money = [c for c in table.columns if c.endswith("_usd") and "per_" not in c]
    table[money] = table[money].round(0)
    table["cost_per_reference_hour_usd"] = table["cost_per_reference_hour_usd"].round(3)
    table["utilisation"] = table["utilisation"].round(3)
    return table
