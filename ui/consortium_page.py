"""Page: a consortium's pooled cluster: who pays what, by rule and by year.

Every assumption of the game is on the page and editable: the horizon, money,
the site (a place selector), the indirect-cost rate, the shared cluster's server
and running costs, and the cloud offer for going alone and for burst. The
consortium is the example's, or the workbench scenario's (its shared strategy),
whose edits then go back to the workbench. Demand is in GPUs of the cluster's
accelerator (busy on average, or GPU-hours a year), converted by the library;
members are named and validated row by row before anything is computed.
"""

from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from planner import contributions, defaults, pooling
from planner.demand_units import (
    gpus_from_reference_hours,
    reference_hours_per_year,
    server_accelerator,
)
from planner.resolve import resolve
from planner.scenario import (
    Demand,
    Institution,
    OnPremStrategy,
    Scenario,
    SharedStrategy,
    load_preset,
)
from ui import common, rows, state

PART = "consortium"
UNITS = {"busy_gpus": "busy GPUs (average)", "gpu_hours": "GPU-hours a year"}
SOURCES = {
    "example": "The consortium example (three departments)",
    "workbench": "The workbench scenario (its shared strategy)",
}
NO_BURST = "none"
PANELS = {
    "contributions": "Contributions year by year",
    "rules": "Allocations by rule",
    "coalitions": "Coalitions: best option and cost",
}


@st.cache_data(max_entries=16, show_spinner=False)
def _game(
    scenario_json: str, name: str, own_name: str, overlays: common.OverlayKey = ()
) -> dict[str, Any]:
    # Keyed by the scenario, the names and the session's overlays (their text).
    scenario = Scenario.model_validate_json(scenario_json)
    catalog = common.catalog_of(overlays)
    game = pooling.consortium_game(scenario, name, own_name=own_name, catalog=catalog)
    return {
        "game": game,
        "table": pooling.allocations(game),
        "warnings": list(resolve(scenario, catalog).warnings),
    }


@st.cache_data(max_entries=16, show_spinner=False)
def _schedule(
    scenario_json: str,
    name: str,
    own_name: str,
    rule: str,
    overlays: common.OverlayKey = (),
) -> pd.DataFrame:
    scenario = Scenario.model_validate_json(scenario_json)
    found = _game(scenario_json, name, own_name, overlays)
    return contributions.contribution_schedule(
        scenario,
        found["game"],
        found["table"],
        rule,
        own_name=own_name,
        resolved=resolve(scenario, common.catalog_of(overlays)),
    )


def _servers() -> list[str]:
    return common.servers(common.overlay_key())[0]


def _offers(server: str) -> list[str]:
    return common.cloud_offers(server, common.overlay_key())


def _accelerator(server: object) -> str:
    """The shared cluster's accelerator (an inline spec's, or the reference one)."""
    if isinstance(server, dict):
        return str(server.get("accelerator_model") or defaults.REFERENCE_ACCELERATOR)
    return server_accelerator(str(server), common.session_catalog())


def _shared_index(data: dict[str, Any]) -> int | None:
    for index, strategy in enumerate(data["strategies"]):
        if strategy["kind"] == "shared":
            return index
    return None


def _target(part: state.ConsortiumPart) -> tuple[Scenario | None, str]:
    """The scenario this page edits: the example's copy or the workbench's."""
    if part.source == "workbench":
        scenario = state.get("workbench", state.WorkbenchPart).scenario
        if any(isinstance(s, SharedStrategy) for s in scenario.strategies):
            return scenario, "workbench"
        return None, "workbench"
    return part.scenario, "example"


def _switch_source() -> None:
    """Choosing a source starts its widgets from its scenario."""
    part = state.get(PART, state.ConsortiumPart)
    source = st.session_state.get("pool_source", part.source)
    state.store(PART, part.model_copy(update={"source": source}))
    state.forget_widgets("pool_")
    st.session_state["pool_source"] = source


def _reset_example() -> None:
    part = state.get(PART, state.ConsortiumPart)
    state.store(
        PART,
        part.model_copy(update={"scenario": load_preset("consortium"), "place": None}),
    )
    state.forget_widgets("pool_")


def _num(label: str, key: str, value: float, **kwargs: Any) -> float:
    return float(st.number_input(label, key=state.bind(key, value), **kwargs))


