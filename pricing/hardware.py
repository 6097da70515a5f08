"""On-premises servers: purchase price from chip prices, and value over time.

Server prices are estimated transparently as chips x chip price x a
chip-to-server factor (Cottier et al. 2024), plus a cluster share for networking
and storage; a vendor quote should replace the estimate.
"""

from __future__ import annotations

import math

from pricing._validation import require_fraction, require_nonnegative
from pricing.units import HOURS_PER_YEAR, Numeric

COTTIER_2024_CLUSTER_OVERHEAD_FRACTION = 0.23
"""Networking and cluster infrastructure on top of servers: ~19 % of cluster cost,
i.e. x1.23 (Cottier et al. 2024, Epoch AI, hardware-cost appendix). [-]"""

COTTIER_2024_ANNUAL_VALUE_DECLINE = 1.0 - 10.0**-0.14
"""Hardware value falls 0.14 orders of magnitude a year (Cottier et al. 2024):
27.6 % a year, i.e. 72.4 % of the value is left after one year. [-]"""


def server_price_usd(
    accelerator_price_usd: Numeric,
    accelerator_count: Numeric,
    chip_to_server_factor: Numeric,
) -> Numeric:
    """Estimated price of a server from the price of its accelerators.

    Cottier et al. (2024) measure server price / (accelerators x chip price) at
    1.54 (P100), 1.69 (V100), 1.66 (A100), mean 1.64; a DGX H100 implies ~1.4 [1]_.

    Parameters
    ----------
    accelerator_price_usd : float, numpy.ndarray or pandas.Series
        Price of one accelerator. [USD]
    accelerator_count : float, numpy.ndarray or pandas.Series
        Accelerators per server. [-]
    chip_to_server_factor : float, numpy.ndarray or pandas.Series
        Server price over the accelerators' price, at least 1. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Server price. [USD]

    Raises
    ------
    ValueError
        If an argument is negative.

    References
    ----------
    .. [1] B. Cottier, R. Rahman, L. Fattorini, N. Maslej, and D. Owen, "The
       rising costs of training frontier AI models," arXiv:2405.21015, 2024.

    Examples
    --------
    >>> server_price_usd(33_600.0, 8, 1.4)
    376320.0
    """
    require_nonnegative("accelerator_price_usd", accelerator_price_usd)
    require_nonnegative("accelerator_count", accelerator_count)
    require_nonnegative("chip_to_server_factor", chip_to_server_factor)
    return accelerator_price_usd * accelerator_count * chip_to_server_factor


def installed_capex_usd(
    server_price_usd: Numeric, servers: Numeric, cluster_overhead_fraction: Numeric
) -> Numeric:
    """Capital cost of installed servers with networking, storage and integration.

    Parameters
    ----------
    server_price_usd : float, numpy.ndarray or pandas.Series
        Price of one server. [USD]
    servers : float, numpy.ndarray or pandas.Series
        Servers bought (fractional allowed, as in Strubell et al. section 5). [-]
    cluster_overhead_fraction : float, numpy.ndarray or pandas.Series
        Network/storage/integration cost as a fraction of server cost. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Capital cost. [USD]

    Raises
    ------
    ValueError
        If an argument is negative.

    Examples
    --------
    Strubell et al. (2019) section 5: 58 GPUs in $20,000 8-GPU servers.

    >>> installed_capex_usd(20_000.0, 58 / 8, 0.0)
    145000.0
    """
    require_nonnegative("server_price_usd", server_price_usd)
    require_nonnegative("servers", servers)
    require_nonnegative("cluster_overhead_fraction", cluster_overhead_fraction)
    return server_price_usd * servers * (1.0 + cluster_overhead_fraction)


def resale_value_usd(
    purchase_price_usd: Numeric,
    age_years: Numeric,
    *,
    annual_value_decline: float = COTTIER_2024_ANNUAL_VALUE_DECLINE,
) -> Numeric:
    r"""Resale (salvage) value of hardware after some years: geometric decline.

    Value falls by a constant fraction per year, tied to price-performance
    progress (Cottier et al. 2024: 0.14 orders of magnitude per year) [1]_.

    Parameters
    ----------
    purchase_price_usd : float, numpy.ndarray or pandas.Series
        Price paid. [USD]
    age_years : float, numpy.ndarray or pandas.Series
        Age at sale. [years]
    annual_value_decline : float, default 0.276
        Fraction of value lost per year, 0 to 1. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Resale value. [USD]

    Raises
    ------
    ValueError
        If price or age is negative or the decline is outside [0, 1].

    Notes
    -----
    .. math:: V(t) = V_0 (1 - d)^t

    References
    ----------
    .. [1] B. Cottier et al., "The rising costs of training frontier AI models,"
       arXiv:2405.21015, 2024.

    Examples
    --------
    >>> round(resale_value_usd(100_000.0, 5))
    19953
    """
    require_nonnegative("purchase_price_usd", purchase_price_usd)
    require_nonnegative("age_years", age_years)
    require_fraction("annual_value_decline", annual_value_decline)
    return purchase_price_usd * (1.0 - annual_value_decline) ** age_years


def amortised_hardware_cost_usd(
    hardware_value_usd: float,
    accelerator_hours: float,
    *,
    depreciation_ooms_per_year: float = -math.log10(
        1.0 - COTTIER_2024_ANNUAL_VALUE_DECLINE
    ),
) -> float:
    r"""The share of owned hardware's value that one run uses up: Cottier et al.

    Cottier et al. (2024) amortise the value of the hardware at the start of a
    training run over the chip-hours the run takes, at the rate hardware loses
    value as price-performance improves, 0.14 orders of magnitude a year,
    i.e. a continuous rate of :math:`0.14 \ln 10 = 0.322` a year [1]_.

    Parameters
    ----------
    hardware_value_usd : float
        Value of one accelerator with its share of the server and the
        cluster (network, storage) at the start of the run. [USD]
    accelerator_hours : float
        Accelerators x hours of the run. [accelerator-h]
    depreciation_ooms_per_year : float, default 0.14
        Orders of magnitude of value lost a year. [1/year]

    Returns
    -------
    float
        Amortised hardware cost of the run. [USD]

    Raises
    ------
    ValueError
        If an argument is negative.

    Notes
    -----
    .. math:: C = V \, h \, r \ln 10 / 8760

    References
    ----------
    .. [1] B. Cottier et al., "The rising costs of training frontier AI
       models," arXiv:2405.21015, 2024; ``price * hardware_replacement_per_year
       / HOURS_PER_YEAR * training_chip_hours`` in epoch-research/
       training-cost-trends, ``cost_estimation.py``.

    Examples
    --------
    A $30,000 accelerator for 1,000 hours:

    >>> round(amortised_hardware_cost_usd(30_000.0, 1_000.0), 2)
    1103.98
    """
    require_nonnegative("hardware_value_usd", hardware_value_usd)
    require_nonnegative("accelerator_hours", accelerator_hours)
    require_nonnegative("depreciation_ooms_per_year", depreciation_ooms_per_year)
    rate_per_year = depreciation_ooms_per_year * math.log(10.0)
    return hardware_value_usd * accelerator_hours * rate_per_year / HOURS_PER_YEAR
