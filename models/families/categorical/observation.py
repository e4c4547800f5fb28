"""The categorical family's observation model: y a class code, the categorical pmf of the
class probabilities P(class | x), and the cross-entropy, which the NLL equals n times
(``models.observation``)."""

from __future__ import annotations

import numpy as np

from nll_losses.models.observation import LogLoss


class CategoricalObservation(LogLoss):
    prediction = "P(class | x)"
    ppc = "class_counts"
    ppc_note = ""
    loss_name = "mean CE"
    nll_from = "the categorical pmf"

    def picture(self, k: int) -> str:
        return {0: "frequencies", 1: "class_curves", 2: "regions"}.get(k, "class_calibration")

    def labels(self, preds) -> np.ndarray:
        return np.arange(preds.shape[-1])

    def observed(self, y, preds) -> np.ndarray:
        return preds[:, np.arange(len(y)), y]

    def link(self, pred) -> np.ndarray:
        """The centred log-probabilities (log P − mean over classes: free of the softmax's
        per-row constant)."""
        with np.errstate(divide="ignore"):
            lp = np.log(pred)
        return lp - lp.mean(axis=1, keepdims=True)

    def simulate(self, preds, rng, scale=None) -> np.ndarray:
        """y ~ Categorical(P(class | x)) per row (``preds`` (n, K)), as class codes 0.0 … K−1
        (the inverse of each row's cumulative probabilities at one uniform)."""
        cum = np.cumsum(np.asarray(preds, dtype=float), axis=1)
        u = rng.random(cum.shape[0]) * cum[:, -1]
        return np.minimum((cum < u[:, None]).sum(axis=1), cum.shape[1] - 1).astype(float)
