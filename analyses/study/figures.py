"""Figures of a simulation study (``analyses.study.summary``'s JSON-ready dict): coverage
against the nominal level, RMSE against n and against the MAP's τ, and the SBC ECDF
difference with its simultaneous band.  Each function returns a matplotlib Figure (headless
Agg) and saves nothing; ``analyses.study.page`` embeds them."""

from __future__ import annotations

import textwrap

import matplotlib  # noqa: TID253

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402, TID253
import numpy as np  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402, TID253
from matplotlib.lines import Line2D  # noqa: E402, TID253
from matplotlib.patches import Patch  # noqa: E402, TID253
from matplotlib.ticker import (  # noqa: E402, TID253
    FixedLocator,
    LogFormatterSciNotation,
    NullLocator,
)

from nll_losses.analyses.figures import MAX_PANELS, wrap_name  # noqa: E402, TID253
from nll_losses.analyses.fit_figures import (  # noqa: E402, TID253
    CHAR_PT,
    legend_fit,
    panel_grid,
)
from nll_losses.analyses.study.summary import map_label, map_units  # noqa: E402

PAGE_WIDTH_IN = 12.4  # the page's column is 12.5 in (analyses.figures.display_width)
MARKERS = ["o", "s", "D", "^", "v", "P", "X", "h", "<", ">"]
SBC_BAND = 0.95  # the simultaneous band's probability (Säilynoja et al. 2022 use 95%)


def _cases(summary: dict) -> list[tuple[str, dict]]:
    return [(name, case or {}) for name, case in (summary.get("cases") or {}).items()]


def _floats(values) -> np.ndarray:
    """None (never computed) as NaN: matplotlib leaves a gap."""
    return np.array([np.nan if v is None else float(v) for v in values or []], dtype=float)


