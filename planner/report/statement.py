"""Compute and carbon statements for papers: Markdown and a LaTeX snippet.

Strubell et al. (2019) recommend that papers report training time, hardware
and sensitivity; a statement here gives the hardware, hours, energy, CO2e and
cost of a run or campaign (:mod:`planner.footprint`) or of a scenario's
recommended strategy (with its PUE and grid intensity, and the sources and
dates of the values behind it), with the method in one sentence. LaTeX text
is escaped (:func:`planner.report.safe.latex_text`); the snippet needs only
the ``tabular`` environment (no packages).
"""

from __future__ import annotations

from collections.abc import Callable

from planner.costing import View
from planner.footprint import Footprint, footprint_rows
from planner.report.safe import latex_text, markdown_text
from planner.resolve import ResolvedOwnedStrategy
from planner.tco import Evaluation
from planner.verdict import recommendations
from pricing.catalog import Catalog

METHOD_SENTENCE = (
    "Energy is accelerator-hours x power per accelerator x PUE (Strubell et al., "
    "2019, eq. 1), plus the system's idle draw for the run's length; CO2e is "
    "energy x the grid's location-based intensity, plus embodied emissions per "
    "used hour where stated (Luccioni et al., 2023); owned cost amortises the "
    "hardware at 0.14 orders of magnitude a year (Cottier et al., 2024)."
)
"""The method, in one sentence a paper can quote."""


def footprint_markdown(result: Footprint) -> str:
    """A run's or campaign's statement in Markdown.

    Parameters
    ----------
    result : Footprint
        Output of :func:`planner.footprint.footprint` or
        :func:`planner.footprint.campaign_footprint`.

    Returns
    -------
    str
        A sentence, a two-column table and the assumptions.
    """
    title = markdown_text(result.label) if result.label else "Compute and carbon"
    lines = [
        f"## {title}",
        "",
        _sentence(result, markdown_text),
        "",
        "| Quantity | Value |",
        "|---|---|",
        *[
            f"| {markdown_text(k)} | {markdown_text(v)} |"
            for k, v in footprint_rows(result)
        ],
        "",
        METHOD_SENTENCE,
        "",
        "Assumptions:",
        "",
        *[
            f"- {markdown_text(what)}: {markdown_text(source)}"
            for what, source in result.assumptions
        ],
    ]
    return "\n".join(lines) + "\n"


def _sentence(result: Footprint, escape: Callable[[str], str]) -> str:
    runs = f" over {result.runs:,} runs" if result.runs > 1 else ""
    cost = (
        f" It would cost ${result.cost_usd:,.0f} in the cloud"
        if result.cost_usd is not None
        else ""
    )
    if result.owned_cost_usd is not None:
        owned = f"${result.owned_cost_usd:,.0f} on owned hardware"
        cost = f"{cost} and {owned}" if cost else f" It would cost {owned}"
    if cost:
        cost += f" (USD {result.currency_year})."
    return (
        f"Training used {result.accelerator_hours:,.0f} accelerator-hours of "
        f"{escape(result.accelerator)}{runs}, drawing "
        f"{result.energy_kwh:,.1f} kWh (PUE {result.pue:g}) and emitting "
        f"{result.co2e_kg:,.1f} kg CO2e at {result.grid_co2e_g_per_kwh:,.0f} g "
        f"CO2e/kWh.{cost}"
    )


def footprint_latex(result: Footprint) -> str:
    """A run's or campaign's statement as a LaTeX snippet.

    Parameters
    ----------
    result : Footprint
        Output of :func:`planner.footprint.footprint`.

    Returns
    -------
    str
        A paragraph and a ``tabular`` of the quantities.
    """
    rows = [
        f"{latex_text(k)} & {latex_text(v)} \\\\" for k, v in footprint_rows(result)
    ]
    return "\n".join(
        [
            "% Compute and carbon statement (planner footprint)",
            latex_text(_sentence(result, str)),
            "",
            "\\begin{tabular}{ll}",
            "\\hline",
            "Quantity & Value \\\\",
            "\\hline",
            *rows,
            "\\hline",
            "\\end{tabular}",
            "",
            latex_text(METHOD_SENTENCE),
            "",
        ]
    )


