"""The family contract: what a likelihood family provides, and the values it hands to analyses.

A family is one folder under ``models/families/`` exposing ``FAMILY``, an object satisfying
``Family`` (checked for every entry of ``models.FAMILIES`` by
``tests/models/test_family_contract.py``).
Fitting, reports, figures, the CLI and the tests only talk to a family through this contract;
none of them names a parameter, a column or a sentence that belongs to one family.

Why a Protocol of methods on one object rather than undeclared module attributes (the first
Gaussian version): the contract is written down in one place, type checkers and the
conformance test can check it, and a family can keep private helpers without them becoming
part of the interface.

This module imports nothing from ``analyses`` (layering: models -> analyses, never back).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from nll_losses.models.observation import Observation
from nll_losses.models.pairs import Pair
from nll_losses.models.targets import Claim, TargetValues

# The estimators PyMC provides for every family (run generically by analyses.estimators);
# everything else a family offers is a Reference it declares itself.
PYMC_METHODS = ("find_map", "laplace", "nuts")


class Unavailable(Exception):  # noqa: N818  (a result, not an error)
    """An estimate that does not exist for these data and settings; the message is the reason
    (e.g. "the MLE does not exist: x1 separates the classes"), shown in the report."""


# ------------------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class Param:
    """One scalar parameter: its result name, the PyMC variable holding it, and where.

    ``sel`` is a tuple of (dim, coordinate) pairs selecting the scalar inside ``var`` (empty for
    a scalar variable).  ``group`` is what agreement pairs refer to ("coefficients", "sigma", ...).
    """

    name: str
    var: str
    sel: tuple[tuple[str, Any], ...] = ()
    group: str = "coefficients"

    @property
    def label(self) -> str:
        """ArviZ's row label for this parameter in ``az.summary`` (e.g. ``w[x1]``)."""
        if not self.sel:
            return self.var
        return f"{self.var}[{', '.join(str(c) for _, c in self.sel)}]"


@dataclass(frozen=True)
class ParamLayout:
    """The one source of parameter names for a (family, spec, features): result names,
    posterior reduction, ArviZ row labels, figure variables and agreement groups."""

    params: tuple[Param, ...]

    def __post_init__(self):
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate parameter names in layout: {names}")

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def var_names(self) -> list[str]:
        """PyMC variables holding the parameters, in order of first appearance."""
        return list(dict.fromkeys(p.var for p in self.params))

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def group(self, group: str) -> list[str]:
        """Names of the parameters in ``group`` ("all" = every parameter)."""
        return [p.name for p in self.params if group == "all" or p.group == group]

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(p.group for p in self.params))

    def reduce(self, ds, stat: Callable[[np.ndarray], float] = np.mean) -> dict[str, float]:
        """{name: stat over all draws} from a posterior Dataset (chain, draw, ...) or a single
        point (a Dataset without chain/draw: stat of one value).  Parameters whose variable
        is missing from ``ds`` are left out."""
        return {name: float(stat(v)) for name, v in self.draws(ds).items()}

    def draws(self, ds) -> dict[str, np.ndarray]:
        """{name: its values, flattened over chains and draws} from a posterior Dataset (or a
        single point); parameters whose variable is missing from ``ds`` are left out."""
        out = {}
        for p in self.params:
            if p.var not in ds:
                continue
            da = ds[p.var]
            if p.sel:
                da = da.sel(dict(p.sel))
            out[p.name] = np.ravel(np.asarray(da.values, dtype=float))
        return out

    def to_json(self) -> list[dict]:
        return [
            {"name": p.name, "var": p.var, "sel": [list(s) for s in p.sel], "group": p.group}
            for p in self.params
        ]


# ------------------------------------------------------------------------------ problems
@dataclass(frozen=True)
class Settings:
    """What the user chooses for every family (``options`` holds the family's own)."""

    intercept: bool = True
    prior_scale: float = 1.0  # tau of the N(0, tau^2) prior on the weights
    intercept_prior_scale: float | None = None  # None: flat intercept
    options: Any = None  # the family's Options dataclass (None: its defaults)


@dataclass(frozen=True)
class Problem:
    """One fit: data (target encoded by the family), its spec for one prior, and its layout."""

    X: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    target_info: dict
    prior: str
    spec: Any
    layout: ParamLayout
    # per-row data the family reads besides y, by role (the Poisson offset), the same rows
    rows: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(np.shape(self.X)[0])


