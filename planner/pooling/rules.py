"""Cost allocation rules for a cost game: pure functions of ``{coalition: cost}``.

The rules take a plain mapping ``{frozenset(players): cost_usd}``, so they can be
checked on textbook games: proportional to usage, Shapley value, nucleolus
(sequence of LPs fixing only the coalitions with non-zero duals, Guajardo and
Jörnsten 2015), least core, separable costs remaining benefits (SCRB) and
peak-load (Boiteux, Steiner), and the core check. The excess of a coalition
under an allocation ``x`` is ``x(S) - c(S)``: positive means ``S`` pays more than
it would alone and would leave (cost-game convention).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

FloatArray = npt.NDArray[np.float64]

Costs = Mapping[frozenset[str], float]
"""A cost game: the cost of every non-empty coalition of players. [USD]"""

MAX_PLAYERS = 12
"""Most players a game may have: exact rules need all 2^n coalition costs, and the
nucleolus LPs have 2^n rows (docs/methods.md §4.7: practical up to n ~ 10-12). [-]"""

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
    drives peak capacity and may leave the core (docs/methods.md §4.6).

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
    Airport game of docs/methods.md §4.2 (runway lengths 8, 11, 13, 18):

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
    in the grand coalition (docs/methods.md §4.7).

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
    pays only the variable cost (docs/methods.md §4.1).

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
