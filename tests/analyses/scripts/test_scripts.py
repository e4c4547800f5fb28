"""Every analysis script under analyses/scripts runs with small settings, prints its comparison
and its identity checks (each within the arithmetic tier), and saves its figure."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import pytest
from background import Command
from tolerances import ARITH_RTOL

import nll_losses.analyses.scripts as scripts

SCRIPTS = sorted(m.name for m in pkgutil.iter_modules(scripts.__path__))
N = 60
# the NLLs compared are sums of n terms of size below 1e2 (|logits| and log-densities of
# standard-normal-scale data), so two float64 routes to one differ by at most
# ARITH_RTOL · n · (n · 1e2) (tests/tolerances.py: 16·n·ε relative to the sum's magnitude)
IDENTITY_ATOL = ARITH_RTOL * N * N * 1e2


def test_the_three_claims_have_scripts():
    assert SCRIPTS == [
        "bce_is_bernoulli_nll",
        "cross_entropy_is_categorical_nll",
        "mse_is_gaussian_nll",
    ]


def _script(name: str):
    """``analyses.scripts.<name>.main`` with small settings, in a process of its own under
    PyTensor's Python linker (the models compile in a second; Numba's cold compile takes a
    minute each), so that pm.sample picks PyMC's own NUTS, as on any non-Numba linker."""

    def job(folder: Path) -> Command:
        launcher = (
            "import sys, pytensor, importlib\n"
            "script = importlib.import_module(f'nll_losses.analyses.scripts.{sys.argv[1]}')\n"
            "with pytensor.config.change_flags(mode='FAST_COMPILE'):\n"
            "    script.main(sys.argv[2:])\n"
        )
        figure = folder / f"{name}.png"
        argv = ["-c", launcher, name, "--n", N, "--draws", "150", "--out", figure]
        return Command(argv, cwd=folder, env={"MPLBACKEND": "Agg"})

    return job


# each script is a self-contained run of 12-60 s: on the background lane (tests/background.py)
BACKGROUND = {f"script {name}": _script(name) for name in SCRIPTS}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.background(f"script {n}")) for n in SCRIPTS]
)
def test_script_runs_and_its_identities_hold(name, background_run):
    res, folder = background_run(f"script {name}")
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "find_MAP" in out and "posterior" in out  # the comparison table
    gaps = [float(g) for g in re.findall(r"^max \|.*: (\S+)$", out, re.M)]
    assert gaps and all(g <= IDENTITY_ATOL for g in gaps), out
    assert (folder / f"{name}.png").stat().st_size > 10_000
