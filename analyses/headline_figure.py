"""The headline picture of a case page, drawn from ``analyses.headline.picture``'s data: left,
the NLL against the loss at arbitrary parameters on the line NLL = a·loss + c; right, find_MAP
against the references it is claimed to equal (flat prior: the MLE; Gaussian prior: the
library's L2 fit), one point per parameter on the line y = x."""

from __future__ import annotations

import matplotlib  # noqa: TID253

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402, TID253
import numpy as np  # noqa: E402

MARKERS = ("o", "s", "^", "D")
# a legend row of 10 pt text is about 0.2 in, at most a tenth of the estimates panel's height
LEGEND_ROW = 0.1
MAX_ROOM = 0.5  # the most of the panel's height the legend's room takes
LOG_SPAN = 100  # the identity panel's axes are logarithmic above this ratio of largest to smallest


def headline(data: dict):
    panels = [k for k in ("identity", "estimates") if data.get(k)]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5.6 * len(panels), 3.6), layout="constrained", squeeze=False
    )
    for ax, key in zip(axes[0], panels, strict=True):
        (_identity if key == "identity" else _estimates)(ax, data[key])
    return fig


def _identity(ax, d: dict) -> None:
    x, y = np.asarray(d["x"], float), np.asarray(d["y"], float)
    ax.scatter(x, y, s=14, color="C0", alpha=0.6, label="arbitrary parameter values")
    a, c = d["a"], d["c"]
    lo, hi = np.nanmin(x), np.nanmax(x)
    # log axes when the values span decades (a far parameter value's NLL would otherwise
    # bunch every other point at the origin), if the line stays positive on them
    spread = lo > 0 and np.nanmin(y) > 0 and max(hi / lo, np.nanmax(y) / np.nanmin(y)) > LOG_SPAN
    xs = np.geomspace(lo, hi, 200) if spread else np.linspace(lo, hi, 50)
    if spread and np.all(a * xs + c > 0):
        ax.set(xscale="log", yscale="log")
    line = "NLL = a·loss + c" if (a, c) != (1.0, 0.0) else "y = x"
    ax.plot(xs, a * xs + c, color="k", lw=1.2, label=line)
    ax.set_xlabel(d["xlabel"])
    ax.set_ylabel(d["ylabel"])
    ax.set_title("The NLL against the loss")
    ax.legend(loc="upper left")


def _estimates(ax, groups: list[dict]) -> None:
    lo, hi = np.inf, -np.inf
    for k, g in enumerate(groups):
        x, y = np.asarray(g["x"], float), np.asarray(g["y"], float)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.any():
            lo, hi = min(lo, x[ok].min(), y[ok].min()), max(hi, x[ok].max(), y[ok].max())
        ax.scatter(
            x[ok],
            y[ok],
            s=70 - 25 * k,  # later groups smaller: coinciding points stay visible
            marker=MARKERS[k % len(MARKERS)],
            color=f"C{k + 1}",
            label=g["label"],
            zorder=3 + k,
        )
    if np.isfinite(lo):
        pad = 0.05 * (hi - lo or 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", lw=1.0, label="y = x")
        # room above the line for the legend in the upper left: with long reference names it
        # is most of the panel wide and covered the highest points (softmax_synthetic); the
        # limits matplotlib chose (it widens a range too narrow to draw) stretched upward
        room = min(LEGEND_ROW * (len(groups) + 1) + 0.05, MAX_ROOM)  # of the panel's height
        y0, y1 = ax.get_ylim()
        ax.set_ylim(y0, y0 + (y1 - y0) / (1 - room))
    ax.set_xlabel("the reference's estimate")
    ax.set_ylabel("find_MAP's estimate")
    ax.set_title("find_MAP against its references (a point per parameter)")
    ax.legend(loc="upper left")
