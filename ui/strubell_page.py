"""Page: Strubell, Ganesh & McCallum (2019) recomputed from its inputs."""

import pandas as pd
import streamlit as st

from planner.reference import strubell2019
from ui import common


@st.cache_data(max_entries=16, show_spinner=False)
def _today(overlays: common.OverlayKey = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Keyed by the session's overlays (their content): a cloud_prices overlay
    # prices the paper's runs too.
    catalog = common.catalog_of(overlays)
    return (
        strubell2019.rates_today(catalog=catalog),
        strubell2019.table3_today(catalog=catalog),
    )


@st.cache_data
def _tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, float]]:
    return (
        strubell2019.table1(),
        strubell2019.table3(),
        strubell2019.table4(),
        strubell2019.hardware_vs_cloud(),
    )


def render() -> None:
    """Draw the reproduction of the paper's tables and section 5 comparison."""
    table1, table3, table4, hvc = _tables()
    st.title("Energy and Policy Considerations for Deep Learning in NLP")
    st.caption(
        "Strubell, Ganesh & McCallum, ACL 2019. Every cell below is recomputed from "
        "the paper's inputs (power, hours, rates, PUE 1.58, 0.954 lb CO2e/kWh)."
    )
    left, middle, right = st.columns(3)
    left.metric("58 GPUs as 7.25 servers", f"${hvc['hardware_usd']:,.0f}")
    middle.metric(
        "Cloud on-demand (Table 4)",
        f"${hvc['cloud_on_demand_usd']:,.0f}",
        **common.cost_ratio_delta(hvc["ratio_on_demand_to_hardware"], "hardware"),
    )
    right.metric(
        "Cloud pre-emptible",
        f"${hvc['cloud_preemptible_usd']:,.0f}",
        **common.cost_ratio_delta(hvc["ratio_preemptible_to_hardware"], "hardware"),
    )
    st.subheader("Table 3: cost of training")
    common.show_table(
        table3[
            [
                "model",
                "hardware",
                "hours",
                "hours_used",
                "power_w",
                "kwh_pue",
                "co2e_lbs",
                "cloud_cost_low_usd",
                "cloud_cost_high_usd",
                "note",
            ]
        ].round(2),
    )
    st.subheader("Table 4: the LISA R&D project")
    common.show_table(table4.round(2))
    st.subheader("Table 1: CO2e of familiar consumption and of training")
    common.show_table(table1.round(0))
    st.subheader("The same training runs at today's catalog prices")
    rates, today = _today(common.overlay_key())
    st.caption(
        "Same chips and hours as Table 3, priced at the lowest on-demand and spot "
        "rate per chip-hour in this session's cloud catalog (the shipped one and "
        "any overlay; suspect rows excluded). "
        "The section 5 question for today's hardware is the Quick compare page."
    )
    common.show_table(rates.round(3).reset_index(), key="today_rates")
    common.show_table(today.round(0), key="today_table3")


render()
