"""One case end to end: estimators -> agreement -> CaseResult -> files (results.json, posterior,
index.html), written atomically so a failed run never leaves a half-written report."""

from __future__ import annotations

import platform
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from nll_losses.analyses import estimators as E  # noqa: TID253
from nll_losses.analyses import landscape, outputs, pictures, tolerances
from nll_losses.analyses.compare import agreement, ledger_rows
from nll_losses.analyses.config import CaseConfig, RunConfig, child_seed
from nll_losses.analyses.datasets import Dataset
from nll_losses.analyses.find_map import find_map  # noqa: TID253
from nll_losses.analyses.problems import make_problem
from nll_losses.analyses.progress import say
from nll_losses.analyses.results import AgreementRow, CaseResult, Estimate
from nll_losses.analyses.translate import verify as verify_translations
from nll_losses.models import get_family

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
    data: Dataset,
    case: CaseConfig,
    cfg: RunConfig,
    cache: E.ModelCache | None = None,
    sized=None,
    progress=None,
) -> CaseResult:
    """Fit every requested estimator under every requested prior and compare them; with
    ``cfg.sweeps`` also the prior-strength sweep and, given a generator ``sized(seed, n)``,
    the sample-size sweep (analyses/sweeps.py)."""
    family = get_family(case.family)
    cache = cache or E.ModelCache()
    built_before = cache.counts()
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
            at = f"{case.name} · {prior} prior · "
            if method in refs:
                say(progress, at + f"reference: {method}")
                new = [timed("references", E.reference, ctx, method, computed)]
            elif method == "find_map":
                say(progress, at + "find_MAP")
                new = [e for e in timed("find_map", find_map, ctx) if e is not None]
            elif method == "nuts":
                its = cfg.tune + cfg.draws
                say(progress, at + f"NUTS: compiling, then {cfg.chains} chains × {its} iterations")
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

    say(progress, f"{case.name} · checks: agreement rows, loss ledger, translations")
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
    rows += ledger_rows(ledger, main.n)

    picture = _picture(
        family, problems, estimates, posteriors, child_seed(cfg.seed, case.name, "picture rows")
    )
    warnings = _warnings(estimates, rows)
    model_text = family.describe(problems, computed)
    translation = []
    for prior, problem in problems.items():
        sd = _scale_sd(family, computed, prior, priors)
        t_seed = child_seed(cfg.seed, case.name, "translation", prior)
        seeds_used.setdefault(prior, {})["translation"] = t_seed
        translation += [  # each row names the prior it translates (the page quotes it)
            row | {"prior": prior}
            for row in verify_translations(
                family, problem, estimates.get(f"find_map_{prior}"), sd, t_seed
            )
        ]
    result = CaseResult(
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
        landscape=_landscape(family, problems, estimates, cfg.is_quick),
        translation=translation,
    )
    if cfg.sweeps:
        from nll_losses.analyses.sweeps import sweep_warnings

        t0, compiled = time.perf_counter(), cache.compile_seconds
        say(progress, f"{case.name} · sweeps")
        try:
            result.sweeps = _sweeps(data, case, cfg, cache, sized, progress, estimates, problems)
        except Exception as exc:  # the case's own fits and report are kept, with the reason
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            result.warnings.append(f"sweeps unavailable: {reason}")
        compiled = cache.compile_seconds - compiled
        result.provenance["timings (s)"]["sweeps"] = round(time.perf_counter() - t0 - compiled, 3)
        result.provenance["timings (s)"]["sweeps nuts compile"] = round(compiled, 3)
        result.warnings += [w for s in result.sweeps.values() for w in sweep_warnings(s)]
    # what this case compiled (sweeps included); a structure the run had already built adds 0
    result.provenance["built"] = {k: v - built_before[k] for k, v in cache.counts().items()}
    return result


def _sweeps(data, case, cfg, cache, sized, progress, estimates, problems) -> dict:
    """The case's sweeps; the MLE of the main fit (find_MAP, flat) marks the τ → ∞ limit,
    re-expressed in the swept prior's parameters (``Family.reexpress``)."""
    from nll_losses.analyses import sweeps

    out = {}
    mle = estimates.get("find_map_flat")
    strength = sweeps.prior_strength(
        data,
        case,
        cfg,
        cache,
        progress,
        mle=(problems["flat"], mle.mean) if mle is not None and mle.status == "ok" else None,
    )
    if strength is not None:
        strength["mle_note"] = (
            "the MLE was not fitted (no flat prior in this run)"
            if mle is None
            else (f"MLE {mle.status}: {mle.reason}" if mle.status != "ok" else "")
        )
        if strength["mle_note"]:
            strength["caption"] += f" No MLE line: {strength['mle_note']}."
        out["prior_strength"] = strength
    if sized is not None:
        out["sample_size"] = sweeps.sample_size(sized, case, cfg, cache, progress)
    return out


