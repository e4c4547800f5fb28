"""Built-in cases: (family, dataset, settings), one entry each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nll_losses.analyses import datasets
from nll_losses.analyses.config import CaseConfig
from nll_losses.analyses.errors import InputError
from nll_losses.models.families.categorical.spec import CategoricalOptions
from nll_losses.models.families.poisson.spec import PoissonOptions
from nll_losses.models.family import Settings


@dataclass(frozen=True)
class Case:
    config: CaseConfig
    load: Callable[[int], datasets.Dataset]  # seed -> Dataset
    description: str
    # (seed, n) -> Dataset of n rows from the same generator: the sample-size sweep
    sized: Callable[[int, int], datasets.Dataset] | None = None


CASES: dict[str, Case] = {
    "synthetic": Case(
        CaseConfig("synthetic", "normal", Settings(prior_scale=0.25)),
        lambda seed: datasets.synthetic_normal(seed),
        "Simulated like the derivation: a few distinct x values, several y per x, "
        "known w, b and sigma.",
        datasets.synthetic_normal,
    ),
    "diabetes": Case(
        CaseConfig("diabetes", "normal", Settings(prior_scale=200.0)),
        lambda seed: datasets.diabetes(),
        "scikit-learn's diabetes data (442 patients, 10 standardised baseline variables).",
    ),
    "logistic_synthetic": Case(
        CaseConfig("logistic_synthetic", "bernoulli", Settings(prior_scale=2.0)),
        lambda seed: datasets.synthetic_logistic(seed),
        "Simulated like the derivation: two features, y ~ Bernoulli(σ(b + w·x)), known truth.",
        datasets.synthetic_logistic,
    ),
    "breast_cancer": Case(
        CaseConfig("breast_cancer", "bernoulli", Settings(prior_scale=1.0)),
        lambda seed: datasets.breast_cancer(),
        "scikit-learn's breast cancer data (569 tumours, 10 standardised mean features).",
    ),
    "quasi_separated": Case(
        CaseConfig("quasi_separated", "bernoulli", Settings(prior_scale=2.5)),
        lambda seed: datasets.quasi_separated(seed),
        "A small quasi-separated set: the MLE does not exist; Gaussian and Jeffreys MAPs do.",
    ),
    "iris": Case(
        CaseConfig("iris", "categorical", Settings(prior_scale=1.0)),
        lambda seed: datasets.iris(),
        "Fisher's iris: softmax regression, 3 species; setosa is separable (no MLE).",
    ),
    "softmax_synthetic": Case(
        CaseConfig("softmax_synthetic", "categorical", Settings(prior_scale=2.0)),
        lambda seed: datasets.synthetic_softmax(seed),
        "Simulated softmax regression: 3 classes, 2 features, known truth.",
        datasets.synthetic_softmax,
    ),
    "network_rings": Case(
        CaseConfig(
            "network_rings",
            "categorical",
            Settings(prior_scale=1.0, options=CategoricalOptions(hidden=4)),
        ),
        lambda seed: datasets.synthetic_rings(seed),
        "Three concentric rings in 2-D: a one-hidden-layer relu network (4 units).",
    ),
    "categorical_frequencies": Case(
        CaseConfig("categorical_frequencies", "categorical", priors=("flat", "dirichlet")),
        lambda seed: datasets.dice(seed),
        "Intercept only: class frequencies, H(p̂, q) = H(p̂) + KL, Dirichlet posterior.",
    ),
    "counts_synthetic": Case(
        CaseConfig("counts_synthetic", "poisson", Settings(prior_scale=1.0)),
        lambda seed: datasets.synthetic_counts(seed),
        "Simulated counts: y ~ Poisson(exp(b + w·x)), two features, known truth.",
        datasets.synthetic_counts,
    ),
    "tv_news": Case(
        CaseConfig("tv_news", "poisson", Settings(prior_scale=1.0)),
        lambda seed: datasets.tv_news(),
        "ANES 1996 (statsmodels): days of TV news a week against 4 standardised covariates.",
    ),
    "cancer_rates": Case(
        CaseConfig(
            "cancer_rates",
            "poisson",
            Settings(options=PoissonOptions(offset="log population")),
            priors=("flat", "gamma"),
        ),
        lambda seed: datasets.cancer_rates(),
        "Intercept only with an offset: cancer cases per person, Gamma posterior of the rate.",
    ),
}


def get_case(name: str) -> Case:
    try:
        return CASES[name]
    except KeyError:
        raise InputError(f"unknown case {name!r}; known: {', '.join(CASES)}") from None
