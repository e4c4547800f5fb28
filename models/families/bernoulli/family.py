"""Logistic regression through the family contract (``models.family.Family``)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from nll_losses.models.families.bernoulli import target
from nll_losses.models.families.bernoulli.existence import separation, separation_reason
from nll_losses.models.families.bernoulli.model import build_model
from nll_losses.models.families.bernoulli.observation import BernoulliObservation
from nll_losses.models.families.bernoulli.references import (
    firth_library_fit,
    importance_fit,
    newton_fit,
    sklearn_fit,
    statsmodels_fit,
)
from nll_losses.models.families.bernoulli.spec import (
    LOGLOSS_MAX_LOGIT,
    NAME,
    NLL_BCE,
    NLL_LOGLOSS,
    NLL_PMF,
    BernoulliOptions,
    BernoulliSpec,
    _design,
    _vector,
    coef_names,
)
from nll_losses.models.families.bernoulli.theory import agreement_pairs
from nll_losses.models.families.bernoulli.translations import bernoulli_rows, penalty_text
from nll_losses.models.family import (
    Built,
    LedgerRow,
    Param,
    ParamLayout,
    Problem,
    Reference,
    Settings,
    Support,
)
from nll_losses.models.linear_predictor import LinearPredictorFamily, ledger_points
from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics import logistic as lg
from nll_losses.models.pairs import Pair
from nll_losses.models.priors import Flat, Gaussian, Jeffreys


# ----------------------------------------------------------------------------- the family
class BernoulliFamily(LinearPredictorFamily):
    """Logistic regression through the family contract (``models.family.Family``)."""

    name = NAME
    title = "Binary cross-entropy is the Bernoulli negative log-likelihood"
    prior_titles = {
        "gaussian": "L2 is a Gaussian prior",
        "jeffreys": "Firth's bias reduction is the Jeffreys prior",
    }
    summary = "logistic regression: binary cross-entropy is the Bernoulli NLL; Jeffreys = Firth"
    priors = ("flat", "gaussian", "jeffreys")
    methods = (
        "newton",
        "importance",
        "find_map",
        "laplace",
        "nuts",
        "statsmodels",
        "sklearn",
        "firth",
    )
    sd_scale_methods = ("newton",)
    # -log p is strictly convex for flat and Gaussian priors (when the MLE exists); with the
    # Jeffreys prior every mode found in practice has a PD Hessian
    log_concave = True
    observation = BernoulliObservation()  # y, its NLL, the loss it equals, link, pictures
    Options = BernoulliOptions

    # --- data (the flags: ``BernoulliOptions.FLAGS``)
    # reading the target: its own slot (target.py)
    encode_target = staticmethod(target.encode_target)
    auto = staticmethod(target.auto)
    auto_note = staticmethod(target.auto_note)

    def reserved_names(self, options) -> frozenset[str]:
        return frozenset({"intercept"})

    # --- specs, layouts, models
    def default_priors(self, settings: Settings) -> tuple[str, ...]:
        return self.priors

    def make_spec(self, settings: Settings, prior: str) -> BernoulliSpec:
        if prior not in self.priors:
            raise ValueError(f"prior {prior!r} is not one of {self.priors}")
        tau0 = settings.intercept_prior_scale
        coef = {
            "flat": Flat(),
            "gaussian": Gaussian(settings.prior_scale),
            "jeffreys": Jeffreys(),
        }[prior]
        return BernoulliSpec(
            intercept=settings.intercept,
            coef_prior=coef,
            intercept_prior=Gaussian(tau0) if prior == "gaussian" and tau0 else Flat(),
        )

    def layout(self, features, target_info: dict, spec: BernoulliSpec) -> ParamLayout:
        params = [Param("intercept", "intercept")] if spec.intercept else []
        params += [Param(f, "w", (("feature", f),)) for f in features]
        return ParamLayout(tuple(params))

    def supports(self, method: str, problem: Problem) -> Support:
        spec = problem.spec
        if method == "statsmodels" and not spec.all_flat:
            return Support.not_offered(
                "statsmodels' Logit fits the MLE only (its fit_regularized is L1)"
            )
        if method == "sklearn" and spec.jeffreys:
            return Support.not_offered("scikit-learn has no Jeffreys (Firth) penalty")
        if method == "sklearn" and spec.intercept and isinstance(spec.intercept_prior, Gaussian):
            return Support.unavailable(
                "scikit-learn's LogisticRegression never penalises the intercept"
            )
        if method == "firth" and not spec.jeffreys:
            return Support.not_offered("Firth's estimate is the Jeffreys-prior MAP only")
        if spec.all_flat and separation(problem).separated:
            why = separation_reason(problem)
            if method in ("nuts", "importance"):
                why += "; with a flat prior the posterior is improper"
            return Support.unavailable(why)
        return Support()

    def references(self) -> dict[str, Reference]:
        refs = [
            Reference("newton", newton_fit, description="our Newton/IRLS (NumPy)"),
            Reference(
                "importance",
                importance_fit,
                seeded=True,
                description="importance-sampled posterior (NumPy)",
            ),
            Reference("statsmodels", statsmodels_fit, description="sm.Logit"),
            Reference("sklearn", sklearn_fit, description="LogisticRegression"),
            Reference("firth", firth_library_fit, description="firthmodels (PyPI)"),
        ]
        return {r.name: r for r in refs}

    def build_model(self, problem: Problem) -> Built:
        return build_model(problem)

    def predict(self, problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
        """P(y = 1 | x) at ``params`` for the rows of ``X``."""

        beta = _vector(params, problem)
        return expit(la.design(X, problem.spec.intercept) @ beta)

    # --- checks and text
    def ledger(self, problem: Problem, points: dict, rng) -> list[LedgerRow]:
        """-log p(y | beta) from the Bernoulli pmf, as n * sklearn's log_loss (only where
        |z| <= 30: it clips p to [eps, 1 - eps]) and as the BCE from logits, at each point
        estimate, at two arbitrary points and at a point with logits up to |z| = 50."""
        from sklearn.metrics import log_loss

        names = coef_names(problem.features, problem.spec)
        A = _design(problem)
        y = problem.y
        vecs = ledger_points(
            points,
            names,
            lambda pt_: _vector(pt_, problem),
            A,
            rng,
            50.0,
            "extreme logits (max |z| = 50)",
        )
        rows = []
        for label, beta in vecs:
            z = A @ beta
            values = {
                "max |z|": float(np.max(np.abs(z))),
                NLL_PMF: lg.nll_pmf(y, z),
                NLL_BCE: lg.bce_from_logits(y, z),
            }
            checks = [(NLL_PMF, NLL_BCE)]
            # rounding of log(1 - p) through p costs up to eps * e^|z| per term
            magnitude = max(abs(values[NLL_PMF]), 1.0) + float(
                np.sum(np.exp(np.minimum(np.abs(z), 700)))
            ) / len(y)
            if values["max |z|"] <= LOGLOSS_MAX_LOGIT:
                values[NLL_LOGLOSS] = float(len(y) * log_loss(y, expit(z), labels=[0, 1]))
                checks.append((NLL_PMF, NLL_LOGLOSS))
            rows.append(
                LedgerRow(at=label, values=values, checks=tuple(checks), magnitude=magnitude)
            )
        return rows

    def agreement_pairs(self, problem: Problem) -> list[Pair]:
        return agreement_pairs(problem)

    def translations(self, problem: Problem, mode: dict | None = None, seed: int = 0) -> list:
        """LogisticRegression, statsmodels GLM and SGD weight decay rows (Gaussian prior)."""

        return bernoulli_rows(problem)

    def describe(self, problems: dict[str, Problem], estimates: dict) -> dict:
        problem = next(iter(problems.values()))
        spec = problem.spec
        tau = problems["gaussian"].spec.coef_prior.scale if "gaussian" in problems else None
        sep = separation(problems.get("flat", problem))
        priors = [
            "w_j ~ Flat()  (maximum likelihood)",
            f"w_j ~ Normal(0, τ²), τ = {tau:g}  (MAP, L2)" if tau else "",
            "β ~ " + Jeffreys().describe() + "  (MAP = Firth)" if "jeffreys" in problems else "",
            "intercept ~ "
            + (spec.intercept_prior.describe() if spec.intercept else "(no intercept)")
            + " under Flat and Normal priors",
        ]
        text = {
            "likelihood": "y_i ~ Bernoulli(p_i), logit p_i = "
            + ("intercept + x_i · w" if spec.intercept else "x_i · w"),
            "priors": [p for p in priors if p],
            "loss": "−log p(y | w, b) = −Σ[y log p + (1−y) log(1−p)] = n · log_loss = "
            "Σ softplus(z) − y·z (binary cross-entropy from logits)\n⇒ maximising the "
            "likelihood = minimising the BCE.",
            "penalty": "Normal(0, τ²) prior on w  ⇔  + ‖w‖²/(2τ²) in −log p  ⇔  "
            "LogisticRegression(C = τ²) (it minimises C·Σ log-loss + ½‖w‖²); "
            "Jeffreys prior ⇔ − ½ log det(X'WX) (Firth's penalty)",
            "translation": penalty_text(tau, problem.n),
            "computation": "sampled and optimised in an orthonormal basis of the centred, "
            "column-scaled design: z = z₀ + c·Q·φ, (b, w) = m₀ + c·M·φ; reported on the "
            "original scale",
            "estimates_note": "newton's sd: inverse Hessian (flat, Gaussian) or inverse "
            "unpenalised Fisher information (Jeffreys, as logistf); importance: posterior by "
            "importance sampling, an independent check of NUTS",
            "ledger": "the negative log-likelihood from the Bernoulli pmf, as n·log_loss "
            "(sklearn, only where |z| ≤ 30 since it clips p to [ε, 1−ε]) and as the BCE "
            "from logits, at the estimates, at arbitrary values and at logits up to |z| = 50",
        }
        if sep.separated:
            text["separation"] = (
                separation_reason(problems.get("flat", problem))
                + ". Flat-prior estimates are therefore reported as unavailable. The "
                "Gaussian prior adds ‖w‖²/(2τ²), which grows faster than the likelihood "
                "can, and the Jeffreys prior's |X'WX|^½ goes to 0 as the fitted "
                "probabilities saturate; both make the posterior proper and its mode finite."
            )
        return text
