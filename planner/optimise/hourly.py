"""The same fleet problem with one variable per hour per source: the reference.

The optimiser writes capacity as tangents of each year's load-duration curve
(:mod:`planner.optimise.build`), generated as a solution needs them. The
formulation of PyPSA and most capacity-expansion models instead dispatches every
snapshot: for each hour ``h`` of year ``y`` and capacity source ``s`` (an owned
spec, an offer's commitment), the work served in the hour ``x[s, y, h] <=
K[s, y]``, and the rest of the hour's demand ``q[y, h]`` goes to the annual
sinks (rented on demand or spot, unserved, or deferred to spare hours, the
catch-up ``z[s, y, h]`` sharing the hour's capacity). :func:`hourly_model` builds
that formulation on a built :class:`~planner.optimise.build.Problem`: the same
columns, costs and limits, the capacity tangents replaced by the hourly rows. Its
optimum equals the tangent model's (Gale's theorem, the argument of
:func:`planner.optimise.solve.capacity_violations`); tests and
``benchmarks/bench_optimise_year.py`` check it, to 1e-9.

It has ``(2 S + 1) x years x hours`` more columns, so it is a reference for
small questions and benchmarks, not the product's path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from planner.optimise.build import USD_PER_SOLVER_UNIT, Problem
from planner.optimise.highs import Session
from pricing.units import HOURS_PER_YEAR

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class HourlyModel:
    """A fleet problem with hourly dispatch rows, ready for HiGHS."""

    c: FloatArray
    a: sparse.csr_array
    row_lb: FloatArray
    row_ub: FloatArray
    var_lb: FloatArray
    var_ub: FloatArray
    integrality: IntArray
    problem: Problem
    """The tangent problem whose columns come first."""

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns."""
        return int(self.a.shape[0]), int(self.c.size)


