"""Page: quick compare of one cloud offer against buying servers."""

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from planner import breakeven, report, tco
from planner.quick import QuickCompare, cloud_offers_for_server, quick_scenario
from planner.scenario import Scenario, ScenarioError, scenario_to_yaml
from pricing import catalog
from ui import common

FIELDS = QuickCompare.model_fields
LAST_VALID = "quick_last_valid"


@st.cache_data(max_entries=64)
def _results(
    scenario_json: str,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, object], pd.DataFrame]:
    scenario = Scenario.model_validate_json(scenario_json)
    evaluation = tco.evaluate(scenario)
    onprem = scenario.strategies[-1].name
    on_demand = scenario.strategies[0].name
    found = breakeven.break_even(scenario, onprem, on_demand, evaluation=evaluation)
    curves = breakeven.screening_curves(
        scenario, onprem, on_demand, resolved=evaluation.resolved
    )
    cumulative = tco.cumulative_costs(evaluation.table, scenario.view)
    return evaluation.summary, cumulative, found.as_dict(), curves


def _inputs_from_widgets() -> dict[str, object]:
    defaults = QuickCompare()
    state = st.session_state
    values: dict[str, object] = {}
    for name in FIELDS:
        values[name] = state.get(f"quick_{name}", getattr(defaults, name))
    offer = state.get("quick_offer")
    if offer:
        values["provider"], values["region"], values["instance_type"] = offer
    if values.get("servers") in (0, None):
        values["servers"] = None
    if values.get("server_price_usd") in (0, 0.0, None):
        values["server_price_usd"] = None
    return values


def render() -> None:
    """Draw the inputs, the verdict, cost curves, screening curves and CO2."""
    st.title("Rent or buy? Quick compare")
    st.caption(
        "One cloud offer under every purchase model against buying servers, over "
        "the servers' life. Defaults come from the shipped catalogs; replace any "
        "number with your own quote, tariff or usage."
    )
    raw = _inputs_from_widgets()
    errors: dict[str, str] = {}
    try:
        inputs = QuickCompare.model_validate(raw)
        scenario = quick_scenario(inputs)
        st.session_state[LAST_VALID] = inputs.model_dump_json()
    except ValidationError as error:
        errors = common.field_errors(error)
        scenario = None
    except (ScenarioError, LookupError, ValueError) as error:
        errors = {"_": str(error)}
        scenario = None

    left, right = st.columns([1, 3])
    with left:
        _draw_inputs(errors)
    if scenario is None:
        previous = st.session_state.get(LAST_VALID)
        right.error(
            "Some inputs are invalid (see beside them); showing the last valid "
            "comparison."
        )
        if errors.get("_"):
            right.error(common.plain(errors["_"]))
        inputs = (
            QuickCompare.model_validate_json(previous) if previous else QuickCompare()
        )
        scenario = quick_scenario(inputs)
    with right:
        _draw_results(scenario)


