"""Consortium pooling: the cost game of pooled demand and how to share its cost.

Players are this scenario's own demand and each member of one of its shared
(consortium) strategies. The cost of a coalition ``S`` is the least present value
of serving the pooled hourly demand of ``S`` with its realistic options (methods
notes 4.1 and 4.7): own servers of the shared strategy's specification, the count
chosen by exhaustive integer search, with overflow bursting to the strategy's
cloud offer (or waiting for spare hours when it has none); or rent everything
from that offer. Every cost comes from the engine (:mod:`planner.tco`), batched
over all coalitions.

The allocation rules are pure functions of a plain mapping
``{frozenset(players): cost_usd}``, so they can be checked on textbook games:
proportional to usage, Shapley value, nucleolus (sequence of LPs fixing only the
coalitions with non-zero duals, Guajardo and Jörnsten 2015), least core,
separable costs remaining benefits (SCRB) and peak-load (Boiteux, Steiner). A
recharge centre charging federal awards must bill a uniform usage rate (2 CFR
200.468); the game-theoretic rules are for founding members' buy-in
contributions (methods notes 4.5).

Conventions: costs are real USD of the scenario's currency year, present values
at year 0 at the scenario's real discount rate (:mod:`planner.tco`). The excess of
a coalition under an allocation ``x`` is ``x(S) - c(S)``: positive means ``S``
pays more than it would alone and would leave (cost-game convention).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from planner import tco
from planner.scenario import CloudStrategy, Scenario, SharedStrategy, replace
from pricing.units import HOURS_PER_YEAR

FloatArray = npt.NDArray[np.float64]

Costs = Mapping[frozenset[str], float]
"""A cost game: the cost of every non-empty coalition of players. [USD]"""

MAX_PLAYERS = 12
"""Most players a game may have: exact rules need all 2^n coalition costs, and the
nucleolus LPs have 2^n rows (methods notes 4.7: practical up to n ~ 10-12). [-]"""

DEFAULT_OWN_NAME = "This project"
"""Player name of the scenario's own demand. [-]"""

RULES = ("usage", "shapley", "nucleolus", "least_core", "scrb", "peak_load")
"""Allocation rules of :func:`allocations`, in display order. [-]"""

RULE_LABELS = {
    "usage": "Proportional to usage (uniform rate)",
    "shapley": "Shapley value",
    "nucleolus": "Nucleolus",
    "least_core": "Least core",
    "scrb": "Separable costs, remaining benefits",
    "peak_load": "Peak-load (capacity by peak share)",
}
"""Plain-language name of each rule. [-]"""

CORE_TOLERANCE = 1e-7
"""Excess tolerated in a core check, relative to the largest coalition cost
(LP solutions are feasible to about 1e-9). [-]"""

_DUAL_TOLERANCE = 1e-8
"""Dual value above which a nucleolus constraint counts as non-zero (the duals of
the excess constraints sum to 1 in each LP). [-]"""

_SPAN_TOLERANCE = 1e-9
"""Residual norm below which a coalition lies in the span of fixed ones. [-]"""

_CHUNK_VALUES = 4_000_000
"""Hourly values of coalition demand held at once (32 MB of float64). [-]"""


# --- games as bitmask arrays -------------------------------------------------------


def _game(costs: Costs) -> tuple[tuple[str, ...], FloatArray]:
    """Players (in the order their singletons appear) and costs by bitmask."""
    players: list[str] = []
    for coalition in costs:
        if len(coalition) == 1:
            (player,) = coalition
            if player not in players:
                players.append(player)
    everyone = frozenset().union(*costs) if costs else frozenset()
    if len(players) < 2 or set(players) != everyone:
        missing = sorted(everyone - set(players))
        msg = (
            "costs must give every player's stand-alone cost and at least two "
            f"players; missing singletons: {missing}"
        )
        raise ValueError(msg)
    n = len(players)
    if n > MAX_PLAYERS:
        msg = f"costs: at most {MAX_PLAYERS} players are supported, got {n}"
        raise ValueError(msg)
    index = {player: i for i, player in enumerate(players)}
    values = np.full(2**n, np.nan)
    values[0] = 0.0
    for coalition, cost in costs.items():
        mask = sum(1 << index[player] for player in coalition)
        if mask == 0:
            if cost != 0:
                msg = f"costs: the empty coalition must cost 0, got {cost!r}"
                raise ValueError(msg)
            continue
        values[mask] = float(cost)
    if np.isnan(values).any():
        absent = int(np.isnan(values).sum())
        example = _members(int(np.flatnonzero(np.isnan(values))[0]), tuple(players))
        msg = (
            f"costs: {absent} of {2**n - 1} coalitions have no cost, e.g. "
            f"{sorted(example)}"
        )
        raise ValueError(msg)
    if not np.isfinite(values).all():
        msg = "costs: every coalition cost must be finite"
        raise ValueError(msg)
    return tuple(players), values


def _members(mask: int, players: Sequence[str]) -> frozenset[str]:
    """Players of a bitmask coalition."""
    return frozenset(p for i, p in enumerate(players) if mask >> i & 1)


def _membership(n: int) -> FloatArray:
    """Row ``mask`` holds 1 for each player in coalition ``mask``: (2^n, n)."""
    masks = np.arange(2**n)[:, None]
    matrix: FloatArray = ((masks >> np.arange(n)) & 1).astype(float)
    return matrix


def _label(mask: int, players: Sequence[str]) -> str:
    """Coalition name: its players joined by " + " in player order."""
    return " + ".join(p for i, p in enumerate(players) if mask >> i & 1)


def _frame(
    players: Sequence[str], allocation_usd: FloatArray, rule: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member": list(players),
            "rule": rule,
            "allocation_usd": np.asarray(allocation_usd, dtype=float),
        }
    )


def _scale(values: FloatArray) -> float:
    """Largest absolute cost, used to condition LPs and tolerances (1 if all 0)."""
    largest = float(np.abs(values).max())
    return largest if largest > 0 else 1.0


def _weights(
    players: Sequence[str], weights: Mapping[str, float], name: str
) -> FloatArray:
    """Per-player non-negative weights in player order, with a positive total."""
    missing = [p for p in players if p not in weights]
    if missing:
        msg = f"{name}: missing players {missing}"
        raise ValueError(msg)
    values = np.array([float(weights[p]) for p in players])
    if not np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
        msg = (
            f"{name}: weights must be finite, non-negative and not all 0, got {values}"
        )
        raise ValueError(msg)
    return values


# --- allocation rules on plain games -------------------------------------------------


def proportional_allocation(
    costs: Costs, usage_reference_hours: Mapping[str, float]
) -> pd.DataFrame:
    r"""Share the grand coalition's cost in proportion to usage.

    The allocation a uniform usage rate produces, the only one compatible with a
    recharge centre's rate schedule under 2 CFR 200.468 [1]_. It ignores who
    drives peak capacity and may leave the core (methods notes 4.6).

    Parameters
    ----------
    costs : Mapping[frozenset of str, float]
        Cost of every non-empty coalition. [USD]
    usage_reference_hours : Mapping[str, float]
        Usage of each player (any common measure of work). [reference
        accelerator-h]

    Returns
    -------
    pandas.DataFrame
        ``member``, ``rule`` ("usage") and ``allocation_usd``. [USD]

    Raises
    ------
    ValueError
        If the game is incomplete or usage is missing, negative or all zero.

    Notes
    -----
    .. math:: x_i = c(N)\, u_i / \sum_j u_j

    References
    ----------
    .. [1] "Specialized service facilities," 2 CFR 200.468, Code of Federal
       Regulations, Title 2, Subtitle A, Chapter II, Part 200 (2024 revision).

    Examples
    --------
    >>> costs = {frozenset({"a"}): 3.0, frozenset({"b"}): 2.0,
    ...          frozenset({"a", "b"}): 4.0}
    >>> proportional_allocation(costs, {"a": 3.0, "b": 1.0})["allocation_usd"].tolist()
    [3.0, 1.0]
    """
    players, values = _game(costs)
    usage = _weights(players, usage_reference_hours, "usage_reference_hours")
    return _frame(players, values[-1] * usage / usage.sum(), "usage")


