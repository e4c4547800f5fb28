"""The one-hidden-layer softmax network, ``z_i = W2ᵀ relu(W1ᵀ x_i + b1) + b2``: its
parameters, logits, objective and PyMC model.

N(0, τ²) on W1 and W2 (weight decay); b2 flat against the baseline (b2_baseline = 0); b1 ~
N(0, HIDDEN_BIAS_SCALE²) for NUTS and flat for find_MAP (``hidden_bias_scale=None``; see the
package docstring)."""

from __future__ import annotations

import numpy as np

from nll_losses.models.families.categorical.params import (
    class_codes,
    classes_and_baseline,
    eval_points,
)
from nll_losses.models.families.categorical.spec import NAME, CategoricalSpec
from nll_losses.models.family import Built, Param, Problem
from nll_losses.models.numerics import softmax as sm_


def layout_params(features, classes: list[str], base: int, spec: CategoricalSpec) -> list[Param]:
    H = [f"h{j}" for j in range(spec.hidden)]
    others = [c for i, c in enumerate(classes) if i != base]
    return (
        [
            Param(f"W1[{f},{h}]", "W1", (("feature", f), ("hidden", h)), "weights")
            for f in features
            for h in H
        ]
        + [Param(f"b1[{h}]", "b1", (("hidden", h),), "biases") for h in H]
        + [
            Param(f"W2[{h},{c}]", "W2", (("hidden", h), ("class", c)), "weights")
            for h in H
            for c in classes
        ]
        + [Param(f"b2[{c}]", "b2", (("contrast", c),), "biases") for c in others]
    )


def network_weights(problem: Problem, params: dict) -> tuple:
    """(W1 (d, H), b1 (H,), W2 (H, K), b2 (K,)) from the layout's names (b2_base = 0)."""
    classes, base = classes_and_baseline(problem)
    feats, H = list(problem.features), problem.spec.hidden
    W1 = np.array([[params[f"W1[{f},h{j}]"] for j in range(H)] for f in feats]).reshape(
        len(feats), H
    )
    b1 = np.array([params[f"b1[h{j}]"] for j in range(H)])
    W2 = np.array([[params[f"W2[h{j},{c}]"] for c in classes] for j in range(H)])
    b2 = np.array([0.0 if k == base else params[f"b2[{c}]"] for k, c in enumerate(classes)])
    return W1, b1, W2, b2


def network_params(problem: Problem, W1, b1, W2, b2) -> dict[str, float]:
    """The layout's names from (W1, b1, W2, b2), b2 as contrasts against the baseline."""
    classes, base = classes_and_baseline(problem)
    out = {}
    for i, f in enumerate(problem.features):
        for j in range(W1.shape[1]):
            out[f"W1[{f},h{j}]"] = float(W1[i, j])
    for j in range(W1.shape[1]):
        out[f"b1[h{j}]"] = float(b1[j])
    for j in range(W1.shape[1]):
        for k, c in enumerate(classes):
            out[f"W2[h{j},{c}]"] = float(W2[j, k])
    for k, c in enumerate(classes):
        if k != base:
            out[f"b2[{c}]"] = float(b2[k] - b2[base])
    return out


def logits(problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
    """(m, K) logits at ``params`` for the rows of ``X``."""
    return sm_.network_logits(np.asarray(X, float), *network_weights(problem, params))


def objective(problem: Problem, params: dict) -> float:
    """The weight-decay objective NLL + (‖W1‖² + ‖W2‖²)/(2τ²) at ``params`` (b1 flat, as
    find_MAP and MLPClassifier)."""
    W = network_weights(problem, params)
    return sm_.network_objective(problem.X, class_codes(problem), *W, problem.spec.tau)


def build(problem: Problem) -> Built:
    import pymc as pm
    import pytensor.tensor as pt

    spec = problem.spec
    classes, base = classes_and_baseline(problem)
    K, H = len(classes), spec.hidden
    X = np.asarray(problem.X, float)
    labels, E = eval_points(problem)
    others = [c for i, c in enumerate(classes) if i != base]
    coords = {
        "feature": list(problem.features),
        "hidden": [f"h{j}" for j in range(H)],
        "class": classes,
        "contrast": others,
        "point": labels,
        "obs": list(range(X.shape[0])),
    }
    data = {
        "X": X,
        "eval_points": E,
        "weight_precision": np.asarray(1.0 / spec.tau**2),
        "hidden_bias_precision": np.asarray(
            0.0 if spec.hidden_bias_scale is None else 1.0 / spec.hidden_bias_scale**2
        ),
        "y_obs": class_codes(problem),
    }
    idx = [k for k in range(K) if k != base]
    with pm.Model(coords=coords) as model:
        Xd = pm.Data("X", data["X"])
        Ed = pm.Data("eval_points", data["eval_points"])
        wp = pm.Data("weight_precision", data["weight_precision"])
        bp = pm.Data("hidden_bias_precision", data["hidden_bias_precision"])
        y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
        W1 = pm.Flat("W1", dims=("feature", "hidden"))
        b1 = pm.Flat("b1", dims="hidden")
        W2 = pm.Flat("W2", dims=("hidden", "class"))
        b2 = pm.Flat("b2", dims="contrast")
        pm.Potential("weight_decay", -0.5 * wp * (pt.sum(W1**2) + pt.sum(W2**2)))
        pm.Potential("hidden_bias_prior", -0.5 * bp * pt.sum(b1**2))
        b2_all = pt.set_subtensor(pt.zeros(K)[idx], b2)

        def net(inputs):
            return pt.dot(pt.maximum(pt.dot(inputs, W1) + b1, 0.0), W2) + b2_all

        pm.Deterministic("prob", pm.math.softmax(net(Ed), axis=1), dims=("point", "class"))
        pm.Categorical("y", logit_p=net(Xd), observed=y_obs, dims="obs")
    return Built(
        model=model,
        key=(NAME, "network", X.shape[1], H, K, base, len(labels)),  # not n
        data=data,
        observed="y",
    )
