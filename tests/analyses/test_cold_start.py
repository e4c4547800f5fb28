"""What a new machine sees: ``python -m nll_losses.analyses run --quick --sweeps`` of one
built-in case per compiled graph type in a subprocess with empty PyTensor and Numba compile
caches (two new folders of its own, see conftest.py), then two of them again with those caches
now warm.  Both must exit 0 with every agreement row ok, and give identical numbers (fastmath
off: a fresh compile and a cached one compute the same bits).  The other built-in cases run
the same way on the background lane (tests/background.py), with the same checks of their rows,
sweeps and pages: every figure of every built-in case is drawn and checked.

The two runs start in the background as soon as collection ends (conftest.py), so they use
the second core while the rest of the session runs; these tests come last and wait for them.
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import background
import pytest
from background import Runner
from browser import check_self_contained, chromium, first_screen, needs_chromium, open_page
from conftest import compile_caches
from matrix import check_estimator_matrix

from nll_losses.analyses.cases import CASES
from nll_losses.analyses.config import child_seed

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


# The cold run covers every compiled graph type: normal; Bernoulli without and with the
# Jeffreys term; softmax regression (flat and Gaussian); the network; the Dirichlet model; the
# Poisson GLM with an offset; the Poisson rate with its Gamma prior.  Every page it writes, its
# sweeps' figures included, must pass analyses/figure_check.py and show its claim on the first
# screen in Chromium.  The other built-in cases (diabetes, breast_cancer, iris,
# quasi_separated, tv_news) only change the data of these graphs, which are pm.Data; their
# names, shapes and class labels are what a figure's layout depends on, so they run too, with
# the same checks, in one more run on the background lane (OTHER_CASES, in the warm caches:
# about 180 s of CPU, measured 2026-12-01, mostly their figures and the kernels each data
# shape compiles).  The warm re-run repeats two of the cold run's cases.
COLD_CASES = (
    "synthetic",
    "logistic_synthetic",
    "softmax_synthetic",
    "network_rings",
    "categorical_frequencies",
    "counts_synthetic",
    "cancer_rates",
)
WARM_CASES = ("synthetic", "logistic_synthetic")
OTHER_CASES = tuple(name for name in CASES if name not in COLD_CASES)
RUN_TIMEOUT = 1800  # s, each run


class Runs:
    """The cold run, then the warm one, in a background thread; ``wait`` gives their outcome."""

    def __init__(self):
        self.caches = compile_caches("nll-cold-start-caches-")
        # the environment copied now: tests running meanwhile may change os.environ
        self.runner = Runner(dict(os.environ, **self.caches))
        self.base = Path(tempfile.mkdtemp(prefix="nll-cold-start-runs-"))
        atexit.register(shutil.rmtree, self.base, ignore_errors=True)
        self.compiled_by_cold: dict[str, int] = {}  # files the cold run wrote in each cache
        self.done: Future = Future()  # (base folder, cold run, warm run), or what went wrong
        self.started = time.monotonic()
        self.seconds: dict[str, float] = {}  # each run's end, seconds after the start
        self.thread = threading.Thread(target=self._both, daemon=True)
        self.thread.start()

    def _files(self) -> dict[str, int]:
        flags = dict(f.split("=", 1) for f in self.caches["PYTENSOR_FLAGS"].split(","))
        folders = {
            "PyTensor C": Path(flags["compiledir"]),
            "PyTensor Numba": Path(flags["base_compiledir"]) / "numba",
        }
        return {k: sum(p.is_file() for p in f.rglob("*")) for k, f in folders.items()}

    def _both(self):
        try:
            # two workers compiling into the same empty caches at once; the warm run in
            # this one process: test_two_workers_give_the_numbers_of_one compares them
            cold = self._run(self.base / "cold", COLD_CASES, ["--sweeps", "--workers", "2"])
            self.compiled_by_cold = self._files()
            warm = self._run(self.base / "warm", WARM_CASES, ["--sweeps", "--workers", "1"])
            self.done.set_result((self.base, cold, warm))
        except BaseException as e:  # raised by wait()
            self.done.set_exception(e)

    def _run(self, out: Path, cases, extra=()) -> subprocess.CompletedProcess:
        args = [
            sys.executable,
            "-m",
            "nll_losses.analyses",
            "run",
            *cases,
            "--quick",
            "--seed",
            "5",
        ]
        args += [*extra, "--out", str(out)]
        result = self.runner.run(args, RUN_TIMEOUT)
        self.seconds[out.name] = time.monotonic() - self.started
        return result

    def wait(self):
        try:
            return self.done.result(timeout=2 * RUN_TIMEOUT + 60)
        except TimeoutError:
            self.runner.stop()
            raise


_RUNS: list[Runs] = []


def timeline() -> str | None:
    """When the background runs ended, in seconds after they started (for the session's
    summary: how much of the second core they leave to the rest of the session)."""
    if not _RUNS:
        return None
    runs = _RUNS[0]
    ends = ", ".join(f"{name} run ended at {t:.0f} s" for name, t in runs.seconds.items())
    lane = background.ended()
    if lane is not None:  # the background lane's runs, after these two (tests/background.py)
        n, at = lane
        ends += f"; the background lane's {n} runs " + (
            f"ended at {at - runs.started:.0f} s" if at is not None else "had not ended"
        )
    now = time.monotonic() - runs.started
    return f"cold-start runs: {ends or 'none ended'}; the session ended at {now:.0f} s"


def start_in_background() -> None:
    """Called by conftest.py when collection has selected a test of this module."""
    if not _RUNS:
        _RUNS.append(Runs())


def started() -> Future:
    """The runs' outcome (tests/background.py's lane starts after it)."""
    return _RUNS[0].done


def caches() -> dict[str, str]:
    """The runs' compile caches (tests/background.py's lane runs in them after the runs)."""
    return _RUNS[0].caches


@pytest.fixture(scope="module")
def cold_and_warm():
    start_in_background()  # already started, unless collection was bypassed
    runs = _RUNS[0]
    outcome = runs.wait()
    # the cold run started on new, empty folders; it must have compiled into them (its caches
    # were not somewhere else)
    assert all(runs.compiled_by_cold.values()), runs.compiled_by_cold
    return outcome


def _results(folder: Path, cases=COLD_CASES) -> dict[str, dict]:
    return {name: json.loads((folder / name / "results.json").read_text()) for name in cases}


def _check_cases(folder: Path, cases) -> None:
    """Every case of a ``run --quick --sweeps --seed 5`` into ``folder``: every agreement row
    ok, no estimate failed, the estimators the family declares, a self-contained page whose
    every figure passed analyses/figure_check.py as drawn (else a "Figures" warning), its
    posterior saved, its sweeps (:func:`_check_sweeps`); the index links every case."""
    for name, result in _results(folder, cases).items():
        bad = [r for r in result["agreement"] if not r["ok"]]
        assert result["agreement"] and not bad, (name, bad[:3])
        failed = {k: e["reason"] for k, e in result["estimates"].items() if e["status"] == "failed"}
        assert not failed, (name, failed)
        case = CASES[name]
        data = case.load(child_seed(5, name, "data"))
        check_estimator_matrix(case.config, data, result["estimates"])
        html = (folder / name / "index.html").read_text()
        assert "data:image/png;base64" in html
        assert "<h3>Figures</h3>" not in html, name
        assert not [w for w in result["warnings"] if w.startswith("figure ")], name
        assert "http://" not in html and "https://" not in html
        assert list((folder / name).glob("posterior_*.zarr")), name
        _check_sweeps(name, result, html)
    index = (folder / "index.html").read_text()
    assert all(f'href="{name}/index.html"' in index for name in cases)


# the one built-in case without a prior-strength sweep: the Poisson rate has no features (its
# Gamma prior has no τ to sweep)
NO_PRIOR_SWEEP = ("cancer_rates",)


def _check_sweeps(name: str, result: dict, html: str) -> None:
    """A ``--sweeps`` run's sweeps of case ``name``: the prior-strength sweep (every built-in
    case but NO_PRIOR_SWEEP), the sample-size sweep where the case has a data generator, each
    drawn on the page (its figure checked with the others above), no estimator failed at any
    grid point, and no model, compiled function or sampler built again after a sweep's first
    grid point."""
    expected = set() if name in NO_PRIOR_SWEEP else {"prior_strength"}
    expected |= {"sample_size"} if CASES[name].sized else set()
    assert set(result["sweeps"]) == expected, name
    assert not [w for w in result["warnings"] if w.startswith("sweeps unavailable")], name
    assert "figure unavailable" not in html, name
    for key, sweep in result["sweeps"].items():
        failed = [label for label, path in sweep["paths"].items() if "failed" in path["status"]]
        assert not failed, (name, key, failed)
        later = sweep["cost"]["built after the first point"]
        assert {"models", "functions", "nutpie"} <= set(later), later
        assert not any(later.values()), (name, later)
        assert sweep["title"] in html, name


def _check_in_browser(driver, page: Path, case_page: bool) -> None:
    """``page`` in headless Chromium: every image shown, the page self-contained
    (browser.check_self_contained); a case page shows its claim on the first screen."""
    seen = open_page(driver, page)
    assert seen.images and len(seen.images) == page.read_text().count("<img "), page
    check_self_contained(page, seen)
    if case_page:
        shown = first_screen(driver)
        assert shown == {"title": True, "claim": True, "picture": True}, (page, shown)


def test_cold_run_exits_0_with_every_row_ok(cold_and_warm):
    base, cold, _ = cold_and_warm
    assert cold.returncode == 0, cold.stderr[-3000:]
    assert "Traceback" not in cold.stderr
    _check_cases(base / "cold", COLD_CASES)


def test_warm_run_gives_identical_estimates(cold_and_warm):
    base, cold, warm = cold_and_warm
    assert cold.returncode == 0 and warm.returncode == 0, warm.stderr[-3000:]
    a, b = _results(base / "cold", WARM_CASES), _results(base / "warm", WARM_CASES)
    for name in WARM_CASES:
        for key, est in a[name]["estimates"].items():
            other = b[name]["estimates"][key]
            for field in ("status", "mean", "sd", "mcse_mean"):
                assert est[field] == other[field], (name, key, field)


def test_two_workers_give_the_numbers_of_one(cold_and_warm):
    """``run --workers 2`` (the cold run: cases in two processes, cold caches filled by both
    at once) and ``--workers 1`` (the warm run: one process, one model cache): every number
    of the cases' own fits is the same."""
    base, cold, warm = cold_and_warm
    assert cold.returncode == 0 and warm.returncode == 0, (cold.stderr[-2000:], warm.stderr)
    a, b = _results(base / "cold", WARM_CASES), _results(base / "warm", WARM_CASES)
    for name in WARM_CASES:
        for field in ("estimates", "agreement", "ledger", "translation", "landscape"):
            assert a[name].get(field) == b[name].get(field), (name, field)
        seeds = "derived seeds"
        assert a[name]["provenance"][seeds] == b[name]["provenance"][seeds], name


