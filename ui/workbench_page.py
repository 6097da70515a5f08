"""Page: scenario workbench: load, edit every field, compare up to four scenarios.

The scenario is the session's (:mod:`ui.state`, part ``workbench``): every valid
edit is kept, so it survives a page change, travels in the address, and is what
the Optimiser plans and the Consortium may take.
"""

import hashlib
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from planner import breakeven, display, report, tco, verdict
from planner.safe_io import MAX_YAML_CHARACTERS
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
from ui import common, forms, state

PART = "workbench"

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
    "view",
)


@st.cache_data(max_entries=32)
def _evaluate(
    scenario_json: str,
    log_content: bytes | None = None,
    overlays: common.OverlayKey = (),
) -> dict[str, Any]:
    # Keyed by the scenario, the uploaded log's bytes and the session's
    # overlays (their content), never by a file name.
    scenario = Scenario.model_validate_json(scenario_json)
    # Everything that may read the log runs while its temporary file exists.
    with common.with_uploaded_log(scenario, log_content) as runnable:
        evaluation = tco.evaluate(runnable, catalog=common.catalog_of(overlays))
        found = breakeven.break_even_table(runnable, evaluation=evaluation)
        recommendations = verdict.recommendations(evaluation)
        return {
            "summary": report.summary_table(evaluation),
            "found": [item.as_dict() for item in found],
            "flows": evaluation.table,
            "yearly": tco.yearly_table(evaluation),
            "recommendations": {k: v.as_dict() for k, v in recommendations.items()},
            "assumptions": list(evaluation.resolved.assumptions),
            "warnings": list(evaluation.warnings),
        }


def _load(data: dict[str, object]) -> None:
    """Make ``data`` the session's scenario; its widgets start again from it."""
    session = st.session_state
    state.store(PART, state.WorkbenchPart(scenario=Scenario.model_validate(data)))
    session["wb_version"] = session.get("wb_version", 0) + 1
    session["wb_errors"] = {}


def _load_preset() -> None:
    preset = st.session_state.get("wb_preset", "department")
    _load(scenario_from_yaml(preset_text(str(preset))).model_dump(mode="json"))


def _sources() -> None:
    session = st.session_state
    left, right = st.columns(2)
    with left:
        st.selectbox("Example", PRESETS, key=state.bind("wb_preset", "department"))
        st.button("Load example", key="wb_load_preset", on_click=_load_preset)
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
            if session.get("wb_upload_digest") != digest:
                session["wb_upload_digest"] = digest
                try:
                    if len(content) > MAX_UPLOAD_BYTES:
                        msg = f"larger than {MAX_UPLOAD_BYTES:,} bytes"
                        raise ScenarioError([msg])
                    loaded = scenario_from_yaml(content.decode("utf-8", "replace"))
                except ScenarioError as error:
                    session["wb_upload_problems"] = [
                        f"{label}: {p}" for p in error.problems
                    ]
                else:
                    session["wb_upload_problems"] = []
                    _load(loaded.model_dump(mode="json"))
                    st.rerun()  # draw the uploaded scenario's fields
            for problem in session.get("wb_upload_problems", []):
                common.show_error(problem)
            if session.get("wb_upload_problems"):
                st.caption("The upload was refused; the current scenario is kept.")
        log = st.file_uploader(
            "Job log for demand.joblog (the app opens no file a scenario names)",
            type=["txt", "csv", "psv", "log"],
            key="wb_joblog",
        )
        session["wb_log"] = None if log is None else log.getvalue()


SUMMARY = (
    "strategy",
    "kind",
    "npv_usd",
    "institution_npv_usd",
    "award_npv_usd",
    "equivalent_annual_cost_usd",
    "cost_per_reference_hour_usd",
    "unserved_reference_hours",
    "co2e_kg",
)
"""Summary columns shown (the download and the Markdown report carry them all)."""

SECTIONS = {
    "scenario": "Scenario",
    "demand": "Demand",
    "site": "Site",
    "institution": "Institution",
    "strategies": "Strategies",
}
"""Parts of the scenario, edited one at a time (the others keep their values)."""


