"""The prior-strength sweep's posterior band as the report builds it (reweighting from NUTS
anchors, importance sampling from the Laplace approximation, NUTS) against NUTS at every
grid point (analyses/sweeps.py, analyses/reweight.py).

    python benchmarks/bench_sweep_band.py                  # logistic_ and softmax_synthetic
    python benchmarks/bench_sweep_band.py breast_cancer iris   # other cases

For each case: the main fit first (as in a report, so the structures exist), then the sweep
as the report runs it (seed 0: from the weak end, at each point reweighted draws of a NUTS
anchor, else importance sampling from the Laplace approximation, else NUTS) and the sweep with
NUTS at every point (seed 1, so every NUTS run is independent of the first sweep's: the
sweep's 2 × 500 draws, diagonal mass matrix).  Printed per grid point: τ, how
the band was got (method), Pareto k̂ and its threshold, ESS, the largest |mean difference| /
combined MCSE over the parameters shown (sqrt(MCSE_band² + MCSE_nuts²); Monte Carlo error
alone gives |z| < 4 for almost every parameter), and the seconds of each sweep's point; then
each sweep's total.  Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CASES = ("logistic_synthetic", "softmax_synthetic")


def _at(path: dict, i: int) -> tuple[dict, dict]:
    """(means, MCSEs) of a sweep path at grid point i."""
    return (
        {nm: v[i] for nm, v in path["mean"].items() if v[i] is not None},
        {nm: v[i] for nm, v in path.get("mcse", {}).items() if v[i] is not None},
    )


def _z(a: tuple[dict, dict], b: tuple[dict, dict]) -> tuple[float, str]:
    """Largest |Δ mean| / sqrt(MCSE_a² + MCSE_b²) over the parameters both have."""
    worst, name = 0.0, ""
    for nm, ma in a[0].items():
        mb, sa, sb = b[0].get(nm), a[1].get(nm), b[1].get(nm)
        if None in (mb, sa, sb) or not np.isfinite(sa) or not np.isfinite(sb):
            continue
        se = np.hypot(sa, sb)
        if se > 0 and abs(ma - mb) / se > worst:
            worst, name = abs(ma - mb) / se, nm
    return worst, name


def _importance(data, case, cfg, cache) -> list[dict] | None:
    """The other candidate, where the family has it (Bernoulli's ``importance`` reference:
    self-normalised importance sampling from a multivariate t(5) at the Newton mode, with no
    MCMC): per grid point its estimate, ESS and seconds (None: the family has none)."""
    from nll_losses.analyses import estimators as E
    from nll_losses.analyses.config import child_seed
    from nll_losses.analyses.problems import make_problem
    from nll_losses.models import get_family

    family = get_family(case.family)
    if "importance" not in family.references():
        return None
    sweep = family.sweep(case.settings, tuple(data.feature_names))
    out = []
    for i, tau in enumerate(sweep.grid(np.asarray(sweeps_units(cfg)))):
        problem = make_problem(family, data, sweep.with_value(case.settings, tau), sweep.prior)
        seeds = {"reference": child_seed(cfg.seed, case.name, "bench importance", str(i))}
        ctx = E.Context(family, problem, 0, 0, 0, seeds, cache)
        t0 = time.perf_counter()
        est = E.reference(ctx, "importance", {})
        out.append(
            {
                "est": est,
                "ess": est.info.get("effective sample size"),
                "seconds": time.perf_counter() - t0,
            }
        )
    return out


def sweeps_units(cfg):
    from nll_losses.analyses.sweeps import SweepConfig

    return SweepConfig.for_run(cfg).tau_units


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", default=list(CASES))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from nll_losses.analyses import sweeps
    from nll_losses.analyses.cases import get_case
    from nll_losses.analyses.config import RunConfig, child_seed
    from nll_losses.analyses.estimators import ModelCache
    from nll_losses.analyses.pipeline import run_case

    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    cache = ModelCache()
    for name in args.cases:
        case = get_case(name)
        cfg = RunConfig(seed=0)
        data = case.load(child_seed(cfg.seed, name, "data"))
        t0 = time.perf_counter()
        run_case(data, case.config, cfg, cache)
        print(f"\n{name}: main fit {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        band = sweeps.prior_strength(data, case.config, cfg, cache)
        t_band = time.perf_counter() - t0
        print(f"  sweep as the report runs it: {t_band:.1f} s", flush=True)
        t0 = time.perf_counter()
        ref = sweeps.prior_strength(data, case.config, RunConfig(seed=1), cache, reweight=False)
        t_ref = time.perf_counter() - t0
        t0 = time.perf_counter()
        imp = _importance(data, case.config, RunConfig(seed=2), cache)
        t_imp = time.perf_counter() - t0
        if band is None or "nuts" not in band["paths"]:
            print("  no NUTS band in this sweep")
            continue
        pb, pr = band["paths"]["nuts"], ref["paths"]["nuts"]
        sb, sr = band["cost"]["seconds per point"], ref["cost"]["seconds per point"]
        print(
            f"  {'τ':>9s}  {'method':24s} {'k̂':>6s} {'thresh':>6s} {'ESS':>6s} "
            f"{'max|Δ|/MCSE':>11s}  {'(parameter)':24s} {'band s':>7s} {'NUTS s':>7s}"
            + ("  | t(5) IS: ESS, max|Δ|/MCSE vs NUTS, s" if imp else "")
        )
        for i, tau in enumerate(band["grid"]):
            k, th, ess = pb["khat"][i], pb["khat threshold"][i], pb["ess"][i]
            z, nm = _z(_at(pb, i), _at(pr, i))
            print(
                f"  {tau:9.3g}  {pb['method'][i] or pb['status'][i]:24s} "
                f"{'' if k is None else f'{k:.2f}':>6s} {'' if th is None else f'{th:.2f}':>6s} "
                f"{'' if ess is None else f'{ess:.0f}':>6s} {z:11.2f}  {nm[:24]:24s} "
                f"{sb[i]:7.2f} {sr[i]:7.2f}" + (_imp_cells(imp[i], _at(pr, i)) if imp else "")
            )
        post = band["posterior"]
        print(
            f"  sweep total: {t_band:.1f} s as the report runs it ({post['nuts points']} NUTS "
            f"points, {post['reweighted points']} reweighted, "
            f"{post['laplace importance points']} Laplace importance) / {t_ref:.1f} s with NUTS at "
            f"every point; load average now {os.getloadavg()[0]:.2f}"
        )
        if imp:
            print(f"  t(5) importance sampling at every point (no MCMC): {t_imp:.1f} s")


def _imp_cells(point: dict, ref: tuple[dict, dict]) -> str:
    est = point["est"]
    if est.status != "ok":
        return f"  | {est.status}: {est.reason[:40]}"
    z, _ = _z((est.mean, est.mcse_mean), ref)
    return f"  | {point['ess']:7.0f} {z:6.2f} {point['seconds']:6.2f}"


if __name__ == "__main__":
    main()
