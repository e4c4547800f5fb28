"""Command line: ``python -m nll_losses.analyses {list, run, fit}``.  Thin: parse into config, call
``main``.

Exit codes: 0 all estimators ran and every agreement row is within tolerance; 1 the report was
written but an estimator failed or a row is outside tolerance (the report says which);
2 bad input (one line on stderr, nothing written, an earlier report left intact).
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import warnings
from pathlib import Path

from nll_losses.analyses import interrupts, preflight
from nll_losses.analyses.app import fit_csv, run_cases
from nll_losses.analyses.cases import CASES
from nll_losses.analyses.config import CaseConfig, RunConfig
from nll_losses.analyses.errors import InputError
from nll_losses.analyses.study.app import list_studies, run_study
from nll_losses.analyses.workers import default_workers
from nll_losses.models import FAMILIES
from nll_losses.models.family import Settings
from nll_losses.models.options import Flag


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        raise InputError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m nll_losses.analyses",
        description="Deep-learning losses as likelihoods: MLE/MAP/NUTS vs closed forms.",
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the built-in cases")

    def sampler_args(sp):
        sp.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
        sp.add_argument("--draws", type=_positive_int, default=1000)
        sp.add_argument("--tune", type=_positive_int, default=1000)
        sp.add_argument("--chains", type=_positive_int, default=4)
        sp.add_argument(
            "--quick", action="store_true", help="at most 400 draws, 400 tuning steps, 2 chains"
        )
        sp.add_argument(
            "--quiet",
            action="store_true",
            help="no progress bar, summary lines or warnings on the terminal (errors still)",
        )

    run = sub.add_parser("run", help="run built-in cases into --out")
    run.add_argument("cases", nargs="*", metavar="CASE", help="default: all")
    run.add_argument("--out", type=Path, default=Path("reports"))
    run.add_argument(
        "--sweeps",
        action="store_true",
        help="also the prior-strength sweep of every case and the sample-size sweep of the "
        "simulated ones (make reports does)",
    )
    run.add_argument(
        "--workers",
        type=_int,
        default=None,
        metavar="N",
        help="fit the cases in N worker processes (default: the number of cores; 1: one "
        "after another in this process); the numbers do not depend on it",
    )
    run.add_argument(
        "--profile",
        action="store_true",
        help="at the end, print seconds per case and stage (a Markdown table)",
    )
    sampler_args(run)

    study = sub.add_parser(
        "study",
        help="simulation studies over many simulated data sets: coverage, risk, sbc (list: "
        "which cases each takes)",
    )
    study.add_argument("kind", choices=["coverage", "risk", "sbc", "list"], metavar="STUDY")
    study.add_argument("cases", nargs="*", metavar="CASE", help="default: every study case")
    study.add_argument(
        "--replicates",
        type=_positive_int,
        default=None,
        metavar="R",
        help="simulated data sets per case (default: coverage 100, risk 40, sbc 100)",
    )
    study.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    where = study.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_int,
        default=None,
        metavar="N",
        help="local worker processes (default: the number of cores); the numbers do not "
        "depend on it",
    )
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the replicates on an existing Dask cluster, e.g. tcp://HOST:8786",
    )
    study.add_argument("--out", type=Path, default=None, metavar="DIR")
    study.add_argument(
        "--quiet", action="store_true", help="no progress bar or summary line (errors still)"
    )

    fit = sub.add_parser("fit", help="the same analysis on your own CSV file")
    fit.add_argument("data", type=Path, metavar="DATA.csv")
    fit.add_argument(
        "--family",
        default="auto",
        choices=["auto", *sorted(FAMILIES)],
        help="default auto: from the target (two values: bernoulli; text labels: categorical; "
        "numbers: normal; whole numbers >= 0: refused, choose one) or a family's own flag",
    )
    fit.add_argument("--target", default=None, help="the target column (or --formula's left side)")
    fit.add_argument(
        "--features",
        type=_csv_list,
        default=None,
        help="comma-separated; default: every other column (text columns are dummy-coded)",
    )
    fit.add_argument(
        "--formula",
        default=None,
        help="a Wilkinson formula, e.g. 'y ~ age + C(sex)' (formulaic); '0 + ...' or '- 1': "
        "no intercept",
    )
    fit.add_argument(
        "--dropna",
        action="store_true",
        help="drop the rows with a missing cell (default: refuse them)",
    )
    fit.add_argument("--no-intercept", action="store_true")
    fit.add_argument(
        "--priors",
        type=_csv_list,
        default=None,
        help="default: the family's usual priors (categorical: flat,gaussian; --hidden: gaussian)",
    )
    fit.add_argument(
        "--prior-scale",
        type=_positive_float,
        default=1.0,
        metavar="TAU",
        help="tau of the N(0, tau^2) prior on the weights (default 1; accepted from 1.5e-154 "
        "to 6.7e153; far below the data's scale find_MAP and the library translations can "
        "fail numerically: reported as failed, exit 1)",
    )
    fit.add_argument(
        "--intercept-prior-scale",
        type=_positive_float,
        default=None,
        metavar="TAU0",
        help="give the intercept a N(0, TAU0^2) prior too (default: flat)",
    )
    fit.add_argument(
        "--estimators",
        type=_csv_list,
        default=None,
        help="default: every estimator the family offers",
    )
    fit.add_argument("--out", type=Path, required=True, metavar="DIR")
    fit.add_argument("--sweep", action="store_true", help="also the prior-strength sweep (τ, or α)")
    sampler_args(fit)
    owned = {}
    for name, family in FAMILIES.items():
        group = fit.add_argument_group(f"--family {name} options")
        owned[name] = [_add_flag(group, flag) for flag in family.Options.FLAGS]
    p.set_defaults(family_flags=owned)
    return p


def _add_flag(group, flag: Flag) -> str:
    """One family flag (``models.options.Flag``) as an argparse argument; returns its dest."""
    if flag.positive:
        kind = _positive(flag.kind)
    elif flag.kind is int:
        kind = _int
    else:
        kind = flag.kind
    group.add_argument(
        flag.option,
        dest=flag.name,
        type=kind,
        choices=flag.choices,
        default=None,
        metavar=flag.metavar,
        help=flag.help,
    )
    return flag.name


def _positive(kind):
    """argparse type: a positive finite int or float, with a one-line message otherwise."""

    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a valid {kind.__name__}: {text!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")
        return v

    return parse


_positive_int = _positive(int)


def _int(text):
    """argparse type: an integer (its range is checked in analyses/preflight.py)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a valid int: {text!r}") from None


