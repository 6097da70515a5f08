"""Tests of planner.queueing: Erlang C, the queue simulation and cluster sizing."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.joblog import generate_workload, lisa_workload_spec, read_sacct
from planner.queueing import (
    allen_cunneen_mean_wait_hours,
    erlang_b_blocking_probability,
    erlang_c,
    erlang_c_mean_wait_hours,
    erlang_c_probability_of_wait,
    erlang_c_wait_quantile_hours,
    halfin_whitt_probability_of_wait,
    poisson_exponential_jobs,
    queue_summary,
    simulate_queue,
    smallest_cluster_for_target_wait,
    square_root_staffing_servers,
)

DATA = Path(__file__).parents[1] / "data" / "joblogs"

# --------------------------------------------------------------------------
# Erlang C against published (recomputed) tables
# --------------------------------------------------------------------------

# /work/shared/research/methods.md, section 3.1 "M/M/c (Erlang C)", table of
# recomputed values: (rho, c) -> (P(wait), W_q in mean job durations). None
# stands for the table's "~0". Printed to two significant decimals.
METHODS_3_1_TABLE = {
    (0.6, 4): (0.29, 0.18),
    (0.6, 8): (0.14, 0.044),
    (0.6, 32): (0.01, None),
    (0.6, 128): (None, None),
    (0.8, 4): (0.60, 0.75),
    (0.8, 8): (0.46, 0.29),
    (0.8, 32): (0.16, 0.025),
    (0.8, 128): (0.01, None),
    (0.9, 4): (0.79, 1.97),
    (0.9, 8): (0.70, 0.88),
    (0.9, 32): (0.46, 0.14),
    (0.9, 128): (0.17, 0.013),
    (0.95, 4): (0.89, 4.46),
    (0.95, 8): (0.84, 2.11),
    (0.95, 32): (0.70, 0.44),
    (0.95, 128): (0.46, 0.072),
}


def _half_unit_of_last_digit(printed: float) -> float:
    text = f"{printed:g}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals


@pytest.mark.parametrize(("rho", "servers"), list(METHODS_3_1_TABLE))
def test_erlang_c_matches_methods_table_3_1(rho: float, servers: int) -> None:
    printed_p, printed_w = METHODS_3_1_TABLE[rho, servers]
    load = rho * servers
    probability = erlang_c_probability_of_wait(servers, load)
    # W_q in units of the mean job duration: mean service time of 1 h.
    wait = erlang_c_mean_wait_hours(servers, load, 1.0)
    # Tolerance: half a unit of the last printed digit for P ("~0" read as
    # < 0.005, i.e. prints as 0.00) and one unit for W: the table's W values
    # were evidently divided from the rounded P (rho 0.95, c 32: 0.70 / 1.6 =
    # 0.4375 prints 0.44; exact 0.6957 / 1.6 = 0.4348). 1e-9 absorbs float
    # noise at exact ties.
    if printed_p is None:
        assert probability < 0.005
    else:
        assert probability == pytest.approx(
            printed_p, abs=_half_unit_of_last_digit(printed_p) + 1e-9
        )
    if printed_w is None:
        assert wait < 0.005
    else:
        assert wait == pytest.approx(
            printed_w, abs=2 * _half_unit_of_last_digit(printed_w) + 1e-9
        )


# methods.md section 3.2, square-root staffing check with beta = 1:
# offered load a -> (servers c, P(wait), utilisation rho), printed to 3 and 2
# decimals.
METHODS_3_2_CHECK = {
    4: (6, 0.285, 0.67),
    64: (72, 0.240, 0.89),
    256: (272, 0.232, 0.94),
}


@pytest.mark.parametrize("load", list(METHODS_3_2_CHECK))
def test_square_root_staffing_matches_methods_3_2(load: int) -> None:
    servers, printed_p, printed_rho = METHODS_3_2_CHECK[load]
    assert square_root_staffing_servers(load, beta=1.0) == servers
    assert erlang_c_probability_of_wait(servers, load) == pytest.approx(
        printed_p, abs=0.0005
    )
    assert load / servers == pytest.approx(printed_rho, abs=0.005)


def test_halfin_whitt_limit_matches_methods_3_2() -> None:
    # methods.md 3.2: "approximation 0.223" for beta = 1.
    assert halfin_whitt_probability_of_wait(1.0) == pytest.approx(0.223, abs=0.0005)


def _erlang_b_closed_form(c: int, a: float) -> float:
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 40), a=st.floats(0.0, 60.0))
def test_erlang_b_recursion_matches_closed_form(c: int, a: float) -> None:
    assert erlang_b_blocking_probability(c, a) == pytest.approx(
        _erlang_b_closed_form(c, a), rel=1e-10, abs=1e-300
    )


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 60), rho=st.floats(0.01, 0.99))
def test_erlang_c_properties(c: int, rho: float) -> None:
    probability = erlang_c_probability_of_wait(c, rho * c)
    assert 0.0 <= probability <= 1.0
    # Adding a server never raises the chance of waiting at the same load.
    assert erlang_c_probability_of_wait(c + 1, rho * c) <= probability + 1e-12
    # Erlang C is at least Erlang B (waiting vs loss at the same load).
    assert probability >= erlang_b_blocking_probability(c, rho * c) - 1e-12


def test_erlang_c_is_stable_for_large_pools() -> None:
    # The factorial form overflows far below this; the recursion does not.
    probability = erlang_c_probability_of_wait(5_000, 4_900.0)
    assert 0.0 < probability < 1.0
    assert math.isfinite(erlang_c_mean_wait_hours(5_000, 4_900.0, 1.0))


def test_erlang_c_undersized_is_flagged() -> None:
    assert erlang_c_probability_of_wait(8, 8.0) == 1.0
    assert erlang_c_mean_wait_hours(8, 9.0, 1.0) == math.inf
    assert erlang_c_wait_quantile_hours(8, 9.0, 1.0) == math.inf
    result = erlang_c(8, 9.0, 1.0)
    assert result.undersized
    assert result.utilisation == pytest.approx(9 / 8)


def test_erlang_c_input_forms_keep_shape_and_index() -> None:
    loads = [1.0, 2.0, 3.0]
    scalar = [erlang_c_probability_of_wait(4, a) for a in loads]
    array = erlang_c_probability_of_wait(4, np.array(loads))
    series = erlang_c_probability_of_wait(4, pd.Series(loads, index=["x", "y", "z"]))
    assert isinstance(scalar[0], float)
    np.testing.assert_allclose(array, scalar)
    assert isinstance(series, pd.Series)
    assert list(series.index) == ["x", "y", "z"]
    np.testing.assert_allclose(series, scalar)
    waits = erlang_c_mean_wait_hours(4, pd.Series([1.0, 3.0], index=[5, 6]), 1.0)
    assert isinstance(waits, pd.Series)
    assert list(waits.index) == [5, 6]


def test_erlang_c_wait_quantile_zero_when_few_wait() -> None:
    # P(wait) = 0.0051 < 5 %: the 95th percentile wait is zero.
    assert erlang_c_wait_quantile_hours(32, 0.6 * 32, 1.0) == 0.0


def test_allen_cunneen_reduces_to_erlang_c_and_halves_for_constant_service() -> None:
    base = erlang_c_mean_wait_hours(8, 6.0, 1.0)
    assert allen_cunneen_mean_wait_hours(8, 6.0, 1.0) == pytest.approx(base)
    assert allen_cunneen_mean_wait_hours(8, 6.0, 1.0, service_cv=0.0) == (
        pytest.approx(base / 2)
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: erlang_c_probability_of_wait(0, 1.0), "servers"),
        (lambda: erlang_c_probability_of_wait(2.5, 1.0), "servers"),  # type: ignore[arg-type]
        (lambda: erlang_c_probability_of_wait(4, -1.0), "offered_load_erlangs"),
        (lambda: erlang_c_mean_wait_hours(4, 1.0, 0.0), "mean_service_hours"),
        (lambda: erlang_c_wait_quantile_hours(4, 1.0, 1.0, quantile=1.0), "quantile"),
        (lambda: square_root_staffing_servers(-1.0), "offered_load_erlangs"),
        (lambda: halfin_whitt_probability_of_wait(0.0), "beta"),
    ],
)
def test_erlang_functions_reject_bad_domains(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


# --------------------------------------------------------------------------
# Simulation against Erlang C (M/M/c) within sampling error
# --------------------------------------------------------------------------


def _batch_means(values: np.ndarray, batches: int = 50) -> tuple[float, float]:
    """Mean and standard error by non-overlapping batch means.

    Successive waits are strongly correlated, so the naive sd/sqrt(n)
    understates the error; means of long batches are nearly independent.
    """
    groups = np.array_split(values, batches)
    means = np.array([g.mean() for g in groups])
    return float(values.mean()), float(means.std(ddof=1) / math.sqrt(batches))


@pytest.mark.parametrize(("servers", "rho"), [(4, 0.8), (32, 0.9)])
def test_simulation_matches_erlang_c(servers: int, rho: float) -> None:
    # 200,000 Poisson arrivals with exponential 1 h jobs on one GPU each; the
    # first 2 % are dropped as warm-up (the cluster starts empty).
    jobs = poisson_exponential_jobs(rho * servers, 1.0, 200_000, seed=11)
    result = simulate_queue(jobs, servers)
    waits = result.jobs["wait_hours"].to_numpy()[4_000:]
    mean, error = _batch_means(waits)
    expected = erlang_c(servers, rho * servers, 1.0)
    # Four batch-means standard errors: a correct simulator fails this
    # with probability below 1e-4 (the seed is fixed, so it is deterministic).
    assert abs(mean - expected.mean_wait_hours) < 4 * error
    share, share_error = _batch_means((waits > 0).astype(float))
    assert abs(share - expected.probability_of_wait) < 4 * share_error
    # The p95 has no simple standard error; 10 % covers its batch spread.
    assert np.percentile(waits, 95) == pytest.approx(expected.p95_wait_hours, rel=0.1)
    assert result.utilisation == pytest.approx(rho, abs=0.01)


# --------------------------------------------------------------------------
# Simulation against brute force, and properties
# --------------------------------------------------------------------------


def _naive_fifo(
    submit: list[float], run: list[float], need: list[int], n: int
) -> list[float]:
    """O(n^2) FIFO: try each candidate time, recount the GPUs in use."""
    starts: list[float] = []
    previous = -math.inf
    for i, arrival in enumerate(submit):
        earliest = max(arrival, previous)
        candidates = sorted(
            {earliest}
            | {s + r for s, r in zip(starts, run, strict=False) if s + r > earliest}
        )
        for t in candidates:
            used = sum(need[j] for j in range(i) if starts[j] <= t < starts[j] + run[j])
            if used + need[i] <= n:
                starts.append(t)
                break
        previous = starts[-1]
    return starts


def _naive_easy(
    submit: list[float], run: list[float], need: list[int], n: int
) -> list[float]:
    """EASY backfill by a plain scan of the whole queue at every event."""
    count = len(submit)
    starts = [math.nan] * count
    running: list[tuple[float, int]] = []
    queue: list[int] = []
    arrived = 0
    while arrived < count or queue:
        events = [submit[arrived]] if arrived < count else []
        events += [end for end, _ in running]
        t = min(events)
        running = [(end, g) for end, g in running if end > t]
        while arrived < count and submit[arrived] <= t:
            queue.append(arrived)
            arrived += 1
        free = n - sum(g for _, g in running)
        while queue and need[queue[0]] <= free:
            j = queue.pop(0)
            starts[j] = t
            running.append((t + run[j], need[j]))
            free -= need[j]
        if not queue:
            continue
        available, shadow = free, math.inf
        for end, _ in sorted(running):
            released = sum(g for e, g in running if e <= end)
            if free + released >= need[queue[0]]:
                shadow = end
                available = free + released
                break
        extra = available - need[queue[0]]
        for j in list(queue[1:]):
            if need[j] > free:
                continue
            if run[j] > shadow - t:
                if need[j] > extra:
                    continue
                extra -= need[j]
            starts[j] = t
            running.append((t + run[j], need[j]))
            free -= need[j]
            queue.remove(j)
    return starts


@st.composite
def small_workloads(draw: st.DrawFn) -> tuple[pd.DataFrame, int]:
    n = draw(st.integers(1, 30))
    gaps = draw(
        st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, 3.0]), min_size=n, max_size=n)
    )
    runs = draw(
        st.lists(
            st.sampled_from([0.0, 0.5, 1.0, 2.0, 5.0, 8.0]), min_size=n, max_size=n
        )
    )
    gpus = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    cluster = draw(st.integers(max(gpus), 10))
    frame = pd.DataFrame(
        {"submit_hours": np.cumsum(gaps), "run_hours": runs, "gpus": gpus}
    )
    return frame, cluster


@settings(max_examples=60, deadline=None)
@given(case=small_workloads())
def test_fifo_matches_brute_force(case: tuple[pd.DataFrame, int]) -> None:
    frame, cluster = case
    result = simulate_queue(frame, cluster)
    expected = _naive_fifo(
        frame["submit_hours"].tolist(),
        frame["run_hours"].tolist(),
        frame["gpus"].tolist(),
        cluster,
    )
    np.testing.assert_allclose(result.jobs["start_hours"], expected)


@settings(max_examples=60, deadline=None)
@given(case=small_workloads())
def test_backfill_matches_plain_easy_scan(case: tuple[pd.DataFrame, int]) -> None:
    frame, cluster = case
    result = simulate_queue(frame, cluster, policy="backfill")
    expected = _naive_easy(
        frame["submit_hours"].tolist(),
        frame["run_hours"].tolist(),
        frame["gpus"].tolist(),
        cluster,
    )
    np.testing.assert_allclose(result.jobs["start_hours"], expected)


def _max_in_use(table: pd.DataFrame) -> int:
    times = np.concatenate([table["start_hours"], table["end_hours"]])
    change = np.concatenate([table["gpus"], -table["gpus"]])
    order = np.lexsort((change, times))
    return int(np.cumsum(change[order]).max())


@settings(max_examples=50, deadline=None)
@given(case=small_workloads(), policy=st.sampled_from(["fifo", "backfill"]))
def test_simulation_invariants(case: tuple[pd.DataFrame, int], policy: str) -> None:
    frame, cluster = case
    result = simulate_queue(frame, cluster, policy=policy)  # type: ignore[arg-type]
    table = result.jobs
    assert (table["wait_hours"] >= 0).all()
    assert 0.0 <= result.utilisation <= 1.0 + 1e-12
    assert _max_in_use(table) <= cluster
    assert result.mean_wait_hours <= result.max_wait_hours + 1e-12
    if policy == "fifo":  # strict FIFO never lets a later job start first
        assert table["start_hours"].is_monotonic_increasing


@settings(max_examples=50, deadline=None)
@given(case=small_workloads(), more=st.integers(1, 5))
def test_fifo_waits_never_grow_with_more_gpus(
    case: tuple[pd.DataFrame, int], more: int
) -> None:
    frame, cluster = case
    fewer = simulate_queue(frame, cluster).jobs["wait_hours"].to_numpy()
    bigger = simulate_queue(frame, cluster + more).jobs["wait_hours"].to_numpy()
    assert np.all(bigger <= fewer + 1e-12)


def test_backfill_equals_fifo_for_one_gpu_jobs() -> None:
    # With one-GPU jobs the head is blocked only when no GPU is free, so
    # there is nothing to backfill into.
    jobs = poisson_exponential_jobs(7.0, 1.0, 3_000, seed=2)
    fifo = simulate_queue(jobs, 8)
    backfill = simulate_queue(jobs, 8, policy="backfill")
    np.testing.assert_allclose(fifo.jobs["start_hours"], backfill.jobs["start_hours"])


def test_backfill_helps_mixed_sizes() -> None:
    rng = np.random.default_rng(5)
    n = 5_000
    jobs = pd.DataFrame(
        {
            "submit_hours": np.cumsum(rng.exponential(0.5, n)),
            "run_hours": rng.lognormal(0.5, 1.0, n),
            "gpus": rng.choice([1, 8], n, p=[0.8, 0.2]),
        }
    )
    fifo = simulate_queue(jobs, 16)
    backfill = simulate_queue(jobs, 16, policy="backfill")
    assert backfill.mean_wait_hours < fifo.mean_wait_hours


def test_simulate_queue_reports_oversized_and_cpu_jobs() -> None:
    jobs = pd.DataFrame(
        {
            "job_id": ["a", "b", "c"],
            "submit_hours": [0.0, 1.0, 2.0],
            "run_hours": [1.0, 1.0, 1.0],
            "gpus": [2, 64, 0],
        }
    )
    result = simulate_queue(jobs, 8)
    assert result.jobs["job_id"].tolist() == ["a"]
    assert result.oversized_jobs.to_dict("records") == [{"job_id": "b", "gpus": 64}]
    assert result.no_gpu_jobs == 1
    summary = queue_summary(result)
    json.dumps(summary)
    assert summary["oversized_count"] == 1


def test_simulate_queue_errors() -> None:
    jobs = pd.DataFrame({"submit_hours": [0.0], "run_hours": [1.0], "gpus": [16]})
    with pytest.raises(ValueError, match="no job can run on 8 GPUs"):
        simulate_queue(jobs, 8)
    with pytest.raises(ValueError, match="gpus"):
        simulate_queue(jobs, 0)
    with pytest.raises(ValueError, match="policy"):
        simulate_queue(jobs, 16, policy="lifo")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="run_hours"):
        simulate_queue(pd.DataFrame({"gpus": [1]}), 4)
    bad = jobs.assign(run_hours=[-1.0])
    with pytest.raises(ValueError, match="non-negative run times"):
        simulate_queue(bad, 16)


def test_simulate_queue_from_a_sacct_log() -> None:
    log = read_sacct(DATA / "sacct_mixed.txt", export_time="2024-03-01T16:00:00")
    result = simulate_queue(log, 4)
    # Jobs arrive at their Submit times; the CPU-only component is not queued.
    assert result.no_gpu_jobs == 1
    assert result.origin == pd.Timestamp("2024-03-01T08:00", tz="UTC")
    assert len(result.jobs) == 7
    assert result.jobs["run_hours"].sum() == pytest.approx(4 + 1.5 + 2 + 4 + 1 + 4 + 2)


# --------------------------------------------------------------------------
# Cluster sizing
# --------------------------------------------------------------------------


@pytest.mark.parametrize("statistic", ["p95", "mean"])
def test_smallest_cluster_is_minimal(statistic: str) -> None:
    jobs = poisson_exponential_jobs(6.0, 1.0, 5_000, seed=4)
    target = 0.25
    size = smallest_cluster_for_target_wait(
        jobs,
        target_wait_hours=target,
        statistic=statistic,  # type: ignore[arg-type]
    )
    stat = "p95_wait_hours" if statistic == "p95" else "mean_wait_hours"
    assert getattr(simulate_queue(jobs, size), stat) <= target
    assert getattr(simulate_queue(jobs, size - 1), stat) > target
    assert size > 6  # more than the offered load of 6 Erlang


def test_smallest_cluster_for_lisa() -> None:
    lisa = generate_workload(lisa_workload_spec())
    size = smallest_cluster_for_target_wait(lisa, target_wait_hours=24.0)
    assert simulate_queue(lisa, size).p95_wait_hours <= 24.0
    assert simulate_queue(lisa, size - 1).p95_wait_hours > 24.0
    # At least the 58 GPUs busy on average, at most the peak demand.
    assert 58 < size <= 162


def test_smallest_cluster_backfill_meets_target() -> None:
    rng = np.random.default_rng(8)
    n = 2_000
    jobs = pd.DataFrame(
        {
            "submit_hours": np.cumsum(rng.exponential(0.3, n)),
            "run_hours": rng.lognormal(0.0, 1.0, n),
            "gpus": rng.choice([1, 2, 4], n),
        }
    )
    size = smallest_cluster_for_target_wait(
        jobs, target_wait_hours=0.5, policy="backfill"
    )
    assert simulate_queue(jobs, size, policy="backfill").p95_wait_hours <= 0.5


def test_smallest_cluster_errors() -> None:
    jobs = poisson_exponential_jobs(1.0, 1.0, 10)
    with pytest.raises(ValueError, match="target_wait_hours"):
        smallest_cluster_for_target_wait(jobs, target_wait_hours=-1.0)
    with pytest.raises(ValueError, match="statistic"):
        smallest_cluster_for_target_wait(jobs, target_wait_hours=1.0, statistic="p99")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no job that needs GPUs"):
        smallest_cluster_for_target_wait(jobs.assign(gpus=0), target_wait_hours=1.0)
