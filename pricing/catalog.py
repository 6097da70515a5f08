"""Load, validate and look up the data catalogs shipped in ``pricing/data``.

Each catalog is one CSV file with one row per item; every row names its
``source`` and ``source_date`` and every money row its ``currency_year``
(provenance in ``pricing/data/README.md``). Rows are validated through a
strict pydantic model (unknown columns, non-numeric cells, negative prices,
PUE below 1, out-of-range fractions ... are rejected) and returned as a fresh
:class:`pandas.DataFrame` on every call, so callers can never corrupt the
cached copy.

A user may *overlay* a catalog with a CSV file of the same columns: overlay
rows replace shipped rows with the same key and new keys are appended; they
are marked ``user_supplied=True``. Every problem of a bad file is collected
and reported together in a :class:`CatalogError`, one ``file:row:column: why``
line each; the shipped catalog is left untouched.

Nothing is read at import time: files are read on first use and cached with
:func:`functools.cache`.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

__all__ = [
    "CATALOG_NAMES",
    "REFERENCE_ACCELERATOR",
    "Catalog",
    "CatalogError",
    "Overlay",
    "SourcedValue",
    "UnknownCatalogItemError",
    "accelerator",
    "catalog_key",
    "cloud_offer",
    "commitment_discount",
    "default_cloud_offers",
    "electricity_price",
    "grid_intensity",
    "grid_intensity_co2e_g_per_kwh",
    "load_catalog",
    "overlay_catalog_name",
    "parse_catalog_text",
    "places",
    "pue",
    "read_overlay_file",
    "server",
]

CATALOG_NAMES: tuple[str, ...] = (
    "cloud_prices",
    "accelerators",
    "servers",
    "commitment_discounts",
    "grid_intensity",
    "pue",
    "electricity_prices",
    "cloud_price_history",
)
"""Names accepted by :func:`load_catalog`; each is ``pricing/data/<name>.csv``."""

REFERENCE_ACCELERATOR = "A100-80GB-SXM4"
"""Accelerator whose ``relative_throughput`` (and peak-FP16 ratio) is 1.0."""

GRID_INTENSITY_UNIT = "g CO2e/kWh"
"""Unit of every grid-intensity value: grams CO2-equivalent per kWh. [-]"""

ELECTRICITY_PRICE_UNIT = "USD/kWh"
"""Unit of every electricity price: US dollars (of the row's currency year) per
kilowatt-hour. [-]"""


_DATA_PACKAGE = "pricing"
_DATA_DIR = "data"
_OVERLAY_SOURCE_PREFIX = "user overlay "


class CatalogError(ValueError):
    """A catalog or overlay file failed validation.

    Parameters
    ----------
    problems : sequence of str
        One message per problem, each formatted ``file:row:column: why``,
        where ``row`` is the 1-based line number in the file (the header is
        line 1, the first data row line 2; 0 when no line applies) and
        ``column`` is ``-`` when no single column applies.

    Attributes
    ----------
    problems : tuple of str
        The problems, in file order.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


class UnknownCatalogItemError(ValueError, LookupError):
    """A lookup found no row; the message lists close matches."""


@dataclass(frozen=True)
class SourcedValue:
    """One looked-up number with its unit, years and provenance.

    Lookups that feed an answer (a tariff, a grid intensity) return this
    instead of a bare float, so that a report can say where a number comes
    from and how old it is, and a caller can convert money by CPI from
    ``currency_year`` to the scenario's year.

    Examples
    --------
    >>> value = SourcedValue(0.2061, "USD/kWh", 2024, 2024, "EIA", "2024-09-24")
    >>> f"{value.value} {value.unit} ({value.year})"
    '0.2061 USD/kWh (2024)'
    """

    value: float
    """The number, in ``unit``."""
    unit: str
    """Unit of ``value``, e.g. ``"USD/kWh"`` or ``"g CO2e/kWh"``."""
    year: int | None
    """Year the data describe (data year); None when the source does not say."""
    currency_year: int | None
    """Year whose dollars a money value is stated in; None for non-money values."""
    source: str
    """Document, table or repository the value comes from."""
    source_date: str
    """When the source was published or retrieved (ISO date or clear text)."""
    user_supplied: bool = False
    """True when the value comes from a user's overlay rather than a shipped row."""


# --------------------------------------------------------------------------
# Row models
# --------------------------------------------------------------------------

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
"""Dimensionless share from 0 to 1."""

Year = Annotated[int, Field(ge=1990, le=2100)]
"""A calendar year in the range the catalogs can plausibly hold."""

_SOURCE_DESCRIPTION = "Where the row's values come from (document, page or repository)."
_SOURCE_DATE_DESCRIPTION = (
    "When the source was published or retrieved: ISO date, year-month or clear text."
)


class _Row(BaseModel):
    """Base of every catalog row: strict, frozen, blank cells read as missing."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_cells_are_none(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {
                key: None if isinstance(value, str) and not value.strip() else value
                for key, value in data.items()
            }
        return data


class CloudPriceRow(_Row):
    """One rentable cloud instance type in one region."""

    provider: str = Field(
        min_length=1, description="Cloud provider id (aws, gcp, azure, lambda, nebius)."
    )
    region: str = Field(min_length=1, description="Provider region name.")
    instance_type: str = Field(min_length=1, description="Instance (VM) type name.")
    accelerator: str = Field(
        min_length=1,
        description="Accelerator name as in the upstream cloud catalog, e.g. 'H100'.",
    )
    accelerator_model: str = Field(
        min_length=1, description="Key of the accelerator in the accelerators catalog."
    )
    accelerator_count: float = Field(
        gt=0,
        description="Accelerators per instance; fractional for partitioned GPUs. [-]",
    )
    accelerator_memory_gb: float | None = Field(
        None, gt=0, description="Memory of one (whole) accelerator. [GB]"
    )
    vcpus: float | None = Field(None, ge=0, description="Virtual CPUs. [-]")
    memory_gb: float | None = Field(None, ge=0, description="Host memory. [GB]")
    on_demand_usd_per_hour: float | None = Field(
        None,
        gt=0,
        description="On-demand list price of the instance; blank if none. [USD/h]",
    )
    spot_usd_per_hour: float | None = Field(
        None, ge=0, description="Spot/preemptible price; blank if unknown. [USD/h]"
    )
    currency_year: Year = Field(description="Year whose USD the prices are in.")
    source: str = Field(min_length=1, description=_SOURCE_DESCRIPTION)
    source_date: str = Field(min_length=1, description=_SOURCE_DATE_DESCRIPTION)
    quality_flag: Literal["suspect_low_on_demand", "spot_above_on_demand"] | None = (
        Field(None, description="Upstream data-quality flag; blank if none.")
    )
    notes: str | None = Field(None, description="Free-text caveats.")


class AcceleratorRow(_Row):
    """Specification of one accelerator model."""

    accelerator_model: str = Field(
        min_length=1, description="Unique short id, e.g. 'H100-80GB-SXM5'."
    )
    vendor: str = Field(min_length=1, description="Manufacturer.")
    model_name: str = Field(min_length=1, description="Vendor's model name.")
    form_factor: str | None = Field(None, description="SXM, PCIe, OAM, TPU chip ...")
    cloud_catalog_names: str | None = Field(
        None, description="';'-separated accelerator names used by cloud catalogs."
    )
    memory_gb: float | None = Field(None, gt=0, description="Accelerator memory. [GB]")
    tdp_w: float | None = Field(None, gt=0, description="Thermal design power. [W]")
    idle_power_w: float | None = Field(
        None, ge=0, description="Power at idle, where sourced. [W]"
    )
    fp16_bf16_dense_tflops: float | None = Field(
        None, gt=0, description="Peak dense FP16/BF16 throughput. [TFLOPS]"
    )
    fp32_tflops: float | None = Field(
        None, gt=0, description="Peak FP32 (non-tensor) throughput. [TFLOPS]"
    )
    fp8_dense_tflops: float | None = Field(
        None, gt=0, description="Peak dense FP8 throughput. [TFLOPS]"
    )
    memory_bandwidth_gb_per_s: float | None = Field(
        None, gt=0, description="Peak memory bandwidth. [GB/s]"
    )
    release_year: Year = Field(description="Year of release.")
    launch_price_usd: float | None = Field(
        None, gt=0, description="Launch or list price of one accelerator. [USD]"
    )
    currency_year: Year | None = Field(
        None, description="Year whose USD launch_price_usd is in; needed with a price."
    )
    relative_throughput: float | None = Field(
        None,
        gt=0,
        description=(
            "Training throughput relative to A100-80GB-SXM4 = 1, the default the "
            "planner uses: from MLPerf Training results where they exist, else the "
            "fallback stated in throughput_basis. [-]"
        ),
    )
    relative_throughput_peak_fp16: float | None = Field(
        None,
        gt=0,
        description=(
            "Peak dense FP16/BF16 TFLOPS over A100-80GB-SXM4's 312 (an upper "
            "bound, not a measured speed). [-]"
        ),
    )
    throughput_basis: str | None = Field(
        None, description="How relative_throughput was derived, or why it is blank."
    )
    throughput_workload: str | None = Field(
        None, description="Benchmark workload behind relative_throughput, if any."
    )
    throughput_source: str | None = Field(
        None, description="Where the benchmark figures come from (repository, path)."
    )
    embodied_co2e_kg: float | None = Field(
        None,
        ge=0,
        description="Embodied emissions of one card, where sourced. [kg CO2e]",
    )
    source: str = Field(min_length=1, description=_SOURCE_DESCRIPTION)
    source_date: str = Field(min_length=1, description=_SOURCE_DATE_DESCRIPTION)
    notes: str | None = Field(None, description="Free-text caveats.")

    @field_validator("idle_power_w")
    @classmethod
    def _idle_not_above_tdp(
        cls, value: float | None, info: ValidationInfo
    ) -> float | None:
        tdp_w = info.data.get("tdp_w")
        if value is not None and tdp_w is not None and value > tdp_w:
            msg = f"idle_power_w ({value}) must not exceed tdp_w ({tdp_w})"
            raise ValueError(msg)
        return value

    @field_validator("currency_year")
    @classmethod
    def _price_needs_currency_year(
        cls, value: int | None, info: ValidationInfo
    ) -> int | None:
        if value is None and info.data.get("launch_price_usd") is not None:
            msg = "currency_year is required when launch_price_usd is given"
            raise ValueError(msg)
        return value


class ServerRow(_Row):
    """One purchasable on-premises server configuration."""

    # Field order is validation order: the inputs of the price check come
    # before server_price_usd (the CSV column order is set in _SPECS).
    server: str = Field(
        min_length=1, description="Unique configuration id, e.g. '8xH100-SXM'."
    )
    accelerator_model: str = Field(
        min_length=1, description="Key of the accelerator in the accelerators catalog."
    )
    accelerator_count: int = Field(gt=0, description="Accelerators per server. [-]")
    accelerator_price_usd: float = Field(
        gt=0, description="Price of one accelerator. [USD]"
    )
    accelerator_price_basis: str = Field(
        min_length=1, description="Where the accelerator price comes from."
    )
    chip_to_server_factor: float | None = Field(
        None, gt=0, description="Server price over the price of its accelerators. [-]"
    )
    price_basis: Literal["estimate", "published", "quote"] = Field(
        description="'estimate' (count x chip price x factor), 'published' or 'quote'."
    )
    server_price_usd: float = Field(gt=0, description="Price of one server. [USD]")
    cluster_overhead_fraction: Fraction = Field(
        description="Networking, storage and integration added on top of servers. [0-1]"
    )
    max_power_w: float = Field(
        gt=0, description="Server power at full load incl. host. [W]"
    )
    idle_power_w: float = Field(
        ge=0, description="Server power at idle incl. host. [W]"
    )
    embodied_co2e_kg: float | None = Field(
        None, ge=0, description="Embodied emissions of the server incl. GPUs. [kg CO2e]"
    )
    rack_units: int | None = Field(None, gt=0, description="Height in the rack. [U]")
    currency_year: Year = Field(description="Year whose USD the prices are in.")
    source: str = Field(min_length=1, description=_SOURCE_DESCRIPTION)
    source_date: str = Field(min_length=1, description=_SOURCE_DATE_DESCRIPTION)
    notes: str | None = Field(None, description="Free-text caveats.")

    @field_validator("server_price_usd")
    @classmethod
    def _estimate_is_count_times_price_times_factor(
        cls, value: float, info: ValidationInfo
    ) -> float:
        if info.data.get("price_basis") != "estimate":
            return value
        count = info.data.get("accelerator_count")
        price_usd = info.data.get("accelerator_price_usd")
        factor = info.data.get("chip_to_server_factor")
        if factor is None and "chip_to_server_factor" in info.data:
            msg = "estimate rows need chip_to_server_factor"
            raise ValueError(msg)
        if count is None or price_usd is None or factor is None:
            return value  # an input is invalid and already reported
        expected_usd = round(count * price_usd * factor)
        if abs(value - expected_usd) > 1:
            msg = (
                f"for estimate rows server_price_usd must equal accelerator_count x "
                f"accelerator_price_usd x chip_to_server_factor = {expected_usd}, "
                f"got {value}"
            )
            raise ValueError(msg)
        return value

    @field_validator("idle_power_w")
    @classmethod
    def _idle_not_above_max(cls, value: float, info: ValidationInfo) -> float:
        max_power_w = info.data.get("max_power_w")
        if max_power_w is not None and value > max_power_w:
            msg = f"idle_power_w ({value}) must not exceed max_power_w ({max_power_w})"
            raise ValueError(msg)
        return value


class CommitmentDiscountRow(_Row):
    """Discount off on-demand prices for a 1- or 3-year cloud commitment."""

    provider: str = Field(min_length=1, description="Cloud provider id.")
    term_years: int = Field(ge=1, le=10, description="Commitment term. [years]")
    purchase_option: str = Field(
        min_length=1,
        description="E.g. reserved_instance, committed_use, reserved_contract.",
    )
    is_default: bool = Field(
        description="The row commitment_discount returns for this provider and term."
    )
    discount_low_fraction: Fraction = Field(description="Low end of the range. [0-1]")
    discount_high_fraction: Fraction = Field(description="High end of the range. [0-1]")
    discount_fraction: Fraction = Field(
        description="Default discount off on-demand. [0-1]"
    )
    basis: Literal["published", "assumption"] = Field(
        description="'published' if a provider page gives it, else 'assumption'."
    )
    source: str = Field(min_length=1, description=_SOURCE_DESCRIPTION)
    source_date: str = Field(min_length=1, description=_SOURCE_DATE_DESCRIPTION)
    notes: str | None = Field(None, description="Free-text caveats.")

    @field_validator("discount_fraction")
    @classmethod
    def _within_range(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("discount_low_fraction")
        high = info.data.get("discount_high_fraction")
        if low is not None and high is not None and not low <= value <= high:
            msg = (
                f"discount_fraction ({value}) must lie within "
                f"[discount_low_fraction, discount_high_fraction] = [{low}, {high}]"
            )
            raise ValueError(msg)
        return value


class GridIntensityRow(_Row):
    """Carbon intensity of electricity for a country, subdivision or cloud region."""

    scope: Literal["world", "country", "subnational", "cloud_region"] = Field(
        description="Geographic level of the row."
    )
    country_iso2: str | None = Field(
        None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code."
    )
    country_iso3: str | None = Field(
        None, pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3 code."
    )
    subdivision_code: str | None = Field(
        None, description="ISO 3166-2 code, e.g. 'US-CA'."
    )
    name: str | None = Field(None, description="Human-readable place name.")
    provider: str | None = Field(
        None, description="Cloud provider for cloud_region rows."
    )
    cloud_region: str | None = Field(None, description="Cloud region name.")
    co2e_g_per_kwh: float = Field(
        ge=0, le=2000, description="Emissions per kWh of electricity. [g CO2e/kWh]"
    )
    year: Year | None = Field(None, description="Data year, where known.")
    preferred: bool = Field(description="The row to use when several match.")
    dataset: str = Field(min_length=1, description="Short id of the upstream dataset.")
    source: str = Field(min_length=1, description=_SOURCE_DESCRIPTION)
    source_date: str = Field(min_length=1, description=_SOURCE_DATE_DESCRIPTION)
    notes: str | None = Field(None, description="Free-text caveats.")


class PueRow(_Row):
    """Power usage effectiveness of a facility, provider fleet or region."""

    facility: str = Field(
        min_length=1, description="Facility, provider or benchmark name."
    )
    facility_type: str | None = Field(None, description="Kind of facility.")
    region: str | None = Field(
        None, description="Region; blank for a fleet or average."
    )
    pue: float = Field(
        ge=1.0,
        le=5.0,
        description="Total facility energy over IT energy; at least 1. [-]",
    )
    year: Year | None = Field(None, description="Data year, where known.")
    preferred: bool = Field(description="The row to use when several match.")
    source: str = Field(min_length=1, description=_SOURCE_DESCRIPTION)
    source_date: str = Field(min_length=1, description=_SOURCE_DATE_DESCRIPTION)
    notes: str | None = Field(None, description="Free-text caveats.")


class ElectricityPriceRow(_Row):
    """Electricity price for a country or subdivision, sector and consumption band."""

    scope: Literal["country", "subnational", "region"] = Field(
        description="Geographic level of the row."
    )
    country_iso2: str | None = Field(None, description="ISO 3166-1 alpha-2 code.")
    subdivision_code: str | None = Field(None, description="ISO 3166-2 code.")
    name: str | None = Field(None, description="Human-readable place name.")
    sector: str = Field(min_length=1, description="Customer sector.")
    consumption_band: str = Field(min_length=1, description="Consumption band.")
    tax_basis: str = Field(min_length=1, description="Which taxes are included.")
    price_local_currency_per_kwh: float = Field(
        ge=0, description="Price in the local currency. [local currency/kWh]"
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code.")
    price_usd_per_kwh: float = Field(
        ge=0, description="Price converted to USD. [USD/kWh]"
    )
    usd_per_local_currency: float = Field(
        gt=0, description="Exchange rate used for the conversion. [USD/local currency]"
    )
    year: Year = Field(description="Data year.")
    period: str = Field(min_length=1, description="Averaging period, e.g. '2024-S2'.")
    currency_year: Year = Field(description="Year whose USD price_usd_per_kwh is in.")
    source: str = Field(min_length=1, description=_SOURCE_DESCRIPTION)
    source_date: str = Field(min_length=1, description=_SOURCE_DATE_DESCRIPTION)
    notes: str | None = Field(None, description="Free-text caveats.")


class CloudPriceHistoryRow(_Row):
    """A dated on-demand list price of one instance type (one point of its history)."""

    provider: str = Field(min_length=1, description="Cloud provider id.")
    region: str = Field(min_length=1, description="Provider region name.")
    instance_type: str = Field(min_length=1, description="Instance (VM) type name.")
    accelerator_model: str = Field(
        min_length=1, description="Key of the accelerator in the accelerators catalog."
    )
    accelerator_count: float = Field(gt=0, description="Accelerators per instance. [-]")
    price_date: dt.date = Field(description="Date the price was observed (ISO date).")
    on_demand_usd_per_accelerator_hour: float = Field(
        gt=0,
        description="On-demand list price per accelerator-hour on that date. [USD/h]",
    )
    currency_year: Year = Field(description="Year whose USD the price is in.")
    source: str = Field(min_length=1, description=_SOURCE_DESCRIPTION)
    source_date: str = Field(min_length=1, description=_SOURCE_DATE_DESCRIPTION)
    notes: str | None = Field(None, description="Free-text caveats.")


# --------------------------------------------------------------------------
# Catalog specifications
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """How one catalog is stored and checked."""

    file_name: str
    row_model: type[_Row]
    key: tuple[str, ...]
    columns: tuple[str, ...]
    references_accelerators: bool = False


_SPECS: dict[str, _Spec] = {
    "cloud_prices": _Spec(
        "cloud_prices.csv",
        CloudPriceRow,
        ("provider", "region", "instance_type"),
        (
            "provider",
            "region",
            "instance_type",
            "accelerator",
            "accelerator_model",
            "accelerator_count",
            "accelerator_memory_gb",
            "vcpus",
            "memory_gb",
            "on_demand_usd_per_hour",
            "spot_usd_per_hour",
            "currency_year",
            "source",
            "source_date",
            "quality_flag",
            "notes",
        ),
        references_accelerators=True,
    ),
    "accelerators": _Spec(
        "accelerators.csv",
        AcceleratorRow,
        ("accelerator_model",),
        (
            "accelerator_model",
            "vendor",
            "model_name",
            "form_factor",
            "cloud_catalog_names",
            "memory_gb",
            "tdp_w",
            "idle_power_w",
            "fp16_bf16_dense_tflops",
            "fp32_tflops",
            "fp8_dense_tflops",
            "memory_bandwidth_gb_per_s",
            "release_year",
            "launch_price_usd",
            "currency_year",
            "relative_throughput",
            "relative_throughput_peak_fp16",
            "throughput_basis",
            "throughput_workload",
            "throughput_source",
            "embodied_co2e_kg",
            "source",
            "source_date",
            "notes",
        ),
    ),
    "servers": _Spec(
        "servers.csv",
        ServerRow,
        ("server",),
        (
            "server",
            "accelerator_model",
            "accelerator_count",
            "accelerator_price_usd",
            "accelerator_price_basis",
            "chip_to_server_factor",
            "server_price_usd",
            "price_basis",
            "cluster_overhead_fraction",
            "max_power_w",
            "idle_power_w",
            "embodied_co2e_kg",
            "rack_units",
            "currency_year",
            "source",
            "source_date",
            "notes",
        ),
        references_accelerators=True,
    ),
    "commitment_discounts": _Spec(
        "commitment_discounts.csv",
        CommitmentDiscountRow,
        ("provider", "term_years", "purchase_option"),
        (
            "provider",
            "term_years",
            "purchase_option",
            "is_default",
            "discount_fraction",
            "discount_low_fraction",
            "discount_high_fraction",
            "basis",
            "source",
            "source_date",
            "notes",
        ),
    ),
    "grid_intensity": _Spec(
        "grid_intensity.csv",
        GridIntensityRow,
        (
            "scope",
            "country_iso2",
            "subdivision_code",
            "provider",
            "cloud_region",
            "year",
            "dataset",
        ),
        (
            "scope",
            "country_iso2",
            "country_iso3",
            "subdivision_code",
            "name",
            "provider",
            "cloud_region",
            "co2e_g_per_kwh",
            "year",
            "preferred",
            "dataset",
            "source",
            "source_date",
            "notes",
        ),
    ),
    "pue": _Spec(
        "pue.csv",
        PueRow,
        ("facility", "region", "year"),
        (
            "facility",
            "facility_type",
            "region",
            "pue",
            "year",
            "preferred",
            "source",
            "source_date",
            "notes",
        ),
    ),
    "electricity_prices": _Spec(
        "electricity_prices.csv",
        ElectricityPriceRow,
        (
            "scope",
            "country_iso2",
            "subdivision_code",
            "sector",
            "consumption_band",
            "tax_basis",
            "period",
        ),
        (
            "scope",
            "country_iso2",
            "subdivision_code",
            "name",
            "sector",
            "consumption_band",
            "tax_basis",
            "price_local_currency_per_kwh",
            "currency",
            "price_usd_per_kwh",
            "usd_per_local_currency",
            "year",
            "period",
            "currency_year",
            "source",
            "source_date",
            "notes",
        ),
    ),
    "cloud_price_history": _Spec(
        "cloud_price_history.csv",
        CloudPriceHistoryRow,
        ("provider", "region", "instance_type", "price_date"),
        (
            "provider",
            "region",
            "instance_type",
            "accelerator_model",
            "accelerator_count",
            "price_date",
            "on_demand_usd_per_accelerator_hour",
            "currency_year",
            "source",
            "source_date",
            "notes",
        ),
        references_accelerators=True,
    ),
}


def _spec(name: str) -> _Spec:
    """Return the spec of a catalog or raise CatalogError for an unknown name."""
    try:
        return _SPECS[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), CATALOG_NAMES, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        msg = (
            f"catalog:0:name: unknown catalog name {name!r}; expected one of "
            f"{', '.join(CATALOG_NAMES)}{hint}"
        )
        raise CatalogError([msg]) from None


def catalog_key(name: str) -> tuple[str, ...]:
    """Return the key columns of a catalog.

    Parameters
    ----------
    name : str
        One of :data:`CATALOG_NAMES`.

    Returns
    -------
    tuple of str
        Columns whose values identify a row uniquely; an overlay row with the
        same key replaces the shipped row.

    Raises
    ------
    CatalogError
        If ``name`` is not a catalog.

    Examples
    --------
    >>> catalog_key("cloud_prices")
    ('provider', 'region', 'instance_type')
    """
    return _spec(name).key


# --------------------------------------------------------------------------
# Parsing and validation
# --------------------------------------------------------------------------


def _describe(error: ErrorDetails) -> str:
    """Turn one pydantic error into a short reason."""
    value = error.get("input")
    if error["type"] == "missing" or value is None:
        return "value required, cell is blank"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in {"value_error", "assertion_error"}:
        return message
    return f"{message}, got {_excerpt(value)}"


MESSAGE_EXCERPT_CHARACTERS = 60
"""Most characters of a user's value quoted in a message: enough to recognise
it, never a whole cell of a hostile file. [-]"""


def _excerpt(value: object) -> str:
    """A short, single-line repr of a value for a message."""
    text = repr(value).replace("\n", " ").replace("\r", " ")
    limit = MESSAGE_EXCERPT_CHARACTERS
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _close_matches(value: str, candidates: Sequence[str]) -> str:
    """Return a '; close matches: ...' hint, or '' when there is none."""
    lowered = value.lower()
    containing = [item for item in candidates if lowered and lowered in item.lower()]
    close = difflib.get_close_matches(value, list(candidates), n=5, cutoff=0.5)
    merged = list(dict.fromkeys([*containing, *close]))[:5]
    return f"; close matches: {', '.join(merged)}" if merged else ""


def _key_of(row: Mapping[Any, Any], key: Sequence[str]) -> tuple[Any, ...]:
    """Key tuple of a row, with every missing value normalised to None."""
    return tuple(None if _isna(row.get(column)) else row.get(column) for column in key)


def _isna(value: Any) -> bool:
    """True for None and NaN-like scalars."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _parse(
    text: str,
    spec: _Spec,
    file_label: str,
    *,
    overlay_defaults: Mapping[str, str] | None = None,
    accelerator_models: frozenset[str] | None = None,
) -> tuple[list[_Row], list[str]]:
    """Validate a CSV text; return the valid rows and all problems found."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        return [], [f"{file_label}:1:-: empty file, expected a header line"]
    except csv.Error as err:
        return [], [f"{file_label}:1:-: unreadable CSV header: {err}"]

    problems: list[str] = []
    known = set(spec.columns)
    seen_columns: set[str] = set()
    for column in header:
        if column not in known:
            problems.append(f"{file_label}:1:{column or '-'}: unknown column")
        elif column in seen_columns:
            problems.append(f"{file_label}:1:{column}: duplicate column")
        seen_columns.add(column)
    missing = [column for column in spec.columns if column not in seen_columns]
    problems.extend(f"{file_label}:1:{column}: missing column" for column in missing)

    rows: list[_Row] = []
    first_line_of_key: dict[tuple[str | None, ...], int] = {}
    default_line: dict[tuple[Any, ...], int] = {}
    key_label = "+".join(spec.key)
    for cells in _cells(reader, file_label, problems):
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                f"{file_label}:{line}:-: expected {len(header)} cells, "
                f"found {len(cells)}"
            )
            continue
        if any("\n" in cell or "\r" in cell for cell in cells):
            # A catalog cell never spans lines: a stray quote has swallowed the
            # rows after it. Report it rather than merging records.
            problems.append(
                f"{file_label}:{line}:-: a cell spans several lines (an unclosed "
                "quote?); rows were not merged"
            )
            continue
        record = {
            column: cell
            for column, cell in zip(header, cells, strict=True)
            if column in known
        }
        for column, default in (overlay_defaults or {}).items():
            if column in record and not record[column].strip():
                record[column] = default
        duplicate = False
        if not any(column in missing for column in spec.key):
            # Compare the raw cells, so that duplicates are found even in rows
            # that fail validation for another reason.
            raw_key = tuple(record[column].strip() or None for column in spec.key)
            if raw_key in first_line_of_key:
                duplicate = True
                problems.append(
                    f"{file_label}:{line}:{key_label}: duplicate key {raw_key!r}, "
                    f"first on line {first_line_of_key[raw_key]}"
                )
            else:
                first_line_of_key[raw_key] = line
        try:
            row = spec.row_model.model_validate(record)
        except ValidationError as err:
            for error in err.errors():
                column = str(error["loc"][0]) if error["loc"] else "-"
                if column not in missing:
                    problems.append(f"{file_label}:{line}:{column}: {_describe(error)}")
            continue
        if duplicate:
            continue

        values = row.model_dump()

        if isinstance(row, CommitmentDiscountRow) and row.is_default:
            provider_term = (row.provider, row.term_years)
            if provider_term in default_line:
                problems.append(
                    f"{file_label}:{line}:is_default: a second default row for "
                    f"{provider_term!r}, first on line {default_line[provider_term]}"
                )
                continue
            default_line[provider_term] = line

        model = values.get("accelerator_model")
        if (
            spec.references_accelerators
            and accelerator_models is not None
            and model not in accelerator_models
        ):
            problems.append(
                f"{file_label}:{line}:accelerator_model: unknown accelerator_model "
                f"{model!r}{_close_matches(str(model), sorted(accelerator_models))}"
            )
            continue
        rows.append(row)
    return rows, problems


def _cells(
    reader: Any, file_label: str, problems: list[str]
) -> typing.Iterator[list[str]]:
    """Rows of a csv reader; an unreadable row (e.g. an over-long cell) is a problem."""
    while True:
        try:
            cells: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            problems.append(f"{file_label}:{reader.line_num}:-: unreadable row: {err}")
            continue
        yield cells


def _base_type(annotation: Any) -> Any:
    """Strip Annotated and Optional from a field annotation."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _base_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _base_type(inner[0])
    if origin is Literal:
        return str
    return annotation