def _edit(
    data: dict[str, Any], place: str | None, errors: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    key = f"wb{st.session_state.setdefault('wb_version', 1)}"
    edited = dict(data)
    section = st.radio(
        "Edit",
        list(SECTIONS),
        format_func=SECTIONS.get,
        horizontal=True,
        key="wb_section",
        help="One part of the scenario at a time; the others keep their values.",
    )
    if section == "scenario":
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
    elif section == "demand":
        demand = forms.model_form(
            Demand,
            dict(data["demand"]),
            path="demand",
            key=key,
            errors=errors,
            skip=("shape",),
        )
        demand["shape"] = forms.model_form(
            DemandShape,
            dict(data["demand"]["shape"]),
            path="demand.shape",
            key=key,
            errors=errors,
            columns=3,
        )
        edited["demand"] = demand
    elif section == "site":
        edited["site"], place = _site(dict(data["site"]), place, key, errors)
    elif section == "institution":
        edited["institution"] = forms.model_form(
            Institution,
            dict(data["institution"]),
            path="institution",
            key=key,
            errors=errors,
            columns=3,
        )
    else:
        edited["strategies"] = _strategies(data, key, errors)
    return edited, place


def _site(
    site: dict[str, Any], place: str | None, key: str, errors: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    left, right = st.columns(2)
    with left:
        place, fields, pue = common.place_inputs(
            f"{key}_site",
            place=place,
            location=site.get("location"),
            electricity=site.get("electricity_usd_per_kwh"),
            grid=site.get("grid_co2e_g_per_kwh"),
            pue=float(site["pue"]),
        )
        common.error_below(
            {k.removeprefix("site."): v for k, v in errors.items()},
            "site",
            "location",
            "electricity_usd_per_kwh",
            "grid_co2e_g_per_kwh",
            "pue",
        )
    with right:
        rest = forms.model_form(
            Site,
            site,
            path="site",
            key=key,
            errors=errors,
            skip=("location", "electricity_usd_per_kwh", "grid_co2e_g_per_kwh", "pue"),
            columns=1,
        )
    return rest | fields | {"pue": pue}, place


def _strategies(
    data: dict[str, Any], key: str, errors: dict[str, str]
) -> list[dict[str, Any]]:
    strategies = list(data["strategies"])
    names = [f"{i + 1}: {s['name']} ({s['kind']})" for i, s in enumerate(strategies)]
    left, right = st.columns([3, 1])
    index = int(
        left.selectbox(
            "Strategy",
            range(len(strategies)),
            format_func=lambda i: names[i],
            key=f"{key}|strategy",
        )
    )
    strategy = strategies[index]
    model = STRATEGY_MODELS[strategy["kind"]]
    kind_path = f"strategies.{index}.{strategy['kind']}"
    strategies[index] = forms.model_form(
        model, strategy, path=kind_path, key=key, errors=errors, skip=("kind",)
    )
    for path, message in errors.items():
        if path in (f"strategies.{index}", kind_path):
            common.show_error(f"{common.label_of(path)}: {message}")
    right.button(
        "Remove this strategy",
        key=f"{key}|remove|{index}",
        on_click=_remove_strategy,
        args=(index,),
        disabled=len(strategies) == 1,
    )
    add_kind = right.selectbox("Add a strategy", ["", *TEMPLATES], key=f"{key}|add")
    if add_kind:
        right.button(
            "Add", key=f"{key}|add_button", on_click=_add_strategy, args=(add_kind,)
        )
    return strategies


def _remove_strategy(index: int) -> None:
    """Drop one strategy of the session's scenario (its fields are redrawn)."""
    data = state.get(PART, state.WorkbenchPart).scenario.model_dump(mode="json")
    strategies = [s for i, s in enumerate(data["strategies"]) if i != index]
    _load(data | {"strategies": strategies})


def _add_strategy(kind: str) -> None:
    """Add a template strategy to the session's scenario, with a unique name."""
    data = state.get(PART, state.WorkbenchPart).scenario.model_dump(mode="json")
    names = {s["name"] for s in data["strategies"]}
    template = dict(TEMPLATES[kind])
    base, number = template["name"], 2
    while template["name"] in names:
        template["name"] = f"{base} {number}"
        number += 1
    _load(data | {"strategies": [*data["strategies"], template]})


def render() -> None:
    """Draw the workbench."""
    st.title("Scenario workbench")
    st.caption(
        "Load an example or your own YAML, edit every field (help texts give units "
        "and sources), see the results, keep up to four scenarios side by side and "
        "download the YAML and the grant reports for a proposal or a budget meeting."
    )
    state.problem_banner(common.show_error)
    _sources()
    session = st.session_state
    part = state.get(PART, state.WorkbenchPart)
    errors: dict[str, str] = session.get("wb_errors", {})
    edited, place = _edit(part.scenario.model_dump(mode="json"), part.place, errors)
    try:
        scenario = Scenario.model_validate(edited)
        new_errors: dict[str, str] = {}
    except ValidationError as error:
        scenario = None
        new_errors = common.field_errors(error)
    if new_errors != errors:
        session["wb_errors"] = new_errors
        st.rerun()  # draw the messages beside their fields
    if scenario is None:
        fields = ", ".join(common.label_of(path) for path in new_errors)
        common.show_error(
            f"{len(new_errors)} field(s) need attention ({fields}; messages beside "
            "them); results are for the last valid scenario."
        )
        scenario = part.scenario
    else:
        state.store(PART, state.WorkbenchPart(scenario=scenario, place=place))
    _results(scenario)


def _verdict(recommendations: dict[str, dict[str, Any]], view: str) -> None:
    chosen = recommendations[view]
    other = recommendations["award" if view == "institution" else "institution"]
    st.success(common.plain(chosen["sentence"]))
    if other["strategy"] != chosen["strategy"]:
        st.warning(common.plain("The views differ. " + other["sentence"]))
    else:
        st.info(common.plain(other["sentence"]))


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
        results = _evaluate(scenario.model_dump_json(), log, common.overlay_key())
    except ValueError as error:
        problems = getattr(error, "problems", None) or [str(error)]
        for line in problems[:50]:
            common.show_error(line)
        return
    _verdict(results["recommendations"], scenario.view)
    tornado = common.sensitivity_sentence(scenario, log_content=log)
    common.answer_warnings(results["warnings"])
    common.show_table(results["summary"], key="wb_summary", column_order=SUMMARY)
    common.sensitivity_details(tornado, scenario, key="wb")
    found = results["found"]
    with st.expander(
        f"Break-even of each owned strategy against each cloud offer "
        f"({display.plural(len(found), 'pair')})"
    ):
        for item in found:
            names = common.plain(f"{item['onprem']} vs {item['cloud']}")
            st.markdown(f"- **{names}**: {common.plain(item['explanation'])}")
    common.catalog_dates_panel(key="wb")
    if st.toggle("Show the sources of every default used", key="wb_sources"):
        common.show_table(
            pd.DataFrame(results["assumptions"], columns=["what", "source"]),
            key="wb_assumptions",
            column_config={
                "what": st.column_config.TextColumn("What", width="medium"),
                "source": st.column_config.TextColumn(
                    "Value and source", width="large"
                ),
            },
        )
    left, middle, right = st.columns(3)
    common.download(
        left,
        "Download scenario (YAML)",
        partial(scenario_to_yaml, scenario),
        file_name="scenario.yaml",
        key="wb_download",
    )
    common.download(
        middle,
        "Yearly flows (CSV)",
        partial(common.csv_download, results["flows"]),
        file_name="flows.csv",
        key="wb_download_flows",
    )
    common.report_downloads(scenario, key="wb", log_content=log)
    saved: list[str] = st.session_state.setdefault("wb_saved", [])
    if right.button("Keep for side-by-side comparison", key="wb_keep"):
        text = scenario_to_yaml(scenario)
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
        results = _evaluate(scenario.model_dump_json(), None, common.overlay_key())
        best = results["recommendations"][scenario.view]
        with column:
            st.subheader(common.plain(scenario.name))
            st.metric(
                f"Cheapest ({scenario.view} view)",
                common.money(float(best["npv_usd"])),
                help=common.plain(str(best["strategy"])),
            )
            st.caption(common.plain(str(best["strategy"])))
            common.show_table(
                results["summary"][["strategy", "npv_usd", "co2e_kg"]],
            )
    if st.button("Clear comparison", key="wb_clear"):
        saved.clear()
        st.rerun()


render()
