"""Price history, price trends of fixed cloud SKUs, catalog dates and staleness.

Three sources make a cloud price history: the sourced table of dated list prices
``cloud_price_history`` (archived provider pages and dated price snapshots), the
current ``cloud_prices`` catalog (each row dated by its ``source_date``), and
dated snapshot files written by ``planner catalog update`` (see
:mod:`pricing.refresh`). From them :func:`price_trend` gives the *real* (CPI-U
deflated) price change per year of one fixed SKU, and :func:`cloud_price_trend`
the median over all SKUs with a history, with its range: the default the engine
can use instead of a constant.

:func:`catalog_dates` gives every catalog's date (the newest ``source_date`` of
its rows; per provider for cloud prices) and :func:`staleness_warnings` the
warning text for catalogs older than :data:`STALE_AFTER_DAYS`. Everything is a
pure function of the catalogs and ``today``; nothing is read at import time.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import cast

import pandas as pd

from pricing.catalog import CATALOG_NAMES, Catalog, SourcedValue
from pricing.finance import cpi_index

__all__ = [
    "STALE_AFTER_DAYS",
    "PriceTrend",
    "catalog_dates",
    "cloud_price_trend",
    "data_year_warning",
    "parse_source_date",
    "price_history",
    "price_trend",
    "shipped_snapshot_files",
    "source_date_text",
    "staleness_warnings",
]

STALE_AFTER_DAYS = 180
"""A catalog whose newest source date is older than this is reported stale:
cloud list prices are re-published daily and tariffs yearly, so half a year is
the longest a planning answer should silently rest on. [days]"""

DAYS_PER_YEAR_MEAN = 365.25
"""Mean length of a Julian year, for annualising changes between dates. [days]"""

MIN_TREND_SPAN_YEARS = 1.0
"""Shortest span between two price observations that is annualised: a step
change over a few months would otherwise annualise to an absurd rate. [years]"""

_DATE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)", "day"),
    (r"(?<!\d)(\d{4})-(\d{2})(?![\d-])", "month"),
    (r"(?<![\d@])((?:19|20)\d{2})(?![\d-])", "year"),
)

_SNAPSHOT_GLOB = "cloud_prices_*.csv"


def parse_source_date(text: str) -> dt.date | None:
    """Return the first date written in a ``source_date`` cell, or None.

    ``source_date`` cells hold an ISO date, a year-month, a year or clear text
    ("on or after 2025-06 (...)"). The first ISO date is taken, else the first
    year-month (its first day), else the first year (1 January); commit hashes
    (``@30df2fe``) are not years.

    Parameters
    ----------
    text : str
        The cell.

    Returns
    -------
    datetime.date or None
        The date, or None when the text holds no date.

    Examples
    --------
    >>> parse_source_date("2026-05-20")
    datetime.date(2026, 5, 20)
    >>> parse_source_date("on or after 2025-06 (exact date unknown)")
    datetime.date(2025, 6, 1)
    >>> parse_source_date("snapshot @30df2feead1c (commit date not recorded)") is None
    True
    """
    for pattern, kind in _DATE_PATTERNS:
        match = re.search(pattern, str(text))
        if match is None:
            continue
        numbers = [int(group) for group in match.groups()]
        try:
            if kind == "day":
                return dt.date(numbers[0], numbers[1], numbers[2])
            if kind == "month":
                return dt.date(numbers[0], numbers[1], 1)
            return dt.date(numbers[0], 1, 1)
        except ValueError:
            continue
    return None


def source_date_text(text: str) -> str:
    """The first date written in a text, at the precision it is written.

    :func:`parse_source_date` completes a year-month or a year to a day (for
    ordering); a report must not print "2020-01-01" for a source that says
    "data from 2020". This returns the same first date as written.

    Parameters
    ----------
    text : str
        A ``source_date`` cell or a source's text.

    Returns
    -------
    str
        ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``, or "" when the text holds no
        date.

    Examples
    --------
    >>> source_date_text("Electric Power Monthly, released 2024-09-24")
    '2024-09-24'
    >>> source_date_text("on or after 2025-06 (exact date unknown)")
    '2025-06'
    >>> source_date_text("carbonfootprint (data from 2020 published in 2022)")
    '2020'
    >>> source_date_text("snapshot @30df2feead1c")
    ''
    """
    found = parse_source_date(text)
    if found is None:
        return ""
    for pattern, kind in _DATE_PATTERNS:
        match = re.search(pattern, str(text))
        if match is None:
            continue
        numbers = [int(group) for group in match.groups()]
        if kind == "day" and found == dt.date(numbers[0], numbers[1], numbers[2]):
            return found.isoformat()
        if kind == "month" and found == dt.date(numbers[0], numbers[1], 1):
            return f"{found.year:04d}-{found.month:02d}"
        if kind == "year" and found == dt.date(numbers[0], 1, 1):
            return f"{found.year:04d}"
    return ""


# --------------------------------------------------------------------------
# Catalog dates and staleness
# --------------------------------------------------------------------------

_DATE_COLUMNS: tuple[str, ...] = (
    "catalog",
    "part",
    "rows",
    "dated_rows",
    "newest_source_date",
    "oldest_source_date",
    "age_days",
    "stale",
)


def _cpi_source_dates() -> list[str]:
    """``source_date`` cells of the shipped CPI table (not a catalog, but data)."""
    text = resources.files("pricing").joinpath("data/us_cpi.csv").read_text("utf-8")
    return [row["source_date"] for row in csv.DictReader(text.splitlines())]


@dataclass(frozen=True)
class _DatedPart:
    """Source dates of one catalog (or one provider's rows), parsed once."""

    name: str
    part: str
    rows: int
    dated_rows: int
    newest: dt.date | None
    oldest: dt.date | None


def _dated_part(name: str, part: str, cells: Iterable[str]) -> _DatedPart:
    cells = list(cells)
    parsed = {cell: parse_source_date(cell) for cell in set(cells)}
    dates = [date for date in parsed.values() if date is not None]
    dated = sum(parsed[cell] is not None for cell in cells)
    return _DatedPart(
        name=name,
        part=part,
        rows=len(cells),
        dated_rows=dated,
        newest=max(dates) if dates else None,
        oldest=min(dates) if dates else None,
    )


@lru_cache(maxsize=32)
def _dated_parts(catalog: Catalog) -> tuple[_DatedPart, ...]:
    """Every catalog's parsed dates, kept per catalog content (bounded)."""
    parts: list[_DatedPart] = []
    for name in CATALOG_NAMES:
        frame = catalog.frame(name)
        if name == "cloud_prices":
            for provider, group in frame.groupby("provider", sort=True):
                cells = group["source_date"].astype(str)
                parts.append(_dated_part(name, str(provider), cells))
        else:
            parts.append(_dated_part(name, "", frame["source_date"].astype(str)))
    parts.append(_dated_part("us_cpi", "", _cpi_source_dates()))
    return tuple(parts)


def _date_row(part: _DatedPart, today: dt.date, max_age_days: int) -> dict[str, object]:
    age = (today - part.newest).days if part.newest is not None else None
    return {
        "catalog": part.name,
        "part": part.part,
        "rows": part.rows,
        "dated_rows": part.dated_rows,
        "newest_source_date": part.newest,
        "oldest_source_date": part.oldest,
        "age_days": age,
        "stale": age is None or age > max_age_days,
    }


def catalog_dates(
    catalog: Catalog | None = None,
    *,
    today: dt.date | None = None,
    max_age_days: int = STALE_AFTER_DAYS,
) -> pd.DataFrame:
    """Return the date of every catalog: the newest source date of its rows.

    Cloud prices are dated per provider (each provider's snapshot is refreshed
    on its own); the CPI table ``us_cpi`` is listed too.

    Parameters
    ----------
    catalog : Catalog, optional
        Catalog with the user's overlays (default: the shipped catalogs).
    today : datetime.date, optional
        Reference date for the age (default: the system date).
    max_age_days : int, default :data:`STALE_AFTER_DAYS`
        Age above which a catalog is stale. [days]

    Returns
    -------
    pandas.DataFrame
        One row per catalog (and provider): ``catalog``, ``part`` (provider or
        ""), ``rows``, ``dated_rows`` (rows whose ``source_date`` holds a
        date), ``newest_source_date``, ``oldest_source_date``, ``age_days``
        [days] and ``stale`` (also True when no row is dated).

    Examples
    --------
    >>> dates = catalog_dates(today=dt.date(2026, 6, 1))
    >>> row = dates[(dates["catalog"] == "cloud_prices") & (dates["part"] == "gcp")]
    >>> str(row["newest_source_date"].iloc[0]), int(row["age_days"].iloc[0])
    ('2026-05-20', 12)
    """
    catalog = catalog or Catalog()
    today = today or dt.date.today()
    records = [_date_row(part, today, max_age_days) for part in _dated_parts(catalog)]
    return pd.DataFrame.from_records(records, columns=list(_DATE_COLUMNS))


def staleness_warnings(
    catalog: Catalog | None = None,
    *,
    today: dt.date | None = None,
    max_age_days: int = STALE_AFTER_DAYS,
) -> list[str]:
    """Return one warning line per catalog older than ``max_age_days``.

    Parameters
    ----------
    catalog : Catalog, optional
        Catalog with the user's overlays (default: the shipped catalogs).
    today : datetime.date, optional
        Reference date (default: the system date).
    max_age_days : int, default :data:`STALE_AFTER_DAYS`
        Allowed age. [days]

    Returns
    -------
    list of str
        Warning text, e.g. ``"cloud_prices (gcp): newest source date
        2026-05-20 is 195 days old (more than 180); refresh it ..."``; empty
        when every catalog is fresh.

    Examples
    --------
    >>> lines = staleness_warnings(today=dt.date(2026, 12, 1))
    >>> any(line.startswith("cloud_prices (gcp): newest source date") for line in lines)
    True
    """
    day = today if today is not None else dt.date.today()
    return list(_staleness_lines(catalog or Catalog(), day, max_age_days))


@lru_cache(maxsize=32)
def _staleness_lines(
    catalog: Catalog, today: dt.date, max_age_days: int
) -> tuple[str, ...]:
    """:func:`staleness_warnings`, cached by catalog content and day."""
    dates = catalog_dates(catalog, today=today, max_age_days=max_age_days)
    lines: list[str] = []
    for record in dates[dates["stale"]].to_dict("records"):
        name, part = str(record["catalog"]), str(record["part"])
        label = f"{name} ({part})" if part else name
        newest = record["newest_source_date"]
        if newest is None or pd.isna(newest):
            lines.append(f"{label}: no row has a dated source_date; its age is unknown")
            continue
        hint = (
            "refresh it with `planner catalog update`"
            if name == "cloud_prices"
            else "check it against its source"
        )
        lines.append(
            f"{label}: newest source date {newest} is {int(record['age_days'])} "
            f"days old (more than {max_age_days}); {hint}"
        )
    return tuple(lines)


def data_year_warning(
    value: SourcedValue, *, year: int, max_age_years: int = 2, label: str = "value"
) -> str | None:
    """Return a warning when a looked-up value describes a much earlier year.

    Parameters
    ----------
    value : SourcedValue
        A looked-up value with its data ``year``.
    year : int
        The year it is used for (e.g. the scenario's start year). [year]
    max_age_years : int, default 2
        Largest gap that passes silently. [years]
    label : str, default "value"
        What the value is, for the message.

    Returns
    -------
    str or None
        The warning, or None when the gap is small.

    Examples
    --------
    >>> grid = SourcedValue(420.3, "g CO2e/kWh", 2020, None, "Green Algorithms", "-")
    >>> data_year_warning(grid, year=2026, label="grid intensity of US-MA")
    'grid intensity of US-MA: 420.3 g CO2e/kWh is 2020 data, 6 years before 2026'
    """
    if value.year is None:
        return f"{label}: {value.value:g} {value.unit} has no data year in its source"
    gap = year - value.year
    if gap <= max_age_years:
        return None
    return (
        f"{label}: {value.value:g} {value.unit} is {value.year} data, "
        f"{gap} years before {year}"
    )


# --------------------------------------------------------------------------
# Price history
# --------------------------------------------------------------------------

_HISTORY_COLUMNS: tuple[str, ...] = (
    "provider",
    "region",
    "instance_type",
    "accelerator_model",
    "price_date",
    "on_demand_usd_per_accelerator_hour",
    "currency_year",
    "origin",
    "source",
)


def shipped_snapshot_files() -> list[str]:
    """Names of the dated snapshot files shipped in ``pricing/data/snapshots``."""
    folder = resources.files("pricing").joinpath("data", "snapshots")
    if not folder.is_dir():
        return []
    return sorted(
        item.name
        for item in folder.iterdir()
        if item.name.startswith("cloud_prices_") and item.name.endswith(".csv")
    )


def _snapshot_texts(snapshots: Sequence[str | Path] | None) -> list[tuple[str, str]]:
    """(label, text) of snapshot files: shipped ones by default, else the paths."""
    if snapshots is None:
        folder = resources.files("pricing").joinpath("data", "snapshots")
        return [
            (name, folder.joinpath(name).read_text(encoding="utf-8"))
            for name in shipped_snapshot_files()
        ]
    return [
        (Path(path).name, Path(path).read_text(encoding="utf-8")) for path in snapshots
    ]


def _cloud_rows(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Cloud-price rows (per instance) as history points (per accelerator)."""
    priced = frame[frame["on_demand_usd_per_hour"].notna()].copy()
    priced["price_date"] = priced["source_date"].map(parse_source_date)
    priced = priced[priced["price_date"].notna()]
    priced["on_demand_usd_per_accelerator_hour"] = (
        priced["on_demand_usd_per_hour"] / priced["accelerator_count"]
    )
    priced["origin"] = origin
    return priced[list(_HISTORY_COLUMNS)]


def price_history(
    accelerator_model: str | None = None,
    *,
    catalog: Catalog | None = None,
    snapshots: Sequence[str | Path] | None = None,
) -> pd.DataFrame:
    """Return dated on-demand prices per accelerator-hour, oldest first.

    Points come from the ``cloud_price_history`` table (origin
    ``"list_price_history"``), the current ``cloud_prices`` catalog (origin
    ``"catalog"``, dated by each row's ``source_date``; undated rows are left
    out) and dated snapshot files (origin ``"snapshot <file>"``).

    Parameters
    ----------
    accelerator_model : str, optional
        Keep only this accelerator (e.g. ``"A100-40GB-SXM4"``).
    catalog : Catalog, optional
        Catalog with the user's overlays (default: the shipped catalogs).
    snapshots : sequence of str or Path, optional
        Snapshot files in the cloud_prices format; default: the shipped ones.

    Returns
    -------
    pandas.DataFrame
        Columns ``provider, region, instance_type, accelerator_model,
        price_date`` (datetime.date), ``on_demand_usd_per_accelerator_hour``
        [USD/h, nominal USD of ``currency_year``], ``currency_year``,
        ``origin`` and ``source``.

    Raises
    ------
    pricing.catalog.CatalogError
        If a snapshot file is not a valid cloud_prices table.

    Examples
    --------
    >>> history = price_history("A100-40GB-SXM4")
    >>> p4d = history.query("instance_type == 'p4d.24xlarge' and region == 'us-east-1'")
    >>> [round(price, 2) for price in p4d["on_demand_usd_per_accelerator_hour"]]
    [4.1, 4.1, 2.74, 2.74]
    """
    catalog = catalog or Catalog()
    table = catalog.frame("cloud_price_history")
    table["price_date"] = table["price_date"].map(dt.date.fromisoformat)
    table["origin"] = "list_price_history"
    parts = [
        table[list(_HISTORY_COLUMNS)],
        _cloud_rows(catalog.frame("cloud_prices"), "catalog"),
    ]
    for label, text in _snapshot_texts(snapshots):
        snapshot = Catalog().with_overlay("cloud_prices", text, label=label)
        rows = snapshot.frame("cloud_prices")
        parts.append(_cloud_rows(rows[rows["user_supplied"]], f"snapshot {label}"))
    history = pd.concat(parts, ignore_index=True)
    if accelerator_model is not None:
        history = history[history["accelerator_model"] == accelerator_model]
    history = history.sort_values(
        ["provider", "region", "instance_type", "price_date"], kind="stable"
    )
    return history.reset_index(drop=True)


# --------------------------------------------------------------------------
# Trends
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceTrend:
    """Real (CPI-U deflated) price change per year of a fixed SKU or of many.

    Examples
    --------
    >>> trend = price_trend("aws", "p4d.24xlarge", region="us-east-1")
    >>> -0.2 < trend.annual_change_real < -0.05
    True
    """

    sku: str
    """What the trend describes ("aws us-east-1 p4d.24xlarge" or a summary)."""
    annual_change_real: float
    """Change of the real price per year, e.g. -0.03 for -3 %/y. [1/year]"""
    low_real: float
    """Most negative change in the range (see the function that made it). [1/year]"""
    high_real: float
    """Least negative (or most positive) change in the range. [1/year]"""
    start_date: dt.date
    """First observation used."""
    end_date: dt.date
    """Last observation used."""
    points: int
    """Number of observations (or SKUs, for a summary)."""
    source: str
    """Where the observations come from."""


def _real_change_per_year(
    start: tuple[dt.date, float], end: tuple[dt.date, float]
) -> float:
    """Annualised real change between two (date, nominal price) observations."""
    years = (end[0] - start[0]).days / DAYS_PER_YEAR_MEAN
    deflator = cpi_index(start[0].year) / cpi_index(end[0].year)
    ratio = end[1] / start[1] * deflator
    return float(math.exp(math.log(ratio) / years) - 1.0)


def price_trend(
    provider: str,
    instance_type: str,
    *,
    region: str | None = None,
    catalog: Catalog | None = None,
    snapshots: Sequence[str | Path] | None = None,
    min_span_years: float = MIN_TREND_SPAN_YEARS,
) -> PriceTrend:
    r"""Return the real price change per year of one fixed SKU from its history.

    The change is the compound annual rate between the first and the last
    observation of the SKU's on-demand price per accelerator-hour, deflated by
    the BLS CPI-U annual averages [1]_ of their years. The range (``low_real``,
    ``high_real``) is that rate measured from each earlier observation at least
    ``min_span_years`` before the last one, so a step cut shows how much the
    start date matters.

    Parameters
    ----------
    provider : str
        Provider id, e.g. ``"aws"``.
    instance_type : str
        Instance type, e.g. ``"p4d.24xlarge"``.
    region : str, optional
        Region; default: the region with the most observations of the SKU.
    catalog : Catalog, optional
        Catalog with the user's overlays (default: the shipped catalogs).
    snapshots : sequence of str or Path, optional
        Snapshot files; default: the shipped ones.
    min_span_years : float, default 1.0
        Shortest span annualised. [years]

    Returns
    -------
    PriceTrend
        Annual real change [1/year] with its range, dates and source.

    Raises
    ------
    ValueError
        If the SKU has no two observations ``min_span_years`` apart.

    Notes
    -----
    .. math::

        g = \left(\frac{p_1}{p_0}\,\frac{\mathrm{CPI}(y_0)}{\mathrm{CPI}(y_1)}
            \right)^{1/\Delta t} - 1

    References
    ----------
    .. [1] U.S. Bureau of Labor Statistics, "Consumer Price Index for All Urban
       Consumers (CPI-U), U.S. city average, all items," series CUUR0000SA0.

    Examples
    --------
    AWS p3.16xlarge has cost 24.48 $/h since 2018: its real price falls with
    inflation only.

    >>> trend = price_trend("aws", "p3.16xlarge", region="us-east-1")
    >>> round(trend.annual_change_real, 3)
    -0.031
    """
    history = price_history(catalog=catalog, snapshots=snapshots)
    sku = history[
        (history["provider"] == provider) & (history["instance_type"] == instance_type)
    ]
    if region is None and not sku.empty:
        region = str(sku["region"].value_counts().idxmax())
    sku = sku[sku["region"] == region]
    by_date = sku.groupby("price_date")["on_demand_usd_per_accelerator_hour"].mean()
    points = [(cast("dt.date", date), float(price)) for date, price in by_date.items()]
    label = f"{provider} {region} {instance_type}"
    if len(points) < 2:
        msg = f"price_trend: {label} has {len(points)} dated price(s); need two"
        raise ValueError(msg)
    end = points[-1]
    starts = [
        point
        for point in points[:-1]
        if (end[0] - point[0]).days / DAYS_PER_YEAR_MEAN >= min_span_years
    ]
    if not starts:
        msg = (
            f"price_trend: {label} has no prices at least {min_span_years} years "
            f"apart (first {points[0][0]}, last {end[0]})"
        )
        raise ValueError(msg)
    rates = [_real_change_per_year(start, end) for start in starts]
    origins = sorted(set(sku["origin"]))
    return PriceTrend(
        sku=label,
        annual_change_real=rates[0],
        low_real=min(rates),
        high_real=max(rates),
        start_date=starts[0][0],
        end_date=end[0],
        points=len(points),
        source=(
            f"{len(points)} dated on-demand prices of {label} "
            f"({points[0][0]} {points[0][1]:.4g} to {end[0]} {end[1]:.4g} $/GPU-h; "
            f"from {', '.join(origins)}), deflated by BLS CPI-U"
        ),
    )


def cloud_price_trend(
    *,
    catalog: Catalog | None = None,
    snapshots: Sequence[str | Path] | None = None,
    min_span_years: float = 2.0,
) -> PriceTrend:
    """Return the median real price change per year of fixed cloud SKUs.

    Every SKU of the ``cloud_price_history`` table whose observations span at
    least ``min_span_years`` contributes its :func:`price_trend`; the result is
    their median, with the smallest and largest as the range. This is the
    evidence for a default trend of a fixed SKU's cloud price.

    Parameters
    ----------
    catalog : Catalog, optional
        Catalog with the user's overlays (default: the shipped catalogs).
    snapshots : sequence of str or Path, optional
        Snapshot files; default: the shipped ones.
    min_span_years : float, default 2.0
        Shortest history a SKU needs to count. [years]

    Returns
    -------
    PriceTrend
        ``annual_change_real`` the median [1/year]; ``low_real``/``high_real``
        the extremes; ``points`` the number of SKUs; ``source`` lists them.

    Raises
    ------
    ValueError
        If no SKU has a long enough history.

    Examples
    --------
    >>> trend = cloud_price_trend()
    >>> trend.low_real < trend.annual_change_real < trend.high_real < 0
    True
    """
    catalog = catalog or Catalog()
    table = catalog.frame("cloud_price_history")
    keys = table[["provider", "region", "instance_type"]].drop_duplicates()
    trends: list[PriceTrend] = []
    for provider, region, instance_type in keys.itertuples(index=False):
        try:
            trend = price_trend(
                str(provider),
                str(instance_type),
                region=str(region),
                catalog=catalog,
                snapshots=snapshots,
                min_span_years=min_span_years,
            )
        except ValueError:
            continue
        trends.append(trend)
    if not trends:
        msg = f"cloud_price_trend: no SKU has {min_span_years} years of prices"
        raise ValueError(msg)
    rates = [trend.annual_change_real for trend in trends]
    listed = "; ".join(
        f"{trend.sku} {trend.annual_change_real:+.1%}/y" for trend in trends
    )
    return PriceTrend(
        sku=f"median of {len(trends)} fixed cloud SKUs",
        annual_change_real=float(statistics.median(rates)),
        low_real=min(rates),
        high_real=max(rates),
        start_date=min(trend.start_date for trend in trends),
        end_date=max(trend.end_date for trend in trends),
        points=len(trends),
        source=(
            "real on-demand price change per year of each SKU with at least "
            f"{min_span_years:g} years of dated list prices (cloud_price_history, "
            f"cloud_prices, snapshots; BLS CPI-U): {listed}"
        ),
    )
