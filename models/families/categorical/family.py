"""The categorical family through the family contract (``models.family.Family``): what its
three models (``variants.py``) share, and which one a problem is."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.special import logsumexp, softmax

from nll_losses.models.families.categorical import target
from nll_losses.models.families.categorical.existence import separation, separation_reason
from nll_losses.models.families.categorical.observation import CategoricalObservation
from nll_losses.models.families.categorical.params import (
    class_codes,
    classes_and_baseline,
    intercept_only,
    model_param_names,
    probability_params,
)
from nll_losses.models.families.categorical.references import (
    closed_form_fit,
    exact_posterior_fit,
    newton_fit,
    statsmodels_fit,
)
from nll_losses.models.families.categorical.regression import reexpress as regression_reexpress
from nll_losses.models.families.categorical.spec import (
    EXTREME_LOGIT,
    IDENTITY,
    LOGLOSS_MAX_LOGIT,
    NAME,
    NLL_CE,
    NLL_LOGLOSS,
    NLL_LOGSOFTMAX,
    NLL_PMF,
    CategoricalOptions,
    CategoricalSpec,
)
from nll_losses.models.families.categorical.translations import penalty_text
from nll_losses.models.families.categorical.variants import (
    DIRICHLET,
    NETWORK,
    REGRESSION,
    sklearn_reference,
    variant_for,
    variant_of,
)
from nll_losses.models.family import (
    Built,
    LedgerRow,
    ParamLayout,
    Problem,
    Reference,
    Settings,
    Start,
    StudyModel,
    Support,
    basis_laplace,
)
from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics import softmax as sm_
from nll_losses.models.pairs import Pair


# ----------------------------------------------------------------------------- the family
class CategoricalFamily:
    """Softmax regression, the one-hidden-layer softmax network and the intercept-only
    categorical model through the family contract (``models.family.Family``)."""

    name = NAME
    title = "Cross-entropy is the categorical negative log-likelihood"
    prior_titles = {
        "gaussian": "weight decay is a Gaussian prior",
        "dirichlet": "label smoothing is a Dirichlet prior",
    }
    summary = (
        "softmax regression and a one-hidden-layer network: cross-entropy is the categorical NLL"
    )
    priors = ("flat", "gaussian", "dirichlet")
    methods = (
        "closed_form",
        "exact_posterior",
        "newton",
        "find_map",
        "laplace",
        "nuts",
        "statsmodels",
        "sklearn",
    )
    sd_scale_methods = ("newton", "exact_posterior")
    # softmax regression is log-concave, the network is not: a non-PD Hessian at a network
    # start is a saddle or plateau of that start, judged by the Newton check instead
    log_concave = False
    observation = CategoricalObservation()  # y, its NLL, the loss it equals, link, pictures
    Options = CategoricalOptions

    # --- data (the flags: ``CategoricalOptions.FLAGS``)
    # reading the target: its own slot (target.py)
    encode_target = staticmethod(target.encode_target)
    auto = staticmethod(target.auto)
    auto_note = staticmethod(target.auto_note)

    def reserved_names(self, options) -> frozenset[str]:
        return frozenset({"intercept"})

    def default_priors(self, settings: Settings) -> tuple[str, ...]:
        options = settings.options or CategoricalOptions()
        return variant_for(options.hidden, "").default_priors

    # --- specs, layouts, models
    def make_spec(self, settings: Settings, prior: str) -> CategoricalSpec:
        options = settings.options or CategoricalOptions()
        if prior not in self.priors:
            raise ValueError(f"prior {prior!r} is not one of {self.priors}")
        variant_for(options.hidden, prior).check(settings, prior)
        if settings.intercept_prior_scale is not None:
            raise ValueError(
                "categorical intercepts are flat and identified against the baseline class; "
                "--intercept-prior-scale is not offered"
            )
        return CategoricalSpec(
            prior=prior,
            tau=settings.prior_scale if prior == "gaussian" else None,
            intercept=settings.intercept,
            hidden=options.hidden,
            alpha=options.dirichlet_alpha,
        )

    def layout(self, features, target_info: dict, spec: CategoricalSpec) -> ParamLayout:
        classes = list(target_info["classes"])
        base = classes.index(target_info["baseline"])
        params = variant_of(spec).layout_params(features, classes, base, spec)
        return ParamLayout(tuple(params + probability_params(features, classes)))

    def supports(self, method: str, problem: Problem) -> Support:
        """The model's own refusals (``Variant.refuses``) first, then the family's rules."""
        spec = problem.spec
        only = intercept_only(problem)
        if method in ("closed_form", "exact_posterior") and not only:
            return Support.not_offered("closed forms exist for the intercept-only model only")
        own = variant_of(spec).supports(method, problem)
        if own is not None:
            return own
        if method == "statsmodels" and spec.prior != "flat":
            return Support.not_offered("statsmodels' MNLogit fits the MLE only")
        if method == "sklearn":
            if only:
                return Support.not_offered("scikit-learn needs at least one feature")
            if len(problem.target_info["classes"]) == 2 and spec.prior == "gaussian":
                return Support.unavailable(
                    "scikit-learn fits two classes with one weight vector (a different prior)"
                )
        if spec.prior == "flat" and not only and separation(problem).separated:
            why = separation_reason(problem)
            if method == "nuts":
                why += "; with flat priors the posterior is improper"
            return Support.unavailable(why)
        return Support()

    def references(self) -> dict[str, Reference]:
        refs = [
            Reference("closed_form", closed_form_fit, description="p̂ / Dirichlet mode"),
            Reference("exact_posterior", exact_posterior_fit, description="Dirichlet posterior"),
            Reference("newton", newton_fit, description="our Newton, block Hessian (NumPy)"),
            Reference("statsmodels", statsmodels_fit, description="sm.MNLogit"),
            Reference(
                "sklearn",
                sklearn_reference,
                seeded=True,
                description="LogisticRegression / MLPClassifier",
            ),
        ]
        return {r.name: r for r in refs}

    def build_model(self, problem: Problem) -> Built:
        return variant_of(problem.spec).build(problem)

    def laplace_sd(self, fit, built: Built, point, problem: Problem) -> dict[str, float]:
        """Cov(coefficients) = L Cov(phi) L' (L the linear map from phi to the layout's
        coefficients) from the exact inverse Hessian at the mode; probabilities have none."""
        sd, _, _ = basis_laplace(fit, built.extra["coef_map"])
        return dict(zip(built.extra["coef_names"], map(float, sd), strict=True))

    def map_starts(self, problem: Problem) -> list[Start]:
        return variant_of(problem.spec).map_starts()

    def smooth(self, problem: Problem) -> bool:
        return variant_of(problem.spec).smooth

    def study_model(self, settings, truth: dict) -> StudyModel:
        """No intercept: the intercepts can only be flat (identified against the baseline
        class), an improper prior; every weight N(0, τ²)."""
        note = "no intercept (its prior can only be flat): every weight N(0, τ²)"
        note = note if settings.intercept else ""
        sd = {"W": settings.prior_scale}  # softmax regression's weights (no network: no W1, …)
        return StudyModel(replace(settings, intercept=False), None, note, sd)

    def sweep(self, settings, features):
        """The network's and softmax regression's τ; without features the Dirichlet's α (the
        Gaussian prior of the intercept-only model has no weights to put it on)."""
        options = settings.options or CategoricalOptions()
        if options.hidden:
            return NETWORK.sweep(settings)
        return (REGRESSION if features else DIRICHLET).sweep(settings)

    def reexpress(self, values: dict, source: Problem, target: Problem):
        """Softmax regression's weights between its two parametrisations
        (``regression.reexpress``); the other models share names and meanings."""
        if variant_of(source.spec) is REGRESSION and variant_of(target.spec) is REGRESSION:
            return regression_reexpress(values, source, target)
        shared = frozenset(source.layout.names) & frozenset(target.layout.names)
        return {k: v for k, v in values.items() if k in shared}, shared

    def predict(self, problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
        """(m, K) class probabilities at ``params`` for the rows of ``X``."""
        return softmax(variant_of(problem.spec).logits(problem, params, X), axis=1)

    def objective(self, problem: Problem, params: dict, method: str) -> float | None:
        """The negative log posterior at an estimate (``objective``); None for the posterior
        mean of the network, which is not a point of any mode (symmetric modes average out)."""
        variant = variant_of(problem.spec)
        if method == "nuts" and not variant.mean_is_a_point:
            return None
        names = model_param_names(problem)
        if not all(nm in params for nm in names):
            return None
        return variant.objective(problem, params)

    # --- checks and text
    def conditioning(self, problem: Problem) -> float:
        return la.condition_number(la.design(problem.X, problem.spec.intercept))

    def ledger(self, problem: Problem, points: dict, rng) -> list[LedgerRow]:
        """At each estimate, two arbitrary points and logits up to |z| = 1000: the NLL from the
        pmf and n·log_loss (where |z| ≤ 30: beyond, softmax underflows to 0 and log_loss clips)
        against the cross-entropy from logits and the NLL of log_softmax (the two framework
        routes, stable at any logits).  Intercept-only: NLL/n = H(p̂, q) = H(p̂) + KL(p̂‖q)."""
        from sklearn.metrics import log_loss

        classes, _ = classes_and_baseline(problem)
        K = len(classes)
        y = class_codes(problem)
        X = np.asarray(problem.X, float)
        names = model_param_names(problem)
        logits = variant_of(problem.spec).logits
        usable = [(lb, pt_) for lb, pt_ in points.items() if all(nm in pt_ for nm in names)]
        Zs = [(lb, logits(problem, pt_, X)) for lb, pt_ in usable]
        base = Zs[0][1] if Zs else np.zeros((len(y), K))
        for k in range(2):
            Zs.append((f"arbitrary #{k + 1}", base + rng.normal(size=base.shape)))
        D = rng.normal(size=base.shape)
        Zs.append(
            (f"extreme logits (max |z| = {EXTREME_LOGIT:g})", D * EXTREME_LOGIT / np.abs(D).max())
        )
        rows = []
        for label, Z in Zs:
            zmax = float(np.max(np.abs(Z)))
            values = {
                "max |z|": zmax,
                NLL_CE: sm_.ce_from_logits(y, Z),
                NLL_LOGSOFTMAX: sm_.nll_of_log_softmax(y, Z),
            }
            checks = [(NLL_CE, NLL_LOGSOFTMAX)]
            magnitude = float(
                np.sum(np.abs(logsumexp(Z, axis=1))) + np.sum(np.abs(Z[np.arange(len(y)), y]))
            )
            if zmax <= LOGLOSS_MAX_LOGIT:
                P = softmax(Z, axis=1)
                values[NLL_PMF] = sm_.nll_pmf(y, P)
                values[NLL_LOGLOSS] = float(len(y) * log_loss(y, P, labels=list(range(K))))
                checks += [(NLL_CE, NLL_PMF), (NLL_CE, NLL_LOGLOSS)]
            if intercept_only(problem) and np.allclose(Z, Z[:1]):
                q = softmax(Z[0])
                ident = sm_.information_identity(y, q)
                for key, ours in zip(
                    ("nll / n", "H(p_hat, q)", "H(p_hat) + KL(p_hat || q)"), IDENTITY, strict=True
                ):
                    values[ours] = ident[key]
                checks += [(IDENTITY[0], IDENTITY[1]), (IDENTITY[1], IDENTITY[2])]
            rows.append(
                LedgerRow(at=label, values=values, checks=tuple(checks), magnitude=magnitude)
            )
        return rows

    def agreement_pairs(self, problem: Problem) -> list[Pair]:
        return variant_of(problem.spec).pairs(problem)

    def translations(self, problem: Problem, mode: dict | None = None, seed: int = 0) -> list:
        """Softmax regression / network (Gaussian prior) or label smoothing (Dirichlet) rows."""
        return variant_of(problem.spec).translations(problem, seed)

    def describe(self, problems: dict[str, Problem], estimates: dict) -> dict:
        problem = next(iter(problems.values()))
        variant = variant_of(problem.spec)
        only = intercept_only(problem)
        tau = problems["gaussian"].spec.tau if "gaussian" in problems else None
        n = problem.n
        likelihood = variant.likelihood(problem)
        priors = [
            variant_of(problems[p].spec).prior_line(problems[p])
            for p in self.priors
            if p in problems and (p != "gaussian" or tau)
        ]
        text = {
            "likelihood": likelihood,
            "priors": priors,
            "loss": "−log p(y | θ) = −Σ log softmax(z_i)_{y_i} = Σ [logsumexp(z_i) − z_{i,y_i}] "
            "(cross-entropy from logits) = n · log_loss\n⇒ maximising the likelihood = "
            "minimising the cross-entropy = minimising KL(p̂_data ‖ model) (the entropy of the "
            "data does not depend on θ)",
            "penalty": "Normal(0, τ²) prior on the weights ⇔ + Σ w²/(2τ²) in −log p ⇔ "
            "LogisticRegression(C = τ²) ⇔ MLPClassifier(alpha = 1/τ²) (it minimises "
            "mean log-loss + alpha/(2n)·Σ‖W‖², biases unpenalised)",
            "translation": penalty_text(tau, n, variant.penalty_library(tau) if tau else ""),
            "identifiability": "The likelihood does not change when the same vector is added "
            "to every class's (b_k, W_k). Flat priors pin that shift by setting the baseline "
            "class's logits to 0, so the K − 1 other vectors are contrasts. The Gaussian prior "
            "instead puts N(0, τ²) on all K vectors, which pins the shift through the prior "
            "(its mode has Σ_k W_k = 0). These are different priors: N(0, τ²) on all K "
            "vectors implies a N(0, 2τ²) prior on each contrast W_k − W_b, correlated across "
            "k, not the N(0, τ²) a prior on K − 1 contrasts would give. Estimates are "
            "therefore compared on what both parametrisations identify: the contrasts of "
            "the intercepts, the weights under one prior, and predicted probabilities "
            "P(class | x̄[c]) at each class's mean feature vector.",
            "ledger": "the negative log-likelihood as the cross-entropy from logits and as the "
            "NLL of log_softmax (the two ways frameworks compute it), and where |z| ≤ 30 from "
            "the pmf and as n·log_loss, at the estimates, at arbitrary points and at logits up "
            f"to |z| = {EXTREME_LOGIT:g}"
            + ("; and NLL/n = H(p̂, q) = H(p̂) + KL(p̂‖q) (scipy.stats.entropy)" if only else ""),
        }
        text |= variant.notes(problem)
        flat = problems.get("flat")
        if flat is not None and not only and separation(flat).separated:
            text["separation"] = (
                separation_reason(flat)
                + ". Flat-prior estimates are therefore reported as unavailable; the Gaussian "
                "prior (weight decay) keeps the mode finite."
            )
        return text
