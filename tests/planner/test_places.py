"""Places: every option fills sourced values a scenario accepts."""

import pytest

from planner.places import describe, place_defaults, place_options, site_fields
from planner.scenario import Site
from pricing.catalog import Catalog


def test_place_options_cover_countries_states_and_regions():
    options = place_options()
    kinds = set(options["place_kind"])
    assert kinds == {"country", "subdivision", "cloud_region"}
    assert options["place_id"].is_unique
    assert options["label"].is_unique
    assert list(options["place_kind"].drop_duplicates()) == [
        "country",
        "subdivision",
        "cloud_region",
    ]


def test_every_place_fills_values_a_site_accepts():
    catalog = Catalog()
    for place_id in place_options(catalog)["place_id"]:
        found = place_defaults(place_id, catalog)
        fields = site_fields(
            found,
            electricity_usd_per_kwh=found.electricity.value,
            grid_co2e_g_per_kwh=found.grid.value,
        )
        Site.model_validate(fields)  # raises if a location or value is refused
        assert found.electricity.source
        assert found.grid.source


def test_place_defaults_match_the_catalog_lookups():
    catalog = Catalog()
    germany = place_defaults("DE", catalog)
    assert germany.electricity == catalog.electricity_price(country_iso2="DE")
    assert germany.grid == catalog.grid_intensity(country_iso2="DE")
    massachusetts = place_defaults("US-MA", catalog)
    assert massachusetts.location == "US-MA"
    assert massachusetts.grid == catalog.grid_intensity(subdivision_code="US-MA")


def test_a_cloud_region_gives_its_own_grid_and_pue():
    catalog = Catalog()
    region = place_defaults("gcp:europe-west1", catalog)
    assert region.location == "BE"
    assert region.grid == catalog.grid_intensity(
        provider="gcp", cloud_region="europe-west1"
    )
    assert region.pue is not None
    assert region.pue.value == catalog.pue("gcp", region="europe-west1")
    fields = site_fields(
        region,
        electricity_usd_per_kwh=region.electricity.value,
        grid_co2e_g_per_kwh=region.grid.value,
    )
    # The region's grid differs from Belgium's: it is given, the tariff looked up.
    assert fields == {
        "location": "BE",
        "electricity_usd_per_kwh": None,
        "grid_co2e_g_per_kwh": region.grid.value,
    }


def test_site_fields_keep_an_edit():
    place = place_defaults("DE")
    fields = site_fields(place, electricity_usd_per_kwh=0.3, grid_co2e_g_per_kwh=1.0)
    assert fields["electricity_usd_per_kwh"] == 0.3
    assert fields["grid_co2e_g_per_kwh"] == 1.0


def test_an_unknown_place_is_a_lookup_error():
    with pytest.raises(LookupError, match="no place 'XX'"):
        place_defaults("XX")


def test_describe_says_year_and_source():
    text = describe(place_defaults("DE").electricity)
    assert text.startswith("0.")
    assert "2024 data" in text
    assert "Eurostat" in text