def _shapley(values: FloatArray, n: int) -> FloatArray:
    """Exact Shapley value by weighted marginal contributions over all coalitions."""
    masks = np.arange(2**n)
    sizes = _membership(n).sum(axis=1).astype(int)
    factorial = np.array([math.factorial(k) for k in range(n + 1)], dtype=float)
    weight = factorial[sizes] * factorial[np.clip(n - sizes - 1, 0, None)]
    weight /= factorial[n]
    result = np.empty(n)
    for i in range(n):
        without = masks[(masks >> i & 1) == 0]
        marginal = values[without | (1 << i)] - values[without]
        result[i] = float((weight[without] * marginal).sum())
    return result


def shapley_allocation(costs: Costs) -> pd.DataFrame:
    r"""Exact Shapley value of a cost game.

    Each player pays its marginal cost averaged over all orders of joining
    [1]_; for the airport game this is "sequential equal contributions" [2]_.
    Concave (submodular) cost games have it in the core.

    Parameters
    ----------
    costs : Mapping[frozenset of str, float]
        Cost of every non-empty coalition. [USD]

    Returns
    -------
    pandas.DataFrame
        ``member``, ``rule`` ("shapley") and ``allocation_usd``. [USD]

    Raises
    ------
    ValueError
        If a coalition cost is missing or there are more than
        :data:`MAX_PLAYERS` players.

    Notes
    -----
    .. math::

        x_i = \sum_{S \subseteq N \setminus \{i\}}
              \frac{|S|!\,(n - |S| - 1)!}{n!}\,\bigl(c(S \cup \{i\}) - c(S)\bigr)

    Cost :math:`O(n\,2^n)`.

    References
    ----------
    .. [1] L. S. Shapley, "A value for n-person games," in *Contributions to the
       Theory of Games II*, H. W. Kuhn and A. W. Tucker, Eds. Princeton, NJ,
       USA: Princeton Univ. Press, 1953, pp. 307-317,
       doi:10.1515/9781400881970-018.
    .. [2] S. C. Littlechild and G. Owen, "A simple expression for the Shapley
       value in a special case," *Management Science*, vol. 20, no. 3,
       pp. 370-372, 1973, doi:10.1287/mnsc.20.3.370.

    Examples
    --------
    Airport game of methods notes 4.2 (runway lengths 8, 11, 13, 18):

    >>> from itertools import combinations
    >>> need = {"A": 8.0, "B": 11.0, "C": 13.0, "D": 18.0}
    >>> costs = {frozenset(s): max(need[p] for p in s)
    ...          for k in range(1, 5) for s in combinations(need, k)}
    >>> shapley_allocation(costs)["allocation_usd"].round(9).tolist()
    [2.0, 3.0, 4.0, 9.0]
    """
    players, values = _game(costs)
    return _frame(players, _shapley(values, len(players)), "shapley")


def _linprog(
    objective: FloatArray,
    a_ub: FloatArray,
    b_ub: FloatArray,
    a_eq: FloatArray,
    b_eq: FloatArray,
    bounds: list[tuple[float | None, float | None]],
    what: str,
) -> optimize.OptimizeResult:
    result = optimize.linprog(
        objective,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
    )
    if not result.success:
        msg = f"{what} LP failed: {result.message}"
        raise RuntimeError(msg)
    return result


def _least_core(values: FloatArray, n: int) -> tuple[FloatArray, float]:
    """Least-core allocation and epsilon (scaled LP), in USD."""
    scale = _scale(values)
    v = values / scale
    membership = _membership(n)
    proper = np.arange(1, 2**n - 1)
    a_ub = np.hstack([membership[proper], -np.ones((proper.size, 1))])
    a_eq = np.append(np.ones(n), 0.0)[None, :]
    objective = np.append(np.zeros(n), 1.0)
    result = _linprog(
        objective,
        a_ub,
        v[proper],
        a_eq,
        v[-1:],
        [(None, None)] * (n + 1),
        "least-core",
    )
    x: FloatArray = result.x[:n] * scale
    return x, float(result.x[n]) * scale


def least_core_allocation(costs: Costs) -> pd.DataFrame:
    r"""An allocation of the least core of a cost game.

    The least core relaxes every coalition's constraint by the smallest
    :math:`\varepsilon` that makes it feasible [1]_; the LP may have many
    optimal allocations and HiGHS returns one of them (the nucleolus is the
    canonical point of the least core).

    Parameters
    ----------
    costs : Mapping[frozenset of str, float]
        Cost of every non-empty coalition. [USD]

    Returns
    -------
    pandas.DataFrame
        ``member``, ``rule`` ("least_core") and ``allocation_usd``. [USD]

    Raises
    ------
    ValueError
        If the game is incomplete.
    RuntimeError
        If the LP solver fails.

    Notes
    -----
    .. math::

        \min_{x, \varepsilon} \varepsilon \quad \text{s.t.} \quad
        x(S) \le c(S) + \varepsilon \;\; \forall S \ne \emptyset, N, \qquad
        x(N) = c(N)

    References
    ----------
    .. [1] M. Maschler, B. Peleg, and L. S. Shapley, "Geometric properties of
       the kernel, nucleolus, and related solution concepts," *Math. Oper.
       Res.*, vol. 4, no. 4, pp. 303-338, 1979, doi:10.1287/moor.4.4.303.

    Examples
    --------
    >>> costs = {frozenset({"a"}): 3.0, frozenset({"b"}): 2.0,
    ...          frozenset({"a", "b"}): 4.0}
    >>> least_core_allocation(costs)["allocation_usd"].round(9).tolist()
    [2.5, 1.5]
    """
    players, values = _game(costs)
    x, _ = _least_core(values, len(players))
    return _frame(players, x, "least_core")


def least_core_epsilon_usd(costs: Costs) -> float:
    r"""Smallest uniform relaxation that makes the core of a cost game non-empty.

    Non-positive exactly when the core is non-empty (Bondareva-Shapley [1]_);
    a positive value is the subsidy each coalition would need to keep everyone
    in the grand coalition (methods notes 4.7).

    Parameters
    ----------
    costs : Mapping[frozenset of str, float]
        Cost of every non-empty coalition. [USD]

    Returns
    -------
    float
        :math:`\varepsilon^*` of the least-core LP (:func:`least_core_allocation`).
        [USD]

    Raises
    ------
    ValueError
        If the game is incomplete.
    RuntimeError
        If the LP solver fails.

    References
    ----------
    .. [1] L. S. Shapley, "On balanced sets and cores," *Naval Res. Logistics
       Quart.*, vol. 14, no. 4, pp. 453-460, 1967, doi:10.1002/nav.3800140404.

    Examples
    --------
    >>> costs = {frozenset({"a"}): 3.0, frozenset({"b"}): 2.0,
    ...          frozenset({"a", "b"}): 4.0}
    >>> round(least_core_epsilon_usd(costs), 9)
    -0.5
    """
    players, values = _game(costs)
    return _least_core(values, len(players))[1]


