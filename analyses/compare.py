"""Agreement rows from the pairs a family declares (``<family>.agreement_pairs``).

Generic: a pair names two estimates (or an estimate and a formula), the statistic compared
(mean or sd), which parameters, the tolerance tier and, where theory predicts a difference, the
expected gap.  Tolerances come from ``analyses.tolerances`` only.
"""

from __future__ import annotations

import numpy as np

from analyses import tolerances as tol
from analyses.results import AgreementRow, Estimate
from models.family import ParamLayout
from models.pairs import Pair

__all__ = ["Pair", "agreement"]


def _values(est: Estimate, stat: str) -> dict[str, float]:
    if stat == "objective":
        return {} if est.objective is None else {"objective": est.objective}
    return est.mean if stat == "mean" else est.sd


def agreement(
    pairs: list[Pair],
    estimates: dict[str, Estimate],
    *,
    layout: ParamLayout,
    kappa: float,
    scale_sd: dict[str, float],
) -> list[AgreementRow]:
    """Evaluate every pair whose estimates were computed; a failed estimate gives failing rows."""
    rows: list[AgreementRow] = []
    for pair in pairs:
        left = estimates.get(pair.left)
        right = estimates.get(pair.right) if pair.right_values is None else None
        if left is None or (pair.right_values is None and right is None):
            continue  # not requested
        bad = [e for e in (left, right) if e is not None and e.status != "ok"]
        if bad:
            if any(e.status == "failed" for e in bad):
                rows.append(
                    AgreementRow(
                        pair.left,
                        pair.right,
                        "(all)",
                        np.nan,
                        np.nan,
                        np.nan,
                        np.nan,
                        pair.tier,
                        False,
                        note="; ".join(f"{e.key}: {e.reason}" for e in bad),
                    )
                )
            continue
        lv = _values(left, pair.stat)
        if pair.right_values is not None:
            try:
                rv = pair.right_values(estimates)
            except KeyError:
                continue
        else:
            rv = _values(right, pair.right_stat or pair.stat)
        selected = {"objective"} if pair.stat == "objective" else set(layout.group(pair.params))
        names = [nm for nm in lv if nm in rv and nm in selected]
        if not names:
            continue
        try:
            expected = pair.expected(estimates) if pair.expected else None
        except KeyError:
            continue  # the expected gap needs an estimate that was not computed
        ref_norm = float(np.linalg.norm([rv[nm] for nm in names]))
        for nm in names:
            diff = lv[nm] - rv[nm]
            exp_gap = None if expected is None else expected.get(nm)
            if expected is not None and exp_gap is None:
                continue
            dev = abs(diff - (exp_gap or 0.0))
            tolerance = _tolerance(
                pair,
                nm,
                left,
                right,
                rv[nm],
                scale_sd.get(nm),
                kappa,
                pair.terms or len(names),
                ref_norm,
            )
            if pair.bound:  # one-sided: left may be below right by any amount
                dev = max(diff, 0.0)
            rows.append(
                AgreementRow(
                    left=pair.left,
                    right=pair.right,
                    parameter=nm,
                    left_value=float(lv[nm]),
                    right_value=float(rv[nm]),
                    abs_diff=float(dev),
                    tolerance=float(tolerance),
                    tier=pair.tier,
                    ok=bool(np.isfinite(dev) and dev <= tolerance),
                    kind="gap" if expected is not None else ("bound" if pair.bound else "agree"),
                    expected=None if exp_gap is None else float(exp_gap),
                    note=_note(pair, tolerance, ref_norm, kappa),
                )
            )
    return rows


def _note(pair, tolerance, ref_norm, kappa) -> str:
    note = pair.note or ("" if pair.stat == "mean" else "sd")
    if pair.tier == "linear algebra" and tolerance >= ref_norm > 0:
        # Say so when the bound is wider than the values: the row then cannot fail.
        note = (note + "; " if note else "") + (
            f"uninformative: κ = {kappa:.2g} makes the tolerance exceed the values"
        )
    return note


def _mcse(est, stat, name) -> float:
    """An estimate's Monte Carlo standard error for ``stat`` (0 for a deterministic one)."""
    if est is None:
        return 0.0
    table = est.mcse_mean if stat == "mean" else est.info.get("mcse_sd", {})
    return float(table.get(name, 0.0))


def _tolerance(pair, name, left, right, ref, sd, kappa, p, ref_norm):
    if pair.tier == "optimiser":
        return tol.optimiser(ref, sd)
    if pair.tier == "quadrature":
        return tol.quadrature(ref, sd)
    if pair.tier == "linear algebra":
        return tol.linear_algebra(kappa, p, ref_norm)
    if pair.tier == "monte carlo":
        # both sides Monte Carlo (NUTS vs importance sampling): independent errors add in
        # quadrature; a left side without an MCSE gives NaN (the row fails, never passes)
        mcse_left = (left.mcse_mean if pair.stat == "mean" else left.info.get("mcse_sd", {})).get(
            name, np.nan
        )
        mcse_right = _mcse(right, pair.right_stat or pair.stat, name)
        return tol.monte_carlo(float(np.hypot(mcse_left, mcse_right)))
    if pair.tier == "arithmetic":  # a sum over the p parameters of the two estimates
        return tol.arithmetic(p, ref)
    raise ValueError(f"unknown tolerance tier {pair.tier!r}")
