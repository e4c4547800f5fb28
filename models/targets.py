"""Reading a target column's CSV cells: missing cells, class labels (the spellings of one
number are one label) and numbers, each refusal one line naming the column, the file line and
the value.  Used by the families' ``encode_target`` and by the CSV reader; and what a family
answers to ``--family auto`` (``TargetValues`` in, a ``Claim`` out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MISSING = ("", "nan", "na", "n/a", "null", "none")


def parse_labels(cells: Sequence[str], column: str) -> list[str]:
    """Class labels from CSV cells (stripped); ``ValueError`` naming the column, the 1-based
    file line and the value on the first missing cell.  When every label is a finite number,
    labels are compared as numbers: the spellings of one value are one label, its shortest
    spelling (``1`` for ``1`` and ``1.0``, ``0`` for ``0`` and ``-0``)."""
    labels = [str(c).strip() for c in cells]
    for i, lab in enumerate(labels):
        if lab.lower() in MISSING:
            raise ValueError(f"column {column!r} row {i + 2}: missing value {lab!r}")
    values = _label_values(set(labels))
    if values is None:
        return labels
    spelling: dict[float, str] = {}
    for lab in sorted(values, key=lambda s: (len(s), s)):
        spelling.setdefault(values[lab], lab)  # -0.0 == 0.0: one key
    return [spelling[values[lab]] for lab in labels]


def match_label(given: str, found) -> str:
    """The label among ``found`` that ``given`` (a --positive / --baseline value) names: the
    same text, or, when all are numbers, the same number (``1.0`` names the label ``1``)."""
    if given in found:
        return given
    values = _label_values({given, *found})
    if values is not None:
        for lab in found:
            if values[lab] == values[given]:
                return lab
    return given


def _label_values(labels) -> dict[str, float] | None:
    """Each label's number when every one of ``labels`` is a finite number, else None."""
    values = {}
    for lab in labels:
        try:
            v = float(lab)
        except ValueError:
            return None
        if not math.isfinite(v):
            return None
        values[lab] = v
    return values


def parse_numeric(cells: Sequence[str], column: str) -> np.ndarray:
    """Floats from CSV cells (or numbers a CSV reader already parsed); ``ValueError`` naming
    the column, the 1-based file line (header = line 1) and the value on the first missing,
    non-numeric or non-finite cell.  (The file line holds when no row before it was skipped;
    readers that skip rows check cells first.)"""
    try:  # every cell a finite number (one C loop of Python's correctly rounded float())
        out = np.asarray(cells, dtype=np.float64)
    except (ValueError, TypeError):
        pass
    else:
        if out.ndim == 1 and np.all(np.isfinite(out)):
            return out
    out = np.empty(len(cells))
    for i, cell in enumerate(cells):
        cell = str(cell).strip()
        row = i + 2
        if cell.lower() in MISSING:
            raise ValueError(f"column {column!r} row {row}: missing value {cell!r}")
        try:
            v = float(cell)
        except ValueError:
            raise ValueError(
                f"column {column!r} row {row}: non-numeric value {cell[:40]!r}"
            ) from None
        if not np.isfinite(v):
            raise ValueError(f"column {column!r} row {row}: non-finite value {cell!r}")
        out[i] = v
    return out


# ------------------------------------------------------------------------------ --family auto
@dataclass(frozen=True)
class TargetValues:
    """What ``--family auto`` sees of a target column: its distinct values as labels (sorted,
    numbers as their shortest spelling) and, when every cell is a finite number, the values."""

    column: str
    distinct: tuple[str, ...]
    numbers: np.ndarray | None
    n_rows: int

    @property
    def shown(self) -> str:
        """The first distinct values, for a message."""
        return ", ".join(repr(x) for x in self.distinct[:6]) + (
            " …" if len(self.distinct) > 6 else ""
        )

    @property
    def whole_non_negative(self) -> bool:
        """Every value a whole number ≥ 0 (counts, or classes coded as numbers)."""
        v = self.numbers
        return v is not None and bool(np.all(v >= 0) and np.all(v == np.round(v)))


@dataclass(frozen=True)
class Claim:
    """A family's answer to ``--family auto`` for a target: ``sure`` (it is the family for
    these values; ``reason`` completes "target 'y' …") or one reading among several, which
    the user chooses; ``hint`` names the reading ("classes", "counts") in the message."""

    sure: bool
    reason: str
    hint: str
