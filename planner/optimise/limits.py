"""The registry of limits: per limit, its rows, unit, diagnosis and brute-force check.

Each :class:`Limit` knows how to write its rows into the problem, the unit of its
shadow price, the sentence that explains an infeasible plan, and how the
brute-force oracle (:func:`planner.optimise.evaluate_plan.brute_force_plan`)
checks a candidate plan without the solver.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy import sparse

from planner.costing import SALVAGE, counts_in_view
from planner.optimise.build import (
    KG_PER_SOLVER_UNIT,
    USD_PER_SOLVER_UNIT,
    Builder,
    CapacityTerms,
)

if TYPE_CHECKING:
    from planner.optimise.build import Problem
    from planner.optimise.inputs import OptimiseInputs

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


RowBuilder = Callable[
    [
        Builder,
        Mapping[tuple[str, str], sparse.csr_array],
        Mapping[str, sparse.csr_array],
        CapacityTerms,
    ],
    None,
]
"""Writes a limit's rows: (builder, cost flows, CO2e flows, capacity terms)."""


@dataclass(frozen=True)
class Decisions:
    """An integer plan as plain records (for checks outside the solver)."""

    purchases: tuple[tuple[int, int, float], ...]
    """(spec index, purchase year, servers)."""
    commitments: tuple[tuple[int, int, int, float], ...]
    """(offer index, term, start, instances)."""


@dataclass(frozen=True)
class Limit:
    """One kind of limit of :class:`planner.optimise.options.OptimiseOptions`."""

    name: str
    unit: str
    """Unit of the shadow price: objective saved per unit of relaxation."""
    build: RowBuilder
    describe: Callable[[Problem, int, float], str]
    check: Callable[[OptimiseInputs, Decisions, float], bool] | None = None
    """True if a plan meets the limit (the plan's undiscounted project spend is
    the float); None where brute force cannot check it."""
    purchase_time: bool = False
    """Rows are indexed by purchase time (t = b), not running year."""


def _money(value: float) -> str:
    return f"${value:,.0f}"


def when(limit: str, year: int | None, start_year: int) -> str:
    """Words for the year of a row: purchase time, or running year and calendar."""
    if year is None:
        return ""
    if limit in PURCHASE_TIME:
        return f"{start_year + year} "
    if year == 0:
        return f"year 0 (purchases, {start_year}) "
    return f"running year {year} ({start_year + year - 1}) "


def _row_info(problem: Problem, row: int) -> tuple[str, float, float, int | None]:
    info = problem.constraints.iloc[row]
    year = info.get("year")
    year_int = (
        None
        if year is None or (isinstance(year, float) and math.isnan(year))
        else int(year)
    )
    return str(info["group"]), float(info["limit"]), float(info["scale"]), year_int


def _need(problem: Problem, row: int, slack: float) -> tuple[str, float, float]:
    group, limit, scale, year = _row_info(problem, row)
    return when(group, year, problem.scenario.start_year), limit, limit + slack * scale


# --- per-limit rows ---------------------------------------------------------------


def _active_servers(b: Builder) -> list[tuple[int, IntArray, IntArray]]:
    """(spec, running-year indices, server columns) of every active vintage."""
    out = []
    servers = b.index["servers"]
    for k, spec in enumerate(b.inputs.specs):
        for j, bought in enumerate(b.inputs.purchase_years):
            capacity = spec.vintages[bought].capacity_reference
            assert capacity is not None
            years = np.flatnonzero(capacity > 0)
            out.append((k, years, np.full(years.size, servers[k, j])))
    return out


def _capital_rows(
    b: Builder,
    costs: Mapping[tuple[str, str], sparse.csr_array],
    co2e: Mapping[str, sparse.csr_array],
    terms: CapacityTerms,
) -> None:
    limit = b.inputs.options.capital_budget_usd_per_year
    if limit is None or not b.inputs.specs:
        return
    years = np.asarray(b.inputs.purchase_years, dtype=np.int64)
    rows = b.rows(
        "capital_budget_usd_per_year",
        (years.size,),
        ub=limit / USD_PER_SOLVER_UNIT,
        year=years,
        limit=limit,
        scale=USD_PER_SOLVER_UNIT,
    )
    servers = b.index["servers"].ravel()
    for key in (("capex", "project"), ("indirect_costs", "project")):
        matrix = costs.get(key)
        if matrix is None:
            continue
        block = sparse.csr_array(matrix[years][:, servers])
        coo = sparse.coo_array(block)
        b.coefficients(rows[coo.row], servers[coo.col], coo.data / USD_PER_SOLVER_UNIT)


