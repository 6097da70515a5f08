"""Speed of the job-level queue simulation (issue 4, item 3): 100,000 jobs < 5 s.

Workload: 100,000 jobs, Poisson arrivals, lognormal run times (median 4 h,
log-sd 1.2), 1/2/4/8 GPUs per job (60/20/15/5 %), on a cluster sized for
95 % offered utilisation (long queues). Both policies are timed; FIFO is also checked
against a naive O(n^2) reference on a 5,000-job instance (same start times),
and its speed-up reported; an overloaded run (110 % offered load, queues of
thousands) shows the worst case of the backfill scheduler.

Run: .venv/bin/python benchmarks/bench_queueing.py [jobs]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from planner.queueing import simulate_queue, smallest_cluster_for_target_wait

TARGET_SECONDS = 5.0


def workload(jobs: int, gpus: int, utilisation: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    need = rng.choice([1, 2, 4, 8], jobs, p=[0.6, 0.2, 0.15, 0.05])
    run = rng.lognormal(np.log(4.0), 1.2, jobs)
    mean_gpu_hours = float((need * run).mean())
    rate = utilisation * gpus / mean_gpu_hours  # jobs per hour
    submit = np.cumsum(rng.exponential(1 / rate, jobs))
    return pd.DataFrame({"submit_hours": submit, "run_hours": run, "gpus": need})


def naive_fifo_starts(frame: pd.DataFrame, capacity: int) -> np.ndarray:
    """O(n^2) FIFO: for each job, scan every earlier job at each candidate time."""
    submit = frame["submit_hours"].to_numpy()
    run = frame["run_hours"].to_numpy()
    need = frame["gpus"].to_numpy()
    starts = np.zeros(len(submit))
    previous = -np.inf
    for i in range(len(submit)):
        earliest = max(submit[i], previous)
        ends = starts[:i] + run[:i]
        candidates = np.concatenate([[earliest], ends[ends > earliest]])
        for t in np.sort(candidates):
            running = (starts[:i] <= t) & (ends > t)
            if need[:i][running].sum() + need[i] <= capacity:
                starts[i] = t
                break
        previous = starts[i]
    return starts


def main() -> None:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    gpus = 256
    frame = workload(jobs, gpus, 0.95)
    for policy in ("fifo", "backfill"):
        t0 = time.perf_counter()
        result = simulate_queue(frame, gpus, policy=policy)
        seconds = time.perf_counter() - t0
        print(
            f"{policy:8s}: {jobs:,} jobs on {gpus} GPUs in {seconds:.2f} s "
            f"(target {TARGET_SECONDS:.0f} s, ratio {seconds / TARGET_SECONDS:.2f}); "
            f"mean wait {result.mean_wait_hours:.2f} h, "
            f"p95 {result.p95_wait_hours:.2f} h, "
            f"utilisation {result.utilisation:.3f}"
        )

    overloaded = workload(jobs, gpus, 1.1, seed=2)
    for policy in ("fifo", "backfill"):
        t0 = time.perf_counter()
        result = simulate_queue(overloaded, gpus, policy=policy)
        seconds = time.perf_counter() - t0
        print(
            f"{policy:8s}: overloaded (110 % offered), {seconds:.2f} s "
            f"(ratio {seconds / TARGET_SECONDS:.2f}); mean wait "
            f"{result.mean_wait_hours:.0f} h"
        )

    small = workload(5_000, 32, 0.95, seed=1)
    t0 = time.perf_counter()
    fast = simulate_queue(small, 32).jobs["start_hours"].to_numpy()
    fast_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = naive_fifo_starts(small, 32)
    slow_seconds = time.perf_counter() - t0
    print(
        f"naive O(n^2) FIFO on 5,000 jobs: {slow_seconds:.2f} s "
        f"vs {fast_seconds:.3f} s "
        f"(speed-up {slow_seconds / fast_seconds:.0f}x); "
        f"max start difference {np.abs(fast - slow).max():.2e} h"
    )

    t0 = time.perf_counter()
    size = smallest_cluster_for_target_wait(
        frame.iloc[:20_000], target_wait_hours=1.0, statistic="p95"
    )
    print(
        f"smallest cluster for p95 wait <= 1 h (20,000 jobs): {size} GPUs in "
        f"{time.perf_counter() - t0:.2f} s"
    )


if __name__ == "__main__":
    main()
