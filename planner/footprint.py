"""The energy, CO2e and cost of one training run or a campaign, without a scenario.

Strubell et al. (2019) ask authors to report training time, hardware and
sensitivity [1]_; this module states them for a run given as accelerators x
hours (or for every run of a job log or CodeCarbon file), through the cited unit
models of :mod:`pricing`:

* energy by Strubell et al.'s eq. (1) (:func:`pricing.energy.training_energy_kwh`):
  accelerators x hours x power per accelerator x PUE, the power measured or
  taken from the linear power curve at a utilisation
  (:func:`pricing.energy.utilisation_power_w`), plus the idle draw of the rest of
  the system for the run's length (:func:`pricing.energy.facility_energy_kwh`),
  never for a whole year;
* operational CO2e at a grid intensity (:func:`pricing.emissions.
  operational_co2e_kg`), given or looked up by place;
* embodied CO2e charged per used hour over the hardware's life and utilisation
  (:func:`pricing.emissions.embodied_co2e_kg_per_hour`), as Luccioni et al. do
  for BLOOM [2]_ (6 years at 85 % use by default);
* the run's cost in the cloud (accelerator-hours x price,
  :func:`pricing.cloud.cloud_cost_usd`) beside its cost on owned hardware
  amortised as Cottier et al. (2024) amortise it [3]_
  (:func:`pricing.hardware.amortised_hardware_cost_usd`) plus the electricity
  (:func:`pricing.energy.electricity_cost_usd`).

Money is real USD of ``currency_year`` (catalog values converted by CPI-U).

References
----------
.. [1] E. Strubell, A. Ganesh, and A. McCallum, "Energy and Policy Considerations
   for Deep Learning in NLP," in Proc. 57th Annu. Meeting of the ACL, 2019,
   pp. 3645-3650, doi:10.18653/v1/P19-1355.
.. [2] A. S. Luccioni, S. Viguier, and A.-L. Ligozat, "Estimating the Carbon
   Footprint of BLOOM, a 176B Parameter Language Model," JMLR, vol. 24,
   no. 253, pp. 1-15, 2023.
.. [3] B. Cottier, R. Rahman, L. Fattorini, N. Maslej, T. Besiroglu, and
   D. Owen, "The rising costs of training frontier AI models,"
   arXiv:2405.21015, 2024; method in github.com/epoch-research/
   training-cost-trends, ``cost_estimation.py`` (amortised hardware CapEx).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner import defaults
from planner.resolve import (
    ResolutionError,
    accelerator_embodied,
    accelerator_power,
)
from pricing.catalog import Catalog, SourcedValue, UnknownCatalogItemError
from pricing.cloud import cloud_cost_usd
from pricing.emissions import embodied_co2e_kg_per_hour, operational_co2e_kg
from pricing.energy import (
    electricity_cost_usd,
    facility_energy_kwh,
    training_energy_kwh,
)
from pricing.finance import real_usd
from pricing.hardware import amortised_hardware_cost_usd, installed_capex_usd
from pricing.units import WATTS_PER_KILOWATT, scalar

if TYPE_CHECKING:
    from planner.joblog import JobLog

LUCCIONI_2023_LIFETIME_YEARS = 6.0
"""Replacement period of BLOOM's hardware over which Luccioni et al. (2023)
spread its embodied emissions. [years]"""

LUCCIONI_2023_UTILISATION = 0.85
"""Average utilisation of BLOOM's hardware over its life in Luccioni et al.
(2023). [-]"""

FALLBACK_TARIFF_COUNTRY = "US"
"""Country whose commercial tariff prices owned energy when no tariff and no
country are given. [-]"""

FOOTPRINT_KEYS = (
    "energy_kwh",
    "co2e_kg",
    "co2e_embodied_kg",
    "cost_usd",
    "owned_cost_usd",
    "assumptions",
)
"""Keys every :meth:`Footprint.as_dict` has (others are added beside them)."""


@dataclass(frozen=True)
class Footprint:
    """Energy, CO2e and cost of a run or a campaign, with what was assumed."""

    label: str
    accelerator: str
    """Catalog id of the accelerator (or the name given when not in it)."""
    runs: int
    accelerator_hours: float
    """Accelerators x hours, summed over runs. [accelerator-h]"""
    duration_hours: float
    """Wall-clock length (of the run, or from the first start to the last end
    of a campaign). [h]"""
    power_w_per_accelerator: float | None
    """IT power per busy accelerator (None when energy was measured). [W]"""
    idle_power_w: float
    """Constant draw of the rest of the system during the run. [W]"""
    pue: float
    grid_co2e_g_per_kwh: float
    energy_kwh: float
    """Facility energy, idle energy included. [kWh]"""
    idle_energy_kwh: float
    """The idle part of ``energy_kwh``. [kWh]"""
    co2e_operational_kg: float
    co2e_embodied_kg: float
    """Zero unless embodied emissions were asked for. [kg]"""
    co2e_kg: float
    """Operational plus embodied. [kg]"""
    price_usd_per_accelerator_hour: float | None
    cost_usd: float | None
    """Cloud cost of the accelerator-hours (None without a price). [USD]"""
    owned_hardware_usd: float | None
    owned_energy_usd: float | None
    owned_cost_usd: float | None
    """Cottier et al.'s amortised hardware plus electricity (None without a
    hardware price). [USD]"""
    electricity_usd_per_kwh: float | None
    currency_year: int
    assumptions: tuple[tuple[str, str], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields; ``assumptions`` as ``{"what", "source"}`` records."""
        data = asdict(self)
        data["assumptions"] = [
            {"what": what, "source": source} for what, source in self.assumptions
        ]
        return data


