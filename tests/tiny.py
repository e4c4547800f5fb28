"""Tiny data for every family (a candidate target each family's encoder accepts, two random
features) and its problems for every prior, built as the pipeline builds them
(``models.family.new_problem``): shared by the family-contract tests and the family-neutral
lint (its forbidden names are the families' parameter names)."""

from __future__ import annotations

import functools

import numpy as np

from nll_losses.models import FAMILIES
from nll_losses.models.family import Problem, Settings, new_problem

N = 30
FEATURES = ("x1", "x2")  # not "a"/"b": those are candidate class labels below
TARGET = "target col"


def _candidate_targets(rng) -> list[list[str]]:
    """Raw target cells, in the order tried: numbers, two labels, three labels, counts."""
    numbers = [f"{v:.3f}" for v in rng.normal(1.0, 1.0, N)]
    two = ["no", "yes"] * (N // 2)
    three = ["a", "b", "c"] * (N // 3)
    counts = [str(v) for v in rng.poisson(2.0, N)]
    return [numbers, two, three, counts]


def encode_tiny_target(family, options) -> tuple[list[str], np.ndarray, dict]:
    """The first candidate column ``family.encode_target`` accepts (ValueError otherwise)."""
    rng = np.random.default_rng(1)
    reasons = []
    for cells in _candidate_targets(rng):
        try:
            y, info = family.encode_target(cells, TARGET, options)
        except ValueError as exc:
            reasons.append(str(exc))
            continue
        return cells, y, info
    raise AssertionError(f"{family.name}: no candidate target accepted: {reasons}")


@functools.cache
def tiny_problems(name: str) -> dict[str, Problem]:
    """{prior: Problem} on the tiny data, built the way the pipeline builds them."""
    family = FAMILIES[name]
    options = family.Options()
    _, y, info = encode_tiny_target(family, options)
    X = np.random.default_rng(0).normal(size=(N, len(FEATURES)))
    settings = Settings(options=options)
    out = {}
    for prior in family.priors:
        try:
            out[prior] = new_problem(family, X, np.asarray(y), FEATURES, info, settings, prior)
        except ValueError as exc:  # not offered with these data (e.g. features): says why
            assert prior not in family.default_priors(settings), (prior, exc)
            assert str(exc).strip() and "\n" not in str(exc), (prior, exc)
    return out
