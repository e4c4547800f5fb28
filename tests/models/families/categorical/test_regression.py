"""Softmax regression's PyMC model (models/families/categorical/regression.py)."""

from __future__ import annotations

import numpy as np
import pytest

from nll_losses.models.families.categorical import FAMILY
from nll_losses.models.families.categorical.spec import class_info
from nll_losses.models.family import Settings, new_problem


def _problem(prior: str, classes: list[str], baseline: str, features: int, seed: int):
    rng = np.random.default_rng(seed)
    n = 30
    X = rng.normal(size=(n, features))
    y = rng.integers(0, len(classes), size=n).astype(float)
    y[: len(classes)] = np.arange(len(classes))  # every class present
    info = class_info(classes, y, baseline)
    names = tuple(f"x{j}" for j in range(features))
    return new_problem(FAMILY, X, y, names, info, Settings(prior_scale=1.5), prior)


def _constants(problem) -> list:
    """The constants of the model's log density graph (what its compiled kernel is keyed
    on besides the graph's operations, which the same code builds)."""
    from pytensor.graph.basic import Constant
    from pytensor.graph.traversal import ancestors

    model = FAMILY.build_model(problem).model
    found = [v for v in ancestors([model.logp()]) if isinstance(v, Constant)]
    return sorted((str(c.type), np.asarray(c.data).tobytes()) for c in found)


@pytest.mark.parametrize("prior", ["flat", "gaussian"])
def test_every_data_shape_is_one_graph(prior):
    """Other features, classes and baseline are data of the graph, not constants in it: the
    kernels compiled for one data set (cached on disk) serve the others (iris compiled its own,
    28 s cold, when its index arrays were constants)."""
    small = _problem(prior, ["a", "b", "c"], "b", features=2, seed=0)
    large = _problem(prior, ["p", "q", "r", "s"], "p", features=5, seed=1)
    assert _constants(small) == _constants(large)
