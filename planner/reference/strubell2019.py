"""Strubell, Ganesh and McCallum (2019) recomputed from its inputs.

The paper's inputs (powers, hours, rates, constants) are data files beside this
module; every printed cell of Tables 1, 3 and 4 and the section 5 hardware-versus-
cloud comparison is recomputed here through the unit models of ``pricing``, never
copied. The paper's quirks (TPU v2 pre-emptible $1.35 per chip-hour, BERT 79.2 h,
NAS on TPU 32,633.3 h, LISA's implied 0.342798 kWh per GPU-hour) live in the
data files with a note each.

References
----------
.. [1] E. Strubell, A. Ganesh, and A. McCallum, "Energy and Policy Considerations
   for Deep Learning in NLP," in Proc. 57th Annu. Meeting of the ACL, 2019,
   pp. 3645-3650, doi:10.18653/v1/P19-1355.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from pricing.catalog import Catalog
from pricing.cloud import cloud_cost_usd
from pricing.emissions import operational_co2e_kg
from pricing.energy import electricity_cost_usd, training_energy_kwh
from pricing.hardware import installed_capex_usd
from pricing.units import (
    GRAMS_PER_KILOGRAM,
    HOURS_PER_DAY,
    KILOGRAMS_PER_POUND,
    kilograms_to_pounds,
    scalar,
)

_PACKAGE = "planner.reference"


@cache
def _text(file_name: str) -> str:
    return resources.files(_PACKAGE).joinpath(file_name).read_text("utf-8")


def _frame(file_name: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(_text(file_name)))


def constants() -> dict[str, float | str]:
    """The paper's constants (PUE, lb/kWh, tariff, LISA facts), as data.

    Returns
    -------
    dict
        Name to value; numbers as float, labels as str. Units and sources are in
        ``strubell2019_constants.csv``.

    Examples
    --------
    >>> constants()["pue"], constants()["lisa_cloud_accelerator"]
    (1.58, 'P100')
    """
    values: dict[str, float | str] = {}
    for row in csv.DictReader(_text("strubell2019_constants.csv").splitlines()):
        try:
            values[row["name"]] = float(row["value"])
        except ValueError:
            values[row["name"]] = row["value"]
    return values


def _number(name: str) -> float:
    value = constants()[name]
    if not isinstance(value, float):
        msg = f"constant {name!r} is not a number: {value!r}"
        raise TypeError(msg)
    return value


def rates() -> pd.DataFrame:
    """Per-chip-hour cloud rates that reproduce Table 3, indexed by accelerator.

    Returns
    -------
    pandas.DataFrame
        Columns ``preemptible_usd_per_chip_hour``, ``on_demand_usd_per_chip_hour``
        and ``note``. [USD/h]
    """
    return _frame("strubell2019_rates.csv").set_index("accelerator")


def _rate(accelerator: str, column: str) -> float:
    return scalar(rates().loc[accelerator, column])


def _co2e_lbs(energy_kwh: Any) -> Any:
    # Eq. (2) in lb/kWh, routed through the metric model: exact conversions only.
    intensity_g_per_kwh = (
        _number("co2e_lbs_per_kwh") * KILOGRAMS_PER_POUND * GRAMS_PER_KILOGRAM
    )
    return kilograms_to_pounds(operational_co2e_kg(energy_kwh, intensity_g_per_kwh))


def table3() -> pd.DataFrame:
    """Table 3: energy, CO2e and cloud cost of training each model.

    Energy by eq. (1) with PUE 1.58, CO2e by eq. (2) at 0.954 lb/kWh, cloud cost
    as chips x hours x the rate of footnote 7 (:func:`rates`). TPU rows have no
    power, energy or CO2e, as in the paper.

    Returns
    -------
    pandas.DataFrame
        One row per model and hardware: ``model``, ``hardware`` (as printed),
        ``hours`` (printed), ``hours_used`` (that reproduce the costs), ``power_w``,
        ``kwh_pue`` [kWh], ``co2e_lbs`` [lb], ``cloud_cost_low_usd`` and
        ``cloud_cost_high_usd`` [USD], plus the ``printed_*`` cells for comparison.

    Examples
    --------
    >>> row = table3().iloc[1]
    >>> row["model"], round(row["kwh_pue"]), round(row["co2e_lbs"])
    ('Transformer big', 201, 192)
    """
    data = _frame("strubell2019_table3.csv")
    price = rates().loc[data["accelerator"]]
    has_power = data["power_w"].notna()
    power_w = data["power_w"].fillna(0.0).to_numpy(dtype=float)
    hours = data["hours"].to_numpy(dtype=float)
    energy_kwh = training_energy_kwh(power_w, hours, pue=_number("pue"))
    count = data["accelerator_count"].to_numpy(dtype=float)
    low = cloud_cost_usd(
        count, hours, price["preemptible_usd_per_chip_hour"].to_numpy()
    )
    high = cloud_cost_usd(count, hours, price["on_demand_usd_per_chip_hour"].to_numpy())
    return pd.DataFrame(
        {
            "model": data["model"],
            "hardware": data["hardware"],
            "hours": data["hours_printed"],
            "hours_used": data["hours"],
            "power_w": data["power_w"],
            "kwh_pue": np.where(has_power, energy_kwh, np.nan),
            "co2e_lbs": np.where(has_power, _co2e_lbs(energy_kwh), np.nan),
            "cloud_cost_low_usd": low,
            "cloud_cost_high_usd": high,
            "printed_kwh_pue": data["printed_kwh_pue"],
            "printed_co2e_lbs": data["printed_co2e_lbs"],
            "printed_cloud_cost_low_usd": data["printed_cloud_cost_low_usd"],
            "printed_cloud_cost_high_usd": data["printed_cloud_cost_high_usd"],
            "note": data["note"].fillna(""),
        }
    )


def table4() -> pd.DataFrame:
    """Table 4: cloud compute and electricity cost of the LISA R&D project.

    Cloud cost is GPU-hours at the P100 pre-emptible and on-demand rates
    (footnote 8); electricity is GPU-hours x the implied 0.342798 kWh per
    GPU-hour (PUE included) x $0.12/kWh (footnote 9).

    Returns
    -------
    pandas.DataFrame
        ``models``, ``hours`` [GPU-h], ``cloud_cost_low_usd``,
        ``cloud_cost_high_usd``, ``electricity_usd`` [USD], ``kwh_pue`` [kWh],
        ``co2e_lbs`` [lb], and the ``printed_*`` cells.

    Examples
    --------
    >>> round(table4().iloc[-1]["cloud_cost_high_usd"])
    350315
    """
    data = _frame("strubell2019_table4.csv")
    accelerator = str(constants()["lisa_cloud_accelerator"])
    hours = data["hours"].to_numpy(dtype=float)
    energy_kwh = hours * _number("lisa_kwh_pue_per_gpu_hour")
    return pd.DataFrame(
        {
            "models": data["models"],
            "hours": data["hours"],
            "cloud_cost_low_usd": cloud_cost_usd(
                1.0, hours, _rate(accelerator, "preemptible_usd_per_chip_hour")
            ),
            "cloud_cost_high_usd": cloud_cost_usd(
                1.0, hours, _rate(accelerator, "on_demand_usd_per_chip_hour")
            ),
            "electricity_usd": electricity_cost_usd(
                energy_kwh, _number("electricity_usd_per_kwh")
            ),
            "kwh_pue": energy_kwh,
            "co2e_lbs": _co2e_lbs(energy_kwh),
            "printed_cloud_cost_low_usd": data["printed_cloud_cost_low_usd"],
            "printed_cloud_cost_high_usd": data["printed_cloud_cost_high_usd"],
            "printed_electricity_usd": data["printed_electricity_usd"],
        }
    )


def table1() -> pd.DataFrame:
    """Table 1: CO2e of familiar consumption against training NLP models.

    Familiar rows are the paper's cited figures (footnote 1); model rows are
    recomputed from Tables 3 and 4.

    Returns
    -------
    pandas.DataFrame
        ``consumption``, ``kind`` (familiar or model), ``co2e_lbs`` [lb],
        ``printed_co2e_lbs`` [lb] and ``source``.

    Examples
    --------
    >>> round(table1().set_index("consumption").loc[
    ...     "w/ tuning & experimentation", "co2e_lbs"])
    78468
    """
    data = _frame("strubell2019_table1.csv")
    t3 = table3().set_index(["model", "hardware"])["co2e_lbs"]
    t4 = table4().set_index("models")["co2e_lbs"]
    values: list[float] = []
    for derived, printed in zip(
        data["derived_from"].fillna(""), data["printed_co2e_lbs"], strict=True
    ):
        if derived.startswith("lisa:"):
            values.append(float(t4.loc[int(derived.split(":")[1])]))
        elif derived.startswith("table3:"):
            _, model, hardware = derived.split(":")
            values.append(float(t3.loc[(model, hardware)]))
        else:
            values.append(float(printed))
    return pd.DataFrame(
        {
            "consumption": data["consumption"],
            "kind": data["kind"],
            "co2e_lbs": values,
            "printed_co2e_lbs": data["printed_co2e_lbs"],
            "source": data["source"],
        }
    )


def hardware_vs_cloud() -> dict[str, float]:
    """Section 5: buying 58 GPUs in $20,000 8-GPU servers against renting them.

    The paper prices 58 GPUs as 7.25 servers (fractional, no rounding up) and
    compares them with Table 4's cloud cost of the 239,942 GPU-hours of LISA.

    Returns
    -------
    dict
        ``gpus``, ``days``, ``servers``, ``hardware_usd``, ``cloud_on_demand_usd``,
        ``cloud_preemptible_usd``, ``electricity_usd``,
        ``ratio_on_demand_to_hardware`` (about 2.42: "about half"),
        ``ratio_preemptible_to_hardware`` (about 0.71),
        ``ratio_on_demand_to_hardware_plus_electricity`` (about 2.26) and
        ``break_even_days_on_demand`` / ``break_even_days_preemptible`` for one
        server at full use (hardware only).

    Examples
    --------
    >>> round(hardware_vs_cloud()["ratio_on_demand_to_hardware"], 2)
    2.42
    """
    gpus = _number("lisa_gpus")
    per_server = _number("gpus_per_server")
    server_usd = _number("server_price_usd")
    # Fractional servers, no rounding up and no cluster overhead, as the paper does.
    hardware_usd = scalar(installed_capex_usd(server_usd, gpus / per_server, 0.0))
    lisa = table4().iloc[-1]
    on_demand = float(lisa["cloud_cost_high_usd"])
    preemptible = float(lisa["cloud_cost_low_usd"])
    electricity = float(lisa["electricity_usd"])
    accelerator = str(constants()["lisa_cloud_accelerator"])
    server_on_demand_usd_per_hour = per_server * _rate(
        accelerator, "on_demand_usd_per_chip_hour"
    )
    server_preemptible_usd_per_hour = per_server * _rate(
        accelerator, "preemptible_usd_per_chip_hour"
    )
    return {
        "gpus": gpus,
        "days": _number("lisa_days"),
        "servers": gpus / per_server,
        "hardware_usd": hardware_usd,
        "cloud_on_demand_usd": on_demand,
        "cloud_preemptible_usd": preemptible,
        "electricity_usd": electricity,
        "ratio_on_demand_to_hardware": on_demand / hardware_usd,
        "ratio_preemptible_to_hardware": preemptible / hardware_usd,
        "ratio_on_demand_to_hardware_plus_electricity": on_demand
        / (hardware_usd + electricity),
        "break_even_days_on_demand": server_usd
        / server_on_demand_usd_per_hour
        / HOURS_PER_DAY,
        "break_even_days_preemptible": server_usd
        / server_preemptible_usd_per_hour
        / HOURS_PER_DAY,
    }


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    subset = frame[columns].astype(object)
    cleaned = subset.where(subset.notna(), None)
    return [dict(zip(columns, row, strict=True)) for row in cleaned.to_numpy()]


def reproduction() -> dict[str, Any]:
    """Everything recomputed, JSON-ready (``planner strubell --format json``).

    Returns
    -------
    dict
        ``table1``, ``table3``, ``table4`` (lists of row dicts) and
        ``hardware_vs_cloud``; TPU rows have null power, energy and CO2e.

    Examples
    --------
    >>> sorted(reproduction())
    ['hardware_vs_cloud', 'table1', 'table3', 'table4']
    """
    return {
        "table1": _records(table1(), ["consumption", "kind", "co2e_lbs"]),
        "table3": _records(
            table3(),
            [
                "model",
                "hardware",
                "hours",
                "hours_used",
                "power_w",
                "kwh_pue",
                "co2e_lbs",
                "cloud_cost_low_usd",
                "cloud_cost_high_usd",
            ],
        ),
        "table4": _records(
            table4(),
            [
                "models",
                "hours",
                "cloud_cost_low_usd",
                "cloud_cost_high_usd",
                "electricity_usd",
                "kwh_pue",
                "co2e_lbs",
            ],
        ),
        "hardware_vs_cloud": hardware_vs_cloud(),
    }


def rates_today(*, catalog: Catalog | None = None) -> pd.DataFrame:
    """Today's catalog prices per chip-hour for the paper's four devices.

    The lowest on-demand and lowest spot price per accelerator-hour over the
    cloud catalog's default offers (rows flagged suspect excluded).

    Parameters
    ----------
    catalog : pricing.catalog.Catalog, optional
        The catalog with the user's overlays (default: the shipped one).

    Returns
    -------
    pandas.DataFrame
        Indexed by the paper's device: ``catalog_accelerator_model``,
        ``preemptible_usd_per_chip_hour``, ``on_demand_usd_per_chip_hour`` and the
        offers they come from (``spot_offer``, ``on_demand_offer``). [USD/h]
    """
    offers = (catalog if catalog is not None else Catalog()).default_cloud_offers()
    per_chip_od = offers["on_demand_usd_per_hour"] / offers["accelerator_count"]
    per_chip_spot = offers["spot_usd_per_hour"] / offers["accelerator_count"]
    labels = offers["provider"] + " " + offers["region"] + " " + offers["instance_type"]
    rows = []
    for device, row in rates().iterrows():
        model = row["catalog_accelerator_model"]
        same = offers["accelerator_model"] == model
        od = per_chip_od[same]
        spot = per_chip_spot[same].dropna()
        rows.append(
            {
                "accelerator": device,
                "catalog_accelerator_model": model,
                "on_demand_usd_per_chip_hour": od.min() if len(od) else np.nan,
                "on_demand_offer": labels[od.idxmin()] if len(od) else "",
                "preemptible_usd_per_chip_hour": spot.min() if len(spot) else np.nan,
                "spot_offer": labels[spot.idxmin()] if len(spot) else "",
            }
        )
    return pd.DataFrame(rows).set_index("accelerator")


def table3_today(*, catalog: Catalog | None = None) -> pd.DataFrame:
    """Table 3's cloud costs recomputed at today's catalog prices.

    Same chips and hours as the paper; the rates are :func:`rates_today`.

    Parameters
    ----------
    catalog : pricing.catalog.Catalog, optional
        The catalog with the user's overlays (default: the shipped one).

    Returns
    -------
    pandas.DataFrame
        ``model``, ``hardware``, ``hours_used``, the paper's
        ``cloud_cost_low_usd``/``cloud_cost_high_usd``, and
        ``today_low_usd``/``today_high_usd`` (NaN where no offer exists). [USD]
    """
    data = _frame("strubell2019_table3.csv")
    today = rates_today(catalog=catalog).loc[data["accelerator"]]
    paper = table3()
    count = data["accelerator_count"].to_numpy(dtype=float)
    hours = data["hours"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "model": data["model"],
            "hardware": data["hardware"],
            "hours_used": hours,
            "cloud_cost_low_usd": paper["cloud_cost_low_usd"],
            "cloud_cost_high_usd": paper["cloud_cost_high_usd"],
            "today_low_usd": count
            * hours
            * today["preemptible_usd_per_chip_hour"].to_numpy(dtype=float),
            "today_high_usd": count
            * hours
            * today["on_demand_usd_per_chip_hour"].to_numpy(dtype=float),
        }
    )