def _accelerator_row(catalog: Catalog, name: str) -> pd.Series | None:
    """The catalog row of an accelerator id, or of a cloud name such as ``P100``."""
    try:
        return catalog.accelerator(name)
    except UnknownCatalogItemError:
        pass
    frame = catalog.frame("accelerators")
    wanted = name.strip().casefold()
    for _, row in frame.iterrows():
        aliases = str(row.get("cloud_catalog_names") or "").split(";")
        if wanted in {alias.strip().casefold() for alias in aliases if alias}:
            return row
    return None


def _server_row(catalog: Catalog, model: str) -> pd.Series | None:
    same = catalog.servers_with(model)
    return None if same.empty else same.iloc[0]


def _number(row: pd.Series | None, column: str) -> float | None:
    if row is None:
        return None
    value = row.get(column)
    if value is None or pd.isna(value):
        return None
    return float(value)


def _place_keys(region: str) -> dict[str, str]:
    """Catalog keys of a place: ``FR``, ``US-CA`` or ``provider:cloud-region``."""
    if ":" in region:
        provider, _, cloud_region = region.partition(":")
        return {"provider": provider, "cloud_region": cloud_region}
    if "-" in region and len(region.split("-", 1)[0]) == 2:
        return {"subdivision_code": region.upper()}
    return {"country_iso2": region.upper()}


def _sourced(value: SourcedValue) -> str:
    year = f"{value.year} data" if value.year is not None else "no data year"
    marker = "your overlay, " if value.user_supplied else ""
    return f"{marker}{year}; {value.source}, {value.source_date}"


def _row_source(row: pd.Series) -> str:
    return f"{row.get('source', '')}, {row.get('source_date', '')}"


