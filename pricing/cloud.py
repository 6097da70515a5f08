"""What renting accelerators costs: purchase models of cloud offers.

On-demand is paid per hour used; spot is cheaper but interrupted, so work is
redone (an overhead factor); 1- and 3-year commitments are paid for every hour of
the term whether used or not. Research grants may add indirect costs (F&A) on
services: see :func:`pricing.finance.with_indirect_cost_usd`.
"""

from __future__ import annotations

from pricing._validation import require_fraction, require_nonnegative, require_positive
from pricing.units import HOURS_PER_YEAR, Numeric


def cloud_cost_usd(
    accelerator_count: Numeric,
    duration_hours: Numeric,
    usd_per_accelerator_hour: Numeric,
) -> Numeric:
    """Cost of renting accelerators: chips x hours x rate.

    This is how Strubell et al. (2019, Table 3, footnote 7) price training runs.

    Parameters
    ----------
    accelerator_count : float, numpy.ndarray or pandas.Series
        Accelerators (GPUs or TPU chips) rented. [-]
    duration_hours : float, numpy.ndarray or pandas.Series
        Hours each is rented. [h]
    usd_per_accelerator_hour : float, numpy.ndarray or pandas.Series
        Price of one accelerator for one hour. [USD/h]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Cost. [USD]

    Raises
    ------
    ValueError
        If an argument is negative.

    Examples
    --------
    BERT base on 16 TPU v2 chips for 96 h at $1.35 and $4.50 per chip-hour:

    >>> round(cloud_cost_usd(16, 96, 1.35), 2), cloud_cost_usd(16, 96, 4.50)
    (2073.6, 6912.0)
    """
    require_nonnegative("accelerator_count", accelerator_count)
    require_nonnegative("duration_hours", duration_hours)
    require_nonnegative("usd_per_accelerator_hour", usd_per_accelerator_hour)
    return accelerator_count * duration_hours * usd_per_accelerator_hour


def usd_per_accelerator_hour(
    instance_usd_per_hour: Numeric, accelerator_count: Numeric
) -> Numeric:
    """Price of one accelerator-hour from an instance's hourly price.

    Parameters
    ----------
    instance_usd_per_hour : float, numpy.ndarray or pandas.Series
        Price of the whole instance (host included) for one hour. [USD/h]
    accelerator_count : float, numpy.ndarray or pandas.Series
        Accelerators in the instance; may be fractional (partitioned GPUs). [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Price per accelerator-hour. [USD/h]

    Raises
    ------
    ValueError
        If the price is negative or the count is not positive.

    Examples
    --------
    AWS p4d.24xlarge (8x A100 40GB), us-east-1, $21.96/h on-demand:

    >>> usd_per_accelerator_hour(21.96, 8)
    2.745
    """
    require_nonnegative("instance_usd_per_hour", instance_usd_per_hour)
    require_positive("accelerator_count", accelerator_count)
    return instance_usd_per_hour / accelerator_count


def spot_effective_usd_per_hour(
    spot_usd_per_hour: Numeric, interruption_overhead: Numeric
) -> Numeric:
    r"""Spot price per hour of useful work, counting work lost to interruptions.

    A pre-empted job re-runs from its last checkpoint; the overhead is the share
    of extra hours that costs [1]_ (e.g. 0.1 if 10 % of hours are redone).

    Parameters
    ----------
    spot_usd_per_hour : float, numpy.ndarray or pandas.Series
        Spot (pre-emptible) list price. [USD/h]
    interruption_overhead : float, numpy.ndarray or pandas.Series
        Extra hours per useful hour, non-negative. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Effective price per useful hour. [USD/h]

    Raises
    ------
    ValueError
        If an argument is negative.

    Notes
    -----
    .. math:: p_{eff} = p_{spot} (1 + o)

    References
    ----------
    .. [1] methods.md section 1.1: spot as interruptible supply, p_spot plus the
       expected pre-emption loss.

    Examples
    --------
    >>> round(spot_effective_usd_per_hour(0.43, 0.1), 3)
    0.473
    """
    require_nonnegative("spot_usd_per_hour", spot_usd_per_hour)
    require_nonnegative("interruption_overhead", interruption_overhead)
    return spot_usd_per_hour * (1.0 + interruption_overhead)


