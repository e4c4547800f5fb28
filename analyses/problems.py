"""A family's problem for one prior, from a data set and the user's settings: the one place
where data, spec and parameter layout meet (the case pipeline and the sweeps both build
problems here)."""

from __future__ import annotations

from nll_losses.analyses.datasets import Dataset
from nll_losses.models.family import Problem, new_problem


def make_problem(family, data: Dataset, settings, prior: str) -> Problem:
    """The family's problem for one prior: spec, layout and the (already encoded) data."""
    return new_problem(
        family, data.X, data.y, data.feature_names, data.target_info, settings, prior, data.rows
    )
