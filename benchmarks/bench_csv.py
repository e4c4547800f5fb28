"""Reading a large CSV for ``fit``: wall time and peak memory of ``load_csv`` (``/usr/bin/time``
style peak RSS of a child process), on a 10^6 x 20 numeric file written with 17 significant
digits (every value must read back exactly) and a 4.6 x 10^6 x 5 file (the issue's 200 MB CSV).

    python benchmarks/bench_csv.py [--keep DIR]

Prints one line per file: size, rows x columns, wall and CPU seconds in load_csv, the
peak RSS of the process (imports included) when load_csv returns, and its ratio to the
numbers' own size (8 bytes a cell).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import resource, sys, time
import numpy as np
t0 = time.perf_counter()
from nll_losses.analyses.user_data import load_csv
t1 = time.perf_counter()
c1 = time.process_time()
d = load_csv(sys.argv[1], 'y', family=None)
t2 = time.perf_counter()
cpu = time.process_time() - c1
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ref = np.load(sys.argv[2])
assert np.array_equal(d.X, ref[:, :-1]) and np.array_equal(d.y, ref[:, -1]), 'not exact'
print(t2 - t1, cpu, peak)
"""


def write(path: Path, rows: int, cols: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((rows, cols + 1))
    data[:, -1] += data[:, :-1].sum(axis=1)
    header = ",".join([f"x{j}" for j in range(cols)] + ["y"])
    np.savetxt(path, data, fmt="%.17g", delimiter=",", header=header, comments="")
    return data


def measure(csv: Path, ref: Path) -> tuple[float, float, float]:
    """(wall and CPU seconds in load_csv, peak RSS in bytes after load_csv) in a child."""
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(csv), str(ref)], cwd=ROOT, capture_output=True, text=True
    )
    if res.returncode != 0:
        raise SystemExit(res.stderr[-2000:])
    seconds, cpu, peak = map(float, res.stdout.split())
    return seconds, cpu, peak


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
            seconds, cpu, peak = measure(csv, ref)
            numbers = rows * (cols + 1) * 8
            print(
                f"load_csv {csv.stat().st_size / 1e6:.0f} MB, {rows:,} rows x {cols + 1} columns: "
                f"{seconds:.1f} s ({cpu:.1f} s CPU), peak RSS {peak / 1e9:.2f} GB "
                f"({peak / numbers:.1f}x the {numbers / 1e6:.0f} MB of numbers), read exactly"
            )


if __name__ == "__main__":
    main()
