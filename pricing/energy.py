"""Electricity drawn by accelerators and what it costs.

Two models live here: the training-energy equation of Strubell et al. (2019,
eq. 1), which multiplies measured power by time and PUE, and the linear
utilisation power curve (idle .. max) used for servers that run all year.
"""

from __future__ import annotations

from pricing._validation import (
    require_at_least,
    require_fraction,
    require_nonnegative,
)
from pricing.units import HOURS_PER_YEAR, WATTS_PER_KILOWATT, Numeric

STRUBELL_2019_PUE = 1.58
"""PUE used by Strubell et al. (2019, eq. 1): the 2018 global data-centre average
of the Uptime Institute Global Data Center Survey (Ascierto, 2018). [-]"""


def training_energy_kwh(
    power_w: Numeric, duration_hours: Numeric, *, pue: Numeric = STRUBELL_2019_PUE
) -> Numeric:
    r"""Facility energy of a training run: Strubell et al. (2019), eq. (1).

    The IT power of the run (CPU sockets + DRAM + GPUs, measured) is multiplied by
    its duration and by the facility's power usage effectiveness (PUE) [1]_.

    Parameters
    ----------
    power_w : float, numpy.ndarray or pandas.Series
        Average IT power of the whole run, :math:`p_c + p_r + g\,p_g`. [W]
    duration_hours : float, numpy.ndarray or pandas.Series
        Wall-clock duration of the run. [h]
    pue : float, numpy.ndarray or pandas.Series, default 1.58
        Facility energy over IT energy, at least 1. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Energy drawn from the grid, PUE included. [kWh]

    Raises
    ------
    ValueError
        If power or duration is negative, or PUE is below 1.

    Notes
    -----
    .. math:: p_t = \mathrm{PUE}\; t\; (p_c + p_r + g\,p_g) / 1000

    References
    ----------
    .. [1] E. Strubell, A. Ganesh, and A. McCallum, "Energy and Policy
       Considerations for Deep Learning in NLP," in Proc. 57th Annu. Meeting of
       the ACL, 2019, pp. 3645-3650, doi:10.18653/v1/P19-1355.

    Examples
    --------
    Transformer (big) on 8 P100 GPUs, 1,515.43 W for 84 h (Table 3 prints 201):

    >>> round(training_energy_kwh(1515.43, 84), 2)
    201.13
    """
    require_nonnegative("power_w", power_w)
    require_nonnegative("duration_hours", duration_hours)
    require_at_least("pue", pue, 1.0)
    return pue * duration_hours * power_w / WATTS_PER_KILOWATT


def utilisation_power_w(
    idle_power_w: Numeric, max_power_w: Numeric, utilisation: Numeric
) -> Numeric:
    r"""IT power of a server at a given utilisation: the linear power curve.

    Power rises linearly from the idle draw to the maximum draw with utilisation
    [1]_; this is the server model Cloud Carbon Footprint uses too. Idle servers
    still draw power, which is why an under-used cluster costs more per hour
    delivered.

    Parameters
    ----------
    idle_power_w : float, numpy.ndarray or pandas.Series
        Power at zero utilisation. [W]
    max_power_w : float, numpy.ndarray or pandas.Series
        Power at full utilisation, at least ``idle_power_w``. [W]
    utilisation : float, numpy.ndarray or pandas.Series
        Busy share of the accelerators, from 0 to 1. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Average IT power. [W]

    Raises
    ------
    ValueError
        If a power is negative, max is below idle, or utilisation is outside [0, 1].

    Notes
    -----
    .. math:: P(u) = P_{idle} + u\,(P_{max} - P_{idle})

    References
    ----------
    .. [1] X. Fan, W.-D. Weber, and L. A. Barroso, "Power provisioning for a
       warehouse-sized computer," in Proc. 34th Int. Symp. Computer Architecture
       (ISCA), 2007, pp. 13-23, doi:10.1145/1250662.1250665.

    Examples
    --------
    >>> utilisation_power_w(2_000.0, 10_200.0, 0.5)
    6100.0
    """
    require_nonnegative("idle_power_w", idle_power_w)
    require_nonnegative("max_power_w", max_power_w)
    require_nonnegative("max_power_w - idle_power_w", max_power_w - idle_power_w)
    require_fraction("utilisation", utilisation)
    return idle_power_w + utilisation * (max_power_w - idle_power_w)


