"""Checks of the command line's values before anything is loaded or fitted: each bad value is
one ``InputError`` naming the option, the value and the usable range or a way forward.

- ``check_numbers``: seeds, sampler sizes, prior scales and the family's numeric options.
- ``check_out``: that ``--out`` can be written and replacing it cannot take anything else with
  it (the current folder, the input file's folder, the project itself, system folders).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from pathlib import Path

from nll_losses.analyses.errors import InputError

SEED_MAX = 2**32 - 1  # numpy SeedSequence / nutpie take unsigned 32-bit seeds
# The sampler keeps draws x chains x parameters values in memory and nutpie runs chains one
# after another (cores=1): beyond these a run is a mistake, not an analysis.
DRAWS_MAX = 1_000_000
CHAINS_MAX = 64
HIDDEN_MAX = 1000  # --hidden: units of the one-hidden-layer network (NUTS on every weight)
# A scale s enters the model and the penalty translation as s², 1/s² (the prior precision
# 1/tau², alpha = sigma²/tau², ...); both must be normal float64 numbers.
SCALE_MIN = math.sqrt(sys.float_info.min)  # 2**-511 = 1.49e-154: below it s² underflows
SCALE_MAX = 1 / SCALE_MIN  # 2**511 = 6.70e+153: above it 1/s² underflows (s² overflows later)
# --workers: each worker is a Python process with its own compiled models (a few hundred MB)
WORKERS_MAX = 64
REPLICATES_MAX = 100_000  # study --replicates: a file each in the work folder
SYSTEM_DIRS = (Path("/proc"), Path("/sys"), Path("/dev"))
REPO = Path(__file__).resolve().parents[1]


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def check_scale(flag: str, value: float) -> None:
    """A prior or noise scale whose square and inverse square are finite normal numbers."""
    if not SCALE_MIN <= value <= SCALE_MAX:
        which = "square" if value < SCALE_MIN else "inverse square"
        raise InputError(
            f"{flag} {value:g}: its {which} underflows float64; use a value between "
            f"{SCALE_MIN:.3g} and {SCALE_MAX:.3g}"
        )


def check_numbers(args) -> None:
    """Every numeric option of ``args`` (an argparse namespace of ``run`` or ``fit``)."""
    if not 0 <= args.seed <= SEED_MAX:
        raise InputError(f"--seed {args.seed}: use an integer from 0 to {SEED_MAX}")
    for dest, top in (
        ("draws", DRAWS_MAX),
        ("tune", DRAWS_MAX),
        ("chains", CHAINS_MAX),
        ("replicates", REPLICATES_MAX),
    ):
        value = getattr(args, dest, None)
        if value is None:
            continue
        if value > top:
            raise InputError(f"{_flag(dest)} {value}: too large; use at most {top}")
    workers = getattr(args, "workers", None)
    if workers is not None and not 1 <= workers <= WORKERS_MAX:
        raise InputError(
            f"--workers {workers}: use an integer from 1 to {WORKERS_MAX} (default: the "
            f"number of cores)"
        )
    if args.command != "fit":
        return
    for dest in ("prior_scale", "intercept_prior_scale"):
        if getattr(args, dest) is not None:
            check_scale(_flag(dest), getattr(args, dest))
    # every family's own flags (with --family auto a family's flag chooses the family)
    for dest in sorted({d for dests in args.family_flags.values() for d in dests}):
        value = getattr(args, dest, None)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, float):  # the families' float options are scales (sd's)
            check_scale(_flag(dest), value)
        elif isinstance(value, int) and not 0 <= value <= HIDDEN_MAX:
            raise InputError(f"{_flag(dest)} {value}: use an integer from 0 to {HIDDEN_MAX}")


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_out(out: Path, replaced: list[Path], data: Path | None = None) -> None:
    """``out`` (a folder to create or write into) and ``replaced`` (the folders a run may
    replace as a whole: ``out`` for fit, ``out/CASE`` for run) can be written, and replacing
    them takes nothing else along.  Creates and removes one empty probe folder, nothing else."""
    where = Path(os.path.abspath(out))
    for system in SYSTEM_DIRS:
        if _is_within(where, system):
            raise InputError(f"--out {out}: {system} is a system folder; choose another folder")
    cwd = Path.cwd().resolve()
    guarded = [(cwd, "the current folder")]
    if data is not None:
        guarded.append((Path(os.path.abspath(data)).parent.resolve(), f"the folder of {data}"))
    guarded.append((REPO, "this project's own folder"))
    for folder in replaced:
        folder = Path(os.path.abspath(folder)).resolve()
        for keep, what in guarded:
            if _is_within(keep, folder):
                raise InputError(
                    f"--out {out}: would replace {what} ({keep}); a report is written to a "
                    f"folder of its own: choose a new folder, e.g. {Path(out) / 'report'}"
                )
    # the nearest folder that exists must be a folder (a file there: not a folder)
    probe_in = _nearest_existing(where)
    if not probe_in.is_dir():
        what = "is a file" if probe_in == where else f"is under {probe_in}, which is a file"
        raise InputError(f"--out {out}: {what}, not a folder; choose a folder")
    # and writable where the run writes: beside each replaced folder (its lock file and
    # temporary sibling) and beside ``out`` (its lock), not only inside ``out``
    beside = [Path(os.path.abspath(f)).parent for f in [where, *replaced]]
    for folder in dict.fromkeys(_nearest_existing(b) for b in beside):
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".nll-losses-probe-", dir=folder))
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise InputError(
                f"--out {out}: cannot write in {folder} ({reason}), where the report's lock "
                "and temporary folder go; choose a folder whose parent you can write"
            ) from None


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and not path.is_symlink():
        path = path.parent
    return path