def footprint(
    accelerator: str,
    accelerator_count: float,
    duration_hours: float,
    *,
    power_w: float | None = None,
    utilisation: float | None = None,
    idle_power_w: float = 0.0,
    pue: float | None = None,
    grid_co2e_g_per_kwh: float | None = None,
    region: str | None = None,
    price_usd_per_accelerator_hour: float | None = None,
    embodied: bool = False,
    lifetime_years: float = LUCCIONI_2023_LIFETIME_YEARS,
    hardware_utilisation: float = LUCCIONI_2023_UTILISATION,
    electricity_usd_per_kwh: float | None = None,
    currency_year: int = defaults.DEFAULT_CURRENCY_YEAR,
    measured_energy_kwh: float | None = None,
    accelerator_hours: float | None = None,
    runs: int = 1,
    label: str = "",
    catalog: Catalog | None = None,
) -> Footprint:
    """Energy, CO2e and cost of accelerators used for a number of hours.

    Parameters
    ----------
    accelerator : str
        Catalog id (``"A100-80GB-SXM4"``) or cloud name (``"P100"``); a name the
        catalog does not know is accepted with ``power_w`` (no owned cost and
        no embodied emissions then).
    accelerator_count : float
        Accelerators used at once. [-]
    duration_hours : float
        Wall-clock length of the run. [h]
    power_w : float, optional
        Measured average IT power per accelerator, its share of host, memory
        and network included (Strubell et al.'s :math:`(p_c + p_r + g p_g)/g`).
        [W]
    utilisation : float, optional
        Instead of ``power_w``: busy share for the catalog server's linear
        power curve [0-1]. Neither given: full power (utilisation 1).
    idle_power_w : float, default 0
        Constant draw of the rest of the system (idle nodes, storage, network)
        for the run's length. [W]
    pue : float, optional
        Facility PUE (default: the pue catalog's industry average). [-]
    grid_co2e_g_per_kwh : float, optional
        Grid intensity (default: ``region``'s, else the world's). [g CO2e/kWh]
    region : str, optional
        ``"FR"``, ``"US-CA"`` or ``"gcp:europe-west4"``: the place whose grid
        intensity (and tariff) the catalog gives.
    price_usd_per_accelerator_hour : float, optional
        Cloud price of one accelerator-hour (default: the cheapest on-demand
        catalog offer of that accelerator). [USD/accelerator-h]
    embodied : bool, default False
        Add embodied emissions per used hour (Luccioni et al.).
    lifetime_years : float, default 6
        Hardware life for embodied emissions. [years]
    hardware_utilisation : float, default 0.85
        Utilisation over that life [0-1].
    electricity_usd_per_kwh : float, optional
        Tariff for the owned cost (default: ``region``'s, else U.S.
        commercial). [USD/kWh]
    currency_year : int, default 2026
        Dollars of this year. [year]
    measured_energy_kwh : float, optional
        IT energy measured by the accelerators (CodeCarbon's ``gpu_energy``):
        replaces accelerators x hours x power. [kWh]
    accelerator_hours : float, optional
        Accelerator-hours when they are not count x hours (a campaign).
        [accelerator-h]
    runs : int, default 1
        Runs summed. [-]
    label : str, default ""
        Name of the run or campaign.
    catalog : pricing.catalog.Catalog, optional
        Catalog with overlays.

    Returns
    -------
    Footprint
        Energy, CO2e (operational, embodied), cloud and owned cost, and every
        assumption with its source.

    Raises
    ------
    ValueError
        If a quantity is out of its domain, both ``power_w`` and
        ``utilisation`` are given, or the power cannot be found.

    Examples
    --------
    Transformer (big) of Strubell et al. (2019) Table 3, 8 P100 at 1,515.43 W
    for 84 h, PUE 1.58 (they print 201 kWh):

    >>> run = footprint("P100", 8, 84, power_w=1515.43 / 8, pue=1.58,
    ...                 grid_co2e_g_per_kwh=432.7, price_usd_per_accelerator_hour=1.46)
    >>> round(run.energy_kwh), round(run.cost_usd)
    (201, 981)
    """
    catalog = catalog or Catalog()
    for name, value in (
        ("accelerator_count", accelerator_count),
        ("duration_hours", duration_hours),
        ("idle_power_w", idle_power_w),
    ):
        if not value >= 0:
            msg = f"{name} must be non-negative, got {value}"
            raise ValueError(msg)
    if power_w is not None and utilisation is not None:
        msg = "give power_w or utilisation, not both"
        raise ValueError(msg)
    assumptions: list[tuple[str, str]] = []
    row = _accelerator_row(catalog, accelerator)
    model = str(row["accelerator_model"]) if row is not None else accelerator
    server = _server_row(catalog, model) if row is not None else None
    hours = (
        float(accelerator_hours)
        if accelerator_hours is not None
        else float(accelerator_count) * float(duration_hours)
    )

    per_accelerator_w: float | None = None
    if measured_energy_kwh is None:
        per_accelerator_w = _power_w(
            catalog, model, row, power_w, utilisation, assumptions
        )
    else:
        assumptions.append(("IT energy", "measured (the log's gpu_energy)"))

    if pue is None:
        facility = catalog.frame("pue")
        match = facility[facility["facility"] == defaults.INDUSTRY_PUE_FACILITY]
        pue = catalog.pue(defaults.INDUSTRY_PUE_FACILITY)
        assumptions.append(
            (
                f"PUE {pue:g}",
                f"{defaults.INDUSTRY_PUE_FACILITY}: {_row_source(match.iloc[0])}",
            )
        )
    else:
        assumptions.append((f"PUE {pue:g}", "given"))

    if grid_co2e_g_per_kwh is None:
        keys = _place_keys(region) if region else {}
        found = catalog.grid_intensity(**keys)
        grid_co2e_g_per_kwh = found.value
        where = region or "world"
        assumptions.append(
            (
                f"grid intensity of {where} {found.value:g} g CO2e/kWh",
                _sourced(found),
            )
        )
    else:
        assumptions.append((f"grid intensity {grid_co2e_g_per_kwh:g} g/kWh", "given"))

    if measured_energy_kwh is not None:
        # Measured IT energy is one hour of its own average power.
        busy_kwh = scalar(
            facility_energy_kwh(measured_energy_kwh * WATTS_PER_KILOWATT, 1.0, pue)
        )
    else:
        busy_kwh = scalar(
            training_energy_kwh(float(per_accelerator_w or 0.0), hours, pue=pue)
        )
    idle_kwh = scalar(facility_energy_kwh(idle_power_w, duration_hours, pue))
    if idle_power_w:
        assumptions.append(
            (f"idle draw {idle_power_w:g} W for {duration_hours:g} h", "given")
        )
    energy_kwh = busy_kwh + idle_kwh
    operational_kg = scalar(operational_co2e_kg(energy_kwh, grid_co2e_g_per_kwh))

    embodied_kg = 0.0
    if embodied:
        per_accelerator_kg = _embodied_kg(catalog, model, assumptions)
        embodied_kg = hours * scalar(
            embodied_co2e_kg_per_hour(
                per_accelerator_kg, lifetime_years, hardware_utilisation
            )
        )
        assumptions.append(
            (
                f"embodied spread over {lifetime_years:g} years at "
                f"{hardware_utilisation:.0%} use",
                "Luccioni, Viguier & Ligozat 2023 (BLOOM): 6 years, 85 %",
            )
        )

    if price_usd_per_accelerator_hour is None and row is not None:
        price_usd_per_accelerator_hour = _cheapest_price(
            catalog, model, currency_year, assumptions
        )
    elif price_usd_per_accelerator_hour is not None:
        assumptions.append(
            (f"cloud price ${price_usd_per_accelerator_hour:g}/accelerator-h", "given")
        )
    cost = (
        scalar(cloud_cost_usd(1.0, hours, price_usd_per_accelerator_hour))
        if price_usd_per_accelerator_hour is not None
        else None
    )

    hardware_usd, energy_usd, tariff = _owned_cost(
        catalog,
        model,
        server,
        hours,
        energy_kwh,
        region,
        electricity_usd_per_kwh,
        currency_year,
        assumptions,
    )
    owned = (
        hardware_usd + energy_usd
        if hardware_usd is not None and energy_usd is not None
        else None
    )
    return Footprint(
        label=label,
        accelerator=model,
        runs=runs,
        accelerator_hours=hours,
        duration_hours=float(duration_hours),
        power_w_per_accelerator=per_accelerator_w,
        idle_power_w=float(idle_power_w),
        pue=float(pue),
        grid_co2e_g_per_kwh=float(grid_co2e_g_per_kwh),
        energy_kwh=energy_kwh,
        idle_energy_kwh=idle_kwh,
        co2e_operational_kg=operational_kg,
        co2e_embodied_kg=embodied_kg,
        co2e_kg=operational_kg + embodied_kg,
        price_usd_per_accelerator_hour=price_usd_per_accelerator_hour,
        cost_usd=cost,
        owned_hardware_usd=hardware_usd,
        owned_energy_usd=energy_usd,
        owned_cost_usd=owned,
        electricity_usd_per_kwh=tariff,
        currency_year=currency_year,
        assumptions=tuple(assumptions),
    )


