"""The planning question as validated, immutable inputs, saved as YAML.

A :class:`Scenario` holds the horizon, money conventions, demand, site, institution
rules and the strategies to compare. Every field states its unit and bounds in its
description, which is also the help text of the app. Scenario files are YAML with
a ``schema_version``; they are loaded with the safe loader only, within limits on
size, depth and alias expansion (:func:`planner.safe_io.load_yaml`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from planner import defaults
from pricing.hardware import (
    COTTIER_2024_ANNUAL_VALUE_DECLINE,
    COTTIER_2024_CLUSTER_OVERHEAD_FRACTION,
)

SCHEMA_VERSION = 1
"""Version of the scenario file format written by this code. [-]"""

PRESETS = ("lisa", "department", "grant", "consortium")
"""Scenario presets shipped in ``planner/presets`` (linked from ``examples/``)."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
"""A share between 0 and 1 (never a percentage)."""

Trend = Annotated[float, Field(gt=-1.0, le=1.0)]
"""A relative change per year, above -100 %."""

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_MEMBERS = 11
"""Most members of a shared cluster besides this project: the consortium game
prices every one of the 2^(members + 1) coalitions (4,095 at 11), which keeps
a request within seconds (methods: exact rules practical up to about 12
players). [-]"""


class Frozen(BaseModel):
    """Base of every input model: unknown keys are errors; instances are frozen.

    Infinity and NaN are refused in every float field (``.inf`` in a money
    field would otherwise flow into the results).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def replace(model: ModelT, **changes: Any) -> ModelT:
    """Return a re-validated copy of ``model`` with some fields changed.

    Unlike ``BaseModel.model_copy(update=...)``, this runs every validator.

    Parameters
    ----------
    model : pydantic.BaseModel
        The model to copy.
    **changes
        Field values to replace (plain data, validated).

    Returns
    -------
    pydantic.BaseModel
        A new, validated model of the same type.
    """
    return type(model).model_validate(model.model_dump() | changes)


class DeadlineSurge(Frozen):
    """A period of extra demand before a conference deadline."""

    start_day: int = Field(
        ge=0, le=364, description="Day of the year the surge starts (0 = Jan 1). [day]"
    )
    duration_days: int = Field(
        14, ge=1, le=120, description="Length of the surge. [days]"
    )
    multiplier: float = Field(
        2.0, ge=1.0, le=20.0, description="Demand during the surge over normal. [-]"
    )


class DemandShape(Frozen):
    """Hourly shape of demand over a year (normalised to the annual total)."""

    kind: Literal["flat", "synthetic"] = Field(
        "synthetic",
        description="flat: constant demand; synthetic: weekly pattern, noise and "
        "deadline surges. [-]",
    )
    peak_to_mean: float = Field(
        2.5,
        ge=1.0,
        le=50.0,
        description="Target ratio of the busiest hour to the mean hour; the "
        "synthetic shape is scaled to it (default 2.5: assumption for "
        "deadline-driven ML research). [-]",
    )
    weekend_factor: float = Field(
        0.7,
        ge=0.0,
        le=2.0,
        description="Demand on weekends relative to weekdays (default 0.7: "
        "assumption). [-]",
    )
    diurnal_amplitude: Fraction = Field(
        0.15,
        description="Relative day-night swing of demand, 0 = none (default 0.15: "
        "assumption; batch queues flatten the day). [0-1]",
    )
    noise: Fraction = Field(
        0.2,
        description="Day-to-day randomness, log-normal sigma (default 0.2: "
        "assumption). [0-1]",
    )
    deadline_surges: tuple[DeadlineSurge, ...] = Field(
        (
            DeadlineSurge(start_day=20, duration_days=14, multiplier=1.8),
            DeadlineSurge(start_day=130, duration_days=14, multiplier=1.8),
            DeadlineSurge(start_day=250, duration_days=14, multiplier=1.8),
        ),
        description="Conference-deadline surges (defaults: ~ICML, NeurIPS, ACL-"
        "style deadlines in late Jan, mid May, early Sep; assumption).",
    )
    seed: int = Field(
        2019, ge=0, description="Seed of the random noise, for reproducibility. [-]"
    )


class JobLogDemand(Frozen):
    """Demand measured from a scheduler log instead of a synthetic shape."""

    path: str = Field(
        min_length=1,
        description="Job log file: Slurm sacct -P export, generic CSV (start, end, "
        "gpus) or CodeCarbon emissions.csv; relative to the scenario file. [-]",
    )
    kind: Literal["sacct", "csv", "codecarbon"] | None = Field(
        None, description="Log format; detected from the header when omitted. [-]"
    )
    relative_throughput: float = Field(
        1.0,
        gt=0.0,
        le=100.0,
        description="Work per GPU-hour of the logged GPUs relative to the reference "
        "accelerator. [-]",
    )


class Demand(Frozen):
    """How much accelerator work is needed, in reference accelerator-hours."""

    reference_hours_per_year: float | None = Field(
        None,
        ge=0.0,
        le=1e9,
        description="Accelerator work needed in the first year, in hours of the "
        "reference accelerator; blank to take it from the job log or workload. "
        "[reference accelerator-h/year]",
    )
    joblog: JobLogDemand | None = Field(
        None,
        description="Take the hourly shape (and, if the annual hours are blank, "
        "the amount) from a job log; its jobs also give queue waits.",
    )
    workload: Literal["lisa"] | None = Field(
        None,
        description="Take the demand from a generated workload preset instead "
        "(lisa: Strubell et al. 2019, 4,789 jobs over 172 days). [-]",
    )
    growth_per_year: Trend = Field(
        0.0, description="Relative change of demand each year. [1/year]"
    )
    reference_accelerator: str = Field(
        defaults.REFERENCE_ACCELERATOR,
        min_length=1,
        max_length=80,
        description="Accelerator model (catalog key) whose hour is the unit of "
        "demand. [-]",
    )
    shape: DemandShape = Field(
        DemandShape(),
        description="Hourly shape of the demand within a year (unused with a job "
        "log or workload).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Demand:
        if self.joblog is not None and self.workload is not None:
            msg = "give a joblog or a workload, not both"
            raise ValueError(msg)
        if self.reference_hours_per_year is None and (
            self.joblog is None and self.workload is None
        ):
            msg = "reference_hours_per_year is required without a joblog or workload"
            raise ValueError(msg)
        return self


class Site(Frozen):
    """Where owned hardware runs: facility efficiency, tariff and grid."""

    pue: float = Field(
        defaults.PUE_UNIVERSITY_MACHINE_ROOM,
        ge=1.0,
        le=3.0,
        description="Power usage effectiveness of the machine room. [-]",
    )
    location: str | None = Field(
        None,
        min_length=2,
        max_length=8,
        pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
        description="Where the machine room is: an ISO 3166 country (DE) or "
        "subdivision (US-MA); looks up the tariff and grid intensity (with their "
        "source and year) when they are not given. [-]",
    )
    electricity_usd_per_kwh: float | None = Field(
        None,
        ge=0.0,
        le=2.0,
        description="Electricity tariff at the meter; default: the location's "
        "commercial average (electricity_prices catalog, CPI-converted). "
        "[USD/kWh]",
    )
    tariff_change_per_year: Trend = Field(
        0.0, description="Real change of the tariff each year. [1/year]"
    )
    grid_co2e_g_per_kwh: float | None = Field(
        None,
        ge=0.0,
        le=2_000.0,
        description="Location-based grid carbon intensity; default: the "
        "location's (grid_intensity catalog). [g CO2e/kWh]",
    )
    grid_change_per_year: Trend = Field(
        defaults.GRID_TREND_PER_YEAR,
        description="Relative change of grid intensity each year. [1/year]",
    )

    @model_validator(mode="after")
    def _place_or_values(self) -> Site:
        if self.location is None and (
            self.electricity_usd_per_kwh is None or self.grid_co2e_g_per_kwh is None
        ):
            msg = (
                "give a location (e.g. US-MA or DE) or both electricity_usd_per_kwh "
                "and grid_co2e_g_per_kwh"
            )
            raise ValueError(msg)
        return self


MtdcKind = Literal[
    "capex_supplies", "support", "staff", "hosting", "electricity", "cloud", "recharge"
]
"""Kinds of cost whose place in the F&A base (MTDC) an institution may set."""


class Institution(Frozen):
    """Funding rules: indirect costs on services and who pays for power and space."""

    indirect_cost_rate: float = Field(
        defaults.INDIRECT_COST_RATE,
        ge=0.0,
        le=1.5,
        description="Negotiated F&A rate applied to services (MTDC), e.g. 0.55. [-]",
    )
    cloud_exempt_from_indirect: bool = Field(
        False,
        description="True if the institution waives F&A on cloud services (as UC "
        "San Diego, UW and UNC do). [-]",
    )
    equipment_threshold_usd: float = Field(
        defaults.EQUIPMENT_THRESHOLD_USD,
        ge=0.0,
        description="Unit cost from which a purchase is equipment, without F&A "
        "(2 CFR 200.1: $10,000 for awards from 2024-10-01). [USD]",
    )
    power_paid_by: Literal["project", "institution"] = Field(
        "project", description="Who pays the electricity of owned hardware. [-]"
    )
    mtdc_exclusions: tuple[MtdcKind, ...] = Field(
        (),
        description="Kinds of cost your institution keeps out of the F&A base "
        "beyond the 2 CFR 200.1 rule (e.g. support bought with and capitalised "
        "into the equipment, or power recovered through F&A pools rather than a "
        "recharge): support, staff, electricity, cloud, recharge, "
        "capex_supplies. [-]",
    )
    hosting_paid_by: Literal["project", "institution"] = Field(
        "institution",
        description="Who pays space/colocation of owned hardware. [-]",
    )


MAX_SERVERS = 10_000.0
"""Most servers one owned strategy may hold. [-]"""


def _server_count(value: object) -> float | str:
    """A number of servers from 0 to :data:`MAX_SERVERS`, or ``auto``."""
    if value == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        msg = f"must be a number of servers or 'auto', got {type(value).__name__}"
        raise ValueError(msg)
    try:
        number = float(value)
    except ValueError:
        msg = "must be a number of servers or 'auto'"
        raise ValueError(msg) from None
    if not math.isfinite(number) or not 0.0 <= number <= MAX_SERVERS:
        msg = f"must be from 0 to {MAX_SERVERS:,.0f} servers, or 'auto'"
        raise ValueError(msg)
    return number


ServerCount = Annotated[
    float | Literal["auto"],
    PlainValidator(_server_count),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_SERVERS},
                {"const": "auto"},
            ]
        }
    ),
]
"""Servers of an owned strategy: a number (fractional for a buy-in share) or
``auto`` (the cheapest whole count at equal service, :mod:`planner.sizing`)."""


class _StrategyBase(Frozen):
    name: str = Field(min_length=1, max_length=80, description="Label in reports.")


class CloudStrategy(_StrategyBase):
    """Rent accelerators: an offer from the catalog (or a quoted rate)."""

    kind: Literal["cloud"] = "cloud"
    provider: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        description="Cloud provider, as in the cloud_prices catalog. [-]",
    )
    region: str | None = Field(
        None, min_length=1, max_length=80, description="Provider region. [-]"
    )
    instance_type: str | None = Field(
        None, min_length=1, max_length=80, description="Instance type. [-]"
    )
    accelerator_model: str | None = Field(
        None,
        min_length=1,
        max_length=80,
        description="Accelerator (catalog key) when no instance is named. [-]",
    )
    usd_per_accelerator_hour: float | None = Field(
        None,
        gt=0.0,
        le=1_000.0,
        description="Quoted price per accelerator-hour; overrides the catalog's "
        "on-demand price. [USD/h]",
    )
    purchase: Literal["on_demand", "spot", "committed_1y", "committed_3y"] = Field(
        "on_demand",
        description="Purchase model: on-demand, spot (pre-emptible), or a 1- or "
        "3-year commitment (overflow on-demand). [-]",
    )
    spot_usd_per_accelerator_hour: float | None = Field(
        None, gt=0.0, description="Quoted spot price per accelerator-hour. [USD/h]"
    )
    spot_interruption_overhead: float = Field(
        defaults.SPOT_INTERRUPTION_OVERHEAD,
        ge=0.0,
        le=2.0,
        description="Extra hours re-run per useful spot hour. [-]",
    )
    commitment_discount: Fraction | None = Field(
        None,
        description="Discount of the commitment off on-demand; default from the "
        "commitment_discounts catalog. [0-1]",
    )
    committed_accelerators: int | None = Field(
        None,
        ge=0,
        le=100_000,
        description="Accelerators committed, a whole number of instances; "
        "default: the screening-curve size (the capacity busy more than 1 - "
        "discount of the hours, rounded down to whole instances). [-]",
    )
    accelerators_per_instance: float | None = Field(
        None,
        gt=0.0,
        le=1_024.0,
        description="Accelerators per instance of a quoted offer (commitments "
        "are whole instances); default the catalog's, 1 for a quote. [-]",
    )
    power_w_per_accelerator: float | None = Field(
        None,
        gt=0.0,
        le=1e5,
        description="Measured average power per accelerator, host share "
        "included; default the catalog server of the same accelerator at full "
        "load (or at `utilisation`). [W]",
    )
    utilisation: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Busy share of the rented accelerators while billed, for "
        "their power on the linear idle-to-full curve (Fan, Weber & Barroso "
        "2007); instead of a measured power_w_per_accelerator. [-]",
    )
    price_change_per_year: Trend | None = Field(
        None,
        description="Real change of the price each year; default: the median "
        "real change of fixed cloud SKUs' list prices (cloud_price_history "
        "catalog, about -3 % a year). [1/year]",
    )
    relative_throughput: float | None = Field(
        None,
        gt=0.0,
        le=100.0,
        description="Work per hour relative to the reference accelerator; default "
        "from the catalog. [-]",
    )
    indirect_cost_rate: float | None = Field(
        None,
        ge=0.0,
        le=1.5,
        description="F&A rate on this offer; default the institution's (0 for a "
        "zero-F&A channel such as NSF CloudBank). [-]",
    )
    storage_tb: float = Field(
        0.0, ge=0.0, le=1e6, description="Data kept in cloud storage. [TB]"
    )
    storage_usd_per_tb_month: float = Field(
        defaults.STORAGE_USD_PER_TB_MONTH,
        ge=0.0,
        description="Storage price. [USD/(TB month)]",
    )
    egress_tb_per_year: float = Field(
        0.0, ge=0.0, le=1e6, description="Data transferred out per year. [TB/year]"
    )
    egress_usd_per_tb: float = Field(
        defaults.EGRESS_USD_PER_TB, ge=0.0, description="Egress price. [USD/TB]"
    )
    pue: float | None = Field(
        None, ge=1.0, le=3.0, description="Provider PUE; default from catalog. [-]"
    )
    grid_co2e_g_per_kwh: float | None = Field(
        None,
        ge=0.0,
        le=2_000.0,
        description="Grid intensity of the region; default from catalog. [g/kWh]",
    )

    @model_validator(mode="after")
    def _offer_or_quote(self) -> CloudStrategy:
        if self.power_w_per_accelerator is not None and self.utilisation is not None:
            msg = "give power_w_per_accelerator or utilisation, not both"
            raise ValueError(msg)
        named = [self.provider, self.region, self.instance_type]
        if any(part is not None for part in named) and None in named:
            msg = "provider, region and instance_type must be given together"
            raise ValueError(msg)
        if self.instance_type is None and (
            self.accelerator_model is None or self.usd_per_accelerator_hour is None
        ):
            msg = (
                "name a catalog offer (provider, region, instance_type) or give "
                "accelerator_model and usd_per_accelerator_hour"
            )
            raise ValueError(msg)
        return self


class InlineServer(Frozen):
    """A server specification typed in the scenario: a vendor quote, a CPU node."""

    name: str = Field(min_length=1, max_length=80, description="Label. [-]")
    accelerator_model: str | None = Field(
        None,
        min_length=1,
        max_length=80,
        description="Accelerator (accelerators catalog key) for its throughput "
        "and embodied CO2e; none for hardware outside the catalog (then give "
        "relative_throughput). [-]",
    )
    accelerators_per_server: int = Field(
        ge=1, le=1_024, description="Accelerators (or work units) per server. [-]"
    )
    server_price_usd: float = Field(
        gt=0.0, le=1e8, description="Price of one server in the scenario's money. [USD]"
    )
    relative_throughput: float | None = Field(
        None,
        gt=0.0,
        le=100.0,
        description="Work per accelerator-hour relative to the reference "
        "accelerator; default from the catalog's accelerator. [-]",
    )
    idle_power_w: float = Field(ge=0.0, le=1e5, description="Power at idle. [W]")
    max_power_w: float = Field(ge=0.0, le=1e5, description="Power at full load. [W]")
    embodied_co2e_kg: float | None = Field(
        None,
        ge=0.0,
        le=1e6,
        description="Embodied emissions of one server; default 2,500 kg per node "
        "plus 150 kg per accelerator (Luccioni et al. 2023, BLOOM). [kg]",
    )
    rack_units: int | None = Field(
        None, ge=1, le=60, description="Height in the rack. [U]"
    )
    cluster_overhead_fraction: float = Field(
        COTTIER_2024_CLUSTER_OVERHEAD_FRACTION,
        ge=0.0,
        le=2.0,
        description="Network, storage and integration on top of the server price "
        "(default 0.23: Cottier et al. 2024). [-]",
    )

    @model_validator(mode="after")
    def _throughput_known(self) -> InlineServer:
        if self.accelerator_model is None and self.relative_throughput is None:
            msg = "give relative_throughput or a catalog accelerator_model"
            raise ValueError(msg)
        if self.idle_power_w > self.max_power_w:
            msg = "idle_power_w must not exceed max_power_w"
            raise ValueError(msg)
        return self


class OnPremStrategy(_StrategyBase):
    """Buy servers of a catalog specification and run them."""

    kind: Literal["onprem"] = "onprem"
    server: Annotated[str, Field(min_length=1, max_length=80)] | InlineServer = Field(
        description="Server: a servers catalog key, or your own specification "
        "(a vendor quote not in any catalog). [-]"
    )
    servers: ServerCount = Field(
        description="Servers bought, or auto: the cheapest whole number at equal "
        "service (delayed and unserved work priced); may be fractional for a "
        "buy-in share of a larger cluster (as Strubell et al. price 58 GPUs as "
        "7.25 servers). [-]",
    )
    purchase_year: int = Field(
        0, ge=0, le=30, description="Year offset of the first purchase. [years]"
    )
    server_price_usd: float | None = Field(
        None,
        gt=0.0,
        description="Quoted price of one server; overrides the catalog. [USD]",
    )
    cluster_overhead_fraction: float | None = Field(
        None,
        ge=0.0,
        le=2.0,
        description="Network, storage and integration on top of servers; default "
        "from the catalog. [-]",
    )
    relative_throughput: float | None = Field(
        None,
        gt=0.0,
        le=100.0,
        description="Work per accelerator-hour relative to the reference; default "
        "from the catalog. [-]",
    )
    idle_power_w: float | None = Field(
        None,
        ge=0.0,
        le=1e5,
        description="Server power at idle; overrides the catalog. [W]",
    )
    max_power_w: float | None = Field(
        None,
        ge=0.0,
        le=1e5,
        description="Server power at full load; overrides the catalog. [W]",
    )
    embodied_co2e_kg: float | None = Field(
        None,
        ge=0.0,
        le=1e6,
        description="Embodied emissions of one server; overrides the catalog. [kg]",
    )
    lifetime_years: int = Field(
        defaults.HARDWARE_LIFETIME_YEARS,
        ge=1,
        le=15,
        description="Economic life before replacement. [years]",
    )
    refresh: bool = Field(
        True, description="Replace servers at end of life within the horizon. [-]"
    )
    capex_change_per_year: Trend = Field(
        defaults.CAPEX_TREND_PER_YEAR,
        description="Real change per year of the price of the same capacity, for "
        "refresh purchases. [1/year]",
    )
    support_fraction_per_year: float = Field(
        defaults.SUPPORT_FRACTION_PER_YEAR,
        ge=0.0,
        le=1.0,
        description="Support and maintenance per year, share of capex. [1/year]",
    )
    staff_fte: float = Field(
        0.25,
        ge=0.0,
        le=100.0,
        description="Staff effort to run it (default 0.25 FTE: assumption for a "
        "few servers run by a departmental administrator). [FTE]",
    )
    staff_usd_per_fte_year: float = Field(
        defaults.STAFF_USD_PER_FTE_YEAR,
        ge=0.0,
        description="Loaded staff cost. [USD/(FTE year)]",
    )
    hosting_usd_per_kw_month: float = Field(
        defaults.COLOCATION_USD_PER_KW_MONTH,
        ge=0.0,
        description="Space/colocation per kW of peak IT power. [USD/(kW month)]",
    )
    availability: float = Field(
        defaults.AVAILABILITY,
        gt=0.0,
        le=1.0,
        description="Usable share of installed capacity after failures and "
        "maintenance. [0-1]",
    )
    salvage: Literal["declining", "none"] = Field(
        "declining",
        description="Resale value at retirement or horizon end: geometric decline, "
        "or none (surplus rules). [-]",
    )
    annual_value_decline: Fraction = Field(
        COTTIER_2024_ANNUAL_VALUE_DECLINE,
        description="Value lost per year when salvage is declining (Cottier et "
        "al. 2024: 0.14 orders of magnitude a year, 27.6 %). [0-1]",
    )
    depreciation: Literal["straight_line", "declining_balance", "macrs_5"] = Field(
        "straight_line",
        description="Accounting view only; never changes cash flows. [-]",
    )
    embodied_accounting: Literal["amortised", "at_purchase"] = Field(
        "amortised",
        description="Embodied CO2e spread over the life or counted at purchase. [-]",
    )


class HybridStrategy(OnPremStrategy):
    """Own a base cluster; overflow bursts to a cloud offer or waits."""

    kind: Literal["hybrid"] = "hybrid"  # type: ignore[assignment]
    burst: CloudStrategy = Field(description="Cloud offer that serves overflow.")
    overflow: Literal["burst", "wait"] = Field(
        "burst", description="Overflow bursts to cloud, or waits for spare hours. [-]"
    )


class Member(Frozen):
    """One group of a shared (consortium) cluster."""

    name: str = Field(min_length=1, max_length=80, description="Member label.")
    reference_hours_per_year: float = Field(
        ge=0.0, le=1e9, description="Member demand. [reference accelerator-h/year]"
    )
    shape: DemandShape = Field(DemandShape(), description="Member's hourly shape.")


class SharedStrategy(OnPremStrategy):
    """Several groups pool their demand on one cluster (overflow as hybrid)."""

    kind: Literal["shared"] = "shared"  # type: ignore[assignment]
    members: tuple[Member, ...] = Field(
        min_length=1,
        max_length=MAX_MEMBERS,
        description="Groups whose demand is pooled with this project's (at most "
        f"{MAX_MEMBERS}: exact cost sharing prices all 2^n coalitions).",
    )
    burst: CloudStrategy | None = Field(
        None, description="Cloud offer for overflow; none means overflow waits."
    )


Strategy = Annotated[
    CloudStrategy | OnPremStrategy | HybridStrategy | SharedStrategy,
    Field(discriminator="kind"),
]


class Service(Frozen):
    """What work that is not done when it arrives costs (equal service).

    Every strategy is compared delivering the same demand. Work an owned cluster
    cannot serve in the hour it arrives bursts to a cloud offer (hybrids), waits
    for spare owned hours later in the same year at the delay cost, or, when
    there are none, goes unserved at the unserved cost. The engine, the
    optimiser and pooling all apply this rule.
    """

    delay_usd_per_reference_hour: float | None = Field(
        None,
        ge=0.0,
        le=1_000.0,
        description="Cost of a reference hour of work that waits for spare owned "
        "hours later in the same year; default: the scenario's cheapest on-demand "
        "price per reference hour (the cost of renting that work instead). "
        "[USD/reference accelerator-h]",
    )
    unserved_usd_per_reference_hour: float | None = Field(
        None,
        ge=0.0,
        le=1_000.0,
        description="Cost of a reference hour of work not done within its year; "
        "default: the scenario's cheapest on-demand price per reference hour (the "
        "cost of buying that work elsewhere). [USD/reference accelerator-h]",
    )
    unserved_co2e_kg_per_reference_hour: float | None = Field(
        None,
        ge=0.0,
        le=100.0,
        description="CO2e of a reference hour of work not done within its year "
        "(it is done elsewhere: equal service); default: that hour on the offer "
        "whose price is the default unserved cost, its energy and embodied CO2e "
        "each year. [kg CO2e/reference accelerator-h]",
    )


class Scenario(Frozen):
    """One planning question: which strategies, over what horizon, for what demand."""

    schema_version: Literal[1] = Field(
        1, description="Scenario file format version. [-]"
    )
    name: str = Field(min_length=1, max_length=120, description="Label in reports.")
    description: str = Field("", max_length=5_000, description="Notes and sources.")
    start_year: int = Field(
        2026, ge=2000, le=2100, description="Calendar year of year 0. [year]"
    )
    horizon_years: int = Field(
        5, ge=1, le=20, description="Years compared after the purchase. [years]"
    )
    currency: Literal["USD"] = Field(
        "USD",
        description="Currency of every figure: US dollars (catalog prices in other "
        "currencies are converted at their row's exchange rate; reports in other "
        "currencies are not offered, rather than a field that changes nothing). "
        "[-]",
    )
    currency_year: int = Field(
        defaults.DEFAULT_CURRENCY_YEAR,
        ge=2000,
        le=2100,
        description="Year whose money all prices are in (real terms). [year]",
    )
    real_discount_rate: float = Field(
        defaults.REAL_DISCOUNT_RATE_PUBLIC,
        ge=0.0,
        le=0.3,
        description="Real discount rate per year. [1/year]",
    )
    budget_escalation_per_year: float = Field(
        defaults.BUDGET_ESCALATION_PER_YEAR,
        ge=-0.1,
        le=0.3,
        description="Nominal escalation of costs per year for a grant budget in "
        "budget-year dollars (default 3 %: the out-year inflation factor "
        "sponsored-programs offices suggest). [1/year]",
    )
    demand: Demand = Field(description="Accelerator work needed.")
    site: Site = Field(description="Facility of owned hardware.")
    institution: Institution = Field(
        Institution(), description="Indirect-cost and payment rules."
    )
    view: Literal["institution", "award"] = Field(
        "institution",
        description="Whose cost decides the recommendation and the optimiser: "
        "institution (economic cost to the university: every payer, resale "
        "credited, F&A excluded as an internal transfer) or award (what the "
        "grant or project budget pays: its own costs plus F&A on MTDC, no resale "
        "credit). Both views are always reported. [-]",
    )
    service: Service = Field(
        Service(), description="Cost of work done late or not at all."
    )
    catalog_overlays: tuple[str, ...] = Field(
        (),
        max_length=16,
        description="Your own catalog rows (vendor quotes, tariffs) as CSV files "
        "with a catalog's columns, relative to the scenario file; their rows win "
        "and are marked user_supplied. [-]",
    )
    strategies: tuple[Strategy, ...] = Field(
        min_length=1, max_length=12, description="Strategies to compare."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = []
        names = [strategy.name for strategy in self.strategies]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            problems.append(f"strategy names must be unique: {duplicates}")
        for strategy in self.strategies:
            clouds: list[CloudStrategy] = []
            if isinstance(strategy, CloudStrategy):
                clouds.append(strategy)
            else:
                burst = getattr(strategy, "burst", None)
                if burst is not None:
                    clouds.append(burst)
                if strategy.purchase_year >= self.horizon_years:
                    problems.append(
                        f"{strategy.name}: purchase_year {strategy.purchase_year} is "
                        f"not inside the {self.horizon_years}-year horizon"
                    )
            for cloud in clouds:
                term = {"committed_1y": 1, "committed_3y": 3}.get(cloud.purchase, 0)
                if term > self.horizon_years:
                    problems.append(
                        f"{strategy.name}: a {term}-year commitment does not fit a "
                        f"{self.horizon_years}-year horizon"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ScenarioError(ValueError):
    """A scenario file or dictionary that cannot be used, with one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


