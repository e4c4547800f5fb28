"""The compiled functions find_MAP optimises with: the log density and its gradient (fused,
by the backend that suits many calls), the Hessian from Hessian-vector products, the jittered
start as ``pm.find_MAP`` draws it, and the maps between a model's point dict and its raveled
unconstrained vector."""

from __future__ import annotations

import numpy as np

from nll_losses.analyses.estimators import ModelCache, python_mode  # noqa: TID253
from nll_losses.models.family import Start

JITTER_RETRIES = 10  # pm.find_MAP's jitter_max_retries


def log_density(model, cache: ModelCache, many_calls: bool) -> tuple:
    """(log p, its gradient, both at once) of the unconstrained point, no Jacobian term (as
    find_MAP), built once per model.  ``many_calls`` (L-BFGS-B on the relu network: thousands
    of calls per start, each asking for both): one function of both, as pm.find_MAP's fused
    loss, compiled by PyTensor's Numba backend, as NUTS's log density (one graph called very
    often): on the network, 24 s to compile with empty caches against 29 s for the C
    backend's Ops, and 45 µs a call against 90 µs (benchmarks/RESULTS.md); otherwise (trust-ncg and
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


def compiled_functions(model, cache: ModelCache, many_calls: bool) -> dict:
    """The functions find_MAP (``analyses.find_map``) needs, built once per model: -log p pieces (no
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
            "rmap": point_map(model),
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
    (the inverse of :func:`point_map`)."""
    return np.concatenate([np.ravel(point[v.name]) for v in model.value_vars]).astype(float)


def point_map(model):
    """(rmap: flat unconstrained vector -> point dict) for ``model``'s value variables."""
    from pymc.blocking import DictToArrayBijection, RaveledVars

    layout_info = DictToArrayBijection.map(model.initial_point()).point_map_info
    if [entry[0] for entry in layout_info] != [v.name for v in model.value_vars]:
        raise ValueError("unexpected layout of the unconstrained point")
    return lambda vec: DictToArrayBijection.rmap(RaveledVars(vec, layout_info))