def hourly_model(
    problem: Problem, levels: FloatArray, hours: FloatArray
) -> HourlyModel:
    """The problem with one dispatch variable per hour and source.

    Parameters
    ----------
    problem : Problem
        A built problem (its capacity tangents are dropped, every other row
        kept).
    levels : numpy.ndarray of shape (years, points)
        Demand of each hour (or weighted snapshot), any order. [reference
        accelerators]
    hours : numpy.ndarray of shape (points,)
        Hours each point stands for (ones for an hourly year). [h]

    Returns
    -------
    HourlyModel
        Matrices over the problem's columns followed by the hourly ones.
    """
    n_years, points = levels.shape
    sources = len(problem.capacity_sources)
    defer = problem.index["deferred"].size > 0
    keep = np.flatnonzero((problem.constraints["group"] != "capacity").to_numpy())
    base = problem.c.size
    per_year = sources * points * (2 if defer else 1) + points
    n_new = n_years * per_year
    weight = hours / HOURS_PER_YEAR
    parts_r: list[IntArray] = []
    parts_c: list[IntArray] = []
    parts_v: list[FloatArray] = []
    row_lb: list[FloatArray] = []
    row_ub: list[FloatArray] = []
    row = 0

    def add(rows: object, cols: object, values: object) -> None:
        r, c, v = np.broadcast_arrays(
            np.asarray(rows, dtype=np.int64),
            np.asarray(cols, dtype=np.int64),
            np.asarray(values, dtype=float),
        )
        parts_r.append(r.ravel())
        parts_c.append(c.ravel())
        parts_v.append(v.ravel())

    energy = problem.index["energy"]
    sinks = [
        problem.index[kind].reshape(-1, n_years)
        for kind in ("on_demand", "spot")
        if problem.index[kind].size
    ]
    for year in range(n_years):
        first = base + year * per_year
        serve = first + np.arange(sources * points).reshape(sources, points)
        block = np.arange(sources * points).reshape(sources, points)
        catch = first + sources * points + block if defer else None
        rest = first + per_year - points + np.arange(points)
        # Each hour's demand: served by capacity in the hour, or left to the sinks.
        hour_rows = row + np.arange(points)
        add(hour_rows[None, :], serve, 1.0)
        add(hour_rows, rest, 1.0)
        row_lb.append(levels[year].astype(float))
        row_ub.append(levels[year].astype(float))
        row += points
        for s in range(sources):
            cols, coefs = problem.capacity_terms[s][year]
            # Work in the hour, and caught up in it, within the hour's capacity.
            cap_rows = row + np.arange(points)
            add(cap_rows, serve[s], 1.0)
            if catch is not None:
                add(cap_rows, catch[s], 1.0)
            if cols.size:
                add(cap_rows[:, None], cols[None, :], -coefs[None, :])
            row_lb.append(np.full(points, -np.inf))
            row_ub.append(np.zeros(points))
            row += points
            # The source's energy is what it serves and catches up.
            add(row, serve[s], weight)
            if catch is not None:
                add(row, catch[s], weight)
            add(row, energy[s, year], -1.0)
            row_lb.append(np.zeros(1))
            row_ub.append(np.zeros(1))
            row += 1
        # What capacity leaves in its hour is rented, unserved or deferred.
        add(row, rest, weight)
        for cols in sinks:
            add(row, cols[:, year], -1.0)
        for kind in ("unserved", "deferred"):
            if problem.index[kind].size:
                add(row, problem.index[kind][year], -1.0)
        row_lb.append(np.zeros(1))
        row_ub.append(np.zeros(1))
        row += 1
        if catch is not None:
            # Work caught up is the work deferred.
            add(row, catch.ravel(), np.tile(weight, sources))
            add(row, problem.index["deferred"][year], -1.0)
            row_lb.append(np.zeros(1))
            row_ub.append(np.zeros(1))
            row += 1
    hourly = sparse.csr_array(
        (
            np.concatenate(parts_v),
            (np.concatenate(parts_r), np.concatenate(parts_c)),
        ),
        shape=(row, base + n_new),
    )
    kept = sparse.hstack(
        [problem.A[keep], sparse.csr_array((keep.size, n_new))], format="csr"
    )
    return HourlyModel(
        c=np.concatenate([problem.c, np.zeros(n_new)]),
        a=sparse.vstack([kept, hourly], format="csr"),
        row_lb=np.concatenate([problem.row_lb[keep], *row_lb]),
        row_ub=np.concatenate([problem.row_ub[keep], *row_ub]),
        var_lb=np.concatenate([problem.var_lb, np.zeros(n_new)]),
        var_ub=np.concatenate([problem.var_ub, np.full(n_new, np.inf)]),
        integrality=np.concatenate(
            [problem.integrality, np.zeros(n_new, dtype=np.int64)]
        ),
        problem=problem,
    )


def solve_hourly(model: HourlyModel) -> tuple[float, FloatArray]:
    """Solve an hourly model with HiGHS (gap 0); its objective and solution.

    Parameters
    ----------
    model : HourlyModel
        From :func:`hourly_model`.

    Returns
    -------
    objective_usd : float
        Optimal objective (the view's comparable NPV plus the carbon charge).
        [USD]
    x : numpy.ndarray
        Values of the problem's own columns. [solver units]

    Raises
    ------
    RuntimeError
        If HiGHS finds no optimal plan.
    """
    options = model.problem.options
    session = Session(
        model.c,
        model.a,
        model.row_lb,
        model.row_ub,
        model.var_lb,
        model.var_ub,
        model.integrality,
        relax=bool(options.continuous),
        time_limit_s=options.time_limit_s * 20,
        mip_rel_gap=0.0,
    )
    result = session.run()
    if result.status != 0 or result.x is None:
        msg = f"hourly model not solved: {result.message}"
        raise RuntimeError(msg)
    x = np.asarray(result.x, dtype=float)[: model.problem.c.size]
    return float(result.fun) * USD_PER_SOLVER_UNIT, x
