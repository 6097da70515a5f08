"""Operational and embodied greenhouse-gas emissions of computing.

Operational emissions are energy times a grid carbon intensity (location-based,
GHG Protocol Scope 2 guidance); embodied emissions of hardware are amortised over
the hours it is used (the ACT model's ``(T/LT) * E`` term, Gupta et al. 2022).
"""

from __future__ import annotations

from pricing._validation import (
    require_fraction,
    require_nonnegative,
    require_positive,
)
from pricing.units import (
    GRAMS_PER_KILOGRAM,
    HOURS_PER_YEAR,
    KILOGRAMS_PER_POUND,
    Numeric,
)

STRUBELL_2019_LBS_PER_KWH = 0.954
"""CO2e per kWh in Strubell et al. (2019, eq. 2): EPA 2018 eGRID U.S. average.
[lb/kWh]"""

STRUBELL_2019_CO2E_G_PER_KWH = (
    STRUBELL_2019_LBS_PER_KWH * KILOGRAMS_PER_POUND * GRAMS_PER_KILOGRAM
)
"""The same intensity in metric units, 432.7 g/kWh (exact conversion). [g/kWh]"""


def operational_co2e_kg(energy_kwh: Numeric, grid_co2e_g_per_kwh: Numeric) -> Numeric:
    r"""Emissions from electricity use: energy times grid carbon intensity.

    Location-based accounting: the average intensity of the grid that supplies
    the facility [1]_, as Strubell et al. (2019, eq. 2) do with the U.S. average.

    Parameters
    ----------
    energy_kwh : float, numpy.ndarray or pandas.Series
        Facility energy (PUE already applied). [kWh]
    grid_co2e_g_per_kwh : float, numpy.ndarray or pandas.Series
        Grid carbon intensity. [g CO2e/kWh]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Emissions. [kg CO2e]

    Raises
    ------
    ValueError
        If energy or intensity is negative.

    Notes
    -----
    .. math:: m = E \; I / 1000

    References
    ----------
    .. [1] World Resources Institute, "GHG Protocol Scope 2 Guidance," 2015.

    Examples
    --------
    Strubell et al. (2019) Table 3, NAS on P100: 656,347.28 kWh -> 626,155 lbs.

    >>> from pricing.units import kilograms_to_pounds
    >>> kg = operational_co2e_kg(656_347.28, STRUBELL_2019_CO2E_G_PER_KWH)
    >>> round(kilograms_to_pounds(kg))
    626155
    """
    require_nonnegative("energy_kwh", energy_kwh)
    require_nonnegative("grid_co2e_g_per_kwh", grid_co2e_g_per_kwh)
    return energy_kwh * grid_co2e_g_per_kwh / GRAMS_PER_KILOGRAM


def embodied_co2e_kg_per_hour(
    embodied_co2e_kg: Numeric,
    lifetime_years: Numeric,
    utilisation: Numeric,
    *,
    hours_per_year: float = HOURS_PER_YEAR,
) -> Numeric:
    r"""Embodied emissions charged to each used hour of a piece of hardware.

    Manufacturing emissions are spread over the hours the hardware is used in
    its life [1]_ [2]_; an idle machine spreads them over fewer hours, so each
    used hour carries more.

    Parameters
    ----------
    embodied_co2e_kg : float, numpy.ndarray or pandas.Series
        Cradle-to-gate emissions of the item. [kg CO2e]
    lifetime_years : float, numpy.ndarray or pandas.Series
        Service life. [years]
    utilisation : float, numpy.ndarray or pandas.Series
        Share of the life's hours in use, in (0, 1]. [-]
    hours_per_year : float, default 8760
        Hours per year. [h]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Embodied emissions per used hour. [kg CO2e/h]

    Raises
    ------
    ValueError
        If lifetime or utilisation is not positive, or utilisation exceeds 1.

    Notes
    -----
    .. math:: e = E_{emb} / (L \; 8760 \; u)

    References
    ----------
    .. [1] U. Gupta et al., "ACT: Designing Sustainable Computer Systems with an
       Architectural Carbon Modeling Tool," in Proc. ISCA, 2022,
       doi:10.1145/3470496.3527408.
    .. [2] A. S. Luccioni, S. Viguier, and A.-L. Ligozat, "Estimating the Carbon
       Footprint of BLOOM, a 176B Parameter Language Model," JMLR, vol. 24,
       no. 253, pp. 1-15, 2023.

    Examples
    --------
    BLOOM's server node, ~2,500 kg over 6 years at 85 % use (Luccioni et al.):

    >>> round(embodied_co2e_kg_per_hour(2_500.0, 6.0, 0.85), 3)
    0.056
    """
    require_nonnegative("embodied_co2e_kg", embodied_co2e_kg)
    require_positive("lifetime_years", lifetime_years)
    require_positive("utilisation", utilisation)
    require_fraction("utilisation", utilisation)
    return embodied_co2e_kg / (lifetime_years * hours_per_year * utilisation)


def intensity_trajectory_co2e_g_per_kwh(
    initial_co2e_g_per_kwh: float, annual_change: float, years: Numeric
) -> Numeric:
    r"""Grid carbon intensity after some years of a constant relative change.

    The IEA projects global intensity falling about 3.6 % a year to 2027 [1]_;
    a planner applies such a trend to a region's current figure.

    Parameters
    ----------
    initial_co2e_g_per_kwh : float
        Intensity in year 0. [g CO2e/kWh]
    annual_change : float
        Relative change per year, e.g. -0.035 for 3.5 % decarbonisation;
        greater than -1. [-]
    years : float, numpy.ndarray or pandas.Series
        Years after year 0. [years]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Intensity in each year. [g CO2e/kWh]

    Raises
    ------
    ValueError
        If the initial intensity is negative or the change is -100 % or less.

    Notes
    -----
    .. math:: I_t = I_0 (1 + g)^t

    References
    ----------
    .. [1] International Energy Agency, "Electricity 2025," Paris, 2025.

    Examples
    --------
    >>> round(intensity_trajectory_co2e_g_per_kwh(445.0, -0.035, 3), 1)
    399.9
    """
    require_nonnegative("initial_co2e_g_per_kwh", initial_co2e_g_per_kwh)
    if annual_change <= -1:
        msg = f"annual_change must be greater than -1, got {annual_change!r}"
        raise ValueError(msg)
    return initial_co2e_g_per_kwh * (1.0 + annual_change) ** years
