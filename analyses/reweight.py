"""Posterior draws at one prior strength carried to another by Pareto-smoothed importance
sampling (PSIS): the prior-strength sweep's band without a NUTS run at every grid point.

Only the swept prior's terms depend on the swept value v (``Sweep.log_prior``), so draws θ_s
from the posterior at an anchor v_a become draws of the posterior at v by the weights
w_s ∝ p(θ_s | v) / p(θ_s | v_a).  For N(0, τ²) weights and a smaller τ (a stronger prior) the
ratio is bounded (its log is -½ Σ w² (1/τ² - 1/τ_a²) + const ≤ const), so the sweep anchors
at the weak end and reweights towards stronger priors.  The weights are smoothed and checked
by ``arviz_stats``' PSIS (``psislw``: the Pareto k̂ of the weights' tail); a point is accepted
when k̂ is at most the sample-size-dependent threshold min(1 - 1/log10 S, 0.7) and the
importance-weighted ESS is at least ``MIN_ESS``; otherwise the sweep runs NUTS there.

The same smoothing and checks serve the sweep's other approximation: importance sampling from
the Laplace approximation at find_MAP's mode (``laplace_proposal``), where the posterior is
close to Gaussian (every point of a strong prior, and the weak end of a data-dominated case),
with independent draws instead of MCMC.

ESS and MCSE follow the PSIS paper (Vehtari et al. 2024, "Pareto smoothed importance
sampling", JMLR 25(72), sections 3 and 6) and the loo package: with normalised weights w̃ and
r the relative efficiency of the anchor's MCMC draws (ESS / S, at most 1), the weighted
ESS is r / Σ w̃², and the MCSE of a weighted mean of x is sqrt(Σ w̃² (x - x̄_w)² / r_x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_ESS = 400  # importance-weighted ESS a reweighted grid point needs (the floor)
# the Laplace proposal: a multivariate t with PROPOSAL_DF degrees of freedom and scale
# PROPOSAL_SCALE² times the inverse Hessian at the mode, heavier-tailed than the Gaussian
# approximation so that the weights stay bounded where the posterior's tails are heavier than
# it; LAPLACE_DRAWS independent draws.  Chosen by benchmarks/bench_sweep_band.py's grid
# (benchmarks/RESULTS.md): on breast_cancer, iris and softmax_synthetic, t(10) at 1.1 gave
# ESS 1800-3200 of 4000 wherever the posterior is near Gaussian (k̂ ≤ 0.45), more than the
# Gaussian (whose k̂ reached 0.64) or t(5) at 1.3 (ESS 1450-2100)
PROPOSAL_DF = 10.0
PROPOSAL_SCALE = 1.1
LAPLACE_DRAWS = 4000


def khat_threshold(n_draws: int) -> float:
    """The sample-size-dependent k̂ threshold of PSIS, min(1 - 1/log10 S, 0.7) (Vehtari et
    al. 2024, section 3.2.4; the same ``good_k`` arviz_stats' loo uses)."""
    return min(1 - 1 / np.log10(n_draws), 0.7) if n_draws > 1 else 0.7


def relative_efficiency(x: np.ndarray, chains: int) -> float:
    """ESS / S of one parameter's MCMC draws (``arviz_stats`` bulk ESS), capped at 1:
    draws flattened chain after chain, as ``ParamLayout.draws`` gives them."""
    from arviz_stats.base import array_stats

    x = np.asarray(x, dtype=float).reshape(chains, -1)
    if np.ptp(x) == 0:  # constant draws (a probability that rounds to 1): nothing to average
        return 1.0
    return float(min(1.0, array_stats.ess(x, method="bulk") / x.size))


def psis_weights(log_ratio: np.ndarray, r_eff: float = 1.0) -> tuple[np.ndarray, float]:
    """Normalised Pareto-smoothed weights for the log importance ratios ``log_ratio`` and
    their k̂ (``arviz_stats``' ``psislw``, written for leave-one-out, where the ratio is
    1 / p(y_i | θ): it smooths the ratios exp(-ary), hence the minus sign).  Equal ratios
    give equal weights and k̂ = -inf (no tail)."""
    from arviz_stats.base import array_stats

    log_ratio = np.asarray(log_ratio, dtype=float)
    if np.ptp(log_ratio) == 0:  # equal ratios: the same distribution, no tail to fit
        return np.full(log_ratio.size, 1.0 / log_ratio.size), -np.inf
    with np.errstate(over="ignore"):  # a very heavy tail (k̂ ≫ 1) overflows its quantiles
        log_w, khat = array_stats.psislw(-log_ratio, r_eff=r_eff)
    w = np.exp(log_w - np.max(log_w))
    return w / w.sum(), float(khat)


def weighted_moments(
    draws: dict[str, np.ndarray], weights: np.ndarray, r_eff: dict[str, float]
) -> tuple[dict, dict, dict]:
    """(mean, sd, MCSE of the mean) of every quantity in ``draws`` under normalised
    ``weights``; ``r_eff[name]`` is that quantity's MCMC relative efficiency (default 1)."""
    mean, sd, mcse = {}, {}, {}
    w2 = weights**2
    for nm, x in draws.items():
        x = np.asarray(x, dtype=float)
        m = float(np.sum(weights * x))
        mean[nm] = m
        sd[nm] = float(np.sqrt(max(np.sum(weights * (x - m) ** 2), 0.0)))
        mcse[nm] = float(np.sqrt(np.sum(w2 * (x - m) ** 2) / r_eff.get(nm, 1.0)))
    return mean, sd, mcse


@dataclass(frozen=True)
class Anchor:
    """Posterior draws at ``value`` (one NUTS run) in the swept prior's layout names, with
    their chains and each parameter's relative efficiency ``r_eff``.  ``r`` and ``max_rhat``
    are those of what the sweep uses the draws for: the quantities it shows and the values
    the importance weights are a function of (see ``from_draws``)."""

    value: float
    draws: dict[str, np.ndarray]
    chains: int
    r_eff: dict[str, float]
    r: float
    max_rhat: float

    @classmethod
    def from_draws(
        cls,
        value: float,
        draws: dict[str, np.ndarray],
        chains: int,
        shown: dict[str, np.ndarray] | None = None,
        basis: np.ndarray | None = None,
    ) -> Anchor:
        """``shown``: the quantities the sweep shows, draw by draw (default: ``draws``);
        ``basis``: the per-draw values the weights depend on (the log prior at ``value``).
        Their mixing is the anchor's: a direction that neither the shown quantities nor the
        weights depend on (softmax's common shift of the class weights) may mix slowly
        without making the reweighted means less exact."""
        from arviz_stats.base import array_stats

        r_eff = {nm: relative_efficiency(x, chains) for nm, x in draws.items()}
        watched = dict(draws if shown is None else shown)
        if basis is not None:
            watched["(importance weights' basis)"] = np.asarray(basis, dtype=float)
        r = min((relative_efficiency(x, chains) for x in watched.values()), default=1.0)
        rhats = [
            float(array_stats.rhat(np.reshape(x, (chains, -1))))
            for x in watched.values()
            if np.ptp(x) > 0
        ]
        return cls(float(value), draws, chains, r_eff, r, max(rhats, default=1.0))

    @property
    def size(self) -> int:
        return len(next(iter(self.draws.values())))


def laplace_proposal(
    mode: np.ndarray, cov: np.ndarray, rng: np.random.Generator, draws: int = LAPLACE_DRAWS
) -> tuple[np.ndarray, np.ndarray]:
    """``draws`` rows from the multivariate t (PROPOSAL_DF, scale PROPOSAL_SCALE² × ``cov``)
    centred at ``mode``, and the log proposal density at each (up to a constant, which the
    normalised weights do not see).  Raises LinAlgError when ``cov`` is not positive
    definite (no Gaussian approximation there)."""
    mode = np.asarray(mode, dtype=float)
    chol = np.linalg.cholesky(np.asarray(cov, dtype=float)) * PROPOSAL_SCALE
    df, dim = PROPOSAL_DF, mode.size
    z = rng.standard_normal((draws, dim))
    chi = rng.chisquare(df, size=draws)
    u = z / np.sqrt(chi / df)[:, None]
    log_q = -0.5 * (df + dim) * np.log1p(np.sum(u**2, axis=1) / df)
    return mode + u @ chol.T, log_q


@dataclass(frozen=True)
class Checked:
    """Normalised importance weights with PSIS's k̂ and its threshold and the weighted ESS;
    accepted when k̂ is within the threshold and the ESS at least ``MIN_ESS``."""

    weights: np.ndarray
    khat: float
    khat_threshold: float
    ess: float

    @classmethod
    def of(cls, log_ratio: np.ndarray, r_eff: float = 1.0) -> Checked:
        """PSIS on the log ratios of draws whose relative efficiency is ``r_eff`` (1:
        independent draws)."""
        weights, khat = psis_weights(log_ratio, r_eff=r_eff)
        return cls(weights, khat, khat_threshold(len(weights)), float(r_eff / np.sum(weights**2)))

    @property
    def ok(self) -> bool:
        return bool(self.khat <= self.khat_threshold and self.ess >= MIN_ESS)

    @property
    def problem(self) -> str:
        """Why the weights are not accepted ("" when they are)."""
        out = []
        if not self.khat <= self.khat_threshold:
            out.append(f"k̂ = {self.khat:.2f} > {self.khat_threshold:.2f}")
        if not self.ess >= MIN_ESS:
            out.append(f"ESS = {self.ess:.0f} < {MIN_ESS}")
        return "; ".join(out)


@dataclass(frozen=True)
class Reweighted(Checked):
    """The anchor's draws reweighted to ``value``: the checked weights (normalised PSIS
    weights, k̂ and its threshold, the weighted ESS) and the weighted mean, sd and MCSE of
    every parameter."""

    value: float
    anchor: float
    mean: dict
    sd: dict
    mcse: dict


def reweight(anchor: Anchor, log_prior, layout, value: float) -> Reweighted:
    """``anchor``'s draws carried to ``value`` by PSIS; ``log_prior(layout, draws, v)`` is the
    log density of the swept prior's terms (``Sweep.log_prior``)."""
    log_ratio = log_prior(layout, anchor.draws, value) - log_prior(
        layout, anchor.draws, anchor.value
    )
    checked = Checked.of(log_ratio, r_eff=anchor.r)
    mean, sd, mcse = weighted_moments(anchor.draws, checked.weights, anchor.r_eff)
    return Reweighted(
        **vars(checked), value=float(value), anchor=anchor.value, mean=mean, sd=sd, mcse=mcse
    )
