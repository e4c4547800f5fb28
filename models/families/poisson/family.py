"""Poisson regression through the family contract (``models.family.Family``)."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlogy

from nll_losses.models.families.poisson import target
from nll_losses.models.families.poisson.existence import existence, existence_reason
from nll_losses.models.families.poisson.model import build_gamma, build_model
from nll_losses.models.families.poisson.observation import PoissonObservation
from nll_losses.models.families.poisson.references import (
    closed_form_fit,
    exact_posterior_fit,
    importance_fit,
    newton_fit,
    sklearn_alpha,
    sklearn_fit,
    statsmodels_fit,
)
from nll_losses.models.families.poisson.spec import (
    DEVIANCE_MAX_ETA,
    EXTREME_ETA,
    NAME,
    NLL_DEVIANCE,
    NLL_ETA,
    NLL_PMF,
    NLL_TORCH,
    PoissonOptions,
    PoissonSpec,
    _design,
    _offset,
    _vector,
    coef_names,
    intercept_only,
)
from nll_losses.models.families.poisson.theory import agreement_pairs
from nll_losses.models.families.poisson.translations import penalty_text, poisson_rows
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
from nll_losses.models.pairs import Pair
from nll_losses.models.priors import Flat, Gaussian


class PoissonFamily(LinearPredictorFamily):
    """Poisson regression through the family contract (``models.family.Family``)."""

    name = NAME
    title = "The Poisson deviance is the Poisson negative log-likelihood"
    prior_titles = {
        "gaussian": "L2 is a Gaussian prior",
        "gamma": "the MAP under a Gamma(a, b) prior on the rate adds a − 1 events and b units "
        "of exposure",
    }
    summary = "Poisson regression: the mean Poisson deviance (PoissonNLLLoss) is the Poisson NLL"
    priors = ("flat", "gaussian", "gamma")
    methods = (
        "closed_form",
        "exact_posterior",
        "newton",
        "importance",
        "find_map",
        "laplace",
        "nuts",
        "statsmodels",
        "sklearn",
    )
    sd_scale_methods = ("newton", "exact_posterior")
    # -log p is convex in the coefficients (flat, Gaussian; when the MLE exists), and in the
    # Gamma model's log rate the no-Jacobian objective has one mode
    log_concave = True
    observation = PoissonObservation()  # y, its NLL, the loss it equals, link, pictures
    Options = PoissonOptions

    # --- data (the flags: ``PoissonOptions.FLAGS``)
    # reading the target: its own slot (target.py)
    encode_target = staticmethod(target.encode_target)
    auto = staticmethod(target.auto)
    auto_note = staticmethod(target.auto_note)

    def reserved_names(self, options) -> frozenset[str]:
        return frozenset({"intercept", "rate"})

    # --- specs, layouts, models
    def default_priors(self, settings: Settings) -> tuple[str, ...]:
        return ("flat", "gaussian")

    def make_spec(self, settings: Settings, prior: str) -> PoissonSpec:
        if prior not in self.priors:
            raise ValueError(f"prior {prior!r} is not one of {self.priors}")
        options = settings.options or PoissonOptions()
        if prior == "gamma":
            if not settings.intercept:
                raise ValueError("the gamma prior is on the rate of the intercept-only model")
            return PoissonSpec(gamma=(float(options.gamma_a), float(options.gamma_b)))
        tau0 = settings.intercept_prior_scale
        return PoissonSpec(
            intercept=settings.intercept,
            coef_prior=Gaussian(settings.prior_scale) if prior == "gaussian" else Flat(),
            intercept_prior=Gaussian(tau0) if prior == "gaussian" and tau0 else Flat(),
        )

    def layout(self, features, target_info: dict, spec: PoissonSpec) -> ParamLayout:
        if spec.gamma is not None:
            if features:
                raise ValueError("the gamma prior is for the intercept-only model (no features)")
            # the rate, and its log: the flat prior's intercept, shown beside it
            return ParamLayout(
                (Param("rate", "rate", group="rate"), Param("intercept", "intercept"))
            )
        params = [Param("intercept", "intercept")] if spec.intercept else []
        params += [Param(f, "w", (("feature", f),)) for f in features]
        return ParamLayout(tuple(params))

    def supports(self, method: str, problem: Problem) -> Support:
        spec = problem.spec
        only = intercept_only(problem)
        gamma = spec.gamma is not None
        if method == "closed_form" and not (only and (gamma or spec.all_flat)):
            return Support.not_offered("closed forms: the intercept-only model, flat or gamma")
        if method == "exact_posterior" and not gamma:
            return Support.not_offered("the exact posterior is the gamma prior's (conjugate)")
        if gamma and method in ("newton", "importance", "statsmodels", "sklearn", "laplace"):
            return Support.not_offered(
                "the gamma model's rate has its closed forms (a Laplace approximation in log "
                "rate is not one of the rate)"
            )
        if method == "statsmodels" and not spec.all_flat:
            return Support.not_offered("statsmodels' GLM.fit is the MLE (fit_regularized: below)")
        if method == "sklearn" and only:
            return Support.not_offered("scikit-learn needs at least one feature")
        if method == "sklearn" and spec.intercept and isinstance(spec.intercept_prior, Gaussian):
            return Support.unavailable(
                "scikit-learn's PoissonRegressor never penalises the intercept"
            )
        if spec.all_flat and not existence(problem).exists:
            why = existence_reason(problem)
            if method in ("nuts", "importance"):
                why += "; with a flat prior the posterior is improper"
            return Support.unavailable(why)
        return Support()

    def references(self) -> dict[str, Reference]:
        refs = [
            # under the Gamma prior the closed forms are of the rate alone (the layout also
            # carries its log, "intercept", for the pictures)
            Reference(
                "closed_form",
                closed_form_fit,
                groups=_rate_if_gamma,
                description="Σy/Σe, Gamma mode",
            ),
            Reference(
                "exact_posterior",
                exact_posterior_fit,
                groups=_rate_if_gamma,
                description="Gamma posterior",
            ),
            Reference("newton", newton_fit, description="our Newton/IRLS (NumPy)"),
            Reference(
                "importance",
                importance_fit,
                seeded=True,
                description="importance-sampled posterior (NumPy)",
            ),
            Reference("statsmodels", statsmodels_fit, description="GLM(Poisson)"),
            Reference("sklearn", sklearn_fit, description="PoissonRegressor"),
        ]
        return {r.name: r for r in refs}

    def build_model(self, problem: Problem) -> Built:
        return build_gamma(problem) if problem.spec.gamma is not None else build_model(problem)

    def predict(self, problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
        """E[y | x] at ``params`` for the rows of ``X``: with each row's exposure when ``X``
        is the problem's own data (its rows, in order), else per unit exposure (offset 0:
        a grid of x has no exposure)."""
        X = np.asarray(X, float)
        own = X.shape == np.shape(problem.X) and np.array_equal(X, problem.X)
        exposure = np.exp(_offset(problem)) if own else 1.0
        if problem.spec.gamma is not None:
            return exposure * np.full(X.shape[0], float(params["rate"]))
        beta = _vector(params, problem)
        return exposure * np.exp(la.design(X, problem.spec.intercept) @ beta)

    # --- checks and text
    def ledger(self, problem: Problem, points: dict, rng) -> list[LedgerRow]:
        """−log p(y | β) from the Poisson pmf (at μ = exp(η)), from η directly (stable at any
        |η|), as n × PyTorch's PoissonNLLLoss(log_input=True) mean + Σ log y! and as n/2 ×
        sklearn's mean_poisson_deviance + Σ(y − y log y + log y!) (where 0 < μ < inf, |η| ≤
        700), at each point estimate, at two arbitrary points and at a point with linear
        predictors up to |x·β| = 50 (plus the offset)."""
        from scipy.stats import poisson
        from sklearn.metrics import mean_poisson_deviance

        if problem.spec.gamma is not None:
            return []
        names = coef_names(problem.features, problem.spec)
        A = _design(problem)
        y = np.asarray(problem.y, float)
        n = len(y)
        offset = _offset(problem)
        log_fact = float(np.sum(gammaln(y + 1)))
        const = float(np.sum(y - xlogy(y, y))) + log_fact
        vecs = ledger_points(
            points,
            names,
            lambda pt_: _vector(pt_, problem),
            A,
            rng,
            EXTREME_ETA,
            f"extreme linear predictors (max |x·β| = {EXTREME_ETA:g})",
        )
        rows = []
        for label, beta in vecs:
            eta = offset + A @ beta
            with np.errstate(over="ignore"):
                mu = np.exp(eta)
            torch_mean = float(np.mean(mu - y * eta))  # PoissonNLLLoss(log_input=True) formula
            values = {
                "max |η|": float(np.max(np.abs(eta))),
                NLL_PMF: float(-np.sum(poisson.logpmf(y, mu))),
                NLL_ETA: float(np.sum(mu - y * eta) + log_fact),
                NLL_TORCH: n * torch_mean + log_fact,
            }
            # every route against scipy's pmf (the PoissonNLLLoss row is its documented
            # formula: PyTorch is not installed)
            checks = [(NLL_PMF, NLL_ETA), (NLL_PMF, NLL_TORCH)]
            if values["max |η|"] <= DEVIANCE_MAX_ETA:
                values[NLL_DEVIANCE] = n / 2 * float(mean_poisson_deviance(y, mu)) + const
                checks.append((NLL_PMF, NLL_DEVIANCE))
            # each term's rounding is relative to its own size: μ, |y η| and log y!
            magnitude = float(np.sum(mu + np.abs(y * eta) + gammaln(y + 1) + np.abs(xlogy(y, y))))
            rows.append(
                LedgerRow(at=label, values=values, checks=tuple(checks), magnitude=magnitude / n)
            )
        return rows

    def agreement_pairs(self, problem: Problem) -> list[Pair]:
        return agreement_pairs(problem)

    def translations(self, problem: Problem, mode: dict | None = None, seed: int = 0) -> list:
        """PoissonRegressor, statsmodels GLM ridge and SGD weight decay rows (Gaussian prior)."""
        return poisson_rows(problem)

    def describe(self, problems: dict[str, Problem], estimates: dict) -> dict:
        problem = next(iter(problems.values()))
        spec = problem.spec
        tau = problems["gaussian"].spec.coef_prior.scale if "gaussian" in problems else None
        alpha = sklearn_alpha(problems["gaussian"]) if "gaussian" in problems else None
        offset = "offset_i + " if "offset" in problem.rows else ""
        predictor = " + ".join(
            (["intercept"] if spec.intercept or spec.gamma else [])
            + (["x_i · w"] if problem.features else [])
        )
        priors = [
            "w_j ~ Flat()  (maximum likelihood)" if problem.features else "",
            f"w_j ~ Normal(0, τ²), τ = {tau:g}  (MAP, L2)" if tau else "",
            "intercept ~ Flat() (or Normal(0, τ₀²) with --intercept-prior-scale)"
            if spec.intercept
            else "",
        ]
        if "gamma" in problems:
            a, b = problems["gamma"].spec.gamma
            priors.append(
                f"gamma: rate = exp(intercept) ~ Gamma({a:g}, {b:g}) (rate b): posterior "
                f"Gamma(a + Σy, b + Σ exp(offset)), mode (a + Σy − 1)/(b + Σe)"
            )
        text = {
            "likelihood": f"y_i ~ Poisson(μ_i), log μ_i = {offset}{predictor}",
            "priors": [p for p in priors if p],
            "loss": "−log p(y | w, b) = Σ (μ − y log μ + log y!) = n · PoissonNLLLoss(log_input"
            "=True) + Σ log y! = n/2 · mean_poisson_deviance + Σ(y − y log y + log y!)\n⇒ "
            "maximising the likelihood = minimising the mean Poisson deviance.",
            "penalty": "Normal(0, τ²) prior on w  ⇔  + ‖w‖²/(2τ²) in −log p  ⇔  "
            "PoissonRegressor(alpha = 1/(nτ²)) (it minimises 1/(2n)·Σ deviance + alpha/2·‖w‖²)",
            "translation": penalty_text(tau, problem.n, alpha) if problem.features else [],
            "computation": "sampled and optimised in a basis orthonormal in the design weighted "
            "by y + ½ (each row's information near the data), centred at the weighted "
            "least-squares fit of log(y + ½) − offset: η = η₀ + A·M·φ, (b, w) = m₀ + M·φ; "
            "reported on the original scale",
            "estimates_note": "newton's sd: inverse Hessian; importance: posterior by "
            "importance sampling, an independent check of NUTS",
            "ledger": "the negative log-likelihood from the Poisson pmf, from η directly, as "
            "n·PoissonNLLLoss (its documented formula: PyTorch is not installed) + Σ log y!, "
            "and as n/2·mean_poisson_deviance (sklearn, where |η| ≤ 700) + its constant, at "
            "the estimates, at arbitrary values and at |x·β| up to 50",
        }
        flat = problems.get("flat")
        if flat is not None and not existence(flat).exists:
            text["existence"] = (
                existence_reason(flat) + ". Flat-prior estimates are therefore reported as "
                "unavailable. The Gaussian prior adds ‖w‖²/(2τ²), which grows faster than the "
                "likelihood can, so the posterior is proper and its mode finite."
            )
        return text


def _rate_if_gamma(problem) -> tuple[str, ...] | None:
    """The parameter groups a closed form estimates: the rate under the Gamma prior, else all."""
    return ("rate",) if problem.spec.gamma is not None else None
