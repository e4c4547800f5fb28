"""nutpie's NUTS on a PyMC model whose log density PyTensor compiles once, disk-cached.

nutpie's Rust sampler takes the log density and gradient of the joined unconstrained vector
either as a C function pointer or as a Python callable.  Three ways to hand it PyTensor's
compiled Numba kernel (``benchmarks/bench_gradients.py`` measures them; benchmarks/RESULTS.md):

- ``nutpie.compile_pymc_model`` (Numba backend) wraps the kernel in a ``numba.cfunc`` that is
  rebuilt in every process, with no disk cache (it embeds the data): 12-15 s per model
  structure even when PyTensor's own cache is warm.  Not used.
- ``route="python"``: nutpie's ``_make_functions`` builds the same log density and gradient
  (Numba mode, kernels cached on disk by PyTensor) and ``nutpie.from_pyfunc`` hands them to
  the sampler as Python callables, as nutpie does for its JAX backend.  0.7 s per structure,
  but every gradient crosses Python (GIL, argument checks, array wrapping).
- ``route="cfunc"`` (:data:`ROUTE`, the default): the same kernels behind C wrappers that
  Numba caches on disk (analyses/cfunc.py), handed to the sampler as
  ``nutpie.compile_pymc_model`` hands its own: no Python per gradient, and a warm process
  loads the wrapper (with the kernel linked in) instead of compiling anything.

Same algorithm, initial points, random streams and kernel: the same seed gives bit-identical
draws by all three routes (tests/analyses/test_sampling.py checks this).  Uses nutpie helpers
that are not public (``_make_functions``, ``_prepare_dims_and_coords``, ``_lib``), hence the pin
``nutpie>=0.16,<0.17`` in pyproject.toml.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

# the route every sampler takes (benchmarks/bench_gradients.py measured both; benchmarks/RESULTS.md)
ROUTE = "cfunc"


class Sampler(NamedTuple):
    """A nutpie model (``compiled``), the names of the pm.Data its functions read
    (``data_names``; ``compiled.with_data`` swaps them without recompiling), and
    ``log_density(X, data)``: the same compiled log density (Jacobian included, as NUTS sees
    it) at every row of X (draws x unconstrained dimension, in the order of the model's value
    variables), with the pm.Data values ``data`` (any missing: the values it was built with),
    called from Python one row at a time (a few µs each); ``values(X, data)``: the stored
    variables (``var_names``, constrained) at every row, {name: array (draws, *shape)}."""

    compiled: Any
    data_names: frozenset
    log_density: Any
    values: Any


def compile_nutpie_route(model, var_names):
    """``(Sampler, route)`` by :data:`ROUTE`; the Python-callable route when the C wrappers
    cannot be built (a kernel Numba cannot call from a cfunc)."""
    if ROUTE == "cfunc":
        try:
            return compile_nutpie(model, var_names, route="cfunc"), "cfunc"
        except Exception:  # noqa: BLE001 -- same draws by the other route, only slower
            pass
    return compile_nutpie(model, var_names, route="python"), "python"


def compile_nutpie(model, var_names, route: str = "python") -> Sampler:
    """A :class:`Sampler`: a nutpie model of ``model`` that stores ``var_names``, the names of
    the pm.Data it reads, and its log density callable from Python.  ``route``: "python"
    (the kernels called from Python) or "cfunc" (C wrappers of the same kernels, disk-cached:
    analyses/cfunc.py)."""
    from nutpie.compile_pymc import _make_functions, _prepare_dims_and_coords, _wrap_with_lock
    from nutpie.compiled_pyfunc import from_pyfunc
    from pymc.initial_point import make_initial_point_fn

    # as nutpie.compile_pymc_model: support point of every free variable, jittered U(-1, 1)
    initial_point = _wrap_with_lock(
        make_initial_point_fn(
            model=model,
            default_strategy="support_point",
            jitter_rvs=set(model.free_RVs),
            return_transformed=True,
        )
    )
    n_dim, _, logp_pt, expand_pt, initial_flat, shape_info, reparameterized = _make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=route == "cfunc",
        pymc_initial_point_fn=initial_point,
        var_names=var_names,
    )
    # the jitted kernels are pure functions of (point, *shared values): safe across chains
    logp_fn, expand_fn = logp_pt.vm.jit_fn, expand_pt.vm.jit_fn
    logp_shared = [v.name for v in logp_pt.get_shared()]
    expand_shared = [v.name for v in expand_pt.get_shared()]
    shared = {}
    for var in (*logp_pt.get_shared(), *expand_pt.get_shared()):
        if shared.setdefault(var.name, var) is not var:
            raise ValueError(f"two shared variables are named {var.name!r}")
    names, _, shapes = shape_info
    defaults = {k: np.asarray(v.get_value()) for k, v in shared.items()}

    def arguments(kernel_names, data):
        data = defaults | dict(data or {})
        return [np.asarray(data[k], dtype=defaults[k].dtype) for k in kernel_names]

    def log_density(X, data=None):
        args = arguments(logp_shared, data)
        X = np.ascontiguousarray(X, dtype="float64")
        return np.array([float(logp_fn(x, *args)[0]) for x in X])

    def values(X, data=None):
        args = arguments(expand_shared, data)
        X = np.ascontiguousarray(X, dtype="float64")
        if route == "cfunc":  # one joined vector per row: split it by the shapes
            flat = np.array([np.asarray(expand_fn(x, *args), dtype="float64") for x in X])
            ends = np.cumsum([int(np.prod(s)) for s in shapes])
            parts = np.split(flat.reshape(len(X), -1), ends[:-1], axis=1)
        else:
            rows = [expand_fn(x, *args) for x in X]
            parts = [np.array([np.ravel(r[i]) for r in rows]) for i in range(len(names))]
        return {
            name: np.asarray(part, dtype="float64").reshape((len(X), *shape))
            for name, part, shape in zip(names, parts, shapes, strict=True)
        }

    if route == "cfunc":
        compiled = _cfunc_model(
            model,
            n_dim,
            logp_fn,
            expand_fn,
            logp_shared,
            expand_shared,
            shared,
            initial_flat,
            shape_info,
            reparameterized,
        )
        return Sampler(compiled, frozenset(shared), log_density, values)
    dtypes = [np.dtype("float64")] * len(names)

    def make_logp():
        def logp(x, **data):
            value, grad = logp_fn(x, *[data[k] for k in logp_shared])
            return float(value), np.asarray(grad, dtype="float64", order="C")

        return logp

    def make_expand(_seed1, _seed2, _chain):
        def expand(x, **data):
            values = expand_fn(x, *[data[k] for k in expand_shared])
            return {
                name: np.asarray(v, dtype=dt, order="C").reshape(shape)
                for name, v, dt, shape in zip(names, values, dtypes, shapes, strict=True)
            }

        return expand

    dims, coords = _prepare_dims_and_coords(model, shape_info, reparameterized)
    compiled = from_pyfunc(
        ndim=n_dim,
        make_logp_fn=make_logp,
        make_expand_fn=make_expand,
        make_initial_point_fn=initial_flat,
        expanded_dtypes=dtypes,
        expanded_shapes=shapes,
        expanded_names=names,
        shared_data={k: np.asarray(v.get_value()) for k, v in shared.items()},
        dims=dims,
        coords=coords,
        reparameterized_names=reparameterized,
    )
    return Sampler(compiled, frozenset(shared), log_density, values)


def _cfunc_model(
    model,
    n_dim,
    logp_fn,
    expand_fn,
    logp_shared,
    expand_shared,
    shared,
    initial_flat,
    shape_info,
    reparameterized,
):
    from nutpie.compile_pymc import _prepare_dims_and_coords

    from nll_losses.analyses.cfunc import CFuncModel, expand_cfunc, logp_cfunc

    data = {}
    for name, var in shared.items():
        data[name] = np.array(var.get_value(), order="C", copy=True)
        data[name].flags.writeable = False
    names, _, shapes = shape_info
    n_expanded = int(sum(int(np.prod(s)) for s in shapes))
    logp_c, _ = logp_cfunc(logp_fn, [data[k] for k in logp_shared], n_dim)
    expand_c, _ = expand_cfunc(expand_fn, [data[k] for k in expand_shared], n_dim, n_expanded)
    dims, coords = _prepare_dims_and_coords(model, shape_info, reparameterized)
    return CFuncModel(
        dims=dims,
        reparameterized_names=reparameterized,
        logp_fn=logp_c,
        expand_fn=expand_c,
        logp_names=tuple(logp_shared),
        expand_names=tuple(expand_shared),
        data=data,
        initial_point_func=initial_flat,
        shape_info=shape_info,
        _n_dim=n_dim,
        n_expanded=n_expanded,
        _shapes={name: tuple(s) for name, s in zip(names, shapes, strict=True)},
        _coords=coords,
    )
