"""C-callable wrappers of PyTensor's Numba kernels for nutpie's sampler, cached on disk.

nutpie's Rust sampler can call the log density and gradient through a C function pointer
(``nutpie.compile_pymc.CompiledPyMCModel``) instead of through Python.
``nutpie.compile_pymc_model`` builds that ``numba.cfunc`` anew in every process: its wrapper
embeds the data as constants, so Numba will not cache it.  Here the wrapper is generated source
whose only globals are PyTensor's kernel, NumPy and two Numba helpers; it is registered with
PyTensor's Numba cache locator under a key derived from the kernel's own cache key and the
wrapper's source, and compiled with ``numba.cfunc(..., cache=True)``: a later process loads it
from disk.  The data reach it at call time through ``meta``, one ``uint64`` array holding, per
shared variable, its address and shape (``with_data`` builds a new one).

The wrapper's body is that of nutpie's own (``nutpie.compile_pymc._make_c_logp_func``), with
the same return codes for a non-finite log density or gradient, and the kernel is the same
compiled code the Python-callable route calls: the same seed gives the same draws by either
route (tests/analyses/test_sampling.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from nutpie.sample import CompiledModel  # noqa: TID253

# part of the cache key: bump when the generated source changes meaning, or the module's name
# (Numba's cache entry imports the module it names when loaded: "2" since analyses.cfunc became
# nll_losses.analyses.cfunc)
WRAPPER_VERSION = "2"

LOGP_SRC = """
def {name}(dim, x_, out_, logp_, meta_):
    if dim != {n_dim}:
        return -1
    try:
        meta = carray(meta_, ({n_meta},), np.uint64)
{unpack}
        x = carray(x_, ({n_dim},))
        out = carray(out_, ({n_dim},))
        logp = carray(logp_, ())
        logp_val, grad = kernel(x{args})
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:  # noqa: BLE001
        return 1
    return 0
"""

EXPAND_SRC = """
def {name}(dim, expanded, x_, out_, meta_):
    if dim != {n_dim}:
        return -1
    if expanded != {n_expanded}:
        return -1
    try:
        meta = carray(meta_, ({n_meta},), np.uint64)
{unpack}
        x = carray(x_, ({n_dim},))
        out = carray(out_, ({n_expanded},))
        (values,) = kernel(x{args})
        out[...] = values
    except Exception:  # noqa: BLE001
        return -2
    return 0
"""


def _unpack(shared: list[np.ndarray]) -> tuple[str, str, int]:
    """Source lines rebuilding each shared array ``s{k}`` from ``meta`` (its address, then its
    shape), the kernel's extra arguments, and the length of ``meta``."""
    lines, pos = [], 0
    for k, value in enumerate(shared):
        dims = [f"np.intp(meta[{pos + 1 + d}])" for d in range(value.ndim)]
        shape = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
        lines.append(
            f"        s{k} = carray(address_as_void_pointer(meta[{pos}]), {shape}, "
            f"np.{value.dtype.name})"
        )
        pos += 1 + value.ndim
    args = "".join(f", s{k}" for k in range(len(shared)))
    return "\n".join(lines) or "        pass", args, max(pos, 1)


def meta_array(shared: list[np.ndarray]) -> np.ndarray:
    """The ``meta`` the wrappers read: for each shared array its address, then its shape."""
    out: list[int] = []
    for value in shared:
        out.append(value.ctypes.data)
        out.extend(value.shape)
    return np.asarray(out or [0], dtype=np.uint64)


def _cfunc(template: str, kernel, shared: list[np.ndarray], sig, **fmt):
    """``numba.cfunc`` of ``template`` around ``kernel``, disk-cached when PyTensor cached the
    kernel (its cache key is known); ``(cfunc, cached)``."""
    import numba
    from nutpie.compile_pymc import address_as_void_pointer
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS, compile_numba_function_src

    unpack, args, n_meta = _unpack(shared)
    body = template.format(name="{name}", unpack=unpack, args=args, n_meta=n_meta, **fmt)
    kernel_key = CACHED_SRC_FUNCTIONS.get(getattr(kernel, "py_func", None))
    key = None
    if kernel_key is not None:
        key = hashlib.sha256(f"{WRAPPER_VERSION}\n{kernel_key}\n{body}".encode()).hexdigest()
    name = f"nutpie_wrapper_{(key or 'uncached')[:16]}"
    py_func = compile_numba_function_src(
        body.replace("{name}", name),
        name,
        global_env={
            "__name__": __name__,  # numba rebuilds a cached function's environment from it
            "np": np,
            "carray": numba.carray,
            "kernel": kernel,
            "address_as_void_pointer": address_as_void_pointer,
        },
        cache_key=key,
    )
    return numba.cfunc(sig, cache=key is not None)(py_func), key is not None


