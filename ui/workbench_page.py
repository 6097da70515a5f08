"""Page: scenario workbench: load, edit every field, compare up to four scenarios."""

import hashlib

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from planner import breakeven, report, tco
from planner.safe_io import MAX_YAML_CHARACTERS, csv_text
from planner.scenario import (
    PRESETS,
    CloudStrategy,
    Demand,
    DemandShape,
    HybridStrategy,
    Institution,
    OnPremStrategy,
    Scenario,
    ScenarioError,
    SharedStrategy,
    Site,
    preset_text,
    scenario_from_yaml,
    scenario_to_yaml,
)
from ui import common, forms

# Largest scenario file accepted: the YAML loader's limit (256 Ki characters,
# about 80 times the largest preset). [bytes]
MAX_UPLOAD_BYTES = MAX_YAML_CHARACTERS

# Scenarios shown side by side.
MAX_COMPARED = 4

STRATEGY_MODELS = {
    "cloud": CloudStrategy,
    "onprem": OnPremStrategy,
    "hybrid": HybridStrategy,
    "shared": SharedStrategy,
}

TEMPLATES = {
    "cloud": {
        "kind": "cloud",
        "name": "New cloud offer",
        "provider": "aws",
        "region": "us-east-1",
        "instance_type": "p5.48xlarge",
    },
    "onprem": {
        "kind": "onprem",
        "name": "New owned cluster",
        "server": "8xH100-SXM",
        "servers": 1,
    },
}

TOP_LEVEL = (
    "name",
    "start_year",
    "horizon_years",
    "currency_year",
    "real_discount_rate",
    "budget_escalation_per_year",
)


@st.cache_data(max_entries=32)
def _evaluate(
    scenario_json: str, log_content: bytes | None = None
) -> tuple[pd.DataFrame, list[dict[str, object]], str, pd.DataFrame]:
    # Keyed by the scenario and the uploaded log's bytes, never by a file name.
    scenario = Scenario.model_validate_json(scenario_json)
    # Everything that may read the log runs while its temporary file exists.
    with common.with_uploaded_log(scenario, log_content) as runnable:
        evaluation = tco.evaluate(runnable)
        found = breakeven.break_even_table(runnable, evaluation=evaluation)
        return (
            report.summary_table(evaluation),
            [item.as_dict() for item in found],
            report.markdown_report(evaluation, found),
            evaluation.table,
        )


def _load(data: dict[str, object]) -> None:
    state = st.session_state
    state["wb_data"] = data
    state["wb_version"] = state.get("wb_version", 0) + 1
    state["wb_errors"] = {}


def _sources() -> None:
    state = st.session_state
    left, right = st.columns(2)
    with left:
        preset = st.selectbox("Example", PRESETS, index=1, key="wb_preset")
        if st.button("Load example", key="wb_load_preset") or "wb_data" not in state:
            _load(scenario_from_yaml(preset_text(preset)).model_dump(mode="json"))
    with right:
        upload = st.file_uploader(
            "Or upload a scenario YAML",
            type=["yaml", "yml"],
            key="wb_upload",
            max_upload_size=1,  # MB; the page then holds it to MAX_UPLOAD_BYTES
        )
        if upload is not None:
            label = common.upload_label(upload.name)
            content = upload.getvalue()
            digest = hashlib.sha256(content).hexdigest()
            if state.get("wb_upload_digest") != digest:
                state["wb_upload_digest"] = digest
                try:
                    if len(content) > MAX_UPLOAD_BYTES:
                        msg = f"larger than {MAX_UPLOAD_BYTES:,} bytes"
                        raise ScenarioError([msg])
                    loaded = scenario_from_yaml(content.decode("utf-8", "replace"))
                except ScenarioError as error:
                    state["wb_upload_problems"] = [
                        f"{label}: {p}" for p in error.problems
                    ]
                else:
                    state["wb_upload_problems"] = []
                    _load(loaded.model_dump(mode="json"))
            for problem in state.get("wb_upload_problems", []):
                common.show_error(problem)
            if state.get("wb_upload_problems"):
                st.caption("The upload was refused; the current scenario is kept.")
        log = st.file_uploader(
            "Job log for demand.joblog (the app opens no file a scenario names)",
            type=["txt", "csv", "psv", "log"],
            key="wb_joblog",
        )
        state["wb_log"] = None if log is None else log.getvalue()


