"""Prior-strength and sample-size sweeps: the estimators along a grid, one compiled model per
structure (the grid points only change ``pm.Data``: the prior's precision, or the data and
the length of the "obs" dim).

Prior strength: the family's ``Sweep`` (τ of the N(0, τ²) weights from 10⁻³ to 10³ times the
case's τ; the Dirichlet's α for the intercept-only model): find_MAP, the family's references
(closed-form ridge or Newton, scikit-learn with the translated penalty) and the posterior
(exact, or NUTS) at every point.  As τ → ∞ the MAP goes to the MLE (where it exists), as
τ → 0 to 0.

Sample size: for a case with a data generator (known truth), n over a log grid of nested
subsets of one large sample: the MLE (find_MAP, flat), the MAP (find_MAP, Gaussian), the
posterior mean, and their Laplace / posterior sds, which shrink as 1/√n (Bernstein–von Mises).

find_MAP here is the case's own :func:`analyses.find_map.find_map`: the same optimiser, starts,
refinement and acceptance, on functions compiled once per structure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from nll_losses.analyses import estimators as E  # noqa: TID253
from nll_losses.analyses import reweight as R
from nll_losses.analyses.config import CaseConfig, RunConfig, child_seed
from nll_losses.analyses.datasets import Dataset
from nll_losses.analyses.find_map import find_map  # noqa: TID253
from nll_losses.analyses.problems import make_problem
from nll_losses.analyses.sweep_posterior import (  # noqa: TID253
    LAPLACE_METHOD,
    LOW_RANK_TARGET_ACCEPT,
    Anchored,
    laplace_or_nuts,
)
from nll_losses.models import get_family

TAU_UNITS = np.logspace(-3, 3, 21)  # the grid, in units of the case's τ (α − 1 for α)
N_MAX = 3000
N_GRID = (25, 50, 100, 200, 400, 800, 1600, 3000)


@dataclass(frozen=True)
class SweepConfig:
    """Sampler settings of the sweep's NUTS points (a path of posterior means ± sd, so fewer
    draws than the case's own NUTS; the MCSE is kept with every point)."""

    draws: int = 500
    tune: int = 500
    chains: int = 2
    tau_units: tuple[float, ...] = tuple(TAU_UNITS)
    n_grid: tuple[int, ...] = N_GRID
    # draws per chain of a τ sweep's NUTS run whose draws are reweighted to the neighbouring
    # stronger priors (analyses/reweight.py): 2 × 1000, so that a reweighted point can keep
    # an importance-weighted ESS of MIN_ESS = 400
    anchor_draws: int = 1000

    @classmethod
    def for_run(cls, cfg: RunConfig) -> SweepConfig:
        if cfg.is_quick:  # --quick: a coarse smoke run
            return cls(200, 200, 2, tuple(np.logspace(-3, 3, 7)), (25, 100, 400, 1600), 200)
        return cls()


def _path(n_points: int) -> dict:
    return {"status": [None] * n_points, "mean": {}, "sd": {}, "mcse": {}, "reason": {}}


def _finite_or_none(v):
    return float(v) if v is not None and np.isfinite(v) else None


def _record(path: dict, i: int, est, names, n_points: int) -> None:
    path["status"][i] = est.status
    # the posterior: how this point was got ("exact", "nuts", "reweighted from τ = …")
    how = est.info.get("posterior method") or ("exact" if est.method == "exact_posterior" else None)
    if how is not None:
        for field in ("method", "khat", "khat threshold", "ess"):
            path.setdefault(field, [None] * n_points)
        path["method"][i] = how
        path["khat"][i] = _finite_or_none(est.info.get("khat"))
        path["khat threshold"][i] = _finite_or_none(est.info.get("khat threshold"))
        path["ess"][i] = _finite_or_none(est.info.get("ess"))
    if est.status != "ok":
        path["reason"][str(i)] = est.reason
    elif est.info.get("diagnostics_problems"):  # NUTS: divergences, r_hat, bulk ESS
        path.setdefault("diagnostics", {})[str(i)] = list(est.info["diagnostics_problems"])
    for field, src in (("mean", est.mean), ("sd", est.sd), ("mcse", est.mcse_mean)):
        for nm in names:
            if nm in src:
                path[field].setdefault(nm, [None] * n_points)[i] = float(src[nm])


