"""A plan that holds up: a two-stage stochastic fleet plan (sample average approx.).

The fleet optimiser (:mod:`planner.optimise`) plans for one future. Here the
purchases, commitments and the staffing of the site (**first stage**: decided
now) are shared across ``K`` futures drawn from the uncertainty spec, while
the dispatch of each future (owned work, deferred and unserved work, on-demand
and spot burst: **second stage**) adapts to it (Shapiro, Dentcheva and
Ruszczynski 2014 [1]_). Each future's problem is built by the optimiser's own
public pieces (:func:`planner.optimise.inputs.optimise_inputs`,
:func:`planner.optimise.build.build_from_inputs`), priced with that future's
inputs; the deterministic equivalent joins them on the first-stage columns and
is solved as one MILP with HiGHS, generating each future's capacity cuts on
its exact load-duration curve until none is violated
(:func:`planner.optimise.solve.capacity_violations`).

The objective is the expected comparable present value, or its conditional
value at risk at level ``alpha`` (the mean of the worst ``1 - alpha`` of the
futures) in the linear form of Rockafellar and Uryasev [2]_:
``min eta + sum_k s_k / ((1 - alpha) K)``, ``s_k >= cost_k - eta``, ``s_k >= 0``.

Every first-stage plan is then valued the same way: its best second stage in
each future, solved alone (a sweep, :mod:`planner.uncertainty.sweep`). The
**value of the stochastic solution** is the expected cost of the deterministic
plan (``planner optimise`` on the scenario as written) in the sampled futures
minus that of the robust plan; the **expected value of perfect information** is
the robust plan's expected cost minus the mean of each future's own optimum
(wait-and-see). Both are in-sample estimates on the same ``K`` futures.

References
----------
.. [1] A. Shapiro, D. Dentcheva, and A. Ruszczynski, *Lectures on Stochastic
   Programming: Modeling and Theory*, 2nd ed. Philadelphia: SIAM, 2014,
   ch. 5 (sample average approximation), doi:10.1137/1.9781611973433.
.. [2] R. T. Rockafellar and S. Uryasev, "Optimization of conditional
   value-at-risk," J. Risk, vol. 2, no. 3, pp. 21-41, 2000,
   doi:10.21314/JOR.2000.038.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from planner.optimise.build import (
    USD_PER_SOLVER_UNIT,
    InfeasiblePlanError,
    Problem,
    build_from_inputs,
)
from planner.optimise.highs import Session
from planner.optimise.inputs import optimise_inputs
from planner.optimise.options import OptimiseOptions
from planner.optimise.solve import capacity_violations, solve, with_cuts
from planner.resolve import resolve
from planner.scenario import Scenario
from planner.uncertainty import sampling
from planner.uncertainty.engine import Prepared, apply_values, prepare, typed_values
from planner.uncertainty.spec import UncertaintySpec, default_uncertainty
from pricing.catalog import Catalog

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Objective = Literal["expected", "cvar"]
"""What the robust plan minimises: expected cost, or its CVaR at ``alpha``."""

FIRST_STAGE = ("servers", "commitments", "staff")
"""Column kinds decided now and shared by every future. [-]"""

DEFAULT_FUTURES = 50
"""Sampled futures of a robust plan (``K``). [-]"""

DEFAULT_ALPHA = 0.9
"""CVaR level: the mean of the worst 10 % of futures. [-]"""

DEFAULT_MIP_GAP = 1e-2
"""Relative MIP gap of the joint problem (1 %): the joint MILP is K times the
deterministic one, and the sampling error of K = 50 futures is larger; the
gap reached is reported. [-]"""

WAIT_AND_SEE_GAP = 1e-3
"""Relative MIP gap of each future's own optimum (wait-and-see). [-]"""

MAX_ROUNDS = 50
"""Most rounds of capacity-cut generation on the joint problem. [-]"""


@dataclass(frozen=True)
class PlanValue:
    """A first-stage plan valued in every future: its best second stage in each."""

    cost_usd: FloatArray
    """(futures,): objective (comparable NPV plus any carbon charge) in each
    future. [USD]"""
    expected_usd: float
    cvar_usd: float
    """Mean of the worst ``1 - alpha`` of the futures. [USD]"""