def _power_w(
    catalog: Catalog,
    model: str,
    row: pd.Series | None,
    power_w: float | None,
    utilisation: float | None,
    assumptions: list[tuple[str, str]],
) -> float:
    """IT power per busy accelerator: measured, or from the power curve."""
    if power_w is not None:
        if not power_w >= 0:
            msg = f"power_w must be non-negative, got {power_w}"
            raise ValueError(msg)
        assumptions.append((f"power {power_w:g} W per accelerator", "given"))
        return float(power_w)
    share = 1.0 if utilisation is None else utilisation
    if row is None:
        msg = (
            f"no power for {model!r} in the catalog: give power_w "
            "(measured watts per accelerator)"
        )
        raise ValueError(msg)
    try:
        curve = accelerator_power(catalog, model)
    except ResolutionError as error:
        raise ValueError(str(error)) from None
    idle_w, max_w, where = curve.idle_w, curve.max_w, curve.source
    value = curve.at_utilisation_w(share)
    assumptions.append(
        (
            f"power {value:,.0f} W per accelerator at {share:.0%} utilisation",
            f"linear power curve between {idle_w:,.0f} and {max_w:,.0f} W "
            f"(Fan, Weber & Barroso 2007); {where}",
        )
    )
    return value


def _embodied_kg(
    catalog: Catalog, model: str, assumptions: list[tuple[str, str]]
) -> float:
    """Embodied CO2e of one accelerator with its share of the host. [kg]."""
    found = accelerator_embodied(catalog, model)
    assumptions.append(
        (f"embodied {found.co2e_kg:,.0f} kg CO2e per accelerator", found.source)
    )
    return found.co2e_kg


