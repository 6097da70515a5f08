"""Tests of the sourced lookups: electricity prices, grid intensities, places."""

from __future__ import annotations

import csv
import dataclasses
import io
from importlib import resources
from pathlib import Path

import pytest

from planner.scenario import Site
from pricing import catalog
from pricing.catalog import (
    Catalog,
    SourcedValue,
    UnknownCatalogItemError,
    electricity_price,
    grid_intensity,
    grid_intensity_co2e_g_per_kwh,
    places,
)


def _raw_rows(file_name: str) -> list[dict[str, str]]:
    """The shipped CSV read with the csv module: an oracle independent of pandas."""
    text = resources.files("pricing").joinpath("data", file_name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _overlay_text(name: str, rows: list[dict[str, str]]) -> str:
    header = list(catalog._SPECS[name].columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in header})
    return out.getvalue()


# --------------------------------------------------------------------------
# SourcedValue
# --------------------------------------------------------------------------


def test_sourced_value_is_frozen():
    value = SourcedValue(1.0, "USD/kWh", 2024, 2024, "source", "2024-01-01")
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.value = 2.0  # type: ignore[misc]
    assert value.user_supplied is False


# --------------------------------------------------------------------------
# Electricity prices
# --------------------------------------------------------------------------


def _newest_state_row(code: str, sector: str) -> dict[str, str]:
    rows = [
        row
        for row in _raw_rows("electricity_prices.csv")
        if row["subdivision_code"] == code and row["sector"] == sector
    ]
    return max(rows, key=lambda row: int(row["year"]))


@pytest.mark.parametrize("code", ["US-MA", "US-CA", "US-TX", "US-NY"])
def test_electricity_price_state_is_the_newest_row_with_its_years(code):
    expected = _newest_state_row(code, "commercial")
    price = electricity_price(subdivision_code=code)
    assert price.value == pytest.approx(float(expected["price_usd_per_kwh"]))
    assert price.unit == "USD/kWh"
    assert price.year == int(expected["year"])
    assert price.currency_year == int(expected["currency_year"])
    assert price.source_date == expected["source_date"]
    assert expected["period"] in price.source
    assert price.user_supplied is False


def test_electricity_price_sector_is_a_word_of_the_sector_label():
    # Eurostat rows are "non-household (industrial/commercial)": both words match.
    commercial = electricity_price(country_iso2="de", sector="commercial")
    industrial = electricity_price(country_iso2="DE", sector="industrial")
    assert commercial == industrial
    assert commercial.currency_year == 2024
    # The sector average ("all bands") is preferred over a single band.
    assert "all bands" in commercial.source


def test_electricity_price_industrial_differs_from_commercial_in_the_us():
    commercial = electricity_price(subdivision_code="US-MA", sector="commercial")
    industrial = electricity_price(subdivision_code="US-MA", sector="industrial")
    assert industrial.value != commercial.value


def test_electricity_price_needs_a_place():
    with pytest.raises(ValueError, match="country_iso2 or subdivision_code"):
        electricity_price()


def test_electricity_price_unknown_place_lists_close_matches():
    with pytest.raises(UnknownCatalogItemError, match="close matches: US-MA"):
        electricity_price(subdivision_code="US-MAX")


def test_electricity_price_unknown_sector_lists_the_sectors():
    with pytest.raises(UnknownCatalogItemError, match="sectors there: commercial"):
        electricity_price(subdivision_code="US-MA", sector="residential")


def test_electricity_price_user_tariff_wins_and_is_marked():
    # Looked up (and cached) on the shipped catalog first: the cache is keyed by
    # the catalog's content, so the overlay still wins.
    shipped = Catalog().electricity_price(subdivision_code="US-MA")
    row = dict(_newest_state_row("US-MA", "commercial"))
    row.update(
        price_local_currency_per_kwh="0.1",
        price_usd_per_kwh="0.1",
        period="my 2026 tariff",
        source="",
        source_date="",
    )
    mine = Catalog().with_overlay(
        "electricity_prices", _overlay_text("electricity_prices", [row]), label="t.csv"
    )
    price = mine.electricity_price(subdivision_code="US-MA")
    assert price.value == 0.1
    assert price.user_supplied is True
    assert "user overlay t.csv" in price.source
    # The shipped catalog is unchanged.
    assert Catalog().electricity_price(subdivision_code="US-MA") == shipped
    assert shipped.value != 0.1


def test_electricity_price_wrapper_equals_catalog_method():
    assert electricity_price(country_iso2="FR") == Catalog().electricity_price(
        country_iso2="FR"
    )


