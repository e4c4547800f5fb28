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
from scipy import optimize

from analyses import interrupts, thinning, tolerances
from analyses.config import child_seed
from analyses.results import Estimate
from analyses.sampling import compile_nutpie_route
from models.family import Built, Problem, Start, Support, Unavailable

PPC_DRAWS = 400  # posterior predictive replicates kept per fit


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
    where a cold C compile costs tens of seconds (see :func:`compile_hessian`)."""
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
    # points, whose posteriors turn strongly correlated at weak priors; README Benchmarks)
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
        self.per_call: dict[str, int] = {"pm.find_MAP": 0, "pm.sample_posterior_predictive": 0}
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


# ------------------------------------------------------------------------------ find_MAP
def find_map(
    ctx: Context, compiled: bool = True, max_starts: int | None = None
) -> tuple[Estimate, Estimate | None]:
    """``pm.find_MAP`` and the Laplace approximation at its mode (None when the family does
    not offer it for this problem), guarded.

    Accepted by what matters, not by the optimiser's message: after ``pm.find_MAP``
    (trust-ncg, exact Hessian-vector products, jittered start) and Newton refinement on the
    model's own gradient, the remaining Newton step max_j |(H^-1 g)_j| / sd_j at the final
    point must be at most ``tolerances.FIND_MAP_STEP_TOL`` posterior sds.  "failed" means a
    non-finite objective, a scaled gradient that stays large, or (for a log-concave family) a
    Hessian that is not positive definite; the optimiser's own message is kept in ``info``.

    ``compiled=True`` (the default; every fit and the sweeps): the same optimiser, options,
    jittered starts (drawn as ``pm.find_MAP(jitter=True, random_seed=seed)`` draws them, so the
    relu network's multi-start search starts from the same points by either route),
    refinement and acceptance as ``pm.find_MAP``, but on the model's log density, gradient and
    Hessian built once per model structure (:func:`_compiled_start`), so that nothing is
    compiled twice in a run; ``pm.find_MAP`` (``compiled=False``, kept for the tests that
    compare the two) compiles its own functions on every call and start (about 1 s each here,
    2 s each at 10⁶ rows; the network's 40 starts were 49 s against 24 s compiled, warm, at
    seed 5, keeping the same start's mode).  ``max_starts`` caps a multi-start family.
    """
    support = ctx.family.supports("find_map", ctx.problem)
    if not support.ok:
        un = {"status": "unavailable", "reason": support.reason}
        return ctx.estimate("find_map", **un), ctx.estimate("laplace", **un)
    try:
        fm, lap = _find_map(ctx, support, _compiled_start if compiled else _one_start, max_starts)
    except Exception as exc:  # guarded: never a traceback out of an estimator
        return ctx.failed("find_map", exc), ctx.failed("laplace", exc)
    lap_support = ctx.family.supports("laplace", ctx.problem)
    if not lap_support.offered:
        return fm, None  # not in the family's (estimator x prior) matrix
    if fm.status == "ok" and not lap_support.ok:
        lap = ctx.estimate("laplace", status="unavailable", reason=lap_support.reason)
    return fm, lap


def _find_map(
    ctx: Context, support: Support, one_start, max_starts=None
) -> tuple[Estimate, Estimate]:
    """Run find_MAP from each of the family's starts; keep the accepted mode with the highest
    log posterior; list every start (its objective, criterion or reason) in ``info``."""
    problem = ctx.problem if support.spec is None else replace(ctx.problem, spec=support.spec)
    built, _ = ctx.cache.model(ctx.family, problem)
    starts = ctx.family.map_starts(problem)[:max_starts]
    seeds = [ctx.seeds["find_map"]] + [
        child_seed(ctx.seeds["find_map"], "start", str(k)) for k in range(1, len(starts))
    ]
    runs, listing = [], []
    for start, seed in zip(starts, seeds, strict=True):
        label = start.label
        try:
            r = one_start(ctx, built, start, seed)
        except Exception as exc:  # guarded per start; all starts failing fails the estimate
            r = {"reason": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        runs.append((label, r))
        listing.append(
            {"start": label, "seed": seed}
            | {k: r[k] for k in ("objective", "reason") if k in r}
            | ({"scaled_step": r["info"]["convergence"]["scaled_step"]} if "x" in r else {})
            | {"optimizer message": r.get("info", {}).get("optimizer message")}
        )
    accepted = [(label, r) for label, r in runs if "x" in r]
    if not accepted:
        first = runs[0][1]
        info = dict(first.get("info", {}))
        if len(runs) > 1:
            info["starts"] = listing
        reason = (
            "; ".join(f"{label}: {r['reason']}" for label, r in runs)
            if len(runs) > 1
            else first["reason"]
        )
        f = {"status": "failed", "reason": reason, "info": info}
        return ctx.estimate("find_map", **f), ctx.estimate("laplace", **f)
    label, best = min(accepted, key=lambda lr: lr[1]["objective"])
    info = best["info"]
    if len(runs) > 1:
        info["starts"] = listing
        info["kept"] = label
        distinct = {round(r["objective"], 6) for _, r in accepted}
        if len(distinct) > 1:
            info.setdefault("warnings", []).append(
                f"{len(distinct)} different modes from {len(runs)} starts; the highest "
                f"(from '{label}') is kept"
            )
    if max_starts is not None and max_starts < len(ctx.family.map_starts(problem)):
        info["starts capped"] = f"the first {max_starts} of the family's starts"
    layout = ctx.problem.layout
    point = _deterministics_at(built.model, best["x"], layout.var_names, ctx.cache)
    mean = layout.reduce(point)
    fit = best["fit"]
    laplace = (
        (np.asarray(fit["mean_vector"].values), np.asarray(fit["covariance_matrix"].values))
        if "covariance_matrix" in fit
        else None
    )
    fm = ctx.estimate("find_map", mean=mean, info=info, unconstrained=laplace)
    try:
        sd = ctx.family.laplace_sd(best["fit"], built, point, problem)
        lap = ctx.estimate(
            "laplace",
            mean=dict(mean),
            sd=sd,
            info={
                "hessian": "exact (Hessian-vector products) at the mode",
                "warnings": info["warnings"],
            },
        )
    except Exception as exc:  # guarded
        lap = ctx.failed("laplace", exc)
    return fm, lap


JITTER_RETRIES = 10  # pm.find_MAP's jitter_max_retries
NOT_POSITIVE_DEFINITE = (
    "the Hessian at the final point is not positive definite, but every mode of this model has "
    "a positive-definite one: not a mode"
)


def _step_rejected(check: dict, info: dict) -> dict | None:
    """find_MAP's refusal when Newton refinement ends more than FIND_MAP_STEP_TOL posterior sds
    from a mode (or the step is not a number); None when it is at one."""
    if check["scaled_step"] <= tolerances.FIND_MAP_STEP_TOL:
        return None
    return {
        "reason": f"not at a mode: the remaining Newton step is {check['scaled_step']:.3g} "
        f"posterior sds (> {tolerances.FIND_MAP_STEP_TOL:g}) after refinement",
        "info": info,
    }


def _one_start(ctx: Context, built: Built, start: Start, seed: int) -> dict:
    """One find_MAP run and its Newton refinement: ``{"x", "fit", "objective", "info"}`` when
    accepted, ``{"reason", "info"}`` otherwise."""
    import pymc as pm

    model = built.model
    smooth = ctx.family.smooth(ctx.problem)
    initvals, jitter = dict(start.initvals) or None, True
    with quiet(), warnings.catch_warnings(record=True) as caught, model:
        warnings.simplefilter("always", UserWarning)
        common = dict(
            method=tolerances.FIND_MAP_METHOD if smooth else tolerances.NONSMOOTH_METHOD,
            backend=backend(),
            random_seed=seed,
            progressbar=False,
            options=dict(tolerances.FIND_MAP_OPTIONS if smooth else tolerances.NONSMOOTH_OPTIONS),
        )
        if start.hold:  # first stage: the other value variables, these held at initvals
            free = [v for v in model.value_vars if v.name not in start.hold]
            ctx.cache.per_call["pm.find_MAP"] += 1
            stage = pm.find_MAP(
                vars=free, initvals=initvals, return_inferencedata=False, jitter=True, **common
            )
            initvals, jitter = {v.name: stage[v.name] for v in model.value_vars}, False
        ctx.cache.per_call["pm.find_MAP"] += 1
        mp = pm.find_MAP(
            initvals=initvals,
            return_inferencedata=True,
            jitter=jitter,
            compute_hessian=smooth,
            **common,
        )
    opt = mp["optimizer_result"].dataset
    messages = [
        str(w.message).splitlines()[0] for w in caught if issubclass(w.category, UserWarning)
    ]
    info = {
        "method": str(opt["method"].values),
        "optimizer message": str(opt["message"].values),
        "optimizer success flag": bool(opt["success"].values),
        # a failed optimiser's result may lack fields (no "nit"): its message says why
        "iterations": int(opt["nit"].values) if "nit" in opt else None,
        "objective": float(opt["fun"].values) if "fun" in opt else float("nan"),
        "warnings": messages,
    }
    support_note = ctx.family.supports("find_map", ctx.problem).note
    if support_note:
        info["note"] = support_note
    if not np.isfinite(info["objective"]):
        return {
            "reason": "the objective is not finite at the optimiser's final point",
            "info": info,
        }
    if ctx.family.log_concave and any("not positive definite" in m for m in messages):
        return {"reason": NOT_POSITIVE_DEFINITE, "info": info}
    fit = mp["fit"].dataset
    if not smooth:
        return _nonsmooth_accept(ctx, model, fit, mp, info)
    x, check = _newton_refine(model, fit, -np.asarray(opt["jac"].values, float), ctx.cache)
    info["convergence"] = check
    if rejected := _step_rejected(check, info):
        return rejected
    info["optimizer_mean"] = ctx.problem.layout.reduce(
        mp.posterior.dataset.squeeze(("chain", "draw"))
    )
    return {"x": x, "fit": fit, "objective": check["objective"], "info": info}


def _compiled_start(ctx: Context, built: Built, start: Start, seed: int) -> dict:
    """One start of :func:`_one_start`'s algorithm on functions compiled once per model (cached
    in ``ctx.cache``): jittered initial point (U(-1, 1) on every unconstrained value, as
    ``pm.find_MAP(jitter=True)``), the start's held stage, the same scipy optimiser and options
    (trust-ncg with the exact Hessian; L-BFGS-B for a non-smooth family), then the same Newton
    refinement and acceptance."""
    model = built.model
    smooth = ctx.family.smooth(ctx.problem)
    fn = _compiled_functions(model, ctx.cache, many_calls=not smooth)
    rmap = fn["rmap"]

    def f(v):
        return -float(fn["logp"](rmap(v)))

    with np.errstate(all="ignore"):
        x = jittered_start(model, start, seed, lambda v: np.isfinite(f(v)), ctx.cache)

    def g(v):
        return -np.asarray(fn["dlogp"](rmap(v)), dtype=float)

    def h(v):
        # Hessian of -log p; built on first use (a non-smooth family never needs it)
        hess = ctx.cache.function(model, "find_MAP Hessian", lambda: compile_hessian(model))
        return -np.asarray(hess(rmap(v)), dtype=float)

    method = tolerances.FIND_MAP_METHOD if smooth else tolerances.NONSMOOTH_METHOD
    options = dict(tolerances.FIND_MAP_OPTIONS if smooth else tolerances.NONSMOOTH_OPTIONS)
    hess = {"hess": h} if smooth else {}
    if start.hold:  # first stage: these value variables held at their initial values
        free = ~np.isin(fn["owner"], list(start.hold))

        def sub(fun, v):
            full = x.copy()
            full[free] = v
            return fun(full)

        stage = optimize.minimize(
            lambda v: sub(f, v),
            x[free],
            jac=lambda v: sub(g, v)[free],
            method=method,
            options=options,
            **({"hess": lambda v: sub(h, v)[np.ix_(free, free)]} if smooth else {}),
        )
        x = x.copy()
        x[free] = stage.x

    def fg(v):  # -log p and its gradient from one call (L-BFGS-B asks for both at a point)
        lp, dlp = fn["both"](rmap(v))
        return -float(lp), -np.asarray(dlp, dtype=float)

    with np.errstate(all="ignore"):
        if smooth:
            res = optimize.minimize(f, x, jac=g, method=method, options=options, **hess)
        else:
            res = optimize.minimize(fg, x, jac=True, method=method, options=options)
    info = {
        "method": method,
        "optimizer message": str(res.message),
        "optimizer success flag": bool(res.success),
        "iterations": int(res.nit),
        "objective": float(res.fun),
        # as pm.find_MAP's warning
        "warnings": [] if res.success else [f"The optimizer did not converge: {res.message}"],
        "compiled": (
            "log density and gradient built once per model structure: compiled in one "
            "function (PyTensor's Numba backend) for L-BFGS-B"
            if not smooth
            else "log density, gradient and Hessian built once per model structure, run by "
            "PyTensor's Python linker (a few dozen calls per fit)"
        ),
    }
    if not np.isfinite(info["objective"]):
        return {
            "reason": "the objective is not finite at the optimiser's final point",
            "info": info,
        }
    labels = fn["labels"]
    if not smooth:
        info["convergence"] = {
            "criterion": "the log density has kinks (relu): accepted by a finite objective",
            "decided by": "objective value",
            "scaled_step": None,
        }
        fit = xr.Dataset({"mean_vector": ("rows", res.x)}, coords={"rows": labels})
        return {"x": rmap(res.x), "fit": fit, "objective": float(res.fun), "info": info}
    H = h(res.x)
    try:
        np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        if ctx.family.log_concave:
            return {"reason": NOT_POSITIVE_DEFINITE, "info": info}
    cov = np.linalg.inv(H)
    point, check = _refine(model, res.x, cov, -g(res.x), labels, ctx.cache)
    info["convergence"] = check
    if rejected := _step_rejected(check, info):
        return rejected
    fit = xr.Dataset(
        {
            "mean_vector": ("rows", fn["ravel"](point)),
            "covariance_matrix": (("rows", "columns"), cov),
        },
        coords={"rows": labels, "columns": labels},
    )
    return {"x": point, "fit": fit, "objective": check["objective"], "info": info}


def log_density(model, cache: ModelCache, many_calls: bool) -> tuple:
    """(log p, its gradient, both at once) of the unconstrained point, no Jacobian term (as
    find_MAP), built once per model.  ``many_calls`` (L-BFGS-B on the relu network: thousands
    of calls per start, each asking for both): one function of both, as pm.find_MAP's fused
    loss, compiled by PyTensor's Numba backend, as NUTS's log density (one graph called very
    often): on the network, 24 s to compile with empty caches against 29 s for the C
    backend's Ops, and 45 µs a call against 90 µs (README Benchmarks); otherwise (trust-ncg and
    the Newton refinement: a few dozen calls per fit) two functions by the Python linker
    (:func:`python_mode`), which compiles nothing.  By the Python linker the network's 40
    starts took 60 s against 15 s; a smooth fit's C compile, paid by every new graph on a new
    machine, is 10-40 s."""
    if many_calls:
        from pytensor.compile.mode import get_mode

        both = cache.function(
            model,
            "logp and dlogp",
            lambda: model.compile_fn(
                [model.logp(jacobian=False), model.dlogp(jacobian=False)], mode=get_mode("NUMBA")
            ),
        )
        return (lambda point: both(point)[0]), (lambda point: both(point)[1]), both
    mode = python_mode()
    logp = cache.function(
        model, "logp, Python linker", lambda: model.compile_logp(jacobian=False, mode=mode)
    )
    dlogp = cache.function(
        model, "dlogp, Python linker", lambda: model.compile_dlogp(jacobian=False, mode=mode)
    )
    return logp, dlogp, (lambda point: (logp(point), dlogp(point)))


def _compiled_functions(model, cache: ModelCache, many_calls: bool) -> dict:
    """The functions :func:`_compiled_start` needs, built once per model: -log p pieces (no
    Jacobian, as find_MAP; :func:`log_density`) and the ravel/unravel maps of the
    unconstrained vector with its labels (``name[i]``, as find_MAP's ``fit`` group)."""

    def build():
        logp, dlogp, both = log_density(model, cache, many_calls)
        names = [v.name for v in model.value_vars]
        shapes = [np.shape(model.initial_point()[nm]) for nm in names]
        labels, owner = [], []
        for nm, shape in zip(names, shapes, strict=True):
            size = int(np.prod(shape))
            labels += [nm] if shape == () else [f"{nm}[{i}]" for i in range(size)]
            owner += [nm] * size
        return {
            # the same functions the Newton refinement uses (one of each per model)
            "logp": logp,
            "dlogp": dlogp,
            "both": both,
            "ravel": lambda point: _ravel(model, point),
            "rmap": _point_map(model),
            "labels": labels,
            "owner": np.array(owner),
        }

    return cache.function(model, f"compiled find_MAP, many calls: {many_calls}", build)


def jittered_start(model, start: Start, seed: int, finite, cache: ModelCache) -> np.ndarray:
    """The unconstrained start vector ``pm.find_MAP(jitter=True, random_seed=seed)`` draws
    for ``start``: U(-1, 1) jitter on every optimised value (not the held ones), then the
    start's initial values; each draw's seed taken from one generator seeded with ``seed``,
    and redrawn while ``finite(x)`` is false (up to its jitter_max_retries = 10).  So both
    find_MAP routes begin a multi-start search (the relu network's) at the same points."""
    from pymc.initial_point import make_initial_point_fn

    init = cache.function(
        model,
        f"find_MAP initial point, {sorted(start.hold)} held",
        lambda: make_initial_point_fn(
            model=model,
            jitter_rvs={
                model.values_to_rvs[v] for v in model.value_vars if v.name not in start.hold
            },
            return_transformed=True,
        ),
    )
    rng = np.random.default_rng(seed)
    for _ in range(JITTER_RETRIES + 1):
        point = init(int(rng.integers(2**30)))
        point.update({k: np.asarray(v, dtype=float) for k, v in start.initvals.items()})
        x = _ravel(model, point)
        if finite(x):
            break
    return x


def compile_hessian(model):
    """The Hessian of the log density (no Jacobian term, as find_MAP) at a point, built once
    per model for trust-ncg and the Newton refinement, which call it a few dozen times.

    Built column by column from one Hessian-vector product, ``H v = d(∇log p · v)/dx`` (a
    second reverse pass over the gradient; ``H e_j`` is the Jacobian of the gradient's
    column j, the same sums as a Jacobian would take), and run by PyTensor's Python linker
    (each Op's NumPy implementation; elementwise fusion off, since a fused Op would run element
    by element in Python), with every rewrite of the C mode (the stabilising ones included).
    The vectorised Jacobian of the gradient (``pytensor.gradient.jacobian(...,
    vectorize=True)``) gives the same matrix to 2e-15 but its graph takes 8-10 s of rewriting
    for the Jeffreys prior (its Fisher information's log-determinant), against 1.5-2.7 s
    this way, in every new process; a call costs d products (a few ms for d ≤ 11).
    ``model.compile_d2logp`` builds a Scan whose inner graph PyTensor compiles to C of its
    own: 44 s of a 103 s cold fit with the Jeffreys prior."""
    import pytensor
    import pytensor.tensor as pt
    from pymc.pytensorf import rewrite_pregrad

    value_vars = model.continuous_value_vars
    cost = rewrite_pregrad(model.logp(jacobian=False))
    grad = pt.concatenate([pt.flatten(g) for g in pytensor.grad(cost, value_vars)])
    direction = pt.vector("direction", dtype=grad.dtype)
    product = pytensor.grad(pt.sum(grad * direction), value_vars)
    hessp = model.compile_fn(
        pt.concatenate([pt.flatten(g) for g in product]),
        inputs=[*value_vars, direction],
        mode=python_mode(),
        point_fn=False,
    )
    names = [v.name for v in value_vars]

    def hessian(point: dict) -> np.ndarray:
        args = [point[name] for name in names]
        size = sum(int(np.size(a)) for a in args)
        return np.column_stack([hessp(*args, e) for e in np.eye(size)])

    return hessian


def _ravel(model, point: dict) -> np.ndarray:
    """The unconstrained vector of ``point``: the model's value variables raveled in order
    (the inverse of :func:`_point_map`)."""
    return np.concatenate([np.ravel(point[v.name]) for v in model.value_vars]).astype(float)


def _point_map(model):
    """(rmap: flat unconstrained vector -> point dict) for ``model``'s value variables."""
    from pymc.blocking import DictToArrayBijection, RaveledVars

    layout_info = DictToArrayBijection.map(model.initial_point()).point_map_info
    if [entry[0] for entry in layout_info] != [v.name for v in model.value_vars]:
        raise ValueError("unexpected layout of the unconstrained point")
    return lambda vec: DictToArrayBijection.rmap(RaveledVars(vec, layout_info))


def _nonsmooth_accept(ctx: Context, model, fit, mp, info) -> dict:
    """A start of a model whose log density is not differentiable everywhere (relu kinks,
    where modes often lie): no gradient criterion applies there, so a start is accepted by
    a finite objective, its value decides between starts, and the optimiser's own message
    stays in ``info``."""
    point = _point_map(model)(np.asarray(fit["mean_vector"].values, dtype=float))
    logp, _, _ = log_density(model, ctx.cache, many_calls=True)
    objective = -float(logp(point))
    info["convergence"] = {
        "criterion": "the log density has kinks (relu): accepted by a finite objective; the "
        "best objective over the starts is kept",
        "decided by": "objective value",
        "scaled_step": None,
    }
    if not np.isfinite(objective):
        return {
            "reason": "the objective is not finite at the optimiser's final point",
            "info": info,
        }
    info["optimizer_mean"] = ctx.problem.layout.reduce(
        mp.posterior.dataset.squeeze(("chain", "draw"))
    )
    return {"x": point, "fit": fit, "objective": objective, "info": info}


def _newton_refine(model, fit, grad0, cache: ModelCache, max_steps: int = 20):
    """Newton steps x <- x + C grad log p(x) from find_MAP's optimum, C the exact inverse
    Hessian find_MAP computed there; returns the best point and the convergence check.

    An optimiser that stops on the objective (trust-ncg's failed reduction ratio, L-BFGS-B's
    ftol) cannot place the mode closer than about sqrt(eps |f|) sds: below that the objective's
    rounding noise hides the improvement.  Newton steps depend on the gradient only and reach
    its rounding floor (~eps sds in the whitened coordinates), which matters for coefficients
    far smaller than their sd (NIST Wampler5: beta = 1, sd = 2e7).  Stops when the step, in
    sds, no longer shrinks; the smallest one measured is the convergence criterion.
    """
    labels = [str(v) for v in fit["rows"].values]
    x = np.asarray(fit["mean_vector"].values, dtype=float)
    cov = np.asarray(fit["covariance_matrix"].values, dtype=float)
    return _refine(model, x, cov, grad0, labels, cache, max_steps)


def _refine(model, x, cov, grad0, labels, cache: ModelCache, max_steps: int = 20):
    """:func:`_newton_refine` on arrays: ``x`` the unconstrained optimum, ``cov`` the inverse
    Hessian of -log p there, ``grad0`` the gradient of log p at ``x``."""
    sd = np.sqrt(np.diag(cov))
    if not (np.all(np.isfinite(cov)) and np.all(sd > 0)):
        raise ValueError("the inverse Hessian at the optimum is not finite and positive")
    point = _point_map(model)
    logp, dlogp, _ = log_density(model, cache, many_calls=False)  # smooth models only
    first = float(np.max(np.abs(cov @ grad0) / sd))
    best_x, best, sizes = x, np.inf, []
    for _ in range(max_steps):
        step = cov @ np.asarray(dlogp(point(x)), dtype=float)
        size = float(np.max(np.abs(step) / sd))
        if not np.isfinite(size):
            break
        sizes.append(size)
        if size < best:
            best_x, best = x, size
        else:
            break  # no longer shrinking: the rounding floor
        if size <= 4 * np.finfo(float).eps:
            break
        x = x + step
    check = {
        "objective": -float(logp(point(best_x))),  # -log p (no Jacobian), as find_MAP's
        "criterion": "max_j |(H⁻¹∇log p)_j| / sd_j at the final point (the Newton step still "
        f"to go, in posterior sds) ≤ {tolerances.FIND_MAP_STEP_TOL:g}",
        "decided by": "scaled gradient (not the optimiser's message)",
        "scaled_step": best,
        "scaled_step at the optimiser's point": first,
        "newton steps (in sds)": sizes,
        "unconstrained labels": labels,
    }
    return point(best_x), check


def _deterministics_at(model, point, var_names, cache: ModelCache):
    """The model's variables ``var_names`` at one unconstrained point, as an xarray Dataset."""
    outs = [model[v] for v in var_names if v in model.named_vars]
    fn = cache.function(
        model,
        "deterministics",
        lambda: model.compile_fn(
            model.replace_rvs_by_values(outs),
            inputs=model.value_vars,
            on_unused_input="ignore",
            point_fn=True,
            mode=python_mode(),  # called once per fit
        ),
    )
    values = fn(point)
    dims = {o.name: model.named_vars_to_dims.get(o.name, ()) for o in outs}
    return xr.Dataset(
        {o.name: (dims[o.name], np.asarray(v)) for o, v in zip(outs, values, strict=True)},
        coords={d: list(model.coords[d]) for o in outs for d in dims[o.name]},
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
    problems = []
    if divergences:
        problems.append(f"{divergences} divergent transitions")
    free = {rv.name for rv in built.model.free_RVs}
    stuck = [nm for nm, v in r_hat.items() if not np.isfinite(v) and layout.param(nm).var in free]
    if stuck:  # a free parameter's draws do not vary: the sampler did not move
        problems.append(f"r_hat not finite for {', '.join(stuck[:3])} (its draws do not vary)")
    if info["max_r_hat"] > 1.01:
        problems.append(f"r_hat up to {info['max_r_hat']:.3f} (> 1.01)")
    if info["min_ess_bulk"] < 100 * ctx.chains / 4:
        problems.append(f"bulk ESS as low as {info['min_ess_bulk']:.0f}")
    info["diagnostics_ok"] = not problems
    info["diagnostics_problems"] = problems
    return ctx.estimate("nuts", mean=mean, sd=sd, mcse_mean=mcse, info=info), idata


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
