"""Demand in the units people use: busy GPUs or GPU-hours of one accelerator.

A department head thinks in "25 busy GPUs" or "200,000 GPU-hours a year" of the
accelerator they would buy; scenarios count work in hours of the reference
accelerator (:data:`planner.defaults.REFERENCE_ACCELERATOR`). These functions
convert between the two with the catalog's relative throughput, as
:func:`planner.quick.quick_scenario` does, so a form can switch units without
changing the work it describes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from planner import defaults
from pricing.catalog import Catalog
from pricing.units import HOURS_PER_YEAR

DemandKind = Literal["busy_gpus", "gpu_hours"]
"""Average busy accelerators, or accelerator-hours per year."""


def convert_demand(value: float, from_kind: DemandKind, to_kind: DemandKind) -> float:
    """The same demand in another unit (busy accelerators or hours a year).

    Parameters
    ----------
    value : float
        Demand in ``from_kind``. [accelerators or accelerator-h/year]
    from_kind, to_kind : {"busy_gpus", "gpu_hours"}
        Units.

    Returns
    -------
    float
        Demand in ``to_kind``. [accelerators or accelerator-h/year]

    Examples
    --------
    >>> convert_demand(25.0, "busy_gpus", "gpu_hours")
    219000.0
    >>> convert_demand(219000.0, "gpu_hours", "busy_gpus")
    25.0
    """
    if from_kind == to_kind:
        return float(value)
    if from_kind == "busy_gpus":
        return float(value) * HOURS_PER_YEAR
    return float(value) / HOURS_PER_YEAR


def relative_throughput(
    accelerator_model: str,
    *,
    reference: str = defaults.REFERENCE_ACCELERATOR,
    catalog: Catalog | None = None,
) -> float:
    """Work of one hour of an accelerator in hours of the reference accelerator.

    Examples
    --------
    >>> relative_throughput("A100-80GB-SXM4")
    1.0
    """
    catalog = catalog or Catalog()
    return float(catalog.accelerator(accelerator_model)["relative_throughput"]) / float(
        catalog.accelerator(reference)["relative_throughput"]
    )


def server_accelerator(server: str, catalog: Catalog | None = None) -> str:
    """Accelerator model of a catalog server.

    Examples
    --------
    >>> server_accelerator("8xH100-SXM")
    'H100-80GB-SXM5'
    """
    return str((catalog or Catalog()).server(server)["accelerator_model"])


def reference_hours_per_year(
    value: float,
    kind: DemandKind,
    accelerator_model: str,
    *,
    reference: str = defaults.REFERENCE_ACCELERATOR,
    catalog: Catalog | None = None,
) -> float:
    """Demand in GPUs of one type as reference accelerator-hours a year.

    Parameters
    ----------
    value : float
        Busy accelerators [accelerators] or accelerator-hours a year
        [accelerator-h/year] of ``accelerator_model``.
    kind : {"busy_gpus", "gpu_hours"}
        Unit of ``value``.
    accelerator_model : str
        Accelerators catalog key.
    reference : str
        Reference accelerator.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    float
        Work a year. [reference accelerator-h/year]

    Examples
    --------
    >>> reference_hours_per_year(1.0, "busy_gpus", "A100-80GB-SXM4")
    8760.0
    """
    hours = convert_demand(value, kind, "gpu_hours")
    return hours * relative_throughput(
        accelerator_model, reference=reference, catalog=catalog
    )


def gpus_from_reference_hours(
    reference_hours: float,
    kind: DemandKind,
    accelerator_model: str,
    *,
    reference: str = defaults.REFERENCE_ACCELERATOR,
    catalog: Catalog | None = None,
) -> float:
    """Reference accelerator-hours a year as GPUs of one type (the inverse).

    Examples
    --------
    >>> gpus_from_reference_hours(8760.0, "busy_gpus", "A100-80GB-SXM4")
    1.0
    """
    hours = reference_hours / relative_throughput(
        accelerator_model, reference=reference, catalog=catalog
    )
    return convert_demand(hours, "gpu_hours", kind)


MAX_PEAK_TO_MEAN = 10.0
"""Largest peak-to-mean ratio the quick comparison accepts (QuickCompare). [-]"""


def quick_demand_from_log(summary: Mapping[str, object]) -> dict[str, float | str]:
    """Quick-compare demand fields from a job log's summary.

    Parameters
    ----------
    summary : mapping
        :func:`planner.joblog.demand_summary` of a log: ``mean_concurrency``
        and ``max_concurrency`` [busy GPUs].

    Returns
    -------
    dict
        ``demand_kind`` ("busy_gpus"), ``demand_value`` (the mean busy GPUs)
        and ``peak_to_mean`` (hourly peak over mean, from 1 to
        :data:`MAX_PEAK_TO_MEAN`).

    Examples
    --------
    >>> quick_demand_from_log({"mean_concurrency": 20.0, "max_concurrency": 50.0})
    {'demand_kind': 'busy_gpus', 'demand_value': 20.0, 'peak_to_mean': 2.5}
    """
    mean = float(summary["mean_concurrency"])  # type: ignore[arg-type]
    peak = float(summary["max_concurrency"])  # type: ignore[arg-type]
    ratio = peak / mean if mean > 0 else 1.0
    return {
        "demand_kind": "busy_gpus",
        "demand_value": mean,
        "peak_to_mean": min(max(ratio, 1.0), MAX_PEAK_TO_MEAN),
    }


def load_duration_table(curve: Sequence[float]) -> pd.DataFrame:
    """A load-duration curve as a table for a chart: share of hours and level.

    Parameters
    ----------
    curve : sequence of float
        Busy GPUs of each hour, sorted from the busiest
        (:func:`planner.joblog.load_duration_curve_gpus`). [GPUs]

    Returns
    -------
    pandas.DataFrame
        ``share_of_hours`` (the k-th busiest hour is at k / n) [0-1] and
        ``busy_gpus`` [GPUs].

    Examples
    --------
    >>> load_duration_table([4.0, 2.0]).to_dict("list")
    {'share_of_hours': [0.5, 1.0], 'busy_gpus': [4.0, 2.0]}
    """
    values = np.asarray(curve, dtype=float)
    shares = np.arange(1, len(values) + 1) / max(len(values), 1)
    return pd.DataFrame({"share_of_hours": shares, "busy_gpus": values})


WAIT_CURVE_POINTS = 12
"""Cluster sizes a wait curve is simulated at (one queue simulation each). [-]"""


def wait_curve_sizes(
    largest_job_gpus: int, mean_busy_gpus: float, span: float
) -> tuple[int, ...]:
    """Cluster sizes for a wait curve: from the demand up to ``span`` times it.

    Parameters
    ----------
    largest_job_gpus : int
        GPUs of the largest job (a smaller cluster never runs it). [GPUs]
    mean_busy_gpus : float
        Mean busy GPUs of the log. [GPUs]
    span : float
        Largest size as a multiple of the mean. [-]

    Returns
    -------
    tuple of int
        About :data:`WAIT_CURVE_POINTS` evenly spaced sizes. [GPUs]

    Examples
    --------
    >>> wait_curve_sizes(8, 58.1, 2.2)[:3], wait_curve_sizes(8, 58.1, 2.2)[-1]
    ((58, 63, 68), 123)
    """
    low = max(int(largest_job_gpus), int(mean_busy_gpus))
    high = max(low + 1, int(mean_busy_gpus * span))
    step = max(1, (high - low) // WAIT_CURVE_POINTS)
    return tuple(range(low, high + 1, step))