def _is_optional(annotation: Any) -> bool:
    """True if the annotation admits None."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _is_optional(typing.get_args(annotation)[0])
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(
        annotation
    )


def _frame(rows: Sequence[_Row], spec: _Spec, *, user_supplied: bool) -> pd.DataFrame:
    """Build a typed DataFrame (columns in file order) from validated rows."""
    frame = pd.DataFrame.from_records(
        [row.model_dump() for row in rows], columns=list(spec.columns)
    )
    for name, field in spec.row_model.model_fields.items():
        kind = _base_type(field.annotation)
        if kind is float:
            frame[name] = frame[name].astype("float64")
        elif kind is int:
            frame[name] = frame[name].astype(
                "Int64" if _is_optional(field.annotation) else "int64"
            )
        elif kind is bool:
            frame[name] = frame[name].astype("bool")
        else:
            frame[name] = frame[name].astype("str")
    frame["user_supplied"] = user_supplied
    return frame


def _read_shipped(spec: _Spec) -> str:
    """Read a shipped CSV through importlib.resources (works from a wheel)."""
    resource = resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR, spec.file_name)
    return resource.read_text(encoding="utf-8")


@cache
def _shipped_accelerator_models() -> frozenset[str]:
    """Keys of the shipped accelerators catalog."""
    return frozenset(
        str(model) for model in _shipped_frame("accelerators")["accelerator_model"]
    )


@cache
def _shipped_frame(name: str) -> pd.DataFrame:
    """Validated shipped catalog; cached, private, never handed out (copies are)."""
    spec = _spec(name)
    models = _shipped_accelerator_models() if spec.references_accelerators else None
    rows, problems = _parse(
        _read_shipped(spec), spec, spec.file_name, accelerator_models=models
    )
    if problems:
        raise CatalogError(problems)
    return _frame(rows, spec, user_supplied=False)


def parse_catalog_text(
    name: str,
    text: str,
    *,
    label: str,
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """Validate a whole catalog held as text (a refreshed file before it is written).

    The same checks as the shipped files get (schema, ranges, unique keys,
    known accelerators of ``catalog``), so that a new file is never written
    unless it would load.

    Parameters
    ----------
    name : str
        One of :data:`CATALOG_NAMES`.
    text : str
        CSV text with the catalog's columns.
    label : str
        File name for messages.
    catalog : Catalog, optional
        Supplies the known accelerators (default: the shipped catalogs).

    Returns
    -------
    pandas.DataFrame
        The rows, as :func:`load_catalog` returns them (``user_supplied``
        False).

    Raises
    ------
    CatalogError
        With one ``file:line:column: why`` line per problem.

    Examples
    --------
    >>> try:
    ...     parse_catalog_text("pue", "facility,colour", label="x.csv")
    ... except CatalogError as error:
    ...     print(error.problems[0])
    x.csv:1:colour: unknown column
    """
    spec = _spec(name)
    models: frozenset[str] | None = None
    if spec.references_accelerators:
        accelerators = (catalog or Catalog()).frame("accelerators")
        models = frozenset(str(m) for m in accelerators["accelerator_model"])
    rows, problems = _parse(text, spec, label, accelerator_models=models)
    if problems:
        raise CatalogError(problems)
    return _frame(rows, spec, user_supplied=False)


MAX_OVERLAY_CHARACTERS = 5_000_000
"""Largest overlay accepted, in characters (about 5 MB): a catalog overlay is a
quote or a tariff, not a data dump; the bound keeps one request small. [-]"""


@dataclass(frozen=True)
class Overlay:
    """A user's CSV for one catalog, held as text (never re-read from a path)."""

    catalog: str
    """Catalog it overlays (one of :data:`CATALOG_NAMES`)."""
    label: str
    """File name shown in messages and in the rows' default ``source``."""
    text: str
    """CSV content with the catalog's columns."""


