"""Charts of a report as PNG: Altair specs rendered by vl-convert.

Altair is already the app's charting library, so the report's charts are the
same Vega-Lite specs; vl-convert-python renders them to PNG in-process from a
wheel (no browser, no Node, no system fonts needed), which is lighter than
matplotlib plus its font and backend set-up and keeps one chart grammar.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planner.costing import View
from planner.report.safe import xml_text
from planner.tco import Evaluation, cumulative_costs

CHART_SCALE = 2.0
"""PNG pixels per chart pixel (sharp in print at 6 inches wide). [-]"""


def _png(chart: Any) -> bytes:
    import vl_convert

    return bytes(vl_convert.vegalite_to_png(chart.to_dict(), scale=CHART_SCALE))


def budget_chart_png(funder_table: pd.DataFrame, *, title: str) -> bytes:
    """Bars of each strategy's budget per budget year.

    Parameters
    ----------
    funder_table : pandas.DataFrame
        Output of :func:`planner.report.budget.funder_budget`.
    title : str
        Chart title (e.g. "Budget per year, nominal USD").

    Returns
    -------
    bytes
        PNG image.
    """
    import altair as alt

    totals = (
        funder_table.groupby(["strategy", "calendar_year"], sort=False)["amount_usd"]
        .sum()
        .reset_index()
    )
    totals["strategy"] = totals["strategy"].map(xml_text)
    totals["calendar_year"] = totals["calendar_year"].astype(str)
    chart = (
        alt.Chart(totals, title=xml_text(title))
        .mark_bar()
        .encode(
            x=alt.X(
                "calendar_year:N", title="Budget year", axis=alt.Axis(labelAngle=0)
            ),
            xOffset="strategy:N",
            y=alt.Y("amount_usd:Q", title="USD"),
            color=alt.Color(
                "strategy:N",
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=280),
            ),
        )
        .properties(width=480, height=240)
    )
    return _png(chart)


def cumulative_chart_png(evaluation: Evaluation, view: View) -> bytes:
    """Lines of each strategy's cumulative present value by year, in a view.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"award", "institution"}
        Whose cost.

    Returns
    -------
    bytes
        PNG image.
    """
    import altair as alt

    frame = cumulative_costs(evaluation.table, view)[
        ["strategy", "calendar_year", "cumulative_pv_usd"]
    ].copy()
    frame["strategy"] = frame["strategy"].map(xml_text)
    chart = (
        alt.Chart(frame, title=f"Cumulative present value ({view} view), real USD")
        .mark_line(point=True)
        .encode(
            x=alt.X("calendar_year:O", title="Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("cumulative_pv_usd:Q", title="USD"),
            color=alt.Color(
                "strategy:N",
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=280),
            ),
        )
        .properties(width=480, height=240)
    )
    return _png(chart)
