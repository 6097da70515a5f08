"""Refresh the cloud price catalog from public sources: import, validate, diff, write.

Two importers turn a public price source into ``cloud_prices`` rows:

- :func:`read_skypilot_catalog`: a SkyPilot-format catalog directory, one
  ``<cloud>/vms.csv`` per cloud (columns ``InstanceType, AcceleratorName,
  AcceleratorCount, vCPUs, MemoryGiB, Price, SpotPrice, Region,
  AvailabilityZone``; ``GpuInfo`` is read when present). Rows without an
  accelerator are skipped. Availability zones collapse to one row per region:
  the on-demand price is the median over the region's zones (SkyPilot repeats
  it per zone), the spot price the median of the zones that list one; Local
  Zones (zone ids with a city segment, ``use1-atl2-az1``) are left out, as in
  the shipped AWS rows. For GCP, whose catalog lists a machine type and its
  attached GPUs as separate rows, a machine row with an accelerator is priced
  as its own price plus the accelerator-only row (blank ``InstanceType``) of
  the same accelerator and count in the same zone; GPUs attachable to N1
  machines (accelerator-only rows without a machine row) are not composed and
  are skipped.
- :func:`read_azure_pages`: pages of the Azure Retail Prices API
  (``prices.azure.com/api/retail/prices``, public, unauthenticated, paged by
  ``NextPageLink``), Linux pay-as-you-go and spot prices of GPU virtual
  machines (``armSkuName`` ``Standard_N*`` whose spec, accelerators and count,
  the current catalog knows). :func:`fetch_azure_pages` downloads them.

:func:`validate_prices` checks the new rows (no negative prices; spot not above
on-demand unless the row is flagged ``spot_above_on_demand``; instance prices
that look like per-accelerator prices), :func:`diff_prices` compares them with
the previous snapshot (new, removed, changes in %), and
:func:`update_cloud_prices` writes a dated snapshot file
``snapshots/cloud_prices_<provider>_<date>.csv`` (a new file, never an
overwrite) and the updated ``cloud_prices.csv``, both atomically, refusing
changes beyond a threshold unless forced. A failed update leaves every file as
it was. Problems are reported one per line, ``file:row:column: why``, in a
:class:`pricing.catalog.CatalogError`. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import os
import re
import statistics
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pricing.catalog import (
    Catalog,
    CatalogError,
    parse_catalog_text,
)
from pricing.history import parse_source_date

__all__ = [
    "AZURE_RETAIL_PRICES_URL",
    "DEFAULT_MAX_CHANGE_FRACTION",
    "ImportedPrices",
    "PriceDiff",
    "RefreshRefusedError",
    "UpdateResult",
    "diff_prices",
    "fetch_azure_pages",
    "format_diff",
    "read_azure_pages",
    "read_catalog_file",
    "read_skypilot_catalog",
    "update_cloud_prices",
    "validate_prices",
]

DEFAULT_MAX_CHANGE_FRACTION = 0.5
"""Largest on-demand price change (either way) an update accepts without
``force``: AWS's June-2025 cut of P5 prices was 44 %, so a real repricing passes
and a tenfold unit slip does not. [0-1]"""

UNCHANGED_TOLERANCE = 1e-4
"""Relative price difference below which a row counts as unchanged (rounding of
the upstream files). [-]"""

PER_ACCELERATOR_TOLERANCE = 0.15
"""How close (relative) an instance price must be to a per-accelerator price to
be reported as a probable unit slip. [-]"""

AZURE_RETAIL_PRICES_URL = "https://prices.azure.com/api/retail/prices"
"""Public endpoint of the Azure Retail Prices API (no authentication)."""

AZURE_VM_FILTER = "serviceName eq 'Virtual Machines' and priceType eq 'Consumption'"
"""OData filter of the download: pay-as-you-go VM meters (spot meters included)."""

MAX_AZURE_PAGES = 2_000
"""Bound on pages followed by :func:`fetch_azure_pages` (the VM price list is a
few hundred pages of up to 1,000 items); a loop of links stops there. [-]"""

_CLOUD_COLUMNS: tuple[str, ...] = (
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
)
_KEY: tuple[str, ...] = ("provider", "region", "instance_type")
_SKYPILOT_REQUIRED = ("InstanceType", "AcceleratorName", "AcceleratorCount", "Price")
_SKYPILOT_OPTIONAL = (
    "vCPUs",
    "MemoryGiB",
    "SpotPrice",
    "Region",
    "AvailabilityZone",
    "GpuInfo",
)
_LOCAL_ZONE = re.compile(r"^[a-z]+\d-[a-z]+\d+-az\d+$")
_DEFAULT_MODEL_OF_NAME: Mapping[str, str] = {
    "H100": "H100-80GB-SXM5",
    "A100-80GB": "A100-80GB-SXM4",
}
"""Catalog names shared by several accelerator models, resolved as the shipped
rows were (pricing/data/README.md, cloud_prices.csv); a known instance type
keeps the model of its current row."""


class RefreshRefusedError(CatalogError):
    """An update would change prices beyond the threshold; nothing was written."""


@dataclass(frozen=True)
class ImportedPrices:
    """New ``cloud_prices`` rows of one provider, read from a public source."""

    provider: str
    """Provider id of every row (the SkyPilot cloud directory name, or azure)."""
    rows: pd.DataFrame
    """Rows with the cloud_prices columns, one per (region, instance type)."""
    label: str
    """The source, for messages and the rows' ``source``."""
    skipped: tuple[str, ...] = ()
    """What was left out and why (counts), for the report."""


@dataclass(frozen=True)
class PriceDiff:
    """Difference between two sets of cloud price rows of the same provider."""

    added: pd.DataFrame
    """Rows whose key is only in the new set."""
    removed: pd.DataFrame
    """Rows whose key is only in the old set."""
    changed: pd.DataFrame
    """Keys in both with a different price: ``old_/new_on_demand_usd_per_hour``,
    ``on_demand_change_fraction`` [-], the same for spot."""
    unchanged: int
    """Number of keys in both with equal prices."""