def _point(ctx, methods, names, paths, i, n_points, labels, express=None, posterior=None):
    """Every estimator of one grid point into ``paths`` (find_MAP, its Laplace sd, the
    references in ``methods`` and the posterior), each through ``express`` if given.
    ``posterior(ctx, find_map_estimate)``, if given, stands in for NUTS: (estimate, draws,
    weights)."""

    def record(label, est, draws=None, weights=None):
        est = express(est, draws, weights) if express else est
        _record(paths.setdefault(label, _path(n_points)), i, est, names, n_points)

    fm, lap = find_map(ctx, max_starts=ctx.max_starts)
    done = {fm.key: fm} | ({lap.key: lap} if lap is not None else {})
    record(labels["find_map"], fm)
    if lap is not None:
        record(labels["laplace"], lap)
    refs = ctx.family.references()
    for method in methods:
        draws = weights = None
        if method == "nuts" and posterior is not None:
            est, draws, weights = posterior(ctx, fm)
        elif method == "nuts":
            est, idata = E.nuts(ctx, predictive=False)
            if express and idata is not None and est.status == "ok":
                draws = ctx.problem.layout.draws(idata.posterior.dataset)
        elif method in refs:
            if not ctx.family.supports(method, ctx.problem).offered:
                continue
            est = E.reference(ctx, method, done)
        else:
            continue
        done[est.key] = est
        record(labels.get(method, method), est, draws, weights)


def _expressed(family, source, target):
    """Estimates of ``source``'s parametrisation re-expressed in ``target``'s names
    (``Family.reexpress``).  A point maps as a point; posterior draws map draw by draw, so
    their mean and sd are those of the re-expressed quantities.  Without draws (an optimum's
    Laplace sd) only the sds of names that mean the same in both are kept; MCSEs likewise."""

    def express(est, draws=None, weights=None):
        if est.status != "ok":
            return est
        mean, same = family.reexpress(est.mean, source, target)
        sd = {k: v for k, v in est.sd.items() if k in same}
        mcse = {k: v for k, v in est.mcse_mean.items() if k in same}
        if draws is not None and weights is not None:  # reweighted draws: weighted moments
            mapped, _ = family.reexpress(draws, source, target)
            chains = est.info["chains"]
            r_eff = (
                {}  # independent draws: relative efficiency 1
                if est.info.get("independent draws")
                else {k: R.relative_efficiency(v, chains) for k, v in mapped.items()}
            )
            mean, sd, mcse = R.weighted_moments(mapped, weights, r_eff)
        elif draws is not None:  # NUTS draws: their means, sds and MCSEs
            from arviz_stats.base import array_stats

            mapped, _ = family.reexpress(draws, source, target)
            mean = {k: float(np.mean(v)) for k, v in mapped.items()}
            sd = {k: float(np.std(v, ddof=1)) for k, v in mapped.items()}
            chains = est.info["chains"]
            with np.errstate(invalid="ignore", divide="ignore"):  # constant draws: NaN
                mcse = {
                    k: float(array_stats.mcse(np.reshape(v, (chains, -1)), method="mean"))
                    for k, v in mapped.items()
                }
        return replace(est, mean=mean, sd=sd, mcse_mean=mcse)

    return express


@dataclass
class _Ctx(E.Context):
    max_starts: int | None = None