def validation_problems(
    error: ValidationError, *, max_listed: int | None = None
) -> list[str]:
    """One readable line per problem of a pydantic error: path, message, value.

    Every part is shortened (:func:`planner.safe_io.shorten`): a huge value
    or key is quoted as a short excerpt, never whole.

    Parameters
    ----------
    error : pydantic.ValidationError
        The error raised by ``model_validate``.
    max_listed : int, optional
        Problems listed (default :data:`MAX_PROBLEMS_LISTED`, 50); a last
        line counts the others. [lines]

    Returns
    -------
    list of str
        ``"strategies.1.servers: Input should be greater than or equal to 0
        (got -2)"``-style lines.

    Examples
    --------
    >>> try:
    ...     Site.model_validate({"electricity_usd_per_kwh": "x" * 500,
    ...                          "grid_co2e_g_per_kwh": 1})
    ... except ValidationError as error:
    ...     print(validation_problems(error)[0])
    electricity_usd_per_kwh: Input should be a valid number, unable to parse string as a number (got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (500 characters))
    """  # noqa: E501
    from planner.safe_io import clip, shorten

    if max_listed is None:
        max_listed = MAX_PROBLEMS_LISTED
    lines = []
    items = error.errors(include_url=False)
    for item in items[:max_listed]:
        where = ".".join(clip(str(part), 60) for part in item["loc"]) or "(scenario)"
        message = clip(str(item["msg"]).removeprefix("Value error, "), 300)
        value = item.get("input")
        shown = "" if isinstance(value, Mapping) else f" (got {shorten(value)})"
        lines.append(f"{where}: {message}{shown}")
    if len(items) > max_listed:
        lines.append(f"... and {len(items) - max_listed:,} more problems")
    return lines


