"""The Poisson family's observation model: y a count, the Poisson pmf of the mean E[y | x],
and the mean Poisson deviance, which the NLL equals up to NLL = n/2 · deviance + Σ(y − y log y
+ log y!) (``models.observation``)."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlogy


class PoissonObservation:
    numeric_target = True
    probability = False
    additive_noise = False  # the noise's law changes with the mean
    prediction = "E[y | x]"
    ppc = "class_counts"
    ppc_note = " (each count's frequency: observed against the replicates')"
    loss_name = "mean Poisson deviance"
    loss_function = "sklearn.metrics.mean_poisson_deviance"
    nll_from = "the Poisson pmf"
    quadratic = False

    def picture(self, k: int) -> str:
        return "curve" if k == 1 else "observed_vs_predicted"

    def y_values(self, y) -> np.ndarray:
        return np.asarray(y, dtype=float)

    def noise_scale(self, y, mean) -> float | None:
        return None

    def nll(self, y, preds, scale=None) -> tuple:
        """From the pmf itself (scipy.stats.poisson), at each of G mean vectors."""
        from scipy.stats import poisson

        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.sum(poisson.logpmf(y, preds), axis=1), None

    def terms(self, y, preds, scale=None) -> tuple:
        """scikit-learn's mean deviance needs 0 < μ < inf at every row."""
        from sklearn.metrics import mean_poisson_deviance

        nll, _ = self.nll(y, preds, scale)
        ok = np.all(np.isfinite(preds) & (preds > 0), axis=1) & np.isfinite(nll)
        loss = np.array(
            [
                mean_poisson_deviance(y, p) if good else np.nan
                for p, good in zip(preds, ok, strict=True)
            ]
        )
        return nll, loss, ok

    def affine(self, y, scale=None) -> tuple[float, float, str]:
        y = np.asarray(y, float)
        n = len(y)
        c = float(np.sum(y - xlogy(y, y) + gammaln(y + 1)))
        return (
            n / 2,
            c,
            f"NLL = n/2·mean Poisson deviance + Σ(y − y log y + log y!): a = n/2 = {n / 2:g}, "
            f"c = {c:.6g} (the data's own constant)",
        )

    def link(self, pred) -> np.ndarray:
        """log E[y | x]."""
        with np.errstate(divide="ignore"):
            return np.log(pred)

    def simulate(self, preds, rng, scale=None) -> np.ndarray:
        """y ~ Poisson(E[y | x]), as floats."""
        return rng.poisson(np.asarray(preds, dtype=float)).astype(float)
