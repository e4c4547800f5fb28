"""The sweeps (analyses/sweeps.py): their limits, the Gaussian path against the closed-form
ridge path at every grid point, and one compiled model per structure along a sweep."""

import numpy as np
import pytest

from nll_losses.analyses import datasets, tolerances
from nll_losses.analyses import estimators as E
from nll_losses.analyses.config import CaseConfig, RunConfig
from nll_losses.analyses.find_map import find_map
from nll_losses.analyses.problems import make_problem
from nll_losses.analyses.results import Estimate
from nll_losses.analyses.sweeps import _path as new_path
from nll_losses.analyses.sweeps import _record, prior_strength, sample_size, sweep_warnings
from nll_losses.models import get_family
from nll_losses.models.family import Settings
from tests.tolerances import MCSE_Z

FULL = RunConfig(seed=3)  # the report's sweep: 21 grid points
QUICK = RunConfig(seed=3).quick()  # 7 points, short NUTS runs

NORMAL = CaseConfig("synthetic", "normal", Settings(prior_scale=0.25))
BERNOULLI = CaseConfig("logistic_synthetic", "bernoulli", Settings(prior_scale=2.0))


def _path(sweep, label, field="mean"):
    return sweep["paths"][label][field]


@pytest.fixture(scope="module")
def normal_sweep(model_cache):
    data = datasets.synthetic_normal(11)
    return data, prior_strength(data, NORMAL, FULL, model_cache)


@pytest.fixture(scope="module")
def bernoulli_sweep(model_cache):
    data = datasets.synthetic_logistic(11)
    return data, prior_strength(data, BERNOULLI, QUICK, model_cache)


def test_gaussian_sweep_equals_closed_form_ridge_at_every_grid_point(normal_sweep):
    _, sweep = normal_sweep
    assert len(sweep["grid"]) >= 20
    assert sweep["grid"][0] == pytest.approx(0.25e-3) and sweep["grid"][-1] == pytest.approx(250)
    fm, cf = sweep["paths"]["find_MAP"], sweep["paths"]["closed_form"]
    sd = _path(sweep, "exact_posterior", "sd")
    assert fm["status"] == ["ok"] * len(sweep["grid"]) == cf["status"]
    for name, values in cf["mean"].items():
        for i, ref in enumerate(values):
            tol = tolerances.optimiser(ref, sd[name][i])
            assert abs(fm["mean"][name][i] - ref) <= tol, (name, sweep["grid"][i])


def _mle(family, data, case, cache, method):
    """The MLE from the family's own flat-prior solver (not from the sweep)."""
    problem = make_problem(family, data, case.settings, "flat")
    seeds = {"find_map": 1, "nuts": 2, "ppc": 3, "reference": 4}
    ctx = E.Context(family, problem, 100, 100, 1, seeds, cache)
    est = E.reference(ctx, method, {})
    assert est.status == "ok", est.reason
    return est


@pytest.mark.parametrize(
    "which, method, sd_from",
    [("normal", "closed_form", "exact_posterior"), ("bernoulli", "newton", "nuts")],
)
def test_weak_prior_gives_the_mle_and_strong_prior_gives_zero(
    which, method, sd_from, normal_sweep, bernoulli_sweep, model_cache
):
    data, sweep = normal_sweep if which == "normal" else bernoulli_sweep
    case = NORMAL if which == "normal" else BERNOULLI
    family = get_family(case.family)
    mle = _mle(family, data, case, model_cache, method)
    fm = sweep["paths"]["find_MAP"]["mean"]
    sd = _path(sweep, sd_from, "sd")
    weights = [nm for nm in sweep["groups"]["coefficients"] if nm != "intercept"]  # flat
    for name in weights:
        # tau -> inf: the MAP is the MLE within the optimiser tier (the prior's pull at the
        # largest tau is ~ sd^2 |w| / tau^2, far below it for these data)
        tol = tolerances.optimiser(mle.mean[name], sd[name][-1])
        assert abs(fm[name][-1] - mle.mean[name]) <= tol, name
        # tau -> 0: every weight is shrunk to a small fraction of its MLE
        assert abs(fm[name][0]) <= 0.01 * abs(mle.mean[name]), name


def test_sweeps_reuse_one_compiled_model_per_structure(normal_sweep, bernoulli_sweep):
    for _, sweep in (normal_sweep, bernoulli_sweep):
        later = sweep["cost"]["built after the first point"]
        # nothing built (nor any per-call PyMC compile made) after the first point
        assert {"models", "functions", "nutpie"} <= set(later), later
        assert not any(later.values()), later
    # NUTS ran at every point of the Bernoulli sweep, on one nutpie sampler
    assert bernoulli_sweep[1]["paths"]["nuts"]["status"] == ["ok"] * len(bernoulli_sweep[1]["grid"])