@dataclass(frozen=True)
class RobustPlan:
    """The robust first-stage plan, and what robustness and foresight are worth."""

    objective: str
    alpha: float
    futures: int
    seed: int
    view: str
    purchases: pd.DataFrame
    """year, calendar_year, spec, servers (first stage)."""
    commitments: pd.DataFrame
    """offer, start_year, calendar_year, term_years, instances."""
    staff_years: tuple[int, ...]
    """Running years in which the site is staffed."""
    robust: PlanValue
    deterministic: PlanValue
    """The plan of ``planner optimise`` on the scenario as written."""
    deterministic_purchases: pd.DataFrame
    deterministic_commitments: pd.DataFrame
    wait_and_see_usd: FloatArray
    """(futures,): each future's own optimum. [USD]"""
    value_of_stochastic_solution_usd: float
    """Deterministic plan's objective minus the robust plan's (expected, or CVaR
    for a CVaR plan), in the sampled futures. [USD]"""
    expected_value_of_perfect_information_usd: float
    """Robust plan's expected cost minus the mean wait-and-see cost. [USD]"""
    mip_gap: float
    seconds: float
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        """Return JSON-ready data (``planner optimise --robust --format json``).

        Returns
        -------
        dict
            Objective, futures, the two plans' first stages, their expected
            cost and CVaR, VSS, EVPI, per-future costs and notes.
        """

        def table(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {
                    str(k): (v.item() if isinstance(v, np.generic) else v)
                    for k, v in r.items()
                }
                for r in frame.to_dict(orient="records")
            ]

        def value(plan: PlanValue) -> dict[str, Any]:
            return {
                "expected_usd": round(plan.expected_usd),
                "cvar_usd": round(plan.cvar_usd),
                "cost_p10_usd": round(float(np.quantile(plan.cost_usd, 0.1))),
                "cost_p50_usd": round(float(np.quantile(plan.cost_usd, 0.5))),
                "cost_p90_usd": round(float(np.quantile(plan.cost_usd, 0.9))),
            }

        return {
            "objective": self.objective,
            "alpha": self.alpha,
            "futures": self.futures,
            "seed": self.seed,
            "view": self.view,
            "robust": {
                **value(self.robust),
                "purchases": table(self.purchases),
                "commitments": table(self.commitments),
                "staff_years": list(self.staff_years),
            },
            "deterministic": {
                **value(self.deterministic),
                "purchases": table(self.deterministic_purchases),
                "commitments": table(self.deterministic_commitments),
            },
            "wait_and_see_usd": round(float(self.wait_and_see_usd.mean())),
            "value_of_stochastic_solution_usd": round(
                self.value_of_stochastic_solution_usd
            ),
            "expected_value_of_perfect_information_usd": round(
                self.expected_value_of_perfect_information_usd
            ),
            "mip_gap": self.mip_gap,
            "notes": list(self.notes),
        }

    @property
    def summary(self) -> str:
        """Return the plan and its value in words."""
        buys = "; ".join(
            f"{row['servers']:.0f} x {row['spec']} in {row['calendar_year']}"
            for row in self.purchases.to_dict(orient="records")
        )
        commits = "; ".join(
            f"{row['instances']:.0f} x {row['offer']} for {row['term_years']} "
            f"years from {row['calendar_year']}"
            for row in self.commitments.to_dict(orient="records")
        )
        goal = (
            "expected cost"
            if self.objective == "expected"
            else f"the CVaR of cost at {self.alpha:.0%} (the mean of the worst "
            f"{1 - self.alpha:.0%} of futures)"
        )
        return (
            f"Robust plan over {self.futures} sampled futures, minimising {goal} "
            f"({self.view} view). Buy: {buys or 'nothing'}. Commit: "
            f"{commits or 'nothing'}. Expected cost ${self.robust.expected_usd:,.0f}"
            f" (deterministic plan ${self.deterministic.expected_usd:,.0f}); CVaR "
            f"${self.robust.cvar_usd:,.0f} (deterministic "
            f"${self.deterministic.cvar_usd:,.0f}). Value of the stochastic "
            f"solution ${self.value_of_stochastic_solution_usd:,.0f}; expected "
            "value of perfect information "
            f"${self.expected_value_of_perfect_information_usd:,.0f}."
        )


