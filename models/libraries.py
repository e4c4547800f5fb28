"""What the families' library references share: collecting a library's warnings, and
scikit-learn's logistic regression at a stated tolerance (Bernoulli and categorical)."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np


@contextlib.contextmanager
def library_warnings():
    """Collect the warnings a library call raises: yields a list that, after the block, holds
    their first lines, sorted and without repeats (shown in the estimate's info)."""
    said: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield said
    said.extend(sorted({str(w.message).splitlines()[0] for w in caught}))


# scikit-learn's newton-cholesky stops when the gradient of the mean loss is below tol; its
# rounding floor is ~1e-16, so 1e-12 does not make it the weak side of the optimiser tier.
SKLEARN_TOL = 1e-12


def sklearn_logistic(X, y, C: float, intercept: bool) -> tuple[np.ndarray, int, str]:
    """scikit-learn ``LogisticRegression(C, solver='newton-cholesky', tol=SKLEARN_TOL)`` fitted
    to (X, y): it minimises C·Σ log-loss + ½ Σ‖W_k‖², intercepts unpenalised.  Returns
    (B, iterations, call): B has the intercept row first (if fitted), then one row per feature,
    one column per row of ``coef_`` (one column for two classes).  RuntimeError if scikit-learn
    says it did not converge."""
    from sklearn.linear_model import LogisticRegression

    est = LogisticRegression(
        C=C, solver="newton-cholesky", tol=SKLEARN_TOL, max_iter=1000, fit_intercept=intercept
    )
    with library_warnings() as said:
        est.fit(np.asarray(X, float), y)
    if any("converge" in s.lower() for s in said):
        raise RuntimeError("scikit-learn says: " + "; ".join(said))
    W = np.asarray(est.coef_, float).T
    B = np.vstack([np.asarray(est.intercept_, float)[None, :], W]) if intercept else W
    call = f"LogisticRegression(C={C:.6g}, solver='newton-cholesky', tol={SKLEARN_TOL:g})"
    return B, int(np.max(est.n_iter_)), call
