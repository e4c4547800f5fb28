"""Per-row outputs above a size threshold: which rows are kept, and how the report says so.

The posterior predictive draws, their observed copy and the figures that draw one mark per row
keep at most ``MAX_ROWS`` rows: all of them up to that many, else a seeded random subset
(sorted row numbers, the same for the same seed).  Everything else (estimates, agreement, the
loss ledger, the fit picture's RMSE) uses every row.  The kept row numbers are stored with the
draws (the ``obs`` coordinate: 0-based row numbers of the data).
"""

from __future__ import annotations

import numpy as np

MAX_ROWS = 2000  # rows of posterior predictive draws kept (and dots drawn per figure)


def rows(n: int, seed: int, limit: int = MAX_ROWS) -> np.ndarray:
    """0-based row numbers kept out of ``n``: all when n <= limit, else ``limit`` of them
    drawn without replacement by a generator seeded with ``seed``, sorted."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def note(n: int, kept: int) -> str:
    """The report's sentence for ``kept`` of ``n`` rows ('' when every row is kept)."""
    if kept >= n:
        return ""
    return (
        f"{kept:,} of the {n:,} rows (a seeded random subset) are shown and kept in the saved "
        "posterior predictive draws; every estimate and check uses all rows."
    )
