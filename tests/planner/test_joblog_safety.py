"""Job logs under hostile or careless input: nothing merged, lost or hung."""

import gc
import io
import os
import threading

import pytest

from planner.joblog import demand_summary, read_generic_csv, read_log, read_sacct

T0 = "2024-01-01T00:00:00"
T1 = "2024-01-01T01:00:00"
T2 = "2024-01-01T02:00:00"


def rejected(log):
    return [(r.line, r.column) for r in log.rejected]


def test_a_stray_quote_rejects_its_line_and_keeps_the_rest():
    # Before: the quote opened a field that swallowed every later line.
    text = (
        "start,end,gpus,group\n"
        f'{T0},{T1},1,"nlp\n'
        f"{T0},{T2},2,vision\n"
        f'{T0},{T1},3,"speech, audio"\n'
        f'{T0},{T1},4,a"b"\n'
    )
    log = read_generic_csv(io.StringIO(text))
    assert log.jobs["gpus"].tolist() == [2, 3, 4]
    assert log.jobs["line"].tolist() == [3, 4, 5]
    assert log.jobs["group"].tolist() == ["vision", "speech, audio", 'a"b"']
    assert rejected(log) == [(2, "(row)")]
    assert "malformed quoting" in log.rejected[0].reason
    assert log.rows_read == 4


def test_a_quoted_field_across_lines_is_two_rejected_lines_not_one_job():
    text = f'start,end,gpus,note\n{T0},{T1},1,"first\nsecond"\n{T0},{T2},2,ok\n'
    log = read_generic_csv(io.StringIO(text))
    assert log.jobs["gpus"].tolist() == [2]
    assert [line for line, _ in rejected(log)] == [2, 3]


def test_gpus_from_gres_when_tres_is_silent():
    # Older Slurm and Open XDMoD's exports: GPUs only in ReqGRES / AllocGRES.
    text = (
        "JobID|Start|End|State|ReqTRES|ReqGRES|AllocGRES\n"
        f"1|{T0}|{T1}|COMPLETED|cpu=4,mem=8G,node=1|gpu:2|gpu:p100:2(IDX:0-1)\n"
        f"2|{T0}|{T1}|COMPLETED|cpu=4,node=1|gpu:k80:4(IDX:0-3),hbm:0|\n"
        f"3|{T0}|{T1}|COMPLETED|cpu=4,node=1|gpu:p100:6(S:0),gpu:rtx:2(S:0)|\n"
        f"4|{T0}|{T1}|COMPLETED|cpu=4,gres/gpu=1|gpu:8|\n"
        f"5|{T0}|{T1}|COMPLETED|cpu=4|bandwidth:1G|\n"
        f"6|{T0}|{T1}|COMPLETED|cpu=4|gpu|\n"
    )
    log = read_sacct(io.StringIO(text))
    by_id = log.jobs.set_index("job_id")
    assert by_id["gpus"].to_dict() == {"1": 2, "2": 4, "3": 8, "4": 1, "5": 0, "6": 1}
    assert by_id.loc["1", "accelerator"] == "p100"
    assert by_id.loc["3", "accelerator"] == "p100+rtx"
    assert log.rejected_count == 0


def test_gres_only_export_is_read():
    text = f"JobID|Start|End|ReqGRES\n1|{T0}|{T1}|gpu:tesla:3\n"
    assert read_sacct(io.StringIO(text)).jobs["gpus"].tolist() == [3]


def test_one_bad_gpu_count_is_one_rejected_row():
    text = (
        "JobID|Start|End|State|AllocTRES\n"
        f"1|{T0}|{T1}|COMPLETED|gres/gpu=2\n"
        f"2|{T0}|{T1}|COMPLETED|gres/gpu=²\n"
        f"3|{T0}|{T1}|COMPLETED|gres/gpu=\u0663\n"
        f"4|{T0}|{T1}|COMPLETED|gres/gpu=4\n"
    )
    log = read_sacct(io.StringIO(text))
    assert log.jobs["job_id"].tolist() == ["1", "4"]
    assert rejected(log) == [(3, "AllocTRES"), (4, "AllocTRES")]
    assert all("is not a number" in r.reason for r in log.rejected)