def cvar(costs: FloatArray, alpha: float) -> float:
    """Conditional value at risk: the mean of the worst ``1 - alpha`` of the costs.

    The Rockafellar-Uryasev value ``min_eta eta + E[(c - eta)+] / (1 - alpha)``
    of a discrete distribution, fractional atoms included.

    Parameters
    ----------
    costs : numpy.ndarray
        Costs of equally likely futures. [USD]
    alpha : float
        Level in [0, 1). [-]

    Returns
    -------
    float
        CVaR. [USD]

    Examples
    --------
    >>> import numpy as np
    >>> round(cvar(np.arange(1.0, 11.0), 0.8), 9)
    9.5
    >>> cvar(np.array([1.0, 2.0, 3.0]), 0.0)
    2.0
    """
    ordered = np.sort(np.asarray(costs, dtype=float))
    k = ordered.size
    tail = (1.0 - alpha) * k
    weights = np.clip(np.arange(1, k + 1) - (k - tail), 0.0, 1.0)
    return float(weights @ ordered / tail)


# --- the futures' problems ------------------------------------------------------------


def first_stage_columns(problem: Problem) -> IntArray:
    """Columns decided now (servers, commitments, staff), in column order."""
    parts = [np.asarray(problem.index[kind]).ravel() for kind in FIRST_STAGE]
    return np.sort(np.concatenate(parts)).astype(np.int64)


def _layout(problem: Problem, columns: IntArray) -> list[tuple[object, ...]]:
    labels = [
        c for c in ("kind", "spec", "offer", "year", "term") if c in problem.variables
    ]
    frame = problem.variables.iloc[columns][labels]
    return [tuple(row) for row in frame.itertuples(index=False)]


def future_problems(
    prepared: Prepared,
    values: FloatArray,
    options: OptimiseOptions,
) -> list[Problem]:
    """One optimiser problem per sampled future, priced with its inputs.

    Parameters
    ----------
    prepared : Prepared
        Scenario, plan and spec.
    values : numpy.ndarray of shape (futures, inputs)
        The futures' draws.
    options : OptimiseOptions
        Choices and limits (the same in every future).

    Returns
    -------
    list of Problem
        Built by :func:`planner.optimise.build.build_from_inputs`.

    Raises
    ------
    ValueError
        If the futures' problems do not share their first-stage columns.
    """
    problems = []
    for row in values:
        scenario = apply_values(prepared, row)
        resolved = resolve(scenario, prepared.catalog)
        problems.append(build_from_inputs(optimise_inputs(resolved, options)))
    reference = _layout(problems[0], first_stage_columns(problems[0]))
    for problem in problems[1:]:
        if _layout(problem, first_stage_columns(problem)) != reference:
            msg = "the sampled futures give different first-stage options"
            raise ValueError(msg)
    return problems


# --- the joint problem ----------------------------------------------------------------


@dataclass(frozen=True)
class _Joint:
    c: FloatArray
    a: sparse.csr_array
    row_lb: FloatArray
    row_ub: FloatArray
    var_lb: FloatArray
    var_ub: FloatArray
    integrality: IntArray
    maps: tuple[IntArray, ...]
    """Joint column of each future problem's columns."""


def lifted(problems: Sequence[Problem]) -> list[Problem]:
    """The futures' problems with one upper bound on each first-stage column.

    Each future bounds a purchase by its own peak demand and uses that bound as
    the big-M of "servers run only with staff"; a plan shared by all futures may
    exceed one future's peak, so every future gets the largest bound and the
    matching big-M.

    Parameters
    ----------
    problems : sequence of Problem
        The futures' problems (same first-stage columns).

    Returns
    -------
    list of Problem
        The same problems, bounds and big-M raised.
    """
    first = first_stage_columns(problems[0])
    upper = np.max([p.var_ub[first] for p in problems], axis=0)
    staff = set(problems[0].index["staff"].ravel().tolist())
    servers = set(problems[0].index["servers"].ravel().tolist())
    bound = dict(zip(first.tolist(), upper.tolist(), strict=True))
    out = []
    for problem in problems:
        ub = problem.var_ub.copy()
        ub[first] = upper
        coo = problem.A.tocoo()
        values = coo.data.astype(float).copy()
        switch = problem.constraints["group"].to_numpy() == "staff_switch"
        for row in np.unique(coo.row[switch[coo.row]]):
            entries = np.flatnonzero(coo.row == row)
            column = next(
                int(coo.col[e]) for e in entries if int(coo.col[e]) in servers
            )
            for e in entries:
                if int(coo.col[e]) in staff:
                    values[e] = -max(bound[column], 1.0)
        a = sparse.csr_array(
            sparse.coo_array((values, (coo.row, coo.col)), shape=problem.A.shape)
        )
        out.append(dataclasses.replace(problem, A=a, var_ub=ub))
    return out


