"""What theory promises for the normal family: the NLL written two ways and the agreement pairs."""

from __future__ import annotations

import numpy as np

from nll_losses.models.family import (
    Problem,
)
from nll_losses.models.pairs import Pair
from nll_losses.models.priors import HalfFlat


def nll(X, y, intercept, w, sigma) -> float:
    """-log p(y | w, b, sigma) summed over observations, straight from the Normal density."""
    mu = (intercept or 0.0) + np.asarray(X) @ np.asarray(w)
    z = (np.asarray(y) - mu) / sigma
    return float(np.sum(0.5 * z**2 + np.log(sigma) + 0.5 * np.log(2 * np.pi)))


def nll_from_mse(mse: float, n: int, sigma: float) -> float:
    """The same quantity written as the MSE loss: n/2 log(2 pi sigma^2) + n MSE / (2 sigma^2)."""
    return float(0.5 * n * np.log(2 * np.pi * sigma**2) + n * mse / (2 * sigma**2))


# ----------------------------------------------------------------------------- agreement
def agreement_pairs(problem: Problem) -> list[Pair]:
    """Every pair theory says must agree, and every gap theory predicts, for one prior."""
    spec = problem.spec
    k = f"_{problem.prior}"
    n = problem.n
    p = np.shape(problem.X)[1] + int(spec.intercept)
    flat = spec.all_flat
    halfflat = isinstance(spec.sigma, HalfFlat)
    known = spec.sigma_known
    pairs = [
        Pair("find_map" + k, "closed_form" + k, "mean", "optimiser", note="MLE/MAP = closed form"),
        Pair("statsmodels" + k, "closed_form" + k, "mean", "linear algebra", "coefficients"),
        Pair("sklearn" + k, "closed_form" + k, "mean", "linear algebra", "coefficients"),
        Pair("nuts" + k, "exact_posterior" + k, "mean", "monte carlo"),
        Pair("nuts" + k, "exact_posterior" + k, "sd", "monte carlo"),
    ]
    if flat:
        pairs.append(
            Pair(
                "statsmodels" + k,
                "closed_form" + k,
                "sd",
                "linear algebra",
                "coefficients",
                note="classical s.e.",
            )
        )
    if flat or known is not None:
        # flat: E[beta | sigma, y] = OLS for every sigma; known sigma: Gaussian mean = mode
        pairs.append(
            Pair(
                "exact_posterior" + k,
                "closed_form" + k,
                "mean",
                "linear algebra",
                "coefficients",
                note="posterior mean = mode",
            )
        )
    if known is not None:
        pairs.append(
            Pair(
                "laplace" + k,
                "exact_posterior" + k,
                "sd",
                "linear algebra",
                "coefficients",
                note="Gaussian posterior: Laplace is exact",
            )
        )
    if flat and halfflat:
        # Student t (closed form) vs the quadrature: checks the derivation nu = n - p - 1
        pairs += [
            Pair(
                "exact_posterior" + k,
                "multivariate t",
                stat,
                "quadrature",
                right_values=lambda e, k=k, stat=stat: e["exact_posterior" + k].info["student_t"][
                    stat
                ],
                note=f"quadrature = Student t ({stat})",
            )
            for stat in ("mean", "sd")
        ]
        # classical s.e. use s^2 = RSS/(n-p); posterior sd uses RSS/(n-p-3); Laplace sigma_MLE^2
        post_ratio = np.sqrt((n - p) / (n - p - 3)) if n - p > 3 else np.nan
        lap_ratio = np.sqrt((n - p) / n)

        def gap(ratio, k=k):
            return lambda e: {nm: se * (ratio - 1.0) for nm, se in e["closed_form" + k].sd.items()}

        pairs += [
            Pair(
                "exact_posterior" + k,
                "closed_form" + k,
                "sd",
                "quadrature",
                "coefficients",
                expected=gap(post_ratio),
                note="posterior sd = s.e. × √((n−p)/(n−p−3))",
            ),
            Pair(
                "nuts" + k,
                "closed_form" + k,
                "sd",
                "monte carlo",
                "coefficients",
                expected=gap(post_ratio),
                note="posterior sd = s.e. × √((n−p)/(n−p−3))",
            ),
            Pair(
                "laplace" + k,
                "closed_form" + k,
                "sd",
                "optimiser",
                "coefficients",
                expected=gap(lap_ratio),
                note="Laplace sd = s.e. × √((n−p)/n)",
            ),
            Pair(
                "laplace" + k,
                "σ̂/√(2n)",
                "sd",
                "optimiser",
                "sigma",
                right_values=lambda e, k=k: {
                    "sigma": e["closed_form" + k].mean["sigma"] / np.sqrt(2 * n)
                },
                note="Laplace sd of σ = σ̂/√(2n) (delta method, var(log σ) = 1/(2n))",
            ),
        ]
    if known is None:
        # E[sigma | y] differs from the mode find_MAP returns: expected gap from the exact posterior
        pairs.append(
            Pair(
                "nuts" + k,
                "closed_form" + k,
                "mean",
                "monte carlo",
                "sigma",
                expected=lambda e, k=k: {
                    "sigma": e["exact_posterior" + k].mean["sigma"]
                    - e["closed_form" + k].mean["sigma"]
                },
                note="posterior mean of σ vs its mode (expected gap from the exact posterior)",
            )
        )
    return pairs
