"""find_MAP, one for every family, the case and the sweeps: PyMC's ``pm.find_MAP``
algorithm (its jittered start, scipy optimiser and options) on the model's log density,
gradient and Hessian built once per model structure (``analyses.map_functions``), from each of
the family's starts (jittered with the start's own seed); each start accepted by its gradient
and its Newton step at the final point (``analyses.tolerances``), never by the optimiser's
message; the best accepted mode is kept and every start is listed.  Laplace's sd comes from
the Hessian there.  ``pm.find_MAP`` itself compiles its functions on every call and start
(about 1 s each here, 2 s each at 10⁶ rows; the network's 40 starts were 49 s against 24 s,
warm, at seed 5, keeping the same start's mode); tests/analyses/test_find_map.py checks this
one against it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr  # noqa: TID253
from scipy import optimize

from nll_losses.analyses import tolerances
from nll_losses.analyses.config import child_seed
from nll_losses.analyses.estimators import Context, ModelCache, python_mode  # noqa: TID253
from nll_losses.analyses.map_functions import (  # noqa: TID253
    compile_hessian,
    compiled_functions,
    jittered_start,
    log_density,
    point_map,
)
from nll_losses.analyses.results import Estimate
from nll_losses.models.family import Built, Start, Support


# ------------------------------------------------------------------------------ find_MAP
def find_map(ctx: Context, max_starts: int | None = None) -> tuple[Estimate, Estimate | None]:
    """find_MAP and the Laplace approximation at its mode (None when the family does not
    offer it for this problem), guarded.

    Accepted by what matters, not by the optimiser's message: after the optimiser (trust-ncg
    with the exact Hessian, jittered start; L-BFGS-B for a family with kinks) and Newton
    refinement on the model's own gradient, the remaining Newton step max_j |(H^-1 g)_j| / sd_j
    at the final point must be at most ``tolerances.FIND_MAP_STEP_TOL`` posterior sds.
    "failed" means a non-finite objective, a scaled gradient that stays large, or (for a
    log-concave family) a Hessian that is not positive definite; the optimiser's own message
    is kept in ``info``.  ``max_starts`` caps a multi-start family.
    """
    support = ctx.family.supports("find_map", ctx.problem)
    if not support.ok:
        un = {"status": "unavailable", "reason": support.reason}
        return ctx.estimate("find_map", **un), ctx.estimate("laplace", **un)
    try:
        fm, lap = _find_map(ctx, support, max_starts)
    except Exception as exc:  # guarded: never a traceback out of an estimator
        return ctx.failed("find_map", exc), ctx.failed("laplace", exc)
    lap_support = ctx.family.supports("laplace", ctx.problem)
    if not lap_support.offered:
        return fm, None  # not in the family's (estimator x prior) matrix
    if fm.status == "ok" and not lap_support.ok:
        lap = ctx.estimate("laplace", status="unavailable", reason=lap_support.reason)
    return fm, lap


def _find_map(ctx: Context, support: Support, max_starts=None) -> tuple[Estimate, Estimate]:
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
            r = _one_start(ctx, built, start, seed)
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
    if support.note:  # e.g. an exact fit's σ held fixed (the family's Support)
        info["note"] = support.note
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
    """One start, on functions compiled once per model (cached in ``ctx.cache``): ``{"x", "fit",
    "objective", "info"}`` when accepted, ``{"reason", "info"}`` otherwise.  As
    ``pm.find_MAP``: jittered initial point (U(-1, 1) on every unconstrained value, as
    ``pm.find_MAP(jitter=True)``), the start's held stage, the same scipy optimiser and options
    (trust-ncg with the exact Hessian; L-BFGS-B for a non-smooth family), then the same Newton
    refinement and acceptance."""
    model = built.model
    smooth = ctx.family.smooth(ctx.problem)
    fn = compiled_functions(model, ctx.cache, many_calls=not smooth)
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


def _refine(model, x, cov, grad0, labels, cache: ModelCache, max_steps: int = 20):
    """Newton steps x <- x + C grad log p(x) from the optimiser's point ``x``, C = ``cov`` the
    exact inverse Hessian of -log p there (``grad0`` the gradient of log p at ``x``); returns
    the best point and the convergence check.

    An optimiser that stops on the objective (trust-ncg's failed reduction ratio, L-BFGS-B's
    ftol) cannot place the mode closer than about sqrt(eps |f|) sds: below that the objective's
    rounding noise hides the improvement.  Newton steps depend on the gradient only and reach
    its rounding floor (~eps sds in the whitened coordinates), which matters for coefficients
    far smaller than their sd (NIST Wampler5: beta = 1, sd = 2e7).  Stops when the step, in
    sds, no longer shrinks; the smallest one measured is the convergence criterion.
    """
    sd = np.sqrt(np.diag(cov))
    if not (np.all(np.isfinite(cov)) and np.all(sd > 0)):
        raise ValueError("the inverse Hessian at the optimum is not finite and positive")
    point = point_map(model)
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
