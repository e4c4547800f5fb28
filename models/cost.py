"""A stated, rough estimate of NUTS wall time for the families whose likelihood has no
sufficient statistics (bernoulli, categorical): every gradient evaluation visits every row, so
the time is (iterations x leapfrog steps per iteration) x (seconds per row-coefficient term)
x rows x coefficients.  ``fit`` prints it before fitting when it is long (README, "Large n").

The two constants are measurements (benchmarks/bench_large_n.py, 2-core machine: see
benchmarks/RESULTS.md, "Large n"), not a promise: the steps per iteration depend on the
posterior's geometry, the seconds per term on the machine and its load.
"""

from __future__ import annotations

# Leapfrog steps per NUTS iteration on the benchmark's well-conditioned designs (tree depth 3
# in the orthonormal basis): 7; an ill-conditioned posterior takes more.
STEPS_PER_ITERATION = 7
# Seconds per (row x coefficient) in one log-density + gradient evaluation, measured with PyMC's
# compiled logp_dlogp at 10^5 rows x 21 coefficients (bernoulli flat / Gaussian prior: 130 / 110
# ms per gradient) on the 2-core machine under a load of ~8 jobs: an idle machine is faster.
# categorical (K = 3; its coefficients counted as the layout's names): 171 / 110 ms per
# gradient at 10^5 x 20 under the flat / Gaussian prior, 3.4e-8 / 1.6e-8 per term: the mean
SECONDS_PER_TERM = {"bernoulli": 5.5e-8, "categorical": 2.5e-8}
# The Jeffreys prior's log det(A' W A) is O(n p^2) per gradient, but in BLAS: measured 423 ms
# against 110-130 ms for the other priors at 10^5 x 21 (same machine and load)
PRIOR_FACTOR = {"jeffreys": 3.5}
NOTE_ABOVE_SECONDS = 300.0  # say so before fitting when NUTS would take longer than 5 minutes


def nuts_seconds(
    family: str, prior: str, rows: int, coefficients: int, iterations: int
) -> float | None:
    """Estimated NUTS seconds for ``iterations`` (chains x (tune + draws)) under one prior on a
    design of ``rows`` x ``coefficients``; None for a family not in the table (the Gaussian
    family reads sufficient statistics: its NUTS time does not grow with rows)."""
    rate = SECONDS_PER_TERM.get(family)
    if rate is None:
        return None
    terms = rows * coefficients * PRIOR_FACTOR.get(prior, 1.0)
    return rate * STEPS_PER_ITERATION * iterations * terms


def nuts_note(
    family: str,
    priors: dict[str, int],
    rows: int,
    iterations: int,
    others: list[str],
    quick: bool = False,
) -> str | None:
    """One line for the terminal when the estimate, summed over ``priors`` (name ->
    coefficients), exceeds ``NOTE_ABOVE_SECONDS``, else None; ``others``: the estimators
    without NUTS, for the --estimators hint."""
    each = [nuts_seconds(family, pr, rows, k, iterations) for pr, k in priors.items()]
    if any(s is None for s in each) or sum(each) <= NOTE_ABOVE_SECONDS:
        return None
    seconds = sum(each)
    when = f"{seconds / 60:.0f} min" if seconds < 2 * 3600 else f"{seconds / 3600:.0f} h"
    k = max(priors.values())
    return (
        f"NUTS on {rows:,} rows x {k} coefficients ({family}: no sufficient statistics, every "
        f"gradient visits every row) is estimated at about {when} on 2 cores for "
        f"{len(priors)} prior(s) x {iterations:,} iterations (README 'Large n'); "
        + ("" if quick else "--quick samples fewer; ")
        + f"--estimators {','.join(others)} leaves NUTS out"
    )
