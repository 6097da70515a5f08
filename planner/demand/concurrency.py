"""Demand from a job log: hourly concurrency, load-duration curve and summary.

An hour's concurrency is the average number of GPUs busy in that clock hour,
which equals the GPU-hours delivered in it; the series integrates to the log's
total GPU-hours.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.demand.readers import (
    _NS_PER_HOUR,
    JobLog,
    _utc,
)

# --------------------------------------------------------------------------
# Concurrency, load-duration curve, summary
# --------------------------------------------------------------------------


def _hour_bounds(log: JobLog | pd.DataFrame) -> tuple[int, int]:
    """First and last clock hour (ns, hour-aligned) covering jobs and period."""
    jobs = log.jobs if isinstance(log, JobLog) else log
    lows: list[int] = []
    highs: list[int] = []
    if len(jobs):
        lows.append(int(_ns(jobs["start"]).min()))
        highs.append(int(_ns(jobs["end"]).max()))
    if isinstance(log, JobLog):
        if log.period_start is not None:
            lows.append(int(log.period_start.as_unit("ns").value))
        if log.period_end is not None:
            highs.append(int(log.period_end.as_unit("ns").value))
    if not lows:
        return 0, 0
    low = min(lows) // _NS_PER_HOUR * _NS_PER_HOUR
    high = -(-max(*highs, low) // _NS_PER_HOUR) * _NS_PER_HOUR
    return low, max(high, low)


def _ns(times: pd.Series[Any] | pd.DatetimeIndex) -> npt.NDArray[np.int64]:
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        index = index.tz_localize("UTC")
    return np.asarray(index.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


def _hourly_gpu_hours(
    start_h: npt.NDArray[np.float64],
    end_h: npt.NDArray[np.float64],
    gpus: npt.NDArray[np.float64],
    n_hours: int,
    bin_offset: npt.NDArray[np.int64] | int = 0,
    n_series: int = 1,
) -> npt.NDArray[np.float64]:
    """GPU-hours in each hour bin by difference arrays (no loop over hours).

    Each job adds a partial amount to its first and last hour and ``gpus`` to
    each full hour in between; the full hours are a +g/-g difference array.
    """
    width = n_hours + 2
    i0 = np.floor(start_h).astype(np.int64)
    i1 = np.floor(end_h).astype(np.int64)
    same = i0 == i1
    first = np.where(same, gpus * (end_h - start_h), gpus * (i0 + 1 - start_h))
    last = np.where(same, 0.0, gpus * (end_h - i1))
    size = width * n_series
    total = np.bincount(bin_offset + i0, first, minlength=size)[:size]
    total += np.bincount(bin_offset + i1, last, minlength=size)[:size]
    full = ~same
    offset_full = bin_offset[full] if isinstance(bin_offset, np.ndarray) else bin_offset
    diff = np.bincount(offset_full + i0[full] + 1, gpus[full], minlength=size)[:size]
    diff -= np.bincount(offset_full + i1[full], gpus[full], minlength=size)[:size]
    per_series = total.reshape(n_series, width) + np.cumsum(
        diff.reshape(n_series, width), axis=1
    )
    return np.asarray(per_series[:, :n_hours], dtype=np.float64)


def hourly_concurrency_gpus(
    log: JobLog | pd.DataFrame, *, by_group: bool = False
) -> pd.Series[float] | pd.DataFrame:
    r"""Average number of GPUs busy in each clock hour (= GPU-hours in it).

    The series runs from the clock hour of the first start (or the log's
    ``period_start``) to the end of the hour of the last end (or
    ``period_end``), so hours without jobs count as zero demand.

    Parameters
    ----------
    log : JobLog or pandas.DataFrame
        A log, or a jobs table with ``start``, ``end`` (timestamps), ``gpus``
        and, for ``by_group``, ``group``.
    by_group : bool, default False
        Return one column per group instead of the total.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Indexed by the UTC start of each hour (``hour``); values in GPUs
        (hour-averaged). Sums to the log's total GPU-hours. [GPUs]

    Raises
    ------
    ValueError
        If the table lacks a required column.

    Notes
    -----
    With jobs on :math:`[s_j, e_j)` using :math:`g_j` GPUs, hour :math:`h`
    gets :math:`\sum_j g_j\,|[s_j, e_j) \cap [h, h+1)|`, computed with
    difference arrays and ``numpy.bincount`` in O(jobs + hours).

    Examples
    --------
    >>> import io
    >>> from planner.demand.readers import read_generic_csv
    >>> text = "start,end,gpus\n2024-01-01T00:30,2024-01-01T02:00,4\n"
    >>> hourly_concurrency_gpus(read_generic_csv(io.StringIO(text))).tolist()
    [2.0, 4.0]
    """
    jobs = log.jobs if isinstance(log, JobLog) else log
    required = {"start", "end", "gpus"} | ({"group"} if by_group else set())
    if not required <= set(jobs.columns):
        msg = f"jobs must have columns {sorted(required)}, got {list(jobs.columns)}"
        raise ValueError(msg)
    low, high = _hour_bounds(log)
    n_hours = (high - low) // _NS_PER_HOUR
    index = pd.DatetimeIndex(
        _utc(low + _NS_PER_HOUR * np.arange(n_hours, dtype=np.int64)), name="hour"
    )
    start_h = (_ns(jobs["start"]) - low) / _NS_PER_HOUR
    end_h = (_ns(jobs["end"]) - low) / _NS_PER_HOUR
    gpus = jobs["gpus"].to_numpy(dtype=np.float64)
    if not by_group:
        values = _hourly_gpu_hours(start_h, end_h, gpus, n_hours)[0]
        return pd.Series(values, index=index, name="gpus")
    codes, groups = pd.factorize(jobs["group"].astype(str), sort=True)
    n_groups = len(groups)
    offsets = np.asarray(codes, dtype=np.int64) * (n_hours + 2)
    values = _hourly_gpu_hours(start_h, end_h, gpus, n_hours, offsets, max(n_groups, 1))
    frame = pd.DataFrame(
        values[:n_groups].T, index=index, columns=pd.Index(groups, name="group")
    )
    return frame


def load_duration_curve_gpus(
    hourly: pd.Series[float] | pd.DataFrame | npt.ArrayLike,
) -> npt.NDArray[np.float64]:
    """Sort hourly concurrency from highest to lowest (the load-duration curve).

    Parameters
    ----------
    hourly : pandas.Series, pandas.DataFrame or array_like
        Hourly concurrent GPUs, e.g. from :func:`hourly_concurrency_gpus`; a
        DataFrame (by group) is summed across groups first. [GPUs]

    Returns
    -------
    numpy.ndarray
        The same values sorted in descending order; element ``k`` is the
        demand exceeded or equalled in ``k + 1`` hours. Sums to the input's
        total GPU-hours. [GPUs]

    Raises
    ------
    ValueError
        If the values are not one-dimensional, finite and non-negative.

    Examples
    --------
    >>> load_duration_curve_gpus([2.0, 5.0, 0.0, 3.5]).tolist()
    [5.0, 3.5, 2.0, 0.0]
    """
    if isinstance(hourly, pd.DataFrame):
        values = hourly.sum(axis=1).to_numpy(dtype=np.float64)
    else:
        values = np.asarray(hourly, dtype=np.float64)
    if values.ndim != 1:
        msg = f"hourly must be one-dimensional, got shape {values.shape}"
        raise ValueError(msg)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        msg = "hourly must hold finite, non-negative GPU counts"
        raise ValueError(msg)
    return np.sort(values)[::-1].copy()


def peak_concurrency_gpus(log: JobLog | pd.DataFrame) -> int:
    r"""Largest number of GPUs busy at any instant (not hour-averaged).

    Parameters
    ----------
    log : JobLog or pandas.DataFrame
        A log or a jobs table with ``start``, ``end`` and ``gpus``.

    Returns
    -------
    int
        Peak instantaneous concurrency; a job ending when another starts
        does not overlap it. [GPUs]

    Examples
    --------
    >>> import io
    >>> from planner.demand.readers import read_generic_csv
    >>> text = ("start,end,gpus\n2024-01-01T00:00,2024-01-01T00:10,3\n"
    ...         "2024-01-01T00:05,2024-01-01T00:20,2\n")
    >>> peak_concurrency_gpus(read_generic_csv(io.StringIO(text)))
    5
    """
    jobs = log.jobs if isinstance(log, JobLog) else log
    if len(jobs) == 0:
        return 0
    gpus = jobs["gpus"].to_numpy(dtype=np.int64)
    times = np.concatenate([_ns(jobs["start"]), _ns(jobs["end"])])
    change = np.concatenate([gpus, -gpus])
    # Ends sort before starts at the same instant (lexsort: last key first).
    order = np.lexsort((change, times))
    return int(max(0, np.cumsum(change[order]).max()))


def demand_summary(log: JobLog) -> dict[str, Any]:
    r"""JSON-ready summary of a log's demand and of everything not counted in it.

    Parameters
    ----------
    log : JobLog
        A parsed or generated log.

    Returns
    -------
    dict
        Plain Python values (JSON-serialisable): ``kind``, ``source``,
        ``jobs`` (jobs that ran), ``gpu_jobs`` (those with GPUs),
        ``gpu_hours`` [GPU-h], ``period_start``/``period_end`` (ISO UTC) and
        ``period_hours`` [h], ``mean_concurrency`` and ``max_concurrency``
        (hour-averaged) [GPUs], ``peak_concurrency_instantaneous`` [GPUs],
        ``by_group`` and ``by_state`` (each ``{jobs, gpu_hours,
        mean_concurrency, max_concurrency}``; by_state has jobs and
        gpu_hours), ``pending_jobs``, ``unknown_time_jobs``, ``step_rows``,
        ``zero_length_jobs``, ``unknown_state_jobs``, ``unknown_states``,
        ``rows_read``, ``rejected_count``, ``rejected_rows`` (list of
        ``{line, column, reason}``), ``rejected_rows_truncated``,
        ``export_time`` and, for CodeCarbon logs, ``power_calibration``.

    Examples
    --------
    >>> import io
    >>> from planner.demand.readers import read_generic_csv
    >>> text = "start,end,gpus\n2024-01-01T00:00,2024-01-01T02:00,4\nbad,,1\n"
    >>> s = demand_summary(read_generic_csv(io.StringIO(text)))
    >>> s["jobs"], s["gpu_hours"], s["mean_concurrency"], s["rejected_rows"][0]["line"]
    (1, 8.0, 4.0, 3)
    """
    jobs = log.jobs
    hourly = hourly_concurrency_gpus(log)
    assert isinstance(hourly, pd.Series)
    by_group_hourly = hourly_concurrency_gpus(log, by_group=True)
    assert isinstance(by_group_hourly, pd.DataFrame)
    n_hours = len(hourly)
    by_group: dict[str, dict[str, float | int]] = {}
    group_stats = jobs.groupby(jobs["group"].astype(str), observed=True).agg(
        jobs=("gpus", "size"), gpu_hours=("gpu_hours", "sum")
    )
    for group, row in group_stats.iterrows():
        column = by_group_hourly.get(group)
        by_group[str(group)] = {
            "jobs": int(row["jobs"]),
            "gpu_hours": float(row["gpu_hours"]),
            "mean_concurrency": float(column.mean()) if column is not None else 0.0,
            "max_concurrency": float(column.max()) if column is not None else 0.0,
        }
    state_stats = jobs.groupby(jobs["state"].astype(str), observed=True).agg(
        jobs=("gpus", "size"), gpu_hours=("gpu_hours", "sum")
    )
    by_state = {
        str(state): {"jobs": int(row["jobs"]), "gpu_hours": float(row["gpu_hours"])}
        for state, row in state_stats.iterrows()
    }
    summary: dict[str, Any] = {
        "kind": log.kind,
        "source": log.source,
        "jobs": len(jobs),
        "gpu_jobs": int((jobs["gpus"] > 0).sum()),
        "gpu_hours": float(jobs["gpu_hours"].sum()),
        "period_start": hourly.index[0].isoformat() if n_hours else None,
        "period_end": (hourly.index[-1] + pd.Timedelta(hours=1)).isoformat()
        if n_hours
        else None,
        "period_hours": n_hours,
        "mean_concurrency": float(hourly.mean()) if n_hours else 0.0,
        "max_concurrency": float(hourly.max()) if n_hours else 0.0,
        "peak_concurrency_instantaneous": peak_concurrency_gpus(log),
        "by_group": by_group,
        "by_state": by_state,
        "pending_jobs": log.pending_jobs,
        "unknown_time_jobs": log.unknown_time_jobs,
        "step_rows": log.step_rows,
        "zero_length_jobs": log.zero_length_jobs,
        "unknown_state_jobs": log.unknown_state_jobs,
        "unknown_states": list(log.unknown_states),
        "rows_read": log.rows_read,
        "rejected_count": log.rejected_count,
        "rejected_rows": [
            {"line": r.line, "column": r.column, "reason": r.reason}
            for r in log.rejected
        ],
        "rejected_rows_truncated": log.rejected_rows_truncated,
        "export_time": None if log.export_time is None else log.export_time.isoformat(),
    }
    if log.power_calibration is not None:
        calibration = log.power_calibration.astype(object)
        summary["power_calibration"] = [
            {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in r.items()
            }
            for r in calibration.to_dict("records")
        ]
    return summary