def _overlay_rows(
    overlay: Overlay, accelerator_models: frozenset[str] | None
) -> pd.DataFrame:
    """Validate an overlay for its catalog; raise CatalogError on any problem."""
    spec = _spec(overlay.catalog)
    if len(overlay.text) > MAX_OVERLAY_CHARACTERS:
        msg = (
            f"{overlay.label}:0:-: overlay larger than {MAX_OVERLAY_CHARACTERS:,} "
            "characters"
        )
        raise CatalogError([msg])
    defaults = {
        "source": f"{_OVERLAY_SOURCE_PREFIX}{overlay.label}",
        "source_date": dt.date.today().isoformat(),
    }
    models = accelerator_models if spec.references_accelerators else None
    rows, problems = _parse(
        overlay.text,
        spec,
        overlay.label,
        overlay_defaults=defaults,
        accelerator_models=models,
    )
    if problems:
        raise CatalogError(problems)
    return _frame(rows, spec, user_supplied=True)


def read_overlay_file(
    path: str | os.PathLike[str], catalog_name: str | None = None
) -> Overlay:
    """Read a user's overlay CSV from disk (the command line; the app never does).

    Parameters
    ----------
    path : str or os.PathLike
        CSV file.
    catalog_name : str, optional
        Catalog it overlays; by default the one whose columns match the header
        (:func:`overlay_catalog_name`).

    Returns
    -------
    Overlay
        The file's text, labelled with its name.

    Raises
    ------
    CatalogError
        If the file cannot be read, is too large, or matches no catalog.
    """
    file = Path(path)
    try:
        if file.exists() and not file.is_file():
            msg = f"{file.name}:0:-: cannot read overlay file: not a regular file"
            raise CatalogError([msg])
        if file.exists() and file.stat().st_size > MAX_OVERLAY_CHARACTERS * 4:
            msg = f"{file.name}:0:-: overlay larger than {MAX_OVERLAY_CHARACTERS:,} "
            raise CatalogError([msg + "characters"])
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        msg = f"{file.name}:0:-: cannot read overlay file: {err}"
        raise CatalogError([msg]) from None
    name = catalog_name or overlay_catalog_name(text, label=file.name)
    return Overlay(catalog=name, label=file.name, text=text)