def _orthonormal_rows(rows: FloatArray) -> FloatArray:
    """Orthonormal basis (as rows) of the span of ``rows``."""
    _, singular, vt = np.linalg.svd(rows, full_matrices=False)
    rank = int((singular > _SPAN_TOLERANCE * max(singular.max(), 1.0)).sum())
    basis: FloatArray = vt[:rank]
    return basis


def _nucleolus(values: FloatArray, n: int) -> FloatArray:
    """Nucleolus by the sequential LPs of Guajardo and Jörnsten (2015), in USD."""
    scale = _scale(values)
    v = values / scale
    membership = _membership(n)
    singletons = v[1 << np.arange(n)]
    # Imputations (x_i <= c({i})) when there are any; else the prenucleolus.
    upper = singletons if singletons.sum() >= v[-1] else np.full(n, np.inf)
    bounds: list[tuple[float | None, float | None]] = [
        (None, float(u) if np.isfinite(u) else None) for u in upper
    ]
    bounds.append((None, None))
    free = np.arange(1, 2**n - 1)
    fixed_rows = [np.ones(n)]
    fixed_rhs = [float(v[-1])]
    basis = _orthonormal_rows(np.array(fixed_rows))
    objective = np.append(np.zeros(n), 1.0)
    x = np.full(n, v[-1] / n)
    # Each LP fixes at least one coalition, so the loop ends within 2^n steps.
    for _ in range(2**n):
        if free.size == 0:
            break
        a_ub = np.hstack([membership[free], -np.ones((free.size, 1))])
        a_eq = np.hstack([np.array(fixed_rows), np.zeros((len(fixed_rows), 1))])
        result = _linprog(
            objective,
            a_ub,
            v[free],
            a_eq,
            np.array(fixed_rhs),
            bounds,
            "nucleolus",
        )
        x = result.x[:n]
        epsilon = float(result.x[n])
        duals = np.abs(np.asarray(result.ineqlin.marginals, dtype=float))
        # Fix only the coalitions whose constraints carry a non-zero dual: they
        # are tight in every optimal solution. Fixing every coalition that is
        # merely tight in the solution returned is the classic error [3].
        tight = duals > _DUAL_TOLERANCE
        if not tight.any():
            tight = duals == duals.max()
        for mask in free[tight]:
            row = membership[mask]
            residual = row - (basis @ row) @ basis
            if np.linalg.norm(residual) > _SPAN_TOLERANCE:
                fixed_rows.append(row)
                fixed_rhs.append(float(v[mask]) + epsilon)
                basis = _orthonormal_rows(np.array(fixed_rows))
        free = free[~tight]
        if basis.shape[0] == n:
            break
        # A coalition in the span of the fixed ones has a determined excess.
        rows = membership[free]
        residuals = rows - (rows @ basis.T) @ basis
        free = free[np.linalg.norm(residuals, axis=1) > _SPAN_TOLERANCE]
    nucleolus: FloatArray = x * scale
    return nucleolus


def nucleolus_allocation(costs: Costs) -> pd.DataFrame:
    r"""Nucleolus of a cost game: lexicographically smallest largest excesses.

    Among imputations (:math:`x_i \le c(\{i\})`, when the stand-alone costs
    cover :math:`c(N)`; otherwise among all budget-balanced allocations, the
    prenucleolus) the nucleolus [1]_ minimises the largest excess
    :math:`x(S) - c(S)`, then the next largest, and so on. It is computed by a
    sequence of LPs (HiGHS); after each, only the coalitions whose constraints
    have non-zero duals are fixed at the optimal excess, as Guajardo and
    Jörnsten [2]_ show is required: fixing every coalition that happens to be
    tight in one optimal solution can give a wrong answer. Coalitions whose
    characteristic vectors lie in the span of the fixed ones are dropped [3]_.
    The nucleolus lies in the core whenever the core is non-empty.

    Parameters
    ----------
    costs : Mapping[frozenset of str, float]
        Cost of every non-empty coalition. [USD]

    Returns
    -------
    pandas.DataFrame
        ``member``, ``rule`` ("nucleolus") and ``allocation_usd``. [USD]

    Raises
    ------
    ValueError
        If the game is incomplete.
    RuntimeError
        If an LP fails.

    Notes
    -----
    Step :math:`t` solves

    .. math::

        \min_{x, \varepsilon} \varepsilon \quad \text{s.t.} \quad
        x(S) - \varepsilon \le c(S) \;\; S \in F_t, \qquad
        x(S) = c(S) + \varepsilon_{k(S)} \;\; S \in \mathcal{F}_t, \qquad
        x(N) = c(N)

    and moves the coalitions of :math:`F_t` with non-zero duals to the fixed
    set :math:`\mathcal{F}_{t+1}`, until the fixed vectors span
    :math:`\mathbb{R}^n`.

    References
    ----------
    .. [1] D. Schmeidler, "The nucleolus of a characteristic function game,"
       *SIAM J. Appl. Math.*, vol. 17, no. 6, pp. 1163-1170, 1969,
       doi:10.1137/0117107.
    .. [2] M. Guajardo and K. Jörnsten, "Common mistakes in computing the
       nucleolus," *Eur. J. Oper. Res.*, vol. 241, no. 3, pp. 931-935, 2015,
       doi:10.1016/j.ejor.2014.10.037.
    .. [3] M. Maschler, B. Peleg, and L. S. Shapley, "Geometric properties of
       the kernel, nucleolus, and related solution concepts," *Math. Oper.
       Res.*, vol. 4, no. 4, pp. 303-338, 1979, doi:10.1287/moor.4.4.303.

    Examples
    --------
    >>> costs = {frozenset({"a"}): 3.0, frozenset({"b"}): 2.0,
    ...          frozenset({"a", "b"}): 4.0}
    >>> nucleolus_allocation(costs)["allocation_usd"].round(9).tolist()
    [2.5, 1.5]
    """
    players, values = _game(costs)
    return _frame(players, _nucleolus(values, len(players)), "nucleolus")


