"""One replicate of a simulation study: a data set drawn from the study model
(``analyses.study.design``), fitted by the case's estimators, reduced to what the study
needs (a JSON-ready dict).  Every seed is ``child_seed(seed, "study", kind, case, r, ...)``:
a replicate's numbers do not depend on which process or machine fits it, nor on what it
fitted before (one ``ModelCache`` per process: one compile per model structure).

- coverage: where the truth falls in each estimator's interval distribution, as the
  probability ``u`` of the interval's distribution below the truth (a Gaussian's Φ((θ − m)/s)
  for the Laplace approximation, the exact Gaussian posterior and the classical Wald
  interval; Student's t with the residual degrees of freedom where the library's interval
  uses it; the fraction of posterior draws below the truth for NUTS).  The central interval
  at level L contains the truth exactly when |2u − 1| ≤ L.
- risk: each estimator's error (estimate − truth) at each n of nested subsets of one data
  set: the MLE, the MAP along a grid of τ, and the posterior mean.
- sbc: the rank of the truth among thinned NUTS draws (Talts et al. 2018), per parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from nll_losses.analyses import estimators as E  # noqa: TID253
from nll_losses.analyses.config import child_seed
from nll_losses.analyses.find_map import find_map  # noqa: TID253
from nll_losses.analyses.study.design import (
    FLAT,
    PRIOR,
    Design,
    designs,
    drawn_parameters,
    simulate,
)
from nll_losses.analyses.study.summary import map_label
from nll_losses.analyses.sweep_posterior import low_rank_nuts  # noqa: TID253

CLASSICAL = "statsmodels"  # the classical interval: the library's standard errors
# marks a flat-prior model's parameter whose meaning differs from the Gaussian model's
FLAT_MODEL = "(flat-prior model)"


@dataclass(frozen=True)
class StudySettings:
    """A study's sampler and grid settings (the same for every replicate)."""

    draws: int = 500  # NUTS draws per chain
    tune: int = 500
    chains: int = 2
    sbc_thin: int = 10  # SBC ranks among every sbc_thin-th draw: 2 × 50 = 100 draws, rank 0…100
    n_grid: tuple[int, ...] = (25, 50, 100, 200, 400)  # risk: nested subsets
    tau_units: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)  # risk: × the case's τ

    def to_json(self) -> dict:
        return {
            "draws": self.draws,
            "tune": self.tune,
            "chains": self.chains,
            "sbc_thin": self.sbc_thin,
            "n_grid": list(self.n_grid),
            "tau_units": list(self.tau_units),
        }


_cache = None  # this process's ModelCache


def model_cache() -> E.ModelCache:
    global _cache
    if _cache is None:
        _cache = E.ModelCache()
    return _cache


@cache
def _designs() -> dict[str, Design]:
    return designs()


def run(kind: str, case: str, r: int, seed: int, settings: StudySettings) -> dict:
    """Replicate ``r`` of study ``kind`` for ``case``: {"r", "truth", ...the study's numbers}."""
    design = _designs()[case]
    data_seed = child_seed(seed, "study", kind, case, str(r), "data")
    n = max(settings.n_grid) if kind == "risk" else None
    data, truth = simulate(design, data_seed, n)
    fit = {"coverage": _coverage, "risk": _risk, "sbc": _sbc}[kind]
    out = fit(design, data, truth, _Seeds(seed, kind, case, r), settings)
    return {"r": r, "truth": truth} | out


@dataclass(frozen=True)
class _Seeds:
    seed: int
    kind: str
    case: str
    r: int

    def __call__(self, *labels: str) -> dict[str, int]:
        return {
            k: child_seed(self.seed, "study", self.kind, self.case, str(self.r), *labels, k)
            for k in ("find_map", "nuts", "ppc", "reference")
        }


