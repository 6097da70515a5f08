"""Draws of the uncertain inputs: a space-filling design, a Gaussian copula, marginals.

1. Points in the unit cube from :mod:`scipy.stats.qmc`: a Latin hypercube
   (McKay et al. 1979 [1]_), a scrambled Sobol' sequence (power-of-two sizes keep
   its balance) or independent uniforms, all from one seed.
2. Correlation through a Gaussian copula (docs/methods.md §8.1): each
   coordinate's normal score ``z = Phi^-1(u)``, correlated by a square root of
   the correlation matrix (eigen-decomposition, so a semi-definite matrix works),
   then back to ``u = Phi(z)``. Stratification survives only coordinate by
   coordinate once inputs are correlated.
3. Each input's marginal quantile function (``ppf``).

The same spec, number of draws and seed give the same draws, bit for bit.

References
----------
.. [1] M. D. McKay, R. J. Beckman, and W. J. Conover, "A comparison of three
   methods for selecting values of input variables in the analysis of output
   from a computer code," Technometrics, vol. 21, no. 2, pp. 239-245, 1979,
   doi:10.1080/00401706.1979.10489755.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special
from scipy.stats import qmc

from planner.uncertainty.spec import (
    UncertaintyError,
    UncertaintySpec,
    correlation_matrix,
)

FloatArray = npt.NDArray[np.float64]

UNIT_CLIP = 1e-12
"""Unit-cube coordinates are kept this far inside (0, 1), so normal scores and
unbounded quantiles stay finite. [-]"""

MAX_DRAWS = 10_000_000
"""Most draws of one run. [-]"""


def unit_draws(
    spec: UncertaintySpec, draws: int, *, seed: int | None = None
) -> FloatArray:
    """Points in the unit cube from the spec's design, before the copula.

    Parameters
    ----------
    spec : UncertaintySpec
        Sampler and number of inputs.
    draws : int
        Number of points (a power of two for Sobol').
    seed : int, optional
        Overrides the spec's seed.

    Returns
    -------
    numpy.ndarray of shape (draws, inputs)
        Coordinates in (0, 1). [-]

    Raises
    ------
    UncertaintyError
        If ``draws`` is not positive, too large, or not a power of two for Sobol'.
    """
    if not 1 <= draws <= MAX_DRAWS:
        msg = f"draws must be from 1 to {MAX_DRAWS:,}, got {draws}"
        raise UncertaintyError([msg])
    rng = np.random.default_rng(spec.seed if seed is None else seed)
    d = len(spec.inputs)
    if spec.sampling == "lhs":
        points = qmc.LatinHypercube(d=d, rng=rng).random(draws)
    elif spec.sampling == "sobol":
        m = round(float(np.log2(draws)))
        if 2**m != draws:
            msg = (
                f"sobol sampling needs a power of two draws to stay balanced, got "
                f"{draws} (use {2 ** max(m, 0)} or {2 ** (m + 1)})"
            )
            raise UncertaintyError([msg])
        points = qmc.Sobol(d=d, scramble=True, rng=rng).random_base2(m)
    else:
        points = rng.random((draws, d))
    out: FloatArray = np.clip(
        np.asarray(points, dtype=float), UNIT_CLIP, 1.0 - UNIT_CLIP
    )
    return out


def copula(spec: UncertaintySpec, unit: FloatArray) -> FloatArray:
    """Correlate unit-cube points through a Gaussian copula.

    Parameters
    ----------
    spec : UncertaintySpec
        Its correlations.
    unit : numpy.ndarray of shape (draws, inputs)
        Independent coordinates in (0, 1). [-]

    Returns
    -------
    numpy.ndarray of shape (draws, inputs)
        Coordinates in (0, 1) whose normal scores have the spec's correlation. [-]

    Examples
    --------
    >>> from planner.uncertainty.spec import UncertaintySpec
    >>> spec = UncertaintySpec.model_validate({
    ...     "inputs": [
    ...         {"path": "a", "distribution": {"kind": "uniform", "low": 0, "high": 1}},
    ...         {"path": "b", "distribution": {"kind": "uniform", "low": 0, "high": 1}},
    ...     ],
    ...     "correlations": [{"between": ["a", "b"], "rho": 0.8}],
    ... })
    >>> u = unit_draws(spec, 4096)
    >>> z = special.ndtri(copula(spec, u))
    >>> round(float(np.corrcoef(z.T)[0, 1]), 1)
    0.8
    """
    if not spec.correlations:
        return unit
    matrix = correlation_matrix(spec)
    values, vectors = np.linalg.eigh(matrix)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    scores = special.ndtri(unit) @ root.T
    out: FloatArray = np.clip(special.ndtr(scores), UNIT_CLIP, 1.0 - UNIT_CLIP)
    return out


def to_values(spec: UncertaintySpec, unit: FloatArray) -> FloatArray:
    """Map unit-cube coordinates to input values through each marginal's quantile.

    Parameters
    ----------
    spec : UncertaintySpec
        The marginals.
    unit : numpy.ndarray of shape (draws, inputs)
        Coordinates in (0, 1). [-]

    Returns
    -------
    numpy.ndarray of shape (draws, inputs)
        Values in each input's unit.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    out = np.empty_like(unit)

    def column(j: int) -> None:
        out[:, j] = spec.inputs[j].distribution.marginal().ppf(unit[:, j])

    # scipy's quantile functions release the GIL (the PERT's inverse beta is the
    # slow one): columns run on threads, each writing its own column.
    workers = max(1, min(len(spec.inputs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(column, range(len(spec.inputs))))
    return out


def sample_values(
    spec: UncertaintySpec, draws: int, *, seed: int | None = None
) -> FloatArray:
    """Draws of every uncertain input (design, copula, marginals).

    Parameters
    ----------
    spec : UncertaintySpec
        Inputs, correlations, sampler and seed.
    draws : int
        Number of draws.
    seed : int, optional
        Overrides the spec's seed.

    Returns
    -------
    numpy.ndarray of shape (draws, inputs)
        One row per draw, one column per input, in the inputs' units.

    Examples
    --------
    >>> from planner.uncertainty.spec import UncertaintySpec
    >>> spec = UncertaintySpec.model_validate({"inputs": [{"path": "x",
    ...     "distribution": {"kind": "triangular", "low": 0, "mode": 1, "high": 2}}]})
    >>> values = sample_values(spec, 1000)
    >>> bool(values.min() >= 0 and values.max() <= 2), values.shape
    (True, (1000, 1))
    """
    return to_values(spec, copula(spec, unit_draws(spec, draws, seed=seed)))


def medians(spec: UncertaintySpec) -> FloatArray:
    """Each input's median (the tornado's base point).

    Parameters
    ----------
    spec : UncertaintySpec
        The marginals.

    Returns
    -------
    numpy.ndarray of shape (inputs,)
        Medians in each input's unit.
    """
    return quantiles(spec, 0.5)


def quantiles(spec: UncertaintySpec, probability: float) -> FloatArray:
    """Each input's quantile at one probability.

    Parameters
    ----------
    spec : UncertaintySpec
        The marginals.
    probability : float
        In (0, 1). [-]

    Returns
    -------
    numpy.ndarray of shape (inputs,)
        Quantiles in each input's unit.
    """
    return np.array(
        [float(item.distribution.marginal().ppf(probability)) for item in spec.inputs]
    )