def test_non_ascii_digits_are_not_numbers_ids_or_dates():
    arabic_year = "\u0662\u0660\u0662\u0664"  # 2024 in Arabic-Indic digits
    text = (
        "JobID|Start|End|AllocTRES\n"
        f"\u0661\u0662|{T0}|{T1}|gres/gpu=1\n"
        f"2|{arabic_year}-01-01T00:00:00|{T1}|gres/gpu=1\n"
        f"3|{T0}|{T1}|gres/gpu=1\n"
    )
    log = read_sacct(io.StringIO(text))
    assert log.jobs["job_id"].tolist() == ["3"]
    assert rejected(log) == [(2, "JobID"), (3, "Start")]
    csv_text = f"start,end,gpus\n{T0},{T1},\u0662\n{T0},{T1},1_0\n{T0},{T1},2\n"
    log = read_generic_csv(io.StringIO(csv_text))
    assert log.jobs["gpus"].tolist() == [2]
    assert rejected(log) == [(2, "gpus"), (3, "gpus")]


def test_a_huge_elapsed_is_rejected_as_too_long():
    text = (
        "JobID|Start|Elapsed|State|AllocTRES\n"
        f"1|{T0}|99999999999999-00:00:00|COMPLETED|gres/gpu=1\n"
        f"2|{T0}|01:00:00|COMPLETED|gres/gpu=1\n"
    )
    log = read_sacct(io.StringIO(text))
    assert log.jobs["job_id"].tolist() == ["2"]
    assert rejected(log) == [(2, "Elapsed")]
    assert "longer than 36,525 days" in log.rejected[0].reason


def test_a_huge_codecarbon_duration_is_rejected_as_too_long():
    text = (
        "timestamp,duration,emissions,gpu_count,gpu_energy\n"
        f"{T1},1e300,0,1,0\n{T1},3600,0,1,0.3\n"
    )
    log = read_log(io.StringIO(text))
    assert rejected(log) == [(2, "duration")]
    assert "implausibly long" in log.rejected[0].reason


def test_unknown_states_and_zero_length_runs_are_counted():
    text = (
        "JobID|Start|End|State|AllocTRES\n"
        f"1|{T0}|{T1}|COMPLETED|gres/gpu=1\n"
        f"2|{T0}|{T0}|CANCELLED by 42|gres/gpu=8\n"
        f"3|{T0}|{T1}|EXPLODED|gres/gpu=1\n"
        f"4|{T0}|{T1}|MYSTERY|gres/gpu=1\n"
    )
    log = read_sacct(io.StringIO(text))
    assert log.jobs["job_id"].tolist() == ["1", "3", "4"]
    assert log.zero_length_jobs == 1
    assert log.unknown_state_jobs == 2
    assert log.unknown_states == ("EXPLODED", "MYSTERY")
    summary = demand_summary(log)
    assert summary["zero_length_jobs"] == 1
    assert summary["unknown_state_jobs"] == 2
    assert summary["unknown_states"] == ["EXPLODED", "MYSTERY"]
    assert summary["gpu_hours"] == 3.0  # the zero-length 8-GPU job adds nothing


def test_headerless_exports_with_fields():
    text = f"7|{T0}|{T1}|COMPLETED|gres/gpu=2\n8|{T0}|{T2}|COMPLETED|gres/gpu=1|\n"
    log = read_log(io.StringIO(text), fields="JobID,Start,End,State,AllocTRES")
    assert log.kind == "sacct"
    assert log.jobs["gpu_hours"].tolist() == [2.0, 2.0]
    assert log.jobs["line"].tolist() == [1, 2]
    csv_text = f"{T0},{T1},4\n"
    assert (
        read_log(io.StringIO(csv_text), fields=["start", "end", "gpus"]).kind == "csv"
    )


def test_the_xdmod_field_list_reads_an_xdmod_export():
    # The 25 fields of Open XDMoD's `sacct --parsable2 --noheader` export.
    row = [
        "1001",
        "1001",
        "cluster",
        "gpu",
        "physics",
        "grp",
        "100",
        "alice",
        "1000",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00",
        T0,
        T2,
        "02:00:00",
        "0:0",
        "COMPLETED",
        "1",
        "8",
        "8",
        "16Gn",
        "gpu:v100:2",
        "cpu=8,mem=16G,node=1",
        "1-00:00:00",
        "node01",
        "train",
    ]
    log = read_log(("|".join(row) + "\n").encode(), fields="xdmod")
    assert log.jobs["gpus"].tolist() == [2]
    assert log.jobs["gpu_hours"].tolist() == [4.0]
    assert log.jobs["group"].tolist() == ["physics"]


