"""Page: the cheapest fleet plan under a department's limits, and cost vs CO2e.

The scenario is the workbench's, as edited (the session's scenario, see
:mod:`ui.state`), or an example. The limits are the session's optimiser part;
once Optimise was pressed, every change re-plans in the same run, with the
solver's steps shown as they run.
"""

import json
from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from planner import display, optimise
from planner.resolve import resolve
from planner.scenario import PRESETS, Scenario, preset_text, scenario_from_yaml
from ui import common, forms, state

PART = "optimiser"

# Options drawn as widgets (the rest keep their defaults).
SHOWN = (
    "server_specs",
    "allow_cloud",
    "allow_spot",
    "commitment_terms",
    "blocks_per_year",
    "capital_budget_usd_per_year",
    "total_budget_usd",
    "site_power_kw",
    "racks",
    "carbon_price_usd_per_t",
    "min_onprem_share",
    "allow_unserved",
    "max_servers_per_year",
)

SOURCES = {"workbench": "The workbench scenario (as edited)", "example": "An example"}


def _problems(error: ValueError) -> list[str]:
    return list(getattr(error, "problems", None) or [str(error)])


@st.cache_data(max_entries=16, show_spinner=False)
def _plan(
    scenario_json: str,
    options_json: str,
    log_content: bytes | None = None,
    overlays: common.OverlayKey = (),
) -> dict[str, Any]:
    # Keyed by the scenario, the limits, the log's bytes and the overlays' text.
    scenario = Scenario.model_validate_json(scenario_json)
    options = optimise.OptimiseOptions.model_validate_json(options_json)
    catalog = common.catalog_of(overlays)
    try:
        with common.with_uploaded_log(scenario, log_content) as runnable:
            warnings = list(resolve(runnable, catalog).warnings)
            plan = optimise.optimise(runnable, options, catalog=catalog)
    except optimise.InfeasiblePlanError as error:
        return {"problems": list(error.problems), "infeasible": True}
    except ValueError as error:  # a scenario that cannot be resolved
        return {"problems": _problems(error)}
    return {
        "json": plan.as_json(),
        "purchases": plan.purchases,
        "served": plan.served,
        "binding": plan.binding,
        "costs_by_year": plan.costs_by_year,
        "summary": plan.summary,
        "warnings": warnings,
    }


@st.cache_data(max_entries=16, show_spinner=False)
def _frontier(
    scenario_json: str,
    options_json: str,
    points: int,
    log_content: bytes | None = None,
    overlays: common.OverlayKey = (),
) -> dict[str, Any]:
    scenario = Scenario.model_validate_json(scenario_json)
    options = optimise.OptimiseOptions.model_validate_json(options_json)
    try:
        with common.with_uploaded_log(scenario, log_content) as runnable:
            return {
                "pareto": optimise.pareto_frontier(
                    runnable, options, points, catalog=common.catalog_of(overlays)
                )
            }
    except ValueError as error:
        return {"problems": _problems(error)}


def _scenario(part: state.OptimiserPart) -> tuple[Scenario, bytes | None, str, str]:
    """The scenario to plan, its uploaded job log, and the source and example."""
    source = st.radio(
        "Scenario",
        list(SOURCES),
        format_func=SOURCES.get,
        horizontal=True,
        key=state.bind("opt_source", part.source),
    )
    preset = part.preset
    if source == "workbench":
        workbench = state.get("workbench", state.WorkbenchPart)
        scenario = workbench.scenario
        st.caption(common.plain(f"Planning: {scenario.name}"))
        log: bytes | None = st.session_state.get("wb_log")
        problem = common.named_file_problem(scenario, has_log_upload=log is not None)
        if problem is None:
            return scenario, (log if scenario.demand.joblog else None), source, preset
        common.show_error(f"{problem} (on the workbench); using an example.")
    preset = str(
        st.selectbox("Example", PRESETS, key=state.bind("opt_preset", part.preset))
    )
    return scenario_from_yaml(preset_text(preset)), None, str(source), preset


