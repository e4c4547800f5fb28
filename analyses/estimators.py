"""Estimators, each computed independently from the data and the model (none starts from
another's answer): the family's references (closed forms, library fits) and the PyMC ones,
find_map, laplace and nuts, which are the same for every family.

Every estimator runs guarded: it returns an ``Estimate`` whose ``status`` is "ok",
"unavailable" (the estimate does not exist here, or needs an input that does not; with the
reason) or "failed" (an exception or a failed convergence check; with the reason).  Nothing
raises out of this module for a problem in one estimator.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr  # noqa: TID253

from nll_losses.analyses import interrupts, thinning
from nll_losses.analyses.config import child_seed
from nll_losses.analyses.results import Estimate
from nll_losses.analyses.sampling import compile_nutpie_route
from nll_losses.models.family import Built, Problem, Unavailable

PPC_DRAWS = 400  # posterior predictive replicates kept per fit
# NUTS draws are flagged below this bulk ESS per chain (Vehtari et al. 2021, Bayesian Analysis
# 16(2): "at least 100 per chain", as Stan's ess_bulk documentation and PyMC's own sampler
# warning say) or above this R-hat (the same paper's 1.01)
MIN_ESS_BULK_PER_CHAIN = 100
MAX_R_HAT = 1.01


def configure_pytensor() -> None:
    """Compile without fastmath, so a fresh compile and a cached one compute the same bits.

    PyTensor's Numba linker defaults to fastmath (reassociation, contraction, ...), which lets
    LLVM reorder floating-point sums differently from one compilation to the next; NUTS
    amplifies a last-bit difference into different draws.  IEEE semantics make every
    compilation evaluate the same expression in the same order.  Must run before the first
    compile (it changes the generated code, hence also the cache entries used).

    The C backend links no BLAS library here (PyTensor from pip): its BLAS Ops then call
    NumPy's, which is what we want for these small problems; say so instead of warning."""
    import pytensor

    pytensor.config.numba__fastmath = False
    if "blas__ldflags" not in os.environ.get("PYTENSOR_FLAGS", ""):
        pytensor.config.blas__ldflags = ""  # skip the library search and its warning
    logging.getLogger("pytensor.tensor.blas").setLevel(logging.ERROR)


def backend() -> str:
    """PyTensor backend for find_MAP, its Newton refinement, the deterministics and the
    predictive draws: "c" when a C++ compiler is configured, else "numba".

    These are many graphs called a few hundred times each.  The C backend caches compiled
    code per Op, which every new graph reuses; Numba compiles each whole graph through LLVM.
    Measured here with empty caches (benchmarks/bench_cases.py): find_MAP on the five
    built-in cases 470 s with Numba, about 75 s with C.  NUTS, which calls one graph
    hundreds of thousands of times, keeps Numba (analyses/sampling.py)."""
    import pytensor

    return "c" if pytensor.config.cxx else "numba"


def compile_mode():
    """The PyTensor mode of :func:`backend`, for ``compile_fn``-style calls."""
    from pytensor.compile.mode import get_mode

    return get_mode("CVM" if backend() == "c" else "NUMBA")


def python_mode():
    """PyTensor's Python linker (each Op's NumPy implementation) with every rewrite of the C
    mode, the stabilising ones included, less elementwise fusion (a fused Op would run element
    by element in Python): nothing to compile, for functions called a few times per fit,
    where a cold C compile costs tens of seconds (see
    :func:`analyses.map_functions.compile_hessian`)."""
    from pytensor.compile.mode import Mode

    return Mode(linker="py", optimizer="fast_run").excluding("fusion")


@dataclass
class Context:
    """What one (dataset, prior) fit needs: the family, the problem, seeds, sampler settings."""

    family: object  # a models.family.Family
    problem: Problem
    draws: int
    tune: int
    chains: int
    seeds: dict[str, int]
    cache: ModelCache
    # nutpie's low-rank modified mass matrix instead of its diagonal one (the τ sweep's NUTS
    # points, whose posteriors turn strongly correlated at weak priors; benchmarks/RESULTS.md)
    low_rank: bool = False
    # nutpie's target acceptance rate (None: its default, 0.8)
    target_accept: float | None = None

    @property
    def prior(self) -> str:
        return self.problem.prior

    def estimate(self, method: str, **kw) -> Estimate:
        return Estimate(method=method, prior=self.prior, **kw)

    def failed(self, method: str, exc: BaseException) -> Estimate:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return self.estimate(method, status="failed", reason=f"{type(exc).__name__}: {msg}")