def _joint(problems: Sequence[Problem], objective: Objective, alpha: float) -> _Joint:
    """The deterministic equivalent: futures joined on their first-stage columns."""
    k = len(problems)
    first = first_stage_columns(problems[0])
    m1 = first.size
    lb1 = np.max([p.var_lb[first] for p in problems], axis=0)
    ub1 = np.max([p.var_ub[first] for p in problems], axis=0)
    c1 = np.zeros(m1)
    rows, cols, vals = [], [], []
    row_lb, row_ub = [], []
    var_lb, var_ub, integrality = [lb1], [ub1], [problems[0].integrality[first]]
    c_parts: list[FloatArray] = [c1]
    maps = []
    offset, row_offset = m1, 0
    for problem in problems:
        n = problem.c.size
        second = np.setdiff1d(np.arange(n), first)
        mapping = np.empty(n, dtype=np.int64)
        mapping[first] = np.arange(m1)
        mapping[second] = offset + np.arange(second.size)
        maps.append(mapping)
        coo = problem.A.tocoo()
        values = coo.data.astype(float)
        rows.append(coo.row + row_offset)
        cols.append(mapping[coo.col])
        vals.append(values)
        row_lb.append(problem.row_lb)
        row_ub.append(problem.row_ub)
        var_lb.append(problem.var_lb[second])
        var_ub.append(problem.var_ub[second])
        integrality.append(problem.integrality[second])
        if objective == "expected":
            c1 += problem.c[first] / k
            c_parts.append(problem.c[second] / k)
        else:
            c_parts.append(np.zeros(second.size))
        offset += second.size
        row_offset += problem.A.shape[0]
    if objective == "cvar":
        # eta (free) and one shortfall s_k per future.
        eta = offset
        shortfall = offset + 1 + np.arange(k)
        for j, (problem, mapping) in enumerate(zip(problems, maps, strict=True)):
            row = row_offset + j
            nonzero = np.flatnonzero(problem.c)
            rows.append(np.full(nonzero.size + 2, row))
            cols.append(np.concatenate([mapping[nonzero], [eta, shortfall[j]]]))
            vals.append(np.concatenate([problem.c[nonzero], [-1.0, -1.0]]))
        row_lb.append(np.full(k, -np.inf))
        row_ub.append(np.zeros(k))
        var_lb.append(np.concatenate([[-np.inf], np.zeros(k)]))
        var_ub.append(np.full(k + 1, np.inf))
        integrality.append(np.zeros(k + 1, dtype=np.int64))
        c_parts.append(np.concatenate([[1.0], np.full(k, 1.0 / ((1.0 - alpha) * k))]))
        offset += k + 1
        row_offset += k
    a = sparse.csr_array(
        sparse.coo_array(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(row_offset, offset),
        )
    )
    return _Joint(
        c=np.concatenate(c_parts),
        a=a,
        row_lb=np.concatenate(row_lb),
        row_ub=np.concatenate(row_ub),
        var_lb=np.concatenate(var_lb),
        var_ub=np.concatenate(var_ub),
        integrality=np.concatenate(integrality).astype(np.int64),
        maps=tuple(maps),
    )


# --- solving --------------------------------------------------------------------------

HEURISTIC_EFFORT = 0.01
"""Share of HiGHS' MIP effort on primal heuristics (its default 0.05): the
deterministic plan is handed over as the first incumbent instead. [-]"""


@dataclass(frozen=True)
class _Solved:
    status: Literal["optimal", "time_limit", "infeasible", "failed"]
    x: FloatArray | None
    objective: float
    """In solver units (thousands of USD)."""
    gap: float
    message: str = ""


