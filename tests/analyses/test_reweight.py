"""PSIS reweighting of posterior draws to another prior strength (analyses/reweight.py), on
a conjugate Gaussian problem whose posterior at every τ is known in closed form: independent
exact draws at the anchor stand in for NUTS, so the test is pure NumPy (milliseconds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from nll_losses.analyses import reweight as R
from nll_losses.models.family import Param, ParamLayout, gaussian_log_prior
from tests.tolerances import MCSE_Z

# y-bar_j ~ N(w_j, s_j²) for three weights plus an unpenalised intercept-like parameter "b"
# (flat prior: its posterior does not depend on τ); w_j ~ N(0, τ²)
XBAR = np.array([1.5, -2.0, 0.4])
S2 = np.array([0.3, 1.0, 0.05])
B_MEAN, B_SD = 0.7, 0.2
LAYOUT = ParamLayout(
    (Param("b", "intercept"),)
    + tuple(Param(f"x{j}", "w", (("feature", f"x{j}"),)) for j in range(3))
)
LOG_PRIOR = gaussian_log_prior("w")
CHAINS, DRAWS = 2, 1000


def exact(tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and sd of w at τ (conjugate normal)."""
    prec = 1 / S2 + 1 / tau**2
    return XBAR / S2 / prec, np.sqrt(1 / prec)


