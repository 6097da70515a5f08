"""Coverage of the default cloud offers' regions by the grid and PUE catalogs.

Every provider region of ``default_cloud_offers()`` should resolve to a grid
intensity. The 31 regions placed by the ``derived_region_location`` rows of
``grid_intensity.csv`` copy the catalog's own row for the country or state
that hosts them (see pricing/data/README.md, grid_intensity.csv); each entry
below names the copied row and, in a comment, where the location comes from.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pricing.catalog import Catalog, UnknownCatalogItemError

GA = "greenalgorithms_ci_aggregated"  # GreenAlgorithms CI_aggregated.csv @30df2fe
CC = "codecarbon_global_energy_mix"  # codecarbon global_energy_mix.json (OWID)

# (provider, region) -> (dataset, scope, country or subdivision code) of the
# copied row.
PLACED: dict[tuple[str, str], tuple[str, str, str]] = {
    # AWS docs, Supported AWS Regions: "Middle East (Bahrain) | me-south-1".
    # Green Algorithms has no Bahrain row: the preferred country row is copied.
    ("aws", "me-south-1"): (CC, "country", "BH"),
    # Microsoft Learn, Azure regions list (physical location, geography):
    # Santiago/Chile, Berlin and Frankfurt/Germany, Jakarta/Indonesia, Kuala
    # Lumpur/Malaysia, Doha/Qatar, Gaevle/Sweden.
    ("azure", "chilecentral"): (CC, "country", "CL"),
    ("azure", "germanynorth"): (GA, "country", "DE"),
    ("azure", "germanywestcentral"): (GA, "country", "DE"),
    ("azure", "indonesiacentral"): (GA, "country", "ID"),
    ("azure", "malaysiawest"): (CC, "country", "MY"),
    ("azure", "qatarcentral"): (CC, "country", "QA"),
    ("azure", "swedencentral"): (GA, "country", "SE"),
    # Azure location metadata (az account list-locations, physicalLocation,
    # saved in tal66/cloud-regions): Nagpur and Jamnagar, India.
    ("azure", "jioindiacentral"): (GA, "country", "IN"),
    ("azure", "jioindiawest"): (GA, "country", "IN"),
    # Google Cloud Firestore locations: "us-central2 (Oklahoma--private Google
    # Cloud region)".
    ("gcp", "us-central2"): (GA, "subnational", "US-OK"),
    # Lambda Cloud API region descriptions (brevdev/cloud lambdalabs
    # location.go): Osaka and Tokyo (Japan), India, Sydney (New South Wales),
    # Germany, Italy, Israel, Virginia, "Washington D.C" (two regions),
    # Illinois, Texas / North Texas / Central Texas, California, Arizona, Utah.
    ("lambda", "asia-northeast-1"): (GA, "country", "JP"),
    ("lambda", "asia-northeast-2"): (GA, "country", "JP"),
    ("lambda", "asia-south-1"): (GA, "country", "IN"),
    ("lambda", "australia-east-1"): (GA, "subnational", "AU-NSW"),
    ("lambda", "europe-central-1"): (GA, "country", "DE"),
    ("lambda", "europe-south-1"): (GA, "country", "IT"),
    ("lambda", "me-west-1"): (GA, "country", "IL"),
    ("lambda", "us-east-1"): (GA, "subnational", "US-VA"),
    ("lambda", "us-east-2"): (GA, "subnational", "US-DC"),
    ("lambda", "us-east-3"): (GA, "subnational", "US-DC"),
    ("lambda", "us-midwest-1"): (GA, "subnational", "US-IL"),
    ("lambda", "us-south-1"): (GA, "subnational", "US-TX"),
    ("lambda", "us-south-2"): (GA, "subnational", "US-TX"),
    ("lambda", "us-south-3"): (GA, "subnational", "US-TX"),
    ("lambda", "us-west-1"): (GA, "subnational", "US-CA"),
    ("lambda", "us-west-2"): (GA, "subnational", "US-AZ"),
    ("lambda", "us-west-3"): (GA, "subnational", "US-UT"),
    # Nebius docs regions page: eu-north1 Finland, eu-west1 France,
    # us-central1 Kansas City; the Kansas City site is the former Kansas City
    # Star printing plant in Kansas City, Missouri (KSHB, herekansascity).
    ("nebius", "eu-north1"): (GA, "country", "FI"),
    ("nebius", "eu-west1"): (GA, "country", "FR"),
    ("nebius", "us-central1"): (GA, "subnational", "US-MO"),
}

# Default-offer regions the grid catalog still cannot place (none left).
UNPLACED_GRID: frozenset[tuple[str, str]] = frozenset()

# Default-offer providers without a PUE row: no published figure was found
# (Lambda colocates in third-party data centres; no numeric Nebius figure in
# the offline sources). They resolve at the industry average with a warning.
UNPLACED_PUE: frozenset[str] = frozenset({"lambda", "nebius"})


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return Catalog()


@pytest.fixture(scope="module")
def offer_regions(shipped: Catalog) -> set[tuple[str, str]]:
    offers = shipped.default_cloud_offers()
    pairs = offers[["provider", "region"]].drop_duplicates()
    return {(str(p), str(r)) for p, r in pairs.itertuples(index=False)}


def _copied_row(shipped: Catalog, dataset: str, scope: str, code: str) -> pd.Series:
    """The catalog row a derived region row copies, found through the catalog."""
    frame = shipped.frame("grid_intensity")
    column = "subdivision_code" if scope == "subnational" else "country_iso2"
    match = frame[
        (frame["dataset"] == dataset)
        & (frame["scope"] == scope)
        & (frame[column] == code)
    ]
    assert len(match) == 1, (dataset, scope, code)
    return match.iloc[0]


def test_every_placed_region_is_a_default_offer_region(
    offer_regions: set[tuple[str, str]],
) -> None:
    assert set(PLACED) <= offer_regions
    assert len(PLACED) == 31


@pytest.mark.parametrize(("provider", "region"), sorted(PLACED))
def test_placed_region_resolves_to_the_copied_row(
    shipped: Catalog, provider: str, region: str
) -> None:
    dataset, scope, code = PLACED[(provider, region)]
    copied = _copied_row(shipped, dataset, scope, code)
    found = shipped.grid_intensity(provider=provider, cloud_region=region)
    assert found.value == pytest.approx(float(copied["co2e_g_per_kwh"]))
    expected_year = None if pd.isna(copied["year"]) else int(copied["year"])
    assert found.year == expected_year
    assert "derived_region_location" in found.source
    assert dataset in found.source
    assert found.source_date == copied["source_date"]
    # The float lookup agrees with the sourced one.
    assert shipped.grid_intensity_co2e_g_per_kwh(
        provider=provider, cloud_region=region
    ) == pytest.approx(found.value)


def test_derived_region_rows_are_exactly_the_placed_regions(shipped: Catalog) -> None:
    frame = shipped.frame("grid_intensity")
    derived = frame[frame["dataset"] == "derived_region_location"]
    columns = derived[["provider", "cloud_region"]]
    pairs = {(str(p), str(r)) for p, r in columns.itertuples(index=False)}
    assert pairs == set(PLACED)
    assert len(derived) == len(PLACED)
    assert derived["preferred"].all()
    assert (derived["scope"] == "cloud_region").all()


def test_unplaced_grid_regions_are_exactly_the_reported_list(
    shipped: Catalog, offer_regions: set[tuple[str, str]]
) -> None:
    unplaced = set()
    for provider, region in offer_regions:
        try:
            shipped.grid_intensity(provider=provider, cloud_region=region)
        except UnknownCatalogItemError:
            unplaced.add((provider, region))
    assert unplaced == set(UNPLACED_GRID)


def test_unplaced_pue_providers_are_exactly_the_reported_list(
    shipped: Catalog, offer_regions: set[tuple[str, str]]
) -> None:
    unplaced = set()
    for provider in {provider for provider, _ in offer_regions}:
        try:
            shipped.pue(provider)
        except UnknownCatalogItemError:
            unplaced.add(provider)
    assert unplaced == set(UNPLACED_PUE)
