"""The declaration of one agreement check; families list them, ``analyses.compare`` runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    """``left`` vs ``right`` on ``stat`` ("mean", "sd" or "objective": the estimate's value of
    the family's objective) for the parameters in ``params``.

    ``params`` is "all" or a parameter group of the family's layout (e.g. "coefficients").
    ``tier`` names a tolerance tier of ``analyses.tolerances``.  ``expected(estimates)``
    returns the gap ``left - right`` theory
    predicts, per parameter (a "gap" row); ``right_values(estimates)`` replaces the right-hand
    estimate by a formula (then ``right`` is its label).  Keys of ``estimates`` are
    "<method>_<prior>".
    """

    left: str
    right: str
    stat: str
    tier: str
    params: str = "all"
    right_stat: str | None = None
    expected: Callable[[dict], dict] | None = None
    right_values: Callable[[dict], dict] | None = None
    note: str = ""
    # a one-sided check: left <= right + tolerance (e.g. an objective at least as good)
    bound: bool = False
    # number of summed terms behind the compared values (the arithmetic tier's n); None: the
    # number of parameters compared
    terms: int | None = None


def importance_gap(k: str, other: str, stat: str, what: str) -> Pair:
    """NUTS vs ``other`` (estimates keyed ``<method>{k}``) on ``stat`` with the gap the
    importance-sampled posterior (``importance{k}``) predicts: for a skewed posterior the mean
    is not the mode and the sd not the Laplace sd, by an amount a second, independent
    posterior sampler measures."""

    def expected(e):
        ref = getattr(e["importance" + k], stat)
        return {nm: v - getattr(e[other + k], stat)[nm] for nm, v in ref.items()}

    return Pair(
        "nuts" + k,
        other + k,
        stat,
        "monte carlo",
        expected=expected,
        note=f"{what} (expected gap from importance sampling)",
    )
