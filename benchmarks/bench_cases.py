"""Wall time per stage for the built-in cases of each family: cold (empty PyTensor/Numba
compile caches) and warm (a new process reusing them), all estimators and reports.

    python benchmarks/bench_cases.py                   # every family: cold, warm, a table
    python benchmarks/bench_cases.py --family normal   # one family
    python benchmarks/bench_cases.py --quick           # the --quick sampler settings

Target (issue #2): both normal cases, all estimators and reports, under 30 s warm on 2 cores.
Prints figures only; it asserts nothing (speed targets live here, not in the tests).
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


def one_run(out: Path, quick: bool, families: list[str]) -> dict:
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    from nll_losses.analyses.cases import CASES
    from nll_losses.analyses.config import RunConfig, child_seed
    from nll_losses.analyses.estimators import ModelCache
    from nll_losses.analyses.pipeline import run_case, write_case

    t_import = time.perf_counter() - t0
    cfg = RunConfig(seed=0)
    cfg = cfg.quick() if quick else cfg
    cache = ModelCache()
    stages: dict[str, float] = {"import": t_import}
    for name, case in CASES.items():
        if families and case.config.family not in families:
            continue
        data = case.load(child_seed(cfg.seed, name, "data"))
        result = run_case(data, case.config, cfg, cache)
        for stage, secs in result.provenance["timings (s)"].items():
            stages[stage] = stages.get(stage, 0.0) + secs
        t1 = time.perf_counter()
        write_case(result, out / name)
        stages["report"] = stages.get("report", 0.0) + time.perf_counter() - t1
    stages["total"] = time.perf_counter() - t0
    return stages


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--family", action="append", default=[], help="repeatable; default: all")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_run(args.out, args.quick, args.family)))
        return
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            PYTENSOR_FLAGS=f"base_compiledir={tmp}/compiledir",
            NUMBA_CACHE_DIR=f"{tmp}/numba",
        )
        for label in ("cold", "warm"):
            cmd = [sys.executable, __file__, "--one", "--out", f"{tmp}/out"]
            cmd += ["--quick"] if args.quick else []
            cmd += [a for f in args.family for a in ("--family", f)]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            rows[label] = json.loads(res.stdout.strip().splitlines()[-1])
    stages = list(dict.fromkeys(k for r in rows.values() for k in r))
    print(f"{'stage (s)':<16}{'cold':>10}{'warm':>10}")
    for s in stages:
        print(f"{s:<16}" + "".join(f"{rows[c].get(s, 0.0):>10.2f}" for c in ("cold", "warm")))
    if args.family == ["normal"] and not args.quick:
        met = "met" if rows["warm"]["total"] < 30 else "NOT met"
        print(f"target (normal cases): warm total < 30 s -> {met}")


if __name__ == "__main__":
    main()
