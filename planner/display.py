"""Words and numbers for people: labels from field descriptions, money, rounding.

Front ends show a field by a label taken from its description (the first clause
and the unit in brackets), never its snake_case name; a few fields whose first
clause reads badly, or whose wording would be US-only ("F&A"), have a label of
their own in :data:`FIELD_LABELS`. Table columns get words from
:data:`COLUMN_LABELS` or from their unit suffix (C2). Money is shown to the
dollar with separators; downloads keep cents and no binary noise
(:func:`rounded_for_download`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
from pydantic.fields import FieldInfo

INDIRECT = "indirect costs (F&A / overheads)"
"""Name of an institution's indirect-cost charge that is not US-only: F&A in
the US (facilities and administrative), overheads elsewhere."""

FIELD_LABELS = {
    "indirect_cost_rate": f"Rate of {INDIRECT} [0-1]",
    "cloud_exempt_from_indirect": f"No {INDIRECT} on cloud services",
    "equipment_threshold_usd": f"Equipment threshold (no {INDIRECT} above) [USD]",
    "mtdc_exclusions": f"Costs kept out of the {INDIRECT} base",
    "power_paid_by": "Electricity of owned hardware paid by",
    "hosting_paid_by": "Space / colocation paid by",
    "demand_kind": "Demand given as",
    "demand_value": "Demand",
    "reference_hours_per_year": "Work in the first year [reference accelerator-h/year]",
    "reference_accelerator": "Reference accelerator (unit of demand)",
    "joblog": "Job log",
    "workload": "Generated workload",
    "shape": "Hourly shape",
    "kind": "Kind",
    "view": "Whose cost decides",
    "catalog_overlays": "Catalog overlays (your quotes and tariffs)",
    "budget_escalation_per_year": "Budget escalation, nominal [1/year]",
    "servers": "Servers (a number, or auto: the cheapest count)",
    "server_specs": "Servers the plan may buy",
    "cloud_offers": "Cloud offers the plan may rent",
    "purchase_years": "Years the plan may buy in",
    "blocks_per_year": "Load-duration blocks a year",
    "capital_budget_usd_per_year": "Capital budget a year [USD/year]",
    "total_budget_usd": "Total budget over the horizon, undiscounted [USD]",
    "site_power_kw": "Site power for servers [kW]",
    "carbon_cap_co2e_kg_per_year": "CO2e cap a year [kg/year]",
    "max_servers_per_year": "Most servers bought in a year",
    "min_onprem_share": "Least share of work on owned servers [0-1]",
    "location": "Where the machine room is (ISO country or US state)",
    "depreciation": "Depreciation (accounting view only)",
    "provider": "Cloud provider",
    "refresh": "Replace servers at end of life",
    "capex_change_per_year": "Real price change of refresh purchases [1/year]",
    "availability": "Usable share of installed capacity [0-1]",
    "name": "Name",
    "description": "Notes and sources",
    "currency": "Currency",
}
"""Labels of fields whose description's first clause does not read as a label."""

_UNIT = re.compile(r"\[([^\[\]]*)\]\s*$")
_CLAUSE = re.compile(r";|\. |: | \(|, e\.g\.|, default")


def field_label(name: str, info: FieldInfo) -> str:
    """A widget label for a pydantic field: words and unit, from its description.

    Parameters
    ----------
    name : str
        Field name.
    info : pydantic.fields.FieldInfo
        The field (its ``description`` ends with ``[unit]``).

    Returns
    -------
    str
        :data:`FIELD_LABELS` for the name if there is one, else the
        description's first clause with the unit in brackets (none for
        ``[-]``), else the name in words.

    Examples
    --------
    >>> from planner.scenario import Site
    >>> tariff = Site.model_fields["electricity_usd_per_kwh"]
    >>> field_label("electricity_usd_per_kwh", tariff)
    'Electricity tariff at the meter [USD/kWh]'
    >>> field_label("pue", Site.model_fields["pue"])
    'Power usage effectiveness of the machine room'
    >>> field_label("indirect_cost_rate", FieldInfo(description="F&A rate. [-]"))
    'Rate of indirect costs (F&A / overheads) [0-1]'
    """
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    description = (info.description or "").strip()
    found = _UNIT.search(description)
    unit = found.group(1).strip() if found else ""
    body = description[: found.start()].strip() if found else description
    first = _CLAUSE.split(body)[0].strip().rstrip(".")
    if not first:
        first = name.replace("_", " ").capitalize()
    return f"{first} [{unit}]" if unit and unit != "-" else first


