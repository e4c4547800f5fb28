"""Estimators, comparisons, reports and the CLI (``python -m analyses``).

Layering: ``analyses`` reads ``models`` (families, closed forms) and never the reverse.
Flow: Dataset -> estimators (per prior) -> agreement rows -> CaseResult -> results.json,
saved posterior, one HTML template for every family.

The Python API (``analyses.api``): ``from analyses import fit, run`` (it loads PyMC only when it
fits, so the command line's ``--help`` and its one-line errors stay fast).
"""

from analyses.api import Result, fit, run

__all__ = ["Result", "fit", "run"]