def scenario_rows(evaluation: Evaluation, view: View) -> list[tuple[str, str]]:
    """The recommended strategy's hardware, hours, energy, CO2e and cost.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"award", "institution"}
        Whose cost.

    Returns
    -------
    list of (str, str)
        Label and formatted value, from the engine's summary.
    """
    from planner.tco.budget import nominal_totals

    rec = recommendations(evaluation)[view]
    row = next(
        r
        for r in evaluation.summary.to_dict("records")
        if r["strategy"] == rec.strategy
    )
    strategy = evaluation.resolved.strategy(rec.strategy)
    site = evaluation.resolved.site
    if isinstance(strategy, ResolvedOwnedStrategy):
        hardware = f"{strategy.servers:g} x {strategy.server.server}"
        pue, grid_g_per_kwh = site.pue, site.grid_co2e_g_per_kwh
    else:
        offer = strategy.offer
        hardware = (
            f"{offer.provider} {offer.instance_type} ({offer.accelerator_model}), "
            f"{strategy.purchase}"
        )
        pue, grid_g_per_kwh = offer.pue, offer.grid_co2e_g_per_kwh
    scenario = evaluation.scenario
    nominal = {
        str(r["strategy"]): float(r[f"{view}_nominal_usd"])
        for r in nominal_totals(evaluation).to_dict("records")
    }
    return [
        ("Strategy", rec.strategy),
        ("Hardware", hardware),
        (
            "Work",
            f"{float(row['delivered_reference_hours']):,.0f} reference "
            f"accelerator-hours ({scenario.demand.reference_accelerator}) over "
            f"{scenario.horizon_years} years",
        ),
        ("Energy", f"{float(row['energy_kwh']):,.0f} kWh"),
        ("PUE", f"{pue:g}"),
        (
            "Grid intensity",
            f"{float(grid_g_per_kwh[0]):,.1f} g CO2e/kWh in {scenario.start_year}"
            + (
                f", {float(grid_g_per_kwh[-1]):,.1f} in "
                f"{scenario.start_year + len(grid_g_per_kwh) - 1}"
                if len(grid_g_per_kwh) > 1
                and float(grid_g_per_kwh[-1]) != float(grid_g_per_kwh[0])
                else ""
            ),
        ),
        (
            "CO2e",
            f"{float(row['co2e_kg']) / 1e3:,.2f} t "
            f"({float(row['co2e_embodied_kg']) / 1e3:,.2f} t embodied)",
        ),
        (
            f"Cost, present value ({view})",
            f"${float(row[f'{view}_npv_usd']):,.0f} (real USD of "
            f"{scenario.currency_year})",
        ),
        (
            f"Budget, nominal ({view})",
            f"${nominal[rec.strategy]:,.0f}",
        ),
    ]


def scenario_sources(
    evaluation: Evaluation, view: View, catalog: Catalog | None = None
) -> list[tuple[str, str, str]]:
    """The sources and dates behind the recommended strategy's statement.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"award", "institution"}
        Whose recommendation.
    catalog : pricing.catalog.Catalog, optional
        The catalog the evaluation used (for the rows' dates).

    Returns
    -------
    list of (str, str, str)
        ``(what, source, date)`` of each looked-up value and scenario input
        (:func:`planner.report.justification.assumptions_table`), without the
        rows of the strategies that were not recommended.
    """
    from planner.report.justification import assumptions_table

    chosen = recommendations(evaluation)[view].strategy
    others = {str(r["strategy"]) for r in evaluation.summary.to_dict("records")}
    others.discard(chosen)
    table = assumptions_table(evaluation, catalog)
    return [
        (str(what), str(source), str(date))
        for what, source, date in table[["what", "source", "date"]].itertuples(
            index=False
        )
        if str(what) not in others
    ]


def _source_line(what: str, source: str, date: str) -> str:
    return f"{what}: {source}" + (f" ({date})" if date and date not in source else "")


def scenario_markdown(
    evaluation: Evaluation, view: View, catalog: Catalog | None = None
) -> str:
    """A scenario's compute and carbon statement in Markdown.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"award", "institution"}
        Whose cost.
    catalog : pricing.catalog.Catalog, optional
        The catalog the evaluation used (for the sources' dates).

    Returns
    -------
    str
        A table of :func:`scenario_rows`, the method sentence and the
        :func:`scenario_sources`.
    """
    rows = scenario_rows(evaluation, view)
    sources = scenario_sources(evaluation, view, catalog)
    return "\n".join(
        [
            f"## Compute and carbon: {markdown_text(evaluation.scenario.name)}",
            "",
            "| Quantity | Value |",
            "|---|---|",
            *[f"| {markdown_text(k)} | {markdown_text(v)} |" for k, v in rows],
            "",
            METHOD_SENTENCE,
            "",
            "Sources:",
            "",
            *[f"- {markdown_text(_source_line(*item))}" for item in sources],
            "",
        ]
    )


def scenario_latex(
    evaluation: Evaluation, view: View, catalog: Catalog | None = None
) -> str:
    """A scenario's compute and carbon statement as a LaTeX snippet.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"award", "institution"}
        Whose cost.
    catalog : pricing.catalog.Catalog, optional
        The catalog the evaluation used (for the sources' dates).

    Returns
    -------
    str
        A ``tabular`` of :func:`scenario_rows`, the method sentence and an
        ``itemize`` of the :func:`scenario_sources`.
    """
    rows = scenario_rows(evaluation, view)
    sources = scenario_sources(evaluation, view, catalog)
    return "\n".join(
        [
            f"% Compute and carbon statement: {latex_text(evaluation.scenario.name)}",
            "\\begin{tabular}{ll}",
            "\\hline",
            "Quantity & Value \\\\",
            "\\hline",
            *[f"{latex_text(k)} & {latex_text(v)} \\\\" for k, v in rows],
            "\\hline",
            "\\end{tabular}",
            "",
            latex_text(METHOD_SENTENCE),
            "",
            "Sources:",
            "\\begin{itemize}",
            *[f"\\item {latex_text(_source_line(*item))}" for item in sources],
            "\\end{itemize}",
            "",
        ]
    )