def _solve_model(
    joint: _Joint,
    *,
    relax: bool,
    time_limit_s: float,
    mip_rel_gap: float,
    start: FloatArray | None = None,
) -> _Solved:
    """One HiGHS solve of the joint problem (the optimiser's session), MIP start."""
    session = Session(
        joint.c,
        sparse.csr_array(joint.a),
        joint.row_lb,
        joint.row_ub,
        joint.var_lb,
        joint.var_ub,
        joint.integrality,
        relax=relax,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        # Presolve of K near-copies of one problem finds little and costs half
        # the time; restarts redo the root of a model this size (measured on
        # the department example: about twice as fast without either).
        options={
            "mip_heuristic_effort": HEURISTIC_EFFORT,
            "presolve": "off",
            "mip_allow_restart": False,
        },
    )
    result = session.run(start if start is not None and not relax else None)
    status = {0: "optimal", 1: "time_limit", 2: "infeasible"}.get(
        int(result.status), "failed"
    )
    x = None if result.x is None else np.asarray(result.x, dtype=float)
    return _Solved(
        status=status,  # type: ignore[arg-type]
        x=x,
        objective=float(result.fun) if x is not None else float("inf"),
        gap=float(result.get("mip_gap", 0.0) or 0.0) if x is not None else 0.0,
        message=str(result.message),
    )


SEED_SPREAD = 0
"""Breakpoints either side of a plan's capacity whose tangents seed a future. [-]"""


def seeded(
    problem: Problem, first_stage: FloatArray, *, spread: int | None = None
) -> Problem:
    """A problem's capacity rows replaced by the tangents a plan needs.

    The optimiser writes tangents at fixed quantiles of each curve; a joint
    problem has ``K`` times as many. Here each future starts with the tangents
    at the capacities of a given plan (and ``spread`` breakpoints either side,
    :data:`SEED_SPREAD` by default) for every set of sources and year; cut
    generation adds any other that a solution needs, so the answer is the same.

    Parameters
    ----------
    problem : Problem
        A future's problem.
    first_stage : numpy.ndarray
        A plan's first-stage values (the deterministic plan).

    Returns
    -------
    Problem
        The same problem with those capacity rows.
    """
    from planner.optimise.solve import capacities, subset_masks

    keep = np.flatnonzero(problem.constraints["group"].to_numpy() != "capacity")
    bare = dataclasses.replace(
        problem,
        A=sparse.csr_array(problem.A[keep]),
        row_lb=problem.row_lb[keep],
        row_ub=problem.row_ub[keep],
        constraints=problem.constraints.iloc[keep].reset_index(drop=True),
        cuts=frozenset(),
    )
    sources = len(problem.capacity_sources)
    if not sources:
        return bare
    x = np.zeros(problem.c.size)
    x[first_stage_columns(problem)] = first_stage
    capacity = capacities(problem, x)
    masks = subset_masks(sources)
    curve = problem.inputs.curve
    points = curve.levels.shape[1]
    width = SEED_SPREAD if spread is None else spread
    cuts = set()
    for year in range(problem.inputs.years):
        reach = masks.astype(float) @ capacity[:, year]
        for mask, level in zip(masks, reach, strict=True):
            subset = tuple(int(s) for s in np.flatnonzero(mask))
            point = curve.breakpoint(year, float(level))
            for near in range(point - width, point + width + 1):
                if 0 <= near <= points:
                    cuts.add((year, subset, int(near)))
    return with_cuts(bare, sorted(cuts))


def _add_cuts(problems: list[Problem], joint: _Joint, x: FloatArray) -> bool:
    """Add each future's violated capacity cuts; True if any was added."""
    added = False
    for j, (problem, mapping) in enumerate(zip(problems, joint.maps, strict=True)):
        cuts = [
            cut
            for cut, _ in capacity_violations(problem, x[mapping])
            if cut not in problem.cuts
        ]
        if cuts:
            problems[j] = with_cuts(problem, list(dict.fromkeys(cuts)))
            added = True
    return added


def _start(
    problems: Sequence[Problem],
    joint: _Joint,
    first_stage: FloatArray,
    objective: Objective,
    alpha: float,
) -> FloatArray | None:
    """A feasible joint solution: a first stage and its best dispatch in each future.

    For a CVaR objective, ``eta`` is the plan's value at risk and each shortfall
    its excess over it. None if the plan is infeasible in some future.
    """
    x = np.zeros(joint.c.size)
    first = first_stage_columns(problems[0])
    x[: first.size] = first_stage
    costs = []
    for problem, mapping in zip(problems, joint.maps, strict=True):
        result = solve(_fixed(problem, first_stage))
        if result.status == 2 or result.x is None:
            return None
        second = np.setdiff1d(np.arange(problem.c.size), first)
        x[mapping[second]] = np.asarray(result.x, dtype=float)[second]
        costs.append(float(result.fun))
    if objective == "cvar":
        k = len(problems)
        ordered = np.sort(costs)
        eta = float(ordered[min(k - 1, int(np.ceil(alpha * k)) - 1)]) if k else 0.0
        tail = joint.c.size - (k + 1)
        x[tail] = eta
        x[tail + 1 :] = np.maximum(np.asarray(costs) - eta, 0.0)
    return x


