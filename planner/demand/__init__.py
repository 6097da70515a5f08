"""Demand: annual amounts and hourly shapes, job logs, concurrency and workloads.

The package has one module per concept:

* :mod:`planner.demand.profile`: reference accelerator-hours per year, the
  hourly shape and load-duration blocks (re-exported here, so
  ``from planner import demand; demand.hourly_shape(...)`` works);
* :mod:`planner.demand.readers`: job-log readers (Slurm sacct, generic CSV,
  CodeCarbon) into a :class:`~planner.demand.readers.JobLog`;
* :mod:`planner.demand.concurrency`: hourly concurrency, load-duration curve
  and the import summary of a log;
* :mod:`planner.demand.workload`: synthetic job logs (the LISA preset).

:mod:`planner.joblog` is the public facade of the last three.
"""

from planner.demand.profile import (
    HOURS_IN_YEAR,
    FloatArray,
    annual_reference_hours,
    duration_blocks,
    hourly_demand,
    hourly_shape,
    level_exceeded,
    load_duration_curve,
    shape_from_hourly,
)

__all__ = [
    "HOURS_IN_YEAR",
    "FloatArray",
    "annual_reference_hours",
    "duration_blocks",
    "hourly_demand",
    "hourly_shape",
    "level_exceeded",
    "load_duration_curve",
    "shape_from_hourly",
]
