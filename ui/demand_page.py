"""Page: demand from a job log (or the LISA workload), and waits by cluster size."""

import hashlib

import altair as alt
import pandas as pd
import streamlit as st

from planner import joblog, queueing
from ui import common

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
            try:
                with st.status("Reading the job log ...", expanded=False):
                    summary, jobs = _from_upload(
                        content,
                        label,
                        None if kind == "detect" else kind,
                        fields.strip() or None,
                    )
            except ValueError as error:
                common.show_error(f"{label} was not imported: {error}")
                st.caption("Showing the LISA workload instead.")
    _report(summary)
    _series(jobs)
    _waits(jobs, summary)
    digest = hashlib.sha256(str(summary.get("source")).encode()).hexdigest()[:8]
    st.download_button(
        "Import report (JSON)",
        pd.Series(summary).to_json(indent=2),
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


def _series(jobs: pd.DataFrame) -> None:
    hourly = joblog.hourly_concurrency_gpus(jobs)
    frame = hourly.rename("busy_gpus").rename_axis("hour").reset_index()
    curve = joblog.load_duration_curve_gpus(hourly)
    ldc = pd.DataFrame(
        {
            "share_of_hours": (pd.RangeIndex(len(curve)) + 1) / len(curve),
            "busy_gpus": curve,
        }
    )
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


def _waits(jobs: pd.DataFrame, summary: dict[str, object]) -> None:
    st.subheader("Waits against cluster size")
    biggest = int(jobs["gpus"].max()) if len(jobs) else 1
    mean = float(summary["mean_concurrency"])  # type: ignore[arg-type]
    low = max(biggest, int(mean))
    left, right = st.columns(2)
    policy = left.radio(
        "Scheduler", ["fifo", "backfill"], horizontal=True, key="demand_policy"
    )
    span = right.slider(
        "Largest cluster, times the mean demand", 1.2, 4.0, 2.2, key="demand_span"
    )
    high = max(low + 1, int(mean * span))
    step = max(1, (high - low) // 12)
    sizes = tuple(range(low, high + 1, step))
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
    st.altair_chart(
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("gpus:Q", title="Cluster size (GPUs)"),
            y=alt.Y(
                "wait_hours:Q", title="Wait (hours)", scale=alt.Scale(type="symlog")
            ),
            color=alt.Color("statistic:N", title=None),
        ),
        width="stretch",
    )
    st.dataframe(curves.round(3), hide_index=True, key="demand_waits")


render()
