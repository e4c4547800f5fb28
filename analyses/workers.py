"""``run --workers N``: the built-in cases fitted in worker processes, reports written by the
parent.

- Processes are started with "spawn" (a fresh interpreter each: forking a process that has
  loaded Numba, PyTensor and nutpie's threads is unsafe).  Each worker keeps one
  ``ModelCache`` for the cases it fits, as the serial run does.
- A worker fits a case (``run_case``) and draws its page (``render_case``); the parent gets the
  result back and writes the report atomically under its own locks (``app.write_guarded``), so every
  guarantee of the serial run holds: nothing half-written, a failed run damages nothing.
- Numbers do not depend on the worker: every seed is ``child_seed(seed, case, ...)`` and the
  compile caches are the user's own, shared (PyTensor locks its compile folder; Numba writes
  each cache file whole and replaces it), so a fresh compile and a cached one compute the same
  bits (fastmath off).
- Signals: the workers ignore SIGINT (a Ctrl-C at the terminal reaches the whole process
  group; only the parent acts on it) and die on SIGTERM.  On an interrupt (or any error) the
  parent terminates them, so nothing they were doing is reported, and stops as the serial run
  does (exit 130 / 143).  SIGINT and SIGTERM are blocked while the pool starts its processes
  (a child inherits the mask) and arrive right after.
- Longest cases first (``EXPECTED_SECONDS``), so that the last case to finish is a short one.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from nll_losses.analyses import interrupts
from nll_losses.analyses.cases import get_case
from nll_losses.analyses.config import child_seed
from nll_losses.analyses.interrupts import stage
from nll_losses.analyses.progress import QueueStatus, drain, say

# Wall seconds per case of a warm ``run --sweeps --quick`` (benchmarks/RESULTS.md, Profile,
# 2026-11-30; iris and softmax_synthetic are also the longest at full settings): only the
# order matters, longest first; a case not listed goes last.
EXPECTED_SECONDS = {
    "network_rings": 224,
    "iris": 179,
    "softmax_synthetic": 133,
    "breast_cancer": 108,
    "quasi_separated": 55,
    "logistic_synthetic": 42,
    "diabetes": 31,
    "synthetic": 30,
    "categorical_frequencies": 19,
}

_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_cache = None  # the worker's ModelCache
_status = None  # the worker's QueueStatus: what it is doing, for the parent's progress lines


def default_workers() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def longest_first(names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: -EXPECTED_SECONDS.get(n, 0))


def _start_worker(queue=None) -> None:
    global _status
    _status = None
    if queue is not None:
        queue.cancel_join_thread()  # exit even if the parent has not read every status line
        _status = QueueStatus(queue, f"worker {os.getpid()}")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _fit(name: str, cfg, quiet: bool):
    """In a worker: the case's result and its drawn page, with the Python warnings raised."""
    global _cache
    from nll_losses.analyses.estimators import ModelCache
    from nll_losses.analyses.pipeline import render_case, run_case

    if _cache is None:
        _cache = ModelCache()
    with warnings.catch_warnings(record=True) as caught:
        if quiet:
            warnings.simplefilter("ignore")
        case = get_case(name)
        stage(f"loading {name}")
        data = case.load(child_seed(cfg.seed, name, "data"))
        stage(f"fitting {name}")
        t0 = time.perf_counter()
        sized = case.sized if cfg.sweeps else None
        result = run_case(data, case.config, cfg, _cache, sized=sized, progress=_status)
        fit_seconds = time.perf_counter() - t0
        say(_status, f"{name} · report: figures and page")
        rendered = render_case(result)
        say(_status, f"{name} · done")
    return result, rendered, _portable(caught), {"pid": os.getpid(), "fit": fit_seconds}


def _portable(caught) -> list[tuple]:
    """Warnings as (message, category, filename, lineno), the category only when picklable."""
    out = []
    for w in caught:
        category = w.category
        try:
            pickle.dumps(category)
        except Exception:
            category = UserWarning
        out.append((str(w.message), category, w.filename, w.lineno))
    return out


def rewarn(items: list[tuple]) -> None:
    """Raise a worker's warnings again in this process (the CLI holds them to the end)."""
    for message, category, filename, lineno in items:
        warnings.warn_explicit(message, category, filename, lineno)


def fit_cases(names: list[str], cfg, workers: int, quiet: bool, show=None) -> Iterator[tuple]:
    """``(name, result, rendered, warnings, info)`` for every case, as each finishes, fitted
    in ``workers`` processes, longest cases first.  On an interrupt or error the workers are
    terminated before it propagates.  ``show``: called with the workers' status messages
    (``Progress.show``) as they arrive."""
    calls = {n: (n, cfg, quiet) for n in longest_first(names)}
    for name, out in map_unordered(_fit, calls, workers, show):
        yield (name, *out)


def map_unordered(fn, calls: dict, workers: int, show=None) -> Iterator[tuple]:
    """``(key, fn(*args))`` for every ``key: args`` of ``calls``, as each finishes, in
    ``workers`` spawned processes (submitted in ``calls``' order).  On an interrupt or error
    the workers are terminated before it propagates.  ``show``: called with the workers'
    status messages (``Progress.show``) as they arrive."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue() if show is not None else None
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(queue,),
    )
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:  # the pool spawns its processes at the first submit (they inherit the mask)
            pending = {pool.submit(fn, *args): key for key, args in calls.items()}
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        while pending:
            interrupts.check()
            done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            if show is not None:
                show(drain(queue))
            for future in done:
                key = pending.pop(future)
                yield key, future.result()
    except BaseException:
        _terminate(pool)
        raise
    pool.shutdown(wait=True)


def _terminate(pool) -> None:
    """Stop every worker now (SIGTERM) and wait for them; never split by a second signal."""
    with interrupts.held():
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for p in processes:
            with contextlib.suppress(Exception):
                p.terminate()
        for p in processes:
            with contextlib.suppress(Exception):
                p.join(timeout=30)
        with contextlib.suppress(Exception):
            pool.shutdown(wait=True, cancel_futures=True)
