"""Page: quick compare of one cloud offer, buying servers, and both (hybrid).

Widgets are drawn first and their values build a ``QuickCompare`` in the same
run, so the verdict, the metrics and every chart come from the inputs on screen
(never the previous run's). The inputs are the session's quick part
(:mod:`ui.state`): kept across pages and in the address.
"""

from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from planner import breakeven, display, tco, verdict
from planner.demand_units import convert_demand
from planner.quick import QuickCompare
from planner.quick_hybrid import quick_scenario_with_hybrid
from planner.resolve import ResolvedOwnedStrategy
from planner.safe_io import clip
from planner.scenario import Scenario, ScenarioError, replace, scenario_to_yaml
from ui import common, state

FIELDS = QuickCompare.model_fields
PART = "quick"
VIEW_LABELS = {
    "institution": "Institution (economic cost)",
    "award": f"Award (what the grant pays, with {display.INDIRECT})",
}
PANELS = {
    "cost": "Cumulative cost",
    "yearly": "Year by year",
    "screening": "Screening curve",
    "co2e": "CO2e",
    "sources": "Sources",
    "summary": "Table and downloads",
}
DEMAND_LABELS = {
    "busy_gpus": "busy GPUs (average)",
    "gpu_hours": "GPU-hours a year",
}


@st.cache_data(max_entries=64, show_spinner=False)
def _results(scenario_json: str, overlays: common.OverlayKey = ()) -> dict[str, Any]:
    """Every number the page shows, from one evaluation.

    Cached by the scenario and the session's overlays (their content).
    """
    scenario = Scenario.model_validate_json(scenario_json)
    catalog = common.catalog_of(overlays)
    evaluation = tco.evaluate(scenario, catalog=catalog)
    owned = next(s for s in scenario.strategies if s.kind == "onprem")
    on_demand = scenario.strategies[0].name
    found = breakeven.break_even(scenario, owned.name, on_demand, evaluation=evaluation)
    curves = breakeven.screening_curves(
        scenario, owned.name, on_demand, resolved=evaluation.resolved
    )
    resolved = evaluation.resolved.strategy(owned.name)
    assert isinstance(resolved, ResolvedOwnedStrategy)
    recommendations = verdict.recommendations(evaluation)
    row = catalog.server(str(getattr(owned, "server", "")))
    return {
        "summary": evaluation.summary,
        "table": evaluation.table[
            ["strategy", "calendar_year", "co2e_scope", "co2e_kg"]
        ],
        "cumulative": tco.cumulative_costs(evaluation.table, scenario.view),
        "yearly": tco.yearly_table(evaluation),
        "found": found.as_dict(),
        "curves": curves,
        "recommendations": {k: v.as_dict() for k, v in recommendations.items()},
        "headline": verdict.headline(recommendations),
        "owned": owned.name,
        "server_price_usd": resolved.server.server_price_usd,
        "server_from_overlay": bool(row.get("user_supplied", False)),
        "servers": resolved.servers,
        "sized": resolved.sized,
        "server_sources": list(resolved.server.sources),
        "assumptions": list(evaluation.resolved.assumptions),
        "warnings": list(evaluation.warnings),
    }


def _servers() -> list[str]:
    return common.servers(common.overlay_key())[0]


def _offers(server: str) -> list[str]:
    return common.cloud_offers(server, common.overlay_key())


def _convert_unit() -> None:
    """Switching the demand unit converts the number (the work stays the same)."""
    session = st.session_state
    before = state.get(PART, state.QuickPart).inputs.demand_kind
    after = session.get("quick_demand_kind", before)
    if "quick_demand_value" in session and after != before:
        session["quick_demand_value"] = convert_demand(
            float(session["quick_demand_value"]), before, after
        )


def _new_server() -> None:
    """A new server keeps the offer if it fits, else takes the cheapest."""
    session = st.session_state
    offers = _offers(str(session.get("quick_server")))
    if offers and session.get("quick_offer") not in offers:
        session["quick_offer"] = offers[0]


