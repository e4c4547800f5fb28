"""What the CLI commands do, callable from tests: ``run_cases`` and ``fit_csv``."""

from __future__ import annotations

import base64
import contextlib
import json
import resource
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from nll_losses.analyses import interrupts, preflight
from nll_losses.analyses import workers as pool
from nll_losses.analyses.cases import CASES, get_case
from nll_losses.analyses.config import CaseConfig, RunConfig, child_seed
from nll_losses.analyses.errors import InputError
from nll_losses.analyses.interrupts import stage
from nll_losses.analyses.outputs import (
    GENERATOR,
    report_problem,
    sweep_stale,
    sweep_stale_files,
    write_file_atomically,
)
from nll_losses.analyses.problems import make_problem
from nll_losses.analyses.profile import table
from nll_losses.analyses.progress import Progress, say
from nll_losses.analyses.user_data import load_csv
from nll_losses.models import FAMILIES, get_family
from nll_losses.models.cost import nuts_note


def run_cases(
    names: list[str],
    out: Path,
    cfg: RunConfig,
    quiet: bool = False,
    workers: int = 1,
    profile: bool = False,
) -> int:
    """Run built-in cases (all when ``names`` is empty) into ``out/<case>/``, ``out/index.html``.
    ``workers`` > 1: the cases are fitted in that many worker processes (analyses/workers.py),
    the reports written here.  ``profile``: print seconds per case and stage at the end."""
    cases = [get_case(n) for n in dict.fromkeys(names or CASES)]  # unknown name -> InputError
    folders = [out / case.config.name for case in cases]
    preflight.check_out(out, folders)
    _check_reports_root(out, [case.config.name for case in cases])
    workers = max(1, min(workers, len(cases)))
    stages: dict[str, dict[str, float]] = {}
    started = _clock()
    status = 0
    with (
        writing_folders(folders, root=out),
        Progress(False if quiet else None) as progress,
        contextlib.closing(_fitted(cases, cfg, workers, quiet, progress)) as fitted,
    ):
        overall = progress.task("cases", len(cases))
        for name, result, rendered, seconds in fitted:  # closed: the workers stop on errors
            t0 = time.perf_counter()
            written: dict[str, float] = {}  # seconds per part of writing the report

            def write(r, folder, rendered=rendered, written=written):
                from nll_losses.analyses.pipeline import write_case  # not before the workers start

                written.update(write_case(r, folder, rendered))

            say(progress, f"{name} · report: " + ("writing" if rendered else "figures and page"))
            write_guarded(write, result, out / name)
            seconds["total"] = seconds["fit"] + time.perf_counter() - t0
            if rendered is not None:  # drawn in the worker, after fitting
                seconds["total"] += sum(rendered[1].values())
            stages[name] = _stages(result, seconds, written)
            status = max(status, _summarise(result, out / name, quiet, progress))
            overall.advance()
        write_guarded(lambda _, folder: _write_index(folder), None, out)
        if not quiet:
            print(f"index: {out / 'index.html'}")
    if profile:
        print(table(stages, _clock(started), workers))
    return status


def _fitted(cases, cfg: RunConfig, workers: int, quiet: bool, progress):
    """``(name, result, rendered page or None, seconds)`` per case as each is fitted: one after
    another in this process (one ``ModelCache``), or in worker processes."""
    if workers > 1:
        names = [case.config.name for case in cases]
        show = progress.show if not quiet else None
        with contextlib.closing(pool.fit_cases(names, cfg, workers, quiet, show)) as results:
            for name, result, rendered, caught, info in results:
                pool.rewarn(caught)
                yield name, result, rendered, {"fit": info["fit"]}
        return
    from nll_losses.analyses.estimators import ModelCache
    from nll_losses.analyses.pipeline import run_case

    cache = ModelCache()
    for case in cases:
        name = case.config.name
        stage(f"loading {name}")
        data = case.load(child_seed(cfg.seed, name, "data"))
        sized = case.sized if cfg.sweeps else None
        stage(f"fitting {name}")
        t0 = time.perf_counter()
        result = run_case(data, case.config, cfg, cache, sized=sized, progress=progress)
        yield name, result, None, {"fit": time.perf_counter() - t0}


def _stages(result, seconds: dict, written: dict) -> dict[str, float]:
    """One case's profile row: the run's own timings, the report's parts, wall seconds."""
    return {**result.provenance.get("timings (s)", {}), **written, **seconds}


def _clock(since=None):
    """(wall, CPU of this process and its finished children) seconds, or the time since."""
    cpu = sum(
        getattr(resource.getrusage(who), f)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for f in ("ru_utime", "ru_stime")
    )
    now = (time.perf_counter(), cpu)
    return now if since is None else (now[0] - since[0], now[1] - since[1])