def prior_strength(
    data: Dataset,
    case: CaseConfig,
    cfg: RunConfig,
    cache: E.ModelCache,
    progress=None,
    mle: tuple | None = None,
    reweight: bool = True,
) -> dict | None:
    """The prior-strength sweep of one case (None when its family offers none here), shown in
    the swept prior's parameters or in those of the family's ``Sweep.shown_as`` prior.
    ``mle``: (flat problem, the MLE's values), drawn as the τ → ∞ limit.  ``reweight=False``
    runs NUTS (``SweepConfig.draws``) at every point instead of the anchored reweighting (the
    benchmark's reference)."""
    family = get_family(case.family)
    sweep = family.sweep(case.settings, tuple(data.feature_names))
    if sweep is None:
        return None
    sc = SweepConfig.for_run(cfg)
    grid = [float(v) for v in sweep.grid(np.asarray(sc.tau_units))]
    problems = [
        make_problem(family, data, sweep.with_value(case.settings, v), sweep.prior) for v in grid
    ]
    shown = make_problem(family, data, case.settings, sweep.shown_as) if sweep.shown_as else None
    target = shown or problems[0]
    names = target.layout.names
    paths: dict[str, dict] = {}
    labels = {"find_map": "find_MAP", "laplace": "Laplace sd at find_MAP"}
    before, first, timings = cache.counts(), None, []
    seconds = [None] * len(grid)  # per grid point, in grid order
    task = progress.task(f"{case.name}: {sweep.symbol} sweep", len(grid)) if progress else None
    # the posterior from the weak end (where the prior ratio to the next point is bounded)
    order = range(len(grid) - 1, -1, -1) if sweep.stronger == "small" else range(len(grid))
    mapped = (lambda p, d: family.reexpress(d, p, shown)[0]) if shown else None
    anchored = Anchored(sweep, sc.anchor_draws, mapped) if reweight and sweep.log_prior else None
    for i in order:
        problem = problems[i]
        seeds = {
            k: child_seed(cfg.seed, case.name, "sweep", sweep.prior, str(i), k)
            for k in ("find_map", "nuts", "ppc", "reference")
        }
        ctx = _Ctx(
            family, problem, sc.draws, sc.tune, sc.chains, seeds, cache, max_starts=sweep.max_starts
        )
        t0 = time.perf_counter()
        posterior = (lambda c, fm, v=grid[i]: anchored(c, v, fm)) if anchored else None
        with E.quiet():
            express = _expressed(family, problem, shown) if shown else None
            _point(ctx, sweep.methods, names, paths, i, len(grid), labels, express, posterior)
        timings.append(time.perf_counter() - t0)
        seconds[i] = round(timings[-1], 3)
        first = first or cache.counts()
        if task:
            task.advance()
    after = cache.counts()
    groups = {g: target.layout.group(g) for g in target.layout.groups}
    limit, same = family.reexpress(mle[1], mle[0], target) if mle else (None, frozenset())
    moved = sorted(set(limit or ()) - same)
    posterior = [m for m in sweep.methods if m in ("nuts", "exact_posterior") and m in paths]
    refs = [m for m in sweep.methods if m in paths and m not in posterior]
    methods = [m for m in paths.get("nuts", {}).get("method", []) if m] if anchored else []
    n_nuts = sum(m == "nuts" for m in methods)
    n_laplace = sum(m == LAPLACE_METHOD for m in methods)
    n_reweighted = len(methods) - n_nuts - n_laplace
    kinds = [
        f"at {n_reweighted} points (open diamonds) the draws of the nearest weaker-prior NUTS "
        "point reweighted by the prior ratio (Pareto-smoothed importance sampling)"
        if n_reweighted
        else "",
        f"at {n_laplace} points (open squares) importance sampling from the Laplace "
        f"approximation at the point's find_MAP mode ({R.LAPLACE_DRAWS} independent draws "
        f"from a multivariate t({R.PROPOSAL_DF:g}), Pareto-smoothed weights)"
        if n_laplace
        else "",
    ]
    kinds = [k for k in kinds if k]
    band = (
        f"The posterior band: NUTS ({sc.chains} × {sc.anchor_draws} draws"
        + (
            f", nutpie's low-rank modified mass matrix, target acceptance "
            f"{LOW_RANK_TARGET_ACCEPT:g}"
            if sweep.low_rank
            else ""
        )
        + f"; filled diamonds) at {n_nuts} of {len(grid)} points"
        + (
            f"; elsewhere an approximation, accepted where its Pareto k̂ is within the "
            f"threshold and its weighted ESS is at least {R.MIN_ESS}: " + "; ".join(kinds)
            if kinds
            else ""
        )
        + ". "
        if anchored and methods
        else ""
    )
    return {
        "kind": "prior_strength",
        "prior": sweep.prior,
        "symbol": sweep.symbol,
        "case_value": sweep.value,
        "stronger": sweep.stronger,
        "grid": grid,
        "groups": groups,
        "paths": paths,
        "mle": limit,
        "sampler": {
            "draws": sc.anchor_draws if anchored else sc.draws,
            "tune": sc.tune,
            "chains": sc.chains,
        },
        "posterior": (
            {
                "scheme": "from the weak end: PSIS reweighting of the latest NUTS anchor's "
                "draws, else importance sampling from the Laplace approximation, else NUTS "
                "(analyses/sweep_posterior.py, analyses/reweight.py)",
                "nuts points": n_nuts,
                "reweighted points": n_reweighted,
                "laplace importance points": n_laplace,
                "min ess": R.MIN_ESS,
            }
            if anchored
            else None
        ),
        "cost": _cost(timings, before, first, after) | {"seconds per point": seconds},
        "note": sweep.note,
        "title": f"Prior-strength sweep: {sweep.symbol} of the {sweep.prior} prior",
        "caption": (
            f"Each estimate as {sweep.symbol} runs over {len(grid)} points "
            f"({grid[0]:.3g} to {grid[-1]:.3g}; the case's {sweep.symbol} = {sweep.value:g} is "
            "marked). Solid: find_MAP (the MAP)"
            + (f"; markers: the references at the same {sweep.symbol}" if refs else "")
            + ("; shaded: posterior mean ± sd" if posterior else "")
            + ". "
            + band
            + (
                "A weak prior (large τ) gives the MLE (dashed lines, where it exists); a strong "
                "one (small τ) shrinks every weight to 0. "
                if sweep.stronger == "small"
                else "α → 1 gives the MLE (dashed lines); a large α pulls every class "
                "probability towards 1/K. "
            )
            + (
                f"The MLE of {len(moved)} parameters ({', '.join(moved[:3])}"
                f"{' …' if len(moved) > 3 else ''}) is drawn re-expressed in this prior's "
                "parameters (the same model point; the one the MAP approaches as τ → ∞). "
                if moved
                else ""
            )
            + (
                f"Every estimate under the {sweep.prior} prior is shown in the {sweep.shown_as} "
                "prior's parameters (the same model point; posterior draws mapped one by one). "
                if shown
                else ""
            )
            + (f"Note: {sweep.note}." if sweep.note else "")
        ),
    }