def new_problem(
    family, X, y, features, target_info: dict, settings: Settings, prior: str, rows=None
) -> Problem:
    """The family's problem for one prior from arrays (y already encoded by the family; ``rows``
    the per-row data of the roles its options name, ``Options.columns``): spec, layout and
    data; ``ValueError`` (one line) for a prior the family does not offer with these
    settings.  ``analyses.problems.make_problem`` builds it from a data set."""
    spec = family.make_spec(settings, prior)
    features = tuple(features)
    layout = family.layout(features, target_info, spec)
    return Problem(X, y, features, dict(target_info), prior, spec, layout, dict(rows or {}))


@dataclass(frozen=True)
class Support:
    """Whether an estimator runs for a problem: ``ok``, or unavailable with ``reason``.

    ``spec`` (optional) is the spec the PyMC model is built with when it differs from the
    problem's (e.g. data fitted exactly: sigma has no mode, so find_MAP optimises the
    coefficients at a fixed sigma); ``note`` says so in the estimate's info.
    """

    ok: bool = True
    reason: str = ""
    spec: Any = None
    note: str = ""
    offered: bool = True  # False: this (estimator x prior) is not part of the family's matrix

    @classmethod
    def unavailable(cls, reason: str) -> Support:
        """Offered, but the estimate does not exist for these data (reported with reason)."""
        return cls(ok=False, reason=reason)

    @classmethod
    def not_offered(cls, reason: str) -> Support:
        """Not part of the (estimator x prior) matrix: never run, never listed."""
        return cls(ok=False, reason=reason, offered=False)


@dataclass(frozen=True)
class Start:
    """One find_MAP start: partial initial values of the unconstrained (value) variables
    (``{}`` = the model's default point), jittered with the start's own seed.  With ``hold``,
    a first stage optimises with those value variables held at their initial values, and the
    joint optimisation continues from its result (a continuation path, not another
    estimator's answer)."""

    label: str
    initvals: dict = field(default_factory=dict)
    hold: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    """A non-PyMC estimator a family declares (closed form, Newton solver, a library fit).

    ``fit(problem, inputs)`` (``fit(problem, inputs, seed)`` when ``seeded``) returns
    ``{"mean": {...}, "sd": {...}, "mcse_mean": {...}, "info": {...}}`` (sd, mcse optional)
    or raises
    ``Unavailable``; ``inputs`` maps each name in ``needs`` to that estimator's result dict
    (runs only after those, and is unavailable when one of them is).  ``groups`` lists the
    parameter groups it estimates (None: all of the layout), or is a function of the problem
    returning them.
    """

    name: str
    fit: Callable[[Problem, dict[str, dict]], dict]
    needs: tuple[str, ...] = ()
    groups: tuple[str, ...] | Callable[[Problem], tuple[str, ...]] | None = None
    description: str = ""
    seeded: bool = False  # a Monte Carlo reference: fit(problem, inputs, seed)

    def estimated(self, problem: Problem) -> list[str]:
        """Names of the parameters this reference estimates for ``problem``."""
        groups = self.groups(problem) if callable(self.groups) else self.groups
        return [n for g in groups or ("all",) for n in problem.layout.group(g)]


