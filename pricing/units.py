"""Exact unit conversions and calendar constants used across the project.

Every constant is an exact definition, never a rounded literal (as CodeCarbon
keeps its conversions), so that round trips are exact to floating point.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

Numeric: TypeAlias = "float | npt.NDArray[np.float64] | pd.Series[float]"
"""Scalar, array or Series; results keep the input's shape (pvlib's "numeric")."""

HOURS_PER_DAY = 24.0
"""Hours in a calendar day. [h/day]"""

DAYS_PER_YEAR = 365.0
"""Days in a (non-leap) accounting year, as in methods.md conventions. [day/year]"""

HOURS_PER_YEAR = HOURS_PER_DAY * DAYS_PER_YEAR
"""8,760 hours: the planning year used by screening curves and TCO. [h/year]"""

WATTS_PER_KILOWATT = 1_000.0
"""SI prefix. [W/kW]"""

GRAMS_PER_KILOGRAM = 1_000.0
"""SI prefix. [g/kg]"""

KILOGRAMS_PER_TONNE = 1_000.0
"""SI prefix (metric tonne). [kg/t]"""

JOULES_PER_KWH = 3.6e6
"""One kilowatt-hour is 1,000 W x 3,600 s. [J/kWh]"""

KILOGRAMS_PER_POUND = 0.45359237
"""Avoirdupois pound, exact by the 1959 International Yard and Pound Agreement.
[kg/lb]"""


def kilograms_to_pounds(mass_kg: Numeric) -> Numeric:
    """Convert a mass from kilograms to avoirdupois pounds.

    Parameters
    ----------
    mass_kg : float, numpy.ndarray or pandas.Series
        Mass. [kg]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Mass. [lb]

    Examples
    --------
    >>> round(kilograms_to_pounds(0.45359237), 12)
    1.0
    """
    return mass_kg / KILOGRAMS_PER_POUND


def pounds_to_kilograms(mass_lb: Numeric) -> Numeric:
    """Convert a mass from avoirdupois pounds to kilograms.

    Parameters
    ----------
    mass_lb : float, numpy.ndarray or pandas.Series
        Mass. [lb]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Mass. [kg]

    Examples
    --------
    >>> round(pounds_to_kilograms(626_155), 0)  # Strubell et al. 2019, NAS
    284019.0
    """
    return mass_lb * KILOGRAMS_PER_POUND


def scalar(value: object) -> float:
    """Return a scalar quantity (Python, numpy or 0-d array) as a float.

    The unit models accept arrays and Series, so their results are typed as such;
    a caller that passed scalars uses this to get a plain float back.

    Parameters
    ----------
    value : object
        A number or a one-element array. [any unit]

    Returns
    -------
    float
        The same number. [same unit]

    Raises
    ------
    ValueError
        If ``value`` holds more than one number.

    Examples
    --------
    >>> scalar(np.float64(2.5))
    2.5
    """
    array = np.asarray(value, dtype=float)
    if array.size != 1:
        msg = f"value must hold exactly one number, got shape {array.shape}"
        raise ValueError(msg)
    return float(array.reshape(()).item())
