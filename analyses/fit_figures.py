"""The fit picture and the loss landscape drawn (matplotlib) from their data dicts
(``analyses.pictures``, ``analyses.landscape``): a curve, a probability surface, decision
regions, class curves, observed against predicted, calibration (overall or per class), class
frequencies, and the NLL beside its loss.  ``analyses.figures`` re-exports ``fit_picture`` and
``loss_landscape``, the names the report draws by."""

from __future__ import annotations

import textwrap

import matplotlib  # noqa: TID253

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402, TID253
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402, TID253


def decision_regions(picture: dict):
    """Class of highest probability over the plane (colour), its probability (shade) and
    the data, one panel per fit."""
    from matplotlib.colors import ListedColormap

    X, y, names, classes = picture["X"], picture["y"], picture["features"], picture["classes"]
    curves = picture["curves"]
    K = len(classes)
    colours = [f"C{k}" for k in range(K)]
    fig, axes = panel_grid(len(curves), 4.1, 4.0)
    g0, g1 = picture["grid"]
    for ax, (label, P) in zip(axes, curves.items(), strict=True):
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
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    handles, labels = axes[0].get_legend_handles_labels()
    labels, ncol = legend_fit(labels, fig.get_figwidth(), min(K, 6))
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=ncol,
        title="class (contours: its probability is 0.5 dotted, 0.8 solid)",
        frameon=False,
    )
    return fig


MODE_STYLES = [("C3", "-"), ("C2", "--"), ("C4", "-."), ("C1", (0, (5, 1.5)))]
POSTERIOR_STYLE = ("k", ":")
MARKERS = ["o", "s", "D", "^", "v", "P", "X", "*", "h", "<", ">"]


def _styles(labels) -> dict:
    """(colour, line style) per fit: find_MAP's modes in order, the posterior mean dotted."""
    out, k = {}, 0
    for label in labels:
        if label.startswith("posterior mean"):
            out[label] = POSTERIOR_STYLE
        else:
            out[label] = MODE_STYLES[k % len(MODE_STYLES)]
            k += 1
    return out


def panel_grid(
    n: int, width: float = 4.1, height: float = 4.0, cols: int = 3, legend_in: float = 0.5
):
    """n panels (four as two by two) in rows of ``cols``, ``legend_in`` inches below for the
    legend; the spare panels hidden."""
    # three columns of at most 4.1 in: within the page's 12.5 in column at full size
    cols = 2 if n == 4 else min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(width * cols, height * rows + legend_in),
        layout="constrained",
        squeeze=False,
    )
    flat = axes.ravel().tolist()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def fit_picture(picture: dict):
    """The data with every fit (find_MAP's modes under each prior, the posterior mean), drawn
    as ``picture["kind"]`` says (``analyses.pictures``): a curve, a probability surface,
    decision regions, class curves, observed against predicted, calibration (overall or per
    class), or class frequencies."""
    kind = picture.get("kind")
    if kind == "unavailable":  # its data failed (analyses.pipeline._picture): say why
        raise RuntimeError(picture["error"])
    if kind is None:  # a picture without a kind: one feature is a curve
        kind = "curve" if picture["X"].shape[1] == 1 else "surface"
    return {
        "curve": _fit_curve,
        "surface": _fit_surface,
        "regions": decision_regions,
        "class_curves": _fit_class_curves,
        "observed_vs_predicted": _fit_observed_vs_predicted,
        "calibration": _fit_calibration,
        "class_calibration": _fit_class_calibration,
        "frequencies": _fit_frequencies,
    }[kind](picture)


