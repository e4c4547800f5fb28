"""What theory promises for the Poisson family: the agreement pairs."""

from __future__ import annotations

from nll_losses.models.families.poisson.existence import existence
from nll_losses.models.families.poisson.spec import intercept_only
from nll_losses.models.family import Problem
from nll_losses.models.pairs import Pair
from nll_losses.models.priors import Gaussian


def agreement_pairs(problem: Problem) -> list[Pair]:
    k = f"_{problem.prior}"
    spec = problem.spec
    if spec.gamma is not None:  # the conjugate intercept-only model
        return [
            Pair("find_map" + k, "closed_form" + k, "mean", "optimiser", note="posterior mode"),
            Pair("nuts" + k, "exact_posterior" + k, "mean", "monte carlo", note="Gamma posterior"),
            Pair("nuts" + k, "exact_posterior" + k, "sd", "monte carlo", note="Gamma posterior"),
        ]
    if spec.all_flat and not existence(problem).exists:
        return []
    pairs = [
        Pair("find_map" + k, "newton" + k, "mean", "optimiser", note="find_MAP = Newton"),
        Pair("laplace" + k, "newton" + k, "sd", "optimiser", note="inverse Hessian at the mode"),
        Pair("nuts" + k, "importance" + k, "mean", "monte carlo", note="vs importance sampling"),
        Pair("nuts" + k, "importance" + k, "sd", "monte carlo", note="sd vs importance sampling"),
    ]
    gaussian_intercept = spec.intercept and isinstance(spec.intercept_prior, Gaussian)
    if not intercept_only(problem) and not gaussian_intercept:
        pairs.append(
            Pair("sklearn" + k, "newton" + k, "mean", "optimiser", note="alpha = 1/(nτ²) or 0")
        )
    if spec.all_flat:
        pairs += [
            Pair("statsmodels" + k, "newton" + k, "mean", "optimiser", note="GLM(Poisson) MLE"),
            Pair(
                "laplace" + k,
                "statsmodels" + k,
                "sd",
                "optimiser",
                note="Laplace sd at the MLE = statsmodels standard errors",
            ),
        ]
    if spec.all_flat and intercept_only(problem):
        pairs += [
            Pair("closed_form" + k, "newton" + k, "mean", "optimiser", note="log(Σy/Σe)"),
            Pair("closed_form" + k, "newton" + k, "sd", "optimiser", note="1/√Σy"),
        ]
    return pairs
