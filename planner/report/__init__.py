"""Exports of an evaluation: JSON-ready payloads and human-readable tables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner.breakeven import BreakEven
from planner.tco import Evaluation, yearly_table

if TYPE_CHECKING:
    from planner.costing import View
    from planner.uncertainty.sensitivity import Sensitivity

SUMMARY_COLUMNS = (
    "strategy",
    "kind",
    "view",
    "npv_usd",
    "institution_npv_usd",
    "award_npv_usd",
    "undiscounted_real_usd",
    "equivalent_annual_cost_usd",
    "cost_per_reference_hour_usd",
    "utilisation",
    "delayed_reference_hours",
    "unserved_reference_hours",
    "delay_cost_usd",
    "unserved_cost_usd",
    "mean_wait_hours",
    "p95_wait_hours",
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
        :func:`planner.tco.yearly_table`: costs in both views, the work of each
        year and its late part, energy and CO2e.
    """
    return yearly_table(evaluation)


def _sensitivity(evaluation: Evaluation) -> dict[View, Sensitivity]:
    """The tornado beside each view's verdict (planner.uncertainty.sensitivity)."""
    from planner.uncertainty.sensitivity import sensitivities

    return dict(sensitivities(evaluation.scenario, catalog=evaluation.resolved.catalog))


def evaluation_payload(
    evaluation: Evaluation, break_evens: list[BreakEven]
) -> dict[str, Any]:
    """The JSON of ``planner evaluate``: verdict, strategies by view, budget.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    break_evens : list of BreakEven
        Output of :func:`planner.breakeven.break_even_table`.

    Returns
    -------
    dict
        ``scenario`` (name, horizon, currency, view); ``views``;
        ``recommendation`` (per view: ``view``, ``strategy``, ``runner_up``,
        ``margin_usd``, ``sentence``, ``flips_if`` ...); ``sensitivity`` (per
        view: the leader, its lead and the one-at-a-time tornado of the
        sourced uncertain inputs, :mod:`planner.uncertainty.sensitivity`);
        ``strategies`` (name,
        kind, ``npv_usd`` in the scenario's view, ``views`` with each view's
        ``npv_usd``, ``cash_npv_usd``, ``undiscounted_real_usd`` and
        ``nominal_usd``, delay and unserved work and cost, ``cloud_premium``
        and ``cost_ratio`` for cloud strategies, ``budget`` by period in
        nominal dollars of the award view, and ``years``); ``break_even``;
        ``assumptions`` (what was looked up, and its source) and ``warnings``.
        Undefined numbers are null.
    """
    from planner import verdict
    from planner.breakeven import premiums_and_ratios
    from planner.costing import VIEWS
    from planner.tco.budget import budget_table, nominal_totals

    yearly = yearly_by_strategy(evaluation)
    recommendations = verdict.recommendations(evaluation)
    ratios = premiums_and_ratios(evaluation)
    budget = budget_table(evaluation, "award")
    nominal = nominal_totals(evaluation).set_index("strategy")
    strategies = []
    for row in evaluation.summary.to_dict("records"):
        name = row["strategy"]
        years = yearly[yearly["strategy"] == name]
        entry: dict[str, Any] = {"name": name}
        entry |= {
            str(key): _clean(value) for key, value in row.items() if key != "strategy"
        }
        entry["views"] = {
            view: {
                "npv_usd": _clean(row[f"{view}_npv_usd"]),
                "cash_npv_usd": _clean(row[f"{view}_cash_npv_usd"]),
                "undiscounted_real_usd": _clean(row[f"{view}_undiscounted_usd"]),
                "nominal_usd": _clean(nominal.loc[name, f"{view}_nominal_usd"]),
            }
            for view in VIEWS
        }
        entry["total_nominal_usd"] = entry["views"][evaluation.view]["nominal_usd"]
        comparison = ratios.get(name, {})
        entry["cloud_premium"] = _clean(comparison.get("cloud_premium"))
        entry["cost_ratio"] = _clean(comparison.get("cost_ratio"))
        entry["premium_against"] = comparison.get("premium_against")
        periods = budget[budget["strategy"] == name]
        entry["budget"] = [
            {
                "budget_period": int(period),
                "calendar_year": int(group["calendar_year"].iloc[0]),
                "nominal_usd": float(group["nominal_usd"].sum()),
                "indirect_costs_usd": float(
                    group.loc[
                        group["category"] == "indirect_costs", "nominal_usd"
                    ].sum()
                ),
            }
            for period, group in periods.groupby("budget_period")
        ]
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
            "budget_escalation_per_year": scenario.budget_escalation_per_year,
            "view": scenario.view,
        },
        "views": list(VIEWS),
        "recommendation": {
            view: {key: _clean(value) for key, value in rec.as_dict().items()}
            for view, rec in recommendations.items()
        },
        "headline": verdict.headline(recommendations),
        "sensitivity": {
            view: {key: _clean(value) for key, value in item.as_dict().items()}
            for view, item in _sensitivity(evaluation).items()
        },
        "strategies": strategies,
        "break_even": [
            {key: _clean(value) for key, value in item.as_dict().items()}
            for item in break_evens
        ],
        "assumptions": [
            {"what": what, "source": source}
            for what, source in evaluation.resolved.assumptions
        ],
        "warnings": list(evaluation.warnings),
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


