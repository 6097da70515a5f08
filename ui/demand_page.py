"""Page: demand from a job log (or the LISA workload), and waits by cluster size.

The measured demand can be sent to Quick compare (busy GPUs and peak to mean)
and to the workbench scenario (reference accelerator-hours and peak to mean,
for the GPU model the log ran on), where it replaces the typed demand.
"""

import hashlib
from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from planner import display, joblog, queueing
from planner.demand_units import (
    load_duration_table,
    quick_demand_from_log,
    reference_hours_per_year,
    wait_curve_sizes,
)
from planner.quick import QuickCompare
from planner.scenario import Scenario
from ui import common, state

# Largest job log accepted in the browser (see common.MAX_LOG_BYTES). [bytes]
MAX_LOG_BYTES = common.MAX_LOG_BYTES


@st.cache_data(max_entries=8)
def _from_upload(
    content: bytes, label: str, kind: str | None, fields: str | None
) -> tuple[dict[str, object], pd.DataFrame]:
    # Keyed by the file's bytes: one user's log never reaches another's session.
    # Read in memory: the client's file name is a label, never a path.
    log = joblog.read_log(
        content,
        kind=kind,  # type: ignore[arg-type]
        fields=fields,
        max_bytes=MAX_LOG_BYTES,
        name=label,
    )
    return joblog.demand_summary(log), log.jobs


@st.cache_data
def _lisa() -> tuple[dict[str, object], pd.DataFrame]:
    log = joblog.generate_workload(joblog.LISA_PRESET)
    return joblog.demand_summary(log), log.jobs


@st.cache_data(max_entries=16)
def _curves(jobs: pd.DataFrame, sizes: tuple[int, ...], policy: str) -> pd.DataFrame:
    return queueing.wait_curve(jobs, sizes, policy=policy)  # type: ignore[arg-type]


def render() -> None:
    """Draw the import report, the concurrency series, the LDC and the waits."""
    st.title("Demand from real usage")
    st.caption(
        "Upload a Slurm `sacct -P` export, a CSV with start, end and gpus columns, "
        "or a CodeCarbon emissions.csv. Without an upload the page shows the LISA "
        "project of Strubell et al. (2019) as a generated workload (4,789 jobs, "
        "239,942 GPU-hours over 172 days)."
    )
    left, right = st.columns([2, 1])
    upload = left.file_uploader(
        "Job log", type=["txt", "csv", "psv", "log"], key="demand_upload"
    )
    kind = right.selectbox(
        "Format", ["detect", "sacct", "csv", "codecarbon"], key="demand_kind"
    )
    fields = right.text_input(
        "Fields, for a log without a header line",
        key="demand_fields",
        help="Comma-separated field names of a headerless export (sacct "
        "--noheader), or 'xdmod' for Open XDMoD's export format.",
        max_chars=2_000,
    )
    summary, jobs = _lisa()
    if upload is not None:
        label = common.upload_label(upload.name)
        content = upload.getvalue()
        if len(content) > MAX_LOG_BYTES:
            common.show_error(
                f"{label}: larger than {MAX_LOG_BYTES:,} bytes; use the CLI"
            )
        else:
            with st.status(f"Reading {label} ...", expanded=False) as status:
                try:
                    summary, jobs = _from_upload(
                        content,
                        label,
                        None if kind == "detect" else kind,
                        fields.strip() or None,
                    )
                except ValueError as error:
                    status.update(label=f"{label} was not imported", state="error")
                    problem = str(error)
                else:
                    status.update(
                        label=f"Read {label}: {summary['jobs']:,} jobs",
                        state="complete",
                    )
                    problem = ""
            if problem:
                common.show_error(f"{label} was not imported: {problem}")
                st.caption("Showing the LISA workload instead.")
    _report(summary)
    _use_demand(summary)
    _series(jobs)
    _waits(jobs, summary)
    digest = hashlib.sha256(str(summary.get("source")).encode()).hexdigest()[:8]
    common.download(
        st,
        "Import report (JSON)",
        partial(pd.Series(summary).to_json, indent=2),
        file_name=f"demand_report_{digest}.json",
        key="demand_download",
    )


