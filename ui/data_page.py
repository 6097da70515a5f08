"""Page: the shipped data catalogs with their sources, filterable, with overlays."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from pricing import catalog

# Largest overlay upload accepted. [bytes]
MAX_OVERLAY_BYTES = 5_000_000


@st.cache_data
def _shipped(name: str) -> pd.DataFrame:
    return catalog.load_catalog(name)


@st.cache_data(max_entries=16)
def _overlaid(name: str, content: bytes, file_name: str) -> pd.DataFrame:
    # Keyed by the upload's bytes: one user's overlay never leaks to another.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / file_name
        path.write_bytes(content)
        return catalog.load_catalog(name, overlay=path)


def render() -> None:
    """Draw one catalog, a text filter and an optional overlay upload."""
    st.title("Data catalogs")
    st.caption(
        "Every row carries its source and date. Upload a CSV with the same columns "
        "(a vendor quote, your tariff) to overlay it: its rows win and are marked "
        "user_supplied."
    )
    name = st.selectbox("Catalog", catalog.CATALOG_NAMES, key="catalog_name")
    upload = st.file_uploader("Overlay CSV", type=["csv"], key="catalog_overlay")
    frame = _shipped(name)
    if upload is not None:
        content = upload.getvalue()
        if len(content) > MAX_OVERLAY_BYTES:
            st.error(f"{upload.name}: larger than {MAX_OVERLAY_BYTES:,} bytes")
        else:
            try:
                frame = _overlaid(name, content, upload.name)
            except catalog.CatalogError as error:
                st.error(
                    "The overlay was not applied; the shipped catalog is shown.\n\n"
                    + "\n".join(f"- {problem}" for problem in error.problems)
                )
    query = st.text_input("Filter rows containing", key="catalog_filter")
    if query:
        text = frame.astype(str).apply(
            lambda column: column.str.contains(query, case=False)
        )
        frame = frame[text.any(axis=1)]
    st.write(f"{len(frame):,} rows")
    st.dataframe(frame, hide_index=True)


render()