def project_spend_columns(
    costs: Mapping[tuple[str, str], sparse.csr_array], n_vars: int
) -> FloatArray:
    """Undiscounted project spend per unit of each column.

    Award view, F&A included, resale excluded, no service penalty. [USD]
    """
    total = np.zeros(n_vars)
    for (category, payer), matrix in costs.items():
        if (
            payer == "project"
            and category != SALVAGE
            and counts_in_view(category, payer, "award")
        ):
            total += np.asarray(matrix.sum(axis=0)).ravel()
    return total


def _total_rows(
    b: Builder,
    costs: Mapping[tuple[str, str], sparse.csr_array],
    co2e: Mapping[str, sparse.csr_array],
    terms: CapacityTerms,
) -> None:
    limit = b.inputs.options.total_budget_usd
    if limit is None:
        return
    total = project_spend_columns(costs, b.n_vars)
    rows = b.rows(
        "total_budget_usd",
        (1,),
        ub=limit / USD_PER_SOLVER_UNIT,
        limit=limit,
        scale=USD_PER_SOLVER_UNIT,
    )
    nonzero = np.flatnonzero(total)
    b.coefficients(rows[0], nonzero, total[nonzero] / USD_PER_SOLVER_UNIT)


def _per_server_rows(
    name: str,
    per_server: Callable[[Builder, int], float],
    bound: Callable[[Builder], float | None],
) -> RowBuilder:
    """Rows of a limit on active servers, weighted per server, each running year."""

    def rows_of(
        b: Builder,
        costs: Mapping[tuple[str, str], sparse.csr_array],
        co2e: Mapping[str, sparse.csr_array],
        terms: CapacityTerms,
    ) -> None:
        value = bound(b)
        if value is None or not b.inputs.specs:
            return
        n = b.inputs.years
        rows = b.rows(
            name,
            (n,),
            ub=float(value),
            year=np.arange(1, n + 1),
            limit=float(value),
            scale=1.0,
        )
        for k, years, cols in _active_servers(b):
            b.coefficients(rows[years], cols, per_server(b, k))

    return rows_of


def _carbon_rows(
    b: Builder,
    costs: Mapping[tuple[str, str], sparse.csr_array],
    co2e: Mapping[str, sparse.csr_array],
    terms: CapacityTerms,
) -> None:
    limit = b.inputs.options.carbon_cap_co2e_kg_per_year
    if limit is None:
        return
    n = b.inputs.years
    rows = b.rows(
        "carbon_cap_co2e_kg_per_year",
        (n + 1,),
        ub=limit / KG_PER_SOLVER_UNIT,
        year=np.arange(n + 1),
        limit=limit,
        scale=KG_PER_SOLVER_UNIT,
    )
    yearly = sum(co2e.values(), sparse.csr_array((n + 1, b.n_vars)))
    coo = sparse.coo_array(yearly)
    b.coefficients(rows[coo.row], coo.col, coo.data / KG_PER_SOLVER_UNIT)


def _share_rows(
    b: Builder,
    costs: Mapping[tuple[str, str], sparse.csr_array],
    co2e: Mapping[str, sparse.csr_array],
    terms: CapacityTerms,
) -> None:
    share = b.inputs.options.min_onprem_share
    if share is None:
        return
    rows = b.rows("min_onprem_share", (1,), lb=share, limit=share, scale=1.0)
    total = float(b.inputs.curve.mean.sum())
    owned = len(b.inputs.specs)
    if total > 0 and owned:
        b.coefficients(rows[0], b.index["energy"][:owned], 1.0 / total)


def _max_servers_rows(
    b: Builder,
    costs: Mapping[tuple[str, str], sparse.csr_array],
    co2e: Mapping[str, sparse.csr_array],
    terms: CapacityTerms,
) -> None:
    most = b.inputs.options.max_servers_per_year
    if most is None or not b.inputs.specs:
        return
    years = np.asarray(b.inputs.purchase_years, dtype=np.int64)
    rows = b.rows(
        "max_servers_per_year",
        (years.size,),
        ub=float(most),
        year=years,
        limit=float(most),
        scale=1.0,
    )
    b.coefficients(rows[None, :], b.index["servers"], 1.0)