def _title(name: str, family: str | None, width_in: float) -> str:
    """'case (family)' over as many lines as the panel's width needs at 10 pt."""
    text = f"{name} ({family})" if family else str(name)
    chars = max(12, int(width_in * 72 * 0.9 // CHAR_PT))
    return textwrap.fill(text, chars) if len(text) > chars else text


def _legend_below(fig, handles: list) -> None:
    labels, ncol = legend_fit([h.get_label() for h in handles], fig.get_figwidth(), len(handles))
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False)


def _ticks(ax, values, fmt=lambda v: f"{v:g}") -> None:
    """x ticks at exactly ``values`` (a log axis's grid of n or τ/τ₀), every k-th labelled,
    as many as fit side by side at 10 pt in 80% of the panel."""
    values = [float(v) for v in values]
    labels = [fmt(v) for v in values]
    fig = ax.get_figure()
    room = 0.8 * ax.get_position().width * fig.get_figwidth() * 72
    need = sum(len(lb) + 2 for lb in labels) * CHAR_PT
    step = max(1, -(-int(need) // max(1, int(room))))
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(values, [lb if i % step == 0 else "" for i, lb in enumerate(labels)])


class _PlainLog(LogFormatterSciNotation):
    """A log axis's labels as plain numbers ("0.3", not "3×10⁻¹"), on the ticks matplotlib's
    own log formatter labels."""

    def __call__(self, x, pos=None):
        return f"{x:.3g}" if super().__call__(x, pos) else ""


def _plain_log_y(ax) -> None:
    ax.yaxis.set_major_formatter(_PlainLog())
    ax.yaxis.set_minor_formatter(_PlainLog(labelOnlyBase=False))


# ---------------------------------------------------------------- coverage


def _estimator_styles(cases) -> dict[str, dict]:
    """One colour and marker per estimator label, the same in every panel; dashed for a flat
    prior (classical intervals), solid for the Gaussian prior."""
    labels = list(dict.fromkeys(lb for _, c in cases for lb in (c.get("estimators") or {})))
    priors = {}
    for _, c in cases:
        for lb, est in (c.get("estimators") or {}).items():
            priors.setdefault(lb, (est or {}).get("prior"))
    return {
        lb: {
            "color": f"C{k % 10}",
            "marker": MARKERS[k % len(MARKERS)],
            "linestyle": "--" if priors[lb] == "flat" else "-",
            "prior": priors[lb],
        }
        for k, lb in enumerate(labels)
    }


def _prior_words(prior: str | None) -> str:
    return {"flat": "flat prior", "gaussian": "Gaussian prior"}.get(prior or "", "")


def coverage_plot(summary: dict):
    """One panel per case: the empirical coverage of each estimator's central intervals,
    pooled over the case's parameters, against their nominal level; the diagonal, and around
    it the binomial 95% band of the pooled trials (that of the estimator with the most
    trials: the narrowest).  Flat-prior estimators dashed, Gaussian-prior ones solid."""
    cases = _cases(summary)
    if not cases:
        raise ValueError("the summary has no cases")
    styles = _estimator_styles(cases)
    width = 4.1 if len(cases) > 2 else 5.0
    fig, axes = panel_grid(len(cases), width, 3.7, 3, legend_in=1.0)
    band_trials = set()
    for ax, (name, case) in zip(axes, cases, strict=True):
        levels = _floats(case.get("levels"))
        ests = {lb: e for lb, e in (case.get("estimators") or {}).items() if e}
        lo_lim = 0.4
        widest = max(
            ests.values(),
            key=lambda e: (e.get("pooled") or {}).get("trials") or 0,
            default=None,
        )
        pooled = (widest or {}).get("pooled") or {}
        band = pooled.get("band") or []
        if levels.size and len(band) == levels.size and (pooled.get("trials") or 0) > 0:
            lo = _floats(b[0] if b else None for b in band)
            hi = _floats(b[1] if b else None for b in band)
            ax.fill_between(levels, lo, hi, color="0.85", linewidth=0, zorder=0)
            band_trials.add(int(pooled["trials"]))
            if np.isfinite(lo).any():
                lo_lim = min(lo_lim, float(np.nanmin(lo)) - 0.03)
        ax.plot([0, 1], [0, 1], color="0.35", linewidth=0.9, zorder=1)
        for lb, est in ests.items():
            rate = _floats((est.get("pooled") or {}).get("rate"))
            if rate.size != levels.size or not np.isfinite(rate).any():
                continue
            st = styles[lb]
            ax.plot(
                levels,
                rate,
                color=st["color"],
                marker=st["marker"],
                linestyle=st["linestyle"],
                markersize=5,
                linewidth=1.4,
                zorder=2,
            )
            lo_lim = min(lo_lim, float(np.nanmin(rate)) - 0.03)
        if levels.size:
            lo_lim = min(lo_lim, float(np.nanmin(levels)) - 0.05)
        ax.set_xlim(lo_lim, 1.0)
        ax.set_ylim(lo_lim, 1.02)
        ax.set_aspect("equal", adjustable="box")
        ax.set_title(_title(name, case.get("family"), width), fontsize=10)
        ax.set_xlabel("nominal level")
        ax.set_ylabel("empirical coverage")
    handles = [
        Line2D(
            [],
            [],
            color=st["color"],
            marker=st["marker"],
            linestyle=st["linestyle"],
            label=f"{lb} ({_prior_words(st['prior'])})" if st["prior"] else lb,
        )
        for lb, st in styles.items()
    ]
    handles.append(Line2D([], [], color="0.35", linewidth=0.9, label="coverage = nominal"))
    if band_trials:
        trials = (
            f"{min(band_trials)} trials"
            if len(band_trials) == 1
            else f"{min(band_trials)}–{max(band_trials)} trials"
        )
        handles.append(Patch(color="0.85", label=f"binomial 95% band ({trials}, pooled)"))
    _legend_below(fig, handles)
    return fig


# ---------------------------------------------------------------- risk


def _rmse(estimators: dict, label: str, n_grid) -> tuple[np.ndarray, np.ndarray]:
    per_n = estimators.get(label) or {}
    rmse = _floats((per_n.get(str(n)) or {}).get("rmse") for n in n_grid)
    mcse = _floats((per_n.get(str(n)) or {}).get("mcse") for n in n_grid)
    return rmse, mcse


def _n_colours(n_grid) -> list:
    return [plt.get_cmap("viridis")(v) for v in np.linspace(0.0, 0.85, len(n_grid))]


def risk_plot(summary: dict):
    """Per case a row of two panels.  Left: RMSE against n (log-log) of the MLE, the MAP at
    the generating prior's τ₀ and the posterior mean, with ± 2 MCSE error bars.  Right: RMSE
    of the MAP against τ/τ₀ (log x), one line per n, the MLE's RMSE at that n dotted in the
    same colour, and a vertical line at τ = τ₀.  Missing values (the estimator never
    succeeded) are left out."""
    cases = _cases(summary)
    if not cases:
        raise ValueError("the summary has no cases")
    fig, axes = plt.subplots(
        len(cases),
        2,
        figsize=(PAGE_WIDTH_IN, 3.9 * len(cases) + 1.2),
        layout="constrained",
        squeeze=False,
    )
    left_styles = {
        "MLE": ("C3", "o"),
        map_label(1.0): ("C0", "s"),
        "posterior mean": ("C2", "D"),
    }
    drawn_left: dict[str, tuple] = {}
    all_n: list = []
    any_mle_line = False
    for (left, right), (name, case) in zip(axes, cases, strict=True):
        ests = case.get("estimators") or {}
        n_grid = [
            int(n) for n in case.get("n_grid") or summary.get("settings", {}).get("n_grid", [])
        ]
        units = map_units(case)
        one = map_label(1.0)
        n_arr = np.asarray(n_grid, dtype=float)
        dodge = {0: 0.97, 1: 1.0, 2: 1.03}
        for k, (key, label) in enumerate(
            (("MLE", "MLE"), (one, one), ("posterior mean", "posterior mean"))
        ):
            if label not in ests:
                continue
            rmse, mcse = _rmse(ests, label, n_grid)
            keep = np.isfinite(rmse) & (rmse > 0)
            if not keep.any():
                continue
            err = np.where(np.isfinite(mcse), 2 * mcse, 0.0)
            lower = np.minimum(err, 0.9 * rmse)  # a log axis: the bar stops above 0
            colour, marker = left_styles[key]
            left.errorbar(
                n_arr[keep] * dodge[k],
                rmse[keep],
                yerr=[lower[keep], err[keep]],
                color=colour,
                marker=marker,
                markersize=4.5,
                capsize=3,
                linewidth=1.3,
            )
            drawn_left[key] = (colour, marker)
        left.set_xscale("log")
        left.set_yscale("log")
        if n_grid:
            left.set_xlim(min(n_grid) / 1.25, max(n_grid) * 1.25)
            _ticks(left, n_grid, lambda v: f"{v:.0f}")
        left.set_xlabel("n (rows of each simulated data set)")
        left.set_ylabel("RMSE")
        _plain_log_y(left)
        left.set_title(_title(name, case.get("family"), 6.0) + ": RMSE against n", fontsize=10)

        colours = _n_colours(n_grid)
        unit_list = list(units)
        for n, colour in zip(n_grid, colours, strict=True):
            rmse = _floats((ests[lb].get(str(n)) or {}).get("rmse") for lb in units.values())
            keep = np.isfinite(rmse) & (rmse > 0)
            if keep.any():
                right.plot(
                    np.asarray(unit_list)[keep],
                    rmse[keep],
                    color=colour,
                    marker="o",
                    markersize=4,
                    linewidth=1.4,
                )
            mle = (ests.get("MLE") or {}).get(str(n)) or {}
            if mle.get("rmse") is not None and mle["rmse"] > 0:
                right.axhline(mle["rmse"], color=colour, linestyle=":", linewidth=1.2)
                any_mle_line = True
        right.axvline(1.0, color="0.3", linestyle="-", linewidth=0.9)
        right.set_xscale("log")
        right.set_yscale("log")
        if unit_list:
            right.set_xlim(min(unit_list) / 1.3, max(unit_list) * 1.3)
            _ticks(right, unit_list)
        right.set_xlabel("τ / τ₀ (the MAP's prior sd / the generating prior's)")
        right.set_ylabel("RMSE")
        _plain_log_y(right)
        right.set_title("MAP (weight decay) RMSE against its τ", fontsize=10)
        all_n += [n for n in n_grid if n not in all_n]
    handles = [
        Line2D([], [], color=c, marker=m, linestyle="-", label=f"{key} (± 2 MCSE)")
        for key, (c, m) in drawn_left.items()
    ]
    handles += [
        Line2D([], [], color=c, marker="o", linestyle="-", label=f"MAP, n = {n}")
        for n, c in zip(all_n, _n_colours(all_n), strict=True)
    ]
    if any_mle_line:
        handles.append(Line2D([], [], color="0.3", linestyle=":", label="MLE at that n"))
    handles.append(Line2D([], [], color="0.3", label="the generating prior's τ (τ = τ₀)"))
    _legend_below(fig, handles)
    return fig


# ---------------------------------------------------------------- SBC


def sbc_ranks(case: dict) -> tuple[dict[str, np.ndarray], int]:
    """The case's ranks, one array per parameter over the replicates every parameter has a
    rank in (the lists are in replicate order), and L, the number of posterior draws each
    rank was counted among (ranks are 0..L)."""
    ranks = {str(p): list(r or []) for p, r in (case.get("ranks") or {}).items()}
    if not ranks:
        raise ValueError("the case has no SBC ranks")
    size = min(len(r) for r in ranks.values())
    whole = [i for i in range(size) if all(r[i] is not None for r in ranks.values())]
    if not whole:
        raise ValueError("no replicate has a rank of every parameter")
    out = {p: np.asarray([r[i] for i in whole], dtype=np.int64) for p, r in ranks.items()}
    L = case.get("draws ranked")
    if L is None:  # the draws were not recorded: the largest rank seen (a lower bound)
        L = max(int(a.max()) for a in out.values())
    return out, int(L)


def sbc_plot(summary: dict, case: str):
    """The SBC check of one case: per parameter, the ECDF of the fractional ranks of the
    truth among the posterior draws minus the uniform CDF, with the simultaneous 95% band
    (``arviz_plots.plot_ecdf_pit``, method "envelope": Säilynoja et al. 2022).  One panel
    per parameter (the first MAX_PANELS), titled with its name as written."""
    import arviz_plots as azp
    import xarray as xr
    from arviz_plots.visuals import fill_between_y
    from arviz_stats.ecdf_utils import ecdf_pit

    entry = (summary.get("cases") or {})[case]
    ranks, L = sbc_ranks(entry)
    names = list(ranks)[:MAX_PANELS]
    # The DataTree simuk builds (simuk/sbc.py ``_convert_to_datatree``): group "prior_sbc",
    # one variable per parameter, dims (chain=1, draw=replicates).  plot_ecdf_pit wants PIT
    # values in [0, 1] ("It assumes the values in the DataTree have already been transformed
    # to PIT values"); given ranks (any value > 1) it converts them itself as
    # (rank + 0.5) / (max rank seen + 1) (arviz_plots/plots/ecdf_plot.py), the midpoint of
    # each of the L + 1 rank bins only when some rank reached L.  We convert with the known
    # L, the same convention: PIT = (rank + 0.5) / (L + 1).
    # Neutral variable names: a DataTree rejects some (a "/"); the names go on the titles.
    keys = [f"p{i}" for i in range(len(names))]
    data = xr.Dataset(
        {
            k: (("chain", "draw"), ((ranks[nm] + 0.5) / (L + 1))[None, :])
            for k, nm in zip(keys, names, strict=True)
        }
    )
    tree = xr.DataTree.from_dict({"prior_sbc": data})
    cols = min(len(keys), 4 if len(keys) > 6 else 3)
    width = 3.1 if cols == 4 else 4.0
    rows = -(-len(keys) // cols)
    # Method "pot_c", plot_ecdf_pit's default and the recommended test (its docstring): the
    # p value of the uniformity test in each panel and the points that drive a departure
    # marked.  Its legacy method "envelope" would draw the simultaneous band instead, but in
    # arviz_plots 1.3.2 it fails (``np.linspace(0, 1, sample_size_ds.to_array().max())``: a
    # DataArray is no integer), so the band is added below as that branch draws it.
    pc = azp.plot_ecdf_pit(
        tree,
        group="prior_sbc",
        envelope_prob=SBC_BAND,
        backend="matplotlib",
        col_wrap=cols,
        figure_kwargs={"figsize": (width * cols, 2.8 * rows + 1.1), "layout": "constrained"},
    )
    # The simultaneous band of plot_ecdf_pit's "envelope" branch, with its own calls:
    # arviz_stats' ``ecdf_pit`` (Säilynoja et al. 2022: pointwise binomial bands adjusted by
    # 1000 simulations of uniform ECDFs to hold ``SBC_BAND`` jointly; its fixed default seed)
    # at as many points as replicates, as a difference from the uniform CDF, filled by
    # arviz_plots' ``fill_between_y`` as a step function.
    size = data.sizes["chain"] * data.sizes["draw"]
    x_ci, _, lower, upper = ecdf_pit(np.linspace(0, 1, size), SBC_BAND, n_simulations=1000)
    pc.map(
        fill_between_y,
        "credible_interval",
        data=data,
        x=x_ci,
        y_bottom=lower - x_ci,
        y_top=upper - x_ci,
        step=True,
        color="B1",
        alpha=0.15,
        ignore_aes=pc.aes_set,
    )
    reach = float(np.max(np.abs(np.concatenate([lower - x_ci, upper - x_ci]))))
    fig = pc.viz["figure"].item() if "figure" in pc.viz.data_vars else plt.gcf()
    chars = max(12, int(width * 72 * 0.85 // CHAR_PT))
    for key, name in zip(keys, names, strict=True):
        ax = pc.viz["plot"][key].item()
        ax.set_title(wrap_name(name, chars), fontsize=10)
        ax.set_xlabel("fractional rank of the truth")
        ax.set_ylabel("ECDF − uniform CDF")
        ax.tick_params(labelsize=10, labelbottom=True)
        lo, hi = ax.get_ylim()
        ax.set_ylim(min(lo, -1.15 * reach), max(hi, 1.15 * reach))
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        if ax.get_subplotspec() is not None and not ax.get_subplotspec().is_first_col():
            ax.set_ylabel("")
    band_colour = "0.85"
    fills = [c for c in pc.viz["plot"][keys[0]].item().collections if isinstance(c, PolyCollection)]
    if fills:  # the band as drawn (the theme's colour "B1", our alpha)
        band_colour = fills[-1].get_facecolor()[0]
    n = len(next(iter(ranks.values())))
    note = f"{n} replicates, ranks among {L} posterior draws"
    if len(ranks) > len(names):
        note += f"; the first {len(names)} of {len(ranks)} parameters"
    handles = [
        Line2D([], [], color="C0", label="ECDF of the fractional ranks − uniform CDF"),
        Patch(facecolor=band_colour, label=f"simultaneous {SBC_BAND:.0%} band"),
    ]
    _legend_below(fig, handles)
    fig.suptitle(note, fontsize=10)
    return fig
