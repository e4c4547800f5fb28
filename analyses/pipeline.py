"""One case end to end: estimators -> agreement -> CaseResult -> files (results.json, posterior,
index.html), written atomically so a failed run never leaves a half-written report."""

from __future__ import annotations

import json
import platform
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from analyses import estimators as E
from analyses import tolerances
from analyses.compare import agreement
from analyses.config import CaseConfig, RunConfig, child_seed
from analyses.datasets import Dataset
from analyses.results import AgreementRow, CaseResult, Estimate
from models import get_family, linalg

PACKAGES = (
    "pymc",
    "pytensor",
    "nutpie",
    "arviz",
    "arviz-base",
    "arviz-stats",
    "arviz-plots",
    "numpy",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "pandas",
    "matplotlib",
    "jinja2",
    "zarr",
)


def run_case(
    data: Dataset, case: CaseConfig, cfg: RunConfig, cache: E.ModelCache | None = None
) -> CaseResult:
    """Fit every requested estimator under every requested prior and compare them."""
    family = get_family(case.family)
    cache = cache or E.ModelCache()
    names = list(data.feature_names)
    want = set(cfg.estimators)
    estimates: dict[str, Estimate] = {}
    posteriors: dict[str, object] = {}
    timings: dict[str, float] = {}
    seeds_used: dict[str, dict[str, int]] = {}
    rows: list[AgreementRow] = []
    specs = {}

    def timed(stage, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
        return out

    for prior in cfg.priors:
        spec = specs[prior] = family.make_spec(case, prior)
        seeds = {k: child_seed(cfg.seed, case.name, prior, k) for k in ("find_map", "nuts", "ppc")}
        seeds_used[prior] = seeds
        ctx = E.Context(
            family=family,
            X=data.X,
            y=data.y,
            feature_names=names,
            spec=spec,
            prior=prior,
            draws=cfg.draws,
            tune=cfg.tune,
            chains=cfg.chains,
            seeds=seeds,
            cache=cache,
        )
        # closed form is also the reference setting (sigma for the libraries' alpha)
        closed = timed("references", E.closed_form, ctx)
        if "closed_form" in want:
            estimates[closed.key] = closed
        if "exact_posterior" in want:
            est = timed("references", E.exact_posterior, ctx)
            estimates[est.key] = est
        if want & {"find_map", "laplace"}:
            fm, lap = timed("find_map", E.find_map, ctx)
            for est in (fm, lap):
                if est.method in want:
                    estimates[est.key] = est
        if "nuts" in want:
            before = cache.compile_seconds
            est, idata = timed("nuts", E.nuts, ctx)
            compiled = cache.compile_seconds - before
            timings["nuts"] -= compiled
            timings["nuts compile"] = timings.get("nuts compile", 0.0) + compiled
            estimates[est.key] = est
            posteriors[prior] = idata
        if "statsmodels" in want:
            est = timed("references", E.statsmodels, ctx, closed)
            estimates[est.key] = est
        if "sklearn" in want:
            est = timed("references", E.sklearn, ctx, closed)
            estimates[est.key] = est

    A = linalg.design(data.X, case.intercept)
    n, p = A.shape
    sv = np.linalg.svd(A, compute_uv=False)
    kappa = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    for prior, spec in specs.items():
        scale_sd = {}
        for key in (f"exact_posterior_{prior}", f"closed_form_{prior}", "closed_form_flat"):
            if key in estimates and estimates[key].status == "ok":
                for nm, v in estimates[key].sd.items():
                    scale_sd.setdefault(nm, v)
        pairs = family.agreement_pairs(spec, n, p, prior)
        rows += agreement(
            pairs,
            estimates,
            coef_names=family.coef_names(names, spec),
            kappa=kappa,
            scale_sd=scale_sd,
        )

    main_spec = specs[cfg.priors[0]]
    ledger = family.ledger(
        data.X,
        data.y,
        names,
        main_spec,
        {k: v for k, v in estimates.items() if k.endswith(cfg.priors[0])},
        child_seed(cfg.seed, case.name, "ledger"),
    )
    for row in ledger:
        a, b = row["−log p(y|θ) (Normal density)"], row["n/2·log(2πσ²) + n·MSE/(2σ²)"]
        tolerance = tolerances.arithmetic(n, a)
        rows.append(
            AgreementRow(
                "−log p(y|θ)",
                "n/2·log(2πσ²)+n·MSE/(2σ²)",
                f"loss at {row['at']}",
                a,
                b,
                abs(a - b),
                tolerance,
                "arithmetic",
                abs(a - b) <= tolerance,
                note="loss ledger",
            )
        )

    warnings = _warnings(estimates, rows)
    spec_g = family.make_spec(case, "gaussian")
    closed_g = estimates.get("closed_form_gaussian")
    sigma = closed_g.mean.get("sigma") if closed_g is not None else None
    model_math = family.model_math(spec_g, n, sigma or spec_g.sigma_known)
    model_math["var_names"] = list(family.VAR_NAMES)
    return CaseResult(
        case=case.name,
        family=case.family,
        target=data.target,
        n_obs=n,
        parameters=family.parameter_names(names, main_spec),
        estimates=estimates,
        agreement=rows,
        warnings=warnings,
        model=model_math,
        ledger=ledger,
        provenance=_provenance(cfg, case, seeds_used, estimates, timings, kappa),
        dataset={
            "name": data.name,
            "description": data.description,
            "source": data.source,
            "features": names,
            "target": data.target,
            "truth": data.truth,
            "n_obs": n,
        },
        idata=posteriors,
    )


def _warnings(estimates, rows) -> list[str]:
    out = []
    for est in estimates.values():
        if est.info.get("warning"):
            out.append(f"{est.key}: {est.info['warning']}")
        if est.status == "failed":
            out.append(f"{est.key} failed: {est.reason}")
        for problem in est.info.get("diagnostics_problems", []) if est.status == "ok" else []:
            out.append(f"{est.key}: {problem}")
    bad = [r for r in rows if not r.ok]
    if bad:
        out.append(
            f"{len(bad)} agreement row(s) outside tolerance: "
            + ", ".join(f"{r.left} vs {r.right} [{r.parameter}]" for r in bad[:5])
            + (" …" if len(bad) > 5 else "")
        )
    return out


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _provenance(cfg, case, seeds, estimates, timings, kappa) -> dict:
    diag = {}
    for key, est in estimates.items():
        if est.method == "nuts" and est.status == "ok":
            i = est.info
            diag[key] = {
                "divergences": i["divergences"],
                "max r_hat": i["max_r_hat"],
                "min ess_bulk": i["min_ess_bulk"],
                "min ess_tail": i["min_ess_tail"],
                "diagnostics ok": i["diagnostics_ok"],
            }
        if est.method == "find_map":
            diag[key] = {k: est.info.get(k) for k in ("message", "iterations", "grad_max")}
            diag[key]["converged"] = est.status == "ok"
    return {
        "seed": cfg.seed,
        "derived seeds": seeds,
        "sampler": {
            "name": "NUTS (nutpie)",
            "draws": cfg.draws,
            "tune": cfg.tune,
            "chains": cfg.chains,
        },
        "find_MAP": {
            "method": "L-BFGS-B",
            "ftol": tolerances.FIND_MAP_FTOL,
            "gtol": tolerances.FIND_MAP_GTOL,
            "start": "jittered initial point",
        },
        "case settings": {
            "intercept": case.intercept,
            "prior scale tau": case.prior_scale,
            "sigma": case.sigma.describe(),
        },
        "design condition number (2-norm)": kappa,
        "diagnostics": diag,
        "timings (s)": {k: round(v, 3) for k, v in timings.items()},
        "tolerance tiers": tolerances.TIERS,
        "versions": _versions(),
    }


def write_case(result: CaseResult, out_dir: Path) -> None:
    """Write index.html, results.json and the posterior(s) into ``out_dir`` atomically."""
    from analyses import outputs, report

    refs = references_for_report(result)
    html = report.render_case(result, refs)
    files: dict[str, object] = {
        "results.json": json.dumps(result.to_json(), indent=2, allow_nan=False),
        "index.html": html,
    }
    for prior, idata in (result.idata or {}).items():
        files[f"posterior_{prior}.zarr"] = lambda path, idata=idata: idata.to_zarr(
            path, consolidated=False
        )
    outputs.write_dir_atomically(Path(out_dir), files)


def references_for_report(result: CaseResult) -> dict[str, dict[str, dict[str, float]]]:
    """Per prior: the point estimates drawn as vertical lines on the posterior densities."""
    refs = {}
    for prior in ("flat", "gaussian"):
        r = {}
        for label, key in (
            ("closed form", f"closed_form_{prior}"),
            ("find_MAP", f"find_map_{prior}"),
            ("posterior mean", f"nuts_{prior}"),
        ):
            est = result.estimates.get(key)
            if est is not None and est.status == "ok":
                r[label] = est.mean
        refs[prior] = r
    return refs