def sample_size(
    sized, case: CaseConfig, cfg: RunConfig, cache: E.ModelCache, progress=None
) -> dict | None:
    """The sample-size sweep of a case with a data generator ``sized(seed, n)``: nested
    random subsets of one sample of N_MAX rows."""
    family = get_family(case.family)
    sc = SweepConfig.for_run(cfg)
    full = sized(child_seed(cfg.seed, case.name, "sweep", "data"), max(sc.n_grid))
    order = np.random.default_rng(child_seed(cfg.seed, case.name, "sweep", "order")).permutation(
        len(full.y)
    )
    priors = [p for p in ("flat", "gaussian") if p in family.priors]
    sweep = family.sweep(case.settings, tuple(full.feature_names))
    posterior = next(
        (m for m in (sweep.methods if sweep else ()) if m in ("exact_posterior", "nuts")), None
    )
    paths: dict[str, dict] = {}
    names: list[str] = []
    reexpressed: set[str] = set()
    before, first, timings = cache.counts(), None, []
    task = progress.task(f"{case.name}: n sweep", len(sc.n_grid)) if progress else None
    for i, n in enumerate(sc.n_grid):
        rows = np.sort(order[:n])
        subset = {role: v[rows] for role, v in full.rows.items()}
        data = replace(full, X=full.X[rows], y=full.y[rows], rows=subset)
        t0 = time.perf_counter()
        reference = None  # the first prior's problem: its names (the truth's) are plotted
        for prior in priors:
            problem = make_problem(family, data, case.settings, prior)
            if reference is None:
                reference = problem
            names = names or problem.layout.names
            express = None if problem is reference else _expressed(family, problem, reference)
            if express and set(problem.layout.names) != set(reference.layout.names):
                reexpressed.add(prior)
            seeds = {
                k: child_seed(cfg.seed, case.name, "n sweep", prior, str(n), k)
                for k in ("find_map", "nuts", "ppc", "reference")
            }
            ctx = _Ctx(family, problem, sc.draws, sc.tune, sc.chains, seeds, cache)
            mle = prior == "flat"
            labels = {
                "find_map": "MLE (find_MAP, flat)" if mle else "MAP (find_MAP, gaussian)",
                "laplace": "Laplace sd at the MLE" if mle else "Laplace sd at the MAP",
                posterior: "posterior (gaussian)",
            }
            methods = () if mle or posterior is None else (posterior,)
            with E.quiet():
                _point(
                    ctx, methods, names, paths, i, len(sc.n_grid), labels, express, laplace_or_nuts
                )
        timings.append(time.perf_counter() - t0)
        first = first or cache.counts()
        if task:
            task.advance()
    after = cache.counts()
    return {
        "kind": "sample_size",
        "grid": list(sc.n_grid),
        "names": names,
        "truth": dict(full.truth or {}),
        "paths": paths,
        "sampler": {"draws": sc.draws, "tune": sc.tune, "chains": sc.chains},
        "cost": _cost(timings, before, first, after),
        "title": "Sample-size sweep: estimates and their sd against n",
        "caption": (
            f"Nested random subsets (n = {sc.n_grid[0]} … {sc.n_grid[-1]}) of one simulated "
            "sample of the case's generator, with the case's priors. Left: the MLE, the MAP and "
            "the posterior mean approach the truth (dashed) and each other. Right, on log axes: "
            "the Laplace sd and the posterior sd fall as 1/√n (dotted reference lines of slope "
            "−½ through the largest n), as the Bernstein–von Mises theorem predicts; where the "
            "MLE does not exist at small n (separation) its points are missing."
            + _posterior_methods(paths.get("posterior (gaussian)", {}))
            + (
                f" The {', '.join(sorted(reexpressed))} prior parametrises the model "
                f"differently: its estimates are shown in the {priors[0]} prior's parameters "
                "(the same model point; posterior draws mapped one by one), and its Laplace sd "
                "only for the parameters that mean the same under both."
                if reexpressed
                else ""
            )
        ),
    }