def _inputs(part: state.QuickPart, errors: dict[str, str]) -> dict[str, Any]:
    """Draw the inputs (values from the session's question); return them."""
    values = part.inputs
    raw: dict[str, Any] = {}
    kind = st.radio(
        common.label(FIELDS, "demand_kind"),
        list(DEMAND_LABELS),
        format_func=DEMAND_LABELS.get,
        horizontal=True,
        key=state.bind("quick_demand_kind", values.demand_kind),
        on_change=_convert_unit,
        help=FIELDS["demand_kind"].description,
    )
    raw["demand_kind"] = kind
    raw["demand_value"] = st.number_input(
        f"Demand, {DEMAND_LABELS[str(kind)]}",
        min_value=0.0,
        step=1.0 if kind == "busy_gpus" else 10_000.0,
        format="%.1f" if kind == "busy_gpus" else "%.0f",
        key=state.bind("quick_demand_value", float(values.demand_value)),
        help=FIELDS["demand_value"].description,
    )
    common.error_below(errors, "demand_value", "demand_kind")
    servers = _servers()
    server = st.selectbox(
        common.label(FIELDS, "server"),
        servers,
        key=state.bind("quick_server", values.server),
        on_change=_new_server,
        help=FIELDS["server"].description,
    )
    raw["server"] = server
    left_out = common.servers(common.overlay_key())[1]
    if left_out:
        st.caption(
            common.plain(
                f"Not offered: {', '.join(left_out)} (the catalog has no relative "
                "throughput for its accelerator)."
            )
        )
    offers = _offers(str(server))
    current = f"{values.provider}|{values.region}|{values.instance_type}"
    if offers:
        offer = st.selectbox(
            "Cloud offer with the same accelerator",
            offers,
            key=state.bind("quick_offer", current if current in offers else offers[0]),
            format_func=lambda o: o.replace("|", " "),
            help="Cheapest per accelerator-hour first (this session's cloud_prices "
            "catalog, your overlay included).",
        )
        raw["provider"], raw["region"], raw["instance_type"] = str(offer).split("|")
    else:
        st.warning("No cloud offer in the catalog has this server's accelerator.")
        errors.setdefault("_", "no cloud offer has this server's accelerator")
    servers_count = st.number_input(
        "Servers bought (0 = the cheapest count at equal service)",
        min_value=0,
        step=1,
        key=state.bind("quick_servers", int(values.servers or 0)),
        help=FIELDS["servers"].description,
    )
    raw["servers"] = int(servers_count) or None
    quote = st.number_input(
        "Your quote for one server, USD (0 = the catalog's estimate)",
        min_value=0.0,
        step=1_000.0,
        format="%.0f",
        key=state.bind("quick_server_price_usd", float(values.server_price_usd or 0)),
        help=FIELDS["server_price_usd"].description,
    )
    raw["server_price_usd"] = float(quote) or None
    common.error_below(errors, "servers", "server_price_usd", "server")
    raw["lifetime_years"] = st.number_input(
        common.label(FIELDS, "lifetime_years"),
        min_value=1,
        step=1,
        key=state.bind("quick_lifetime_years", int(values.lifetime_years)),
        help=FIELDS["lifetime_years"].description,
    )
    common.error_below(errors, "lifetime_years")
    st.markdown("**Site**")
    place, site, pue = common.place_inputs(
        "quick",
        place=part.place,
        location=values.location,
        electricity=values.electricity_usd_per_kwh,
        grid=values.grid_co2e_g_per_kwh,
        pue=values.pue,
    )
    raw["location"] = site["location"] or values.location
    raw["electricity_usd_per_kwh"] = site["electricity_usd_per_kwh"]
    raw["grid_co2e_g_per_kwh"] = site["grid_co2e_g_per_kwh"]
    raw["pue"] = pue
    raw["_place"] = place
    common.error_below(
        errors, "pue", "location", "electricity_usd_per_kwh", "grid_co2e_g_per_kwh"
    )
    with st.expander("Demand shape, institution and money", expanded=False):
        for name, step, fmt in (
            ("growth_per_year", 0.01, "%.2f"),
            ("peak_to_mean", 0.1, "%.2f"),
            ("indirect_cost_rate", 0.01, "%.2f"),
            ("staff_fte", 0.05, "%.2f"),
            ("real_discount_rate", 0.005, "%.3f"),
        ):
            raw[name] = st.number_input(
                common.label(FIELDS, name),
                step=step,
                format=fmt,
                key=state.bind(f"quick_{name}", float(getattr(values, name))),
                help=FIELDS[name].description,
            )
            common.error_below(errors, name)
        trend = values.cloud_price_change_per_year
        catalog_trend = st.checkbox(
            "Cloud prices follow the catalog's trend for a fixed SKU",
            key=state.bind("quick_catalog_trend", trend is None),
            help=FIELDS["cloud_price_change_per_year"].description,
        )
        if catalog_trend:
            raw["cloud_price_change_per_year"] = None
        else:
            raw["cloud_price_change_per_year"] = st.number_input(
                common.label(FIELDS, "cloud_price_change_per_year"),
                step=0.01,
                format="%.3f",
                key=state.bind(
                    "quick_cloud_price_change_per_year",
                    float(trend if trend is not None else 0.0),
                ),
            )
        common.error_below(errors, "cloud_price_change_per_year")
    return raw


