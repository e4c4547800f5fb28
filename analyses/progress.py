"""A progress bar for long runs (rich, which PyMC already depends on), drawn on stderr only
when it is a terminal and the run is not ``--quiet``; otherwise every call is a no-op."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar


class _NoTask:
    def advance(self, steps: int = 1) -> None:
        pass


class Progress:
    """``with Progress(enabled) as p: t = p.task("label", total); t.advance()``."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
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

    def print(self, *args, **kw) -> None:
        """Print to stdout: above the bar when both are the terminal, else plainly."""
        if self._bar is not None and sys.stdout.isatty():
            self._bar.console.print(*args, highlight=False, markup=False, **kw)
        else:
            print(*args, **kw)