class ModelCache:
    """Compiled PyMC/nutpie models keyed by structure, refilled with ``pm.set_data``.

    Numba compilation costs 6-60 s per new graph, sampling well under a second here: build each
    structure once per process and feed it new data and prior scales (pm.Data).
    """

    def __init__(self):
        configure_pytensor()
        self._models: dict[tuple, object] = {}
        self._nutpie: dict[tuple, object] = {}
        self._functions: dict[tuple, object] = {}
        self.routes: dict[tuple, str] = {}  # the gradient route of each nutpie sampler
        # PyMC calls that compile their own function on every call, counted here
        self.per_call: dict[str, int] = {"pm.sample_posterior_predictive": 0}
        self.compile_seconds = 0.0  # nutpie compilation, for the benchmark

    def model(self, family, problem: Problem):
        built = family.build_model(problem)
        key = (built.key, tuple(problem.features))
        if key not in self._models:
            self._models[key] = built
            return built, key
        import pymc as pm

        first = self._models[key]
        # n is not part of the key: dims whose length differs (the observations) are resized
        resized = {
            dim: values
            for dim, values in built.model.coords.items()
            if len(values) != len(first.model.coords.get(dim, ()))
        }
        with first.model:
            pm.set_data(built.data, coords=resized or None)
        return replace(built, model=first.model), key

    def counts(self) -> dict[str, int]:
        """How many models, compiled functions and nutpie samplers this cache has built, each
        once per structure (a sweep must not add to them after its first grid point), and the
        PyMC calls that compile on every call (``per_call``)."""
        return {
            "models": len(self._models),
            "functions": len(self._functions),
            "nutpie": len(self._nutpie),
        } | self.per_call

    def function(self, model, name: str, compile_fn):
        """A compiled PyTensor function of ``model``, built once: it reads the model's pm.Data
        (shared variables) at call time, so new data and priors need no recompilation."""
        key = (id(model), name)
        if key not in self._functions:
            self._functions[key] = compile_fn()
        return self._functions[key]

    def sampler(self, key, model):
        """nutpie's sampler for this structure (an ``analyses.sampling.Sampler``: the nutpie
        model, the pm.Data it reads, its log density callable from Python), compiled once per
        process (see analyses/sampling.py for the routes and why not
        ``nutpie.compile_pymc_model``)."""
        if key not in self._nutpie:
            t0 = time.perf_counter()
            # only the free variables are stored; add_deterministics() adds the rest.  The
            # pm.Data stay inputs, so with_data() swaps datasets and priors.
            free = [rv.name for rv in model.free_RVs]
            self._nutpie[key], self.routes[key] = compile_nutpie_route(model, free)
            self.compile_seconds += time.perf_counter() - t0
        return self._nutpie[key]

    def nutpie(self, key, model, data):
        """nutpie's model for this structure (:meth:`sampler`) with ``data``."""
        compiled, known, _, _ = self.sampler(key, model)
        return compiled.with_data(**{k: v for k, v in data.items() if k in known})


