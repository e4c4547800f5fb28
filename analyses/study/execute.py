"""A study's replicates run serially, in local worker processes, or as tasks on an existing
Dask ``distributed`` cluster; the same numbers whichever (each replicate's seeds are its own:
``analyses.study.replicate``).

- serial (``--workers 1``): in this process, one ``ModelCache``;
- local (``--workers N``): N spawned processes (``analyses.workers.map_unordered``), each
  with its own ``ModelCache``, so one compile per model structure per worker; the compile
  caches on disk are shared as ``run --workers`` shares them (PyTensor locks its compile
  folder; Numba writes each cache file whole);
- Dask (``--scheduler tcp://HOST:PORT``): ``Client.map`` over the replicates; each Dask
  worker process keeps its own ``ModelCache`` (a module global) and fits one replicate at a
  time (a lock: a worker started with several threads still runs them one by one, since a
  model cache is not thread-safe).  The workers need this package installed (``pip install
  -e .`` in their environment, as ``make setup`` does).

``on_done(case, row)`` is called in this process as each replicate finishes, in the order
they finish (the summary orders them by r).
"""

from __future__ import annotations

import threading
import warnings

from nll_losses.analyses import threads
from nll_losses.analyses.errors import InputError
from nll_losses.analyses.workers import map_unordered

_LOCK = threading.Lock()


def task(kind: str, case: str, r: int, seed: int, settings) -> dict:
    """One replicate, wherever it runs (this process, a worker process, a Dask worker)."""
    from nll_losses.analyses.study import replicate

    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the libraries' warnings, replicate after replicate
        return replicate.run(kind, case, r, seed, settings)


def _dask_task(kind: str, case: str, r: int, seed: int, settings) -> dict:
    """``task`` on a Dask worker: one BLAS thread there too, as in ``run``'s processes
    (python -m sets it before NumPy loads; a Dask worker has loaded it already)."""
    threads.one_thread_per_process()
    return task(kind, case, r, seed, settings)


def run(kind, todo, seed, settings, on_done, workers: int = 1, scheduler=None, show=None):
    """Every ``(case, r)`` of ``todo``; ``on_done(case, row)`` as each finishes."""
    if scheduler:
        return _dask(kind, todo, seed, settings, on_done, scheduler)
    if workers > 1 and len(todo) > 1:
        calls = {(case, r): (kind, case, r, seed, settings) for case, r in todo}
        for (case, _), row in map_unordered(task, calls, workers, show):
            on_done(case, row)
        return None
    for case, r in todo:
        on_done(case, task(kind, case, r, seed, settings))
    return None


def _client(address: str):
    """A ``distributed.Client`` of the scheduler at ``address``; an address that is not one,
    or no scheduler answering there, is one line (``InputError``)."""
    from distributed import Client

    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise InputError(
            f"--scheduler {address}: no Dask scheduler answered there ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); give its address as "
            "tcp://HOST:PORT, start one with `dask scheduler` and workers with "
            "`dask worker tcp://HOST:PORT --nthreads 1`"
        ) from None


def check_scheduler(address: str) -> None:
    """That a Dask scheduler answers at ``address`` (``InputError`` otherwise)."""
    _client(address).close()


def _dask(kind, todo, seed, settings, on_done, address: str) -> None:
    from distributed import as_completed

    client = _client(address)
    try:
        futures = {}
        for case, r in todo:
            fut = client.submit(_dask_task, kind, case, r, seed, settings, pure=False)
            futures[fut] = case
        for fut in as_completed(list(futures)):
            on_done(futures.pop(fut), fut.result())
    finally:
        client.close()
