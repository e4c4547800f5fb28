"""The categorical family's three models as objects of their own: softmax regression (with no
features, the intercept-only model), the one-hidden-layer network and the Dirichlet model.

Each answers for itself where the family contract differs between them: its layout, PyMC
model, logits and objective; the estimators it does not offer; its find_MAP starts, prior-
strength sweep, scikit-learn reference, translations, agreement pairs and text.  The family
(``family.py``) picks one with ``variant_of(spec)`` and holds what the three share."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from nll_losses.models.families.categorical import dirichlet, network, regression
from nll_losses.models.families.categorical.references import mlp_fit, sklearn_fit
from nll_losses.models.families.categorical.spec import (
    HIDDEN_BIAS_SCALE,
    MAP_STARTS,
    SKLEARN_RESTARTS,
    SWEEP_STARTS,
    CategoricalOptions,
    CategoricalSpec,
)
from nll_losses.models.families.categorical.theory import (
    intercept_pairs,
    network_pairs,
    regression_pairs,
)
from nll_losses.models.families.categorical.translations import (
    dirichlet_rows,
    network_rows,
    softmax_rows,
)
from nll_losses.models.family import Problem, Settings, Start, Support, Sweep, tau_sweep

INTERCEPT_LIKELIHOOD = "y_i ~ Categorical(q), q = softmax(b) with b_baseline = 0"
# what only softmax regression offers (the other two models refuse these)
REGRESSION_SOLVERS = {
    "newton": "Newton is our softmax-regression solver",
    "statsmodels": "statsmodels' MNLogit fits the MLE only",
}


class Variant:
    """What every variant answers; the defaults are softmax regression's."""

    name = ""
    default_priors: tuple[str, ...] = ("flat", "gaussian")
    smooth = True  # the log posterior has continuous derivatives (relu kinks do not)
    mean_is_a_point = True  # the posterior mean is a point the objective is meaningful at
    refuses: dict[str, str] = {}  # estimators not offered for this model, with the reason

    def check(self, settings: Settings, prior: str) -> None:
        """ValueError (one line) for settings this model cannot be fitted with."""

    def supports(self, method: str, problem: Problem) -> Support | None:
        """This model's own answer for ``method``; None: the family's general rules."""
        if method in self.refuses:
            return Support.not_offered(self.refuses[method])
        return None

    def map_starts(self) -> list[Start]:
        return [Start("default point")]

    def penalty_library(self, tau: float) -> str:
        return f"LogisticRegression(C = τ² = {tau**2:.6g})"

    def notes(self, problem: Problem) -> dict[str, str]:
        return {}


class SoftmaxRegression(Variant):
    name = "softmax regression"
    layout_params = staticmethod(regression.layout_params)
    build = staticmethod(regression.build)
    logits = staticmethod(regression.logits)
    objective = staticmethod(regression.objective)
    pairs = staticmethod(regression_pairs)

    def sklearn(self, problem: Problem, inputs: dict, seed: int) -> dict:
        return sklearn_fit(problem, inputs)

    def translations(self, problem: Problem, seed: int) -> list:
        if problem.spec.prior != "gaussian" or not problem.features:
            return []
        return softmax_rows(problem)

    def sweep(self, settings: Settings) -> Sweep:
        return tau_sweep(
            settings,
            ("newton", "sklearn", "nuts"),
            "W",  # all K weight vectors under the Gaussian prior; intercepts are flat
            "wclass",  # the likelihood sees the weights' differences between classes
            shown_as="flat",
            # separated classes at weak priors stretch the posterior along combinations of
            # the weights: 4-6 times fewer gradients and larger ESS than the diagonal mass
            # matrix on iris (τ = 16-1000); on the quasi-separated Bernoulli case it
            # diverged, so the other families keep the diagonal one
            low_rank=True,
            note="the weights are shown as contrasts W_k − W_base, the flat prior's "
            "parameters: under a weak N(0, τ²) prior on all K weight vectors their common "
            "shift has posterior sd τ/√K, which no data narrow, while the contrasts are "
            "what the likelihood identifies",
        )

    def likelihood(self, problem: Problem) -> str:
        if not problem.features:
            return INTERCEPT_LIKELIHOOD
        return "y_i ~ Categorical(softmax(z_i)), z_ik = b_k + x_i · W_k"

    def prior_line(self, problem: Problem) -> str:
        classes = list(problem.target_info["classes"])
        base = problem.target_info["baseline"]
        if problem.spec.prior == "flat":
            return (
                f"flat: the baseline class {base!r} has logits 0; the other "
                f"{len(classes) - 1} classes' (b_k, W_k) ~ Flat(): log-odds contrasts "
                "against the baseline (as statsmodels MNLogit)"
            )
        return (
            f"gaussian: W_k ~ N(0, {problem.spec.tau:g}² I) for every one of the K classes (as "
            "scikit-learn's multinomial L2); intercepts flat, identified as contrasts "
            f"against {base!r}"
        )


