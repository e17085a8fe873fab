"""The cheapest robust package: search policy levers for cost against outcomes.

EMA Workbench's vocabulary: *levers* (``policy.*`` keys a policymaker sets, each with a
range) are searched; *uncertainties* (the behavioural constants nobody controls, drawn by a
Latin hypercube over their plausible ranges) are not; *outcomes* are what we judge by. A
candidate package is run at every draw of the uncertain constants with ``replications``
seeds each — the same draws and seeds for every candidate and for the base scenario
(common random numbers), so differences between candidates are the levers' doing.

Cost is measured, not declared: the government's spending per resident per year in the
runs (or all spending, ``cost="total_spending_per_resident"``). It counts every yuan a
lever commits — budgets, posts × salaries, funds per community, grants — in the unit the
reports use, with no cost table to keep in line with the model.

A target such as ``coverage_elderly=+0.10`` (10 points above the base scenario) holds at a
draw when the candidate's mean paired difference from the base over the replications
reaches it; the package is robust when that happens in at least ``robust_share`` of draws.
Optuna's NSGA-II (or TPE) proposes candidates in batches through the ask-and-tell
interface; each batch runs on the one run engine (:mod:`sanshe.experiments.runner`) and every run
is stored as it finishes. The sampler is seeded and is told results in candidate order,
so a search is a function of its settings alone: resuming replays the stored candidates
through a fresh sampler (asking reproduces the same packages, stored runs are not run
again) and then continues exactly as an uninterrupted search would.
"""

from __future__ import annotations

import difflib
import math
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    delete,
    insert,
    select,
)

from sanshe.experiments import designs
from sanshe.experiments.executors import Pool, RunError, check_executor
from sanshe.experiments.experiment import RunResult, RunSpec, replication_seeds, resolve, run_single
from sanshe.experiments.runner import Job, engine, run_jobs
from sanshe.experiments.store import Experiment, ResultStore, spec_hash
from sanshe.experiments.sweep import Axis, parse_vary
from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import BY_NAME, SPENDING_PARTS, describe
from sanshe.inputs.parameters import PARAMETERS, most_uncertain
from sanshe.inputs.scenario import Scenario
from sanshe.inputs.schema import BY_KEY
from sanshe.reporting import pages

#: Cost rules: measured money per resident per year (see the module docstring).
COSTS = ("gov_spending_per_resident", "total_spending_per_resident")

#: Optuna samplers offered by ``--sampler``.
SAMPLERS = ("nsga2", "tpe")

#: Salt mixed into the seed for the draws, so draws and model seeds never coincide.
_DRAW_SALT = 0x0D7A3

#: Candidates per batch when not given: one NSGA-II generation.
DEFAULT_POPULATION = 20

#: What ``--target`` looks like, for messages.
_TARGET_HELP = (
    "OUTCOME=+CHANGE or OUTCOME=-CHANGE relative to the base scenario, in the outcome's own "
    "units (shares as fractions: coverage_elderly=+0.10 is 10 points more)"
)

# Candidate summaries live in their own table of the results database, beside the runs.
_METADATA = MetaData()
CANDIDATES = Table(
    "optimize_candidates",
    _METADATA,
    Column("id", Integer, primary_key=True),
    Column("experiment_id", ForeignKey(Experiment.id), index=True),
    Column("number", Integer),
    Column("levers", JSON),
    Column("summary", JSON),
    Column("created", DateTime(timezone=True)),
    UniqueConstraint("experiment_id", "number", name="uq_optimize_candidate"),
)


# --- the problem ------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A required change of one outcome from the base scenario (signed, outcome units)."""

    outcome: str
    change: float

    def met(self, difference: float) -> bool:
        """Whether a paired difference from the base reaches the target."""
        if math.isnan(difference):
            return False
        return difference >= self.change if self.change >= 0 else difference <= self.change

    def text(self) -> str:
        """As written after ``--target``."""
        return f"{self.outcome}={self.change:+g}"


def parse_target(text: str) -> Target:
    """``coverage_elderly=+0.10`` → Target; InputError naming what is allowed."""
    name, sep, value = (part.strip() for part in text.partition("="))
    if not sep or not name or not value:
        raise InputError(f"--target {text!r}: expected {_TARGET_HELP}.")
    check_outcomes([name], "--target")
    try:
        change = float(value.replace("_", ""))
    except ValueError:
        raise InputError(f"--target {text!r}: '{value}' is not a number; expected "
                         f"{_TARGET_HELP}.") from None
    if not math.isfinite(change) or change == 0:
        raise InputError(f"--target {text!r}: the change must be a finite number other "
                         f"than 0; expected {_TARGET_HELP}.")
    if BY_NAME[name].unit == "share" and abs(change) > 1:
        raise InputError(f"--target {text!r}: '{name}' is a share from 0 to 1, so a change "
                         f"of {change:g} is impossible; write 10 points as +0.10.")
    return Target(name, change)


