"""Tests of planner.joblog: log import, concurrency, summary and generators."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from planner.joblog import (
    JOB_COLUMNS,
    LISA_GPU_HOURS,
    LISA_PRESET,
    MAX_GPUS_PER_JOB,
    DeadlineSurge,
    JobLog,
    WorkloadSpec,
    demand_summary,
    generate_workload,
    hourly_concurrency_gpus,
    lisa_workload_spec,
    load_duration_curve_gpus,
    peak_concurrency_gpus,
    power_calibration_table,
    read_codecarbon,
    read_generic_csv,
    read_log,
    read_sacct,
)

DATA = Path(__file__).parents[1] / "data" / "joblogs"
SACCT = DATA / "sacct_mixed.txt"
EXPORT = "2024-03-01T16:00:00"
HEADER = "JobID|Start|End|Elapsed|State|AllocTRES|Account"


def sacct(*rows: str, header: str = HEADER, **kwargs: object) -> JobLog:
    text = "\n".join([header, *rows]) + "\n"
    return read_sacct(io.StringIO(text), **kwargs)  # type: ignore[arg-type]


def by_id(log: JobLog) -> pd.DataFrame:
    return log.jobs.set_index("job_id")


# --------------------------------------------------------------------------
# sacct: the mixed fixture (tests/data/joblogs/README.md describes each row)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed() -> JobLog:
    return read_sacct(SACCT, export_time=EXPORT)


def test_read_sacct_keeps_jobs_and_skips_steps(mixed: JobLog) -> None:
    # Steps 1001.batch, 1001.extern and 1001.0 repeat job 1001's allocation.
    assert mixed.step_rows == 3
    assert list(mixed.jobs["job_id"]) == [
        "1001",
        "1002_1",
        "1002_2",
        "1003+0",
        "1003+1",
        "1005",
        "1006",
        "1007",
    ]
    assert list(mixed.jobs.columns) == list(JOB_COLUMNS)


def test_read_sacct_gpu_hours_by_job(mixed: JobLog) -> None:
    # By hand: 1001 2 GPUs x 4 h; 1002_1 typed-only gres/gpu:v100=1 x 1.5 h;
    # 1002_2 1 x 2 h; 1003+0 4 x 4 h; 1003+1 is CPU-only; 1005 ReqTRES 3 x 1 h;
    # 1006 RUNNING 4 GPUs from 12:00 cut at the 16:00 export; 1007 End empty,
    # Elapsed 02:00:00 -> 2 h x 1.
    expected = {
        "1001": 8.0,
        "1002_1": 1.5,
        "1002_2": 2.0,
        "1003+0": 16.0,
        "1003+1": 0.0,
        "1005": 3.0,
        "1006": 16.0,
        "1007": 2.0,
    }
    assert by_id(mixed)["gpu_hours"].to_dict() == pytest.approx(expected)
    assert mixed.jobs["gpu_hours"].sum() == pytest.approx(48.5)


def test_read_sacct_counts_pending_and_unknown_times(mixed: JobLog) -> None:
    assert mixed.pending_jobs == 1  # 1002_[3-5]
    assert mixed.unknown_time_jobs == 1  # 1004, Start=None (cancelled)
    assert mixed.rows_read == 18


def test_read_sacct_lists_malformed_rows_with_lines(mixed: JobLog) -> None:
    rows = [(r.line, r.column) for r in mixed.rejected]
    assert rows == [
        (15, "End"),
        (16, "AllocTRES"),
        (17, "Start"),
        (18, "(row)"),
        (19, "JobID"),
    ]
    reasons = {r.line: r.reason for r in mixed.rejected}
    assert "before Start" in reasons[15]
    assert "250000 GPUs" in reasons[16]
    assert str(MAX_GPUS_PER_JOB) in reasons[16]
    assert "2024-03-01X12:00" in reasons[17]
    assert "truncated" in reasons[18]
    assert "'abc'" in reasons[19]
    assert mixed.rejected_count == 5
    assert not mixed.rejected_rows_truncated


def test_read_sacct_gpu_types_and_groups(mixed: JobLog) -> None:
    jobs = by_id(mixed)
    assert jobs.loc["1001", "accelerator"] == "a100"
    assert jobs.loc["1002_1", "accelerator"] == "v100"
    assert pd.isna(jobs.loc["1005", "accelerator"])
    assert jobs.loc["1003+0", "group"] == "vision"  # Account before Partition
    assert jobs.loc["1006", "state"] == "RUNNING"


def test_read_sacct_group_by_other_field() -> None:
    log = read_sacct(SACCT, export_time=EXPORT, group_by="User")
    assert set(log.jobs["group"]) == {"alice", "bob", "carol", "dave"}


def test_read_sacct_uses_submit_time(mixed: JobLog) -> None:
    jobs = by_id(mixed)
    assert jobs.loc["1001", "submit"] == pd.Timestamp("2024-03-01T08:00", tz="UTC")
    assert jobs.loc["1001", "start"] == pd.Timestamp("2024-03-01T09:00", tz="UTC")


def test_read_sacct_running_job_without_export_time_uses_elapsed() -> None:
    log = read_sacct(SACCT)
    # 1006 started 12:00 with Elapsed 03:00:00 at export: it ends at 15:00.
    assert by_id(log).loc["1006", "gpu_hours"] == pytest.approx(12.0)
    assert log.export_time is None


def test_read_sacct_running_job_without_elapsed_ends_at_latest_time() -> None:
    log = sacct(
        "1|2024-01-01T00:00:00|2024-01-01T05:00:00|05:00:00|COMPLETED|gres/gpu=1|a",
        "2|2024-01-01T01:00:00|Unknown||RUNNING|gres/gpu=2|a",
    )
    assert by_id(log).loc["2", "gpu_hours"] == pytest.approx(8.0)  # 01:00-05:00


def test_read_sacct_cuts_jobs_at_export_time() -> None:
    log = sacct(
        "1|2024-01-01T00:00:00|2024-01-01T10:00:00|10:00:00|COMPLETED|gres/gpu=1|a",
        "2|2024-01-01T12:00:00|2024-01-01T13:00:00|01:00:00|COMPLETED|gres/gpu=1|a",
        export_time="2024-01-01T06:00:00",
    )
    assert by_id(log).loc["1", "gpu_hours"] == pytest.approx(6.0)
    assert [r.line for r in log.rejected] == [3]
    assert "after the export time" in log.rejected[0].reason


def test_read_sacct_derives_start_from_end_and_elapsed() -> None:
    log = sacct(
        "1|Unknown|2024-01-01T10:00:00|1-02:00:00|COMPLETED|gres/gpu=2|a",
        header="JobID|Start|End|Elapsed|State|AllocTRES|Account",
    )
    assert by_id(log).loc["1", "start"] == pd.Timestamp("2023-12-31T08:00", tz="UTC")
    assert by_id(log).loc["1", "gpu_hours"] == pytest.approx(52.0)


def test_read_sacct_file_without_end_column() -> None:
    log = sacct(
        "5|2024-01-01T00:00:00|45:30|COMPLETED|gres/gpu=1",
        header="JobID|Start|Elapsed|State|ReqTRES",
    )
    assert by_id(log).loc["5", "gpu_hours"] == pytest.approx(45.5 / 60)


def test_read_sacct_array_and_het_ids_parse() -> None:
    ids = ["123_4", "123_[1-5]", "123+0", "123_7+1"]
    rows = [
        f"{i}|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=1|a"
        for i in ids
    ]
    log = sacct(*rows)
    assert list(log.jobs["job_id"]) == ids
    assert log.rejected_count == 0


def test_read_sacct_lowercase_p_trailing_delimiter() -> None:
    log = read_sacct(DATA / "sacct_lowercase_p.txt")
    jobs = by_id(log)
    assert jobs.loc["7", "gpu_hours"] == pytest.approx(48.0)
    # Two typed entries and no untyped total: the count is their sum.
    assert jobs.loc["8", "gpus"] == 2
    assert jobs.loc["8", "accelerator"] == "a100+h100"
    assert log.step_rows == 1
    assert log.rejected_count == 0


def test_read_sacct_timezone_offsets_convert_to_utc() -> None:
    log = sacct(
        "1|2024-01-01T02:00:00+02:00|2024-01-01T03:00:00+02:00|01:00:00|COMPLETED|"
        "gres/gpu=1|a",
        "2|2024-03-31T12:00:00+01:00|2024-03-31T13:00:00Z|02:00:00|COMPLETED|"
        "gres/gpu=1|a",
    )
    jobs = by_id(log)
    assert jobs.loc["1", "start"] == pd.Timestamp("2024-01-01T00:00", tz="UTC")
    assert jobs.loc["2", "gpu_hours"] == pytest.approx(2.0)


def test_read_sacct_rejects_mixed_time_zones() -> None:
    log = sacct(
        "1|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=1|a",
        "2|2024-01-01T00:00:00+02:00|2024-01-01T01:00:00+02:00|01:00:00|COMPLETED|"
        "gres/gpu=1|a",
    )
    assert len(log.jobs) == 1
    assert log.rejected[0].line == 3
    assert "mixed time zones" in log.rejected[0].reason


def test_read_sacct_rejects_implausible_dates() -> None:
    log = sacct(
        "1|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=1|a",
        "2|2204-01-01T00:00:00|2204-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=1|a",
    )
    assert "outside the plausible range" in log.rejected[0].reason


def test_read_sacct_rejects_non_numeric_gpu_count() -> None:
    log = sacct(
        "1|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=1|a",
        "2|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=x|a",
    )
    assert log.rejected[0].column == "AllocTRES"
    assert "'x'" in log.rejected[0].reason


def test_read_sacct_strict_names_line_and_field() -> None:
    with pytest.raises(ValueError, match=r"line 15: End .* is before Start"):
        read_sacct(SACCT, strict=True)


def test_read_sacct_strict_absurd_gpu_count() -> None:
    row = (
        "1|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=100001|a"
    )
    with pytest.raises(ValueError, match=r"line 2: AllocTRES: 100001 GPUs"):
        sacct(row, strict=True)


def test_read_sacct_lists_at_most_max_rejected_but_counts_all() -> None:
    good = "1|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=1|a"
    log = sacct(good, *(["x|y"] * 20), max_rejected_listed=5)
    assert log.rejected_count == 20
    assert len(log.rejected) == 5
    assert log.rejected_rows_truncated
    assert demand_summary(log)["rejected_rows_truncated"] is True


@pytest.mark.parametrize("chunk_rows", [1, 3, 7])
def test_read_sacct_chunking_does_not_change_the_result(
    mixed: JobLog, chunk_rows: int
) -> None:
    chunked = read_sacct(SACCT, export_time=EXPORT, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(chunked.jobs, mixed.jobs)
    assert chunked.rejected == mixed.rejected
    assert (chunked.pending_jobs, chunked.step_rows) == (1, 3)


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ("Start|End|AllocTRES", "JobID"),
        ("JobID|Start|End|State", "no AllocTRES, ReqTRES, AllocGRES or ReqGRES"),
        ("JobID|Start|State|AllocTRES", "Start with End or Elapsed"),
    ],
)
def test_read_sacct_rejects_headers_missing_fields(header: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        read_sacct(io.StringIO(header + "\n1|2|3|4\n"))


def test_read_sacct_group_by_must_exist() -> None:
    with pytest.raises(ValueError, match="group_by='User'"):
        sacct("1|x|x|x|x|x|x", group_by="User")


def test_read_sacct_export_time_must_be_a_time() -> None:
    with pytest.raises(ValueError, match="export_time"):
        read_sacct(SACCT, export_time="yesterday-ish")


# --------------------------------------------------------------------------
# Bad input files
# --------------------------------------------------------------------------


def test_read_log_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_log(path)


def test_read_log_blank_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text("\n  \n\n")
    with pytest.raises(ValueError, match="empty"):
        read_sacct(path)


def test_read_log_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.txt"
    path.write_text(HEADER + "\n")
    with pytest.raises(ValueError, match="no job rows"):
        read_log(path)


def test_read_log_not_a_log() -> None:
    with pytest.raises(ValueError, match="does not look like a job log"):
        read_log(DATA / "not_a_log.txt")


def test_read_log_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ValueError, match="binary"):
        read_log(path)


def test_read_log_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="directory"):
        read_log(tmp_path)
    with pytest.raises(ValueError, match="cannot read"):
        read_log(tmp_path / "nope.txt")


def test_read_log_all_rows_bad_is_an_error() -> None:
    text = HEADER + "\n" + "1|soon|later|x|COMPLETED|gres/gpu=1|a\n" * 3
    with pytest.raises(ValueError, match=r"none of its 3 rows.*line 2: Start"):
        read_sacct(io.StringIO(text))


def test_read_log_single_end_before_start_names_line_and_field() -> None:
    text = "start,end,gpus\n2024-01-02T00:00,2024-01-01T00:00,1\n"
    with pytest.raises(ValueError, match=r"line 2: end \(2024-01-01.*is before start"):
        read_log(io.StringIO(text))


def test_read_log_truncated_file(tmp_path: Path) -> None:
    text = SACCT.read_text()
    path = tmp_path / "cut.txt"
    path.write_text(text[: text.index("1003+1") + 30])  # cut inside line 10
    log = read_log(path, export_time=EXPORT)
    assert log.rejected[-1].line == 10
    assert "truncated" in log.rejected[-1].reason


def test_read_log_undecodable_bytes_spoil_one_row(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    rows = [
        HEADER,
        "1|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=1|a",
        "2\xe9|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|COMPLETED|gres/gpu=1|a",
    ]
    path.write_bytes("\n".join(rows).encode("latin-1"))
    log = read_log(path)
    assert len(log.jobs) == 1
    assert log.rejected[0].line == 3


def test_read_log_detects_each_kind() -> None:
    assert read_log(SACCT).kind == "sacct"
    assert read_log(DATA / "generic.csv").kind == "csv"
    assert read_log(DATA / "codecarbon_emissions.csv").kind == "codecarbon"


def test_read_log_stream_is_rewound_after_detection() -> None:
    stream = io.StringIO(SACCT.read_text())
    assert len(read_log(stream, export_time=EXPORT).jobs) == 8


def test_read_log_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        read_log(SACCT, kind="slurm")  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Generic CSV and CodeCarbon
# --------------------------------------------------------------------------


def test_read_generic_csv_fixture() -> None:
    log = read_generic_csv(DATA / "generic.csv")
    jobs = by_id(log)
    assert list(jobs.index) == ["j1", "j2", "j6"]
    assert jobs.loc["j1", "group"] == "vision, lab"  # quoted comma
    assert jobs.loc["j6", "gpus"] == 2  # "2.0" is a whole number
    assert jobs["gpu_hours"].to_dict() == pytest.approx(
        {"j1": 12.0, "j2": 0.5, "j6": 6.0}
    )
    assert [(r.line, r.column) for r in log.rejected] == [
        (4, "end"),
        (5, "gpus"),
        (6, "end"),
    ]


def test_read_generic_csv_defaults_ids_to_lines() -> None:
    text = "Start_Time,End_Time,GPU_Count\n2024-01-01T00:00,2024-01-01T01:00,3\n"
    log = read_generic_csv(io.StringIO(text))
    assert log.jobs["job_id"].tolist() == ["2"]
    assert log.jobs["state"].tolist() == ["COMPLETED"]


def test_read_generic_csv_missing_columns() -> None:
    with pytest.raises(ValueError, match=r"missing column.*end"):
        read_generic_csv(io.StringIO("start,gpus\n2024-01-01,1\n"))


def test_read_generic_csv_absurd_gpus_strict() -> None:
    text = "start,end,gpus\n2024-01-01,2024-01-02,200000\n"
    with pytest.raises(ValueError, match="line 2: gpus: 200000 GPUs"):
        read_generic_csv(io.StringIO(text), strict=True)


def test_read_codecarbon_calibration_against_tdp() -> None:
    # A100: (1.2 + 0.3) kWh / (2 GPUs x 2 h + 1 GPU x 1 h) = 300 W per GPU;
    # V100: 3.6 kWh / (4 x 4 h) = 225 W. TDPs 400 W and 300 W give 0.75 each.
    log = read_codecarbon(
        DATA / "codecarbon_emissions.csv",
        tdp_w_by_gpu_model={"A100 SXM4 40GB": 400.0, "V100": 300.0},
    )
    assert log.power_calibration is not None
    table = log.power_calibration.set_index("accelerator")
    assert table["measured_w_per_gpu"].to_dict() == pytest.approx(
        {"NVIDIA A100-SXM4-40GB": 300.0, "Tesla V100-SXM2-16GB": 225.0}
    )
    assert table["measured_to_tdp"].tolist() == pytest.approx([0.75, 0.75])
    assert table["runs"].tolist() == [2, 1]


def test_read_codecarbon_runs_and_rejections() -> None:
    log = read_codecarbon(DATA / "codecarbon_emissions.csv")
    jobs = by_id(log)
    # The timestamp ends the run; run-a lasted 7,200 s on 2 GPUs.
    assert jobs.loc["run-a", "start"] == pd.Timestamp("2024-06-01T10:00", tz="UTC")
    assert jobs.loc["run-a", "gpu_hours"] == pytest.approx(4.0)
    assert jobs.loc["run-d", "gpus"] == 0  # CPU-only run
    assert [(r.line, r.column) for r in log.rejected] == [(6, "duration")]
    assert log.power_calibration is not None
    assert log.power_calibration["tdp_w"].isna().all()


def test_read_codecarbon_single_tdp_for_all_models() -> None:
    log = read_codecarbon(DATA / "codecarbon_emissions.csv", tdp_w_by_gpu_model=300)
    assert log.power_calibration is not None
    assert log.power_calibration["measured_to_tdp"].tolist() == pytest.approx(
        [1.0, 0.75]
    )


def test_read_codecarbon_without_gpu_columns() -> None:
    text = "timestamp,project_name,duration,emissions\n2024-01-01T00:00:00,p,10,0.1\n"
    with pytest.raises(ValueError, match="gpu_count"):
        read_codecarbon(io.StringIO(text))


def test_power_calibration_table_rejects_bad_tdp() -> None:
    jobs = pd.DataFrame(
        {
            "accelerator": ["V100"],
            "gpus": [1],
            "gpu_hours": [1.0],
            "gpu_energy_kwh": [1.0],
        }
    )
    with pytest.raises(ValueError, match="tdp_w_by_gpu_model"):
        power_calibration_table(jobs, {"V100": 0.0})


# --------------------------------------------------------------------------
# Concurrency, load-duration curve, summary
# --------------------------------------------------------------------------


def test_hourly_concurrency_by_hand() -> None:
    text = (
        "start,end,gpus,group\n"
        "2024-01-01T00:30,2024-01-01T02:15,4,a\n"
        "2024-01-01T01:00,2024-01-01T01:30,2,b\n"
    )
    log = read_generic_csv(io.StringIO(text))
    hourly = hourly_concurrency_gpus(log)
    # Hour 0: 4 GPUs x 0.5 h; hour 1: 4 x 1 + 2 x 0.5; hour 2: 4 x 0.25.
    assert hourly.tolist() == pytest.approx([2.0, 5.0, 1.0])
    assert hourly.index[0] == pd.Timestamp("2024-01-01T00:00", tz="UTC")
    assert hourly.index.freq is None or hourly.index.freqstr == "h"
    groups = hourly_concurrency_gpus(log, by_group=True)
    assert isinstance(groups, pd.DataFrame)
    assert groups["b"].tolist() == pytest.approx([0.0, 1.0, 0.0])
    np.testing.assert_allclose(groups.sum(axis=1), hourly)


def test_hourly_concurrency_covers_the_export_window(mixed: JobLog) -> None:
    hourly = hourly_concurrency_gpus(mixed)
    assert hourly.index[-1] == pd.Timestamp("2024-03-01T15:00", tz="UTC")
    assert hourly.sum() == pytest.approx(48.5)


def test_hourly_concurrency_of_an_empty_table() -> None:
    empty = read_sacct(io.StringIO(HEADER + "\n1|Unknown|Unknown||PENDING||a\n"))
    assert len(hourly_concurrency_gpus(empty)) == 0
    summary = demand_summary(empty)
    assert (summary["jobs"], summary["pending_jobs"], summary["mean_concurrency"]) == (
        0,
        1,
        0.0,
    )


def test_load_duration_curve_input_forms() -> None:
    values = [1.0, 3.0, 2.0]
    expected = [3.0, 2.0, 1.0]
    assert load_duration_curve_gpus(values).tolist() == expected
    assert load_duration_curve_gpus(np.array(values)).tolist() == expected
    assert load_duration_curve_gpus(pd.Series(values)).tolist() == expected
    frame = pd.DataFrame({"a": [1.0, 1.0, 0.0], "b": [0.0, 2.0, 2.0]})
    assert load_duration_curve_gpus(frame).tolist() == expected


@pytest.mark.parametrize("bad", [[1.0, -1.0], [np.nan], [[1.0, 2.0]]])
def test_load_duration_curve_rejects_bad_values(bad: list[object]) -> None:
    with pytest.raises(ValueError, match="hourly"):
        load_duration_curve_gpus(bad)  # type: ignore[arg-type]


def test_demand_summary_is_json_ready(mixed: JobLog) -> None:
    summary = demand_summary(mixed)
    json.dumps(summary)  # no numpy or pandas objects inside
    assert summary["jobs"] == 8
    assert summary["gpu_hours"] == pytest.approx(48.5)
    # 09:00 to 16:00 is 7 hours.
    assert summary["period_hours"] == 7
    assert summary["mean_concurrency"] == pytest.approx(48.5 / 7)
    assert summary["max_concurrency"] == pytest.approx(
        hourly_concurrency_gpus(mixed).max()
    )
    # 12:30-13:00: 1001 (2) + 1002 none + 1003+0 (4) + 1006 (4) + 1007 (1) = 11.
    assert summary["peak_concurrency_instantaneous"] == 11
    assert summary["by_group"]["vision"]["gpu_hours"] == pytest.approx(19.0)
    assert summary["by_state"]["RUNNING"] == {"jobs": 1, "gpu_hours": 16.0}
    assert summary["rejected_rows"][0] == {
        "line": 15,
        "column": "End",
        "reason": mixed.rejected[0].reason,
    }
    assert summary["rejected_count"] == 5
    assert summary["export_time"] == "2024-03-01T16:00:00+00:00"


def test_demand_summary_includes_power_calibration() -> None:
    log = read_codecarbon(DATA / "codecarbon_emissions.csv", tdp_w_by_gpu_model=400)
    summary = demand_summary(log)
    json.dumps(summary)
    assert summary["power_calibration"][0]["tdp_w"] == 400.0


@st.composite
def job_tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    base = pd.Timestamp("2024-01-01", tz="UTC")
    starts = draw(st.lists(st.integers(0, 72 * 3600), min_size=n, max_size=n))
    lengths = draw(st.lists(st.integers(0, 30 * 3600), min_size=n, max_size=n))
    gpus = draw(st.lists(st.integers(0, 16), min_size=n, max_size=n))
    groups = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    start = base + pd.to_timedelta(starts, unit="s")
    end = start + pd.to_timedelta(lengths, unit="s")
    hours = np.asarray(lengths) / 3600 * np.asarray(gpus)
    return pd.DataFrame(
        {"start": start, "end": end, "gpus": gpus, "group": groups, "gpu_hours": hours}
    )


@settings(max_examples=60, deadline=None)
@given(jobs=job_tables())
def test_concurrency_integrates_to_total_gpu_hours(jobs: pd.DataFrame) -> None:
    hourly = hourly_concurrency_gpus(jobs)
    total = jobs["gpu_hours"].sum()
    assert hourly.sum() == pytest.approx(total, rel=1e-9, abs=1e-9)
    curve = load_duration_curve_gpus(hourly)
    assert np.all(np.diff(curve) <= 0)
    assert curve.sum() == pytest.approx(total, rel=1e-9, abs=1e-9)
    groups = hourly_concurrency_gpus(jobs, by_group=True)
    np.testing.assert_allclose(groups.sum(axis=1), hourly, atol=1e-9)
    highest = float(hourly.max()) if len(hourly) else 0.0
    assert highest <= peak_concurrency_gpus(jobs) + 1e-9


# --------------------------------------------------------------------------
# Generated workloads
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lisa() -> JobLog:
    return generate_workload(lisa_workload_spec())


def test_lisa_matches_strubell_2019_section_4_2(lisa: JobLog) -> None:
    # Strubell et al. 2019, section 4.2 and Table 4: 4,789 jobs over 172 days,
    # lengths 3 min to 9 days, 239,942 GPU-hours; section 5: about 58 GPUs.
    jobs = lisa.jobs
    hours = (jobs["end"] - jobs["start"]).dt.total_seconds() / 3600
    assert len(jobs) == 4_789
    assert hours.min() >= 3 / 60 - 1e-9
    assert hours.max() <= 9 * 24 + 1e-9
    # The brief allows 0.5 %; the generator rescales exactly (to ns rounding).
    assert jobs["gpu_hours"].sum() == pytest.approx(LISA_GPU_HOURS, rel=1e-9)
    assert lisa.period_end - lisa.period_start == pd.Timedelta(days=172)
    assert jobs["start"].min() >= lisa.period_start
    assert jobs["end"].max() <= lisa.period_end
    summary = demand_summary(lisa)
    assert summary["period_hours"] == 172 * 24
    # 239,942 / 4,128 h = 58.13 GPUs (strubell2019.md 1.5).
    assert summary["mean_concurrency"] == pytest.approx(58.13, abs=0.01)


def test_lisa_grid_searches_and_gpu_mix(lisa: JobLog) -> None:
    # 123 grid searches, each submitting its jobs at once.
    assert lisa.jobs["submit"].nunique() == 123
    titan_share = (lisa.jobs["accelerator"] == "Titan X").mean()
    assert titan_share == pytest.approx(0.72, abs=0.03)  # 72 % Titan X; ~3 sd
    assert set(lisa.jobs["gpus"]) == {1}


def test_lisa_preset_equals_the_function() -> None:
    assert lisa_workload_spec() == LISA_PRESET


def test_generate_workload_is_reproducible() -> None:
    spec = WorkloadSpec(
        job_count=200,
        span_days=5,
        median_job_hours=1,
        job_length_log_sigma=1,
        min_job_hours=0.1,
        max_job_hours=24,
        seed=7,
    )
    first = generate_workload(spec).jobs
    pd.testing.assert_frame_equal(first, generate_workload(spec).jobs)
    other = generate_workload(
        WorkloadSpec.model_validate(spec.model_dump() | {"seed": 8})
    )
    assert not first["start"].equals(other.jobs["start"])


def test_workload_spec_json_round_trip() -> None:
    spec = lisa_workload_spec(seed=5)
    assert WorkloadSpec.model_validate_json(spec.model_dump_json()) == spec


def test_read_sacct_accepts_jobidraw() -> None:
    log = sacct(
        "99|2024-01-01T00:00:00|2024-01-01T02:00:00|02:00:00|COMPLETED|gres/gpu=1|a",
        header="JobIDRaw|Start|End|Elapsed|State|AllocTRES|Account",
    )
    assert log.jobs["job_id"].tolist() == ["99"]


def test_generate_workload_deadline_surge() -> None:
    spec = WorkloadSpec(
        job_count=20_000,
        span_days=100,
        median_job_hours=0.5,
        job_length_log_sigma=0.5,
        min_job_hours=0.1,
        max_job_hours=2,
        deadline_surges=(DeadlineSurge(deadline_day=50, width_days=10, share=0.3),),
        seed=3,
    )
    log = generate_workload(spec)
    day = (log.jobs["start"] - log.period_start).dt.total_seconds() / 86_400
    in_window = ((day >= 40) & (day < 50)).mean()
    # 30 % in the surge plus 70 % x 10/100 of the uniform rest = 37 %;
    # binomial sd sqrt(0.37 x 0.63 / 20,000) = 0.0034, so 4 sd is 0.014.
    assert in_window == pytest.approx(0.37, abs=0.014)


def test_generate_workload_gpu_mix_and_groups() -> None:
    spec = WorkloadSpec(
        job_count=5_000,
        span_days=30,
        median_job_hours=2,
        job_length_log_sigma=1,
        min_job_hours=0.1,
        max_job_hours=48,
        gpus_per_job_probabilities={1: 0.5, 8: 0.5},
        group_shares={"a": 0.25, "b": 0.75},
        seed=1,
    )
    jobs = generate_workload(spec).jobs
    assert set(jobs["gpus"]) == {1, 8}
    assert (jobs["group"] == "a").mean() == pytest.approx(0.25, abs=0.03)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"extra_field": 1}, "extra"),
        ({"min_job_hours": 5.0}, "min_job_hours <= median_job_hours"),
        ({"gpus_per_job_probabilities": {1: 0.5}}, "sum to 1"),
        ({"gpus_per_job_probabilities": {0: 1.0}}, "keys must be 1"),
        ({"max_job_hours": 10_000.0}, "exceeds the span"),
        ({"grid_search_count": 500}, "exceeds job_count"),
        ({"job_count": 0}, "job_count"),
    ],
)
def test_workload_spec_validation(change: dict[str, object], match: str) -> None:
    base = {
        "job_count": 100,
        "span_days": 10,
        "median_job_hours": 2,
        "job_length_log_sigma": 1,
        "min_job_hours": 0.1,
        "max_job_hours": 48,
    }
    with pytest.raises(ValidationError, match=match):
        WorkloadSpec.model_validate(base | change)


def test_workload_spec_surge_must_fit() -> None:
    with pytest.raises(ValidationError, match="width_days"):
        DeadlineSurge(deadline_day=3, width_days=5, share=0.1)


def test_generate_workload_unreachable_target() -> None:
    spec = WorkloadSpec(
        job_count=10,
        span_days=10,
        median_job_hours=2,
        job_length_log_sigma=1,
        min_job_hours=1,
        max_job_hours=4,
        target_gpu_hours=100,
    )
    with pytest.raises(ValueError, match="target_gpu_hours"):
        generate_workload(spec)


def test_library_does_not_import_streamlit() -> None:
    code = (
        "import sys, planner.joblog, planner.queueing; "
        "sys.exit('streamlit' in sys.modules)"
    )
    root = Path(__file__).parents[2]
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=root)
    assert result.returncode == 0