def anchor_draws(tau: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    m, s = exact(tau)
    w = m + s * rng.standard_normal((CHAINS * DRAWS, 3))
    out = {"b": B_MEAN + B_SD * rng.standard_normal(CHAINS * DRAWS)}
    return out | {f"x{j}": w[:, j] for j in range(3)}


def test_log_prior_is_the_sum_of_normal_log_densities_of_the_weights_only():
    draws = anchor_draws(2.0, seed=0)
    expected = sum(stats.norm.logpdf(draws[f"x{j}"], 0, 0.7) for j in range(3))
    np.testing.assert_allclose(LOG_PRIOR(LAYOUT, draws, 0.7), expected, rtol=1e-12)


def test_centred_log_prior_is_the_density_of_the_weights_contrasts_subspace():
    """Softmax weights W[f, c] (3 classes, 2 features): with ``centre="wclass"`` the log prior
    is that of the coordinates of each feature's weight vector in an orthonormal basis of the
    plane orthogonal to (1, 1, 1) (scipy's null_space), each N(0, τ²)."""
    from scipy.linalg import null_space

    classes, features, tau = ["a", "b", "c"], ["f1", "f2"], 0.8
    layout = ParamLayout(
        tuple(
            Param(f"{c}:{f}", "W", (("feature", f), ("wclass", c)), "weights")
            for c in classes
            for f in features
        )
    )
    rng = np.random.default_rng(5)
    draws = {p.name: rng.normal(size=50) for p in layout.params}
    basis = null_space(np.ones((1, 3)))  # 3 x 2, orthonormal
    expected = 0.0
    for f in features:
        w = np.array([draws[f"{c}:{f}"] for c in classes])  # 3 x draws
        expected = expected + stats.norm.logpdf(basis.T @ w, 0, tau).sum(axis=0)
    got = gaussian_log_prior("W", centre="wclass")(layout, draws, tau)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_khat_threshold_is_arviz_stats_good_k():
    from arviz_stats.loo.loo_helper import _warn_pareto_k

    for n in (100, 400, 2000, 10**6):
        assert R.khat_threshold(n) == pytest.approx(_warn_pareto_k(np.array([0.1]), n)[1])


def test_reweighted_means_match_the_exact_posterior_within_their_mcse():
    """From τ_a = 2 to successively stronger priors (the sweep's grid ratio 10^0.3): every
    accepted point's weighted mean is within MCSE_Z of its MCSE of the exact posterior mean,
    and its weighted sd within 10 % of the exact sd; far enough from the anchor the
    diagnostics refuse the draws (so a point there would get its own NUTS run)."""
    tau_a = 2.0
    anchor = R.Anchor.from_draws(tau_a, anchor_draws(tau_a, seed=1), CHAINS)
    accepted, refused = [], []
    for tau in tau_a / 10 ** (0.3 * np.arange(1, 9)):
        rw = R.reweight(anchor, LOG_PRIOR, LAYOUT, tau)
        (accepted if rw.ok else refused).append(tau)
        if not rw.ok:
            continue
        m, s = exact(tau)
        for j in range(3):
            nm = f"x{j}"
            assert abs(rw.mean[nm] - m[j]) <= MCSE_Z * rw.mcse[nm], (tau, nm)
            assert rw.sd[nm] == pytest.approx(s[j], rel=0.10), (tau, nm)
        # the flat parameter's posterior does not depend on τ
        assert abs(rw.mean["b"] - B_MEAN) <= MCSE_Z * rw.mcse["b"]
    assert accepted and refused, (accepted, refused)
    assert max(refused) < min(accepted)  # refusal comes with distance from the anchor


def test_reweighted_mcse_is_calibrated_over_replicates():
    """The z-scores (weighted mean - exact) / MCSE over 200 independent anchors have sd near
    1: the MCSE is neither too small (overconfident) nor inflated (a test that cannot fail).
    Bounds: the sd of 200 standard-normal z's lies in [0.8, 1.25] with probability > 0.999."""
    tau_a, tau = 2.0, 2.0 / 10**0.3
    m, _ = exact(tau)
    z = []
    for seed in range(200):
        anchor = R.Anchor.from_draws(tau_a, anchor_draws(tau_a, seed=100 + seed), CHAINS)
        rw = R.reweight(anchor, LOG_PRIOR, LAYOUT, tau)
        z.append([(rw.mean[f"x{j}"] - m[j]) / rw.mcse[f"x{j}"] for j in range(3)])
    sd = np.std(np.asarray(z), axis=0, ddof=1)
    assert np.all((sd > 0.8) & (sd < 1.25)), sd


def test_reweighting_to_the_anchors_own_value_is_the_plain_average():
    draws = anchor_draws(1.0, seed=3)
    anchor = R.Anchor.from_draws(1.0, draws, CHAINS)
    rw = R.reweight(anchor, LOG_PRIOR, LAYOUT, 1.0)
    assert rw.ess == pytest.approx(anchor.r * CHAINS * DRAWS)
    for nm, x in draws.items():
        assert rw.mean[nm] == pytest.approx(np.mean(x), rel=1e-12)


def test_anchored_sweep_reweights_towards_stronger_priors_and_reruns_nuts_where_refused(
    monkeypatch,
):
    """The sweep's greedy scheme (analyses.sweep_posterior.Anchored) with exact conjugate draws in
    place of NUTS: the weakest point runs "NUTS" with the anchor's draws, the next points are
    reweighted while k̂ and ESS pass, a refused point runs its own "NUTS" and anchors the
    following ones; every reweighted mean is within MCSE_Z × MCSE of the exact one."""
    import xarray as xr

    from nll_losses.analyses import sweep_posterior
    from nll_losses.analyses.results import Estimate
    from nll_losses.models.family import Settings, tau_sweep

    calls = []

    def fake_nuts(ctx, predictive=True):
        calls.append((ctx.tau, ctx.draws))
        d = anchor_draws(ctx.tau, seed=len(calls))
        w = np.stack([d[f"x{j}"] for j in range(3)], axis=-1).reshape(CHAINS, ctx.draws, 3)
        ds = xr.Dataset(
            {
                "intercept": (("chain", "draw"), d["b"].reshape(CHAINS, ctx.draws)),
                "w": (("chain", "draw", "feature"), w),
            },
            coords={"feature": ["x0", "x1", "x2"]},
        )
        mean = {nm: float(np.mean(x)) for nm, x in d.items()}
        info = {"divergences": 0, "min_ess_bulk": float(ctx.draws * CHAINS)}
        est = Estimate("nuts", "gaussian", mean=mean, info=info)
        return est, SimpleNamespace(posterior=SimpleNamespace(dataset=ds))

    @dataclass
    class Ctx:  # what Anchored uses of analyses.estimators.Context
        tau: float
        draws: int = 100  # the sweep's own draws: the anchors must use DRAWS
        chains: int = CHAINS
        low_rank: bool = False  # the sweep's NUTS points set it
        problem: object = field(default_factory=lambda: SimpleNamespace(layout=LAYOUT))

        def estimate(self, method, **kw):
            return Estimate(method, "gaussian", **kw)

    monkeypatch.setattr(sweep_posterior.E, "nuts", fake_nuts)

    anchored = sweep_posterior.Anchored(tau_sweep(Settings(prior_scale=1.0), ("nuts",), "w"), DRAWS)
    grid = 4.0 / 10 ** (0.3 * np.arange(12))  # weak to strong
    methods = []
    for tau in grid:
        est, draws, weights = anchored(Ctx(tau), tau)
        methods.append(est.info["posterior method"])
        if weights is not None:
            m, _ = exact(tau)
            for j in range(3):
                nm = f"x{j}"
                assert abs(est.mean[nm] - m[j]) <= MCSE_Z * est.mcse_mean[nm], (tau, nm)
            assert est.info["khat"] <= est.info["khat threshold"]
            assert est.info["ess"] >= R.MIN_ESS
    assert methods[0] == "nuts" and all(d == DRAWS for _, d in calls)
    assert [t for t, _ in calls] == [t for t, m in zip(grid, methods, strict=True) if m == "nuts"]
    assert methods.count("nuts") >= 2 and any(m.startswith("reweighted") for m in methods)
    # a reweighted point names the latest NUTS point before it as its anchor
    last = None
    for tau, m in zip(grid, methods, strict=True):
        if m == "nuts":
            last = tau
        else:
            assert m == f"reweighted from τ = {last:.3g}"