def render() -> None:
    """Draw the inputs, then the verdict and results of exactly those inputs."""
    st.title("Rent, buy or both? Quick compare")
    st.caption(
        "One cloud offer under every purchase model, buying servers, and owning "
        "servers that burst to the offer (hybrid), over the servers' life at equal "
        "service. Defaults come from the shipped catalogs, each with its source "
        "(see Sources); replace any number with your own quote, tariff or usage."
    )
    state.problem_banner(common.show_error)
    part = state.get(PART, state.QuickPart)
    errors: dict[str, str] = dict(st.session_state.get("quick_errors", {}))
    left, right = st.columns([1, 3])
    with left:
        raw = _inputs(part, errors)
    with right:
        view = st.radio(
            "Whose cost the tables and charts show",
            list(VIEW_LABELS),
            format_func=VIEW_LABELS.get,
            horizontal=True,
            key=state.bind("quick_view", part.view),
            help=Scenario.model_fields["view"].description,
        )
    place = raw.pop("_place")
    new_errors: dict[str, str] = {}
    scenario = None
    catalog = common.session_catalog()
    try:
        inputs = QuickCompare.model_validate(raw)
        scenario = replace(
            quick_scenario_with_hybrid(inputs, catalog=catalog), view=view
        )
        state.store(PART, state.QuickPart(inputs=inputs, place=place, view=view))
    except ValidationError as error:
        new_errors = common.field_errors(error)
    except (ScenarioError, LookupError, ValueError) as error:
        new_errors = {"_": str(error)}
    if new_errors != st.session_state.get("quick_errors", {}):
        st.session_state["quick_errors"] = new_errors
        if set(new_errors) - {"_"} or set(errors) - {"_"}:
            st.rerun()  # draw each message beside its field
    with right:
        if scenario is None:
            st.error(
                "Some inputs are invalid (see beside them); showing the last valid "
                "comparison."
            )
            if new_errors.get("_"):
                common.show_error(new_errors["_"])
            last = state.get(PART, state.QuickPart)
            scenario = replace(
                quick_scenario_with_hybrid(last.inputs, catalog=catalog),
                view=last.view,
            )
        _draw_results(scenario)


def _verdict(results: dict[str, Any], view: str) -> None:
    recommendations = results["recommendations"]
    chosen = recommendations[view]
    other_view = "award" if view == "institution" else "institution"
    other = recommendations[other_view]
    st.success(common.plain(chosen["sentence"]))
    if other["strategy"] != chosen["strategy"]:
        st.warning(common.plain("The views differ. " + other["sentence"]))
    else:
        st.info(common.plain(other["sentence"]))
    flips = chosen.get("flips_if") or []
    if flips:
        st.caption(common.plain("What would change the answer: " + "; ".join(flips)))


def _draw_results(scenario: Scenario) -> None:
    try:
        results = _results(scenario.model_dump_json(), common.overlay_key())
    except ValueError as error:  # the engine refuses an input (said in words)
        for line in (getattr(error, "problems", None) or [str(error)])[:20]:
            common.show_error(line)
        return
    found = results["found"]
    view = scenario.view
    _verdict(results, view)
    common.sensitivity_details(
        common.sensitivity_sentence(scenario), scenario, key="quick"
    )
    common.answer_warnings(results["warnings"])
    top = st.columns(3)
    bottom = st.columns(3)
    price_note = (
        "your quote"
        if _has_quote(scenario)
        else "your overlay"
        if results["server_from_overlay"]
        else "catalog estimate"
    )
    top[0].metric(
        f"Server price ({price_note})",
        common.money(results["server_price_usd"]),
        help=common.plain(clip("; ".join(results["server_sources"]), 900)) or None,
    )
    top[1].metric(
        "Servers" + (" (sized to the demand)" if results["sized"] else ""),
        f"{results['servers']:g}",
    )
    top[2].metric("Break-even utilisation", common.percent(found["utilisation"]))
    bottom[0].metric(
        "Cloud premium at full use",
        "-" if found["cloud_premium"] is None else f"{found['cloud_premium']:.2f}x",
    )
    bottom[1].metric(
        "Utilisation of the servers", common.percent(found["scenario_utilisation"])
    )
    bottom[2].metric(
        "Break-even year",
        "never" if found["calendar_year"] is None else str(found["calendar_year"]),
    )
    st.caption(common.plain(found["explanation"]))
    panel = st.radio(
        "Show",
        list(PANELS),
        horizontal=True,
        key="quick_panel",
        format_func=PANELS.get,
        label_visibility="collapsed",
        help="One view at a time: each is drawn from the same evaluation.",
    )
    if panel == "cost":
        st.altair_chart(
            common.cumulative_chart(
                results["cumulative"], found["calendar_year"], view
            ),
            width="stretch",
            height=common.CHART_HEIGHT + 140,
        )
    elif panel == "yearly":
        _yearly(results["yearly"], view)
    elif panel == "screening":
        st.altair_chart(
            _screening_chart(results["curves"], found["utilisation"]),
            width="stretch",
            height=common.CHART_HEIGHT + 140,
        )
        st.caption(
            "Equivalent annual cost of one reference accelerator (A100-80GB "
            "equivalent) against the share of hours it is busy. The lowest line "
            "wins at each utilisation; where the server line crosses on-demand is "
            "the break-even utilisation (before opex it is 1 / cloud premium)."
        )
    elif panel == "co2e":
        st.altair_chart(common.carbon_chart(results["table"]), width="stretch")
    elif panel == "sources":
        _sources(results)
    else:
        _summary_and_downloads(scenario, results)
    common.catalog_dates_panel(key="quick")
    st.caption(
        "The address in your browser holds these inputs: bookmark it, or share it "
        "and the link reopens this comparison."
    )


