"""Tests of price history, SKU price trends, catalog dates and staleness."""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import pytest

from pricing import catalog, finance
from pricing.catalog import Catalog, SourcedValue, load_catalog
from pricing.history import (
    STALE_AFTER_DAYS,
    catalog_dates,
    cloud_price_trend,
    data_year_warning,
    parse_source_date,
    price_history,
    price_trend,
    source_date_text,
    staleness_warnings,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-20", dt.date(2026, 5, 20)),
        ("2025-01", dt.date(2025, 1, 1)),
        ("2019 annual data (EIA avgprice_annual 1990-2019)", dt.date(2019, 1, 1)),
        ("on or after 2025-06 (exact date unknown)", dt.date(2025, 6, 1)),
        ("2024-07-13 (file last changed upstream)", dt.date(2024, 7, 13)),
        ("snapshot @30df2feead1c (commit date not recorded offline)", None),
        ("unknown (see README)", None),
        ("2023-13", None),  # not a month, and a year followed by "-" is not taken
    ],
)
def test_parse_source_date(text, expected):
    assert parse_source_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-20", "2026-05-20"),
        ("2025-01", "2025-01"),
        ("2019 annual data (EIA avgprice_annual 1990-2019)", "2019"),
        ("on or after 2025-06 (exact date unknown)", "2025-06"),
        ("carbonfootprint (March 2022) (data from 2020 published in 2022)", "2022"),
        ("snapshot @30df2feead1c (commit date not recorded offline)", ""),
        ("2023-13", ""),
    ],
)
def test_source_date_text_keeps_the_precision_written(text, expected):
    assert source_date_text(text) == expected
    # the same first date as parse_source_date, never a more precise one
    found = parse_source_date(text)
    assert (found is None) == (expected == "")
    if found is not None:
        assert found.isoformat().startswith(expected)


# --------------------------------------------------------------------------
# Catalog dates and staleness
# --------------------------------------------------------------------------


def test_catalog_dates_cover_every_catalog_and_each_cloud_provider():
    dates = catalog_dates(today=dt.date(2026, 6, 1))
    names = set(dates["catalog"])
    assert set(catalog.CATALOG_NAMES) | {"us_cpi"} == names
    providers = set(dates.loc[dates["catalog"] == "cloud_prices", "part"])
    assert providers == {"aws", "azure", "gcp", "lambda", "nebius"}
    gcp = dates[(dates["catalog"] == "cloud_prices") & (dates["part"] == "gcp")]
    assert gcp["newest_source_date"].iloc[0] == dt.date(2026, 5, 20)
    assert gcp["age_days"].iloc[0] == 12
    assert not gcp["stale"].iloc[0]


def test_catalog_dates_aws_counts_from_its_lower_bound():
    dates = catalog_dates(today=dt.date(2026, 6, 1))
    aws = dates[(dates["catalog"] == "cloud_prices") & (dates["part"] == "aws")]
    assert aws["newest_source_date"].iloc[0] == dt.date(2025, 6, 1)
    assert aws["stale"].iloc[0]


def test_staleness_warnings_name_the_catalog_and_the_age():
    lines = staleness_warnings(today=dt.date(2026, 12, 1))
    gcp = [line for line in lines if line.startswith("cloud_prices (gcp)")]
    assert gcp == [
        "cloud_prices (gcp): newest source date 2026-05-20 is 195 days old "
        f"(more than {STALE_AFTER_DAYS}); refresh it with `planner catalog update`"
    ]


def test_staleness_warnings_respect_the_threshold():
    today = dt.date(2026, 12, 1)
    assert staleness_warnings(today=today, max_age_days=100_000) == []
    everything = staleness_warnings(today=today, max_age_days=0)
    assert len(everything) == len(catalog_dates(today=today))


def test_an_overlay_row_dated_today_makes_its_catalog_fresh():
    frame = load_catalog("pue")
    header = list(catalog._SPECS["pue"].columns)
    text = io.StringIO()
    text.write(",".join(header) + "\n")
    text.write("campus,university,,1.4,2026,true,,,\n")  # source_date: today
    mine = Catalog().with_overlay("pue", text.getvalue(), label="pue.csv")
    today = dt.date.today()
    shipped = catalog_dates(Catalog(), today=today).set_index("catalog")
    dates = catalog_dates(mine, today=today).set_index("catalog")
    assert shipped.loc["pue", "newest_source_date"] != today  # cache keyed by content
    assert dates.loc["pue", "newest_source_date"] == today
    assert not dates.loc["pue", "stale"]
    assert len(frame) + 1 == dates.loc["pue", "rows"]


