"""Solve a built problem with HiGHS, generating capacity cuts until none is violated.

scipy's ``milp`` has been seen to report "optimal" while violating a bound (scipy
issue #22812), so every solution is checked (:func:`check_solution`), including
the capacity condition for every set of sources on the exact load-duration curve,
not only the cuts present.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, sparse

from planner.optimise.build import Cut, Problem, cut_rows, sparse_from

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FEASIBILITY_TOLERANCE = 1e-6
"""Relative tolerance of the solution check: row activity and bounds may be off
by this share of the row's magnitude (HiGHS' own default is 1e-7 absolute on its
scaled model). [-]"""

CUT_TOLERANCE = 1e-9
"""Violation of a capacity tangent, relative to 1 + the year's mean demand,
above which a cut is added: tighter than the check, so a solution is exact to
it. [-]"""

MAX_GENERATION_ROUNDS = 200
"""Most re-solves while generating capacity cuts (each adds at least one). [-]"""

_MASKS: dict[int, npt.NDArray[np.bool_]] = {}


def subset_masks(sources: int) -> npt.NDArray[np.bool_]:
    """Every non-empty subset of ``sources`` items as rows of a boolean matrix."""
    if sources not in _MASKS:
        codes = np.arange(1, 2**sources)
        _MASKS[sources] = (codes[:, None] >> np.arange(sources)[None, :]) & 1 == 1
    return _MASKS[sources]


def capacities(problem: Problem, x: FloatArray) -> FloatArray:
    """Usable capacity of each source in each year, in reference accelerators."""
    n = problem.inputs.years
    out = np.zeros((len(problem.capacity_sources), n))
    for source, per_year in enumerate(problem.capacity_terms):
        for year, (cols, coefs) in enumerate(per_year):
            out[source, year] = float(x[cols] @ coefs) if cols.size else 0.0
    return out


def capacity_violations(
    problem: Problem, x: FloatArray, *, tolerance: float = CUT_TOLERANCE
) -> list[tuple[Cut, float]]:
    """Sets of capacity sources whose yearly energy cannot be served in time.

    For every running year and every non-empty set S of capacity sources, the
    energy of S, less what is deferred, must not exceed what capacity(S) can serve
    in the hours demand arrives, ``sum_h w_h min(D_h, capacity(S)) / 8760`` (the
    cut condition of Gale's supply-demand theorem [1]_), on the exact curve. If
    no set is violated, an hour-by-hour dispatch with these energies exists.

    Parameters
    ----------
    problem : Problem
        The problem (capacity sources and their capacity expressions).
    x : numpy.ndarray
        Solution vector. [solver units]
    tolerance : float, default 1e-9
        Allowed excess relative to 1 + the year's mean demand. [-]

    Returns
    -------
    list of ((year, subset, breakpoint), excess)
        The tangent that cuts each violation off, and the excess. [reference
        accelerators]

    References
    ----------
    .. [1] D. Gale, "A theorem on flows in networks," Pacific J. Math., vol. 7,
       no. 2, pp. 1073-1082, 1957, doi:10.2140/pjm.1957.7.1073.
    """
    m = len(problem.capacity_sources)
    if not m:
        return []
    curve = problem.inputs.curve
    masks = subset_masks(m)
    weights = masks.astype(float)
    energy = x[problem.index["energy"]]
    capacity = capacities(problem, x)
    deferred_cols = problem.index["deferred"]
    deferred = (
        x[deferred_cols] if deferred_cols.size else np.zeros(problem.inputs.years)
    )
    mean = curve.mean
    out = []
    for year in range(problem.inputs.years):
        served = weights @ energy[:, year]
        reach = weights @ capacity[:, year]
        possible = curve.served(year, reach)
        excess = served - deferred[year] - possible
        bad = excess > tolerance * (1.0 + mean[year])
        for index in np.flatnonzero(bad):
            subset = tuple(int(s) for s in np.flatnonzero(masks[index]))
            point = curve.breakpoint(year, float(reach[index]))
            out.append(((year, subset, point), float(excess[index])))
    return out


def with_cuts(problem: Problem, cuts: Sequence[Cut]) -> Problem:
    """The problem with the capacity rows of ``cuts`` appended."""
    first = problem.A.shape[0]
    parts, upper, meta = cut_rows(
        problem.inputs, problem.index, problem.capacity_terms, cuts, first
    )
    shifted = [(r - first, c, v) for r, c, v in parts]
    extra = sparse_from(shifted, (len(cuts), problem.c.size))
    constraints = pd.concat(
        [problem.constraints, pd.DataFrame(meta)], ignore_index=True
    )
    return dataclasses.replace(
        problem,
        A=sparse.vstack([problem.A, extra], format="csr"),
        row_lb=np.concatenate([problem.row_lb, np.full(upper.size, -np.inf)]),
        row_ub=np.concatenate([problem.row_ub, upper]),
        constraints=constraints,
        cuts=problem.cuts | frozenset(cuts),
    )


@dataclass(frozen=True)
class Extra:
    """Rows and slack columns added to a problem for one solve."""

    rows: sparse.csr_array | None = None
    """Rows over the problem's columns plus the slack columns."""
    rows_lb: FloatArray | None = None
    rows_ub: FloatArray | None = None
    slack: sparse.csr_array | None = None
    """Slack columns over the problem's rows at the time of the call."""
    c: FloatArray | None = None
    """Objective over the problem's columns plus the slack columns."""


def _model(
    problem: Problem, extra: Extra
) -> tuple[
    FloatArray,
    sparse.csr_array,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    IntArray,
]:
    a = problem.A
    k = 0 if extra.slack is None else extra.slack.shape[1]
    if extra.slack is not None:
        pad = sparse.csr_array((a.shape[0] - extra.slack.shape[0], k))
        a = sparse.hstack([a, sparse.vstack([extra.slack, pad])], format="csr")
    lb, ub = problem.row_lb, problem.row_ub
    if extra.rows is not None:
        assert extra.rows_lb is not None
        assert extra.rows_ub is not None
        a = sparse.vstack([a, extra.rows], format="csr")
        lb = np.concatenate([lb, extra.rows_lb])
        ub = np.concatenate([ub, extra.rows_ub])
    c = extra.c if extra.c is not None else np.concatenate([problem.c, np.zeros(k)])
    return (
        c,
        a,
        lb,
        ub,
        np.concatenate([problem.var_lb, np.zeros(k)]),
        np.concatenate([problem.var_ub, np.full(k, np.inf)]),
        np.concatenate([problem.integrality, np.zeros(k, dtype=np.int64)]),
    )


def milp(
    c: FloatArray,
    a: sparse.csr_array,
    row_lb: FloatArray,
    row_ub: FloatArray,
    var_lb: FloatArray,
    var_ub: FloatArray,
    integrality: IntArray,
    *,
    time_limit_s: float,
    mip_rel_gap: float,
) -> optimize.OptimizeResult:
    """One ``scipy.optimize.milp`` (HiGHS branch-and-cut) call."""
    constraints = [optimize.LinearConstraint(a, row_lb, row_ub)] if a.shape[0] else []
    return optimize.milp(
        c,
        integrality=integrality,
        bounds=optimize.Bounds(var_lb, var_ub),
        constraints=constraints,
        options={
            "time_limit": time_limit_s,
            "mip_rel_gap": mip_rel_gap,
            "presolve": True,
            "disp": False,
        },
    )


def linprog(
    c: FloatArray,
    a: sparse.csr_array,
    row_lb: FloatArray,
    row_ub: FloatArray,
    var_lb: FloatArray,
    var_ub: FloatArray,
) -> optimize.OptimizeResult:
    """The LP with ``d_ub`` and ``d_lb``: d(objective)/d(row bound) per row.

    ``milp`` returns no duals (docs/methods.md §2.1), so relaxations are solved with
    ``linprog(method="highs")``, whose ``ineqlin.marginals`` are the
    sensitivities of the optimum to the right-hand sides.
    """
    upper = np.flatnonzero(np.isfinite(row_ub))
    lower = np.flatnonzero(np.isfinite(row_lb))
    a_ub = sparse.vstack([a[upper], -a[lower]], format="csr")
    b_ub = np.concatenate([row_ub[upper], -row_lb[lower]])
    bounds = [
        (float(low), float(high)) for low, high in zip(var_lb, var_ub, strict=True)
    ]
    result: optimize.OptimizeResult = optimize.linprog(
        c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs"
    )
    d_ub = np.zeros(a.shape[0])
    d_lb = np.zeros(a.shape[0])
    if result.status == 0:
        marginals = np.asarray(result.ineqlin.marginals, dtype=float)
        d_ub[upper] = marginals[: upper.size]
        d_lb[lower] = -marginals[upper.size :]
    result["d_ub"] = d_ub
    result["d_lb"] = d_lb
    return result


def solve_generated(
    problem: Problem, extra: Extra | None = None, *, relax: bool = False
) -> tuple[optimize.OptimizeResult, Problem]:
    """Solve, adding violated capacity cuts and re-solving until none is violated.

    Returns the last result and the problem with every generated cut.
    """
    extra = extra or Extra()
    current = problem
    n_vars = problem.c.size
    options = problem.options
    for _ in range(MAX_GENERATION_ROUNDS):
        c, a, row_lb, row_ub, var_lb, var_ub, integrality = _model(current, extra)
        if relax:
            result = linprog(c, a, row_lb, row_ub, var_lb, var_ub)
            x = result.x if result.status == 0 else None
        else:
            result = milp(
                c,
                a,
                row_lb,
                row_ub,
                var_lb,
                var_ub,
                integrality,
                time_limit_s=options.time_limit_s,
                mip_rel_gap=options.mip_rel_gap,
            )
            x = result.x
        if x is None:
            return result, current
        cuts = [
            cut
            for cut, _ in capacity_violations(
                current, np.asarray(x[:n_vars], dtype=float)
            )
            if cut not in current.cuts
        ]
        if not cuts:
            return result, current
        current = with_cuts(current, list(dict.fromkeys(cuts)))
    msg = "capacity cuts did not converge: the solver keeps violating them"
    raise RuntimeError(msg)


def solve(problem: Problem) -> optimize.OptimizeResult:
    """Solve a built problem with HiGHS branch-and-cut (the *solve* step).

    Capacity cuts are generated while solving (see :mod:`planner.optimise.build`);
    the problem with every generated cut is returned in the result's ``problem``
    entry, for :func:`planner.optimise.extract.extract`.

    Parameters
    ----------
    problem : Problem
        From :func:`planner.optimise.build.build_problem`.

    Returns
    -------
    scipy.optimize.OptimizeResult
        The raw ``milp`` result: status 0 (optimal), 1 (time limit with a
        feasible plan) or 2 (infeasible, diagnosed by ``extract``), plus
        ``problem``.

    Raises
    ------
    RuntimeError
        If HiGHS fails for any other reason (unbounded, numerical trouble, or a
        time limit without any feasible plan), with the solver's message.
    """
    result, final = solve_generated(problem)
    result["problem"] = final
    if result.status != 2 and result.x is None:
        msg = f"fleet optimisation failed (status {result.status}): {result.message}"
        raise RuntimeError(msg)
    return result


def rounded(problem: Problem, x: FloatArray) -> FloatArray:
    """Integers rounded; every value clipped into its bounds."""
    values = np.asarray(x, dtype=float)[: problem.c.size]
    out: FloatArray = np.clip(values, problem.var_lb, problem.var_ub)
    integer = problem.integrality.astype(bool)
    out[integer] = np.round(out[integer])
    return out


def check_solution(
    problem: Problem, x: FloatArray, *, tolerance: float = FEASIBILITY_TOLERANCE
) -> list[str]:
    """Violations of the rows, bounds, integrality and capacity of ``problem``.

    Parameters
    ----------
    problem : Problem
        The problem.
    x : numpy.ndarray
        Candidate solution. [solver units]
    tolerance : float, default 1e-6
        Allowed violation relative to the row's magnitude ``|A| |x|`` (or the
        bound), at least absolute. [-]

    Returns
    -------
    list of str
        One line per violated row, bound, integrality or capacity set; empty if
        feasible.
    """
    problems = []
    activity = problem.A @ x
    magnitude = 1.0 + abs(problem.A) @ np.abs(x)
    low = problem.row_lb - activity > tolerance * magnitude
    high = activity - problem.row_ub > tolerance * magnitude
    for row in np.flatnonzero(low | high):
        meta = problem.constraints.iloc[row]
        problems.append(
            f"row {row} ({meta['group']}, year {meta.get('year')}): activity "
            f"{activity[row]:.9g} outside [{problem.row_lb[row]:.9g}, "
            f"{problem.row_ub[row]:.9g}]"
        )
    scale = 1.0 + np.abs(x)
    bad = (problem.var_lb - x > tolerance * scale) | (
        x - problem.var_ub > tolerance * scale
    )
    for col in np.flatnonzero(bad):
        problems.append(
            f"variable {col} ({problem.variables.iloc[col]['kind']}) = {x[col]:.9g} "
            f"outside [{problem.var_lb[col]:.9g}, {problem.var_ub[col]:.9g}]"
        )
    integer = problem.integrality.astype(bool)
    fractional = integer & (np.abs(x - np.round(x)) > 1e-5)
    for col in np.flatnonzero(fractional):
        problems.append(
            f"variable {col} ({problem.variables.iloc[col]['kind']}) = {x[col]:.9g} "
            "is not integer"
        )
    for (year, subset, _), excess in capacity_violations(
        problem, x, tolerance=tolerance * 10
    ):
        names = [problem.capacity_sources[s] for s in subset]
        problems.append(
            f"capacity of {names} in year {year + 1} exceeded by {excess:.6g} "
            "reference accelerators"
        )
    return problems