def _report(summary: dict[str, object]) -> None:
    columns = st.columns(4)
    columns[0].metric("Jobs that ran", f"{summary['jobs']:,}")
    columns[1].metric("GPU-hours", f"{summary['gpu_hours']:,.0f}")
    columns[2].metric("Mean busy GPUs", f"{summary['mean_concurrency']:.1f}")
    columns[3].metric("Peak busy GPUs (hourly)", f"{summary['max_concurrency']:.1f}")
    st.caption(
        f"Pending jobs {summary['pending_jobs']:,}; without times "
        f"{summary['unknown_time_jobs']:,}; zero-length runs "
        f"{summary.get('zero_length_jobs', 0):,}; job steps skipped "
        f"{summary['step_rows']:,}; malformed rows {summary['rejected_count']:,} "
        "(each listed below with its line, column and reason, never dropped "
        "silently)."
    )
    unknown = summary.get("unknown_state_jobs") or 0
    if unknown:
        states = ", ".join(summary.get("unknown_states") or [])  # type: ignore[arg-type]
        st.caption(
            common.plain(
                f"{unknown:,} jobs kept with a state Slurm does not report: {states}"
            )
        )
    rejected = summary.get("rejected_rows") or []
    if rejected:
        with st.expander(f"{summary['rejected_count']:,} rejected rows"):
            st.dataframe(pd.DataFrame(rejected), hide_index=True)


@st.cache_data(max_entries=16, show_spinner=False)
def _accelerators(overlays: common.OverlayKey = ()) -> list[str]:
    """Accelerators of the session's catalog (an overlay's included)."""
    frame = common.catalog_of(overlays).frame("accelerators")
    return [str(a) for a in frame["accelerator_model"]]


def _to_quick(fields: dict[str, Any]) -> None:
    part = state.get("quick", state.QuickPart)
    inputs = QuickCompare.model_validate(part.inputs.model_dump() | fields)
    state.store("quick", part.model_copy(update={"inputs": inputs}))
    state.forget_widgets("quick_")


def _to_workbench(reference_hours: float, peak_to_mean: float) -> None:
    part = state.get("workbench", state.WorkbenchPart)
    data = part.scenario.model_dump(mode="json")
    data["demand"] |= {
        "reference_hours_per_year": reference_hours,
        "joblog": None,
        "workload": None,
    }
    data["demand"]["shape"] |= {"kind": "synthetic", "peak_to_mean": peak_to_mean}
    state.store(
        "workbench", part.model_copy(update={"scenario": Scenario.model_validate(data)})
    )
    session = st.session_state
    session["wb_version"] = session.get("wb_version", 0) + 1


def _use_demand(summary: dict[str, object]) -> None:
    """Send the measured demand to Quick compare or the workbench."""
    fields = quick_demand_from_log(summary)
    with st.container(border=True):
        st.markdown("**Use this demand**")
        left, middle, right = st.columns([2, 1, 1])
        accelerators = _accelerators(common.overlay_key())
        model = left.selectbox(
            "GPUs in this log (for the workbench's reference hours)",
            accelerators,
            key=state.bind(
                "demand_accelerator",
                "A100-80GB-SXM4"
                if "A100-80GB-SXM4" in accelerators
                else accelerators[0],
            ),
        )
        reference = reference_hours_per_year(
            float(fields["demand_value"]),
            "busy_gpus",
            str(model),
            catalog=common.session_catalog(),
        )
        left.caption(
            f"{float(fields['demand_value']):,.1f} busy GPUs on average, peak to "
            f"mean {float(fields['peak_to_mean']):.2f}: "
            f"{reference:,.0f} reference accelerator-hours a year. Quick compare "
            "counts them as GPUs of the server it compares."
        )
        if middle.button("Use in Quick compare", key="demand_to_quick"):
            _to_quick(fields)
            st.switch_page("ui/quick_page.py")
        if right.button("Use in the workbench", key="demand_to_workbench"):
            _to_workbench(reference, float(fields["peak_to_mean"]))
            st.switch_page("ui/workbench_page.py")


