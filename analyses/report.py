"""One renderer, one Jinja2 template for every case and family (autoescaped: user-provided
names are escaped).  Pages are self-contained: figures are embedded PNG data URIs."""

from __future__ import annotations

import math

import jinja2  # noqa: TID253

from nll_losses.analyses import (
    figure_check,
    figures,  # noqa: TID253
    headline,
    headline_figure,  # noqa: TID253
    page_warnings,
    thinning,
)
from nll_losses.analyses.pairs import LEDGER_NOTE, agreement_pairs  # noqa: F401 -- used by tests
from nll_losses.analyses.results import CaseResult
from nll_losses.analyses.tolerances import TIERS
from nll_losses.models import FAMILIES, get_family

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("nll_losses.analyses", "templates"),
    autoescape=jinja2.select_autoescape(["html"], default=True),
    undefined=jinja2.StrictUndefined,
)


def _num(value, digits: int = 7):
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return "—"
    return f"{value:.{digits}g}"


ENV.filters["num"] = _num


def _flatten(d, prefix=""):
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from _flatten(v, key + " · ")
        else:
            yield key, v


MAX_FIGURE_PROBLEMS = 5  # page warnings per figure; the rest counted in one more line


def page_figure(title: str, caption: str, make, warnings: list[str], where: str = "") -> dict:
    """One figure as a data URI and the width the page shows it at; a broken (or not yet
    existing) figure function becomes a visible "figure unavailable" and a warning, never a
    lost report.  What ``figure_check`` finds hard to read (text outside the figure, too small
    or overlapping) becomes page warnings too."""
    fig = {"title": title, "caption": caption, "uri": None, "error": None, "width": None}
    try:
        drawn = make()
    except Exception as exc:  # one broken figure must not lose the report
        fig["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        warnings.append(f"figure '{title}'{where} unavailable: {fig['error']}")
        return fig
    try:
        fig["width"] = figures.display_width(drawn)
        fig["uri"] = figures.figure_to_data_uri(drawn)  # user names drawn literally, saved
    except Exception as exc:  # one broken figure must not lose the report
        fig["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        warnings.append(f"figure '{title}'{where} unavailable: {fig['error']}")
        figures.plt.close(drawn)
        return fig
    try:  # checked as it was saved: the layout savefig just drew, not a second drawing
        found = figure_check.problems(drawn, drawn_at=figures.DPI)
    except Exception as exc:  # a failing check must not lose the figure: say so
        found = [f"the readability check failed ({type(exc).__name__}: {exc})".splitlines()[0]]
    shown = found[:MAX_FIGURE_PROBLEMS]
    if len(found) > len(shown):
        shown.append(f"and {len(found) - len(shown)} more problems of its text")
    warnings.extend(f"figure '{title}'{where}: {problem}" for problem in shown)
    return fig


def _figure_function(name: str):
    """``figures.<name>``, looked up when drawn: a function another change has not added yet
    fails like a broken figure."""
    return getattr(figures, name)


# result.sweeps key -> figure function in analyses.figures and its label, in page order
SWEEPS = (
    ("prior_strength", "prior_sweep", "prior-strength sweep"),
    ("sample_size", "sample_size_sweep", "sample-size sweep"),
)


def _posterior_section(prior, idata, layout, refs, warnings, ppc=("density", ""), n=None):
    """One prior's posterior: summary table, densities, rank and pair plots and the posterior
    predictive check ``ppc`` = (kind, title note): the family's ``Observation.ppc`` and
    ``ppc_note``."""
    import arviz as az

    section = {"prior": prior, "summary": "", "figures": [], "ci": "89% equal-tailed intervals"}
    try:
        var_names = [v for v in layout.var_names if v in idata.posterior.data_vars]
        summ = az.summary(idata, var_names=var_names, round_to=6, ci_kind="eti", ci_prob=0.89)
        section["summary"] = summ.to_html(classes="summary")
    except Exception as exc:  # a summary failure must not lose the report
        warnings.append(f"ArviZ summary ({prior}) unavailable: {exc}")
    ppc_note = ""
    if n is not None and "observed_data" in idata.children:
        ppc_note = thinning.note(n, idata.observed_data.dataset.sizes.get("obs", n))
    plots = [
        (
            "Posterior densities, with lines at the reference, find_MAP and posterior mean",
            lambda: figures.posterior_densities(idata, layout, refs),
        ),
        (
            "Rank plot (chains should look uniform and alike)",
            lambda: figures.rank_plot(idata, layout),
        ),
        ("Pair plot", lambda: figures.pair_plot(idata, layout)),
        (
            "Posterior predictive check" + ppc[1],
            lambda: figures.ppc_plot(idata, ppc[0]),
        ),
    ]
    for title, make in plots:
        caption = ppc_note if title.startswith("Posterior predictive") else ""
        section["figures"].append(page_figure(title, caption, make, warnings, f" ({prior})"))
    return section


def render_case(result: CaseResult, references: dict[str, dict[str, dict[str, float]]]) -> str:
    """The case page.  ``references[prior][label] = {parameter: value}`` for the density lines."""
    return render_case_page(result, references)[0]


def render_case_page(
    result: CaseResult, references: dict[str, dict[str, dict[str, float]]]
) -> tuple[str, list[str], list[str]]:
    """The case page, the data URIs of the figures it shows, in page order, and the warnings
    drawing it found (a figure unavailable or hard to read, the claim's summary unavailable),
    which the page shows with the result's own.

    Reads ``result.picture`` (drawn when it has "curves"), ``result.landscape`` (None or a dict
    with "title", "caption" and what ``figures.loss_landscape`` draws), ``result.sweeps``
    ("prior_strength" / "sample_size": dicts with "title", "caption" and what
    ``figures.prior_sweep`` / ``figures.sample_size_sweep`` draw), ``result.translation`` (rows
    with library, call, parameter, formula, value, verified_by, compare, max_abs_diff, tolerance,
    tier, ok, reason) and ``result.idata`` (one posterior section per prior).
    """
    extra_warnings: list[str] = []
    picture = None
    if result.picture and result.picture.get("curves"):
        pic = result.picture
        picture = page_figure(
            pic["title"], pic["caption"], lambda: figures.fit_picture(pic), extra_warnings
        )
    landscape = None
    if result.landscape:
        data = result.landscape
        landscape = page_figure(
            data.get("title", "Loss landscape"),
            data.get("caption", ""),
            lambda: _figure_function("loss_landscape")(data),
            extra_warnings,
        )
    sweeps = []
    for key, name, label in SWEEPS:
        data = (result.sweeps or {}).get(key)
        if data:
            fig = page_figure(
                data.get("title", label),
                data.get("caption", ""),
                lambda name=name, data=data: _figure_function(name)(data),
                extra_warnings,
            )
            sweeps.append(fig | {"id": f"sweep-{key}", "label": label})
    posteriors = []
    observation = get_family(result.family).observation
    for prior, idata in (result.idata or {}).items():
        posteriors.append(
            _posterior_section(
                prior,
                idata,
                result.layout,
                references.get(prior, {}),
                extra_warnings,
                (observation.ppc, observation.ppc_note),
                result.n_obs,
            )
        )
    try:
        head = headline.claim(result)
    except Exception as exc:  # the claim's sentences must not lose the report
        head = headline.plain(result)
        extra_warnings.append(f"the claim's summary unavailable: {type(exc).__name__}: {exc}")
    top = None
    if head["picture"]:
        top = page_figure(
            "The claim in one picture",
            head["picture"]["caption"],
            lambda: headline_figure.headline(head["picture"]),
            extra_warnings,
        )
    ledger_columns = list(dict.fromkeys(k for row in result.ledger for k in row))
    n_ok = sum(1 for row in result.agreement if row.ok)
    pairs = agreement_pairs(result.agreement)
    for p in pairs:
        p["left_words"] = headline.estimator_words(p["left"], result)
        p["right_words"] = headline.estimator_words(p["right"], result)
    html = ENV.get_template("case.html").render(
        r=result,
        head=head,
        headline=top,
        index_link=True,
        warning_groups=page_warnings.groups(
            list(result.warnings) + extra_warnings, result.estimates, head["quick"]
        ),
        unavailable=_unavailable(result.estimates.values()),
        estimates=list(result.estimates.values()),
        n_ok=n_ok,
        n_bad=len(result.agreement) - n_ok,
        pairs=pairs,
        n_pairs_ok=sum(1 for p in pairs if p["ok"]),
        tiers=TIERS,
        posteriors=posteriors,
        picture=picture,
        landscape=landscape,
        sweeps=sweeps,
        translation=list(result.translation or []),
        ledger_columns=ledger_columns,
        provenance=list(_flatten(result.provenance)),
    )
    shown = [top, picture, landscape, *sweeps, *(f for s in posteriors for f in s["figures"])]
    return html, [f["uri"] for f in shown if f is not None and f["uri"]], extra_warnings


def _unavailable(estimates) -> list[dict]:
    """Estimates that are unavailable or failed, those with one reason on one line."""
    out: dict[tuple[str, str], list[str]] = {}
    for e in estimates:
        if e.status != "ok":
            out.setdefault((e.status, e.reason), []).append(e.key)
    return [{"status": st, "reason": why, "names": keys} for (st, why), keys in out.items()]


def render_index(entries: list[dict], studies: list[dict] | None = None) -> str:
    """The index of every case, told as a story: the families in the registry's order
    (normal, bernoulli, categorical, then any later one), each with its claim and its cases.
    Each entry: name, href, family, description, n_obs, n_pairs_ok, n_pairs (from
    ``agreement_pairs``), n_ok, n_rows, n_warnings, thumbnail (a PNG data URI or None) and
    optionally order (its place in the built-in case list; ``fit`` folders come after)."""
    return ENV.get_template("index.html").render(
        groups=index_groups(entries), studies=studies or [], tiers=TIERS
    )


def index_groups(entries: list[dict]) -> list[dict]:
    """The entries by family, in the registry's order (a family this version does not know
    last): ``family``, ``claim`` (the family's summary), ``entries``, ``ok`` (every pair of
    every case holds)."""
    rank = {name: i for i, name in enumerate(FAMILIES)}
    groups: dict[str, list[dict]] = {}
    for e in sorted(
        entries,
        key=lambda e: (rank.get(e["family"], len(rank)), e.get("order", math.inf), e["name"]),
    ):
        groups.setdefault(e["family"], []).append(e)
    return [
        {
            "family": family,
            "claim": FAMILIES[family].summary if family in FAMILIES else "",
            "entries": items,
            "ok": all(e["n_pairs_ok"] == e["n_pairs"] for e in items),
        }
        for family, items in groups.items()
    ]