COLUMN_LABELS = {
    "strategy": "Strategy",
    "kind": "Kind",
    "view": "View",
    "npv_usd": "Present value (USD)",
    "institution_npv_usd": "Institution view, present value (USD)",
    "award_npv_usd": "Award view, present value (USD)",
    "cash_npv_usd": "Cash present value, no resale (USD)",
    "undiscounted_real_usd": "Undiscounted (USD)",
    "equivalent_annual_cost_usd": "Per year, equivalent (USD/year)",
    "cost_per_reference_hour_usd": "Per reference hour (USD/h)",
    "demand_reference_hours": "Demand (reference h)",
    "delivered_reference_hours": "Delivered (reference h)",
    "delayed_reference_hours": "Delayed (reference h)",
    "unserved_reference_hours": "Unserved (reference h)",
    "delay_cost_usd": "Cost of delays (USD)",
    "unserved_cost_usd": "Cost of unserved work (USD)",
    "utilisation": "Utilisation (0-1)",
    "energy_kwh": "Energy (kWh)",
    "co2e_kg": "CO2e (kg)",
    "co2e_t": "CO2e (t)",
    "co2e_embodied_kg": "Embodied CO2e (kg)",
    "servers": "Servers",
    "servers_sized": "Sized at equal service",
    "mean_wait_hours": "Mean wait (h)",
    "p95_wait_hours": "95th percentile wait (h)",
    "calendar_year": "Year",
    "year": "Year index",
    "cost_usd": "Cost (USD)",
    "discounted_cost_usd": "Discounted cost (USD)",
    "institution_cost_usd": "Institution view (USD)",
    "award_cost_usd": "Award view (USD)",
    "member": "Member",
    "rule": "Rule",
    "allocation_usd": "Allocation, present value (USD)",
    "standalone_usd": "Alone, present value (USD)",
    "savings_usd": "Saving, present value (USD)",
    "savings_share": "Saving (0-1)",
    "in_core": "In the core",
    "uniform_rate_usd_per_reference_hour": "Uniform rate (USD per reference h)",
    "least_core_epsilon_usd": "Least-core epsilon (USD)",
    "coalition": "Coalition",
    "size": "Members",
    "option": "Best option",
    "burst": "Bursts to",
    "cloud_alone_usd": "Cloud only, present value (USD)",
    "buy_in_usd": "Buy-in (USD)",
    "usage_fee_usd": "Usage fee (USD)",
    "total_usd": "Total (USD)",
    "reference_hours": "Use (reference h)",
    "co2e_cap_kg": "CO2e cap (kg)",
    "carbon_price_usd_per_t": "Implied carbon price (USD/t)",
    "frontier_slope_usd_per_t": "Frontier slope (USD/t)",
    "mip_gap": "MIP gap (0-1)",
    "solved": "Own solve (else the previous plan met the cap)",
    "hours": "Hours",
    "hours_used": "Hours used",
    "kwh_pue": "Energy with PUE (kWh)",
    "co2e_lbs": "CO2e (lb)",
    "printed_co2e_lbs": "CO2e printed in the paper (lb)",
    "note": "Note",
    "models": "Models trained",
    "consumption": "Consumption",
    "source": "Source",
    "accelerator": "Accelerator",
    "catalog_accelerator_model": "Catalog accelerator",
    "on_demand_offer": "Cheapest on-demand offer",
    "spot_offer": "Cheapest spot offer",
    "model": "Model",
    "hardware": "Hardware",
}
"""Words for the columns of the engine's tables."""

_SUFFIXES = (
    ("_usd_per_reference_hour", " (USD per reference h)"),
    ("_usd_per_kwh", " (USD/kWh)"),
    ("_usd_per_accelerator_hour", " (USD per accelerator-h)"),
    ("_usd_per_hour", " (USD/h)"),
    ("_usd_per_chip_hour", " (USD per chip-h)"),
    ("_usd_per_t", " (USD/t)"),
    ("_usd_per_year", " (USD/year)"),
    ("_g_per_kwh", " (g/kWh)"),
    ("_reference_hours", " (reference h)"),
    ("_hours", " (h)"),
    ("_usd", " (USD)"),
    ("_kwh", " (kWh)"),
    ("_kg", " (kg)"),
    ("_kw", " (kW)"),
    ("_w", " (W)"),
    ("_lbs", " (lb)"),
    ("_years", " (years)"),
)


