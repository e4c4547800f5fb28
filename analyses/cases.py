"""Built-in cases: (family, dataset, settings), one entry each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analyses import datasets
from analyses.config import CaseConfig
from models.family import Settings


@dataclass(frozen=True)
class Case:
    config: CaseConfig
    load: Callable[[int], datasets.Dataset]  # seed -> Dataset
    description: str


CASES: dict[str, Case] = {
    "synthetic": Case(
        CaseConfig("synthetic", "normal", Settings(prior_scale=0.25)),
        lambda seed: datasets.synthetic_normal(seed),
        "Simulated like the derivation: a few distinct x values, several y per x, "
        "known w, b and sigma.",
    ),
    "diabetes": Case(
        CaseConfig("diabetes", "normal", Settings(prior_scale=200.0)),
        lambda seed: datasets.diabetes(),
        "scikit-learn's diabetes data (442 patients, 10 standardised baseline variables).",
    ),
}


def get_case(name: str) -> Case:
    try:
        return CASES[name]
    except KeyError:
        from analyses.errors import InputError

        raise InputError(f"unknown case {name!r}; known: {', '.join(CASES)}") from None
