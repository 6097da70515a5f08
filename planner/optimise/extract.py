"""Turn a solver result into a validated plan: tables, binding limits, a summary."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from planner.costing import SERVICE_PAYERS, counts_in_view
from planner.optimise import limits
from planner.optimise.build import USD_PER_SOLVER_UNIT, InfeasiblePlanError, Problem
from planner.optimise.options import OptimiseOptions
from planner.optimise.solve import (
    FEASIBILITY_TOLERANCE,
    check_solution,
    rounded,
    solve_generated,
)
from pricing.units import HOURS_PER_YEAR, KILOGRAMS_PER_TONNE

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class FleetPlan:
    """The optimal fleet plan as tables, with its cost, CO2e and binding limits.

    ``year`` follows the engine: purchases and commitment starts at ``t = year``;
    work and running costs of running year ``k`` at ``t = k``;
    ``calendar_year = start_year + year``.
    """

    status: str
    """``optimal`` or ``time_limit`` (feasible, with the gap in ``mip_gap``)."""
    view: str
    """Whose cost the plan minimises (institution or award)."""
    npv_usd: float
    """Comparable present value in the view: cash plus delay and unserved cost
    (the engine's ``npv_usd``). [USD]"""
    cash_npv_usd: float
    """Present value of the view's cash costs only. [USD]"""
    objective_usd: float
    """``npv_usd`` plus the discounted carbon charge. [USD]"""
    co2e_kg: float
    """CO2e over the horizon, operational and embodied, owned and rented. [kg]"""
    purchases: pd.DataFrame
    """year, calendar_year, spec, servers."""
    commitments: pd.DataFrame
    """offer, start_year, calendar_year, term_years, instances, accelerators,
    accelerator_model."""
    served: pd.DataFrame
    """year, calendar_year, source, reference_hours (sources plus ``unserved``
    sum to demand)."""
    deferred: pd.DataFrame
    """year, calendar_year, reference_hours deferred to spare hours of the year
    (already counted in ``served`` by the source that caught it up)."""
    costs_by_year: pd.DataFrame
    """year, calendar_year, cost_usd, discounted_cost_usd (the view), co2e_kg."""
    binding: pd.DataFrame
    """constraint, year, calendar_year, value, limit, slack, binding_in_plan,
    shadow_price, unit, removal_saves_usd."""
    summary: str
    mip_gap: float
    costs: pd.DataFrame
    """Long table: year, calendar_year, category, payer, cost_usd, co2e_kg,
    discounted_cost_usd (every line; pick a view with ``payer``/``category``)."""
    options: OptimiseOptions
    options_considered: dict[str, list[str]]
    """Every server spec and cloud offer the plan chose among."""
    solution: FloatArray
    notes: tuple[str, ...] = ()
    pareto: pd.DataFrame | None = None
    block_error_bound_usd: float | None = None
    """With load-duration blocks (an approximation), how far the plan can be
    from the exact optimum: its decisions dispatched hour by hour in merit order
    cost this much more than the block objective, and the exact optimum lies
    between the two (None on the exact curve). [USD]"""
    capex_view: str = "cash_flow"
    """How capex is counted: ``cash_flow`` (price when bought, resale at the
    horizon) or ``annuity`` (capital recovery payments while in service)."""

    def as_json(self) -> dict[str, object]:
        """Return the plan as JSON-ready data (the CLI's ``--format json``).

        Returns
        -------
        dict
            ``status``, ``view``, ``npv_usd``, ``cash_npv_usd``,
            ``objective_usd``, ``co2e_kg``, ``mip_gap``, ``options_considered``,
            ``purchases``, ``commitments``, ``served``, ``deferred``,
            ``unserved_reference_hours``, ``costs_by_year``, ``binding``,
            ``pareto``, ``block_error_bound_usd``, ``capex_view``, ``summary``
            and ``notes``.
        """
        unserved = self.served[self.served["source"] == "unserved"]
        return {
            "status": self.status,
            "view": self.view,
            "npv_usd": self.npv_usd,
            "cash_npv_usd": self.cash_npv_usd,
            "objective_usd": self.objective_usd,
            "co2e_kg": self.co2e_kg,
            "mip_gap": self.mip_gap,
            "options_considered": self.options_considered,
            "purchases": records(self.purchases),
            "commitments": records(self.commitments),
            "served": records(self.served),
            "deferred": records(self.deferred),
            "unserved_reference_hours": float(unserved["reference_hours"].sum()),
            "costs_by_year": records(self.costs_by_year),
            "binding": records(self.binding),
            "pareto": [] if self.pareto is None else records(self.pareto),
            "block_error_bound_usd": self.block_error_bound_usd,
            "capex_view": self.capex_view,
            "summary": self.summary,
            "notes": list(self.notes),
        }


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as plain Python dicts; NaN becomes None."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, object] = {}
        for key, value in row.items():
            item = value.item() if isinstance(value, np.generic) else value
            if isinstance(item, float) and math.isnan(item):
                item = None
            clean[str(key)] = item
        out.append(clean)
    return out


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _optional_int(value: object) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(str(value))


def flows_frame(problem: Problem, x: FloatArray) -> pd.DataFrame:
    """Long table of costs and CO2e by year, category and payer for ``x``."""
    n = problem.inputs.years
    frames = []
    for (category, payer), matrix in problem.cost_flows.items():
        frames.append(
            pd.DataFrame(
                {
                    "year": np.arange(n + 1),
                    "category": category,
                    "payer": payer,
                    "cost_usd": matrix @ x,
                    "co2e_kg": 0.0,
                }
            )
        )
    payers = {category: payer for (category, payer) in problem.cost_flows}
    for category, matrix in problem.co2e_flows.items():
        frames.append(
            pd.DataFrame(
                {
                    "year": np.arange(n + 1),
                    "category": category,
                    "payer": payers.get(category, "provider"),
                    "cost_usd": 0.0,
                    "co2e_kg": matrix @ x,
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.groupby(["year", "category", "payer"], as_index=False, sort=True)[
        ["cost_usd", "co2e_kg"]
    ].sum()
    frame.insert(1, "calendar_year", problem.scenario.start_year + frame["year"])
    frame["discounted_cost_usd"] = (
        frame["cost_usd"] * problem.inputs.discount[frame["year"].to_numpy()]
    )
    return frame


def energies(problem: Problem, x: FloatArray) -> dict[str, FloatArray]:
    """Work of each source per running year, in mean reference accelerators."""
    out = {
        label: x[problem.index["energy"][k]]
        for k, label in enumerate(problem.capacity_sources)
    }
    offers = problem.inputs.offers
    for o, offer in enumerate(offers):
        out[f"on_demand:{offer.name}"] = x[problem.index["on_demand"][o]]
    with_spot = [o for o in offers if o.spot is not None]
    for o, offer in enumerate(with_spot):
        out[f"spot:{offer.name}"] = x[problem.index["spot"][o]]
    n = problem.inputs.years
    for kind in ("unserved", "deferred"):
        cols = problem.index[kind]
        out[kind] = x[cols] if cols.size else np.zeros(n)
    return out


def served_frames(
    work: Mapping[str, FloatArray], start_year: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Served work by source and year, and deferred work by year."""
    rows: list[dict[str, object]] = []
    late: list[dict[str, object]] = []
    for source, values in work.items():
        for year, value in enumerate(values, start=1):
            record = {
                "year": year,
                "calendar_year": start_year + year,
                "source": source,
                "reference_hours": float(value) * HOURS_PER_YEAR,
            }
            (late if source == "deferred" else rows).append(record)
    columns = ["year", "calendar_year", "source", "reference_hours"]
    deferred = pd.DataFrame(late, columns=columns).drop(columns="source")
    return pd.DataFrame(rows, columns=columns), deferred


def removal_savings_usd(problem: Problem, objective_usd: float) -> dict[str, float]:
    """Objective saved if each limit present were removed (one re-solve each).

    A shadow price is the value of a marginal relaxation of the LP relaxation;
    with integer servers a limit can cost more than its dual suggests (or
    nothing at the margin and a lot in whole). Re-solving without the limit tells
    what the limit costs.
    """
    savings = {}
    groups = problem.constraints["group"]
    for group in limits.LIMIT_UNITS:
        rows = np.flatnonzero((groups == group).to_numpy())
        if not rows.size:
            continue
        row_lb = problem.row_lb.copy()
        row_ub = problem.row_ub.copy()
        row_lb[rows] = -np.inf
        row_ub[rows] = np.inf
        free = dataclasses.replace(problem, row_lb=row_lb, row_ub=row_ub)
        result, _ = solve_generated(free)
        if result.x is None:
            msg = f"re-solve without {group} failed: {result.message}"
            raise RuntimeError(msg)
        without = float(result.fun) * USD_PER_SOLVER_UNIT
        savings[group] = max(0.0, objective_usd - without)
    return savings


def _binding_frame(
    problem: Problem,
    x: FloatArray,
    d_ub: FloatArray | None,
    d_lb: FloatArray | None,
    savings: Mapping[str, float],
) -> pd.DataFrame:
    columns = [
        "constraint",
        "year",
        "calendar_year",
        "value",
        "limit",
        "slack",
        "binding_in_plan",
        "shadow_price",
        "unit",
        "removal_saves_usd",
    ]
    meta = problem.constraints
    limit_rows = np.flatnonzero(meta["group"].isin(list(limits.LIMIT_UNITS)).to_numpy())
    activity = problem.A @ x
    rows = []
    start = problem.scenario.start_year
    for row in limit_rows:
        info = meta.iloc[row]
        group = str(info["group"])
        scale = float(info["scale"])
        is_lower = bool(np.isfinite(problem.row_lb[row]))
        bound = problem.row_lb[row] if is_lower else problem.row_ub[row]
        slack = (activity[row] - bound) if is_lower else (bound - activity[row])
        binding = bool(slack <= 10 * FEASIBILITY_TOLERANCE * (1.0 + abs(bound)))
        shadow = float("nan")
        if d_ub is not None and d_lb is not None:
            dual = d_lb[row] if is_lower else -d_ub[row]
            shadow = float(dual) * USD_PER_SOLVER_UNIT / scale
            if group == "carbon_cap_co2e_kg_per_year":
                shadow *= KILOGRAMS_PER_TONNE  # per kg -> per tonne
            if group == "racks":
                shadow *= problem.options.rack_units_per_rack  # per U -> per rack
            if abs(shadow) < 1e-9:
                shadow = 0.0
        saves = float(savings.get(group, 0.0))
        if not binding and not shadow and saves <= 1.0:
            continue
        year = _optional_int(info.get("year"))
        limit = float(info["limit"])
        if group == "racks":
            limit = float(problem.options.racks or 0)
        purchase_time = group in limits.PURCHASE_TIME
        calendar = None
        if year is not None:
            calendar = start + year if purchase_time or year == 0 else start + year - 1
        rows.append(
            {
                "constraint": group,
                "year": year,
                "calendar_year": calendar,
                "value": float(activity[row] * scale),
                "limit": limit,
                "slack": float(max(slack, 0.0) * scale),
                "binding_in_plan": binding,
                "shadow_price": shadow,
                "unit": limits.LIMIT_UNITS[group],
                "removal_saves_usd": saves,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def extract(problem: Problem, result: optimize.OptimizeResult) -> FleetPlan:
    """Turn a solver result into a validated :class:`FleetPlan` (the *extract* step).

    The solution's integers are rounded, then every row, bound, integrality and
    capacity set is checked (:func:`planner.optimise.solve.check_solution`);
    shadow prices of the limits come from the LP relaxation.

    Parameters
    ----------
    problem : Problem
        The problem that was solved.
    result : scipy.optimize.OptimizeResult
        From :func:`planner.optimise.solve.solve`.

    Returns
    -------
    FleetPlan
        Tables, totals, binding limits and summary.

    Raises
    ------
    InfeasiblePlanError
        If the problem is infeasible, with which limit is at fault and by how
        much (:func:`planner.optimise.diagnose.diagnose_infeasibility`).
    RuntimeError
        If the solver failed, or its solution violates the problem beyond
        tolerance (scipy issue #22812).
    """
    from planner.optimise.diagnose import diagnose_infeasibility

    generated = result.get("problem")
    final = generated if isinstance(generated, Problem) else problem
    if result.status == 2:
        raise InfeasiblePlanError(diagnose_infeasibility(final))
    if result.x is None:
        msg = f"fleet optimisation failed (status {result.status}): {result.message}"
        raise RuntimeError(msg)
    x = rounded(final, np.asarray(result.x, dtype=float))
    violations = check_solution(final, x)
    if violations:
        msg = "the solver's plan violates the problem: " + "; ".join(violations[:5])
        raise RuntimeError(msg)
    inputs = final.inputs
    start = final.scenario.start_year
    costs = flows_frame(final, x)
    view = inputs.view
    in_view = np.array(
        [
            counts_in_view(c, p, view)
            for c, p in zip(costs["category"], costs["payer"], strict=True)
        ],
        dtype=bool,
    )
    cash = in_view & ~costs["payer"].isin(SERVICE_PAYERS).to_numpy()
    carbon_usd_per_kg = final.options.carbon_price_usd_per_t / KILOGRAMS_PER_TONNE
    discount = inputs.discount[costs["year"].to_numpy()]
    discounted_co2 = float((costs["co2e_kg"].to_numpy() * discount).sum())
    viewed = costs.assign(
        cost_usd=np.where(in_view, costs["cost_usd"], 0.0),
        discounted_cost_usd=np.where(in_view, costs["discounted_cost_usd"], 0.0),
    )
    by_year = viewed.groupby(["year", "calendar_year"], as_index=False)[
        ["cost_usd", "discounted_cost_usd", "co2e_kg"]
    ].sum()
    served, deferred = served_frames(energies(final, x), start)
    d_ub = d_lb = None
    savings: dict[str, float] = {}
    if final.constraints["group"].isin(list(limits.LIMIT_UNITS)).any():
        lp, _ = solve_generated(final, relax=True)
        if lp.status != 0:
            msg = f"LP relaxation for shadow prices failed: {lp.message}"
            raise RuntimeError(msg)
        d_ub, d_lb = lp["d_ub"], lp["d_lb"]
        savings = removal_savings_usd(final, float(final.c @ x) * USD_PER_SOLVER_UNIT)
    npv = float(costs.loc[in_view, "discounted_cost_usd"].sum())
    plan = FleetPlan(
        status="optimal" if result.status == 0 else "time_limit",
        view=view,
        npv_usd=npv,
        cash_npv_usd=float(costs.loc[cash, "discounted_cost_usd"].sum()),
        objective_usd=npv + carbon_usd_per_kg * discounted_co2,
        co2e_kg=float(costs["co2e_kg"].sum()),
        purchases=purchases_frame(final, x),
        commitments=commitments_frame(final, x),
        served=served,
        deferred=deferred,
        costs_by_year=by_year,
        binding=_binding_frame(final, x, d_ub, d_lb, savings),
        summary="",
        mip_gap=float(getattr(result, "mip_gap", 0.0) or 0.0),
        costs=costs,
        options=final.options,
        options_considered=inputs.options_considered(),
        solution=x,
        notes=inputs.notes,
        capex_view=final.options.capex_view,
    )
    if not inputs.curve.exact:
        plan = dataclasses.replace(
            plan, block_error_bound_usd=block_error_bound_usd(final, plan)
        )
    return dataclasses.replace(plan, summary=summary(final, plan))


def block_error_bound_usd(problem: Problem, plan: FleetPlan) -> float:
    """How far a plan made on load-duration blocks can be from the exact optimum.

    A block's mean overstates what a capacity serves in its hours (``min(mean
    D, K) >= mean min(D, K)``), so the block problem is a relaxation of the
    exact one and its objective a lower bound on the exact optimum; the plan's
    decisions dispatched against every hour in merit order
    (:func:`planner.optimise.evaluate_plan.merit_order`, the exact dispatch of
    fixed capacities) cost an upper bound. The exact optimum lies between the
    two, and the plan is within their difference of it. With a CO2e cap or an
    on-premises share floor, merit order ignores them: the figure is then the
    cost difference only.

    Parameters
    ----------
    problem : Problem
        The block problem that was solved.
    plan : FleetPlan
        Its plan.

    Returns
    -------
    float
        Hourly cost of the plan less its block objective (at least 0). [USD]
    """
    from planner.optimise.evaluate_plan import (
        _evaluation,
        decisions_of,
        merit_order,
        plan_ledger,
    )
    from planner.optimise.inputs import exact_curve

    inputs = problem.inputs
    profile = inputs.resolved.demand
    curve = exact_curve(np.asarray(profile.levels), np.asarray(profile.hours))
    decisions = decisions_of(inputs, plan)
    work = merit_order(inputs, decisions, curve)
    hourly = _evaluation(inputs, plan_ledger(inputs, decisions, work), 0.0)
    return max(0.0, hourly.objective_usd - plan.objective_usd)


def purchases_frame(problem: Problem, x: FloatArray) -> pd.DataFrame:
    """Servers bought per spec and year."""
    start = problem.scenario.start_year
    rows = []
    cols = problem.index["servers"]
    for k, spec in enumerate(problem.inputs.specs):
        for j, year in enumerate(problem.inputs.purchase_years):
            count = x[cols[k, j]]
            if count > 1e-9:
                whole = bool(problem.integrality[cols[k, j]])
                rows.append(
                    {
                        "year": year,
                        "calendar_year": start + year,
                        "spec": spec.name,
                        "servers": round(count) if whole else float(count),
                    }
                )
    frame = pd.DataFrame(rows, columns=["year", "calendar_year", "spec", "servers"])
    return frame.sort_values(["year", "spec"], ignore_index=True)


def commitments_frame(problem: Problem, x: FloatArray) -> pd.DataFrame:
    """Instances committed per offer, term and start."""
    start = problem.scenario.start_year
    rows = []
    cols = problem.index["commitments"]
    for col, (o, term, begin) in zip(
        cols, problem.index["commitment_keys"], strict=True
    ):
        if x[col] <= 1e-9:
            continue
        offer = problem.inputs.offers[int(o)]
        instances = float(x[col])
        accelerators = instances * offer.offer.accelerators_per_instance
        rows.append(
            {
                "offer": offer.name,
                "start_year": int(begin),
                "calendar_year": start + int(begin),
                "term_years": int(term),
                "instances": round(instances)
                if float(instances).is_integer()
                else instances,
                "accelerators": round(accelerators)
                if float(accelerators).is_integer()
                else accelerators,
                "accelerator_model": offer.offer.accelerator_model,
            }
        )
    columns = [
        "offer",
        "start_year",
        "calendar_year",
        "term_years",
        "instances",
        "accelerators",
        "accelerator_model",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["start_year", "term_years", "offer"], ignore_index=True)


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _count(value: float, unit: str) -> str:
    number = f"{int(value)}" if float(value).is_integer() else f"{value:.2f}"
    return f"{number} {unit}{'' if value == 1 else 's'}"


def summary(problem: Problem, plan: FleetPlan) -> str:
    """Plain-language plan: buy, commit, burst, defer, leave, limits."""
    scenario = problem.scenario
    parts = []
    purchases = _rows(plan.purchases)
    if not purchases:
        parts.append("Buy no servers.")
    else:
        by_spec: dict[str, list[str]] = {}
        for row in purchases:
            by_spec.setdefault(str(row["spec"]), []).append(
                f"{_count(float(row['servers']), 'server')} in {row['calendar_year']}"
            )
        buys = [f"{spec}: " + ", ".join(when) for spec, when in by_spec.items()]
        parts.append("Buy " + "; ".join(buys) + ".")
    commitments = _rows(plan.commitments)
    if commitments:
        labels = {offer.name: offer.label for offer in problem.inputs.offers}
        commits = [
            f"{_count(float(row['accelerators']), 'accelerator')} of "
            f"{labels.get(str(row['offer']), row['offer'])} "
            f"for {row['term_years']} year{'s' if row['term_years'] > 1 else ''} "
            f"from {row['calendar_year']}"
            for row in commitments
        ]
        parts.append(f"Commit {', '.join(commits)}.")
    by_source = plan.served.groupby("source")["reference_hours"].sum()
    total = float(by_source.sum())
    if total > 0:
        owned = float(by_source[by_source.index.str.startswith("onprem")].sum())
        committed = float(by_source[by_source.index.str.startswith("committed")].sum())
        rented = by_source[
            by_source.index.str.startswith(("on_demand", "spot"))
            & (by_source > 1e-9 * total)
        ]
        unserved = float(by_source.get("unserved", 0.0))
        if float(rented.sum()) > 1e-9 * total:
            labels = {offer.name: offer.label for offer in problem.inputs.offers}
            names = ", ".join(
                ("spot " if name.startswith("spot:") else "on-demand ")
                + labels.get(name.split(":", 1)[1], name.split(":", 1)[1])
                for name in rented.index
            )
            verb = (
                "Burst the peaks to"
                if owned + committed > 0
                else "Rent everything from"
            )
            parts.append(
                f"{verb} {names} ({float(rented.sum()) / total:.0%} of the work)."
            )
        if owned >= 0.005 * total:
            parts.append(f"Owned servers do {owned / total:.0%} of the work.")
        if unserved > 0.5:
            parts.append(
                f"Leave {unserved:,.0f} reference hours unserved at the scenario's "
                f"${problem.inputs.resolved.service.unserved_usd_per_reference_hour:.2f}"
                " per reference hour (cheaper than serving them)."
            )
    deferred = float(plan.deferred["reference_hours"].sum())
    if deferred > 0.5:
        parts.append(
            f"Defer {deferred:,.0f} reference hours of peak work to spare hours later "
            "in the same year, at the scenario's delay cost."
        )
    years = scenario.horizon_years
    parts.append(
        f"Comparable NPV {_money(plan.npv_usd)} ({plan.view} view, {years} "
        f"year{'s' if years != 1 else ''} at {scenario.real_discount_rate:.1%} real, "
        f"equal service); {plan.co2e_kg / 1e3:,.1f} t CO2e."
    )
    binding = plan.binding[
        plan.binding["binding_in_plan"] | (plan.binding["removal_saves_usd"] > 1.0)
    ]
    if not binding.empty:
        found = []
        saved: dict[str, float] = {}
        for row in _rows(binding):
            group = str(row["constraint"])
            words = limits.when(group, _optional_int(row["year"]), scenario.start_year)
            words = f" in {words.strip()}" if words else ""
            shadow = float(row["shadow_price"])
            price = f", {shadow:,.4g} {row['unit']} at the margin" if shadow > 0 else ""
            found.append(f"{group}{words}{price}")
            saved[group] = float(row["removal_saves_usd"])
        parts.append("Limits that bind: " + "; ".join(found) + ".")
        costs = [
            f"removing {group} would save {_money(value)}"
            for group, value in saved.items()
            if value > 1.0
        ]
        if costs:
            parts.append(costs[0][0].upper() + "; ".join(costs)[1:] + ".")
    if plan.status != "optimal":
        parts.append(
            f"Stopped at the time limit: within {plan.mip_gap:.2%} of the optimum."
        )
    elif plan.mip_gap > 1e-9:
        parts.append(f"Optimal within a relative gap of {plan.mip_gap:.2%}.")
    if not problem.inputs.curve.exact:
        bound = plan.block_error_bound_usd
        within = (
            f": within {_money(bound)} of the exact optimum (the plan dispatched "
            "hour by hour, against the block objective)"
            if bound is not None
            else ""
        )
        parts.append(
            f"Demand in {problem.inputs.curve.levels.shape[1]} load-duration blocks "
            f"a year (an approximation{within})."
        )
    if plan.capex_view == "annuity":
        parts.append(
            "Capex counted as annuities (capital recovery factor of the discount "
            "rate and each server's lifetime) while in service, not as cash when "
            "bought less resale."
        )
    return " ".join(parts)
