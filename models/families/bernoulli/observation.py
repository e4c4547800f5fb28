"""The Bernoulli family's observation model: y in {0, 1}, the Bernoulli pmf of P(y = 1 | x),
and the binary cross-entropy, which the NLL equals n times (``models.observation``)."""

from __future__ import annotations

import numpy as np

from nll_losses.models.observation import LogLoss


class BernoulliObservation(LogLoss):
    prediction = "P(y = 1 | x)"
    ppc = "calibration"
    ppc_note = " (calibration: observed rate vs predicted probability)"
    loss_name = "mean BCE"
    nll_from = "the Bernoulli pmf"

    def picture(self, k: int) -> str:
        return {1: "curve", 2: "surface"}.get(k, "calibration")

    def labels(self, preds) -> np.ndarray:
        return np.array([0, 1])

    def observed(self, y, preds) -> np.ndarray:
        return np.where(y == 1, preds, 1 - preds)

    def nll(self, y, preds, scale=None) -> tuple:
        """From the pmf itself (scipy.stats.bernoulli), not from the observed probabilities."""
        from scipy.stats import bernoulli

        with np.errstate(divide="ignore"):
            return -np.sum(bernoulli.logpmf(y, preds), axis=1), self.observed(y, preds)

    def link(self, pred) -> np.ndarray:
        """logit P(y = 1 | x)."""
        with np.errstate(divide="ignore"):
            return np.log(pred) - np.log1p(-pred)

    def simulate(self, preds, rng, scale=None) -> np.ndarray:
        """y ~ Bernoulli(P(y = 1 | x)), as 0.0 / 1.0."""
        preds = np.asarray(preds, dtype=float)
        return (rng.random(preds.shape) < preds).astype(float)
