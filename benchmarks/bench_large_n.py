"""Wall time and peak memory of the whole ``fit`` analysis at large n, one subprocess per run.

    python benchmarks/bench_large_n.py          # normal 10^6 x 20; bernoulli, categorical 10^5
    python benchmarks/bench_large_n.py --quick  # the same with ``fit --quick`` sampler settings
    python benchmarks/bench_large_n.py normal:100000:20   # one run: family:n:p
    python benchmarks/bench_large_n.py --csv    # also time reading the data from a CSV file

Each run builds a seeded dataset in memory (y from a known linear predictor), runs what
``fit`` runs (``analyses.pipeline.run_case`` with every estimator under the family's default
priors and the default sampler settings, then ``write_case`` into a temporary folder) and prints
the wall seconds per stage (the pipeline's own timings), the total, the report's size on disk
and the peak resident memory of that subprocess (``resource.getrusage(RUSAGE_SELF).ru_maxrss``,
so the peak is the run's own).  With ``--csv`` the data are also written to a CSV file and read
back with ``analyses.user_data.load_csv`` in a separate subprocess (reading is timed on its own).
Targets (README, "Benchmarks"): normal 10^6 x 20 within 60 s and 4 GiB on 2 cores.
Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RUNS = ("normal:1000000:20", "bernoulli:100000:20", "categorical:100000:20")
TARGET = "y"


def dataset(family: str, n: int, p: int, seed: int = 0):
    """A seeded dataset of the family with n rows and p standard-normal features."""
    import numpy as np

    from nll_losses.analyses.datasets import Dataset
    from nll_losses.models import get_family

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = rng.normal(scale=0.5, size=p)
    eta = 0.3 + X @ w
    if family == "normal":
        y = eta + rng.normal(scale=1.5, size=n)
    elif family == "bernoulli":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    elif family == "categorical":
        W = rng.normal(scale=0.5, size=(p, 3))
        logits = X @ W
        prob = np.exp(logits - logits.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        y = (rng.random((n, 1)) > np.cumsum(prob, axis=1)).sum(axis=1)
    else:
        raise SystemExit(f"unknown family {family!r}")
    names = tuple(f"x{j + 1}" for j in range(p))
    fam = get_family(family)
    if family == "normal":
        y_enc, info = y, {}
    else:
        y_enc, info = fam.encode_target(list(y.astype(str)), TARGET, None)
    return Dataset(
        name=f"bench_{family}_{n}x{p}",
        X=X,
        y=y_enc,
        feature_names=names,
        target=TARGET,
        description="benchmark data",
        source=f"benchmarks/bench_large_n.py seed {seed}",
        target_info=info,
    ), names


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads): on a loaded machine the
    wall time measures the load as much as the run."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def child_fit(spec: str, quick: bool) -> dict:
    """One ``fit`` run in this process; returns its figures."""
    sys.path.insert(0, str(ROOT))
    from nll_losses.analyses.config import CaseConfig, RunConfig
    from nll_losses.analyses.pipeline import run_case, write_case
    from nll_losses.models.family import Settings

    family, n, p = spec.split(":")
    t0 = time.perf_counter()
    data, _ = dataset(family, int(n), int(p))
    build = time.perf_counter() - t0
    cfg = RunConfig(seed=0)
    cfg = cfg.quick() if quick else cfg
    case = CaseConfig(name=data.name, family=family, settings=Settings())
    t0, c0 = time.perf_counter(), cpu_seconds()
    result = run_case(data, case, cfg)
    fit_s, fit_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        t0, c0 = time.perf_counter(), cpu_seconds()
        write_case(result, out)
        write_s, write_cpu = time.perf_counter() - t0, cpu_seconds() - c0
        size = du(out)
    bad = [r for r in result.agreement if not r.ok]
    steps = {}  # NUTS leapfrog steps (= gradient evaluations), draws and tuning together
    for prior, idata in (result.idata or {}).items():
        stats = getattr(idata, "sample_stats", None)
        if stats is not None and "n_steps" in stats:
            steps[prior] = int(stats["n_steps"].sum())
    return {
        "run": spec,
        "data (s)": round(build, 2),
        "stages (s)": result.provenance["timings (s)"],
        "run_case (s)": round(fit_s, 2),
        "run_case cpu (s)": round(fit_cpu, 1),
        "write_case (s)": round(write_s, 2),
        "write_case cpu (s)": round(write_cpu, 1),
        "total (s)": round(fit_s + write_s, 2),
        "peak RSS (MiB)": round(peak_mib(), 1),
        "cpu (s)": round(cpu_seconds(), 1),
        "report size (MB)": round(size / 1e6, 2),
        "agreement rows ok": f"{len(result.agreement) - len(bad)}/{len(result.agreement)}",
        "rows outside tolerance": [f"{r.left} vs {r.right} [{r.parameter}]" for r in bad],
        "statuses": {k: e.status for k, e in result.estimates.items()},
        "nuts leapfrog steps (kept draws)": steps,
    }


def child_csv(spec: str) -> dict:
    """Write the dataset to a CSV file, then time ``load_csv`` reading it back."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from nll_losses.analyses.user_data import load_csv
    from nll_losses.models import get_family

    family, n, p = spec.split(":")
    data, names = dataset(family, int(n), int(p))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        t0 = time.perf_counter()
        table = np.column_stack([data.X, data.y])
        np.savetxt(path, table, delimiter=",", header=",".join((*names, TARGET)), comments="")
        write_s = time.perf_counter() - t0
        del table, data
        base = peak_mib()
        t0 = time.perf_counter()
        fam = get_family(family)
        load_csv(path, TARGET, None, intercept=True, family=fam, options=fam.Options())
        read_s = time.perf_counter() - t0
        size = path.stat().st_size
    return {
        "run": spec + " (CSV read)",
        "csv size (MB)": round(size / 1e6, 1),
        "write (s)": round(write_s, 2),
        "read (s)": round(read_s, 2),
        "peak RSS before reading (MiB)": round(base, 1),
        "peak RSS (MiB)": round(peak_mib(), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="*", default=list(DEFAULT_RUNS), help="family:n:p")
    ap.add_argument("--quick", action="store_true", help="fit --quick sampler settings")
    ap.add_argument("--csv", action="store_true", help="also time reading a CSV of the data")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--child", choices=("fit", "csv"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        out = (
            child_fit(args.runs[0], args.quick) if args.child == "fit" else child_csv(args.runs[0])
        )
        print("RESULT " + json.dumps(out))
        return
    print(f"cores available: {len(os.sched_getaffinity(0))}; quick: {args.quick}")
    for spec in args.runs:
        for kind in ("fit", "csv") if args.csv else ("fit",):
            cmd = [sys.executable, __file__, spec, "--child", kind]
            cmd += ["--quick"] if args.quick else []
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=args.timeout, cwd=ROOT
                )
            except subprocess.TimeoutExpired:
                print(f"{spec} [{kind}]: no answer within {args.timeout:g} s")
                continue
            wall = time.perf_counter() - t0
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode or not lines:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                print(f"{spec} [{kind}]: exit {proc.returncode} after {wall:.1f} s: {tail}")
                continue
            res = json.loads(lines[-1][len("RESULT ") :])
            res["subprocess wall (s)"] = round(wall, 1)
            print(json.dumps(res, indent=1, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