def scenario_from_dict(data: object) -> Scenario:
    """Validate plain data into a :class:`Scenario`.

    Parameters
    ----------
    data : object
        Parsed YAML or JSON.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        With one line per problem (field path, message, value).
    """
    from planner.safe_io import shorten

    if not isinstance(data, Mapping):
        msg = f"a scenario must be a mapping of fields, got {type(data).__name__}"
        raise ScenarioError([msg])
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        msg = (
            f"schema_version: this planner reads version {SCHEMA_VERSION}, "
            f"got {shorten(version)}"
        )
        raise ScenarioError([msg])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(validation_problems(error)) from None
    except RecursionError:  # a self-referencing structure built in Python
        msg = "the scenario is nested too deeply (or refers to itself)"
        raise ScenarioError([msg]) from None
    log = scenario.demand.joblog
    if log is not None and "\x00" in log.path:
        msg = f"demand.joblog.path: {shorten(log.path)} contains a NUL character"
        raise ScenarioError([msg])
    return scenario


def scenario_from_yaml(text: str) -> Scenario:
    """Parse and validate a scenario from YAML text (safe loader, with limits).

    Parameters
    ----------
    text : str
        YAML document, at most :data:`planner.safe_io.MAX_YAML_CHARACTERS`
        long, nested at most :data:`planner.safe_io.MAX_YAML_DEPTH` levels
        and expanding (aliases included) to at most
        :data:`planner.safe_io.MAX_YAML_NODES` values.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        If the YAML is malformed, passes a limit, or the scenario is invalid;
        one line per problem.
    """
    from planner.safe_io import SafeIOError, load_yaml

    try:
        data = load_yaml(text)
    except SafeIOError as error:
        raise ScenarioError([str(error)]) from None
    return scenario_from_dict(data)


