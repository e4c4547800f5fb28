"""One renderer, one Jinja2 template for every case and family (autoescaped: user-provided
names are escaped).  Pages are self-contained: figures are embedded PNG data URIs."""

from __future__ import annotations

import math

import jinja2

from analyses import figures
from analyses.results import CaseResult

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("analyses", "templates"),
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


_ENV.filters["num"] = _num


def _flatten(d, prefix=""):
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from _flatten(v, key + " · ")
        else:
            yield key, v


def _posterior_section(prior, idata, layout, refs, warnings, outcome="continuous"):
    import arviz as az

    section = {"prior": prior, "summary": "", "figures": [], "ci": "89% equal-tailed intervals"}
    try:
        var_names = [v for v in layout.var_names if v in idata.posterior.data_vars]
        summ = az.summary(idata, var_names=var_names, round_to=6, ci_kind="eti", ci_prob=0.89)
        section["summary"] = summ.to_html(classes="summary")
    except Exception as exc:  # a summary failure must not lose the report
        warnings.append(f"ArviZ summary ({prior}) unavailable: {exc}")
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
            "Posterior predictive check"
            + (
                " (calibration: observed rate vs predicted probability)"
                if outcome == "binary"
                else ""
            ),
            lambda: figures.ppc_plot(idata, outcome),
        ),
    ]
    for title, make in plots:
        try:
            section["figures"].append({"title": title, "uri": figures.figure_to_data_uri(make())})
        except Exception as exc:  # one broken figure must not lose the report
            msg = f"{type(exc).__name__}: {exc}".splitlines()[0]
            section["figures"].append({"title": title, "uri": None, "error": msg})
            warnings.append(f"figure '{title}' ({prior}) unavailable: {msg}")
    return section


def render_case(result: CaseResult, references: dict[str, dict[str, dict[str, float]]]) -> str:
    """The case page.  ``references[prior][label] = {parameter: value}`` for the density lines."""
    extra_warnings: list[str] = []
    posteriors = []
    for prior, idata in (result.idata or {}).items():
        posteriors.append(
            _posterior_section(
                prior,
                idata,
                result.layout,
                references.get(prior, {}),
                extra_warnings,
                (result.picture or {}).get("outcome", "continuous"),
            )
        )
    picture = None
    if result.picture and result.picture.get("curves"):
        pic = result.picture
        picture = {"title": pic["title"], "caption": pic["caption"], "uri": None}
        try:
            picture["uri"] = figures.figure_to_data_uri(figures.fit_picture(pic))
        except Exception as exc:  # one broken figure must not lose the report
            picture["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            extra_warnings.append(f"figure '{pic['title']}' unavailable: {picture['error']}")
    ledger_columns = list(dict.fromkeys(k for row in result.ledger for k in row))
    n_ok = sum(1 for row in result.agreement if row.ok)
    return _ENV.get_template("case.html").render(
        r=result,
        warnings=list(result.warnings) + extra_warnings,
        estimates=list(result.estimates.values()),
        n_ok=n_ok,
        n_bad=len(result.agreement) - n_ok,
        posteriors=posteriors,
        picture=picture,
        ledger_columns=ledger_columns,
        provenance=list(_flatten(result.provenance)),
    )


def render_index(entries: list[dict]) -> str:
    return _ENV.get_template("index.html").render(entries=entries)
