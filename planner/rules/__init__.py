"""Funder budget rules as data: which line of a funder's budget each cost goes on.

Two tables beside this module, each row with its citation:

* ``funders.csv``: one row per funder: whether its budget is in each year's
  (``nominal``) or today's (``current``) dollars, the share it funds, and the
  names of its F&A (indirect), total-direct and total lines;
* ``funder_lines.csv``: one row per funder and cost category of the engine
  (:data:`RULE_CATEGORIES`): the funder's line code and name.

The engine's ``capex`` becomes ``capex_equipment`` or ``capex_supplies`` by the
institution's equipment threshold (2 CFR 200.1), as :func:`planner.costing.
server_vintage_flows` decides its F&A. F&A lines (``indirect_costs``) go on the
funder's indirect line, one per rate, with their base.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import pandas as pd

RULE_CATEGORIES = (
    "capex_equipment",
    "capex_supplies",
    "support",
    "staff",
    "hosting",
    "electricity",
    "cloud_on_demand",
    "cloud_spot",
    "cloud_committed_use",
    "cloud_commitment_1y",
    "cloud_commitment_3y",
    "cloud_storage",
    "cloud_egress",
    "recharge",
    "salvage",
)
"""Cost categories a funder's rules must place (the engine's, capex split). [-]"""

FUNDER_COLUMNS = (
    "funder",
    "name",
    "prices",
    "funded_fraction",
    "indirect_line",
    "indirect_line_name",
    "direct_total_line",
    "direct_total_name",
    "total_line",
    "total_name",
    "default_line",
    "source",
    "source_date",
    "notes",
)
"""Columns of ``funders.csv``."""

LINE_COLUMNS = ("funder", "category", "line", "line_name", "source")
"""Columns of ``funder_lines.csv``."""


class RulesError(ValueError):
    """A rules table is malformed; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Funder:
    """One funder's budget conventions (a row of ``funders.csv``)."""

    funder: str
    name: str
    prices: Literal["nominal", "current"]
    """``nominal``: each budget year in its own dollars (escalated);
    ``current``: today's prices, the funder indexes the award."""
    funded_fraction: float
    """Share of the budget the funder pays. [0-1]"""
    indirect_line: str
    indirect_line_name: str
    direct_total_line: str
    direct_total_name: str
    total_line: str
    total_name: str
    default_line: str
    """Line of a cost category the rules do not name."""
    source: str
    source_date: str
    notes: str


@cache
def _text(file_name: str) -> str:
    return resources.files("planner.rules").joinpath(file_name).read_text("utf-8")


def _records(file_name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    reader = csv.DictReader(_text(file_name).splitlines())
    if tuple(reader.fieldnames or ()) != columns:
        msg = f"{file_name}: columns {reader.fieldnames}, expected {list(columns)}"
        raise RulesError([msg])
    return list(reader)


@cache
def _funders() -> dict[str, Funder]:
    problems: list[str] = []
    found: dict[str, Funder] = {}
    for number, row in enumerate(_records("funders.csv", FUNDER_COLUMNS), start=2):
        where = f"funders.csv:{number}"
        if row["prices"] not in ("nominal", "current"):
            problems.append(f"{where}: prices must be nominal or current")
        fraction = float(row["funded_fraction"])
        if not 0 < fraction <= 1:
            problems.append(f"{where}: funded_fraction must be in (0, 1]")
        if not row["source"].strip():
            problems.append(f"{where}: source is empty")
        if row["funder"] in found:
            problems.append(f"{where}: funder {row['funder']!r} repeated")
        found[row["funder"]] = Funder(
            **{key: row[key] for key in FUNDER_COLUMNS if key != "funded_fraction"},  # type: ignore[arg-type]
            funded_fraction=fraction,
        )
    lines = _records("funder_lines.csv", LINE_COLUMNS)
    keys = [(row["funder"], row["category"]) for row in lines]
    for number, row in enumerate(lines, start=2):
        where = f"funder_lines.csv:{number}"
        if row["funder"] not in found:
            problems.append(f"{where}: unknown funder {row['funder']!r}")
        if row["category"] not in RULE_CATEGORIES:
            problems.append(f"{where}: unknown category {row['category']!r}")
        if keys.count((row["funder"], row["category"])) > 1:
            problems.append(f"{where}: {row['funder']}/{row['category']} repeated")
        if not row["source"].strip() or not row["line"].strip():
            problems.append(f"{where}: line and source must not be empty")
    for name in found:
        missing = [c for c in RULE_CATEGORIES if (name, c) not in keys]
        if missing:
            problems.append(f"funder_lines.csv: {name} lacks {', '.join(missing)}")
    if problems:
        raise RulesError(problems)
    return found


def funder_ids() -> tuple[str, ...]:
    """Ids of the funders with rules.

    Returns
    -------
    tuple of str
        In file order.

    Examples
    --------
    >>> funder_ids()
    ('nsf', 'ukri_fec80')
    """
    return tuple(_funders())


def funder(name: str) -> Funder:
    """One funder's conventions.

    Parameters
    ----------
    name : str
        A funder id (:func:`funder_ids`).

    Returns
    -------
    Funder
        Its row of ``funders.csv``.

    Raises
    ------
    ValueError
        If the funder has no rules.

    Examples
    --------
    >>> funder("ukri_fec80").funded_fraction, funder("nsf").prices
    (0.8, 'nominal')
    """
    found = _funders()
    if name not in found:
        msg = f"unknown funder {name!r}; choose one of: {', '.join(found)}"
        raise ValueError(msg)
    return found[name]


def funder_lines(name: str) -> pd.DataFrame:
    """The funder's line for each cost category, with the rule's citation.

    Parameters
    ----------
    name : str
        A funder id.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``category``: ``line``, ``line_name`` and ``source``.

    Raises
    ------
    ValueError
        If the funder has no rules.

    Examples
    --------
    >>> lines = funder_lines("nsf")
    >>> lines.loc["capex_equipment", "line"], lines.loc["cloud_on_demand", "line"]
    ('D', 'G.4')
    """
    funder(name)
    rows = [
        row
        for row in _records("funder_lines.csv", LINE_COLUMNS)
        if row["funder"] == name
    ]
    return pd.DataFrame(rows).drop(columns="funder").set_index("category")
