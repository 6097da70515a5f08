"""The ledger: per-unit flows (:mod:`planner.costing`) scaled by a plan's quantities.

A strategy's ledger is the sum, over its decisions, of quantity x the flows of one
unit: servers of each vintage, committed instances, reference hours of each
source per year, years of staff. Arrays have a leading batch axis (many demands
evaluated at once for break-even sweeps and Monte Carlo): shape
``(batch, years + 1)``, t = 0..N.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from planner.costing import (
    SERVICE_PAYERS,
    Line,
    Payer,
    UnitFlows,
    View,
    counts_in_view,
)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LedgerLine:
    """One category of a strategy's flows over t = 0..N, for each batch item."""

    category: str
    payer: Payer
    scope: str
    cost_usd: FloatArray
    """Shape (batch, N + 1). [USD]"""
    energy_kwh: FloatArray
    """Shape (batch, N + 1). [kWh]"""
    co2e_kg: FloatArray
    """Shape (batch, N + 1). [kg]"""
    base: str = ""
    """For an F&A line, the category it is charged on."""
    rate: float = 0.0
    """For an F&A line, its rate. [-]"""


@dataclass
class Dispatch:
    """Where each reference hour of demand went, per batch item and running year.

    Every array has shape (batch, N); ``demand = owned + cloud + committed +
    unserved`` where owned includes the delayed work it caught up.
    """

    demand: FloatArray
    owned: FloatArray
    cloud: FloatArray
    committed: FloatArray
    delayed: FloatArray
    unserved: FloatArray
    capacity: FloatArray
    """Usable owned capacity, reference accelerator-hours per year."""
    cloud_whole_instance: FloatArray | None = None
    """The ``cloud`` (on-demand and spot) work as paid for if instances came
    whole hour by hour (:func:`pricing.cloud.whole_instance_accelerators`); the
    ledger prices ``cloud``, this bounds what that leaves out. [reference
    accelerator-hours]"""
    installed_accelerators: float = 0.0
    committed_accelerators: float = 0.0


@dataclass
class Ledger:
    """Cash and emission flows of one strategy, line by line."""

    batch: int
    horizon: int
    lines: list[LedgerLine] = field(default_factory=list)

    def _zeros(self) -> FloatArray:
        return np.zeros((self.batch, self.horizon + 1))

    def _append(self, line: Line, scale: FloatArray) -> None:
        """Add ``scale * line`` (scale of shape (batch, N + 1))."""
        self.lines.append(
            LedgerLine(
                category=line.category,
                payer=line.payer,
                scope=line.scope,
                cost_usd=scale * line.cost_usd[None, :],
                energy_kwh=scale * line.energy_kwh[None, :],
                co2e_kg=scale * line.co2e_kg[None, :],
                base=line.base,
                rate=line.rate,
            )
        )

    def add_units(self, flows: UnitFlows, quantity: float | FloatArray) -> None:
        """Add ``quantity`` units (a number or one per batch item) of ``flows``."""
        scale = self._zeros() + np.reshape(np.asarray(quantity, dtype=float), (-1, 1))
        for line in flows.lines:
            self._append(line, scale)

    def add_rates(self, flows: UnitFlows, per_year: FloatArray) -> None:
        """Add flows per unit of a yearly quantity: ``per_year`` (batch, N) at t = k."""
        scale = self._zeros()
        scale[:, 1:] = per_year
        for line in flows.lines:
            self._append(line, scale)

    def cost_usd(self, view: View | None = None) -> FloatArray:
        """Cost at each t of one view's lines (None: cash as charged). [USD]."""
        total = self._zeros()
        for line in self.lines:
            if counts_in_view(line.category, line.payer, view):
                total = total + line.cost_usd
        return total

    def cash_cost_usd(self, view: View | None = None) -> FloatArray:
        """Cost at each t of a view's cash lines (no delay or unserved cost). [USD]."""
        total = self._zeros()
        for line in self.lines:
            if line.payer not in SERVICE_PAYERS and counts_in_view(
                line.category, line.payer, view
            ):
                total = total + line.cost_usd
        return total

    def category_cost_usd(
        self, *categories: str, view: View | None = None
    ) -> FloatArray:
        """Cost at each t of the named categories, every payer or a view's. [USD]."""
        total = self._zeros()
        for line in self.lines:
            if line.category in categories and (
                view is None or counts_in_view(line.category, line.payer, view)
            ):
                total = total + line.cost_usd
        return total

    def co2e_kg(self, scope: str | None = None) -> FloatArray:
        """CO2e at each t, every line or one scope's. [kg]."""
        total = self._zeros()
        for line in self.lines:
            if scope is None or line.scope == scope:
                total = total + line.co2e_kg
        return total

    def energy_kwh(self) -> FloatArray:
        """Facility energy at each t. [kWh]."""
        total = self._zeros()
        for line in self.lines:
            total = total + line.energy_kwh
        return total

    def scaled(self, share: float) -> Ledger:
        """The same ledger with every flow times ``share`` (a member's part)."""
        lines = [
            LedgerLine(
                category=line.category,
                payer=line.payer,
                scope=line.scope,
                cost_usd=line.cost_usd * share,
                energy_kwh=line.energy_kwh * share,
                co2e_kg=line.co2e_kg * share,
            )
            for line in self.lines
        ]
        return Ledger(batch=self.batch, horizon=self.horizon, lines=lines)

    def merged(self) -> list[LedgerLine]:
        """Lines summed by (category, payer, scope, F&A base and rate), in order."""
        out: dict[tuple[str, str, str, str, float], LedgerLine] = {}
        for line in self.lines:
            key = (line.category, line.payer, line.scope, line.base, line.rate)
            if key in out:
                old = out[key]
                out[key] = LedgerLine(
                    category=old.category,
                    payer=old.payer,
                    scope=old.scope,
                    cost_usd=old.cost_usd + line.cost_usd,
                    energy_kwh=old.energy_kwh + line.energy_kwh,
                    co2e_kg=old.co2e_kg + line.co2e_kg,
                    base=old.base,
                    rate=old.rate,
                )
            else:
                out[key] = line
        return list(out.values())
