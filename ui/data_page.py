"""Page: the data catalogs with their sources, filterable, and the session's overlays.

An overlay uploaded here is kept for the session (:mod:`ui.state`, one per
catalog) and every page prices with it (:func:`ui.common.session_catalog`)
until it is removed here.
"""

import hashlib

import pandas as pd
import streamlit as st

from planner import display
from planner.safe_io import clip
from pricing import catalog
from ui import common, state

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
def _frame(name: str, key: common.OverlayKey) -> pd.DataFrame:
    # Keyed by the overlays' content: one user's overlay never leaks to another.
    # The text is parsed in memory; nothing is written to disk.
    return common.catalog_of(key).frame(name)


UPLOAD = "catalog_overlay_upload"
"""Session-state key of the last upload handled: (catalog, digest, problems)."""


def _decoded(upload: object) -> tuple[str, str | None, list[str]]:
    """The upload's label and text, or the reason it cannot be read."""
    label = common.upload_label(str(getattr(upload, "name", "overlay.csv")))
    content: bytes = upload.getvalue()  # type: ignore[attr-defined]
    if len(content) > MAX_OVERLAY_BYTES:
        return label, None, [f"{label}: larger than {MAX_OVERLAY_BYTES:,} bytes"]
    try:
        return label, content.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        return label, None, [f"{label}: not UTF-8 text (byte {error.start:,})"]


def _apply(name: str, label: str, text: str) -> list[str]:
    """Keep the overlay for the session if the catalog it makes is valid."""
    overlay = catalog.Overlay(name, label, text)
    try:
        common.catalog_of(common.overlay_key(state.with_overlay(overlay)))
    except catalog.CatalogError as error:
        # A problem may quote a whole header cell: one short line each.
        return [clip(str(problem), 300) for problem in error.problems]
    except ValueError as error:
        return [f"{label}: {error}"]
    state.add_overlay(overlay)
    return []


def _upload(name: str, upload: object) -> list[str]:
    """Apply a new upload to catalog ``name``; the problems of the current one.

    An upload is applied once (then the session holds it, on every page);
    removing the overlay does not bring it back while the file stays in the
    uploader, and the same file is not applied again to another catalog.
    """
    session = st.session_state
    label, text, problems = _decoded(upload)
    digest = hashlib.sha256(upload.getvalue()).hexdigest()  # type: ignore[attr-defined]
    handled = session.get(UPLOAD)
    if (
        handled is not None
        and handled[1] == digest
        and (handled[0] == name or not handled[2])
    ):
        return list(handled[2])
    if text is not None:
        problems = _apply(name, label, text)
    session[UPLOAD] = (name, digest, problems)
    if not problems:
        st.rerun()  # every line above (the banner) shows the new overlay
    return problems


def _remove(name: str) -> None:
    """Drop the session's overlay of one catalog, unless another one needs it."""
    try:
        common.catalog_of(common.overlay_key(state.without_overlay(name)))
    except catalog.CatalogError as error:
        st.session_state["catalog_remove_problems"] = [
            f"{name} was kept: the other overlays need it ({clip(str(p), 200)})"
            for p in error.problems[:5]
        ]
        return
    st.session_state["catalog_remove_problems"] = []
    state.remove_overlay(name)


def _overlays() -> None:
    """The session's overlays, each with its remove button."""
    for overlay in state.overlays():
        left, right = st.columns([4, 1])
        left.caption(common.plain(f"{overlay.catalog}: {overlay.label}"))
        right.button(
            f"Remove {overlay.label}",
            key=f"catalog_remove|{overlay.catalog}",
            on_click=_remove,
            args=(overlay.catalog,),
            help="Every page goes back to the shipped rows of this catalog.",
        )
    for problem in st.session_state.get("catalog_remove_problems", []):
        common.show_error(problem)


def render() -> None:
    """Draw one catalog, a text filter, an overlay upload and the session's overlays."""
    st.title("Data catalogs")
    st.caption(
        "Every row carries its source and date. Upload a CSV with the same columns "
        "(a vendor quote, your tariff) to overlay the catalog chosen: its rows win, "
        "are marked user_supplied, and every page of this session prices with them "
        "(not a shared link: a link holds the inputs, never your files)."
    )
    name = st.selectbox("Catalog", catalog.CATALOG_NAMES, key="catalog_name")
    upload = st.file_uploader(
        "Overlay CSV (for the catalog chosen above)",
        type=["csv"],
        key="catalog_overlay",
        max_upload_size=-(-MAX_OVERLAY_BYTES // 1_000_000),  # MB, rounded up
    )
    if upload is not None:
        problems = _upload(name, upload)
        if problems:
            common.show_error(
                "The overlay was not applied; the catalog is shown without it.\n"
                + "\n".join(f"- {problem}" for problem in problems[:50])
            )
    else:
        st.session_state.pop(UPLOAD, None)
    _overlays()
    frame = _frame(name, common.overlay_key())
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