def _context(design, problem, seeds, settings) -> E.Context:
    """NUTS with nutpie's low-rank mass matrix where the family's sweep asks for it (posteriors
    with strongly correlated directions, such as the softmax weights' common shift, which
    only the prior identifies), as the sweeps run it (``analyses.sweep_posterior``)."""
    sweep = design.family_obj.sweep(design.settings, tuple(problem.features))
    ctx = E.Context(
        design.family_obj,
        problem,
        settings.draws,
        settings.tune,
        settings.chains,
        seeds,
        model_cache(),
    )
    return low_rank_nuts(ctx, bool(sweep and sweep.low_rank))


def _truth_in(design, truth, source, target) -> tuple[dict[str, float], dict[str, str]]:
    """The truth (in ``source``'s parameters) in ``target``'s, for the parameters the
    prediction reads, and each one's label: its name where it means the same in both models,
    else marked as the flat-prior model's (the categorical flat model's weights are contrasts
    against the baseline class, the Gaussian model's are not)."""
    mapped, same = design.family_obj.reexpress(truth, source, target)
    values = {k: float(v) for k, v in mapped.items() if k in _read(design, target)}
    return values, {k: k if k in same else f"{k} {FLAT_MODEL}" for k in values}


def _read(design, problem) -> set[str]:
    return set(drawn_parameters(design.family_obj, problem))


def _gaussian_u(est, truth: dict, t_df: float | None = None) -> dict[str, float]:
    """Φ((θ − m)/s) per parameter with an sd (Student's t with ``t_df`` degrees)."""
    from scipy import stats

    out = {}
    for name, value in truth.items():
        m, s = est.mean.get(name), est.sd.get(name)
        if m is None or not s or not np.isfinite(s):
            continue
        z = (value - m) / s
        out[name] = float(stats.t.cdf(z, t_df) if t_df else stats.norm.cdf(z))
    return out


def _record(prior: str, est, u=None, truth=None, labels=None) -> dict:
    """One estimator's entry: its status, and where ok each parameter's ``u`` and the truth
    it was taken at, under the parameter's label."""
    out = {"prior": prior}
    if est is None:
        return out | {"status": "unavailable", "reason": "not offered"}
    if est.status != "ok":
        return out | {"status": est.status, "reason": est.reason}
    labels = labels or {}
    u = u or {}
    return out | {
        "status": "ok",
        "u": {labels.get(k, k): v for k, v in u.items()},
        "truth": {labels.get(k, k): truth[k] for k in u},
    }


def _coverage(design: Design, data, truth, seeds: _Seeds, settings) -> dict:
    family = design.family_obj
    gauss = design.problem(data, PRIOR)
    flat = design.problem(data, FLAT)
    t_flat, labels = _truth_in(design, truth, gauss, flat)
    estimators: dict[str, dict] = {}
    with E.quiet():
        ctx = _context(design, flat, seeds(FLAT), settings)
        fm, lap = find_map(ctx)
        u = _gaussian_u(lap, t_flat) if lap and fm.status == "ok" else None
        estimators["Laplace at the MLE (Wald)"] = _record(
            FLAT, lap if fm.status == "ok" else fm, u, t_flat, labels
        )
        done = {fm.key: fm} | ({lap.key: lap} if lap else {})
        for method in ("closed_form", CLASSICAL, "exact_posterior"):
            if method not in family.references() or not family.supports(method, flat).offered:
                continue
            est = E.reference(ctx, method, done)
            done[est.key] = est
            ok = est.status == "ok"
            if method == CLASSICAL:
                u = _gaussian_u(est, t_flat, est.info.get("df_resid")) if ok else None
                estimators[f"classical ({CLASSICAL})"] = _record(FLAT, est, u, t_flat, labels)
            elif method == "exact_posterior":
                u = _gaussian_u(est, t_flat) if ok else None
                estimators["exact posterior (flat)"] = _record(FLAT, est, u, t_flat, labels)
        ctx = _context(design, gauss, seeds(PRIOR), settings)
        fm, lap = find_map(ctx)
        u = _gaussian_u(lap, truth) if lap and fm.status == "ok" else None
        estimators["Laplace at the MAP"] = _record(
            PRIOR, lap if fm.status == "ok" else fm, u, truth
        )
        done = {fm.key: fm} | ({lap.key: lap} if lap else {})
        if (
            "exact_posterior" in family.references()
            and family.supports("exact_posterior", gauss).offered
        ):
            est = E.reference(ctx, "exact_posterior", done)
            u = _gaussian_u(est, truth) if est.status == "ok" else None
            estimators["exact posterior"] = _record(PRIOR, est, u, truth)
        est, draws = _nuts(ctx)
        estimators["NUTS"] = _record(PRIOR, est, _draws_u(draws, truth) if draws else None, truth)
        if est.status == "ok":
            estimators["NUTS"]["diagnostics"] = list(est.info.get("diagnostics_problems", []))
    return {"estimators": estimators}


