"""Synthetic job logs from workload statistics, with the LISA preset.

:func:`generate_workload` draws a log from statistics (seeded, reproducible),
with a preset for the LISA project of Strubell et al. [1]_, section 4.2.

References
----------
.. [1] E. Strubell, A. Ganesh, and A. McCallum, "Energy and Policy
   Considerations for Deep Learning in NLP," in Proc. 57th Annu. Meeting of
   the ACL, 2019, pp. 3645-3650, doi:10.18653/v1/P19-1355.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from planner.demand.readers import (
    _NS_PER_HOUR,
    MAX_GPUS_PER_JOB,
    JobLog,
    _utc,
)
from pricing.units import HOURS_PER_DAY

# --------------------------------------------------------------------------
# Generated workloads
# --------------------------------------------------------------------------


class _Frozen(BaseModel):
    # As planner.scenario.Frozen: unknown keys, infinity and NaN are refused.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_shares(shares: Mapping[Any, float], name: str) -> None:
    if not shares:
        msg = f"{name} must not be empty"
        raise ValueError(msg)
    if any(not (v >= 0) for v in shares.values()):
        msg = f"{name} must be non-negative, got {dict(shares)}"
        raise ValueError(msg)
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-9:
        msg = f"{name} must sum to 1, got {total!r}"
        raise ValueError(msg)


class DeadlineSurge(_Frozen):
    """A burst of submissions in the days before a deadline."""

    deadline_day: float = Field(
        ge=0, description="Deadline, in days after the workload starts. [days]"
    )
    width_days: float = Field(
        gt=0, description="The surge's length, ending at the deadline. [days]"
    )
    share: float = Field(
        ge=0,
        le=1,
        description=(
            "Share of submissions (jobs, or grid searches when there are any) "
            "arriving uniformly within the surge. [0-1]"
        ),
    )

    @model_validator(mode="after")
    def _starts_after_zero(self) -> DeadlineSurge:
        if self.width_days > self.deadline_day:
            msg = (
                f"width_days ({self.width_days}) must not exceed deadline_day "
                f"({self.deadline_day}): a surge cannot start before the workload"
            )
            raise ValueError(msg)
        return self


class WorkloadSpec(_Frozen):
    """Statistics of a synthetic GPU workload, for :func:`generate_workload`.

    Job lengths are lognormal (median and log-standard deviation), clipped to
    [min, max] and optionally rescaled so that total GPU-hours hit a target
    exactly. Jobs arrive uniformly over the span, except the shares sent to
    deadline surges; with grid searches, jobs are split evenly among them and
    each search submits all its jobs at once.
    """

    job_count: int = Field(ge=1, le=10_000_000, description="Jobs to generate. [jobs]")
    span_days: float = Field(
        gt=0, le=3_650, description="Length of the project or period. [days]"
    )
    start_utc: dt.datetime = Field(
        default=dt.datetime(2018, 1, 1, tzinfo=dt.UTC),
        description="When the period starts (naive means UTC). [date-time]",
    )
    median_job_hours: float = Field(
        gt=0, le=10_000, description="Median job length before rescaling. [h]"
    )
    job_length_log_sigma: float = Field(
        ge=0,
        le=10,
        description="Standard deviation of the natural log of job length. [unitless]",
    )
    min_job_hours: float = Field(gt=0, description="Shortest job (clip). [h]")
    max_job_hours: float = Field(gt=0, description="Longest job (clip). [h]")
    target_gpu_hours: float | None = Field(
        default=None,
        gt=0,
        description=(
            "If set, job lengths are scaled (within the clip) so that total "
            "GPU-hours equal this exactly. [GPU-h]"
        ),
    )
    gpus_per_job_probabilities: dict[int, float] = Field(
        default_factory=lambda: {1: 1.0},
        description=(
            "Probability of each GPU count per job; keys 1 to 100,000 GPUs, "
            "values sum to 1. [GPUs: 0-1]"
        ),
    )
    grid_search_count: int = Field(
        default=0,
        ge=0,
        description=(
            "Grid searches the jobs are split among (0: every job is submitted "
            "on its own). [searches]"
        ),
    )
    deadline_surges: tuple[DeadlineSurge, ...] = Field(
        default=(), description="Bursts of submissions before deadlines."
    )
    jobs_end_within_span: bool = Field(
        default=True,
        description="Move late submissions earlier so every job ends in the span.",
    )
    group_shares: dict[str, float] = Field(
        default_factory=lambda: {"all": 1.0},
        description="Share of submissions by group (sum 1). [0-1]",
    )
    accelerator_shares: dict[str, float] = Field(
        default_factory=dict,
        description="Share of jobs by GPU type (sum 1; empty: no type). [0-1]",
    )
    seed: int = Field(default=0, ge=0, description="Random seed. [unitless]")

    @field_validator("start_utc")
    @classmethod
    def _as_utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _consistent(self) -> WorkloadSpec:
        if not self.min_job_hours <= self.median_job_hours <= self.max_job_hours:
            msg = (
                "need min_job_hours <= median_job_hours <= max_job_hours, got "
                f"{self.min_job_hours}, {self.median_job_hours}, {self.max_job_hours}"
            )
            raise ValueError(msg)
        if self.jobs_end_within_span and self.max_job_hours > self.span_days * 24:
            msg = (
                f"max_job_hours ({self.max_job_hours}) exceeds the span "
                f"({self.span_days} days) but jobs_end_within_span is set"
            )
            raise ValueError(msg)
        if self.grid_search_count > self.job_count:
            msg = (
                f"grid_search_count ({self.grid_search_count}) exceeds job_count "
                f"({self.job_count})"
            )
            raise ValueError(msg)
        _check_shares(self.gpus_per_job_probabilities, "gpus_per_job_probabilities")
        if any(not 1 <= k <= MAX_GPUS_PER_JOB for k in self.gpus_per_job_probabilities):
            msg = (
                f"gpus_per_job_probabilities keys must be 1 to {MAX_GPUS_PER_JOB} "
                f"GPUs, got {sorted(self.gpus_per_job_probabilities)}"
            )
            raise ValueError(msg)
        _check_shares(self.group_shares, "group_shares")
        if self.accelerator_shares:
            _check_shares(self.accelerator_shares, "accelerator_shares")
        surge_total = sum(s.share for s in self.deadline_surges)
        if surge_total > 1 + 1e-12:
            msg = f"deadline_surges shares sum to {surge_total}, more than 1"
            raise ValueError(msg)
        for surge in self.deadline_surges:
            if surge.deadline_day > self.span_days:
                msg = (
                    f"a deadline at day {surge.deadline_day} is after the span "
                    f"({self.span_days} days)"
                )
                raise ValueError(msg)
        return self


def _scale_to_total(
    lengths_h: npt.NDArray[np.float64],
    gpus: npt.NDArray[np.float64],
    *,
    low_h: float,
    high_h: float,
    target: float,
) -> npt.NDArray[np.float64]:
    """Find k with sum(g * clip(k * L, low, high)) = target, by bisection on log k.

    The total is continuous and non-decreasing in k, so bisection converges;
    100 halvings of the log-bracket reach double precision.
    """
    reachable_low = float(gpus.sum() * low_h)
    reachable_high = float(gpus.sum() * high_h)
    if not reachable_low <= target <= reachable_high:
        msg = (
            f"target_gpu_hours ({target}) cannot be reached with lengths clipped to "
            f"[{low_h}, {high_h}] h: possible range [{reachable_low:.6g}, "
            f"{reachable_high:.6g}] GPU-h"
        )
        raise ValueError(msg)
    lo = math.log(low_h / float(lengths_h.max()))
    hi = math.log(high_h / float(lengths_h.min()))
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        total = float((gpus * np.clip(math.exp(mid) * lengths_h, low_h, high_h)).sum())
        if total < target:
            lo = mid
        else:
            hi = mid
    scaled = np.clip(math.exp(hi) * lengths_h, low_h, high_h)
    # Remove the last rounding residual on the unclipped jobs, keeping the clip.
    free = (scaled > low_h) & (scaled < high_h)
    residual = target - float((gpus * scaled).sum())
    if free.any():
        weight = float((gpus[free] * scaled[free]).sum())
        scaled[free] = np.clip(scaled[free] * (1 + residual / weight), low_h, high_h)
    return np.asarray(scaled, dtype=np.float64)


def _draw_arrival_hours(
    rng: np.random.Generator,
    spec: WorkloadSpec,
    longest_h: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Submission times: uniform over the span, except the shares given to surges.

    With ``jobs_end_within_span``, uniform submissions are drawn over
    ``[0, span - longest job]`` so every job ends in the span; surge
    submissions that would overrun are moved earlier.
    """
    count = longest_h.size
    span_h = spec.span_days * HOURS_PER_DAY
    surges = spec.deadline_surges
    shares = [s.share for s in surges]
    probabilities = np.array([max(0.0, 1.0 - sum(shares)), *shares])
    component = rng.choice(
        len(probabilities), size=count, p=probabilities / probabilities.sum()
    )
    uniform = rng.random(count)
    lows = np.array([0.0] + [s.deadline_day - s.width_days for s in surges])
    highs = np.array([spec.span_days] + [s.deadline_day for s in surges])
    arrival_h = (lows[component] + uniform * (highs - lows)[component]) * HOURS_PER_DAY
    if spec.jobs_end_within_span:
        latest = span_h - longest_h
        base = component == 0
        arrival_h[base] = uniform[base] * latest[base]
        arrival_h = np.minimum(arrival_h, latest)
    return np.asarray(arrival_h, dtype=np.float64)