def _has_quote(scenario: Scenario) -> bool:
    owned = next(s for s in scenario.strategies if s.kind == "onprem")
    return getattr(owned, "server_price_usd", None) is not None


def _yearly(yearly: pd.DataFrame, view: str) -> None:
    column = f"{view}_cost_usd"
    wide = yearly.pivot_table(
        index="calendar_year", columns="strategy", values=column, aggfunc="first"
    )
    wide = wide[list(dict.fromkeys(yearly["strategy"]))].reset_index()
    st.caption(
        f"What each strategy costs in each year, {view} view: real USD of the "
        "currency year, undiscounted (year 0 is the purchase)."
    )
    common.show_table(
        wide,
        key="quick_yearly",
        column_config={
            "calendar_year": st.column_config.NumberColumn("Year", format="%d"),
            **{
                name: common.money_column(name)
                for name in wide.columns
                if name != "calendar_year"
            },
        },
    )
    common.download(
        st,
        "Year by year (CSV)",
        partial(common.csv_download, yearly),
        file_name="quick_compare_yearly.csv",
        key="quick_download_yearly",
    )


def _sources(results: dict[str, Any]) -> None:
    st.markdown("**Every default this comparison used, with its source**")
    assumptions = pd.DataFrame(results["assumptions"], columns=["what", "source"])
    common.show_table(
        assumptions,
        key="quick_assumptions",
        column_config={
            "what": st.column_config.TextColumn("What", width="medium"),
            "source": st.column_config.TextColumn("Value and source", width="large"),
        },
    )
    st.caption(
        "Warnings about this answer and the catalog dates are beside the verdict."
    )


def _summary_and_downloads(scenario: Scenario, results: dict[str, Any]) -> None:
    summary: pd.DataFrame = results["summary"]
    shown = summary[
        [
            "strategy",
            "institution_npv_usd",
            "award_npv_usd",
            "equivalent_annual_cost_usd",
            "cost_per_reference_hour_usd",
            "unserved_reference_hours",
            "co2e_t",
        ]
    ]
    common.show_table(
        shown,
        key="quick_summary",
        column_config={
            "cost_per_reference_hour_usd": st.column_config.NumberColumn(
                "Per reference hour (USD/h)", format="$%.2f"
            ),
            "co2e_t": common.number_column("CO2e (t)", 1),
        },
    )
    left, middle, right = st.columns(3)
    common.download(
        left,
        "Scenario (YAML)",
        partial(scenario_to_yaml, scenario),
        file_name="quick_compare.yaml",
        key="quick_download_yaml",
    )
    common.download(
        middle,
        "Summary (CSV)",
        partial(common.csv_download, summary),
        file_name="quick_compare_summary.csv",
        key="quick_download_csv",
    )
    if right.button("Open in the workbench", key="quick_to_workbench"):
        state.store("workbench", state.WorkbenchPart(scenario=scenario))
        state.forget_widgets("wb")
        st.switch_page("ui/workbench_page.py")
    common.report_downloads(scenario, key="quick")


def _screening_chart(curves: pd.DataFrame, utilisation: float | None) -> alt.Chart:
    lines = (
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X(
                "utilisation:Q",
                axis=alt.Axis(format="%"),
                title="Utilisation (share of hours busy)",
            ),
            y=alt.Y(
                "cost_usd_per_reference_accelerator_year:Q",
                title="Cost per reference accelerator-year (USD/year)",
                axis=alt.Axis(format="$,.3s"),
            ),
            color=alt.Color(
                "option:N",
                title=None,
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=400),
            ),
        )
    )
    if utilisation is None:
        return lines.properties(height=common.CHART_HEIGHT)
    rule = (
        alt.Chart(pd.DataFrame({"utilisation": [utilisation]}))
        .mark_rule(strokeDash=[4, 4])
        .encode(x="utilisation:Q")
    )
    return (lines + rule).properties(height=common.CHART_HEIGHT)


render()
