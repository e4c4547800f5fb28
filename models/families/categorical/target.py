"""Reading the categorical family's target: encoding its CSV cells (one-line refusals naming the
column and the values), and its answer to ``--family auto``."""

from __future__ import annotations

import numpy as np

from nll_losses.models.families.categorical.spec import CategoricalOptions, class_info
from nll_losses.models.targets import Claim, TargetValues, match_label, parse_labels


def encode_target(cells, column: str, options) -> tuple[np.ndarray, dict]:
    options = options or CategoricalOptions()
    labels = parse_labels(cells, column)
    found = set(labels)
    try:
        classes = sorted(found, key=float)
    except ValueError:
        classes = sorted(found)
    if len(classes) > max(2, len(labels) // 2):
        raise ValueError(
            f"target column {column!r} has {len(classes)} different values in "
            f"{len(labels)} rows: a class needs repeated labels (is it a continuous "
            "variable? then use --family normal)"
        )
    if len(classes) < 2:
        raise ValueError(
            f"target column {column!r} has one class only ({classes[0]!r}); nothing to fit"
        )
    baseline = classes[0] if options.baseline is None else match_label(options.baseline, found)
    if baseline not in found:
        shown = ", ".join(repr(c) for c in classes[:8]) + (" …" if len(classes) > 8 else "")
        raise ValueError(
            f"--baseline {baseline!r} is not a class of target column {column!r} (classes: {shown})"
        )
    code = {c: i for i, c in enumerate(classes)}
    y = np.array([code[lab] for lab in labels], dtype=float)
    return y, class_info(classes, y, baseline)


def auto(values: TargetValues) -> Claim | None:
    """Three or more text labels: sure; three or more whole numbers, each repeated on average
    (at most half as many values as rows): classes coded as numbers, one reading of several."""
    k = len(values.distinct)
    if k < 3:
        return None
    if values.numbers is None:
        return Claim(True, f"has {k} text labels ({values.shown})", "for classes")
    if values.whole_non_negative and k <= max(2, values.n_rows // 2):
        return Claim(False, "", "for classes")
    return None


def auto_note(target_info: dict) -> str:
    return f"baseline class {target_info['baseline']!r} (--baseline to change)"
