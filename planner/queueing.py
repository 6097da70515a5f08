"""Wait time versus cluster size: job-level simulation, with Erlang C as a check.

:func:`simulate_queue` replays a job log or generated workload on a cluster of
N GPUs (first come first served, or with EASY backfill) and reports waits and
utilisation; :func:`smallest_cluster_for_target_wait` finds the smallest N
meeting a wait target. The M/M/c formulas (Erlang C [1]_, evaluated by the
numerically stable Erlang B recursion, with the Allen-Cunneen correction for
non-exponential times [2]_ and square-root staffing [3]_) check the
simulation on Poisson/exponential workloads and give quick estimates.

Conventions
-----------
* Times are in hours; waits are from submission to start.
* A job needs all its GPUs at once (gang scheduling) and runs for its logged
  run time; GPUs are interchangeable (no node boundaries).
* Erlang C treats each GPU as a server, so for multi-GPU jobs it is
  optimistic (methods.md 3.5); the simulation is the reference there.

References
----------
.. [1] L. Kleinrock, Queueing Systems, Vol. 1: Theory. New York: Wiley, 1975,
   sec. 3.5 (M/M/m).
.. [2] A. O. Allen, Probability, Statistics, and Queueing Theory, 2nd ed.
   San Diego: Academic Press, 1990, sec. 6 (Allen-Cunneen approximation).
.. [3] S. Halfin and W. Whitt, "Heavy-traffic limits for queues with many
   exponential servers," Operations Research, vol. 29, no. 3, pp. 567-588,
   1981, doi:10.1287/opre.29.3.567.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.joblog import JobLog, peak_concurrency_gpus

Numeric: TypeAlias = "float | npt.NDArray[np.float64] | pd.Series[float]"
"""Scalar, array or Series; results keep the input's shape (pvlib's "numeric")."""

Policy = Literal["fifo", "backfill"]
"""Scheduling policies of :func:`simulate_queue`."""

WaitStatistic = Literal["mean", "median", "p95"]
"""Wait statistics a target can be set on."""

_NS_PER_HOUR: Final = 3_600 * 1_000_000_000
_NEVER: Final = 1 << 80
"""A time after every simulated event (a Python int, so never overflowing). [ns]"""


# --------------------------------------------------------------------------
# Analytic M/M/c
# --------------------------------------------------------------------------


def _servers(servers: int, name: str = "servers") -> int:
    if isinstance(servers, bool) or int(servers) != servers or servers < 1:
        msg = f"{name} must be a positive whole number, got {servers!r}"
        raise ValueError(msg)
    return int(servers)


def _array(
    value: Numeric, name: str, *, positive: bool = False
) -> npt.NDArray[np.float64]:
    array = np.asarray(value, dtype=np.float64)
    bad = ~np.isfinite(array) | ((array <= 0) if positive else (array < 0))
    if np.any(bad):
        kind = "positive" if positive else "non-negative"
        msg = f"{name} must be finite and {kind}, got {value!r}"
        raise ValueError(msg)
    return array


def _like(result: npt.NDArray[np.float64], *templates: Numeric) -> Numeric:
    """Return ``result`` shaped like the inputs: float, array or Series."""
    for template in templates:
        if isinstance(template, pd.Series):
            return pd.Series(
                np.broadcast_to(result, template.shape), index=template.index
            )
    if result.ndim == 0:
        return float(result)
    return result


def _scalar(value: Numeric) -> float:
    return float(np.asarray(value, dtype=np.float64))


def erlang_b_blocking_probability(
    servers: int, offered_load_erlangs: Numeric
) -> Numeric:
    """Erlang B: probability that an arrival finds all servers busy (loss system).

    Parameters
    ----------
    servers : int
        Number of servers (GPUs). [servers]
    offered_load_erlangs : float, numpy.ndarray or pandas.Series
        Arrival rate times mean service time. [Erlang]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Blocking probability, shaped like the load. [0-1]

    Raises
    ------
    ValueError
        If ``servers`` is not a positive integer or the load is negative.

    Notes
    -----
    The recursion :math:`B_0 = 1`,
    :math:`B_k = a B_{k-1} / (k + a B_{k-1})` avoids the factorials of the
    closed form and never overflows (methods.md 3.1) [1]_.

    References
    ----------
    .. [1] L. Kleinrock, Queueing Systems, Vol. 1: Theory. New York: Wiley,
       1975, sec. 3.6.

    Examples
    --------
    >>> round(erlang_b_blocking_probability(2, 1.0), 6)
    0.2
    """
    c = _servers(servers)
    a = _array(offered_load_erlangs, "offered_load_erlangs")
    b = np.ones_like(a)
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return _like(b, offered_load_erlangs)


def erlang_c_probability_of_wait(
    servers: int, offered_load_erlangs: Numeric
) -> Numeric:
    r"""Erlang C: probability that an arrival waits in an M/M/c queue.

    Parameters
    ----------
    servers : int
        Number of servers ``c`` (GPUs, for one-GPU jobs). [servers]
    offered_load_erlangs : float, numpy.ndarray or pandas.Series
        ``a`` = arrival rate x mean service time (busy GPUs on average).
        [Erlang]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        :math:`C(c, a)`, shaped like the load; 1.0 where the utilisation
        :math:`a / c \ge 1` (no steady state: every job eventually waits,
        and :func:`erlang_c_mean_wait_hours` is infinite). [0-1]

    Raises
    ------
    ValueError
        If ``servers`` is not a positive integer or the load is negative.

    Notes
    -----
    From Erlang B, :math:`C = B / (1 - \rho (1 - B))` with
    :math:`\rho = a / c` (methods.md 3.1) [1]_.

    References
    ----------
    .. [1] L. Kleinrock, Queueing Systems, Vol. 1: Theory. New York: Wiley,
       1975, sec. 3.5.

    Examples
    --------
    >>> round(erlang_c_probability_of_wait(4, 3.2), 2)  # rho = 0.8
    0.6
    >>> erlang_c_probability_of_wait(4, [2.4, 4.0]).round(3).tolist()
    [0.287, 1.0]
    """
    c = _servers(servers)
    a = _array(offered_load_erlangs, "offered_load_erlangs")
    b = np.asarray(erlang_b_blocking_probability(c, a), dtype=np.float64)
    rho = a / c
    stable = rho < 1
    denominator = np.where(stable, 1 - rho * (1 - b), 1.0)
    probability = np.where(stable, b / denominator, 1.0)
    return _like(probability, offered_load_erlangs)


def erlang_c_mean_wait_hours(
    servers: int, arrival_rate_per_hour: Numeric, mean_service_hours: Numeric
) -> Numeric:
    r"""Mean wait in queue of an M/M/c system.

    Parameters
    ----------
    servers : int
        Number of servers ``c``. [servers]
    arrival_rate_per_hour : float, numpy.ndarray or pandas.Series
        Poisson arrival rate :math:`\lambda`. [jobs/h]
    mean_service_hours : float, numpy.ndarray or pandas.Series
        Mean of the exponential service time :math:`1/\mu`. [h]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        :math:`W_q`; ``inf`` where :math:`\lambda/\mu \ge c` (undersized).
        [h]

    Raises
    ------
    ValueError
        If an input is out of its domain.

    Notes
    -----
    :math:`W_q = C(c, a) / (c\mu - \lambda) = C(c, a)\,\bar s / (c - a)`
    (methods.md 3.1).

    Examples
    --------
    >>> round(erlang_c_mean_wait_hours(4, 3.2, 1.0), 2)  # methods.md 3.1: 0.75
    0.75
    >>> erlang_c_mean_wait_hours(4, 5.0, 1.0)
    inf
    """
    c = _servers(servers)
    rate = _array(arrival_rate_per_hour, "arrival_rate_per_hour")
    service = _array(mean_service_hours, "mean_service_hours", positive=True)
    a = rate * service
    probability = np.asarray(erlang_c_probability_of_wait(c, a), dtype=np.float64)
    stable = a < c
    wait = np.where(
        stable, probability * service / np.where(stable, c - a, 1.0), np.inf
    )
    return _like(wait, arrival_rate_per_hour, mean_service_hours)


def erlang_c_wait_quantile_hours(
    servers: int,
    arrival_rate_per_hour: Numeric,
    mean_service_hours: Numeric,
    *,
    quantile: float = 0.95,
) -> Numeric:
    r"""A quantile of the wait in queue of an M/M/c system (waits of 0 included).

    Parameters
    ----------
    servers : int
        Number of servers ``c``. [servers]
    arrival_rate_per_hour : float, numpy.ndarray or pandas.Series
        Poisson arrival rate. [jobs/h]
    mean_service_hours : float, numpy.ndarray or pandas.Series
        Mean exponential service time. [h]
    quantile : float, default 0.95
        Which quantile, in (0, 1). [0-1]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        The wait not exceeded by ``quantile`` of jobs; 0 when fewer than
        ``1 - quantile`` of jobs wait; ``inf`` if undersized. [h]

    Raises
    ------
    ValueError
        If an input is out of its domain.

    Notes
    -----
    From the tail :math:`P(W_q > t) = C e^{-(c\mu - \lambda) t}`
    (methods.md 3.1): :math:`t_q = \ln(C / (1 - q)) / (c\mu - \lambda)`
    when :math:`C > 1 - q`.

    Examples
    --------
    >>> round(erlang_c_wait_quantile_hours(4, 3.2, 1.0), 3)
    3.099
    """
    if not 0 < quantile < 1:
        msg = f"quantile must be in (0, 1), got {quantile!r}"
        raise ValueError(msg)
    c = _servers(servers)
    rate = _array(arrival_rate_per_hour, "arrival_rate_per_hour")
    service = _array(mean_service_hours, "mean_service_hours", positive=True)
    a = rate * service
    probability = np.asarray(erlang_c_probability_of_wait(c, a), dtype=np.float64)
    stable = a < c
    decay_per_hour = np.where(stable, (c - a) / service, 1.0)
    tail = 1 - quantile
    wait = np.where(
        probability > tail,
        np.log(np.maximum(probability, tail) / tail) / decay_per_hour,
        0.0,
    )
    return _like(
        np.where(stable, wait, np.inf), arrival_rate_per_hour, mean_service_hours
    )


def allen_cunneen_mean_wait_hours(
    servers: int,
    arrival_rate_per_hour: Numeric,
    mean_service_hours: Numeric,
    *,
    arrival_cv: Numeric = 1.0,
    service_cv: Numeric = 1.0,
) -> Numeric:
    r"""Allen-Cunneen approximation of the mean wait in a G/G/c queue.

    Parameters
    ----------
    servers : int
        Number of servers ``c``. [servers]
    arrival_rate_per_hour : float, numpy.ndarray or pandas.Series
        Arrival rate. [jobs/h]
    mean_service_hours : float, numpy.ndarray or pandas.Series
        Mean service time. [h]
    arrival_cv : float, numpy.ndarray or pandas.Series, default 1
        Coefficient of variation of inter-arrival times (1 for Poisson).
        [unitless]
    service_cv : float, numpy.ndarray or pandas.Series, default 1
        Coefficient of variation of service times (1 for exponential; GPU
        job lengths are heavy-tailed, often 2-4). [unitless]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Approximate mean wait; ``inf`` if undersized. [h]

    Raises
    ------
    ValueError
        If an input is out of its domain.

    Notes
    -----
    :math:`W_q(G/G/c) \approx W_q(M/M/c)\,(C_a^2 + C_s^2)/2` [1]_; an
    order-of-magnitude correction (methods.md 3.3), to be checked against
    :func:`simulate_queue`.

    References
    ----------
    .. [1] A. O. Allen, Probability, Statistics, and Queueing Theory, 2nd ed.
       San Diego: Academic Press, 1990.

    Examples
    --------
    >>> round(allen_cunneen_mean_wait_hours(4, 3.2, 1.0, service_cv=0.0), 3)
    0.373
    """
    ca = _array(arrival_cv, "arrival_cv")
    cs = _array(service_cv, "service_cv")
    base = np.asarray(
        erlang_c_mean_wait_hours(servers, arrival_rate_per_hour, mean_service_hours),
        dtype=np.float64,
    )
    return _like(
        base * (ca**2 + cs**2) / 2,
        arrival_rate_per_hour,
        mean_service_hours,
        arrival_cv,
        service_cv,
    )


def square_root_staffing_servers(
    offered_load_erlangs: float, *, beta: float = 1.0
) -> int:
    r"""Servers for a pool by square-root staffing, a + beta sqrt(a) rounded up.

    Parameters
    ----------
    offered_load_erlangs : float
        Offered load ``a``. [Erlang]
    beta : float, default 1
        Quality-of-service parameter; larger means fewer waits. [unitless]

    Returns
    -------
    int
        Servers ``c`` (at least 1). [servers]

    Raises
    ------
    ValueError
        If the load is negative or ``beta`` is negative.

    Notes
    -----
    :math:`c = \lceil a + \beta\sqrt{a} \rceil`. In the Halfin-Whitt regime
    this keeps :math:`P(\text{wait})` near
    :func:`halfin_whitt_probability_of_wait` as the pool grows [1]_, so spare
    capacity grows like :math:`\sqrt a` (methods.md 3.2).

    References
    ----------
    .. [1] S. Halfin and W. Whitt, "Heavy-traffic limits for queues with many
       exponential servers," Operations Research, vol. 29, no. 3,
       pp. 567-588, 1981, doi:10.1287/opre.29.3.567.

    Examples
    --------
    >>> [square_root_staffing_servers(a) for a in (4, 64, 256)]
    [6, 72, 272]
    """
    if not (math.isfinite(offered_load_erlangs) and offered_load_erlangs >= 0):
        msg = (
            "offered_load_erlangs must be finite and non-negative, got "
            f"{offered_load_erlangs!r}"
        )
        raise ValueError(msg)
    if not (math.isfinite(beta) and beta >= 0):
        msg = f"beta must be finite and non-negative, got {beta!r}"
        raise ValueError(msg)
    # Round away float noise before the ceiling (4 + 1 * 2 must give 6, not 7).
    exact = round(offered_load_erlangs + beta * math.sqrt(offered_load_erlangs), 9)
    return max(1, math.ceil(exact))


def halfin_whitt_probability_of_wait(beta: float) -> float:
    r"""Limit of P(wait) under square-root staffing with parameter ``beta``.

    Parameters
    ----------
    beta : float
        Square-root staffing parameter, positive. [unitless]

    Returns
    -------
    float
        :math:`[1 + \beta\,\Phi(\beta)/\varphi(\beta)]^{-1}` [1]_. [0-1]

    Raises
    ------
    ValueError
        If ``beta`` is not positive.

    References
    ----------
    .. [1] S. Halfin and W. Whitt, "Heavy-traffic limits for queues with many
       exponential servers," Operations Research, vol. 29, no. 3,
       pp. 567-588, 1981, doi:10.1287/opre.29.3.567.

    Examples
    --------
    >>> round(halfin_whitt_probability_of_wait(1.0), 3)  # methods.md 3.2
    0.223
    """
    if not (math.isfinite(beta) and beta > 0):
        msg = f"beta must be finite and positive, got {beta!r}"
        raise ValueError(msg)
    cdf = 0.5 * (1 + math.erf(beta / math.sqrt(2)))
    pdf = math.exp(-0.5 * beta**2) / math.sqrt(2 * math.pi)
    return 1 / (1 + beta * cdf / pdf)


@dataclass(frozen=True)
class ErlangC:
    """M/M/c figures for one cluster size and workload.

    Attributes
    ----------
    servers : int
        Servers (GPUs). [servers]
    offered_load_erlangs : float
        Average busy servers demanded. [Erlang]
    utilisation : float
        Offered load over servers (may exceed 1 when undersized). [unitless]
    probability_of_wait : float
        Erlang C. [0-1]
    mean_wait_hours : float
        Mean wait; inf if undersized. [h]
    p95_wait_hours : float
        95th percentile of the wait; inf if undersized. [h]
    undersized : bool
        True when utilisation >= 1: no steady state, the queue grows.
    """

    servers: int
    offered_load_erlangs: float
    utilisation: float
    probability_of_wait: float
    mean_wait_hours: float
    p95_wait_hours: float
    undersized: bool


def erlang_c(
    servers: int, arrival_rate_per_hour: float, mean_service_hours: float
) -> ErlangC:
    """All M/M/c figures for one case, with the undersized flag (methods.md 3.5).

    Parameters
    ----------
    servers : int
        Servers. [servers]
    arrival_rate_per_hour : float
        Poisson arrival rate. [jobs/h]
    mean_service_hours : float
        Mean exponential service time. [h]

    Returns
    -------
    ErlangC
        Load, utilisation, P(wait), mean and p95 wait, undersized flag.

    Raises
    ------
    ValueError
        If an input is out of its domain.

    Examples
    --------
    >>> result = erlang_c(8, 7.2, 1.0)  # rho = 0.9
    >>> round(result.probability_of_wait, 2), round(result.mean_wait_hours, 2)
    (0.7, 0.88)
    >>> erlang_c(8, 8.0, 1.0).undersized
    True
    """
    c = _servers(servers)
    load = float(
        _array(arrival_rate_per_hour, "arrival_rate_per_hour") * mean_service_hours
    )
    return ErlangC(
        servers=c,
        offered_load_erlangs=load,
        utilisation=load / c,
        probability_of_wait=_scalar(erlang_c_probability_of_wait(c, load)),
        mean_wait_hours=_scalar(
            erlang_c_mean_wait_hours(c, arrival_rate_per_hour, mean_service_hours)
        ),
        p95_wait_hours=_scalar(
            erlang_c_wait_quantile_hours(c, arrival_rate_per_hour, mean_service_hours)
        ),
        undersized=load >= c,
    )


# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------


def poisson_exponential_jobs(
    arrival_rate_per_hour: float,
    mean_service_hours: float,
    job_count: int,
    *,
    gpus_per_job: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """A seeded M/M workload: Poisson arrivals, exponential run times.

    Parameters
    ----------
    arrival_rate_per_hour : float
        Arrival rate. [jobs/h]
    mean_service_hours : float
        Mean run time. [h]
    job_count : int
        Jobs. [jobs]
    gpus_per_job : int, default 1
        GPUs each job needs. [GPUs]
    seed : int, default 0
        Random seed. [unitless]

    Returns
    -------
    pandas.DataFrame
        Columns ``job_id``, ``submit_hours`` [h], ``run_hours`` [h] and
        ``gpus`` [GPUs], in submission order; accepted by
        :func:`simulate_queue`.

    Raises
    ------
    ValueError
        If an input is out of its domain.

    Examples
    --------
    >>> jobs = poisson_exponential_jobs(2.0, 0.5, 3, seed=1)
    >>> list(jobs.columns)
    ['job_id', 'submit_hours', 'run_hours', 'gpus']
    """
    _array(arrival_rate_per_hour, "arrival_rate_per_hour", positive=True)
    _array(mean_service_hours, "mean_service_hours", positive=True)
    if job_count < 1 or gpus_per_job < 1:
        msg = (
            f"job_count and gpus_per_job must be at least 1, got {job_count} and "
            f"{gpus_per_job}"
        )
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    submit = np.cumsum(rng.exponential(1 / arrival_rate_per_hour, job_count))
    run = rng.exponential(mean_service_hours, job_count)
    return pd.DataFrame(
        {
            "job_id": [str(i + 1) for i in range(job_count)],
            "submit_hours": submit,
            "run_hours": run,
            "gpus": np.full(job_count, gpus_per_job, dtype=np.int64),
        }
    )


MAX_SIMULATED_HOURS: Final = 1_000_000.0
"""Latest submission and longest run time simulated (about 114 years): times
are whole nanoseconds in 64-bit integers, which hold about 2.5 million hours. [h]"""


@dataclass(frozen=True)
class _Workload:
    """Jobs sorted by submission, as plain arrays (since the first submission).

    Times are whole nanoseconds, so the scheduler compares them exactly: a job
    that ends at the instant of a reservation ends *by* it (in float hours,
    ``0.1 + 0.2 > 0.3``).
    """

    job_id: npt.NDArray[np.object_]
    group: npt.NDArray[np.object_]
    submit_ns: npt.NDArray[np.int64]
    run_ns: npt.NDArray[np.int64]
    gpus: npt.NDArray[np.int64]
    origin: pd.Timestamp | None

    @property
    def submit_hours(self) -> npt.NDArray[np.float64]:
        """Submission times, in hours since the first."""
        return np.asarray(self.submit_ns / _NS_PER_HOUR, dtype=np.float64)

    @property
    def run_hours(self) -> npt.NDArray[np.float64]:
        """Run times, in hours."""
        return np.asarray(self.run_ns / _NS_PER_HOUR, dtype=np.float64)


def _whole_ns(hours: npt.NDArray[np.float64], name: str) -> npt.NDArray[np.int64]:
    if np.any(~np.isfinite(hours)) or np.any(np.abs(hours) > MAX_SIMULATED_HOURS):
        msg = (
            f"jobs must have finite {name} of at most {MAX_SIMULATED_HOURS:,.0f} hours"
        )
        raise ValueError(msg)
    return np.rint(hours * _NS_PER_HOUR).astype(np.int64)


def _workload(jobs: JobLog | pd.DataFrame) -> _Workload:
    frame = jobs.jobs if isinstance(jobs, JobLog) else jobs
    if not isinstance(frame, pd.DataFrame):
        msg = f"jobs must be a JobLog or a DataFrame, got {type(jobs).__name__}"
        raise TypeError(msg)
    n = len(frame)
    if "gpus" not in frame.columns:
        msg = f"jobs must have a gpus column, got {list(frame.columns)}"
        raise ValueError(msg)
    origin: pd.Timestamp | None = None
    if {"submit_hours", "run_hours"} <= set(frame.columns):
        submit = _whole_ns(
            frame["submit_hours"].to_numpy(dtype=np.float64), "submission times"
        )
        run = _whole_ns(frame["run_hours"].to_numpy(dtype=np.float64), "run times")
    elif {"start", "end"} <= set(frame.columns):
        start = _ns(frame["start"])
        end = _ns(frame["end"])
        arrive = start
        if "submit" in frame.columns:
            submit_ns = _ns(frame["submit"])
            arrive = np.where(submit_ns == np.iinfo(np.int64).min, start, submit_ns)
        base = int(arrive.min()) if n else 0
        origin = pd.Timestamp(base, tz="UTC")
        submit = arrive - base
        run = end - start
        _whole_ns(submit / _NS_PER_HOUR, "submission times")
        _whole_ns(run / _NS_PER_HOUR, "run times")
    else:
        msg = (
            "jobs must have columns submit_hours and run_hours, or start and end; "
            f"got {list(frame.columns)}"
        )
        raise ValueError(msg)
    gpus_float = frame["gpus"].to_numpy(dtype=np.float64)
    if np.any(run < 0):
        msg = "jobs must have finite submission times and non-negative run times"
        raise ValueError(msg)
    if (
        np.any(~np.isfinite(gpus_float))
        or np.any(gpus_float < 0)
        or np.any(gpus_float != np.round(gpus_float))
    ):
        msg = "jobs must have whole, non-negative GPU counts"
        raise ValueError(msg)
    job_id = (
        frame["job_id"].astype(str).to_numpy(dtype=object)
        if "job_id" in frame.columns
        else np.asarray([str(i + 1) for i in range(n)], dtype=object)
    )
    group = (
        frame["group"].astype(str).to_numpy(dtype=object)
        if "group" in frame.columns
        else np.full(n, "all", dtype=object)
    )
    order = np.argsort(submit, kind="stable")
    return _Workload(
        job_id=job_id[order],
        group=group[order],
        submit_ns=submit[order],
        run_ns=run[order],
        gpus=gpus_float[order].astype(np.int64),
        origin=origin,
    )


def _ns(times: pd.Series[Any]) -> npt.NDArray[np.int64]:
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        index = index.tz_localize("UTC")
    return np.asarray(index.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


# --------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------


def _simulate_fifo(
    submit: Sequence[int], run: Sequence[int], need: Sequence[int], capacity: int
) -> list[int]:
    """Start times under strict first come, first served (no overtaking).

    Times are whole nanoseconds (any exact numbers work).
    """
    starts = [0] * len(submit)
    running: list[tuple[int, int]] = []  # heap of (end, gpus)
    free = capacity
    last = -_NEVER
    pop, push = heapq.heappop, heapq.heappush
    for i, arrival in enumerate(submit):
        t = arrival if arrival > last else last
        while running and running[0][0] <= t:
            free += pop(running)[1]
        gpus = need[i]
        while free < gpus:
            end, released = pop(running)
            free += released
            t = max(t, end)
        starts[i] = t
        free -= gpus
        push(running, (t + run[i], gpus))
        last = t
    return starts


class _LeftmostMin:
    """Segment tree over a fixed array: find the leftmost value <= a limit.

    Used per GPU-size class of waiting jobs (values are run times, ``inf``
    for jobs not waiting), so a backfill pass costs O(classes x log n)
    instead of a scan of the whole queue.
    """

    def __init__(self, size: int) -> None:
        width = 1
        while width < max(size, 1):
            width *= 2
        self.width = width
        self.tree = [math.inf] * (2 * width)

    def set(self, index: int, value: float) -> None:
        tree = self.tree
        node = index + self.width
        tree[node] = value
        node //= 2
        while node:
            left, right = tree[2 * node], tree[2 * node + 1]
            tree[node] = left if left < right else right
            node //= 2

    def leftmost_at_most(self, limit: float) -> int:
        """Index of the leftmost value <= limit, or -1."""
        tree = self.tree
        if tree[1] > limit:
            return -1
        node = 1
        width = self.width
        while node < width:
            node *= 2
            if tree[node] > limit:
                node += 1
        return node - width


def _simulate_backfill(
    submit: Sequence[int],
    run: Sequence[int],
    need: Sequence[int],
    capacity: int,
) -> list[int]:
    """Start times under FIFO with EASY backfill (run times known exactly).

    When the head of the queue cannot start, it gets a reservation at the
    earliest time enough GPUs free up (the shadow time); the earliest-queued
    later job that fits in the free GPUs and either ends by the shadow time
    or uses only GPUs the head will not need then starts now, repeatedly.
    This equals EASY's in-order scan of the whole queue, because starting a
    job only shrinks the free and spare GPUs. Waiting jobs are indexed by
    GPU size in segment trees (:class:`_LeftmostMin`), so long queues stay
    fast. Times are whole nanoseconds, so "ends by the shadow time" is an
    exact comparison (a job ending exactly at the reservation may start).
    """
    n = len(submit)
    starts = [0] * n
    started = [False] * n
    sizes_sorted = sorted(set(need))
    class_of = {size: c for c, size in enumerate(sizes_sorted)}
    members: list[list[int]] = [[] for _ in sizes_sorted]
    slot = [0] * n
    for j in range(n):
        bucket = members[class_of[need[j]]]
        slot[j] = len(bucket)
        bucket.append(j)
    trees = [_LeftmostMin(len(bucket)) for bucket in members]
    ends: list[int] = []  # running jobs' end times, sorted
    held: list[int] = []  # their GPUs, parallel to ends
    order: list[int] = []  # waiting jobs in arrival order (lazy: skip started)
    first = 0  # position of the head candidate in order
    free = capacity
    i = 0
    inf = math.inf  # "not waiting" in the trees

    def begin(j: int, t: int) -> None:
        starts[j] = t
        started[j] = True
        trees[class_of[need[j]]].set(slot[j], inf)
        finish = t + run[j]
        k = bisect_right(ends, finish)
        ends.insert(k, finish)
        held.insert(k, need[j])

    while i < n or first < len(order):
        t_next = submit[i] if i < n else _NEVER
        t = ends[0] if ends and ends[0] < t_next else t_next
        done = bisect_right(ends, t)
        if done:
            free += sum(held[:done])
            del ends[:done], held[:done]
        while i < n and submit[i] <= t:
            trees[class_of[need[i]]].set(slot[i], run[i])
            order.append(i)
            i += 1
        # Start from the head while jobs fit.
        while first < len(order):
            j = order[first]
            if started[j]:
                first += 1
            elif need[j] <= free:
                begin(j, t)
                free -= need[j]
                first += 1
            else:
                break
        if first >= len(order) or free == 0:
            continue
        if first > 4096 and first * 2 > len(order):
            del order[:first]
            first = 0
        # The head is blocked: its shadow time and the GPUs spare then.
        wanted = need[order[first]]
        available = free
        shadow = _NEVER
        for k, end in enumerate(ends):
            available += held[k]
            if available >= wanted:
                shadow = end
                # Every job ending at the shadow time frees its GPUs then.
                stop = bisect_right(ends, shadow)
                available += sum(held[k + 1 : stop])
                break
        extra = available - wanted
        while free:
            best = -1
            for c, size in enumerate(sizes_sorted):
                if size > free:
                    break
                # Any waiting job (finite run time; inf marks "not waiting").
                limit = _NEVER if size <= extra else shadow - t
                position = trees[c].leftmost_at_most(limit)
                if position >= 0:
                    j = members[c][position]
                    if best < 0 or j < best:
                        best = j
            if best < 0:
                break
            if run[best] > shadow - t:  # the same test as the tree query
                extra -= need[best]
            free -= need[best]
            begin(best, t)
    return starts


@dataclass(frozen=True, eq=False)
class QueueResult:
    """Waits and utilisation of one simulated cluster.

    Attributes
    ----------
    jobs : pandas.DataFrame
        One row per simulated job, in submission order: ``job_id``,
        ``group``, ``gpus`` [GPUs], ``submit_hours``, ``start_hours``,
        ``end_hours`` (since the first submission) [h], ``wait_hours`` [h],
        ``run_hours`` [h].
    gpus : int
        Cluster size. [GPUs]
    policy : str
        ``"fifo"`` or ``"backfill"``.
    mean_wait_hours, median_wait_hours, p95_wait_hours, max_wait_hours : float
        Wait statistics over simulated jobs (waits of 0 included). [h]
    share_waiting : float
        Share of jobs that waited at all. [0-1]
    utilisation : float
        GPU-hours run over cluster GPU-hours from first submission to last
        end. [0-1]
    makespan_hours : float
        First submission to last end. [h]
    oversized_jobs : pandas.DataFrame
        Jobs needing more GPUs than the cluster has (``job_id``, ``gpus``):
        they can never run, so they are reported here and not simulated.
    no_gpu_jobs : int
        Jobs without GPUs, not simulated (they never wait for GPUs). [jobs]
    origin : pandas.Timestamp or None
        Time of the first submission, when the input had timestamps.
    """

    jobs: pd.DataFrame
    gpus: int
    policy: str
    mean_wait_hours: float
    median_wait_hours: float
    p95_wait_hours: float
    max_wait_hours: float
    share_waiting: float
    utilisation: float
    makespan_hours: float
    oversized_jobs: pd.DataFrame
    no_gpu_jobs: int
    origin: pd.Timestamp | None = None


def simulate_queue(
    jobs: JobLog | pd.DataFrame,
    gpus: int,
    *,
    policy: Policy = "fifo",
) -> QueueResult:
    """Simulate a cluster of ``gpus`` GPUs serving a workload; report waits.

    Each job is submitted at its logged submission time (its start, when
    the log has no submission time), needs its GPUs all at once and runs for
    its logged run time. ``"fifo"`` starts jobs strictly in submission order;
    ``"backfill"`` adds EASY backfill [1]_: when the first waiting job cannot
    start, later jobs may start if they do not delay its reservation. The
    backfill uses the jobs' actual run times as their run-time estimates (a
    scheduler only knows the users' time limits, so real backfill is less
    effective).

    Parameters
    ----------
    jobs : JobLog or pandas.DataFrame
        A log (e.g. from :func:`planner.joblog.read_log` or
        :func:`planner.joblog.generate_workload`), or a table with ``gpus``
        and either ``submit_hours`` and ``run_hours`` [h] or ``start`` and
        ``end`` timestamps (and optional ``submit``); ``job_id`` and
        ``group`` are carried through when present.
    gpus : int
        Cluster size. [GPUs]
    policy : {"fifo", "backfill"}, default "fifo"
        Scheduling policy.

    Returns
    -------
    QueueResult
        Per-job waits and the mean, median and 95th percentile wait,
        utilisation and makespan; oversized and GPU-less jobs are reported.

    Raises
    ------
    ValueError
        If ``gpus`` is not a positive integer, the policy is unknown, the
        table lacks columns, or no job fits the cluster.

    Notes
    -----
    An event loop over a heap (FIFO) or a sorted list (backfill) of running
    jobs: O(n log n) for FIFO. Backfill finds candidates through one segment
    tree of waiting jobs per GPU-size class, O(classes x log n) per
    scheduling pass, so even an overloaded queue of thousands of jobs stays
    fast.

    References
    ----------
    .. [1] D. A. Lifka, "The ANL/IBM SP scheduling system," in Job Scheduling
       Strategies for Parallel Processing (JSSPP), LNCS 949, Springer, 1995,
       pp. 295-303, doi:10.1007/3-540-60153-8_35.

    Examples
    --------
    >>> jobs = pd.DataFrame({"submit_hours": [0.0, 0.0, 0.5],
    ...                      "run_hours": [2.0, 1.0, 1.0], "gpus": [2, 2, 1]})
    >>> simulate_queue(jobs, 3).jobs["wait_hours"].tolist()
    [0.0, 2.0, 1.5]
    >>> simulate_queue(jobs, 3, policy="backfill").jobs["wait_hours"].tolist()
    [0.0, 2.0, 0.0]
    """
    capacity = _servers(gpus, "gpus")
    if policy not in ("fifo", "backfill"):
        msg = f"policy must be 'fifo' or 'backfill', got {policy!r}"
        raise ValueError(msg)
    work = _workload(jobs)
    return _simulate(work, capacity, policy)


def _simulate(work: _Workload, capacity: int, policy: str) -> QueueResult:
    oversized = work.gpus > capacity
    no_gpu = work.gpus == 0
    keep = ~oversized & ~no_gpu
    if not keep.any():
        msg = (
            f"no job can run on {capacity} GPUs: {int(oversized.sum())} need more "
            f"GPUs than the cluster has and {int(no_gpu.sum())} need none"
        )
        raise ValueError(msg)
    submit_ns = work.submit_ns[keep]
    run_ns = work.run_ns[keep]
    need = work.gpus[keep]
    # Python ints: exact arithmetic in the schedulers (see _Workload).
    simulate = _simulate_fifo if policy == "fifo" else _simulate_backfill
    start_ns = np.asarray(
        simulate(submit_ns.tolist(), run_ns.tolist(), need.tolist(), capacity),
        dtype=np.int64,
    )
    submit = submit_ns / _NS_PER_HOUR
    run = run_ns / _NS_PER_HOUR
    start = start_ns / _NS_PER_HOUR
    wait = (start_ns - submit_ns) / _NS_PER_HOUR
    end = (start_ns + run_ns) / _NS_PER_HOUR
    makespan = float(end.max() - submit.min())
    busy = float((need * run).sum())
    table = pd.DataFrame(
        {
            "job_id": work.job_id[keep],
            "group": work.group[keep],
            "gpus": need,
            "submit_hours": submit,
            "start_hours": start,
            "end_hours": end,
            "wait_hours": wait,
            "run_hours": run,
        }
    )
    return QueueResult(
        jobs=table,
        gpus=capacity,
        policy=policy,
        mean_wait_hours=float(wait.mean()),
        median_wait_hours=float(np.median(wait)),
        p95_wait_hours=float(np.percentile(wait, 95)),
        max_wait_hours=float(wait.max()),
        share_waiting=float((wait > 0).mean()),
        utilisation=busy / (capacity * makespan) if makespan > 0 else 0.0,
        makespan_hours=makespan,
        oversized_jobs=pd.DataFrame(
            {"job_id": work.job_id[oversized], "gpus": work.gpus[oversized]}
        ),
        no_gpu_jobs=int(no_gpu.sum()),
        origin=work.origin,
    )


def queue_summary(result: QueueResult) -> dict[str, Any]:
    """JSON-ready figures of a simulation (for the CLI and reports).

    Parameters
    ----------
    result : QueueResult
        A simulation result.

    Returns
    -------
    dict
        ``gpus``, ``policy``, ``jobs``, ``mean_wait_hours``,
        ``median_wait_hours``, ``p95_wait_hours``, ``max_wait_hours``,
        ``share_waiting``, ``utilisation``, ``makespan_hours``,
        ``oversized_jobs`` (list of ``{job_id, gpus}``), ``oversized_count``,
        ``no_gpu_jobs``; plain Python values.

    Examples
    --------
    >>> jobs = pd.DataFrame({"submit_hours": [0.0], "run_hours": [1.0], "gpus": [1]})
    >>> queue_summary(simulate_queue(jobs, 2))["utilisation"]
    0.5
    """
    return {
        "gpus": result.gpus,
        "policy": result.policy,
        "jobs": len(result.jobs),
        "mean_wait_hours": result.mean_wait_hours,
        "median_wait_hours": result.median_wait_hours,
        "p95_wait_hours": result.p95_wait_hours,
        "max_wait_hours": result.max_wait_hours,
        "share_waiting": result.share_waiting,
        "utilisation": result.utilisation,
        "makespan_hours": result.makespan_hours,
        "oversized_jobs": [
            {"job_id": str(j), "gpus": int(g)}
            for j, g in zip(
                result.oversized_jobs["job_id"],
                result.oversized_jobs["gpus"],
                strict=True,
            )
        ],
        "oversized_count": len(result.oversized_jobs),
        "no_gpu_jobs": result.no_gpu_jobs,
    }


def _statistic(result: QueueResult, statistic: WaitStatistic) -> float:
    if statistic == "mean":
        return result.mean_wait_hours
    if statistic == "median":
        return result.median_wait_hours
    return result.p95_wait_hours


def smallest_cluster_for_target_wait(
    jobs: JobLog | pd.DataFrame,
    *,
    target_wait_hours: float,
    statistic: WaitStatistic = "p95",
    policy: Policy = "fifo",
) -> int:
    """Smallest number of GPUs whose simulated wait meets a target.

    Parameters
    ----------
    jobs : JobLog or pandas.DataFrame
        Workload, as for :func:`simulate_queue`.
    target_wait_hours : float
        Largest acceptable wait statistic. [h]
    statistic : {"p95", "mean", "median"}, default "p95"
        Which wait statistic the target applies to.
    policy : {"fifo", "backfill"}, default "fifo"
        Scheduling policy.

    Returns
    -------
    int
        Smallest cluster size meeting the target. [GPUs]

    Raises
    ------
    ValueError
        If the target is negative or not finite, the statistic or policy is
        unknown, or the workload has no job with GPUs.

    Notes
    -----
    Bisection between the largest job (smaller clusters cannot run it) and
    the peak concurrent demand (where no job waits). Under FIFO every job's
    start time is non-increasing in the cluster size (with more GPUs each
    earlier job starts no later, so it also ends no later), so the search is
    exact. Under backfill this monotonicity usually holds but is not
    guaranteed; the returned size meets the target, but a smaller one might
    too.

    Examples
    --------
    >>> jobs = pd.DataFrame({"submit_hours": [0.0, 0.0, 0.0, 0.0],
    ...                      "run_hours": [1.0, 1.0, 1.0, 1.0], "gpus": [1, 1, 1, 1]})
    >>> smallest_cluster_for_target_wait(jobs, target_wait_hours=0.4, statistic="mean")
    3
    """
    if not (math.isfinite(target_wait_hours) and target_wait_hours >= 0):
        msg = (
            "target_wait_hours must be finite and non-negative, got "
            f"{target_wait_hours!r}"
        )
        raise ValueError(msg)
    if statistic not in ("mean", "median", "p95"):
        msg = f"statistic must be 'p95', 'mean' or 'median', got {statistic!r}"
        raise ValueError(msg)
    if policy not in ("fifo", "backfill"):
        msg = f"policy must be 'fifo' or 'backfill', got {policy!r}"
        raise ValueError(msg)
    work = _workload(jobs)
    with_gpus = work.gpus > 0
    if not with_gpus.any():
        msg = "the workload has no job that needs GPUs"
        raise ValueError(msg)
    low = int(work.gpus.max())
    demand = pd.DataFrame(
        {
            "start": _hours_to_stamps(work.submit_hours),
            "end": _hours_to_stamps(work.submit_hours + work.run_hours),
            "gpus": work.gpus,
        }
    )
    high = max(low, peak_concurrency_gpus(demand))

    def meets(size: int) -> bool:
        result = _simulate(work, size, policy)
        return _statistic(result, statistic) <= target_wait_hours

    if meets(low):
        return low
    while not meets(high):  # only possible under backfill
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        if meets(middle):
            high = middle
        else:
            low = middle
    return high


def _hours_to_stamps(hours: npt.NDArray[np.float64]) -> pd.DatetimeIndex:
    ns = np.rint(hours * _NS_PER_HOUR).astype(np.int64)
    return pd.DatetimeIndex(ns.astype("datetime64[ns]")).tz_localize("UTC")


def wait_curve(
    jobs: JobLog | pd.DataFrame,
    sizes: Sequence[int],
    *,
    policy: Policy = "fifo",
) -> pd.DataFrame:
    """Waits and utilisation of one workload on clusters of several sizes.

    The pooling argument in one table: how the mean and 95th-percentile wait
    fall as GPUs are added (docs/methods.md §3.1), each row one simulation.

    Parameters
    ----------
    jobs : JobLog or pandas.DataFrame
        The workload (as :func:`simulate_queue`).
    sizes : sequence of int
        Cluster sizes to simulate, each at least the largest job. [GPUs]
    policy : {"fifo", "backfill"}, default "fifo"
        Scheduling policy.

    Returns
    -------
    pandas.DataFrame
        ``gpus``, ``mean_wait_hours``, ``median_wait_hours``, ``p95_wait_hours``
        [h], ``share_waiting`` and ``utilisation`` [0-1].

    Raises
    ------
    ValueError
        As :func:`simulate_queue`.

    Examples
    --------
    >>> jobs = pd.DataFrame({"submit_hours": [0.0, 0.0], "run_hours": [1.0, 1.0],
    ...                      "gpus": [1, 1]})
    >>> wait_curve(jobs, [1, 2])["mean_wait_hours"].tolist()
    [0.5, 0.0]
    """
    work = _workload(jobs)
    rows = []
    for size in sorted({_servers(int(s), "sizes") for s in sizes}):
        result = _simulate(work, size, policy)
        rows.append(
            {
                "gpus": size,
                "mean_wait_hours": result.mean_wait_hours,
                "median_wait_hours": result.median_wait_hours,
                "p95_wait_hours": result.p95_wait_hours,
                "share_waiting": result.share_waiting,
                "utilisation": result.utilisation,
            }
        )
    return pd.DataFrame(rows)
