"""What the fit pictures and the loss landscape draw from: find_MAP's mode under each prior (its
label: MLE or MAP) and a thinned set of posterior draws with their predictive replicates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLAT = "flat"  # the prior under which find_MAP is the maximum-likelihood estimate


PICTURE_DRAWS = 200  # posterior draws pushed through predict (the posterior mean and bands)


# ------------------------------------------------------------------------------ fits
@dataclass(frozen=True)
class Fit:
    """One point estimate to draw: find_MAP's mode under one prior."""

    label: str
    prior: str
    problem: object
    params: dict


def mode_label(prior: str) -> str:
    return "MLE (find_MAP, flat prior)" if prior == FLAT else f"MAP (find_MAP, {prior} prior)"


def mode_fits(problems: dict, estimates: dict) -> list[Fit]:
    """find_MAP's mode under every prior where it exists, in prior order."""
    out = []
    for prior, problem in problems.items():
        est = estimates.get(f"find_map_{prior}")
        if est is not None and est.status == "ok":
            out.append(Fit(mode_label(prior), prior, problem, dict(est.mean)))
    return out


@dataclass
class Posterior:
    """Thinned NUTS draws of one prior, and its replicated data aligned with their draws."""

    prior: str
    problem: object
    draws: list[dict]
    ppc: np.ndarray | None = None  # (S, rows) replicated y
    ppc_draws: list[dict] | None = None  # the S parameter draws that generated them
    ppc_rows: np.ndarray | None = None  # the data's 0-based rows they replicate

    @property
    def label(self) -> str:
        return f"posterior mean ({self.prior} prior, NUTS)"

    def stack(self, family, X) -> np.ndarray:
        """predict at every draw: (S, m) or (S, m, K)."""
        return np.stack([family.predict(self.problem, d, X) for d in self.draws])

    def mean(self, family, X) -> np.ndarray:
        """The mean over the draws of ``stack``, one draw at a time (memory O(m), not O(S m))."""
        total = None
        for d in self.draws:
            pred = family.predict(self.problem, d, X)
            total = pred if total is None else total + pred
        return total / len(self.draws)


def _columns(post, layout) -> dict[str, np.ndarray]:
    """{parameter name: its draws, chains concatenated} for the layout's parameters."""
    cols = {}
    for p in layout.params:
        if p.var not in post:
            continue
        da = post[p.var].sel(dict(p.sel)) if p.sel else post[p.var]
        cols[p.name] = np.asarray(da.transpose("chain", "draw").values, dtype=float).ravel()
    return cols


def _dicts(cols: dict[str, np.ndarray], index) -> list[dict]:
    return [{nm: float(c[i]) for nm, c in cols.items()} for i in index]


def first_posterior(problems: dict, posteriors: dict, max_draws: int = PICTURE_DRAWS):
    """The NUTS posterior of the first prior that has one (None without any)."""
    for prior, problem in problems.items():
        idata = (posteriors or {}).get(prior)
        if idata is None:
            continue
        post = idata.posterior.dataset
        cols = _columns(post, problem.layout)
        if not cols:
            continue
        total = len(next(iter(cols.values())))
        step = max(1, -(-total // max_draws))
        out = Posterior(prior, problem, _dicts(cols, range(0, total, step)))
        if "posterior_predictive" in idata.children:
            ppc = idata.posterior_predictive.dataset
            var = next(iter(ppc.data_vars))
            # the replicates were drawn from a thinned posterior: select the same draws
            aligned = post.sel(chain=ppc["chain"].values, draw=ppc["draw"].values)
            acols = _columns(aligned, problem.layout)
            rep = np.asarray(ppc[var].transpose("chain", "draw", ...).values, dtype=float)
            out.ppc = rep.reshape(-1, rep.shape[-1])
            out.ppc_draws = _dicts(acols, range(out.ppc.shape[0]))
            dim = ppc[var].dims[-1]
            out.ppc_rows = (
                np.asarray(ppc[dim].values, dtype=int)
                if dim in ppc.coords
                else np.arange(rep.shape[-1])
            )
        return out
    return None