def _fit_curve(picture: dict):
    """One feature: data, bands (posterior predictive, credible), and one line per fit."""
    X, y, names = picture["X"], picture["y"], picture["features"]
    grid = picture["grid"][0]
    fig, ax = plt.subplots(figsize=(6.6, 4.6), layout="constrained")
    if picture.get("predictive"):
        band = picture["predictive"]
        ax.fill_between(
            grid, band["lo"], band["hi"], color="C0", alpha=0.15, lw=0, label=band["label"]
        )
    if picture.get("band"):
        band = picture["band"]
        ax.fill_between(
            grid, band["lo"], band["hi"], color="C0", alpha=0.35, lw=0, label=band["label"]
        )
    binary = bool(picture.get("probability"))  # y in {0, 1}, the curves probabilities
    ax.scatter(
        X[:, 0], y, s=14, color="k", alpha=0.35 if binary else 0.6, lw=0, label="data", zorder=3
    )
    styles = _styles(picture["curves"])
    for label, values in picture["curves"].items():
        colour, style = styles[label]
        ax.plot(grid, values, color=colour, linestyle=style, lw=1.8, label=label, zorder=4)
    if binary:
        ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(names[0])
    ax.set_ylabel(f"y   and   {picture['ylabel']}")
    ax.set_title(picture.get("title", ""), fontsize=10)
    _legend_below(fig, ncol=2)
    return fig


def _fit_surface(picture: dict):
    """Two features, binary outcome: P(y = 1 | x) over the plane, one panel per fit."""
    X, y, names = picture["X"], picture["y"], picture["features"]
    curves = picture["curves"]
    fig, axes = panel_grid(len(curves), 3.9, 3.8)
    g0, g1 = picture["grid"]
    cs = None
    for ax, (label, values) in zip(axes, curves.items(), strict=True):
        cs = ax.contourf(
            g0, g1, values, levels=[0, 0.1, 0.3, 0.5, 0.7, 0.9, 1], cmap="RdBu_r", alpha=0.55
        )
        ax.contour(g0, g1, values, levels=[0.5], colors="k", linewidths=1.2)
        ax.scatter(X[y == 1, 0], X[y == 1, 1], s=14, marker="o", color="C3", label="y = 1")
        ax.scatter(X[y == 0, 0], X[y == 0, 1], s=14, marker="x", color="C0", label="y = 0")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    axes[0].legend(loc="lower left")
    fig.colorbar(cs, ax=axes, label=picture["ylabel"], shrink=0.9)
    return fig


def _fit_class_curves(picture: dict):
    """One feature, categorical outcome: P(class | x) per class (colour) and fit (style)."""
    X, y, classes = picture["X"], picture["y"], picture["classes"]
    grid = picture["grid"][0]
    fig, ax = plt.subplots(figsize=(6.6, 4.6), layout="constrained")
    styles = _styles(picture["curves"])
    for label, P in picture["curves"].items():
        _, style = styles[label]
        for k in range(P.shape[-1]):
            ax.plot(grid, P[:, k], color=f"C{k}", linestyle=style, lw=1.6)
    for k in range(len(classes)):
        ax.plot(X[y == k, 0], np.full((y == k).sum(), -0.05 - 0.04 * k), "|", color=f"C{k}", ms=7)
    handles = [Line2D([], [], color=f"C{k}", lw=3) for k in range(len(classes))]
    handles += [Line2D([], [], color="0.3", linestyle=styles[lb][1]) for lb in picture["curves"]]
    labels = [f"class {c}" for c in classes] + list(picture["curves"])
    ax.set_xlabel(picture["features"][0])
    ax.set_ylabel(picture["ylabel"])
    ax.set_ylim(-0.07 - 0.04 * len(classes), 1.03)
    ax.set_title(picture.get("title", ""), fontsize=10)
    _legend_below(fig, handles, labels, ncol=3)
    return fig