@st.cache_data(max_entries=8, show_spinner=False)
def _hourly(jobs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    hourly = joblog.hourly_concurrency_gpus(jobs)
    frame = hourly.rename("busy_gpus").rename_axis("hour").reset_index()
    return frame, load_duration_table(joblog.load_duration_curve_gpus(hourly))


def _series(jobs: pd.DataFrame) -> None:
    frame, ldc = _hourly(jobs)
    series_tab, ldc_tab = st.tabs(["Busy GPUs by hour", "Load-duration curve"])
    series_tab.altair_chart(
        alt.Chart(frame)
        .mark_area(opacity=0.6)
        .encode(
            x=alt.X("hour:T", title=None), y=alt.Y("busy_gpus:Q", title="Busy GPUs")
        ),
        width="stretch",
    )
    ldc_tab.altair_chart(
        alt.Chart(ldc)
        .mark_line()
        .encode(
            x=alt.X(
                "share_of_hours:Q", axis=alt.Axis(format="%"), title="Share of hours"
            ),
            y=alt.Y("busy_gpus:Q", title="Busy GPUs exceeded"),
        ),
        width="stretch",
    )
    ldc_tab.caption(
        "Hours sorted from the busiest: capacity above the curve's level at u % of "
        "the hours is busy at most u % of the time (the screening-curve input)."
    )


@st.fragment
def _waits(jobs: pd.DataFrame, summary: dict[str, object]) -> None:
    """The queue simulation: its own widgets rerun only this part of the page."""
    st.subheader("Waits against cluster size")
    biggest = int(jobs["gpus"].max()) if len(jobs) else 1
    mean = float(summary["mean_concurrency"])  # type: ignore[arg-type]
    left, right = st.columns(2)
    policy = left.radio(
        "Scheduler", ["fifo", "backfill"], horizontal=True, key="demand_policy"
    )
    span = right.slider(
        "Largest cluster, times the mean demand", 1.2, 4.0, 2.2, key="demand_span"
    )
    sizes = wait_curve_sizes(biggest, mean, float(span))
    try:
        curves = _curves(jobs, sizes, str(policy))
    except ValueError as error:
        common.show_error(error)
        return
    long = curves.melt(
        id_vars="gpus",
        value_vars=["mean_wait_hours", "p95_wait_hours"],
        var_name="statistic",
        value_name="wait_hours",
    )
    long = long.assign(
        statistic=long["statistic"].map(
            {"mean_wait_hours": "mean wait", "p95_wait_hours": "95th percentile wait"}
        )
    )
    ticks = display.nice_ticks(float(long["wait_hours"].max()))
    st.altair_chart(
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "gpus:Q",
                title="Cluster size (GPUs)",
                axis=alt.Axis(format="d", tickMinStep=1),
            ),
            y=alt.Y(
                "wait_hours:Q",
                title="Wait per job (hours, log scale)",
                scale=alt.Scale(type="symlog", constant=0.1),
                axis=alt.Axis(values=ticks, format=",~g"),
            ),
            color=alt.Color("statistic:N", title=None),
            tooltip=[
                alt.Tooltip("gpus:Q", title="GPUs"),
                alt.Tooltip("statistic:N", title="Statistic"),
                alt.Tooltip("wait_hours:Q", title="Hours", format=",.2f"),
            ],
        ),
        width="stretch",
    )
    common.show_table(
        curves.round(3),
        key="demand_waits",
        column_config={
            "gpus": st.column_config.NumberColumn("Cluster size (GPUs)", format="%d")
        },
    )


render()
