"""Page: a consortium's pooled cluster, cost allocations by rule, core check."""

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from planner import pooling
from planner.safe_io import csv_text
from planner.scenario import (
    Demand,
    Scenario,
    SharedStrategy,
    preset_text,
    scenario_from_yaml,
)
from ui import common

# Members edited in the table at most (the exact game needs 2^n coalitions).
MAX_MEMBERS = pooling.MAX_PLAYERS - 1


@st.cache_data(max_entries=16, show_spinner=False)
def _game(scenario_json: str, name: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    scenario = Scenario.model_validate_json(scenario_json)
    game = pooling.consortium_game(scenario, name)
    table = pooling.allocations(game)
    return table, game.plans, pooling.allocation_summary(table)


def _members_editor(strategy: SharedStrategy) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "name": [m.name for m in strategy.members],
            "reference_hours_per_year": [
                m.reference_hours_per_year for m in strategy.members
            ],
            "peak_to_mean": [m.shape.peak_to_mean for m in strategy.members],
        }
    )
    edited: pd.DataFrame = st.data_editor(
        frame,
        num_rows="dynamic",
        key="pool_members",
        column_config={
            "reference_hours_per_year": st.column_config.NumberColumn(
                "reference hours / year",
                help="Member demand. [reference accelerator-h/year]",
            ),
            "peak_to_mean": st.column_config.NumberColumn(
                "peak to mean", help="Busiest hour over the mean hour. [-]"
            ),
        },
    )
    return edited


def render() -> None:
    """Draw the members table, the pooled plan and the allocations."""
    st.title("Consortium: pool and share the cost")
    st.caption(
        "This project and the members below either go alone (own servers or rent, "
        "whichever is cheaper) or pool on one cluster sized optimally. The saving is "
        "shared by several rules; an allocation is in the core when no group would "
        "be better off leaving (Shapley value and nucleolus: cooperative game "
        "theory)."
    )
    base = scenario_from_yaml(preset_text("consortium"))
    shared = next(s for s in base.strategies if isinstance(s, SharedStrategy))
    own_hours = st.number_input(
        "This project's reference hours per year",
        value=float(base.demand.reference_hours_per_year or 0.0),
        key="pool_own_hours",
        help=Demand.model_fields["reference_hours_per_year"].description,
    )
    members = _members_editor(shared).dropna(how="all")
    if len(members) > MAX_MEMBERS:
        st.error(f"At most {MAX_MEMBERS} members (2^n coalitions are evaluated).")
        return
    data = base.model_dump(mode="json")
    data["demand"]["reference_hours_per_year"] = own_hours
    strategy = next(s for s in data["strategies"] if s["kind"] == "shared")
    # Members keep the example's noise seed by name; new rows get their own.
    seeds = {m.name: m.shape.seed for m in shared.members}
    strategy["members"] = [
        {
            "name": str(row["name"]),
            "reference_hours_per_year": row["reference_hours_per_year"],
            "shape": {
                "kind": "synthetic",
                "peak_to_mean": row["peak_to_mean"],
                "seed": seeds.get(str(row["name"]), 100 + i),
            },
        }
        for i, row in enumerate(members.to_dict("records"))
    ]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        for path, message in list(common.field_errors(error).items())[:50]:
            common.show_error(f"{path.replace('strategies.2.shared.', '')}: {message}")
        st.caption("Fix the members table; nothing was recomputed.")
        return
    try:
        with st.status("Evaluating every coalition ...", expanded=False) as status:
            table, plans, summary = _game(scenario.model_dump_json(), shared.name)
            status.update(label=f"{len(plans)} coalitions evaluated", state="complete")
    except ValueError as error:
        for line in (getattr(error, "problems", None) or [str(error)])[:50]:
            common.show_error(line)
        return
    st.success(common.plain(summary))
    rules = list(pooling.RULES)
    rule = st.selectbox(
        "Allocation rule",
        rules,
        format_func=lambda r: pooling.RULE_LABELS[r],
        key="pool_rule",
    )
    chosen = table[table["rule"] == rule]
    columns = st.columns(len(chosen))
    for column, row in zip(columns, chosen.to_dict("records"), strict=True):
        column.metric(
            common.plain(row["member"]),
            common.money(float(row["allocation_usd"])),
            f"saves {common.money(float(row['savings_usd']))}",
        )
    long = table.assign(label=table["rule"].map(pooling.RULE_LABELS))
    st.altair_chart(
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("allocation_usd:Q", title="Allocated present value (USD)"),
            y=alt.Y("label:N", title=None),
            color=alt.Color("member:N", title=None),
            tooltip=["member", "label", alt.Tooltip("allocation_usd", format=",.0f")],
        ),
        width="stretch",
    )
    st.subheader("Coalitions: best option and cost")
    st.dataframe(plans, hide_index=True, key="pool_plans")
    st.subheader("All allocations")
    st.dataframe(table, hide_index=True, key="pool_table")
    st.download_button(
        "Allocations (CSV)",
        csv_text(table),
        file_name="consortium_allocations.csv",
        key="pool_download",
    )


render()
