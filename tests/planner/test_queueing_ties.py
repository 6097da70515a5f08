"""Backfill on exact times: a job ending at the reservation instant may start."""

import pandas as pd
import pytest

from planner.queueing import simulate_queue


def tie_jobs() -> pd.DataFrame:
    # On 2 GPUs: A holds one GPU until 0.3 h; B needs both, so it is reserved
    # for 0.3 h; C (1 GPU, 0.2 h) arrives at 0.1 h and ends exactly at 0.3 h,
    # so EASY backfill starts it at once. In float hours 0.3 - 0.1 < 0.2, and
    # C used to wait for B to finish (start 1.3 h).
    return pd.DataFrame(
        {
            "job_id": ["A", "B", "C"],
            "submit_hours": [0.0, 0.0, 0.1],
            "run_hours": [0.3, 1.0, 0.2],
            "gpus": [1, 2, 1],
        }
    )


def test_backfill_starts_a_job_that_ends_exactly_at_the_reservation():
    jobs = simulate_queue(tie_jobs(), 2, policy="backfill").jobs.set_index("job_id")
    assert jobs.loc["C", "start_hours"] == pytest.approx(0.1, abs=1e-12)
    assert jobs.loc["C", "wait_hours"] == 0.0
    # B keeps its reservation: it starts when A ends.
    assert jobs.loc["B", "start_hours"] == pytest.approx(0.3, abs=1e-12)


def test_the_tie_from_timestamps_in_seconds():
    t0 = pd.Timestamp("2024-03-01T00:00:00", tz="UTC")
    minutes = pd.Timedelta(minutes=1)
    jobs = pd.DataFrame(
        {
            "job_id": ["A", "B", "C"],
            "submit": [t0, t0, t0 + 6 * minutes],
            "start": [t0, t0, t0 + 6 * minutes],
            "end": [t0 + 18 * minutes, t0 + 60 * minutes, t0 + 18 * minutes],
            "gpus": [1, 2, 1],
        }
    )
    result = simulate_queue(jobs, 2, policy="backfill").jobs.set_index("job_id")
    assert result.loc["C", "wait_hours"] == 0.0
    assert result.loc["B", "wait_hours"] == pytest.approx(0.3, abs=1e-12)


def test_a_job_one_nanosecond_too_long_still_waits():
    jobs = tie_jobs()
    jobs.loc[2, "run_hours"] = 0.2 + 1e-9  # 3.6 ms past the reservation
    result = simulate_queue(jobs, 2, policy="backfill").jobs.set_index("job_id")
    assert result.loc["C", "wait_hours"] > 1.0


def test_waits_are_exactly_zero_for_jobs_that_start_at_once():
    jobs = pd.DataFrame(
        {"submit_hours": [0.1, 0.7, 1.3], "run_hours": [0.1, 0.1, 0.1], "gpus": [1] * 3}
    )
    for policy in ("fifo", "backfill"):
        result = simulate_queue(jobs, 1, policy=policy)
        assert (result.jobs["wait_hours"] == 0.0).all()
        assert result.share_waiting == 0.0


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), 1e9])
def test_times_beyond_the_simulated_range_are_refused(bad):
    jobs = pd.DataFrame(
        {"submit_hours": [0.0, bad], "run_hours": [1, 1], "gpus": [1, 1]}
    )
    with pytest.raises(ValueError, match="at most 1,000,000 hours"):
        simulate_queue(jobs, 1)
