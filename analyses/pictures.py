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

Every picture dict has ``kind``, ``ppc`` (the observation model's predictive check),
``probability`` (whether the prediction is one), ``title``, ``caption`` and a non-empty
``curves`` ({label: predictions}) when there is anything to draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyses import thinning

FLAT = "flat"  # the prior under which find_MAP is the maximum-likelihood estimate
PICTURE_DRAWS = 200  # posterior draws pushed through predict (the posterior mean and bands)
INTERVAL = 0.89  # credible / predictive intervals (McElreath's default: not a test level)
NOISE_ROWS = 25  # replicated rows whose noise is reused per draw for the predictive band
GRID_1D = 200
GRID_2D = 90
N_BINS = 10  # calibration bins of width 0.1
MAX_CLASS_PANELS = 12
# points per axis of the loss landscape (scikit-learn's log_loss costs ~1-10 ms a call)
LANDSCAPE_GRID = 31
LANDSCAPE_GRID_QUICK = 15  # --quick; odd, so the centre (the MLE) is a grid point
# above this many (row x grid point) evaluations a quadratic loss's landscape comes from
# sufficient statistics (``_quadratic_grid``; 10^6 rows x 961 points row by row took minutes);
# other
# families evaluate the grid a block of points at a time, ~LANDSCAPE_BLOCK_VALUES values each
LANDSCAPE_ROW_EVALS = 20_000_000
LANDSCAPE_BLOCK_VALUES = 4_000_000
LANDSCAPE_SDS = 3.5  # half-width of the landscape window, in the slice's own sds
MERGE = 0.004  # markers closer than this fraction of the window are one legend entry
# the landscape's pair test: d pred/d w = x * d pred/d b holds to central-difference error
# (O(h^2) relative, h = 1e-4), so 1e-5 relative separates it from a different parameter
PAIR_RTOL = 1e-5


# ------------------------------------------------------------------------------ fits
@dataclass(frozen=True)
class Fit:
    """One point estimate to draw: find_MAP's mode under one prior."""

    label: str
    prior: str
    problem: object
    params: dict


def mode_label(prior: str) -> str:
    return "MLE (find_MAP, flat prior)" if prior == FLAT else f"MAP (find_MAP, {prior} prior)"


def mode_fits(problems: dict, estimates: dict) -> list[Fit]:
    """find_MAP's mode under every prior where it exists, in prior order."""
    out = []
    for prior, problem in problems.items():
        est = estimates.get(f"find_map_{prior}")
        if est is not None and est.status == "ok":
            out.append(Fit(mode_label(prior), prior, problem, dict(est.mean)))
    return out


@dataclass
class Posterior:
    """Thinned NUTS draws of one prior, and its replicated data aligned with their draws."""

    prior: str
    problem: object
    draws: list[dict]
    ppc: np.ndarray | None = None  # (S, rows) replicated y
    ppc_draws: list[dict] | None = None  # the S parameter draws that generated them
    ppc_rows: np.ndarray | None = None  # the data's 0-based rows they replicate

    @property
    def label(self) -> str:
        return f"posterior mean ({self.prior} prior, NUTS)"

    def stack(self, family, X) -> np.ndarray:
        """predict at every draw: (S, m) or (S, m, K)."""
        return np.stack([family.predict(self.problem, d, X) for d in self.draws])

    def mean(self, family, X) -> np.ndarray:
        """The mean over the draws of ``stack``, one draw at a time (memory O(m), not O(S m))."""
        total = None
        for d in self.draws:
            pred = family.predict(self.problem, d, X)
            total = pred if total is None else total + pred
        return total / len(self.draws)


def _columns(post, layout) -> dict[str, np.ndarray]:
    """{parameter name: its draws, chains concatenated} for the layout's parameters."""
    cols = {}
    for p in layout.params:
        if p.var not in post:
            continue
        da = post[p.var].sel(dict(p.sel)) if p.sel else post[p.var]
        cols[p.name] = np.asarray(da.transpose("chain", "draw").values, dtype=float).ravel()
    return cols


def _dicts(cols: dict[str, np.ndarray], index) -> list[dict]:
    return [{nm: float(c[i]) for nm, c in cols.items()} for i in index]


def first_posterior(problems: dict, posteriors: dict, max_draws: int = PICTURE_DRAWS):
    """The NUTS posterior of the first prior that has one (None without any)."""
    for prior, problem in problems.items():
        idata = (posteriors or {}).get(prior)
        if idata is None:
            continue
        post = idata.posterior.dataset
        cols = _columns(post, problem.layout)
        if not cols:
            continue
        total = len(next(iter(cols.values())))
        step = max(1, -(-total // max_draws))
        out = Posterior(prior, problem, _dicts(cols, range(0, total, step)))
        if "posterior_predictive" in idata.children:
            ppc = idata.posterior_predictive.dataset
            var = next(iter(ppc.data_vars))
            # the replicates were drawn from a thinned posterior: select the same draws
            aligned = post.sel(chain=ppc["chain"].values, draw=ppc["draw"].values)
            acols = _columns(aligned, problem.layout)
            rep = np.asarray(ppc[var].transpose("chain", "draw", ...).values, dtype=float)
            out.ppc = rep.reshape(-1, rep.shape[-1])
            out.ppc_draws = _dicts(acols, range(out.ppc.shape[0]))
            dim = ppc[var].dims[-1]
            out.ppc_rows = (
                np.asarray(ppc[dim].values, dtype=int)
                if dim in ppc.coords
                else np.arange(rep.shape[-1])
            )
        return out
    return None


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
    out = {"ppc": obs.ppc, "probability": obs.probability}
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
        if not obs.probability and post.ppc is not None:
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
    data as y_rep - E[y | x_i] (the continuous families' noise is additive and the same at
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
        centre = post.mean(family, X[rows])
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
        + ". On the diagonal: calibrated."
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


# ------------------------------------------------------------------------------ the landscape
def _derivatives(family, problem, params: dict, X) -> dict[str, np.ndarray]:
    """Central-difference d predict / d parameter at the rows of X, per parameter of the
    layout present in ``params`` (those predict ignores come out as zero)."""
    out = {}
    for p in problem.layout.params:
        if p.name not in params:
            continue
        v = params[p.name]
        h = 1e-4 * max(1.0, abs(v))
        up = family.predict(problem, params | {p.name: v + h}, X)
        dn = family.predict(problem, params | {p.name: v - h}, X)
        out[p.name] = ((up - dn) / (2 * h)).reshape(X.shape[0], -1)
    return out


def affine_pair(family, problem, params: dict) -> tuple[str, str, int] | None:
    """(weight, intercept, feature index) such that predict depends on the two only through
    intercept + weight * x_j, row by row: d pred/d w = x_j * d pred/d b at every row (and
    class).  The first feature j (in order) that has such a pair, the first weight in layout
    order; None when none has (e.g. intercept only).  Decided from predict alone, so it names
    no family's parameters: a line's slope and intercept, a logistic regression's, one class's
    contrast and intercept in softmax regression."""
    X = np.asarray(problem.X, dtype=float)
    d = _derivatives(family, problem, params, X)
    scale = max((np.max(np.abs(v)) for v in d.values()), default=0.0)
    active = [nm for nm, v in d.items() if np.max(np.abs(v)) > 1e-9 * scale]
    for j in range(X.shape[1]):
        x = X[:, j][:, None]
        xs = max(1.0, float(np.max(np.abs(x))))
        for w in active:
            for b in active:
                if w == b:
                    continue
                db = d[b]
                tol = PAIR_RTOL * xs * np.max(np.abs(db))
                if np.all(np.abs(d[w] - x * db) <= tol):
                    return w, b, j
    return None


def _reparametrise(family, problem, params, other_problem, other_params, free) -> dict | None:
    """The point of ``problem``'s parametrisation that predicts what ``other_params`` predicts
    under ``other_problem`` at every row (e.g. a softmax Gaussian-prior estimate, which has a
    weight vector for every class, as contrasts against the baseline).  The link-scale
    prediction is linear in the parameters, so Gauss-Newton with finite-difference columns
    solves it in one step (a second one polishes); None when it cannot be matched."""
    try:
        return _solve_reparametrisation(family, problem, params, other_problem, other_params, free)
    except (KeyError, ValueError, np.linalg.LinAlgError):  # a missing parameter, a bad fit
        return None


def _solve_reparametrisation(family, problem, params, other_problem, other_params, free):
    X = np.asarray(problem.X, dtype=float)
    link = family.observation.link
    target = link(family.predict(other_problem, other_params, X)).ravel()
    if not np.all(np.isfinite(target)):
        return None

    def resid(theta):
        return link(family.predict(problem, theta, X)).ravel() - target

    theta = dict(params)
    for _ in range(2):
        r0 = resid(theta)
        cols = []
        for nm in free:
            h = 1e-4 * max(1.0, abs(theta[nm]))
            up, dn = resid(theta | {nm: theta[nm] + h}), resid(theta | {nm: theta[nm] - h})
            cols.append((up - dn) / (2 * h))
        step = np.linalg.lstsq(np.column_stack(cols), -r0, rcond=None)[0]
        theta = theta | {nm: theta[nm] + float(s) for nm, s in zip(free, step, strict=True)}
    if np.max(np.abs(resid(theta))) > 1e-6 * (1.0 + np.max(np.abs(target))):
        return None
    return theta


def _centre(problems: dict, estimates: dict):
    """(label, prior, problem, params, why): the slice's centre, the MLE where it exists,
    else the first prior's MAP (``why`` then says so: "The MLE does not exist (...), so")."""
    flat = estimates.get(f"find_map_{FLAT}")
    if FLAT in problems and flat is not None and flat.status == "ok":
        return mode_label(FLAT), FLAT, problems[FLAT], dict(flat.mean), ""
    for prior, problem in problems.items():
        est = estimates.get(f"find_map_{prior}")
        if est is not None and est.status == "ok":
            why = "The MLE was not fitted (no flat prior), so"
            if flat is not None:
                reason = flat.reason.split("; ")[0].strip() or flat.status
                for lead in ("the mle does not exist:", "the mle does not exist"):
                    if reason.lower().startswith(lead):
                        reason = reason[len(lead) :].strip()
                why = f"The MLE does not exist ({reason[:200]}), so"
            return mode_label(prior), prior, problem, dict(est.mean), why
    return None


def _marker_name(method: str, prior: str) -> str:
    if method == "find_map":
        return "MLE (find_MAP)" if prior == FLAT else "MAP (find_MAP)"
    if method == "nuts":
        return "posterior mean (NUTS)"
    return method


def _slice_sd(family, problem, params, names, y, sigma, marginal) -> np.ndarray | None:
    """sd of the two coordinates with every other parameter held (the slice's own scale, much
    smaller than the marginal sd when features are collinear): the square roots of the diagonal
    of the inverse 2 x 2 Hessian of the NLL at the centre, by central differences.  None when
    that Hessian is not positive definite (no curvature: e.g. a separating direction)."""
    X = np.asarray(problem.X, dtype=float)
    theta = np.array([params[nm] for nm in names])
    scale = marginal if marginal is not None else np.maximum(1.0, np.abs(theta))
    h = 1e-3 * scale

    def f(d0, d1):
        at = params | {names[0]: theta[0] + d0 * h[0], names[1]: theta[1] + d1 * h[1]}
        return family.observation.nll(y, family.predict(problem, at, X)[None], sigma)[0][0]

    f0 = f(0, 0)
    H = np.empty((2, 2))
    H[0, 0] = (f(1, 0) - 2 * f0 + f(-1, 0)) / h[0] ** 2
    H[1, 1] = (f(0, 1) - 2 * f0 + f(0, -1)) / h[1] ** 2
    H[0, 1] = H[1, 0] = (f(1, 1) - f(1, -1) - f(-1, 1) + f(-1, -1)) / (4 * h[0] * h[1])
    if not np.all(np.isfinite(H)) or np.any(np.linalg.eigvalsh(H) <= 0):
        return None
    return np.sqrt(np.diag(np.linalg.inv(H)))


def _sd(estimates: dict, prior: str, names: tuple[str, str]) -> np.ndarray | None:
    """Posterior sd of the two parameters under ``prior``: Laplace's first, else any."""
    keys = [f"laplace_{prior}"] + [k for k, e in estimates.items() if e.prior == prior]
    for key in keys:
        est = estimates.get(key)
        if est is None or est.status != "ok":
            continue
        sd = [est.sd.get(nm) for nm in names]
        if all(s is not None and np.isfinite(s) and s > 0 for s in sd):
            return np.asarray(sd, dtype=float)
    return None


def _grid_terms(family, problem, params, names, X, y, sigma, at) -> tuple:
    """The observation model's ``terms`` (NLL, loss, comparable) at every grid point ``at``
    [(w, b), ...], row by row, a block of grid points at a time (memory O(block * n), not
    O(grid * n))."""
    parts = []
    block = max(1, LANDSCAPE_BLOCK_VALUES // max(1, X.shape[0]))
    for start in range(0, len(at), block):
        preds = np.stack(
            [
                family.predict(problem, params | {names[0]: w, names[1]: b}, X)
                for w, b in at[start : start + block]
            ]
        )
        parts.append(family.observation.terms(y, preds, sigma))
    return tuple(np.concatenate(v) for v in zip(*parts, strict=True))


def _quadratic_grid(family, problem, params, names, d, y, sigma, at, ac) -> tuple:
    """The slice of a quadratic loss (``Observation.quadratic``: the mean squared residual of
    a predictor linear in (w, b)) from sufficient statistics: with r the residuals at the
    centre and u, v the predictions' derivatives in (w, b) (``_derivatives``), RSS(dw, db) =
    Σ(r − dw·u − db·v)², expanded at the centre (r is the mode's residual, so no term is much
    larger than the sum); the NLL is a·loss + c (``Observation.affine``).  Returns (NLL, loss,
    ok, deviation, points checked): the deviation is max |NLL − (a·loss + c)| with both from
    every row (the observation model's ``terms``) at the corners and centre, and at least the
    gap between those and the grid's values."""
    X = np.asarray(problem.X, dtype=float)
    n = len(y)
    u, v = d[names[0]][:, 0], d[names[1]][:, 0]
    r = y - family.predict(problem, params, X)
    S = {
        k: float(a @ b)
        for k, (a, b) in {
            "rr": (r, r),
            "ru": (r, u),
            "rv": (r, v),
            "uu": (u, u),
            "uv": (u, v),
            "vv": (v, v),
        }.items()
    }
    w0, b0 = params[names[0]], params[names[1]]
    dw = np.array([w for w, _ in at]) - w0
    db = np.array([b for _, b in at]) - b0
    rss = (
        S["rr"]
        - 2 * dw * S["ru"]
        - 2 * db * S["rv"]
        + dw**2 * S["uu"]
        + 2 * dw * db * S["uv"]
        + db**2 * S["vv"]
    )
    a, c = ac
    mse = rss / n
    nll = a * mse + c
    side = int(round(np.sqrt(len(at))))
    picks = sorted({0, side - 1, len(at) - side, len(at) - 1, len(at) // 2})
    rows_nll, rows_mse, _ = _grid_terms(
        family, problem, params, names, X, y, sigma, [at[k] for k in picks]
    )
    deviation = max(
        float(np.max(np.abs(rows_nll - (a * rows_mse + c)))),
        float(np.max(np.abs(rows_nll - nll[picks]))),
    )
    return nll, mse, np.isfinite(nll), deviation, len(picks)


def landscape(family, problems: dict, estimates: dict, size: int = LANDSCAPE_GRID) -> dict | None:
    """NLL and mean loss over a 2-D slice (weight of the first feature, its intercept) through
    the MLE (the MAP where the MLE does not exist), with every estimate marked; None for a
    model without such a pair (intercept only) or with kinks (a relu network)."""
    centre = _centre(problems, estimates)
    if centre is None:
        return None
    centre_label, prior, problem, params, why = centre
    X = np.asarray(problem.X, dtype=float)
    if X.shape[1] == 0 or not family.smooth(problem):
        return None
    pair = affine_pair(family, problem, params)
    if pair is None:
        return None
    w_name, b_name, j = pair
    obs = family.observation
    y = obs.y_values(problem.y)
    n = len(y)
    sigma = obs.noise_scale(y, family.predict(problem, params, X))
    if sigma is not None and not sigma > 0:
        return None  # fitted exactly: a density's NLL is unbounded at scale 0

    # markers: every estimate with both coordinates, in this slice's parametrisation
    d = _derivatives(family, problem, params, X)
    free = [nm for nm, v in d.items() if np.max(np.abs(v)) > 0]
    points, moved = [], set()
    for est in estimates.values():
        if est.status != "ok" or est.method == "laplace":  # Laplace's mean is find_MAP's mode
            continue
        other = problems.get(est.prior)
        if other is None:
            continue
        if other.layout.names == problem.layout.names:
            if w_name not in est.mean or b_name not in est.mean:
                continue
            at = est.mean
        else:
            at = _reparametrise(family, problem, params, other, est.mean, free)
            if at is None:
                continue
            moved.add(est.prior)
        points.append((_marker_name(est.method, est.prior), est.prior, at[w_name], at[b_name]))

    c0 = np.array([params[w_name], params[b_name]])
    marginal = _sd(estimates, prior, (w_name, b_name))
    sd = _slice_sd(family, problem, params, (w_name, b_name), y, sigma, marginal)
    sd = sd if sd is not None else marginal
    half = LANDSCAPE_SDS * sd if sd is not None else 0.5 * np.maximum(1.0, np.abs(c0))
    far = max((np.max(np.abs(np.array(p[2:]) - c0) / half) for p in points), default=0.0)
    half = half * min(max(1.0, 1.15 * far), 3.0)  # take in the markers, up to 3x wider
    ws = np.linspace(c0[0] - half[0], c0[0] + half[0], size)
    bs = np.linspace(c0[1] - half[1], c0[1] + half[1], size)
    a, c, relation = obs.affine(n, sigma)
    at = [(w, b) for b in bs for w in ws]
    loss_name, loss_fn = obs.loss_name, obs.loss_function
    grid_note = ""
    if obs.quadratic and n * len(at) > LANDSCAPE_ROW_EVALS:
        # every row at every grid point would take minutes: the grid from the residuals'
        # sufficient statistics, the identity checked row by row at corners and centre
        nll, loss, ok, deviation, checked = _quadratic_grid(
            family, problem, params, (w_name, b_name), d, y, sigma, at, (a, c)
        )
        grid_note = (
            f" With n = {n:,} rows, the grid's NLL and {loss_name} are computed from the "
            f"residuals' sufficient statistics at the centre (Σr², Σr·x, Σx², … : exact for "
            f"this linear predictor); the check below is row by row ({obs.nll_from} and "
            f"{loss_fn}) at the grid's {checked} corner and centre points, where it also "
            "confirms the grid's values."
        )
        where_checked = f"the {checked} points checked row by row"
    else:
        nll, loss, ok = _grid_terms(family, problem, params, (w_name, b_name), X, y, sigma, at)
        deviation = float(np.max(np.abs(nll - (a * loss + c))[ok])) if ok.any() else np.nan
        where_checked = None
    nll, loss, ok = (v.reshape(len(bs), len(ws)) for v in (nll, loss, ok))
    if not ok.any():
        return None

    inside = [p for p in points if abs(p[2] - c0[0]) <= half[0] and abs(p[3] - c0[1]) <= half[1]]
    outside = sorted({f"{p[0]}, {p[1]} prior" for p in points if p not in inside})
    markers = _merge(inside, MERGE * 2 * half)
    minima, edge = {}, False
    for key, z in (("nll", nll), ("loss", loss)):
        ib, iw = np.unravel_index(np.argmin(np.where(ok, z, np.inf)), z.shape)
        minima[key] = (float(ws[iw]), float(bs[ib]))
        edge |= ib in (0, len(bs) - 1) or iw in (0, len(ws) - 1)

    feature = problem.features[j]
    nll_from = obs.nll_from
    where = where_checked or "the grid"
    if not ok.all() and where_checked is None:
        where = (
            f"the {int(ok.sum())} grid points where every row's predicted probability of its "
            f"observed outcome is at least float64's ε (at the other {int((~ok).sum())}, blank "
            "in the plots, log_loss clips it to ε and the pmf underflows)"
        )
    moved_note = (
        f" Estimates under the {', '.join(sorted(moved))} prior, which parametrises the model "
        "differently, are marked at the equivalent point of this slice's parameters (the same "
        "predictions on every row)."
        if moved
        else ""
    )
    caption = (
        f"A 2-D slice of the likelihood: {w_name} (the weight of feature {feature}) and "
        f"{b_name} vary over a {size} × {size} grid. {why + ' every' if why else 'Every'} other "
        f"parameter is held at the "
        f"{centre_label}. Left: the negative log-likelihood, from {nll_from} of the family's "
        f"predictions; right: the {loss_name} ({loss_fn}). The two are affinely related, "
        f"{relation}. The right panel's contour levels are the left's mapped through "
        f"(NLL − c)/a (read them off the two colour bars), so the same curves confirm the "
        f"relation, and the minimiser is the same "
        f"point (+: each grid's minimum, at ({minima['nll'][0]:.4g}, {minima['nll'][1]:.4g}) "
        f"and ({minima['loss'][0]:.4g}, {minima['loss'][1]:.4g})"
        + ("; on the window's edge: the NLL has no minimum inside it" if edge else "")
        + (
            "; not at the MAP, which minimises the NLL plus the prior's penalty"
            if why and not edge
            else ""
        )
        + f"). Check: max |NLL − (a·{loss_name} + c)| over {where} = {deviation:.2g} (NLL up "
        f"to {np.max(np.abs(nll[ok])):.4g}). Markers: each estimate at its own ({w_name}, "
        f"{b_name}); its other parameters may differ from the slice's, so a marker off the "
        f"minimum is not a disagreement; each is drawn smaller than the one before, so "
        f"estimates at the same point show as nested markers.{moved_note}"
        + (f" Outside the window (not shown): {'; '.join(outside)}." if outside else "")
        + grid_note
    )
    return {
        "title": f"Loss landscape: NLL and {loss_name} over ({w_name}, {b_name})",
        "caption": caption,
        "w_name": w_name,
        "b_name": b_name,
        "feature": feature,
        "slope": ws,
        "offset": bs,
        "nll": nll,
        "loss": loss,
        "loss_name": loss_name,
        "a": float(a),
        "c": float(c),
        "scale": sigma,  # the NLL's scale held in the slice (Observation.noise_scale)
        "n": n,
        "max_deviation": deviation,
        "comparable": ok,
        "centre": {
            "label": centre_label,
            "prior": prior,
            "slope": float(c0[0]),
            "offset": float(c0[1]),
        },
        "minimum": minima,
        "points": markers,
        "outside": outside,
    }


def _merge(points, tol) -> list[dict]:
    """Markers at (nearly) the same place become one legend entry: "A = B = C, flat prior"."""
    clusters: list[dict] = []
    for name, prior, w, b in points:
        for cl in clusters:
            if abs(cl["slope"] - w) <= tol[0] and abs(cl["offset"] - b) <= tol[1]:
                cl["members"].append((name, prior))
                break
        else:
            clusters.append({"slope": float(w), "offset": float(b), "members": [(name, prior)]})
    for cl in clusters:
        by_prior: dict[str, list[str]] = {}
        for name, prior in cl["members"]:
            by_prior.setdefault(prior, []).append(name)
        cl["label"] = " = ".join(
            f"{' = '.join(names)}, {prior} prior" for prior, names in by_prior.items()
        )
    return clusters