def _edit(data: dict[str, object], errors: dict[str, str]) -> dict[str, object]:
    key = f"wb{st.session_state['wb_version']}"
    edited = dict(data)
    with st.expander("Scenario", expanded=True):
        top = forms.model_form(
            Scenario,
            data,
            path="",
            key=key,
            errors=errors,
            skip=tuple(n for n in Scenario.model_fields if n not in TOP_LEVEL),
            columns=3,
        )
        edited |= {name: top[name] for name in TOP_LEVEL}
    with st.expander("Demand"):
        demand = dict(data["demand"])  # type: ignore[call-overload]
        demand = forms.model_form(
            Demand, demand, path="demand", key=key, errors=errors, skip=("shape",)
        )
        demand["shape"] = forms.model_form(
            DemandShape,
            dict(data["demand"]["shape"]),  # type: ignore[index]
            path="demand.shape",
            key=key,
            errors=errors,
            columns=3,
        )
        edited["demand"] = demand
    with st.expander("Site"):
        edited["site"] = forms.model_form(
            Site,
            dict(data["site"]),
            path="site",
            key=key,
            errors=errors,
            columns=3,  # type: ignore[call-overload]
        )
    with st.expander("Institution"):
        edited["institution"] = forms.model_form(
            Institution,
            dict(data["institution"]),  # type: ignore[call-overload]
            path="institution",
            key=key,
            errors=errors,
            columns=3,
        )
    strategies = []
    for index, strategy in enumerate(data["strategies"]):  # type: ignore[arg-type]
        model = STRATEGY_MODELS[strategy["kind"]]
        with st.expander(
            common.plain(
                f"Strategy {index + 1}: {strategy['name']} ({strategy['kind']})"
            )
        ):
            kind_path = f"strategies.{index}.{strategy['kind']}"
            values = forms.model_form(
                model, strategy, path=kind_path, key=key, errors=errors, skip=("kind",)
            )
            for path, message in errors.items():
                if path in (f"strategies.{index}", kind_path):
                    common.show_error(f"{path}: {message}")
            if not st.checkbox("Remove this strategy", key=f"{key}|remove|{index}"):
                strategies.append(values)
    edited["strategies"] = strategies
    add_kind = st.selectbox("Add a strategy", ["", *TEMPLATES], key=f"{key}|add")
    if add_kind and st.button("Add", key=f"{key}|add_button"):
        _load(edited | {"strategies": [*strategies, dict(TEMPLATES[add_kind])]})
        st.rerun()
    return edited


def render() -> None:
    """Draw the workbench."""
    st.title("Scenario workbench")
    st.caption(
        "Load an example or your own YAML, edit every field (help texts give units "
        "and sources), see the results, keep up to four scenarios side by side and "
        "download the YAML for a proposal or a budget meeting."
    )
    _sources()
    state = st.session_state
    errors: dict[str, str] = state.get("wb_errors", {})
    edited = _edit(state["wb_data"], errors)
    try:
        scenario = Scenario.model_validate(edited)
        new_errors: dict[str, str] = {}
    except ValidationError as error:
        scenario = None
        new_errors = common.field_errors(error)
    if new_errors != errors:
        state["wb_errors"] = new_errors
        st.rerun()  # draw the messages beside their fields
    if scenario is None:
        st.error(
            f"{len(new_errors)} field(s) need attention (messages beside them); "
            "results are for the last loaded scenario."
        )
        scenario = Scenario.model_validate(state["wb_data"])
    _results(scenario)


def _results(scenario: Scenario) -> None:
    st.header("Results")
    log: bytes | None = st.session_state.get("wb_log")
    problem = common.named_file_problem(scenario, has_log_upload=log is not None)
    if problem is not None:
        common.show_error(problem)
        return
    if scenario.demand.joblog is None:
        log = None  # an upload without a job-log scenario plays no part
    try:
        summary, found, markdown, flows = _evaluate(scenario.model_dump_json(), log)
    except ValueError as error:
        problems = getattr(error, "problems", None) or [str(error)]
        for line in problems[:50]:
            common.show_error(line)
        return
    st.dataframe(summary, hide_index=True, key="wb_summary")
    for item in found:
        names = common.plain(f"{item['onprem']} vs {item['cloud']}")
        st.markdown(f"- **{names}**: {common.plain(item['explanation'])}")
    text = scenario_to_yaml(scenario)
    left, middle, right = st.columns(3)
    left.download_button(
        "Download scenario (YAML)",
        text,
        file_name="scenario.yaml",
        key="wb_download",
    )
    middle.download_button(
        "Grant / budget justification (Markdown)",
        markdown,
        file_name="compute_justification.md",
        key="wb_download_md",
    )
    middle.download_button(
        "Yearly flows (CSV)",
        csv_text(flows),
        file_name="flows.csv",
        key="wb_download_flows",
    )
    saved: list[str] = st.session_state.setdefault("wb_saved", [])
    if right.button("Keep for side-by-side comparison", key="wb_keep"):
        if scenario.demand.joblog is not None:
            common.show_error(
                "A scenario with a job log is not kept for comparison (its log is "
                "not stored)."
            )
        elif text not in saved:
            saved.append(text)
        del saved[:-MAX_COMPARED]
    if saved:
        _side_by_side(saved)


def _side_by_side(saved: list[str]) -> None:
    st.header("Side by side")
    columns = st.columns(len(saved))
    for column, text in zip(columns, saved, strict=True):
        scenario = scenario_from_yaml(text)
        summary = _evaluate(scenario.model_dump_json())[0]
        best = summary.sort_values("npv_usd").iloc[0]
        with column:
            st.subheader(common.plain(scenario.name))
            st.metric("Cheapest", str(best["strategy"]), common.money(best["npv_usd"]))
            st.dataframe(summary[["strategy", "npv_usd", "co2e_kg"]], hide_index=True)
    if st.button("Clear comparison", key="wb_clear"):
        saved.clear()
        st.rerun()


render()
