"""The prior-strength sweep's posterior at each grid point, each method labelled and checked:
reweighted draws of the latest NUTS anchor (PSIS), importance sampling from the Laplace
approximation at the point's find_MAP mode, or a NUTS run of its own when neither passes its
checks (analyses/reweight.py: Pareto k-hat within its threshold, ESS at least MIN_ESS)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from nll_losses.analyses import estimators as E  # noqa: TID253
from nll_losses.analyses import reweight as R
from nll_losses.analyses.config import child_seed

# an anchor's draws are reweighted only if NUTS had no divergence and R̂ ≤ 1.01 for what the
# sweep shows and for the log prior (Vehtari et al. 2021's threshold, as estimators.nuts uses)
ANCHOR_MAX_RHAT = 1.01
# nutpie's target acceptance with the low-rank mass matrix (Sweep.low_rank): on iris's weak
# end (τ = 4-1000, two seeds each) it diverged in 0-674 of 2000 transitions at nutpie's
# default 0.8 and in 0-3 at 0.9, still 2-4 times faster than the diagonal matrix
LOW_RANK_TARGET_ACCEPT = 0.9


def low_rank_nuts(ctx: E.Context, low_rank: bool) -> E.Context:
    """``ctx`` with nutpie's low-rank mass matrix where ``low_rank`` (the family's
    ``Sweep.low_rank``: posteriors with strongly correlated directions), at its target
    acceptance :data:`LOW_RANK_TARGET_ACCEPT`."""
    if not low_rank:
        return replace(ctx, low_rank=False)
    return replace(ctx, low_rank=True, target_accept=LOW_RANK_TARGET_ACCEPT)


class Anchored:
    """The τ sweep's posterior, visited from the weak end, at each point the first of these
    whose checks pass (analyses/reweight.py: Pareto k̂ within its threshold, ESS ≥ MIN_ESS):
    1. the draws of the latest anchor (a NUTS run with ``anchor_draws`` per chain at a weaker
       prior) reweighted by the prior ratio (PSIS);
    2. importance sampling from the Laplace approximation at the point's own find_MAP mode
       (independent draws from a multivariate t, weighted by the model's compiled log density:
       the sampler's own, so nothing new is compiled);
    3. NUTS, which becomes the next anchor unless it had divergences or its R̂ exceeds
       ``ANCHOR_MAX_RHAT`` for a shown quantity or the log prior."""

    def __init__(self, sweep, draws: int, shown=None):
        """``shown(problem, draws)``: the draws in the parameters the sweep is shown in
        (None: its own); the anchor's mixing is judged on them and on the log prior."""
        self.sweep, self.draws, self.shown, self.anchor = sweep, draws, shown, None

    def __call__(self, ctx, value: float, fm=None):
        layout = ctx.problem.layout
        rejected = []
        if self.anchor is not None:
            rw = R.reweight(self.anchor, self.sweep.log_prior, layout, value)
            if rw.ok:
                chains = self.anchor.chains
                info = {
                    "posterior method": f"reweighted from {self.sweep.symbol} = "
                    f"{self.anchor.value:.3g}",
                    "khat": rw.khat,
                    "khat threshold": rw.khat_threshold,
                    "ess": rw.ess,
                    "anchor": self.anchor.value,
                    "chains": chains,
                    "draws": self.anchor.size // chains,
                }
                est = ctx.estimate("nuts", mean=rw.mean, sd=rw.sd, mcse_mean=rw.mcse, info=info)
                return est, self.anchor.draws, rw.weights
            rejected.append(
                f"reweighted from {self.sweep.symbol} = {self.anchor.value:.3g}: {rw.problem}"
            )
        if accepted := laplace_importance(ctx, fm, rejected):
            return accepted
        run = low_rank_nuts(replace(ctx, draws=self.draws), self.sweep.low_rank)
        est, idata = E.nuts(run, predictive=False)
        self.anchor = None
        if est.status != "ok":
            return est, None, None
        draws = layout.draws(idata.posterior.dataset)
        anchor = R.Anchor.from_draws(
            value,
            draws,
            run.chains,
            shown=self.shown(ctx.problem, draws) if self.shown else None,
            basis=self.sweep.log_prior(layout, draws, value),
        )
        if not est.info["divergences"] and anchor.max_rhat <= ANCHOR_MAX_RHAT:
            self.anchor = anchor
        # ESS of what is shown and of the log prior (bulk, at most the number of draws)
        info = est.info | {"posterior method": "nuts", "ess": anchor.r * anchor.size}
        if rejected:
            info["approximations rejected"] = rejected
        return replace(est, info=info), draws, None


LAPLACE_METHOD = "importance sampling from the Laplace approximation"


def laplace_importance(ctx, fm, rejected: list[str]):
    """(estimate, draws, weights) of the posterior at ``ctx``'s problem by importance sampling
    from the Laplace approximation at find_MAP's estimate ``fm`` (``reweight.laplace_proposal``),
    weighted by the NUTS sampler's own compiled log density; None where there is no proposal
    (find_MAP failed or has no Hessian), or k̂ or the ESS fail (the reason appended to
    ``rejected``)."""
    if fm is None or fm.status != "ok" or fm.unconstrained is None:
        return None
    est, draws, weights = laplace_weighted(ctx, fm)
    if weights is None:
        rejected.append(f"importance sampling from the Laplace approximation: {est.reason}")
        return None
    return est, draws, weights


def laplace_weighted(ctx, fm):
    """:func:`laplace_importance`'s draws and their checks: (estimate, draws, weights), or
    an "unavailable" estimate with the reason and None, None."""
    import xarray as xr

    built, key = ctx.cache.model(ctx.family, ctx.problem)
    model, layout = built.model, ctx.problem.layout
    seed = child_seed(ctx.seeds["nuts"], "laplace importance")
    mode, cov = fm.unconstrained
    try:
        X, log_q = R.laplace_proposal(mode, cov, np.random.default_rng(seed))
    except np.linalg.LinAlgError:
        reason = "the Hessian at the mode is not positive definite"
        return ctx.estimate("nuts", status="unavailable", reason=reason), None, None
    sampler = ctx.cache.sampler(key, model)
    if X.shape[1] != sampler.compiled.n_dim:
        reason = f"find_MAP's mode has {X.shape[1]} dimensions, the model {sampler.compiled.n_dim}"
        return ctx.estimate("nuts", status="unavailable", reason=reason), None, None
    with np.errstate(all="ignore"):
        log_p = sampler.log_density(X, built.data)
    if not np.all(np.isfinite(log_p)):
        reason = f"the log density is not finite at {np.sum(~np.isfinite(log_p))} draws"
        return ctx.estimate("nuts", status="unavailable", reason=reason), None, None
    checked = R.Checked.of(log_p - log_q)
    if not checked.ok:
        return ctx.estimate("nuts", status="unavailable", reason=checked.problem), None, None
    values = sampler.values(X, built.data)
    posterior = xr.Dataset(
        {
            name: (("chain", "draw", *model.named_vars_to_dims.get(name, ())), v[None])
            for name, v in values.items()
        },
        coords={
            d: list(model.coords[d])
            for name in values
            for d in model.named_vars_to_dims.get(name, ())
        },
    )
    tree = xr.DataTree.from_dict({"posterior": posterior})
    E.add_deterministics(tree, model, layout.var_names, ctx.cache)
    draws = layout.draws(tree.posterior.dataset)
    mean, sd, mcse = R.weighted_moments(draws, checked.weights, {})
    info = {
        "posterior method": LAPLACE_METHOD,
        "proposal": f"multivariate t({R.PROPOSAL_DF:g}) at find_MAP's mode, scale "
        f"{R.PROPOSAL_SCALE:g}² × the inverse Hessian there",
        "khat": checked.khat,
        "khat threshold": checked.khat_threshold,
        "ess": checked.ess,
        "draws": len(X),
        "chains": 1,
        "independent draws": True,
        "seed": seed,
    }
    est = ctx.estimate("nuts", mean=mean, sd=sd, mcse_mean=mcse, info=info)
    return est, draws, checked.weights


def laplace_or_nuts(ctx, fm):
    """The sample-size sweep's posterior at one n: importance sampling from the Laplace
    approximation at find_MAP's mode ``fm`` where its checks pass, else NUTS (the sweep's
    draws); (estimate, draws, weights) as ``analyses.sweeps._point`` takes them."""
    rejected = []
    if accepted := laplace_importance(ctx, fm, rejected):
        return accepted
    est, idata = E.nuts(ctx, predictive=False)
    if est.status != "ok" or idata is None:
        return est, None, None
    info = est.info | {"posterior method": "nuts", "ess": est.info["min_ess_bulk"]}
    if rejected:
        info["approximations rejected"] = rejected
    return replace(est, info=info), ctx.problem.layout.draws(idata.posterior.dataset), None
