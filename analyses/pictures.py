"""Figure data from the fits (NumPy, SciPy, scikit-learn metrics; no matplotlib): what the fit
picture and the loss landscape draw.  ``analyses.figures`` draws these dicts.

Everything goes through the family contract: ``family.predict`` (the mean response E[y | x],
P(y = 1 | x), or the (m, K) class probabilities), ``family.observation`` (the NLL of y given a
prediction, the loss it equals and how, the link, which fit picture suits k features:
``models.observation``), ``family.smooth`` and the layout's parameters (name, PyMC variable and
selection).  No family or outcome is named here: the landscape's (weight, intercept) pair is
found from ``predict`` itself (see ``affine_pair``), and the NLL and loss come from the
observation model.

The fit picture's kinds (``Observation.picture(k)`` chooses one for k features):

=========================  ===================================================================
kind                       what it draws
=========================  ===================================================================
"curve"                    one feature: the data, MLE, MAP, posterior mean and 89% bands of
                           the prediction (and of a new y, for a density with noise)
"surface"                  two features, a probability over the plane: one panel per fit
"regions"                  two features, classes: the likeliest class, one panel per fit
"class_curves"             one feature: P(class | x) per fit
"observed_vs_predicted"    observed y against the prediction, per-row 89% predictive intervals
"calibration"              binned observed rate against the predicted probability, with counts
"class_calibration"        the same per class (one panel per class)
"frequencies"              intercept only: p̂ against each fitted q
=========================  ===================================================================

Every picture dict has ``kind``, ``probability`` (whether the prediction is one), ``title``,
``caption`` and a non-empty ``curves`` ({label: predictions}) when there is anything to draw.
"""

from __future__ import annotations

import numpy as np

from nll_losses.analyses import thinning
from nll_losses.analyses.picture_inputs import FLAT, first_posterior, mode_fits

INTERVAL = 0.89  # credible / predictive intervals (McElreath's default: not a test level)
NOISE_ROWS = 25  # replicated rows whose noise is reused per draw for the predictive band
GRID_1D = 200
GRID_2D = 90
N_BINS = 10  # calibration bins of width 0.1
MAX_CLASS_PANELS = 12


def _posterior_mean_and_interval(curves: dict, post, S: np.ndarray, label: str) -> dict:
    """Adds the posterior mean over draws ``S`` (first axis) to ``curves`` under the posterior's
    label; returns its central ``INTERVAL`` as a labelled band."""
    curves[post.label] = S.mean(axis=0)
    lo, hi = _quantiles(S)
    return {"label": label, "lo": lo, "hi": hi}


def _quantiles(a: np.ndarray, axis=0) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.quantile(a, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2], axis=axis)
    return lo, hi


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


# ------------------------------------------------------------------------------ the fit picture
def picture(family, problems: dict, estimates: dict, posteriors: dict, seed: int = 0) -> dict:
    """The fit picture's data for every case (see the module docstring for the kinds).

    Above ``thinning.MAX_ROWS`` rows, the figure draws a subset of them (those of the
    posterior predictive draws when there are, else a subset seeded by ``seed``) and its caption
    says so; fitted curves, RMSE, calibration bins and counts use every row."""
    obs = family.observation
    out = {"probability": obs.probability}
    first = next(iter(problems.values()))
    X = np.asarray(first.X, dtype=float)
    k = X.shape[1]
    fits = mode_fits(problems, estimates)
    post = first_posterior(problems, posteriors)
    if not fits and post is None:
        return out
    make = MAKERS[obs.picture(k)]
    y = obs.y_values(first.y)
    rows = _shown_rows(len(y), post, seed)
    made = make(family, X, y, fits, post, rows) if make is _observed_vs_predicted else None
    made = made or make(family, X, y, fits, post)
    note = thinning.note(len(y), len(rows))
    if note:
        made["caption"] = made.get("caption", "") + " " + note
        made["rows shown"] = {"rows": len(rows), "of": len(y)}
    base = {"X": X[rows], "y": y[rows], "features": list(first.features)}
    return out | base | made


