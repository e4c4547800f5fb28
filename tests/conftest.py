"""Shared fixtures: expensive fits are session-scoped with fixed seeds (compiled once).

Compile caches.  Every test session compiles into its own new PyTensor and Numba cache
folders, set here before anything imports PyTensor and inherited by every subprocess, so
``make test`` sees what a new machine sees whatever this machine has cached.  The cold-start
test (tests/test_cold_start.py) runs first, on those folders while they are still empty, and
the rest of the session reuses what it compiled: the cold compile is paid once, not twice.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/reference.py, tests/tolerances.py

SESSION_CACHES = Path(tempfile.mkdtemp(prefix="nll-test-caches-"))
_flags = os.environ.get("PYTENSOR_FLAGS", "")
os.environ["PYTENSOR_FLAGS"] = ",".join(
    f for f in (_flags, f"base_compiledir={SESSION_CACHES / 'pytensor'}") if f
)
os.environ["NUMBA_CACHE_DIR"] = str(SESSION_CACHES / "numba")
# registered before PyTensor is imported, so it runs after PyTensor's own exit handlers
# (which still read the compiled modules)
atexit.register(shutil.rmtree, SESSION_CACHES, ignore_errors=True)

COLD_FIRST = "test_cold_start.py"


def pytest_collection_modifyitems(config, items):
    """The cold-start test first: it needs the session's caches still empty."""
    items.sort(key=lambda item: item.path.name != COLD_FIRST)


@pytest.fixture(scope="session")
def model_cache():
    from analyses.estimators import ModelCache

    return ModelCache()
