"""A case's warnings as the page shows them: grouped by what they are about, each text once
(with how many times it was raised), estimators that share a reason on one line, and a quick
run's sampler diagnostics labelled as a quick run's."""

from __future__ import annotations

import re
from collections import Counter

_STATUS = re.compile(r"^(?P<key>\S+) (?P<status>unavailable|failed): (?P<reason>.*)$", re.S)
_KEYED = re.compile(r"^(?P<key>\S+): (?P<text>.*)$", re.S)

# group title -> its place on the page
ORDER = (
    "Agreement",
    "Estimates that failed",
    "Sampler and optimiser diagnostics",
    "Estimates not available",
    "Figures",
    "Other",
)


def groups(warnings: list[str], estimate_keys, quick: dict | None = None) -> list[dict]:
    """[{"title", "note", "lines": [{"text", "count"}]}] in ORDER, empty groups left out.
    ``estimate_keys``: the case's estimate keys (``find_map_flat`` …), which tell a keyed
    diagnostic from any other "x: y" text; ``quick``: the sampler settings of a quick run."""
    keys = set(estimate_keys)
    found: dict[str, Counter] = {title: Counter() for title in ORDER}
    shared: dict[tuple[str, str], list[str]] = {}  # (status, reason) -> estimator keys
    for w in warnings:
        m = _STATUS.match(w)
        if m and m["key"] in keys:
            shared.setdefault((m["status"], m["reason"]), []).append(m["key"])
            continue
        m = _KEYED.match(w)
        if "agreement row" in w and "outside tolerance" in w:
            title = "Agreement"
        elif w.startswith(("figure '", "ArviZ summary")):
            title = "Figures"
        elif m and m["key"] in keys:
            title = "Sampler and optimiser diagnostics"
        else:
            title = "Other"
        found[title][w] += 1
    for (status, reason), names in shared.items():
        title = "Estimates that failed" if status == "failed" else ("Estimates not available")
        found[title][f"{', '.join(dict.fromkeys(names))} {status}: {reason}"] += 1
    notes = {}
    if quick:
        notes["Sampler and optimiser diagnostics"] = (
            f"A quick run ({quick.get('draws')} draws after {quick.get('tune')} tuning steps, "
            f"{quick.get('chains')} chains): r_hat and ESS are rougher than at the full "
            "settings; run without --quick before reading them as a problem."
        )
    return [
        {
            "title": title,
            "note": notes.get(title, ""),
            "lines": [{"text": t, "count": c} for t, c in found[title].items()],
        }
        for title in ORDER
        if found[title]
    ]
