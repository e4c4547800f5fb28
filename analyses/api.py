"""The Python API: the analysis of a user's data (``fit``) or of a built-in case (``run``) from a
notebook or a script, with the command line's checks, numbers and report.

    from nll_losses.analyses import fit, run

    result = fit("visits.csv", target="visits", quick=True)
    result.summary()        # every estimate: pandas DataFrame, one row per parameter
    result.agreement()      # every agreement row with its tolerance and tier
    result.posterior        # {prior: the NUTS posterior as an ArviZ DataTree}
    result.to_html("visits_report")   # the report folder `fit --out` writes

``fit`` takes what ``python -m nll_losses.analyses fit`` takes, as keywords (``family_options`` for
a family's own flags, e.g. ``{"hidden": 4}``); its arguments are checked by the same parser, so a
bad one raises ``nll_losses.analyses.errors.InputError`` with the command line's one-line message.
The same seed gives the same numbers as the command line (seeds derive from the case's name: the
file's stem, "data" for a DataFrame; ``name`` only relabels the result).
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from nll_losses.analyses import app, preflight
from nll_losses.analyses.cases import get_case
from nll_losses.analyses.cli import build_parser, case_from_args, run_config
from nll_losses.analyses.config import child_seed
from nll_losses.analyses.errors import InputError


def fit(
    data,
    target: str | None = None,
    *,
    family: str = "auto",
    features: list[str] | None = None,
    formula: str | None = None,
    priors: list[str] | None = None,
    estimators: list[str] | None = None,
    prior_scale: float | None = None,
    intercept: bool = True,
    intercept_prior_scale: float | None = None,
    family_options: dict[str, Any] | None = None,
    dropna: bool = False,
    seed: int = 0,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    quick: bool = False,
    sweep: bool = False,
    quiet: bool = True,
    name: str | None = None,
) -> Result:
    """Fit ``data`` (a CSV path or a pandas DataFrame) as ``python -m nll_losses.analyses fit``
    does.

    A DataFrame is read as the CSV it writes (``DataFrame.to_csv(index=False)``: the same
    reading, checks and dummy coding as a file); ``name`` names it in the report (default
    "data").  ``quiet=False`` prints the notes the command line prints."""
    frame = not isinstance(data, str | Path)
    with tempfile.TemporaryDirectory(prefix="nll-fit-") as tmp:
        path = Path(tmp) / "data.csv" if frame else Path(data)
        if frame:
            data.to_csv(path, index=False)
        argv = ["fit", f"--out={Path(tmp) / 'unused'}"]
        argv += _switches(no_intercept=not intercept, dropna=dropna, quick=quick, sweep=sweep)
        argv += _values(
            target=target,
            family=family,
            features=",".join(features) if features is not None else None,
            formula=formula,
            priors=",".join(priors) if priors is not None else None,
            estimators=",".join(estimators) if estimators is not None else None,
            prior_scale=prior_scale,
            intercept_prior_scale=intercept_prior_scale,
            seed=seed,
            draws=draws,
            tune=tune,
            chains=chains,
            **(family_options or {}),  # every family flag takes a value (False: "False")
        )
        argv += ["--", str(path)]
        try:
            args = build_parser().parse_args(argv)
            preflight.check_numbers(args)
            if args.target is None and args.formula is None:
                raise InputError("fit: give the target column (target=...) or a formula")
            cfg = run_config(args)
            read, case = app.read_user_data(
                path, case_from_args(args), args.target, args.features, cfg, quiet, formula, dropna
            )
        except InputError as exc:
            if not frame:
                raise
            raise InputError(str(exc).replace(str(path), "the DataFrame")) from None
    if frame:  # not the temporary file's name
        read = replace(
            read,
            source="a pandas DataFrame",
            description=read.description.replace(f"from {path.name}", "from a pandas DataFrame"),
        )
    from nll_losses.analyses.pipeline import run_case  # PyMC: now

    # seeds derive from the case's name (the file's stem, "data" for a DataFrame) as on the
    # command line; ``name`` only relabels the result
    result = _fitted(run_case, read, case, cfg)
    if name is not None:
        result.case = name
        result.dataset["name"] = name
    return Result(result)


def run(
    case: str,
    *,
    seed: int = 0,
    quick: bool = False,
    sweeps: bool = False,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
) -> Result:
    """One built-in case (``python -m nll_losses.analyses list`` names them), as ``run CASE`` fits
    it: the same seed gives the same numbers."""
    argv = ["run", *_switches(quick=quick, sweeps=sweeps)]
    argv += _values(seed=seed, draws=draws, tune=tune, chains=chains) + ["--", case]
    args = build_parser().parse_args(argv)
    preflight.check_numbers(args)
    cfg = run_config(args)
    built_in = get_case(case)
    data = built_in.load(child_seed(cfg.seed, case, "data"))
    from nll_losses.analyses.pipeline import run_case  # PyMC: now

    sized = built_in.sized if cfg.sweeps else None
    return Result(_fitted(run_case, data, built_in.config, cfg, sized=sized))


def _fitted(run_case, *args, **kw):
    """``run_case`` with one BLAS / OpenMP thread, as ``python -m nll_losses.analyses`` runs it (the
    same numbers to the last digit), the caller's thread settings restored afterwards."""
    with threadpool_limits(limits=1):
        return run_case(*args, **kw)