@contextlib.contextmanager
def quiet():
    """Silence PyMC's INFO logging and known-noisy warnings for the duration of a fit."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            yield
        finally:
            logger.setLevel(level)


# ------------------------------------------------------------------------------ references
def reference(ctx: Context, name: str, done: dict[str, Estimate]) -> Estimate:
    """One of the family's declared references, guarded; ``done`` holds earlier estimates of
    this prior (for its ``needs``)."""
    ref = ctx.family.references()[name]
    support = ctx.family.supports(name, ctx.problem)
    if not support.ok:
        return ctx.estimate(name, status="unavailable", reason=support.reason)
    inputs = {}
    for need in ref.needs:
        est = done.get(f"{need}_{ctx.prior}")
        if est is None or est.status != "ok":
            why = "was not run" if est is None else f"is {est.status}: {est.reason}"
            return ctx.estimate(name, status="unavailable", reason=f"needs {need}, which {why}")
        inputs[need] = {"mean": est.mean, "sd": est.sd, "info": est.info}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            args = (ctx.seeds["reference"],) if ref.seeded else ()
            r = ref.fit(ctx.problem, inputs, *args)
    except Unavailable as exc:
        return ctx.estimate(name, status="unavailable", reason=str(exc))
    except Exception as exc:  # guarded: any error becomes a failed estimate with its reason
        return ctx.failed(name, exc)
    return ctx.estimate(
        name,
        mean=r["mean"],
        sd=r.get("sd", {}),
        mcse_mean=r.get("mcse_mean", {}),
        info=r.get("info", {}),
    )


# ------------------------------------------------------------------------------ NUTS
def nuts(ctx: Context, predictive: bool = True) -> tuple[Estimate, object]:
    """NUTS (nutpie) on the compiled model, guarded; (estimate, DataTree or None).
    ``predictive=False`` (the sweeps) skips the posterior predictive draws, whose
    ``pm.sample_posterior_predictive`` compiles a new function on every call."""
    support = ctx.family.supports("nuts", ctx.problem)
    if not support.ok:
        return ctx.estimate("nuts", status="unavailable", reason=support.reason), None
    try:
        return _nuts(ctx, predictive)
    except Exception as exc:  # guarded
        return ctx.failed("nuts", exc), None


def _nuts(ctx: Context, predictive: bool = True) -> tuple[Estimate, object]:
    import arviz as az
    import nutpie

    built, key = ctx.cache.model(ctx.family, ctx.problem)
    layout = ctx.problem.layout
    with quiet():
        compiled = ctx.cache.nutpie(key, built.model, built.data)
        idata = interrupts.nutpie_sample(
            compiled,
            draws=ctx.draws,
            tune=ctx.tune,
            chains=ctx.chains,
            # one thread: the draws do not depend on it (each chain has its own seeded
            # stream), and the machine's other core is for another case or grid point
            # (with the Python-callable route, threads would only contend for the GIL)
            cores=1,
            seed=ctx.seeds["nuts"],
            progress_bar=False,
            save_warmup=False,
            low_rank_modified_mass_matrix=ctx.low_rank,
            **({"target_accept": ctx.target_accept} if ctx.target_accept else {}),
        )
        # nutpie returns the draws so far on a KeyboardInterrupt: never a result
        interrupts.raise_if_partial(idata, ctx.draws, ctx.chains)
        add_deterministics(idata, built.model, layout.var_names, ctx.cache)
    kept = _add_predictive(ctx, built, idata) if predictive else None
    var_names = [v for v in layout.var_names if v in idata.posterior.data_vars]
    with warnings.catch_warnings():
        # a deterministic whose draws are all equal (a probability that rounds to 1.0) has
        # 0/0 in its r_hat and ESS: NaN, handled below rather than printed
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        summ = az.summary(idata, var_names=var_names, round_to="none")
    post = idata.posterior.dataset
    mean = layout.reduce(post)
    sd = layout.reduce(post, stat=lambda v: np.std(v, ddof=1))
    rows = {p.name: p.label for p in layout.params if p.name in mean}

    def column(col):
        return {name: float(summ.loc[row, col]) for name, row in rows.items()}

    mcse, r_hat, ess_bulk, ess_tail = (
        column(c) for c in ("mcse_mean", "r_hat", "ess_bulk", "ess_tail")
    )
    divergences = int(idata.sample_stats["diverging"].sum())
    info = {
        "sampler": f"nutpie {nutpie.__version__}",
        "gradient route": ctx.cache.routes.get(key),
        "draws": ctx.draws,
        "tune": ctx.tune,
        "chains": ctx.chains,
        "mass matrix": "diagonal plus low rank" if ctx.low_rank else "diagonal",
        "target accept": ctx.target_accept or 0.8,
        "seed": ctx.seeds["nuts"],
        "divergences": divergences,
        "max_r_hat": _finite(max, r_hat),
        "min_ess_bulk": _finite(min, ess_bulk),
        "min_ess_tail": _finite(min, ess_tail),
        "mcse_sd": column("mcse_sd"),
        "r_hat": r_hat,
        "ess_bulk": ess_bulk,
    }
    if kept is not None:
        info["posterior predictive"] = kept
    free = {rv.name for rv in built.model.free_RVs}
    stuck = [nm for nm, v in r_hat.items() if not np.isfinite(v) and layout.param(nm).var in free]
    problems = nuts_problems(
        divergences, stuck, info["max_r_hat"], info["min_ess_bulk"], ctx.chains
    )
    info["diagnostics_ok"] = not problems
    info["diagnostics_problems"] = problems
    return ctx.estimate("nuts", mean=mean, sd=sd, mcse_mean=mcse, info=info), idata


def nuts_problems(divergences: int, stuck, max_r_hat: float, min_ess_bulk: float, chains: int):
    """What NUTS's diagnostics flag, one line each: divergent transitions, parameters whose
    draws do not vary (``stuck``: a free parameter the sampler did not move), R-hat above
    MAX_R_HAT, bulk ESS below MIN_ESS_BULK_PER_CHAIN per chain (NaN: not flagged here)."""
    problems = []
    if divergences:
        problems.append(f"{divergences} divergent transitions")
    if stuck:
        problems.append(f"r_hat not finite for {', '.join(stuck[:3])} (its draws do not vary)")
    if max_r_hat > MAX_R_HAT:
        problems.append(f"r_hat up to {max_r_hat:.3f} (> {MAX_R_HAT:g})")
    floor = MIN_ESS_BULK_PER_CHAIN * chains
    if min_ess_bulk < floor:
        problems.append(f"bulk ESS as low as {min_ess_bulk:.0f} (< {floor} for {chains} chains)")
    return problems


def _add_predictive(ctx: Context, built: Built, idata) -> dict:
    """Posterior predictive draws and their observed copy, bounded in size whatever n is: at
    most ``PPC_DRAWS`` posterior draws (the check plots ~50 replicates) and at most
    ``thinning.MAX_ROWS`` rows (a seeded subset above that; its 0-based row numbers are the
    ``obs`` coordinate).  A family whose model has no per-row observed variable (the Gaussian
    sufficient-statistics likelihood) gives ``Built.extra["predictive"]``, which draws the rows
    asked for in NumPy; otherwise ``pm.sample_posterior_predictive`` draws every row."""
    import pymc as pm

    n = ctx.problem.n
    rows = thinning.rows(n, child_seed(ctx.seeds["ppc"], "rows"))
    thin = max(1, -(-ctx.draws * ctx.chains // PPC_DRAWS))
    post = idata.posterior.dataset.isel(draw=slice(None, None, thin))
    name = built.observed
    coords = {"chain": post["chain"].values, "draw": post["draw"].values, "obs": rows}
    if "predictive" in built.extra:
        rep = built.extra["predictive"](post, rows, np.random.default_rng(ctx.seeds["ppc"]))
        observed = np.asarray(built.extra["observed_values"])[rows]
        ppc = xr.Dataset({name: (("chain", "draw", "obs"), rep)}, coords=coords)
        obs = xr.Dataset({name: (("obs",), observed)}, coords={"obs": rows})
    else:
        with quiet(), built.model, warnings.catch_warnings():
            # Our Potentials are the priors; they already shaped the posterior draws, and y
            # given a draw does not depend on them, so the predictive draws are exact.
            warnings.filterwarnings("ignore", message="The effect of Potentials")
            ctx.cache.per_call["pm.sample_posterior_predictive"] += 1
            drawn = pm.sample_posterior_predictive(
                post,
                random_seed=ctx.seeds["ppc"],
                progressbar=False,
                backend=backend(),
                var_names=[name],
                # the draws are the posterior's: nothing upstream is to be resampled
                freeze_vars=[rv.name for rv in built.model.free_RVs],
            )
        rep = drawn["posterior_predictive"].dataset[name]
        observed = drawn["observed_data"].dataset[name]
        obs_dim = rep.dims[-1]
        ppc = xr.Dataset(
            {name: (("chain", "draw", "obs"), rep.isel({obs_dim: rows}).values)}, coords=coords
        )
        obs = xr.Dataset(
            {name: (("obs",), observed.isel({observed.dims[-1]: rows}).values)},
            coords={"obs": rows},
        )
    idata["posterior_predictive"] = ppc
    idata["observed_data"] = obs
    return {
        "rows": len(rows),
        "of": n,
        "draws": int(post.sizes["chain"] * post.sizes["draw"]),
        "row selection": "all rows"
        if len(rows) == n
        else f"seeded random subset (seed {child_seed(ctx.seeds['ppc'], 'rows')})",
    }


def _finite(extreme, values: dict[str, float]) -> float:
    """max or min over the finite values (NaN where there is none): a NaN must not decide
    the extreme (Python's max keeps a leading NaN), nor hide a value beyond a threshold."""
    finite = [v for v in values.values() if np.isfinite(v)]
    return float(extreme(finite)) if finite else float("nan")


def add_deterministics(idata, model, var_names, cache: ModelCache) -> None:
    """Add the model's deterministics ``var_names`` to ``idata.posterior``, draw by draw, with
    one compiled function of the free variables (cached per model, so priors and datasets of
    the same structure reuse it)."""
    have = set(idata.posterior.data_vars)
    outs = [model[v] for v in var_names if v in model.named_vars and v not in have]
    if not outs:
        return
    fn = cache.function(
        model,
        "deterministics of free variables",
        lambda: model.compile_fn(
            outs, inputs=model.free_RVs, on_unused_input="ignore", mode=compile_mode()
        ),
    )
    post = idata.posterior.dataset
    names = [rv.name for rv in model.free_RVs]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    arrays = {nm: post[nm].transpose("chain", "draw", ...).values for nm in names}
    results = [
        [fn({nm: arrays[nm][c, d] for nm in names}) for d in range(draws)] for c in range(chains)
    ]
    for k, out in enumerate(outs):
        dims = ("chain", "draw", *model.named_vars_to_dims.get(out.name, ()))
        values = np.array([[results[c][d][k] for d in range(draws)] for c in range(chains)])
        coords = {d: list(model.coords[d]) for d in dims[2:]}
        idata["posterior"][out.name] = xr.DataArray(values, dims=dims, coords=coords)