def test_data_year_warning():
    grid = SourcedValue(420.32, "g CO2e/kWh", 2020, None, "src", "2022")
    assert data_year_warning(grid, year=2022) is None
    assert data_year_warning(grid, year=2026, label="grid") == (
        "grid: 420.32 g CO2e/kWh is 2020 data, 6 years before 2026"
    )
    undated = SourcedValue(300.0, "g CO2e/kWh", None, None, "src", "-")
    assert "no data year" in str(data_year_warning(undated, year=2026))


# --------------------------------------------------------------------------
# Price history and trends
# --------------------------------------------------------------------------


def test_price_history_combines_the_list_price_table_and_the_catalog():
    history = price_history("V100-16GB-SXM2")
    p3 = history[
        (history["instance_type"] == "p3.16xlarge") & (history["region"] == "us-east-1")
    ]
    assert set(p3["origin"]) == {"list_price_history", "catalog"}
    assert p3["on_demand_usd_per_accelerator_hour"].round(4).unique().tolist() == [3.06]
    assert p3["price_date"].is_monotonic_increasing


def test_price_history_reads_snapshot_files(tmp_path: Path):
    frame = load_catalog("cloud_prices")
    row = frame[
        (frame["provider"] == "aws")
        & (frame["region"] == "us-east-1")
        & (frame["instance_type"] == "p3.16xlarge")
    ].copy()
    row["on_demand_usd_per_hour"] = 20.0
    row["source_date"] = "2027-01-15"
    path = tmp_path / "cloud_prices_aws_2027-01-15.csv"
    row[list(catalog._SPECS["cloud_prices"].columns)].to_csv(path, index=False)
    history = price_history("V100-16GB-SXM2", snapshots=[path])
    snap = history[history["origin"] == f"snapshot {path.name}"]
    assert snap["on_demand_usd_per_accelerator_hour"].tolist() == [2.5]
    assert snap["price_date"].tolist() == [dt.date(2027, 1, 15)]


def test_price_trend_p4d_matches_the_hand_computation():
    # AWS P4 page (archived 2021-06-15): 4.10 $/GPU-h; instances.vantage.sh
    # (2026-08-26): 21.957642 / 8. Deflated by BLS CPI-U (2026 -> 2025 level).
    trend = price_trend("aws", "p4d.24xlarge", region="us-east-1")
    years = (dt.date(2026, 8, 26) - dt.date(2021, 6, 15)).days / 365.25
    real = (21.957642 / 8 / 4.10) * finance.cpi_index(2021) / finance.cpi_index(2026)
    assert trend.annual_change_real == pytest.approx(real ** (1 / years) - 1, abs=1e-4)
    assert trend.start_date == dt.date(2021, 6, 15)
    assert trend.end_date == dt.date(2026, 8, 26)
    assert trend.low_real <= trend.annual_change_real <= trend.high_real
    assert "list_price_history" in trend.source


def test_price_trend_of_a_flat_list_price_is_minus_inflation():
    # Azure NC6s v3 has listed 3.06 $/h since 2019: the real change is the CPI.
    trend = price_trend("azure", "Standard_NC6s_v3", region="eastus")
    start, end = trend.start_date, trend.end_date
    years = (end - start).days / 365.25
    cpi = finance.cpi_index(start.year) / finance.cpi_index(end.year)
    assert trend.annual_change_real == pytest.approx(cpi ** (1 / years) - 1, abs=1e-4)


def test_price_trend_needs_two_prices_a_year_apart():
    with pytest.raises(ValueError, match="dated price"):
        price_trend("aws", "no-such-instance")
    with pytest.raises(ValueError, match="at least 30 years apart"):
        price_trend("aws", "p4d.24xlarge", region="us-east-1", min_span_years=30)


def test_cloud_price_trend_is_the_median_of_the_sku_trends():
    trend = cloud_price_trend()
    assert trend.points >= 10
    assert trend.low_real <= trend.annual_change_real <= trend.high_real
    # The evidence: fixed SKUs lose a few percent a year in real terms, far from
    # a -20 %/y constant; the steepest are AWS P4/P5 after the June-2025 cut.
    assert -0.06 < trend.annual_change_real < 0.0
    assert "p5.48xlarge" in trend.source
    assert math.isfinite(trend.low_real)
