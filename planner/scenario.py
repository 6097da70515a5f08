"""The planning question as validated, immutable inputs, saved as YAML.

A :class:`Scenario` holds the horizon, money conventions, demand, site, institution
rules and the strategies to compare. Every field states its unit and bounds in its
description, which is also the help text of the app. Scenario files are YAML with
a ``schema_version``; they are loaded with the safe loader only, within limits on
size, depth and alias expansion (:func:`planner.safe_io.load_yaml`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from planner import defaults

SCHEMA_VERSION = 1
"""Version of the scenario file format written by this code. [-]"""

PRESETS = ("lisa", "department", "grant", "consortium")
"""Scenario presets shipped in ``planner/presets`` (linked from ``examples/``)."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
"""A share between 0 and 1 (never a percentage)."""

Trend = Annotated[float, Field(gt=-1.0, le=1.0)]
"""A relative change per year, above -100 %."""

ModelT = TypeVar("ModelT", bound=BaseModel)


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
    electricity_usd_per_kwh: float = Field(
        ge=0.0, le=2.0, description="Electricity tariff at the meter. [USD/kWh]"
    )
    tariff_change_per_year: Trend = Field(
        0.0, description="Real change of the tariff each year. [1/year]"
    )
    grid_co2e_g_per_kwh: float = Field(
        ge=0.0,
        le=2_000.0,
        description="Location-based grid carbon intensity. [g CO2e/kWh]",
    )
    grid_change_per_year: Trend = Field(
        defaults.GRID_TREND_PER_YEAR,
        description="Relative change of grid intensity each year. [1/year]",
    )


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
    hosting_paid_by: Literal["project", "institution"] = Field(
        "institution",
        description="Who pays space/colocation of owned hardware. [-]",
    )


class _StrategyBase(Frozen):
    name: str = Field(min_length=1, max_length=80, description="Label in reports.")


class CloudStrategy(_StrategyBase):
    """Rent accelerators: an offer from the catalog (or a quoted rate)."""

    kind: Literal["cloud"] = "cloud"
    provider: str | None = Field(
        None, description="Cloud provider, as in the cloud_prices catalog. [-]"
    )
    region: str | None = Field(None, description="Provider region. [-]")
    instance_type: str | None = Field(None, description="Instance type. [-]")
    accelerator_model: str | None = Field(
        None,
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
        description="Accelerators committed; default: the screening-curve size "
        "(demand exceeded 1 - discount of the hours). [-]",
    )
    price_change_per_year: Trend = Field(
        defaults.CLOUD_PRICE_TREND_PER_YEAR,
        description="Real change of the price each year. [1/year]",
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


class OnPremStrategy(_StrategyBase):
    """Buy servers of a catalog specification and run them."""

    kind: Literal["onprem"] = "onprem"
    server: str = Field(min_length=1, description="Server (servers catalog key). [-]")
    servers: float = Field(
        ge=0.0,
        le=10_000.0,
        description="Servers bought; may be fractional for a buy-in share of a "
        "larger cluster (as Strubell et al. price 58 GPUs as 7.25 servers). [-]",
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
    availability: Fraction = Field(
        defaults.AVAILABILITY, description="Usable share of capacity. [0-1]"
    )
    salvage: Literal["declining", "none"] = Field(
        "declining",
        description="Resale value at retirement or horizon end: geometric decline, "
        "or none (surplus rules). [-]",
    )
    annual_value_decline: Fraction = Field(
        0.276,
        description="Value lost per year when salvage is declining (Cottier et "
        "al. 2024: 0.14 orders of magnitude a year). [0-1]",
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
        min_length=2, description="Groups whose demand is pooled."
    )
    burst: CloudStrategy | None = Field(
        None, description="Cloud offer for overflow; none means overflow waits."
    )


Strategy = Annotated[
    CloudStrategy | OnPremStrategy | HybridStrategy | SharedStrategy,
    Field(discriminator="kind"),
]


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
    currency: str = Field(
        "USD", pattern="^[A-Z]{3}$", description="ISO 4217 code of reports. [-]"
    )
    usd_per_currency_unit: float = Field(
        1.0, gt=0.0, description="US dollars per unit of the report currency. [USD]"
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
    demand: Demand = Field(description="Accelerator work needed.")
    site: Site = Field(description="Facility of owned hardware.")
    institution: Institution = Field(
        Institution(), description="Indirect-cost and payment rules."
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
    import yaml

    data = scenario.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=88)


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