def _shown_rows(n: int, post, seed: int) -> np.ndarray:
    """The rows a figure draws: every row up to ``thinning.MAX_ROWS``; above, those of the
    posterior predictive draws (so intervals and dots are of the same rows), else a seeded
    subset."""
    if n <= thinning.MAX_ROWS:
        return np.arange(n)
    if post is not None and post.ppc_rows is not None:
        return post.ppc_rows
    return thinning.rows(n, seed)


def _axes(X: np.ndarray, m: int) -> list[np.ndarray]:
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.08 * np.where(hi > lo, hi - lo, 1.0)
    return [np.linspace(a - d, b + d, m) for a, b, d in zip(lo, hi, pad, strict=True)]


def _draws_note(post) -> str:
    return f"averaged over {len(post.draws)} posterior draws ({post.prior} prior, NUTS)"


def _which(fits, post, posterior: str = "the posterior mean") -> str:
    """ "MLE, MAP and the posterior mean" as far as they are drawn."""
    parts = ["MLE" if f.prior == FLAT else "MAP" for f in fits]
    parts = list(dict.fromkeys(parts))
    if parts.count("MAP") and sum(f.prior != FLAT for f in fits) > 1:
        parts[parts.index("MAP")] = "MAPs"
    parts += [posterior] if post is not None else []
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


def _fits_text(fits) -> str:
    return ", ".join(f.label for f in fits) or "no find_MAP mode exists"


def _curve(family, X, y, fits, post) -> dict:
    """One feature: E[y | x] (continuous) or P(y = 1 | x) (binary) along the feature."""
    grid = _axes(X, GRID_1D)
    G = grid[0][:, None]
    curves = {f.label: family.predict(f.problem, f.params, G) for f in fits}
    out: dict = {"kind": "curve", "grid": grid}
    obs = family.observation
    what = obs.prediction
    caption = f"The data and the fitted {what} at find_MAP's mode under each prior"
    caption += f" ({_fits_text(fits)})"
    if post is not None:
        out["band"] = _posterior_mean_and_interval(
            curves,
            post,
            post.stack(family, G),
            f"{_pct(INTERVAL)} credible interval of {what} ({post.prior} prior, NUTS)",
        )
        caption += (
            f"; the posterior mean of {what} ({_draws_note(post)}) with its "
            f"{_pct(INTERVAL)} credible band (dark)"
        )
        if obs.additive_noise and post.ppc is not None:
            out["predictive"] = _predictive_band(family, post, X, G)
            caption += (
                f" and the {_pct(INTERVAL)} posterior predictive interval of a new y (light): "
                "E[y | x] under a posterior draw plus that draw's noise, taken from the data it "
                "replicated"
            )
    out |= {
        "curves": curves,
        "ylabel": what,
        "title": ("Fitted probability curve" if obs.probability else "Fitted line")
        + f": {_which(fits, post, 'the posterior')}",
        "caption": caption + ".",
    }
    return out


def _predictive_band(family, post, X, G) -> dict:
    """The 89% interval of y_new = E[y | x] + noise over the grid: per replicated draw s,
    E[y | x] at the grid under draw s plus that draw's noise, recovered from its replicated
    data as y_rep - E[y | x_i] (only for an observation model with additive noise, the same at
    every x)."""
    X = X[post.ppc_rows]
    n = X.shape[0]
    mu_rows = np.stack([family.predict(post.problem, d, X) for d in post.ppc_draws])
    noise = post.ppc - mu_rows
    rows = np.unique(np.linspace(0, n - 1, min(n, NOISE_ROWS)).astype(int))
    mu_grid = np.stack([family.predict(post.problem, d, G) for d in post.ppc_draws])
    samples = mu_grid[:, :, None] + noise[:, None, rows]  # (S, m, rows)
    samples = np.moveaxis(samples, 1, 0).reshape(G.shape[0], -1)
    lo, hi = _quantiles(samples, axis=1)
    return {
        "label": f"{_pct(INTERVAL)} posterior predictive interval of a new y "
        f"({post.prior} prior, NUTS)",
        "lo": lo,
        "hi": hi,
    }