def overlay_catalog_name(text: str, *, label: str = "overlay") -> str:
    """Name of the catalog whose columns an overlay's header matches.

    Parameters
    ----------
    text : str
        CSV text; only its first line is read.
    label : str, default "overlay"
        File name for the message.

    Returns
    -------
    str
        The one catalog whose column set equals the header's.

    Raises
    ------
    CatalogError
        If no catalog, or more than one, has exactly these columns.

    Examples
    --------
    >>> overlay_catalog_name("pue,facility,facility_type,region,year,preferred,"
    ...                      "source,source_date,notes")
    'pue'
    """
    first = text.lstrip("\ufeff").splitlines()[:1]
    try:
        header = {cell.strip() for cell in next(csv.reader(first))} if first else set()
    except (csv.Error, StopIteration):
        header = set()
    matches = [name for name, spec in _SPECS.items() if set(spec.columns) == header]
    if len(matches) != 1:
        msg = (
            f"{label}:1:-: the header matches no catalog's columns; give the "
            f"catalog name ({', '.join(CATALOG_NAMES)})"
        )
        raise CatalogError([msg])
    return matches[0]


@dataclass(frozen=True)
class Catalog:
    """The shipped catalogs with a user's overlays applied: one immutable value.

    Every lookup the planner makes goes through one ``Catalog``, so a user's
    quote (an overlay) reaches every answer. Overlays are applied in order, a
    later row winning over an earlier one with the same key; their rows are
    marked ``user_supplied``. Frames are cached per (catalog, overlays) in a
    bounded cache keyed by content, and copies are handed out.

    Examples
    --------
    >>> header = ("facility,facility_type,region,pue,year,preferred,source,"
    ...           "source_date,notes")
    >>> row = "aws,hyperscale,,1.0,2025,true,my quote,2026-01-01,"
    >>> mine = Catalog().with_overlay("pue", header + chr(10) + row, label="q.csv")
    >>> Catalog().pue("aws") != mine.pue("aws"), mine.pue("aws")
    (True, 1.0)
    """

    overlays: tuple[Overlay, ...] = ()

    def with_overlay(self, name: str, text: str, *, label: str) -> Catalog:
        """Return a catalog with one more overlay, validated now.

        Parameters
        ----------
        name : str
            Catalog overlaid.
        text : str
            CSV text with the catalog's columns.
        label : str
            File name for messages.

        Returns
        -------
        Catalog
            A new catalog; ``self`` is unchanged.

        Raises
        ------
        CatalogError
            With one ``file:row:column: why`` line per problem.
        """
        candidate = Catalog((*self.overlays, Overlay(name, label, text)))
        candidate.frame(name)  # validate now, so a bad overlay never lands
        return candidate

    def with_overlays(self, overlays: Sequence[Overlay]) -> Catalog:
        """Return a catalog with several overlays, each validated.

        Parameters
        ----------
        overlays : sequence of Overlay
            In order of precedence (later wins).

        Returns
        -------
        Catalog
            A new catalog.

        Raises
        ------
        CatalogError
            With every problem of every overlay.
        """
        problems: list[str] = []
        current = self
        for overlay in overlays:
            try:
                current = current.with_overlay(
                    overlay.catalog, overlay.text, label=overlay.label
                )
            except CatalogError as error:
                problems.extend(error.problems)
        if problems:
            raise CatalogError(problems)
        return current

    @property
    def user_supplied(self) -> bool:
        """Return True when any overlay is applied."""
        return bool(self.overlays)

    def frame(self, name: str) -> pd.DataFrame:
        """Return one catalog with this catalog's overlays, as a fresh copy.

        Parameters
        ----------
        name : str
            One of :data:`CATALOG_NAMES`.

        Returns
        -------
        pandas.DataFrame
            As :func:`load_catalog`.
        """
        return self._cached(name).copy(deep=True)

    def _cached(self, name: str) -> pd.DataFrame:
        mine = tuple(o for o in self.overlays if o.catalog == name)
        if not mine:
            _spec(name)
            return _shipped_frame(name)
        models: frozenset[str] | None = None
        if _spec(name).references_accelerators:
            accelerators = self._cached("accelerators")
            models = frozenset(str(m) for m in accelerators["accelerator_model"])
        return _overlaid_frame(name, mine, models)

    def accelerator(self, model: str) -> pd.Series:
        """Row of one accelerator (see :func:`accelerator`)."""
        return _lookup(self, "accelerator", (model,)).copy()

    def server(self, name: str) -> pd.Series:
        """Row of one server (see :func:`server`)."""
        return _lookup(self, "server", (name,)).copy()

    def cloud_offer(self, provider: str, region: str, instance_type: str) -> pd.Series:
        """Row of one cloud offer (see :func:`cloud_offer`)."""
        return _lookup(self, "cloud_offer", (provider, region, instance_type)).copy()

    def servers_with(self, model: str) -> pd.DataFrame:
        """Catalog servers built around one accelerator model, in catalog order."""
        return _servers_with(self, model).copy()

    def default_cloud_offers(self) -> pd.DataFrame:
        """Offers fit for default use (see :func:`default_cloud_offers`)."""
        return _default_offers_in(self._cached("cloud_prices"))

    def commitment_discount(self, provider: str, term_years: int) -> pd.Series:
        """Default commitment-discount row (see :func:`commitment_discount`)."""
        return _lookup(self, "commitment_discount", (provider, term_years)).copy()

    def grid_intensity_co2e_g_per_kwh(
        self,
        *,
        country_iso2: str | None = None,
        subdivision_code: str | None = None,
        provider: str | None = None,
        cloud_region: str | None = None,
    ) -> float:
        """Grid intensity of a place (see :func:`grid_intensity_co2e_g_per_kwh`)."""
        return _grid_sourced_lookup(
            self, country_iso2, subdivision_code, provider, cloud_region
        ).value

    def pue(self, facility: str, *, region: str | None = None) -> float:
        """PUE of a facility or provider (see :func:`pue`)."""
        return _pue_lookup(self, facility, region)

    def grid_intensity(
        self,
        *,
        country_iso2: str | None = None,
        subdivision_code: str | None = None,
        provider: str | None = None,
        cloud_region: str | None = None,
    ) -> SourcedValue:
        """Grid intensity with year and source (see :func:`grid_intensity`)."""
        return _grid_sourced_lookup(
            self, country_iso2, subdivision_code, provider, cloud_region
        )

    def electricity_price(
        self,
        *,
        country_iso2: str | None = None,
        subdivision_code: str | None = None,
        sector: str = "commercial",
    ) -> SourcedValue:
        """Electricity price with years and source (see :func:`electricity_price`)."""
        return _electricity_sourced_lookup(self, country_iso2, subdivision_code, sector)

    def places(self, *, sector: str = "commercial") -> pd.DataFrame:
        """Places with both a tariff and a grid intensity (see :func:`places`)."""
        return _places_in(
            self._cached("grid_intensity"),
            self._cached("electricity_prices"),
            sector=sector,
        )


