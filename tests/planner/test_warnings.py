"""Stale catalogs and old looked-up values are said beside every answer."""

from planner.resolve import resolve
from planner.scenario import load_preset
from pricing.history import staleness_warnings


def test_the_catalogs_a_scenario_reads_are_dated_and_stale_ones_warned():
    resolved = resolve(load_preset("grant"))
    expected = [
        line
        for line in staleness_warnings(resolved.catalog)
        if not line.startswith("cloud_prices (")
        or line.startswith(("cloud_prices (aws)", "cloud_prices (lambda)"))
    ]
    stale = [line for line in resolved.warnings if "days old" in line]
    assert stale == expected  # the grant rents from AWS and Lambda only


def test_an_old_looked_up_value_is_warned_with_its_year():
    resolved = resolve(load_preset("department"))
    assert any(
        line.startswith("grid intensity of US-MA") and "2020 data" in line
        for line in resolved.warnings
    )


def test_the_looked_up_tariff_is_listed_at_the_value_the_engine_uses():
    # The department's tariff is EIA 2024 money converted by CPI-U to the
    # scenario's currency year; the assumptions list prints that number.
    resolved = resolve(load_preset("department"))
    text = dict(resolved.assumptions)["electricity of US-MA"]
    used = resolved.site.electricity_usd_per_kwh[0]
    assert text.startswith(f"{used:.4g} USD/kWh in {resolved.scenario.currency_year}")
    assert "0.2061 USD/kWh (2024 data" in text  # the row itself, EIA EPM