def _panels(family, G, shape, fits, post) -> dict:
    curves = {f.label: family.predict(f.problem, f.params, G) for f in fits}
    if post is not None:
        curves[post.label] = post.stack(family, G).mean(axis=0)
    return {lb: v.reshape(*shape, *v.shape[1:]) for lb, v in curves.items()}


def _surface(family, X, y, fits, post) -> dict:
    """Two features, binary outcome: P(y = 1 | x) over the plane, one panel per fit."""
    mesh = np.meshgrid(*_axes(X, GRID_2D))
    G = np.column_stack([m.ravel() for m in mesh])
    caption = (
        f"The data and the fitted P(y = 1 | x) over the plane of the two features, one panel "
        f"per fit: find_MAP's mode under each prior ({_fits_text(fits)})"
    )
    if post is not None:
        caption += f" and the posterior mean of P(y = 1 | x) ({_draws_note(post)})"
    return {
        "kind": "surface",
        "grid": mesh,
        "curves": _panels(family, G, mesh[0].shape, fits, post),
        "ylabel": "P(y = 1 | x)",
        "title": f"Fitted probability surface: {_which(fits, post)}",
        "caption": caption + ". Shading: P(y = 1 | x); black line: P = 0.5.",
    }


def _classes(fits, post, K: int) -> list[str]:
    problem = fits[0].problem if fits else post.problem
    classes = list(problem.target_info.get("classes", range(K)))
    return [str(c) for c in classes] if len(classes) == K else [str(k) for k in range(K)]


def _class_panels(family, panels: tuple, what: str, post_what: str):
    """Class probabilities on a grid, one panel per fit (``panels`` = ``_panels``' grid, shape,
    fits, post), the class names and the caption: ``what``, then each fit named."""
    G, shape, fits, post = panels
    curves = _panels(family, G, shape, fits, post)
    K = next(iter(curves.values())).shape[-1]
    caption = f"{what}: find_MAP's mode under each prior ({_fits_text(fits)})"
    if post is not None:
        caption += f" and {post_what} ({_draws_note(post)})"
    return curves, _classes(fits, post, K), caption


def _regions(family, X, y, fits, post) -> dict:
    """Two features, categorical outcome: the class of highest probability over the plane."""
    mesh = np.meshgrid(*_axes(X, GRID_2D))
    G = np.column_stack([m.ravel() for m in mesh])
    curves, classes, caption = _class_panels(
        family,
        (G, mesh[0].shape, fits, post),
        "The data and the class of highest fitted probability over the plane, one panel per fit",
        "the posterior predictive probabilities",
    )
    return {
        "kind": "regions",
        "grid": mesh,
        "classes": classes,
        "curves": curves,
        "title": f"Decision regions: {_which(fits, post)}",
        "caption": caption + ". Colour: that class; contours: its probability is 0.5 "
        "(dotted) and 0.8 (solid).",
    }


def _class_curves(family, X, y, fits, post) -> dict:
    """One feature, categorical outcome: P(class | x) along the feature, per fit."""
    grid = _axes(X, GRID_1D)
    G = grid[0][:, None]
    curves, classes, caption = _class_panels(
        family,
        (G, (G.shape[0],), fits, post),
        "The fitted probability of each class along the feature (colour: class; line style: fit)",
        "the posterior mean",
    )
    return {
        "kind": "class_curves",
        "grid": grid,
        "classes": classes,
        "curves": curves,
        "ylabel": "P(class | x)",
        "title": f"Fitted class probabilities: {_which(fits, post)}",
        "caption": caption + ". Ticks below 0: the data, one row per class.",
    }


