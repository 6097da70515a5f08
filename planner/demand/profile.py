"""Demand profiles: annual reference accelerator-hours, growth and hourly shape.

Demand is measured in *reference accelerator-hours* (hours of the scenario's
reference accelerator) so that generations compare fairly; an accelerator with
relative throughput 2 does a reference hour's work in half an hour. Within a year,
demand has an hourly shape (mean 1); sorted in descending order it is the
load-duration curve (LDC) of power-system planning, which decides how much a given
owned capacity serves (screening-curve method, methods notes section 1).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import optimize

from planner.scenario import DemandShape
from pricing.units import HOURS_PER_YEAR

FloatArray = npt.NDArray[np.float64]

HOURS_IN_YEAR = int(HOURS_PER_YEAR)
"""Hours of the planning year (8,760). [h]"""

FLAT_PEAK_TO_MEAN_TOLERANCE = 1e-9
"""A requested peak-to-mean within this of 1 gives the flat shape: closer
ratios are below what the power transform resolves in double precision. [-]"""

_SMALLEST_EXPONENT = 1e-15
"""Smallest power-transform exponent tried (the bracket's lower end). [-]"""

_JAN1_WEEKDAY = 0
"""Day of the week of day 0 (0 = Monday); the shape is calendar-agnostic. [-]"""


def _raw_shape(shape: DemandShape, hours: int) -> FloatArray:
    rng = np.random.default_rng(shape.seed)
    hour = np.arange(hours)
    day = hour // 24
    weekday = (day + _JAN1_WEEKDAY) % 7
    weekly = np.where(weekday >= 5, shape.weekend_factor, 1.0)
    # Peak mid-afternoon, trough before dawn: a cosine over the day.
    diurnal = 1.0 + shape.diurnal_amplitude * np.cos(
        2 * np.pi * ((hour % 24) - 15) / 24
    )
    # Smooth noise: daily log-normal factors, so bursts last a day, not an hour.
    daily_noise = rng.lognormal(0.0, shape.noise, size=day.max() + 1)[day]
    surges = np.ones(hours)
    for surge in shape.deadline_surges:
        start = surge.start_day * 24
        stop = min(hours, start + surge.duration_days * 24)
        # Ramp up to the deadline: demand grows towards the surge's end.
        ramp = np.linspace(1.0, surge.multiplier, max(stop - start, 1))
        surges[start:stop] = np.maximum(surges[start:stop], ramp[: stop - start])
    raw: FloatArray = weekly * np.clip(diurnal, 0.0, None) * daily_noise * surges
    normalised: FloatArray = raw / raw.mean()
    return normalised


def _peak_to_mean(values: FloatArray) -> float:
    return float(values.max() / values.mean())


def hourly_shape(shape: DemandShape, *, hours: int = HOURS_IN_YEAR) -> FloatArray:
    r"""Hourly demand relative to the mean hour (mean exactly 1).

    The synthetic shape multiplies a weekly pattern, a diurnal cosine, day-level
    log-normal noise and ramps before conference deadlines, then is sharpened or
    flattened by a power transform :math:`s^\gamma` (renormalised) until its
    peak-to-mean ratio equals the requested one (Brent's method on
    :math:`\gamma`).

    Parameters
    ----------
    shape : DemandShape
        Shape parameters; ``kind="flat"`` gives a constant profile.
    hours : int, default 8760
        Length of the profile. [h]

    Returns
    -------
    numpy.ndarray of shape (hours,)
        Relative demand, mean 1. [-]

    Raises
    ------
    ValueError
        If the requested peak-to-mean cannot be reached by the transform.

    Examples
    --------
    >>> from planner.scenario import DemandShape
    >>> profile = hourly_shape(DemandShape(peak_to_mean=3.0))
    >>> ratio = profile.max() / profile.mean()
    >>> float(profile.mean().round(12)), float(ratio.round(6))
    (1.0, 3.0)
    >>> nearly_flat = hourly_shape(DemandShape(peak_to_mean=1.0000001))
    >>> float((nearly_flat.max() / nearly_flat.mean()).round(10))
    1.0000001
    """
    if shape.kind == "flat" or shape.peak_to_mean - 1.0 < FLAT_PEAK_TO_MEAN_TOLERANCE:
        return np.ones(hours)
    raw = _raw_shape(shape, hours)
    if _peak_to_mean(raw) == 1.0:
        msg = "the synthetic shape is flat; use kind='flat' or add variation"
        raise ValueError(msg)

    def transformed(gamma: float) -> FloatArray:
        values: FloatArray = raw**gamma
        normalised: FloatArray = values / values.mean()
        return normalised

    def excess(gamma: float) -> float:
        return _peak_to_mean(transformed(gamma)) - shape.peak_to_mean

    # A ratio just above 1 needs a tiny exponent: move the lower end of the
    # bracket down until the shape there is flatter than asked.
    low, high = 1e-6, 1.0
    while excess(low) >= 0 and low > _SMALLEST_EXPONENT:
        low /= 1e3
    if excess(low) >= 0:
        # Hours of zero demand (a weekend factor of 0) stay zero under any
        # exponent, so the shape cannot be flattened below this ratio.
        msg = (
            f"peak_to_mean {shape.peak_to_mean} is below what this shape can reach "
            f"(at least {_peak_to_mean(transformed(low)):.4g}: its zero-demand hours "
            "stay at zero); raise it or the weekend_factor"
        )
        raise ValueError(msg)
    while excess(high) < 0:
        high *= 2.0
        if high > 1e3:
            msg = (
                f"peak_to_mean {shape.peak_to_mean} is out of reach of this shape "
                f"(at most {_peak_to_mean(transformed(high / 2)):.1f})"
            )
            raise ValueError(msg)
    gamma = optimize.brentq(excess, low, high, xtol=1e-12, rtol=1e-12)
    return transformed(gamma)


def annual_reference_hours(
    first_year_hours: float, growth_per_year: float, horizon_years: int
) -> FloatArray:
    """Reference accelerator-hours needed in each running year 1..N.

    Parameters
    ----------
    first_year_hours : float
        Demand of the first running year. [reference accelerator-h/year]
    growth_per_year : float
        Relative change each year, above -1. [1/year]
    horizon_years : int
        Number of running years. [years]

    Returns
    -------
    numpy.ndarray of shape (horizon_years,)
        Demand per year, growing geometrically. [reference accelerator-h/year]

    Examples
    --------
    >>> annual_reference_hours(100.0, 0.1, 3).round(6).tolist()
    [100.0, 110.0, 121.0]
    """
    growth = (1.0 + growth_per_year) ** np.arange(horizon_years, dtype=float)
    hours: FloatArray = first_year_hours * growth
    return hours


def shape_from_hourly(hourly: FloatArray, *, hours: int = HOURS_IN_YEAR) -> FloatArray:
    """A year's relative shape (mean 1) from a measured hourly series.

    A series shorter than a year is repeated (a 172-day project becomes a year
    of such projects); a longer one keeps its first year. The shape keeps the
    measured peaks, weekly rhythm and deadline surges of the log.

    Parameters
    ----------
    hourly : numpy.ndarray
        Busy accelerators in each hour of the log. [accelerators]
    hours : int, default 8760
        Length of the shape. [h]

    Returns
    -------
    numpy.ndarray of shape (hours,)
        Relative demand, mean exactly 1. [-]

    Raises
    ------
    ValueError
        If the series is empty or carries no demand.

    Examples
    --------
    >>> shape_from_hourly(np.array([1.0, 3.0]), hours=4).tolist()
    [0.5, 1.5, 0.5, 1.5]
    """
    values = np.asarray(hourly, dtype=float)
    if values.size == 0 or not np.isfinite(values).all() or values.sum() <= 0:
        msg = "the job log has no GPU demand to shape a year from"
        raise ValueError(msg)
    repeats = -(-hours // values.size)
    year = np.tile(values, repeats)[:hours]
    if year.sum() <= 0:
        msg = "the first year of the job log has no GPU demand"
        raise ValueError(msg)
    shape: FloatArray = year / year.mean()
    return shape


def hourly_demand(annual_hours: FloatArray, profile: FloatArray) -> FloatArray:
    """Concurrent reference accelerators busy in each hour of each year.

    Parameters
    ----------
    annual_hours : numpy.ndarray of shape (years,)
        Demand per year. [reference accelerator-h/year]
    profile : numpy.ndarray of shape (hours,)
        Relative hourly demand, mean 1. [-]

    Returns
    -------
    numpy.ndarray of shape (years, hours)
        Busy reference accelerators; each row sums to that year's hours times
        ``hours / 8760``. [reference accelerators]

    Examples
    --------
    >>> import numpy as np
    >>> float(hourly_demand(np.array([8760.0]), np.ones(8760)).max())
    1.0
    """
    return np.outer(annual_hours / HOURS_PER_YEAR, profile)


def load_duration_curve(hourly: FloatArray) -> FloatArray:
    """Hourly demand sorted from the busiest hour down (the LDC).

    Parameters
    ----------
    hourly : numpy.ndarray
        Hourly demand along the last axis. [reference accelerators]

    Returns
    -------
    numpy.ndarray
        Same shape, sorted descending along the last axis. [reference accelerators]

    Examples
    --------
    >>> load_duration_curve(np.array([1.0, 3.0, 2.0])).tolist()
    [3.0, 2.0, 1.0]
    """
    ordered: FloatArray = -np.sort(-np.asarray(hourly, dtype=float), axis=-1)
    return ordered


def level_exceeded(hourly: FloatArray, share_of_hours: float) -> float:
    """Demand level exceeded in a given share of the hours (an LDC quantile).

    The screening-curve method sizes a technology at the load exceeded for its
    break-even share of the year (docs/methods.md §1.3): e.g. a commitment with a
    40 % discount is worth it for capacity busy more than 60 % of the hours.

    Parameters
    ----------
    hourly : numpy.ndarray of shape (hours,)
        Hourly demand. [reference accelerators]
    share_of_hours : float
        Share of the hours in which the level is exceeded, 0 to 1. [-]

    Returns
    -------
    float
        Demand level. [reference accelerators]

    Raises
    ------
    ValueError
        If ``share_of_hours`` is outside [0, 1].

    Examples
    --------
    >>> round(level_exceeded(np.arange(10.0), 0.3), 6)
    6.3
    """
    if not 0.0 <= share_of_hours <= 1.0:
        msg = f"share_of_hours must be in [0, 1], got {share_of_hours!r}"
        raise ValueError(msg)
    return float(np.quantile(np.asarray(hourly, dtype=float), 1.0 - share_of_hours))


def duration_blocks(hourly: FloatArray, blocks: int) -> tuple[FloatArray, FloatArray]:
    """Reduce an LDC to weighted time blocks (representative levels).

    Hours are sorted and split into ``blocks`` groups of (nearly) equal size;
    each block's level is the mean of its hours, so energy is conserved exactly.

    Parameters
    ----------
    hourly : numpy.ndarray of shape (hours,)
        Hourly demand. [reference accelerators]
    blocks : int
        Number of blocks, 1 to len(hourly).

    Returns
    -------
    levels : numpy.ndarray of shape (blocks,)
        Mean demand of each block, descending. [reference accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours in each block; sums to len(hourly). [h]

    Raises
    ------
    ValueError
        If ``blocks`` is out of range.

    Examples
    --------
    >>> levels, hours = duration_blocks(np.array([4.0, 1.0, 3.0, 2.0]), 2)
    >>> levels.tolist(), hours.tolist()
    ([3.5, 1.5], [2.0, 2.0])
    """
    values = load_duration_curve(hourly)
    if not 1 <= blocks <= values.size:
        msg = f"blocks must be between 1 and {values.size}, got {blocks!r}"
        raise ValueError(msg)
    parts = np.array_split(values, blocks)
    levels = np.array([part.mean() for part in parts])
    hours = np.array([float(part.size) for part in parts])
    return levels, hours