def _committed_rows(
    b: Builder,
    costs: Mapping[tuple[str, str], sparse.csr_array],
    co2e: Mapping[str, sparse.csr_array],
    terms: CapacityTerms,
) -> None:
    most = b.inputs.options.max_committed_accelerators
    cols = b.index["commitments"]
    if most is None or not cols.size:
        return
    n = b.inputs.years
    rows = b.rows(
        "max_committed_accelerators",
        (n,),
        ub=float(most),
        year=np.arange(1, n + 1),
        limit=float(most),
        scale=1.0,
    )
    for col, (o, term, start) in zip(cols, b.index["commitment_keys"], strict=True):
        offer = b.inputs.offers[int(o)]
        years = np.arange(int(start), int(start) + int(term))
        b.coefficients(rows[years], col, offer.offer.accelerators_per_instance)


# --- descriptions ---------------------------------------------------------------------


def _describe_money(problem: Problem, row: int, slack: float) -> str:
    group, _, _, _ = _row_info(problem, row)
    words, limit, need = _need(problem, row, slack)
    subject = words or "the plan "
    return (
        f"{group}: {subject}needs at least {_money(need)}, the limit is {_money(limit)}"
    )


def _describe_unit(unit: str, digits: str) -> Callable[[Problem, int, float], str]:
    def describe(problem: Problem, row: int, slack: float) -> str:
        group, _, _, _ = _row_info(problem, row)
        words, limit, need = _need(problem, row, slack)
        return (
            f"{group}: {words}needs at least {need:{digits}} {unit}, the limit is "
            f"{limit:{digits}} {unit}"
        )

    return describe


def _describe_racks(problem: Problem, row: int, slack: float) -> str:
    words, _, need = _need(problem, row, slack)
    per_rack = problem.options.rack_units_per_rack
    racks = math.ceil(need / per_rack - 1e-9)
    return (
        f"racks: {words}needs at least {racks} racks ({need:,.0f} U), the limit is "
        f"{problem.options.racks} racks"
    )


def _describe_share(problem: Problem, row: int, slack: float) -> str:
    _, limit, scale, _ = _row_info(problem, row)
    return (
        f"min_onprem_share: at most {limit - slack * scale:.3f} of the work can run "
        f"on owned servers, the minimum is {limit:.3f}"
    )


def _describe_count(problem: Problem, row: int, slack: float) -> str:
    group, _, _, _ = _row_info(problem, row)
    words, limit, need = _need(problem, row, slack)
    return (
        f"{group}: {words}needs at least {math.ceil(need - 1e-9)}, the limit is "
        f"{int(limit)}"
    )


# --- brute-force checks ---------------------------------------------------------------


def _capex_by_year(inputs: OptimiseInputs, decisions: Decisions) -> dict[int, float]:
    out: dict[int, float] = {}
    for k, year, count in decisions.purchases:
        flows = inputs.specs[k].vintages[year]
        capital = sum(
            float(line.cost_usd[year])
            for line in flows.lines
            if line.category in ("capex", "indirect_costs") and line.payer == "project"
        )
        out[year] = out.get(year, 0.0) + count * capital
    return out


def _active(
    inputs: OptimiseInputs, decisions: Decisions, per_server: Callable[[int], float]
) -> FloatArray:
    total = np.zeros(inputs.years)
    for k, year, count in decisions.purchases:
        capacity = inputs.specs[k].vintages[year].capacity_reference
        assert capacity is not None
        total += (capacity > 0) * count * per_server(k)
    return total


def _check_capital(inputs: OptimiseInputs, decisions: Decisions, spend: float) -> bool:
    limit = inputs.options.capital_budget_usd_per_year
    capex = _capex_by_year(inputs, decisions)
    return limit is None or max(capex.values(), default=0.0) <= limit * (1 + 1e-9)


def _check_total(inputs: OptimiseInputs, decisions: Decisions, spend: float) -> bool:
    limit = inputs.options.total_budget_usd
    return limit is None or spend <= limit * (1 + 1e-9)


def _check_power(inputs: OptimiseInputs, decisions: Decisions, spend: float) -> bool:
    limit = inputs.options.site_power_kw
    power = _active(inputs, decisions, lambda k: inputs.specs[k].max_power_kw)
    return limit is None or bool((power <= limit + 1e-9).all())


def _check_racks(inputs: OptimiseInputs, decisions: Decisions, spend: float) -> bool:
    racks = inputs.options.racks
    if racks is None:
        return True
    units = _active(inputs, decisions, lambda k: inputs.specs[k].rack_units or 0.0)
    return bool((units <= racks * inputs.options.rack_units_per_rack + 1e-9).all())


def _check_servers(inputs: OptimiseInputs, decisions: Decisions, spend: float) -> bool:
    most = inputs.options.max_servers_per_year
    if most is None:
        return True
    counts: dict[int, float] = {}
    for _, year, count in decisions.purchases:
        counts[year] = counts.get(year, 0.0) + count
    return max(counts.values(), default=0.0) <= most


