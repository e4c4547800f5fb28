"""Shared fixtures: expensive fits are session-scoped with fixed seeds (compiled once).

Compile caches.  Every test session compiles into its own new PyTensor and Numba cache
folders, set here before anything imports PyTensor and inherited by every subprocess, so
``make test`` sees what a new machine sees whatever this machine has cached.  The cold-start
test (tests/analyses/test_cold_start.py) gets two more new folders of its own: its ``analyses run``
subprocesses start as soon as collection ends, in the background on the second core, while
the session's tests run (and compile into the session's folders) in this process.  Its
tests come last and wait for those runs.  The background lane's runs (tests/background.py)
start after them, in their folders (warm by then).
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/reference.py, tests/tolerances.py

import nll_losses.analyses  # noqa: E402
from nll_losses.analyses.threads import one_thread_per_process  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# one BLAS / OpenMP thread in this process and its subprocesses, as ``python -m
# nll_losses.analyses`` (analyses/threads.py): the session runs beside its background runs on two
# cores
one_thread_per_process()

# the user's PyTensor flags, less any compile folder (ours replace it)
_USER_FLAGS = [
    f
    for f in os.environ.get("PYTENSOR_FLAGS", "").split(",")
    if f and f.split("=", 1)[0].strip() not in ("base_compiledir", "compiledir")
]


def compile_caches(prefix: str) -> dict[str, str]:
    """A new, empty pair of PyTensor and Numba compile-cache folders (removed at exit), as the
    environment variables that select them.  ``compiledir`` is set as well as
    ``base_compiledir``, so a ``compiledir`` in ~/.pytensorrc cannot send the C cache
    elsewhere; PyTensor puts its Numba kernels in ``base_compiledir/numba``, nutpie's Numba
    uses NUMBA_CACHE_DIR."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    base = folder / "pytensor"
    flags = [*_USER_FLAGS, f"base_compiledir={base}", f"compiledir={base / 'compiledir'}"]
    return {"PYTENSOR_FLAGS": ",".join(flags), "NUMBA_CACHE_DIR": str(folder / "numba")}


# before anything imports PyTensor (and registered before PyTensor's own exit handlers, which
# still read the compiled modules, so the folders are removed after them)
os.environ.update(compile_caches("nll-test-caches-"))

COLD_START = "test_cold_start.py"


def pytest_configure(config):
    """nll_losses is found through its install (setup.py maps it to a checkout's root): this
    checkout's tests would run against another one's code if that one was installed last."""
    installed = Path(nll_losses.analyses.__file__).resolve().parents[1]
    if installed != ROOT:
        pytest.exit(
            f"nll_losses is installed from {installed}, not from this checkout ({ROOT}): "
            "run `make setup` (or `pip install -e .`) here",
            returncode=2,
        )


def pytest_collection_modifyitems(config, items):
    """The tests that wait for background runs last (tests/background.py), the cold-start
    tests after them: they wait for runs that started when collection ended."""
    items.sort(
        key=lambda item: (
            item.path.name == COLD_START,
            item.get_closest_marker("background") is not None,
        )
    )


def pytest_collection_finish(session):
    """Start the cold-start runs now if any of their tests was selected, and the background
    runs of the selected tests that ask for one, on a lane after them."""
    if session.config.option.collectonly or session.testsfailed:
        return  # nothing will run (collection errors count as failures)
    import background

    cold, caches, jobs = None, None, {}
    for item in session.items:
        if item.path.name == COLD_START and cold is None:
            item.module.start_in_background()
            cold, caches = item.module.started(), item.module.caches()
        for mark in item.iter_markers("background"):
            jobs[mark.args[0]] = item.module.BACKGROUND[mark.args[0]]
    # the lane's runs check numbers and pages, not a cold start (the cold-start test does):
    # they run in the cold-start runs' caches, warm by then for the built-in graph types (a
    # data shape of their own still compiles its kernels)
    background.start(jobs, after=cold, env=caches)


@pytest.fixture
def background_run(request):
    """``background_run(name)``: the test module's background run ``name`` (its
    CompletedProcess and folder), waited for (tests/background.py)."""
    import background

    return lambda name: background.result(name, request.module)


def pytest_terminal_summary(terminalreporter):
    """The cold-start runs' timeline, when they ran (how the two cores were shared), and what
    each background run took."""
    module = sys.modules.get("test_cold_start") or sys.modules.get("tests.test_cold_start")
    line = module.timeline() if module is not None else None
    if line:
        terminalreporter.write_line(line)
    background = sys.modules.get("background")
    took = background.durations() if background is not None else ""
    if took:
        terminalreporter.write_line(f"background runs: {took}")


@pytest.fixture(scope="session")
def model_cache():
    from nll_losses.analyses.estimators import ModelCache

    return ModelCache()
