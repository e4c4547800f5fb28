"""What theory promises for the Bernoulli family: the agreement pairs."""

from __future__ import annotations

from nll_losses.models.families.bernoulli.existence import separation
from nll_losses.models.family import (
    Problem,
)
from nll_losses.models.pairs import Pair, importance_gap


# ----------------------------------------------------------------------------- agreement
def agreement_pairs(problem: Problem) -> list[Pair]:
    k = f"_{problem.prior}"
    spec = problem.spec
    if spec.all_flat and separation(problem).separated:
        return []
    pairs = [
        Pair("find_map" + k, "newton" + k, "mean", "optimiser", note="find_MAP = Newton"),
        Pair("nuts" + k, "importance" + k, "mean", "monte carlo", note="vs importance sampling"),
        Pair("nuts" + k, "importance" + k, "sd", "monte carlo", note="sd vs importance sampling"),
        # the posterior is skewed at small n: mean - mode and sd - Laplace sd are not zero;
        # their size comes from the importance-sampling posterior
        importance_gap(k, "find_map", "mean", "posterior mean − mode"),
        importance_gap(k, "laplace", "sd", "posterior sd − Laplace sd"),
    ]
    if not spec.jeffreys:
        pairs.append(
            Pair("laplace" + k, "newton" + k, "sd", "optimiser", note="inverse Hessian at the mode")
        )
        pairs.append(Pair("sklearn" + k, "newton" + k, "mean", "optimiser", note="C = τ² or ∞"))
    else:
        pairs.append(Pair("firth" + k, "newton" + k, "mean", "optimiser", note="Firth = Jeffreys"))
    if spec.all_flat:
        pairs += [
            Pair("statsmodels" + k, "newton" + k, "mean", "optimiser"),
            Pair(
                "laplace" + k,
                "statsmodels" + k,
                "sd",
                "optimiser",
                note="Laplace sd at the MLE = statsmodels standard errors",
            ),
        ]
    return pairs
