"""What theory promises for the categorical family's three models: the agreement pairs."""

from __future__ import annotations

from nll_losses.models.families.categorical.existence import separation
from nll_losses.models.families.categorical.params import intercept_only
from nll_losses.models.family import Problem
from nll_losses.models.pairs import Pair


def network_pairs(problem: Problem) -> list[Pair]:
    k = f"_{problem.prior}"
    return [
        Pair(
            "find_map" + k,
            "sklearn" + k,
            "objective",
            "optimiser",
            bound=True,
            note="find_MAP's objective ≤ the best of the MLPClassifier restarts",
        ),
        Pair(
            "sklearn" + k,
            "n·loss_ (sklearn)",
            "objective",
            "arithmetic",
            right_values=lambda e: {"objective": e["sklearn" + k].info["n·loss_"]},
            terms=problem.n,
            note="our objective at sklearn's answer = n × its loss_ (alpha = 1/τ²)",
        ),
    ]


def intercept_pairs(problem: Problem) -> list[Pair]:
    """No features (softmax regression's intercepts, or the Dirichlet model): closed forms."""
    k = f"_{problem.prior}"
    ref = "closed_form" + k
    pairs = [
        Pair("find_map" + k, ref, "mean", "optimiser", note="find_MAP = closed form"),
        Pair("nuts" + k, "exact_posterior" + k, "mean", "monte carlo"),
        Pair("nuts" + k, "exact_posterior" + k, "sd", "monte carlo"),
    ]
    if problem.spec.prior == "flat":
        pairs += [
            Pair("newton" + k, ref, "mean", "optimiser", note="Newton = p̂"),
            Pair("statsmodels" + k, ref, "mean", "optimiser"),
            Pair("laplace" + k, "statsmodels" + k, "sd", "optimiser", params="intercepts"),
        ]
    return pairs


def regression_pairs(problem: Problem) -> list[Pair]:
    k = f"_{problem.prior}"
    if problem.spec.prior == "flat" and separation(problem).separated:
        return []
    if intercept_only(problem):
        return intercept_pairs(problem)
    pairs = [
        Pair("find_map" + k, "newton" + k, "mean", "optimiser", note="find_MAP = Newton"),
        Pair("laplace" + k, "newton" + k, "sd", "optimiser", note="inverse Hessian at the mode"),
        Pair("sklearn" + k, "newton" + k, "mean", "optimiser", note="C = τ² or ∞, contrasts"),
        Pair("find_map" + k, "newton" + k, "objective", "optimiser", note="same objective value"),
    ]
    if problem.spec.prior == "flat":
        pairs += [
            Pair("statsmodels" + k, "newton" + k, "mean", "optimiser"),
            Pair(
                "laplace" + k,
                "statsmodels" + k,
                "sd",
                "optimiser",
                note="Laplace sd at the MLE = MNLogit standard errors",
            ),
        ]
    return pairs