def scrb_allocation(
    costs: Costs, *, alternative_costs_usd: Mapping[str, float] | None = None
) -> pd.DataFrame:
    r"""Separable costs, remaining benefits (SCRB) allocation.

    Each player pays its separable cost (what it adds to the grand coalition)
    plus a share of the non-separable cost in proportion to its remaining
    benefit, the rule of US water-resources practice that Young, Okada and
    Hashimoto [1]_ compare with the Shapley value and the nucleolus.

    Parameters
    ----------
    costs : Mapping[frozenset of str, float]
        Cost of every non-empty coalition. [USD]
    alternative_costs_usd : Mapping[str, float], optional
        Each player's benefit or best alternative cost :math:`b_i`; default its
        stand-alone cost. [USD]

    Returns
    -------
    pandas.DataFrame
        ``member``, ``rule`` ("scrb") and ``allocation_usd``. [USD]

    Raises
    ------
    ValueError
        If the game is incomplete or an alternative cost is missing.

    Notes
    -----
    .. math::

        SC_i = c(N) - c(N \setminus \{i\}), \quad
        RB_i = \min(b_i, c(\{i\})) - SC_i, \quad
        x_i = SC_i + \Bigl(c(N) - \sum_j SC_j\Bigr) \frac{RB_i}{\sum_j RB_j}

    When the remaining benefits sum to zero the non-separable cost is split
    equally (a convention of ours; the rule is undefined there).

    References
    ----------
    .. [1] H. P. Young, N. Okada, and T. Hashimoto, "Cost allocation in water
       resources development," *Water Resour. Res.*, vol. 18, no. 3,
       pp. 463-475, 1982, doi:10.1029/WR018i003p00463.

    Examples
    --------
    >>> costs = {frozenset({"a"}): 3.0, frozenset({"b"}): 2.0,
    ...          frozenset({"a", "b"}): 4.0}
    >>> scrb_allocation(costs)["allocation_usd"].round(9).tolist()
    [2.5, 1.5]
    """
    players, values = _game(costs)
    n = len(players)
    grand = 2**n - 1
    bits = 1 << np.arange(n)
    separable = values[grand] - values[grand ^ bits]
    alone = values[bits]
    benefit = (
        alone
        if alternative_costs_usd is None
        else np.array(
            [
                float(alternative_costs_usd[p])
                if p in alternative_costs_usd
                else np.nan
                for p in players
            ]
        )
    )
    if np.isnan(benefit).any():
        msg = "alternative_costs_usd: give a value for every player"
        raise ValueError(msg)
    remaining = np.minimum(benefit, alone) - separable
    non_separable = values[grand] - separable.sum()
    total = remaining.sum()
    if abs(total) <= 1e-12 * _scale(values):
        share = np.full(n, 1.0 / n)
    else:
        share = remaining / total
    return _frame(players, separable + non_separable * share, "scrb")


def peak_load_allocation(
    capacity_cost_usd: float,
    variable_cost_usd: float,
    binding_demand_reference_hours: Mapping[str, float],
    usage_reference_hours: Mapping[str, float],
) -> pd.DataFrame:
    r"""Peak-load allocation: capacity by share of the peak, the rest by usage.

    Capacity is sized for the hours that bind it, so its cost is borne by the
    users of those hours (Steiner [1]_, Boiteux [2]_); work done at other times
    pays only the variable cost (methods notes 4.1).

    Parameters
    ----------
    capacity_cost_usd : float
        Cost of the capacity, whatever it serves (capex, support, staff,
        hosting, idle power, net of resale). [USD]
    variable_cost_usd : float
        The rest of the cost (energy of work done, cloud bursts). [USD]
    binding_demand_reference_hours : Mapping[str, float]
        Each player's demand in the hours when capacity binds. [reference
        accelerator-h]
    usage_reference_hours : Mapping[str, float]
        Each player's total usage. [reference accelerator-h]

    Returns
    -------
    pandas.DataFrame
        ``member``, ``rule`` ("peak_load") and ``allocation_usd``; players in
        the order of ``usage_reference_hours``. [USD]

    Raises
    ------
    ValueError
        If usage is missing, negative or all zero, or peak demand is negative.

    Notes
    -----
    .. math::

        x_i = K\,\frac{p_i}{\sum_j p_j} + V\,\frac{u_i}{\sum_j u_j}

    With no binding demand at all, capacity is shared by usage too.

    References
    ----------
    .. [1] P. O. Steiner, "Peak loads and efficient pricing," *Quart. J.
       Econ.*, vol. 71, no. 4, pp. 585-610, 1957, doi:10.2307/1885712.
    .. [2] M. Boiteux, "Peak-load pricing," *J. Business*, vol. 33, no. 2,
       pp. 157-179, 1960, doi:10.1086/294331.

    Examples
    --------
    >>> peak_load_allocation(60.0, 40.0, {"a": 1.0, "b": 0.0},
    ...                      {"a": 1.0, "b": 1.0})["allocation_usd"].tolist()
    [80.0, 20.0]
    """
    players = list(usage_reference_hours)
    usage = _weights(players, usage_reference_hours, "usage_reference_hours")
    peak = np.array(
        [float(binding_demand_reference_hours.get(p, 0.0)) for p in players]
    )
    if not np.isfinite(peak).all() or (peak < 0).any():
        msg = f"binding_demand_reference_hours must be non-negative, got {peak}"
        raise ValueError(msg)
    peak_share = peak / peak.sum() if peak.sum() > 0 else usage / usage.sum()
    allocation = (
        capacity_cost_usd * peak_share + variable_cost_usd * usage / usage.sum()
    )
    return _frame(players, allocation, "peak_load")


def _allocation_vector(
    allocation: pd.DataFrame | Mapping[str, float], players: Sequence[str]
) -> FloatArray:
    if isinstance(allocation, pd.DataFrame):
        rules = allocation["rule"].to_numpy() if "rule" in allocation else None
        if rules is not None and (rules != rules[0]).any():
            msg = "allocation: check one rule at a time (filter on 'rule')"
            raise ValueError(msg)
        amounts = dict(
            zip(allocation["member"], allocation["allocation_usd"], strict=True)
        )
    else:
        amounts = dict(allocation)
    missing = [p for p in players if p not in amounts]
    extra = sorted(set(amounts) - set(players))
    if missing or extra:
        msg = (
            "allocation: players do not match the game "
            f"(missing {missing}, extra {extra})"
        )
        raise ValueError(msg)
    return np.array([float(amounts[p]) for p in players])


def core_check(
    allocation: pd.DataFrame | Mapping[str, float],
    costs: Costs,
    *,
    tolerance_usd: float | None = None,
) -> pd.DataFrame:
    r"""Excess of every coalition under an allocation, and whether it is in the core.

    An allocation is in the core when it recovers exactly :math:`c(N)` and no
    coalition pays more than its own cost [1]_; a coalition with a positive
    excess would rather leave.

    Parameters
    ----------
    allocation : pandas.DataFrame or Mapping[str, float]
        One rule's allocation (``member`` and ``allocation_usd`` columns, as the
        allocation functions return) or a mapping player -> amount. [USD]
    costs : Mapping[frozenset of str, float]
        Cost of every non-empty coalition. [USD]
    tolerance_usd : float, optional
        Excess tolerated; default :data:`CORE_TOLERANCE` times the largest
        coalition cost. [USD]

    Returns
    -------
    pandas.DataFrame
        One row per non-empty coalition (by size, then player order):
        ``coalition`` (players joined by " + "), ``size``, ``cost_usd``,
        ``allocated_usd``, ``excess_usd`` (allocated minus cost), ``blocking``
        (a proper coalition paying more than alone, or a budget imbalance for
        the grand coalition) and ``in_core`` (the same on every row). [USD]

    Raises
    ------
    ValueError
        If the game is incomplete or the allocation's players differ from it.

    References
    ----------
    .. [1] D. B. Gillies, "Solutions to general non-zero-sum games," in
       *Contributions to the Theory of Games IV*, A. W. Tucker and R. D. Luce,
       Eds. Princeton, NJ, USA: Princeton Univ. Press, 1959, pp. 47-85,
       doi:10.1515/9781400882168-005.

    Examples
    --------
    >>> costs = {frozenset({"a"}): 3.0, frozenset({"b"}): 2.0,
    ...          frozenset({"a", "b"}): 4.0}
    >>> check = core_check({"a": 3.5, "b": 0.5}, costs)
    >>> check[["coalition", "excess_usd", "blocking"]].to_dict("records")[0]
    {'coalition': 'a', 'excess_usd': 0.5, 'blocking': True}
    >>> bool(check["in_core"].iloc[0])
    False
    """
    players, values = _game(costs)
    n = len(players)
    x = _allocation_vector(allocation, players)
    tolerance = (
        CORE_TOLERANCE * _scale(values) if tolerance_usd is None else tolerance_usd
    )
    membership = _membership(n)
    masks = np.arange(1, 2**n)
    allocated = membership[masks] @ x
    excess = allocated - values[masks]
    grand = masks == 2**n - 1
    blocking = np.where(grand, np.abs(excess) > tolerance, excess > tolerance)
    sizes = membership[masks].sum(axis=1).astype(int)
    table = pd.DataFrame(
        {
            "coalition": [_label(int(m), players) for m in masks],
            "size": sizes,
            "cost_usd": values[masks],
            "allocated_usd": allocated,
            "excess_usd": excess,
            "blocking": blocking,
            "in_core": not bool(blocking.any()),
        }
    )
    order = np.lexsort((masks, sizes))
    return table.iloc[order].reset_index(drop=True)