def fit_csv(
    path: Path,
    case: CaseConfig,
    target: str,
    features,
    out: Path,
    cfg: RunConfig,
    quiet: bool = False,
    formula: str | None = None,
    dropna: bool = False,
) -> int:
    """The analysis of a built-in case, on a user's CSV file, into ``out``.  ``case.family``
    "auto": the family is chosen from the target when the file is read (stated)."""
    preflight.check_out(out, [out], data=path)
    check_out_dir(out)
    data, case = read_user_data(path, case, target, features, cfg, quiet, formula, dropna)
    from nll_losses.analyses.pipeline import run_case, write_case  # xarray, PyMC: now

    with writing_folders([out]), Progress(False if quiet else None) as progress:
        stage("fitting")
        result = run_case(data, case, cfg, progress=progress)
        say(progress, f"{case.name} · report: figures and page")
        write_guarded(write_case, result, out)
        return _summarise(result, out, quiet)


def read_user_data(
    path: Path,
    case: CaseConfig,
    target: str | None,
    features,
    cfg: RunConfig,
    quiet: bool = False,
    formula: str | None = None,
    dropna: bool = False,
):
    """A user's CSV read for ``case`` (``fit`` and ``analyses.api.fit``): ``(data, case)``,
    the case with its family chosen (``"auto"``) and named after the data; every problem an
    ``InputError`` before anything is fitted.  Says what was decided unless ``quiet``."""
    auto = case.family == "auto"
    if not auto:
        _check_family_choices(get_family(case.family), cfg)
    else:  # before loading: names no family offers (the chosen family's are checked later)
        _check_family_choices(None, cfg)
    family = "auto" if auto else get_family(case.family)
    options = None if auto else case.settings.options or family.Options()
    stage("loading")
    data = load_csv(
        path,
        target,
        features,
        intercept=case.settings.intercept,
        family=family,
        options=options,
        formula=formula,
        dropna=dropna,
    )
    family = get_family(data.reading["family"])
    options = options or family.Options()
    if auto:
        _check_family_choices(family, cfg)
    case = replace(
        case,
        name=data.name or case.name,
        family=family.name,
        settings=replace(case.settings, intercept=data.reading["has_intercept"], options=options),
    )
    if not quiet:
        for choice in data.reading["choices"]:
            print(f"note: {choice}")
    reserved = family.reserved_names(options)
    for name in data.feature_names:
        if name in reserved:
            raise InputError(
                f"{path}: feature column {name!r} clashes with the model parameter "
                f"of that name; rename the column"
            )
    problems = []
    for prior in cfg.priors or family.default_priors(case.settings):
        try:  # a (prior x option) combination the family does not offer: one line, exit 2
            problems.append(make_problem(family, data, case.settings, prior))
        except ValueError as exc:
            raise InputError(f"--priors {prior}: {exc}") from None
    if not quiet and (cfg.estimators is None or "nuts" in cfg.estimators):
        priors = {pr.prior: len(pr.layout.names) for pr in problems}
        others = [m for m in family.methods if m != "nuts"]
        iterations = cfg.chains * (cfg.tune + cfg.draws)
        note = nuts_note(family.name, priors, len(data.y), iterations, others, cfg.is_quick)
        if note:
            print(f"note: {note}")
    return data, case


def _check_family_choices(family, cfg: RunConfig) -> None:
    """--priors and --estimators name only what ``family`` offers (None: what some family
    offers, for --family auto before the family is chosen)."""
    families = [family] if family is not None else list(FAMILIES.values())
    for flag, asked, attr in (
        ("--priors", cfg.priors, "priors"),
        ("--estimators", cfg.estimators, "methods"),
    ):
        offered = list(dict.fromkeys(n for f in families for n in getattr(f, attr)))
        unknown = [a for a in asked or () if a not in offered]
        if unknown:
            which = f"--family {family.name}" if family is not None else "any family"
            raise InputError(
                f"{flag}: unknown {', '.join(map(repr, unknown))} for {which}; "
                f"choose from {', '.join(offered)}"
            )


def _fingerprint(folder: Path):
    """What tells whether a report folder was (re)written: its results.json's identity."""
    try:
        st = (folder / "results.json").stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@contextlib.contextmanager
def writing_folders(folders: list[Path], root: Path | None = None):
    """The block that fits and writes ``folders`` (``out`` itself for fit, ``out/CASE`` for
    run): each locked against other runs, its stale temporary siblings swept and checked once
    more under the lock.  An interrupt becomes ``Interrupted`` whose note says what was kept."""
    before = {f: _fingerprint(f) for f in folders}
    try:
        with interrupts.OutLock(([root] if root is not None else []) + folders):
            for folder in folders:
                sweep_stale(folder)
                check_out_dir(folder)
            if root is not None:
                sweep_stale_files(root, "index.html")
            yield
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        written = [f for f in folders if _fingerprint(f) != before[f]]
        kept = [f for f in folders if before[f] is not None and f not in written]
        note = getattr(exc, "note", "")
        note = (note + "; " if note else "") + (
            f"wrote {', '.join(map(str, written))} before stopping"
            if written
            else "nothing written"
        )
        if kept:
            note += f"; the earlier report in {', '.join(map(str, kept))} is intact"
        raise interrupts.Interrupted(signum, note) from None


