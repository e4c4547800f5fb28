"""Estimators, comparisons, reports and the CLI (``python -m analyses``).

Layering: ``analyses`` reads ``models`` (families, closed forms) and never the reverse.
Flow: Dataset -> estimators (per prior) -> agreement rows -> CaseResult -> results.json,
saved posterior, one HTML template for every family.
"""