# --- the consortium game from the engine ------------------------------------------


@dataclass(frozen=True)
class ConsortiumGame:
    """The cost game of a shared strategy's consortium, with what the rules need."""

    strategy_name: str
    """Shared strategy whose members (with this scenario's demand) are players."""
    players: tuple[str, ...]
    """This scenario's own demand first, then the members in order."""
    costs_usd: Mapping[frozenset[str], float]
    """Least present value of serving each coalition's pooled demand. [USD]"""
    plans: pd.DataFrame
    """One row per coalition: ``coalition``, ``size``, ``option`` ("own" servers
    with overflow, or "cloud"), ``servers``, ``cost_usd`` and
    ``unserved_reference_hours`` (total over the horizon)."""
    usage_reference_hours: Mapping[str, float]
    """Each player's demand over the horizon. [reference accelerator-h]"""
    discounted_usage_reference_hours: Mapping[str, float]
    """Each year's demand discounted like the running costs (end of year k at
    (1 + r)^-k). [reference accelerator-h]"""
    servers: int
    """Servers of the grand coalition's cheapest plan (0 when renting). [-]"""
    capacity_cost_usd: float
    """Present value of the grand coalition's capacity cost (its servers at zero
    demand: capex, support, staff, hosting, idle power, resale). [USD]"""
    variable_cost_usd: float
    """The rest of the grand coalition's cost (energy of work, bursts). [USD]"""
    binding_demand_reference_hours: Mapping[str, float]
    """Each player's demand in the hours the grand coalition's cluster is full
    (or, if never full, its peak hour of each year). [reference accelerator-h]"""

    @property
    def grand_coalition_cost_usd(self) -> float:
        """Cost of serving everyone together, c(N), in USD."""
        return float(self.costs_usd[frozenset(self.players)])


def _shared_strategy(scenario: Scenario, strategy_name: str) -> SharedStrategy:
    shared = [s.name for s in scenario.strategies if isinstance(s, SharedStrategy)]
    for strategy in scenario.strategies:
        if strategy.name == strategy_name:
            if isinstance(strategy, SharedStrategy):
                return strategy
            msg = (
                f"strategy_name: {strategy_name!r} is a {strategy.kind} strategy, "
                f"not a shared one; shared strategies: {shared}"
            )
            raise ValueError(msg)
    msg = (
        f"strategy_name: no strategy named {strategy_name!r}; "
        f"shared strategies: {shared}"
    )
    raise ValueError(msg)