def facility_energy_kwh(
    it_power_w: Numeric, duration_hours: Numeric, pue: Numeric
) -> Numeric:
    """Energy drawn by the facility to run an IT load for a duration.

    Parameters
    ----------
    it_power_w : float, numpy.ndarray or pandas.Series
        Average IT power. [W]
    duration_hours : float, numpy.ndarray or pandas.Series
        Duration. [h]
    pue : float, numpy.ndarray or pandas.Series
        Power usage effectiveness, at least 1 [1]_. [-]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Facility energy, cooling and distribution losses included. [kWh]

    Raises
    ------
    ValueError
        If power or duration is negative, or PUE is below 1.

    References
    ----------
    .. [1] ISO/IEC 30134-2:2016, "Key performance indicators - Part 2: Power
       usage effectiveness (PUE)."

    Examples
    --------
    >>> facility_energy_kwh(10_000.0, 8_760.0, 1.5)
    131400.0
    """
    require_nonnegative("it_power_w", it_power_w)
    require_nonnegative("duration_hours", duration_hours)
    require_at_least("pue", pue, 1.0)
    return it_power_w * duration_hours * pue / WATTS_PER_KILOWATT


def annual_server_energy_kwh(
    idle_power_w: Numeric,
    max_power_w: Numeric,
    utilisation: Numeric,
    pue: Numeric,
    *,
    hours_per_year: float = HOURS_PER_YEAR,
) -> Numeric:
    """Facility energy of one server over a year at an average utilisation.

    Combines :func:`utilisation_power_w` and :func:`facility_energy_kwh`.

    Parameters
    ----------
    idle_power_w : float, numpy.ndarray or pandas.Series
        Server power at zero utilisation. [W]
    max_power_w : float, numpy.ndarray or pandas.Series
        Server power at full utilisation. [W]
    utilisation : float, numpy.ndarray or pandas.Series
        Average busy share over the year, 0 to 1. [-]
    pue : float, numpy.ndarray or pandas.Series
        Power usage effectiveness, at least 1. [-]
    hours_per_year : float, default 8760
        Hours the server is powered in a year. [h]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Facility energy per server per year. [kWh/year]

    Raises
    ------
    ValueError
        As :func:`utilisation_power_w` and :func:`facility_energy_kwh`.

    Examples
    --------
    >>> round(annual_server_energy_kwh(2_000.0, 10_200.0, 0.5, 1.5))
    80154
    """
    power_w = utilisation_power_w(idle_power_w, max_power_w, utilisation)
    return facility_energy_kwh(power_w, hours_per_year, pue)


def electricity_cost_usd(
    energy_kwh: Numeric, electricity_usd_per_kwh: Numeric
) -> Numeric:
    """Cost of electricity at a flat tariff.

    Parameters
    ----------
    energy_kwh : float, numpy.ndarray or pandas.Series
        Energy bought at the meter. [kWh]
    electricity_usd_per_kwh : float, numpy.ndarray or pandas.Series
        Tariff, all-in average price per kWh. [USD/kWh]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Cost. [USD]

    Raises
    ------
    ValueError
        If energy or tariff is negative.

    Examples
    --------
    LISA, Strubell et al. (2019) Table 4: 82,251.6 kWh at $0.12/kWh (footnote 9).

    >>> round(electricity_cost_usd(82_251.6, 0.12), 1)
    9870.2
    """
    require_nonnegative("energy_kwh", energy_kwh)
    require_nonnegative("electricity_usd_per_kwh", electricity_usd_per_kwh)
    return energy_kwh * electricity_usd_per_kwh