def load_scenario(path: str | Path, *, allow_outside_paths: bool = False) -> Scenario:
    """Read a scenario YAML file; files it names are found beside it.

    Only a regular file is read (a FIFO or a terminal is refused without
    waiting on it), within the YAML size limit. A job log named in
    ``demand.joblog.path`` is resolved against the scenario file's folder and
    must lie inside that folder (symbolic links resolved) unless
    ``allow_outside_paths``.

    Parameters
    ----------
    path : str or pathlib.Path
        File to read.
    allow_outside_paths : bool, default False
        Accept a job log outside the scenario's folder (the command line's
        ``--allow-outside-paths``).

    Returns
    -------
    Scenario
        The validated scenario, its job-log path absolute.

    Raises
    ------
    ScenarioError
        If the file cannot be read, is invalid or names a file outside its
        folder; each line names the file.
    """
    from planner.safe_io import (
        MAX_YAML_CHARACTERS,
        SafeIOError,
        clip,
        read_text_file,
        resolve_inside,
    )

    file = Path(path)
    label = clip(str(file), 120)
    try:
        # Four bytes per character at most in UTF-8; the YAML limit counts characters.
        text = read_text_file(
            file, max_bytes=4 * MAX_YAML_CHARACTERS, what="scenario file"
        )
    except SafeIOError as error:
        raise ScenarioError([str(error)]) from None
    try:
        scenario = scenario_from_yaml(text)
    except ScenarioError as error:
        raise ScenarioError([f"{label}: {line}" for line in error.problems]) from None
    log = scenario.demand.joblog
    if log is not None:
        try:
            resolved = resolve_inside(
                log.path,
                file.parent,
                field="demand.joblog.path",
                allow_outside=allow_outside_paths,
            )
        except SafeIOError as error:
            raise ScenarioError([f"{label}: {error}"]) from None
        data = scenario.model_dump(mode="json")
        data["demand"]["joblog"]["path"] = str(resolved)
        scenario = Scenario.model_validate(data)
    return scenario


