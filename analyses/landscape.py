"""The loss landscape's data (NumPy, SciPy, scikit-learn metrics through the family's
observation model; no matplotlib): the NLL and the loss it equals over a 2-D slice (the weight
of a feature and its intercept, found from ``predict`` itself: ``affine_pair``) through the MLE,
with every estimate marked.  ``analyses.figures.loss_landscape`` draws it."""

from __future__ import annotations

import numpy as np

from nll_losses.analyses.picture_inputs import FLAT, mode_label

# points per axis of the loss landscape (scikit-learn's log_loss costs ~1-10 ms a call)
LANDSCAPE_GRID = 31
LANDSCAPE_GRID_QUICK = 15  # --quick; odd, so the centre (the MLE) is a grid point
# above this many (row x grid point) evaluations a quadratic loss's landscape comes from
# sufficient statistics (``_quadratic_grid``; 10^6 rows x 961 points row by row took minutes);
# other families evaluate the grid a block of points at a time, ~LANDSCAPE_BLOCK_VALUES values each
LANDSCAPE_ROW_EVALS = 20_000_000
LANDSCAPE_BLOCK_VALUES = 4_000_000
LANDSCAPE_SDS = 3.5  # half-width of the landscape window, in the slice's own sds
MERGE = 0.004  # markers closer than this fraction of the window are one legend entry
# the landscape's pair test: d pred/d w = x * d pred/d b holds to central-difference error
# (O(h^2) relative, h = 1e-4), so 1e-5 relative separates it from a different parameter
PAIR_RTOL = 1e-5


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
    a, c, relation = obs.affine(y, sigma)
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
