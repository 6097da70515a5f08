"""Probability distributions of uncertain inputs, as validated models over scipy.stats.

Each model names its parameters in the input's own unit and returns a frozen
:mod:`scipy.stats` distribution (:meth:`marginal`), whose ``ppf`` maps the unit
cube of the sampler to the input (inverse-transform sampling, docs/methods.md
§8.1). PERT is the beta distribution rescaled to ``[low, high]`` with shape
``lambda = 4`` (Vose 2008 [1]_); a normal may be truncated to a range.

References
----------
.. [1] D. Vose, *Risk Analysis: A Quantitative Guide*, 3rd ed. Chichester, UK:
   Wiley, 2008, section 9.1.1 (PERT), ISBN 978-0-470-51284-5.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator
from scipy import stats

from planner.scenario import Frozen

FloatArray = npt.NDArray[np.float64]

PERT_SHAPE = 4.0
"""Weight of the mode in a PERT distribution (the classical value, Vose 2008). [-]"""


class Marginal(Protocol):
    """What the sampler needs of a distribution: its quantile function and CDF."""

    def ppf(self, q: Any) -> Any:  # pragma: no cover - protocol
        """Quantile of each probability in ``q``."""

    def cdf(self, x: Any) -> Any:  # pragma: no cover - protocol
        """Probability of a value at most ``x``."""


def _ordered(low: float, high: float, what: str) -> None:
    if not math.isfinite(low) or not math.isfinite(high):
        msg = f"{what}: low and high must be finite numbers"
        raise ValueError(msg)
    if low > high:
        msg = f"{what}: low ({low:g}) is above high ({high:g})"
        raise ValueError(msg)
    if low == high:
        msg = f"{what}: low and high are both {low:g}; give a range, or no distribution"
        raise ValueError(msg)


class Uniform(Frozen):
    """Every value between ``low`` and ``high`` equally likely."""

    kind: Literal["uniform"] = "uniform"
    low: float = Field(description="Smallest value. [input's unit]")
    high: float = Field(description="Largest value. [input's unit]")

    @model_validator(mode="after")
    def _range(self) -> Uniform:
        _ordered(self.low, self.high, "uniform")
        return self

    def marginal(self) -> Marginal:
        """Return the frozen scipy distribution."""
        return stats.uniform(loc=self.low, scale=self.high - self.low)


class Triangular(Frozen):
    """Linear rise from ``low`` to ``mode`` and fall to ``high``."""

    kind: Literal["triangular"] = "triangular"
    low: float = Field(description="Smallest value. [input's unit]")
    mode: float = Field(description="Most likely value. [input's unit]")
    high: float = Field(description="Largest value. [input's unit]")

    @model_validator(mode="after")
    def _range(self) -> Triangular:
        _ordered(self.low, self.high, "triangular")
        if not self.low <= self.mode <= self.high:
            msg = (
                f"triangular: mode ({self.mode:g}) must lie between low "
                f"({self.low:g}) and high ({self.high:g})"
            )
            raise ValueError(msg)
        return self

    def marginal(self) -> Marginal:
        """Return the frozen scipy distribution."""
        width = self.high - self.low
        return stats.triang(c=(self.mode - self.low) / width, loc=self.low, scale=width)


class Pert(Frozen):
    """PERT: a beta distribution on ``[low, high]`` peaking at ``mode`` [1]_."""

    kind: Literal["pert"] = "pert"
    low: float = Field(description="Smallest value. [input's unit]")
    mode: float = Field(description="Most likely value. [input's unit]")
    high: float = Field(description="Largest value. [input's unit]")
    shape: float = Field(
        PERT_SHAPE, gt=0.0, le=100.0, description="Weight of the mode (4: PERT). [-]"
    )

    @model_validator(mode="after")
    def _range(self) -> Pert:
        _ordered(self.low, self.high, "pert")
        if not self.low <= self.mode <= self.high:
            msg = (
                f"pert: mode ({self.mode:g}) must lie between low ({self.low:g}) "
                f"and high ({self.high:g})"
            )
            raise ValueError(msg)
        return self

    def marginal(self) -> Marginal:
        r"""Return the frozen scipy distribution.

        .. math:: \alpha = 1 + \lambda \frac{m - a}{b - a},\quad
                  \beta = 1 + \lambda \frac{b - m}{b - a}
        """
        width = self.high - self.low
        alpha = 1.0 + self.shape * (self.mode - self.low) / width
        beta = 1.0 + self.shape * (self.high - self.mode) / width
        return stats.beta(alpha, beta, loc=self.low, scale=width)


class Normal(Frozen):
    """Normal (Gaussian), optionally truncated to ``[low, high]``."""

    kind: Literal["normal"] = "normal"
    mean: float = Field(description="Mean before truncation. [input's unit]")
    sd: float = Field(gt=0.0, description="Standard deviation. [input's unit]")
    low: float | None = Field(None, description="Truncate below. [input's unit]")
    high: float | None = Field(None, description="Truncate above. [input's unit]")

    @model_validator(mode="after")
    def _range(self) -> Normal:
        if self.low is not None and self.high is not None:
            _ordered(self.low, self.high, "normal")
        return self

    def marginal(self) -> Marginal:
        """Return the frozen scipy distribution (truncnorm when truncated)."""
        if self.low is None and self.high is None:
            return stats.norm(loc=self.mean, scale=self.sd)
        a = -np.inf if self.low is None else (self.low - self.mean) / self.sd
        b = np.inf if self.high is None else (self.high - self.mean) / self.sd
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sd)


class LogNormal(Frozen):
    """Log-normal: ``log(x)`` is normal with median ``median`` and sigma ``sigma``."""

    kind: Literal["lognormal"] = "lognormal"
    median: float = Field(gt=0.0, description="Median. [input's unit]")
    sigma: float = Field(
        gt=0.0, le=5.0, description="Standard deviation of log(x). [-]"
    )

    def marginal(self) -> Marginal:
        """Return the frozen scipy distribution."""
        return stats.lognorm(s=self.sigma, scale=self.median)


class Bernoulli(Frozen):
    """A switch: 1 with probability ``p``, else 0."""

    kind: Literal["bernoulli"] = "bernoulli"
    p: float = Field(ge=0.0, le=1.0, description="Probability of 1. [0-1]")

    def marginal(self) -> Marginal:
        """Return the frozen scipy distribution."""
        return stats.bernoulli(self.p)


class IntegerUniform(Frozen):
    """Every whole number from ``low`` to ``high`` (both included) equally likely."""

    kind: Literal["integer"] = "integer"
    low: int = Field(description="Smallest value. [input's unit]")
    high: int = Field(description="Largest value. [input's unit]")

    @model_validator(mode="after")
    def _range(self) -> IntegerUniform:
        _ordered(float(self.low), float(self.high), "integer")
        return self

    def marginal(self) -> Marginal:
        """Return the frozen scipy distribution."""
        return stats.randint(self.low, self.high + 1)


Distribution = Annotated[
    Uniform | Triangular | Pert | Normal | LogNormal | Bernoulli | IntegerUniform,
    Field(discriminator="kind"),
]
"""One of the supported distributions, chosen by ``kind``."""

DISCRETE_KINDS = ("bernoulli", "integer")
"""Kinds whose values are whole numbers. [-]"""

EXTREME_QUANTILE = 1e-9
"""Quantile at which an unbounded distribution's reach is checked against the
field it feeds (a draw beyond it is a one-in-a-billion event). [-]"""


def support(
    distribution: Uniform
    | Triangular
    | Pert
    | Normal
    | LogNormal
    | Bernoulli
    | IntegerUniform,
) -> tuple[float, float]:
    """The smallest and largest value a distribution can be sampled at.

    For unbounded distributions, the :data:`EXTREME_QUANTILE` quantiles.

    Parameters
    ----------
    distribution : Distribution
        The distribution.

    Returns
    -------
    (float, float)
        Lowest and highest reachable value. [input's unit]

    Examples
    --------
    >>> support(Uniform(low=1.0, high=2.0))
    (1.0, 2.0)
    >>> low, high = support(LogNormal(median=1.0, sigma=0.1))
    >>> 0 < low < 1 < high
    True
    """
    marginal = distribution.marginal()
    low = float(marginal.ppf(EXTREME_QUANTILE))
    high = float(marginal.ppf(1.0 - EXTREME_QUANTILE))
    if isinstance(distribution, Uniform | Triangular | Pert | IntegerUniform):
        return float(distribution.low), float(distribution.high)
    if isinstance(distribution, Bernoulli):
        return (0.0 if distribution.p < 1 else 1.0), (1.0 if distribution.p else 0.0)
    return low, high
