"""Job-log import (Slurm sacct, generic CSV, CodeCarbon) and workload generators.

The public facade of :mod:`planner.demand.readers` (reading logs),
:mod:`planner.demand.concurrency` (hourly concurrency, load-duration curve,
summary) and :mod:`planner.demand.workload` (generated workloads, the LISA
preset of Strubell et al. 2019): import from here.
"""

from planner.demand.concurrency import (
    demand_summary,
    hourly_concurrency_gpus,
    load_duration_curve_gpus,
    peak_concurrency_gpus,
)
from planner.demand.readers import (
    EARLIEST_PLAUSIBLE_TIME,
    JOB_COLUMNS,
    LATEST_PLAUSIBLE_TIME,
    MAX_GPUS_PER_JOB,
    MAX_REJECTED_LISTED,
    JobLog,
    LogKind,
    RejectedRow,
    Source,
    power_calibration_table,
    read_codecarbon,
    read_generic_csv,
    read_log,
    read_sacct,
)
from planner.demand.workload import (
    LISA_GPU_HOURS,
    LISA_GRID_SEARCHES,
    LISA_JOB_COUNT,
    LISA_MAX_JOB_HOURS,
    LISA_MIN_JOB_HOURS,
    LISA_PRESET,
    LISA_SPAN_DAYS,
    DeadlineSurge,
    WorkloadSpec,
    generate_workload,
    lisa_workload_spec,
)

__all__ = [
    "EARLIEST_PLAUSIBLE_TIME",
    "JOB_COLUMNS",
    "LATEST_PLAUSIBLE_TIME",
    "LISA_GPU_HOURS",
    "LISA_GRID_SEARCHES",
    "LISA_JOB_COUNT",
    "LISA_MAX_JOB_HOURS",
    "LISA_MIN_JOB_HOURS",
    "LISA_PRESET",
    "LISA_SPAN_DAYS",
    "MAX_GPUS_PER_JOB",
    "MAX_REJECTED_LISTED",
    "DeadlineSurge",
    "JobLog",
    "LogKind",
    "RejectedRow",
    "Source",
    "WorkloadSpec",
    "demand_summary",
    "generate_workload",
    "hourly_concurrency_gpus",
    "lisa_workload_spec",
    "load_duration_curve_gpus",
    "peak_concurrency_gpus",
    "power_calibration_table",
    "read_codecarbon",
    "read_generic_csv",
    "read_log",
    "read_sacct",
]
