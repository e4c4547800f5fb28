"""Gaussian likelihood: minimising MSE is maximum likelihood; a Gaussian prior is ridge.

Model::

    y_i ~ Normal(mu_i, sigma),   mu_i = intercept + x_i . w            (i = 1..n)
    w_j ~ Flat()  or  Normal(0, tau^2)          intercept ~ Flat() (or Normal(0, tau0^2) if asked)
    sigma: known, or ~ HalfFlat() or HalfNormal(S)

Negative log-likelihood (the loss ledger checks this identity numerically)::

    -log p(y | w, b, sigma) = n/2 log(2 pi sigma^2) + n * MSE / (2 sigma^2)

so for fixed sigma the MLE minimises the MSE, and with a N(0, tau^2) prior the MAP minimises
``||y - b - X w||^2 + alpha ||w||^2`` with ``alpha = sigma^2 / tau^2`` (scikit-learn ``Ridge``).

Reparametrisation: the PyMC model samples/optimises ``phi`` in an orthonormal basis of the
(centred, column-scaled) design, ``mu = offset + s_y Q phi``, and reports ``(intercept, w)`` as
deterministics on the original scale, ``beta = m0 + s_y M phi`` (``models.linalg.precondition``).
The posterior and the MAP are those of the model above (the map is affine, so its Jacobian is a
constant); only what the optimiser and sampler see changes: a problem whose curvature in ``phi``
is isotropic however badly conditioned ``X`` is (e.g. polynomial and near-collinear designs).
Priors on the original-scale coefficients enter as ``pm.Potential`` terms
``-1/2 sum_j beta_j^2 / tau_j^2`` (precision 0 = flat), so flat and Gaussian priors share one
compiled graph; sigma is ``s_y * sigma_std`` with a HalfFlat ``sigma_std`` and a HalfNormal
potential ``-sigma^2 / (2 S^2)`` (1/S^2 = 0 = HalfFlat).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from models import linalg as la
from models.pairs import Pair
from models.priors import Flat, Gaussian, HalfFlat, HalfNormal, Known

NAME = "normal"
LIKELIHOOD = "y_i ~ Normal(intercept + x_i · w, σ)"
LOSS = "−log p(y | w, b, σ) = n/2 · log(2πσ²) + n · MSE / (2σ²)"


@dataclass(frozen=True)
class NormalSpec:
    """One configuration of the Gaussian family: intercept, coefficient prior, sigma."""

    intercept: bool = True
    coef_prior: Flat | Gaussian = field(default_factory=Flat)
    intercept_prior: Flat | Gaussian = field(default_factory=Flat)
    sigma: HalfFlat | HalfNormal | Known = field(default_factory=HalfFlat)

    @property
    def prior_name(self) -> str:
        return self.coef_prior.name

    def prior_scales(self, p: int) -> np.ndarray:
        """tau_j per coefficient (inf = flat), intercept first when present."""
        w_tau = self.coef_prior.scale if isinstance(self.coef_prior, Gaussian) else np.inf
        tau = np.full(p, w_tau, dtype=float)
        if self.intercept:
            tau[0] = (
                self.intercept_prior.scale if isinstance(self.intercept_prior, Gaussian) else np.inf
            )
        return tau

    @property
    def sigma_known(self) -> float | None:
        return self.sigma.value if isinstance(self.sigma, Known) else None

    @property
    def sigma_prior_scale(self) -> float | None:
        return self.sigma.scale if isinstance(self.sigma, HalfNormal) else None


def make_spec(case, prior: str) -> NormalSpec:
    """The spec for one prior of a case (``analyses.config.CaseConfig``): "flat" or "gaussian"."""
    gaussian = prior == "gaussian"
    tau0 = case.intercept_prior_scale
    return NormalSpec(
        intercept=case.intercept,
        coef_prior=Gaussian(case.prior_scale) if gaussian else Flat(),
        intercept_prior=Gaussian(tau0) if gaussian and tau0 else Flat(),
        sigma=case.sigma,
    )


def parameter_names(feature_names, spec: NormalSpec) -> list[str]:
    """Result parameter names: ``intercept``, the feature names, ``sigma`` when estimated."""
    names = (["intercept"] if spec.intercept else []) + list(feature_names)
    if spec.sigma_known is None:
        names.append("sigma")
    return names


def coef_names(feature_names, spec: NormalSpec) -> list[str]:
    return (["intercept"] if spec.intercept else []) + list(feature_names)


def _to_params(beta, sigma, feature_names, spec) -> dict[str, float]:
    out = dict(zip(coef_names(feature_names, spec), map(float, beta), strict=True))
    if spec.sigma_known is None and sigma is not None:
        out["sigma"] = float(sigma)
    return out


# ----------------------------------------------------------------------------- closed forms
def closed_form(X, y, feature_names, spec: NormalSpec) -> dict:
    """The posterior mode in closed form: OLS (flat) or ridge (Gaussian), see ``linalg``.

    Returns ``{"mean": params, "sd": params (classical s.e. for flat, else {}), "info": ...}``.
    Classical s.e. use s^2 = RSS / (n - p); the reported sigma is the mode find_MAP targets
    (``sqrt(RSS/n)`` for HalfFlat, the HalfNormal-shrunk root, or the known value).
    """
    A = la.design(X, spec.intercept)
    n, p = A.shape
    tau = spec.prior_scales(p)
    if np.all(np.isinf(tau)):
        fit = la.ols(A, y, intercept=spec.intercept)
        sigma = (
            la.sigma_mode(fit.rss, n, spec.sigma_prior_scale)
            if spec.sigma_known is None
            else spec.sigma_known
        )
        sd = dict(zip(coef_names(feature_names, spec), map(float, fit.se), strict=True))
    else:
        fit = la.map_estimate(
            A,
            y,
            tau,
            intercept=spec.intercept,
            sigma_known=spec.sigma_known,
            sigma_prior_scale=spec.sigma_prior_scale,
        )
        sigma = fit.sigma
        sd = {}
    info = {}
    if spec.sigma_known is None and la.is_exact_fit(fit.rss, y):
        # sigma's mode is 0, where the likelihood is unbounded: no finite estimate exists
        sigma = None
        info["warning"] = (
            f"the data are fitted exactly (RSS = {fit.rss:.3g}): the mode of σ is 0, where "
            "the likelihood is unbounded, so σ has no estimate and no posterior"
        )
    return {
        "mean": _to_params(fit.beta, sigma, feature_names, spec),
        "sd": sd,
        "info": info
        | {
            "rss": fit.rss,
            "s2_unbiased": fit.rss / (n - p),
            "sigma_mle": float(np.sqrt(fit.rss / n)),
            "ridge_alpha": float(fit.alpha[-1]) if p else 0.0,
            "condition_number": fit.cond,
            "refinement_iterations": fit.iterations,
            "mle_cov_sd": dict(
                zip(
                    coef_names(feature_names, spec),
                    map(float, np.sqrt(fit.rss / n * np.diag(fit.cov_unscaled))),
                    strict=True,
                )
            ),
        },
    }


def exact_posterior(X, y, feature_names, spec: NormalSpec) -> dict:
    """Exact posterior mean and sd.

    Known sigma: Gaussian (conjugate).  Unknown sigma: one-dimensional quadrature over sigma of
    the conjugate conditional (``linalg.gaussian_posterior_by_quadrature``).  For flat
    coefficients with a HalfFlat sigma the closed form is a multivariate t with
    nu = n - p - 1 degrees of freedom (``linalg.multivariate_t_posterior``, derivation there);
    both are returned so the report can show that they agree.
    """
    A = la.design(X, spec.intercept)
    n, p = A.shape
    tau = spec.prior_scales(p)
    sigma_prior = "halfnormal" if isinstance(spec.sigma, HalfNormal) else "halfflat"
    q = la.gaussian_posterior_by_quadrature(
        A,
        y,
        tau,
        sigma_known=spec.sigma_known,
        sigma_prior_scale=spec.sigma_prior_scale,
        sigma_prior=sigma_prior,
    )
    out = {
        "mean": _to_params(q["beta_mean"], q["sigma_mean"], feature_names, spec),
        "sd": _to_params(q["beta_sd"], q["sigma_sd"], feature_names, spec),
        "info": {
            "method": "conjugate Gaussian" if spec.sigma_known else "1-D quadrature",
            "grid_points": q["grid_points"],
        },
    }
    if np.all(np.isinf(tau)) and isinstance(spec.sigma, HalfFlat):
        t = la.multivariate_t_posterior(A, y, intercept=spec.intercept)
        out["student_t"] = {
            "mean": _to_params(t["beta_mean"], t["sigma_mean"], feature_names, spec),
            "sd": _to_params(t["beta_sd"], t["sigma_sd"], feature_names, spec),
            "nu": t["nu"],
        }
    return out


def nll(X, y, intercept, w, sigma) -> float:
    """-log p(y | w, b, sigma) summed over observations, straight from the Normal density."""
    mu = (intercept or 0.0) + np.asarray(X) @ np.asarray(w)
    z = (np.asarray(y) - mu) / sigma
    return float(np.sum(0.5 * z**2 + np.log(sigma) + 0.5 * np.log(2 * np.pi)))


def nll_from_mse(mse: float, n: int, sigma: float) -> float:
    """The same quantity written as the MSE loss: n/2 log(2 pi sigma^2) + n MSE / (2 sigma^2)."""
    return float(0.5 * n * np.log(2 * np.pi * sigma**2) + n * mse / (2 * sigma**2))


def translation(spec: NormalSpec, n: int, sigma: float | None) -> list[dict]:
    """Prior <-> penalty table for the report (uses sigma: the known value or the mode)."""
    rows = [{"prior": "w ~ Flat()", "penalty": "none: minimise Σ(y − ŷ)² = n·MSE (least squares)"}]
    if isinstance(spec.coef_prior, Gaussian):
        tau = spec.coef_prior.scale
        if sigma is not None:
            alpha = sigma**2 / tau**2
            rows.append(
                {
                    "prior": f"w ~ Normal(0, {tau:g}²)",
                    "penalty": f"+ α‖w‖² with α = σ²/τ² = {sigma:.6g}²/{tau:g}² = {alpha:.6g} "
                    f"(sklearn Ridge(alpha={alpha:.6g}); per-sample weight decay λ = α/n = "
                    f"{alpha / n:.6g} on the MSE)",
                }
            )
    return rows


# ----------------------------------------------------------------------------- PyMC model
@dataclass
class Built:
    """A compiled-once PyMC model plus the data that fill it for one dataset and prior."""

    model: object
    key: tuple
    data: dict[str, np.ndarray]
    A: np.ndarray
    pre: la.Preconditioner
    scale_y: float


def structure_key(X, spec: NormalSpec) -> tuple:
    """What forces a new graph (and a new Numba compile): shapes, intercept, sigma known."""
    n, k = np.shape(X)
    return (NAME, n, k, spec.intercept, spec.sigma_known is not None)


def model_data(X, y, spec: NormalSpec, coef_offset=None) -> tuple[dict, la.Preconditioner, float]:
    """Values for every ``pm.Data`` of the model (from X, y and the priors; never from an estimate
    of another method).  ``coef_offset`` re-centres the basis at a point (used by find_MAP's own
    refinement pass)."""
    A = la.design(X, spec.intercept)
    n, p = A.shape
    pre = la.precondition(A, spec.intercept)
    y = np.asarray(y, dtype=float)
    centre = y.mean() if spec.intercept else 0.0
    scale_y = float(np.sqrt(np.mean((y - centre) ** 2)))
    if not scale_y > 0:
        scale_y = 1.0
    if coef_offset is None:
        m0 = np.zeros(p)
        if spec.intercept:
            m0[0] = centre
    else:
        m0 = np.asarray(coef_offset, dtype=float)
    offset = np.asarray(A.astype(np.longdouble) @ m0.astype(np.longdouble), dtype=float)
    tau = spec.prior_scales(p)
    prec = np.where(np.isfinite(tau), 1.0 / tau**2, 0.0)
    data = {
        "basis_matrix": scale_y * pre.Q,
        "basis_to_coef": scale_y * pre.M,
        "coef_offset": m0,
        "mu_offset": offset,
        "prior_precision": prec,
        "scale_y": np.asarray(scale_y),
        "y_obs": y,
    }
    if spec.sigma_known is not None:
        data["sigma_known"] = np.asarray(float(spec.sigma_known))
    else:
        S = spec.sigma_prior_scale
        data["sigma_prior_precision"] = np.asarray(0.0 if S is None else 1.0 / S**2)
    return data, pre, scale_y


def build_model(X, y, feature_names, spec: NormalSpec) -> Built:
    """The PyMC model (see the module docstring); every input that may change is ``pm.Data``."""
    import pymc as pm
    import pytensor.tensor as pt

    data, pre, scale_y = model_data(X, y, spec)
    n, p = pre.Q.shape
    coords = {"feature": list(feature_names), "basis": list(range(p)), "obs": list(range(n))}
    with pm.Model(coords=coords) as model:
        d = {
            "basis_matrix": pm.Data("basis_matrix", data["basis_matrix"], dims=("obs", "basis")),
            "basis_to_coef": pm.Data("basis_to_coef", data["basis_to_coef"]),
            "coef_offset": pm.Data("coef_offset", data["coef_offset"]),
            "mu_offset": pm.Data("mu_offset", data["mu_offset"], dims="obs"),
            "prior_precision": pm.Data("prior_precision", data["prior_precision"]),
            "scale_y": pm.Data("scale_y", data["scale_y"]),
        }
        y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
        phi = pm.Flat("phi", dims="basis")
        beta = d["coef_offset"] + pt.dot(d["basis_to_coef"], phi)
        if spec.intercept:
            pm.Deterministic("intercept", beta[0])
            pm.Deterministic("w", beta[1:], dims="feature")
        else:
            pm.Deterministic("w", beta, dims="feature")
        # N(0, tau_j^2) priors on the original-scale coefficients; precision 0 = Flat.
        pm.Potential("coef_prior", -0.5 * pt.sum(d["prior_precision"] * beta**2))
        if spec.sigma_known is not None:
            sigma = pm.Data("sigma_known", data["sigma_known"])
        else:
            sigma_prec = pm.Data("sigma_prior_precision", data["sigma_prior_precision"])
            sigma_std = pm.HalfFlat("sigma_std")
            sigma = pm.Deterministic("sigma", d["scale_y"] * sigma_std)
            # HalfNormal(S) on sigma up to a constant; 1/S^2 = 0 = HalfFlat.
            pm.Potential("sigma_prior", -0.5 * sigma_prec * sigma**2)
        mu = d["mu_offset"] + pt.dot(d["basis_matrix"], phi)
        pm.Normal("y", mu=mu, sigma=sigma, observed=y_obs, dims="obs")
    return Built(
        model=model,
        key=structure_key(X, spec),
        data=data,
        A=la.design(X, spec.intercept),
        pre=pre,
        scale_y=scale_y,
    )


VAR_NAMES = ["intercept", "w", "sigma"]  # original-scale variables in the posterior


def params_from_posterior(ds, feature_names, spec: NormalSpec, stat=np.mean) -> dict[str, float]:
    """Reduce a posterior Dataset (chain, draw, ...) to {parameter name: stat over draws}."""
    out = {}
    if spec.intercept:
        out["intercept"] = float(stat(ds["intercept"].values))
    w = ds["w"].transpose(..., "feature").values.reshape(-1, len(feature_names))
    for j, name in enumerate(feature_names):
        out[name] = float(stat(w[:, j]))
    if spec.sigma_known is None:
        out["sigma"] = float(stat(ds["sigma"].values))
    return out


def laplace_sd(fit, built: Built, point, feature_names, spec: NormalSpec) -> dict[str, float]:
    """Laplace sd on the original scale from the exact inverse Hessian at the mode.

    ``fit.covariance_matrix`` is in the unconstrained space (phi, log sigma_std).  The map to
    the coefficients is linear, beta = m0 + s_y M phi, so Cov(beta) = (s_y M) Cov(phi) (s_y M)^T
    exactly; sigma = s_y exp(u) is treated to first order: sd(sigma) = sigma * sd(u).
    """
    labels = [str(v) for v in fit["rows"].values]
    cov = np.asarray(fit["covariance_matrix"].values, dtype=float)
    if not np.all(np.isfinite(cov)):
        raise ValueError("Hessian at the mode is not finite")
    idx = [i for i, lab in enumerate(labels) if lab.startswith("phi")]
    Ms = built.data["basis_to_coef"]
    cov_beta = Ms @ cov[np.ix_(idx, idx)] @ Ms.T
    sd_beta = np.sqrt(np.clip(np.diag(cov_beta), 0.0, None))
    sigma = None
    if spec.sigma_known is None:
        j = labels.index("sigma_std_log__")
        sigma = float(point["sigma"]) * np.sqrt(cov[j, j])
    return _to_params(sd_beta, sigma, feature_names, spec)


# ----------------------------------------------------------------------------- libraries
def statsmodels_fit(X, y, feature_names, spec: NormalSpec, closed) -> dict:
    """statsmodels OLS (params, classical bse) for flat priors; for Gaussian priors its ridge,
    ``OLS.fit_regularized(L1_wt=0, alpha=a)``, which minimises RSS/(2n) + sum_j a_j beta_j^2 / 2,
    so a_j = alpha_j / n with alpha_j = sigma^2 / tau_j^2 (sigma known, or the closed-form mode).
    """
    import statsmodels.api as sm

    A = la.design(X, spec.intercept)
    n, p = A.shape
    tau = spec.prior_scales(p)
    names = coef_names(feature_names, spec)
    model = sm.OLS(np.asarray(y, float), A)
    if np.all(np.isinf(tau)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = model.fit()
        said = sorted({str(w.message).splitlines()[0] for w in caught})
        mean = dict(zip(names, map(float, res.params), strict=True))
        sd = dict(zip(names, map(float, res.bse), strict=True))
        if spec.sigma_known is None and spec.sigma_prior_scale is None:
            mean["sigma"] = float(np.sqrt(res.ssr / n))
        return {
            "mean": mean,
            "sd": sd,
            "info": {
                "call": "sm.OLS(y, [1, X]).fit()",
                "scale (s^2 = RSS/(n-p))": float(res.scale),
            }
            | ({"warning": "statsmodels says: " + "; ".join(said)} if said else {}),
        }
    sigma = closed.mean.get("sigma", spec.sigma_known)
    alpha = np.where(np.isfinite(tau), sigma**2 / tau**2, 0.0)
    res = model.fit_regularized(method="elastic_net", alpha=alpha / n, L1_wt=0.0)
    mean = dict(zip(names, map(float, res.params), strict=True))
    return {
        "mean": mean,
        "info": {
            "call": "sm.OLS(y, [1, X]).fit_regularized(L1_wt=0, alpha=alpha/n)",
            "alpha": alpha.tolist(),
        },
    }


def sklearn_fit(X, y, feature_names, spec: NormalSpec, closed) -> dict:
    """scikit-learn: ``LinearRegression`` (flat) or ``Ridge(alpha=sigma^2/tau^2)`` (Gaussian).

    sklearn never penalises its intercept, so a Gaussian prior on the intercept has no match.
    """
    from sklearn.linear_model import LinearRegression, Ridge

    names = coef_names(feature_names, spec)
    if isinstance(spec.coef_prior, Flat):
        est = LinearRegression(fit_intercept=spec.intercept)
        call = f"LinearRegression(fit_intercept={spec.intercept})"
    elif isinstance(spec.intercept_prior, Gaussian) and spec.intercept:
        return {"unavailable": "scikit-learn Ridge cannot penalise the intercept"}
    else:
        sigma = closed.mean.get("sigma", spec.sigma_known)
        alpha = sigma**2 / spec.coef_prior.scale**2
        est = Ridge(alpha=alpha, fit_intercept=spec.intercept, solver="auto")
        call = f"Ridge(alpha={alpha:.10g}, fit_intercept={spec.intercept})"
    est.fit(np.asarray(X, float), np.asarray(y, float))
    beta = ([float(est.intercept_)] if spec.intercept else []) + [float(c) for c in est.coef_]
    return {"mean": dict(zip(names, beta, strict=True)), "info": {"call": call}}


# ----------------------------------------------------------------------------- ledger
def ledger(X, y, feature_names, spec: NormalSpec, estimates: dict, seed: int) -> list[dict]:
    """The loss ledger: -log p(y | params) two ways, at each point estimate and at arbitrary
    parameter values.  ``sklearn.metrics.mean_squared_error`` supplies the MSE; the PyMC model's
    own log-likelihood (``compile_logp``) is a third, independent evaluation."""
    from sklearn.metrics import mean_squared_error

    n = len(y)
    rng = np.random.default_rng(seed)
    points = []
    for key, est in estimates.items():
        has_sigma = spec.sigma_known is not None or "sigma" in est.mean
        if est.status == "ok" and key.split("_")[0] in ("closed", "find") and has_sigma:
            points.append((key, est.mean))
    names = coef_names(feature_names, spec)
    base = points[0][1] if points else {nm: 0.0 for nm in names}
    for k in range(2):
        arbitrary = {
            nm: float(base.get(nm, 0.0) + rng.normal(scale=1.0 + abs(base.get(nm, 0.0))))
            for nm in names
        }
        arbitrary["sigma"] = float(
            abs(base.get("sigma", spec.sigma_known or 1.0)) * np.exp(rng.normal(scale=0.5))
        )
        points.append((f"arbitrary #{k + 1}", arbitrary))
    rows = []
    for label, params in points:
        b = params.get("intercept", 0.0) if spec.intercept else 0.0
        w = np.array([params[nm] for nm in feature_names])
        sigma = params.get("sigma", spec.sigma_known)
        yhat = b + np.asarray(X) @ w
        mse = mean_squared_error(y, yhat)
        direct = nll(X, y, b if spec.intercept else None, w, sigma)
        via_mse = nll_from_mse(mse, n, sigma)
        rows.append(
            {
                "at": label,
                "sigma": sigma,
                "MSE (sklearn)": mse,
                "−log p(y|θ) (Normal density)": direct,
                "n/2·log(2πσ²) + n·MSE/(2σ²)": via_mse,
                "|difference|": abs(direct - via_mse),
            }
        )
    return rows


# ----------------------------------------------------------------------------- agreement
def agreement_pairs(spec: NormalSpec, n: int, p: int, prior: str) -> list:
    """Every pair theory says must agree, and every gap theory predicts, for one prior."""
    k = f"_{prior}"
    flat = isinstance(spec.coef_prior, Flat) and not isinstance(spec.intercept_prior, Gaussian)
    halfflat = isinstance(spec.sigma, HalfFlat)
    known = spec.sigma_known
    pairs = [
        Pair("find_map" + k, "closed_form" + k, "mean", "optimiser", note="MLE/MAP = closed form"),
        Pair("statsmodels" + k, "closed_form" + k, "mean", "linear algebra", "coefficients"),
        Pair("sklearn" + k, "closed_form" + k, "mean", "linear algebra", "coefficients"),
        Pair("nuts" + k, "exact_posterior" + k, "mean", "monte carlo"),
        Pair("nuts" + k, "exact_posterior" + k, "sd", "monte carlo"),
    ]
    if flat:
        pairs.append(
            Pair(
                "statsmodels" + k,
                "closed_form" + k,
                "sd",
                "linear algebra",
                "coefficients",
                note="classical s.e.",
            )
        )
    if flat or known is not None:
        # flat: E[beta | sigma, y] = OLS for every sigma; known sigma: Gaussian mean = mode
        pairs.append(
            Pair(
                "exact_posterior" + k,
                "closed_form" + k,
                "mean",
                "linear algebra",
                "coefficients",
                note="posterior mean = mode",
            )
        )
    if known is not None:
        pairs.append(
            Pair(
                "laplace" + k,
                "exact_posterior" + k,
                "sd",
                "linear algebra",
                "coefficients",
                note="Gaussian posterior: Laplace is exact",
            )
        )
    if flat and halfflat:
        # Student t (closed form) vs the quadrature: checks the derivation nu = n - p - 1
        pairs += [
            Pair(
                "exact_posterior" + k,
                "multivariate t",
                stat,
                "quadrature",
                right_values=lambda e, k=k, stat=stat: e["exact_posterior" + k].info["student_t"][
                    stat
                ],
                note=f"quadrature = Student t ({stat})",
            )
            for stat in ("mean", "sd")
        ]
        # classical s.e. use s^2 = RSS/(n-p); posterior sd uses RSS/(n-p-3); Laplace sigma_MLE^2
        post_ratio = np.sqrt((n - p) / (n - p - 3)) if n - p > 3 else np.nan
        lap_ratio = np.sqrt((n - p) / n)

        def gap(ratio, k=k):
            return lambda e: {nm: se * (ratio - 1.0) for nm, se in e["closed_form" + k].sd.items()}

        pairs += [
            Pair(
                "exact_posterior" + k,
                "closed_form" + k,
                "sd",
                "quadrature",
                "coefficients",
                expected=gap(post_ratio),
                note="posterior sd = s.e. × √((n−p)/(n−p−3))",
            ),
            Pair(
                "nuts" + k,
                "closed_form" + k,
                "sd",
                "monte carlo",
                "coefficients",
                expected=gap(post_ratio),
                note="posterior sd = s.e. × √((n−p)/(n−p−3))",
            ),
            Pair(
                "laplace" + k,
                "closed_form" + k,
                "sd",
                "optimiser",
                "coefficients",
                expected=gap(lap_ratio),
                note="Laplace sd = s.e. × √((n−p)/n)",
            ),
            Pair(
                "laplace" + k,
                "σ̂/√(2n)",
                "sd",
                "optimiser",
                "sigma",
                right_values=lambda e, k=k: {
                    "sigma": e["closed_form" + k].mean["sigma"] / np.sqrt(2 * n)
                },
                note="Laplace sd of σ = σ̂/√(2n) (delta method, var(log σ) = 1/(2n))",
            ),
        ]
    if known is None:
        # E[sigma | y] differs from the mode find_MAP returns: expected gap from the exact posterior
        pairs.append(
            Pair(
                "nuts" + k,
                "closed_form" + k,
                "mean",
                "monte carlo",
                "sigma",
                expected=lambda e, k=k: {
                    "sigma": e["exact_posterior" + k].mean["sigma"]
                    - e["closed_form" + k].mean["sigma"]
                },
                note="posterior mean of σ vs its mode (expected gap from the exact posterior)",
            )
        )
    return pairs


def model_math(spec: NormalSpec, n: int, sigma: float | None) -> dict:
    """The model, its loss and the prior <-> penalty translation, as text for the report."""
    tau = spec.coef_prior.scale if isinstance(spec.coef_prior, Gaussian) else None
    priors = [
        "w_j ~ Flat()  (maximum likelihood)",
        f"w_j ~ Normal(0, τ²), τ = {tau:g}  (MAP)" if tau else "",
        "intercept ~ " + (spec.intercept_prior.describe() if spec.intercept else "(no intercept)"),
        "σ: " + spec.sigma.describe(),
    ]
    return {
        "likelihood": LIKELIHOOD if spec.intercept else "y_i ~ Normal(x_i · w, σ)",
        "priors": [p for p in priors if p],
        "loss": LOSS + "\n⇒ for fixed σ, maximising the likelihood = minimising the MSE.",
        "penalty": "Normal(0, τ²) prior on w  ⇔  + ‖w‖²/(2τ²) in −log p  ⇔  ridge "
        "‖y − ŷ‖² + α‖w‖² with α = σ²/τ² (sklearn Ridge alpha; statsmodels "
        "fit_regularized alpha = α/n; weight decay on the mean loss λ = α/n)",
        "translation": translation(spec, n, sigma),
        "reparametrisation": "sampled and optimised in an orthonormal basis of the centred, "
        "column-scaled design: μ = offset + s_y·Q·φ, (b, w) = m₀ + s_y·M·φ; "
        "reported on the original scale",
    }
