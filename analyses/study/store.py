"""A study's work folder: one JSON file per finished replicate, written as it finishes, so
that an interrupted study resumes without redoing them.

``DIR/.<kind>.replicates/`` holds ``study.json`` (what the replicates depend on: the kind,
seed and settings; a folder made for other ones is refused, never mixed) and
``<case>/r<r>.json``.  Each file is written to a temporary name and renamed into place: a
file present is a finished replicate.  More replicates later (a larger ``--replicates``)
reuse the ones already there: replicate r's numbers do not depend on R.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from nll_losses.analyses.errors import InputError


class Store:
    def __init__(self, out: Path, kind: str, key: dict):
        """``key``: what the replicates depend on: ``key["cases"]`` each case's own
        (``Design.fingerprint``), the rest the study's (format, kind, seed, settings).  A
        folder made with another study key, or for a case with another fingerprint, is
        refused; cases new to the folder are added to it."""
        self.root = Path(out) / f".{kind}.replicates"
        marker = self.root / "study.json"
        if marker.exists():
            try:
                found = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                found = None
            study = {k: v for k, v in key.items() if k != "cases"}
            ours = (
                isinstance(found, dict)
                and {k: v for k, v in found.items() if k != "cases"} == study
            )
            cases = found.get("cases", {}) if ours else {}
            changed = [c for c, fp in key["cases"].items() if c in cases and cases[c] != fp]
            if not ours or changed:
                what = f"case {changed[0]} with another model" if changed else "other settings"
                raise InputError(
                    f"--out {out}: {self.root} holds replicates of a {kind} study with {what} "
                    "(seed, draws, grids, the case's model, or an older version of this "
                    "project); nothing was changed: choose another --out, or remove that "
                    "folder to start again"
                )
            if set(key["cases"]) - set(cases):
                _write(marker, found | {"cases": cases | key["cases"]})
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            _write(marker, key)
        for stale in self.root.glob("*/.r*.json.*"):  # temporaries of a killed run
            stale.unlink(missing_ok=True)

    def path(self, case: str, r: int) -> Path:
        return self.root / case / f"r{r:05d}.json"

    def has(self, case: str, r: int) -> bool:
        return self.path(case, r).is_file()

    def put(self, case: str, row: dict) -> None:
        _write(self.path(case, int(row["r"])), row)

    def get(self, case: str, r: int) -> dict:
        return json.loads(self.path(case, r).read_text(encoding="utf-8"))


def _finite(value):
    """``value`` with every non-finite float as None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wt", encoding="utf-8") as f:
            json.dump(_finite(value), f, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
