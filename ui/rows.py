"""Rows typed into the consortium's members table, checked one by one.

A table row is a member only when it has a name and a demand: a row without a
name never becomes a member called "nan", a half-entered row is one message
naming its row, and an empty row is skipped. Demand is in GPUs of the shared
cluster's accelerator and converted by :mod:`planner.demand_units`.
"""

from typing import Any

import pandas as pd

from planner import pooling
from planner.demand_units import DemandKind, reference_hours_per_year
from pricing.catalog import Catalog

MAX_MEMBERS = pooling.MAX_PLAYERS - 1
"""Members besides the scenario's own project (every one of the 2^n coalitions
is priced). [-]"""

DEFAULT_PEAK_TO_MEAN = 2.0
"""Peak to mean of a member row left blank (the demand-shape default). [-]"""


def _blank(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def member_rows(
    edited: pd.DataFrame,
    *,
    unit: DemandKind,
    model: str,
    seeds: dict[str, int],
    catalog: Catalog | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Members (``Member`` data) from the table, and what is wrong with it.

    Parameters
    ----------
    edited : pandas.DataFrame
        Columns ``name``, ``demand`` [GPUs or GPU-h/year] and ``peak_to_mean``.
    unit : {"busy_gpus", "gpu_hours"}
        Unit of ``demand``.
    model : str
        The shared cluster's accelerator.
    seeds : dict
        Noise seed of each member kept by name (new rows get their own).
    catalog : pricing.catalog.Catalog, optional
        The session's catalog, for the accelerator's relative throughput.

    Returns
    -------
    members : list of dict
        Valid rows as ``Member`` data.
    problems : list of str
        One message per incomplete row, and for too many or repeated names.
    """
    members: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, row in enumerate(edited.to_dict("records"), start=1):
        raw_name, demand, peak = (
            row.get("name"),
            row.get("demand"),
            row.get("peak_to_mean"),
        )
        name = "" if _blank(raw_name) else str(raw_name).strip()
        if not name and _blank(demand) and _blank(peak):
            continue  # an empty row
        if not name:
            problems.append(f"member row {number}: a name is required")
            continue
        if _blank(demand):
            problems.append(f"member row {number} ({name}): the demand is required")
            continue
        members.append(
            {
                "name": name,
                "reference_hours_per_year": reference_hours_per_year(
                    float(demand), unit, model, catalog=catalog
                ),
                "shape": {
                    "kind": "synthetic",
                    "peak_to_mean": DEFAULT_PEAK_TO_MEAN
                    if _blank(peak)
                    else float(peak),
                    "seed": seeds.get(name, 100 + number),
                },
            }
        )
    if not members and not problems:
        problems.append("give at least one member besides your own project")
    if len(members) > MAX_MEMBERS:
        problems.append(
            f"at most {MAX_MEMBERS} members (every one of the 2^n coalitions is priced)"
        )
    names = [m["name"] for m in members]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(f"member names must be unique: {', '.join(repeated)}")
    return members, problems
