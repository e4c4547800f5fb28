"""What a new machine sees: ``python -m analyses run --quick`` of one built-in case per
compiled graph type in a subprocess with empty PyTensor and Numba compile caches (the
session's, see conftest.py: this test runs first, and the rest of the session reuses what it
compiled), then the same run again with the caches now warm, with ``--sweeps``.  Both must
exit 0 with every agreement row ok, and give identical estimates (fastmath off: a fresh
compile and a cached one compute the same bits)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from browser import chromium, needs_chromium, open_page
from conftest import SESSION_CACHES
from matrix import check_estimator_matrix

from analyses.cases import CASES
from analyses.config import child_seed

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


# The cold run covers every compiled graph type: normal; Bernoulli without and with the
# Jeffreys term; softmax regression (flat and Gaussian); the network; the Dirichlet model.
# The other built-in cases (diabetes, breast_cancer, iris, quasi_separated) only change the
# data of these graphs, which are pm.Data; quasi_separated runs at full settings in
# tests/test_pipeline.py.  The warm re-run repeats two of them with the sweeps.
COLD_CASES = (
    "synthetic",
    "logistic_synthetic",
    "softmax_synthetic",
    "network_rings",
    "categorical_frequencies",
)
WARM_CASES = ("synthetic", "logistic_synthetic")


def run_quick(out: Path, cases=(), extra=()) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # with the session's compile caches
    return subprocess.run(
        [sys.executable, "-m", "analyses", "run", *cases, "--quick", "--seed", "5", *extra]
        + ["--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def cold_and_warm(tmp_path_factory):
    base = tmp_path_factory.mktemp("cold")
    assert os.environ["NUMBA_CACHE_DIR"] == str(SESSION_CACHES / "numba")
    compiled = [p for p in SESSION_CACHES.rglob("*") if p.is_file()]
    assert not compiled, f"the compile caches are not empty: {compiled[:3]}"
    cold = run_quick(base / "cold", COLD_CASES)
    warm = run_quick(base / "warm", WARM_CASES, ["--sweeps"])
    return base, cold, warm


def _results(folder: Path, cases=COLD_CASES) -> dict[str, dict]:
    return {name: json.loads((folder / name / "results.json").read_text()) for name in cases}


def test_cold_run_exits_0_with_every_row_ok(cold_and_warm):
    base, cold, _ = cold_and_warm
    assert cold.returncode == 0, cold.stderr[-3000:]
    assert "Traceback" not in cold.stderr
    for name, result in _results(base / "cold").items():
        bad = [r for r in result["agreement"] if not r["ok"]]
        assert result["agreement"] and not bad, (name, bad[:3])
        failed = {k: e["reason"] for k, e in result["estimates"].items() if e["status"] == "failed"}
        assert not failed, (name, failed)
        case = CASES[name]
        data = case.load(child_seed(5, name, "data"))
        check_estimator_matrix(case.config, data, result["estimates"])
        case = base / "cold" / name
        html = (case / "index.html").read_text()
        assert "data:image/png;base64" in html
        assert "http://" not in html and "https://" not in html
        assert list(case.glob("posterior_*.zarr")), name
    index = (base / "cold" / "index.html").read_text()
    assert all(f'href="{name}/index.html"' in index for name in COLD_CASES)


def test_warm_run_gives_identical_estimates(cold_and_warm):
    base, cold, warm = cold_and_warm
    assert cold.returncode == 0 and warm.returncode == 0, warm.stderr[-3000:]
    a, b = _results(base / "cold", WARM_CASES), _results(base / "warm", WARM_CASES)
    for name in WARM_CASES:
        for key, est in a[name]["estimates"].items():
            other = b[name]["estimates"][key]
            for field in ("status", "mean", "sd", "mcse_mean"):
                assert est[field] == other[field], (name, key, field)


def test_warm_run_with_sweeps_draws_them(cold_and_warm):
    """``run --sweeps``: every warm case has both sweeps, drawn on its page, and no model
    was compiled again after a sweep's first grid point."""
    base, _, warm = cold_and_warm
    assert warm.returncode == 0, warm.stderr[-3000:]
    for name, result in _results(base / "warm", WARM_CASES).items():
        assert set(result["sweeps"]) == {"prior_strength", "sample_size"}, name
        for sweep in result["sweeps"].values():
            assert sweep["cost"]["built after the first point"] == {
                "models": 0,
                "functions": 0,
                "nutpie": 0,
            }
            html = (base / "warm" / name / "index.html").read_text()
            assert sweep["title"] in html and "figure unavailable" not in html


@needs_chromium
def test_real_pages_open_in_browser(cold_and_warm, tmp_path_factory):
    """Every page both runs wrote (each index and case page, the sweeps included) in headless
    Chromium: every figure it has decodes, none is unavailable, nothing comes off the network."""
    base, cold, warm = cold_and_warm
    assert cold.returncode == 0 and warm.returncode == 0, (cold.stderr[-2000:], warm.stderr[-2000:])
    pages = sorted(base.glob("*/index.html")) + sorted(base.glob("*/*/index.html"))
    assert len(pages) == 2 + len(COLD_CASES) + len(WARM_CASES)
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        for page in pages:
            seen = open_page(driver, page)
            assert seen.images and len(seen.images) == page.read_text().count("<img "), page
            assert seen.images_decode, (page, seen.images)
            assert "figure unavailable" not in seen.text, page
            assert seen.scripts == 0, page
            assert page.as_uri() in seen.ours and not seen.foreign, (page, seen.foreign)
            assert not seen.network, (page, seen.network)
