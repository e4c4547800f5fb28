"""Figures for the report: each function returns a matplotlib Figure and saves nothing.

Built with arviz_plots (matplotlib backend, headless Agg); the caller embeds or saves.
"""

from __future__ import annotations

import base64
import io

import matplotlib  # noqa: TID253

matplotlib.use("Agg")

import arviz_plots as azp  # noqa: E402, TID253
import matplotlib.pyplot as plt  # noqa: E402, TID253
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402, TID253

from nll_losses.analyses.fit_figures import (  # noqa: E402, F401, TID253
    CHAR_PT,
    class_ticks,
    decision_regions,
    fit_picture,
    loss_landscape,
)
from nll_losses.analyses.sweep_figures import prior_sweep, sample_size_sweep  # noqa: E402, F401

REF_STYLES = [("C3", "-"), ("C2", "--"), ("k", ":"), ("C4", "-.")]  # in reference order
MAX_PAIR = 5
MAX_PANELS = 40  # arviz_plots' rcParams['plot.max_subplots']: it refuses more panels
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
    # four columns of 3.1 in: 12.4 in, within the page's column (PAGE_WIDTH_IN) at full size
    cols = 3 if n_panels <= 9 else 4
    width = 3.4 if cols == 3 else 3.1
    rows = -(-n_panels // cols)
    return {
        "col_wrap": cols,
        "figure_kwargs": {"figsize": (width * cols, 2.6 * rows + 0.6), "layout": "constrained"},
    }


def _few_x_ticks(fig) -> None:
    """As many x ticks a panel as its labels at 10 pt fit side by side: a panel 3 in wide holds
    three labels like "−0.0025", not the seven matplotlib picks by default."""
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        # the panel's width before the layout shrinks it for the labels: 80% of it
        room = 0.8 * ax.get_position().width * fig.get_figwidth() * 72
        lo, hi = sorted(ax.get_xlim())
        for nbins in (5, 4, 3, 2, 1):
            locator = MaxNLocator(nbins=nbins)
            ticks = [t for t in locator.tick_values(lo, hi) if lo <= t <= hi]
            labels = ax.xaxis.get_major_formatter().format_ticks(ticks)
            if sum(len(lb) + 2 for lb in labels) * CHAR_PT <= room:
                break
        ax.xaxis.set_major_locator(locator)


def wrap_name(name: str, width: int = 14) -> str:
    """A long parameter name over lines of about ``width`` characters, broken after ":", ",",
    "_", "/" or a space where it can be (else anywhere): axis labels of small panels."""
    lines, rest = [], name
    while len(rest) > width + 2:  # a last piece of one or two characters stays
        cut = max((rest.rfind(c, 0, width + 1) for c in ":,_/ "), default=-1)
        cut = cut + 1 if cut > 0 else width
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return "\n".join([*lines, rest])


def _n_panels(idata, var_names) -> int:
    return sum(
        int(
            idata.posterior[v].size
            // (idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"])
        )
        for v in var_names
    )


def _scalar(post, param):
    """One parameter's draws (``models.family.Param``) as a (chain, draw) array."""
    da = post[param.var].sel(dict(param.sel)) if param.sel else post[param.var]
    return da.drop_vars([d for d, _ in param.sel], errors="ignore")


def _flat(post, params):
    """The parameters' draws, one neutral variable each (DataTree rejects some names, e.g. a
    "/" in a column name: the names go on the axes afterwards), as a DataTree; and the
    variable -> parameter name map."""
    import xarray as xr

    keys = [f"p{i}" for i in range(len(params))]
    flat = xr.Dataset({k: _scalar(post, p) for k, p in zip(keys, params, strict=True)})
    names = dict(zip(keys, (p.name for p in params), strict=True))
    return xr.DataTree.from_dict({"posterior": flat}), names


def _panels(idata, layout):
    """What the per-parameter plots draw: (idata, var_names, axes of a parameter name, titles,
    note).  Up to MAX_PANELS panels, the layout's variables as they are; beyond that (arviz_plots
    refuses more subplots) the first MAX_PANELS parameters of the layout, one panel each, with
    the parameter names as titles and a note saying how many are shown."""
    var_names = [v for v in layout.var_names if v in idata.posterior.data_vars]
    total = _n_panels(idata, var_names)
    if total <= MAX_PANELS:

        def axes(pc, name):
            return _axes_for(pc, layout.param(name))

        return idata, var_names, axes, {}, ""
    post = idata.posterior.dataset
    chosen = [p for p in layout.params if p.var in post.data_vars][:MAX_PANELS]
    tree, names = _flat(post, chosen)
    key_of = {name: key for key, name in names.items()}

    def flat_axes(pc, name):
        return pc.viz["plot"][key_of[name]].item() if name in key_of else None

    return tree, list(names), flat_axes, names, f"the first {MAX_PANELS} of {total} parameters"


def _titled(pc, titles: dict[str, str], note: str):
    """Parameter names as the panel titles of flattened variables; the note as suptitle."""
    fig = _figure(pc)
    for key, name in titles.items():
        pc.viz["plot"][key].item().set_title(name)
    if note:
        fig.suptitle(note, fontsize=10)
    return fig


def posterior_densities(idata, layout, references: dict[str, dict[str, float]]):
    """Marginal posterior densities with a vertical line per reference point estimate.

    ``references`` maps a label (e.g. "closed_form", "find_MAP", "posterior mean") to
    {parameter name: value}; ``layout`` (``models.family.ParamLayout``) says which panel shows
    which parameter.  A parameter missing from a reference simply gets no line for it.
    """
    data, var_names, axes_of, titles, note = _panels(idata, layout)
    pc = azp.plot_dist(
        data,
        var_names=var_names,
        backend="matplotlib",
        visuals={"point_estimate_text": False, "point_estimate": False},
        **_layout(_n_panels(data, var_names)),
    )
    handles, labels = [], []
    for k, (label, values) in enumerate(references.items()):
        colour, style = REF_STYLES[k % len(REF_STYLES)]
        drawn = False
        for name, value in values.items():
            try:
                ax = axes_of(pc, name)
            except KeyError:
                continue
            if ax is not None:
                ax.axvline(value, color=colour, linestyle=style, linewidth=1.4)
                drawn = True
        if drawn:
            handles.append(Line2D([], [], color=colour, linestyle=style))
            labels.append(label)
    fig = _titled(pc, titles, note)
    _few_x_ticks(fig)
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
    data, var_names, _, titles, note = _panels(_thinned(idata), layout)
    pc = azp.plot_rank(
        data, var_names=var_names, backend="matplotlib", **_layout(_n_panels(data, var_names))
    )
    return _titled(pc, titles, note)


def pair_plot(idata, layout):
    """Pairwise scatter of the first MAX_PAIR parameters of the layout, one panel per scalar
    parameter whatever variable holds it."""
    post = _thinned(idata).posterior.dataset
    chosen = [p for p in layout.params if p.var in post.data_vars][:MAX_PAIR]
    tree, names = _flat(post, chosen)
    total = sum(1 for p in layout.params if p.var in post.data_vars)
    title = "pair plot" if total <= MAX_PAIR else f"pair plot (first {MAX_PAIR} of {total})"
    pm_ = azp.plot_pair(
        tree,
        backend="matplotlib",
        figure_kwargs={"figsize": (9.0, 9.0), "layout": "constrained"},
    )
    fig = _figure(pm_)
    for ax in fig.axes:
        for get, set_ in ((ax.get_xlabel, ax.set_xlabel), (ax.get_ylabel, ax.set_ylabel)):
            label = get()
            if label in names:  # panels ~1.6 in wide: long names over two or three lines
                set_(wrap_name(names[label]))
    _few_x_ticks(fig)
    fig.suptitle(title)
    return fig


MAX_COUNT_BARS = 40  # the count check: above this many values, bins of values


def ppc_plot(idata, kind: str = "density"):
    """The posterior predictive check of ``kind`` (the family's ``Observation.ppc``):
    "density", densities of replicated y against the observed y; "calibration", a PAV-adjusted
    calibration plot (observed event rate, made monotone by pool-adjacent-violators, against the
    predicted probability, with the band the posterior predictive replicates give; Dimitriadis,
    Gneiting & Jordan 2021); "class_counts", each class's (or each value's, for counts)
    observed count against the replicates'."""
    size = {"figure_kwargs": {"figsize": (6, 3.5), "layout": "constrained"}}
    if kind == "class_counts":
        return _ppc_counts(idata)
    if kind == "calibration":
        pc = azp.plot_ppc_pava(idata, backend="matplotlib", **size)
        fig = _figure(pc)
        for ax in fig.axes:
            ax.set_xlabel("predicted probability")
            ax.set_ylabel("observed event rate (PAV)")
        return fig
    return _figure(azp.plot_ppc_dist(idata, backend="matplotlib", **size))


def _ppc_counts(idata):
    """Observed count of each class (or value of a count y) against the posterior predictive
    replicates' counts (median and 89% interval): one bar per class or value, or, for counts
    with more than MAX_COUNT_BARS values, per bin of values of equal width."""
    obs = np.asarray(idata.observed_data.dataset["y"].values, dtype=np.int64)
    rep = idata.posterior_predictive.dataset["y"].values.astype(np.int64)
    rep = rep.reshape(-1, rep.shape[-1])
    K = int(max(obs.max(), rep.max())) + 1
    coords = idata.posterior.dataset.coords
    # one bar per class, or per count from the smallest up to MAX_COUNT_BARS values (else as
    # many bins of equal width)
    first = 0 if "class" in coords else int(min(obs.min(), rep.min()))
    bars = K if "class" in coords else min(K - first, MAX_COUNT_BARS)
    edges = np.unique(np.linspace(first, K, bars + 1).round().astype(np.int64))
    counts = np.stack([np.histogram(r, edges)[0] for r in rep])
    lo, mid, hi = np.percentile(counts, [5.5, 50, 94.5], axis=0)
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    x = np.arange(len(edges) - 1)
    ax.bar(x, np.histogram(obs, edges)[0], color="0.75", label="observed")
    ax.errorbar(
        x,
        mid,
        yerr=[mid - lo, hi - mid],
        fmt="o",
        color="C0",
        capsize=4,
        label="replicates: median, 89% interval",
    )
    if "class" in coords:
        class_ticks(ax, x, coords["class"].values, fig.get_figwidth())
    else:
        if len(edges) - 1 == K - first:
            labels = [str(v) for v in range(first, K)]
        else:  # bins of values: "a–b" (b excluded)
            labels = [
                f"{a}–{b - 1}" if b - 1 > a else str(a)
                for a, b in zip(edges, edges[1:], strict=False)
            ]
        # every step-th, as many as fit side by side at 10 pt in 80% of the figure's width
        room = 0.8 * fig.get_figwidth() * 72
        need = len(labels) * (max(len(lab) for lab in labels) + 2) * CHAR_PT
        step = max(1, -(-int(need) // int(room)))
        ax.set_xticks(x, [lab if i % step == 0 else "" for i, lab in enumerate(labels)])
    ax.set_xlabel("class" if "class" in coords else "y")
    ax.set_ylabel("count")
    ax.legend()
    return fig


def _literal_text(fig) -> None:
    """Draw titles, labels, legends and annotations as written: user-provided names (columns,
    classes) are in them, and a "$" must not start mathtext (an unbalanced one makes savefig
    raise, a pair renders as maths).  Tick labels keep mathtext: matplotlib's log-axis labels
    are written in it.  None of our own texts uses mathtext."""
    ticks = set()  # tick labels and the axis offset ("×10⁶") text, matplotlib's own
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis, *([ax.zaxis] if hasattr(ax, "zaxis") else [])):
            ticks.add(id(axis.offsetText))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update((id(tick.label1), id(tick.label2)))
    for text in fig.findobj(matplotlib.text.Text):
        if id(text) not in ticks:
            text.set_parse_math(False)


# The page shows a figure at CSS_PX_PER_INCH of its width (CSS's own inch: 10 pt text reads as
# 13 CSS px, like the page's text), at most the COLUMN_PX of the page's column; the PNG has DPI
# pixels per inch, 1.5 device pixels per CSS pixel: sharp on screens of up to 1.5 device pixels
# per CSS pixel, and never upscaled on ordinary ones.
DPI = 144
CSS_PX_PER_INCH = 96
COLUMN_PX = 1200  # case.html: body max-width


def display_width(fig) -> int:
    """The width in CSS pixels the page shows ``fig`` at (its height follows)."""
    return round(min(fig.get_figwidth() * CSS_PX_PER_INCH, COLUMN_PX))


def figure_to_data_uri(fig, dpi: int = DPI) -> str:
    """PNG as a ``data:`` URI (the page stays self-contained); closes the figure."""
    buf = io.BytesIO()
    try:
        _literal_text(fig)
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def thumbnail_png(data_uri: str, width: int = 240) -> bytes:
    """A PNG ``width`` pixels wide of a figure already embedded as a PNG ``data:`` URI (the
    index's picture of a case), resampled rather than drawn a second time."""
    from PIL import Image  # a dependency of matplotlib

    raw = base64.b64decode(data_uri.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as img:
        height = max(1, round(img.height * width / img.width))
        small = img.resize((width, height), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
