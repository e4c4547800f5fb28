"""find_MAP (through our reparametrised models) against 60-digit references on badly
conditioned designs, under flat and Gaussian priors; Laplace against the exact Gaussian."""

import numpy as np
import pytest
from reference import design_matrices, mp_lstsq, mp_ridge_rss
from tolerances import FIND_MAP_RTOL

from nll_losses.analyses import estimators as E
from nll_losses.analyses.config import child_seed
from nll_losses.analyses.find_map import find_map
from nll_losses.analyses.map_functions import jittered_start
from nll_losses.models.families.normal import FAMILY
from nll_losses.models.families.normal.spec import NormalSpec
from nll_losses.models.family import Problem, Settings
from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics import sigma_quadrature as sq
from nll_losses.models.priors import Flat, Gaussian, HalfFlat, Known

DESIGNS = design_matrices()
# One compile per design shape; keep the list short (each costs 6-60 s of Numba).
CHOSEN = ["poly10_filip_like", "longley", "near_collinear", "line36_norris_like"]

pytestmark = pytest.mark.slow


def _ctx(name, spec, prior, cache):
    X, y, _ = DESIGNS[name]
    feats = tuple(f"x{j}" for j in range(X.shape[1]))
    seeds = {k: child_seed(0, name, prior, k) for k in ("find_map", "nuts", "ppc")}
    layout = FAMILY.layout(feats, {}, spec)
    problem = Problem(X, y, feats, {}, prior, spec, layout)
    return E.Context(FAMILY, problem, 0, 0, 0, seeds, cache), list(feats)


def _scale(values, sds):
    return np.maximum(np.abs(values), sds)


@pytest.mark.parametrize("name", CHOSEN)
@pytest.mark.parametrize("prior", ["flat", "gaussian"])
def test_find_map_matches_reference(name, prior, model_cache):
    X, y, intercept = DESIGNS[name]
    A = la.design(X, intercept)
    n, p = A.shape
    beta_ref, cov, rss = mp_lstsq(A, y)
    sigma_mle = np.sqrt(rss / n)
    tau = 0.05 * np.max(np.abs(beta_ref[1:]))
    spec = NormalSpec(
        intercept=intercept,
        sigma=HalfFlat(),
        coef_prior=Gaussian(tau) if prior == "gaussian" else Flat(),
    )
    if prior == "gaussian":
        # reference: the exact joint mode (ridge at alpha = sigma*^2/tau^2, sigma*^2 = RSS/n).
        # The fixed-point map sigma -> sqrt(RSS(ridge(sigma))/n) is increasing, so iterating
        # from sigma_MLE climbs to the smallest fixed point and from sd(y) (above every fixed
        # point) descends to the largest; with two modes (Norris shape) these are the two, and
        # the joint mode is the one with the smaller objective.
        assert intercept
        rss = mp_ridge_rss(X, y)  # RSS of the ridge fit at penalty (sigma/tau)^2, 60 digits
        candidates = []
        for sigma in (sigma_mle, float(np.sqrt(np.mean((y - y.mean()) ** 2)))):
            for _ in range(20000):
                sigma_new = np.sqrt(rss((sigma / tau) ** 2) / n)
                if abs(sigma_new - sigma) <= 1e-15 * sigma:
                    break
                sigma = sigma_new
            L = np.r_[0.0, np.full(p - 1, sigma_new / tau)]
            b, c, rss_b = mp_lstsq(A, y, L)
            objective = n * np.log(sigma_new) + rss_b / (2 * sigma_new**2)
            objective += np.sum((b[1:] / tau) ** 2) / 2
            candidates.append((objective, b, c, sigma_new))
        _, beta_ref, cov, sigma_ref = min(candidates, key=lambda c: c[0])
    else:
        sigma_ref = sigma_mle
    ctx, feats = _ctx(name, spec, prior, model_cache)
    fm, lap = find_map(ctx)
    assert fm.status == "ok", fm.reason
    got = np.array([fm.mean["intercept"]] + [fm.mean[f] for f in feats])
    sd = sigma_ref * np.sqrt(np.diag(cov))
    err = np.abs(got - beta_ref) / _scale(beta_ref, sd)
    assert np.all(err <= FIND_MAP_RTOL), (name, prior, err)
    assert abs(fm.mean["sigma"] - sigma_ref) <= FIND_MAP_RTOL * sigma_ref
    if prior == "flat":  # Laplace at the MLE: sigma_MLE^2 inv(A^T A)
        lap_sd = np.array([lap.sd["intercept"]] + [lap.sd[f] for f in feats])
        assert np.all(np.abs(lap_sd - sd) <= FIND_MAP_RTOL * sd)


