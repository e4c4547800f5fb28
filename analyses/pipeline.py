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
from models import get_family
from models.family import Problem

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


def make_problem(family, data: Dataset, settings, prior: str) -> Problem:
    """The family's problem for one prior: spec, layout and the (already encoded) data."""
    spec = family.make_spec(settings, prior)
    features = tuple(data.feature_names)
    layout = family.layout(features, data.target_info, spec)
    return Problem(data.X, data.y, features, dict(data.target_info), prior, spec, layout)


def _needed(family, want: set[str]) -> set[str]:
    """The wanted estimators plus every reference they need as input (transitively)."""
    refs = family.references()
    out, todo = set(), list(want)
    while todo:
        m = todo.pop()
        if m in out:
            continue
        out.add(m)
        todo += list(refs[m].needs) if m in refs else []
    if "laplace" in out:
        out.add("find_map")  # Laplace is taken at find_MAP's mode
    return out


def run_case(
    data: Dataset, case: CaseConfig, cfg: RunConfig, cache: E.ModelCache | None = None
) -> CaseResult:
    """Fit every requested estimator under every requested prior and compare them."""
    family = get_family(case.family)
    cache = cache or E.ModelCache()
    priors = tuple(cfg.priors or case.priors or family.default_priors(case.settings))
    want = set(cfg.estimators or family.methods)
    for label, asked, offered in (
        ("prior", priors, family.priors),
        ("estimator", want, family.methods),
    ):
        unknown = [a for a in asked if a not in offered]
        if unknown:
            raise ValueError(
                f"family {family.name!r} has no {label} {', '.join(map(repr, unknown))}; "
                f"it offers {', '.join(offered)}"
            )
    run = _needed(family, want)
    refs = family.references()
    estimates: dict[str, Estimate] = {}
    computed: dict[str, Estimate] = {}  # also inputs that were not asked for
    posteriors: dict[str, object] = {}
    timings: dict[str, float] = {}
    seeds_used: dict[str, dict[str, int]] = {}
    rows: list[AgreementRow] = []
    problems = {prior: make_problem(family, data, case.settings, prior) for prior in priors}

    def timed(stage, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
        return out

    for prior, problem in problems.items():
        seeds = {
            k: child_seed(cfg.seed, case.name, prior, k)
            for k in ("find_map", "nuts", "ppc", "reference")
        }
        seeds_used[prior] = seeds
        ctx = E.Context(family, problem, cfg.draws, cfg.tune, cfg.chains, seeds, cache)
        for method in family.methods:
            if method not in run or (method == "laplace"):
                continue
            if not family.supports(method, problem).offered:
                continue  # not in the family's (estimator x prior) matrix
            if method in refs:
                new = [timed("references", E.reference, ctx, method, computed)]
            elif method == "find_map":
                new = [e for e in timed("find_map", E.find_map, ctx) if e is not None]
            elif method == "nuts":
                before = cache.compile_seconds
                est, idata = timed("nuts", E.nuts, ctx)
                compiled = cache.compile_seconds - before
                timings["nuts"] -= compiled
                timings["nuts compile"] = timings.get("nuts compile", 0.0) + compiled
                new = [est]
                if idata is not None:
                    posteriors[prior] = idata
            else:
                raise ValueError(f"family {family.name!r} lists unknown estimator {method!r}")
            for est in new:
                computed[est.key] = est
                if est.method in want:
                    estimates[est.key] = est

    for est in estimates.values():
        if est.status == "ok":
            est.objective = family.objective(problems[est.prior], est.mean, est.method)

    main = problems[priors[0]]
    kappa = family.conditioning(main)
    for prior, problem in problems.items():
        rows += agreement(
            family.agreement_pairs(problem),
            estimates,
            layout=problem.layout,
            kappa=kappa,
            scale_sd=_scale_sd(family, computed, prior, priors),
        )

    points = {k: e.mean for k, e in estimates.items() if e.prior == main.prior and e.status == "ok"}
    ledger = family.ledger(
        main, points, np.random.default_rng(child_seed(cfg.seed, case.name, "ledger"))
    )
    for row in ledger:
        for left, right in row.checks:
            a, b = row.values[left], row.values[right]
            magnitude = row.magnitude if row.magnitude is not None else max(abs(a), abs(b))
            tolerance = tolerances.arithmetic(main.n, magnitude)
            rows.append(
                AgreementRow(
                    left,
                    right,
                    f"loss at {row.at}",
                    a,
                    b,
                    abs(a - b),
                    tolerance,
                    "arithmetic",
                    bool(abs(a - b) <= tolerance),
                    note="loss ledger",
                )
            )

    picture = _picture(family, problems, estimates, posteriors)
    warnings = _warnings(estimates, rows)
    model_text = family.describe(problems, computed)
    return CaseResult(
        case=case.name,
        family=case.family,
        target=data.target,
        n_obs=main.n,
        parameters=main.layout.names,
        estimates=estimates,
        agreement=rows,
        warnings=warnings,
        model=model_text,
        ledger=[{"at": r.at, **r.values} for r in ledger],
        provenance=_provenance(cfg, case, family, seeds_used, estimates, timings, kappa),
        dataset={
            "name": data.name,
            "description": data.description,
            "source": data.source,
            "features": list(data.feature_names),
            "target": data.target,
            "target_info": data.target_info,
            "truth": data.truth,
            "n_obs": main.n,
        },
        layout=main.layout,
        idata=posteriors,
        picture=picture,
    )


PICTURE_DRAWS = 200  # posterior draws averaged for the posterior mean of the response


def _picture(family, problems, estimates, posteriors) -> dict:
    """Data and fitted mean response on a grid, for one or two features (two: binary outcome,
    as a probability surface): find_MAP's mode and the posterior mean of the response, under
    the first prior whose find_MAP exists."""
    out = {"outcome": family.outcome}
    first = next(iter(problems.values()))
    X = np.asarray(first.X, dtype=float)
    k = X.shape[1]
    if k not in (1, 2) or (k == 2 and family.outcome == "continuous"):
        return out
    if family.outcome == "categorical" and k != 2:
        return out
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.08 * np.where(hi > lo, hi - lo, 1.0)
    axes = [
        np.linspace(a - d, b + d, 200 if k == 1 else 90)
        for a, b, d in zip(lo, hi, pad, strict=True)
    ]
    mesh = np.meshgrid(*axes)
    G = np.column_stack([m.ravel() for m in mesh])
    for prior, problem in problems.items():
        fm = estimates.get(f"find_map_{prior}")
        if fm is None or fm.status != "ok":
            continue
        curves = {f"find_MAP ({prior})": family.predict(problem, fm.mean, G)}
        idata = posteriors.get(prior)
        if idata is not None:
            post = idata.posterior.dataset
            cols = {}
            for p in problem.layout.params:
                da = post[p.var].sel(dict(p.sel)) if p.sel else post[p.var]
                cols[p.name] = np.ravel(da.values)
            step = max(1, len(next(iter(cols.values()))) // PICTURE_DRAWS)
            draws = range(0, len(next(iter(cols.values()))), step)
            mean = np.mean(
                [family.predict(problem, {nm: c[d] for nm, c in cols.items()}, G) for d in draws],
                axis=0,
            )
            curves[f"posterior mean ({prior}, NUTS)"] = mean
        shape = mesh[0].shape
        if family.outcome == "categorical":
            classes = list(problem.target_info["classes"])
            return out | {
                "X": X,
                "y": np.asarray(problem.y, dtype=int),
                "classes": classes,
                "features": list(problem.features),
                "grid": mesh,
                "curves": {lb: v.reshape(*shape, len(classes)) for lb, v in curves.items()},
                "title": "Decision regions",
                "caption": f"The data with the class of highest probability under the {prior} "
                f"prior: at find_MAP's mode and for the posterior predictive probabilities "
                f"(averaged over up to {PICTURE_DRAWS} posterior draws). Shading: that "
                "class's probability.",
            }
        kind = "probability" if family.outcome == "binary" else "mean"
        return out | {
            "X": X,
            "y": np.asarray(problem.y, dtype=float),
            "features": list(problem.features),
            "grid": axes if k == 1 else mesh,
            "curves": {lb: v.reshape(shape) if k == 2 else v for lb, v in curves.items()},
            "ylabel": "P(y = 1 | x)" if family.outcome == "binary" else "E[y | x]",
            "title": "Fitted probability surface" if k == 2 else "Fitted curve",
            "caption": f"The data with the fitted {kind} under the {prior} prior: at "
            f"find_MAP's mode and averaged over up to {PICTURE_DRAWS} posterior draws (posterior "
            "predictive mean)" + ("; the black line is P = 0.5." if k == 2 else "."),
        }
    return out


def _scale_sd(family, computed, prior, priors) -> dict[str, float]:
    """Per parameter, the sd that scales the optimiser tier: from the family's preferred
    estimators, this prior first, then the others."""
    out: dict[str, float] = {}
    for p in (prior, *[q for q in priors if q != prior]):
        for method in family.sd_scale_methods:
            est = computed.get(f"{method}_{p}")
            if est is not None and est.status == "ok":
                for nm, v in est.sd.items():
                    out.setdefault(nm, v)
    return out


def _warnings(estimates, rows) -> list[str]:
    out = []
    for est in estimates.values():
        if est.info.get("warning"):
            out.append(f"{est.key}: {est.info['warning']}")
        if est.status == "failed":
            out.append(f"{est.key} failed: {est.reason}")
        if est.status == "unavailable":
            out.append(f"{est.key} unavailable: {est.reason}")
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


def _provenance(cfg, case, family, seeds, estimates, timings, kappa) -> dict:
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
        if est.method == "find_map" and est.status != "unavailable":
            conv = est.info.get("convergence", {})
            diag[key] = {
                "optimizer message": est.info.get("optimizer message"),
                "iterations": est.info.get("iterations"),
                "scaled step (sds)": conv.get("scaled_step"),
                "accepted": est.status == "ok",
            }
    settings = case.settings
    options = settings.options or family.Options()
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
            "method": tolerances.FIND_MAP_METHOD,
            "options": dict(tolerances.FIND_MAP_OPTIONS),
            "start": "jittered initial point",
            "accepted when": f"Newton step ≤ {tolerances.FIND_MAP_STEP_TOL:g} posterior sd "
            "after Newton refinement",
        },
        "compilation": (
            f"find_MAP, Newton refinement, deterministics, predictive draws: PyTensor "
            f"{E.backend().upper()} backend; NUTS log density: PyTensor Numba backend driven by "
            "nutpie through Python callables; Numba fastmath off (same bits cold and warm)"
        ),
        "case settings": {
            "family": family.name,
            "fit intercept": settings.intercept,
            "prior scale tau": settings.prior_scale,
            "intercept prior scale": settings.intercept_prior_scale or "flat",
            **options.describe(),
        },
        "condition number (2-norm)": kappa,
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
    """Per prior: the point estimates drawn as vertical lines on the posterior densities: the
    family's first reference (its closed form or own solver), find_MAP, the posterior mean."""
    refs: dict[str, dict[str, dict[str, float]]] = {}
    family = get_family(result.family)
    first_ref = next((m for m in family.methods if m in family.references()), None)
    for est in result.estimates.values():
        if est.status != "ok" or est.method not in (first_ref, "find_map", "nuts"):
            continue
        label = {"nuts": "posterior mean", "find_map": "find_MAP"}.get(est.method, est.method)
        refs.setdefault(est.prior, {})[label] = est.mean
    return refs