_positive_float = _positive(float)


def _csv_list(text):
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"empty name in list {text!r}")
    return tuple(dict.fromkeys(items))


def main(argv: list[str] | None = None, exiting: bool = False) -> int:
    """Run the command; Python warnings are held until it ends, then shown when a report was
    written (exit 0 or 1) and dropped when the run ends with its one line (exit 2, 130, 143).
    ``exiting`` (``python -m nll_losses.analyses``): the process ends next, and a signal arriving
    after the run is over is ignored rather than interrupting the interpreter's shutdown."""
    with warnings.catch_warnings(record=True) as caught:
        code = _main(argv, exiting)
    if code in (0, 1):
        for w in caught:
            sys.stderr.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))
    return code


def _main(argv: list[str] | None, exiting: bool) -> int:

    args = None
    previous = interrupts.install()  # SIGINT, SIGTERM -> Interrupted (exit 130, 143)
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return _list()
        if args.command == "study":
            return _study(args)
        preflight.check_numbers(args)  # every bad number: exit 2 before anything runs
        if args.quiet:  # nothing but errors on the terminal: no RuntimeWarning either
            warnings.simplefilter("ignore")
        cfg = run_config(args)
        if args.command == "run":
            workers = default_workers() if args.workers is None else args.workers
            return run_cases(args.cases, args.out, cfg, args.quiet, workers, args.profile)

        if args.target is None and args.formula is None:
            raise InputError("fit: give the target column with --target, or --formula 'y ~ ...'")
        return fit_csv(
            args.data,
            case_from_args(args),
            args.target,
            args.features,
            args.out,
            cfg,
            args.quiet,
            formula=args.formula,
            dropna=args.dropna,
        )
    except InputError as exc:
        print(f"error: {exc}".replace("\n", " "), file=sys.stderr)
        return InputError.exit_code
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:
        print(interrupts.message(exc, getattr(args, "out", None)), file=sys.stderr)
        return getattr(exc, "exit_code", 130)
    finally:
        interrupts.restore({s: signal.SIG_IGN for s in interrupts.SIGNALS} if exiting else previous)


def _study(args) -> int:
    if args.kind == "list":
        print(list_studies())
        return 0
    if args.out is None:
        raise InputError(f"study {args.kind}: give the output folder with --out DIR")
    preflight.check_numbers(args)
    if args.quiet:
        warnings.simplefilter("ignore")
    workers = default_workers() if args.workers is None else args.workers
    return run_study(
        args.kind,
        args.cases,
        args.out,
        args.replicates,
        args.seed,
        workers,
        args.scheduler,
        args.quiet,
    )


def run_config(args) -> RunConfig:
    """The sampler and estimator settings of a parsed ``run`` or ``fit`` command line."""
    cfg = RunConfig(
        seed=args.seed,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        sweeps=args.sweeps if args.command == "run" else args.sweep,
        **({"estimators": args.estimators, "priors": args.priors} if args.command == "fit" else {}),
    )
    return cfg.quick() if args.quick else cfg


def case_from_args(args) -> CaseConfig:
    """The case to fit; with ``--family auto`` a family's own flag (``--positive``...) names the
    family, and otherwise it is chosen from the target when the CSV is read (options None)."""
    given = {
        name
        for name, dests in args.family_flags.items()
        if any(getattr(args, d) is not None for d in dests)
    }
    if args.family == "auto" and len(given) > 1:
        raise InputError(
            f"flags of --family {' and '.join(sorted(given))} given together; choose one family"
        )
    if args.family == "auto" and not given:
        return CaseConfig(
            name=args.data.stem,
            family="auto",
            settings=Settings(
                intercept=not args.no_intercept,
                prior_scale=args.prior_scale,
                intercept_prior_scale=args.intercept_prior_scale,
            ),
        )
    if args.family == "auto":
        args.family = given.pop()
    family = FAMILIES[args.family]
    for other, dests in args.family_flags.items():
        for dest in dests:
            if other != args.family and getattr(args, dest) is not None:
                flag = "--" + dest.replace("_", "-")  # as Flag.option
                raise InputError(f"{flag} applies to --family {other} only, not {args.family}")
    try:
        options = family.Options.from_flags(
            {d: getattr(args, d) for d in args.family_flags[family.name]}
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return CaseConfig(
        name=args.data.stem,
        family=args.family,
        settings=Settings(
            intercept=not args.no_intercept,
            prior_scale=args.prior_scale,
            intercept_prior_scale=args.intercept_prior_scale,
            options=options,
        ),
    )


def _list() -> int:

    for name, case in CASES.items():
        print(f"{name:12s} {case.config.family:10s} {case.description}")
    print()
    for name, family in FAMILIES.items():
        print(
            f"family {name}: {family.summary}; priors {', '.join(family.priors)}; "
            f"estimators {', '.join(family.methods)}"
        )
    return 0
