"""Figures of the sweeps (analyses/sweeps.py): the prior-strength paths and the sample-size
plot.  Each takes the sweep's JSON-ready dict and returns a matplotlib Figure."""

from __future__ import annotations

import numpy as np

# parameters named in a panel's legend, as many as tab20 has distinct colours (more: colours
# repeat, so the panel is drawn without names and its title says so)
MAX_LEGEND = 20
LEGEND_ROWS = 12  # names a legend column holds beside a 3.6 in panel at 10 pt (more: 2 columns)


def _series(path: dict, field: str, name: str, n: int) -> np.ndarray:
    values = path.get(field, {}).get(name)
    if values is None:
        return np.full(n, np.nan)
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _colours(names):
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return {nm: cmap(i % cmap.N) for i, nm in enumerate(names)}


def _fill(filled: bool) -> dict:
    return {} if filled else {"mfc": "none"}


def prior_sweep(data: dict):
    """One panel per parameter group: find_MAP's path (lines), each reference (markers), the
    posterior mean ± sd (band), the MLE (dashed) and the case's value (vertical line)."""
    import matplotlib.pyplot as plt

    grid = np.asarray(data["grid"], dtype=float)
    groups = {g: names for g, names in data["groups"].items() if names}
    paths = data["paths"]
    # one group a row, its legend of parameter names at its right: 12.4 in wide, the page's
    # column at full size, however many groups and however long the names
    fig, axes = plt.subplots(
        len(groups),
        1,
        figsize=(PANEL_WIDTH_IN, 3.6 * len(groups) + 0.9),
        squeeze=False,
        constrained_layout=True,
    )
    axes = axes.T
    posterior = next(
        (k for k in paths if "posterior" in k or k in ("nuts", "exact_posterior")), None
    )
    markers = iter("oxs^v")  # "D": the posterior's points (below)
    methods = list(paths[posterior].get("method", [])) if posterior else []
    if all(m in (None, "exact") for m in methods):  # an exact band: no markers needed
        methods = []
    # how each point's band was got: NUTS (filled diamonds), NUTS draws reweighted (open
    # diamonds), importance sampling from the Laplace approximation (open squares)
    kinds = {
        "NUTS": ("D", True, [m == "nuts" for m in methods]),
        "reweighted NUTS draws (approximation)": (
            "D",
            False,
            [bool(m) and m.startswith("reweighted") for m in methods],
        ),
        "importance sampling from the Laplace approximation": (
            "s",
            False,
            [bool(m) and m.startswith("importance") for m in methods],
        ),
    }
    kinds = {k: (mk, filled, np.array(at, dtype=bool)) for k, (mk, filled, at) in kinds.items()}
    kinds = {k: v for k, v in kinds.items() if v[2].any()}
    ref_markers = {
        k: next(markers, "o")
        for k in paths
        if k not in ("find_MAP", posterior) and not k.startswith("Laplace")
    }
    for ax, (group, names) in zip(axes[0], groups.items(), strict=True):
        colour = _colours(names)
        many = len(names) > MAX_LEGEND  # unnamed: colours repeat
        exact = []  # find_MAP's, the references' and the MLE's values: the y-axis is for them
        spread = []  # the posterior's mean ± sd
        for nm in names:
            c = colour[nm]
            fm = _series(paths.get("find_MAP", {}), "mean", nm, len(grid))
            exact.append(fm)
            ax.plot(grid, fm, "-", color=c, lw=1.8, label=None if many else nm)
            for ref, marker in ref_markers.items():
                exact.append(_series(paths[ref], "mean", nm, len(grid)))
                ax.plot(
                    grid,
                    exact[-1],
                    marker,
                    color=c,
                    ms=5,
                    mfc="none",
                    ls="none",
                )
            if posterior:
                m = _series(paths[posterior], "mean", nm, len(grid))
                s = _series(paths[posterior], "sd", nm, len(grid))
                spread += [m - s, m, m + s]
                ax.fill_between(grid, m - s, m + s, color=c, alpha=0.15, lw=0)
                ax.plot(grid, m, ":", color=c, lw=1.2)
                for mk, filled, at in kinds.values():
                    ax.plot(grid[at], m[at], mk, color=c, ms=3.5, ls="none", **_fill(filled))
            mle = (data.get("mle") or {}).get(nm)
            if mle is not None:
                exact.append(np.array([mle], dtype=float))
                ax.axhline(mle, color=c, ls="--", lw=0.8, alpha=0.8)
        ax.axvline(data["case_value"], color="0.4", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel(
            f"{data['symbol']} (prior {'scale' if data['symbol'] == 'τ' else 'concentration'})"
        )
        ax.set_ylabel("estimate")
        unnamed = f"   ({len(names)} parameters, too many to name)" if many else ""
        ax.set_title(group + _symlog_for_band(ax, exact, spread) + unnamed)
        if not many:
            ncol = 1 if len(names) <= LEGEND_ROWS else 2
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, ncol=ncol)
    # one legend of the line styles
    from matplotlib.lines import Line2D

    styles = [Line2D([], [], color="k", lw=1.8, label="find_MAP")]
    styles += [
        Line2D([], [], color="k", marker=m, mfc="none", ls="none", label=ref)
        for ref, m in ref_markers.items()
    ]
    if posterior and methods:
        styles.append(Line2D([], [], color="k", ls=":", label="posterior mean (band: ± sd)"))
        styles += [
            Line2D([], [], color="k", marker=mk, ms=3.5, ls="none", label=k, **_fill(filled))
            for k, (mk, filled, _) in kinds.items()
        ]
    elif posterior:
        styles.append(Line2D([], [], color="k", ls=":", label=f"{posterior} mean (band: ± sd)"))
    if data.get("mle"):
        styles.append(Line2D([], [], color="k", ls="--", lw=0.8, label="MLE"))
    styles.append(Line2D([], [], color="0.4", lw=0.8, label=f"case's {data['symbol']}"))
    from nll_losses.analyses.fit_figures import legend_fit

    labels, ncol = legend_fit([h.get_label() for h in styles], PANEL_WIDTH_IN, len(styles))
    fig.legend(styles, labels, loc="outside lower center", ncol=ncol)
    return fig


