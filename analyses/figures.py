"""Figures for the report: each function returns a matplotlib Figure and saves nothing.

Built with arviz_plots (matplotlib backend, headless Agg); the caller embeds or saves.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import arviz_plots as azp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

REF_STYLES = [("C3", "-"), ("C2", "--"), ("k", ":"), ("C4", "-.")]  # in reference order
MAX_PAIR = 5
MAX_PLOT_DRAWS = 250  # per chain, for the rank and pair plots


def _figure(pc):
    return pc.viz["figure"].item() if "figure" in pc.viz.data_vars else plt.gcf()


def _axes_for(pc, param):
    """The Axes of one parameter (``models.family.Param``) in a PlotCollection, or None."""
    plots = pc.viz["plot"]
    if param.var not in plots.data_vars:
        return None
    da = plots[param.var]
    return (da.sel(dict(param.sel)) if param.sel else da).item()


def _layout(n_panels: int) -> dict:
    cols = 3 if n_panels <= 9 else 4
    rows = -(-n_panels // cols)
    return {
        "col_wrap": cols,
        "figure_kwargs": {"figsize": (3.4 * cols, 2.6 * rows + 0.6), "layout": "constrained"},
    }


def _n_panels(idata, var_names) -> int:
    return sum(
        int(
            idata.posterior[v].size
            // (idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"])
        )
        for v in var_names
    )


def posterior_densities(idata, layout, references: dict[str, dict[str, float]]):
    """Marginal posterior densities with a vertical line per reference point estimate.

    ``references`` maps a label (e.g. "closed_form", "find_MAP", "posterior mean") to
    {parameter name: value}; ``layout`` (``models.family.ParamLayout``) says which panel shows
    which parameter.  A parameter missing from a reference simply gets no line for it.
    """
    var_names = [v for v in layout.var_names if v in idata.posterior.data_vars]
    pc = azp.plot_dist(
        idata,
        var_names=var_names,
        backend="matplotlib",
        visuals={"point_estimate_text": False, "point_estimate": False},
        **_layout(_n_panels(idata, var_names)),
    )
    handles, labels = [], []
    for k, (label, values) in enumerate(references.items()):
        colour, style = REF_STYLES[k % len(REF_STYLES)]
        drawn = False
        for name, value in values.items():
            try:
                ax = _axes_for(pc, layout.param(name))
            except KeyError:
                continue
            if ax is not None:
                ax.axvline(value, color=colour, linestyle=style, linewidth=1.4)
                drawn = True
        if drawn:
            handles.append(Line2D([], [], color=colour, linestyle=style))
            labels.append(label)
    fig = _figure(pc)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=len(handles))
    return fig


def _thinned(idata, max_draws: int = MAX_PLOT_DRAWS):
    """Every k-th draw so that at most ``max_draws`` per chain are plotted (scatter and rank
    plots cost time and bytes per point; their message does not need every draw)."""
    k = max(1, -(-idata.posterior.sizes["draw"] // max_draws))
    return idata if k == 1 else idata.isel(draw=slice(None, None, k))


def rank_plot(idata, layout):
    """Rank ECDF plots per chain (uniform ranks = chains agree)."""
    var_names = [v for v in layout.var_names if v in idata.posterior.data_vars]
    idata = _thinned(idata)
    pc = azp.plot_rank(
        idata, var_names=var_names, backend="matplotlib", **_layout(_n_panels(idata, var_names))
    )
    return _figure(pc)


def pair_plot(idata, layout):
    """Pairwise scatter of the first MAX_PAIR parameters of the layout, one panel per scalar
    parameter whatever variable holds it."""
    import xarray as xr

    post = _thinned(idata).posterior.dataset
    chosen = [p for p in layout.params if p.var in post.data_vars][:MAX_PAIR]

    def scalar(p):
        da = post[p.var].sel(dict(p.sel)) if p.sel else post[p.var]
        return da.drop_vars([d for d, _ in p.sel], errors="ignore")

    # DataTree rejects some names (a "/" in a column name), so the panels get neutral keys and
    # the parameter names go on the axes afterwards.
    keys = [f"p{i}" for i in range(len(chosen))]
    flat = xr.Dataset({k: scalar(p) for k, p in zip(keys, chosen, strict=True)})
    total = sum(1 for p in layout.params if p.var in post.data_vars)
    title = "pair plot" if total <= MAX_PAIR else f"pair plot (first {MAX_PAIR} of {total})"
    pm_ = azp.plot_pair(
        xr.DataTree.from_dict({"posterior": flat}),
        backend="matplotlib",
        figure_kwargs={"figsize": (7.5, 7.5), "layout": "constrained"},
    )
    fig = _figure(pm_)
    names = dict(zip(keys, (p.name for p in chosen), strict=True))
    for ax in fig.axes:
        for get, set_ in ((ax.get_xlabel, ax.set_xlabel), (ax.get_ylabel, ax.set_ylabel)):
            label = get()
            if label in names:
                set_(names[label])
    fig.suptitle(title)
    return fig


def ppc_plot(idata, outcome: str = "continuous"):
    """Posterior predictive check suited to the outcome: densities of replicated y against the
    observed y (continuous), or a PAV-adjusted calibration plot (binary: observed event rate,
    made monotone by pool-adjacent-violators, against the predicted probability, with the band
    the posterior predictive replicates give; Dimitriadis, Gneiting & Jordan 2021)."""
    size = {"figure_kwargs": {"figsize": (6, 3.5), "layout": "constrained"}}
    if outcome == "categorical":
        return _ppc_counts(idata)
    if outcome == "binary":
        pc = azp.plot_ppc_pava(idata, backend="matplotlib", **size)
        fig = _figure(pc)
        for ax in fig.axes:
            ax.set_xlabel("predicted probability")
            ax.set_ylabel("observed event rate (PAV)")
        return fig
    return _figure(azp.plot_ppc_dist(idata, backend="matplotlib", **size))


def _ppc_counts(idata):
    """Observed count of each class against the posterior predictive replicates' counts
    (median and 89% interval), one bar per class."""
    obs = np.asarray(idata.observed_data.dataset["y"].values, dtype=int)
    rep = idata.posterior_predictive.dataset["y"].values.astype(int)
    rep = rep.reshape(-1, rep.shape[-1])
    K = int(max(obs.max(), rep.max())) + 1
    counts = np.stack([np.bincount(r, minlength=K) for r in rep])
    lo, mid, hi = np.percentile(counts, [5.5, 50, 94.5], axis=0)
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    x = np.arange(K)
    ax.bar(x, np.bincount(obs, minlength=K), color="0.75", label="observed")
    ax.errorbar(
        x,
        mid,
        yerr=[mid - lo, hi - mid],
        fmt="o",
        color="C0",
        capsize=4,
        label="replicates: median, 89% interval",
    )
    coords = idata.posterior.dataset.coords
    ax.set_xticks(x, [str(c) for c in coords["class"].values] if "class" in coords else x)
    ax.set_xlabel("class")
    ax.set_ylabel("count")
    ax.legend()
    return fig


def decision_regions(picture: dict):
    """Class of highest probability over the plane (colour), its probability (shade) and
    the data, one panel per fit."""
    from matplotlib.colors import ListedColormap

    X, y, names, classes = picture["X"], picture["y"], picture["features"], picture["classes"]
    curves = picture["curves"]
    K = len(classes)
    colours = [f"C{k}" for k in range(K)]
    fig, axes = plt.subplots(
        1, len(curves), figsize=(4.6 * len(curves), 4.2), layout="constrained", squeeze=False
    )
    g0, g1 = picture["grid"]
    for ax, (label, P) in zip(axes[0], curves.items(), strict=True):
        best = np.argmax(P, axis=-1)
        ax.contourf(
            g0, g1, best, levels=np.arange(K + 1) - 0.5, cmap=ListedColormap(colours), alpha=0.25
        )
        ax.contour(
            g0,
            g1,
            np.max(P, axis=-1),
            levels=[0.5, 0.8],
            colors="k",
            linewidths=0.6,
            linestyles=[":", "-"],
        )
        for k, c in enumerate(classes):
            ax.scatter(
                X[y == k, 0],
                X[y == k, 1],
                s=12,
                color=colours[k],
                edgecolor="k",
                linewidths=0.3,
                label=str(c),
            )
        ax.set_title(label)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    axes[0][0].legend(
        loc="lower left", fontsize=8, title="class (contours: max P = 0.5, 0.8)", title_fontsize=7
    )
    return fig


def fit_picture(picture: dict):
    """The data with the fitted mean response: a curve (one feature) or the probability
    surface (two features, binary outcome) at find_MAP's mode and the posterior mean of p."""
    if picture.get("outcome") == "categorical":
        return decision_regions(picture)
    X, y, names = picture["X"], picture["y"], picture["features"]
    if X.shape[1] == 1:
        fig, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
        ax.scatter(X[:, 0], y, s=12, color="k", alpha=0.6, label="data")
        for (label, values), (colour, style) in zip(
            picture["curves"].items(), REF_STYLES, strict=False
        ):
            ax.plot(picture["grid"][0], values, color=colour, linestyle=style, label=label)
        ax.set_xlabel(names[0])
        ax.set_ylabel(picture["ylabel"])
        ax.legend()
        return fig
    curves = picture["curves"]
    fig, axes = plt.subplots(
        1, len(curves), figsize=(4.6 * len(curves), 4.0), layout="constrained", squeeze=False
    )
    g0, g1 = picture["grid"]
    for ax, (label, values) in zip(axes[0], curves.items(), strict=True):
        cs = ax.contourf(
            g0, g1, values, levels=[0, 0.1, 0.3, 0.5, 0.7, 0.9, 1], cmap="RdBu_r", alpha=0.55
        )
        ax.contour(g0, g1, values, levels=[0.5], colors="k", linewidths=1.2)
        ax.scatter(X[y == 1, 0], X[y == 1, 1], s=14, marker="o", color="C3", label="y = 1")
        ax.scatter(X[y == 0, 0], X[y == 0, 1], s=14, marker="x", color="C0", label="y = 0")
        ax.set_title(label)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    axes[0][0].legend(loc="lower left")
    fig.colorbar(cs, ax=axes[0].tolist(), label=picture["ylabel"])
    return fig


def figure_to_data_uri(fig, dpi: int = 72) -> str:
    """PNG as a ``data:`` URI (the page stays self-contained); closes the figure."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
