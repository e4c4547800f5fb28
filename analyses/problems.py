"""A family's problem for one prior, from a data set and the user's settings: the one place
where data, spec and parameter layout meet (the case pipeline and the sweeps both build
problems here)."""

from __future__ import annotations

from analyses.datasets import Dataset
from models.family import Problem


def make_problem(family, data: Dataset, settings, prior: str) -> Problem:
    """The family's problem for one prior: spec, layout and the (already encoded) data."""
    spec = family.make_spec(settings, prior)
    features = tuple(data.feature_names)
    layout = family.layout(features, data.target_info, spec)
    return Problem(data.X, data.y, features, dict(data.target_info), prior, spec, layout)