def _cheapest_price(
    catalog: Catalog,
    model: str,
    currency_year: int,
    assumptions: list[tuple[str, str]],
) -> float | None:
    """Cheapest on-demand catalog price of one accelerator-hour, in today's USD."""
    offers = catalog.default_cloud_offers()
    offers = offers[offers["accelerator_model"] == model]
    if offers.empty:
        assumptions.append(("cloud price", f"no catalog offer of {model}: none"))
        return None
    per_hour = offers["on_demand_usd_per_hour"] / offers["accelerator_count"]
    best = offers.iloc[int(per_hour.to_numpy().argmin())]
    value = scalar(
        real_usd(float(per_hour.min()), int(best["currency_year"]), currency_year)
    )
    assumptions.append(
        (
            f"cloud price ${value:.2f}/accelerator-h (cheapest on-demand "
            f"{best['provider']} {best['region']} {best['instance_type']})",
            _row_source(best),
        )
    )
    return value


def _owned_cost(
    catalog: Catalog,
    model: str,
    server: pd.Series | None,
    hours: float,
    energy_kwh: float,
    region: str | None,
    electricity_usd_per_kwh: float | None,
    currency_year: int,
    assumptions: list[tuple[str, str]],
) -> tuple[float | None, float | None, float | None]:
    """Cottier et al.'s amortised hardware and the electricity of the run."""
    if electricity_usd_per_kwh is None:
        keys = _place_keys(region) if region and ":" not in region else {}
        keys = keys or {"country_iso2": FALLBACK_TARIFF_COUNTRY}
        try:
            found = catalog.electricity_price(**keys)
        except (UnknownCatalogItemError, ValueError):
            found = catalog.electricity_price(country_iso2=FALLBACK_TARIFF_COUNTRY)
        year = found.currency_year or found.year or currency_year
        electricity_usd_per_kwh = scalar(real_usd(found.value, year, currency_year))
        assumptions.append(
            (
                f"electricity ${electricity_usd_per_kwh:.4f}/kWh for the owned cost",
                _sourced(found),
            )
        )
    energy_usd = scalar(electricity_cost_usd(energy_kwh, electricity_usd_per_kwh))
    if server is None:
        assumptions.append(("owned cost", f"no catalog server of {model}: none"))
        return None, energy_usd, electricity_usd_per_kwh
    count = float(server["accelerator_count"])
    installed = scalar(
        installed_capex_usd(
            float(server["server_price_usd"]),
            1.0,
            float(server["cluster_overhead_fraction"]),
        )
    )
    value_usd = scalar(
        real_usd(installed / count, int(server["currency_year"]), currency_year)
    )
    hardware_usd = amortised_hardware_cost_usd(value_usd, hours)
    assumptions.append(
        (
            f"owned hardware ${value_usd:,.0f} per accelerator installed, "
            "amortised at 0.14 orders of magnitude a year",
            f"Cottier et al. 2024; server {server['server']}: {_row_source(server)}",
        )
    )
    return hardware_usd, energy_usd, electricity_usd_per_kwh