def solve_joint(
    problems: list[Problem],
    *,
    objective: Objective = "expected",
    alpha: float = DEFAULT_ALPHA,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = DEFAULT_MIP_GAP,
    start: FloatArray | None = None,
) -> tuple[FloatArray, float, float, list[Problem]]:
    """Solve the joint problem, adding each future's violated capacity cuts.

    The capacity rows start from the tangents ``start`` needs (:func:`seeded`);
    cuts are generated until no future's capacity condition is violated.
    ``start`` (with its best dispatch in each future) is the first incumbent.

    Parameters
    ----------
    problems : list of Problem
        The futures' problems.
    objective : {"expected", "cvar"}, default "expected"
        What to minimise.
    alpha : float, default 0.9
        CVaR level.
    time_limit_s : float, default 60
        HiGHS time limit of each MILP round. [s]
    mip_rel_gap : float, default 0.01
        Relative MIP gap. [-]
    start : numpy.ndarray, optional
        A first-stage plan (the deterministic one) to seed cuts and the search.

    Returns
    -------
    first_stage : numpy.ndarray
        Values of the first-stage columns (integers rounded).
    objective_usd : float
        The joint objective. [USD]
    gap : float
        MIP gap reported by HiGHS. [-]
    problems : list of Problem
        The futures' problems, lifted (:func:`lifted`), with their cuts.

    Raises
    ------
    InfeasiblePlanError
        If no first-stage plan serves every future within the limits.
    RuntimeError
        If HiGHS fails or the cuts do not converge.
    """
    current = lifted(problems)
    if start is not None:
        current = [seeded(problem, start) for problem in current]
    first = first_stage_columns(current[0])
    for _ in range(MAX_ROUNDS):
        joint = _joint(current, objective, alpha)
        incumbent = (
            None if start is None else _start(current, joint, start, objective, alpha)
        )
        result = _solve_model(
            joint,
            relax=False,
            time_limit_s=time_limit_s,
            mip_rel_gap=mip_rel_gap,
            start=incumbent,
        )
        if result.status == "infeasible":
            msg = (
                "no first-stage plan serves every sampled future within the "
                "limits; relax a limit or allow unserved work"
            )
            raise InfeasiblePlanError([msg])
        if result.x is None:
            msg = f"robust plan: HiGHS failed: {result.message}"
            raise RuntimeError(msg)
        if not _add_cuts(current, joint, result.x):
            values = result.x[: first.size].copy()
            integer = current[0].integrality[first].astype(bool)
            values[integer] = np.round(values[integer])
            return (
                values,
                result.objective * USD_PER_SOLVER_UNIT,
                result.gap,
                current,
            )
    msg = "robust plan: capacity cuts did not converge"
    raise RuntimeError(msg)


# --- valuing a plan -------------------------------------------------------------------


def _fixed(problem: Problem, values: FloatArray) -> Problem:
    first = first_stage_columns(problem)
    lb, ub = problem.var_lb.copy(), problem.var_ub.copy()
    lb[first] = ub[first] = values
    return dataclasses.replace(problem, var_lb=lb, var_ub=ub)


def _plan_cost_usd(item: tuple[Problem, FloatArray]) -> float:
    """A future's cost under a fixed first stage (an LP), +inf if infeasible. [USD]."""
    problem, first_stage = item
    result = solve(_fixed(problem, first_stage))
    if result.status == 2 or result.x is None:
        return float("inf")
    return float(result.fun) * USD_PER_SOLVER_UNIT


def _own_optima_usd(
    item: tuple[Prepared, FloatArray, OptimiseOptions, FloatArray, float],
) -> list[float]:
    """Each future's own optimum (wait-and-see), for a chunk of futures. [USD].

    The chunk's problems are built where it runs (a draw is a few numbers, a
    problem several megabytes) and searched from a plan feasible in every
    future.
    """
    prepared, values, options, start, gap = item
    return [
        solve_joint([problem], start=start, mip_rel_gap=gap)[1]
        for problem in future_problems(prepared, values, options)
    ]