def test_sample_size_sweep_changes_n_without_recompiling_and_sd_falls_as_root_n(model_cache):
    sweep = sample_size(datasets.synthetic_logistic, BERNOULLI, QUICK, model_cache)
    later = sweep["cost"]["built after the first point"]
    assert {"models", "functions", "nutpie"} <= set(later) and not any(later.values()), later
    n = np.asarray(sweep["grid"], dtype=float)
    sd = sweep["paths"]["Laplace sd at the MLE"]["sd"]
    big = n >= 100
    for name in ("x1", "x2"):
        values = np.asarray(sd[name], dtype=float)
        slope = np.polyfit(np.log(n[big]), np.log(values[big]), 1)[0]
        # Bernstein-von Mises: sd ~ n^(-1/2); random subsets scatter the slope a little
        assert -0.65 <= slope <= -0.35, (name, slope)


def test_sweep_failures_and_nuts_diagnostics_become_case_warnings():
    """A failed point and NUTS draws flagged by its diagnostics are named with their grid
    values; a point where the estimator is unavailable by design (no MLE) is not a warning."""
    grid = [0.1, 1.0, 10.0]
    ok = Estimate("nuts", "gaussian", mean={"w": 1.0})
    flagged = Estimate(
        "nuts", "gaussian", mean={"w": 1.0}, info={"diagnostics_problems": ["2 divergent"]}
    )
    failed = Estimate("find_map", "gaussian", status="failed", reason="not at a mode")
    unavailable = Estimate("find_map", "flat", status="unavailable", reason="separated")
    paths = {"posterior": new_path(3), "find_MAP": new_path(3), "MLE": new_path(3)}
    for i, est in enumerate((ok, flagged, ok)):
        _record(paths["posterior"], i, est, ["w"], 3)
    for i, est in enumerate((failed, ok, ok)):
        _record(paths["find_MAP"], i, est, ["w"], 3)
    for i, est in enumerate((unavailable, ok, ok)):
        _record(paths["MLE"], i, est, ["w"], 3)
    said = sweep_warnings({"title": "T", "symbol": "τ", "grid": grid, "paths": paths})
    assert said == [
        "T: posterior NUTS diagnostics flagged at 1 of 3 points (τ = 1): 2 divergent",
        "T: find_MAP failed at 1 of 3 points (τ = 0.1): not at a mode",
    ]
    clean = {"posterior": new_path(3)}
    for i in range(3):
        _record(clean["posterior"], i, ok, ["w"], 3)
    assert sweep_warnings({"title": "T", "grid": grid, "paths": clean}) == []


def test_categorical_mle_reexpressed_is_the_weak_prior_limit(model_cache):
    """Softmax regression: flat priors have K − 1 contrast weight vectors, the Gaussian prior
    all K.  ``reexpress`` maps the MLE to the Gaussian prior's parameters (the Σ_k W_k = 0
    representative): that is the MAP at 10³ × the case's τ within the optimiser tier; both
    points predict the same probabilities (arithmetic), and back again; the weights' sds are
    not carried over (they mean different things), the intercepts' and probabilities' are."""
    from dataclasses import replace

    from nll_losses.analyses.cases import CASES
    from nll_losses.analyses.sweeps import _expressed

    case = CASES["softmax_synthetic"].config
    family = get_family("categorical")
    data = datasets.synthetic_softmax(11)
    weak = replace(case.settings, prior_scale=1e3 * case.settings.prior_scale)
    flat = make_problem(family, data, case.settings, "flat")
    gauss = make_problem(family, data, weak, "gaussian")
    mle = _mle(family, data, case, model_cache, "newton")
    ctx = E.Context(family, gauss, 100, 100, 1, {"reference": 4}, model_cache)
    mode = E.reference(ctx, "newton", {})  # our Newton on the Gaussian-prior objective
    assert mode.status == "ok", mode.reason

    limit, same = family.reexpress(mle.mean, flat, gauss)
    weights = gauss.layout.group("weights")
    assert len(weights) == 3 * 2 and not same & set(weights)
    assert set(gauss.layout.group("intercepts")) <= same
    for name in weights:
        tol = tolerances.optimiser(mode.mean[name], mode.sd[name])
        assert abs(limit[name] - mode.mean[name]) <= tol, name
    base = flat.target_info["baseline"]
    for nm in flat.layout.group("weights"):  # the contrasts are unchanged by the gauge
        feat = nm.split(":")[1]
        assert limit[nm] - limit[f"{base}:{feat}"] == pytest.approx(mle.mean[nm], rel=1e-12)

    X = np.asarray(data.X, dtype=float)
    np.testing.assert_allclose(
        family.predict(gauss, limit, X), family.predict(flat, mle.mean, X), rtol=1e-12, atol=0
    )
    back, _ = family.reexpress(mode.mean, gauss, flat)
    np.testing.assert_allclose(
        family.predict(flat, back, X), family.predict(gauss, mode.mean, X), rtol=1e-12, atol=0
    )
    # draws map draw by draw (the sweeps' posterior means and sds are of mapped draws)
    rng = np.random.default_rng(0)
    draws = {k: v + rng.normal(size=5) for k, v in mode.mean.items()}
    mapped, _ = family.reexpress(draws, gauss, flat)
    for j in range(5):
        one, _ = family.reexpress({k: v[j] for k, v in draws.items()}, gauss, flat)
        assert {k: v[j] for k, v in mapped.items()} == one
    shown = _expressed(family, gauss, flat)(mode)
    assert set(shown.mean) >= set(flat.layout.group("weights"))
    assert set(shown.sd) == set(mode.sd) & same and not set(shown.sd) & set(weights)