def test_messages_quote_only_short_excerpts():
    secret = "S3CRET-" * 2_000
    text = (
        "JobID|Start|End|AllocTRES\n"
        f"{secret}|{T0}|{T1}|gres/gpu=1\n"
        f"2|{secret}|{T1}|gres/gpu=1\n"
        f"3|{T0}|{T1}|gres/gpu={secret}\n"
        f"4|{T0}|{T1}|gres/gpu=1\n"
    )
    log = read_sacct(io.StringIO(text))
    assert len(log.rejected) == 3
    for row in log.rejected:
        assert len(row.reason) < 250
        assert secret not in row.reason
    with pytest.raises(ValueError, match="does not look like a job log") as error:
        read_log(io.StringIO(secret + "\n1,2\n"))
    assert len(str(error.value)) < 400


def test_bytes_are_read_in_memory_with_a_name():
    log = read_log(f"start,end,gpus\n{T0},{T1},2\n".encode(), name="jobs.csv")
    assert log.source == "jobs.csv"
    assert log.jobs["gpus"].tolist() == [2]
    with pytest.raises(ValueError, match="binary file"):
        read_log(b"\x00\x01\x02start,end,gpus\n")
    with pytest.raises(ValueError, match="larger than the limit of 10 bytes"):
        read_log(b"start,end,gpus\n", max_bytes=10)


def test_paths_streams_and_bytes_share_the_size_limit(tmp_path):
    text = f"start,end,gpus\n{T0},{T1},2\n"
    path = tmp_path / "jobs.csv"
    path.write_text(text)
    for source in (path, io.StringIO(text), text.encode()):
        with pytest.raises(ValueError, match="larger than the limit"):
            read_log(source, kind="csv", max_bytes=20)
        if isinstance(source, io.StringIO):
            source.seek(0)
        assert read_log(source, kind="csv", max_bytes=len(text)).jobs["gpus"].sum() == 2


def test_a_fifo_or_device_as_job_log_does_not_hang(tmp_path):
    fifo = tmp_path / "jobs.csv"
    os.mkfifo(fifo)
    outcome = {}

    def target():
        for source in (fifo, "/dev/zero"):
            try:
                read_log(source)
            except ValueError as error:
                outcome[str(source)] = str(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive()
    assert all("not a regular file" in message for message in outcome.values())
    assert len(outcome) == 2


def test_a_nul_in_a_path_is_a_clean_message():
    with pytest.raises(ValueError, match="NUL"):
        read_log("jobs\x00.csv")


def test_reading_leaves_the_garbage_collector_on():
    seen = []

    class Watching(io.StringIO):
        def __next__(self):
            seen.append(gc.isenabled())
            return super().__next__()

    read_log(Watching(f"start,end,gpus\n{T0},{T1},1\n"), kind="csv")
    assert seen
    assert all(seen)


def test_every_rejected_row_has_line_column_and_reason():
    text = (
        "start,end,gpus\n"
        f"{T0},{T1},1\n"
        f"{T0},{T1},x\n"
        f"nope,{T1},1\n"
        f"{T1},{T0},1\n"
        f"{T0},{T1}\n"
    )
    log = read_generic_csv(io.StringIO(text))
    assert rejected(log) == [(3, "gpus"), (4, "start"), (5, "end"), (6, "(row)")]
    assert all(r.reason for r in log.rejected)


@pytest.mark.parametrize(
    "change",
    [
        {"target_gpu_hours": float("inf")},
        {"median_job_hours": float("nan")},
        {"gpus_per_job_probabilities": {1: float("nan")}},
    ],
)
def test_workload_specs_refuse_non_finite_numbers(change):
    from pydantic import ValidationError

    from planner.joblog import LISA_PRESET, WorkloadSpec

    with pytest.raises(ValidationError):
        WorkloadSpec.model_validate(LISA_PRESET.model_dump() | change)
