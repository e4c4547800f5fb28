"""Reading the Poisson family's target: counts (whole numbers ≥ 0; anything else a one-line
refusal naming the column and the bad values), and its answer to ``--family auto``."""

from __future__ import annotations

import numpy as np

from nll_losses.models.targets import Claim, TargetValues, parse_numeric


def encode_target(cells, column: str, options) -> tuple[np.ndarray, dict]:
    y = parse_numeric(cells, column)
    bad = np.flatnonzero((y < 0) | (y != np.round(y)))
    if bad.size:
        shown = ", ".join(f"{float(y[i]):g}" for i in bad[:5]) + (" …" if bad.size > 5 else "")
        raise ValueError(
            f"target column {column!r} must hold counts (whole numbers ≥ 0); {bad.size} "
            f"value(s) are not: {shown} (first at row {int(bad[0]) + 2}); use --family normal for "
            "other numbers"
        )
    if np.max(y) > 2.0**53:
        raise ValueError(
            f"target column {column!r} has a count above 2^53 ({float(np.max(y)):g}): it is not "
            "exact in double precision; divide the counts (and use --offset for the exposure)"
        )
    if not np.any(y > 0):
        raise ValueError(f"target column {column!r} is 0 in every row: no count to fit")
    return y.astype(float), {"total count": int(y.sum()), "zeros": int(np.sum(y == 0))}


def auto(values: TargetValues) -> Claim | None:
    """Whole numbers ≥ 0 with three or more values: counts, one reading among several."""
    if values.whole_non_negative and len(values.distinct) >= 3:
        return Claim(False, "", "for counts")
    return None


def auto_note(target_info: dict) -> str:
    return ""