def _observed_vs_predicted(family, X, y, fits, post, rows=None) -> dict:
    """Continuous outcome, several features (or none): observed y against E[y | x] (RMSE over
    every row; ``rows``: the rows drawn)."""
    rows = np.arange(len(y)) if rows is None else rows
    full = {f.label: family.predict(f.problem, f.params, X) for f in fits}
    rmse = {lb: float(np.sqrt(np.mean((y - v) ** 2))) for lb, v in full.items()}
    curves = {lb: v[rows] for lb, v in full.items()}
    caption = (
        "Each row of the data: observed y against the predicted E[y | x] at find_MAP's mode "
        f"under each prior ({', '.join(f'{lb}: RMSE {v:.3g}' for lb, v in rmse.items())})"
    )
    out: dict = {"kind": "observed_vs_predicted", "rmse": rmse}
    if post is not None and post.ppc is not None and np.array_equal(post.ppc_rows, rows):
        centre = post.mean(family, X)[rows]  # at the data's own rows (a row's exposure)
        lo, hi = _quantiles(post.ppc)
        coverage = float(np.mean((y[rows] >= lo) & (y[rows] <= hi)))
        out["interval"] = {
            "label": f"{_pct(INTERVAL)} posterior predictive interval of y ({post.prior} "
            "prior, NUTS), at the posterior mean of E[y | x]",
            "centre": centre,
            "lo": lo,
            "hi": hi,
            "coverage": coverage,
        }
        caption += (
            f". Grey bars: each row's {_pct(INTERVAL)} posterior predictive interval from "
            f"{post.ppc.shape[0]} replicated data sets ({post.prior} prior, NUTS), placed at the "
            f"posterior mean of E[y | x]; {_pct(coverage)} of the observed y "
            + ("" if len(rows) == len(y) else "of the rows shown ")
            + "fall inside theirs"
        )
    return out | {
        "curves": curves,
        "title": "Observed y against predicted E[y | x]: "
        + _which(fits, post if "interval" in out else None, "the posterior"),
        "caption": caption + ". On the dashed line y = E[y | x]: a perfect prediction.",
    }


def _bins(p: np.ndarray, hit: np.ndarray) -> dict:
    """Calibration in N_BINS equal-width bins of the predicted probability: per non-empty
    bin, the mean prediction, the observed frequency, the count, and the 89% Jeffreys
    interval of the frequency (Beta(h + 1/2, m - h + 1/2))."""
    from scipy.stats import beta

    edges = np.linspace(0.0, 1.0, N_BINS + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, N_BINS - 1)
    out = {k: [] for k in ("predicted", "observed", "count", "lo", "hi")}
    for b in range(N_BINS):
        sel = idx == b
        m = int(sel.sum())
        if not m:
            continue
        h = float(hit[sel].sum())
        out["predicted"].append(float(p[sel].mean()))
        out["observed"].append(h / m)
        out["count"].append(m)
        lo, hi = beta.ppf([(1 - INTERVAL) / 2, (1 + INTERVAL) / 2], h + 0.5, m - h + 0.5)
        # Brown, Cai & DasGupta (2001): the bound is 0 (1) when no (every) row is a hit
        out["lo"].append(0.0 if h == 0 else min(float(lo), h / m))
        out["hi"].append(1.0 if h == m else max(float(hi), h / m))
    return {k: np.asarray(v) for k, v in out.items()} | {"edges": edges}


def _calibration(family, X, y, fits, post) -> dict:
    """Binary outcome, several features (or none): observed frequency of y = 1 against the
    binned predicted probability."""
    curves = {f.label: family.predict(f.problem, f.params, X) for f in fits}
    caption = (
        f"Calibration: the rows binned by predicted P(y = 1 | x) ({N_BINS} bins of width "
        f"{1 / N_BINS:g}); per bin the observed frequency of y = 1 against the mean predicted "
        f"probability, with its {_pct(INTERVAL)} interval (Jeffreys), for find_MAP's mode "
        f"under each prior ({_fits_text(fits)})"
    )
    if post is not None:
        curves[post.label] = post.mean(family, X)
        caption += f" and the posterior mean probability ({_draws_note(post)})"
    bins = {lb: _bins(p, y == 1) for lb, p in curves.items()}
    return {
        "kind": "calibration",
        "curves": curves,
        "bins": bins,
        "title": "Calibration: observed frequency of y = 1 against predicted P(y = 1 | x)",
        "caption": caption + ". On the diagonal: calibrated. Lower panel: rows per bin.",
    }


