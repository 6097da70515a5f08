"""Report files by extension, written atomically and never over what must stay.

``.docx`` and ``.md``: the budget justification
(:mod:`planner.report.justification`); ``.xlsx``: the budget workbook
(:mod:`planner.report.workbook`); ``.tex``: the compute and carbon statement
(:mod:`planner.report.statement`). A file is written to a temporary sibling and
moved into place, so a failure leaves nothing half-written; without ``force``
the move refuses an existing file (a hard link cannot replace one), and the
scenario a report is made from is never overwritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.costing import View
from planner.tco import Evaluation

if TYPE_CHECKING:
    from pricing.catalog import Catalog

REPORT_SUFFIXES = (".docx", ".md", ".xlsx", ".tex")
"""File extensions :func:`report_bytes` writes."""


def report_bytes(
    evaluation: Evaluation,
    suffix: str,
    *,
    view: View = "award",
    funder: str = "nsf",
    title: str | None = None,
    description: str | None = None,
    charts: bool = True,
    catalog: Catalog | None = None,
) -> bytes:
    """The content of a report file of one kind.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    suffix : {".docx", ".md", ".xlsx", ".tex"}
        Kind of file.
    view : {"award", "institution"}, default "award"
        Whose cost.
    funder : str, default "nsf"
        Funder rules (:mod:`planner.rules`).
    title, description : str, optional
        Editable title and description (default: the scenario's).
    charts : bool, default True
        Embed PNG charts (DOCX, XLSX).
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays (for its dates).

    Returns
    -------
    bytes
        The file's content (UTF-8 for text).

    Raises
    ------
    ValueError
        If the suffix is not one of :data:`REPORT_SUFFIXES`.
    """
    from planner.report import charts as chart_module
    from planner.report import justification, statement, workbook

    suffix = suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        msg = f"unknown report type {suffix!r}; choose one of {REPORT_SUFFIXES}"
        raise ValueError(msg)
    if suffix == ".tex":
        return statement.scenario_latex(evaluation, view, catalog).encode("utf-8")
    doc = justification.justification(
        evaluation,
        funder=funder,
        view=view,
        title=title,
        description=description,
        catalog=catalog,
    )
    if suffix == ".md":
        return justification.justification_markdown(doc).encode("utf-8")
    images = (
        [
            chart_module.budget_chart_png(
                doc.funder_table,
                title=f"Budget per year on {doc.funder.funder} lines ({view} view)",
            ),
            chart_module.cumulative_chart_png(evaluation, view),
        ]
        if charts
        else []
    )
    if suffix == ".docx":
        return justification.justification_docx(doc, charts=images)
    return workbook.budget_workbook(
        evaluation,
        view=view,
        title=title,
        description=description,
        funder=funder,
        charts=images,
        catalog=catalog,
    )