def _assumptions(
    data: dict[str, Any], part: state.ConsortiumPart, source: str
) -> tuple[dict[str, Any], str | None]:
    """Draw every assumption of the game; return the edited scenario data."""
    key = f"pool_{source}"
    shared_at = _shared_index(data)
    assert shared_at is not None
    shared = dict(data["strategies"][shared_at])
    money, site_column, cluster = st.columns(3)
    with money:
        st.markdown("**Horizon and money**")
        data["horizon_years"] = int(
            st.number_input(
                common.label(Scenario.model_fields, "horizon_years"),
                min_value=1,
                max_value=20,
                step=1,
                key=state.bind(f"{key}_horizon", int(data["horizon_years"])),
            )
        )
        data["real_discount_rate"] = _num(
            common.label(Scenario.model_fields, "real_discount_rate"),
            f"{key}_discount",
            float(data["real_discount_rate"]),
            step=0.005,
            format="%.3f",
        )
        data["view"] = st.radio(
            common.label(Scenario.model_fields, "view"),
            ["institution", "award"],
            horizontal=True,
            key=state.bind(f"{key}_view", data["view"]),
            help=Scenario.model_fields["view"].description,
        )
        institution = dict(data["institution"])
        institution["indirect_cost_rate"] = _num(
            common.label(Institution.model_fields, "indirect_cost_rate"),
            f"{key}_indirect",
            float(institution["indirect_cost_rate"]),
            step=0.01,
            format="%.2f",
            help="Charged on cloud and other services in the award view (F&A in "
            "the US, overheads elsewhere); 0 if waived.",
        )
        data["institution"] = institution
    with site_column:
        st.markdown("**Site of the shared cluster**")
        site = dict(data["site"])
        place, fields, pue = common.place_inputs(
            key,
            place=part.place,
            location=site.get("location"),
            electricity=site.get("electricity_usd_per_kwh"),
            grid=site.get("grid_co2e_g_per_kwh"),
            pue=float(site["pue"]),
        )
        data["site"] = site | fields | {"pue": pue}
    with cluster:
        st.markdown("**Shared cluster and cloud**")
        owned = OnPremStrategy.model_fields
        servers = _servers()
        if isinstance(shared["server"], str) and shared["server"] in servers:
            server = str(
                st.selectbox(
                    common.label(owned, "server"),
                    servers,
                    key=state.bind(f"{key}_server", shared["server"]),
                    help=owned["server"].description,
                )
            )
            shared["server"] = server
        else:  # an inline specification (a quote): edited on the workbench
            named = shared["server"]
            server = str(named["name"] if isinstance(named, dict) else named)
            st.caption(common.plain(f"Server: {server} (the scenario's own spec)"))
        shared["staff_fte"] = _num(
            common.label(owned, "staff_fte"),
            f"{key}_staff",
            float(shared["staff_fte"]),
            step=0.05,
            format="%.2f",
            help=owned["staff_fte"].description,
        )
        shared["lifetime_years"] = int(
            st.number_input(
                common.label(owned, "lifetime_years"),
                min_value=1,
                step=1,
                key=state.bind(f"{key}_life", int(shared["lifetime_years"])),
            )
        )
        shared["refresh"] = st.checkbox(
            common.label(owned, "refresh"),
            key=state.bind(f"{key}_refresh", bool(shared["refresh"])),
        )
        burst = shared.get("burst")
        current = (
            f"{burst['provider']}|{burst['region']}|{burst['instance_type']}"
            if burst
            else NO_BURST
        )
        catalog_offers = _offers(server)
        kept = [current] if current not in (NO_BURST, *catalog_offers) else []
        offers = [NO_BURST, *kept, *catalog_offers]
        offer = st.selectbox(
            "Cloud offer for going alone and for burst",
            offers,
            key=state.bind(
                f"{key}_offer|{server}", current if current in offers else offers[1]
            ),
            format_func=lambda o: (
                "none: overflow waits" if o == NO_BURST else o.replace("|", " ")
            ),
            help="Every coalition is served by the cheapest of owning servers, "
            "owning and bursting to this offer, or renting it (and the scenario's "
            "other cloud strategies).",
        )
        _apply_offer(data, shared, str(offer), source)
        st.caption(
            "Outside options a coalition may take instead: "
            + common.plain(
                ", ".join(s["name"] for s in data["strategies"] if s["kind"] == "cloud")
                or "none"
            )
        )
    data["strategies"][shared_at] = shared
    return data, place


