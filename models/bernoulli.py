"""Bernoulli likelihood with a logit link: binary cross-entropy is the Bernoulli NLL.

Model::

    y_i ~ Bernoulli(p_i),   logit p_i = intercept + x_i . w                 (i = 1..n)
    w_j ~ Flat() (MLE)  or  Normal(0, tau^2) (MAP = L2, C = tau^2)  or  Jeffreys (Firth)
    intercept ~ Flat() (or Normal(0, tau0^2) with --intercept-prior-scale; Jeffreys covers it)

Negative log-likelihood (the loss ledger checks these identities numerically)::

    -log p(y | w, b) = -sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)]
                     = n * log_loss(y, p)                         (sklearn.metrics.log_loss)
                     = sum_i softplus(z_i) - y_i z_i,  z = logits  (BCE from logits, stable)

The Jeffreys prior p(beta) ∝ |A'W(beta)A|^{1/2} (A = [1, X], W = diag(p(1-p))) adds
-1/2 log det(A'WA) to the objective; its mode is Firth's bias-reduced estimate, finite even
when the classes are separated (Firth 1993; Heinze & Schemper 2002).

Reparametrisation, as in the Gaussian family: the model samples/optimises ``phi`` in an
orthonormal basis of the centred, column-scaled design, ``z = z0 + c Q phi`` with
``c = 1/sqrt(ybar (1 - ybar))`` (so that the information about phi is about the identity near
the intercept-only fit), and reports ``beta = m0 + c M phi`` (``models.linalg.precondition``).
The Jeffreys term is computed in the same basis: log det(Q'WQ) differs from log det(A'WA) by a
constant.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field

import numpy as np

from models import linalg as la
from models import logistic as lg
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
    Unavailable,
    basis_laplace,
    library_warnings,
    match_label,
    parse_labels,
    same_parametrisation,
    sklearn_logistic,
    tau_sweep,
)
from models.pairs import Pair
from models.priors import Flat, Gaussian, Jeffreys

NAME = "bernoulli"
NLL_PMF = "−log p(y|θ) (Bernoulli pmf)"
NLL_LOGLOSS = "n·log_loss (sklearn)"
NLL_BCE = "BCE from logits (softplus)"
# sklearn's log_loss clips p to [eps, 1 - eps]: beyond |z| = log(1/eps) ~ 36 it is not the NLL
LOGLOSS_MAX_LOGIT = 30.0
IMPORTANCE_DRAWS = 100_000
IMPORTANCE_MIN_ESS = 1000
IMPORTANCE_FLOPS = 4e9  # budget for the importance-sampling reference (draws x cost per draw)


@dataclass(frozen=True)
class BernoulliOptions:
    """Which label is the event (y = 1); None: "1" for 0/1 data, else the later label in
    sorted order (scikit-learn's ``classes_[1]``)."""

    positive: str | None = None

    def describe(self) -> dict[str, str]:
        return {"positive label": self.positive or "default (1, or the later label sorted)"}


@dataclass(frozen=True)
class BernoulliSpec:
    intercept: bool = True
    coef_prior: Flat | Gaussian | Jeffreys = field(default_factory=Flat)
    intercept_prior: Flat | Gaussian = field(default_factory=Flat)

    @property
    def jeffreys(self) -> bool:
        return isinstance(self.coef_prior, Jeffreys)

    @property
    def all_flat(self) -> bool:
        return isinstance(self.coef_prior, Flat) and not isinstance(self.intercept_prior, Gaussian)

    def prior_precision(self, p: int) -> np.ndarray:
        """1/tau_j^2 per coefficient (0 = flat), intercept first when present."""
        w = 1.0 / self.coef_prior.scale**2 if isinstance(self.coef_prior, Gaussian) else 0.0
        prec = np.full(p, w)
        if self.intercept:
            b = self.intercept_prior
            prec[0] = 1.0 / b.scale**2 if isinstance(b, Gaussian) and not self.jeffreys else 0.0
        return prec


def coef_names(features, spec: BernoulliSpec) -> list[str]:
    return (["intercept"] if spec.intercept else []) + list(features)


def _design(problem: Problem) -> np.ndarray:
    return la.design(problem.X, problem.spec.intercept)


def _params(beta, problem: Problem) -> dict[str, float]:
    names = coef_names(problem.features, problem.spec)
    return dict(zip(names, map(float, beta), strict=True))


def _vector(params: dict, problem: Problem) -> np.ndarray:
    return np.array([params[nm] for nm in coef_names(problem.features, problem.spec)])


# ----------------------------------------------------------------------------- separation
_SEPARATION: dict[str, lg.Separation] = {}


def separation(problem: Problem) -> lg.Separation:
    """Konis's LP on the problem's design (memoised on the data's bytes)."""
    A = _design(problem)
    key = hashlib.sha1(A.tobytes() + np.asarray(problem.y, float).tobytes()).hexdigest()
    if key not in _SEPARATION:
        _SEPARATION[key] = lg.detect_separation(A, problem.y)
    return _SEPARATION[key]


def separation_reason(problem: Problem) -> str:
    sep = separation(problem)
    names = coef_names(problem.features, problem.spec)
    running = [
        f"{nm} → {'+' if b > 0 else '−'}∞"
        for nm, b in zip(names, sep.direction, strict=True)
        if b != 0
    ]
    return (
        f"the MLE does not exist: the data are {sep.kind}ly separated (Konis LP); the "
        f"likelihood keeps increasing along {', '.join(running)}"
    )


# ----------------------------------------------------------------------------- references
def newton_fit(problem: Problem, inputs: dict) -> dict:
    """Our Newton/IRLS solver (``models.logistic.newton``): MLE, L2 MAP or Firth."""
    spec = problem.spec
    A = _design(problem)
    prec = spec.prior_precision(A.shape[1])
    r = lg.newton(A, problem.y, prec, firth=spec.jeffreys)
    if not r.converged:
        raise RuntimeError(
            f"Newton did not converge: step still {r.scaled_step:.3g} sds after "
            f"{r.iterations} iterations"
        )
    sd_kind = (
        "sqrt(diag I(β̂)⁻¹), the unpenalised Fisher information (as R's logistf)"
        if spec.jeffreys
        else "sqrt(diag H⁻¹), H the Hessian of the objective"
    )
    if spec.jeffreys:
        z = A @ r.beta
        w = lg._weights(z)
        cov = np.linalg.inv((A * w[:, None]).T @ A)
    else:
        cov = r.cov
    return {
        "mean": _params(r.beta, problem),
        "sd": _params(np.sqrt(np.diag(cov)), problem),
        "info": {
            "solver": "Newton-Raphson (IRLS) with step halving"
            + (", Firth's modified score" if spec.jeffreys else ""),
            "criterion": f"Newton step still to go ≤ {lg.NEWTON_STEP_TOL:g} sds",
            "iterations": r.iterations,
            "scaled_step": r.scaled_step,
            "objective": r.objective,
            "sd": sd_kind,
        },
    }


def importance_fit(problem: Problem, inputs: dict, seed: int) -> dict:
    """Posterior mean and sd by importance sampling (``models.logistic.importance_posterior``)."""
    spec = problem.spec
    A = _design(problem)
    n, p = A.shape
    cost = n * p * (p + 1 if spec.jeffreys else 1)
    draws = int(np.clip(IMPORTANCE_FLOPS / cost, 4000, IMPORTANCE_DRAWS))
    r = lg.importance_posterior(
        A,
        problem.y,
        spec.prior_precision(p),
        spec.jeffreys,
        np.random.default_rng(seed),
        draws=draws,
    )
    if r["ess"] < IMPORTANCE_MIN_ESS:
        # the delta-method MCSE is itself unreliable when a few weights dominate
        raise Unavailable(
            f"importance sampling is unreliable here: effective sample size {r['ess']:.0f} "
            f"of {r['draws']} draws (< {IMPORTANCE_MIN_ESS})"
        )
    return {
        "mean": _params(r["mean"], problem),
        "sd": _params(r["sd"], problem),
        "mcse_mean": _params(r["mcse_mean"], problem),
        "info": {
            "method": "self-normalised importance sampling, multivariate t(5) proposal at "
            "the Newton mode (covariance 1.3² × inverse Hessian)",
            "draws": r["draws"],
            "effective sample size": r["ess"],
            "largest normalised weight": r["max_weight"],
            "seed": seed,
            "mcse_sd": _params(r["mcse_sd"], problem),
        },
    }


def statsmodels_fit(problem: Problem, inputs: dict) -> dict:
    """statsmodels ``Logit(y, [1, X]).fit(method="newton")``: the MLE and its standard errors
    (inverse observed information)."""
    import statsmodels.api as sm

    A = _design(problem)
    with library_warnings() as said:
        res = sm.Logit(np.asarray(problem.y, float), A).fit(
            method="newton", tol=1e-14, maxiter=200, disp=0
        )
    if not res.mle_retvals.get("converged", False):
        raise RuntimeError("statsmodels Logit did not converge")
    return {
        "mean": _params(res.params, problem),
        "sd": _params(res.bse, problem),
        "info": {"call": "sm.Logit(y, [1, X]).fit(method='newton', tol=1e-14)"}
        | ({"warning": "statsmodels says: " + "; ".join(said)} if said else {}),
    }


def sklearn_fit(problem: Problem, inputs: dict) -> dict:
    """scikit-learn ``LogisticRegression``: it minimises C·sum log-loss + ½‖w‖² (intercept
    unpenalised), i.e. NLL + ‖w‖²/(2C): C = τ² is the N(0, τ²) prior, C = inf the MLE.
    Solver newton-cholesky with tol 1e-12 on the gradient of the mean loss (its rounding floor
    is ~1e-16), so it is not the weak side of the optimiser tier."""
    spec = problem.spec
    C = spec.coef_prior.scale**2 if isinstance(spec.coef_prior, Gaussian) else np.inf
    B, iterations, call = sklearn_logistic(
        problem.X, np.asarray(problem.y, float), C, spec.intercept
    )
    return {"mean": _params(B[:, 0], problem), "info": {"call": call, "iterations": iterations}}


def firth_library_fit(problem: Problem, inputs: dict) -> dict:
    """Firth's estimate from the PyPI package ``firthmodels`` (independent implementation)."""
    try:
        from firthmodels import FirthLogisticRegression
    except ImportError:
        raise Unavailable("the package firthmodels is not installed") from None
    spec = problem.spec
    # It stops when max|U*| < gtol and max|step| < xtol and returns the point before that last
    # step, so its accuracy is about xtol.  Tight settings can end in "step-halving failed"
    # (the objective's rounding floor; measured on breast_cancer: 1e-9 and 1e-8 fail, 1e-7
    # converges within 1e-8 relative of our Newton), so the tightest that converges is used.
    for tol in (1e-9, 1e-8, 1e-7, 1e-6):
        est = FirthLogisticRegression(
            fit_intercept=spec.intercept, gtol=tol, xtol=tol, max_iter=500, backend="numpy"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(np.asarray(problem.X, float), np.asarray(problem.y, float))
        if est.converged_:
            break
    else:
        raise RuntimeError("firthmodels did not converge (gtol = xtol = 1e-6)")
    beta = ([float(est.intercept_)] if spec.intercept else []) + [
        float(c) for c in np.ravel(est.coef_)
    ]
    return {
        "mean": _params(beta, problem),
        "info": {"call": f"firthmodels.FirthLogisticRegression(gtol=xtol={tol:g})"},
    }


# ----------------------------------------------------------------------------- PyMC model
def model_data(problem: Problem) -> tuple[dict, la.Preconditioner]:
    spec = problem.spec
    A = _design(problem)
    n, p = A.shape
    pre = la.precondition(A, spec.intercept)
    y = np.asarray(problem.y, float)
    ybar = float(np.clip(y.mean(), 1.0 / (n + 1), n / (n + 1)))
    c = 1.0 / np.sqrt(ybar * (1 - ybar))
    m0 = np.zeros(p)
    if spec.intercept:
        m0[0] = np.log(ybar / (1 - ybar))
    data = {
        "basis_matrix": c * pre.Q,
        "basis_to_coef": c * pre.M,
        "coef_offset": m0,
        "logit_offset": A @ m0,
        "prior_precision": spec.prior_precision(p),
        "y_obs": y.astype(np.int64),
    }
    return data, pre


def build_model(problem: Problem) -> Built:
    import pymc as pm
    import pytensor.tensor as pt

    spec = problem.spec
    data, pre = model_data(problem)
    n, p = pre.Q.shape
    coords = {"feature": list(problem.features), "basis": list(range(p)), "obs": list(range(n))}
    with pm.Model(coords=coords) as model:
        basis = pm.Data("basis_matrix", data["basis_matrix"], dims=("obs", "basis"))
        to_coef = pm.Data("basis_to_coef", data["basis_to_coef"])
        m0 = pm.Data("coef_offset", data["coef_offset"])
        z0 = pm.Data("logit_offset", data["logit_offset"], dims="obs")
        prec = pm.Data("prior_precision", data["prior_precision"])
        y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
        phi = pm.Flat("phi", dims="basis")
        beta = m0 + pt.dot(to_coef, phi)
        if spec.intercept:
            pm.Deterministic("intercept", beta[0])
            pm.Deterministic("w", beta[1:], dims="feature")
        else:
            pm.Deterministic("w", beta, dims="feature")
        pm.Potential("coef_prior", -0.5 * pt.sum(prec * beta**2))
        z = z0 + pt.dot(basis, phi)
        if spec.jeffreys:
            # 1/2 log det(B' W B) = sum log diag chol(B' W B); W = p (1 - p)
            weights = pm.math.sigmoid(z) * pm.math.sigmoid(-z)
            info = pt.dot(basis.T * weights, basis)
            chol = pt.linalg.cholesky(info)
            pm.Potential("jeffreys", pt.sum(pt.log(pt.diag(chol))))
        pm.Bernoulli("y", logit_p=z, observed=y_obs, dims="obs")
    return Built(
        model=model,
        key=(NAME, p - int(spec.intercept), spec.intercept, spec.jeffreys),  # not n
        data=data,
        observed="y",
        extra={"basis_to_coef": data["basis_to_coef"]},
    )


# ----------------------------------------------------------------------------- agreement
def _gap(k: str, other: str, stat: str, what: str) -> Pair:
    """NUTS vs ``other`` on ``stat`` with the gap the importance-sampled posterior predicts."""

    def expected(e):
        ref = getattr(e["importance" + k], stat)
        return {nm: v - getattr(e[other + k], stat)[nm] for nm, v in ref.items()}

    return Pair(
        "nuts" + k,
        other + k,
        stat,
        "monte carlo",
        expected=expected,
        note=f"{what} (expected gap from importance sampling)",
    )


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
        _gap(k, "find_map", "mean", "posterior mean − mode"),
        _gap(k, "laplace", "sd", "posterior sd − Laplace sd"),
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


# ----------------------------------------------------------------------------- the family
class BernoulliFamily:
    """Logistic regression through the family contract (``models.family.Family``)."""

    name = NAME
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
    outcome = "binary"
    Options = BernoulliOptions

    # --- options, CLI and data
    def add_cli_arguments(self, group) -> list[str]:
        group.add_argument(
            "--positive",
            default=None,
            metavar="LABEL",
            help="target label counted as 1 (default: 1, or the later label in sorted order)",
        )
        return ["positive"]

    def options_from_args(self, args) -> BernoulliOptions:
        return BernoulliOptions(positive=args.positive)

    def encode_target(self, cells, column: str, options) -> tuple[np.ndarray, dict]:
        options = options or BernoulliOptions()
        labels = parse_labels(cells, column)
        found = sorted(set(labels))
        numeric = {}
        for lab in found:
            try:
                numeric[lab] = float(lab)
            except ValueError:
                numeric = None
                break
        if len(found) != 2:
            shown = ", ".join(repr(v) for v in found[:6]) + (" …" if len(found) > 6 else "")
            if numeric and len(found) > max(2, len(labels) // 2):  # categorical's rule
                hint = "it holds numbers, not classes: use --family normal"
            elif len(found) > 2:
                hint = "use --family categorical for three or more classes"
            else:
                hint = "nothing to fit with one label"
            raise ValueError(
                f"target column {column!r} must hold exactly two labels (0/1 or two names); "
                f"found {len(found)}: {shown}; {hint}"
            )
        if numeric and sorted(numeric.values()) == [0.0, 1.0]:
            default = next(lab for lab, v in numeric.items() if v == 1.0)
        else:
            default = found[1]
        positive = match_label(options.positive, found) if options.positive is not None else default
        if positive not in found:
            raise ValueError(
                f"--positive {positive!r} is not a label of target column {column!r} "
                f"(labels: {found[0]!r}, {found[1]!r})"
            )
        negative = next(lab for lab in found if lab != positive)
        y = np.array([1.0 if lab == positive else 0.0 for lab in labels])
        return y, {
            "positive (y = 1)": positive,
            "negative (y = 0)": negative,
            "count y = 1": int(y.sum()),
            "count y = 0": int(len(y) - y.sum()),
        }

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

    def laplace_sd(self, fit, built: Built, point, problem: Problem) -> dict[str, float]:
        """Cov(beta) = (c M) Cov(phi) (c M)' from the exact inverse Hessian at the mode."""
        sd, _, _ = basis_laplace(fit, built.extra["basis_to_coef"])
        return _params(sd, problem)

    def map_starts(self, problem: Problem) -> list[Start]:
        return [Start("default point")]

    def predict(self, problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
        """P(y = 1 | x) at ``params`` for the rows of ``X``."""
        from scipy.special import expit

        beta = _vector(params, problem)
        return expit(la.design(X, problem.spec.intercept) @ beta)

    def smooth(self, problem: Problem) -> bool:
        return True

    def sweep(self, settings, features):
        return tau_sweep(settings, ("newton", "sklearn", "nuts"), "w") if features else None

    def reexpress(self, values: dict, source: Problem, target: Problem):
        """Every prior has the same parameters (``same_parametrisation``)."""
        return same_parametrisation(values, source, target)

    def objective(self, problem: Problem, params: dict, method: str) -> None:
        """Not reported by this family (its estimates are compared parameter by parameter)."""
        return None

    # --- checks and text
    def conditioning(self, problem: Problem) -> float:
        return la.condition_number(_design(problem))

    def ledger(self, problem: Problem, points: dict, rng) -> list[LedgerRow]:
        """-log p(y | beta) from the Bernoulli pmf, as n * sklearn's log_loss (only where
        |z| <= 30: it clips p to [eps, 1 - eps]) and as the BCE from logits, at each point
        estimate, at two arbitrary points and at a point with logits up to |z| = 50."""
        from scipy.special import expit
        from sklearn.metrics import log_loss

        names = coef_names(problem.features, problem.spec)
        A = _design(problem)
        y = problem.y
        usable = [(lb, pt_) for lb, pt_ in points.items() if all(nm in pt_ for nm in names)]
        base = _vector(usable[0][1], problem) if usable else np.zeros(len(names))
        vecs = [(lb, _vector(pt_, problem)) for lb, pt_ in usable]
        for k in range(2):
            vecs.append((f"arbitrary #{k + 1}", base + rng.normal(size=base.size)))
        direction = rng.normal(size=base.size)
        vecs.append(
            ("extreme logits (max |z| = 50)", direction * 50 / np.max(np.abs(A @ direction)))
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
        from models import translation

        return translation.bernoulli_rows(problem)

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
            "translation": translation(tau, problem.n),
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


def translation(tau: float | None, n: int) -> list[dict]:
    rows = [
        {"prior": "w ~ Flat()", "penalty": "none: minimise Σ BCE (LogisticRegression(C=np.inf))"}
    ]
    if tau:
        rows.append(
            {
                "prior": f"w ~ Normal(0, {tau:g}²)",
                "penalty": f"+ ‖w‖²/(2τ²): LogisticRegression(C = τ² = {tau**2:.6g}); "
                f"weight decay on the mean BCE λ = 1/(nτ²) = {1 / (n * tau**2):.6g}",
            }
        )
    rows.append({"prior": "Jeffreys", "penalty": "− ½ log det(X'WX): Firth's bias reduction"})
    return rows


FAMILY = BernoulliFamily()
