"""Reading the normal family's target: encoding its CSV cells (one-line refusals naming the
column and the values), and its answer to ``--family auto``."""

from __future__ import annotations

import numpy as np

from nll_losses.models.targets import Claim, TargetValues, parse_numeric


def encode_target(cells, column: str, options) -> tuple[np.ndarray, dict]:
    y = parse_numeric(cells, column)
    if not np.ptp(y) > 0:
        raise ValueError(
            f"target column {column!r} is constant (value {float(y[0]):g}); nothing to fit"
        )
    return y, {}


def auto(values: TargetValues) -> Claim | None:
    """Numbers: sure unless there are two values only (a binary target, whatever its two
    numbers) or they are all whole and non-negative (counts or coded classes)."""
    if values.numbers is None or len(values.distinct) == 2:
        return None
    hint = "to fit them as numbers"
    if values.whole_non_negative:
        return Claim(False, "", hint)
    return Claim(True, f"holds numbers ({len(values.distinct):,} different values)", hint)


def auto_note(target_info: dict) -> str:
    return ""
