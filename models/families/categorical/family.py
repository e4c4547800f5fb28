"""Softmax regression, the network and the Dirichlet model through the family contract
(``models.family.Family``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.special import logsumexp, softmax

from models.families.categorical import target
from models.families.categorical.existence import separation, separation_reason
from models.families.categorical.model import build_dirichlet, build_network, build_regression
from models.families.categorical.observation import CategoricalObservation
from models.families.categorical.params import (
    _classes,
    _model_params,
    _prob_names,
    _y,
    intercept_only,
    logits,
    objective,
    weight_classes,
)
from models.families.categorical.references import (
    _sklearn,
    closed_form_fit,
    exact_posterior_fit,
    newton_fit,
    statsmodels_fit,
)
from models.families.categorical.spec import (
    EXTREME_LOGIT,
    HIDDEN_BIAS_SCALE,
    IDENTITY,
    LOGLOSS_MAX_LOGIT,
    MAP_STARTS,
    NAME,
    NLL_CE,
    NLL_LOGLOSS,
    NLL_LOGSOFTMAX,
    NLL_PMF,
    SKLEARN_RESTARTS,
    SWEEP_STARTS,
    CategoricalOptions,
    CategoricalSpec,
)
from models.families.categorical.theory import agreement_pairs
from models.families.categorical.translations import categorical_rows, penalty_text
from models.family import (
    Built,
    LedgerRow,
    Param,
    ParamLayout,
    Problem,
    Reference,
    Settings,
    Start,
    Support,
    Sweep,
    basis_laplace,
    tau_sweep,
)
from models.numerics import linalg as la
from models.numerics import softmax as sm_
from models.pairs import Pair


# ----------------------------------------------------------------------------- the family
class CategoricalFamily:
    """Softmax regression, the one-hidden-layer softmax network and the intercept-only
    categorical model through the family contract (``models.family.Family``)."""

    name = NAME
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
        return ("gaussian",) if options.hidden else ("flat", "gaussian")

    # --- specs, layouts, models
    def make_spec(self, settings: Settings, prior: str) -> CategoricalSpec:
        options = settings.options or CategoricalOptions()
        if prior not in self.priors:
            raise ValueError(f"prior {prior!r} is not one of {self.priors}")
        if options.hidden and prior != "gaussian":
            raise ValueError(
                f"the network (--hidden {options.hidden}) is fitted with the gaussian prior "
                "only: with flat priors its posterior is improper and its MLE need not exist"
            )
        if options.hidden and not settings.intercept:
            raise ValueError("the network always has biases; --no-intercept is for --hidden 0")
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
        others = [c for i, c in enumerate(classes) if i != base]
        labels = ["any x"] if not features else [f"x̄[{c}]" for c in classes]
        params: list[Param] = []
        if spec.prior == "dirichlet":
            if features:
                raise ValueError("the Dirichlet prior is for the intercept-only model")
        elif spec.hidden:
            H = [f"h{j}" for j in range(spec.hidden)]
            params += [
                Param(f"W1[{f},{h}]", "W1", (("feature", f), ("hidden", h)), "weights")
                for f in features
                for h in H
            ]
            params += [Param(f"b1[{h}]", "b1", (("hidden", h),), "biases") for h in H]
            params += [
                Param(f"W2[{h},{c}]", "W2", (("hidden", h), ("class", c)), "weights")
                for h in H
                for c in classes
            ]
            params += [Param(f"b2[{c}]", "b2", (("contrast", c),), "biases") for c in others]
        else:
            if spec.intercept:
                params += [
                    Param(f"{c}:intercept", "intercept", (("contrast", c),), "intercepts")
                    for c in others
                ]
            wcls = weight_classes(spec, classes, base)
            params += [
                Param(f"{c}:{f}", "W", (("feature", f), ("wclass", c)), "weights")
                for c in wcls
                for f in features
            ]
        params += [
            Param(nm, "prob", (("point", lab), ("class", c)), "probabilities")
            for nm, lab, c in _prob_names(labels, classes)
        ]
        return ParamLayout(tuple(params))

    def supports(self, method: str, problem: Problem) -> Support:
        spec = problem.spec
        only = intercept_only(problem)
        if method in ("closed_form", "exact_posterior") and not only:
            return Support.not_offered("closed forms exist for the intercept-only model only")
        if method == "newton" and (spec.hidden or spec.prior == "dirichlet"):
            return Support.not_offered("Newton is our softmax-regression solver")
        if method == "statsmodels" and (spec.prior != "flat" or spec.hidden):
            return Support.not_offered("statsmodels' MNLogit fits the MLE only")
        if method == "sklearn":
            if spec.prior == "dirichlet" or only:
                return Support.not_offered("scikit-learn needs at least one feature")
            if len(problem.target_info["classes"]) == 2 and spec.prior == "gaussian":
                return Support.unavailable(
                    "scikit-learn fits two classes with one weight vector (a different prior)"
                )
        if method == "laplace" and spec.prior == "dirichlet":
            return Support.not_offered(
                "q lives on the simplex: a Laplace approximation in the transform's "
                "coordinates is not one of q"
            )
        if method == "laplace" and spec.hidden:
            return Support.not_offered(
                "the network's posterior is multimodal: a Gaussian at one mode is not an "
                "approximation of it"
            )
        if method == "find_map" and spec.hidden:
            # find_MAP minimises the weight-decay objective itself (b1 flat, as scikit-learn)
            return Support(
                spec=replace(spec, hidden_bias_scale=None),
                note="b1 flat: the weight-decay objective, as MLPClassifier; NUTS uses "
                f"b1 ~ N(0, {HIDDEN_BIAS_SCALE:g}²)",
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
                "sklearn", _sklearn, seeded=True, description="LogisticRegression / MLPClassifier"
            ),
        ]
        return {r.name: r for r in refs}

    def build_model(self, problem: Problem) -> Built:
        if problem.spec.prior == "dirichlet":
            return build_dirichlet(problem)
        if problem.spec.hidden:
            return build_network(problem)
        return build_regression(problem)

    def laplace_sd(self, fit, built: Built, point, problem: Problem) -> dict[str, float]:
        """Cov(coefficients) = L Cov(phi) L' (L the linear map from phi to the layout's
        coefficients) from the exact inverse Hessian at the mode; probabilities have none."""
        sd, _, _ = basis_laplace(fit, built.extra["coef_map"])
        return dict(zip(built.extra["coef_names"], map(float, sd), strict=True))

    def map_starts(self, problem: Problem) -> list[Start]:
        if problem.spec.hidden:
            return [Start(f"jittered start #{k + 1}") for k in range(MAP_STARTS)]
        return [Start("default point")]

    def smooth(self, problem: Problem) -> bool:
        return not problem.spec.hidden  # relu kinks

    def sweep(self, settings, features):
        options = settings.options or CategoricalOptions()
        if options.hidden:
            return tau_sweep(
                settings,
                (),
                max_starts=SWEEP_STARTS,
                note=f"the best of {SWEEP_STARTS} find_MAP starts per grid point; the modes "
                "are symmetric copies and the path may jump between them",
            )
        if features:
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
        return Sweep(  # intercept only: the Dirichlet's pseudo-count α - 1
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

    def reexpress(self, values: dict, source: Problem, target: Problem):
        """Softmax regression: flat priors have the K − 1 contrasts C_k = W_k − W_base as
        weights, the Gaussian prior the weights of all K classes.  Contrasts become the
        representative with Σ_k W_k = 0 (what the Gaussian prior's mode satisfies, so the MLE's
        is its τ → ∞ limit); K weight vectors become W_k − W_base.  The intercepts (contrasts
        under every prior) and the probabilities mean the same; the weights do not, unless
        both problems have the same weight classes."""
        classes, base = _classes(source)
        src = weight_classes(source.spec, classes, base)
        dst = weight_classes(target.spec, classes, base)
        shared = frozenset(source.layout.names) & frozenset(target.layout.names)
        if source.spec.hidden or target.spec.hidden or src == dst:
            return {k: v for k, v in values.items() if k in shared}, shared
        weights = {f"{c}:{f}" for c in classes for f in source.features}
        same = shared - weights
        out = {k: v for k, v in values.items() if k in same}
        for f in source.features:
            names = [f"{c}:{f}" for c in src]
            if not all(nm in values for nm in names):
                continue
            given = dict(zip(src, (np.asarray(values[nm], float) for nm in names), strict=True))
            zero = np.zeros_like(given[src[0]])  # the baseline's weight, if not a parameter
            V = np.stack([given.get(c, zero) for c in classes])  # (K, draws...)
            V = V - V.mean(axis=0) if len(dst) == len(classes) else V - V[base]
            for c in dst:
                v = V[classes.index(c)]
                out[f"{c}:{f}"] = v.item() if v.ndim == 0 else v
        return out, same

    def predict(self, problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
        """(m, K) class probabilities at ``params`` for the rows of ``X``."""
        return softmax(logits(problem, params, X), axis=1)

    def objective(self, problem: Problem, params: dict, method: str) -> float | None:
        """The negative log posterior at an estimate (``objective``); None for the posterior
        mean of the network, which is not a point of any mode (symmetric modes average out)."""
        if problem.spec.hidden and method == "nuts":
            return None
        names = _model_params(problem)
        if not all(nm in params for nm in names):
            return None
        return objective(problem, params)

    # --- checks and text
    def conditioning(self, problem: Problem) -> float:
        return la.condition_number(la.design(problem.X, problem.spec.intercept))

    def ledger(self, problem: Problem, points: dict, rng) -> list[LedgerRow]:
        """At each estimate, two arbitrary points and logits up to |z| = 1000: the NLL from the
        pmf and n·log_loss (where |z| ≤ 30: beyond, softmax underflows to 0 and log_loss clips)
        against the cross-entropy from logits and the NLL of log_softmax (the two framework
        routes, stable at any logits).  Intercept-only: NLL/n = H(p̂, q) = H(p̂) + KL(p̂‖q)."""
        from sklearn.metrics import log_loss

        classes, _ = _classes(problem)
        K = len(classes)
        y = _y(problem)
        X = np.asarray(problem.X, float)
        names = _model_params(problem)
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
        return agreement_pairs(problem)

    def translations(self, problem: Problem, mode: dict | None = None, seed: int = 0) -> list:
        """Softmax regression / network (Gaussian prior) or label smoothing (Dirichlet) rows."""

        return categorical_rows(problem, seed)

    def describe(self, problems: dict[str, Problem], estimates: dict) -> dict:
        problem = next(iter(problems.values()))
        classes, base = _classes(problem)
        spec = problem.spec
        only = intercept_only(problem)
        tau = problems["gaussian"].spec.tau if "gaussian" in problems else None
        n = problem.n
        if only:
            likelihood = "y_i ~ Categorical(q), q = softmax(b) with b_baseline = 0"
        elif spec.hidden:
            likelihood = (
                f"y_i ~ Categorical(softmax(z_i)), z_i = W2ᵀ relu(W1ᵀ x_i + b1) + b2, "
                f"{spec.hidden} hidden units"
            )
        else:
            likelihood = "y_i ~ Categorical(softmax(z_i)), z_ik = b_k + x_i · W_k"
        priors = []
        if "flat" in problems:
            priors.append(
                f"flat: the baseline class {classes[base]!r} has logits 0; the other "
                f"{len(classes) - 1} classes' (b_k, W_k) ~ Flat(): log-odds contrasts "
                "against the baseline (as statsmodels MNLogit)"
            )
        if tau and spec.hidden:
            priors.append(
                f"gaussian: W1, W2 ~ N(0, {tau:g}²) (weight decay); b2 flat with "
                f"b2[{classes[base]}] = 0; b1 ~ N(0, {HIDDEN_BIAS_SCALE:g}²) for NUTS (a flat b1 "
                "makes the posterior improper: a dead relu unit leaves the likelihood flat "
                "along b1 → −∞), flat for find_MAP and MLPClassifier (the weight-decay "
                "objective, which needs a mode, not a proper posterior)"
            )
        elif tau:
            priors.append(
                f"gaussian: W_k ~ N(0, {tau:g}² I) for every one of the K classes (as "
                "scikit-learn's multinomial L2); intercepts flat, identified as contrasts "
                f"against {classes[base]!r}"
            )
        if "dirichlet" in problems:
            a = problems["dirichlet"].spec.alpha
            priors.append(
                f"dirichlet: q ~ Dirichlet({a:g}, …, {a:g}): MAP (α + c − 1)/(Σα + n − K)"
                + (" = add-one (Laplace) smoothing" if a == 2 else "")
            )
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
            "translation": penalty_text(tau, n, spec.hidden),
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
        if spec.hidden:
            text["multimodality"] = (
                "The network's posterior has many equivalent modes: permuting the hidden units, "
                "or a unit that is dead on every row, gives the same predictions. NUTS chains "
                "settle in different modes, so r_hat of the raw weights is large and their "
                "posterior means mix modes; this is the model, not a sampler failure. "
                "Compare predicted probabilities and objective values, never raw weights. "
                f"find_MAP runs from {MAP_STARTS} jittered starts (all listed in results.json) "
                f"and keeps the best; scikit-learn from {SKLEARN_RESTARTS} random states."
            )
        flat = problems.get("flat")
        if flat is not None and not only and separation(flat).separated:
            text["separation"] = (
                separation_reason(flat)
                + ". Flat-prior estimates are therefore reported as unavailable; the Gaussian "
                "prior (weight decay) keeps the mode finite."
            )
        return text
