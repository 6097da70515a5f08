"""Where a machine room is: a place's tariff, grid intensity and PUE, with sources.

A place is a country (``DE``), a US state (``US-MA``) or a cloud region
(``aws:us-east-1``), as listed by :meth:`pricing.catalog.Catalog.places`.
:func:`place_defaults` gives the values a form fills in when a place is chosen,
each a :class:`pricing.catalog.SourcedValue` (value, data year, source), and the
``location`` a :class:`planner.scenario.Site` takes (a cloud region's country or
state). :func:`site_fields` turns the values a user kept or edited back into
``Site`` fields: a value still equal to what the location alone looks up is left
blank, so the engine looks it up itself (converted by CPI, its source in the
assumptions); an edited value, or a cloud region's own grid intensity, is given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from pricing.catalog import Catalog, SourcedValue

PLACE_KIND_LABELS = {
    "country": "country",
    "subdivision": "US state",
    "cloud_region": "cloud region",
}
"""Words for each ``place_kind`` of :meth:`pricing.catalog.Catalog.places`."""


@dataclass(frozen=True)
class PlaceDefaults:
    """What choosing a place fills in, each value with its source."""

    place_id: str
    """Key of the place (``DE``, ``US-MA``, ``aws:us-east-1``)."""
    label: str
    """Name of the place in words."""
    location: str
    """``Site.location`` for it: the ISO country or US state. [-]"""
    electricity: SourcedValue
    """Commercial tariff of the location. [USD/kWh, of ``currency_year``]"""
    grid: SourcedValue
    """Grid carbon intensity of the place. [g CO2e/kWh]"""
    grid_from_location: bool
    """True if ``grid`` is what ``location`` alone looks up (False for a cloud
    region with its own value)."""
    pue: SourcedValue | None
    """PUE of the place when the pue catalog has one (cloud regions). [-]"""


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


LOCATION_PATTERN = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
"""What ``Site.location`` accepts: an ISO country or subdivision code."""


def _usable(places: pd.DataFrame) -> pd.DataFrame:
    """Places a scenario can name and a lookup can answer.

    A cloud region needs its region's name; every place needs a location that
    ``Site.location`` accepts (the catalog's ``US-usa`` row does not).
    """
    region = places["cloud_region"].astype("string").fillna("").str.strip()
    unnamed = (places["place_kind"] == "cloud_region") & region.isin(["", "nan"])
    location = places["place_id"].where(
        places["place_kind"] != "cloud_region", places["electricity_place"]
    )
    valid = location.astype("string").fillna("").str.fullmatch(LOCATION_PATTERN)
    return places[~unnamed & valid.fillna(False).astype(bool)]


def _label(row: pd.Series) -> str:
    kind = str(row["place_kind"])
    name = _text(row["name"])
    if kind == "subdivision":
        name = name.removeprefix("United States of America - ")
        return f"{name} ({PLACE_KIND_LABELS[kind]})"
    if kind == "cloud_region":
        where = _text(row["subdivision_code"]) or _text(row["country_iso2"])
        region = _text(row["cloud_region"])
        described = f", {name}" if name and name != where else ""
        return f"{_text(row['provider'])} {region} (cloud region in {where}{described})"
    return f"{name} ({PLACE_KIND_LABELS.get(kind, kind)})"


def place_options(catalog: Catalog | None = None) -> pd.DataFrame:
    """Places with a tariff and a grid intensity, labelled for a selector.

    Parameters
    ----------
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    pandas.DataFrame
        ``place_id``, ``place_kind`` and ``label`` (name, kind and, for a cloud
        region, where it is), countries first, then US states, then cloud
        regions, each by label. A place no scenario can name (a cloud region
        without a region name, a location ``Site`` refuses) is left out.

    Examples
    --------
    >>> options = place_options()
    >>> options.set_index("place_id").loc["DE", "label"]
    'Germany (country)'
    >>> options.set_index("place_id").loc["US-MA", "label"]
    'Massachusetts (US state)'
    """
    places = _usable((catalog or Catalog()).places())
    labels = [_label(row) for _, row in places.iterrows()]
    order = {"country": 0, "subdivision": 1, "cloud_region": 2}
    frame = pd.DataFrame(
        {
            "place_id": places["place_id"].astype(str),
            "place_kind": places["place_kind"].astype(str),
            "label": labels,
        }
    )
    frame["_order"] = frame["place_kind"].map(order).fillna(3)
    frame = frame.sort_values(["_order", "label"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _pue_of_region(catalog: Catalog, provider: str, region: str) -> SourcedValue | None:
    frame = catalog.frame("pue")
    rows = frame[(frame["facility"] == provider) & (frame["region"] == region)]
    if rows.empty:
        return None
    rows = rows.sort_values(["preferred", "year"], ascending=False, na_position="last")
    row = rows.iloc[0]
    year = row["year"]
    return SourcedValue(
        value=float(row["pue"]),
        unit="-",
        year=None if pd.isna(year) else int(year),
        currency_year=None,
        source=str(row["source"]),
        source_date=_text(row["source_date"]),
        user_supplied=bool(row.get("user_supplied", False)),
    )


def _location_keys(location: str) -> dict[str, str]:
    if "-" in location:
        return {"subdivision_code": location}
    return {"country_iso2": location}


def place_defaults(place_id: str, catalog: Catalog | None = None) -> PlaceDefaults:
    """The tariff, grid intensity and PUE a place fills in, with their sources.

    Parameters
    ----------
    place_id : str
        A ``place_id`` of :func:`place_options`.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    PlaceDefaults
        The values and the ``Site.location`` for the place.

    Raises
    ------
    LookupError
        If the place is not in the catalogs.

    Examples
    --------
    >>> found = place_defaults("DE")
    >>> found.location, found.electricity.unit, found.grid.unit, found.pue
    ('DE', 'USD/kWh', 'g CO2e/kWh', None)
    >>> region = place_defaults("gcp:europe-west1")
    >>> region.location, region.grid_from_location, region.pue is not None
    ('BE', False, True)
    """
    catalog = catalog or Catalog()
    places = _usable(catalog.places())
    rows = places[places["place_id"] == place_id]
    if rows.empty:
        msg = f"no place {place_id!r} in the catalogs (see place_options())"
        raise LookupError(msg)
    row = rows.iloc[0]
    label = _label(row)
    kind = str(row["place_kind"])
    if kind == "cloud_region":
        location = _text(row["electricity_place"]) or _text(row["country_iso2"])
        provider, region = _text(row["provider"]), _text(row["cloud_region"])
        grid = catalog.grid_intensity(provider=provider, cloud_region=region)
        pue = _pue_of_region(catalog, provider, region)
    else:
        location = place_id
        grid = catalog.grid_intensity(**_location_keys(location))
        pue = None
    electricity = catalog.electricity_price(**_location_keys(location))
    from_location = catalog.grid_intensity(**_location_keys(location))
    return PlaceDefaults(
        place_id=place_id,
        label=label,
        location=location,
        electricity=electricity,
        grid=grid,
        grid_from_location=grid.value == from_location.value,
        pue=pue,
    )


def site_fields(
    place: PlaceDefaults,
    *,
    electricity_usd_per_kwh: float,
    grid_co2e_g_per_kwh: float,
) -> dict[str, object]:
    """``Site`` fields for a place and the values a user kept or edited.

    Parameters
    ----------
    place : PlaceDefaults
        The chosen place.
    electricity_usd_per_kwh : float
        Tariff shown to (and maybe edited by) the user. [USD/kWh]
    grid_co2e_g_per_kwh : float
        Grid intensity shown to (and maybe edited by) the user. [g CO2e/kWh]

    Returns
    -------
    dict
        ``location``, ``electricity_usd_per_kwh`` and ``grid_co2e_g_per_kwh``:
        a value equal to the location's own lookup is None (the engine looks it
        up, with its source), any other is given.

    Examples
    --------
    >>> place = place_defaults("DE")
    >>> site_fields(place, electricity_usd_per_kwh=place.electricity.value,
    ...             grid_co2e_g_per_kwh=300.0)["electricity_usd_per_kwh"] is None
    True
    """
    tariff: float | None = electricity_usd_per_kwh
    if electricity_usd_per_kwh == place.electricity.value:
        tariff = None
    grid: float | None = grid_co2e_g_per_kwh
    if place.grid_from_location and grid_co2e_g_per_kwh == place.grid.value:
        grid = None
    return {
        "location": place.location,
        "electricity_usd_per_kwh": tariff,
        "grid_co2e_g_per_kwh": grid,
    }


def describe(value: SourcedValue) -> str:
    """One line: the value, its unit, data year and source.

    Examples
    --------
    >>> describe(SourcedValue(0.2061, "USD/kWh", 2024, 2024, "EIA", "2024-09-24"))
    '0.2061 USD/kWh, 2024 data (EIA, 2024-09-24)'
    """
    year = f"{value.year} data" if value.year is not None else "data year not stated"
    mine = "your overlay, " if value.user_supplied else ""
    unit = "" if value.unit == "-" else f" {value.unit}"
    return f"{value.value:g}{unit}, {year} ({mine}{value.source}, {value.source_date})"
