"""The agreement rows of a case grouped back into the pairs the theory declared (one line per
claim on the page, the headline's numbers)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from nll_losses.analyses.results import AgreementRow

LEDGER_NOTE = "loss ledger"  # the note of the loss-ledger rows (analyses.pipeline)


def _field(row, key):
    return row.get(key) if isinstance(row, Mapping) else getattr(row, key)


def agreement_pairs(rows: Iterable[AgreementRow | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Group agreement rows (``AgreementRow`` values or their results.json dicts) into the
    declared pairs they came from, failing pairs first, otherwise in declared order.

    A pair is (left, right, tier, note, kind); loss-ledger rows are one pair per (left, right)
    over every point of the ledger.  Rows of one declared pair name each parameter once, so a
    repeated parameter starts a new pair (two pairs with the same note, e.g. means and sds).
    Each pair: ``left``, ``right``, ``tier``, ``note``, ``kind``, ``rows``, ``n_ok``, ``ok`` (every
    row ok), ``worst`` (the largest |difference| / tolerance over rows with a finite, positive
    tolerance; None when there is none) and ``worst_parameter``.
    """
    pairs: list[dict[str, Any]] = []
    open_pairs: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        note = _field(row, "note") or ""
        if note == LEDGER_NOTE:
            key: tuple = (LEDGER_NOTE, _field(row, "left"), _field(row, "right"))
        else:
            key = tuple(_field(row, k) for k in ("left", "right", "tier", "kind")) + (note,)
        parameter = _field(row, "parameter")
        candidates = open_pairs.setdefault(key, [])
        pair = next(
            (p for p in candidates if note == LEDGER_NOTE or parameter not in p["_seen"]), None
        )
        if pair is None:
            pair = {
                "left": _field(row, "left"),
                "right": _field(row, "right"),
                "tier": _field(row, "tier"),
                "note": note,
                "kind": _field(row, "kind") or "agree",
                "rows": [],
                "_seen": set(),
            }
            candidates.append(pair)
            pairs.append(pair)
        pair["rows"].append(row)
        pair["_seen"].add(parameter)
    for pair in pairs:
        del pair["_seen"]
        pair["n_ok"] = sum(1 for row in pair["rows"] if _field(row, "ok"))
        pair["ok"] = pair["n_ok"] == len(pair["rows"])
        ratios = []
        for row in pair["rows"]:
            diff, tol = _field(row, "abs_diff"), _field(row, "tolerance")
            if _finite(diff) and _finite(tol) and tol > 0:
                ratios.append((diff / tol, _field(row, "parameter")))
        worst = max(ratios, key=lambda t: t[0], default=(None, None))
        pair["worst"], pair["worst_parameter"] = worst
    return sorted(pairs, key=lambda p: p["ok"])  # stable: declared order within each


def _finite(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