def write_guarded(write, result, folder: Path) -> None:
    """``write(result, folder)``; a failure of the disk (full, read-only, gone) is one line."""
    stage("writing")
    interrupts.check()  # an interrupt swallowed on the way never lets a report through
    try:
        write(result, folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(
            f"--out {folder}: could not write the report ({reason}); nothing was written and "
            f"an earlier report there is intact: free some space or choose another folder"
        ) from None
    interrupts.check()  # one that arrived while writing (the report is then complete)


def check_out_dir(out: Path) -> None:
    """Never replace a folder we did not write: ``out`` must be new, empty or provably an
    earlier report of this project (analyses.outputs.report_problem)."""
    if out.exists() or out.is_symlink():
        problem = report_problem(out)
        if problem is not None:
            raise InputError(
                f"--out {out}: {problem}; nothing was changed: choose a new folder, or remove "
                f"this one yourself if it is yours to lose"
            )


def _check_reports_root(out: Path, case_names: list[str]) -> None:
    """``run --out ROOT``: ROOT is never replaced, only its case folders (each by the rule of
    ``check_out_dir``) and its index.html (only one this project wrote: it carries the
    generator mark); any other file in ROOT is left alone."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder; choose a folder")
    for name in case_names:
        check_out_dir(out / name)
    index = out / "index.html"
    if index.exists() or index.is_symlink():
        try:
            ours = index.is_file() and f'content="{GENERATOR}"' in index.read_text("utf-8")[:2000]
        except (OSError, ValueError):
            ours = False
        if not ours:
            raise InputError(
                f"--out {out}: {index} was not written by this project (or by an older "
                f"version of it); nothing was changed: choose another --out, or remove it"
            )


def _summarise(result, out: Path, quiet: bool = False, progress=None) -> int:
    """Exit status of one case (1: a row outside tolerance, a failed estimator or a failed
    translation row), and its one-line summary and warnings unless ``quiet``."""
    bad = [r for r in result.agreement if not r.ok]
    failed = [e.key for e in result.estimates.values() if e.status == "failed"]
    translation_bad = [t for t in result.translation if t.get("ok") is False]
    if not quiet:
        say = progress.print if progress is not None else print
        say(
            f"{result.case}: {len(result.agreement) - len(bad)}/{len(result.agreement)} "
            f"agreement rows ok -> {out / 'index.html'}"
        )
        for w in result.all_warnings():
            print(f"  warning: {w}", file=sys.stderr)
    return 1 if bad or failed or translation_bad else 0


CASE_ORDER = {name: i for i, name in enumerate(CASES)}  # the index tells them in this order


def _write_index(out: Path) -> None:
    """Index every case folder under ``out`` that holds a results.json, with its thumbnail.png
    embedded (the index stays one self-contained file), and every simulation study's folder."""
    from nll_losses.analyses.report import agreement_pairs, render_index

    entries, studies = [], []
    for res in sorted(out.glob("*/results.json")):
        try:
            r = json.loads(res.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(r, dict) or r.get("generator") != GENERATOR:
            continue  # not a report of this project: not listed
        if "study" in r:  # a simulation study's folder (analyses/study)
            studies.append(
                {
                    "name": str(r["study"]),
                    "href": f"{res.parent.name}/index.html",
                    "cases": ", ".join(map(str, r.get("cases", {}))),
                    "replicates": r.get("replicates", ""),
                }
            )
            continue
        rows = r.get("agreement", [])
        pairs = agreement_pairs(rows)
        try:
            png = (res.parent / "thumbnail.png").read_bytes()
            thumbnail = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        except OSError:  # no figure in that case (or an earlier report)
            thumbnail = None
        entries.append(
            {
                "name": r.get("case", res.parent.name),
                "href": f"{res.parent.name}/index.html",
                "family": r.get("family", ""),
                "n_obs": r.get("n_obs", ""),
                "n_pairs_ok": sum(1 for p in pairs if p["ok"]),
                "n_pairs": len(pairs),
                "n_ok": sum(1 for row in rows if row.get("ok")),
                "n_rows": len(rows),
                "n_warnings": len(r.get("warnings", [])),
                "description": r.get("dataset", {}).get("description", ""),
                "thumbnail": thumbnail,
                "order": CASE_ORDER.get(res.parent.name, len(CASE_ORDER)),
            }
        )
    write_file_atomically(out / "index.html", render_index(entries, studies))