def _check_owned(inputs: OptimiseInputs, decisions: Decisions, spend: float) -> bool:
    most = inputs.options.max_owned_accelerators
    owned = _active(
        inputs, decisions, lambda k: inputs.specs[k].server.accelerators_per_server
    )
    return most is None or bool((owned <= most + 1e-9).all())


def _check_committed(
    inputs: OptimiseInputs, decisions: Decisions, spend: float
) -> bool:
    most = inputs.options.max_committed_accelerators
    if most is None:
        return True
    total = np.zeros(inputs.years)
    for o, term, start, instances in decisions.commitments:
        total[start : start + term] += (
            instances * inputs.offers[o].offer.accelerators_per_instance
        )
    return bool((total <= most + 1e-9).all())


LIMITS: tuple[Limit, ...] = (
    Limit(
        "capital_budget_usd_per_year",
        "USD/USD",
        _capital_rows,
        _describe_money,
        _check_capital,
        purchase_time=True,
    ),
    Limit("total_budget_usd", "USD/USD", _total_rows, _describe_money, _check_total),
    Limit(
        "site_power_kw",
        "USD/kW",
        _per_server_rows(
            "site_power_kw",
            lambda b, k: b.inputs.specs[k].max_power_kw,
            lambda b: b.inputs.options.site_power_kw,
        ),
        _describe_unit("kW", ",.1f"),
        _check_power,
    ),
    Limit(
        "racks",
        "USD/rack",
        _per_server_rows(
            "racks",
            lambda b, k: b.inputs.specs[k].rack_units or 0.0,
            lambda b: (
                None
                if b.inputs.options.racks is None
                else b.inputs.options.racks * b.inputs.options.rack_units_per_rack
            ),
        ),
        _describe_racks,
        _check_racks,
    ),
    Limit(
        "carbon_cap_co2e_kg_per_year",
        "USD/t CO2e",
        _carbon_rows,
        _describe_unit("kg CO2e", ",.0f"),
    ),
    Limit("min_onprem_share", "USD/(share 0-1)", _share_rows, _describe_share),
    Limit(
        "max_servers_per_year",
        "USD/server",
        _max_servers_rows,
        _describe_count,
        _check_servers,
        purchase_time=True,
    ),
    Limit(
        "max_owned_accelerators",
        "USD/accelerator",
        _per_server_rows(
            "max_owned_accelerators",
            lambda b, k: b.inputs.specs[k].server.accelerators_per_server,
            lambda b: b.inputs.options.max_owned_accelerators,
        ),
        _describe_count,
        _check_owned,
    ),
    Limit(
        "max_committed_accelerators",
        "USD/accelerator",
        _committed_rows,
        _describe_count,
        _check_committed,
    ),
)
"""Every limit, in diagnosis order."""

LIMIT_UNITS = {limit.name: limit.unit for limit in LIMITS}
"""Unit of the shadow price of each limit: objective saved per unit of relaxation."""

PURCHASE_TIME = tuple(limit.name for limit in LIMITS if limit.purchase_time)
"""Limits whose rows are indexed by purchase time."""

LIMITS_BY_NAME = {limit.name: limit for limit in LIMITS}


def add_limits(
    b: Builder,
    costs: Mapping[tuple[str, str], sparse.csr_array],
    co2e: Mapping[str, sparse.csr_array],
    terms: CapacityTerms,
) -> None:
    """Write the rows of every limit the options set."""
    for limit in LIMITS:
        limit.build(b, costs, co2e, terms)


def describe(problem: Problem, row: int, slack: float) -> str:
    """The sentence that explains a violated row (limits and demand)."""
    group = str(problem.constraints.iloc[row]["group"])
    if group == "demand":
        year = problem.constraints.iloc[row].get("year")
        words = when(
            group, None if year is None else int(year), problem.scenario.start_year
        )
        hours = slack * 8_760.0
        return (
            f"demand: {words}has {hours:,.0f} reference accelerator-hours that no "
            "allowed source can serve"
        )
    if group in LIMITS_BY_NAME:
        return LIMITS_BY_NAME[group].describe(problem, row, slack)
    return f"{group}: exceeded by {slack:,.4g}"


def brute_force_limits_ok(
    inputs: OptimiseInputs, decisions: Decisions, spend_usd: float, names: Sequence[str]
) -> bool:
    """Whether a plan meets every limit that brute force can check."""
    for name in names:
        check = LIMITS_BY_NAME[name].check
        if check is not None and not check(inputs, decisions, spend_usd):
            return False
    return True
