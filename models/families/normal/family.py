"""The normal family through the family contract (``models.family.Family``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from nll_losses.models.families.normal import target
from nll_losses.models.families.normal.model import build_model, laplace_sd
from nll_losses.models.families.normal.observation import NormalObservation
from nll_losses.models.families.normal.references import (
    closed_form,
    exact_posterior,
    sklearn_fit,
    statsmodels_fit,
)
from nll_losses.models.families.normal.spec import (
    LIKELIHOOD,
    LOSS,
    NAME,
    NLL_DENSITY,
    NLL_MSE,
    NormalOptions,
    NormalSpec,
    _exact_fit,
    coef_names,
)
from nll_losses.models.families.normal.theory import agreement_pairs, nll, nll_from_mse
from nll_losses.models.families.normal.translations import normal_rows, penalty_text
from nll_losses.models.family import (
    Built,
    LedgerRow,
    Param,
    ParamLayout,
    Problem,
    Reference,
    Settings,
    Start,
    StudyModel,
    Support,
    proper_intercept,
    same_parametrisation,
    tau_sweep,
)
from nll_losses.models.numerics import linalg as la
from nll_losses.models.pairs import Pair
from nll_losses.models.priors import Flat, Gaussian, HalfFlat, Known


# ----------------------------------------------------------------------------- the family
class NormalFamily:
    """The Gaussian likelihood through the family contract (``models.family.Family``)."""

    name = NAME
    title = "MSE is the Gaussian negative log-likelihood"
    prior_titles = {"gaussian": "ridge (weight decay) is a Gaussian prior"}
    summary = "linear regression: minimising MSE is maximum likelihood; N(0, τ²) weights = ridge"
    priors = ("flat", "gaussian")
    methods = (
        "closed_form",
        "exact_posterior",
        "find_map",
        "laplace",
        "nuts",
        "statsmodels",
        "sklearn",
    )
    sd_scale_methods = ("exact_posterior", "closed_form")
    # -log p is convex in phi for fixed sigma and in u = log sigma for fixed phi, and every mode
    # has a PD Hessian; it is not jointly convex, so a Gaussian prior with unknown sigma can give
    # two modes (see ``map_starts``)
    log_concave = True
    observation = NormalObservation()  # y, its NLL, the loss it equals, link, pictures
    Options = NormalOptions

    # --- data (the flags: ``NormalOptions.FLAGS``)
    # reading the target: its own slot (target.py)
    encode_target = staticmethod(target.encode_target)
    auto = staticmethod(target.auto)
    auto_note = staticmethod(target.auto_note)

    def reserved_names(self, options) -> frozenset[str]:
        return frozenset({"intercept", "sigma"})

    # --- specs, layouts, models
    def default_priors(self, settings: Settings) -> tuple[str, ...]:
        return self.priors

    def make_spec(self, settings: Settings, prior: str) -> NormalSpec:
        if prior not in self.priors:
            raise ValueError(f"prior {prior!r} is not one of {self.priors}")
        options = settings.options or NormalOptions()
        gaussian = prior == "gaussian"
        tau0 = settings.intercept_prior_scale
        return NormalSpec(
            intercept=settings.intercept,
            coef_prior=Gaussian(settings.prior_scale) if gaussian else Flat(),
            intercept_prior=Gaussian(tau0) if gaussian and tau0 else Flat(),
            sigma=options.sigma,
        )

    def layout(self, features, target_info: dict, spec: NormalSpec) -> ParamLayout:
        params = [Param("intercept", "intercept")] if spec.intercept else []
        params += [Param(f, "w", (("feature", f),)) for f in features]
        if spec.sigma_known is None:
            params.append(Param("sigma", "sigma", group="sigma"))
        return ParamLayout(tuple(params))

    def supports(self, method: str, problem: Problem) -> Support:
        spec = problem.spec
        if method == "sklearn" and spec.intercept and isinstance(spec.intercept_prior, Gaussian):
            return Support.unavailable("scikit-learn's Ridge never penalises the intercept")
        if spec.sigma_known is None and method in (
            "exact_posterior",
            "laplace",
            "nuts",
            "find_map",
        ):
            rss = _exact_fit(problem)
            if rss is not None:
                why = (
                    f"the data are fitted exactly (RSS = {rss:.3g}), so σ's likelihood is "
                    "unbounded at σ = 0"
                )
                if method == "find_map" and spec.all_flat:
                    # flat priors: the coefficient mode is least squares at every fixed sigma
                    scale = float(np.std(problem.y)) or 1.0
                    return Support(
                        spec=replace(spec, sigma=Known(scale)),
                        note=f"{why}: σ has no mode, so the coefficients are optimised at a "
                        f"fixed σ = {scale:.6g} (with flat priors their mode does not depend on σ)",
                    )
                if method == "find_map":
                    return Support.unavailable(
                        f"{why}: the joint mode lies on the boundary σ = 0 and does not exist"
                    )
                return Support.unavailable(f"{why}: the posterior is improper")
        return Support()

    def references(self) -> dict[str, Reference]:
        refs = [
            Reference("closed_form", closed_form, description="refined-QR least squares / ridge"),
            Reference("exact_posterior", exact_posterior, description="conjugate + quadrature"),
            Reference(
                "statsmodels",
                statsmodels_fit,
                needs=("closed_form",),
                # sigma only as the flat-prior MLE sqrt(RSS/n) (what find_MAP's HalfFlat gives)
                groups=lambda p: (
                    ("coefficients", "sigma")
                    if p.spec.all_flat and isinstance(p.spec.sigma, HalfFlat)
                    else ("coefficients",)
                ),
                description="sm.OLS / fit_regularized",
            ),
            Reference(
                "sklearn",
                sklearn_fit,
                needs=("closed_form",),
                groups=("coefficients",),
                description="LinearRegression / Ridge",
            ),
        ]
        return {r.name: r for r in refs}

    def build_model(self, problem: Problem) -> Built:
        return build_model(problem)

    def laplace_sd(self, fit, built: Built, point, problem: Problem) -> dict[str, float]:
        return laplace_sd(fit, built, point, problem)

    def map_starts(self, problem: Problem) -> list[Start]:
        """The default point (phi = 0, sigma = sd(y)); when Gaussian priors meet an unknown
        sigma, also a path from sigma = 10^-3 sd(y): coefficients first with sigma held there,
        then jointly.  The joint posterior can then have a large-sigma mode near beta = 0 and a
        small-sigma mode near the data (``gaussian_closed_forms.map_estimate``); from the
        default point the optimiser raises sigma first and finds the large-sigma one."""
        spec = problem.spec
        starts = [Start("default point")]
        tau = spec.prior_scales(len(coef_names(problem.features, spec)))
        if spec.sigma_known is None and np.any(np.isfinite(tau)):
            held = {"sigma_std_log__": np.log(1e-3)}
            starts.append(Start("σ held at 10⁻³·sd(y), then joint", held, tuple(held)))
        return starts

    def predict(self, problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
        """E[y | x] = intercept + x · w."""
        beta = np.array([params[nm] for nm in coef_names(problem.features, problem.spec)])
        X = np.asarray(X, dtype=np.float64)
        if problem.spec.intercept:  # no n x (p + 1) copy of X per call (the landscape calls often)
            return beta[0] + X @ beta[1:]
        return X @ beta

    def smooth(self, problem: Problem) -> bool:
        return True

    def study_model(self, settings, truth: dict) -> StudyModel:
        """N(0, τ²) on the intercept as on the weights, and σ known at the generator's: the
        conjugate posterior is then exact and Gaussian."""
        settings, note = proper_intercept(settings)
        sigma = float(truth["sigma"])
        settings = replace(settings, options=NormalOptions(sigma=Known(sigma)))
        note = "; ".join(filter(None, [note, f"σ known ({sigma:g})"]))
        sd = {"intercept": settings.intercept_prior_scale, "w": settings.prior_scale}
        return StudyModel(settings, sigma, note, sd)

    def sweep(self, settings, features):
        """None without features: the N(0, τ²) prior is on the weights."""
        return (
            tau_sweep(settings, ("closed_form", "sklearn", "exact_posterior")) if features else None
        )

    def reexpress(self, values: dict, source: Problem, target: Problem):
        """Every prior has the same parameters (``same_parametrisation``)."""
        return same_parametrisation(values, source, target)

    def objective(self, problem: Problem, params: dict, method: str) -> None:
        """Not reported by this family (its estimates are compared parameter by parameter)."""
        return None

    # --- checks and text
    def conditioning(self, problem: Problem) -> float:
        """2-norm condition number of the design as the libraries see it (``[1, X]``)."""
        return la.condition_number(la.design(problem.X, problem.spec.intercept))

    def ledger(self, problem: Problem, points: dict, rng) -> list[LedgerRow]:
        """-log p(y | params) from the Normal density and from the MSE loss (MSE from
        ``sklearn.metrics.mean_squared_error``), at each point estimate that has every
        coefficient and sigma, and at two arbitrary parameter values."""
        from sklearn.metrics import mean_squared_error

        spec = problem.spec
        names = coef_names(problem.features, spec)
        usable = [
            (label, pt_)
            for label, pt_ in points.items()
            if all(nm in pt_ for nm in names) and (spec.sigma_known or "sigma" in pt_)
        ]
        base = usable[0][1] if usable else {nm: 0.0 for nm in names}
        for k in range(2):
            arbitrary = {
                nm: float(base.get(nm, 0.0) + rng.normal(scale=1.0 + abs(base.get(nm, 0.0))))
                for nm in names
            }
            arbitrary["sigma"] = float(
                abs(base.get("sigma", spec.sigma_known or np.std(problem.y) or 1.0))
                * np.exp(rng.normal(scale=0.5))
            )
            usable.append((f"arbitrary #{k + 1}", arbitrary))
        rows = []
        X, y, n = problem.X, problem.y, problem.n
        for label, params in usable:
            b = params.get("intercept", 0.0) if spec.intercept else 0.0
            w = np.array([params[f] for f in problem.features])
            sigma = params.get("sigma", spec.sigma_known)
            mse = mean_squared_error(y, b + np.asarray(X) @ w)
            direct = nll(X, y, b if spec.intercept else None, w, sigma)
            rows.append(
                LedgerRow(
                    at=label,
                    values={
                        "σ": sigma,
                        "MSE (sklearn)": mse,
                        NLL_DENSITY: direct,
                        NLL_MSE: nll_from_mse(mse, n, sigma),
                    },
                    checks=((NLL_DENSITY, NLL_MSE),),
                )
            )
        return rows

    def agreement_pairs(self, problem: Problem) -> list[Pair]:
        return agreement_pairs(problem)

    def translations(self, problem: Problem, mode: dict | None = None, seed: int = 0) -> list:
        """Ridge, statsmodels and SGD weight decay rows; σ is the known value or the mode's."""
        sigma = problem.spec.sigma_known
        if sigma is None and mode is not None:
            sigma = mode.get("sigma")
        return normal_rows(problem, sigma)

    def describe(self, problems: dict[str, Problem], estimates: dict) -> dict:
        """The model, its loss and the prior <-> penalty translation, as text for the report."""
        problem = problems.get("gaussian") or next(iter(problems.values()))
        spec = problem.spec
        closed = estimates.get("closed_form_gaussian")
        sigma = spec.sigma_known
        if sigma is None and closed is not None and closed.status == "ok":
            sigma = closed.mean.get("sigma")
        tau = spec.coef_prior.scale if isinstance(spec.coef_prior, Gaussian) else None
        priors = [
            "w_j ~ Flat()  (maximum likelihood)",
            f"w_j ~ Normal(0, τ²), τ = {tau:g}  (MAP)" if tau else "",
            "intercept ~ "
            + (spec.intercept_prior.describe() if spec.intercept else "(no intercept)"),
            "σ: " + spec.sigma.describe(),
        ]
        return {
            "likelihood": LIKELIHOOD if spec.intercept else "y_i ~ Normal(x_i · w, σ)",
            "priors": [p for p in priors if p],
            "loss": LOSS + "\n⇒ for fixed σ, maximising the likelihood = minimising the MSE.",
            "penalty": "Normal(0, τ²) prior on w  ⇔  + ‖w‖²/(2τ²) in −log p  ⇔  ridge "
            "‖y − ŷ‖² + α‖w‖² with α = σ²/τ² (sklearn Ridge alpha; statsmodels "
            "fit_regularized alpha = α/n; weight decay on the mean loss λ = α/n)",
            "translation": penalty_text(spec, problem.n, sigma),
            "computation": "sampled and optimised in an orthonormal basis of the centred, "
            "column-scaled design: μ = offset + s_y·Q·φ, (b, w) = m₀ + s_y·M·φ; "
            "reported on the original scale",
            "estimates_note": "closed_form_flat's sd is the classical standard error "
            "(s² = RSS/(n−p)), exact_posterior's the exact posterior sd",
            "ledger": "the negative log-likelihood from the Normal density and from the MSE "
            "loss (MSE from sklearn.metrics.mean_squared_error), at the estimates and at "
            "arbitrary parameter values",
        }