def generate_workload(spec: WorkloadSpec) -> JobLog:
    r"""Draw a synthetic job log from workload statistics (seeded, reproducible).

    Parameters
    ----------
    spec : WorkloadSpec
        Job count, span, length distribution, GPUs per job, arrival pattern,
        groups, accelerators and seed.

    Returns
    -------
    JobLog
        ``kind="generated"``; jobs start when submitted (demand as if capacity
        were unlimited: run them through :func:`planner.queueing.simulate_queue`
        for waits). ``period_start``/``period_end`` are the span, so mean
        concurrency is total GPU-hours over the span's hours.

    Raises
    ------
    ValueError
        If ``target_gpu_hours`` is outside what the clipped lengths allow.

    Notes
    -----
    Length :math:`L = \mathrm{clip}(k\,m\,e^{\sigma Z}, L_{min}, L_{max})`,
    :math:`Z` standard normal, with :math:`k = 1` or, given a target, solved
    by bisection so that :math:`\sum_j g_j L_j` equals it. With
    ``jobs_end_within_span``, uniform submissions are drawn over the span
    less their longest job, and surge submissions that would run past the
    span are moved earlier.

    Examples
    --------
    >>> spec = WorkloadSpec(job_count=100, span_days=10, median_job_hours=2,
    ...                     job_length_log_sigma=1, min_job_hours=0.1,
    ...                     max_job_hours=48, target_gpu_hours=500, seed=1)
    >>> log = generate_workload(spec)
    >>> len(log.jobs), round(float(log.jobs["gpu_hours"].sum()), 6)
    (100, 500.0)
    """
    rng = np.random.default_rng(spec.seed)
    n = spec.job_count
    gpu_keys = np.array(sorted(spec.gpus_per_job_probabilities), dtype=np.int64)
    gpu_p = np.array([spec.gpus_per_job_probabilities[int(k)] for k in gpu_keys])
    gpus = rng.choice(gpu_keys, size=n, p=gpu_p / gpu_p.sum())
    raw = spec.median_job_hours * np.exp(
        spec.job_length_log_sigma * rng.standard_normal(n)
    )
    if spec.target_gpu_hours is None:
        lengths_h = np.clip(raw, spec.min_job_hours, spec.max_job_hours)
    else:
        lengths_h = _scale_to_total(
            raw,
            gpus.astype(np.float64),
            low_h=spec.min_job_hours,
            high_h=spec.max_job_hours,
            target=spec.target_gpu_hours,
        )
    # Submissions: one per job, or one per grid search (jobs split evenly).
    if spec.grid_search_count > 0:
        units = spec.grid_search_count
        unit_of_job = np.empty(n, dtype=np.int64)
        for u, members in enumerate(np.array_split(rng.permutation(n), units)):
            unit_of_job[members] = u
    else:
        units = n
        unit_of_job = np.arange(n, dtype=np.int64)
    longest = np.zeros(units)
    np.maximum.at(longest, unit_of_job, lengths_h)
    arrival_h = _draw_arrival_hours(rng, spec, longest)
    span_h = spec.span_days * HOURS_PER_DAY
    group_names = list(spec.group_shares)
    group_p = np.array([spec.group_shares[g] for g in group_names])
    unit_group = rng.choice(len(group_names), size=units, p=group_p / group_p.sum())
    if spec.accelerator_shares:
        acc_names = list(spec.accelerator_shares)
        acc_p = np.array([spec.accelerator_shares[a] for a in acc_names])
        acc_index = rng.choice(len(acc_names), size=n, p=acc_p / acc_p.sum())
        accelerator = np.asarray(acc_names, dtype=object)[acc_index]
    else:
        accelerator = np.full(n, None, dtype=object)

    origin_ns = int(pd.Timestamp(spec.start_utc).as_unit("ns").value)
    start_ns = origin_ns + np.rint(arrival_h[unit_of_job] * _NS_PER_HOUR).astype(
        np.int64
    )
    end_ns = start_ns + np.rint(lengths_h * _NS_PER_HOUR).astype(np.int64)
    order = np.argsort(start_ns, kind="stable")
    start_ns, end_ns = start_ns[order], end_ns[order]
    gpus = gpus[order]
    jobs = pd.DataFrame(
        {
            "job_id": pd.array([str(i + 1) for i in range(n)], dtype="str"),
            "group": pd.Categorical(
                np.asarray(group_names, dtype=object)[unit_group[unit_of_job]][order]
            ),
            "state": pd.Categorical(np.full(n, "COMPLETED", dtype=object)),
            "submit": _utc(start_ns),
            "start": _utc(start_ns),
            "end": _utc(end_ns),
            "gpus": gpus.astype(np.int64),
            "gpu_hours": gpus * ((end_ns - start_ns) / _NS_PER_HOUR),
            "accelerator": pd.Categorical(accelerator[order]),
            "line": np.zeros(n, dtype=np.int64),
        }
    )
    period_start = pd.Timestamp(origin_ns, tz="UTC")
    return JobLog(
        jobs=jobs,
        kind="generated",
        source=f"generated (seed {spec.seed})",
        rows_read=n,
        period_start=period_start,
        period_end=period_start + pd.Timedelta(hours=span_h),
    )


