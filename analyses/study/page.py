"""The report page of a simulation study: one self-contained HTML page (figures embedded as
PNG data URIs, every user-provided name escaped by the template's autoescape) from the
study's summary (``analyses.study.summary``, as ``analyses.study.app.summarise`` assembles
it).  The figures are drawn by ``analyses.study.figures`` through the case pages' own
``report.page_figure``: a figure that fails or is hard to read becomes a page warning, never a
lost page."""

from __future__ import annotations

import math

from nll_losses.analyses.report import ENV, page_figure  # noqa: TID253
from nll_losses.analyses.study import figures as study_figures  # noqa: TID253
from nll_losses.analyses.study.summary import map_label, map_units

TITLES = {
    "coverage": "Simulation study: coverage",
    "risk": "Simulation study: risk",
    "sbc": "Simulation study: simulation-based calibration (SBC)",
}
ALPHA = 0.05  # the SBC uniformity test's level the table marks

# settings key -> words; keys not listed are shown as they are
SETTING_WORDS = {
    "draws": "NUTS draws per chain",
    "tune": "NUTS tuning draws per chain",
    "chains": "NUTS chains",
    "sbc_thin": "SBC: every k-th posterior draw ranked",
    "n_grid": "risk: sample sizes n",
    "tau_units": "risk: the MAP's τ / τ₀",
}
SETTINGS_OF = {  # the settings each study reads (the others are shown in a collapsed list)
    "coverage": ("draws", "tune", "chains"),
    "risk": ("draws", "tune", "chains", "n_grid", "tau_units"),
    "sbc": ("draws", "tune", "chains", "sbc_thin"),
}


def _what(label: str, settings: dict) -> str:
    """What an estimator label is, every approximation named as one."""
    low = label.lower()
    draws = settings.get("draws")
    chains = settings.get("chains")
    mc = "Monte Carlo: NUTS draws"
    if draws and chains:
        mc += f" ({draws} × {chains} chains)"
    if "laplace" in low:
        return "Gaussian approximation at the mode" + (" (Wald interval)" if "wald" in low else "")
    if "nuts" in low:
        return mc
    if "exact" in low:
        return "exact posterior (closed form or quadrature)"
    if "classical" in low:
        return (
            "the library's interval from its standard errors (as its conf_int: Student's t "
            "with the residual degrees of freedom where it uses them, else the normal): exact "
            "where the model is linear and Gaussian, a large-sample approximation otherwise"
        )
    if label == "MLE":
        return "find_MAP with flat priors (maximum likelihood; an optimiser)"
    if label in {map_label(u) for u in settings.get("tau_units") or ()}:
        return "find_MAP with the N(0, τ²) prior (weight decay; an optimiser)"
    if label == "posterior mean":
        return f"exact posterior where the family has one, else {mc}"
    return ""


