"""Ctrl-C, SIGTERM and concurrent runs: a run stops cleanly and never reports cut-short work.

- ``install()`` turns SIGINT and SIGTERM into ``Interrupted`` (a BaseException, so no
  ``except Exception`` guard swallows it), and records every signal: ``check()`` raises when
  one arrived, so an interrupt some library swallowed still stops the run before writing.
- ``held()``: a section no interrupt may split (the two renames that swap a report in); a signal
  arriving inside is raised when the section ends.
- ``nutpie_sample``: nutpie.sample, stoppable.  Blocking, nutpie catches KeyboardInterrupt
  and returns the draws so far; an exception raised by a signal handler can also land inside
  Python code its Rust threads call (seen: the NumPy API import; the thread panics, exit 1
  with a Rust backtrace).  So sampling runs in the background inside ``held()`` while this
  thread polls; on a signal the chains are stopped (``abort`` waits for them) and the run
  stops.
- ``raise_if_partial``: a trace with fewer draws or chains than asked is an interrupt, never
  a result (the check after sampling).
- ``OutLock``: ``fcntl.flock`` on ``.DIR.lock`` beside each output folder; a second run writing
  to the same folder is refused at once (exit 2 naming the pid holding it), it does not wait.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import sys
import threading
import time
from pathlib import Path

from nll_losses.analyses.errors import InputError

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """The run was stopped by a signal (or a KeyboardInterrupt); ``note`` says what was kept."""

    def __init__(self, signum: int = signal.SIGINT, note: str = ""):
        super().__init__(signum, note)
        self.signum = int(signum)
        self.note = note

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    def __str__(self) -> str:
        return f"interrupted by {self.name}" + (f": {self.note}" if self.note else "")


_held = 0  # depth of held() sections
_pending: list[int] = []  # signals that arrived inside one
_received: list[int] = []  # every signal since install()


def _handler(signum, frame):
    _received.append(signum)
    if _held:
        _pending.append(signum)
        return
    raise Interrupted(signum)


def install() -> dict:
    """From now on SIGINT and SIGTERM raise ``Interrupted`` (main thread only; elsewhere
    nothing changes).  Returns the previous handlers, for ``restore``."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    _received.clear()
    _pending.clear()  # a signal held in an earlier run's section is not this run's
    previous = {s: signal.signal(s, _handler) for s in SIGNALS}
    previous["unraisablehook"] = sys.unraisablehook
    sys.unraisablehook = _unraisable
    return previous


def _unraisable(unraisable) -> None:
    """An ``Interrupted`` raised where Python cannot propagate it (a weakref callback, a
    ``__del__``) is not printed: the signal is recorded, and the next ``check()`` (every
    stage, before and after each write) stops the run."""
    if not isinstance(unraisable.exc_value, Interrupted):
        sys.__unraisablehook__(unraisable)


def check() -> None:
    """Raise ``Interrupted`` if a signal arrived since ``install()`` (even one swallowed)."""
    if _received:
        raise Interrupted(_received[0])


def restore(previous: dict) -> None:
    """The handlers ``install`` replaced, and the signals it recorded forgotten: a later run
    in this process that does not install them (the Python API) is not stopped by them."""
    _received.clear()
    _pending.clear()
    previous = dict(previous)
    if "unraisablehook" in previous:
        sys.unraisablehook = previous.pop("unraisablehook")
    for s, h in previous.items():
        signal.signal(s, h)


def message(exc: BaseException, out=None) -> str:
    """The one line a stopped run prints: the signal and what was kept."""
    if not isinstance(exc, Interrupted):
        exc = Interrupted()
    note = exc.note or "nothing written" + (f"; {out} left as it was" if out else "")
    return f"interrupted by {exc.name}: {note}".replace("\n", " ")


@contextlib.contextmanager
def held():
    """Defer SIGINT / SIGTERM to the end of the block (then ``Interrupted`` is raised)."""
    global _held
    _held += 1
    try:
        yield
    finally:
        _held -= 1
    if not _held and _pending:
        signum = _pending[0]
        _pending.clear()
        raise Interrupted(signum)


