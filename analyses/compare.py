"""The one comparator: every comparison the project reports (agreement pairs, the loss
ledger, the translation table's library fits) is an ``AgreementRow`` made by :func:`check`,
which takes its tolerance from the named tier (``analyses.tolerances``, nowhere else).

:func:`agreement` evaluates the pairs a family declares (``Family.agreement_pairs``): a pair
names two estimates (or an estimate and a formula), the statistic compared (mean or sd), which
parameters, the tolerance tier and, where theory predicts a difference, the expected gap.
:func:`ledger_rows` checks the loss evaluated several ways at one point (``Family.ledger``);
``analyses.translate`` checks each library's fit against find_MAP with :func:`check` too.
"""

from __future__ import annotations

import numpy as np

from nll_losses.analyses import tolerances as tol
from nll_losses.analyses.results import AgreementRow, Estimate
from nll_losses.models.family import ParamLayout
from nll_losses.models.pairs import Pair

__all__ = ["Pair", "agreement", "check", "ledger_rows", "tier_tolerance"]


def tier_tolerance(
    tier: str,
    *,
    ref: float,
    sd: float | None = None,
    kappa: float = 1.0,
    terms: int = 1,
    ref_norm: float = 0.0,
    mcse: float = np.nan,
) -> float:
    """The tolerance of ``tier`` for a reference value ``ref``: ``sd`` scales the optimiser and
    quadrature tiers, ``kappa`` (condition number), ``terms`` (p) and ``ref_norm`` the linear
    algebra tier, ``terms`` (summed terms) the arithmetic tier, ``mcse`` the Monte Carlo tier
    (NaN: the row fails, never passes)."""
    if tier == "optimiser":
        return tol.optimiser(ref, sd)
    if tier == "quadrature":
        return tol.quadrature(ref, sd)
    if tier == "linear algebra":
        return tol.linear_algebra(kappa, terms, ref_norm)
    if tier == "monte carlo":
        return tol.monte_carlo(mcse)
    if tier == "arithmetic":
        return tol.arithmetic(terms, ref)
    raise ValueError(f"unknown tolerance tier {tier!r}")


def check(
    left: str,
    right: str,
    parameter: str,
    a: float,
    b: float,
    tier: str,
    *,
    expected: float | None = None,
    bound: bool = False,
    note: str = "",
    **scale,
) -> AgreementRow:
    """``a`` (from ``left``) against ``b`` (from ``right``) on ``parameter``, within the
    tolerance of ``tier`` (``scale``: :func:`tier_tolerance`'s arguments; ``ref`` defaults to
    ``b``).  ``expected``: theory predicts a - b = expected (a "gap" row); ``bound``: one-sided,
    a may be below b by any amount.  A non-finite difference never passes."""
    scale.setdefault("ref", b)
    tolerance = float(tier_tolerance(tier, **scale))
    diff = a - b
    dev = max(diff, 0.0) if bound else abs(diff - (expected or 0.0))
    ref_norm = scale.get("ref_norm", 0.0)
    if tier == "linear algebra" and tolerance >= ref_norm > 0:
        # say so when the bound is wider than the values: the row then cannot fail
        note = (note + "; " if note else "") + (
            f"uninformative: κ = {scale.get('kappa', 1.0):.2g} makes the tolerance exceed "
            "the values"
        )
    return AgreementRow(
        left=left,
        right=right,
        parameter=parameter,
        left_value=float(a),
        right_value=float(b),
        abs_diff=float(dev),
        tolerance=tolerance,
        tier=tier,
        ok=bool(np.isfinite(dev) and dev <= tolerance),
        kind="gap" if expected is not None else ("bound" if bound else "agree"),
        expected=None if expected is None else float(expected),
        note=note,
    )


def ledger_rows(ledger, n: int) -> list[AgreementRow]:
    """The loss ledger's checks (``Family.ledger``): each pair of evaluations of the loss at
    one point agrees within the arithmetic tier for a sum of ``n`` terms of the row's
    magnitude (default: the larger value)."""
    rows = []
    for row in ledger:
        for left, right in row.checks:
            a, b = row.values[left], row.values[right]
            magnitude = row.magnitude if row.magnitude is not None else max(abs(a), abs(b))
            rows.append(
                check(
                    left,
                    right,
                    f"loss at {row.at}",
                    a,
                    b,
                    "arithmetic",
                    note="loss ledger",
                    terms=n,
                    ref=magnitude,
                )
            )
    return rows


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
            exp_gap = None if expected is None else expected.get(nm)
            if expected is not None and exp_gap is None:
                continue
            rows.append(
                check(
                    pair.left,
                    pair.right,
                    nm,
                    lv[nm],
                    rv[nm],
                    pair.tier,
                    expected=exp_gap,
                    bound=pair.bound,
                    note=pair.note or ("" if pair.stat == "mean" else "sd"),
                    sd=scale_sd.get(nm),
                    kappa=kappa,
                    terms=pair.terms or len(names),
                    ref_norm=ref_norm,
                    mcse=_pair_mcse(pair, nm, left, right),
                )
            )
    return rows


def _mcse(est, stat, name, missing: float = 0.0) -> float:
    """An estimate's Monte Carlo standard error for ``stat`` (``missing`` when it has none:
    0 for a deterministic estimate)."""
    if est is None:
        return missing
    table = est.mcse_mean if stat == "mean" else est.info.get("mcse_sd", {})
    return float(table.get(name, missing))


def _pair_mcse(pair, name, left, right) -> float:
    """Both sides Monte Carlo (NUTS vs importance sampling): independent errors add in
    quadrature; a left side without an MCSE gives NaN (the row fails, never passes)."""
    if pair.tier != "monte carlo":
        return np.nan
    mcse_left = _mcse(left, pair.stat, name, missing=np.nan)
    mcse_right = _mcse(right, pair.right_stat or pair.stat, name)
    return float(np.hypot(mcse_left, mcse_right))
