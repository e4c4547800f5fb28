"""The measurements behind the compile choices (analyses/estimators.py ``backend``,
analyses/sampling.py), each in a new process with empty PyTensor/Numba compile caches:

1. ``pm.find_MAP`` (trust-ncg, compute_hessian) on the built-in cases of ``--cases``, every
   prior, with PyTensor's Numba backend and with its C backend: seconds per fit.
2. nutpie on one structure per case and prior: ``nutpie.compile_pymc_model`` (a numba.cfunc,
   rebuilt in every process) against ``analyses.sampling.compile_nutpie`` (PyTensor's
   disk-cached Numba kernels called from Python): compile and sampling seconds, cold and warm.

    python benchmarks/bench_backends.py [--cases logistic_synthetic,synthetic]

Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _models(cases, method):
    """(case, prior, PyMC model) for every case and prior where ``method`` runs."""
    sys.path.insert(0, str(ROOT))
    from nll_losses.analyses.cases import CASES
    from nll_losses.analyses.config import child_seed
    from nll_losses.analyses.problems import make_problem
    from nll_losses.models import get_family

    for name in cases:
        case = CASES[name]
        family = get_family(case.config.family)
        data = case.load(child_seed(0, name, "data"))
        for prior in family.priors:
            problem = make_problem(family, data, case.config.settings, prior)
            if family.supports(method, problem).ok:
                yield name, prior, family.build_model(problem).model


def find_map_times(cases, backend) -> list:
    import pymc as pm

    from nll_losses.analyses.estimators import configure_pytensor

    configure_pytensor()
    rows = []
    for name, prior, model in _models(cases, "find_map"):
        t0 = time.perf_counter()
        with model:
            pm.find_MAP(
                method="trust-ncg",
                backend=backend,
                compute_hessian=True,
                return_inferencedata=True,
                jitter=True,
                random_seed=1,
                progressbar=False,
            )
        rows.append([f"find_MAP {name} {prior}", time.perf_counter() - t0])
    return rows


def nutpie_times(cases, route) -> list:
    import nutpie

    from nll_losses.analyses.estimators import configure_pytensor
    from nll_losses.analyses.sampling import compile_nutpie

    configure_pytensor()
    rows = []
    for name, prior, model in _models(cases, "nuts"):
        free = [rv.name for rv in model.free_RVs]
        t0 = time.perf_counter()
        if route == "cfunc":
            compiled = nutpie.compile_pymc_model(model, freeze_model=False, var_names=free)
        else:
            compiled = compile_nutpie(model, free).compiled
        t1 = time.perf_counter()
        nutpie.sample(compiled, draws=1000, tune=1000, chains=4, seed=1, progress_bar=False)
        t2 = time.perf_counter()
        rows.append([f"nutpie {route} {name} {prior}: compile", t1 - t0])
        rows.append([f"nutpie {route} {name} {prior}: sample 4x2000", t2 - t1])
    return rows


def in_fresh_process(what: str, arg: str, cases: str, caches: Path) -> list:
    env = dict(
        os.environ,
        PYTENSOR_FLAGS=f"base_compiledir={caches}/pytensor",
        NUMBA_CACHE_DIR=f"{caches}/numba",
    )
    cmd = [sys.executable, __file__, "--one", what, arg, "--cases", cases]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="logistic_synthetic,synthetic")
    ap.add_argument("--one", nargs=2, metavar=("WHAT", "ARG"))
    args = ap.parse_args()
    cases = args.cases.split(",")
    if args.one:
        what, arg = args.one
        fn = find_map_times if what == "find_map" else nutpie_times
        print(json.dumps(fn(cases, arg)))
        return
    table = []
    for what, arg in (
        ("find_map", "numba"),
        ("find_map", "c"),
        ("nutpie", "cfunc"),
        ("nutpie", "pyfunc"),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            for label in ("cold", "warm"):
                for row, secs in in_fresh_process(what, arg, args.cases, Path(tmp)):
                    table.append((f"{row} [{arg}]" if what == "find_map" else row, label, secs))
    rows = list(dict.fromkeys(r for r, _, _ in table))
    got = {(r, label): s for r, label, s in table}
    width = max(map(len, rows)) + 2
    print(f"{'seconds':<{width}}{'cold':>9}{'warm':>9}")
    for r in rows:
        print(f"{r:<{width}}{got[(r, 'cold')]:>9.2f}{got[(r, 'warm')]:>9.2f}")


if __name__ == "__main__":
    main()
