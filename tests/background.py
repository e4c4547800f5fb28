"""Subprocess runs that a test only waits for, run on a background lane.

The cold-start runs (tests/analyses/test_cold_start.py) take the second core for the first part
of a session (about half of it: the summary line at the session's end says when they ended) and
would leave it idle for the rest.  A test marked ``@pytest.mark.background("name")`` has its run
(the module's ``BACKGROUND["name"]``: a function that writes its inputs into a given folder and
returns the command line: a list, the arguments after ``python -m nll_losses.analyses`` run
from the repository's root, or a :class:`Command`, any arguments after the interpreter with its
own working folder and environment) started by conftest.py when collection ends, after the
cold-start runs and in their compile caches (warm by then: these runs check numbers and pages,
not a cold start): one at a time while the session's other tests run in this process, two at a
time once this process waits for one (the tests that wait come after the others, conftest.py
sorts them there).  The test then waits for its run with the ``background_run`` fixture: the
same run and the same checks, on the cores the session leaves idle.  A test run on its own (no
cold start selected) starts its runs at once; a run that was never started (collection
bypassed) runs when the test asks for it.
"""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 900  # s, each run (as tests/analyses/test_cli.py's cli)


@dataclass
class Command:
    """A run: ``argv`` after the interpreter (``sys.executable``), in ``cwd`` (the repository's
    root when None), with ``env`` added to the lane's environment."""

    argv: list
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)


# name -> f(folder) -> the analyses command line (after ``python -m nll_losses.analyses``), or a
# Command
Job = Callable[[Path], "list | Command"]


class Runner:
    """Subprocesses run with ``env``, each killed at its timeout or when :meth:`stop` is
    called (at exit: an interrupted session leaves no run behind); one per thread at a time."""

    def __init__(self, env: dict):
        self.env = env
        self.lock = threading.Lock()
        self.stopping = False
        self.running: set[subprocess.Popen] = set()
        atexit.register(self.stop)

    def run(
        self, args: list, timeout: float, cwd: Path | None = None, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        """``args`` in ``cwd`` (the repository's root when None), with ``env`` added."""
        with self.lock:
            if self.stopping:
                raise RuntimeError("the session ended before this run")
            proc = subprocess.Popen(
                args,
                cwd=cwd or ROOT,
                env={**self.env, **(env or {})},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            self.running.add(proc)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        finally:
            with self.lock:
                self.running.discard(proc)
        return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)

    def stop(self):
        with self.lock:
            self.stopping = True
            for proc in self.running:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


class Lane:
    """The runs of ``jobs``, started in order, after ``after`` (a Future) is done, with ``env``
    added to the environment: one at a time, two once :meth:`widen` is called (when this
    process waits for one: its own tests have ended and left their core to the lane)."""

    def __init__(self, jobs: dict[str, Job], after: Future | None = None, env: dict | None = None):
        self.base = Path(tempfile.mkdtemp(prefix="nll-background-"))
        atexit.register(shutil.rmtree, self.base, ignore_errors=True)
        # the environment copied now: tests running meanwhile may change os.environ
        self.runner = Runner({**os.environ, **(env or {})})
        self.jobs = dict(jobs)
        self.results = {name: Future() for name in jobs}
        self.after = after
        self.seconds: dict[str, float] = {}  # how long each run that ended took
        self.ended: float | None = None  # ... and when the last one did
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        for item in self.jobs.items():
            self.queue.put(item)
        self.lock = threading.Lock()
        self.left = len(self.jobs)  # runs not ended
        self.threads = [threading.Thread(target=self._some, daemon=True)]
        self.threads[0].start()

    def widen(self) -> None:
        """A second thread taking runs from the same queue (once; no-op after)."""
        with self.lock:
            if len(self.threads) == 1 and self.left > 1:
                self.threads.append(threading.Thread(target=self._some, daemon=True))
                self.threads[-1].start()

    def _some(self):
        """Runs taken from the queue until it is empty."""
        if self.after is not None:
            try:
                self.after.result()
            except BaseException:  # noqa: BLE001 -- the cold-start tests report it
                pass
        while True:
            try:
                name, job = self.queue.get_nowait()
            except queue.Empty:
                return
            start = time.monotonic()
            try:
                self.results[name].set_result(self._run(name, job))
            except BaseException as e:  # raised by result()
                self.results[name].set_exception(e)
            with self.lock:
                self.seconds[name] = time.monotonic() - start
                self.left -= 1
                if self.left == 0:
                    self.ended = time.monotonic()

    def _run(self, name: str, job: Job) -> tuple[subprocess.CompletedProcess, Path]:
        folder = self.base / name.replace(" ", "_")
        folder.mkdir()
        command = job(folder)
        if not isinstance(command, Command):
            command = Command(["-m", "nll_losses.analyses", *command])
        args = [sys.executable, *map(str, command.argv)]
        return self.runner.run(args, TIMEOUT, command.cwd, command.env), folder


_LANES: list[Lane] = []


def start(jobs: dict[str, Job], after: Future | None = None, env: dict | None = None) -> None:
    """Called by conftest.py when collection ends, with the selected tests' runs (after the
    cold-start runs and in their compile caches, when they run)."""
    if jobs and not _LANES:
        # the costliest first (a job's ``cpu_seconds``, where measured): the short runs then
        # fill the lane's end, when it runs two at a time
        order = sorted(jobs, key=lambda name: -getattr(jobs[name], "cpu_seconds", 0))
        _LANES.append(Lane({name: jobs[name] for name in order}, after, env))


def result(name: str, module) -> tuple[subprocess.CompletedProcess, Path]:
    """The run ``name`` (``module.BACKGROUND[name]``) and its folder, once it has ended.  This
    process now waits: the lane may take both cores."""
    if _LANES and name in _LANES[0].results:
        _LANES[0].widen()
        return _LANES[0].results[name].result(timeout=4 * TIMEOUT)
    lane = Lane({name: module.BACKGROUND[name]})  # not started at collection: run it now
    return lane.results[name].result(timeout=TIMEOUT + 60)


def ended() -> tuple[int, float | None] | None:
    """The lane's number of runs and ``time.monotonic()`` when its last one ended (None: not
    ended yet); None when no lane ran."""
    return (len(_LANES[0].jobs), _LANES[0].ended) if _LANES else None


def durations() -> str:
    """Each run of the lane that ended and the seconds it took, longest first."""
    if not _LANES:
        return ""
    took = sorted(_LANES[0].seconds.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{name} {s:.0f} s" for name, s in took)
