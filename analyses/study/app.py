"""``study {coverage,risk,sbc}``: the replicates (resumed from the work folder), the summary,
and the report folder ``DIR/<kind>/`` (index.html, results.json, replicates.csv) written
atomically; ``DIR/index.html`` links it."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

from nll_losses.analyses import interrupts, preflight
from nll_losses.analyses.app import (
    _check_reports_root,
    _write_index,
    write_guarded,
    writing_folders,
)
from nll_losses.analyses.errors import InputError
from nll_losses.analyses.outputs import write_report_atomically
from nll_losses.analyses.progress import Progress
from nll_losses.analyses.study import execute, summary
from nll_losses.analyses.study.design import Design, chosen, designs
from nll_losses.analyses.study.store import Store

KINDS = ("coverage", "risk", "sbc")
# what a replicate file holds: a change of it (or of how a replicate is fitted) raises it, and
# the work folder of an earlier format is refused rather than mixed
STUDY_FORMAT = 1
DEFAULT_REPLICATES = {"coverage": 100, "risk": 40, "sbc": 100}
WHAT = {
    "coverage": "do the 50/80/90/95% intervals contain the truth that often",
    "risk": "bias, variance and RMSE of the MLE, the MAP along τ and the posterior mean, by n",
    "sbc": "simulation-based calibration of NUTS: ranks of the truth among posterior draws",
}


def list_studies() -> str:
    """What ``study list`` prints: each study and the cases it takes."""
    every = designs()
    lines = [
        f"{kind}: {WHAT[kind]} (default {DEFAULT_REPLICATES[kind]} replicates)" for kind in KINDS
    ]
    lines.append("cases (every study takes each):")
    lines += [f"  {d.case} ({d.family}, n = {d.n}; study model: {d.note})" for d in every.values()]
    return "\n".join(lines)


@dataclass(frozen=True)
class Plan:
    """One study run: what it fits (``designs`` × replicates 0 … R−1) and where."""

    kind: str
    designs: list[Design]
    out: Path
    R: int
    seed: int
    settings: object  # replicate.StudySettings
    execution: str

    @property
    def folder(self) -> Path:
        return self.out / self.kind

    def pairs(self) -> list[tuple[str, int]]:
        return [(d.case, r) for d in self.designs for r in range(self.R)]


def run_study(
    kind: str,
    case_names: list[str],
    out: Path,
    replicates: int | None = None,
    seed: int = 0,
    workers: int = 1,
    scheduler: str | None = None,
    quiet: bool = False,
    settings=None,
) -> int:
    """Study ``kind`` for ``case_names`` (all the study cases when empty) into ``out/<kind>/``.
    Replicates already in the work folder (an interrupted or smaller earlier study with the
    same seed and settings) are not fitted again."""
    from nll_losses.analyses.study.replicate import StudySettings

    if kind not in KINDS:
        raise InputError(f"study {kind!r}: choose one of {', '.join(KINDS)}, or list")
    settings = settings or StudySettings()
    plan = Plan(
        kind,
        chosen(list(dict.fromkeys(case_names))),
        Path(out),
        replicates or DEFAULT_REPLICATES[kind],
        seed,
        settings,
        f"Dask cluster at {scheduler}"
        if scheduler
        else f"{workers} local worker processes"
        if workers > 1
        else "serial, in one process",
    )
    preflight.check_out(plan.out, [plan.folder])
    _check_reports_root(plan.out, [kind])
    if scheduler:  # reachable, before anything is written
        execute.check_scheduler(scheduler)
    key = {
        "format": STUDY_FORMAT,
        "kind": kind,
        "seed": seed,
        "settings": settings.to_json(),
        "cases": {d.case: d.fingerprint() for d in plan.designs},
    }
    store = Store(plan.out, kind, key)
    try:
        with (
            writing_folders([plan.folder], root=plan.out),
            Progress(False if quiet else None) as progress,
        ):
            todo = [pair for pair in plan.pairs() if not store.has(*pair)]
            bar = progress.task(f"{kind} study: replicates", len(plan.pairs()))
            bar.advance(len(plan.pairs()) - len(todo))
            if not quiet and len(todo) < len(plan.pairs()):
                done = len(plan.pairs()) - len(todo)
                progress.print(f"resuming: {done} replicates already in {store.root}")

            def on_done(case, row):
                write_guarded(lambda r, _: store.put(case, r), row, store.root)
                bar.advance()

            t0 = time.perf_counter()
            show = None if quiet else progress.show
            execute.run(kind, todo, seed, settings, on_done, workers, scheduler, show)
            seconds = time.perf_counter() - t0
            result = summarise(plan, store)
            result["seconds"] = round(seconds, 3)
            result["replicates fitted now"] = len(todo)
            write_guarded(lambda res, f: _write(res, f), result, plan.folder)
            write_guarded(lambda _, f: _write_index(f), None, plan.out)
    except interrupts.Interrupted as exc:
        kept = sum(store.has(*pair) for pair in plan.pairs())
        raise interrupts.Interrupted(
            exc.signum,
            f"{exc.note}; {kept} finished replicates are kept in {store.root}: the same "
            "command resumes from them",
        ) from None
    if not quiet:
        page = plan.folder / "index.html"
        print(f"{kind} study: {len(todo)} replicates fitted in {seconds:.1f} s -> {page}")
    return 0


def summarise(plan: Plan, store: Store) -> dict:
    """The study's results.json (``analyses.study.summary``), replicates 0 … R−1 of each case,
    with the replicates themselves under "_rows" (for the CSV; not written to results.json)."""
    kind, settings = plan.kind, plan.settings
    cases, rows_by_case = {}, {}
    for d in plan.designs:
        rows = rows_by_case[d.case] = [store.get(d.case, r) for r in range(plan.R)]
        params = list(dict.fromkeys(_parameters(kind, rows)))
        entry = {
            "family": d.family,
            # rows of a replicate's data set (risk: its largest nested subset)
            "n": max(settings.n_grid) if kind == "risk" else d.n,
            "tau": d.tau,
            "note": d.note,
            "parameters": params,
            "replicates": plan.R,
        }
        if kind == "coverage":
            entry |= summary.coverage(rows)
        elif kind == "risk":
            entry |= summary.risk(rows, settings.n_grid, settings.tau_units)
        else:
            entry |= summary.sbc(rows)
        cases[d.case] = entry
    return {
        "study": kind,
        "seed": plan.seed,
        "replicates": plan.R,
        "settings": settings.to_json(),
        "execution": plan.execution,
        "cases": cases,
        "_rows": rows_by_case,
    }


def _parameters(kind: str, rows: list[dict]):
    """The parameters a study's numbers are about: the truth's (SBC), those of every interval
    (coverage: the flat-prior model's own marked where they differ) or of every error (risk:
    the flat-prior model's)."""
    for row in rows:
        if kind == "coverage":
            for e in row["estimators"].values():
                yield from e.get("u") or {}
        elif kind == "risk":
            for at in row["errors"].values():
                for e in at.values():
                    yield from e.get("error") or {}
        else:
            yield from row["truth"]


def replicates_csv(kind: str, rows_by_case: dict[str, list[dict]]) -> str:
    """The per-replicate table, one row per (replicate, estimator, parameter)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if kind == "coverage":
        w.writerow(["case", "r", "estimator", "prior", "status", "parameter", "truth", "u"])
        for case, rows in rows_by_case.items():
            for row in rows:
                for label, e in row["estimators"].items():
                    for p, u in (e.get("u") or {"": ""}).items():
                        w.writerow(
                            [
                                case,
                                row["r"],
                                label,
                                e.get("prior"),
                                e.get("status"),
                                p,
                                (e.get("truth") or {}).get(p, ""),
                                u,
                            ]
                        )
    elif kind == "risk":
        w.writerow(["case", "r", "n", "estimator", "status", "parameter", "error"])
        for case, rows in rows_by_case.items():
            for row in rows:
                for n, at in row["errors"].items():
                    for label, e in at.items():
                        for p, err in (e.get("error") or {"": ""}).items():
                            w.writerow([case, row["r"], n, label, e.get("status"), p, err])
    else:
        w.writerow(["case", "r", "status", "parameter", "truth", "rank", "draws ranked"])
        for case, rows in rows_by_case.items():
            for row in rows:
                for p, rank in (row.get("ranks") or {"": ""}).items():
                    w.writerow(
                        [
                            case,
                            row["r"],
                            row.get("status"),
                            p,
                            row["truth"].get(p, ""),
                            rank,
                            row.get("draws ranked", ""),
                        ]
                    )
    return buf.getvalue()


def _write(result: dict, folder: Path) -> None:
    from nll_losses.analyses.study.page import render_study_page

    rows = result.pop("_rows")
    html, warnings = render_study_page(result, index_link=True)
    result["page warnings"] = warnings
    files = {"index.html": html, "replicates.csv": replicates_csv(result["study"], rows)}
    write_report_atomically(folder, files, result)
