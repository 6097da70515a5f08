"""Page: the shipped data catalogs with their sources, filterable, with overlays."""

import pandas as pd
import streamlit as st

from planner import display
from planner.safe_io import clip
from pricing import catalog
from ui import common

# Largest overlay upload accepted: the catalog's own limit, in UTF-8 bytes of
# ASCII text (about 5 MB; an overlay is a quote or a tariff). [bytes]
MAX_OVERLAY_BYTES = catalog.MAX_OVERLAY_CHARACTERS


KEY_COLUMNS = {
    "cloud_prices": (
        "provider",
        "region",
        "instance_type",
        "accelerator_model",
        "accelerator_count",
        "on_demand_usd_per_hour",
        "spot_usd_per_hour",
        "currency_year",
        "quality_flag",
        "source_date",
        "source",
    ),
    "servers": (
        "server",
        "accelerator_model",
        "accelerator_count",
        "server_price_usd",
        "max_power_w",
        "idle_power_w",
        "embodied_co2e_kg",
        "currency_year",
        "source_date",
        "source",
    ),
    "accelerators": (
        "accelerator_model",
        "vendor",
        "memory_gb",
        "tdp_w",
        "relative_throughput",
        "launch_price_usd",
        "release_year",
        "source_date",
        "source",
    ),
    "electricity_prices": (
        "country_iso2",
        "subdivision_code",
        "name",
        "sector",
        "price_usd_per_kwh",
        "year",
        "currency_year",
        "source_date",
        "source",
    ),
    "grid_intensity": (
        "country_iso2",
        "subdivision_code",
        "name",
        "provider",
        "cloud_region",
        "co2e_g_per_kwh",
        "year",
        "source_date",
        "source",
    ),
}
"""Columns shown first (the rest behind "Show every column"): the key and the
value of each row, then its date and source."""


@st.cache_data(max_entries=16, show_spinner=False)
def _shipped(name: str) -> pd.DataFrame:
    return catalog.load_catalog(name)


@st.cache_data(max_entries=16)
def _overlaid(name: str, text: str, label: str) -> pd.DataFrame:
    # Keyed by the upload's content: one user's overlay never leaks to another.
    # The text is parsed in memory; nothing is written to disk.
    return catalog.Catalog().with_overlay(name, text, label=label).frame(name)


def _overlay_problems(
    name: str, upload: object
) -> tuple[pd.DataFrame | None, list[str]]:
    """The overlaid catalog, or the reasons it was refused."""
    label = common.upload_label(str(getattr(upload, "name", "overlay.csv")))
    content: bytes = upload.getvalue()  # type: ignore[attr-defined]
    if len(content) > MAX_OVERLAY_BYTES:
        return None, [f"{label}: larger than {MAX_OVERLAY_BYTES:,} bytes"]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return None, [f"{label}: not UTF-8 text (byte {error.start:,})"]
    try:
        return _overlaid(name, text, label), []
    except catalog.CatalogError as error:
        # A problem may quote a whole header cell: one short line each.
        return None, [clip(str(problem), 300) for problem in error.problems]
    except ValueError as error:
        return None, [f"{label}: {error}"]


def render() -> None:
    """Draw one catalog, a text filter and an optional overlay upload."""
    st.title("Data catalogs")
    st.caption(
        "Every row carries its source and date. Upload a CSV with the same columns "
        "(a vendor quote, your tariff) to overlay it: its rows win and are marked "
        "user_supplied."
    )
    name = st.selectbox("Catalog", catalog.CATALOG_NAMES, key="catalog_name")
    upload = st.file_uploader(
        "Overlay CSV",
        type=["csv"],
        key="catalog_overlay",
        max_upload_size=-(-MAX_OVERLAY_BYTES // 1_000_000),  # MB, rounded up
    )
    frame = _shipped(name)
    if upload is not None:
        overlaid, problems = _overlay_problems(name, upload)
        if overlaid is not None:
            frame = overlaid
        else:
            common.show_error(
                "The overlay was not applied; the shipped catalog is shown.\n"
                + "\n".join(f"- {problem}" for problem in problems[:50])
            )
    query = st.text_input("Filter rows containing", key="catalog_filter")
    if query:
        text = frame.astype(str).apply(
            lambda column: column.str.contains(query, case=False, regex=False)
        )
        frame = frame[text.any(axis=1)]
    st.write(f"{len(frame):,} rows")
    every = st.checkbox("Show every column", key="catalog_all_columns")
    key = [c for c in KEY_COLUMNS.get(name, ()) if c in frame.columns]
    order = list(frame.columns) if every or not key else key
    common.show_table(
        frame,
        column_order=order,
        column_config={
            column: st.column_config.TextColumn(
                display.column_label(column), width="medium"
            )
            for column in ("source", "notes", "source_date")
            if column in frame.columns
        }
        | {
            column: st.column_config.NumberColumn(
                display.column_label(column), format="%.4f"
            )
            for column in frame.columns
            if column.endswith(("_usd_per_hour", "_usd_per_kwh", "_accelerator_hour"))
        },
    )


render()