def scenario_to_yaml(scenario: Scenario) -> str:
    """Serialise a scenario to YAML that :func:`scenario_from_yaml` reads back.

    Parameters
    ----------
    scenario : Scenario
        The scenario.

    Returns
    -------
    str
        YAML text, keys in model order.
    """
    from planner.safe_io import dump_yaml

    return dump_yaml(scenario.model_dump(mode="json"))


def preset_text(name: str) -> str:
    """Return the YAML text (with its comments) of a shipped preset.

    Parameters
    ----------
    name : {"lisa", "department", "grant", "consortium"}
        Preset name.

    Returns
    -------
    str
        The file's text.

    Raises
    ------
    ValueError
        If the preset is unknown.
    """
    from importlib import resources

    if name not in PRESETS:
        msg = f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}"
        raise ValueError(msg)
    return (
        resources.files("planner").joinpath(f"presets/{name}.yaml").read_text("utf-8")
    )


def load_preset(name: str) -> Scenario:
    """Return a shipped preset as a validated scenario.

    Parameters
    ----------
    name : {"lisa", "department", "grant", "consortium"}
        Preset name.

    Returns
    -------
    Scenario
        The preset.
    """
    return scenario_from_yaml(preset_text(name))


MAX_PROBLEMS_LISTED = 50
"""Validation problems listed one by one in a :class:`ScenarioError`; the rest
are counted (a malformed list of thousands of items gives one screen). [lines]"""