def _class_calibration(family, X, y, fits, post) -> dict:
    """Categorical outcome, several features: per class, observed frequency against the
    binned predicted probability of that class."""
    curves = {f.label: family.predict(f.problem, f.params, X) for f in fits}
    caption_post = ""
    if post is not None:
        curves[post.label] = post.mean(family, X)
        caption_post = f" and the posterior mean probabilities ({_draws_note(post)})"
    K = next(iter(curves.values())).shape[-1]
    classes = _classes(fits, post, K)
    counts = np.bincount(y, minlength=K)
    shown = sorted(np.argsort(-counts, kind="stable")[:MAX_CLASS_PANELS])
    bins = {classes[k]: {lb: _bins(P[:, k], y == k) for lb, P in curves.items()} for k in shown}
    expected = {lb: P.sum(axis=0) for lb, P in curves.items()}
    first = next(iter(expected))
    caption = (
        f"Calibration per class: for each class, the rows binned by its predicted probability "
        f"({N_BINS} bins of width {1 / N_BINS:g}); per bin the observed frequency of that "
        f"class against the mean predicted probability, with its {_pct(INTERVAL)} interval "
        f"(Jeffreys), for find_MAP's mode under each prior ({_fits_text(fits)}){caption_post}. "
        f"Panel titles: the observed count and the expected count Σᵢ pₖ(xᵢ) under {first}"
        + ("" if len(shown) == K else f"; the {len(shown)} most frequent of {K} classes")
        + ". On the diagonal: calibrated. Numbers beside the first fit's points: the rows in "
        "the bin (left out where they would crowd)."
    )
    return {
        "kind": "class_calibration",
        "curves": curves,
        "classes": classes,
        "bins": bins,
        "counts": {classes[k]: int(counts[k]) for k in range(K)},
        "expected": {lb: {classes[k]: float(e[k]) for k in range(K)} for lb, e in expected.items()},
        "title": "Calibration per class: observed frequency against predicted P(class | x)",
        "caption": caption,
    }


def _frequencies(family, X, y, fits, post) -> dict:
    """Intercept only: the observed class frequencies p̂ against each fitted q."""
    x0 = np.zeros((1, X.shape[1]))
    curves = {f.label: family.predict(f.problem, f.params, x0)[0] for f in fits}
    out: dict = {"kind": "frequencies"}
    if post is not None:
        out["interval"] = _posterior_mean_and_interval(
            curves, post, post.stack(family, x0)[:, 0, :], f"{_pct(INTERVAL)} credible interval"
        )
    K = next(iter(curves.values())).shape[-1]
    counts = np.bincount(y, minlength=K)
    observed = counts / counts.sum()
    gaps = ", ".join(f"{lb}: {np.max(np.abs(q - observed)):.2g}" for lb, q in curves.items())
    caption = (
        f"Bars: the observed class frequencies p̂ (the count in each bar, n = "
        f"{int(counts.sum())}). Markers: the fitted class probabilities q at find_MAP's mode "
        f"under each prior ({_fits_text(fits)})"
        + (
            f" and the posterior mean with its {_pct(INTERVAL)} credible interval "
            f"({_draws_note(post)})"
            if post is not None
            else ""
        )
        + f". Largest |q − p̂| over the classes: {gaps}."
    )
    return out | {
        "curves": curves,
        "classes": _classes(fits, post, K),
        "counts": counts,
        "observed": observed,
        "title": "Class frequencies: observed p̂ against the fitted q",
        "caption": caption,
    }


# the fit picture's kinds (``Observation.picture``) and what makes each
MAKERS = {
    "curve": _curve,
    "surface": _surface,
    "regions": _regions,
    "class_curves": _class_curves,
    "observed_vs_predicted": _observed_vs_predicted,
    "calibration": _calibration,
    "class_calibration": _class_calibration,
    "frequencies": _frequencies,
}
