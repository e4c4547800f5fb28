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
from matplotlib.lines import Line2D  # noqa: E402

REF_STYLE = {  # label -> (colour, linestyle); order = legend order
    "closed form": ("C3", "-"),
    "find_MAP": ("C2", "--"),
    "posterior mean": ("k", ":"),
}
MAX_PAIR = 5
MAX_PLOT_DRAWS = 250  # per chain, for the rank and pair plots


def _figure(pc):
    return pc.viz["figure"].item() if "figure" in pc.viz.data_vars else plt.gcf()


def _axes_for(pc, var: str, feature: str | None):
    plots = pc.viz["plot"]
    if var not in plots.data_vars:
        return None
    da = plots[var]
    return (da.sel(feature=feature) if feature is not None else da).item()


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


def posterior_densities(idata, var_names, references: dict[str, dict[str, float]]):
    """Marginal posterior densities with a vertical line per reference point estimate.

    ``references`` maps a label ("closed form", "find_MAP", "posterior mean") to
    {parameter name: value}; parameter names are "intercept", feature names (w[feature]) and
    "sigma".  A parameter missing from a reference simply gets no line for it.
    """
    pc = azp.plot_dist(
        idata,
        var_names=var_names,
        backend="matplotlib",
        visuals={"point_estimate_text": False, "point_estimate": False},
        **_layout(_n_panels(idata, var_names)),
    )
    features = (
        list(idata.posterior["w"]["feature"].values) if "w" in idata.posterior.data_vars else []
    )
    handles, labels = [], []
    for label, values in references.items():
        colour, style = REF_STYLE.get(label, ("C4", "-."))
        drawn = False
        for name, value in values.items():
            if name in features:
                ax = _axes_for(pc, "w", name)
            else:
                ax = _axes_for(pc, name, None)
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


def rank_plot(idata, var_names):
    """Rank ECDF plots per chain (uniform ranks = chains agree)."""
    idata = _thinned(idata)
    pc = azp.plot_rank(
        idata, var_names=var_names, backend="matplotlib", **_layout(_n_panels(idata, var_names))
    )
    return _figure(pc)


def pair_plot(idata, var_names):
    """Pairwise scatter of up to MAX_PAIR parameters (intercept, the first features, sigma)."""
    import numpy as np  # noqa: F401  (kept local: figures import cheaply)

    coords = None
    chosen = list(var_names)
    total = _n_panels(idata, var_names)
    title = "pair plot"
    if total > MAX_PAIR and "w" in var_names:
        keep_w = max(MAX_PAIR - (total - idata.posterior["w"].sizes["feature"]), 1)
        coords = {"feature": list(idata.posterior["w"]["feature"].values[:keep_w])}
        title = f"pair plot (first {keep_w} features of {idata.posterior['w'].sizes['feature']})"
    idata = _thinned(idata)
    pm_ = azp.plot_pair(
        idata,
        var_names=chosen,
        coords=coords,
        backend="matplotlib",
        figure_kwargs={"figsize": (7.5, 7.5), "layout": "constrained"},
    )
    fig = _figure(pm_)
    fig.suptitle(title)
    return fig


def ppc_plot(idata):
    """Posterior predictive check: densities of replicated y against the observed y."""
    pc = azp.plot_ppc_dist(
        idata, backend="matplotlib", figure_kwargs={"figsize": (6, 3.5), "layout": "constrained"}
    )
    return _figure(pc)


def figure_to_data_uri(fig, dpi: int = 72) -> str:
    """PNG as a ``data:`` URI (the page stays self-contained); closes the figure."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
