"""The budget workbook (XLSX): one sheet per strategy, a summary, the sources.

Written with openpyxl rather than xlsxwriter: openpyxl reads the file back as
well as writing it, so the tests open what was written with the same library
(xlsxwriter is write-only), it is pure Python, and it embeds the PNG charts
through Pillow, which the app's Streamlit already installs.

Every amount is a number cell (the engine's nominal dollars, unrounded); every
total is a formula (``SUM``, or a reference to a strategy sheet's total) that
Excel and LibreOffice recompute; every text cell that came from a user goes
through :func:`planner.report.safe.cell_text`, so it can never run as a formula.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner.costing import INDIRECT, View
from planner.report.budget import rule_category
from planner.report.justification import assumptions_table
from planner.report.safe import cell_text, sheet_title
from planner.tco import Evaluation
from planner.tco.budget import budget_table

if TYPE_CHECKING:
    from pricing.catalog import Catalog

MONEY_FORMAT = "#,##0.00"
"""Number format of money cells (two decimals: to the cent)."""

FIRST_ROW = 5
"""Row of a strategy sheet's first category (after title, note, blank, header)."""


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _category_label(row: dict[str, Any]) -> str:
    if row["category"] == INDIRECT:
        return f"{INDIRECT} on {row['fa_base']} at {float(row['fa_rate']):.1%}"
    return str(row["category"])


def strategy_rows(evaluation: Evaluation, view: View, strategy: str) -> pd.DataFrame:
    """One strategy's budget by category (rows) and budget period (columns).

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"award", "institution"}
        Whose budget.
    strategy : str
        Strategy name.

    Returns
    -------
    pandas.DataFrame
        Indexed by category label (F&A rows name base and rate); one column
        per budget period (1..N) in nominal USD, zero where nothing is spent.
    """
    budget = budget_table(evaluation, view)
    mine = budget[budget["strategy"] == strategy].copy()
    periods = list(range(1, evaluation.scenario.horizon_years + 1))
    if mine.empty:
        return pd.DataFrame(columns=periods, dtype=float)
    mine["label"] = [
        _category_label({str(k): v for k, v in row.items()})
        for row in mine.to_dict("records")
    ]
    wide = mine.pivot_table(
        index="label",
        columns="budget_period",
        values="nominal_usd",
        aggfunc="sum",
        sort=False,
        fill_value=0.0,
    )
    return wide.reindex(columns=periods, fill_value=0.0)