LISA_JOB_COUNT: Final = 4_789
"""Jobs in the LISA project, Strubell et al. [1]_ section 4.2. [jobs]"""

LISA_SPAN_DAYS: Final = 172.0
"""Length of the LISA project, Strubell et al. section 4.2. [days]"""

LISA_GPU_HOURS: Final = 239_942.0
"""Total GPU time of LISA, Strubell et al. Table 4 ("Hours", 4789 models). [GPU-h]"""

LISA_GRID_SEARCHES: Final = 123
"""Hyperparameter grid searches in LISA, Strubell et al. section 4.2. [searches]"""

LISA_MIN_JOB_HOURS: Final = 3.0 / 60.0
"""Shortest LISA job, 3 minutes ("indicating a crash"), section 4.2. [h]"""

LISA_MAX_JOB_HOURS: Final = 9.0 * 24.0
"""Longest LISA job, 9 days, section 4.2. [h]"""


def lisa_workload_spec(*, seed: int = 2019) -> WorkloadSpec:
    """The LISA R&D project of Strubell et al. [1]_ (section 4.2) as a workload.

    From the paper: 4,789 jobs over 172 days, 123 grid searches, job lengths
    from 3 minutes to 9 days, 239,942 GPU-hours in total (Table 4), i.e.
    58.1 GPUs busy on average ("approximately 58 GPUs for 172 days", section
    5); GPUs were Titan X (72 %) and M40 (28 %). Assumptions (the paper does
    not say): one GPU per job; lognormal lengths with median 16 h and log-sd
    1.5 before the exact rescaling to the total (the paper's "average 52
    hours" is 50.1 h from its own totals); arrivals uniform over the span,
    since the paper describes "about 60 GPUs running constantly", hence no
    deadline surges.

    Parameters
    ----------
    seed : int, default 2019
        Random seed. [unitless]

    Returns
    -------
    WorkloadSpec
        The preset.

    References
    ----------
    .. [1] E. Strubell, A. Ganesh, and A. McCallum, "Energy and Policy
       Considerations for Deep Learning in NLP," in Proc. 57th Annu. Meeting
       of the ACL, 2019, pp. 3645-3650, doi:10.18653/v1/P19-1355.

    Examples
    --------
    >>> log = generate_workload(lisa_workload_spec())
    >>> len(log.jobs), round(float(log.jobs["gpu_hours"].sum()))
    (4789, 239942)
    """
    return WorkloadSpec(
        job_count=LISA_JOB_COUNT,
        span_days=LISA_SPAN_DAYS,
        median_job_hours=16.0,
        job_length_log_sigma=1.5,
        min_job_hours=LISA_MIN_JOB_HOURS,
        max_job_hours=LISA_MAX_JOB_HOURS,
        target_gpu_hours=LISA_GPU_HOURS,
        gpus_per_job_probabilities={1: 1.0},
        grid_search_count=LISA_GRID_SEARCHES,
        group_shares={"lisa": 1.0},
        accelerator_shares={"Titan X": 0.72, "M40": 0.28},
        seed=seed,
    )


LISA_PRESET: Final = lisa_workload_spec()
"""The LISA preset with its default seed (see :func:`lisa_workload_spec`)."""