def logp_cfunc(kernel, shared: list[np.ndarray], n_dim: int):
    """The log density and gradient as nutpie's C signature
    ``int64(uint64 dim, double* x, double* grad, double* logp, void* meta)``."""
    from numba import types

    sig = types.int64(
        types.uint64,
        types.CPointer(types.double),
        types.CPointer(types.double),
        types.CPointer(types.double),
        types.voidptr,
    )
    return _cfunc(LOGP_SRC, kernel, shared, sig, n_dim=n_dim)


def expand_cfunc(kernel, shared: list[np.ndarray], n_dim: int, n_expanded: int):
    """The stored values as nutpie's C signature
    ``int64(uint64 dim, uint64 expanded, double* x, double* out, void* meta)``."""
    from numba import types

    sig = types.int64(
        types.uint64,
        types.uint64,
        types.CPointer(types.double),
        types.CPointer(types.double),
        types.voidptr,
    )
    return _cfunc(EXPAND_SRC, kernel, shared, sig, n_dim=n_dim, n_expanded=n_expanded)


@dataclass(frozen=True)
class CFuncModel(CompiledModel):
    """A nutpie model whose log density and stored values are C functions (as
    ``nutpie.compile_pymc.CompiledPyMCModel``), reading the data through ``meta`` arrays."""

    logp_fn: Any  # numba CFunc
    expand_fn: Any
    logp_names: tuple[str, ...]  # the shared variables each kernel reads, in argument order
    expand_names: tuple[str, ...]
    data: dict[str, np.ndarray]
    initial_point_func: Any
    shape_info: Any
    _n_dim: int
    n_expanded: int
    _shapes: dict[str, tuple[int, ...]]
    _coords: dict[str, Any] | None
    logp_meta: np.ndarray = None
    expand_meta: np.ndarray = None

    def __post_init__(self):
        for name in ("logp", "expand"):
            arrays = [self.data[k] for k in getattr(self, f"{name}_names")]
            object.__setattr__(self, f"{name}_meta", meta_array(arrays))

    @property
    def n_dim(self):
        return self._n_dim

    @property
    def shapes(self):
        return self._shapes

    @property
    def coords(self):
        return self._coords

    def with_data(self, **updates):
        data = dict(self.data)
        for name, value in updates.items():
            if name not in data:
                raise KeyError(f"Unknown shared variable: {name}")
            old = data[name]
            new = np.array(value, dtype=old.dtype, order="C", copy=True)
            if new.ndim != old.ndim:
                raise ValueError(f"Shared variable {name} must have rank {old.ndim}")
            new.flags.writeable = False
            data[name] = new
        return dataclasses.replace(self, data=data, logp_meta=None, expand_meta=None)

    def _make_sampler(
        self, settings, init_mean, cores, progress_type, extra_callback, extra_callback_rate, store
    ):
        from nutpie import _lib

        model = self._make_model(init_mean)
        return _lib.PySampler.from_pymc(
            settings, cores, model, progress_type, extra_callback, extra_callback_rate, store
        )

    def _make_model(self, init_mean):
        from nutpie import _lib

        # the last argument keeps this model (its data and meta arrays) alive while sampling
        expand = _lib.ExpandFunc(
            self.n_dim,
            self.n_expanded,
            self.expand_fn.address,
            self.expand_meta.ctypes.data,
            self,
        )
        logp = _lib.LogpFunc(self.logp_fn.address, self.logp_meta.ctypes.data, self)
        names, _, shapes = self.shape_info
        coords = dict(self._coords or {})
        dim_sizes = {name: len(values) for name, values in coords.items()}
        variables = _lib.PyVariable.new_variables(
            names, ["float64"] * len(names), shapes, dim_sizes, dict(self.dims or {})
        )
        return _lib.PyMcModel(
            logp,
            expand,
            variables,
            self.n_dim,
            dim_sizes,
            coords,
            self.initial_point_func,
            None,
        )