def _nuts(ctx):
    est, idata = E.nuts(ctx, predictive=False)
    if est.status != "ok" or idata is None:
        return est, None
    post = idata.posterior.dataset
    return est, {
        k: np.reshape(v, (ctx.chains, -1)) for k, v in ctx.problem.layout.draws(post).items()
    }


def _draws_u(draws: dict, truth: dict) -> dict[str, float]:
    return {k: float(np.mean(draws[k] < v)) for k, v in truth.items() if k in draws}


def _sbc(design: Design, data, truth, seeds: _Seeds, settings) -> dict:
    """The rank of the truth among every ``sbc_thin``-th draw of each chain."""
    gauss = design.problem(data, PRIOR)
    with E.quiet():
        est, draws = _nuts(_context(design, gauss, seeds(PRIOR), settings))
    if draws is None:
        return {"status": est.status, "reason": est.reason}
    thin = settings.sbc_thin
    ranks = {
        k: int(np.sum(draws[k][:, thin - 1 :: thin] < v)) for k, v in truth.items() if k in draws
    }
    return {
        "status": "ok",
        "ranks": ranks,
        "draws ranked": int(draws[next(iter(draws))][:, thin - 1 :: thin].size),
        "diagnostics": list(est.info.get("diagnostics_problems", [])),
    }


def _risk(design: Design, data, truth, seeds: _Seeds, settings) -> dict:
    """Errors per n (nested random subsets of one data set), estimator and
    parameter, in the flat model's parameters (the identified ones)."""
    errors: dict[str, dict[str, dict]] = {}
    family = design.family_obj
    # nested random subsets (a generator may order its rows, e.g. by x)
    order = np.random.default_rng(seeds("order")["reference"]).permutation(len(data.y))
    for n in settings.n_grid:
        rows = np.sort(order[:n])
        sub = replace(
            data,
            X=data.X[rows],
            y=data.y[rows],
            rows={role: v[rows] for role, v in data.rows.items()},
        )
        flat = design.problem(sub, FLAT)
        gauss_t = design.problem(sub, PRIOR)
        target, labels = _truth_in(design, truth, gauss_t, flat)
        at_n: dict[str, dict] = {}

        def error(est, problem, target=target, flat=flat, labels=labels):
            if est.status != "ok":
                return {"status": est.status, "reason": est.reason}
            mean, _ = family.reexpress(est.mean, problem, flat)
            err = {labels[k]: float(mean[k] - v) for k, v in target.items()}
            return {"status": "ok", "error": err}

        with E.quiet():
            fm, _ = find_map(_context(design, flat, seeds(FLAT, str(n)), settings))
            at_n["MLE"] = error(fm, flat)
            for unit in settings.tau_units:
                problem = design.problem(sub, PRIOR, unit=unit)
                fm, _ = find_map(
                    _context(design, problem, seeds(PRIOR, str(n), f"{unit:g}"), settings)
                )
                at_n[map_label(unit)] = error(fm, problem)
            ctx = _context(design, gauss_t, seeds(PRIOR, str(n), "posterior"), settings)
            if (
                "exact_posterior" in family.references()
                and family.supports("exact_posterior", gauss_t).offered
            ):
                fm, lap = find_map(ctx)
                done = {fm.key: fm} | ({lap.key: lap} if lap else {})
                est = E.reference(ctx, "exact_posterior", done)
            else:
                est, _ = _nuts(ctx)
            at_n["posterior mean"] = error(est, gauss_t)
        errors[str(n)] = at_n
    return {"errors": errors}