PANEL_WIDTH_IN = 12.4  # the page's column is 12.5 in (analyses.figures.display_width)
BAND_SPREAD = 20  # the posterior band spans > this × the exact paths' range: symlog y-axis


def _symlog_for_band(ax, exact: list, spread: list) -> str:
    """A weak prior's posterior can run far beyond find_MAP's path (separable data: the
    posterior mean and sd grow with τ while the MAP converges): on a linear axis the band
    flattens the paths to a line at 0.  When the band's range is more than BAND_SPREAD times
    the paths' range, the y-axis is linear over the paths (±L, L the 1-2-5 number at or above
    their largest |value|) and logarithmic beyond, and the panel's title says so (returned)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

    paths = np.concatenate([np.ravel(a) for a in exact]) if exact else np.array([])
    band = np.concatenate([np.ravel(a) for a in spread]) if spread else np.array([])
    paths, band = paths[np.isfinite(paths)], band[np.isfinite(band)]
    if paths.size == 0 or band.size == 0:
        return ""
    top = float(np.max(np.abs(paths)))
    width = max(float(np.ptp(paths)), 1e-12 * max(top, 1.0))
    if float(np.ptp(np.concatenate([paths, band]))) <= BAND_SPREAD * width or top == 0:
        return ""
    linthresh = _nice_ceil(top)
    reach = float(np.max(np.abs(band)))
    decades = max(np.log10(max(reach, linthresh) / linthresh), 0.0)
    # the linear part about as tall as the logarithmic part: the paths keep half the axis
    ax.set_yscale("symlog", linthresh=linthresh, linscale=max(1.0, decades / 2))
    inner = MaxNLocator(nbins=4).tick_values(-linthresh, linthresh)
    inner = inner[np.abs(inner) <= linthresh * (1 + 1e-9)]
    # decades from 3 × L: closer, "50" and "100" would touch where the scale turns logarithmic
    outer = 10.0 ** np.arange(np.ceil(np.log10(3 * linthresh)), np.ceil(np.log10(reach)) + 1)
    ticks = np.unique(np.concatenate([inner, outer, -outer]))
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}".replace("-", "−")))
    return f"   (y: linear within ±{linthresh:g}, logarithmic beyond)"


def _nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 5 × 10ᵏ at or above x > 0."""
    k = np.floor(np.log10(x))
    return float(min(m * 10**k for m in (1, 2, 5, 10) if m * 10**k >= x * (1 - 1e-12)))


def sample_size_sweep(data: dict):
    """Left: estimates against n with the truth; right: their sds on log axes with 1/√n
    reference lines through the largest n."""
    import matplotlib.pyplot as plt

    n = np.asarray(data["grid"], dtype=float)
    paths = data["paths"]
    truth = data.get("truth") or {}
    names = [nm for nm in data["names"] if nm in truth] or list(data["names"])
    colour = _colours(names)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    estimators = [k for k in paths if not k.startswith("Laplace")]
    styles = dict(zip(estimators, ("o-", "s--", "^:", "v-."), strict=False))
    for nm in names:
        c = colour[nm]
        for k in estimators:
            left.plot(n, _series(paths[k], "mean", nm, len(n)), styles[k], color=c, ms=4, lw=1.2)
        if nm in truth:
            left.axhline(truth[nm], color=c, ls="--", lw=0.7, alpha=0.7)
        sd_sources = [k for k in paths if k.startswith("Laplace")] + [
            k for k in estimators if "posterior" in k
        ]
        for k, st in zip(sd_sources, ("o-", "s--", "^:"), strict=False):
            s = _series(paths[k], "sd", nm, len(n))
            right.plot(n, s, st, color=c, ms=4, lw=1.2)
        ref = _series(paths[sd_sources[0]], "sd", nm, len(n)) if sd_sources else None
        if ref is not None and np.isfinite(ref[-1]):
            right.plot(n, ref[-1] * np.sqrt(n[-1] / n), color=c, lw=0.6, ls=(0, (1, 2)))
    left.set_xscale("log")
    left.set_xlabel("n")
    left.set_ylabel("estimate")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("n")
    right.set_ylabel("sd")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colour[nm], lw=2, label=nm) for nm in names]
    handles += [
        Line2D([], [], color="k", ls=styles[k][1:], marker=styles[k][0], label=k)
        for k in estimators
    ]
    left.legend(handles=handles, loc="best")
    sd_handles = [
        Line2D([], [], color="k", ls=st[1:], marker=st[0], label=k)
        for k, st in zip(sd_sources, ("o-", "s--", "^:"), strict=False)
    ] + [Line2D([], [], color="k", lw=0.6, ls=(0, (1, 2)), label="∝ 1/√n")]
    right.legend(handles=sd_handles, loc="best")
    left.set_title("estimates (dashed: truth)")
    right.set_title("sd: Laplace and posterior")
    return fig
