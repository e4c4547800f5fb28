"""The hyperparameter translation table, verified by fitting each library at its setting.

``verify`` takes the family's rows (``Family.translations``, built in
``models.translation``), runs each row's fit guarded (an exception is a row with ok False and
the reason, never a traceback) and compares it with our MAP:

* ``compare == "parameters"`` (convex objectives): the library's minimiser against
  find_MAP's, parameter by parameter, each an ``AgreementRow`` of the one comparator
  (``analyses.compare.check``) in the optimiser tier ``tolerances.optimiser(ref, sd)``; the
  row reports the parameter closest to its tolerance (largest |diff| / tolerance) as ``at``,
  with its |diff| and tolerance.
* ``compare == "objective"`` (the relu network, multimodal): at the library's own answer,
  n × its reported loss against our negative log posterior there (``Family.objective`` with
  find_MAP's objective), within the arithmetic tier ``tolerances.arithmetic(n, |value|)``
  (``analyses.compare.check`` as well).
  It does not read find_MAP's estimate.

A parameter row needs find_MAP: when it is missing, unavailable or failed the row has
ok None and the reason, as does a row whose library offers no such fit.
"""

from __future__ import annotations

import math

from nll_losses.analyses.compare import check
from nll_losses.models.family import Unavailable

KEYS = (
    "id",
    "library",
    "call",
    "parameter",
    "formula",
    "value",
    "objective",
    "verified_by",
    "compare",
    "at",
    "max_abs_diff",
    "tolerance",
    "tier",
    "ok",
    "reason",
)


def _num(x) -> float | None:
    """JSON-ready: a finite float, else None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _map_status(estimate) -> tuple[dict[str, float] | None, str]:
    """(find_MAP's parameters, "") when it is ok, else (None, why not)."""
    if estimate is None:
        return None, "find_MAP was not run"
    status = getattr(estimate, "status", "ok")
    if status != "ok":
        reason = getattr(estimate, "reason", "") or "no reason given"
        return None, f"find_MAP is {status}: {reason}"
    return dict(estimate.mean), ""


def verify(family, problem, find_map_estimate, sd: dict[str, float], seed: int = 0) -> list[dict]:
    """One JSON-ready dict per translation row of ``problem`` (keys ``KEYS``).

    ``find_map_estimate`` is an ``analyses.results.Estimate`` (or None); ``sd`` the posterior
    sd per parameter that scales the optimiser tier (the family's ``sd_scale_methods``);
    ``seed`` goes to rows whose fit starts from random values.
    """
    mode, why_not = _map_status(find_map_estimate)
    try:
        rows = family.translations(problem, mode, seed=seed)
    except Exception as exc:  # the table itself could not be built: say so, once
        return [
            dict.fromkeys(KEYS)
            | {"library": "(all)", "ok": False, "reason": "building the rows: " + _first_line(exc)}
        ]
    return [_verify_row(family, problem, row, mode, why_not, sd or {}) for row in rows]


def _verify_row(family, problem, row, mode, why_not, sd) -> dict:
    out = {
        "id": row.id,
        "library": row.library,
        "call": row.call,
        "parameter": row.parameter,
        "formula": row.formula,
        "value": _num(row.value),
        "objective": row.objective,
        "verified_by": row.check,
        "compare": row.compare,
        "at": None,
        "max_abs_diff": None,
        "tolerance": None,
        "tier": "optimiser" if row.compare == "parameters" else "arithmetic",
        "ok": None,
        "reason": "",
    }
    if row.unavailable or row.fit is None:
        return out | {"reason": row.unavailable or "no fit for this row"}
    if row.compare == "parameters" and mode is None:
        return out | {"reason": why_not}
    try:
        fitted = row.fit()
    except Unavailable as exc:
        return out | {"reason": str(exc)}
    except Exception as exc:
        return out | {"ok": False, "reason": _first_line(exc)}
    try:
        if row.compare == "objective":
            return out | _compare_objective(family, problem, fitted)
        return out | _compare_parameters(fitted, mode, sd)
    except Exception as exc:
        return out | {"ok": False, "reason": "comparing: " + _first_line(exc)}


def _compare_parameters(fitted, mode: dict, sd: dict) -> dict:
    names = [nm for nm in fitted.params if nm in mode]
    if not names:
        return {"ok": False, "reason": "no parameter in common with find_MAP"}
    rows = [
        check("library", "find_map", nm, fitted.params[nm], mode[nm], "optimiser", sd=sd.get(nm))
        for nm in names
    ]

    def ratio(row) -> float:
        r = row.abs_diff / row.tolerance if row.tolerance > 0 else math.inf
        return r if math.isfinite(r) else math.inf

    worst = max(rows, key=ratio)  # the first of equals, as parameters are listed
    all_ok = all(r.ok for r in rows)
    return {
        "at": worst.parameter,
        "max_abs_diff": _num(worst.abs_diff),
        "tolerance": _num(worst.tolerance),
        "ok": all_ok,
        "reason": ""
        if all_ok
        else f"{worst.parameter}: |diff| {worst.abs_diff:.3g} > tolerance {worst.tolerance:.3g}",
    }


def _compare_objective(family, problem, fitted) -> dict:
    ours = family.objective(problem, fitted.params, "find_map")
    if ours is None or fitted.objective is None:
        return {"ok": False, "reason": "no objective value to compare"}
    row = check(
        "library",
        "find_map",
        "objective",
        fitted.objective,
        ours,
        "arithmetic",
        terms=problem.n,
        ref=max(abs(ours), abs(fitted.objective)),
    )
    return {
        "at": "objective",
        "max_abs_diff": _num(row.abs_diff),
        "tolerance": _num(row.tolerance),
        "ok": row.ok,
        "reason": ""
        if row.ok
        else f"n × library loss {fitted.objective:.12g} ≠ our −log posterior {ours:.12g}",
    }
