"""Shared fixtures: expensive fits are session-scoped with fixed seeds (compiled once)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/reference.py, tests/tolerances.py


@pytest.fixture(scope="session")
def model_cache():
    from analyses.estimators import ModelCache

    return ModelCache()
