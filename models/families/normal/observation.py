"""The normal family's observation model: y real, the Normal density, and MSE, which the NLL
equals up to the affine map NLL = n/2·log(2πσ²) + n·MSE/(2σ²) (``models.observation``)."""

from __future__ import annotations

import numpy as np


class NormalObservation:
    numeric_target = True
    probability = False
    additive_noise = True
    prediction = "E[y | x]"
    ppc = "density"
    ppc_note = ""
    loss_name = "MSE"
    loss_function = "sklearn.metrics.mean_squared_error"
    nll_from = "the Normal density"
    quadratic = True

    def picture(self, k: int) -> str:
        return "curve" if k == 1 else "observed_vs_predicted"

    def y_values(self, y) -> np.ndarray:
        return np.asarray(y, dtype=float)

    def noise_scale(self, y, mean) -> float | None:
        return float(np.sqrt(np.mean((np.asarray(y) - mean) ** 2)))

    def nll(self, y, preds, scale) -> tuple:
        from scipy.stats import norm

        with np.errstate(divide="ignore"):
            return -np.sum(norm.logpdf(y, preds, scale), axis=1), None

    def terms(self, y, preds, scale) -> tuple:
        """scikit-learn is called once for every prediction (raw_values)."""
        from sklearn.metrics import mean_squared_error

        nll, _ = self.nll(y, preds, scale)
        truth = np.broadcast_to(y[:, None], preds.T.shape)
        loss = mean_squared_error(truth, preds.T, multioutput="raw_values")
        return nll, loss, np.isfinite(nll)

    def affine(self, y, scale) -> tuple[float, float, str]:
        n = len(y)
        a, c = n / (2 * scale**2), n / 2 * np.log(2 * np.pi * scale**2)
        return (
            float(a),
            float(c),
            f"NLL = n/2·log(2πσ²) + n·MSE/(2σ²) with σ held at its maximum-likelihood value "
            f"√(RSS/n) = {scale:.4g} at the centre: a = n/(2σ²) = {a:.6g}, "
            f"c = n/2·log(2πσ²) = {c:.6g}",
        )

    def link(self, pred) -> np.ndarray:
        return pred

    def simulate(self, preds, rng, scale) -> np.ndarray:
        """y ~ Normal(E[y | x], σ = ``scale``)."""
        preds = np.asarray(preds, dtype=float)
        return preds + float(scale) * rng.standard_normal(preds.shape)
