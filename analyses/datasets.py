"""Datasets: the validated ``Dataset`` value, built-in datasets and user CSV files.

Layering: NumPy/pandas/scikit-learn only; nothing here knows PyMC or reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """A regression/classification dataset, validated once.

    Attributes
    ----------
    name : str
        Short name (case name or CSV file stem); user-provided, escape before HTML.
    X : ndarray, shape (n, k), float64
        Feature matrix, without an intercept column.
    y : ndarray, shape (n,)
        Target (float64 for the normal family).
    feature_names : tuple of str
        One per column of ``X``; user-provided.
    target : str
        Name of the target column.
    description : str
        One paragraph for the report.
    truth : dict or None
        Generating parameter values for synthetic data (``intercept``, feature names, ``sigma``).
    source : str
        Where the data came from (path or generator), for provenance.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target: str
    description: str = ""
    truth: dict[str, float] | None = None
    source: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def n_obs(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])
