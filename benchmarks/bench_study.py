"""Replicates per second of a simulation study (``study coverage``) serially, in two local
worker processes and on a two-worker Dask ``LocalCluster`` (loopback), each a fresh command
(its process start, compile-cache loads and the report included), in warm compile caches
(a first serial run warms them and is not counted).

    python benchmarks/bench_study.py                    # every study case, R = 24 each
    python benchmarks/bench_study.py --replicates 48 --cases synthetic

Prints figures only; it asserts nothing.  The numbers of the three runs must be identical
(the same seed): it says so, or which differ.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _study(out: Path, cases: list[str], replicates: int, extra: list[str]) -> float:
    argv = [sys.executable, "-m", "nll_losses.analyses", "study", "coverage", *cases]
    argv += ["--replicates", str(replicates), "--quiet", "--out", str(out), *extra]
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True)
    return time.perf_counter() - t0


def _numbers(out: Path) -> dict:
    return json.loads((out / "coverage" / "results.json").read_text())["cases"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicates", type=int, default=24)
    p.add_argument("--cases", nargs="*", default=[])
    args = p.parse_args()
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _study(tmp / "warm-up", args.cases, 2, ["--workers", "1"])
        n_cases = len(_numbers(tmp / "warm-up"))
        total = n_cases * args.replicates
        rows = []
        for label, extra in (
            ("serial (--workers 1)", ["--workers", "1"]),
            ("2 local workers (--workers 2)", ["--workers", "2"]),
        ):
            out = tmp / label.split()[0]
            rows.append((label, _study(out, args.cases, args.replicates, extra), out))
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster:
            # the workers' first replicates load the package and its compile caches: counted
            out = tmp / "dask"
            seconds = _study(
                out, args.cases, args.replicates, ["--scheduler", cluster.scheduler_address]
            )
            rows.append(("Dask LocalCluster, 2 worker processes", seconds, out))
        print(f"study coverage, {n_cases} cases × {args.replicates} replicates = {total}")
        print("| execution | wall (s) | replicates / s |")
        print("|---|---:|---:|")
        for label, seconds, _ in rows:
            print(f"| {label} | {seconds:.1f} | {total / seconds:.2f} |")
        first = _numbers(rows[0][2])
        same = [label for label, _, out in rows[1:] if _numbers(out) == first]
        print(f"identical numbers to the serial run: {', '.join(same) or 'none'}")


if __name__ == "__main__":
    main()