LOOKUP_CACHE_ENTRIES = 1_024
"""Rows kept by the lookup cache (keyed by catalog content and key): a few
kilobytes each, so the bound keeps it under a few megabytes. [-]"""


@lru_cache(maxsize=LOOKUP_CACHE_ENTRIES)
def _lookup(catalog: Catalog, kind: str, key: tuple[Any, ...]) -> pd.Series:
    """One row lookup, cached by the (hashable) catalog and key."""
    if kind == "accelerator":
        return _accelerator_in(catalog._cached("accelerators"), *key)
    if kind == "server":
        return _server_in(catalog._cached("servers"), *key)
    if kind == "cloud_offer":
        return _cloud_offer_in(catalog._cached("cloud_prices"), *key)
    return _commitment_discount_in(catalog._cached("commitment_discounts"), *key)


@lru_cache(maxsize=LOOKUP_CACHE_ENTRIES)
def _servers_with(catalog: Catalog, model: str) -> pd.DataFrame:
    servers = catalog._cached("servers")
    return servers[servers["accelerator_model"] == model]


@lru_cache(maxsize=LOOKUP_CACHE_ENTRIES)
def _grid_sourced_lookup(
    catalog: Catalog,
    country_iso2: str | None,
    subdivision_code: str | None,
    provider: str | None,
    cloud_region: str | None,
) -> SourcedValue:
    return _grid_sourced(
        _grid_row(
            catalog._cached("grid_intensity"),
            country_iso2=country_iso2,
            subdivision_code=subdivision_code,
            provider=provider,
            cloud_region=cloud_region,
        )
    )


@lru_cache(maxsize=LOOKUP_CACHE_ENTRIES)
def _electricity_sourced_lookup(
    catalog: Catalog,
    country_iso2: str | None,
    subdivision_code: str | None,
    sector: str,
) -> SourcedValue:
    # Ranking the sector's rows sorts the whole table: worth keeping.
    return _electricity_sourced(
        _electricity_row(
            catalog._cached("electricity_prices"),
            country_iso2=country_iso2,
            subdivision_code=subdivision_code,
            sector=sector,
        )
    )


@lru_cache(maxsize=LOOKUP_CACHE_ENTRIES)
def _pue_lookup(catalog: Catalog, facility: str, region: str | None) -> float:
    return _pue_in(catalog._cached("pue"), facility, region=region)