def wait_and_see_usd(
    prepared: Prepared,
    values: FloatArray,
    options: OptimiseOptions,
    start: FloatArray,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
) -> FloatArray:
    """Each sampled future's own optimum, as if it were known (a sweep of MILPs).

    Parameters
    ----------
    prepared : Prepared
        Scenario, plan and spec.
    values : numpy.ndarray of shape (futures, inputs)
        The futures' draws.
    options : OptimiseOptions
        Choices and limits.
    start : numpy.ndarray
        A first-stage plan feasible in every future (the robust plan).
    scheduler : str, optional
        Dask scheduler for the sweep.
    workers : int, optional
        Local processes (default: the CPUs).

    Returns
    -------
    numpy.ndarray of shape (futures,)
        Each future's optimal objective. [USD]
    """
    import os

    from planner.uncertainty.sweep import run_sweep, scheduler_address

    count = workers or (os.cpu_count() or 1)
    if scheduler_address(scheduler) is not None:
        count = values.shape[0]
    chunks = [c for c in np.array_split(np.arange(values.shape[0]), count) if c.size]
    items = [(prepared, values[c], options, start, WAIT_AND_SEE_GAP) for c in chunks]
    parts = run_sweep(_own_optima_usd, items, scheduler=scheduler, workers=workers)
    return np.array([cost for part in parts for cost in part], dtype=float)


def value_plan(
    problems: Sequence[Problem],
    first_stage: FloatArray,
    *,
    alpha: float = DEFAULT_ALPHA,
    scheduler: str | None = None,
    workers: int | None = 1,
) -> PlanValue:
    """A first-stage plan's cost in each future (its best second stage there).

    Parameters
    ----------
    problems : sequence of Problem
        The futures' problems, lifted (:func:`lifted`).
    first_stage : numpy.ndarray
        Values of the first-stage columns.
    alpha : float, default 0.9
        CVaR level.
    scheduler : str, optional
        Dask scheduler for the sweep of solves.
    workers : int, default 1
        Local processes for it (each solve is a small LP: one process is
        usually fastest).

    Returns
    -------
    PlanValue
        Costs, their mean and CVaR.
    """
    from planner.uncertainty.sweep import run_sweep

    costs = np.array(
        run_sweep(
            _plan_cost_usd,
            [(p, first_stage) for p in problems],
            scheduler=scheduler,
            workers=workers,
        ),
        dtype=float,
    )
    return PlanValue(
        cost_usd=costs, expected_usd=float(costs.mean()), cvar_usd=cvar(costs, alpha)
    )


def _tables(
    problem: Problem, values: FloatArray, start_year: int
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[int, ...]]:
    """Purchases, commitments and staffed years of first-stage values."""
    first = first_stage_columns(problem)
    x = np.zeros(problem.c.size)
    x[first] = values
    variables = problem.variables
    servers = problem.index["servers"].ravel()
    bought = [
        {
            "year": int(variables.iloc[c]["year"]),
            "calendar_year": start_year + int(variables.iloc[c]["year"]),
            "spec": str(variables.iloc[c]["spec"]),
            "servers": float(x[c]),
        }
        for c in servers
        if x[c] > 0.5
    ]
    committed = [
        {
            "offer": str(variables.iloc[c]["offer"]),
            "start_year": int(variables.iloc[c]["year"]),
            "calendar_year": start_year + int(variables.iloc[c]["year"]),
            "term_years": int(variables.iloc[c]["term"]),
            "instances": float(x[c]),
        }
        for c in problem.index["commitments"].ravel()
        if x[c] > 0.5
    ]
    staffed = tuple(
        int(variables.iloc[c]["year"])
        for c in problem.index["staff"].ravel()
        if x[c] > 0.5
    )
    purchases = pd.DataFrame(
        bought, columns=["year", "calendar_year", "spec", "servers"]
    )
    commitments = pd.DataFrame(
        committed,
        columns=["offer", "start_year", "calendar_year", "term_years", "instances"],
    )
    return purchases, commitments, staffed


# --- the whole question ---------------------------------------------------------------