def _posterior_methods(path: dict) -> str:
    """How the sample-size sweep's posterior was got at its points, for the caption."""
    methods = [m for m in path.get("method", []) if m]
    laplace = sum(m == LAPLACE_METHOD for m in methods)
    if not laplace:
        return ""
    return (
        f" The posterior at {laplace} of {len(methods)} sizes is an approximation, importance "
        f"sampling from the Laplace approximation at find_MAP's mode ({R.LAPLACE_DRAWS} draws "
        f"from a multivariate t({R.PROPOSAL_DF:g}), accepted where its Pareto k̂ is within "
        f"the threshold and its weighted ESS at least {R.MIN_ESS}); NUTS at the others."
    )


def sweep_warnings(sweep: dict) -> list[str]:
    """The case warnings a sweep raises: per path, the grid points where an estimator failed,
    and where NUTS's diagnostics (divergences, r_hat, bulk ESS) flagged the draws.  Points
    where an estimator is unavailable by design (no MLE under separation) are not warnings:
    the figure leaves them out and says why."""
    symbol = sweep.get("symbol", "n")
    out = []
    for label, path in sweep["paths"].items():
        n_points = len(path["status"])
        failed = [int(i) for i, st in enumerate(path["status"]) if st == "failed"]
        for what, points, first in (
            ("failed", failed, path["reason"].get(str(failed[0]), "") if failed else ""),
            (
                "NUTS diagnostics flagged",
                sorted(int(i) for i in path.get("diagnostics", {})),
                "; ".join(next(iter(path.get("diagnostics", {}).values()), [])),
            ),
        ):
            if points:
                at = ", ".join(f"{sweep['grid'][i]:.3g}" for i in points[:4])
                out.append(
                    f"{sweep['title']}: {label} {what} at {len(points)} of {n_points} points "
                    f"({symbol} = {at}{' …' if len(points) > 4 else ''}): {first}"
                )
    return out


def _cost(timings, before, first, after) -> dict:
    """Seconds for the first point (which may compile) and per later point, and what the
    sweep added to the model cache: at the first point (nothing when the case's own fit
    built the structure) and after it (one model per structure: nothing)."""
    later = timings[1:] or timings
    return {
        "points": len(timings),
        "first point (s)": round(timings[0], 3) if timings else None,
        "per later point (s)": round(float(np.mean(later)), 3) if later else None,
        "total (s)": round(float(np.sum(timings)), 3),
        "built at the first point": {k: first[k] - before[k] for k in before} if first else {},
        "built after the first point": {k: after[k] - first[k] for k in after} if first else {},
    }