def budget_workbook(
    evaluation: Evaluation,
    *,
    view: View = "award",
    title: str | None = None,
    description: str | None = None,
    funder: str = "nsf",
    charts: list[bytes] | None = None,
    catalog: Catalog | None = None,
) -> bytes:
    """The budget workbook of an evaluation.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"award", "institution"}, default "award"
        Whose budget.
    title, description : str, optional
        Shown on the summary sheet (default: the scenario's name and
        description).
    funder : str, default "nsf"
        Funder whose line each category goes on (a column of each sheet).
    charts : list of bytes, optional
        PNG images placed on the summary sheet.
    catalog : pricing.catalog.Catalog, optional
        The catalog used, for the dates of its tables.

    Returns
    -------
    bytes
        The ``.xlsx`` file: sheet ``Summary``, one sheet per strategy (years
        as columns, cost categories as rows, totals as formulas) and
        ``Assumptions``.
    """
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Font

    from planner import rules, verdict
    from pricing.history import catalog_dates

    scenario = evaluation.scenario
    lines = rules.funder_lines(funder)
    periods = list(range(1, scenario.horizon_years + 1))
    years = [scenario.start_year + p - 1 for p in periods]
    book = Workbook()
    summary = book.worksheets[0]
    summary.title = "Summary"
    taken = {"summary", "assumptions"}
    bold = Font(bold=True)
    totals: dict[str, str] = {}

    for name in evaluation.results:
        sheet = book.create_sheet(sheet_title(name, taken))
        sheet["A1"] = cell_text(name)
        sheet["A1"].font = bold
        sheet["A2"] = (
            f"Nominal USD per budget period ({view} view), escalated "
            f"{scenario.budget_escalation_per_year:.1%} a year from "
            f"{scenario.currency_year} dollars"
        )
        header = ["Cost category", "Funder line", *map(str, years), "Total"]
        for column, text in enumerate(header, start=1):
            cell = sheet.cell(row=FIRST_ROW - 1, column=column, value=text)
            cell.font = bold
        wide = strategy_rows(evaluation, view, name)
        first_value = 3
        last_value = first_value + len(periods) - 1
        total_column = last_value + 1
        row_number = FIRST_ROW
        for label, values in wide.iterrows():
            base = str(label).split(" ")[0]
            category = rule_category(evaluation, name, base)
            line = (
                rules.funder(funder).indirect_line
                if base == INDIRECT
                else str(lines.loc[category, "line"])
                if category in lines.index
                else rules.funder(funder).default_line
            )
            sheet.cell(row=row_number, column=1, value=cell_text(label))
            sheet.cell(row=row_number, column=2, value=cell_text(line))
            for offset, period in enumerate(periods):
                cell = sheet.cell(
                    row=row_number,
                    column=first_value + offset,
                    value=float(values[period]),
                )
                cell.number_format = MONEY_FORMAT
            cell = sheet.cell(
                row=row_number,
                column=total_column,
                value=f"=SUM({_column(first_value)}{row_number}:"
                f"{_column(last_value)}{row_number})",
            )
            cell.number_format = MONEY_FORMAT
            row_number += 1
        last_row = row_number - 1
        sheet.cell(row=row_number, column=1, value="Total").font = bold
        for column in range(first_value, total_column + 1):
            letter = _column(column)
            formula = (
                f"=SUM({letter}{FIRST_ROW}:{letter}{last_row})"
                if last_row >= FIRST_ROW
                else "=0"
            )
            cell = sheet.cell(row=row_number, column=column, value=formula)
            cell.number_format = MONEY_FORMAT
            cell.font = bold
        totals[name] = f"={_quoted(sheet.title)}!{_column(total_column)}{row_number}"
        sheet.column_dimensions["A"].width = 48

    recs = verdict.recommendations(evaluation)
    summary["A1"] = cell_text(title if title is not None else scenario.name)
    summary["A1"].font = Font(bold=True, size=14)
    summary["A2"] = cell_text(
        description if description is not None else scenario.description
    )
    summary["A3"] = cell_text(recs[view].sentence)
    header = [
        "Strategy",
        "Kind",
        f"Budget, nominal USD ({view})",
        f"Present value, real USD ({view})",
        "Institution present value",
        "Award present value",
        "Energy (kWh)",
        "CO2e (t)",
    ]
    for column, text in enumerate(header, start=1):
        summary.cell(row=5, column=column, value=text).font = bold
    frame = {str(r["strategy"]): r for r in evaluation.summary.to_dict("records")}
    row_number = 6
    for name, formula in totals.items():
        row = frame[name]
        summary.cell(row=row_number, column=1, value=cell_text(name))
        summary.cell(row=row_number, column=2, value=cell_text(row["kind"]))
        cells: list[Any] = [
            formula,
            float(row[f"{view}_npv_usd"]),
            float(row["institution_npv_usd"]),
            float(row["award_npv_usd"]),
            float(row["energy_kwh"]),
            float(row["co2e_t"]),
        ]
        for offset, value in enumerate(cells, start=3):
            cell = summary.cell(row=row_number, column=offset, value=value)
            cell.number_format = MONEY_FORMAT if offset <= 6 else "#,##0.0"
        row_number += 1
    summary.column_dimensions["A"].width = 48
    anchor = row_number + 2
    for png in charts or []:
        image = Image(io.BytesIO(png))
        image.width, image.height = image.width // 2, image.height // 2
        summary.add_image(image, f"A{anchor}")
        anchor += image.height // 20 + 2

    sources = book.create_sheet("Assumptions")
    for column, text in enumerate(["What", "Source", "Date"], start=1):
        sources.cell(row=1, column=column, value=text).font = bold
    table = assumptions_table(evaluation, catalog)
    for number, record in enumerate(table.to_dict("records"), start=2):
        sources.cell(row=number, column=1, value=cell_text(record["what"]))
        sources.cell(row=number, column=2, value=cell_text(record["source"]))
        sources.cell(row=number, column=3, value=cell_text(record["date"] or "-"))
    start = len(table) + 3
    dates = catalog_dates(catalog)
    header = ["Catalog", "Part", "Rows", "Newest source date", "Age (days)"]
    for column, text in enumerate(header, start=1):
        sources.cell(row=start, column=column, value=text).font = bold
    for number, record in enumerate(dates.to_dict("records"), start=start + 1):
        sources.cell(row=number, column=1, value=cell_text(record["catalog"]))
        sources.cell(row=number, column=2, value=cell_text(record["part"]))
        sources.cell(row=number, column=3, value=int(record["rows"]))
        newest = record["newest_source_date"]
        sources.cell(row=number, column=4, value=cell_text(newest or "-"))
        age = record["age_days"]
        sources.cell(row=number, column=5, value=None if pd.isna(age) else int(age))
    sources.column_dimensions["A"].width = 40
    sources.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
