"""Whether the multinomial MLE exists: separation by a linear program (Albert & Anderson 1984)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from nll_losses.models.families.categorical.params import class_codes, classes_and_baseline
from nll_losses.models.family import (
    Problem,
)
from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics.recession import recession_direction


# ----------------------------------------------------------------------------- separation
@dataclass(frozen=True)
class Separation:
    separated: bool
    value: float
    direction: np.ndarray  # (p, K) with the baseline column 0


_SEPARATION: dict[str, Separation] = {}


def detect_separation(A: np.ndarray, y: np.ndarray, K: int, base: int) -> Separation:
    """Whether the multinomial MLE fails to exist: a direction D (p x K, D[:, base] = 0) with
    A_i (D_{y_i} - D_k) >= 0 for every row i and class k exists, not all zero (Albert &
    Anderson 1984, Biometrika 71, 1-10; the LP is Konis's (2007) for K classes)::
        maximise sum_i sum_{k != y_i} A_i (D_{y_i} - D_k)
        subject to A_i (D_{y_i} - D_k) >= 0,  -1 <= D <= 1.

    Along such a D the log-likelihood increases without bound on the contrasts.  Columns are
    scaled to unit RMS; zero is decided relative to HiGHS's feasibility tolerance (1e-7) per
    row, as in ``models.numerics.logistic.detect_separation``."""
    A = np.asarray(A, float)
    y = np.asarray(y, int)
    n, p = A.shape
    scale = np.sqrt(np.mean(A**2, axis=0))
    scale[scale == 0] = 1.0
    As = A / scale
    free = [k for k in range(K) if k != base]
    index = {k: i for i, k in enumerate(free)}
    rows = []
    for i in range(n):
        for k in range(K):
            if k == y[i]:
                continue
            row = np.zeros(p * len(free))
            if y[i] != base:
                row[index[y[i]] * p : (index[y[i]] + 1) * p] += As[i]
            if k != base:
                row[index[k] * p : (index[k] + 1) * p] -= As[i]
            rows.append(row)
    G = np.array(rows)  # margins G d >= 0
    found = recession_direction(G)  # the shared program (models.numerics.recession)
    D = np.zeros((p, K))
    if found.found:
        for k in free:
            D[:, k] = found.direction[index[k] * p : (index[k] + 1) * p] / scale
        return Separation(True, found.value, D)
    return Separation(False, found.value, D)


def separation(problem: Problem) -> Separation:
    classes, base = classes_and_baseline(problem)
    A = la.design(problem.X, problem.spec.intercept)
    key = hashlib.sha1(A.tobytes() + class_codes(problem).tobytes() + bytes([base])).hexdigest()
    if key not in _SEPARATION:
        _SEPARATION[key] = detect_separation(A, class_codes(problem), len(classes), base)
    return _SEPARATION[key]


def separation_reason(problem: Problem) -> str:
    classes, _ = classes_and_baseline(problem)
    D = separation(problem).direction
    names = (["intercept"] if problem.spec.intercept else []) + list(problem.features)
    big = np.abs(D).max()
    running = [
        f"{classes[k]}:{names[j]} → {'+' if D[j, k] > 0 else '−'}∞"
        for k in range(D.shape[1])
        for j in range(D.shape[0])
        if abs(D[j, k]) > 1e-6 * big
    ]
    shown = ", ".join(running[:6]) + (" …" if len(running) > 6 else "")
    return (
        "the MLE does not exist: some classes are linearly separated from the others "
        f"(multinomial LP, Albert & Anderson 1984); the likelihood keeps increasing along {shown}"
    )