def campaign_footprint(
    log: JobLog, accelerator: str | None = None, **options: Any
) -> Footprint:
    """The footprint of every run of a job log or CodeCarbon file, summed.

    Accelerator-hours are the log's GPU-hours; a CodeCarbon file's measured GPU
    energy replaces hours x power; idle draw runs from the first start to the
    last end.

    Parameters
    ----------
    log : planner.joblog.JobLog
        Output of :func:`planner.joblog.read_log`.
    accelerator : str, optional
        Accelerator of every run (default: the log's most used one).
    **options
        Keyword options of :func:`footprint`.

    Returns
    -------
    Footprint
        Totals over the log's runs.

    Raises
    ------
    ValueError
        If the log has no GPU-hours or names no accelerator and none is given.
    """
    jobs = log.jobs
    gpu_hours = float(jobs["gpu_hours"].sum()) if not jobs.empty else 0.0
    if gpu_hours <= 0:
        msg = f"{log.source}: the log has no GPU-hours"
        raise ValueError(msg)
    if accelerator is None:
        named = jobs.dropna(subset=["accelerator"])
        if named.empty:
            msg = f"{log.source}: the log names no accelerator; give one"
            raise ValueError(msg)
        by_model = named.groupby(named["accelerator"].astype(str))["gpu_hours"].sum()
        accelerator = _catalog_name(str(by_model.idxmax()))
    measured = None
    power_given = options.get("power_w") is not None or (
        options.get("utilisation") is not None
    )
    if (
        "gpu_energy_kwh" in jobs
        and jobs["gpu_energy_kwh"].notna().all()
        and not power_given
    ):
        measured = float(jobs["gpu_energy_kwh"].sum())
    span_hours = float((jobs["end"].max() - jobs["start"].min()).total_seconds()) / (
        3_600.0
    )
    return footprint(
        accelerator,
        0.0,
        span_hours,
        accelerator_hours=gpu_hours,
        measured_energy_kwh=measured,
        runs=len(jobs),
        label=options.pop("label", "") or log.source,
        **options,
    )


def _catalog_name(logged: str) -> str:
    """A log's GPU name (``4 x NVIDIA A100-SXM4-40GB``) as a catalog name."""
    text = logged.split(" x ", 1)[-1].replace("NVIDIA", "").replace("Tesla", "")
    return text.strip()


def footprint_rows(result: Footprint) -> list[tuple[str, str]]:
    """The statement's quantities as (label, formatted value) pairs.

    Parameters
    ----------
    result : Footprint
        Output of :func:`footprint`.

    Returns
    -------
    list of (str, str)
        Hardware, hours, power, PUE, intensity, energy, CO2e and costs.
    """

    def money(value: float | None) -> str:
        return "-" if value is None else f"${value:,.2f}"

    power = (
        "measured"
        if result.power_w_per_accelerator is None
        else f"{result.power_w_per_accelerator:,.1f} W per accelerator"
    )
    return [
        ("Hardware", result.accelerator),
        ("Runs", f"{result.runs:,}"),
        ("Accelerator-hours", f"{result.accelerator_hours:,.1f}"),
        ("Wall-clock hours", f"{result.duration_hours:,.1f}"),
        ("Power", power),
        ("PUE", f"{result.pue:g}"),
        ("Grid intensity", f"{result.grid_co2e_g_per_kwh:,.1f} g CO2e/kWh"),
        ("Energy", f"{result.energy_kwh:,.1f} kWh"),
        ("Operational CO2e", f"{result.co2e_operational_kg:,.1f} kg"),
        ("Embodied CO2e", f"{result.co2e_embodied_kg:,.1f} kg"),
        ("Total CO2e", f"{result.co2e_kg:,.1f} kg"),
        (f"Cloud cost (USD {result.currency_year})", money(result.cost_usd)),
        (
            f"Owned cost, Cottier et al. (USD {result.currency_year})",
            money(result.owned_cost_usd),
        ),
    ]