def committed_usd_per_hour(
    on_demand_usd_per_hour: Numeric, commitment_discount: Numeric
) -> Numeric:
    """Hourly price under a 1- or 3-year commitment (reserved, CUD, savings plan).

    Parameters
    ----------
    on_demand_usd_per_hour : float, numpy.ndarray or pandas.Series
        On-demand list price. [USD/h]
    commitment_discount : float, numpy.ndarray or pandas.Series
        Discount off on-demand for the term, 0 to 1. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Committed price per hour, paid for every hour of the term. [USD/h]

    Raises
    ------
    ValueError
        If the price is negative or the discount is outside [0, 1].

    Examples
    --------
    >>> committed_usd_per_hour(2.0, 0.4)
    1.2
    """
    require_nonnegative("on_demand_usd_per_hour", on_demand_usd_per_hour)
    require_fraction("commitment_discount", commitment_discount)
    return on_demand_usd_per_hour * (1.0 - commitment_discount)


def commitment_cost_usd(
    committed_accelerators: Numeric,
    committed_usd_per_hour: Numeric,
    years: Numeric,
    *,
    hours_per_year: float = HOURS_PER_YEAR,
) -> Numeric:
    """Cost of a commitment: every hour of the term is paid, used or not.

    Parameters
    ----------
    committed_accelerators : float, numpy.ndarray or pandas.Series
        Accelerators committed. [-]
    committed_usd_per_hour : float, numpy.ndarray or pandas.Series
        Committed price per accelerator-hour. [USD/h]
    years : float, numpy.ndarray or pandas.Series
        Years of the term counted. [years]
    hours_per_year : float, default 8760
        Hours per year. [h]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Cost. [USD]

    Raises
    ------
    ValueError
        If an argument is negative.

    Examples
    --------
    >>> commitment_cost_usd(8, 1.2, 1)
    84096.0
    """
    require_nonnegative("committed_accelerators", committed_accelerators)
    require_nonnegative("committed_usd_per_hour", committed_usd_per_hour)
    require_nonnegative("years", years)
    return committed_accelerators * committed_usd_per_hour * years * hours_per_year


def break_even_use_fraction_for_commitment(commitment_discount: Numeric) -> Numeric:
    """Share of hours above which a commitment beats on-demand: ``1 - discount``.

    The screening-curve intersection of a flat committed line and the on-demand
    line (methods.md section 1.3).

    Parameters
    ----------
    commitment_discount : float, numpy.ndarray or pandas.Series
        Discount off on-demand, 0 to 1. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Break-even use fraction. [-]

    Raises
    ------
    ValueError
        If the discount is outside [0, 1].

    Examples
    --------
    >>> break_even_use_fraction_for_commitment(0.4)
    0.6
    """
    require_fraction("commitment_discount", commitment_discount)
    return 1.0 - commitment_discount


def whole_instance_accelerators(
    accelerators_used: Numeric, accelerators_per_instance: Numeric
) -> Numeric:
    """Accelerators paid for when a cloud rents whole instances only.

    An 8-GPU instance (AWS p5.48xlarge, GCP a3-highgpu-8g, Lambda
    gpu_8x_h100_sxm5) cannot be rented in part: work that needs 3 GPUs for an
    hour pays for 8. Providers bill per second, so the rounding applies to the
    accelerators running at once, not to the hours: ``ceil(used / per
    instance) x per instance``.

    Parameters
    ----------
    accelerators_used : float, numpy.ndarray or pandas.Series
        Accelerators (or reference accelerators) busy at once. [-]
    accelerators_per_instance : float, numpy.ndarray or pandas.Series
        Accelerators in one instance, in the same unit. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Accelerators paid for: at least those used, fewer than one instance
        more. [-]

    Raises
    ------
    ValueError
        If the use is negative or the instance size not positive.

    Examples
    --------
    >>> whole_instance_accelerators(3, 8), whole_instance_accelerators(16, 8)
    (8.0, 16.0)
    """
    import numpy as np

    require_nonnegative("accelerators_used", accelerators_used)
    require_positive("accelerators_per_instance", accelerators_per_instance)
    # A hair of tolerance: 16.000000000001 busy accelerators fill two instances.
    instances = np.ceil(
        np.asarray(accelerators_used, dtype=float) / accelerators_per_instance - 1e-9
    )
    whole = np.maximum(instances, 0.0) * accelerators_per_instance
    return float(whole) if np.ndim(whole) == 0 else whole
