"""Quick compare: a handful of inputs turned into a full scenario.

The quick question is the one Strubell et al. (2019, section 5) asked: for a given
amount of work, what does one cloud offer cost under each purchase model against
buying servers of one specification? :class:`QuickCompare` holds the few inputs a
department head types; :func:`quick_scenario` expands them into a validated
:class:`planner.scenario.Scenario` with one strategy per purchase model, so every
number shown comes from the same engine as a full scenario.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from planner import defaults
from planner.resolve import relative_throughput
from planner.scenario import (
    DemandShape,
    Frozen,
    Scenario,
    scenario_from_dict,
)
from pricing.catalog import Catalog
from pricing.units import HOURS_PER_YEAR


class QuickCompare(Frozen):
    """The inputs of the quick comparison (units in every description)."""

    demand_kind: Literal["busy_gpus", "gpu_hours"] = Field(
        "busy_gpus",
        description="How demand is given: average busy accelerators of the server's "
        "type, or accelerator-hours per year of that type. [-]",
    )
    demand_value: float = Field(
        16.0,
        ge=0.0,
        le=1e8,
        description="Average busy accelerators [accelerators], or accelerator-hours "
        "per year [accelerator-h/year], of the server's accelerator type.",
    )
    growth_per_year: float = Field(
        0.0, gt=-1.0, le=1.0, description="Relative change of demand a year. [1/year]"
    )
    peak_to_mean: float = Field(
        2.0,
        ge=1.0,
        le=10.0,
        description="Busiest hour over the mean hour (deadline peaks; default 2: "
        "assumption). [-]",
    )
    server: str = Field(
        "8xH100-SXM", min_length=1, description="Server to buy (servers catalog). [-]"
    )
    servers: int | None = Field(
        None,
        ge=0,
        le=1_000,
        description="Servers bought; default: the cheapest number that delivers "
        "the demand at equal service (late or unserved work priced as renting "
        "it). [-]",
    )
    server_price_usd: float | None = Field(
        None,
        gt=0.0,
        description="Your quote for one server; default the catalog estimate. [USD]",
    )
    provider: str = Field("aws", description="Cloud provider (cloud_prices). [-]")
    region: str = Field("us-east-1", description="Cloud region. [-]")
    instance_type: str = Field(
        "p5.48xlarge", description="Cloud instance type with the same accelerator. [-]"
    )
    lifetime_years: int = Field(
        defaults.HARDWARE_LIFETIME_YEARS,
        ge=1,
        le=15,
        description="Life of the servers and length of the comparison. [years]",
    )
    pue: float = Field(
        defaults.PUE_UNIVERSITY_MACHINE_ROOM,
        ge=1.0,
        le=3.0,
        description="Power usage effectiveness of your machine room. [-]",
    )
    location: str = Field(
        "US",
        min_length=2,
        max_length=8,
        pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
        description="Where your machine room is (ISO country, e.g. DE, or US "
        "state, e.g. US-MA): fills the tariff and grid intensity from the "
        "catalogs, with their source and year. [-]",
    )
    electricity_usd_per_kwh: float | None = Field(
        None,
        ge=0.0,
        le=2.0,
        description="Your tariff; default: the location's commercial average "
        "(electricity_prices catalog). [USD/kWh]",
    )
    grid_co2e_g_per_kwh: float | None = Field(
        None,
        ge=0.0,
        le=2_000.0,
        description="Grid carbon intensity at your site; default: the "
        "location's (grid_intensity catalog). [g CO2e/kWh]",
    )
    indirect_cost_rate: float = Field(
        defaults.INDIRECT_COST_RATE,
        ge=0.0,
        le=1.5,
        description="F&A rate your institution charges on cloud services (0 if "
        "waived). [-]",
    )
    staff_fte: float = Field(
        0.25,
        ge=0.0,
        le=20.0,
        description="Staff effort to run the servers (default 0.25 FTE: "
        "assumption). [FTE]",
    )
    real_discount_rate: float = Field(
        defaults.REAL_DISCOUNT_RATE_PUBLIC,
        ge=0.0,
        le=0.3,
        description="Real discount rate. [1/year]",
    )
    cloud_price_change_per_year: float | None = Field(
        None,
        gt=-1.0,
        le=1.0,
        description="Real change of cloud prices a year; default: the catalog's "
        "evidence for a fixed SKU (cloud_price_history). [1/year]",
    )


def cloud_offers_for_server(
    server: str, *, catalog: Catalog | None = None
) -> list[tuple[str, str, str]]:
    """Cloud offers (provider, region, instance) with the server's accelerator.

    Parameters
    ----------
    server : str
        Servers catalog key.
    catalog : pricing.catalog.Catalog, optional
        The catalog with the user's overlays (default: the shipped one), so a
        quoted server or offer in an overlay can be chosen.

    Returns
    -------
    list of tuple
        Offers with an on-demand price and no quality flag, cheapest per
        accelerator-hour first.
    """
    chosen = catalog if catalog is not None else Catalog()
    model = str(chosen.server(server)["accelerator_model"])
    offers = chosen.default_cloud_offers()
    offers = offers[offers["accelerator_model"] == model].copy()
    offers["per_accelerator"] = (
        offers["on_demand_usd_per_hour"] / offers["accelerator_count"]
    )
    offers = offers.sort_values(["per_accelerator", "provider", "region"])
    return [
        (str(p), str(r), str(i))
        for p, r, i in offers[["provider", "region", "instance_type"]].to_numpy()
    ]


def quick_scenario(inputs: QuickCompare, *, catalog: Catalog | None = None) -> Scenario:
    """Expand the quick inputs into a scenario with one strategy per purchase model.

    Strategies: the cloud offer on-demand, spot (when the catalog has a spot
    price), 1- and 3-year commitments (when the horizon allows), and the servers
    bought once for their lifetime. Demand is converted to reference
    accelerator-hours with the accelerator's relative throughput.

    Parameters
    ----------
    inputs : QuickCompare
        The quick inputs.
    catalog : pricing.catalog.Catalog, optional
        The catalog with the user's overlays (default: the shipped one): the
        server's accelerator, its relative throughput and the offer's spot
        price are looked up there. Price the scenario with the same catalog.

    Returns
    -------
    Scenario
        A validated scenario (the horizon is the server lifetime).

    Raises
    ------
    planner.scenario.ScenarioError
        If the expanded scenario is invalid (one line per problem).
    LookupError
        If the server or the offer is not in the catalogs.
    planner.resolve.ResolutionError
        If the server's accelerator has no relative throughput (e.g. the 2019
        GTX 1080 Ti row): demand cannot be put in reference hours.
    """
    chosen = catalog if catalog is not None else Catalog()
    server = chosen.server(inputs.server)
    model = str(server["accelerator_model"])
    reference = defaults.REFERENCE_ACCELERATOR
    relative = relative_throughput(chosen, model, reference)
    accelerator_hours = (
        inputs.demand_value * HOURS_PER_YEAR
        if inputs.demand_kind == "busy_gpus"
        else inputs.demand_value
    )
    servers: int | str = "auto" if inputs.servers is None else inputs.servers
    offer = chosen.cloud_offer(inputs.provider, inputs.region, inputs.instance_type)
    base_cloud: dict[str, object] = {
        "kind": "cloud",
        "provider": inputs.provider,
        "region": inputs.region,
        "instance_type": inputs.instance_type,
        "price_change_per_year": inputs.cloud_price_change_per_year,
    }
    label = f"{inputs.provider} {inputs.instance_type}"
    strategies: list[dict[str, object]] = [
        base_cloud | {"name": f"{label} on-demand", "purchase": "on_demand"}
    ]
    if _has_spot(offer):
        strategies.append(base_cloud | {"name": f"{label} spot", "purchase": "spot"})
    for term in (1, 3):
        if term <= inputs.lifetime_years:
            strategies.append(
                base_cloud
                | {
                    "name": f"{label} {term}-year commitment",
                    "purchase": f"committed_{term}y",
                }
            )
    onprem: dict[str, object] = {
        "kind": "onprem",
        "name": f"Buy {inputs.server} (sized to the demand)"
        if servers == "auto"
        else f"Buy {servers}x {inputs.server}",
        "server": inputs.server,
        "servers": servers,
        "lifetime_years": inputs.lifetime_years,
        "refresh": False,
        "staff_fte": inputs.staff_fte,
    }
    if inputs.server_price_usd is not None:
        onprem["server_price_usd"] = inputs.server_price_usd
    strategies.append(onprem)
    shape = DemandShape(
        kind="flat" if inputs.peak_to_mean == 1.0 else "synthetic",
        peak_to_mean=inputs.peak_to_mean,
    )
    return scenario_from_dict(
        {
            "name": f"Quick compare: {inputs.server} vs {label}",
            "horizon_years": inputs.lifetime_years,
            "real_discount_rate": inputs.real_discount_rate,
            "demand": {
                "reference_hours_per_year": accelerator_hours * relative,
                "growth_per_year": inputs.growth_per_year,
                "reference_accelerator": reference,
                "shape": shape.model_dump(mode="json"),
            },
            "site": {
                "pue": inputs.pue,
                "location": inputs.location,
                "electricity_usd_per_kwh": inputs.electricity_usd_per_kwh,
                "grid_co2e_g_per_kwh": inputs.grid_co2e_g_per_kwh,
            },
            "institution": {
                "indirect_cost_rate": inputs.indirect_cost_rate,
                "cloud_exempt_from_indirect": inputs.indirect_cost_rate == 0.0,
            },
            "strategies": strategies,
        }
    )


def _has_spot(offer: object) -> bool:
    value = getattr(offer, "get", lambda _key: None)("spot_usd_per_hour")
    try:
        return value is not None and float(str(value)) > 0
    except ValueError:
        return False
