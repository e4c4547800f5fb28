"""Cost per grid point of the sweeps (analyses/sweeps.py), and what they compile.

    python benchmarks/bench_sweeps.py            # the report's grids (21 τ points, 8 n points)
    python benchmarks/bench_sweeps.py --quick    # the --quick grids (7 and 4 points)

For each case: the main fit is run first (as in a report, so the structures exist), then the
prior-strength sweep and, for a simulated case, the sample-size sweep.  Printed per sweep:
seconds at the first grid point, seconds per later point, and how many models, compiled
functions and nutpie samplers the sweep built at its first point and after it (the target:
nothing after it, i.e. no recompilation per grid point).  Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ("synthetic", "logistic_synthetic", "softmax_synthetic", "network_rings")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("cases", nargs="*", default=list(CASES))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from nll_losses.analyses import sweeps
    from nll_losses.analyses.cases import get_case
    from nll_losses.analyses.config import RunConfig, child_seed
    from nll_losses.analyses.estimators import ModelCache
    from nll_losses.analyses.pipeline import run_case

    cfg = RunConfig(seed=0)
    cfg = cfg.quick() if args.quick else cfg
    cache = ModelCache()
    print(
        f"{'case':24s} {'sweep':15s} {'points':>6s} {'first (s)':>9s} {'per point (s)':>13s}"
        "  built at first point / after it (models, functions, nutpie)"
    )
    for name in args.cases:
        case = get_case(name)
        data = case.load(child_seed(cfg.seed, name, "data"))
        t0 = time.perf_counter()
        run_case(data, case.config, cfg, cache)
        print(f"{name:24s} {'(main fit)':15s} {'':>6s} {time.perf_counter() - t0:9.1f}")
        found = [("prior strength", sweeps.prior_strength(data, case.config, cfg, cache))]
        if case.sized is not None:
            found.append(("sample size", sweeps.sample_size(case.sized, case.config, cfg, cache)))
        for label, sweep in found:
            if sweep is None:
                continue
            c = sweep["cost"]
            first = tuple(c["built at the first point"].values())
            after = tuple(c["built after the first point"].values())
            print(
                f"{name:24s} {label:15s} {c['points']:6d} {c['first point (s)']:9.2f} "
                f"{c['per later point (s)']:13.3f}  {first} / {after}"
            )


if __name__ == "__main__":
    main()