def test_warm_run_with_sweeps_draws_them(cold_and_warm):
    """``run --sweeps`` warm: the cold run's checks, sweeps included; the sweeps' numbers are
    the cold run's (the same seed, cold or warm, two workers or one)."""
    base, cold, warm = cold_and_warm
    assert cold.returncode == 0 and warm.returncode == 0, warm.stderr[-3000:]
    _check_cases(base / "warm", WARM_CASES)
    a, b = _results(base / "cold", WARM_CASES), _results(base / "warm", WARM_CASES)
    for name in WARM_CASES:
        assert a[name]["sweeps"].keys() == b[name]["sweeps"].keys(), name
        for key, sweep in a[name]["sweeps"].items():
            other = b[name]["sweeps"][key]
            for field in sweep.keys() - {"cost"}:  # the timings differ
                assert sweep[field] == other[field], (name, key, field)


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
            _check_in_browser(driver, page, case_page=page.parent.name in COLD_CASES)


def _other_cases(folder: Path) -> list:
    flags = ["--quick", "--sweeps", "--seed", "5", "--workers", "1"]
    return ["run", *OTHER_CASES, *flags, "--out", folder / "reports"]


_other_cases.cpu_seconds = 180  # measured 2026-12-01: the lane starts it first
BACKGROUND = {"the other built-in cases": _other_cases}  # tests/background.py


@pytest.mark.background("the other built-in cases")
def test_the_other_built_in_cases_pass_the_cold_runs_checks(background_run):
    """The built-in cases the cold run leaves out (its graphs with other data: other names,
    shapes and classes, which a figure's layout depends on), with ``--quick --sweeps``."""
    res, folder = background_run("the other built-in cases")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    _check_cases(folder / "reports", OTHER_CASES)


@needs_chromium
@pytest.mark.background("the other built-in cases")
def test_the_other_built_in_pages_open_in_browser(background_run, tmp_path_factory):
    res, folder = background_run("the other built-in cases")
    assert res.returncode == 0, res.stderr[-3000:]
    out = folder / "reports"
    pages = [out / "index.html", *(out / name / "index.html" for name in OTHER_CASES)]
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        for page in pages:
            _check_in_browser(driver, page, case_page=page.parent != out)
