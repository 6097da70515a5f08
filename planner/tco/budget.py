"""A grant budget: nominal dollars per budget period, F&A on its own lines.

The comparison of strategies is in real discounted dollars; a grant budget is in
the dollars of each budget year, escalated (:attr:`planner.scenario.Scenario.
budget_escalation_per_year`, 3 % a year by default), and split by budget period.
Budget period ``p`` (1..N) is calendar year ``start_year + p - 1``: it holds the
purchases made at its start (``t = p - 1``) and the running costs of running
year ``p`` (``t = p``). A flow in real dollars of the currency year becomes
``real x (1 + e) ** (start_year + p - 1 - currency_year)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner import costing
from planner.costing import View
from planner.tco.evaluation import Evaluation

PURCHASE_CATEGORIES = ("capex",)
"""Categories paid when a purchase is made (at the start of a budget period). [-]"""

BUDGET_COLUMNS = (
    "strategy",
    "view",
    "budget_period",
    "calendar_year",
    "category",
    "fa_base",
    "fa_rate",
    "real_usd",
    "nominal_usd",
)
"""Columns of :func:`budget_table`."""


def budget_table(evaluation: Evaluation, view: View = "award") -> pd.DataFrame:
    """Every strategy's budget by period and category, in nominal dollars.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"award", "institution"}, default "award"
        Whose budget (a grant's is the award view: its own lines and their
        F&A, no resale credit).

    Returns
    -------
    pandas.DataFrame
        :data:`BUDGET_COLUMNS`: one row per strategy, budget period and
        category with a non-zero cost (F&A rows name their base and rate);
        ``real_usd`` in the currency year's dollars, ``nominal_usd`` escalated.
        Work done late or not at all is not a budget line (it is no one's cash).
    """
    scenario = evaluation.scenario
    table = evaluation.table
    mask = np.array(
        [
            costing.counts_in_view(c, p, view) and p not in costing.SERVICE_PAYERS
            for c, p in zip(table["category"], table["payer"], strict=True)
        ],
        dtype=bool,
    )
    rows = table[mask & (table["cost_usd"] != 0)].copy()
    purchase = rows["category"].isin(PURCHASE_CATEGORIES) | rows["fa_base"].isin(
        PURCHASE_CATEGORIES
    )
    # Purchases at t = p - 1 open period p; running costs at t = p close it.
    rows["budget_period"] = np.where(purchase, rows["year"] + 1, rows["year"])
    horizon = scenario.horizon_years
    rows = rows[(rows["budget_period"] >= 1) & (rows["budget_period"] <= horizon)]
    rows["calendar_year"] = scenario.start_year + rows["budget_period"] - 1
    escalation = (1.0 + scenario.budget_escalation_per_year) ** (
        rows["calendar_year"] - scenario.currency_year
    )
    rows["real_usd"] = rows["cost_usd"]
    rows["nominal_usd"] = rows["cost_usd"] * escalation
    rows["view"] = view
    grouped = rows.groupby(
        [
            "strategy",
            "view",
            "budget_period",
            "calendar_year",
            "category",
            "fa_base",
            "fa_rate",
        ],
        as_index=False,
        sort=False,
    )[["real_usd", "nominal_usd"]].sum()
    return grouped[list(BUDGET_COLUMNS)].sort_values(
        ["strategy", "budget_period"], kind="stable", ignore_index=True
    )


def nominal_totals(evaluation: Evaluation) -> pd.DataFrame:
    """Each strategy's total budget in nominal dollars, in both views.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``institution_nominal_usd`` and ``award_nominal_usd``.
    """
    out = pd.DataFrame({"strategy": list(evaluation.results)})
    for view in costing.VIEWS:
        totals = budget_table(evaluation, view).groupby("strategy")["nominal_usd"].sum()
        out[f"{view}_nominal_usd"] = out["strategy"].map(totals).fillna(0.0)
    return out