def player_demands(
    scenario: Scenario, strategy_name: str, *, own_name: str = DEFAULT_OWN_NAME
) -> dict[str, FloatArray]:
    """Hourly demand of each player of a consortium, as the engine pools it.

    The scenario's own demand (synthetic, job log or workload) and each
    member's synthetic demand with the scenario's growth; a member whose shape
    seed equals the scenario's gets its own noise draw, exactly as
    :func:`planner.tco.evaluate` pools a shared strategy.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    strategy_name : str
        Name of one of its shared strategies.
    own_name : str, default "This project"
        Player name of the scenario's own demand.

    Returns
    -------
    dict of str to numpy.ndarray of shape (years, hours)
        Busy reference accelerators each hour of each running year, own demand
        first. [reference accelerators]

    Raises
    ------
    ValueError
        If the strategy is not a shared strategy of the scenario, or player
        names repeat.
    """
    strategy = _shared_strategy(scenario, strategy_name)
    names = [own_name, *(m.name for m in strategy.members)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        msg = f"player names must be unique (own_name and members): {repeated}"
        raise ValueError(msg)
    demands = {own_name: tco.scenario_demand(scenario).levels}
    for name, profile in tco.member_profiles(strategy, scenario).items():
        demands[name] = profile.levels
    return demands


def _discount_factors(scenario: Scenario) -> FloatArray:
    years = np.arange(scenario.horizon_years + 1, dtype=float)
    factors: FloatArray = (1.0 + scenario.real_discount_rate) ** -years
    return factors


def _unit_capacity(strategy: SharedStrategy, scenario: Scenario) -> FloatArray:
    """Usable capacity of one server in each running year (0 when inactive)."""
    one = replace(strategy, servers=1)
    probe = np.zeros((1, scenario.horizon_years, 1))
    ledger = tco.strategy_ledger(one, scenario, probe, np.array([HOURS_PER_YEAR]))
    unit: FloatArray = ledger.stats["capacity_reference_hours"][0] / HOURS_PER_YEAR
    return unit


def _common_growth(demands: FloatArray) -> FloatArray | None:
    """Year factors ``s`` with every player's year k = s_k x its year 0, if so."""
    pooled = demands.sum(axis=(0, 2))
    if pooled[0] <= 0:
        return None
    factors: FloatArray = pooled / pooled[0]
    expected = factors[None, :, None] * demands[:, :1, :]
    largest = float(np.abs(demands).max())
    if np.allclose(demands, expected, rtol=1e-12, atol=1e-12 * largest):
        return factors
    return None


def _served_rows(
    demands: FloatArray, hours: FloatArray, masks: FloatArray, caps: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Sorted-prefix evaluation of :func:`_served_within` (no growth shortcut)."""
    players, years, width = demands.shape
    flat = demands.reshape(players, years * width)
    coalitions = masks.shape[0]
    chunk = max(1, _CHUNK_VALUES // (years * width))
    served = np.empty((coalitions, caps.shape[0], years))
    total = np.empty((coalitions, years))
    stride = 2.0 * (float(flat.sum(axis=0).max()) + float(caps.max()) + 1.0)
    uniform = bool((hours == hours[0]).all())
    for start in range(0, coalitions, chunk):
        stop = min(coalitions, start + chunk)
        pooled = (masks[start:stop] @ flat).reshape(-1, width)  # rows: (c, y)
        prefix = np.zeros((pooled.shape[0], width + 1))
        if uniform:
            pooled.sort(axis=1)
            ordered = pooled
            np.cumsum(ordered * hours[0], axis=1, out=prefix[:, 1:])
            weight_prefix = np.broadcast_to(
                np.arange(width + 1) * hours[0], prefix.shape
            )
        else:
            order = np.argsort(pooled, axis=1)
            ordered = np.take_along_axis(pooled, order, axis=1)
            np.cumsum(ordered * hours[order], axis=1, out=prefix[:, 1:])
            weight_prefix = np.zeros_like(prefix)
            np.cumsum(hours[order], axis=1, out=weight_prefix[:, 1:])
        # Locate every capacity in every sorted row with one binary search:
        # row r is shifted by r x stride, above any value, so the rows laid end
        # to end stay sorted. An hour within rounding of a capacity may land
        # on either side; min(L, cap) is continuous there, so it does not matter.
        rows = np.arange(ordered.shape[0])
        keys = (ordered + rows[:, None] * stride).ravel()
        row_caps = np.tile(caps.T, (stop - start, 1))  # (rows, capacities)
        below = np.searchsorted(keys, (row_caps + rows[:, None] * stride).ravel())
        below = below.reshape(row_caps.shape) - rows[:, None] * width
        inside = np.take_along_axis(prefix, below, axis=1)
        above = weight_prefix[:, -1:] - np.take_along_axis(weight_prefix, below, axis=1)
        result = inside + row_caps * above
        served[start:stop] = result.reshape(stop - start, years, -1).transpose(0, 2, 1)
        total[start:stop] = prefix[:, -1].reshape(stop - start, years)
    return served, total


def _served_within(
    demands: FloatArray, hours: FloatArray, masks: FloatArray, caps: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Served work under each capacity, and total work, of every coalition.

    Returns ``served`` of shape (coalitions, capacities, years) with
    sum_h hours_h min(L_h, cap_y) and ``total`` of shape (coalitions, years).
    Each coalition-year is sorted once; served work is then a prefix sum plus
    the capacity times the hours above it. When every player's demand grows by
    the same factor s_y each year (the engine's synthetic and log demands do),
    only year 0 is sorted: served_y(cap) = s_y served_0(cap / s_y).
    """
    factors = _common_growth(demands)
    if factors is None:
        return _served_rows(demands, hours, masks, caps)
    capacities, years = caps.shape
    scaled = (caps / factors[None, :]).reshape(-1, 1)  # (capacities x years, 1)
    served0, total0 = _served_rows(demands[:, :1, :], hours, masks, scaled)
    served = served0.reshape(-1, capacities, years) * factors[None, None, :]
    total: FloatArray = total0 * factors[None, :]
    return served, total


def _two_block_levels(
    served: FloatArray, total: FloatArray, cap: FloatArray, hours_total: float
) -> FloatArray:
    """Two blocks (1 h and the rest) that give the engine the same served work.

    A block of one hour at ``min(A, cap) + O`` and one of ``H - 1`` hours at
    ``(A - min(A, cap)) / (H - 1)`` serve exactly ``A`` within capacity and
    overflow exactly ``O = total - A``, the only aggregates the owned-cluster,
    on-demand/spot burst and wait models use; shape (batch, years, 2).
    """
    overflow = np.maximum(total - served, 0.0)
    first = np.minimum(served, cap)
    rest = (served - first) / (hours_total - 1.0)
    levels: FloatArray = np.stack([first + overflow, rest], axis=-1)
    return levels


def _npv_and_unserved(
    strategy: SharedStrategy | CloudStrategy,
    scenario: Scenario,
    levels: FloatArray,
    hours: FloatArray,
    discount: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """NPV (as :func:`planner.breakeven.npv_batch_usd`) and unserved hours per year."""
    sizing = levels[0, 0]
    ledger = tco.strategy_ledger(
        strategy, scenario, levels, hours, sizing_hourly=sizing
    )
    npv: FloatArray = ledger.total_cost_usd() @ discount
    unserved: FloatArray = np.broadcast_to(
        ledger.stats["unserved_reference_hours"], levels.shape[:2]
    ).astype(float)
    return npv, unserved


def _priced(
    npv: FloatArray,
    left: FloatArray,
    work: FloatArray,
    unserved_price: float | None,
    discount: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Add the price of unserved work (end of its year), or forbid leaving any."""
    total_left: FloatArray = left.sum(axis=-1)
    if unserved_price is None:
        cost: FloatArray = np.where(total_left > 1e-9 * (1.0 + work), np.inf, npv)
        return cost, total_left
    priced: FloatArray = npv + unserved_price * (left @ discount[1:])
    return priced, total_left


def _option_costs(
    strategy: SharedStrategy,
    scenario: Scenario,
    demands: FloatArray,
    hours: FloatArray,
    masks: FloatArray,
    servers_max: int,
    unit: FloatArray,
    unserved_price: float | None,
) -> tuple[FloatArray, FloatArray]:
    """Cost of every coalition under every option: (coalitions, 1 + servers).

    Column 0 rents everything from the burst offer (infinite without one);
    column 1 + k owns k servers. Infeasible options (work left unserved when
    that is forbidden) cost infinity. Also returns unserved hours (same shape).
    """
    discount = _discount_factors(scenario)
    years = scenario.horizon_years
    coalitions = masks.shape[0]
    costs = np.full((coalitions, servers_max + 2), np.inf)
    unserved = np.zeros_like(costs)
    burst = strategy.burst
    caps = np.arange(servers_max + 1)[:, None] * unit[None, :]
    fast = (burst is None or burst.purchase in ("on_demand", "spot")) and bool(
        hours.min() >= 1.0
    )

    if fast:
        served, total = _served_within(demands, hours, masks, caps)
        work = total.sum(axis=-1)
        reduced_hours = np.array([1.0, float(hours.sum()) - 1.0])
        if burst is not None:
            levels = _two_block_levels(
                served[:, 0], total, caps[0], reduced_hours.sum()
            )
            npv, left = _npv_and_unserved(
                burst, scenario, levels, reduced_hours, discount
            )
            costs[:, 0], unserved[:, 0] = _priced(
                npv, left, work, unserved_price, discount
            )
        for k in range(servers_max + 1):
            owned = replace(strategy, servers=k)
            levels = _two_block_levels(
                served[:, k], total, caps[k], reduced_hours.sum()
            )
            npv, left = _npv_and_unserved(
                owned, scenario, levels, reduced_hours, discount
            )
            costs[:, k + 1], unserved[:, k + 1] = _priced(
                npv, left, work, unserved_price, discount
            )
        return costs, unserved
    # Exact hourly path: a commitment is sized on each coalition's own hours
    # (batch item 0 in the engine), so coalitions go one at a time.
    owned_k = [replace(strategy, servers=k) for k in range(servers_max + 1)]
    flat = demands.reshape(demands.shape[0], -1)
    for row in range(coalitions):
        levels = (masks[row] @ flat).reshape(1, years, -1)
        work = np.array([float((levels * hours).sum())])
        options: list[SharedStrategy | CloudStrategy] = [*owned_k]
        if burst is not None:
            options.insert(0, burst)
        first = 0 if burst is not None else 1
        for column, option in enumerate(options, start=first):
            npv, left = _npv_and_unserved(option, scenario, levels, hours, discount)
            cost, lost = _priced(npv, left, work, unserved_price, discount)
            costs[row, column], unserved[row, column] = cost[0], lost[0]
    return costs, unserved


def consortium_game(
    scenario: Scenario,
    strategy_name: str,
    *,
    own_name: str = DEFAULT_OWN_NAME,
    unserved_usd_per_reference_hour: float | None = None,
) -> ConsortiumGame:
    """The cost game of a shared strategy's consortium, from the engine.

    Players are the scenario's own demand and each member. For each coalition
    the pooled hourly demand is served by the cheaper of (a) owning ``k``
    servers of the shared strategy's specification, with its opex, refresh and
    resale settings, ``k`` searched exhaustively from 0 to the fewest servers
    that cover the grand coalition's peak (more only adds cost), with overflow
    bursting to the strategy's ``burst`` offer or, without one, waiting for
    spare hours in the same year; and (b) renting everything from the burst
    offer, the realistic outside option of methods notes 4.7. Present values
    cover every payer, at the scenario's real discount rate over its horizon.

    Work left unserved (only possible without a burst offer) is forbidden by
    default: such a plan is infeasible. Give ``unserved_usd_per_reference_hour``
    to price it instead (e.g. the cost of buying the work elsewhere).

    All coalitions are evaluated in one batched engine call per server count:
    each coalition-year is reduced exactly to two blocks that carry its served
    and overflow work (the only aggregates the owned-cluster, on-demand/spot
    burst and wait models use). A committed (1- or 3-year) burst offer is sized
    on each coalition's hours, so then coalitions are evaluated one at a time on
    full hourly demand (slower).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    strategy_name : str
        Name of one of its shared strategies.
    own_name : str, default "This project"
        Player name of the scenario's own demand.
    unserved_usd_per_reference_hour : float, optional
        Price of work left unserved, paid at the end of its year; default None
        forbids unserved work. [USD/reference accelerator-h]

    Returns
    -------
    ConsortiumGame
        Coalition costs, the plan behind each, usage and the grand coalition's
        capacity/variable split.

    Raises
    ------
    ValueError
        If the strategy is not shared, there are more than :data:`MAX_PLAYERS`
        players, names repeat, or some coalition cannot be served (no burst
        offer, unserved work forbidden, and the cluster idle in some year).
    ResolutionError
        If the strategy names unknown catalog entries.
    """
    strategy = _shared_strategy(scenario, strategy_name)
    n = 1 + len(strategy.members)
    if n > MAX_PLAYERS:
        msg = (
            f"strategy_name: {strategy_name!r} has {n} players (this project and "
            f"{n - 1} members); at most {MAX_PLAYERS} are supported (2^n coalitions)"
        )
        raise ValueError(msg)
    if unserved_usd_per_reference_hour is not None and not (
        math.isfinite(unserved_usd_per_reference_hour)
        and unserved_usd_per_reference_hour >= 0
    ):
        msg = (
            "unserved_usd_per_reference_hour must be a non-negative number, got "
            f"{unserved_usd_per_reference_hour!r}"
        )
        raise ValueError(msg)
    by_player = player_demands(scenario, strategy_name, own_name=own_name)
    players = tuple(by_player)
    demands = np.stack([by_player[p] for p in players])
    hours = tco.scenario_demand(scenario).hours
    unit = _unit_capacity(strategy, scenario)
    if unit.max() <= 0:
        msg = f"{strategy_name}: a server of this strategy has no usable capacity"
        raise ValueError(msg)
    peak = float(demands.sum(axis=0).max())
    servers_max = math.ceil(peak / float(unit.max()) - 1e-12)
    if servers_max > 10_000:
        msg = (
            f"{strategy_name}: the pooled peak needs {servers_max} servers, more "
            "than the 10,000 a strategy may hold"
        )
        raise ValueError(msg)
    membership = _membership(n)[1:]
    costs, unserved = _option_costs(
        strategy,
        scenario,
        demands,
        hours,
        membership,
        servers_max,
        unit,
        unserved_usd_per_reference_hour,
    )
    best = np.argmin(costs, axis=1)
    rows = np.arange(costs.shape[0])
    best_cost = costs[rows, best]
    if not np.isfinite(best_cost).all():
        stuck = _label(int(np.flatnonzero(~np.isfinite(best_cost))[0]) + 1, players)
        msg = (
            f"{strategy_name}: no plan serves all the work of {stuck}: the "
            "strategy has no burst offer and its cluster is idle in some year; "
            "add a burst offer or set unserved_usd_per_reference_hour"
        )
        raise ValueError(msg)
    masks = np.arange(1, 2**n)
    plans = pd.DataFrame(
        {
            "coalition": [_label(int(m), players) for m in masks],
            "size": membership.sum(axis=1).astype(int),
            "option": np.where(best == 0, "cloud", "own"),
            "servers": np.maximum(best - 1, 0),
            "cost_usd": best_cost,
            "unserved_reference_hours": unserved[rows, best],
        }
    )
    game_costs = {
        _members(int(m), players): float(c)
        for m, c in zip(masks, best_cost, strict=True)
    }
    # Player order: singletons first in player order (so _game keeps it).
    ordered = {frozenset({p}): game_costs[frozenset({p})] for p in players}
    ordered |= game_costs
    discount = _discount_factors(scenario)
    yearly = (demands * hours).sum(axis=-1)  # (players, years)
    usage = dict(zip(players, yearly.sum(axis=1).tolist(), strict=True))
    discounted = dict(zip(players, (yearly @ discount[1:]).tolist(), strict=True))
    servers = int(plans["servers"].iloc[-1])
    grand_cost = float(best_cost[-1])
    capacity_cost = 0.0
    if servers > 0:
        idle = np.zeros((1, scenario.horizon_years, 2))
        capacity_cost = float(
            _npv_and_unserved(
                replace(strategy, servers=servers),
                scenario,
                idle,
                np.array([1.0, HOURS_PER_YEAR - 1.0]),
                discount,
            )[0][0]
        )
    binding = _binding_demand(demands, hours, servers * unit)
    return ConsortiumGame(
        strategy_name=strategy_name,
        players=players,
        costs_usd=ordered,
        plans=plans,
        usage_reference_hours=usage,
        discounted_usage_reference_hours=discounted,
        servers=servers,
        capacity_cost_usd=capacity_cost,
        variable_cost_usd=grand_cost - capacity_cost,
        binding_demand_reference_hours=dict(
            zip(players, binding.tolist(), strict=True)
        ),
    )


def _binding_demand(
    demands: FloatArray, hours: FloatArray, cap: FloatArray
) -> FloatArray:
    """Each player's work in the hours the pooled cluster is full (else its peaks)."""
    pooled = demands.sum(axis=0)  # (years, hours)
    active = cap > 0
    full = (pooled >= cap[:, None] * (1.0 - 1e-12)) & active[:, None]
    if not full.any():
        rows = active if active.any() else np.ones_like(active)
        full = (pooled == pooled.max(axis=1, keepdims=True)) & rows[:, None]
    binding: FloatArray = (demands * hours * full).sum(axis=(1, 2))
    return binding


def coalition_costs(
    scenario: Scenario,
    strategy_name: str,
    *,
    own_name: str = DEFAULT_OWN_NAME,
    unserved_usd_per_reference_hour: float | None = None,
) -> dict[frozenset[str], float]:
    """Least present value of serving each coalition of a consortium.

    A shortcut to ``consortium_game(...).costs_usd``; see
    :func:`consortium_game` for the options searched.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    strategy_name : str
        Name of one of its shared strategies.
    own_name : str, default "This project"
        Player name of the scenario's own demand.
    unserved_usd_per_reference_hour : float, optional
        Price of unserved work; default forbids it. [USD/reference accelerator-h]

    Returns
    -------
    dict of frozenset of str to float
        Cost of every non-empty coalition, singletons first. [USD]

    Raises
    ------
    ValueError
        As :func:`consortium_game`.
    """
    game = consortium_game(
        scenario,
        strategy_name,
        own_name=own_name,
        unserved_usd_per_reference_hour=unserved_usd_per_reference_hour,
    )
    return dict(game.costs_usd)


def uniform_rate_usd_per_reference_hour(game: ConsortiumGame) -> float:
    r"""Uniform recharge rate that recovers the pooled cost from usage.

    A service centre charging federal awards must bill by usage at rates that
    do not discriminate and recover only aggregate costs (2 CFR 200.468 [1]_);
    a flat rate on every year's usage, paid at the end of the year, recovers
    :math:`c(N)` in present value at this rate.

    Parameters
    ----------
    game : ConsortiumGame
        The consortium's game.

    Returns
    -------
    float
        :math:`c(N) / \sum_i \sum_k u_{i,k} (1 + r)^{-k}`. [USD/reference
        accelerator-h]

    References
    ----------
    .. [1] "Specialized service facilities," 2 CFR 200.468, Code of Federal
       Regulations, Title 2, Subtitle A, Chapter II, Part 200 (2024 revision).
    """
    total = sum(game.discounted_usage_reference_hours.values())
    return game.grand_coalition_cost_usd / total if total > 0 else float("nan")


def allocations(game: ConsortiumGame) -> pd.DataFrame:
    """Every rule's allocation of a consortium game, with savings and core checks.

    Parameters
    ----------
    game : ConsortiumGame
        The consortium's game (:func:`consortium_game`).

    Returns
    -------
    pandas.DataFrame
        One row per rule (:data:`RULES`) and member: ``member``, ``rule``,
        ``allocation_usd``, ``standalone_usd`` (the member's own best plan),
        ``savings_usd`` (stand-alone minus allocation), ``savings_share``
        [0-1 of stand-alone], ``in_core`` (of that rule's allocation),
        ``uniform_rate_usd_per_reference_hour`` [USD/reference accelerator-h]
        and ``least_core_epsilon_usd`` (both the same on every row). [USD]
    """
    costs = game.costs_usd
    usage = game.discounted_usage_reference_hours
    frames = [
        proportional_allocation(costs, usage),
        shapley_allocation(costs),
        nucleolus_allocation(costs),
        least_core_allocation(costs),
        scrb_allocation(costs),
        peak_load_allocation(
            game.capacity_cost_usd,
            game.variable_cost_usd,
            game.binding_demand_reference_hours,
            usage,
        ),
    ]
    in_core = {
        frame["rule"].iloc[0]: bool(core_check(frame, costs)["in_core"].iloc[0])
        for frame in frames
    }
    table = pd.concat(frames, ignore_index=True)
    standalone = {p: float(costs[frozenset({p})]) for p in game.players}
    table["standalone_usd"] = table["member"].map(standalone)
    table["savings_usd"] = table["standalone_usd"] - table["allocation_usd"]
    table["savings_share"] = table["savings_usd"] / table["standalone_usd"].where(
        table["standalone_usd"] != 0
    )
    table["in_core"] = table["rule"].map(in_core)
    table["uniform_rate_usd_per_reference_hour"] = uniform_rate_usd_per_reference_hour(
        game
    )
    table["least_core_epsilon_usd"] = least_core_epsilon_usd(costs)
    return table


def allocation_table(
    scenario: Scenario,
    strategy_name: str,
    *,
    own_name: str = DEFAULT_OWN_NAME,
    unserved_usd_per_reference_hour: float | None = None,
) -> pd.DataFrame:
    """How each allocation rule shares a consortium's pooled cost.

    Builds the game (:func:`consortium_game`) and applies every rule
    (:func:`allocations`).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    strategy_name : str
        Name of one of its shared strategies.
    own_name : str, default "This project"
        Player name of the scenario's own demand.
    unserved_usd_per_reference_hour : float, optional
        Price of unserved work; default forbids it. [USD/reference accelerator-h]

    Returns
    -------
    pandas.DataFrame
        ``member``, ``rule``, ``allocation_usd``, ``standalone_usd``,
        ``savings_usd``, ``savings_share`` [0-1], ``in_core``,
        ``uniform_rate_usd_per_reference_hour`` and ``least_core_epsilon_usd``
        (:func:`allocations`). [USD]

    Raises
    ------
    ValueError
        As :func:`consortium_game`.
    """
    game = consortium_game(
        scenario,
        strategy_name,
        own_name=own_name,
        unserved_usd_per_reference_hour=unserved_usd_per_reference_hour,
    )
    return allocations(game)


def allocation_summary(table: pd.DataFrame) -> str:
    """A few plain sentences on what pooling saves and which rules are stable.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`allocation_table` (or :func:`allocations`).

    Returns
    -------
    str
        Savings of pooling, the rules in and out of the core (and who would
        leave), and the uniform recharge rate.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "member": ["a", "b"], "rule": "usage", "allocation_usd": [60.0, 30.0],
    ...     "standalone_usd": [70.0, 40.0], "savings_usd": [10.0, 10.0],
    ...     "savings_share": [1 / 7, 0.25], "in_core": True,
    ...     "uniform_rate_usd_per_reference_hour": 1.5})
    >>> print(allocation_summary(table))  # doctest: +NORMALIZE_WHITESPACE
    Pooling costs $90 against $110 if each member went alone: it saves $20 (18%).
    In the core (no group would rather leave): Proportional to usage (uniform
    rate). A uniform rate of $1.50 per reference hour recovers the pooled
    cost; 2 CFR 200.468 requires such a rate for usage charged to federal awards,
    while Shapley or nucleolus shares suit the members' buy-in contributions.
    """
    first = table[table["rule"] == table["rule"].iloc[0]]
    pooled = float(first["allocation_usd"].sum())
    alone = float(first["standalone_usd"].sum())
    saved = alone - pooled
    share = saved / alone if alone else 0.0
    verb = "saves" if saved >= 0 else "costs an extra"
    lines = [
        f"Pooling costs ${pooled:,.0f} against ${alone:,.0f} if each member went "
        f"alone: it {verb} ${abs(saved):,.0f} ({abs(share):.0%})."
    ]
    rules = list(dict.fromkeys(table["rule"]))
    stable = [
        r for r in rules if bool(table.loc[table["rule"] == r, "in_core"].iloc[0])
    ]
    unstable = [r for r in rules if r not in stable]
    if stable:
        names = "; ".join(RULE_LABELS.get(r, r) for r in stable)
        lines.append(f"In the core (no group would rather leave): {names}.")
    for rule in unstable:
        rows = table[table["rule"] == rule]
        over = rows.loc[rows["allocation_usd"] > rows["standalone_usd"], "member"]
        who = (
            f"{', '.join(over)} would pay more than alone"
            if len(over)
            else "a group of members would pay more than on its own"
        )
        lines.append(f"Not in the core: {RULE_LABELS.get(rule, rule)} ({who}).")
    if "least_core_epsilon_usd" in table:
        epsilon = float(table["least_core_epsilon_usd"].iloc[0])
        if epsilon > CORE_TOLERANCE * max(alone, 1.0):
            lines.append(
                "No allocation keeps every group in (the core is empty): each "
                f"group would need up to ${epsilon:,.0f} of subsidy (least core)."
            )
    rate = float(table["uniform_rate_usd_per_reference_hour"].iloc[0])
    lines.append(
        f"A uniform rate of ${rate:,.2f} per reference hour recovers the pooled "
        "cost; 2 CFR 200.468 requires such a rate for usage charged to federal "
        "awards, while Shapley or nucleolus shares suit the members' buy-in "
        "contributions."
    )
    return " ".join(lines)