def _md_table(frame: pd.DataFrame) -> str:
    """Render a DataFrame as a GitHub-flavoured Markdown table (no extra deps)."""
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(_md_cell(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


def _md_cell(value: Any) -> str:
    value = _clean(value)
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return str(value).replace("|", "/")


def _first_year_hours(evaluation: Evaluation) -> float:
    return evaluation.resolved.demand.first_year_reference_hours


def markdown_report(evaluation: Evaluation, break_evens: list[BreakEven]) -> str:
    """A compute-cost justification in Markdown, for a grant or a budget meeting.

    It states the question, the conventions (real dollars, discount rate, timing),
    the result per strategy in money and CO2e, the break-even points in words,
    and the yearly cash flows a budget office asks for, then each looked-up
    value with its source and date
    (:func:`planner.report.justification.assumptions_table`).

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    break_evens : list of BreakEven
        Output of :func:`planner.breakeven.break_even_table`.

    Returns
    -------
    str
        Markdown text.
    """
    from planner import verdict
    from planner.report.justification import assumptions_table

    scenario = evaluation.scenario
    summary = evaluation.summary.sort_values("npv_usd")
    recommendations = verdict.recommendations(evaluation)
    chosen = recommendations[evaluation.view].strategy
    best = summary.loc[summary["strategy"] == chosen].iloc[0]
    sources = assumptions_table(evaluation, evaluation.resolved.catalog)
    yearly = yearly_by_strategy(evaluation)
    cash = yearly.pivot_table(
        index="calendar_year", columns="strategy", values="cost_usd", sort=False
    ).reset_index()
    shown = summary[
        [
            "strategy",
            "npv_usd",
            "institution_npv_usd",
            "award_npv_usd",
            "equivalent_annual_cost_usd",
            "cost_per_reference_hour_usd",
            "utilisation",
            "co2e_kg",
        ]
    ]
    lines = [
        f"# {scenario.name}",
        "",
        scenario.description,
        "",
        "## Question and conventions",
        "",
        f"- Horizon: {scenario.horizon_years} years from {scenario.start_year}; "
        f"money in real USD of {scenario.currency_year}, discounted at "
        f"{scenario.real_discount_rate:.1%} a year (purchases at the start, running "
        "costs at the end of each year).",
        f"- Demand: {_first_year_hours(evaluation):,.0f} reference "
        f"accelerator-hours in the first year ({scenario.demand.reference_accelerator}"
        f" equivalents), changing {scenario.demand.growth_per_year:+.0%} a year.",
        f"- Site: PUE {scenario.site.pue}, electricity "
        f"${evaluation.resolved.site.electricity_usd_per_kwh[0]:.4f}/kWh, grid "
        f"{evaluation.resolved.site.grid_co2e_g_per_kwh[0]:,.0f} g CO2e/kWh in the "
        "first year.",
        f"- Institution: F&A {scenario.institution.indirect_cost_rate:.0%} on "
        "services"
        + (
            " (waived for cloud)"
            if scenario.institution.cloud_exempt_from_indirect
            else ""
        )
        + f"; equipment from ${scenario.institution.equipment_threshold_usd:,.0f} "
        "per unit (2 CFR 200.1) bears none.",
        "",
        "## Result",
        "",
        *[rec.sentence + "\n" for rec in recommendations.values()],
        f"The recommended strategy in the {evaluation.view} view, "
        f"**{best['strategy']}**, is ${best['equivalent_annual_cost_usd']:,.0f} a year "
        f"equivalent, {best['co2e_kg'] / 1e3:,.1f} t CO2e over the horizon.",
        "",
        _md_table(shown),
        "",
        "## What decides it",
        "",
        *[item.sentence() + "\n" for item in _sensitivity(evaluation).values()],
        "## Break-even points",
        "",
        *[f"- **{b.onprem} vs {b.cloud}**: {b.explanation}" for b in break_evens],
        "",
        f"## Cash flows by year (real USD, {evaluation.view} view)",
        "",
        _md_table(cash),
        "",
        "## Sources",
        "",
        "Method: Strubell, Ganesh and McCallum (2019) for energy, screening "
        "curves and discounted cash flows as documented in the planner's "
        "docs/methods.md. Each value looked up, with its source and date:",
        "",
        *[
            f"- {str(what).replace('|', '/')}: {source}"
            + (f" ({date})" if date and str(date) not in str(source) else "")
            for what, source, date in sources[["what", "source", "date"]].itertuples(
                index=False
            )
        ],
        "",
    ]
    return "\n".join(lines)