@dataclass(frozen=True)
class Built:
    """A PyMC model for a problem, with the values of its ``pm.Data`` and its structure key
    (what forces a new graph and compile: shapes, which parameters exist)."""

    model: Any
    key: tuple
    data: dict[str, np.ndarray]
    observed: str  # name of the observed variable (posterior predictive)
    # family-private values (e.g. a basis); a model without a per-row observed variable (a
    # sufficient-statistics likelihood) gives "predictive": f(posterior, rows, rng) -> draws
    # (chain, draw, rows) and "observed_values" (n,), for the posterior predictive check
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Sweep:
    """How a family sweeps the strength of one prior (the report's prior-strength sweep).

    ``symbol`` is the swept hyperparameter ("τ", "α"), ``value`` its value in the settings and
    ``with_value(settings, v)`` the settings with it set to ``v``.  ``grid`` maps the grid's
    unit points (10^-3 ... 10^3) to values.  ``methods`` are the estimators run at each grid
    point besides find_MAP (references; a posterior: "exact_posterior" or "nuts").
    ``stronger`` says which end is the strong prior ("small" for a scale τ)."""

    prior: str
    symbol: str
    value: float
    with_value: Callable[[Settings, float], Settings]
    grid: Callable[[np.ndarray], np.ndarray]
    methods: tuple[str, ...]
    stronger: str = "small"
    max_starts: int | None = None  # cap on find_MAP's starts per grid point
    note: str = ""
    # the prior whose parameters the sweep is shown in (None: the swept prior's own), for a
    # family whose swept prior parametrises the model in quantities the data do not identify
    shown_as: str | None = None
    # log p(terms | v): the log density of the swept prior's terms at the value v, evaluated on
    # posterior draws ({layout name: array}) of the swept prior's layout; the rest of the model
    # does not depend on v, so p(θ | v') / p(θ | v) is the importance weight that carries draws
    # at v to v' (None: the sweep does not reweight its posterior draws)
    log_prior: Callable[[ParamLayout, dict[str, np.ndarray], float], np.ndarray] | None = None
    # the NUTS points with nutpie's low-rank modified mass matrix instead of its diagonal one
    # (for posteriors that turn strongly correlated at weak priors; benchmarks/RESULTS.md)
    low_rank: bool = False


def tau_sweep(
    settings: Settings,
    methods: tuple[str, ...],
    weights: str | None = None,
    centre: str | None = None,
    **kw,
) -> Sweep:
    """The usual sweep: τ of the N(0, τ²) weights from 10^-3 to 10^3 times the case's τ.
    ``weights``: the layout variable whose parameters carry the N(0, τ²) prior (and nothing
    else does), which gives the sweep its ``log_prior`` (``gaussian_log_prior(weights,
    centre)``); None: no reweighting."""
    return Sweep(
        prior="gaussian",
        symbol="τ",
        value=float(settings.prior_scale),
        with_value=lambda s, v: replace(s, prior_scale=float(v)),
        grid=lambda u: float(settings.prior_scale) * np.asarray(u, dtype=float),
        methods=methods,
        log_prior=gaussian_log_prior(weights, centre) if weights else None,
        **kw,
    )


@dataclass(frozen=True)
class StudyModel:
    """A simulation study's model (``Family.study_model``): its settings, the known noise
    scale of the observation model (None: none), how it differs from the case's, in words, and
    the prior sd of each layout variable the prediction reads (the study draws each such
    parameter from N(0, sd²): its prior under these settings)."""

    settings: Settings
    noise_scale: float | None
    note: str
    prior_sd: dict[str, float]  # layout variable (Param.var) -> the sd of its N(0, sd²) prior


def proper_intercept(settings: Settings) -> tuple[Settings, str]:
    """``settings`` with the intercept's prior N(0, τ²) at the weights' τ where it was flat
    (an intercept prior the settings give is kept)."""
    if not settings.intercept or settings.intercept_prior_scale is not None:
        return settings, ""
    tau = float(settings.prior_scale)
    note = f"the intercept's prior N(0, τ²) as the weights' (τ = {tau:g}; the case's is flat)"
    return replace(settings, intercept_prior_scale=tau), note


def gaussian_log_prior(
    var: str, centre: str | None = None
) -> Callable[[ParamLayout, dict[str, np.ndarray], float], Any]:
    """Σ_j log N(w_j | 0, τ²) over the parameters of layout variable ``var``, per draw.

    ``centre``: a dimension of ``var`` along which the likelihood sees only differences
    (softmax's classes: adding one vector to every class's weights changes no probability).
    The N(0, τ²) prior then factorises into the common shift (the mean over ``centre``; its
    posterior is its prior, N(0, τ²/K) per coordinate, whatever the data) and the centred
    weights, and only the centred part's density is returned (K - 1 terms per coordinate).
    Its ratio reweights every quantity that does not depend on the shift (contrasts,
    intercepts, probabilities) exactly, without the variance the shift's own prior ratio adds.
    """

    def log_prior(layout: ParamLayout, draws: dict[str, np.ndarray], tau: float) -> np.ndarray:
        params = [p for p in layout.params if p.var == var]
        if not params:
            raise KeyError(f"no parameter of variable {var!r} among the draws")
        groups: dict[tuple, list[np.ndarray]] = {}
        for p in params:
            rest = tuple(s for s in p.sel if s[0] != centre)
            groups.setdefault(rest, []).append(np.asarray(draws[p.name], dtype=float))
        sq, dims = 0.0, 0
        for values in groups.values():
            x = np.asarray(values)
            if centre is not None:
                x = x - x.mean(axis=0)
            sq = sq + np.sum(np.square(x), axis=0)
            dims += len(values) - (centre is not None)
        return -0.5 * sq / tau**2 - dims * (np.log(tau) + 0.5 * np.log(2 * np.pi))

    return log_prior