@dataclass(frozen=True)
class UpdateResult:
    """What an update did (or, with ``dry_run``, would do)."""

    provider: str
    diff: PriceDiff
    snapshot_path: Path | None
    """The dated snapshot written (None on a dry run)."""
    catalog_path: Path | None
    """The catalog file rewritten (None on a dry run)."""
    archived_path: Path | None = None
    """The provider's previous rows, written as a snapshot because none existed."""
    dry_run: bool = False
    forced_changes: int = 0
    """Refusals (price changes or removals beyond the threshold) overridden by
    ``force``."""
    skipped: tuple[str, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _number(
    cell: str, *, where: str, column: str, problems: list[str], required: bool
) -> float | None:
    """A numeric cell; a problem for text, NaN or a negative number."""
    text = cell.strip()
    if not text:
        if required:
            problems.append(f"{where}:{column}: value required, cell is blank")
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{where}:{column}: not a number, got {text!r}")
        return None
    if not math.isfinite(value):
        problems.append(f"{where}:{column}: not a finite number, got {text!r}")
        return None
    if value < 0:
        problems.append(f"{where}:{column}: negative price or count, got {value:g}")
        return None
    return value


def _gpu_memory_gb(gpu_info: str) -> float | None:
    """Memory of one GPU from SkyPilot's GpuInfo cell (a Python-literal dict)."""
    match = re.search(r"'SizeInMiB':\s*([0-9.]+)", gpu_info or "")
    return round(float(match.group(1)) / 1024.0, 3) if match else None


def _model_index(catalog: Catalog) -> dict[str, list[str]]:
    """Accelerator models by every name cloud catalogs use for them."""
    index: dict[str, list[str]] = {}
    frame = catalog.frame("accelerators")
    for model, names in frame[["accelerator_model", "cloud_catalog_names"]].itertuples(
        index=False
    ):
        for name in str(names).split(";") if isinstance(names, str) else []:
            if name.strip():
                index.setdefault(name.strip(), []).append(str(model))
    return index


def _resolve_model(
    name: str,
    known: Mapping[str, str],
    instance_type: str,
    index: Mapping[str, list[str]],
) -> tuple[str | None, str]:
    """Accelerator model of an upstream name, or (None, why)."""
    if instance_type in known:
        return known[instance_type], ""
    candidates = index.get(name, [])
    if len(candidates) == 1:
        return candidates[0], ""
    if name in _DEFAULT_MODEL_OF_NAME and _DEFAULT_MODEL_OF_NAME[name] in candidates:
        return _DEFAULT_MODEL_OF_NAME[name], ""
    if not candidates:
        return None, (
            f"unknown accelerator {name!r}: no accelerators.csv row lists it in "
            "cloud_catalog_names (add it there or in an accelerators overlay)"
        )
    return None, f"ambiguous accelerator {name!r}: {', '.join(candidates)}"


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _current_rows(catalog: Catalog, provider: str) -> pd.DataFrame:
    frame = catalog.frame("cloud_prices")
    return frame[frame["provider"] == provider]


# --------------------------------------------------------------------------
# SkyPilot
# --------------------------------------------------------------------------


@dataclass
class _ZoneRow:
    line: int
    instance_type: str
    accelerator: str
    count: float
    vcpus: float | None
    memory_gib: float | None
    price: float
    spot: float | None
    region: str
    zone: str
    gpu_memory_gb: float | None


def _read_vms_csv(
    text: str, label: str, problems: list[str], skipped: dict[str, int]
) -> list[_ZoneRow]:
    """Parse one vms.csv into zone rows with accelerators; collect problems."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        problems.append(f"{label}:1:-: empty file, expected a header line")
        return []
    except csv.Error as error:
        problems.append(f"{label}:1:-: unreadable CSV header: {error}")
        return []
    missing = [column for column in _SKYPILOT_REQUIRED if column not in header]
    problems.extend(f"{label}:1:{column}: missing column" for column in missing)
    if "Region" not in header:
        problems.append(f"{label}:1:Region: missing column")
    if missing or "Region" not in header:
        return []
    position = {column: header.index(column) for column in header}
    rows: list[_ZoneRow] = []
    first_line: dict[tuple[str, str, str, str, str], int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(f"{label}:{reader.line_num}:-: unreadable row: {error}")
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                f"{label}:{line}:-: expected {len(header)} cells, found {len(cells)}"
            )
            continue

        def cell(column: str, cells: list[str] = cells) -> str:
            index = position.get(column)
            return cells[index].strip() if index is not None else ""

        accelerator = cell("AcceleratorName")
        if not accelerator:
            skipped["rows without an accelerator (CPU instance types)"] = (
                skipped.get("rows without an accelerator (CPU instance types)", 0) + 1
            )
            continue
        where = f"{label}:{line}"
        key = (
            cell("InstanceType"),
            accelerator,
            cell("AcceleratorCount"),
            cell("Region"),
            cell("AvailabilityZone"),
        )
        if key in first_line:
            problems.append(
                f"{where}:InstanceType: duplicate row {key[0] or '(attached GPU)'} "
                f"in {key[3]} {key[4]}, first on line {first_line[key]}"
            )
            continue
        first_line[key] = line
        before = len(problems)
        count = _number(
            cell("AcceleratorCount"),
            where=where,
            column="AcceleratorCount",
            problems=problems,
            required=True,
        )
        price = _number(
            cell("Price"), where=where, column="Price", problems=problems, required=True
        )
        spot = _number(
            cell("SpotPrice"),
            where=where,
            column="SpotPrice",
            problems=problems,
            required=False,
        )
        vcpus = _number(
            cell("vCPUs"),
            where=where,
            column="vCPUs",
            problems=problems,
            required=False,
        )
        memory = _number(
            cell("MemoryGiB"),
            where=where,
            column="MemoryGiB",
            problems=problems,
            required=False,
        )
        if not cell("Region"):
            problems.append(f"{where}:Region: value required, cell is blank")
        if count is not None and count == 0:
            problems.append(f"{where}:AcceleratorCount: must be positive, got 0")
        if len(problems) > before or count is None or price is None:
            continue
        rows.append(
            _ZoneRow(
                line=line,
                instance_type=cell("InstanceType"),
                accelerator=accelerator,
                count=count,
                vcpus=vcpus,
                memory_gib=memory,
                price=price,
                spot=spot,
                region=cell("Region"),
                zone=cell("AvailabilityZone"),
                gpu_memory_gb=_gpu_memory_gb(cell("GpuInfo")),
            )
        )
    return rows


def _compose_gcp(rows: list[_ZoneRow], skipped: dict[str, int]) -> list[_ZoneRow]:
    """GCP: machine price + attached-GPU price of the same zone, accelerator, count."""
    attached = {
        (row.zone, row.accelerator, row.count): row
        for row in rows
        if not row.instance_type
    }
    used: set[tuple[str, str, float]] = set()
    composed: list[_ZoneRow] = []
    for row in rows:
        if not row.instance_type:
            continue
        gpu = attached.get((row.zone, row.accelerator, row.count))
        if gpu is None:
            reason = "GCP machine rows without an attached-GPU price in their zone"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        used.add((row.zone, row.accelerator, row.count))
        spot = (
            row.spot + gpu.spot
            if row.spot is not None and gpu.spot is not None
            else None
        )
        composed.append(
            _ZoneRow(
                line=row.line,
                instance_type=row.instance_type,
                accelerator=row.accelerator,
                count=row.count,
                vcpus=row.vcpus,
                memory_gib=row.memory_gib,
                price=row.price + gpu.price,
                spot=spot,
                region=row.region,
                zone=row.zone,
                gpu_memory_gb=row.gpu_memory_gb or gpu.gpu_memory_gb,
            )
        )
    unused = sum(1 for key in attached if key not in used)
    if unused:
        reason = "GCP attachable-GPU rows (N1 GPUs) not composed"
        skipped[reason] = skipped.get(reason, 0) + unused
    return composed


def _collapse_zones(
    provider: str,
    rows: list[_ZoneRow],
    *,
    label: str,
    catalog: Catalog,
    snapshot_date: dt.date,
    source: str,
    skip_unknown: bool,
    problems: list[str],
    skipped: dict[str, int],
) -> pd.DataFrame:
    """One row per (region, instance type): median prices over the zones."""
    current = _current_rows(catalog, provider)
    known_model = dict(
        zip(current["instance_type"], current["accelerator_model"], strict=True)
    )
    flags = {
        (str(r), str(i)): f
        for r, i, f in current[["region", "instance_type", "quality_flag"]].itertuples(
            index=False
        )
        if isinstance(f, str)
    }
    memory_of: dict[Any, Any] = dict(
        catalog.frame("accelerators")[["accelerator_model", "memory_gb"]].itertuples(
            index=False
        )
    )
    index = _model_index(catalog)
    groups: dict[tuple[str, str], list[_ZoneRow]] = {}
    for row in rows:
        if _LOCAL_ZONE.match(row.zone):
            reason = "Local-Zone rows (zone ids with a city segment)"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        groups.setdefault((row.region, row.instance_type), []).append(row)
    records: list[dict[str, Any]] = []
    for (region, instance_type), zones in sorted(groups.items()):
        first = zones[0]
        model, why = _resolve_model(
            first.accelerator, known_model, instance_type, index
        )
        if model is None:
            if skip_unknown and why.startswith("unknown"):
                reason = f"rows of unknown accelerator {first.accelerator!r}"
                skipped[reason] = skipped.get(reason, 0) + len(zones)
                continue
            problems.append(f"{label}:{first.line}:AcceleratorName: {why}")
            continue
        on_demand = _median([zone.price for zone in zones])
        spots = [zone.spot for zone in zones if zone.spot is not None]
        spot = _median(spots)
        memory = first.gpu_memory_gb or memory_of.get(model)
        notes = (
            f"imported from {label}; on-demand = median over {len(zones)} zone(s), "
            f"spot = median of {len(spots)} zone spot price(s) (Local Zones excluded)"
        )
        if len({zone.price for zone in zones}) > 1:
            notes += "; zone on-demand prices differ"
        records.append(
            {
                "provider": provider,
                "region": region,
                "instance_type": instance_type,
                "accelerator": first.accelerator,
                "accelerator_model": model,
                "accelerator_count": first.count,
                "accelerator_memory_gb": None if memory is None else float(memory),
                "vcpus": first.vcpus,
                "memory_gb": first.memory_gib,
                "on_demand_usd_per_hour": on_demand if on_demand else None,
                "spot_usd_per_hour": spot,
                "currency_year": snapshot_date.year,
                "source": source,
                "source_date": snapshot_date.isoformat(),
                "quality_flag": flags.get((region, instance_type)),
                "notes": notes,
            }
        )
    return pd.DataFrame.from_records(records, columns=list(_CLOUD_COLUMNS))


def read_skypilot_catalog(
    directory: str | os.PathLike[str],
    *,
    snapshot_date: dt.date,
    providers: Sequence[str] | None = None,
    catalog: Catalog | None = None,
    source: str | None = None,
    skip_unknown: bool = False,
) -> list[ImportedPrices]:
    r"""Read a SkyPilot-format catalog directory into cloud_prices rows.

    Parameters
    ----------
    directory : str or os.PathLike
        Folder holding ``<cloud>/vms.csv`` (e.g. skypilot-catalog's
        ``catalogs/v8``), or one cloud's folder itself.
    snapshot_date : datetime.date
        Date of the prices (the rows' ``source_date``; ``currency_year`` is its
        year).
    providers : sequence of str, optional
        Clouds to read (folder names); default: every folder with a vms.csv.
    catalog : Catalog, optional
        Supplies accelerator names and the current rows (instance types keep
        their accelerator model and quality flag); default: the shipped one.
    source : str, optional
        Text for the rows' ``source`` (e.g. the repository and commit); default:
        the file path.
    skip_unknown : bool, default False
        Skip, instead of reporting, rows of accelerators the catalog does not
        know.

    Returns
    -------
    list of ImportedPrices
        One per cloud, rows sorted by region and instance type.

    Raises
    ------
    CatalogError
        With one ``file:line:column: why`` per problem (missing column,
        non-numeric or negative price, duplicate row, unknown accelerator ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "aws"
    >>> folder.mkdir()
    >>> _ = (folder / "vms.csv").write_text(
    ...     "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,"
    ...     "SpotPrice,Region,AvailabilityZone\n"
    ...     "p3.2xlarge,V100,1,8,61,3.06,0.40,us-east-1,use1-az1\n"
    ...     "p3.2xlarge,V100,1,8,61,3.06,0.38,us-east-1,use1-az2\n")
    >>> (aws,) = read_skypilot_catalog(folder.parent, snapshot_date=dt.date(2026, 1, 1))
    >>> aws.rows[["instance_type", "on_demand_usd_per_hour", "spot_usd_per_hour"]]
    ... # doctest: +NORMALIZE_WHITESPACE
      instance_type  on_demand_usd_per_hour  spot_usd_per_hour
    0    p3.2xlarge                    3.06               0.39
    """
    catalog = catalog or Catalog()
    root = Path(directory)
    if (root / "vms.csv").is_file():
        clouds = {root.name: root / "vms.csv"}
    elif root.is_dir():
        clouds = {
            path.parent.name: path
            for path in sorted(root.glob("*/vms.csv"))
            if providers is None or path.parent.name in providers
        }
    else:
        msg = f"{root}:0:-: not a directory with <cloud>/vms.csv files"
        raise CatalogError([msg])
    if not clouds:
        wanted = f" for {', '.join(providers)}" if providers else ""
        msg = f"{root}:0:-: no <cloud>/vms.csv file{wanted}"
        raise CatalogError([msg])
    problems: list[str] = []
    imported: list[ImportedPrices] = []
    for provider, path in clouds.items():
        label = f"{provider}/vms.csv"
        skipped: dict[str, int] = {}
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{label}:0:-: cannot read: {error}")
            continue
        rows = _read_vms_csv(text, label, problems, skipped)
        if provider == "gcp":
            rows = _compose_gcp(rows, skipped)
        else:
            attached = [row for row in rows if not row.instance_type]
            if attached:
                problems.extend(
                    f"{label}:{row.line}:InstanceType: value required, cell is blank"
                    for row in attached
                )
                rows = [row for row in rows if row.instance_type]
        frame = _collapse_zones(
            provider,
            rows,
            label=label,
            catalog=catalog,
            snapshot_date=snapshot_date,
            source=source or f"SkyPilot-format catalog {path}",
            skip_unknown=skip_unknown,
            problems=problems,
            skipped=skipped,
        )
        notes = tuple(f"{count} {reason}" for reason, count in sorted(skipped.items()))
        imported.append(ImportedPrices(provider, frame, label, notes))
    if problems:
        raise CatalogError(problems)
    return imported


# --------------------------------------------------------------------------
# Azure Retail Prices API
# --------------------------------------------------------------------------


def _json_pages(text: str, label: str) -> tuple[list[tuple[int, Any]], list[str]]:
    """Pages of a recording: one JSON page, a JSON array of pages, or JSON Lines."""
    problems: list[str] = []
    stripped = text.strip()
    if not stripped:
        return [], [f"{label}:1:-: empty recording, expected API pages"]
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError as error:
        if "\n" not in stripped or (error.lineno == 1 and error.pos == 0):
            return [], [
                f"{label}:{error.lineno}:{error.colno}: truncated or invalid JSON: "
                f"{error.msg}"
            ]
        whole = None
    if isinstance(whole, list):
        return list(enumerate(whole, start=1)), problems
    if isinstance(whole, dict):
        return [(1, whole)], problems
    pages: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            pages.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            problems.append(
                f"{label}:{number}:{error.colno}: truncated or invalid JSON page: "
                f"{error.msg}"
            )
    return pages, problems


@dataclass
class _AzureItem:
    row: int
    column: str
    sku: str
    region: str
    price: float
    spot: bool
    start: str


def _azure_items(
    pages: list[tuple[int, Any]],
    label: str,
    problems: list[str],
    skipped: dict[str, int],
    *,
    check_last: bool = True,
) -> list[_AzureItem]:
    """Linux pay-as-you-go and spot VM items of GPU SKUs (Standard_N*)."""
    items: list[_AzureItem] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for position, (row, page) in enumerate(pages):
        if not isinstance(page, dict) or not isinstance(page.get("Items"), list):
            problems.append(f"{label}:{row}:Items: not an API page (no Items list)")
            continue
        billing = page.get("BillingCurrency", "USD")
        if billing != "USD":
            problems.append(
                f"{label}:{row}:BillingCurrency: unknown currency {billing!r}, "
                "expected USD (query without currencyCode)"
            )
            continue
        last = position == len(pages) - 1
        if check_last and last and page.get("NextPageLink"):
            problems.append(
                f"{label}:{row}:NextPageLink: the recording ends before the last "
                f"page (next: {page['NextPageLink']}); record every page"
            )
        for number, item in enumerate(page["Items"]):
            column = f"Items[{number}]"
            if not isinstance(item, dict):
                problems.append(f"{label}:{row}:{column}: not an object")
                continue
            sku = str(item.get("armSkuName") or "")
            if not sku.startswith("Standard_N"):
                skipped["items of non-GPU SKUs"] = (
                    skipped.get("items of non-GPU SKUs", 0) + 1
                )
                continue
            meter = str(item.get("meterName", ""))
            product = str(item.get("productName", ""))
            reason = None
            if item.get("type") != "Consumption":
                reason = "reservation and dev/test items"
            elif "Windows" in product:
                reason = "Windows items"
            elif "Low Priority" in meter:
                reason = "Low Priority items"
            elif item.get("unitOfMeasure") != "1 Hour":
                reason = "items not priced per hour"
            if reason is not None:
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            currency = item.get("currencyCode")
            if currency != "USD":
                problems.append(
                    f"{label}:{row}:{column}.currencyCode: unknown currency "
                    f"{currency!r}, expected USD"
                )
                continue
            price = item.get("retailPrice")
            if isinstance(price, bool) or not isinstance(price, int | float):
                problems.append(
                    f"{label}:{row}:{column}.retailPrice: not a number, got {price!r}"
                )
                continue
            if price < 0 or not math.isfinite(price):
                problems.append(
                    f"{label}:{row}:{column}.retailPrice: negative price, got {price:g}"
                )
                continue
            region = str(item.get("armRegionName") or "")
            if not region:
                problems.append(
                    f"{label}:{row}:{column}.armRegionName: value required, blank"
                )
                continue
            spot = "Spot" in meter
            identity = (
                str(item.get("meterId", "")),
                region,
                sku,
                str(item.get("effectiveStartDate", "")),
            )
            if identity in seen:
                problems.append(
                    f"{label}:{row}:{column}: duplicate item (meter {identity[0]}, "
                    f"{sku} in {region}), first at {seen[identity]}"
                )
                continue
            seen[identity] = f"{row}:{column}"
            items.append(
                _AzureItem(
                    row,
                    column,
                    sku,
                    region,
                    float(price),
                    spot,
                    identity[3],
                )
            )
    return items


def read_azure_pages(
    text: str,
    *,
    label: str,
    snapshot_date: dt.date,
    catalog: Catalog | None = None,
    source: str | None = None,
) -> ImportedPrices:
    """Read recorded Azure Retail Prices API pages into cloud_prices rows.

    The recording is one page, a JSON array of pages, or JSON Lines (one page
    per line, the order of ``NextPageLink``). Kept: items of GPU SKUs
    (``armSkuName`` ``Standard_N*``), type ``Consumption``, priced per hour,
    not Windows and not Low Priority; ``Spot`` meters give the spot price. The
    spec of each SKU (accelerator, count, memory, vCPUs) comes from the current
    catalog; GPU SKUs it does not know are skipped and reported. When a SKU has
    several prices in a region, the latest ``effectiveStartDate`` wins.

    Parameters
    ----------
    text : str
        The recording.
    label : str
        File name for messages.
    snapshot_date : datetime.date
        Date of the prices.
    catalog : Catalog, optional
        Supplies the SKU specs; default: the shipped catalog.
    source : str, optional
        Text for the rows' ``source``.

    Returns
    -------
    ImportedPrices
        Rows of provider ``azure``.

    Raises
    ------
    CatalogError
        One line per problem: truncated or invalid JSON (``file:line:column``),
        a page without ``Items``, a currency other than USD, a negative or
        non-numeric price, a duplicated item, a recording that stops before the
        last page.
    """
    catalog = catalog or Catalog()
    pages, problems = _json_pages(text, label)
    skipped: dict[str, int] = {}
    # A page that did not parse is reported already: do not also report the
    # page before it as the end of a cut recording.
    items = _azure_items(pages, label, problems, skipped, check_last=not problems)
    if problems:
        raise CatalogError(problems)
    spec = _current_rows(catalog, "azure").drop_duplicates("instance_type")
    specs = spec.set_index("instance_type")
    flags = {
        (str(r), str(i)): f
        for r, i, f in _current_rows(catalog, "azure")[
            ["region", "instance_type", "quality_flag"]
        ].itertuples(index=False)
        if isinstance(f, str)
    }
    best: dict[tuple[str, str, bool], _AzureItem] = {}
    for item in items:
        key = (item.region, item.sku, item.spot)
        if key not in best or item.start > best[key].start:
            best[key] = item
    records: list[dict[str, Any]] = []
    unknown: set[str] = set()
    for (region, sku, spot), item in sorted(best.items()):
        if spot:
            continue
        if sku not in specs.index:
            unknown.add(sku)
            continue
        row = specs.loc[sku]
        spot_item = best.get((region, sku, True))
        records.append(
            {
                "provider": "azure",
                "region": region,
                "instance_type": sku,
                "accelerator": row["accelerator"],
                "accelerator_model": row["accelerator_model"],
                "accelerator_count": row["accelerator_count"],
                "accelerator_memory_gb": row["accelerator_memory_gb"],
                "vcpus": row["vcpus"],
                "memory_gb": row["memory_gb"],
                "on_demand_usd_per_hour": item.price if item.price > 0 else None,
                "spot_usd_per_hour": None if spot_item is None else spot_item.price,
                "currency_year": snapshot_date.year,
                "source": source or f"Azure Retail Prices API pages ({label})",
                "source_date": snapshot_date.isoformat(),
                "quality_flag": flags.get((region, sku)),
                "notes": (
                    f"imported from {label}; Linux pay-as-you-go retailPrice "
                    f"(effective {item.start[:10] or 'date not given'}); spec "
                    "(accelerators, memory, vCPUs) from the previous catalog row"
                ),
            }
        )
    if unknown:
        skipped[f"GPU SKUs without a known spec ({', '.join(sorted(unknown))})"] = len(
            unknown
        )
    notes = tuple(f"{count} {reason}" for reason, count in sorted(skipped.items()))
    frame = pd.DataFrame.from_records(records, columns=list(_CLOUD_COLUMNS))
    return ImportedPrices("azure", frame, label, notes)


def _http_get(url: str) -> str:
    """GET a URL of the Azure Retail Prices API (public, no credentials)."""
    if not url.startswith(AZURE_RETAIL_PRICES_URL):
        msg = f"refusing to follow a link outside the price API: {url}"
        raise ValueError(msg)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body: bytes = response.read()
    return body.decode("utf-8")


def fetch_azure_pages(
    *,
    get: Callable[[str], str] = _http_get,
    odata_filter: str = AZURE_VM_FILTER,
    max_pages: int = MAX_AZURE_PAGES,
) -> str:
    """Download the Azure VM price pages and return them as JSON Lines.

    Parameters
    ----------
    get : callable, optional
        Function from a URL to the response text (tests pass recorded pages).
    odata_filter : str, optional
        The ``$filter`` of the first request.
    max_pages : int, default :data:`MAX_AZURE_PAGES`
        Bound on pages followed.

    Returns
    -------
    str
        One page per line, in order; :func:`read_azure_pages` reads it.

    Raises
    ------
    CatalogError
        If a page cannot be fetched or read, or the pages do not end.
    """
    query = urllib.parse.urlencode(
        {"$filter": odata_filter}, quote_via=urllib.parse.quote
    )
    url: str | None = f"{AZURE_RETAIL_PRICES_URL}?{query}"
    lines: list[str] = []
    while url:
        if len(lines) >= max_pages:
            msg = f"azure:{len(lines)}:NextPageLink: more than {max_pages} pages"
            raise CatalogError([msg])
        try:
            page = json.loads(get(url))
        except (OSError, ValueError) as error:
            msg = f"azure:{len(lines) + 1}:-: cannot fetch or read {url}: {error}"
            raise CatalogError([msg]) from None
        lines.append(json.dumps(page, separators=(",", ":")))
        url = page.get("NextPageLink") if isinstance(page, dict) else None
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Validation and diff
# --------------------------------------------------------------------------


def validate_prices(
    rows: pd.DataFrame, *, label: str, previous: pd.DataFrame | None = None
) -> list[str]:
    """Return the problems of new cloud_prices rows (empty when they are sound).

    Checks: no negative prices; spot not above on-demand (beyond the rounding
    tolerance :data:`UNCHANGED_TOLERANCE`: SkyPilot rounds spot prices to six
    decimals) unless the row is flagged ``spot_above_on_demand``; per instance
    versus per accelerator
    units: an instance price that equals, within
    :data:`PER_ACCELERATOR_TOLERANCE`, the per-accelerator price of its peers
    (same region and accelerator) or its previous price divided by its
    accelerator count is reported as a probable per-accelerator price.

    Parameters
    ----------
    rows : pandas.DataFrame
        New rows with the cloud_prices columns.
    label : str
        File name for messages (row numbers count the header as line 1).
    previous : pandas.DataFrame, optional
        The provider's previous rows, for the unit check.

    Returns
    -------
    list of str
        One ``label:line:column: why`` per problem.

    Examples
    --------
    >>> rows = pd.DataFrame({"provider": ["aws"], "region": ["r"],
    ...     "instance_type": ["i"], "accelerator_model": ["V100-16GB-SXM2"],
    ...     "accelerator_count": [1.0], "on_demand_usd_per_hour": [1.0],
    ...     "spot_usd_per_hour": [2.0], "quality_flag": [None]})
    >>> for line in validate_prices(rows, label="new.csv"):
    ...     print(line[:60])
    new.csv:2:spot_usd_per_hour: spot 2 is above on-demand 1 (fl
    """
    problems: list[str] = []
    frame = rows.reset_index(drop=True)
    for position, row in frame.iterrows():
        line = int(str(position)) + 2
        on_demand, spot = row["on_demand_usd_per_hour"], row["spot_usd_per_hour"]
        for column, value in (
            ("on_demand_usd_per_hour", on_demand),
            ("spot_usd_per_hour", spot),
        ):
            if pd.notna(value) and value < 0:
                problems.append(f"{label}:{line}:{column}: negative price {value:g}")
        if (
            pd.notna(on_demand)
            and pd.notna(spot)
            and spot > on_demand * (1 + UNCHANGED_TOLERANCE)
            and row.get("quality_flag") != "spot_above_on_demand"
        ):
            problems.append(
                f"{label}:{line}:spot_usd_per_hour: spot {spot:g} is above on-demand "
                f"{on_demand:g} (flag the row spot_above_on_demand to keep it)"
            )
    problems.extend(_unit_problems(frame, label, previous))
    return problems


def _unit_problems(
    frame: pd.DataFrame, label: str, previous: pd.DataFrame | None
) -> list[str]:
    """Instance prices that look like per-accelerator prices."""
    problems: list[str] = []
    priced = frame[frame["on_demand_usd_per_hour"].notna()].copy()
    priced["per_accelerator"] = (
        priced["on_demand_usd_per_hour"] / priced["accelerator_count"]
    )
    medians = priced.groupby(["region", "accelerator_model"])[
        "per_accelerator"
    ].median()
    old = {}
    if previous is not None and not previous.empty:
        old = {
            (str(r), str(i)): float(p)
            for r, i, p in previous[
                ["region", "instance_type", "on_demand_usd_per_hour"]
            ].itertuples(index=False)
            if pd.notna(p)
        }
    for position, row in priced.iterrows():
        count = float(row["accelerator_count"])
        if count < 2:
            continue
        line = int(str(position)) + 2
        price = float(row["on_demand_usd_per_hour"])
        group = medians.get((row["region"], row["accelerator_model"]))
        before = old.get((str(row["region"]), str(row["instance_type"])))
        if (
            before is not None
            and abs(price * count / before - 1) < PER_ACCELERATOR_TOLERANCE
        ):
            problems.append(
                f"{label}:{line}:on_demand_usd_per_hour: {price:g} $/h is the "
                f"previous instance price {before:g} / {count:g} accelerators: a "
                "per-accelerator price where a per-instance one is expected?"
            )
        elif group is not None and abs(price / group - 1) < PER_ACCELERATOR_TOLERANCE:
            peers = priced[
                (priced["region"] == row["region"])
                & (priced["accelerator_model"] == row["accelerator_model"])
            ]
            if len(peers) > 1 and (peers["accelerator_count"] != count).any():
                problems.append(
                    f"{label}:{line}:on_demand_usd_per_hour: {price:g} $/h for "
                    f"{count:g} accelerators equals the per-accelerator price of its "
                    f"peers ({group:g} $/h): a per-accelerator price?"
                )
    return problems


def diff_prices(old: pd.DataFrame, new: pd.DataFrame) -> PriceDiff:
    """Compare two sets of cloud price rows by (provider, region, instance type).

    Parameters
    ----------
    old, new : pandas.DataFrame
        Rows with the cloud_prices columns.

    Returns
    -------
    PriceDiff
        Added, removed and changed rows; a change smaller than
        :data:`UNCHANGED_TOLERANCE` (relative) is no change.

    Examples
    --------
    >>> old = pd.DataFrame({"provider": ["aws"], "region": ["r"],
    ...     "instance_type": ["i"], "on_demand_usd_per_hour": [10.0],
    ...     "spot_usd_per_hour": [None]})
    >>> new = old.assign(on_demand_usd_per_hour=[9.0])
    >>> float(diff_prices(old, new).changed["on_demand_change_fraction"].iloc[0])
    -0.1
    """
    columns = [*_KEY, "on_demand_usd_per_hour", "spot_usd_per_hour"]
    merged = old[columns].merge(
        new[columns],
        on=list(_KEY),
        how="outer",
        suffixes=("_old", "_new"),
        indicator=True,
    )
    added_keys = merged.loc[merged["_merge"] == "right_only", list(_KEY)]
    removed_keys = merged.loc[merged["_merge"] == "left_only", list(_KEY)]
    both = merged[merged["_merge"] == "both"].copy()

    def change(before: pd.Series, after: pd.Series) -> pd.Series:
        return (after - before) / before

    both["on_demand_change_fraction"] = change(
        both["on_demand_usd_per_hour_old"], both["on_demand_usd_per_hour_new"]
    )
    both["spot_change_fraction"] = change(
        both["spot_usd_per_hour_old"], both["spot_usd_per_hour_new"]
    )

    def differs(before: pd.Series, after: pd.Series, fraction: pd.Series) -> pd.Series:
        presence = before.isna() != after.isna()
        return presence | (fraction.abs() > UNCHANGED_TOLERANCE).fillna(False)

    moved = differs(
        both["on_demand_usd_per_hour_old"],
        both["on_demand_usd_per_hour_new"],
        both["on_demand_change_fraction"],
    ) | differs(
        both["spot_usd_per_hour_old"],
        both["spot_usd_per_hour_new"],
        both["spot_change_fraction"],
    )
    changed = both[moved].rename(
        columns={
            "on_demand_usd_per_hour_old": "old_on_demand_usd_per_hour",
            "on_demand_usd_per_hour_new": "new_on_demand_usd_per_hour",
            "spot_usd_per_hour_old": "old_spot_usd_per_hour",
            "spot_usd_per_hour_new": "new_spot_usd_per_hour",
        }
    )
    changed = changed.drop(columns="_merge").reset_index(drop=True)
    return PriceDiff(
        added=new.merge(added_keys, on=list(_KEY)).reset_index(drop=True),
        removed=old.merge(removed_keys, on=list(_KEY)).reset_index(drop=True),
        changed=changed,
        unchanged=int((~moved).sum()),
    )


def _money(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.4g}"


def format_diff(diff: PriceDiff, *, limit: int = 50) -> str:
    """Return the diff as text: counts, then one line per row (up to ``limit``).

    Parameters
    ----------
    diff : PriceDiff
        The comparison.
    limit : int, default 50
        Most lines listed per section.

    Returns
    -------
    str
        Lines like ``"changed aws us-east-1 p4d.24xlarge: on-demand 21.96 ->
        2.196 $/h (-90.0 %)"``.
    """
    lines = [
        f"{len(diff.added)} new, {len(diff.removed)} removed, "
        f"{len(diff.changed)} changed, {diff.unchanged} unchanged"
    ]
    for title, frame in (("new", diff.added), ("removed", diff.removed)):
        for row in frame.head(limit).itertuples(index=False):
            lines.append(
                f"{title} {row.provider} {row.region} {row.instance_type}: on-demand "
                f"{_money(row.on_demand_usd_per_hour)} $/h, spot "
                f"{_money(row.spot_usd_per_hour)} $/h"
            )
        if len(frame) > limit:
            lines.append(f"... and {len(frame) - limit} more {title}")
    ordered = diff.changed.reindex(
        diff.changed["on_demand_change_fraction"]
        .abs()
        .sort_values(ascending=False)
        .index
    )
    for record in ordered.head(limit).to_dict("records"):
        fraction = record["on_demand_change_fraction"]
        share = "" if pd.isna(fraction) else f" ({fraction:+.1%})"
        spot = record["spot_change_fraction"]
        spot_share = "" if pd.isna(spot) else f" ({spot:+.1%})"
        lines.append(
            f"changed {record['provider']} {record['region']} "
            f"{record['instance_type']}: on-demand "
            f"{_money(record['old_on_demand_usd_per_hour'])} -> "
            f"{_money(record['new_on_demand_usd_per_hour'])} $/h{share}; spot "
            f"{_money(record['old_spot_usd_per_hour'])} -> "
            f"{_money(record['new_spot_usd_per_hour'])} $/h{spot_share}"
        )
    if len(ordered) > limit:
        lines.append(f"... and {len(ordered) - limit} more changed")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def read_catalog_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a cloud_prices-format file (a catalog or a snapshot).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        Its rows.

    Raises
    ------
    CatalogError
        If it cannot be read or is not a valid cloud_prices table.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError([f"{file.name}:0:-: cannot read: {error}"]) from None
    return parse_catalog_text("cloud_prices", text, label=file.name)


def _csv_text(frame: pd.DataFrame) -> str:
    """Rows as cloud_prices CSV text (booleans and blanks as the shipped files)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CLOUD_COLUMNS)
    for record in frame[list(_CLOUD_COLUMNS)].to_dict("records"):
        cells = []
        for column in _CLOUD_COLUMNS:
            value = record[column]
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                cells.append("")
            elif (
                isinstance(value, float)
                and value.is_integer()
                and column
                in (
                    "accelerator_count",
                    "vcpus",
                    "memory_gb",
                    "accelerator_memory_gb",
                    "currency_year",
                )
            ):
                cells.append(str(int(value)))
            elif isinstance(value, float):
                cells.append(f"{value:.10g}")
            else:
                cells.append(str(value))
        writer.writerow(cells)
    return out.getvalue()


def _snapshot_name(provider: str, date: dt.date | None, folder: Path) -> Path:
    """A new, unused snapshot path: ``cloud_prices_<provider>_<date>[_n].csv``."""
    stem = f"cloud_prices_{provider}_{date.isoformat() if date else 'undated'}"
    candidate = folder / f"{stem}.csv"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}_{number}.csv"
        number += 1
    return candidate


def _latest_snapshot(provider: str, folder: Path) -> Path | None:
    prefix = f"cloud_prices_{provider}_"
    files = sorted(
        path for path in folder.glob(f"{prefix}*.csv") if path.name.startswith(prefix)
    )
    return files[-1] if files else None


def _write_atomically(files: Sequence[tuple[Path, str]]) -> None:
    """Write each text to a temporary sibling, then rename all; undo on failure."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, text in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".partial", dir=target.parent
            )
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            staged.append((Path(name), target))
    except OSError:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    done: list[tuple[Path, bytes | None]] = []
    try:
        for temporary, target in staged:
            previous = target.read_bytes() if target.exists() else None
            os.replace(temporary, target)
            done.append((target, previous))
    except OSError:
        for target, previous in reversed(done):
            if previous is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(previous)
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
        raise


def update_cloud_prices(
    imported: ImportedPrices,
    *,
    data_dir: str | os.PathLike[str],
    force: bool = False,
    dry_run: bool = False,
    max_change_fraction: float = DEFAULT_MAX_CHANGE_FRACTION,
    catalog: Catalog | None = None,
) -> UpdateResult:
    """Validate new rows of a provider, diff them, and write snapshot and catalog.

    Steps: read ``<data_dir>/cloud_prices.csv``; take the provider's previous
    rows from its newest snapshot in ``<data_dir>/snapshots`` (else from the
    catalog); validate the new rows (:func:`validate_prices` and the catalog's
    own schema); refuse any on-demand change beyond ``max_change_fraction``
    unless ``force``; then, unless ``dry_run``, write the dated snapshot (a new
    file; when the provider had no snapshot yet, its previous rows are archived
    as one first) and the catalog with the provider's rows replaced. All files
    are written to temporary siblings and renamed together: on any failure the
    previous files stay as they were.

    Parameters
    ----------
    imported : ImportedPrices
        The new rows.
    data_dir : str or os.PathLike
        Folder with ``cloud_prices.csv`` (the package's ``pricing/data`` in a
        checkout).
    force : bool, default False
        Accept changes beyond ``max_change_fraction``.
    dry_run : bool, default False
        Validate and diff only; write nothing.
    max_change_fraction : float, default 0.5
        Largest accepted relative on-demand change. [0-1]
    catalog : Catalog, optional
        Supplies the known accelerators for validation.

    Returns
    -------
    UpdateResult
        The diff and the files written.

    Raises
    ------
    CatalogError
        If a file cannot be read or a row is invalid (one line per problem).
    RefreshRefusedError
        If a change exceeds ``max_change_fraction`` and ``force`` is False.
    """
    folder = Path(data_dir)
    catalog_path = folder / "cloud_prices.csv"
    current = read_catalog_file(catalog_path)
    provider = imported.provider
    snapshots = folder / "snapshots"
    latest = _latest_snapshot(provider, snapshots) if snapshots.is_dir() else None
    previous = (
        read_catalog_file(latest)
        if latest is not None
        else current[current["provider"] == provider]
    )
    new_rows = imported.rows.copy()
    snapshot_date = (
        parse_source_date(str(new_rows["source_date"].iloc[0]))
        if len(new_rows)
        else None
    )
    snapshot_path = _snapshot_name(provider, snapshot_date, snapshots)
    problems = validate_prices(new_rows, label=snapshot_path.name, previous=previous)
    snapshot_text = _csv_text(new_rows)
    try:
        parse_catalog_text(
            "cloud_prices", snapshot_text, label=snapshot_path.name, catalog=catalog
        )
    except CatalogError as error:
        problems.extend(error.problems)
    if problems:
        raise CatalogError(problems)
    diff = diff_prices(previous, new_rows)
    fractions = diff.changed["on_demand_change_fraction"].abs()
    too_big = diff.changed[fractions > max_change_fraction]
    lines = [
        f"{catalog_path.name}:0:on_demand_usd_per_hour: {row['provider']} "
        f"{row['region']} {row['instance_type']}: on-demand "
        f"{_money(row['old_on_demand_usd_per_hour'])} -> "
        f"{_money(row['new_on_demand_usd_per_hour'])} $/h "
        f"({row['on_demand_change_fraction']:+.1%}) is beyond "
        f"+/-{max_change_fraction:.0%}; pass --force to accept"
        for row in too_big.to_dict("records")
    ]
    removed_share = len(diff.removed) / len(previous) if len(previous) else 0.0
    if removed_share > max_change_fraction:
        lines.append(
            f"{catalog_path.name}:0:-: the update removes {len(diff.removed)} of "
            f"{len(previous)} {provider} rows ({removed_share:.0%}, more than "
            f"{max_change_fraction:.0%}): a partial source? pass --force to accept"
        )
    if lines and not force:
        raise RefreshRefusedError(lines)
    others = current[current["provider"] != provider]
    updated = pd.concat([others, new_rows[list(_CLOUD_COLUMNS)]], ignore_index=True)
    catalog_text = _csv_text(updated)
    parse_catalog_text(
        "cloud_prices", catalog_text, label=catalog_path.name, catalog=catalog
    )
    if dry_run:
        return UpdateResult(
            provider,
            diff,
            None,
            None,
            dry_run=True,
            forced_changes=len(lines),
            skipped=imported.skipped,
        )
    files: list[tuple[Path, str]] = []
    archived: Path | None = None
    if latest is None and not previous.empty:
        dates = [parse_source_date(str(cell)) for cell in previous["source_date"]]
        known = [date for date in dates if date is not None]
        archived = _snapshot_name(provider, max(known) if known else None, snapshots)
        if archived == snapshot_path:
            archived = snapshots / f"{archived.stem}_previous.csv"
        files.append((archived, _csv_text(previous)))
    files.append((snapshot_path, snapshot_text))
    files.append((catalog_path, catalog_text))
    _write_atomically(files)
    return UpdateResult(
        provider,
        diff,
        snapshot_path,
        catalog_path,
        archived_path=archived,
        forced_changes=len(lines),
        skipped=imported.skipped,
    )


def read_pages_file(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(label, text) of a recorded Azure pages file; CatalogError if unreadable."""
    file = Path(path)
    try:
        return file.name, file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError([f"{file.name}:0:-: cannot read: {error}"]) from None
