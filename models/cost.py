"""A stated, rough estimate of NUTS wall time for the families whose likelihood has no
sufficient statistics (bernoulli, categorical): every gradient evaluation visits every row, so
the time is (iterations x leapfrog steps per iteration) x (seconds per row-coefficient term)
x rows x coefficients.  ``fit`` prints it before fitting when it is long (README, "Large n").

The two constants are measurements (benchmarks/bench_large_n.py, 2-core machine, see the
README's "Large n" table), not a promise: the steps per iteration depend on the posterior's
geometry, the seconds per term on the machine and its load.
"""

from __future__ import annotations

# Leapfrog steps per NUTS iteration on the benchmark's well-conditioned designs (tree depth 3
# in the orthonormal basis): 7; an ill-conditioned posterior takes more.
STEPS_PER_ITERATION = 7
# Seconds per (row x coefficient) in one gradient evaluation, NUTS stage time / (steps x rows x
# coefficients) measured at 10^4-10^5 rows x 21 coefficients (bench_large_n.py --quick).
SECONDS_PER_TERM = {"bernoulli": 2.0e-9, "categorical": 6.0e-9}
NOTE_ABOVE_SECONDS = 300.0  # say so before fitting when NUTS would take longer than 5 minutes


def nuts_seconds(family: str, rows: int, coefficients: int, iterations: int) -> float | None:
    """Estimated NUTS seconds for ``iterations`` (chains x (tune + draws) x priors) on a design
    of ``rows`` x ``coefficients``; None for a family not in the table (the Gaussian family
    reads sufficient statistics: its NUTS time does not grow with rows)."""
    rate = SECONDS_PER_TERM.get(family)
    if rate is None:
        return None
    return rate * STEPS_PER_ITERATION * iterations * rows * coefficients


def nuts_note(family: str, rows: int, coefficients: int, iterations: int) -> str | None:
    """One line for the terminal when the estimate exceeds ``NOTE_ABOVE_SECONDS``, else None."""
    seconds = nuts_seconds(family, rows, coefficients, iterations)
    if seconds is None or seconds <= NOTE_ABOVE_SECONDS:
        return None
    if seconds < 2 * 3600:
        when = f"about {seconds / 60:.0f} min"
    else:
        when = f"about {seconds / 3600:.0f} h"
    return (
        f"NUTS on {rows:,} rows x {coefficients} coefficients ({family}, no sufficient "
        f"statistics: every gradient visits every row) is estimated at {when} on 2 cores for "
        f"{iterations:,} iterations (README 'Large n'); --quick samples fewer, and "
        f"--estimators without nuts leaves it out"
    )
