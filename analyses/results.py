"""Result values shared by the estimators, the comparison, results.json and the report.

``CaseResult.to_json()`` is the results.json contract (keep its keys; add freely)::

    {"family", "target", "n_obs", "parameters": [names],
     "estimates": {"<method>_<prior>": {"mean": {name: value}, "sd": {name: value},
                                         "mcse_mean": {name: value}}},
     "agreement": [{"left", "right", "parameter", "abs_diff", "tolerance", "tier", "ok"}],
     "warnings": [...]}

method is one the family offers (``Family.methods``, e.g. closed_form, exact_posterior,
find_map, laplace, nuts, statsmodels, sklearn); prior one of ``Family.priors``.  "mean" is
the point estimate (the mode for find_map, laplace and the closed forms); "sd" is the Laplace
sd for laplace, the posterior sd for nuts (the family says what its references' sd are).
"status" is "ok", "unavailable" (does not exist here; "reason" says why) or "failed".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Estimate:
    """One estimator's answer under one prior.

    ``mean``/``sd``/``mcse_mean`` map parameter name -> float (``sd``/``mcse_mean`` may be
    partial or empty).  ``status`` is "ok", or "unavailable"/"failed" with ``reason``; an estimate
    that does not exist is a value with a reason, never a silent number.
    """

    method: str
    prior: str
    mean: dict[str, float] = field(default_factory=dict)
    sd: dict[str, float] = field(default_factory=dict)
    mcse_mean: dict[str, float] = field(default_factory=dict)
    status: str = "ok"
    reason: str = ""
    info: dict[str, Any] = field(default_factory=dict)  # diagnostics, settings, timings
    # the family's objective (negative log posterior) at ``mean``, where the family reports one
    objective: float | None = None
    # find_MAP only: (mode, inverse Hessian) in the model's unconstrained value variables,
    # raveled in order (the Laplace approximation the prior-strength sweep's importance
    # sampling proposes from); not written to results.json
    unconstrained: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.method}_{self.prior}"

    def to_json(self) -> dict:
        return {
            "mean": _clean(self.mean),
            "sd": _clean(self.sd),
            "mcse_mean": _clean(self.mcse_mean),
            "status": self.status,
            "reason": self.reason,
            "info": _clean(self.info),
        } | ({"objective": _clean(self.objective)} if self.objective is not None else {})


@dataclass
class AgreementRow:
    """One comparison of ``left`` and ``right`` on one parameter (or quantity).

    ``kind`` is "agree" (|left - right| <= tolerance) or "gap" (theory predicts a difference
    ``expected``; ``abs_diff`` is then |observed gap - expected gap|).
    """

    left: str
    right: str
    parameter: str
    left_value: float
    right_value: float
    abs_diff: float
    tolerance: float
    tier: str
    ok: bool
    kind: str = "agree"
    expected: float | None = None
    note: str = ""

    def to_json(self) -> dict:
        return _clean(
            {
                "left": self.left,
                "right": self.right,
                "parameter": self.parameter,
                "left_value": self.left_value,
                "right_value": self.right_value,
                "abs_diff": self.abs_diff,
                "tolerance": self.tolerance,
                "tier": self.tier,
                "ok": bool(self.ok),
                "kind": self.kind,
                "expected": self.expected,
                "note": self.note,
            }
        )


@dataclass
class CaseResult:
    """Everything one case (built-in or ``fit``) produced; read by results.json and the report."""

    case: str
    family: str
    target: str
    n_obs: int
    parameters: list[str]
    estimates: dict[str, Estimate]
    agreement: list[AgreementRow]
    warnings: list[str]
    model: dict[str, Any]  # math strings: likelihood, priors, loss, penalty, translation table
    ledger: list[dict[str, Any]]  # loss-ledger rows
    provenance: dict[str, Any]
    dataset: dict[str, Any]  # name, description, source, feature names, truth
    layout: Any = None  # models.family.ParamLayout of the parameters
    # prior -> NUTS DataTree (posterior, sample_stats, observed_data, posterior_predictive)
    idata: Any = None
    # data and fitted mean response for the fit picture (not written to results.json)
    picture: Any = None
    # NLL and mean loss over a 2-D slice (w, b) with the estimates marked (figure data only)
    landscape: Any = None
    # hyperparameter translation rows, each verified by a fit: list of dicts (results.json)
    translation: list[dict[str, Any]] = field(default_factory=list)
    # {"prior_strength": {...}, "sample_size": {...}} paths (results.json "sweeps")
    sweeps: dict[str, Any] = field(default_factory=dict)
    # what drawing the page last found (a figure hard to read or unavailable): set by
    # pipeline.write_case at each drawing, shown with ``warnings``
    page_warnings: list[str] = field(default_factory=list)

    def all_warnings(self) -> list[str]:
        """The case's warnings, then its page's (results.json, the terminal, a notebook)."""
        return list(self.warnings) + [w for w in self.page_warnings if w not in self.warnings]

    def to_json(self) -> dict:
        return _clean(
            {
                "case": self.case,
                "family": self.family,
                "target": self.target,
                "n_obs": self.n_obs,
                "parameters": list(self.parameters),
                "estimates": {k: e.to_json() for k, e in self.estimates.items()},
                "agreement": [r.to_json() for r in self.agreement],
                "warnings": self.all_warnings(),
                "model": self.model,
                "ledger": self.ledger,
                "provenance": self.provenance,
                "dataset": self.dataset,
                "layout": self.layout.to_json() if self.layout is not None else None,
                "translation": self.translation,
                "sweeps": self.sweeps,
            }
        )


def _clean(obj):
    """Make ``obj`` strict-JSON safe: numpy scalars -> Python, non-finite floats -> None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "tolist") and getattr(obj, "ndim", 0) > 0:  # numpy arrays
        return _clean(obj.tolist())
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