def _apply_offer(
    data: dict[str, Any], shared: dict[str, Any], offer: str, source: str
) -> None:
    """Set the burst offer (and, in the example, its one cloud strategy too)."""
    if offer == NO_BURST:
        shared["burst"] = None
        return
    provider, region, instance = offer.split("|")
    where = {"provider": provider, "region": region, "instance_type": instance}
    shared["burst"] = {
        "kind": "cloud",
        "name": f"{provider} {instance} burst",
        **where,
    }
    if source == "example":
        for strategy in data["strategies"]:
            if strategy["kind"] == "cloud":
                strategy.update(where | {"name": f"{provider} {instance} on-demand"})


def _members_frame(
    members: list[dict[str, Any]], unit: str, model: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [m["name"] for m in members],
            "demand": [
                gpus_from_reference_hours(
                    float(m["reference_hours_per_year"]),
                    unit,  # type: ignore[arg-type]
                    model,
                    catalog=common.session_catalog(),
                )
                for m in members
            ],
            "peak_to_mean": [float(m["shape"]["peak_to_mean"]) for m in members],
        }
    )


def _members(
    data: dict[str, Any], part: state.ConsortiumPart, source: str, model: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Draw the members table (GPU units); return the members and the problems."""
    shared_at = _shared_index(data)
    assert shared_at is not None
    members = list(data["strategies"][shared_at]["members"])
    unit = part.unit
    session = st.session_state
    key = f"pool_{source}_members_{unit}_{session.get('pool_version', 0)}"
    bases: dict[str, pd.DataFrame] = session.setdefault("pool_members_base", {})
    if key not in session or key not in bases:
        bases.clear()
        bases[key] = _members_frame(members, unit, model)
    edited: pd.DataFrame = st.data_editor(
        bases[key],
        num_rows="dynamic",
        key=key,
        width="stretch",
        column_config={
            "name": st.column_config.TextColumn(
                "Member", help="A name for the group (required).", max_chars=80
            ),
            "demand": st.column_config.NumberColumn(
                f"Demand, {UNITS[unit]}",
                help=f"Of the cluster's accelerator ({model}); required.",
                min_value=0.0,
                format="%,.1f" if unit == "busy_gpus" else "%,.0f",
            ),
            "peak_to_mean": st.column_config.NumberColumn(
                "Peak to mean",
                help="Busiest hour over the mean hour (default 2). [-]",
                min_value=1.0,
                max_value=10.0,
                format="%.2f",
            ),
        },
    )
    seeds = {m["name"]: int(m["shape"].get("seed", 0)) for m in members}
    return rows.member_rows(
        edited,
        unit=unit,
        model=model,
        seeds=seeds,
        catalog=common.session_catalog(),
    )


def _convert_own_demand() -> None:
    """Switching the unit converts your project's demand and redraws the table."""
    session = st.session_state
    part = state.get(PART, state.ConsortiumPart)
    new = session.get("pool_unit", part.unit)
    state.store(PART, part.model_copy(update={"unit": new}))


def render() -> None:
    """Draw the assumptions, the members, then pool, allocate and schedule."""
    st.title("Consortium: pool and share the cost")
    st.caption(
        "Your project and the members below either go alone (own servers, own and "
        "burst, or rent, whichever is cheapest) or pool on one cluster sized "
        "optimally. The saving is shared by several rules; an allocation is in the "
        "core when no group would be better off leaving (cooperative game theory). "
        "Each member then pays a buy-in and a uniform usage fee year by year."
    )
    state.problem_banner(common.show_error)
    part = state.get(PART, state.ConsortiumPart)
    left, right = st.columns([2, 1])
    left.radio(
        "Consortium",
        list(SOURCES),
        format_func=SOURCES.get,
        horizontal=True,
        key=state.bind("pool_source", part.source),
        on_change=_switch_source,
    )
    if part.source == "example":
        right.button(
            "Start again from the example", key="pool_reset", on_click=_reset_example
        )
    scenario, source = _target(part)
    if scenario is None:
        st.warning(
            "The workbench scenario has no shared strategy: add one there (kind "
            "shared, with members), or use the example."
        )
        return
    # This page takes no job-log upload: a scenario naming a log (from a link
    # or the workbench) is refused before anything could open that path.
    problem = common.named_file_problem(scenario, has_log_upload=False)
    if problem is not None:
        common.show_error(f"{problem}; pooling runs on demand typed here")
        return
    data = scenario.model_dump(mode="json")
    with st.expander("Assumptions (all editable)", expanded=True):
        data, place = _assumptions(data, part, source)
    shared_at = _shared_index(data)
    assert shared_at is not None
    model = _accelerator(data["strategies"][shared_at]["server"])
    st.subheader("Who pools")
    unit = st.radio(
        "Demand given as",
        list(UNITS),
        format_func=UNITS.get,
        horizontal=True,
        key=state.bind("pool_unit", part.unit),
        on_change=_convert_own_demand,
    )
    part = state.get(PART, state.ConsortiumPart)
    own_left, own_middle, own_right = st.columns(3)
    own_name = own_left.text_input(
        "Your project's name",
        key=state.bind(f"pool_{source}_own_name", part.own_name),
        max_chars=80,
    ).strip()
    own_hours = float(data["demand"]["reference_hours_per_year"] or 0.0)
    own_value = own_middle.number_input(
        f"Your project's demand, {UNITS[str(unit)]}",
        min_value=0.0,
        format="%.1f" if unit == "busy_gpus" else "%.0f",
        key=state.bind(
            f"pool_{source}_own_{unit}",
            gpus_from_reference_hours(
                own_hours,
                unit,  # type: ignore[arg-type]
                model,
                catalog=common.session_catalog(),
            ),
        ),
        help=f"Of the cluster's accelerator ({model}). "
        + (Demand.model_fields["reference_hours_per_year"].description or ""),
    )
    data["demand"]["reference_hours_per_year"] = reference_hours_per_year(
        float(own_value),
        unit,  # type: ignore[arg-type]
        model,
        catalog=common.session_catalog(),
    )
    data["demand"]["shape"]["peak_to_mean"] = own_right.number_input(
        "Your project's peak to mean",
        step=0.1,
        format="%.2f",
        key=state.bind(
            f"pool_{source}_own_peak", float(data["demand"]["shape"]["peak_to_mean"])
        ),
        help="Busiest hour over the mean hour. [-]",
    )
    st.caption(
        f"Demand is in GPUs of the shared cluster's accelerator ({model}); the "
        "engine counts it in reference accelerator-hours (A100-80GB equivalent)."
    )
    members, problems = _members(data, part, source, model)
    if not own_name:
        problems.insert(0, "your project's name is required")
    data["strategies"][shared_at]["members"] = members
    if problems:
        for problem in problems:
            common.show_error(problem)
        st.caption("Complete the table; nothing was recomputed.")
        return
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        for path, message in list(common.field_errors(error).items())[:50]:
            common.show_error(f"{common.label_of(path)}: {message}")
        st.caption("Fix the inputs above; nothing was recomputed.")
        return
    if source == "workbench":
        workbench = state.get("workbench", state.WorkbenchPart)
        state.store("workbench", workbench.model_copy(update={"scenario": scenario}))
        state.store(PART, part.model_copy(update={"own_name": own_name, "unit": unit}))
    else:
        state.store(
            PART,
            part.model_copy(
                update={
                    "scenario": scenario,
                    "own_name": own_name,
                    "unit": unit,
                    "place": place,
                }
            ),
        )
    _results(scenario, str(data["strategies"][shared_at]["name"]), own_name)


def _results(scenario: Scenario, name: str, own_name: str) -> None:
    part = state.get(PART, state.ConsortiumPart)
    rule = str(
        st.selectbox(
            "Allocation rule (for the contributions)",
            list(pooling.RULES),
            format_func=lambda r: pooling.RULE_LABELS[r],
            key=state.bind("pool_rule", part.rule),
        )
    )
    state.store(PART, part.model_copy(update={"rule": rule}))
    scenario_json = scenario.model_dump_json()
    try:
        with st.status("Pooling ...", expanded=True) as status:
            st.write("Pricing every coalition of the members through the engine ...")
            overlays = common.overlay_key()
            found = _game(scenario_json, name, own_name, overlays)
            table: pd.DataFrame = found["table"]
            st.write(
                f"Allocating the cost by {len(pooling.RULES)} rules and checking "
                "the core ..."
            )
            st.write("Scheduling buy-ins and usage fees year by year ...")
            schedule = _schedule(scenario_json, name, own_name, rule, overlays)
            status.update(
                label=f"{len(found['game'].plans):,} coalitions priced, "
                f"{len(pooling.RULES)} rules applied",
                state="complete",
                expanded=False,
            )
    except ValueError as error:
        for line in (getattr(error, "problems", None) or [str(error)])[:50]:
            common.show_error(line)
        return
    st.success(common.plain(pooling.allocation_summary(table)))
    common.answer_warnings(found["warnings"])
    chosen = table[table["rule"] == rule]
    columns = st.columns(len(chosen))
    for column, row in zip(columns, chosen.to_dict("records"), strict=True):
        column.metric(
            common.plain(row["member"]),
            common.money(float(row["allocation_usd"])),
            f"saves {common.money(float(row['savings_usd']))}",
            help="Present value of the member's share; the change is its saving "
            "against going alone (green: it gains by pooling).",
        )
    panel = st.radio(
        "Show",
        list(PANELS),
        format_func=PANELS.get,
        horizontal=True,
        key="pool_panel",
        label_visibility="collapsed",
    )
    if panel == "contributions":
        _schedule_view(schedule, rule)
    elif panel == "rules":
        _rules_chart(table)
        common.show_table(
            table.assign(rule=table["rule"].map(pooling.RULE_LABELS)),
            key="pool_table",
        )
    else:
        common.show_table(found["game"].plans, key="pool_plans")
    left, right = st.columns(2)
    common.download(
        left,
        "Allocations (CSV)",
        partial(common.csv_download, table),
        file_name="consortium_allocations.csv",
        key="pool_download",
    )
    common.download(
        right,
        "Contribution schedule (CSV)",
        partial(common.csv_download, schedule),
        file_name="consortium_contributions.csv",
        key="pool_download_schedule",
    )
    common.catalog_dates_panel(key="pool")


def _rules_chart(table: pd.DataFrame) -> None:
    st.altair_chart(
        alt.Chart(table.assign(label=table["rule"].map(pooling.RULE_LABELS)))
        .mark_bar()
        .encode(
            x=alt.X(
                "allocation_usd:Q",
                title="Allocated present value (USD)",
                axis=alt.Axis(format="$,.3s"),
            ),
            y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=400)),
            color=alt.Color("member:N", title=None),
            tooltip=[
                alt.Tooltip("member:N", title="Member"),
                alt.Tooltip("label:N", title="Rule"),
                alt.Tooltip("allocation_usd:Q", title="USD", format="$,.0f"),
            ],
        ),
        width="stretch",
    )