# --------------------------------------------------------------------------
# Grid intensity
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "place",
    [
        {},
        {"country_iso2": "DE"},
        {"subdivision_code": "US-CA"},
        {"provider": "gcp", "cloud_region": "europe-west4"},
        {"cloud_region": "us-east-1", "provider": "aws"},
    ],
)
def test_grid_intensity_value_is_the_float_lookup_with_unit_and_year(place):
    value = grid_intensity(**place)
    assert value.value == grid_intensity_co2e_g_per_kwh(**place)
    assert value.unit == "g CO2e/kWh"
    assert value.currency_year is None
    assert value.year is None or 1990 <= value.year <= 2100
    assert value.source
    assert value.source_date


def test_grid_intensity_reports_the_data_year_of_the_row():
    rows = [
        row
        for row in _raw_rows("grid_intensity.csv")
        if row["subdivision_code"] == "US-MA" and row["preferred"] == "true"
    ]
    assert len(rows) == 1
    value = grid_intensity(subdivision_code="US-MA")
    assert value.year == int(rows[0]["year"])
    assert value.value == pytest.approx(float(rows[0]["co2e_g_per_kwh"]))


def test_grid_intensity_provider_without_region_raises():
    with pytest.raises(ValueError, match="cloud_region"):
        grid_intensity(provider="aws")


# --------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------


def test_places_ids_are_unique_and_kinds_known():
    table = places()
    assert table["place_id"].is_unique
    assert set(table["place_kind"]) == {"country", "subdivision", "cloud_region"}
    assert table[["electricity_usd_per_kwh", "grid_co2e_g_per_kwh"]].notna().all().all()


def test_places_agree_with_the_single_lookups():
    # Every listed place is looked up by its id, as the app's place selector and
    # a scenario's site.location do (a listed place that cannot be used, such as
    # the former 'US-usa' or a cloud row without a region, fails here).
    table = places()
    for row in table.itertuples():
        if row.place_kind == "cloud_region":
            provider, _, region = row.place_id.partition(":")
            grid = grid_intensity(provider=provider, cloud_region=region)
        elif row.place_kind == "subdivision":
            grid = grid_intensity(subdivision_code=row.place_id)
            Site(location=row.place_id)
        else:
            grid = grid_intensity(country_iso2=row.place_id)
            Site(location=row.place_id)
        # Location-based intensities (GHG Protocol Scope 2): no grid is zero.
        assert grid.value > 0, row.place_id
        code = row.electricity_place
        tariff = (
            electricity_price(subdivision_code=code)
            if "-" in code
            else electricity_price(country_iso2=code)
        )
        assert row.grid_co2e_g_per_kwh == grid.value
        assert row.electricity_usd_per_kwh == tariff.value
        assert row.electricity_currency_year == tariff.currency_year


def test_places_cloud_region_takes_its_state_tariff():
    table = places().set_index("place_id")
    row = table.loc["aws:us-east-1"]
    assert row["electricity_place"] == row["subdivision_code"] == "US-VA"


def test_places_reads_overlay_files(tmp_path: Path):
    row = dict(_newest_state_row("US-MA", "commercial"))
    row.update(price_usd_per_kwh="0.05", price_local_currency_per_kwh="0.05")
    row.update(period="campus contract")
    path = tmp_path / "tariff.csv"
    path.write_text(_overlay_text("electricity_prices", [row]), encoding="utf-8")
    table = places(overlays=[path]).set_index("place_id")
    assert table.loc["US-MA", "electricity_usd_per_kwh"] == 0.05


# --------------------------------------------------------------------------
# Published figures (transcribed rows)
# --------------------------------------------------------------------------


def test_electricity_price_massachusetts_is_eia_2024_year_to_date():
    # EIA Electric Power Monthly Table 5.6.B (data for July 2024, released
    # 2024-09-24): Massachusetts commercial, January-July 2024, 20.61 cents/kWh.
    # The table gives cents to 2 decimals; the catalog stores USD to 4.
    price = electricity_price(subdivision_code="US-MA")
    assert price.value == pytest.approx(0.2061, abs=5e-5)
    assert (price.year, price.currency_year) == (2024, 2024)
    assert "year to date" in price.source


def test_electricity_price_eia_2023_annual_where_no_2024_row():
    # EIA Electric Power Annual 2023 (released 2024-10-17): California
    # commercial 23.91 cents/kWh, industrial 18.64.
    assert electricity_price(subdivision_code="US-CA").value == pytest.approx(0.2391)
    industrial = electricity_price(subdivision_code="US-CA", sector="industrial")
    assert industrial.value == pytest.approx(0.1864)
    assert industrial.year == 2023


def test_electricity_price_wyoming_keeps_its_2019_row():
    # Wyoming was not in the retrieved EIA 2023 page: its newest row is 2019.
    assert electricity_price(subdivision_code="US-WY").year == 2019


def test_grid_intensity_world_is_iea_2024():
    # IEA, Electricity 2025: "445 g CO2/kWh in 2024".
    world = grid_intensity()
    assert (world.value, world.year) == (445.0, 2024)
