"""A progress bar for long runs (rich, which PyMC already depends on), drawn on stderr only
when it is a terminal and the run is not ``--quiet``; otherwise every call is a no-op.

Besides the counted tasks (cases k/N, sweep points i/n) it keeps one status line per fitting
process saying what is being done now (``status``): the case and its stage (find_MAP, NUTS
with its chains, a reference fit, the checks, the report).  Worker processes send theirs
through a queue (``QueueStatus``), which the parent shows with ``show``."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar
from rich.text import Text


class _Count(MofNCompleteColumn):
    """k/N for a counted task; nothing for a status line (no total)."""

    def render(self, task):
        return Text("") if task.total is None else super().render(task)


class _NoTask:
    def advance(self, steps: int = 1) -> None:
        pass


class Progress:
    """``with Progress(enabled) as p: t = p.task("label", total); t.advance()``."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar = None
        self._status: dict[str, int] = {}  # status-line key -> its task

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                _Count(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
                # stdout through the bar's console only when it is the terminal too: a
                # redirected stdout (run > log) keeps its lines
                redirect_stdout=sys.stdout.isatty(),
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None

    def task(self, description: str, total: int):
        if self._bar is None:
            return _NoTask()
        bar, task_id = self._bar, self._bar.add_task(description, total=total)

        class _Task:
            def advance(self, steps: int = 1) -> None:
                bar.advance(task_id, steps)

        return _Task()

    def status(self, text: str, key: str = "") -> None:
        """What the process ``key`` ("": this one) is doing now, on its own line."""
        if self._bar is None:
            return
        if key not in self._status:
            self._status[key] = self._bar.add_task(text, total=None)
        else:
            self._bar.update(self._status[key], description=text)

    def show(self, messages) -> None:
        """Status lines sent by worker processes: ``(key, text)`` pairs."""
        for key, text in messages:
            self.status(text, key)

    def print(self, *args, **kw) -> None:
        """Print to stdout: above the bar when both are the terminal, else plainly."""
        if self._bar is not None and sys.stdout.isatty():
            self._bar.console.print(*args, highlight=False, markup=False, **kw)
        else:
            print(*args, **kw)


class QueueStatus:
    """A worker process's progress: its status lines and counted tasks go to the parent as
    ``(key, text)`` messages on ``queue`` (shown with ``Progress.show``)."""

    def __init__(self, queue, key: str):
        self.queue, self.key = queue, key

    def status(self, text: str, key: str = "") -> None:
        try:
            self.queue.put_nowait((self.key, text))
        except Exception:  # progress must never stop a fit
            pass

    def task(self, description: str, total: int):
        owner, done = self, [0]

        class _Task:
            def advance(self, steps: int = 1) -> None:
                done[0] += steps
                owner.status(f"{description} {done[0]}/{total}")

        owner.status(f"{description} 0/{total}")
        return _Task()


def drain(queue) -> list[tuple[str, str]]:
    """Every message waiting on ``queue`` (none when it is None or empty)."""
    out = []
    while queue is not None:
        try:
            out.append(queue.get_nowait())
        except Exception:  # queue.Empty, or a queue already closed
            break
    return out


def say(progress, text: str) -> None:
    """``progress.status(text)`` when there is a progress (fits without one say nothing)."""
    if progress is not None:
        progress.status(text)