def _schedule_view(schedule: pd.DataFrame, rule: str) -> None:
    st.caption(
        f"{pooling.RULE_LABELS[rule]}: each member pays a buy-in at the start and "
        "a usage fee at one uniform rate per reference hour at the end of each "
        "year (real USD of the currency year, undiscounted); in present value the "
        "two add up to the member's allocation. A negative buy-in is a credit."
    )
    wide = schedule.pivot_table(
        index="member", columns="calendar_year", values="total_usd", aggfunc="first"
    )
    wide = wide.loc[list(dict.fromkeys(schedule["member"]))]
    years = [int(y) for y in wide.columns]
    wide.columns = [
        f"Buy-in {y}" if i == 0 else f"Usage fee {y}" for i, y in enumerate(years)
    ]
    wide = wide.reset_index()
    common.show_table(
        wide,
        key="pool_schedule",
        column_config={
            "member": st.column_config.TextColumn("Member"),
            **{c: common.money_column(c) for c in wide.columns if c != "member"},
        },
    )
    long = schedule.assign(
        part=schedule["year"].map(lambda y: "buy-in" if y == 0 else "usage fee")
    )
    st.altair_chart(
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("calendar_year:O", title="Year"),
            y=alt.Y(
                "total_usd:Q",
                title="Paid that year (USD)",
                axis=alt.Axis(format="$,.3s"),
            ),
            color=alt.Color("member:N", title=None),
            tooltip=[
                alt.Tooltip("member:N", title="Member"),
                alt.Tooltip("part:N", title="Payment"),
                alt.Tooltip("total_usd:Q", title="USD", format="$,.0f"),
            ],
        ),
        width="stretch",
    )


render()
