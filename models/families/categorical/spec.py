"""The categorical family's options, spec and class encoding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nll_losses.models.options import Flag

NAME = "categorical"
HIDDEN_BIAS_SCALE = 10.0  # b1 ~ N(0, 10^2) for NUTS: proper, and wide for standardised inputs
MAP_STARTS = 40  # find_MAP starts for the network (jittered; the best accepted mode is kept)
SWEEP_STARTS = 8  # per grid point of the network's prior-strength sweep (21 points)
SKLEARN_RESTARTS = 20  # MLPClassifier restarts (random_state drawn from the seed); the best is kept
NLL_PMF = "−Σ log softmax(z)_y (Categorical pmf)"
NLL_CE = "CE from logits (logsumexp)"
NLL_LOGSOFTMAX = "NLL of log_softmax"
NLL_LOGLOSS = "n·log_loss (sklearn)"
EXTREME_LOGIT = 1000.0
LOGLOSS_MAX_LOGIT = 30.0  # sklearn's log_loss clips p to [eps, 1 - eps]
IDENTITY = ("NLL / n", "H(p̂, q)", "H(p̂) + KL(p̂‖q)")


@dataclass(frozen=True)
class CategoricalOptions:
    """``baseline``: the class whose logits are 0 (None: the first class in sorted order);
    ``hidden``: hidden units of the network (0: softmax regression); ``dirichlet_alpha``: the
    symmetric Dirichlet concentration of the intercept-only model's ``dirichlet`` prior."""

    baseline: str | None = None
    hidden: int = 0
    dirichlet_alpha: float = 2.0

    FLAGS: ClassVar[tuple[Flag, ...]] = (
        Flag(
            "baseline",
            "class whose logits are 0 under flat priors (default: first class sorted)",
            metavar="CLASS",
        ),
        Flag(
            "hidden",
            "hidden relu units of a one-hidden-layer network (0: softmax regression)",
            int,
            "H",
        ),
    )

    @classmethod
    def from_flags(cls, values: dict[str, Any]) -> CategoricalOptions:
        hidden = values["hidden"] or 0
        if hidden < 0:
            raise ValueError(f"--hidden must be 0 or more, not {hidden}")
        return cls(baseline=values["baseline"], hidden=hidden)

    def columns(self) -> dict[str, str]:
        return {}  # no column besides the target and the features

    def describe(self) -> dict[str, str]:
        return {
            "baseline class": self.baseline or "default (the first class in sorted order)",
            "hidden units": str(self.hidden),
        }


@dataclass(frozen=True)
class CategoricalSpec:
    prior: str  # "flat", "gaussian" or "dirichlet"
    tau: float | None  # the N(0, tau^2) scale of the weights (gaussian), else None
    intercept: bool = True
    hidden: int = 0
    hidden_bias_scale: float | None = HIDDEN_BIAS_SCALE  # None: flat b1 (find_MAP's model)
    alpha: float = 2.0


def class_info(classes: list[str], y: np.ndarray, baseline: str) -> dict:
    counts = np.bincount(np.asarray(y, int), minlength=len(classes))
    return {
        "classes": list(classes),
        "baseline": baseline,
        "counts": {c: int(v) for c, v in zip(classes, counts, strict=True)},
    }