def nutpie_sample(compiled, **kwargs):
    """``nutpie.sample(compiled, **kwargs)``, stopped cleanly by SIGINT / SIGTERM (see above)."""
    import nutpie

    stage("sampling")
    with held():  # the signal is raised at the end of the block, the chains stopped
        sampler = nutpie.sample(compiled, blocking=False, **kwargs)
        while not _finished(sampler) and not _pending:
            time.sleep(0.02)
        if _pending:
            sampler.abort()  # stops the chains and waits for them; the draws are dropped
            return None
        return sampler.wait()


def _finished(sampler) -> bool:
    try:
        return bool(sampler.is_finished)
    except TimeoutError:  # nutpie 0.16 answers "not yet" with this error
        return False


def raise_if_partial(trace, draws: int, chains: int) -> None:
    """Raise when ``trace`` (a sampler's posterior) is cut short: fewer draws or chains than
    asked.  A partial trace is never a result."""
    sizes = trace.posterior.sizes
    got_draws, got_chains = int(sizes.get("draw", 0)), int(sizes.get("chain", 0))
    if got_draws < draws or got_chains < chains:
        raise Interrupted(
            signal.SIGINT,
            f"sampling was cut short ({got_chains} chains x {got_draws} draws of "
            f"{chains} x {draws}); nothing of it is reported",
        )


def stage(name: str) -> None:
    """A stage of the run begins: stop here if a signal arrived (``check``).  Test hook, inert
    unless its variables are set: with NLL_LOSSES_STAGES set, announce the
    stage on stderr (the interrupt tests wait for these lines); when NLL_LOSSES_PAUSE names
    this stage, also wait there up to 60 s (so a test's signal lands inside it)."""
    check()
    if os.environ.get("NLL_LOSSES_STAGES"):
        # one write of the whole line: two worker processes share the pipe, and a line
        # written in parts (text, then its newline) can run into the other's
        sys.stderr.write(f"stage: {name}\n")
        sys.stderr.flush()
        if os.environ.get("NLL_LOSSES_PAUSE") == name:
            # in slices, checking between them: a signal whose Interrupted was swallowed
            # (raised inside a finalizer that ran as it arrived) stops the run at once, not
            # after the whole pause (seen once: a test's SIGTERM took the full 60 s)
            for _ in range(600):
                time.sleep(0.1)
                check()


class OutLock:
    """Exclusive locks on ``.NAME.lock`` beside each folder in ``folders`` for a ``with`` block.

    Taken without waiting: when another run holds one, ``InputError`` names that run's pid
    (written into the lock file).  Missing parent folders are created and, when still empty,
    removed on release; the lock files are removed on release too (a run that finds its lock
    file replaced in between retries on the new one).
    """

    def __init__(self, folders: list[Path]):
        self.folders = [Path(f) for f in folders]
        self._held: list[tuple[Path, int]] = []
        self._made: list[Path] = []

    @staticmethod
    def path(folder: Path) -> Path:
        folder = Path(folder)
        return folder.parent / f".{folder.name}.lock"

    def __enter__(self) -> OutLock:
        try:
            for folder in self.folders:
                self._acquire(folder)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _acquire(self, folder: Path) -> None:
        try:
            self._lock(folder)
        except InputError:
            raise
        except OSError as exc:  # a read-only or vanished parent, a full disk: one line
            raise InputError(
                f"--out {folder}: cannot make its lock file {self.path(folder)} "
                f"({exc.strerror or exc}); choose a folder whose parent you can write"
            ) from None

    def _lock(self, folder: Path) -> None:
        lock = self.path(folder)
        missing = [p for p in [lock.parent, *lock.parent.parents] if not p.exists()]
        for p in reversed(missing):
            p.mkdir()
            self._made.append(p)
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    os.close(fd)
                    raise
                pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise InputError(
                    f"--out {folder} is being written by another run (pid {pid}); wait for "
                    f"it to finish or choose another folder"
                ) from None
            try:  # the file we locked must still be the one at that path
                same = os.path.samestat(os.fstat(fd), os.stat(lock))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self._held.append((lock, fd))
        with contextlib.suppress(OSError):  # the pid is for the message only (a full disk)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

    def __exit__(self, *exc) -> None:
        with held():
            while self._held:
                lock, fd = self._held.pop()
                with contextlib.suppress(OSError):
                    lock.unlink()
                os.close(fd)
            for p in reversed(self._made):
                with contextlib.suppress(OSError):
                    p.rmdir()  # only when still empty
            self._made.clear()