def _picture(family, problems, estimates, posteriors, seed: int = 0) -> dict:
    """The fit picture's data for every case: the data with find_MAP's mode under every prior
    (flat: the MLE) and the first NUTS posterior, drawn as suits the outcome and the number of
    features (a curve, a surface, decision regions, observed against predicted, calibration,
    class frequencies; ``analyses.pictures``)."""
    try:
        return pictures.picture(family, problems, estimates, posteriors, seed)
    except Exception as exc:  # drawn as "figure unavailable" with the reason, never lost
        return {
            "kind": "unavailable",
            "title": "Fit picture",
            "caption": "",
            "curves": {"unavailable": None},
            "error": f"{type(exc).__name__}: {exc}".splitlines()[0],
        }


def _landscape(family, problems, estimates, quick: bool = False) -> dict | None:
    """NLL and mean loss over (weight of the first feature, its intercept) through the MLE (the
    MAP without one), every estimate marked; None when the model has no such pair or a failure
    (a figure's data must not lose the report).  ``quick``: a coarser grid."""
    size = landscape.LANDSCAPE_GRID_QUICK if quick else landscape.LANDSCAPE_GRID
    try:
        return landscape.landscape(family, problems, estimates, size=size)
    except Exception as exc:  # guarded like a figure: the report says it is unavailable
        print(f"loss landscape unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


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
            "quick": cfg.is_quick,
        },
        "find_MAP": {
            "method": tolerances.FIND_MAP_METHOD,
            "options": dict(tolerances.FIND_MAP_OPTIONS),
            "start": "jittered initial point",
            "accepted when": f"Newton step ≤ {tolerances.FIND_MAP_STEP_TOL:g} posterior sd "
            "after Newton refinement",
        },
        "compilation": (
            "find_MAP of a smooth model (log density, gradient, Hessian) and the "
            "deterministics at its mode: PyTensor's Python linker (nothing to compile); the "
            "network's find_MAP (its fused log density and gradient): PyTensor Numba backend; "
            "the deterministics of the draws and the predictive draws: "
            f"PyTensor {E.backend().upper()} backend; NUTS log density: PyTensor Numba backend "
            "driven by nutpie through C wrappers of its kernels, cached on disk "
            "(analyses/cfunc.py); find_MAP's functions built once per model structure; Numba "
            "fastmath off (same bits cold and warm)"
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


def render_case(
    result: CaseResult,
) -> tuple[dict[str, str | bytes], dict[str, float], list[str]]:
    """The report's page and thumbnail (its figures drawn): ``({"index.html": ...,
    "thumbnail.png": ...}, seconds per part, the page's own warnings)``; what ``write_case``
    writes besides the posteriors and results.json.  Picklable, so a worker process can draw
    them."""
    from nll_losses.analyses import figures, report

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    refs = references_for_report(result)
    html, uris, page_warnings = report.render_case_page(result, refs)
    timings["figures and page"] = time.perf_counter() - t0
    files: dict[str, str | bytes] = {"index.html": html}
    if uris:  # the fit picture when there is one (it comes first on the page)
        t0 = time.perf_counter()
        try:
            files["thumbnail.png"] = figures.thumbnail_png(uris[0])
        except Exception as exc:  # a thumbnail must not lose the report
            print(f"{result.case}: no thumbnail ({type(exc).__name__}: {exc})", file=sys.stderr)
        timings["thumbnail"] = time.perf_counter() - t0
    return files, timings, page_warnings


def write_case(result: CaseResult, out_dir: Path, rendered=None) -> dict[str, float]:
    """Write index.html, results.json, thumbnail.png (the page's first figure, 240 px wide, for
    the index of all cases; none when the page has no figure) and the posterior(s) into
    ``out_dir`` atomically.  ``rendered``: ``render_case(result)`` when already made (by a
    worker process).  Returns seconds per part (figures and page, thumbnail, zarr,
    results.json, write: the rest of writing the folder).  The page's own warnings (a figure
    hard to read, ...) become ``result.page_warnings`` (this drawing's, replacing an earlier
    one's): results.json, the index's count and the terminal's lines have them too."""
    files, timings, page_warnings = rendered if rendered is not None else render_case(result)
    result.page_warnings = list(page_warnings)
    files = dict(files)
    timings = dict(timings)

    def zarr(path, idata):
        t0 = time.perf_counter()
        idata.to_zarr(path, consolidated=False)
        timings["zarr"] = timings.get("zarr", 0.0) + time.perf_counter() - t0

    for prior, idata in (result.idata or {}).items():
        files[f"posterior_{prior}.zarr"] = lambda path, idata=idata: zarr(path, idata)
    t0 = time.perf_counter()
    results = result.to_json()
    timings["results.json"] = time.perf_counter() - t0
    # results.json last, with the project's mark and the list of every file (outputs.py)
    t0 = time.perf_counter()
    outputs.write_report_atomically(Path(out_dir), files, results)
    timings["write"] = time.perf_counter() - t0 - timings.get("zarr", 0.0)
    return timings


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