def _finite(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _rate_cells(block: dict, levels: list) -> list[dict]:
    """One cell per level: rate, band, covered count, and whether the rate is in its band."""
    rates = list(block.get("rate") or [])
    bands = list(block.get("band") or [])
    covered = list(block.get("covered") or [])
    cells = []
    for i, _ in enumerate(levels):
        rate = rates[i] if i < len(rates) else None
        band = bands[i] if i < len(bands) and bands[i] else [None, None]
        lo, hi = (band + [None, None])[:2]
        inside = None
        if _finite(rate) and _finite(lo) and _finite(hi):
            inside = lo - 1e-12 <= rate <= hi + 1e-12
        cells.append(
            {
                "rate": rate,
                "lo": lo,
                "hi": hi,
                "covered": covered[i] if i < len(covered) else None,
                "inside": inside,
            }
        )
    return cells


def _coverage_case(name: str, case: dict, settings: dict, warnings: list[str]) -> dict:
    levels = list(case.get("levels") or [])
    rows, per_param = [], {}
    for label, est in (case.get("estimators") or {}).items():
        est = est or {}
        pooled = est.get("pooled") or {}
        rows.append(
            {
                "label": label,
                "what": _what(label, settings),
                "prior": est.get("prior") or "",
                "ok": est.get("ok"),
                "not_ok": est.get("not ok") or 0,
                "reasons": [r for r in est.get("reasons") or [] if r],
                "flagged": est.get("nuts flagged") or 0,
                "trials": pooled.get("trials"),
                "cells": _rate_cells(pooled, levels),
            }
        )
        for param, block in (est.get("per parameter") or {}).items():
            per_param.setdefault(param, []).append(
                {
                    "label": label,
                    "trials": (block or {}).get("trials"),
                    "cells": _rate_cells(block or {}, levels),
                }
            )
    failed = [f"{r['label']} {r['not_ok']}" for r in rows if r["not_ok"]]
    if failed:
        total = max((r["ok"] or 0) + r["not_ok"] for r in rows)
        warnings.append(
            f"{name}: estimators that failed in some of the {total} replicates "
            f"(left out of their rates): {', '.join(failed)}"
        )
    flagged = [f"{r['label']} {r['flagged']}" for r in rows if r["flagged"]]
    if flagged:
        warnings.append(
            f"{name}: replicates whose NUTS diagnostics were flagged: {', '.join(flagged)}"
        )
    return {"levels": levels, "rows": rows, "per_param": per_param}


def _risk_case(name: str, case: dict, settings: dict, warnings: list[str]) -> dict:
    ests = case.get("estimators") or {}
    n_grid = case.get("n_grid") or settings.get("n_grid") or []
    units = map_units(case)
    labels = [lb for lb in ("MLE",) if lb in ests] + list(units.values())
    labels += [lb for lb in ("posterior mean",) if lb in ests]
    labels += [lb for lb in ests if lb not in labels]
    best = case.get("best tau") or {}
    replicates = case.get("replicates")
    rows, partial = [], {}
    for n in n_grid:
        cells = []
        values = [((ests.get(lb) or {}).get(str(n)) or {}).get("rmse") for lb in labels]
        finite = [v for v in values if _finite(v)]
        least = min(finite) if finite else None
        for lb in labels:
            at = (ests.get(lb) or {}).get(str(n)) or {}
            cells.append(
                {
                    "rmse": at.get("rmse"),
                    "mcse": at.get("mcse"),
                    "ok": at.get("ok"),
                    "of": replicates,
                    "least": least is not None and at.get("rmse") == least,
                }
            )
            if at and not _finite(at.get("rmse")):
                warnings.append(f"{name}: {lb} never succeeded at n = {n}")
            elif at and replicates and (at.get("ok") or 0) < replicates:
                partial.setdefault(lb, []).append(f"{n} ({at.get('ok')} of {replicates})")
        rows.append({"n": n, "cells": cells, "best": best.get(str(n))})
    for lb, where in partial.items():
        warnings.append(
            f"{name}: {lb} failed in some replicates, its RMSE is over those it answered "
            f"(not comparable with the others' there): n = {', '.join(where)}"
        )
    bias = []
    params = list(case.get("parameters") or [])
    for n in n_grid:
        for lb in labels:
            at = (ests.get(lb) or {}).get(str(n)) or {}
            b, v = at.get("bias") or {}, at.get("variance") or {}
            se, vse = at.get("bias mcse") or {}, at.get("variance mcse") or {}
            if b or v:
                values = [(b.get(p), se.get(p), v.get(p), vse.get(p)) for p in params]
                bias.append({"n": n, "label": lb, "values": values})
    # two header rows: the MAP's columns under one heading, each headed by its τ / τ₀
    head1, head2, k = [], [], 0
    while k < len(labels):
        if labels[k] in units.values():
            run = [lb for lb in labels[k:] if lb in units.values()]
            head1.append({"text": "MAP (weight decay) at τ / τ₀ =", "cols": len(run), "rows": 1})
            head2 += [f"{u:g}" for u, lb in units.items() if lb in run]
            k += len(run)
        else:
            head1.append({"text": labels[k], "cols": 1, "rows": 2})
            k += 1
    what = {"MLE": _what("MLE", settings)}
    if units:
        what["MAP"] = _what(next(iter(units.values())), settings)
    what |= {lb: _what(lb, settings) for lb in labels if lb not in units.values()}
    return {
        "labels": labels,
        "head1": head1,
        "head2": head2,
        "what": [(lb, w) for lb, w in what.items() if w],
        "rows": rows,
        "params": params,
        "bias": bias,
    }


def _sbc_case(name: str, case: dict, settings: dict, warnings: list[str]) -> dict:
    ranks = case.get("ranks") or {}
    uniformity = case.get("uniformity") or {}
    rows = []
    for param, rs in ranks.items():
        test = uniformity.get(param) or {}
        p = test.get("p value")
        rows.append(
            {
                "param": param,
                "count": sum(1 for r in rs or [] if r is not None),
                "p": p,
                "bins": test.get("bins"),
                "ok": (p >= ALPHA) if _finite(p) else None,
            }
        )
    if case.get("not ok"):
        k = case["not ok"]
        warnings.append(f"{name}: {k} replicate{'' if k == 1 else 's'} failed (no ranks)")
    if case.get("nuts flagged"):
        k = case["nuts flagged"]
        warnings.append(
            f"{name}: NUTS diagnostics flagged {k} replicate{'' if k == 1 else 's'} "
            "(ranked all the same)"
        )
    mc = "Monte Carlo: NUTS draws"
    if settings.get("draws") and settings.get("chains"):
        mc += f", {settings['draws']} × {settings['chains']} chains"
        thin = settings.get("sbc_thin")
        mc += f", one draw in {thin} ranked" if thin and thin > 1 else ""
    return {
        "rows": rows,
        "draws": case.get("draws ranked"),
        "ok": case.get("ok"),
        "not_ok": case.get("not ok") or 0,
        "what": mc,
        "tested": bool(uniformity),
    }


CAPTIONS = {
    "coverage": (
        "Empirical coverage of each estimator's central intervals, pooled over the case's "
        "parameters, against their nominal level. The grey band is where the rate of that "
        "many independent intervals falls with 95% probability when they are calibrated "
        "(Binomial quantiles; the estimator with the most trials). The parameters of one "
        "replicate share its data, so the pooled band is a guide; the per-parameter rates "
        "and their exact bands are in the table. Dashed: flat prior; solid: Gaussian prior."
    ),
    "risk": (
        "Left: RMSE (the root of the mean over replicates of the summed squared errors of "
        "the parameters) against n, with ± 2 Monte Carlo standard errors. Right: the MAP's "
        "RMSE against its prior sd τ relative to the generating prior's τ₀, one line per n; "
        "dotted, the MLE's RMSE at the same n; the vertical line is τ = τ₀. A point missing: "
        "that estimator never succeeded there."
    ),
    "sbc": (
        "Per parameter, the ECDF of the fractional ranks of the truth, (rank + ½) / (L + 1) "
        "among L posterior draws, minus the uniform CDF, drawn by arviz_plots' plot_ecdf_pit. "
        "Grey: the simultaneous 95% band (Säilynoja et al. 2022, arviz_stats' ecdf_pit); a "
        "calibrated sampler's curve leaves it anywhere with probability 5%. p: plot_ecdf_pit's own "
        "uniformity test (pot_c); orange points, if any: the ranks that drive a departure."
    ),
}


def render_study_page(summary: dict, index_link: bool = False) -> tuple[str, list[str]]:
    """The study's page and the warnings drawing it found (a figure unavailable or hard to
    read, estimators that failed in some replicates, NUTS runs its diagnostics flagged),
    which the page shows too.  ``index_link``: link "all studies" to ../index.html."""
    kind = summary.get("study", "")
    settings = dict(summary.get("settings") or {})
    warnings: list[str] = []
    overview = None
    cases = []
    if kind == "coverage":
        overview = page_figure(
            "Coverage against the nominal level",
            CAPTIONS["coverage"],
            lambda: study_figures.coverage_plot(summary),
            warnings,
        )
    for name, case in (summary.get("cases") or {}).items():
        case = case or {}
        entry = {
            "name": name,
            "id": f"case-{len(cases)}",
            "family": case.get("family") or "",
            "n": case.get("n"),
            "tau": case.get("tau"),
            "note": case.get("note") or "",
            "parameters": list(case.get("parameters") or []),
            "figures": [],
        }
        where = f" ({name})"
        if kind == "coverage":
            entry["coverage"] = _coverage_case(name, case, settings, warnings)
        elif kind == "risk":
            entry["risk"] = _risk_case(name, case, settings, warnings)
            one = {"study": kind, "settings": settings, "cases": {name: case}}
            entry["figures"].append(
                page_figure(
                    "RMSE against n and against the MAP's τ",
                    CAPTIONS["risk"],
                    lambda one=one: study_figures.risk_plot(one),
                    warnings,
                    where,
                )
            )
        elif kind == "sbc":
            entry["sbc"] = _sbc_case(name, case, settings, warnings)
            entry["figures"].append(
                page_figure(
                    "Rank ECDF difference with its simultaneous band",
                    CAPTIONS["sbc"],
                    lambda name=name: study_figures.sbc_plot(summary, name),
                    warnings,
                    where,
                )
            )
        cases.append(entry)
    used = SETTINGS_OF.get(kind, tuple(settings))
    shown = [(SETTING_WORDS.get(k, k), settings[k]) for k in used if k in settings]
    other = [(SETTING_WORDS.get(k, k), v) for k, v in settings.items() if k not in used]
    html = ENV.get_template("study.html").render(
        kind=kind,
        title=TITLES.get(kind, f"Simulation study: {kind}"),
        s=summary,
        settings=shown,
        other_settings=other,
        overview=overview,
        cases=cases,
        warnings=warnings,
        alpha=ALPHA,
        index_link=index_link,
    )
    return html, warnings