def robust_plan(
    scenario: Scenario,
    spec: UncertaintySpec | None = None,
    options: OptimiseOptions | None = None,
    *,
    futures: int = DEFAULT_FUTURES,
    objective: Objective = "expected",
    alpha: float = DEFAULT_ALPHA,
    seed: int | None = None,
    catalog: Catalog | None = None,
    mip_rel_gap: float = DEFAULT_MIP_GAP,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> RobustPlan:
    """A fleet plan that holds up across sampled futures (``optimise --robust``).

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    spec : UncertaintySpec, optional
        The uncertain inputs (default: :func:`default_uncertainty`).
    options : OptimiseOptions, optional
        Choices and limits of the optimiser, in every future.
    futures : int, default 50
        Sampled futures ``K``.
    objective : {"expected", "cvar"}, default "expected"
        Minimise the expected cost or its CVaR at ``alpha``.
    alpha : float, default 0.9
        CVaR level, in [0, 1).
    seed : int, optional
        Overrides the spec's seed.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.
    mip_rel_gap : float, default 0.01
        Relative MIP gap of the joint problem.
    scheduler : str, optional
        Dask scheduler for the sweeps of solves that value the plans.
    workers : int, optional
        Local processes for the wait-and-see solves (default: the CPUs).
    progress : callable, optional
        ``progress(fraction, stage)``.

    Returns
    -------
    RobustPlan
        The robust and deterministic first stages, their costs in each future,
        VSS and EVPI.

    Raises
    ------
    ValueError
        For ``futures`` below 2 or ``alpha`` outside [0, 1).
    InfeasiblePlanError
        If no plan serves every future within the limits.
    """
    if futures < 2:
        msg = f"futures must be at least 2, got {futures}"
        raise ValueError(msg)
    if not 0.0 <= alpha < 1.0:
        msg = f"alpha must be in [0, 1), got {alpha}"
        raise ValueError(msg)

    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(fraction, stage)

    started = time.perf_counter()
    chosen = catalog or Catalog()
    options = options or OptimiseOptions()
    spec = spec or default_uncertainty(scenario, catalog=chosen)
    report(0.0, "futures")
    prepared = prepare(scenario, spec, catalog=chosen)
    values = typed_values(prepared, sampling.sample_values(spec, futures, seed=seed))
    problems = future_problems(prepared, values, options)
    report(0.2, "deterministic plan")
    base = build_from_inputs(optimise_inputs(prepared.resolved, options))
    result = solve(base)
    if result.status == 2 or result.x is None:
        msg = "the scenario as written has no feasible plan within the limits"
        raise InfeasiblePlanError([msg])
    first = first_stage_columns(base)
    deterministic = np.asarray(result.x, dtype=float)[first]
    integer = base.integrality[first].astype(bool)
    deterministic[integer] = np.round(deterministic[integer])
    report(0.25, "joint problem")
    robust, _, gap, problems = solve_joint(
        problems,
        objective=objective,
        alpha=alpha,
        time_limit_s=options.time_limit_s,
        mip_rel_gap=mip_rel_gap,
        start=deterministic,
    )
    report(0.6, "valuing the plans")
    robust_value = value_plan(
        problems, robust, alpha=alpha, scheduler=scheduler, workers=1
    )
    deterministic_value = value_plan(
        problems, deterministic, alpha=alpha, scheduler=scheduler, workers=1
    )
    report(0.7, "wait and see")
    wait_and_see = wait_and_see_usd(
        prepared, values, options, robust, scheduler=scheduler, workers=workers
    )
    if objective == "expected":
        vss = deterministic_value.expected_usd - robust_value.expected_usd
    else:
        vss = deterministic_value.cvar_usd - robust_value.cvar_usd
    evpi = robust_value.expected_usd - float(wait_and_see.mean())
    start = scenario.start_year
    purchases, commitments, staffed = _tables(problems[0], robust, start)
    det_purchases, det_commitments, _ = _tables(problems[0], deterministic, start)
    notes = [
        "VSS and EVPI are in-sample: measured on the same sampled futures the plan "
        "was chosen for",
    ]
    if gap > 0:
        notes.append(f"joint problem solved to a {gap:.2%} MIP gap")
    report(1.0, "done")
    return RobustPlan(
        objective=objective,
        alpha=alpha,
        futures=futures,
        seed=spec.seed if seed is None else seed,
        view=problems[0].inputs.view,
        purchases=purchases,
        commitments=commitments,
        staff_years=staffed,
        robust=robust_value,
        deterministic=deterministic_value,
        deterministic_purchases=det_purchases,
        deterministic_commitments=det_commitments,
        wait_and_see_usd=wait_and_see,
        value_of_stochastic_solution_usd=float(vss),
        expected_value_of_perfect_information_usd=float(evpi),
        mip_gap=gap,
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )
