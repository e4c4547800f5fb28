"""Shared fixtures: expensive fits are session-scoped with fixed seeds (compiled once).

Compile caches.  Every test session compiles into its own new PyTensor and Numba cache
folders, set here before anything imports PyTensor and inherited by every subprocess, so
``make test`` sees what a new machine sees whatever this machine has cached.  The cold-start
test (tests/test_cold_start.py) gets two more new folders of its own: its ``analyses run``
subprocesses start as soon as collection ends, in the background on the second core, while
the session's tests run (and compile into the session's folders) in this process.  Its
tests come last and wait for those runs.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/reference.py, tests/tolerances.py

_USER_FLAGS = os.environ.get("PYTENSOR_FLAGS", "")


def compile_caches(prefix: str) -> dict[str, str]:
    """A new, empty pair of PyTensor and Numba compile-cache folders (removed at exit), as the
    environment variables that select them."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    # registered before PyTensor is imported, so it runs after PyTensor's own exit handlers
    # (which still read the compiled modules)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    flags = ",".join(f for f in (_USER_FLAGS, f"base_compiledir={folder / 'pytensor'}") if f)
    return {"PYTENSOR_FLAGS": flags, "NUMBA_CACHE_DIR": str(folder / "numba")}


os.environ.update(compile_caches("nll-test-caches-"))

COLD_START = "test_cold_start.py"


def pytest_collection_modifyitems(config, items):
    """The cold-start tests last: they wait for runs that started when collection ended."""
    items.sort(key=lambda item: item.path.name == COLD_START)


def pytest_collection_finish(session):
    """Start the cold-start runs now if any of their tests was selected."""
    if any(item.path.name == COLD_START for item in session.items):
        import test_cold_start

        test_cold_start.start_in_background()


@pytest.fixture(scope="session")
def model_cache():
    from analyses.estimators import ModelCache

    return ModelCache()