def _fit_observed_vs_predicted(picture: dict):
    """Observed y against predicted E[y | x] per fit, with per-row predictive intervals."""
    y = picture["y"]
    fig, ax = plt.subplots(figsize=(6.2, 5.6), layout="constrained")
    iv = picture.get("interval")
    if iv:
        ax.vlines(
            iv["centre"], iv["lo"], iv["hi"], color="0.55", lw=1.2, alpha=0.45, label=iv["label"]
        )
    styles = _styles(picture["curves"])
    for k, (label, pred) in enumerate(picture["curves"].items()):
        colour, _ = styles[label]
        # the first fit filled, the others hollow: coinciding predictions stay visible
        face = {"color": colour} if k == 0 else {"facecolors": "none", "edgecolors": colour}
        ax.scatter(
            pred,
            y,
            s=18,
            marker=MARKERS[k % len(MARKERS)],
            alpha=0.75,
            lw=0 if k == 0 else 0.9,
            label=label,
            zorder=3,
            **face,
        )
    lims = np.array([ax.get_xlim(), ax.get_ylim()])
    lo, hi = lims[:, 0].min(), lims[:, 1].max()
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = E[y | x]")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("predicted E[y | x]")
    ax.set_ylabel("observed y")
    ax.set_title(picture.get("title", ""), fontsize=10)
    _legend_below(fig)
    return fig


CHAR_PT = 6.2  # the mean advance of a character of 10 pt DejaVu Sans, a little generous
ENTRY_PT = 48  # a legend entry's handle, the gap to its text and the gap to the next column


