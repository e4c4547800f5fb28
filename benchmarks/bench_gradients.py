"""Gradient evaluations through each route from nutpie's sampler to PyTensor's log density,
with what each route compiles, cold (empty PyTensor/Numba caches) and warm (a new process
reusing them):

- ``python``: ``analyses.sampling.compile_nutpie(route="python")``, PyTensor's disk-cached
  Numba kernels called from Python (``nutpie.from_pyfunc``);
- ``cfunc``: ``compile_nutpie(route="cfunc")``, C wrappers of the same kernels, cached on disk
  (analyses/cfunc.py);
- ``nutpie``: ``nutpie.compile_pymc_model(backend="numba")``, a ``numba.cfunc`` rebuilt in
  every process.

Per route and model: seconds to build the sampler (CPU), seconds to the first gradient (the
kernel's compile or cache load: a 1-draw run), and a NUTS run (2 chains x (300 + 300), one
thread): gradients (leapfrog steps, warm-up included), CPU seconds, µs per gradient (the
sampler's own work included), and whether its draws equal the python route's for the same
seed, cold and warm.

    python benchmarks/bench_gradients.py [--cases iris,logistic_synthetic] [--priors flat]

Prints figures and the machine's load; asserts nothing.
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
CASES = "logistic_synthetic,softmax_synthetic,iris"
ROUTES = ("python", "cfunc", "nutpie")
NUTS = dict(draws=300, tune=300, chains=2, cores=1, seed=3, progress_bar=False)


def _models(cases, priors):
    sys.path.insert(0, str(ROOT))
    from nll_losses.analyses.cases import CASES as ALL
    from nll_losses.analyses.config import child_seed
    from nll_losses.analyses.problems import make_problem
    from nll_losses.models import get_family

    for name in cases:
        case = ALL[name]
        family = get_family(case.config.family)
        data = case.load(child_seed(0, name, "data"))
        for prior in priors:
            try:
                problem = make_problem(family, data, case.config.settings, prior)
                if not family.supports("nuts", problem).ok:
                    continue  # e.g. iris is separated: no flat-prior posterior
                model = family.build_model(problem).model
            except ValueError:
                continue  # e.g. the network is fitted with the gaussian prior only
            yield name, prior, model


def one_process(route: str, cases, priors) -> list:
    import numpy as np
    import nutpie

    from nll_losses.analyses.estimators import configure_pytensor
    from nll_losses.analyses.sampling import compile_nutpie

    configure_pytensor()
    rows = []
    for name, prior, model in _models(cases, priors):
        free = [rv.name for rv in model.free_RVs]
        c0 = time.process_time()
        if route == "nutpie":
            compiled = nutpie.compile_pymc_model(model, freeze_model=False, var_names=free)
        else:
            compiled = compile_nutpie(model, free, route=route).compiled
        c1 = time.process_time()
        # the first gradients compile or load the kernel
        nutpie.sample(compiled, draws=1, tune=1, chains=1, seed=1, progress_bar=False)
        c3 = c2 = time.process_time()
        idata = nutpie.sample(compiled, save_warmup=True, **NUTS)
        c4 = time.process_time()
        steps = int(
            idata.warmup_sample_stats["n_steps"].sum() + idata.sample_stats["n_steps"].sum()
        )
        first = free[0]
        draws = np.asarray(idata.posterior[first].values, dtype=float).ravel()
        rows.append(
            {
                "model": f"{name} {prior}",
                "n_dim": int(compiled.n_dim),
                "build": c1 - c0,
                "first": c2 - c1,
                "nuts_cpu": c4 - c3,
                "gradients": steps,
                "draws_hash": float(np.sum(draws * np.arange(1, draws.size + 1))),
            }
        )
    return rows


def in_fresh_process(route: str, cases: str, priors: str, caches: Path) -> list:
    env = dict(
        os.environ,
        PYTENSOR_FLAGS=f"base_compiledir={caches}/pytensor",
        NUMBA_CACHE_DIR=f"{caches}/numba",
    )
    cmd = [sys.executable, __file__, "--one", route, "--cases", cases, "--priors", priors]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=CASES)
    ap.add_argument("--priors", default="flat,gaussian")
    ap.add_argument("--routes", default=",".join(ROUTES))
    ap.add_argument("--one", metavar="ROUTE")
    args = ap.parse_args()
    cases, priors = args.cases.split(","), args.priors.split(",")
    if args.one:
        print(json.dumps(one_process(args.one, cases, priors)))
        return
    load0 = os.getloadavg()[0]
    got = {}
    for route in args.routes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            for label in ("cold", "warm"):
                for row in in_fresh_process(route, args.cases, args.priors, Path(tmp)):
                    got[(row["model"], route, label)] = row
    load1 = os.getloadavg()[0]
    print(f"load average (1 min) {load0:.1f} at the start, {load1:.1f} at the end; CPU seconds")
    head = (
        f"{'model':28s}{'route':8s}{'dim':>5s}{'build cold':>11s}{'warm':>6s}"
        f"{'1st grad cold':>14s}{'warm':>6s}{'NUTS grads':>11s}"
        f"{'CPU s':>7s}{'µs/grad':>9s}  same draws"
    )
    print(head)
    models = list(dict.fromkeys(m for m, _, _ in got))
    for model in models:
        ref = got.get((model, "python", "warm"))
        for route in args.routes.split(","):
            cold, warm = got[(model, route, "cold")], got[(model, route, "warm")]
            same = "-" if ref is None else str(warm["draws_hash"] == ref["draws_hash"])
            same += "" if cold["draws_hash"] == warm["draws_hash"] else " (cold != warm!)"
            print(
                f"{model:28s}{route:8s}{warm['n_dim']:5d}{cold['build']:11.1f}"
                f"{warm['build']:6.1f}{cold['first']:14.1f}{warm['first']:6.1f}"
                f"{warm['gradients']:11d}{warm['nuts_cpu']:7.1f}"
                f"{1e6 * warm['nuts_cpu'] / max(warm['gradients'], 1):9.1f}  {same}"
            )


if __name__ == "__main__":
    main()