def column_label(column: str) -> str:
    """Words for a table column, with its unit.

    Examples
    --------
    >>> column_label("npv_usd")
    'Present value (USD)'
    >>> column_label("capex_usd")
    'Capex (USD)'
    """
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    for suffix, unit in _SUFFIXES:
        if column.endswith(suffix) and column != suffix.lstrip("_"):
            words = column.removesuffix(suffix).replace("_", " ")
            return words[:1].upper() + words[1:] + unit
    words = column.replace("_", " ")
    return words[:1].upper() + words[1:]


def is_money(column: str) -> bool:
    """True for a column of money (its name ends ``_usd`` or has ``_usd_per_``).

    Examples
    --------
    >>> is_money("npv_usd"), is_money("usd_rate"), is_money("co2e_kg")
    (True, False, False)
    """
    return column.endswith("_usd") or "_usd_per_" in column


SIGNIFICANT_DIGITS = 10
"""Digits kept of a non-money number in a download: enough for any input the
engine was given, too few for binary noise (0.1 + 0.2). [-]"""


def _significant(value: float) -> float:
    if not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def rounded_for_download(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for a CSV: money to the cent, other numbers without float noise.

    Parameters
    ----------
    frame : pandas.DataFrame
        An engine table.

    Returns
    -------
    pandas.DataFrame
        A copy: money columns (:func:`is_money`) rounded to 0.01, other float
        columns to :data:`SIGNIFICANT_DIGITS` significant digits.

    Examples
    --------
    >>> table = pd.DataFrame({"npv_usd": [694492.7999999999], "co2e_kg": [0.1 + 0.2]})
    >>> rounded_for_download(table).to_dict("records")
    [{'npv_usd': 694492.8, 'co2e_kg': 0.3}]
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not pd.api.types.is_float_dtype(series):
            continue
        if is_money(str(column)):
            out[column] = series.round(2)
        else:
            out[column] = series.map(_significant)
    return out


def money(value: float) -> str:
    """US dollars to the dollar, with separators (a minus sign before the $).

    Examples
    --------
    >>> money(1082195.1954), money(-25.5), money(float("nan"))
    ('$1,082,195', '-$26', '-')
    """
    if not math.isfinite(value):
        return "-"
    text = f"${abs(value):,.0f}"
    return f"-{text}" if round(value) < 0 else text


def money_compact(value: float) -> str:
    """US dollars in millions above a million (``$1.95M``), else to the dollar.

    Examples
    --------
    >>> money_compact(1946213.6), money_compact(71385.2)
    ('$1.95M', '$71,385')
    """
    if math.isfinite(value) and abs(value) >= 1e6:
        return f"{'-' if value < 0 else ''}${abs(value) / 1e6:,.2f}M"
    return money(value)


def plural(count: float, word: str, words: str | None = None) -> str:
    """A count with its noun in the right number.

    Examples
    --------
    >>> plural(1, "year"), plural(5, "year"), plural(2, "person", "people")
    ('1 year', '5 years', '2 people')
    """
    noun = word if count == 1 else (words or f"{word}s")
    number = f"{count:,.0f}" if float(count).is_integer() else f"{count:,g}"
    return f"{number} {noun}"


def _middle_cut(name: str, width: int, tail: int) -> str:
    if len(name) <= width:
        return name
    head = width - 1 - tail
    return name[:head].rstrip() + "…" + name[-tail:].lstrip()


def distinct_labels(names: Iterable[str], *, width: int = 40) -> list[str]:
    """Labels of at most ``width`` characters that stay distinct.

    Long names are shortened in the middle (their start and their end both
    say something), giving the end more room until the labels differ; if no
    cut keeps them apart, the full names are returned.

    Examples
    --------
    >>> distinct_labels(["gcp a3-highgpu-8g on-demand", "gcp a3-highgpu-8g spot"],
    ...                 width=20)
    ['gcp a3-hig…on-demand', 'gcp a3-hig…u-8g spot']
    """
    names = list(names)
    if len(set(names)) < len(names):
        return names
    for tail in range((width - 1) // 2, width - 2):
        short = [_middle_cut(name, width, tail) for name in names]
        if len(set(short)) == len(short):
            return short
    return names


def nice_ticks(top: float) -> list[float]:
    """Tick values of a log-like axis from 0 to ``top``: 0, then 1-2-5 steps.

    Examples
    --------
    >>> nice_ticks(160)
    [0.0, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0]
    """
    ticks = [0.0]
    top = max(float(top), 0.1)
    for exponent in range(-1, int(np.ceil(np.log10(top))) + 1):
        for step in (1.0, 2.0, 5.0):
            value = round(step * 10.0**exponent, 6)
            ticks.append(value)
            if value >= top:
                return ticks
    return ticks