def _draw_inputs(errors: dict[str, str]) -> None:
    servers = list(catalog.load_catalog("servers")["server"])
    defaults = QuickCompare()
    common.radio(
        FIELDS,
        "demand_kind",
        "Demand given as",
        ["busy_gpus", "gpu_hours"],
        defaults.demand_kind,
        errors,
        key_prefix="quick",
        labels={
            "busy_gpus": "busy accelerators",
            "gpu_hours": "accelerator-hours/year",
        },
    )
    common.number(
        FIELDS, "demand_value", "Demand", defaults.demand_value, errors, "quick"
    )
    common.number(
        FIELDS, "growth_per_year", "Demand growth a year", 0.0, errors, "quick"
    )
    common.number(FIELDS, "peak_to_mean", "Peak to mean", 2.0, errors, "quick")
    server = common.select(
        FIELDS, "server", "Server to buy", servers, defaults.server, errors, "quick"
    )
    offers = cloud_offers_for_server(str(server)) if server in servers else []
    default_offer = (defaults.provider, defaults.region, defaults.instance_type)
    index = offers.index(default_offer) if default_offer in offers else 0
    if offers:
        st.selectbox(
            "Cloud offer with the same accelerator",
            offers,
            index=index,
            format_func=lambda o: f"{o[0]} {o[1]} {o[2]}",
            key="quick_offer",
            help="Cheapest per accelerator-hour first (cloud_prices catalog).",
        )
    else:
        st.warning("No cloud offer in the catalog has this server's accelerator.")
    common.number(
        FIELDS, "servers", "Servers (0 = enough for the mean)", 0, errors, "quick"
    )
    common.number(
        FIELDS,
        "server_price_usd",
        "Your server quote, USD (0 = catalog estimate)",
        0.0,
        errors,
        "quick",
    )
    common.number(FIELDS, "lifetime_years", "Lifetime, years", 5, errors, "quick")
    common.number(FIELDS, "pue", "PUE", defaults.pue, errors, "quick")
    common.number(
        FIELDS,
        "electricity_usd_per_kwh",
        "Electricity, USD/kWh",
        defaults.electricity_usd_per_kwh,
        errors,
        "quick",
    )
    common.number(
        FIELDS,
        "grid_co2e_g_per_kwh",
        "Grid, g CO2e/kWh",
        defaults.grid_co2e_g_per_kwh,
        errors,
        "quick",
    )
    common.number(
        FIELDS,
        "indirect_cost_rate",
        "F&A on cloud (0.55 = 55 %)",
        defaults.indirect_cost_rate,
        errors,
        "quick",
    )
    common.number(
        FIELDS, "staff_fte", "Staff, FTE", defaults.staff_fte, errors, "quick"
    )
    common.number(
        FIELDS,
        "real_discount_rate",
        "Real discount rate",
        defaults.real_discount_rate,
        errors,
        "quick",
    )
    common.number(
        FIELDS,
        "cloud_price_change_per_year",
        "Cloud price change a year",
        defaults.cloud_price_change_per_year,
        errors,
        "quick",
    )


def _draw_results(scenario: Scenario) -> None:
    summary, cumulative, found, curves = _results(scenario.model_dump_json())
    cheapest = summary.sort_values("npv_usd").iloc[0]
    st.success(
        f"Cheapest over {scenario.horizon_years} years: **{cheapest['strategy']}** "
        f"(present value ${cheapest['npv_usd']:,.0f}). {found['explanation']}"
    )
    columns = st.columns(4)
    columns[0].metric("Break-even utilisation", common.percent(found["utilisation"]))
    columns[1].metric(
        "Cloud premium at full use",
        "-" if found["cloud_premium"] is None else f"{found['cloud_premium']:.2f}x",
    )
    columns[2].metric(
        "Break-even year",
        "never" if found["calendar_year"] is None else str(found["calendar_year"]),
    )
    columns[3].metric(
        "Utilisation of the servers", common.percent(found["scenario_utilisation"])
    )
    cost_tab, screening_tab, carbon_tab, table_tab = st.tabs(
        ["Cumulative cost", "Screening curve", "CO2e", "Table and downloads"]
    )
    with cost_tab:
        st.altair_chart(
            common.cumulative_chart(cumulative, found["year"]), width="stretch"
        )
    with screening_tab:
        st.altair_chart(_screening_chart(curves, found["utilisation"]), width="stretch")
        st.caption(
            "Equivalent annual cost of one reference accelerator (A100-80GB "
            "equivalent) against the share of hours it is busy. The lowest line "
            "wins at each utilisation; where the server line crosses on-demand is "
            "the break-even utilisation (before opex it is 1 / cloud premium)."
        )
    with carbon_tab:
        st.altair_chart(common.carbon_chart(summary), width="stretch")
    with table_tab:
        st.dataframe(report.summary_table_from(summary), hide_index=True)
        st.download_button(
            "Scenario (YAML)",
            scenario_to_yaml(scenario),
            file_name="quick_compare.yaml",
            key="quick_download_yaml",
        )
        st.download_button(
            "Summary (CSV)",
            summary.to_csv(index=False),
            file_name="quick_compare_summary.csv",
            key="quick_download_csv",
        )


def _screening_chart(curves: pd.DataFrame, utilisation: float | None) -> alt.Chart:
    lines = (
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X("utilisation:Q", axis=alt.Axis(format="%"), title="Utilisation"),
            y=alt.Y(
                "cost_usd_per_reference_accelerator_year:Q",
                title="USD per reference accelerator-year",
            ),
            color=alt.Color("option:N", title=None),
        )
    )
    if utilisation is None:
        return lines
    rule = (
        alt.Chart(pd.DataFrame({"utilisation": [utilisation]}))
        .mark_rule(strokeDash=[4, 4])
        .encode(x="utilisation:Q")
    )
    return lines + rule


render()