def test_categorical_sweep_is_shown_in_contrasts_with_its_limits(model_cache, monkeypatch):
    """The softmax prior-strength sweep runs the Gaussian prior (all K weight vectors) and is
    shown in the flat prior's parameters (K − 1 contrasts): at the largest τ find_MAP's
    contrasts are the MLE's within the optimiser tier, at the smallest ≤ 1% of them.  (NUTS
    is left out here to keep the test short; its draws map through the same ``reexpress``.)"""
    from dataclasses import replace

    from nll_losses.analyses.cases import CASES

    case = CASES["softmax_synthetic"].config
    family = get_family("categorical")
    own = family.sweep
    monkeypatch.setattr(family, "sweep", lambda s, f: replace(own(s, f), methods=("newton",)))
    data = datasets.synthetic_softmax(11)
    flat = make_problem(family, data, case.settings, "flat")
    mle = _mle(family, data, case, model_cache, "newton")
    sweep = prior_strength(data, case, QUICK, model_cache, mle=(flat, mle.mean))
    assert sweep["groups"]["weights"] == flat.layout.group("weights")  # contrasts, K − 1
    assert sweep["mle"] == {k: mle.mean[k] for k in flat.layout.names if k in mle.mean}
    fm = sweep["paths"]["find_MAP"]
    assert fm["status"] == ["ok"] * len(sweep["grid"])
    for name in flat.layout.group("weights"):
        tol = tolerances.optimiser(mle.mean[name], mle.sd[name])
        assert abs(fm["mean"][name][-1] - mle.mean[name]) <= tol, name
        assert abs(fm["mean"][name][0]) <= 0.01 * abs(mle.mean[name]), name
    assert "shown in the flat prior's parameters" in sweep["caption"]


def _normal_find_map(cache):
    """A Gaussian-prior normal problem's context and its find_MAP estimate."""
    family = get_family("normal")
    data = datasets.synthetic_normal(11)
    problem = make_problem(family, data, Settings(prior_scale=0.25), "gaussian")
    seeds = {"find_map": 1, "nuts": 2, "ppc": 3, "reference": 4}
    ctx = E.Context(family, problem, 100, 100, 1, seeds, cache)
    return ctx, find_map(ctx)[0]


def test_laplace_importance_sampling_matches_the_exact_posterior(model_cache):
    """The sweep's second method (analyses.sweep_posterior.laplace_importance) on the normal
    family, whose exact posterior (quadrature over σ; σ log-transformed, so the Jacobian counts) is
    known: the weighted means within MCSE_Z of their MCSE, the sds within MCSE_Z of theirs
    (delta method on the weighted variance), and the checks it reports are its own."""
    from nll_losses.analyses import reweight as R
    from nll_losses.analyses.sweep_posterior import LAPLACE_METHOD, laplace_weighted

    ctx, fm = _normal_find_map(model_cache)
    assert fm.status == "ok" and fm.unconstrained is not None
    est, draws, weights = laplace_weighted(ctx, fm)
    assert weights is not None, est.reason
    exact = E.reference(ctx, "exact_posterior", {})
    assert exact.status == "ok", exact.reason
    info = est.info
    assert info["posterior method"] == LAPLACE_METHOD and info["independent draws"]
    assert info["khat"] <= info["khat threshold"] and info["ess"] >= R.MIN_ESS
    assert len(weights) == info["draws"] == R.LAPLACE_DRAWS
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-12)
    for nm, m in exact.mean.items():
        assert abs(est.mean[nm] - m) <= MCSE_Z * est.mcse_mean[nm], nm
        x = draws[nm]
        var = np.sum(weights * (x - est.mean[nm]) ** 2)
        mcse_sd = np.sqrt(np.sum(weights**2 * ((x - est.mean[nm]) ** 2 - var) ** 2)) / (
            2 * np.sqrt(var)
        )
        assert abs(est.sd[nm] - exact.sd[nm]) <= MCSE_Z * mcse_sd, nm


def test_laplace_importance_is_refused_where_the_posterior_is_not_near_gaussian(model_cache):
    """A proposal far too narrow for the posterior (the Laplace covariance shrunk 10⁴ times):
    k̂ over its threshold, so the point is refused with the reason, and the sweep runs NUTS."""
    from dataclasses import replace

    from nll_losses.analyses.sweep_posterior import laplace_importance, laplace_weighted

    ctx, fm = _normal_find_map(model_cache)
    mode, cov = fm.unconstrained
    narrow = replace(fm, unconstrained=(mode, cov * 1e-4))
    est, draws, weights = laplace_weighted(ctx, narrow)
    assert weights is None and draws is None
    assert est.status == "unavailable" and "k̂" in est.reason
    rejected = []
    assert laplace_importance(ctx, narrow, rejected) is None
    assert rejected == [f"importance sampling from the Laplace approximation: {est.reason}"]