def same_parametrisation(
    values: dict[str, float], source: Problem, target: Problem
) -> tuple[dict[str, float], frozenset[str]]:
    """``Family.reexpress`` when every prior parametrises the model the same way: a name means
    the same under both problems, so the point is its own re-expression."""
    same = frozenset(source.layout.names) & frozenset(target.layout.names)
    return {k: v for k, v in values.items() if k in same}, same


@dataclass(frozen=True)
class LedgerRow:
    """The loss evaluated several ways at one parameter point; ``checks`` names the pairs of
    ``values`` keys that must agree to floating-point summation accuracy."""

    at: str
    values: dict[str, float]
    checks: tuple[tuple[str, str], ...]
    magnitude: float | None = None  # size of the summed terms (default: the larger value)


# ------------------------------------------------------------------------------ the contract
@runtime_checkable
class Family(Protocol):
    """What a likelihood family provides.  See ``models/families/normal/`` for a full example."""

    name: str
    summary: str  # one line for ``list`` and the index page
    title: str  # the claim by loss ("MSE is the Gaussian negative log-likelihood")
    # what each non-flat prior is in the loss's terms ("ridge (weight decay) is a Gaussian
    # prior"): a case page's title adds the first one, in ``priors`` order, that the case ran
    prior_titles: dict[str, str]
    priors: tuple[str, ...]  # prior names it supports, e.g. ("flat", "gaussian")
    methods: tuple[str, ...]  # every estimator it offers, in run order
    sd_scale_methods: tuple[str, ...]  # estimators whose sd scales the optimiser tier
    # True when every mode has a positive-definite Hessian (no flat directions), so a non-PD
    # Hessian at find_MAP's final point means it stopped at a saddle: that start failed
    log_concave: bool
    # its observation model: y, the NLL given a prediction, the loss it equals and how, the
    # link, the predictive check and fit picture that suit it (``models.observation``)
    observation: Observation
    # its options dataclass: ``FLAGS`` (the CLI's flags, ``models.options.Flag``),
    # ``from_flags(values)`` (``ValueError``, one line, on a bad combination), ``describe()``,
    # ``columns()`` ({role: CSV column} it reads besides the target and features, as numbers,
    # into ``Problem.rows``; {} for none)
    Options: ClassVar[type]

    # --- data (its flags: ``Options.FLAGS`` and ``Options.from_flags``, ``models.options``)
    def encode_target(self, cells: Sequence[str], column: str, options: Any) -> tuple:
        """(y as float64 array, target_info dict) from the raw CSV cells of the target;
        ``ValueError`` naming the column and the offending value(s) otherwise."""
        ...

    def auto(self, values: TargetValues) -> Claim | None:
        """This family's reading of a target for ``--family auto`` (None: it does not fit):
        sure, or one reading among several for the user to choose (``models.targets``)."""
        ...

    def auto_note(self, target_info: dict) -> str:
        """What ``--family auto`` says once this family encoded the target: the choice made
        for the user that a flag changes ("" when none)."""
        ...

    def reserved_names(self, options: Any) -> frozenset[str]:
        """Names a feature column may not have (they are parameter names)."""
        ...

    # --- specs, layouts, models
    def default_priors(self, settings: Settings) -> tuple[str, ...]:
        """The priors fitted when neither the run nor the case names them."""
        ...

    def make_spec(self, settings: Settings, prior: str) -> Any:
        """The spec for ``prior``; ``ValueError`` (one line) for a combination not offered."""
        ...

    def layout(self, features: Sequence[str], target_info: dict, spec: Any) -> ParamLayout: ...

    def supports(self, method: str, problem: Problem) -> Support: ...

    def references(self) -> dict[str, Reference]: ...

    def build_model(self, problem: Problem) -> Built: ...

    def laplace_sd(self, fit, built: Built, point, problem: Problem) -> dict[str, float]:
        """Laplace sd per parameter from find_MAP's ``fit`` group (unconstrained covariance)."""
        ...

    def map_starts(self, problem: Problem) -> list[Start]:
        """find_MAP's starts: one for a model with a single mode; several where the posterior
        can have more than one (the best accepted mode is kept, every start is listed)."""
        ...

    def smooth(self, problem: Problem) -> bool:
        """False when the log density has kinks (relu): find_MAP then accepts its starts by
        the objective value, not by the Newton step (``analyses.tolerances``)."""
        ...

    def predict(self, problem: Problem, params: dict[str, float], X: np.ndarray) -> np.ndarray:
        """The mean response E[y | x] at ``params`` for the rows of ``X`` (fit pictures)."""
        ...

    def sweep(self, settings: Settings, features: Sequence[str]) -> Sweep | None:
        """The prior-strength sweep for these settings and features (None: none offered)."""
        ...

    def study_model(self, settings: Settings, truth: dict) -> StudyModel:
        """The model a simulation study draws its truths from: ``settings`` with a proper
        prior on every parameter the prediction reads (``proper_intercept`` for the usual
        N(0, τ²) intercept), and the noise scale held known at the generator's ``truth``
        where the observation model has one."""
        ...

    def reexpress(
        self, values: dict[str, float], source: Problem, target: Problem
    ) -> tuple[dict[str, float], frozenset[str]]:
        """A point of ``source``'s parametrisation as the same model point in ``target``'s
        parameter names (the sweeps show every prior's estimates in one set of parameters, the
        generator's truth's), and the names that mean the same in both (where an sd carries
        over unchanged).  Values may be arrays of draws (the same shape for every name): each
        draw is mapped.  A name ``target`` lacks, or that cannot be mapped, is left out.
        ``same_parametrisation`` for a family whose priors share one parametrisation."""
        ...

    def objective(self, problem: Problem, params: dict[str, float], method: str) -> float | None:
        """The negative log posterior at an estimate's ``params`` (results.json "objective"),
        one function for every estimator; None where the family reports none."""
        ...

    # --- checks and text
    def conditioning(self, problem: Problem) -> float:
        """The condition number the linear-algebra tier scales with (inf if not applicable)."""
        ...

    def ledger(
        self, problem: Problem, points: dict[str, dict[str, float]], rng: np.random.Generator
    ) -> list[LedgerRow]: ...

    def agreement_pairs(self, problem: Problem) -> list[Pair]: ...

    def describe(self, problems: dict[str, Problem], estimates: dict) -> dict:
        """Model text for the report: likelihood, priors, loss, penalty, translation rows."""
        ...

    def translations(
        self, problem: Problem, mode: dict[str, float] | None = None, seed: int = 0
    ) -> list:
        """The hyperparameter translation table for ``problem``'s prior: one
        ``models.translation.Translation`` per library setting equivalent to it (scikit-learn,
        statsmodels, SGD weight decay...), each with the value for this n and prior and a fit
        to verify it; [] where the prior has no penalty (flat, intercept only).  ``mode`` is
        find_MAP's estimate (None if unavailable), for values that depend on an estimated
        quantity (the normal family's σ when σ is unknown); ``seed`` for a row whose fit starts
        from random values (the network's)."""
        ...


def basis_laplace(fit, basis_to_coef: np.ndarray, basis_var: str = "phi") -> tuple:
    """(sd of the coefficients, unconstrained labels, unconstrained covariance) from
    find_MAP's ``fit`` group, for a model whose coefficients are ``beta = m0 + B phi``
    (``B = basis_to_coef``): Cov(beta) = B Cov(phi) B' exactly, the map being linear."""
    labels = [str(v) for v in fit["rows"].values]
    cov = np.asarray(fit["covariance_matrix"].values, dtype=float)
    if not np.all(np.isfinite(cov)):
        raise ValueError("Hessian at the mode is not finite")
    idx = [i for i, lab in enumerate(labels) if lab.startswith(basis_var)]
    cov_beta = basis_to_coef @ cov[np.ix_(idx, idx)] @ basis_to_coef.T
    return np.sqrt(np.clip(np.diag(cov_beta), 0.0, None)), labels, cov