def check_outcomes(names: Sequence[str], option: str) -> list[str]:
    """``names`` if every one is a measured outcome; InputError with a suggestion if not."""
    for name in names:
        if name not in BY_NAME:
            close = difflib.get_close_matches(name, list(BY_NAME), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise InputError(f"{option}: unknown outcome '{name}'.{hint} Outcomes: "
                             f"{', '.join(BY_NAME)}.")
    return list(names)


def parse_levers(levers: Sequence[str] | Mapping[str, Any]) -> tuple[Axis, ...]:
    """Lever axes (``KEY=LOW:HIGH`` or ``KEY=a,b``), each a ``policy.*`` key."""
    if not levers:
        raise InputError("optimize needs at least one --lever KEY=LOW:HIGH, e.g. "
                         "--lever policy.purchase.annual_budget=0:6e6.")
    axes = tuple(parse_vary(levers))
    for axis in axes:
        if not axis.key.startswith("policy."):
            raise InputError(
                f"--lever {axis.describe()}: '{axis.key}' is not a policy lever; levers are "
                "the policy.* keys a policymaker sets (`sanshe scenarios baseline` lists "
                "them). Behavioural constants are uncertainties, drawn with --uncertain; "
                "the district is fixed by the base scenario (--set)."
            )
    return axes


def check_uncertain(names: Sequence[str] | None) -> tuple[str, ...]:
    """The uncertain constants to draw (default: those flagged most uncertain)."""
    if not names:
        return tuple(p.name for p in most_uncertain())
    for name in names:
        name = name.removeprefix("parameters.")
        if name not in PARAMETERS:
            close = difflib.get_close_matches(name, list(PARAMETERS), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise InputError(f"--uncertain: unknown behavioural constant '{name}'.{hint} "
                             "The constants and their ranges are in sanshe/inputs/parameters.py.")
    return tuple(dict.fromkeys(n.removeprefix("parameters.") for n in names))


def draw_constants(names: Sequence[str], draws: int, seed: int) -> list[dict[str, float]]:
    """``draws`` Latin-hypercube draws of the constants ``names`` over their ranges."""
    params = [PARAMETERS[n] for n in names]
    rng = np.random.default_rng([int(seed), _DRAW_SALT])
    unit = designs.latin_hypercube(len(params), draws, rng)
    scaled = designs.scale(unit, [p.low for p in params], [p.high for p in params])
    return [
        {p.name: float(round(v)) if p.is_integer else float(v) for p, v in zip(params, row,
                                                                               strict=True)}
        for row in scaled
    ]


@dataclass(frozen=True)
class Problem:
    """Everything that defines a search: resuming needs exactly this again."""

    base: Scenario
    levers: tuple[Axis, ...]
    objectives: tuple[str, ...]
    targets: tuple[Target, ...]
    robust_share: float
    uncertain: tuple[str, ...]
    draws: tuple[dict[str, float], ...]
    replications: int
    months: int
    seed: int
    cost: str
    sampler: str
    population: int
    seeds: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Seed of (draw d, replication r) = seeds[d * replications + r], for every candidate.
        count = len(self.draws) * self.replications
        object.__setattr__(self, "seeds", tuple(replication_seeds(self.seed, count)))

    @property
    def residents(self) -> int:
        """Residents of the district (levers are policy keys, so it never changes)."""
        return int(self.base.get("district.streets")
                   * self.base.get("district.communities_per_street")
                   * self.base.get("district.residents_per_community"))

    def cells(self) -> Iterator[tuple[int, int, int]]:
        """(draw, replication, seed) for every run of one candidate."""
        for d in range(len(self.draws)):
            for r in range(self.replications):
                yield d, r, self.seeds[d * self.replications + r]

    def spec(self, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
        """The experiment's stored identity (``--candidates`` is not part of it)."""
        return {
            "scenarios": [self.base.name],
            "scenario": self.base.to_dict(),
            "overrides": dict(overrides or {}),
            "levers": [a.to_dict() for a in self.levers],
            "objectives": list(self.objectives),
            "targets": [t.text() for t in self.targets],
            "robust_share": self.robust_share,
            "uncertain": list(self.uncertain),
            "draws": [dict(d) for d in self.draws],
            "replications": self.replications,
            "months": self.months,
            "seed": self.seed,
            "cost": self.cost,
            "sampler": self.sampler,
            "population": self.population,
        }

    def directions(self) -> list[str]:
        """Optuna directions: cost down, each objective the way that is better."""
        better = [BY_NAME[o].higher_is_better for o in self.objectives]
        return ["minimize"] + ["minimize" if b is False else "maximize" for b in better]


def run_key(candidate: int | None, draw: int, replication: int) -> str:
    """The store key of one run: ``c<n>/d<draw>/r<rep>``, the base scenario ``base/...``."""
    who = "base" if candidate is None else f"c{candidate}"
    return f"{who}/d{draw}/r{replication}"


# --- evaluating candidates --------------------------------------------------------------
def run_cost(final: Mapping[str, float], cost: str, residents: int) -> float:
    """One run's cost: the money of the cost rule per resident per year."""
    return sum(final[p] for p in SPENDING_PARTS[cost]) / residents


def summarise(
    runs: Mapping[tuple[int, int], Mapping[str, float]],
    base: Mapping[tuple[int, int], Mapping[str, float]],
    problem: Problem,
) -> dict[str, Any]:
    """A candidate's cost, mean objectives and, per draw, its paired gain over the base.

    ``runs`` and ``base`` map (draw, replication) to final values; pairs share a seed.
    """
    cells = [(d, r) for d, r, _ in problem.cells()]
    costs = [run_cost(runs[c], problem.cost, problem.residents) for c in cells]
    summary: dict[str, Any] = {"cost": float(np.mean(costs))}
    for name in problem.objectives:
        summary[name] = float(np.mean([runs[c][name] for c in cells]))
    met = np.ones(len(problem.draws), dtype=bool)
    for target in problem.targets:
        gains = draw_gains(runs, base, target.outcome, problem)
        summary[f"gain.{target.outcome}"] = float(np.mean(gains))
        summary[f"gains.{target.outcome}"] = [float(g) for g in gains]
        met &= np.array([target.met(g) for g in gains])
    summary["draws_met"] = int(met.sum()) if problem.targets else None
    summary["share_met"] = float(met.mean()) if problem.targets else None
    return summary


def draw_gains(
    runs: Mapping[tuple[int, int], Mapping[str, float]],
    base: Mapping[tuple[int, int], Mapping[str, float]],
    outcome: str,
    problem: Problem,
) -> list[float]:
    """Per draw, the mean over replications of candidate − base (paired by seed)."""
    return [
        float(np.mean([runs[(d, r)][outcome] - base[(d, r)][outcome]
                       for r in range(problem.replications)]))
        for d in range(len(problem.draws))
    ]


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (each column to be minimised) that no other row dominates."""
    values = np.asarray(values, dtype=float)
    keep = np.ones(len(values), dtype=bool)
    for i, row in enumerate(values):
        others = np.delete(values, i, axis=0)
        dominated = np.all(others <= row, axis=1) & np.any(others < row, axis=1)
        keep[i] = not dominated.any()
    return keep


def _sampler(problem: Problem) -> Any:
    import optuna

    """A seeded sampler; the target enters as a constraint (``Trial.set_constraint``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if problem.sampler == "tpe":
            return optuna.samplers.TPESampler(seed=problem.seed, multivariate=True)
        return optuna.samplers.NSGAIISampler(seed=problem.seed,
                                             population_size=problem.population)


def _distributions(levers: Sequence[Axis]) -> dict[str, Any]:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for axis in levers:
        if axis.kind == "float":
            out[axis.key] = FloatDistribution(float(axis.low), float(axis.high))
        elif axis.kind == "int":
            out[axis.key] = IntDistribution(int(axis.low), int(axis.high))
        else:
            out[axis.key] = CategoricalDistribution(list(axis.levels))
    return out


def import_optuna() -> Any:
    """Optuna, or an InputError saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise InputError(
            'sanshe optimize needs Optuna, which is not installed: pip install "sanshe[optimize]".'
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


# --- the search -------------------------------------------------------------------------
@dataclass
class OptimizationResult:
    """A finished (or stopped) search: every candidate, the front and the chosen package."""

    name: str
    store: ResultStore
    problem: Problem
    candidates: pd.DataFrame
    base: dict[str, Any]
    failed: int = 0
    resumed: int = 0
    report_path: Path | None = None

    @property
    def front(self) -> pd.DataFrame:
        """The Pareto front of cost against the objectives, cheapest first."""
        return self.candidates[self.candidates["on_front"]].sort_values("cost")

    @property
    def chosen(self) -> dict[str, Any] | None:
        """The cheapest candidate meeting the target robustly (None if none does)."""
        if not self.problem.targets:
            return None
        robust = self.candidates[self.candidates["robust"]]
        if robust.empty:
            return None
        return robust.sort_values(["cost", "number"]).iloc[0].to_dict()

    def describe_choice(self, lang: str = "en") -> str:
        """The chosen package and its robustness in one or two sentences."""
        return describe_choice(self, lang)


class _Runner:
    """Runs each batch's missing runs through the one run engine, which stores them."""

    def __init__(self, store: ResultStore, exp_id: int, run_fn: Callable[[RunSpec], RunResult],
                 engine: Any, progress: bool, label: str) -> None:
        self.store, self.exp_id, self.run_fn = store, exp_id, run_fn
        self.engine, self.progress, self.label = engine, progress, label

    def run(self, jobs: list[Job], finals: dict[str, dict[str, float]]) -> int:
        """Run ``jobs``, each committed as it ends; finals into ``finals``; failures."""
        failed = 0
        for job, outcome in run_jobs(jobs, self.run_fn, executor=self.engine,
                                     store=self.store, experiment=self.exp_id,
                                     progress=self.progress, label=self.label):
            if isinstance(outcome, RunError):
                failed += 1
            else:
                finals[job.key] = dict(outcome.final)
        return failed


def optimize(
    scenario: Scenario | str,
    levers: Sequence[str] | Mapping[str, Any],
    target: Sequence[str] | str | None = None,
    objectives: Sequence[str] | None = None,
    robust_share: float = 0.8,
    draws: int = 20,
    replications: int = 2,
    candidates: int = 100,
    months: int | None = None,
    seed: int | None = None,
    uncertain: Sequence[str] | None = None,
    cost: str = "gov_spending_per_resident",
    sampler: str = "nsga2",
    population: int | None = None,
    workers: int | None = None,
    executor: str | Pool = "local",
    scheduler: str | None = None,
    name: str | None = None,
    db: str | ResultStore | None = None,
    out: str | Path | None = None,
    lang: str = "en",
    overrides: Mapping[str, Any] | None = None,
    progress: bool = True,
    fresh: bool = False,
    report: bool = True,
    *,
    _run: Callable[[RunSpec], RunResult] = run_single,
) -> OptimizationResult:
    """Search ``levers`` of ``scenario`` for the front of cost against ``objectives`` and
    the cheapest package meeting ``target`` robustly; every run stored, resumable.

    ``levers``: ``--lever`` texts (``"policy.purchase.annual_budget=0:6e6"``) or a mapping
    of keys to ``(low, high)`` / a list of values. ``target``: ``"coverage_elderly=+0.10"``
    (or several). ``objectives`` default to the target outcomes, else need_coverage.
    ``candidates`` packages are evaluated, ``population`` per batch; each at ``draws``
    Latin-hypercube draws of the ``uncertain`` constants × ``replications`` seeds, as is
    the base scenario. Rerunning with the same settings resumes (a larger ``candidates``
    searches further). ``_run`` replaces :func:`run_single` (tests).
    """
    optuna = import_optuna()
    problem = make_problem(scenario, levers, target, objectives, robust_share, draws,
                           replications, months, seed, uncertain, cost, sampler, population,
                           overrides)
    if candidates < 1:
        raise InputError(f"--candidates {candidates} must be at least 1.")
    if not isinstance(executor, Pool):
        check_executor(executor, workers, scheduler)
    store = db if isinstance(db, ResultStore) else ResultStore(db)
    _METADATA.create_all(store.engine)
    spec = problem.spec(overrides)
    name = name or f"optimize-{problem.base.name}-{spec_hash(spec)[:8]}"
    if fresh and name in set(store.experiments().name):
        _forget(store, name)
    exp_id = store.experiment(name, "optimize", spec)
    finals = _stored_finals(store, exp_id, name)
    per_candidate = len(problem.draws) * problem.replications
    total = (candidates + 1) * per_candidate
    resumed = sum(1 for k in finals if _candidate_of(k) is None or _candidate_of(k) < candidates)
    if progress:
        _say(f"optimize '{name}': {candidates} candidates + the base × {len(problem.draws)} "
             f"draws × {problem.replications} replication(s): up to {total} runs of "
             f"{problem.months} months" + (f"; {resumed} stored, resuming." if resumed else "."))
    try:
        with engine(executor, workers, scheduler) as shared:  # workers start once
            runner = _Runner(store, exp_id, _run, shared, progress, name)
            rows, failed = _search(optuna, problem, runner, finals, candidates)
    except KeyboardInterrupt:
        _say(f"optimize '{name}' interrupted; finished runs are stored. Rerun the same "
             "command to resume.")
        raise
    result = OptimizationResult(name, store, problem, _table(rows, problem),
                                _base_summary(problem, finals), failed, resumed)
    if report and not failed:
        from sanshe.experiments.comparison import default_out

        result.report_path = write_report(result, Path(out) if out else
                                          default_out(f"{name}"), lang)
    return result


def make_problem(scenario: Scenario | str, levers: Sequence[str] | Mapping[str, Any],
                 target: Sequence[str] | str | None, objectives: Sequence[str] | None,
                 robust_share: float, draws: int, replications: int, months: int | None,
                 seed: int | None, uncertain: Sequence[str] | None, cost: str, sampler: str,
                 population: int | None, overrides: Mapping[str, Any] | None) -> Problem:
    """Every option checked before anything runs or is created."""
    base = resolve(scenario, dict(overrides) if overrides else None)
    axes = parse_levers(levers)
    for axis in axes:  # the scenario validator sees each end once, up front
        for value in axis.levels if axis.kind == "levels" else (axis.low, axis.high):
            base.with_overrides({axis.key: value})
    targets = tuple(parse_target(t) for t in ([target] if isinstance(target, str)
                                              else list(target or [])))
    if len({t.outcome for t in targets}) < len(targets):
        raise InputError("--target: give each outcome once.")
    chosen = list(objectives or []) or [t.outcome for t in targets] or ["need_coverage"]
    chosen = check_outcomes(list(dict.fromkeys(chosen)), "--objective")
    if not 0 < float(robust_share) <= 1:
        raise InputError(f"--robust-share {robust_share:g} must be more than 0 and at most 1 "
                         "(0.8: the target must hold in at least 80% of draws).")
    if int(draws) < 1 or int(replications) < 1:
        raise InputError("--draws and --replications must be at least 1.")
    if cost not in COSTS:
        raise InputError(f"--cost {cost!r}: must be one of {', '.join(COSTS)} (money per "
                         "resident per year, measured in the runs).")
    if sampler not in SAMPLERS:
        raise InputError(f"--sampler {sampler!r}: must be one of {', '.join(SAMPLERS)}.")
    if population is not None and int(population) < 2:
        raise InputError(f"--population {population} must be at least 2.")
    names = check_uncertain(uncertain)
    seed = int(base.get("run.seed") if seed is None else seed)
    return Problem(
        base=base, levers=axes, objectives=tuple(chosen), targets=targets,
        robust_share=float(robust_share), uncertain=names,
        draws=tuple(draw_constants(names, int(draws), seed)), replications=int(replications),
        months=int(base.get("run.months") if months is None else months), seed=seed,
        cost=cost, sampler=sampler, population=int(population or DEFAULT_POPULATION),
    )


def _search(optuna: Any, problem: Problem, runner: _Runner,
            finals: dict[str, dict[str, float]], candidates: int
            ) -> tuple[list[dict[str, Any]], int]:
    """Ask a batch, run what is missing, tell in candidate order; repeat. Rows, failures."""
    study = optuna.create_study(directions=problem.directions(), sampler=_sampler(problem))
    distributions = _distributions(problem.levers)
    stored = _stored_candidates(runner.store, runner.exp_id)
    rows: list[dict[str, Any]] = []
    status_quo = {a.key: problem.base.get(a.key) for a in problem.levers}
    base_tasks = list(_tasks(problem, None, status_quo, finals))
    first: dict[tuple, int] = {}  # a package proposed again reuses its runs (same seeds)
    number = 0
    while number < candidates:
        size = min(problem.population, candidates - number)
        trials = [study.ask(distributions) for _ in range(size)]
        packages = [{a.key: _plain(t.params[a.key]) for a in problem.levers} for t in trials]
        tasks = list(base_tasks) if number == 0 else []
        owners = []
        for offset, package in enumerate(packages):
            _check_replay(stored, number + offset, package)
            owner = first.setdefault(tuple(package.values()), number + offset)
            owners.append(owner)
            if owner == number + offset:
                tasks += _tasks(problem, owner, package, finals)
        failed = runner.run(tasks, finals)
        if failed:
            return rows, failed
        base = _cells(finals, None, problem)
        for offset, (trial, package) in enumerate(zip(trials, packages, strict=True)):
            summary = summarise(_cells(finals, owners[offset], problem), base, problem)
            summary["same_as"] = owners[offset] if owners[offset] != number + offset else None
            if number + offset not in stored:
                _save_candidate(runner.store, runner.exp_id, number + offset, package, summary)
            if problem.targets:
                # feasible (≤ 0) when the target holds in enough draws
                trial.set_constraint("shortfall", problem.robust_share - summary["share_met"])
            study.tell(trial, [summary["cost"], *(summary[o] for o in problem.objectives)])
            rows.append({"number": number + offset, **package, **summary})
        number += size
    return rows, 0


def _tasks(problem: Problem, candidate: int | None, package: dict[str, Any],
           finals: Mapping[str, Any]) -> Iterator[Job]:
    """The runs of one candidate (None: the base) not yet stored."""
    label = problem.base.name if candidate is None else f"{problem.base.name}-c{candidate}"
    for d, r, seed in problem.cells():
        key = run_key(candidate, d, r)
        if key in finals:
            continue
        constants = {f"parameters.{k}": v for k, v in problem.draws[d].items()}
        scenario = problem.base.with_overrides({**package, **constants}, name=label)
        sample = {"candidate": -1 if candidate is None else candidate, "draw": d, **package,
                  **constants}
        yield Job(key, RunSpec(scenario, seed, problem.months, r), sample)


def _cells(finals: Mapping[str, dict[str, float]], candidate: int | None,
           problem: Problem) -> dict[tuple[int, int], dict[str, float]]:
    return {(d, r): finals[run_key(candidate, d, r)] for d, r, _ in problem.cells()}


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _candidate_of(key: str) -> int | None:
    who = key.split("/", 1)[0]
    return None if who == "base" else int(who[1:])


def _stored_finals(store: ResultStore, exp_id: int, name: str) -> dict[str, dict[str, float]]:
    """Final values of the runs already stored, by key (resuming skips them)."""
    if not store.finished_keys(exp_id):
        return {}
    runs = store.runs(name)
    outcomes = [c for c in runs.columns if c in BY_NAME]
    return {row["key"]: {o: float(row[o]) for o in outcomes}
            for row in runs[["key", *outcomes]].to_dict("records")}


def _stored_candidates(store: ResultStore, exp_id: int) -> dict[int, dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(CANDIDATES.c.number, CANDIDATES.c.levers).where(
            CANDIDATES.c.experiment_id == exp_id)).all()
    return {int(n): dict(levers) for n, levers in rows}


def _check_replay(stored: Mapping[int, dict[str, Any]], number: int,
                  package: dict[str, Any]) -> None:
    """A resumed search must propose the stored packages again (same Optuna, same seed)."""
    if number in stored and not all(
        math.isclose(float(stored[number][k]), float(v)) if isinstance(v, int | float)
        and not isinstance(v, bool) else stored[number][k] == v for k, v in package.items()
    ):
        raise InputError(
            f"resuming: candidate {number} is now {package}, but {stored[number]} is stored; "
            "the optimizer proposes differently (another Optuna version?). Start afresh "
            "with --fresh or choose another --name."
        )


def _save_candidate(store: ResultStore, exp_id: int, number: int, package: dict[str, Any],
                    summary: dict[str, Any]) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(CANDIDATES).values(
            experiment_id=exp_id, number=number, levers=package, summary=summary,
            created=datetime.now(UTC)))


def _forget(store: ResultStore, name: str) -> None:
    """Drop a stored search: its candidate summaries, then its runs."""
    exp_id = store.experiment_id(name)
    with store.engine.begin() as conn:
        conn.execute(delete(CANDIDATES).where(CANDIDATES.c.experiment_id == exp_id))
    store.delete_experiment(name)


def _table(rows: list[dict[str, Any]], problem: Problem) -> pd.DataFrame:
    """One row per candidate, with ``robust`` and ``on_front`` flags."""
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=["number", "cost", "robust", "on_front"])
    signs = [1.0] + [-1.0 if d == "maximize" else 1.0 for d in problem.directions()[1:]]
    values = table[["cost", *problem.objectives]].to_numpy(dtype=float) * np.array(signs)
    table["on_front"] = pareto_mask(values)
    if problem.targets:
        table["robust"] = table["share_met"] >= problem.robust_share - 1e-12
    else:
        table["robust"] = False
    return table


def _base_summary(problem: Problem, finals: Mapping[str, dict[str, float]]) -> dict[str, Any]:
    if run_key(None, 0, 0) not in finals:
        return {}
    base = _cells(finals, None, problem)
    return {"number": -1, **{a.key: problem.base.get(a.key) for a in problem.levers},
            **summarise(base, base, problem)}


def _say(text: str) -> None:
    print(text, file=sys.stderr)


# --- words and report -------------------------------------------------------------------
def _amount(value: Any) -> str:
    """A lever value for a sentence: 2.4 M, 60,000, 0.35, true."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g} M"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def lever_words(key: str, base: Any, value: Any, lang: str = "en") -> str:
    """"raise the district purchase budget (yuan per year) from 0.5 M to 2.4 M"."""
    what = BY_KEY[key].help if lang == "en" else key
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isclose(float(value), float(base), rel_tol=1e-9, abs_tol=1e-12):
            return (f"keep {what} at {_amount(value)}" if lang == "en"
                    else f"{what} 保持 {_amount(value)}")
        verb = "raise" if value > base else "lower"
        if lang == "zh":
            change = "提高" if value > base else "降低"
            return f"将 {what} 从 {_amount(base)} {change}到 {_amount(value)}"
        return f"{verb} {what} from {_amount(base)} to {_amount(value)}"
    if lang == "zh":
        return f"{what} 设为 {_amount(value)}（现状 {_amount(base)}）"
    return f"set {what} to {_amount(value)} (status quo {_amount(base)})"


def gain_words(outcome: str, gain: float, lang: str = "en") -> str:
    """"Coverage: elderly +10.6 pp" (shares in percentage points)."""
    o = BY_NAME[outcome]
    if o.unit == "share":
        amount = f"{gain * 100:+.1f} pp" if lang == "en" else f"{gain * 100:+.1f} 个百分点"
    else:
        amount = f"{gain:+.3g} {o.unit_label(lang)}"
    return f"{o.label(lang)} {amount}"


def describe_choice(result: OptimizationResult, lang: str = "en") -> str:
    """The chosen package in words, with its gain, robustness and cost."""
    problem = result.problem
    unit = describe(problem.cost).unit_label(lang)
    if not problem.targets:
        if lang == "zh":
            return "未给定目标（--target），故只给出成本与结果的前沿。"
        return "No target was given (--target), so no package is chosen; the front shows " \
               "what each cost buys."
    chosen = result.chosen
    n = len(problem.draws)
    if chosen is None:
        best = result.candidates.sort_values(["share_met", "cost"], ascending=[False, True])
        top = best.iloc[0] if not best.empty else None
        reached = f"{int(top['draws_met'])} of {n}" if top is not None else "none"
        return (f"No candidate meets {', '.join(t.text() for t in problem.targets)} in at "
                f"least {problem.robust_share:.0%} of the {n} draws (the best reaches it in "
                f"{reached}); widen the lever ranges or search more candidates.")
    steps = [lever_words(a.key, problem.base.get(a.key), chosen[a.key], lang)
             for a in problem.levers]
    gains = [gain_words(t.outcome, chosen[f"gain.{t.outcome}"], lang) for t in problem.targets]
    met = int(chosen["draws_met"])
    base_cost = ""
    if result.base:
        base_cost = (f"（现状 {result.base['cost']:.0f}）" if lang == "zh"
                     else f" (status quo {result.base['cost']:.0f})")
    if lang == "zh":
        return (f"{'；'.join(steps)}：相对现状 {'，'.join(gains)}，在 {n} 次抽样中有 {met} 次"
                f"（{met / n:.0%}）达到目标，成本 {chosen['cost']:.0f} {unit}{base_cost}。")
    text = "; ".join(steps)
    return (f"{text[:1].upper()}{text[1:]}: {', '.join(gains)} over the status quo "
            f"(mean over draws); the target holds in {met} of {n} draws ({met / n:.0%}), "
            f"cost {chosen['cost']:.0f} {unit}{base_cost}.")


def front_figure(result: OptimizationResult, lang: str = "en") -> Any:
    """Cost against the first objective: every candidate, the front, base and choice."""
    import matplotlib.pyplot as plt

    from sanshe.reporting.plotting import style

    problem, table = result.problem, result.candidates
    outcome = problem.objectives[0]
    scale = 100.0 if BY_NAME[outcome].unit == "share" else 1.0
    unit = "%" if scale == 100 else BY_NAME[outcome].unit_label(lang)
    words = {"en": ("candidates", "Pareto front", "status quo", "chosen (cheapest robust)"),
             "zh": ("候选方案", "帕累托前沿", "现状", "选定方案（最便宜且稳健）")}[lang]
    with style(lang):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        ax.scatter(table["cost"], table[outcome] * scale, s=14, color="0.7", label=words[0])
        front = result.front
        ax.plot(front["cost"], front[outcome] * scale, "o-", color="C0", ms=4, label=words[1])
        if result.base:
            ax.scatter([result.base["cost"]], [result.base[outcome] * scale], marker="s",
                       color="k", label=words[2], zorder=3)
        if result.chosen is not None:
            ax.scatter([result.chosen["cost"]], [result.chosen[outcome] * scale], marker="*",
                       s=160, color="C3", label=words[3], zorder=4)
        cost = describe(problem.cost)
        ax.set_xlabel(f"{cost.label(lang)} ({cost.unit_label(lang)})")
        ax.set_ylabel(f"{BY_NAME[outcome].label(lang)} ({unit})")
        ax.legend(loc="lower right")
        fig.tight_layout()
    return fig


def _front_rows(result: OptimizationResult, lang: str) -> tuple[list[str], list[list[str]]]:
    problem = result.problem
    headers = ["#", *[a.key for a in problem.levers], describe(problem.cost).label(lang),
               *[BY_NAME[o].label(lang) for o in problem.objectives]]
    if problem.targets:
        headers.append("draws met" if lang == "en" else "达标抽样数")
    rows = []
    for row in result.front.to_dict("records"):
        cells = [str(int(row["number"])), *[_amount(row[a.key]) for a in problem.levers],
                 f"{row['cost']:.1f}", *[_fmt(o, row[o]) for o in problem.objectives]]
        if problem.targets:
            cells.append(f"{int(row['draws_met'])}/{len(problem.draws)}")
        rows.append(cells)
    return headers, rows


def _fmt(outcome: str, value: float) -> str:
    return f"{value * 100:.1f}%" if BY_NAME[outcome].unit == "share" else f"{value:.3g}"


def _robustness_rows(result: OptimizationResult) -> tuple[list[str], list[list[str]]]:
    """Per draw: the constants and the chosen package's gain for each target."""
    problem, chosen = result.problem, result.chosen
    headers = ["draw", *problem.uncertain, *[f"gain {t.outcome}" for t in problem.targets],
               "met"]
    rows = []
    for d, draw in enumerate(problem.draws):
        gains = [chosen[f"gains.{t.outcome}"][d] for t in problem.targets]
        met = all(t.met(g) for t, g in zip(problem.targets, gains, strict=True))
        rows.append([str(d + 1), *[f"{draw[n]:.4g}" for n in problem.uncertain],
                     *[_gain_cell(t.outcome, g) for t, g in zip(problem.targets, gains,
                                                                 strict=True)],
                     "yes" if met else "no"])
    return headers, rows


def _gain_cell(outcome: str, gain: float) -> str:
    return f"{gain * 100:+.1f} pp" if BY_NAME[outcome].unit == "share" else f"{gain:+.3g}"


def _settings_lines(result: OptimizationResult) -> list[str]:
    p = result.problem
    return [
        f"base scenario: {p.base.name} ({p.residents:,} residents), {p.months} months",
        "levers: " + ", ".join(a.describe() for a in p.levers),
        f"cost: {p.cost} (measured in the runs, mean over draws and replications)",
        "objectives: " + ", ".join(p.objectives),
        "target: " + (", ".join(t.text() for t in p.targets) or "none")
        + f" in at least {p.robust_share:.0%} of draws",
        f"uncertain constants ({len(p.draws)} Latin-hypercube draws): " + ", ".join(
            f"{n} {PARAMETERS[n].low:g}–{PARAMETERS[n].high:g}" for n in p.uncertain),
        f"{p.replications} replication(s) per draw; the same draws and seeds for every "
        f"candidate and the base (seed {p.seed})",
        f"search: Optuna {p.sampler}, {len(result.candidates)} candidates in batches of "
        f"{p.population}",
    ]


def write_report(result: OptimizationResult, out: Path, lang: str = "en") -> Path:
    """report.md, report.html, front.png and candidates.csv in ``out``; the report's path."""
    from sanshe.reporting.plotting import resolve_lang

    lang = resolve_lang(lang)
    out.mkdir(parents=True, exist_ok=True)
    fig = front_figure(result, lang)
    fig.savefig(out / "front.png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    result.candidates.drop(columns=[c for c in result.candidates if c.startswith("gains.")]
                           ).to_csv(out / "candidates.csv", index=False)
    sections = _sections(result, lang)
    (out / "report.md").write_text(_markdown(sections), encoding="utf-8")
    (out / "report.html").write_text(
        pages.render("sections.html.j2", title="sanshe optimize", lang=lang, sections=sections),
        encoding="utf-8")
    return out / "report.md"


#: Report headings, (English, Chinese).
_HEADINGS = {
    "title": ("The cheapest robust package", "最便宜的稳健政策组合"),
    "settings": ("Settings", "设置"),
    "front": ("Pareto front: cost against outcomes", "帕累托前沿：成本与结果"),
    "robust": ("Robustness of the chosen package", "选定方案的稳健性"),
    "per_draw": ("The chosen package's mean paired gain over the status quo at each draw of "
                 "the uncertain constants (the same seeds for both).",
                 "在不确定常数的每次抽样下，选定方案相对现状的平均配对增益（两者使用相同随机种子）。"),
}


def _sections(result: OptimizationResult, lang: str) -> list[tuple[str, Any]]:
    def say(key: str) -> str:
        return _HEADINGS[key][lang == "zh"]

    parts: list[tuple[str, Any]] = [("h1", f"{say('title')}: {result.name}"),
                                    ("p", describe_choice(result, lang)),
                                    ("h2", say("settings")), ("ul", _settings_lines(result)),
                                    ("h2", say("front")), ("img", "front.png"),
                                    ("table", _front_rows(result, lang))]
    if result.chosen is not None:
        parts += [("h2", say("robust")), ("p", say("per_draw")),
                  ("table", _robustness_rows(result))]
    parts += [("p", "Every candidate: candidates.csv. Every run: the results store "
                    f"({result.store.url}), experiment '{result.name}'.")]
    return parts


def _markdown(sections: list[tuple[str, Any]]) -> str:
    lines: list[str] = []
    for kind, body in sections:
        if kind == "h1":
            lines += [f"# {body}", ""]
        elif kind == "h2":
            lines += [f"## {body}", ""]
        elif kind == "p":
            lines += [body, ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in body] + [""]
        elif kind == "img":
            lines += [f"![front]({body})", ""]
        else:
            headers, rows = body
            lines += ["| " + " | ".join(headers) + " |",
                      "|" + "---|" * len(headers)]
            lines += ["| " + " | ".join(r) + " |" for r in rows] + [""]
    return "\n".join(lines)