def test_find_map_digits_relative_to_tiny_coefficients(model_cache):
    """NIST Wampler5 shape: |beta| ~ 1e-7 sd.  Six significant digits of beta itself need the
    mode to 1e-13 sds: beyond L-BFGS-B's objective-based stop, reached by the Newton refinement."""
    name = "poly5_wampler5_like"
    X, y, _ = DESIGNS[name]
    beta_ref, _, _ = mp_lstsq(la.design(X, True), y)
    ctx, feats = _ctx(name, NormalSpec(), "flat", model_cache)
    fm, _ = find_map(ctx)
    assert fm.status == "ok", fm.reason
    got = np.array([fm.mean["intercept"]] + [fm.mean[f] for f in feats])
    assert np.all(np.abs(got - beta_ref) <= FIND_MAP_RTOL * np.abs(beta_ref))


def test_exact_fit_has_no_sigma(model_cache):
    """NIST Wampler1: y = 1 + x + ... + x^5 exactly; the MLE of sigma is 0 (does not exist).
    Every estimator ends with a status (no exception), find_MAP still gives the coefficients
    (at a fixed sigma, where their flat-prior mode does not depend on it), and the estimators
    that need sigma say "unavailable" with the reason."""
    from nll_losses.analyses.config import CaseConfig, RunConfig
    from nll_losses.analyses.datasets import Dataset
    from nll_losses.analyses.pipeline import run_case

    x = np.arange(21.0)
    X = np.column_stack([x**k for k in range(1, 6)])
    data = Dataset("wampler1", X, np.polyval(np.ones(6), x), tuple(f"x{k}" for k in range(5)), "y")
    cfg = RunConfig(estimators=("closed_form", "find_map", "laplace", "sklearn", "statsmodels"))
    res = run_case(data, CaseConfig("wampler1", "normal"), cfg, model_cache)
    assert "sigma" not in res.estimates["closed_form_flat"].mean
    assert any("fitted exactly" in w for w in res.warnings)
    fm = res.estimates["find_map_flat"]
    assert fm.status == "ok", fm.reason
    for k in ["intercept"] + list(data.feature_names):
        assert abs(fm.mean[k] - 1.0) <= FIND_MAP_RTOL
    for key in ("laplace_flat", "find_map_gaussian", "sklearn_gaussian", "statsmodels_gaussian"):
        est = res.estimates[key]
        assert est.status == "unavailable" and est.reason, key
    assert not any(e.status == "failed" for e in res.estimates.values())
    assert all(r.ok for r in res.agreement), [r for r in res.agreement if not r.ok]


def test_laplace_exact_for_known_sigma(model_cache):
    """Known sigma and Gaussian prior: the posterior is Gaussian, so Laplace is exact."""
    X, y, _ = DESIGNS["near_collinear"]
    A = la.design(X, True)
    spec = NormalSpec(sigma=Known(1.0), coef_prior=Gaussian(0.2))
    ctx, feats = _ctx("near_collinear", spec, "gaussian", model_cache)
    fm, lap = find_map(ctx)
    assert lap.status == "ok", lap.reason
    tau = np.array([np.inf, 0.2, 0.2, 0.2])
    post = sq.gaussian_posterior_by_quadrature(A, y, tau, sigma_known=1.0)
    got = np.array([lap.sd["intercept"]] + [lap.sd[f] for f in feats])
    assert np.all(np.abs(got - post["beta_sd"]) <= FIND_MAP_RTOL * post["beta_sd"])


def test_find_map_fails_loudly(model_cache, monkeypatch):
    """A point that does not pass the scaled-gradient check is reported as failed, never
    returned as an answer (here the check is made impossible: a step of 0 sds)."""
    from nll_losses.analyses import tolerances

    monkeypatch.setattr(tolerances, "FIND_MAP_STEP_TOL", 0.0)
    ctx, _ = _ctx("longley", NormalSpec(), "flat", model_cache)
    fm, lap = find_map(ctx)
    assert fm.status == "failed" and lap.status == "failed"
    assert fm.mean == {} and "not at a mode" in fm.reason
    assert fm.info["convergence"]["scaled_step"] > 0


def test_estimator_exception_becomes_failed(model_cache, monkeypatch):
    """An exception inside an estimator is a "failed" estimate with its reason, not a crash."""

    def broken(problem):
        raise RuntimeError("simulated compile error")

    monkeypatch.setattr(FAMILY, "build_model", broken)
    ctx, _ = _ctx("longley", NormalSpec(), "flat", model_cache)
    fm, lap = find_map(ctx)
    est, idata = E.nuts(ctx)
    for e in (fm, lap, est):
        assert e.status == "failed" and "simulated compile error" in e.reason
    assert idata is None


def test_find_map_reports_its_criterion(model_cache):
    """info says which criterion decided, and the optimiser's message is kept, not obeyed."""
    ctx, _ = _ctx("longley", NormalSpec(), "flat", model_cache)
    fm, _ = find_map(ctx)
    conv = fm.info["convergence"]
    assert "scaled gradient" in conv["decided by"]
    assert conv["scaled_step"] <= 1e-8 and "optimizer message" in fm.info