def legend_fit(labels, width_in: float, ncol: int) -> tuple[list[str], int]:
    """Labels and a number of columns (at most ``ncol``) for a legend across a figure
    ``width_in`` wide: as many columns as the longest label allows, and a label longer than
    its column wrapped over lines (constrained layout then makes the legend taller, not
    wider than the figure)."""
    labels = [str(lb) for lb in labels]
    room = width_in * 72 - 20  # the figure's margins
    longest = max((len(lb) for lb in labels), default=1)
    ncol = max(1, min(ncol, len(labels) or 1, int(room // (CHAR_PT * longest + ENTRY_PT))))
    chars = max(12, int((room / ncol - ENTRY_PT) // CHAR_PT))
    return [textwrap.fill(lb, chars) if len(lb) > chars else lb for lb in labels], ncol


def _legend_below(fig, *handles_labels, ncol: int = 1):
    """The figure's legend under its axes (constrained layout makes room), no frame; with no
    handles given, every labelled artist of every axes."""
    if not handles_labels:
        handles_labels = fig.axes[0].get_legend_handles_labels()
        for ax in fig.axes[1:]:
            h, lb = ax.get_legend_handles_labels()
            handles_labels = (handles_labels[0] + h, handles_labels[1] + lb)
    handles, labels = handles_labels
    labels, ncol = legend_fit(labels, fig.get_figwidth(), ncol)
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False)


def _calibration_axes(ax, bins: dict, styles: dict, count_labels: bool = False):
    """Diagonal and, per fit, observed frequency (with interval) against mean prediction."""
    ax.plot([0, 1], [0, 1], color="0.4", lw=1, linestyle="--")
    for k, (label, b) in enumerate(bins.items()):
        colour, style = styles[label]
        ax.errorbar(
            b["predicted"],
            b["observed"],
            yerr=[b["observed"] - b["lo"], b["hi"] - b["observed"]],
            color=colour,
            linestyle=style,
            marker=MARKERS[k % len(MARKERS)],
            ms=5,
            lw=1.2,
            capsize=2,
            label=label,
        )
        if count_labels and k == 0:
            _count_labels(ax, b)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")


COUNT_LABEL_PT_PER_UNIT = 170  # a calibration panel's axes: ≥ 2.4 in (170 pt) per unit of x, y


def _count_labels(ax, b: dict):
    """Each bin's row count beside its point, inside the axes (above the points near 0, left
    of those near 1: not onto the tick labels); a count that would touch one already placed is
    left out (bins of close mean predictions crowd at 10 pt)."""
    placed = []  # boxes (x0, y0, x1, y1) in points, from COUNT_LABEL_PT_PER_UNIT (a lower bound)
    for px, py, m in zip(b["predicted"], b["observed"], b["count"], strict=True):
        text = str(int(m))
        dx, ha = (-4, "right") if px > 0.85 else (4, "left")
        dy, va = (4, "bottom") if py < 0.15 else (-4, "top")
        # 10 pt digits ~5.6 pt wide, a line 12 pt high; and a space of 4 pt to the next count
        w, h = 6.5 * len(text) + 4, 12.0
        x0 = px * COUNT_LABEL_PT_PER_UNIT + dx - (w if ha == "right" else 0)
        y0 = py * COUNT_LABEL_PT_PER_UNIT + dy - (h if va == "top" else 0)
        box = (x0, y0, x0 + w, y0 + h)
        if any(box[0] < q[2] and q[0] < box[2] and box[1] < q[3] and q[1] < box[3] for q in placed):
            continue
        placed.append(box)
        ax.annotate(
            text, (px, py), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va, color="0.3"
        )


def _fit_calibration(picture: dict):
    """Binary outcome: reliability diagram per fit over a count-per-bin panel."""
    bins = picture["bins"]
    styles = _styles(bins)
    fig, (ax, axc) = plt.subplots(
        2, 1, figsize=(6.0, 7.0), height_ratios=[3, 1.1], layout="constrained", sharex=True
    )
    _calibration_axes(ax, bins, styles)
    ax.set_ylabel("observed frequency of y = 1")
    ax.set_title(picture.get("title", ""), fontsize=10)
    edges = next(iter(bins.values()))["edges"]
    width = np.diff(edges)[0] / (len(bins) + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    for k, (label, b) in enumerate(bins.items()):
        idx = np.clip(np.digitize(b["predicted"], edges[1:-1]), 0, len(centres) - 1)
        colour, _ = styles[label]
        axc.bar(
            centres[idx] + (k - (len(bins) - 1) / 2) * width,
            b["count"],
            width=width,
            color=colour,
            alpha=0.8,
        )
    axc.set_ylabel("rows per bin")
    axc.set_xlabel("predicted P(y = 1 | x)")
    ax.set_aspect("auto")
    _legend_below(fig, *ax.get_legend_handles_labels())
    return fig


def _fit_class_calibration(picture: dict):
    """Categorical outcome: one reliability diagram per class, every fit in each."""
    per_class = picture["bins"]
    first = next(iter(picture["expected"]))
    fig, axes = panel_grid(len(per_class), 4.1, 4.0)
    styles = _styles(next(iter(per_class.values())))
    for ax, (cls, bins) in zip(axes, per_class.items(), strict=True):
        _calibration_axes(ax, bins, styles, count_labels=True)
        ax.set_title(
            f"{cls}: observed {picture['counts'][cls]}, expected "
            f"{picture['expected'][first][cls]:.1f}",
            fontsize=10,
        )
        ax.set_xlabel(f"predicted P({cls} | x)")
        ax.set_ylabel(f"observed frequency of {cls}")
    fig.suptitle(picture.get("title", ""), fontsize=10)
    _legend_below(fig, *axes[0].get_legend_handles_labels())
    return fig


def class_ticks(ax, x, names, width_in: float) -> None:
    """One tick label per class; names that do not fit side by side at 10 pt in 80% of the
    figure's width lean at 30° (their ends under their ticks)."""
    names = [str(c) for c in names]
    ax.set_xticks(x, names)
    if sum(len(c) + 2 for c in names) * CHAR_PT > 0.8 * width_in * 72:
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set(ha="right", rotation_mode="anchor")


def _fit_frequencies(picture: dict):
    """Intercept only: observed class frequencies (bars) and each fit's q (markers)."""
    classes, observed, counts = picture["classes"], picture["observed"], picture["counts"]
    K = len(classes)
    x = np.arange(K)
    width = min(12.4, max(5.5, 1.2 * K + 2))  # within the page's 12.5 in column
    fig, ax = plt.subplots(figsize=(width, 4.4), layout="constrained")
    ax.bar(x, observed, width=0.7, color="0.82", label="observed frequency p̂ (count in the bar)")
    for xk, count in zip(x, counts, strict=True):
        ax.text(xk, 0.01, f"{count}", ha="center", va="bottom", color="0.3")
    curves = picture["curves"]
    styles = _styles(curves)
    m = len(curves)
    for k, (label, q) in enumerate(curves.items()):
        colour, _ = styles[label]
        xs = x + (k - (m - 1) / 2) * 0.16
        iv = picture.get("interval") if label.startswith("posterior mean") else None
        yerr = None if iv is None else [q - iv["lo"], iv["hi"] - q]
        ax.errorbar(
            xs,
            q,
            yerr=yerr,
            fmt=MARKERS[k % len(MARKERS)],
            color=colour,
            ms=6,
            capsize=3,
            label=label + (f", with its {iv['label']}" if iv else ""),
        )
    class_ticks(ax, x, classes, width)
    ax.set_xlabel("class")
    ax.set_ylabel("probability")
    ax.set_ylim(
        0, max(float(np.max(observed)), max(float(np.max(q)) for q in curves.values())) * 1.25
    )
    ax.set_title(picture.get("title", ""), fontsize=10)
    _legend_below(fig)
    return fig


def loss_landscape(data: dict):
    """Two panels over the same (weight, intercept) slice: contours of the NLL and of the mean
    loss (``analyses.landscape.landscape``), the loss's levels the affine image of the NLL's
    (loss = (NLL - c) / a), so equal relations draw the same curves; every estimate marked."""
    ws, bs = data["slope"], data["offset"]
    ok = data.get("comparable", np.ones(np.shape(data["nll"]), dtype=bool))
    # blank where the two are not comparable (probabilities within eps of 0 or 1)
    nll = np.ma.masked_where(~ok, data["nll"])
    loss = np.ma.masked_where(~ok, data["loss"])
    a, c = data["a"], data["c"]
    low = float(nll.min())
    span = float(nll.max()) - low
    # NLL - its minimum from 1/2 (the 1-sd ellipse of a Gaussian likelihood) geometrically to
    # the largest rise in the window: the bowl and its walls both get lines
    levels = low + np.geomspace(0.5, max(span, 1.0), 10)
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 5.0), layout="constrained")
    panels = (
        (nll, levels, "NLL = −log p(y | θ)", "nll"),
        (loss, (levels - c) / a, data["loss_name"], "loss"),
    )
    for ax, (z, lv, name, key) in zip(axes, panels, strict=True):
        filled = ax.contourf(
            ws, bs, z, levels=np.concatenate([[z.min()], lv]), cmap="Blues", alpha=0.7
        )
        ax.contour(ws, bs, z, levels=lv, colors="k", linewidths=0.6)
        # the colour bars carry the level values: the same positions on both bars are a level
        # of the NLL and its image (NLL - c) / a in the loss
        fig.colorbar(filled, ax=ax, label=name, shrink=0.9, format="%.5g")
        ax.plot(*data["minimum"][key], "+", color="k", ms=14, mew=2)
        points = data["points"]
        for k, p in enumerate(points):
            ax.scatter(  # each drawn smaller than the one before: coinciding estimates nest
                p["slope"],
                p["offset"],
                s=45 + 35 * (len(points) - 1 - k),
                marker=MARKERS[k % len(MARKERS)],
                color=f"C{(k + 1) % 10}",
                edgecolor="white",
                linewidths=0.8,
                zorder=5,
                label=p["label"],
            )
        ax.set_xlabel(f"{data['w_name']}   (weight of feature {data['feature']})")
        ax.set_ylabel(data["b_name"])
        ax.set_title(name, fontsize=10)
    fig.suptitle(data["title"], fontsize=11)
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Line2D([], [], marker="+", color="k", ms=10, mew=2, linestyle=""))
    labels.append("grid minimum")
    labels, ncol = legend_fit(labels, fig.get_figwidth(), 1 if len(labels) > 4 else 2)
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=ncol,
        frameon=False,
    )
    return fig
