"""Money over time: discounting, annuities, depreciation and indirect costs.

Conventions (stated once, as numpy-financial does for ``npv``): money is real
(inflation-free) currency of one ``currency_year``, discounted with a real rate;
``values[0]`` is at t = 0 (the start of year 0, when purchases happen) and
``values[t]`` at the end of year t. Depreciation is an accounting view only and
never adds cash: purchases are counted once, when paid.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

from pricing._validation import require_fraction, require_nonnegative
from pricing.units import Numeric, scalar

FloatArray = npt.NDArray[np.float64]

MACRS_RECOVERY_PERIODS_YEARS = (3, 5, 7, 10)
"""GDS recovery periods tabulated in IRS Publication 946, Table A-1. [years]"""

MACRS_COMPUTER_CLASS_YEARS = 5
"""Computers and peripheral equipment are 5-year property (IRS Pub. 946). [years]"""


def _check_rate(real_discount_rate: float) -> None:
    if not -1.0 < real_discount_rate <= 1.0:
        msg = f"real_discount_rate must be in (-1, 1], got {real_discount_rate!r}"
        raise ValueError(msg)


def capital_recovery_factor(real_discount_rate: float, years: Numeric) -> Numeric:
    r"""Capital recovery factor: the level annuity that repays 1 over n years.

    Parameters
    ----------
    real_discount_rate : float
        Real discount rate per year, in (-1, 1]. [-]
    years : float, numpy.ndarray or pandas.Series
        Repayment period, positive. [years]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Annuity per unit of present value. [1/year]

    Raises
    ------
    ValueError
        If the rate is out of range or the period is not positive.

    Notes
    -----
    .. math:: \mathrm{CRF}(r, n) = \frac{r}{1 - (1 + r)^{-n}},\quad
              \mathrm{CRF}(0, n) = 1/n

    References
    ----------
    .. [1] E. L. Grant, W. G. Ireson, and R. S. Leavenworth, *Principles of
       Engineering Economy*, 8th ed. New York: Wiley, 1990, ch. 4.

    Examples
    --------
    Values recomputed in methods.md section 5.1:

    >>> round(capital_recovery_factor(0.05, 5), 4), capital_recovery_factor(0.0, 4)
    (0.231, 0.25)
    """
    _check_rate(real_discount_rate)
    if np.any(np.asarray(years, dtype=float) <= 0):
        msg = f"years must be positive, got {years!r}"
        raise ValueError(msg)
    if real_discount_rate == 0:
        return 1.0 / years
    # 1 - (1 + r)^-n written with log1p/expm1 so tiny rates keep full precision.
    growth: Numeric = -years * np.log1p(real_discount_rate)
    factor: Numeric = real_discount_rate / -np.expm1(growth)
    if isinstance(years, int | float):
        return scalar(factor)  # keep scalars plain Python floats
    return factor


def discount_factors(
    real_discount_rate: float, years: Numeric, *, mid_year: bool = False
) -> Numeric:
    r"""Present value of one unit paid at (the end of) each year.

    Parameters
    ----------
    real_discount_rate : float
        Real discount rate per year, in (-1, 1]. [-]
    years : float, numpy.ndarray or pandas.Series
        Time of each payment: t = 0 is now, t = 1 the end of the first year. [years]
    mid_year : bool, default False
        Discount at t - 0.5 (flows spread through year t) instead of at t.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Discount factor :math:`(1 + r)^{-t}`. [-]

    Raises
    ------
    ValueError
        If the rate is out of range.

    Examples
    --------
    >>> discount_factors(0.0, 3), round(discount_factors(0.05, 1), 6)
    (1.0, 0.952381)
    """
    _check_rate(real_discount_rate)
    shift = 0.5 if mid_year else 0.0
    return (1.0 + real_discount_rate) ** -(years - shift)


def net_present_value_usd(real_discount_rate: float, cash_flows_usd: Numeric) -> float:
    r"""Net present value of cash flows at t = 0, 1, 2, ... (numpy-financial ``npv``).

    Parameters
    ----------
    real_discount_rate : float
        Real discount rate per year, in (-1, 1]. [-]
    cash_flows_usd : numpy.ndarray or pandas.Series
        ``values[0]`` at t = 0, ``values[t]`` at the end of year t. [USD]

    Returns
    -------
    float
        Present value at t = 0. [USD]

    Raises
    ------
    ValueError
        If the rate is out of range.

    Notes
    -----
    .. math:: \mathrm{NPV} = \sum_{t=0}^{T} \frac{CF_t}{(1 + r)^t}

    Examples
    --------
    >>> round(net_present_value_usd(0.05, [100.0, 100.0, 100.0]), 2)
    285.94
    """
    flows = np.asarray(cash_flows_usd, dtype=float)
    factors = discount_factors(real_discount_rate, np.arange(flows.size, dtype=float))
    return float(np.sum(flows * factors))


def equivalent_annual_cost_usd(
    present_value_usd: Numeric, real_discount_rate: float, years: Numeric
) -> Numeric:
    """Level annual cost with the same present value over ``years``.

    Parameters
    ----------
    present_value_usd : float, numpy.ndarray or pandas.Series
        Present value of all costs. [USD]
    real_discount_rate : float
        Real discount rate per year. [-]
    years : float, numpy.ndarray or pandas.Series
        Number of annual payments, positive. [years]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Equivalent annual cost, paid at the end of each year. [USD/year]

    Raises
    ------
    ValueError
        As :func:`capital_recovery_factor`.

    Examples
    --------
    >>> round(equivalent_annual_cost_usd(100_000.0, 0.05, 5), 2)
    23097.48
    """
    return present_value_usd * capital_recovery_factor(real_discount_rate, years)


def with_indirect_cost_usd(
    direct_cost_usd: Numeric, indirect_cost_rate: Numeric
) -> Numeric:
    """Direct cost plus indirect costs (F&A) charged on it.

    Under 2 CFR 200.1, the negotiated F&A rate applies to modified total direct
    costs, which include services (cloud compute) but exclude equipment [1]_.

    Parameters
    ----------
    direct_cost_usd : float, numpy.ndarray or pandas.Series
        Direct cost. [USD]
    indirect_cost_rate : float, numpy.ndarray or pandas.Series
        F&A rate on that cost, non-negative (e.g. 0.55). [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Cost charged to the award. [USD]

    Raises
    ------
    ValueError
        If an argument is negative.

    References
    ----------
    .. [1] 2 CFR 200.1, "Modified Total Direct Cost (MTDC)," as revised 2024.

    Examples
    --------
    >>> with_indirect_cost_usd(1_000.0, 0.55)
    1550.0
    """
    require_nonnegative("direct_cost_usd", direct_cost_usd)
    require_nonnegative("indirect_cost_rate", indirect_cost_rate)
    return direct_cost_usd * (1.0 + indirect_cost_rate)


def straight_line_schedule(recovery_period_years: int) -> FloatArray:
    """Fractions of the depreciable basis deducted each year, straight line.

    Parameters
    ----------
    recovery_period_years : int
        Years over which the basis is recovered, positive. [years]

    Returns
    -------
    numpy.ndarray of shape (recovery_period_years,)
        Equal fractions summing to 1. [-]

    Raises
    ------
    ValueError
        If the period is not a positive integer.

    Examples
    --------
    >>> straight_line_schedule(4).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    if recovery_period_years < 1:
        msg = f"recovery_period_years must be >= 1, got {recovery_period_years!r}"
        raise ValueError(msg)
    return np.full(recovery_period_years, 1.0 / recovery_period_years)


def declining_balance_schedule(
    recovery_period_years: int, *, factor: float = 2.0
) -> FloatArray:
    """Declining-balance depreciation, switching to straight line when larger.

    Parameters
    ----------
    recovery_period_years : int
        Years over which the basis is recovered, positive. [years]
    factor : float, default 2.0
        Multiple of the straight-line rate (2 = double declining balance). [-]

    Returns
    -------
    numpy.ndarray of shape (recovery_period_years,)
        Fractions of the basis deducted each year, summing to 1. [-]

    Raises
    ------
    ValueError
        If the period is not a positive integer or the factor is not positive.

    References
    ----------
    .. [1] Internal Revenue Service, "How to Depreciate Property," Publication
       946, ch. 4 (declining balance with switch to straight line).

    Examples
    --------
    >>> declining_balance_schedule(5).round(4).tolist()
    [0.4, 0.24, 0.144, 0.108, 0.108]
    """
    if recovery_period_years < 1:
        msg = f"recovery_period_years must be >= 1, got {recovery_period_years!r}"
        raise ValueError(msg)
    if factor <= 0:
        msg = f"factor must be positive, got {factor!r}"
        raise ValueError(msg)
    n = recovery_period_years
    remaining = 1.0
    fractions = np.empty(n)
    for year in range(n):
        deduction = max(remaining * factor / n, remaining / (n - year))
        fractions[year] = min(deduction, remaining)
        remaining -= fractions[year]
    return fractions


def macrs_half_year_schedule(recovery_period_years: int) -> FloatArray:
    """Fractions of the basis deducted each tax year under MACRS (GDS, half-year).

    Applies the 200 % declining-balance method, switching to straight line
    when that gives the larger deduction, with the half-year convention, as
    tabulated in IRS Publication 946, Table A-1 [1]_. Computers and peripheral
    equipment are 5-year property [1]_. Tax depreciation matters only for
    taxable owners; universities are usually tax-exempt.

    Parameters
    ----------
    recovery_period_years : {3, 5, 7, 10}
        Recovery period of the property class. [years]

    Returns
    -------
    numpy.ndarray of shape (recovery_period_years + 1,)
        Deduction in each tax year as a fraction of the basis; sums to 1. [-]

    Raises
    ------
    ValueError
        If the recovery period is not 3, 5, 7 or 10 years.

    References
    ----------
    .. [1] Internal Revenue Service, "How to Depreciate Property,"
       Publication 946, Appendix A, Table A-1.

    Examples
    --------
    >>> macrs_half_year_schedule(5).round(4).tolist()
    [0.2, 0.32, 0.192, 0.1152, 0.1152, 0.0576]
    """
    if recovery_period_years not in MACRS_RECOVERY_PERIODS_YEARS:
        msg = (
            f"recovery_period_years must be one of {MACRS_RECOVERY_PERIODS_YEARS}, "
            f"got {recovery_period_years!r}"
        )
        raise ValueError(msg)
    n = recovery_period_years
    rate = 2.0 / n  # 200 % declining balance
    remaining = 1.0
    fractions = np.empty(n + 1)
    fractions[0] = remaining * rate / 2  # half-year convention
    remaining -= fractions[0]
    for year in range(1, n + 1):
        remaining_life = n - year + 0.5
        deduction = max(remaining * rate, remaining / remaining_life)
        fractions[year] = min(deduction, remaining)
        remaining -= fractions[year]
    return fractions


def share_of_fraction(value: Numeric, fraction: Numeric) -> Numeric:
    """Multiply a value by a share in [0, 1] after checking the share.

    Parameters
    ----------
    value : float, numpy.ndarray or pandas.Series
        Any quantity. [unit of value]
    fraction : float, numpy.ndarray or pandas.Series
        Share, 0 to 1. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``value * fraction``. [unit of value]

    Raises
    ------
    ValueError
        If the share is outside [0, 1].

    Examples
    --------
    >>> share_of_fraction(200.0, 0.25)
    50.0
    """
    require_fraction("fraction", fraction)
    return value * fraction


@cache
def _cpi_table() -> dict[int, float]:
    """Return the shipped CPI-U annual averages by year (read once, on first use)."""
    text = resources.files("pricing").joinpath("data/us_cpi.csv").read_text("utf-8")
    table: dict[int, float] = {}
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        year, index = int(row["year"]), float(row["cpi_u_index"])
        if year in table or index <= 0:
            msg = f"us_cpi.csv:{line}: duplicate year or non-positive index"
            raise ValueError(msg)
        table[year] = index
    return table


def cpi_index(year: int) -> float:
    """U.S. CPI-U annual average for a year, clamped to the years shipped.

    Years after the last shipped year use its index (no inflation is assumed
    beyond the data); years before the first use the first.

    Parameters
    ----------
    year : int
        Calendar year. [year]

    Returns
    -------
    float
        CPI-U index, 1982-84 = 100 [1]_. [-]

    References
    ----------
    .. [1] U.S. Bureau of Labor Statistics, "Consumer Price Index for All Urban
       Consumers (CPI-U), U.S. city average, all items," series CUUR0000SA0.

    Examples
    --------
    >>> cpi_index(2019), cpi_index(2035) == cpi_index(2025)
    (255.657, True)
    """
    table = _cpi_table()
    clamped = min(max(year, min(table)), max(table))
    return table[clamped]


def real_usd(amount_usd: Numeric, from_year: int, to_year: int) -> Numeric:
    """Express an amount stated in one year's dollars in another year's dollars.

    Parameters
    ----------
    amount_usd : float, numpy.ndarray or pandas.Series
        Amount in USD of ``from_year``. [USD]
    from_year : int
        Currency year of the amount. [year]
    to_year : int
        Currency year wanted (the scenario's). [year]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Amount in USD of ``to_year`` (CPI-U ratio). [USD]

    Examples
    --------
    A 2020 list price of $15,000 in 2024 dollars:

    >>> round(real_usd(15_000.0, 2020, 2024))
    18181
    """
    return amount_usd * cpi_index(to_year) / cpi_index(from_year)