def _switches(**given) -> list[str]:
    """The flags that take no value, for the keywords that are true."""
    return ["--" + key.replace("_", "-") for key, on in given.items() if on]


def _values(**values) -> list[str]:
    """``--flag=value`` for every keyword that is not None (a value starting with "-" stays a
    value)."""
    return [f"--{k.replace('_', '-')}={v}" for k, v in values.items() if v is not None]


@dataclass
class Result:
    """One analysis: ``summary()`` and ``agreement()`` as DataFrames, ``posterior`` (per prior,
    the NUTS posterior as an ArviZ DataTree), ``to_html(folder)``; ``case_result`` holds
    everything (``nll_losses.analyses.results.CaseResult``, what results.json is written from)."""

    case_result: Any

    @property
    def ok(self) -> bool:
        """What the command line's exit code 0 says: every agreement row within its tolerance,
        no estimator failed and no translation row failed."""
        r = self.case_result
        return (
            all(row.ok for row in r.agreement)
            and all(e.status != "failed" for e in r.estimates.values())
            and all(t.get("ok") is not False for t in r.translation)
        )

    @property
    def posterior(self) -> dict[str, Any]:
        """{prior: the NUTS posterior (ArviZ DataTree)} for every prior NUTS ran under."""
        return dict(self.case_result.idata or {})

    def summary(self):
        """One row per (prior, estimator, parameter): mean (the mode for optimisers), sd (the
        posterior sd, Laplace sd or standard error) and the estimate's status; an estimate that
        does not exist is one row with its reason."""
        import pandas as pd

        rows = []
        for e in self.case_result.estimates.values():
            base = {"prior": e.prior, "estimator": e.method, "status": e.status}
            if e.status != "ok":
                rows.append(base | {"reason": e.reason})
                continue
            for p, v in e.mean.items():
                rows.append(base | {"parameter": p, "mean": v, "sd": e.sd.get(p)})
        columns = ["prior", "estimator", "parameter", "mean", "sd", "status", "reason"]
        return pd.DataFrame(rows, columns=columns)

    def agreement(self):
        """Every agreement row: the two estimates compared, the parameter, both values, the
        absolute difference, the tolerance and its tier, and whether it holds."""
        import pandas as pd

        rows = [row.to_json() for row in self.case_result.agreement]
        return pd.DataFrame(rows)

    def to_html(self, folder) -> Path:
        """Write the report folder (index.html, results.json, the posteriors) as ``fit --out``
        does: only into a new or empty folder or an earlier report of this project, atomically.
        Returns the page's path."""
        from nll_losses.analyses.pipeline import write_case

        out = Path(folder)
        preflight.check_out(out, [out])
        app.check_out_dir(out)
        with app.writing_folders([out]):
            app.write_guarded(write_case, self.case_result, out)
        return out / "index.html"

    def __repr__(self) -> str:
        r = self.case_result
        held = sum(row.ok for row in r.agreement)
        return (
            f"<Result {r.case!r}: {r.family}, n = {r.n_obs}, "
            f"{held}/{len(r.agreement)} agreement rows ok>"
        )

    def _repr_html_(self) -> str:
        """A notebook's view: the case, the agreement pairs (each with its rows held) and the
        warnings; names from the data are escaped."""
        from nll_losses.analyses.report import agreement_pairs

        r = self.case_result
        e = html.escape
        pairs = agreement_pairs(r.agreement)
        body = "".join(
            f"<tr><td>{e(str(p['left']))}</td><td>{e(str(p['right']))}</td>"
            f"<td>{e(str(p['tier']))}</td><td>{p['n_ok']}/{len(p['rows'])}</td>"
            f"<td>{'✓' if p['ok'] else '✗'}</td></tr>"
            for p in pairs
        )
        warnings = "".join(f"<li>{e(w)}</li>" for w in r.all_warnings())
        return (
            f"<div><b>{e(r.case)}</b>: {e(r.family)} family, n = {r.n_obs}, target "
            f"{e(str(r.target))}; {sum(row.ok for row in r.agreement)}/{len(r.agreement)} "
            "agreement rows within tolerance"
            "<table><tr><th>left</th><th>right</th><th>tier</th><th>rows ok</th><th></th></tr>"
            f"{body}</table>" + (f"<ul>{warnings}</ul>" if warnings else "") + "</div>"
        )
