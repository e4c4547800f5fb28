"""Reading a large CSV for ``fit``: wall time and peak memory of ``load_csv`` (``/usr/bin/time``
style peak RSS of a child process), on a 10^6 x 20 numeric file written with 17 significant
digits (every value must read back exactly) and a 4.6 x 10^6 x 5 file (the issue's 200 MB CSV).

    python benchmarks/bench_csv.py [--rows 1000000] [--cols 20] [--keep DIR]

Prints one line per file: size, rows x columns, seconds, peak RSS, and the ratio of the peak
to the numbers' own size (8 bytes a cell).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys, numpy as np
from analyses.datasets import load_csv
d = load_csv(sys.argv[1], 'y', family=None)
ref = np.load(sys.argv[2])
assert np.array_equal(d.X, ref[:, :-1]) and np.array_equal(d.y, ref[:, -1]), 'not exact'
print(d.X.shape)
"""


def write(path: Path, rows: int, cols: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((rows, cols + 1))
    data[:, -1] += data[:, :-1].sum(axis=1)
    header = ",".join([f"x{j}" for j in range(cols)] + ["y"])
    np.savetxt(path, data, fmt="%.17g", delimiter=",", header=header, comments="")
    return data


def measure(csv: Path, ref: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(csv), str(ref)], cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(res.stderr[-2000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux: KiB
    return seconds, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, default=None, help="write the files here and keep them")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for rows, cols in ((1_000_000, 20), (4_600_000, 4)):
            csv = folder / f"bench_{rows}x{cols + 1}.csv"
            ref = folder / f"bench_{rows}x{cols + 1}.npy"
            if not (csv.exists() and ref.exists()):
                np.save(ref, write(csv, rows, cols, seed=rows + cols))
            seconds, peak = measure(csv, ref)  # peak: the largest child so far
            numbers = rows * (cols + 1) * 8
            print(
                f"load_csv {csv.stat().st_size / 1e6:.0f} MB, {rows:,} rows x {cols + 1} columns: "
                f"{seconds:.1f} s, peak RSS {peak / 1e9:.2f} GB ({peak / numbers:.1f}x the "
                f"{numbers / 1e6:.0f} MB of numbers), exact"
            )


if __name__ == "__main__":
    main()