class SoftmaxNetwork(Variant):
    name = "one-hidden-layer softmax network"
    default_priors = ("gaussian",)
    smooth = False  # relu kinks
    # the posterior mean of the network is not a point of any mode (symmetric modes average out)
    mean_is_a_point = False
    refuses = REGRESSION_SOLVERS | {
        "laplace": "the network's posterior is multimodal: a Gaussian at one mode is not an "
        "approximation of it",
    }
    layout_params = staticmethod(network.layout_params)
    build = staticmethod(network.build)
    logits = staticmethod(network.logits)
    objective = staticmethod(network.objective)
    pairs = staticmethod(network_pairs)

    def check(self, settings: Settings, prior: str) -> None:
        hidden = settings.options.hidden
        if prior != "gaussian":
            raise ValueError(
                f"the network (--hidden {hidden}) is fitted with the gaussian prior "
                "only: with flat priors its posterior is improper and its MLE need not exist"
            )
        if not settings.intercept:
            raise ValueError("the network always has biases; --no-intercept is for --hidden 0")

    def supports(self, method: str, problem: Problem) -> Support | None:
        if method == "find_map":
            # find_MAP minimises the weight-decay objective itself (b1 flat, as scikit-learn)
            return Support(
                spec=replace(problem.spec, hidden_bias_scale=None),
                note="b1 flat: the weight-decay objective, as MLPClassifier; NUTS uses "
                f"b1 ~ N(0, {HIDDEN_BIAS_SCALE:g}²)",
            )
        return super().supports(method, problem)

    def map_starts(self) -> list[Start]:
        return [Start(f"jittered start #{k + 1}") for k in range(MAP_STARTS)]

    def sklearn(self, problem: Problem, inputs: dict, seed: int) -> dict:
        return mlp_fit(problem, inputs, seed)

    def translations(self, problem: Problem, seed: int) -> list:
        return network_rows(problem, seed) if problem.features else []

    def sweep(self, settings: Settings) -> Sweep:
        return tau_sweep(
            settings,
            (),
            max_starts=SWEEP_STARTS,
            note=f"the best of {SWEEP_STARTS} find_MAP starts per grid point; the modes "
            "are symmetric copies and the path may jump between them",
        )

    def penalty_library(self, tau: float) -> str:
        return f"MLPClassifier(alpha = 1/τ² = {1 / tau**2:.6g})"

    def likelihood(self, problem: Problem) -> str:
        return (
            f"y_i ~ Categorical(softmax(z_i)), z_i = W2ᵀ relu(W1ᵀ x_i + b1) + b2, "
            f"{problem.spec.hidden} hidden units"
        )

    def prior_line(self, problem: Problem) -> str:
        base = problem.target_info["baseline"]
        return (
            f"gaussian: W1, W2 ~ N(0, {problem.spec.tau:g}²) (weight decay); b2 flat with "
            f"b2[{base}] = 0; b1 ~ N(0, {HIDDEN_BIAS_SCALE:g}²) for NUTS (a flat b1 "
            "makes the posterior improper: a dead relu unit leaves the likelihood flat "
            "along b1 → −∞), flat for find_MAP and MLPClassifier (the weight-decay "
            "objective, which needs a mode, not a proper posterior)"
        )

    def notes(self, problem: Problem) -> dict[str, str]:
        return {
            "multimodality": "The network's posterior has many equivalent modes: permuting the "
            "hidden units, or a unit that is dead on every row, gives the same predictions. "
            "NUTS chains settle in different modes, so r_hat of the raw weights is large and "
            "their posterior means mix modes; this is the model, not a sampler failure. "
            "Compare predicted probabilities and objective values, never raw weights. "
            f"find_MAP runs from {MAP_STARTS} jittered starts (all listed in results.json) "
            f"and keeps the best; scikit-learn from {SKLEARN_RESTARTS} random states."
        }


class DirichletModel(Variant):
    name = "intercept-only model with a Dirichlet prior"
    refuses = REGRESSION_SOLVERS | {
        "sklearn": "scikit-learn needs at least one feature",
        "laplace": "q lives on the simplex: a Laplace approximation in the transform's "
        "coordinates is not one of q",
    }
    layout_params = staticmethod(dirichlet.layout_params)
    build = staticmethod(dirichlet.build)
    logits = staticmethod(dirichlet.logits)
    objective = staticmethod(dirichlet.objective)
    pairs = staticmethod(intercept_pairs)

    def translations(self, problem: Problem, seed: int) -> list:
        return dirichlet_rows(problem)

    def sweep(self, settings: Settings) -> Sweep:
        options = settings.options or CategoricalOptions()
        return Sweep(  # the Dirichlet's pseudo-count α - 1
            prior="dirichlet",
            symbol="α",
            value=float(options.dirichlet_alpha),
            with_value=lambda s, v: replace(
                s, options=replace(s.options or CategoricalOptions(), dirichlet_alpha=float(v))
            ),
            grid=lambda u: 1.0 + np.asarray(u, dtype=float),
            methods=("closed_form", "exact_posterior"),
            stronger="large",
            note="α − 1 is the pseudo-count added to every class; α → 1 gives the MLE",
        )

    def likelihood(self, problem: Problem) -> str:
        return INTERCEPT_LIKELIHOOD

    def prior_line(self, problem: Problem) -> str:
        a = problem.spec.alpha
        return f"dirichlet: q ~ Dirichlet({a:g}, …, {a:g}): MAP (α + c − 1)/(Σα + n − K)" + (
            " = add-one (Laplace) smoothing" if a == 2 else ""
        )


REGRESSION = SoftmaxRegression()
NETWORK = SoftmaxNetwork()
DIRICHLET = DirichletModel()


def variant_for(hidden: int, prior: str) -> Variant:
    """The model a spec (or the settings about to make one) describes."""
    if hidden:
        return NETWORK
    return DIRICHLET if prior == "dirichlet" else REGRESSION


def variant_of(spec: CategoricalSpec) -> Variant:
    return variant_for(spec.hidden, spec.prior)


def sklearn_reference(problem: Problem, inputs: dict, seed: int) -> dict:
    """The family's ``sklearn`` reference: LogisticRegression or MLPClassifier."""
    return variant_of(problem.spec).sklearn(problem, inputs, seed)
