"""Domain checks shared by the unit models: one ValueError naming the argument."""

from __future__ import annotations

import numpy as np


def require_nonnegative(name: str, value: object) -> None:
    """Raise ValueError if any element of ``value`` is negative or NaN."""
    array = np.asarray(value, dtype=float)
    if np.isnan(array).any() or (array < 0).any():
        msg = f"{name} must be non-negative, got {value!r}"
        raise ValueError(msg)


def require_positive(name: str, value: object) -> None:
    """Raise ValueError if any element of ``value`` is not strictly positive."""
    array = np.asarray(value, dtype=float)
    if np.isnan(array).any() or (array <= 0).any():
        msg = f"{name} must be positive, got {value!r}"
        raise ValueError(msg)


def require_fraction(name: str, value: object) -> None:
    """Raise ValueError if any element of ``value`` lies outside [0, 1]."""
    array = np.asarray(value, dtype=float)
    if np.isnan(array).any() or (array < 0).any() or (array > 1).any():
        msg = f"{name} must be a fraction in [0, 1], got {value!r}"
        raise ValueError(msg)


def require_at_least(name: str, value: object, minimum: float) -> None:
    """Raise ValueError if any element of ``value`` is below ``minimum``."""
    array = np.asarray(value, dtype=float)
    if np.isnan(array).any() or (array < minimum).any():
        msg = f"{name} must be at least {minimum}, got {value!r}"
        raise ValueError(msg)
