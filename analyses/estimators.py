"""Estimators, each computed independently from the data and the model (none starts from
another's answer): closed_form, exact_posterior, find_map, laplace, nuts, statsmodels, sklearn.

Every function returns an ``Estimate`` (``analyses.results``); an estimate that cannot be had
is returned with ``status`` "unavailable" or "failed" and a reason.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from analyses import tolerances
from analyses.results import Estimate

PPC_DRAWS = 400  # posterior predictive replicates kept per fit


@dataclass
class Context:
    """What one (dataset, prior) fit needs: data, the family module, its spec, seeds, settings."""

    family: object  # a models.<family> module
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    spec: object
    prior: str
    draws: int
    tune: int
    chains: int
    seeds: dict[str, int]
    cache: ModelCache

    def estimate(self, method: str, **kw) -> Estimate:
        return Estimate(method=method, prior=self.prior, **kw)


class ModelCache:
    """Compiled PyMC/nutpie models keyed by structure, refilled with ``pm.set_data``.

    Numba compilation costs 6-60 s per new graph, sampling well under a second here: build each
    structure once per process and feed it new data and prior scales (pm.Data).
    """

    def __init__(self):
        self._models: dict[tuple, object] = {}
        self._nutpie: dict[tuple, object] = {}
        self._functions: dict[tuple, object] = {}
        self.compile_seconds = 0.0  # nutpie compilation, for the benchmark

    def model(self, ctx: Context):
        built = ctx.family.build_model(ctx.X, ctx.y, ctx.feature_names, ctx.spec)
        key = (built.key, tuple(ctx.feature_names))
        if key not in self._models:
            self._models[key] = built.model
        else:
            import pymc as pm

            with self._models[key]:
                pm.set_data(built.data)
            built.model = self._models[key]
        return built, key

    def function(self, model, name: str, compile_fn):
        """A compiled PyTensor function of ``model``, built once: it reads the model's pm.Data
        (shared variables) at call time, so new data and priors need no recompilation."""
        key = (id(model), name)
        if key not in self._functions:
            self._functions[key] = compile_fn()
        return self._functions[key]

    def nutpie(self, key, model, data):
        import nutpie

        if key not in self._nutpie:
            t0 = time.perf_counter()
            # nutpie's Numba callbacks are not cached on disk, so each process pays this once
            # per structure.  Measured here (warm cache): freeze_model=False 7.5-10.5 s instead
            # of 12-25 s; storing only the free variables (var_names) ~5.6 s, the deterministics
            # being added afterwards by add_deterministics().  The pm.Data stay shared
            # variables, so with_data() swaps datasets and priors without recompiling.
            free = [rv.name for rv in model.free_RVs]
            self._nutpie[key] = nutpie.compile_pymc_model(model, freeze_model=False, var_names=free)
            self.compile_seconds += time.perf_counter() - t0
        compiled = self._nutpie[key]
        # nutpie only knows the pm.Data that the log density actually uses
        known = {str(var) for var in compiled.shared_var_keys}
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


# ------------------------------------------------------------------------------ closed forms
def closed_form(ctx: Context) -> Estimate:
    r = ctx.family.closed_form(ctx.X, ctx.y, ctx.feature_names, ctx.spec)
    return ctx.estimate("closed_form", mean=r["mean"], sd=r["sd"], info=r["info"])


def exact_posterior(ctx: Context) -> Estimate:
    try:
        r = ctx.family.exact_posterior(ctx.X, ctx.y, ctx.feature_names, ctx.spec)
    except ValueError as exc:
        return ctx.estimate("exact_posterior", status="unavailable", reason=str(exc))
    info = dict(r["info"])
    if "student_t" in r:
        info["student_t"] = r["student_t"]
    return ctx.estimate("exact_posterior", mean=r["mean"], sd=r["sd"], info=info)


# ------------------------------------------------------------------------------ find_MAP
def find_map(ctx: Context) -> tuple[Estimate, Estimate]:
    """``pm.find_MAP`` (L-BFGS-B, tight tolerances, jittered start) and the Laplace approximation
    from the exact Hessian at the mode (``compute_hessian=True``: n Hessian-vector products).

    The optimiser's answer is checked: scipy's success flag, a finite objective, and that the
    point moved away from the (jittered) start; otherwise both estimates are "failed".
    """
    import pymc as pm

    built, _ = ctx.cache.model(ctx)
    model = built.model
    with quiet(), warnings.catch_warnings(record=True) as caught, model:
        warnings.simplefilter("always", UserWarning)
        start = model.initial_point(random_seed=ctx.seeds["find_map"])
        mp = pm.find_MAP(
            method="L-BFGS-B",
            return_inferencedata=True,
            jitter=True,
            random_seed=ctx.seeds["find_map"],
            progressbar=False,
            compute_hessian=True,
            options={
                "ftol": tolerances.FIND_MAP_FTOL,
                "gtol": tolerances.FIND_MAP_GTOL,
                "maxiter": 20000,
            },
        )
    opt = mp["optimizer_result"].dataset
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    x = np.asarray(opt["x"].values, dtype=float)
    x0 = np.concatenate([np.ravel(v) for v in start.values()])
    info = {
        "method": str(opt["method"].values),
        "message": str(opt["message"].values),
        "iterations": int(opt["nit"].values),
        "objective": float(opt["fun"].values),
        "grad_max": float(np.max(np.abs(opt["jac"].values))),
        "ftol": tolerances.FIND_MAP_FTOL,
        "gtol": tolerances.FIND_MAP_GTOL,
        "warnings": messages,
    }
    problem = None
    if not bool(opt["success"].values):
        problem = f"optimiser did not converge: {info['message']}"
    elif not np.isfinite(info["objective"]):
        problem = "optimiser returned a non-finite objective"
    elif x.shape == x0.shape and np.allclose(x, x0, rtol=0, atol=0):
        problem = "optimiser returned its starting point"
    elif any("did not converge" in m for m in messages):
        problem = "; ".join(messages)
    if problem:
        failed = {"status": "failed", "reason": problem, "info": info}
        return ctx.estimate("find_map", **failed), ctx.estimate("laplace", **failed)
    lbfgs_point = mp.posterior.dataset.squeeze(("chain", "draw"), drop=True)
    fit = mp["fit"].dataset
    try:
        point, polish = _newton_polish(model, fit, ctx.family.VAR_NAMES, ctx.cache)
    except (ValueError, np.linalg.LinAlgError) as exc:
        failed = {"status": "failed", "reason": f"Newton refinement failed: {exc}", "info": info}
        return ctx.estimate("find_map", **failed), ctx.estimate("laplace", **failed)
    info["newton_refinement"] = polish
    info["lbfgs_mean"] = ctx.family.params_from_posterior(lbfgs_point, ctx.feature_names, ctx.spec)
    mean = ctx.family.params_from_posterior(point, ctx.feature_names, ctx.spec)  # one draw
    fm = ctx.estimate("find_map", mean=mean, info=info)
    try:
        sd = ctx.family.laplace_sd(fit, built, point, ctx.feature_names, ctx.spec)
        lap = ctx.estimate(
            "laplace",
            mean=dict(mean),
            sd=sd,
            info={"hessian": "exact (Hessian-vector products) at the mode", "warnings": messages},
        )
    except (ValueError, np.linalg.LinAlgError) as exc:
        lap = ctx.estimate("laplace", status="failed", reason=str(exc))
    return fm, lap


def _newton_polish(model, fit, var_names, cache: ModelCache, max_steps: int = 20):
    """Newton steps on the model's own log density from find_MAP's optimum.

    L-BFGS-B stops on the relative reduction of the objective, which cannot resolve the mode
    more finely than about sqrt(n * eps) posterior sds (the objective's rounding noise); a
    coefficient far smaller than its sd (NIST Wampler5: beta = 1, sd = 2e7) then gets few correct
    digits.  Newton steps x <- x + Cov @ grad log p, with the exact gradient (PyTensor) and the
    exact inverse Hessian find_MAP computed at its optimum, depend on the gradient only and
    converge to its rounding floor (~eps sds).  This refines find_MAP's own answer; it never sees
    another estimator's.  Stops when the step, in sds, no longer shrinks.
    """
    from pymc.blocking import DictToArrayBijection, RaveledVars

    labels = [str(v) for v in fit["rows"].values]
    x = np.asarray(fit["mean_vector"].values, dtype=float)
    cov = np.asarray(fit["covariance_matrix"].values, dtype=float)
    sd = np.sqrt(np.diag(cov))
    if not (np.all(np.isfinite(cov)) and np.all(sd > 0)):
        raise ValueError("the Hessian at the optimum is not positive definite")
    info = DictToArrayBijection.map(model.initial_point()).point_map_info
    if [entry[0] for entry in info] != [v.name for v in model.value_vars]:
        raise ValueError("unexpected layout of the unconstrained point")

    def point(vec):
        return DictToArrayBijection.rmap(RaveledVars(vec, info))

    dlogp = cache.function(model, "dlogp", lambda: model.compile_dlogp(jacobian=False))
    steps, last = [], np.inf
    for _ in range(max_steps):
        step = cov @ np.asarray(dlogp(point(x)), dtype=float)
        size = float(np.max(np.abs(step) / sd))
        if not np.isfinite(size) or size >= last:
            break
        x, last = x + step, size
        steps.append(size)
        if size <= 4 * np.finfo(float).eps:
            break
    outs = [model[v] for v in var_names if v in model.named_vars]
    fn = cache.function(
        model,
        "deterministics",
        lambda: model.compile_fn(
            model.replace_rvs_by_values(outs),
            inputs=model.value_vars,
            on_unused_input="ignore",
            point_fn=True,
        ),
    )
    values = fn(point(x))

    ds = xr.Dataset(
        {
            o.name: (model.named_vars_to_dims.get(o.name, ()), np.asarray(v))
            for o, v in zip(outs, values, strict=True)
        },
        coords={
            d: list(model.coords[d]) for o in outs for d in model.named_vars_to_dims.get(o.name, ())
        },
    )
    return ds, {"steps (in sds)": steps, "unconstrained labels": labels}


# ------------------------------------------------------------------------------ NUTS
def nuts(ctx: Context) -> tuple[Estimate, object]:
    """NUTS (nutpie) on the compiled model, with ArviZ diagnostics and a posterior predictive."""
    import arviz as az
    import nutpie
    import pymc as pm

    built, key = ctx.cache.model(ctx)
    with quiet():
        compiled = ctx.cache.nutpie(key, built.model, built.data)
        idata = nutpie.sample(
            compiled,
            draws=ctx.draws,
            tune=ctx.tune,
            chains=ctx.chains,
            seed=ctx.seeds["nuts"],
            progress_bar=False,
            save_warmup=False,
        )
        add_deterministics(idata, built.model, ctx.family.VAR_NAMES, ctx.cache)
        with built.model, warnings.catch_warnings():
            # Our Potentials are the priors; they already shaped the posterior draws, and y
            # given a draw does not depend on them, so the predictive draws are exact.
            warnings.filterwarnings("ignore", message="The effect of Potentials")
            # The check plots ~50 replicates; thinning to at most PPC_DRAWS draws keeps the
            # saved posterior small when n is large (n x draws values otherwise).
            thin = max(1, -(-ctx.draws * ctx.chains // PPC_DRAWS))
            ppc = pm.sample_posterior_predictive(
                idata.posterior.dataset.isel(draw=slice(None, None, thin)),
                random_seed=ctx.seeds["ppc"],
                progressbar=False,
                var_names=["y"],
            )
        idata["posterior_predictive"] = ppc["posterior_predictive"]
        idata["observed_data"] = ppc["observed_data"]
    var_names = [v for v in ctx.family.VAR_NAMES if v in idata.posterior.data_vars]
    summ = az.summary(idata, var_names=var_names, round_to="none")
    post = idata.posterior.dataset
    mean = ctx.family.params_from_posterior(post, ctx.feature_names, ctx.spec)
    sd = ctx.family.params_from_posterior(
        post, ctx.feature_names, ctx.spec, stat=lambda v: np.std(v, ddof=1)
    )
    rows = _summary_rows(summ, ctx)
    mcse = {name: float(summ.loc[row, "mcse_mean"]) for name, row in rows.items()}
    mcse_sd = {name: float(summ.loc[row, "mcse_sd"]) for name, row in rows.items()}
    divergences = int(idata.sample_stats["diverging"].sum())
    r_hat = {name: float(summ.loc[row, "r_hat"]) for name, row in rows.items()}
    ess_bulk = {name: float(summ.loc[row, "ess_bulk"]) for name, row in rows.items()}
    ess_tail = {name: float(summ.loc[row, "ess_tail"]) for name, row in rows.items()}
    info = {
        "sampler": f"nutpie {nutpie.__version__}",
        "draws": ctx.draws,
        "tune": ctx.tune,
        "chains": ctx.chains,
        "seed": ctx.seeds["nuts"],
        "divergences": divergences,
        "max_r_hat": max(r_hat.values()),
        "min_ess_bulk": min(ess_bulk.values()),
        "min_ess_tail": min(ess_tail.values()),
        "mcse_sd": mcse_sd,
        "r_hat": r_hat,
        "ess_bulk": ess_bulk,
    }
    problems = []
    if divergences:
        problems.append(f"{divergences} divergent transitions")
    if info["max_r_hat"] > 1.01:
        problems.append(f"r_hat up to {info['max_r_hat']:.3f} (> 1.01)")
    if info["min_ess_bulk"] < 100 * ctx.chains / 4:
        problems.append(f"bulk ESS as low as {info['min_ess_bulk']:.0f}")
    info["diagnostics_ok"] = not problems
    info["diagnostics_problems"] = problems
    est = ctx.estimate("nuts", mean=mean, sd=sd, mcse_mean=mcse, info=info)
    return est, idata


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
        lambda: model.compile_fn(outs, inputs=model.free_RVs, on_unused_input="ignore"),
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


def _summary_rows(summ, ctx) -> dict[str, str]:
    """Map parameter names to ArviZ summary row labels (feature ``x1`` is row ``w[x1]``)."""
    names = ctx.family.parameter_names(ctx.feature_names, ctx.spec)
    features = set(ctx.feature_names)
    return {name: (f"w[{name}]" if name in features else name) for name in names}


# ------------------------------------------------------------------------------ libraries
def statsmodels(ctx: Context, closed: Estimate) -> Estimate:
    r = ctx.family.statsmodels_fit(ctx.X, ctx.y, ctx.feature_names, ctx.spec, closed)
    return _library_estimate(ctx, "statsmodels", r)


def sklearn(ctx: Context, closed: Estimate) -> Estimate:
    r = ctx.family.sklearn_fit(ctx.X, ctx.y, ctx.feature_names, ctx.spec, closed)
    return _library_estimate(ctx, "sklearn", r)


def _library_estimate(ctx, method, r):
    if "unavailable" in r:
        return ctx.estimate(method, status="unavailable", reason=r["unavailable"])
    return ctx.estimate(method, mean=r["mean"], sd=r.get("sd", {}), info=r.get("info", {}))
