"""Page: the cheapest fleet plan under a department's limits, and cost vs CO2e."""

import json

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from planner import optimise
from planner.scenario import PRESETS, Scenario, preset_text, scenario_from_yaml
from ui import common, forms

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


@st.cache_data(max_entries=16, show_spinner=False)
def _plan(
    scenario_json: str,
    options_json: str,
    pareto_points: int,
    log_content: bytes | None = None,
) -> dict[str, object]:
    scenario = Scenario.model_validate_json(scenario_json)
    options = optimise.OptimiseOptions.model_validate_json(options_json)
    try:
        with common.with_uploaded_log(scenario, log_content) as runnable:
            plan = optimise.optimise(runnable, options, pareto_points=pareto_points)
    except optimise.InfeasiblePlanError as error:
        return {"problems": list(error.problems), "infeasible": True}
    except ValueError as error:  # a scenario that cannot be resolved
        return {"problems": list(getattr(error, "problems", None) or [str(error)])}
    return {
        "json": plan.as_json(),
        "purchases": plan.purchases,
        "served": plan.served,
        "binding": plan.binding,
        "costs_by_year": plan.costs_by_year,
        "pareto": plan.pareto,
        "summary": plan.summary,
    }


def _scenario() -> tuple[Scenario, bytes | None]:
    """The scenario to plan, and the job log uploaded with it (if it has one)."""
    state = st.session_state
    sources = ["example"] + (["workbench scenario"] if "wb_data" in state else [])
    source = st.radio("Scenario", sources, horizontal=True, key="opt_source")
    if source == "workbench scenario":
        try:
            scenario = Scenario.model_validate(state["wb_data"])
        except ValidationError:
            st.warning("The workbench scenario is invalid; using the example.")
        else:
            log: bytes | None = state.get("wb_log")
            problem = common.named_file_problem(
                scenario, has_log_upload=log is not None
            )
            if problem is None:
                return scenario, (log if scenario.demand.joblog else None)
            common.show_error(f"{problem} (on the workbench); using the example.")
    preset = st.selectbox("Example", PRESETS, index=1, key="opt_preset")
    return scenario_from_yaml(preset_text(preset)), None


def render() -> None:
    """Draw the limits, run the optimiser, show the plan and the frontier."""
    st.title("Optimiser: what to buy, commit and burst")
    st.caption(
        "A mixed-integer programme (HiGHS via scipy) chooses servers bought per year "
        "and specification, 1- and 3-year commitments and on-demand or spot burst, "
        "over the horizon's load-duration blocks, at least cost in present value "
        "(plus any carbon price), under your limits."
    )
    scenario, log = _scenario()
    errors: dict[str, str] = st.session_state.get("opt_errors", {})
    with st.expander("Limits and choices", expanded=True):
        defaults = optimise.OptimiseOptions().model_dump(mode="json")
        edited = forms.model_form(
            optimise.OptimiseOptions,
            defaults,
            path="",
            key="opt",
            errors=errors,
            skip=tuple(
                n for n in optimise.OptimiseOptions.model_fields if n not in SHOWN
            ),
            columns=3,
        )
        points = st.number_input(
            "Pareto points (0 = none)",
            value=0,
            min_value=0,
            max_value=20,
            key="opt_pareto",
        )
    try:
        options = optimise.OptimiseOptions.model_validate(edited)
        new_errors: dict[str, str] = {}
    except ValidationError as error:
        options = None
        new_errors = common.field_errors(error)
    if new_errors != errors:
        st.session_state["opt_errors"] = new_errors
        st.rerun()
    if options is None:
        st.error("Some limits are invalid (see beside them).")
        return
    if not st.button(
        "Optimise", type="primary", key="opt_run"
    ) and not st.session_state.get("opt_ran"):
        st.info("Set the limits and press Optimise.")
        return
    st.session_state["opt_ran"] = True
    with st.status("Solving ...", expanded=False) as status:
        result = _plan(
            scenario.model_dump_json(), options.model_dump_json(), int(points), log
        )
        status.update(label="Solved", state="complete")
    if "problems" in result:
        if result.get("infeasible"):
            st.error("No plan meets these limits:")
        else:
            st.error("The scenario cannot be planned:")
        for problem in result["problems"][:50]:  # type: ignore[index]
            common.show_error(problem)
        return
    _draw_plan(result)


def _draw_plan(result: dict[str, object]) -> None:
    payload: dict = result["json"]  # type: ignore[assignment]
    st.success(common.plain(result["summary"]))
    columns = st.columns(3)
    columns[0].metric("Present value of costs", common.money(float(payload["npv_usd"])))
    columns[1].metric(
        "CO2e over the horizon", f"{float(payload['co2e_kg']) / 1e3:,.1f} t"
    )
    columns[2].metric("Solver status", str(payload["status"]))
    purchases: pd.DataFrame = result["purchases"]  # type: ignore[assignment]
    served: pd.DataFrame = result["served"]  # type: ignore[assignment]
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
                    y=alt.Y("servers:Q", title="Servers bought"),
                    color=alt.Color("spec:N", title=None),
                ),
                width="stretch",
            )
            st.dataframe(purchases, hide_index=True, key="opt_purchases")
    with mix_tab:
        st.altair_chart(
            alt.Chart(served)
            .mark_bar()
            .encode(
                x=alt.X("calendar_year:O", title="Year"),
                y=alt.Y("reference_hours:Q", title="Reference accelerator-hours"),
                color=alt.Color("source:N", title=None),
            ),
            width="stretch",
        )
    with limits_tab:
        st.dataframe(result["binding"], hide_index=True, key="opt_binding")
    with pareto_tab:
        pareto = result.get("pareto")
        if isinstance(pareto, pd.DataFrame) and not pareto.empty:
            st.altair_chart(
                alt.Chart(pareto)
                .mark_line(point=True)
                .encode(
                    x=alt.X("co2e_kg:Q", title="CO2e over the horizon (kg)"),
                    y=alt.Y("npv_usd:Q", title="Present value (USD)"),
                    tooltip=list(pareto.columns),
                ),
                width="stretch",
            )
            st.dataframe(pareto, hide_index=True, key="opt_pareto_table")
        else:
            st.write("Ask for Pareto points above to draw the frontier.")
    st.download_button(
        "Plan (JSON)",
        json.dumps(payload, indent=2, default=str),
        file_name="fleet_plan.json",
        key="opt_download",
    )


render()
