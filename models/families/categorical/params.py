"""What the categorical family's three models share: the classes and their codes, the points
where probabilities are reported, and those probabilities' names and values."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import softmax

from nll_losses.models.family import Param, Problem


def classes_and_baseline(problem: Problem) -> tuple[list[str], int]:
    classes = list(problem.target_info["classes"])
    return classes, classes.index(problem.target_info["baseline"])


def class_codes(problem: Problem) -> np.ndarray:
    return np.asarray(problem.y).astype(np.int64)


def intercept_only(problem: Problem) -> bool:
    return len(problem.features) == 0


def eval_points(problem: Problem) -> tuple[list[str], np.ndarray]:
    """The points where probabilities are reported and compared: each class's centroid x̄[c]
    (one point, "any x", without features)."""
    classes, _ = classes_and_baseline(problem)
    X = np.asarray(problem.X, float)
    if X.shape[1] == 0:
        return ["any x"], np.zeros((1, 0))
    y = class_codes(problem)
    return [f"x̄[{c}]" for c in classes], np.array(
        [X[y == k].mean(axis=0) for k in range(len(classes))]
    )


def probability_names(labels: list[str], classes: list[str]) -> list[tuple[str, str, str]]:
    """(name, point label, class) of every reported probability."""
    if labels == ["any x"]:
        return [(f"P({c})", labels[0], c) for c in classes]
    return [(f"P({c} | {lab})", lab, c) for lab in labels for c in classes]


def probability_params(features, classes: list[str]) -> list[Param]:
    """The layout's reported probabilities P(class | x̄[c]) (P(class) without features)."""
    labels = ["any x"] if not features else [f"x̄[{c}]" for c in classes]
    return [
        Param(nm, "prob", (("point", lab), ("class", c)), "probabilities")
        for nm, lab, c in probability_names(labels, classes)
    ]


def model_param_names(problem: Problem) -> list[str]:
    """The layout's parameters of the model itself (not the probabilities derived from it)."""
    return [p.name for p in problem.layout.params if p.group != "probabilities"]


Logits = Callable[[Problem, dict, np.ndarray], np.ndarray]


def probabilities(problem: Problem, params: dict, logits: Logits) -> dict[str, float]:
    """The reported probabilities at ``params``, by the model's ``logits`` function."""
    classes, _ = classes_and_baseline(problem)
    labels, E = eval_points(problem)
    P = softmax(logits(problem, params, E), axis=1)
    names = probability_names(labels, classes)
    return {nm: float(P[labels.index(lab), classes.index(c)]) for nm, lab, c in names}