def render() -> None:
    """Draw the limits, run the optimiser, show the plan and the frontier."""
    st.title("Optimiser: what to buy, commit and burst")
    st.caption(
        "A mixed-integer programme (HiGHS via scipy) chooses servers bought per year "
        "and specification, 1- and 3-year commitments and on-demand or spot burst, "
        "over the horizon's load-duration blocks, at least cost in present value "
        "(plus any carbon price), under your limits."
    )
    state.problem_banner(common.show_error)
    part = state.get(PART, state.OptimiserPart)
    scenario, log, source, preset = _scenario(part)
    session = st.session_state
    errors: dict[str, str] = session.get("opt_errors", {})
    with st.expander("Limits and choices", expanded=True):
        edited = forms.model_form(
            optimise.OptimiseOptions,
            part.options.model_dump(mode="json"),
            path="",
            key="opt",
            errors=errors,
            skip=tuple(
                n for n in optimise.OptimiseOptions.model_fields if n not in SHOWN
            ),
            columns=3,
        )
        points = st.number_input(
            "Points on the cost-CO2e frontier (0 = none; each is one more solve)",
            min_value=0,
            max_value=20,
            step=1,
            key=state.bind("opt_pareto", part.pareto_points),
        )
    try:
        options = optimise.OptimiseOptions.model_validate(edited)
        new_errors: dict[str, str] = {}
    except ValidationError as error:
        options = None
        new_errors = common.field_errors(error)
    if new_errors != errors:
        session["opt_errors"] = new_errors
        st.rerun()
    if options is None:
        st.error("Some limits are invalid (see beside them).")
        return
    pressed = st.button("Optimise", type="primary", key="opt_run")
    run = pressed or part.run
    state.store(
        PART,
        state.OptimiserPart(
            options=options,
            pareto_points=int(points),
            run=run,
            source=source,  # type: ignore[arg-type]
            preset=preset,
        ),
    )
    if not run:
        st.info("Set the limits and press Optimise.")
        return
    scenario_json, options_json = scenario.model_dump_json(), options.model_dump_json()
    with st.status("Planning ...", expanded=True) as status:
        st.write("Building and solving the plan (HiGHS) ...")
        overlays = common.overlay_key()
        result = _plan(scenario_json, options_json, log, overlays)
        frontier: dict[str, Any] = {}
        if "problems" not in result and points:
            st.write(
                f"Cost-CO2e frontier: {display.plural(int(points), 'point')}, one "
                "solve each ..."
            )
            frontier = _frontier(
                scenario_json, options_json, int(points), log, overlays
            )
        failed = "problems" in result or "problems" in frontier
        status.update(
            label="Could not plan" if failed else "Planned",
            state="error" if failed else "complete",
            expanded=False,
        )
    if "problems" in result:
        if result.get("infeasible"):
            st.error("No plan meets these limits:")
        else:
            st.error("The scenario cannot be planned:")
        for problem in result["problems"][:50]:
            common.show_error(problem)
        return
    _draw_plan(result, frontier)


def _draw_plan(result: dict[str, Any], frontier: dict[str, Any]) -> None:
    payload: dict[str, Any] = result["json"]
    st.success(common.plain(result["summary"]))
    common.answer_warnings(result["warnings"])
    columns = st.columns(3)
    columns[0].metric("Present value of costs", common.money(float(payload["npv_usd"])))
    columns[1].metric(
        "CO2e over the horizon", f"{float(payload['co2e_kg']) / 1e3:,.1f} t"
    )
    columns[2].metric("Solver status", str(payload["status"]))
    purchases: pd.DataFrame = result["purchases"]
    served: pd.DataFrame = result["served"]
    plan_tab, mix_tab, limits_tab, pareto_tab = st.tabs(
        ["Purchases", "Source mix", "Binding limits", "Cost vs CO2e"]
    )
    with plan_tab:
        if purchases.empty:
            st.write("Buy nothing: renting is cheapest under these limits.")
        else:
            st.altair_chart(
                alt.Chart(purchases)
                .mark_bar()
                .encode(
                    x=alt.X("calendar_year:O", title="Year"),
                    y=alt.Y(
                        "servers:Q",
                        title="Servers bought (count)",
                        axis=alt.Axis(format="d", tickMinStep=1),
                    ),
                    color=alt.Color("spec:N", title=None),
                ),
                width="stretch",
            )
            common.show_table(purchases, key="opt_purchases")
    with mix_tab:
        st.altair_chart(
            alt.Chart(served)
            .mark_bar()
            .encode(
                x=alt.X("calendar_year:O", title="Year"),
                y=alt.Y(
                    "reference_hours:Q",
                    title="Work served (reference accelerator-hours)",
                    axis=alt.Axis(format=",.3s"),
                ),
                color=alt.Color("source:N", title=None),
            ),
            width="stretch",
        )
    with limits_tab:
        binding: pd.DataFrame = result["binding"]
        if binding.empty:
            st.write("No limit binds: the plan is the unconstrained cheapest.")
        else:
            common.show_table(binding, key="opt_binding")
    with pareto_tab:
        for problem in frontier.get("problems", [])[:20]:
            common.show_error(problem)
        pareto = frontier.get("pareto")
        if isinstance(pareto, pd.DataFrame) and not pareto.empty:
            st.altair_chart(
                alt.Chart(pareto)
                .transform_calculate(co2e_t="datum.co2e_kg / 1000")
                .mark_line(point=True)
                .encode(
                    x=alt.X("co2e_t:Q", title="CO2e over the horizon (t)"),
                    y=alt.Y(
                        "npv_usd:Q",
                        title="Present value of costs (USD)",
                        axis=alt.Axis(format="$,.3s"),
                    ),
                    tooltip=[
                        alt.Tooltip("co2e_t:Q", title="t CO2e", format=",.1f"),
                        alt.Tooltip("npv_usd:Q", title="USD", format="$,.0f"),
                        alt.Tooltip(
                            "carbon_price_usd_per_t:Q",
                            title="Implied carbon price (USD/t)",
                            format="$,.0f",
                        ),
                    ],
                ),
                width="stretch",
            )
            common.show_table(
                pareto,
                key="opt_pareto_table",
                column_config={
                    "co2e_cap_kg": common.number_column("CO2e cap (kg)"),
                    "co2e_kg": common.number_column("CO2e (kg)"),
                    "mip_gap": st.column_config.NumberColumn("MIP gap", format="%.4f"),
                },
            )
            st.caption(
                "A point not solved on its own reuses the previous point's plan, "
                "which already meets its tighter cap (AUGMECON2's bypass); the "
                "first point is the cheapest plan itself."
            )
        else:
            st.write("Ask for frontier points above to draw the cost-CO2e frontier.")
    common.download(
        st,
        "Plan (JSON)",
        partial(json.dumps, payload, indent=2, default=str),
        file_name="fleet_plan.json",
        key="opt_download",
    )
    common.catalog_dates_panel(key="opt")


render()