def test_nuts_matches_exact_posterior_on_filip_like_design(model_cache):
    """NUTS in the whitened parametrisation on a degree-10 polynomial design (scaled condition
    number 2e9): posterior means and sds within the Monte Carlo tier of the exact posterior."""
    from nll_losses.analyses.config import CaseConfig, RunConfig
    from nll_losses.analyses.datasets import Dataset
    from nll_losses.analyses.pipeline import run_case

    X, y, _ = DESIGNS["poly10_filip_like"]
    data = Dataset("filip_like", X, y, tuple(f"x{k}" for k in range(1, 11)), "y")
    cfg = RunConfig(seed=1, estimators=("closed_form", "exact_posterior", "nuts"))  # both priors
    res = run_case(
        data, CaseConfig("filip_like", "normal", Settings(prior_scale=10.0)), cfg, model_cache
    )
    rows = [r for r in res.agreement if r.tier == "monte carlo"]
    assert len(rows) >= 4 * 12  # mean and sd of 12 parameters under both priors
    bad = [(r.left, r.parameter, r.note, r.abs_diff, r.tolerance) for r in rows if not r.ok]
    assert not bad
    assert res.estimates["nuts_flat"].info["divergences"] == 0


def test_compiled_route_starts_where_pm_find_map_starts(model_cache, monkeypatch):
    """The relu network's multi-start search keeps the best of many local modes, so which
    points it starts from matters: our find_MAP must start where
    ``pm.find_MAP(jitter=True, random_seed=seed)`` starts.  pm.find_MAP's first point is
    caught where it compiles its loss (stopped there: nothing is compiled or optimised)."""
    import pymc as pm
    import pymc.tuning.starting as starting

    from nll_losses.analyses.datasets import Dataset
    from nll_losses.analyses.problems import make_problem
    from nll_losses.models.families.categorical import FAMILY
    from nll_losses.models.families.categorical.spec import CategoricalOptions, class_info
    from nll_losses.models.family import Start

    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(float) + (X[:, 1] > 0.5)
    info = class_info(["a", "b", "c"], y, "a")
    data = Dataset("t", X, y, ("u", "v"), "y", target_info=info)
    settings = Settings(prior_scale=1.0, options=CategoricalOptions(hidden=2))
    problem = make_problem(FAMILY, data, settings, "gaussian")
    assert not FAMILY.smooth(problem)
    model = model_cache.model(FAMILY, problem)[0].model
    caught = []

    class Caught(Exception):
        pass

    def catch(*, initial_point_dict, **kwargs):
        caught.append(initial_point_dict)
        raise Caught

    monkeypatch.setattr(starting, "scipy_optimize_funcs_from_loss", catch)
    starts = set()
    for seed in (11, 12345, 2**31 - 1):
        ours = jittered_start(model, Start("s"), seed, lambda x: True, model_cache)
        with model, pytest.raises(Caught):
            pm.find_MAP(jitter=True, random_seed=seed, method="L-BFGS-B", progressbar=False)
        theirs = np.concatenate([np.ravel(caught[-1][v.name]) for v in model.value_vars])
        assert np.array_equal(ours, theirs), (seed, ours[:4], theirs[:4])
        starts.add(ours.tobytes())
    assert len(starts) == 3  # jittered: every seed its own start


def test_find_map_equals_pm_find_map(model_cache):
    """Our find_MAP (functions compiled once per structure) and PyMC's own ``pm.find_MAP``
    (its functions compiled per call), each from its own jittered start, find the same mode."""
    import pymc as pm

    from nll_losses.analyses import datasets, tolerances
    from nll_losses.analyses.problems import make_problem
    from nll_losses.models import get_family

    family = get_family("bernoulli")
    data = datasets.synthetic_logistic(11)
    problem = make_problem(family, data, Settings(prior_scale=2.0), "gaussian")
    ctx = E.Context(family, problem, 100, 100, 1, {"find_map": 7}, model_cache)
    ours, lap = find_map(ctx)
    assert ours.status == "ok"
    model = model_cache.model(family, problem)[0].model
    with model:
        theirs = pm.find_MAP(
            method=tolerances.FIND_MAP_METHOD,
            options=dict(tolerances.FIND_MAP_OPTIONS),
            random_seed=8,
            jitter=True,
            progressbar=False,
            return_inferencedata=True,
        )
    reference = problem.layout.reduce(theirs.posterior.dataset.squeeze(("chain", "draw")))
    assert set(reference) == set(ours.mean)
    for name, value in ours.mean.items():
        ref = reference[name]
        assert abs(value - ref) <= tolerances.optimiser(ref, lap.sd[name]), name
