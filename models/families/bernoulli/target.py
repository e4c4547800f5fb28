"""Reading the bernoulli family's target: encoding its CSV cells (one-line refusals naming the
column and the values), and its answer to ``--family auto``."""

from __future__ import annotations

import numpy as np

from nll_losses.models.families.bernoulli.spec import BernoulliOptions
from nll_losses.models.targets import Claim, TargetValues, match_label, parse_labels


def encode_target(cells, column: str, options) -> tuple[np.ndarray, dict]:
    options = options or BernoulliOptions()
    labels = parse_labels(cells, column)
    found = sorted(set(labels))
    numeric = {}
    for lab in found:
        try:
            numeric[lab] = float(lab)
        except ValueError:
            numeric = None
            break
    if len(found) != 2:
        shown = ", ".join(repr(v) for v in found[:6]) + (" …" if len(found) > 6 else "")
        if numeric and len(found) > max(2, len(labels) // 2):  # categorical's rule
            hint = "it holds numbers, not classes: use --family normal"
        elif len(found) > 2:
            hint = "use --family categorical for three or more classes"
        else:
            hint = "nothing to fit with one label"
        raise ValueError(
            f"target column {column!r} must hold exactly two labels (0/1 or two names); "
            f"found {len(found)}: {shown}; {hint}"
        )
    if numeric and sorted(numeric.values()) == [0.0, 1.0]:
        default = next(lab for lab, v in numeric.items() if v == 1.0)
    else:
        default = found[1]
    positive = match_label(options.positive, found) if options.positive is not None else default
    if positive not in found:
        raise ValueError(
            f"--positive {positive!r} is not a label of target column {column!r} "
            f"(labels: {found[0]!r}, {found[1]!r})"
        )
    negative = next(lab for lab in found if lab != positive)
    y = np.array([1.0 if lab == positive else 0.0 for lab in labels])
    return y, {
        "positive (y = 1)": positive,
        "negative (y = 0)": negative,
        "count y = 1": int(y.sum()),
        "count y = 0": int(len(y) - y.sum()),
    }


def auto(values: TargetValues) -> Claim | None:
    """Exactly two values (0/1, yes/no, two names): sure."""
    if len(values.distinct) != 2:
        return None
    return Claim(True, f"has two values {values.shown}", "for two labels")


def auto_note(target_info: dict) -> str:
    return f"y = 1 for {target_info['positive (y = 1)']!r} (--positive LABEL to change)"
