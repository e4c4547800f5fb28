"""Every analysis script under analyses/scripts runs with small settings, prints its comparison
and its identity checks (each within the arithmetic tier), and saves its figure."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytensor
import pytest
from tolerances import ARITH_RTOL

import analyses.scripts

SCRIPTS = sorted(m.name for m in pkgutil.iter_modules(analyses.scripts.__path__))
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


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_and_its_identities_hold(name, tmp_path, capsys):
    script = importlib.import_module(f"analyses.scripts.{name}")
    figure = tmp_path / f"{name}.png"
    # Python's linker: the models compile in a second (Numba's cold compile takes a minute
    # each), and pm.sample then picks PyMC's own NUTS, as it does on any non-Numba linker
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        script.main(["--n", str(N), "--draws", "150", "--out", str(figure)])
    out = capsys.readouterr().out
    assert "find_MAP" in out and "posterior" in out  # the comparison table
    gaps = [float(g) for g in re.findall(r"^max \|.*: (\S+)$", out, re.M)]
    assert gaps and all(g <= IDENTITY_ATOL for g in gaps), out
    assert figure.stat().st_size > 10_000