@lru_cache(maxsize=32)
def _overlaid_frame(
    name: str, overlays: tuple[Overlay, ...], models: frozenset[str] | None
) -> pd.DataFrame:
    """Shipped catalog with overlays merged; keyed by content, bounded."""
    spec = _spec(name)
    frame = _shipped_frame(name)
    for overlay in overlays:
        frame = _merge(frame, _overlay_rows(overlay, models), spec.key)
    return frame


def _catalog_with(name: str, overlay: str | os.PathLike[str] | None) -> Catalog:
    """The shipped catalog, with one overlay file for ``name`` when given."""
    if overlay is None:
        return Catalog()
    return Catalog().with_overlays([read_overlay_file(overlay, name)])


def _merge(base: pd.DataFrame, over: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """Replace base rows that share a key with an overlay row; append the rest."""
    base_keys = [_key_of(row, key) for row in base[list(key)].to_dict("records")]
    over_keys = [_key_of(row, key) for row in over[list(key)].to_dict("records")]
    over_position = {row_key: position for position, row_key in enumerate(over_keys)}
    offset = len(base)
    order: list[int] = []
    used: set[int] = set()
    for position, row_key in enumerate(base_keys):
        if row_key in over_position:
            used.add(over_position[row_key])
            order.append(offset + over_position[row_key])
        else:
            order.append(position)
    order.extend(
        offset + position for position in range(len(over)) if position not in used
    )
    combined = pd.concat([base, over], ignore_index=True)
    return combined.iloc[order].reset_index(drop=True)


def load_catalog(
    name: str, *, overlay: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Return a validated catalog as a new DataFrame, optionally with a user overlay.

    Parameters
    ----------
    name : str
        One of :data:`CATALOG_NAMES`.
    overlay : str or os.PathLike, optional
        CSV file with the same columns as the catalog. Its rows replace
        shipped rows with the same key (see :func:`catalog_key`) and new keys
        are appended. Blank ``source`` and ``source_date`` cells in the
        overlay become ``"user overlay <file name>"`` and today's date.

    Returns
    -------
    pandas.DataFrame
        One row per item, columns in file order plus a bool column
        ``user_supplied`` (False for shipped rows). A fresh copy on each call.

    Raises
    ------
    CatalogError
        If ``name`` is unknown or the overlay has any problem (missing or
        unknown column, non-numeric cell, value out of range, duplicate key,
        unknown ``accelerator_model`` ...); all problems are listed. The
        shipped catalog stays usable.

    Examples
    --------
    >>> prices = load_catalog("cloud_prices")
    >>> row = prices.query("instance_type == 'p4d.24xlarge' and region == 'us-east-1'")
    >>> round(float(row["on_demand_usd_per_hour"].iloc[0]), 2)
    21.96
    >>> bool(prices["user_supplied"].any())
    False
    """
    _spec(name)
    return _catalog_with(name, overlay).frame(name)


# --------------------------------------------------------------------------
# Lookups
# --------------------------------------------------------------------------


def _first(frame: pd.DataFrame) -> pd.Series:
    """First row of a non-empty frame as a Series."""
    row: pd.Series = frame.iloc[0]
    return row


def _rank(frame: pd.DataFrame, *, by: Sequence[str]) -> pd.DataFrame:
    """Sort candidate rows best first: user rows, then by the given columns."""
    columns = ["user_supplied", *by]
    return frame.sort_values(
        columns, ascending=[False] * len(columns), na_position="last", kind="stable"
    )


def accelerator(
    model: str, *, overlay: str | os.PathLike[str] | None = None
) -> pd.Series:
    """Return the catalog row of one accelerator.

    Parameters
    ----------
    model : str
        Value of ``accelerator_model``, e.g. ``"H100-80GB-SXM5"``.
    overlay : str or os.PathLike, optional
        Overlay file for the accelerators catalog (see :func:`load_catalog`).

    Returns
    -------
    pandas.Series
        The row, indexed by column name.

    Raises
    ------
    UnknownCatalogItemError
        If no accelerator has that id; the message lists close matches.

    Examples
    --------
    >>> a100 = accelerator("A100-80GB-SXM4")
    >>> float(a100["relative_throughput"]), float(a100["tdp_w"])
    (1.0, 400.0)
    """
    return _catalog_with("accelerators", overlay).accelerator(model)


def _accelerator_in(frame: pd.DataFrame, model: str) -> pd.Series:
    match = frame[frame["accelerator_model"] == model]
    if match.empty:
        msg = f"unknown accelerator_model {model!r}" + _close_matches(
            model, frame["accelerator_model"].tolist()
        )
        raise UnknownCatalogItemError(msg)
    return _first(match)


def server(name: str, *, overlay: str | os.PathLike[str] | None = None) -> pd.Series:
    """Return the catalog row of one on-premises server configuration.

    Parameters
    ----------
    name : str
        Value of ``server``, e.g. ``"8xH100-SXM"``.
    overlay : str or os.PathLike, optional
        Overlay file for the servers catalog (see :func:`load_catalog`).

    Returns
    -------
    pandas.Series
        The row, indexed by column name.

    Raises
    ------
    UnknownCatalogItemError
        If no server has that name; the message lists close matches.

    Examples
    --------
    >>> dgx = server("8xH100-SXM")
    >>> float(dgx["server_price_usd"]), int(dgx["accelerator_count"])
    (308000.0, 8)
    >>> float(server("8xGTX1080Ti-2019")["server_price_usd"])  # Strubell et al. 2019
    20000.0
    """
    return _catalog_with("servers", overlay).server(name)


def _server_in(frame: pd.DataFrame, name: str) -> pd.Series:
    match = frame[frame["server"] == name]
    if match.empty:
        msg = f"unknown server {name!r}" + _close_matches(
            name, frame["server"].tolist()
        )
        raise UnknownCatalogItemError(msg)
    return _first(match)


def cloud_offer(
    provider: str,
    region: str,
    instance_type: str,
    *,
    overlay: str | os.PathLike[str] | None = None,
) -> pd.Series:
    """Return the price row of one instance type in one region.

    Parameters
    ----------
    provider : str
        Provider id, e.g. ``"aws"``.
    region : str
        Provider region, e.g. ``"us-east-1"``.
    instance_type : str
        Instance type, e.g. ``"p4d.24xlarge"``.
    overlay : str or os.PathLike, optional
        Overlay file for the cloud_prices catalog (see :func:`load_catalog`).

    Returns
    -------
    pandas.Series
        The row, indexed by column name. Prices are per instance-hour.

    Raises
    ------
    UnknownCatalogItemError
        If there is no such offer; the message lists close matches.

    Examples
    --------
    >>> offer = cloud_offer("azure", "eastus", "Standard_ND96amsr_A100_v4")
    >>> float(offer["on_demand_usd_per_hour"]), float(offer["accelerator_count"])
    (32.77, 8.0)
    """
    return _catalog_with("cloud_prices", overlay).cloud_offer(
        provider, region, instance_type
    )


def _cloud_offer_in(
    frame: pd.DataFrame, provider: str, region: str, instance_type: str
) -> pd.Series:
    same_provider = frame["provider"] == provider
    same_region = same_provider & (frame["region"] == region)
    match = frame[same_region & (frame["instance_type"] == instance_type)]
    if not match.empty:
        return _first(match)
    if not same_provider.any():
        hint = _close_matches(provider, sorted(set(frame["provider"])))
        msg = f"unknown cloud provider {provider!r}{hint}"
    elif not same_region.any():
        hint = _close_matches(region, sorted(set(frame.loc[same_provider, "region"])))
        msg = f"no {provider} offers in region {region!r}{hint}"
    else:
        hint = _close_matches(
            instance_type, sorted(set(frame.loc[same_region, "instance_type"]))
        )
        msg = (
            f"no {provider} instance type {instance_type!r} in region {region!r}{hint}"
        )
    raise UnknownCatalogItemError(msg)


def default_cloud_offers(
    *, overlay: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Return the cloud offers fit for default use.

    These are the rows with an on-demand price and without an upstream
    ``quality_flag`` (suspect prices and spot-above-on-demand rows are left out).

    Parameters
    ----------
    overlay : str or os.PathLike, optional
        Overlay file for the cloud_prices catalog (see :func:`load_catalog`).

    Returns
    -------
    pandas.DataFrame
        Subset of the cloud_prices catalog, re-indexed from 0.

    Examples
    --------
    >>> offers = default_cloud_offers()
    >>> bool(offers["quality_flag"].isna().all())
    True
    """
    return _catalog_with("cloud_prices", overlay).default_cloud_offers()


def _default_offers_in(frame: pd.DataFrame) -> pd.DataFrame:
    usable = frame["quality_flag"].isna() & frame["on_demand_usd_per_hour"].notna()
    return frame[usable].reset_index(drop=True)


def commitment_discount(
    provider: str,
    term_years: int,
    *,
    overlay: str | os.PathLike[str] | None = None,
) -> pd.Series:
    """Return the default commitment-discount row for a provider and term.

    Parameters
    ----------
    provider : str
        Provider id, e.g. ``"gcp"``.
    term_years : int
        Commitment term. [years]
    overlay : str or os.PathLike, optional
        Overlay file for the commitment_discounts catalog; a user-supplied
        default row wins over the shipped one.

    Returns
    -------
    pandas.Series
        The row; ``discount_fraction`` is the share taken off on-demand
        prices. [0-1]

    Raises
    ------
    UnknownCatalogItemError
        If there is no default row for that provider and term.

    Examples
    --------
    >>> float(commitment_discount("gcp", 1)["discount_fraction"])
    0.37
    """
    return _catalog_with("commitment_discounts", overlay).commitment_discount(
        provider, term_years
    )


def _commitment_discount_in(
    frame: pd.DataFrame, provider: str, term_years: int
) -> pd.Series:
    match = frame[
        (frame["provider"] == provider)
        & (frame["term_years"] == term_years)
        & frame["is_default"]
    ]
    if match.empty:
        providers = sorted(set(frame["provider"]))
        terms = sorted(
            {
                int(term)
                for term in frame.loc[frame["provider"] == provider, "term_years"]
            }
        )
        msg = (
            f"no default commitment discount for provider {provider!r} and "
            f"term_years={term_years!r}; terms for this provider: {terms}"
            + _close_matches(provider, providers)
        )
        raise UnknownCatalogItemError(msg)
    return _first(_rank(match, by=[]))


def grid_intensity_co2e_g_per_kwh(
    *,
    country_iso2: str | None = None,
    subdivision_code: str | None = None,
    provider: str | None = None,
    cloud_region: str | None = None,
    overlay: str | os.PathLike[str] | None = None,
) -> float:
    """Return the carbon intensity of electricity for a place.

    The most specific argument given decides the level: a cloud region
    (optionally narrowed by provider), else a subdivision (e.g. ``"US-CA"``),
    else a country, else the world average. Among matching rows the
    user-supplied one wins, then the row marked ``preferred``, then the most
    recent year.

    Parameters
    ----------
    country_iso2 : str, optional
        ISO 3166-1 alpha-2 code, e.g. ``"DE"``.
    subdivision_code : str, optional
        ISO 3166-2 code, e.g. ``"US-CA"``.
    provider : str, optional
        Cloud provider id; only with ``cloud_region``.
    cloud_region : str, optional
        Cloud region name, e.g. ``"europe-west4"``.
    overlay : str or os.PathLike, optional
        Overlay file for the grid_intensity catalog.

    Returns
    -------
    float
        Location-based emissions per kWh. [g CO2e/kWh]

    Raises
    ------
    ValueError
        If ``provider`` is given without ``cloud_region``.
    UnknownCatalogItemError
        If no row matches; the message lists close matches.

    Examples
    --------
    >>> world = grid_intensity_co2e_g_per_kwh()
    >>> 300 < world < 600
    True
    """
    return _catalog_with("grid_intensity", overlay).grid_intensity_co2e_g_per_kwh(
        country_iso2=country_iso2,
        subdivision_code=subdivision_code,
        provider=provider,
        cloud_region=cloud_region,
    )


def _grid_row(
    frame: pd.DataFrame,
    *,
    country_iso2: str | None,
    subdivision_code: str | None,
    provider: str | None,
    cloud_region: str | None,
) -> pd.Series:
    """Best grid-intensity row for a place (see grid_intensity_co2e_g_per_kwh)."""
    if cloud_region is not None:
        mask = (frame["scope"] == "cloud_region") & (
            frame["cloud_region"] == cloud_region
        )
        if provider is not None:
            mask &= frame["provider"] == provider.lower()
        wanted, column = cloud_region, "cloud_region"
    elif provider is not None:
        msg = f"provider={provider!r} needs cloud_region as well"
        raise ValueError(msg)
    elif subdivision_code is not None:
        mask = (frame["scope"] == "subnational") & (
            frame["subdivision_code"] == subdivision_code.upper()
        )
        wanted, column = subdivision_code, "subdivision_code"
    elif country_iso2 is not None:
        mask = (frame["scope"] == "country") & (
            frame["country_iso2"] == country_iso2.upper()
        )
        wanted, column = country_iso2, "country_iso2"
    else:
        mask = frame["scope"] == "world"
        wanted, column = "world", "scope"
    match = frame[mask]
    if match.empty:
        candidates = sorted({str(value) for value in frame[column].dropna()})
        msg = f"no grid intensity for {column}={wanted!r}" + _close_matches(
            str(wanted), candidates
        )
        raise UnknownCatalogItemError(msg)
    return _first(_rank(match, by=["preferred", "year"]))


def _int_or_none(value: Any) -> int | None:
    """An integer cell as int, a missing one as None."""
    return None if _isna(value) else int(value)


def _grid_sourced(row: pd.Series) -> SourcedValue:
    """A grid-intensity row as a SourcedValue."""
    return SourcedValue(
        value=float(row["co2e_g_per_kwh"]),
        unit=GRID_INTENSITY_UNIT,
        year=_int_or_none(row["year"]),
        currency_year=None,
        source=f"{row['source']} [{row['name']}; dataset {row['dataset']}]",
        source_date=str(row["source_date"]),
        user_supplied=bool(row["user_supplied"]),
    )


def grid_intensity(
    *,
    country_iso2: str | None = None,
    subdivision_code: str | None = None,
    provider: str | None = None,
    cloud_region: str | None = None,
    overlay: str | os.PathLike[str] | None = None,
) -> SourcedValue:
    """Return the carbon intensity of electricity for a place, with its data year.

    The same row as :func:`grid_intensity_co2e_g_per_kwh` (the most specific
    argument decides the level; user rows win, then ``preferred``, then the
    newest year), returned with its unit, data year and source.

    Parameters
    ----------
    country_iso2 : str, optional
        ISO 3166-1 alpha-2 code, e.g. ``"DE"``.
    subdivision_code : str, optional
        ISO 3166-2 code, e.g. ``"US-MA"``.
    provider : str, optional
        Cloud provider id; only with ``cloud_region``.
    cloud_region : str, optional
        Cloud region name, e.g. ``"europe-west4"``.
    overlay : str or os.PathLike, optional
        Overlay file for the grid_intensity catalog.

    Returns
    -------
    SourcedValue
        ``value`` in g CO2e/kWh (location-based), ``year`` the data year (None
        when the source gives none), ``currency_year`` None.

    Raises
    ------
    ValueError
        If ``provider`` is given without ``cloud_region``.
    UnknownCatalogItemError
        If no row matches; the message lists close matches.

    Examples
    --------
    >>> world = grid_intensity()
    >>> world.unit, world.year >= 2019, world.currency_year is None
    ('g CO2e/kWh', True, True)
    """
    return _catalog_with("grid_intensity", overlay).grid_intensity(
        country_iso2=country_iso2,
        subdivision_code=subdivision_code,
        provider=provider,
        cloud_region=cloud_region,
    )


_BAND_PREFERENCE: tuple[str, ...] = (
    "all customers",
    "all bands",
    "band IC",
    "band ID",
    "band IB",
    "band IE",
    "band IA",
    "band IF",
    "band IG",
)
"""Consumption bands in order of preference when a place has several rows: the
sector average first (the only band of the EIA rows), then Eurostat's bands
from IC/ID (0.5-20 GWh/yr, a 0.1-1 MW cluster) outwards."""


def _band_rank(band: Any) -> int:
    """Position of a consumption band in :data:`_BAND_PREFERENCE` (unknown last)."""
    text = str(band)
    for position, prefix in enumerate(_BAND_PREFERENCE):
        if prefix in text:
            return position
    return len(_BAND_PREFERENCE)


def _sector_words(sector: Any) -> set[str]:
    """Lower-case words of a sector label ('non-household (industrial/commercial)')."""
    return {word for word in re.split(r"[^a-z]+", str(sector).lower()) if word}


def _ranked_electricity(frame: pd.DataFrame, sector: str) -> pd.DataFrame:
    """Rows of one sector, best first: user rows, newest year, preferred band."""
    wanted = sector.strip().lower()
    in_sector = frame["sector"].map(lambda value: wanted in _sector_words(value))
    rows = frame[in_sector.astype(bool)].copy()
    rows["_band_rank"] = rows["consumption_band"].map(_band_rank)
    rows = rows.sort_values(
        ["user_supplied", "year", "_band_rank"],
        ascending=[False, False, True],
        kind="stable",
    )
    return rows.drop(columns="_band_rank")


def _electricity_row(
    frame: pd.DataFrame,
    *,
    country_iso2: str | None,
    subdivision_code: str | None,
    sector: str,
) -> pd.Series:
    """Best electricity-price row for a place and sector."""
    if subdivision_code is not None:
        mask = (frame["scope"] == "subnational") & (
            frame["subdivision_code"] == subdivision_code.upper()
        )
        wanted, column = subdivision_code, "subdivision_code"
    elif country_iso2 is not None:
        mask = (frame["scope"] == "country") & (
            frame["country_iso2"] == country_iso2.upper()
        )
        wanted, column = country_iso2, "country_iso2"
    else:
        msg = "electricity_price needs country_iso2 or subdivision_code"
        raise ValueError(msg)
    place = frame[mask]
    if place.empty:
        candidates = sorted({str(value) for value in frame[column].dropna()})
        msg = f"no electricity price for {column}={wanted!r}" + _close_matches(
            str(wanted), candidates
        )
        raise UnknownCatalogItemError(msg)
    match = _ranked_electricity(place, sector)
    if match.empty:
        sectors = sorted({str(value) for value in place["sector"]})
        msg = (
            f"no electricity price for {column}={wanted!r} and sector={sector!r}; "
            f"sectors there: {', '.join(sectors)}"
        )
        raise UnknownCatalogItemError(msg)
    return _first(match)


def _electricity_sourced(row: pd.Series) -> SourcedValue:
    """An electricity-price row as a SourcedValue."""
    detail = f"{row['name']}, {row['sector']}, {row['consumption_band']}, "
    return SourcedValue(
        value=float(row["price_usd_per_kwh"]),
        unit=ELECTRICITY_PRICE_UNIT,
        year=int(row["year"]),
        currency_year=int(row["currency_year"]),
        source=f"{row['source']} [{detail}{row['period']}]",
        source_date=str(row["source_date"]),
        user_supplied=bool(row["user_supplied"]),
    )


def electricity_price(
    *,
    country_iso2: str | None = None,
    subdivision_code: str | None = None,
    sector: str = "commercial",
    overlay: str | os.PathLike[str] | None = None,
) -> SourcedValue:
    """Return the electricity price of a place, with its data and currency year.

    A subdivision (e.g. a US state, ``"US-MA"``) is looked up when given, else
    the country. A row matches a sector when the sector is one of the words of
    its ``sector`` label, so ``"commercial"`` finds both EIA commercial rows and
    Eurostat non-household rows. Among matching rows the user-supplied one
    wins, then the newest ``year``, then the consumption band in the order of
    :data:`_BAND_PREFERENCE` (sector average first).

    Parameters
    ----------
    country_iso2 : str, optional
        ISO 3166-1 alpha-2 code, e.g. ``"DE"``.
    subdivision_code : str, optional
        ISO 3166-2 code, e.g. ``"US-MA"``; wins over ``country_iso2``.
    sector : str, default "commercial"
        Customer sector, e.g. ``"commercial"`` or ``"industrial"``.
    overlay : str or os.PathLike, optional
        Overlay file for the electricity_prices catalog (e.g. your tariff).

    Returns
    -------
    SourcedValue
        ``value`` in USD/kWh of ``currency_year`` (convert with
        :func:`pricing.finance.real_usd`), ``year`` the data year.

    Raises
    ------
    ValueError
        If neither ``country_iso2`` nor ``subdivision_code`` is given.
    UnknownCatalogItemError
        If the place or the sector has no row; the message lists close matches.

    Examples
    --------
    >>> price = electricity_price(subdivision_code="US-MA")
    >>> price.unit, price.currency_year == price.year
    ('USD/kWh', True)
    """
    return _catalog_with("electricity_prices", overlay).electricity_price(
        country_iso2=country_iso2, subdivision_code=subdivision_code, sector=sector
    )


_PLACE_COLUMNS: tuple[str, ...] = (
    "place_kind",
    "place_id",
    "name",
    "country_iso2",
    "subdivision_code",
    "provider",
    "cloud_region",
    "electricity_usd_per_kwh",
    "electricity_year",
    "electricity_currency_year",
    "electricity_place",
    "grid_co2e_g_per_kwh",
    "grid_year",
)


def _places_in(
    grid: pd.DataFrame, electricity: pd.DataFrame, *, sector: str
) -> pd.DataFrame:
    """Places with both a tariff and a grid intensity (see :func:`places`)."""
    ranked_grid = _rank(grid, by=["preferred", "year"])
    ranked_power = _ranked_electricity(electricity, sector)
    tariffs: dict[str, pd.Series] = {}
    for scope, column in (
        ("country", "country_iso2"),
        ("subnational", "subdivision_code"),
    ):
        rows = ranked_power[ranked_power["scope"] == scope].drop_duplicates(column)
        for _, row in rows.iterrows():
            tariffs[str(row[column])] = row
    records: list[dict[str, Any]] = []
    levels = (
        ("country", "country", ["country_iso2"]),
        ("subdivision", "subnational", ["subdivision_code"]),
        ("cloud_region", "cloud_region", ["provider", "cloud_region"]),
    )
    for kind, scope, key in levels:
        rows = ranked_grid[ranked_grid["scope"] == scope].drop_duplicates(key)
        # A place is listed only if it can be looked up by its id: a cloud row
        # without a region id (mlco2/impact's Scaleway Paris) cannot.
        rows = rows.dropna(subset=key)
        for _, row in rows.iterrows():
            code = row["subdivision_code"]
            if kind == "country" or _isna(code) or str(code) not in tariffs:
                code = row["country_iso2"]
            tariff = None if _isna(code) else tariffs.get(str(code))
            if tariff is None:
                continue
            place_id = {
                "country": str(row["country_iso2"]),
                "subdivision": str(row["subdivision_code"]),
                "cloud_region": f"{row['provider']}:{row['cloud_region']}",
            }[kind]
            records.append(
                {
                    "place_kind": kind,
                    "place_id": place_id,
                    "name": row["name"],
                    "country_iso2": row["country_iso2"],
                    "subdivision_code": row["subdivision_code"],
                    "provider": row["provider"],
                    "cloud_region": row["cloud_region"],
                    "electricity_usd_per_kwh": float(tariff["price_usd_per_kwh"]),
                    "electricity_year": int(tariff["year"]),
                    "electricity_currency_year": int(tariff["currency_year"]),
                    "electricity_place": str(code),
                    "grid_co2e_g_per_kwh": float(row["co2e_g_per_kwh"]),
                    "grid_year": _int_or_none(row["year"]),
                }
            )
    frame = pd.DataFrame.from_records(records, columns=list(_PLACE_COLUMNS))
    for column in ("electricity_year", "electricity_currency_year", "grid_year"):
        frame[column] = frame[column].astype("Int64")
    return frame


def places(
    *,
    sector: str = "commercial",
    overlays: Sequence[str | os.PathLike[str]] = (),
) -> pd.DataFrame:
    """Return the places (countries, subdivisions, cloud regions) with both values.

    One row per place that has both an electricity price (for ``sector``) and
    a grid intensity, chosen as :func:`electricity_price` and
    :func:`grid_intensity` choose them, for a place selector. A cloud region
    takes the tariff of its subdivision when the catalog has one, else of its
    country (``electricity_place`` says which).

    Parameters
    ----------
    sector : str, default "commercial"
        Customer sector of the tariffs.
    overlays : sequence of str or os.PathLike, optional
        Overlay files of the grid_intensity or electricity_prices catalogs
        (each file's catalog is told by its header).

    Returns
    -------
    pandas.DataFrame
        Columns ``place_kind`` (country, subdivision, cloud_region),
        ``place_id`` (``"DE"``, ``"US-MA"``, ``"gcp:europe-west4"``), ``name``,
        codes, ``electricity_usd_per_kwh`` [USD/kWh of
        ``electricity_currency_year``], ``electricity_year``,
        ``electricity_place``, ``grid_co2e_g_per_kwh`` [g CO2e/kWh] and
        ``grid_year`` (missing when the source gives none).

    Examples
    --------
    >>> table = places()
    >>> sorted(set(table["place_kind"]))
    ['cloud_region', 'country', 'subdivision']
    >>> bool(table["place_id"].is_unique)
    True
    """
    files = [read_overlay_file(path) for path in overlays]
    return Catalog().with_overlays(files).places(sector=sector)


def pue(
    facility: str,
    *,
    region: str | None = None,
    overlay: str | os.PathLike[str] | None = None,
) -> float:
    """Return the power usage effectiveness of a facility or provider.

    With ``region``, the regional row is used if there is one, else the
    facility-wide row. Among matching rows the user-supplied one wins, then the
    row marked ``preferred``, then the most recent year.

    Parameters
    ----------
    facility : str
        Facility, provider or benchmark name, e.g. ``"aws"``,
        ``"university machine room"`` or ``"Strubell et al. 2019"``.
    region : str, optional
        Region name, e.g. ``"europe-west1"``.
    overlay : str or os.PathLike, optional
        Overlay file for the pue catalog.

    Returns
    -------
    float
        Total facility energy over IT energy; at least 1. [-]

    Raises
    ------
    UnknownCatalogItemError
        If the facility is unknown; the message lists close matches.

    Examples
    --------
    >>> pue("Strubell et al. 2019")
    1.58
    """
    return _catalog_with("pue", overlay).pue(facility, region=region)


def _pue_in(frame: pd.DataFrame, facility: str, *, region: str | None) -> float:
    same_facility = frame["facility"] == facility
    match = (
        frame[same_facility & (frame["region"] == region)]
        if region is not None
        else None
    )
    if match is None or match.empty:
        match = frame[same_facility & frame["region"].isna()]
    if match.empty:
        msg = f"no PUE for facility {facility!r}" + (
            f" and region {region!r}" if region is not None else ""
        )
        raise UnknownCatalogItemError(
            msg + _close_matches(facility, sorted(set(frame["facility"])))
        )
    return float(_first(_rank(match, by=["preferred", "year"]))["pue"])
