"""A grant budget justification: the engine's numbers, then Markdown and DOCX.

:func:`justification` gathers everything a grants office reads, every number
taken from the engine (:func:`planner.tco.evaluate`, :func:`planner.tco.budget.
budget_table` on the funder's lines, :func:`planner.verdict.recommendations`,
:func:`planner.breakeven.break_even_table`): the question, the recommendation in
the award view, the budget per budget period on the funder's lines with F&A as
its own line (rate and base), the alternatives, the break-even points, the CO2e,
the method with its references and every assumption with its source and date.
:func:`justification_markdown` and :func:`justification_docx` only render it;
user text is made safe by :mod:`planner.report.safe`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd

from planner import rules
from planner.breakeven import BreakEven, break_even_table
from planner.costing import View
from planner.report.budget import budget_sheet, funder_budget
from planner.report.safe import markdown_text, xml_text
from planner.tco import Evaluation
from planner.uncertainty.sensitivity import Sensitivity, money_text, sensitivities
from planner.verdict import Recommendation, headline, recommendations
from pricing.catalog import Catalog
from pricing.history import source_date_text

REFERENCES = (
    'E. Strubell, A. Ganesh, and A. McCallum, "Energy and Policy Considerations '
    'for Deep Learning in NLP," in Proc. 57th Annu. Meeting of the ACL, 2019, '
    "pp. 3645-3650, doi:10.18653/v1/P19-1355.",
    "B. Cottier, R. Rahman, L. Fattorini, N. Maslej, T. Besiroglu, and D. Owen, "
    '"The rising costs of training frontier AI models," arXiv:2405.21015, 2024.',
    'A. S. Luccioni, S. Viguier, and A.-L. Ligozat, "Estimating the Carbon '
    'Footprint of BLOOM, a 176B Parameter Language Model," JMLR, vol. 24, '
    "no. 253, pp. 1-15, 2023.",
    'X. Fan, W.-D. Weber, and L. A. Barroso, "Power provisioning for a '
    'warehouse-sized computer," in Proc. ISCA, 2007, pp. 13-23, '
    "doi:10.1145/1250662.1250665.",
    'U. Gupta et al., "ACT: Designing Sustainable Computer Systems with an '
    'Architectural Carbon Modeling Tool," in Proc. ISCA, 2022, '
    "doi:10.1145/3470496.3527408.",
    "2 CFR 200.1 (definitions of equipment, supplies and modified total direct "
    "cost) and 2 CFR 200.313(e) (disposition of equipment), Uniform Guidance, as "
    "revised 2024 (awards from 2024-10-01).",
)
"""References of the method section, IEEE style."""

COMPARISON_COLUMNS = (
    "strategy",
    "kind",
    "budget_usd",
    "npv_usd",
    "institution_npv_usd",
    "award_npv_usd",
    "energy_kwh",
    "co2e_t",
    "delayed_reference_hours",
    "unserved_reference_hours",
)
"""Columns of :attr:`Justification.comparison`."""


@dataclass(frozen=True)
class Justification:
    """Everything a budget justification states, as the engine computed it."""

    title: str
    description: str
    funder: rules.Funder
    view: View
    question: list[str]
    recommendation: Recommendation
    headline: str
    strategy: str
    """The recommended strategy of the view."""
    periods: list[tuple[int, int]]
    """Budget periods and their calendar years."""
    budgets: dict[str, pd.DataFrame]
    """:func:`planner.report.budget.budget_sheet` of each strategy, the
    recommended one first. [USD]"""
    funder_table: pd.DataFrame
    """:func:`planner.report.budget.funder_budget`, long form. [USD]"""
    comparison: pd.DataFrame
    """One row per strategy (:data:`COMPARISON_COLUMNS`): the total budget on the
    funder's lines, present values in the view and both views, energy, CO2e,
    late and unserved work."""
    break_even: list[str]
    co2e: list[str]
    method: list[str]
    references: list[str]
    assumptions: pd.DataFrame
    """``what``, ``source`` and ``date`` (ISO, or "" when the source gives none)."""
    warnings: list[str] = field(default_factory=list)
    sensitivity: Sensitivity | None = None
    """The one-at-a-time tornado of the view beside the recommendation."""


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _catalog_date(
    evaluation: Evaluation, what: str, source: str, catalog: Catalog
) -> str:
    """The ``source_date`` of the catalog row behind a strategy's assumption.

    A hybrid strategy has two rows (its server and its burst offer); the
    source's text names the offer first ("aws us-east-1 p5.48xlarge: ...").
    """
    from planner.resolve import ResolvedCloudStrategy, ResolvedOwnedStrategy
    from pricing.history import catalog_dates

    try:
        strategy = evaluation.resolved.strategy(what)
    except (KeyError, ValueError, LookupError):
        strategy = None
    if isinstance(strategy, ResolvedOwnedStrategy) and strategy.burst is not None:
        burst = strategy.burst.offer
        label = f"{burst.provider} {burst.region} {burst.instance_type}:"
        if source.startswith(label):
            strategy = strategy.burst
    try:
        if isinstance(strategy, ResolvedCloudStrategy):
            offer = strategy.offer
            row = catalog.cloud_offer(
                str(offer.provider), str(offer.region), str(offer.instance_type)
            )
            return str(row["source_date"])
        if isinstance(strategy, ResolvedOwnedStrategy):
            return str(catalog.server(strategy.server.server)["source_date"])
    except (KeyError, ValueError, LookupError):
        return ""
    if "cloud price trend" in what:
        dates = catalog_dates(catalog)
        newest = dates.loc[dates["catalog"] == "cloud_price_history"]
        return str(newest["newest_source_date"].iloc[0]) if len(newest) else ""
    return ""


def assumptions_table(
    evaluation: Evaluation, catalog: Catalog | None = None
) -> pd.DataFrame:
    """Every looked-up value with its source and date, then the scenario's inputs.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    catalog : pricing.catalog.Catalog, optional
        The catalog for the rows' ``source_date`` (default the one the
        evaluation was priced with).

    Returns
    -------
    pandas.DataFrame
        ``what``, ``source`` and ``date``: the ``source_date`` of the catalog
        row behind it, else the first date in the source's text as written
        (:func:`pricing.history.source_date_text`), else "" (a derived value
        or a scenario input).
    """
    catalog = catalog or evaluation.resolved.catalog
    scenario = evaluation.scenario
    site = scenario.site
    institution = scenario.institution
    resolved_site = evaluation.resolved.site
    first_year_hours = evaluation.resolved.demand.first_year_reference_hours
    rows = [(what, source) for what, source in evaluation.resolved.assumptions] + [
        (
            "horizon and money",
            f"scenario input: {scenario.horizon_years} years from "
            f"{scenario.start_year}, real USD of {scenario.currency_year}, "
            f"discount rate {scenario.real_discount_rate:.1%} a year, budget "
            f"escalation {scenario.budget_escalation_per_year:.1%} a year",
        ),
        (
            "demand",
            f"scenario input: {first_year_hours:,.0f}"
            f" reference accelerator-hours ({scenario.demand.reference_accelerator})"
            f" in the first year, {scenario.demand.growth_per_year:+.1%} a year",
        ),
        (
            "site",
            f"scenario input or lookup: PUE {site.pue:g}, electricity "
            f"${float(resolved_site.electricity_usd_per_kwh[0]):.4f}/kWh, grid "
            f"{float(resolved_site.grid_co2e_g_per_kwh[0]):,.1f} g CO2e/kWh in "
            "year 1",
        ),
        (
            "institution",
            f"scenario input: F&A {institution.indirect_cost_rate:.1%} on MTDC, "
            f"equipment from ${institution.equipment_threshold_usd:,.0f} per unit "
            f"(2 CFR 200.1), power paid by {institution.power_paid_by}, hosting "
            f"paid by {institution.hosting_paid_by}",
        ),
    ]
    looked_up = len(evaluation.resolved.assumptions)
    dates = []
    for number, (what, source) in enumerate(rows):
        if number >= looked_up:
            dates.append("")
            continue
        # The catalog row's own date first: a source's text also cites the
        # years of papers ("Cottier et al. 2024"), which are not when the
        # value was taken.
        dates.append(
            _catalog_date(evaluation, what, source, catalog) or source_date_text(source)
        )
    return pd.DataFrame(
        {
            "what": [what for what, _ in rows],
            "source": [source for _, source in rows],
            "date": dates,
        }
    )


def justification(
    evaluation: Evaluation,
    *,
    funder: str = "nsf",
    view: View = "award",
    title: str | None = None,
    description: str | None = None,
    break_evens: list[BreakEven] | None = None,
    catalog: Catalog | None = None,
) -> Justification:
    """Gather a budget justification from an evaluation.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    funder : str, default "nsf"
        A funder id of :mod:`planner.rules` (``nsf``, ``ukri_fec80``).
    view : {"award", "institution"}, default "award"
        Whose cost the recommendation and the budget are in.
    title, description : str, optional
        The document's title and description (default: the scenario's name
        and description).
    break_evens : list of BreakEven, optional
        A prior :func:`planner.breakeven.break_even_table` in ``view``.
    catalog : pricing.catalog.Catalog, optional
        The catalog the evaluation used (for the assumptions' dates).

    Returns
    -------
    Justification
        Every number as the engine computed it.
    """
    scenario = evaluation.scenario
    rule = rules.funder(funder)
    recs = recommendations(evaluation)
    rec = recs[view]
    if break_evens is None:
        break_evens = break_even_table(scenario, evaluation=evaluation, view=view)
    table = funder_budget(evaluation, funder=funder, view=view)
    names = [rec.strategy, *(n for n in evaluation.results if n != rec.strategy)]
    budgets = {
        name: budget_sheet(
            table, name, funder=funder, horizon_years=scenario.horizon_years
        )
        for name in names
    }
    summary = {
        str(row["strategy"]): row for row in evaluation.summary.to_dict("records")
    }
    comparison = pd.DataFrame(
        [
            {
                "strategy": n,
                "kind": summary[n]["kind"],
                "budget_usd": float(
                    budgets[n].loc[budgets[n]["kind"] == "total", "total"].sum()
                ),
                "npv_usd": float(summary[n][f"{view}_npv_usd"]),
                **{
                    column: float(summary[n][column])
                    for column in COMPARISON_COLUMNS[4:]
                },
            }
            for n in names
        ],
        columns=list(COMPARISON_COLUMNS),
    )
    periods = [
        (p, scenario.start_year + p - 1) for p in range(1, scenario.horizon_years + 1)
    ]
    demand = evaluation.resolved.demand
    strategies = ", ".join(names)
    money = (
        f"nominal dollars of each budget year (escalated "
        f"{scenario.budget_escalation_per_year:.1%} a year from "
        f"{scenario.currency_year} dollars)"
        if rule.prices == "nominal"
        else f"current prices (real USD of {scenario.currency_year}, no inflation)"
    )
    question = [
        f"Which way of providing {demand.first_year_reference_hours:,.0f} "
        f"reference accelerator-hours a year ({scenario.demand.reference_accelerator}"
        f" equivalents, changing {scenario.demand.growth_per_year:+.0%} a year) over "
        f"{scenario.horizon_years} years from {scenario.start_year} costs the "
        f"{'award' if view == 'award' else 'institution'} least: {strategies}?",
        f"Strategies are compared at equal service (late and unserved work "
        f"priced) by present value in real USD of {scenario.currency_year}, "
        f"discounted at {scenario.real_discount_rate:.1%} a year; the budget is in "
        f"{money}, on the lines of {rule.name}.",
    ]
    best = comparison.to_dict("records")[0]
    co2e = [
        f"{rec.strategy} draws {best['energy_kwh']:,.0f} kWh and emits "
        f"{best['co2e_t']:,.1f} t CO2e over the horizon "
        f"({float(summary[rec.strategy]['co2e_embodied_kg']) / 1e3:,.1f} t of "
        "it embodied in hardware), location-based.",
        *[
            f"{row['strategy']}: {row['energy_kwh']:,.0f} kWh, {row['co2e_t']:,.1f} "
            f"t CO2e ({row['co2e_t'] - best['co2e_t']:+,.1f} t against the "
            "recommendation)."
            for row in comparison.to_dict("records")[1:]
        ],
    ]
    method = [
        "Each strategy is projected year by year from the shipped catalogs "
        "(prices, powers, grid intensities, each row with its source and date). "
        "Energy follows Strubell et al. [1] (power x hours x PUE), with the linear "
        "power curve of Fan et al. [4] for servers that idle; operational CO2e is "
        "energy x the grid's intensity; embodied CO2e is spread over the "
        "hardware's used hours (Gupta et al. [5]; Luccioni et al. [3]).",
        "Owned hardware is paid when bought, running costs at the end of each "
        "year; resale is credited to the institution only (2 CFR 200.313(e) [6]). "
        "F&A is a line of its own on the modified total direct cost (2 CFR "
        "200.1 [6]): equipment and space rented by the kW bear none, services, "
        "supplies and salaries bear the negotiated rate. The cloud premium "
        "follows Cottier et al. [2].",
        f"Funder lines: {rule.source} ({rule.source_date})."
        + (f" {rule.notes}" if rule.notes else ""),
    ]
    return Justification(
        title=title if title is not None else scenario.name,
        description=description if description is not None else scenario.description,
        funder=rule,
        view=view,
        question=question,
        recommendation=rec,
        headline=headline(recs),
        strategy=rec.strategy,
        periods=periods,
        budgets=budgets,
        funder_table=table,
        comparison=comparison,
        break_even=[f"{b.onprem} vs {b.cloud}: {b.explanation}" for b in break_evens],
        co2e=co2e,
        method=method,
        references=list(REFERENCES),
        assumptions=assumptions_table(evaluation, catalog),
        warnings=list(evaluation.warnings),
        sensitivity=sensitivities(scenario, catalog=evaluation.resolved.catalog)[view],
    )


def _sheet_rows(doc: Justification, name: str) -> tuple[list[str], list[list[str]]]:
    """Header and formatted rows of one strategy's budget (shared by renderers)."""
    sheet = doc.budgets[name]
    header = ["Line", "Item", *[f"Year {p} ({y})" for p, y in doc.periods], "Total"]
    rows = []
    for record in sheet.to_dict("records"):
        rows.append(
            [
                str(record["line"]),
                str(record["line_name"]),
                *[_money(float(record[p])) for p, _ in doc.periods],
                _money(float(record["total"])),
            ]
        )
    return header, rows


def _comparison_rows(doc: Justification) -> tuple[list[str], list[list[str]]]:
    header = [
        "Strategy",
        "Budget (funder lines)",
        f"Present value ({doc.view})",
        "Institution PV",
        "Award PV",
        "t CO2e",
        "Unserved ref. h",
    ]
    rows = [
        [
            str(row["strategy"]),
            _money(row["budget_usd"]),
            _money(row["npv_usd"]),
            _money(row["institution_npv_usd"]),
            _money(row["award_npv_usd"]),
            f"{row['co2e_t']:,.1f}",
            f"{row['unserved_reference_hours']:,.0f}",
        ]
        for row in doc.comparison.to_dict("records")
    ]
    return header, rows


def _sensitivity_rows(doc: Justification) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the tornado: each input at its P10 and P90, the lead."""
    header = ["Input", "P10", "Lead at P10", "P90", "Lead at P90"]
    if doc.sensitivity is None:
        return header, []
    lead = doc.sensitivity.advantage_usd
    rows = [
        [
            bar.words,
            f"{bar.low:.4g}",
            money_text(lead + bar.low_npv_delta_usd),
            f"{bar.high:.4g}",
            money_text(lead + bar.high_npv_delta_usd),
        ]
        for bar in doc.sensitivity.bars
    ]
    return header, rows


def _assumption_rows(doc: Justification) -> list[list[str]]:
    return [
        [str(r["what"]), str(r["source"]), str(r["date"] or "-")]
        for r in doc.assumptions.to_dict("records")
    ]


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(markdown_text(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines.extend(
        "| " + " | ".join(markdown_text(c) for c in row) + " |" for row in rows
    )
    return lines


def justification_markdown(doc: Justification) -> str:
    """The justification in Markdown (GitHub-flavoured tables).

    Parameters
    ----------
    doc : Justification
        Output of :func:`justification`.

    Returns
    -------
    str
        Markdown text; user text escaped.
    """
    md = markdown_text
    out = [f"# {md(doc.title)}", ""]
    if doc.description:
        out += [md(doc.description, inline=False), ""]
    out += ["## Question", "", *[md(q) for q in doc.question], ""]
    out += [
        f"## Recommendation ({doc.view} view)",
        "",
        md(doc.recommendation.sentence),
        "",
        *[f"- {md(item)}" for item in doc.recommendation.flips_if],
        "",
    ]
    if doc.sensitivity is not None:
        out += [
            "### What decides it",
            "",
            md(doc.sensitivity.sentence()),
            "",
            *_md_table(*_sensitivity_rows(doc)),
            "",
        ]
    out += [
        f"## Budget of {md(doc.strategy)}",
        "",
        f"By budget period, on the lines of {md(doc.funder.name)}; "
        f"{md(doc.funder.indirect_line)} is F&A with its rate and base.",
        "",
        *_md_table(*_sheet_rows(doc, doc.strategy)),
        "",
    ]
    out += ["## Alternatives", "", *_md_table(*_comparison_rows(doc)), ""]
    for name in list(doc.budgets)[1:]:
        out += [
            f"### Budget of {md(name)}",
            "",
            *_md_table(*_sheet_rows(doc, name)),
            "",
        ]
    out += ["## Break-even points", ""]
    out += [f"- {md(line)}" for line in doc.break_even] or [
        "- none (no owned strategy)"
    ]
    out += ["", "## CO2e", "", *[f"- {md(line)}" for line in doc.co2e], ""]
    out += ["## Method", "", *[md(p) + "\n" for p in doc.method]]
    out += ["### References", ""]
    out += [f"{i}. {md(ref)}" for i, ref in enumerate(doc.references, start=1)]
    out += ["", "## Assumptions and sources", ""]
    out += _md_table(
        ["What", "Source", "Date"],
        _assumption_rows(doc),
    )
    if doc.warnings:
        out += ["", "## Warnings", "", *[f"- {md(w)}" for w in doc.warnings]]
    return "\n".join(out) + "\n"


def justification_docx(
    doc: Justification, *, charts: list[bytes] | None = None
) -> bytes:
    """The justification as a Word document (python-docx).

    Parameters
    ----------
    doc : Justification
        Output of :func:`justification`.
    charts : list of bytes, optional
        PNG images placed after the recommended budget
        (:mod:`planner.report.charts`).

    Returns
    -------
    bytes
        The ``.docx`` file.
    """
    from docx import Document
    from docx.shared import Inches, Pt

    document = Document()
    document.core_properties.title = xml_text(doc.title)[:255]
    document.core_properties.subject = "Budget justification"
    document.add_heading(xml_text(doc.title), level=0)
    if doc.description:
        document.add_paragraph(xml_text(doc.description))

    def table(header: list[str], rows: list[list[str]]) -> None:
        grid = document.add_table(rows=1, cols=len(header))
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, header, strict=True):
            cell.text = xml_text(text)
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for row in rows:
            cells = grid.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                cell.text = xml_text(text)
        for row in grid.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    for run in paragraph.runs:
                        run.font.size = Pt(8)

    document.add_heading("Question", level=1)
    for line in doc.question:
        document.add_paragraph(xml_text(line))
    document.add_heading(f"Recommendation ({doc.view} view)", level=1)
    document.add_paragraph(xml_text(doc.recommendation.sentence))
    for item in doc.recommendation.flips_if:
        document.add_paragraph(xml_text(item), style="List Bullet")
    if doc.sensitivity is not None:
        document.add_heading("What decides it", level=2)
        document.add_paragraph(xml_text(doc.sensitivity.sentence()))
        table(*_sensitivity_rows(doc))
    document.add_heading(f"Budget of {xml_text(doc.strategy)}", level=1)
    document.add_paragraph(
        xml_text(
            f"By budget period, on the lines of {doc.funder.name}; "
            f"{doc.funder.indirect_line} is F&A with its rate and base."
        )
    )
    table(*_sheet_rows(doc, doc.strategy))
    for png in charts or []:
        document.add_picture(io.BytesIO(png), width=Inches(6.0))
    document.add_heading("Alternatives", level=1)
    table(*_comparison_rows(doc))
    for name in list(doc.budgets)[1:]:
        document.add_heading(f"Budget of {xml_text(name)}", level=2)
        table(*_sheet_rows(doc, name))
    document.add_heading("Break-even points", level=1)
    for line in doc.break_even or ["none (no owned strategy)"]:
        document.add_paragraph(xml_text(line), style="List Bullet")
    document.add_heading("CO2e", level=1)
    for line in doc.co2e:
        document.add_paragraph(xml_text(line), style="List Bullet")
    document.add_heading("Method", level=1)
    for paragraph in doc.method:
        document.add_paragraph(xml_text(paragraph))
    document.add_heading("References", level=2)
    for ref in doc.references:
        document.add_paragraph(xml_text(ref), style="List Number")
    document.add_heading("Assumptions and sources", level=1)
    table(
        ["What", "Source", "Date"],
        _assumption_rows(doc),
    )
    if doc.warnings:
        document.add_heading("Warnings", level=1)
        for warning in doc.warnings:
            document.add_paragraph(xml_text(warning), style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
