"""Estimators, comparisons, reports and the CLI (``python -m nll_losses.analyses``).

Layering: ``analyses`` reads ``models`` (families, closed forms) and never the reverse.
Flow: Dataset -> estimators (per prior) -> agreement rows -> CaseResult -> results.json,
saved posterior, one HTML template for every family.

The Python API (``analyses.api``): ``from nll_losses.analyses import fit, run``, loaded on first
use.
"""

__all__ = ["Result", "fit", "run"]


def __getattr__(name: str):
    """``fit``, ``run`` and ``Result`` load ``analyses.api`` on first use: importing a light
    module of the package (``analyses.threads``, which must run before NumPy loads; the
    CLI's parser) loads nothing else."""
    if name in __all__:
        from nll_losses.analyses import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
