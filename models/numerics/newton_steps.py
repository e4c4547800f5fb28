"""Newton's method with step halving on a score and information, for the smooth convex
objectives of the logistic and softmax solvers: pure NumPy."""

from __future__ import annotations

import numpy as np


def newton_iterate(f, score_info, x0, step_tol: float, max_iter: int):
    """Newton steps x <- x + t I^-1 U from ``x0`` (``score_info(x) = (U, I)``: score and
    information of the objective ``f`` to minimise), t halved until f does not increase.

    Stops when the step still to go, in sds sqrt(diag I^-1), is at most ``step_tol``, or when
    it stops shrinking below 1e-6 (the gradient's rounding floor).  Returns
    ``(x, steps, converged, iterations)``, ``steps`` the scaled step sizes measured."""
    x = np.asarray(x0, dtype=float)
    fval = f(x)
    steps: list[float] = []
    best, converged, it = np.inf, False, 0
    while it < max_iter:
        it += 1
        g, info = score_info(x)
        cov = np.linalg.inv(info)
        step = cov @ g
        size = float(np.max(np.abs(step) / np.sqrt(np.diag(cov))))
        steps.append(size)
        if size <= step_tol:
            converged = True
            break
        if size >= best and best < 1e-6:
            converged = best <= step_tol
            break  # stopped shrinking: the rounding floor of the gradient
        best = min(best, size)
        t = 1.0
        while True:
            new = x + t * step
            fnew = f(new)
            if np.isfinite(fnew) and fnew <= fval + 1e-12 * abs(fval):
                break
            t *= 0.5
            if t < 1e-10:
                break
        x, fval = new, fnew
    return x, steps, converged, it
