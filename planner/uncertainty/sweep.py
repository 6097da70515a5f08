"""Sweeps of many independent evaluations: local processes, or a Dask cluster.

A sweep maps one pure function over items (chunks of Monte Carlo draws run
through the engine, the second-stage solves that value a robust plan, Pareto
points, coalitions of a cost game) and returns the results in item order. By
default the items run on a pool of local processes; given a scheduler address
(``scheduler="tcp://host:8786"``, the CLI's ``--scheduler``, or the
:data:`SCHEDULER_ENV` environment variable) they run on that Dask distributed
cluster [1]_. Each result depends only on its item, so both give identical
results for the same seed.

References
----------
.. [1] Dask Development Team, "Dask: Library for dynamic task scheduling,"
   2016, https://dask.org (distributed scheduler: distributed.dask.org).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from planner.uncertainty.engine import Outcomes, Prepared, concatenate, loop_outcomes

FloatArray = npt.NDArray[np.float64]
ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

SCHEDULER_ENV = "PLANNER_SCHEDULER"
"""Environment variable naming a Dask scheduler address for sweeps. [-]"""

CONNECT_TIMEOUT_S = 5.0
"""How long to wait for a Dask scheduler before giving up. [s]"""

LOOP_CHUNK_DRAWS = 16
"""Draws per task when the engine's loop runs on workers. [-]"""


class SweepError(ValueError):
    """A sweep that cannot run (an unreachable scheduler); one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The Dask scheduler to use: the argument, else :data:`SCHEDULER_ENV`.

    Parameters
    ----------
    scheduler : str, optional
        Address such as ``tcp://10.0.0.5:8786``.

    Returns
    -------
    str or None
        The address, or None for local processes.
    """
    chosen = scheduler or os.environ.get(SCHEDULER_ENV) or None
    return chosen.strip() if chosen else None


def _client(address: str) -> Any:
    """A Dask client of the scheduler at ``address``, or a :class:`SweepError`."""
    try:
        from distributed import Client
    except ImportError:
        msg = (
            f"scheduler {address}: Dask is not installed; install the 'distributed' "
            "extra (pip install 'gpu-procurement-planner[distributed]')"
        )
        raise SweepError([msg]) from None
    try:
        return Client(  # type: ignore[no-untyped-call]
            address, timeout=CONNECT_TIMEOUT_S, set_as_default=False
        )
    except (OSError, TimeoutError, ValueError) as error:
        msg = f"cannot reach the Dask scheduler at {address}: {error}"
        raise SweepError([msg]) from None


def check_scheduler(address: str) -> None:
    """Connect to a Dask scheduler and disconnect: fail early and clearly.

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``tcp://10.0.0.5:8786``.

    Raises
    ------
    SweepError
        If Dask is not installed or the scheduler does not answer within
        :data:`CONNECT_TIMEOUT_S`.
    """
    _client(address).close()


def _context() -> Any:
    """Process start method: forkserver on POSIX (no fork of a threaded parent)."""
    if (
        sys.platform != "win32"
        and "forkserver" in multiprocessing.get_all_start_methods()
    ):
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def run_sweep(
    function: Callable[[ItemT], ResultT],
    items: Sequence[ItemT],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ResultT]:
    """Apply a picklable function to every item; results in item order.

    Parameters
    ----------
    function : callable
        A module-level (picklable) function of one item.
    items : sequence
        The items.
    scheduler : str, optional
        Dask scheduler address (else :data:`SCHEDULER_ENV`, else local).
    workers : int, optional
        Local processes (default: the CPUs); 1 runs in this process.
    progress : callable, optional
        ``progress(done, total)`` as items finish.

    Returns
    -------
    list
        ``[function(item) for item in items]``.

    Raises
    ------
    SweepError
        If the scheduler cannot be reached or Dask is not installed.

    Notes
    -----
    Local workers start by ``forkserver`` (a threaded parent is never forked),
    which imports the calling script again: a script that runs a sweep needs
    the ``if __name__ == "__main__":`` idiom of :mod:`multiprocessing`.
    """
    total = len(items)
    address = scheduler_address(scheduler)
    if address is not None:
        return _dask_sweep(function, items, address, progress)
    count = min(workers or os.cpu_count() or 1, total)
    if count <= 1:
        out = []
        for done, item in enumerate(items, start=1):
            out.append(function(item))
            if progress is not None:
                progress(done, total)
        return out
    results: list[Any] = [None] * total
    with ProcessPoolExecutor(max_workers=count, mp_context=_context()) as pool:
        futures = {pool.submit(function, item): k for k, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done, total)
    return results


def _dask_sweep(
    function: Callable[[ItemT], ResultT],
    items: Sequence[ItemT],
    address: str,
    progress: Callable[[int, int], None] | None,
) -> list[ResultT]:
    client = _client(address)
    from distributed import as_completed as dask_completed

    try:
        futures = client.map(function, list(items), pure=False)
        position = {future.key: k for k, future in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        for done, future in enumerate(
            dask_completed(futures, loop=client.loop),  # type: ignore[no-untyped-call]
            start=1,
        ):
            results[position[future.key]] = future.result()
            if progress is not None:
                progress(done, len(futures))
        return results
    finally:
        client.close()


def _loop_chunk(payload: tuple[Prepared, FloatArray]) -> Outcomes:
    prepared, values = payload
    return loop_outcomes(prepared, values)


def loop_sweep(
    prepared: Prepared,
    values: FloatArray,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = LOOP_CHUNK_DRAWS,
) -> Outcomes:
    """The engine draw by draw, chunks of draws spread over workers.

    Parameters
    ----------
    prepared : Prepared
        Scenario, plan and spec.
    values : numpy.ndarray of shape (draws, inputs)
        The draws.
    scheduler : str, optional
        Dask scheduler address (else :data:`SCHEDULER_ENV`, else local).
    workers : int, optional
        Local processes.
    progress : callable, optional
        ``progress(done_draws, total_draws)``.
    chunk : int, default 16
        Draws per task.

    Returns
    -------
    Outcomes
        One row per draw, in draw order.
    """
    starts = list(range(0, values.shape[0], chunk))
    items = [(prepared, values[s : s + chunk]) for s in starts]
    total = int(values.shape[0])

    def chunks_done(done: int, _: int) -> None:
        if progress is not None:
            progress(min(done * chunk, total), total)

    parts = run_sweep(
        _loop_chunk,
        items,
        scheduler=scheduler,
        workers=workers,
        progress=chunks_done,
    )
    return concatenate(parts)
