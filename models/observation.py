"""A family's observation model: what its y are, what ``Family.predict`` returns, the negative
log-likelihood of y given a prediction, the machine-learning loss that NLL equals (and how:
the affine relation), the link on which the prediction is linear in the parameters, and which
predictive check and fit picture suit it.

Analyses (the loss landscape, the fit picture, the posterior predictive check, reading a CSV
target) ask the family's ``observation`` instead of switching on a family or an outcome name,
so a family whose y is continuous but not Gaussian brings its own NLL and loss here rather
than inheriting a Gaussian one.  Each family's folder holds its own (``observation.py``);
``LogLoss`` is shared by the families whose loss is scikit-learn's ``log_loss``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

EPS = float(np.finfo(float).eps)


@runtime_checkable
class Observation(Protocol):
    """The contract (``models.family.Family.observation``)."""

    numeric_target: bool  # y is read from the CSV as numbers (exactly), not as labels
    probability: bool  # predict gives probabilities (a fit picture's axis runs over [0, 1])
    # y = prediction + noise whose law is the same at every x (the Gaussian): a new y's
    # predictive band is then a draw's prediction plus that draw's replicated noise
    additive_noise: bool
    prediction: str  # what predict gives, for captions: "E[y | x]", "P(y = 1 | x)", ...
    ppc: str  # the posterior predictive check: "density", "calibration" or "class_counts"
    ppc_note: str  # added to the check's title ("" or what it shows)
    loss_name: str  # the loss the NLL equals: "MSE", "mean BCE", "mean CE"
    loss_function: str  # where the loss is computed: "sklearn.metrics.log_loss", ...
    nll_from: str  # where the NLL is computed: "the Normal density", ...
    # the NLL is a sum of squares of a predictor linear in the slice's parameters, so a grid of
    # it can come from the residuals' sufficient statistics (the landscape at large n)
    quadratic: bool

    def picture(self, k: int) -> str:
        """The fit picture's kind for ``k`` features (``analyses.pictures``)."""
        ...

    def y_values(self, y) -> np.ndarray:
        """y as the NLL and loss take it (float values, or int codes)."""
        ...

    def noise_scale(self, y: np.ndarray, mean: np.ndarray) -> float | None:
        """The NLL's scale held fixed in a slice (the Gaussian σ's maximum-likelihood value
        √(RSS/n) at the slice's centre ``mean``); None where the NLL has none."""
        ...

    def nll(self, y: np.ndarray, preds: np.ndarray, scale: float | None) -> tuple:
        """(−log p(y | prediction) at each of G predictions (G, n) or (G, n, K), each row's
        probability of its observed y (G, n), or None for a density)."""
        ...

    def terms(self, y: np.ndarray, preds: np.ndarray, scale: float | None) -> tuple:
        """(NLL, the mean loss from its library, where the two are comparable) at each of G
        predictions."""
        ...

    def affine(self, y: np.ndarray, scale: float | None) -> tuple[float, float, str]:
        """(a, c, the relation in words): NLL = a · loss + c at every parameter value, for
        the observed ``y`` (c may depend on the data: Σ log y! for counts)."""
        ...

    def link(self, pred: np.ndarray) -> np.ndarray:
        """The scale on which the prediction is linear in the parameters."""
        ...

    def simulate(self, preds: np.ndarray, rng: np.random.Generator, scale: float | None):
        """New y (as ``y_values`` gives them) drawn from the observation model at the
        predictions ``preds`` of ``Family.predict`` (and the noise ``scale`` where the model
        has one): the simulation studies' data."""
        ...


class LogLoss:
    """The NLL of a pmf over labels, which is n times scikit-learn's ``log_loss`` (binary or
    categorical cross-entropy): a = n, c = 0.  Comparable where every row's probability of its
    observed label is at least float64's ε: ``log_loss`` clips it to ε, and below it the pmf
    underflows, so neither is the NLL there (the ledger computes that from logits).  Clipping at
    1 − ε changes a row's loss by at most ε: inside the stated deviation."""

    numeric_target = False
    probability = True
    additive_noise = False
    quadratic = False
    loss_function = "sklearn.metrics.log_loss"

    def labels(self, preds: np.ndarray) -> np.ndarray:
        """The labels ``log_loss`` is told about (every one, also those never observed)."""
        raise NotImplementedError

    def observed(self, y: np.ndarray, preds: np.ndarray) -> np.ndarray:
        """Each row's predicted probability of its observed label, (G, n)."""
        raise NotImplementedError

    def y_values(self, y) -> np.ndarray:
        return np.asarray(y, dtype=int)

    def noise_scale(self, y, mean) -> float | None:
        return None

    def nll(self, y, preds, scale=None) -> tuple:
        observed = self.observed(y, preds)
        with np.errstate(divide="ignore"):
            return -np.sum(np.log(observed), axis=1), observed

    def terms(self, y, preds, scale=None) -> tuple:
        from sklearn.metrics import log_loss

        nll, observed = self.nll(y, preds, scale)
        labels = self.labels(preds)
        loss = np.array([log_loss(y, p, labels=labels) for p in preds])
        ok = np.all(observed >= EPS, axis=1)
        return nll, loss, ok & np.isfinite(nll)

    def affine(self, y, scale=None) -> tuple[float, float, str]:
        n = len(y)
        return float(n), 0.0, f"NLL = n·{self.loss_name}: a = n = {n}, c = 0"
