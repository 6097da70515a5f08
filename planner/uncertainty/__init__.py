"""How sure the answer is: uncertain inputs, Monte Carlo, sensitivity, robust plans.

* :mod:`~planner.uncertainty.distributions` and :mod:`~planner.uncertainty.spec`:
  distributions on scenario fields (by path) and cross-cutting factors, the
  seed, the sampler and correlations (:class:`UncertaintySpec`); the sourced
  default (:func:`default_uncertainty`, ``examples/uncertainty.yaml``);
* :mod:`~planner.uncertainty.sampling`: Latin hypercube or Sobol' points, a
  Gaussian copula, the marginals' quantiles;
* :mod:`~planner.uncertainty.engine`: the plan frozen, a draw written into the
  scenario, the engine run draw by draw (the reference);
* :mod:`~planner.uncertainty.batched`: the same numbers for every draw at once;
* :mod:`~planner.uncertainty.analysis`: :func:`monte_carlo` (P10/P50/P90,
  P(cheapest), expected regret, break-even distributions, tornado, Sobol');
* :mod:`~planner.uncertainty.robust`: :func:`robust_plan`, the two-stage
  stochastic fleet plan with its VSS and EVPI;
* :mod:`~planner.uncertainty.sweep`: sweeps on local processes or Dask.

The app's page calls :func:`monte_carlo` with ``progress=``, a callable taking
the share done (0 to 1) and the stage's name.
"""

from planner.uncertainty.analysis import (
    UncertaintyResult,
    fan_table,
    headline,
    monte_carlo,
    strategy_table,
    tornado_table,
)
from planner.uncertainty.robust import RobustPlan, robust_plan
from planner.uncertainty.spec import (
    FACTORS,
    UncertaintyError,
    UncertaintySpec,
    default_uncertainty,
    load_uncertainty,
    uncertainty_from_dict,
    uncertainty_to_yaml,
)
from planner.uncertainty.sweep import SCHEDULER_ENV, SweepError, run_sweep

__all__ = [
    "FACTORS",
    "SCHEDULER_ENV",
    "RobustPlan",
    "SweepError",
    "UncertaintyError",
    "UncertaintyResult",
    "UncertaintySpec",
    "default_uncertainty",
    "fan_table",
    "headline",
    "load_uncertainty",
    "monte_carlo",
    "robust_plan",
    "run_sweep",
    "strategy_table",
    "tornado_table",
    "uncertainty_from_dict",
    "uncertainty_to_yaml",
]
