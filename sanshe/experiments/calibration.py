"""Calibration of uncertain behavioural constants to figures from the sources.

One method for every use (``sanshe calibrate``). A targets file lists source figures, each
with the scenario, months and district it is measured in (or, given a SCENARIO on the command
line, those it does not name run in that scenario), some held out as out-of-sample checks,
and the constants to fit with their search ranges. A quasi-random design (scrambled Sobol or
a Latin hypercube, scipy.stats.qmc) over the free constants runs each point for R
replications under common random numbers (the same seeds at every point, so differences
between points are not seed noise); a point's loss sums the squared standardized misses of
the fitted figures' replicate means (inequalities count only when violated). A second design
refines around the best point, more replications confirm it for the fit table, and the best
``accept`` share of the first design is the approximate posterior (ABC by rejection): its
spread shows how well the figures pin each constant down. Every run goes through the one run
engine and, with a store, is committed as it ends, so a killed calibration resumes.

Why not scipy.optimize: the objective is a noisy, expensive simulation mean (seconds per
run); Nelder–Mead chases noise and gives no uncertainty, differential evolution needs far
more evaluations than the budget allows. A quasi-random design parallelises, is
reproducible, and its accepted set shows how well the targets pin each constant down (a flat
acceptance region is reported, not hidden).
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from sanshe.experiments import designs, runner
from sanshe.experiments.experiment import RunResult, plan, resolve
from sanshe.inputs.errors import InputError
from sanshe.inputs.parameters import PARAMETERS, TABLE
from sanshe.inputs.schema import flatten
from sanshe.reporting.stats import mean_ci

KINDS = ("equal", "at_least", "at_most", "input")


@dataclass(frozen=True)
class Free:
    """A behavioural constant to fit, with its search range."""

    name: str
    low: float
    high: float


def parse_free(specs: list[str]) -> list[Free]:
    """``KEY=LOW:HIGH`` → Free; KEY must be a behavioural constant, inside its range."""
    out = []
    for spec in specs:
        try:
            key, rng = spec.split("=", 1)
            low, high = (float(x) for x in rng.split(":"))
        except ValueError as exc:
            raise InputError(f"--free '{spec}': expected KEY=LOW:HIGH, e.g. "
                             "founding_rate=0.001:0.01.") from exc
        key = key.removeprefix("parameters.")
        if key not in PARAMETERS:
            raise InputError(f"--free '{spec}': '{key}' is not a behavioural constant "
                             "(sanshe/inputs/parameters.py).")
        p = PARAMETERS[key]
        if not low < high:
            raise InputError(f"--free '{spec}': LOW must be below HIGH.")
        if low < p.low or high > p.high:
            raise InputError(f"--free '{spec}': outside the plausible range of {key} "
                             f"({p.low:g}..{p.high:g}).")
        out.append(Free(key, low, high))
    if not out:
        raise InputError("give at least one --free KEY=LOW:HIGH.")
    return out


def _miss(value: float, source: float, tolerance: float, kind: str) -> float:
    """(value − source) in units of tolerance × |source|; an inequality counts only when
    violated."""
    rel = (value - source) / (tolerance * abs(source) or 1.0)
    if kind == "at_least":
        return min(rel, 0.0)
    if kind == "at_most":
        return max(rel, 0.0)
    return rel


# ---------------------------------------------------------------------- targets
#: The targets shipped with the package (issue 14, deliverable 9).
JOINT_TARGETS = Path(__file__).with_name("calibration_targets.toml")

#: Statistics a target may name: (run finals with the calibration extras, target) → value.
#: "total" is the final value × the residents (a count for the whole district).
JOINT_STATISTICS = ("final", "per_1000", "growth", "ratio", "total")

#: Count outcomes whose first month the calibration run keeps (for "growth").
GROWTH_OUTCOMES = ("so_count", "community_so_count", "sw_employed")

#: Months at the end of a run over which volunteering is followed resident by resident.
VOLUNTEER_YEAR = 12


@dataclass(frozen=True)
class Figure:
    """One source figure of the joint calibration (a ``[[target]]`` of the targets file)."""

    name: str
    figure: str
    statistic: str
    outcome: str
    scenario: str
    months: int
    kind: str
    value: float
    tolerance: float
    source: str
    held_out: bool = False
    denominator: str = ""
    settings: tuple[tuple[str, Any], ...] = ()  # dotted overrides: district size, a lever

    @property
    def setting(self) -> str:
        """The runs this figure needs: scenario, months and overrides, as one key."""
        extra = ",".join(f"{k.split('.')[-1]}={v}" for k, v in self.settings)
        return f"{self.scenario}@{self.months}" + (f"@{extra}" if extra else "")

    def overrides(self) -> dict[str, Any]:
        return dict(self.settings)


@dataclass(frozen=True)
class FreeConstant:
    """A constant to fit: its search range (inside the table's) and scale."""

    name: str
    low: float
    high: float
    log: bool = False

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Unit-cube coordinates onto the search range (log-uniform if ``log``)."""
        if self.log:
            return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        return self.low + u * (self.high - self.low)


@dataclass(frozen=True)
class JointSpec:
    """The targets file read: figures, free constants and design settings."""

    figures: tuple[Figure, ...]
    free: tuple[FreeConstant, ...]
    design: dict[str, Any]

    @property
    def fitted(self) -> list[Figure]:
        return [f for f in self.figures if not f.held_out and f.kind != "input"]

    @property
    def held_out(self) -> list[Figure]:
        return [f for f in self.figures if f.held_out and f.kind != "input"]

    @property
    def inputs(self) -> list[Figure]:
        """Levers the scenario must set to a source's value: checked, never fitted."""
        return [f for f in self.figures if f.kind == "input"]

    def settings(self) -> dict[str, Figure]:
        """One figure per distinct setting (its scenario, months and district)."""
        return {f.setting: f for f in reversed(self.figures) if f.kind != "input"}


DESIGN_DEFAULTS: dict[str, Any] = {"method": "sobol", "points": 16, "replications": 2,
                                   "refine": 8, "refine_width": 0.25, "confirm": 6,
                                   "accept": 0.25, "seed": 2013}


def load_joint(path: str | Path = JOINT_TARGETS, scenario: str | None = None,
               months: int | None = None, free: Sequence[Free] = ()) -> JointSpec:
    """Read a targets file; a bad entry is named with what to fix. Figures that name no
    scenario (or months) run in ``scenario`` (for ``months``, default the scenario's); ``free``
    (``--free KEY=LOW:HIGH``) replaces the file's [[free]] list."""
    path = Path(path)
    data = _read_targets(path)
    figures = tuple(_figure(path, row, scenario, months) for row in data.get("target", []))
    if scenario is not None and all("scenario" in row for row in data.get("target", [])):
        raise InputError(f"{path}: every target names its own scenario, so SCENARIO "
                         f"'{scenario}' would not be used; leave it out.")
    spec = JointSpec(figures, tuple(FreeConstant(f.name, f.low, f.high) for f in free)
                     or tuple(_free_constant(path, row) for row in data.get("free", [])),
                     {**DESIGN_DEFAULTS, **data.get("design", {})})
    if not spec.fitted:
        raise InputError(f"{path}: needs at least one [[target]] to fit (not held_out, "
                         "not an input).")
    if not spec.free:
        raise InputError(f"{path}: needs at least one [[free]] constant (or --free "
                         "KEY=LOW:HIGH).")
    return spec


def _read_targets(path: Path) -> dict[str, Any]:
    """A targets file's TOML, or a clear error naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}).") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the calibration targets {path}: {exc}.") from exc


def fitted_regions(path: str | Path = JOINT_TARGETS) -> dict[str, tuple[float, float]]:
    """The targets file's ``[posterior]``: per fitted constant, the region its last fit
    accepted (``name = [low, high]``, inside the table range and holding the table's
    value). What a fit allows of a constant, for analyses that vary it (robustness)."""
    path = Path(path)
    data = _read_targets(path)
    regions = {}
    for name, bounds in data.get("posterior", {}).items():
        p = PARAMETERS.get(name)
        if p is None:
            raise InputError(f"{path}: [posterior] names '{name}', which is not in the "
                             "parameter table (sanshe/inputs/parameters.py).")
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, int | float) for b in bounds)):
            raise InputError(f"{path}: [posterior] {name} must be [low, high], two numbers.")
        low, high = float(bounds[0]), float(bounds[1])
        if not p.low <= low < high <= p.high or not low <= p.default <= high:
            raise InputError(f"{path}: [posterior] {name} = [{low:g}, {high:g}] must lie "
                             f"inside the table range {p.low:g}..{p.high:g} and hold the "
                             f"table's value {p.default:g}.")
        regions[name] = (low, high)
    return regions


def _figure(path: Path, row: dict[str, Any], scenario: str | None,
            months: int | None) -> Figure:
    name = row.get("name", "?")
    row = {"statistic": "final", **row}
    if scenario is not None:
        row.setdefault("scenario", scenario)
    missing = {"name", "outcome", "scenario", "kind", "value", "source"} - set(row)
    if missing:
        hint = " (or give a SCENARIO on the command line)" if "scenario" in missing else ""
        raise InputError(f"{path}: target '{name}' lacks {sorted(missing)}{hint}.")
    if row["kind"] not in KINDS:
        raise InputError(f"{path}: target '{name}': kind must be one of {', '.join(KINDS)} "
                         f"(got {row['kind']!r}).")
    if row["statistic"] not in JOINT_STATISTICS:
        raise InputError(f"{path}: target '{name}': statistic '{row['statistic']}' is not one "
                         f"of {', '.join(JOINT_STATISTICS)}.")
    if row["statistic"] == "ratio" and not row.get("denominator"):
        raise InputError(f"{path}: target '{name}': a ratio needs a denominator outcome.")
    try:
        value, tolerance = float(row["value"]), float(row.get("tolerance", 0.1))
    except (TypeError, ValueError):
        raise InputError(f"{path}: target '{name}': value and tolerance must be numbers "
                         "(e.g. value = 0.42).") from None
    if not tolerance > 0 or not value != 0:
        raise InputError(f"{path}: target '{name}': value and tolerance must be non-zero.")
    return Figure(str(name), str(row.get("figure", name)), row["statistic"], row["outcome"],
                  str(row["scenario"]), _months(row, months), row["kind"], value, tolerance,
                  str(row["source"]), bool(row.get("held_out", False)),
                  str(row.get("denominator", "")), _settings(row))


def _months(row: dict[str, Any], months: int | None) -> int:
    """A figure's months: its own, the command's, or its scenario's."""
    if "months" in row:
        return int(row["months"])
    if months is not None:
        return int(months)
    return int(resolve(row["scenario"]).get("run.months"))


def _settings(row: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A target's ``district`` (sizes) and ``overrides`` (dotted keys) as sorted pairs."""
    pairs = {f"district.{k}": int(v) for k, v in row.get("district", {}).items()}
    pairs.update(flatten(row.get("overrides", {})))
    return tuple(sorted(pairs.items()))


def _free_constant(path: Path, row: dict[str, Any]) -> FreeConstant:
    name = row.get("name", "?")
    if name not in PARAMETERS:
        raise InputError(f"{path}: free constant '{name}' is not in the parameter table "
                         "(sanshe/inputs/parameters.py); remove it or name another.")
    p = PARAMETERS[name]
    low, high = float(row.get("low", p.low)), float(row.get("high", p.high))
    if not p.low <= low < high <= p.high:
        raise InputError(f"{path}: free constant '{name}': search range {low:g}..{high:g} "
                         f"must lie inside the table range {p.low:g}..{p.high:g}.")
    log = bool(row.get("log", False))
    if log and low <= 0:
        raise InputError(f"{path}: free constant '{name}': a log scale needs low > 0.")
    return FreeConstant(name, low, high, log)


# ---------------------------------------------------------------------- one run
def calibration_run(spec: Any) -> RunResult:
    """One run as :func:`~sanshe.experiments.experiment.run_single` makes it, plus the
    statistics the figures need that no outcome holds (``cal_*`` finals): the residents,
    the first month of the count outcomes, and volunteering followed resident by resident
    over the last year (who volunteered at all; in how many months; per registered
    volunteer)."""
    from sanshe.inputs.outcomes import OUTCOME_NAMES, finals
    from sanshe.sim.model import CommunityGovernanceModel, discard

    started = time.perf_counter()
    sim = CommunityGovernanceModel(scenario=spec.scenario, seed=spec.seed)
    months_volunteered = np.zeros(sim.pop.volunteer.size, np.int16)
    registered = 0.0
    for month in range(spec.months):
        sim.step()
        if month >= spec.months - VOLUNTEER_YEAR:
            months_volunteered += sim.pop.volunteer
            registered += sim.pop.registered.sum() / VOLUNTEER_YEAR
    series = sim.series()
    discard(sim)
    final = finals(series)
    final.update(volunteer_statistics(months_volunteered, registered))
    final["cal_residents"] = float(months_volunteered.size)
    for name in GROWTH_OUTCOMES:
        final[f"cal_initial_{name}"] = float(series[name][0])
    return RunResult(scenario=spec.scenario.name, replication=spec.replication,
                     seed=spec.seed, months=spec.months, parameters=spec.scenario.to_dict(),
                     final=final, series={n: series[n] for n in OUTCOME_NAMES},
                     elapsed=time.perf_counter() - started)


def volunteer_statistics(months_volunteered: np.ndarray,
                         registered: float = math.nan) -> dict[str, float]:
    """Share of residents who volunteered in any month of the year, the mean number of
    such months among them (one resident counts once however often she comes), and the
    months volunteered in the year per registered volunteer (``registered``: their mean
    count over the year) — registered vs active volunteering."""
    ever = months_volunteered > 0
    return {"cal_volunteer_share_year": float(ever.mean()) if ever.size else math.nan,
            "cal_volunteer_months_per_volunteer":
                float(months_volunteered[ever].mean()) if ever.any() else math.nan,
            "cal_volunteer_months_per_registered":
                float(months_volunteered.sum() / registered) if registered > 0 else math.nan}


def statistic(figure: Figure, final: dict[str, float]) -> float:
    """The figure's statistic in one run's finals (with the ``cal_*`` extras)."""
    value = final[figure.outcome]
    if figure.statistic == "per_1000":
        return 1000.0 * value / final["cal_residents"]
    if figure.statistic == "growth":
        first = final[f"cal_initial_{figure.outcome}"]
        return value / first if first > 0 else math.nan
    if figure.statistic == "ratio":
        below = final[figure.denominator]
        return value / below if below > 0 else math.nan
    if figure.statistic == "total":
        return float(value) * final["cal_residents"]
    return float(value)


def standardized_miss(figure: Figure, value: float) -> float:
    """(simulated − source) / (tolerance × |source|); an inequality counts when violated,
    an undefined value (NaN) as a miss of 10 units."""
    if math.isnan(value):
        return 10.0
    return _miss(value, figure.value, figure.tolerance, figure.kind)


# ---------------------------------------------------------------------- design and runs
def unit_design(method: str, d: int, n: int, seed: int) -> np.ndarray:
    """``n`` quasi-random points in [0, 1)^d: scrambled Sobol (n a power of two, for its
    balance) or a Latin hypercube."""
    if method == "sobol":
        if n < 2 or n & (n - 1):
            raise InputError(f"a Sobol design needs a power of two points (got {n}); "
                             "use 8, 16, 32, 64 or method lhs.")
        return designs.qmc_engine(qmc.Sobol, d, seed).random_base2(int(math.log2(n)))
    if method == "lhs":
        return designs.latin_hypercube(d, n, seed)
    raise InputError(f"design method must be sobol or lhs (got {method!r}).")


def constants_at(free: Sequence[FreeConstant], unit: np.ndarray) -> np.ndarray:
    """Unit points onto the constants' search ranges (integers rounded)."""
    cols = [f.from_unit(unit[:, j]) for j, f in enumerate(free)]
    out = np.column_stack(cols)
    for j, f in enumerate(free):
        if PARAMETERS[f.name].is_integer:
            out[:, j] = np.round(out[:, j])
    return out


def refine_box(center: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """A box of ``width`` (share of each unit axis) around ``center``, kept in [0, 1]."""
    low = np.clip(center - width / 2, 0.0, 1.0 - width)
    return low, low + width


def point_jobs(spec: JointSpec, index: int, values: np.ndarray, replications: range,
               seed: int) -> list[runner.Job]:
    """The runs of one design point: every setting × ``replications``, common seeds."""
    params = {f"parameters.{f.name}": float(v) for f, v in zip(spec.free, values, strict=True)}
    jobs = []
    for key, fig in spec.settings().items():
        specs = plan([fig.scenario], replications=max(replications) + 1, seed=seed,
                     months=fig.months, overrides={**fig.overrides(), **params})
        for r in replications:
            jobs.append(runner.Job(f"p{index}/{key}/r{r}", specs[r],
                                   {"point": index, "setting": key}))
    return jobs


@dataclass
class _Runs:
    """Finals by run key: from the store when resuming, then from the engine."""

    engine: Any
    store: Any = None
    experiment: int | None = None
    progress: bool = True
    finals: dict[str, dict[str, float]] = field(default_factory=dict)
    ran: int = 0

    def ensure(self, jobs: Sequence[runner.Job], label: str) -> None:
        """Run the jobs not yet held; a failure is raised after the others finished (and,
        with a store, were kept for a rerun)."""
        todo = [j for j in jobs if j.key not in self.finals]
        failed = {}
        for job, outcome in runner.run_jobs(todo, calibration_run, executor=self.engine,
                                            store=self.store, experiment=self.experiment,
                                            progress=self.progress, label=label):
            if isinstance(outcome, runner.RunError):
                failed[job.key] = outcome
                continue
            self.finals[job.key] = dict(outcome.final)
            self.ran += 1
        if failed:
            raise runner.RunsFailed(failed, len(todo))

    def values(self, figure: Figure, point: int, replications: range) -> list[float]:
        return [statistic(figure, self.finals[f"p{point}/{figure.setting}/r{r}"])
                for r in replications]


def loss(spec: JointSpec, runs: _Runs, point: int, replications: range) -> float:
    """Sum of squared standardized misses of the fitted figures' replicate means."""
    return float(sum(standardized_miss(f, float(np.nanmean(runs.values(f, point, replications)))
                                       ) ** 2 for f in spec.fitted))


@dataclass
class JointResult:
    """A joint calibration: the design, its losses, the best constants and the fit."""

    spec: JointSpec
    design: dict[str, Any]
    values: np.ndarray  # points × free constants (global design, then refinement)
    losses: np.ndarray
    global_points: int
    best: int
    fit: list[dict[str, Any]]
    runs: int = 0
    resumed: int = 0
    seconds: float = 0.0

    @property
    def best_constants(self) -> dict[str, float]:
        return {f.name: _rounded(f.name, self.values[self.best, j])
                for j, f in enumerate(self.spec.free)}

    def estimates(self) -> list[dict[str, Any]]:
        """Per constant: the best value, and the mean, sd and range of the accepted share
        of the global design (approximate posterior; refinement points are not a random
        design, so they stay out of it)."""
        n = self.global_points
        keep = np.argsort(self.losses[:n])[: max(2, math.ceil(self.design["accept"] * n))]
        rows = []
        for j, f in enumerate(self.spec.free):
            acc = self.values[keep, j]
            p = PARAMETERS[f.name]
            rows.append({"parameter": f.name, "table_default": p.default,
                         "best": self.best_constants[f.name], "posterior_mean": float(acc.mean()),
                         "posterior_sd": float(acc.std(ddof=1)), "accepted_min": float(acc.min()),
                         "accepted_max": float(acc.max()), "search_low": f.low,
                         "search_high": f.high, "at_edge": _at_edge(f, self.values[self.best, j])})
        return rows

    def regions(self) -> dict[str, tuple[float, float]]:
        """Per constant, what the fit accepted: the approximate posterior's mean ± 2 sd,
        inside the table range and holding the best value (the ``[posterior]`` that
        robustness draws a fitted constant from: :func:`fitted_regions`)."""
        out = {}
        for e in self.estimates():
            p = PARAMETERS[e["parameter"]]
            spread = 2.0 * e["posterior_sd"]
            low = float(f"{e['posterior_mean'] - spread:.4g}")
            high = float(f"{e['posterior_mean'] + spread:.4g}")
            low, high = max(p.low, min(low, e["best"])), min(p.high, max(high, e["best"]))
            out[e["parameter"]] = (low, high) if low < high else (p.low, p.high)
        return out

    def to_json(self) -> dict[str, Any]:
        names = [f.name for f in self.spec.free]
        return {"method": f"{self.design['method']} design over the free constants, loss = sum "
                "of squared standardized misses of replicate means (common random numbers), "
                "refinement around the best point, confirmation replications at the best",
                "design": self.design, "seconds": self.seconds, "runs": self.runs,
                "resumed": self.resumed, "best": self.best_constants,
                "estimates": self.estimates(), "fit": self.fit,
                "points": [{**dict(zip(names, map(float, row), strict=True)), "loss": float(miss),
                            "stage": "global" if i < self.global_points else "refine"}
                           for i, (row, miss) in enumerate(zip(self.values, self.losses,
                                                            strict=True))]}


def _rounded(name: str, value: float) -> float:
    return float(round(value)) if PARAMETERS[name].is_integer else float(f"{value:.4g}")


def _at_edge(free: FreeConstant, value: float) -> bool:
    """Whether the best value sits within 2% of the search box's edge, on the scale it
    was drawn on (a fit the box truncates, reported rather than hidden)."""
    u = _to_unit(free, value)
    return bool(u < 0.02 or u > 0.98)


def calibrate_joint(spec: JointSpec, *, points: int | None = None,
                    replications: int | None = None, refine: int | None = None,
                    confirm: int | None = None, method: str | None = None,
                    seed: int | None = None, store: Any = None, name: str | None = None,
                    fresh: bool = False, workers: int | None = None,
                    executor: Any = None, scheduler: str | None = None,
                    progress: bool = True) -> JointResult:
    """Fit the free constants of ``spec`` to its fitted figures (see the section comment).

    Options left None come from the targets file's [design]. With ``store`` (a
    :class:`~sanshe.experiments.store.ResultStore`) every run is committed as it ends under
    experiment ``name`` (default from the settings' hash); rerunning the same settings
    resumes, ``fresh`` drops a stored one first.
    """
    started = time.perf_counter()
    design = {**spec.design, **{k: v for k, v in dict(
        points=points, replications=replications, refine=refine, confirm=confirm,
        method=method, seed=seed).items() if v is not None}}
    design["confirm"] = max(int(design["confirm"]), int(design["replications"]))
    reps = range(int(design["replications"]))
    d, seed = len(spec.free), int(design["seed"])
    values = constants_at(spec.free, unit_design(design["method"], d, int(design["points"]),
                                                 seed))
    with runner.engine(executor, workers, scheduler) as shared:
        runs = _open_runs(spec, design, store, name, fresh, shared, progress)
        resumed = len(runs.finals)
        runs.ensure([j for i, row in enumerate(values)
                     for j in point_jobs(spec, i, row, reps, seed)], "calibration: design")
        losses = np.array([loss(spec, runs, i, reps) for i in range(len(values))])
        if int(design["refine"]) > 0:
            values, losses = _refine(spec, design, runs, values, losses, seed, reps)
        best = int(np.argmin(losses))
        confirm = range(int(design["confirm"]))
        runs.ensure(point_jobs(spec, best, values[best], confirm, seed),
                    "calibration: best point")
    fit = fit_rows(spec, runs, best, confirm)
    return JointResult(spec, design, values, losses, int(design["points"]), best, fit,
                       runs.ran, resumed, time.perf_counter() - started)


def _refine(spec: JointSpec, design: dict[str, Any], runs: _Runs, values: np.ndarray,
            losses: np.ndarray, seed: int, reps: range) -> tuple[np.ndarray, np.ndarray]:
    """A second design of ``refine`` points in a box around the best global point."""
    n, d = len(values), len(spec.free)
    center = np.array([_to_unit(f, values[int(np.argmin(losses)), j])
                       for j, f in enumerate(spec.free)])
    low, high = refine_box(center, float(design["refine_width"]))
    unit = low + designs.latin_hypercube(d, int(design["refine"]), seed + 1) * (high - low)
    extra = constants_at(spec.free, unit)
    runs.ensure([j for i, row in enumerate(extra)
                 for j in point_jobs(spec, n + i, row, reps, seed)], "calibration: refine")
    more = np.array([loss(spec, runs, n + i, reps) for i in range(len(extra))])
    return np.vstack([values, extra]), np.concatenate([losses, more])


def _to_unit(free: FreeConstant, value: float) -> float:
    if free.log:
        return (math.log(value) - math.log(free.low)) / (math.log(free.high)
                                                         - math.log(free.low))
    return (value - free.low) / (free.high - free.low)


def _open_runs(spec: JointSpec, design: dict[str, Any], store: Any, name: str | None,
               fresh: bool, engine: Any, progress: bool) -> _Runs:
    """The run record: with a store, the experiment (created, or resumed with its finals)."""
    if store is None:
        return _Runs(engine, progress=progress)
    from sanshe.experiments.store import spec_hash

    identity = {"figures": [f.__dict__ for f in spec.figures],
                "free": [f.__dict__ for f in spec.free],
                "design": {k: v for k, v in design.items() if k != "confirm"}}
    name = name or f"calibrate-{spec_hash(identity)[:8]}"
    if fresh and name in set(store.experiments().get("name", [])):
        store.delete_experiment(name)
    exp_id = store.experiment(name, "calibrate", identity)
    runs = _Runs(engine, store, exp_id, progress)
    if store.finished_keys(exp_id):
        frame = store.runs(name)
        extra = [c for c in frame.columns if c not in ("key", "scenario", "replication", "seed",
                                                       "months", "status", "error", "elapsed",
                                                       "created", "version", "git_commit")]
        for row in frame[["key", *extra]].to_dict("records"):
            runs.finals[row["key"]] = {k: float(row[k]) for k in extra
                                       if isinstance(row[k], int | float)}
    return runs


def fit_rows(spec: JointSpec, runs: _Runs, best: int, reps: range) -> list[dict[str, Any]]:
    """Each figure at the best point: mean, 95% CI over replications, standardized miss."""
    rows = []
    for f in spec.figures:
        vals = runs.values(f, best, reps)
        mean, low, high = mean_ci(vals)
        z = standardized_miss(f, mean)
        rows.append({"target": f.name, "role": "held out" if f.held_out else "fitted",
                     "figure": f.figure, "scenario": f.setting, "kind": f.kind,
                     "value": f.value, "tolerance": f.tolerance, "simulated": mean,
                     "ci_low": low, "ci_high": high, "replications": len(vals),
                     "standardized_miss": z, "within_tolerance": abs(z) <= 1.0,
                     "source": f.source})
    return rows + [_input_row(f) for f in spec.inputs]


def _input_row(f: Figure) -> dict[str, Any]:
    """A lever the figure's scenario must set to the source's value, as a fit row."""
    try:
        actual = float(resolve(f.scenario).with_overrides(f.overrides()).get(f.outcome))
    except (KeyError, TypeError, ValueError):
        raise InputError(f"target '{f.name}': '{f.outcome}' is not a numeric lever of "
                         f"scenario {f.scenario}.") from None
    return {"target": f.name, "role": "input", "figure": f.figure, "scenario": f.scenario,
            "kind": f.kind, "value": f.value, "tolerance": f.tolerance, "simulated": actual,
            "ci_low": actual, "ci_high": actual, "replications": 0,
            "standardized_miss": 0.0 if math.isclose(actual, f.value) else math.inf,
            "within_tolerance": math.isclose(actual, f.value), "source": f.source}


# ---------------------------------------------------------------------- outputs
#: The parameter table the fitted defaults go into.
TABLE_PATH = Path(__file__).resolve().parents[1] / "inputs" / "parameters.py"


def patch_lines(result: JointResult) -> list[str]:
    """``name = value`` per fitted constant, with the table default it replaces."""
    return [f"{e['parameter']} = {e['best']:.6g}  # table default {e['table_default']:g}; "
            f"posterior {e['posterior_mean']:.4g} ± {e['posterior_sd']:.2g}"
            + ("; AT THE EDGE of the search range" if e["at_edge"] else "")
            for e in result.estimates()]


def write_joint(result: JointResult, out: str | Path) -> list[Path]:
    """``calibration.json``, ``fit.csv`` and ``fitted.toml`` (a [parameters] table, also a
    patch for sanshe/inputs/parameters.py: ``sanshe calibrate --apply``) in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    js = out / "calibration.json"
    js.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False, default=float),
                  encoding="utf-8")
    fit = out / "fit.csv"
    with open(fit, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(result.fit[0]))
        writer.writeheader()
        writer.writerows(result.fit)
    toml = out / "fitted.toml"
    toml.write_text("# sanshe calibrate: the best design point\n"
                    "[parameters]\n" + "\n".join(patch_lines(result)) + "\n\n"
                    "# what the fit accepted (mean ± 2 sd), for the targets file's [posterior]\n"
                    "[posterior]\n" + "\n".join(region_lines(result.regions())) + "\n",
                    encoding="utf-8")
    return [js, fit, toml]


def region_lines(regions: dict[str, tuple[float, float]]) -> list[str]:
    """``name = [low, high]`` per constant, as ``[posterior]`` holds them."""
    return [f"{name} = [{low:.6g}, {high:.6g}]" for name, (low, high) in regions.items()]


def apply_regions(regions: dict[str, tuple[float, float]],
                  path: str | Path = JOINT_TARGETS) -> list[str]:
    """Set ``regions`` in the targets file's ``[posterior]`` (a line replaced in place, or
    added at the table's end, or the table added), the other lines untouched; returns
    what changed. A refit's ``--apply`` calls it so robustness draws what the new fit
    allows."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if not re.search(r"^\[posterior\]\s*$", text, re.M):
        text = text.rstrip("\n") + "\n\n[posterior]\n"
    head = re.search(r"^\[posterior\]\s*$", text, re.M)
    after = re.search(r"^\[", text[head.end():], re.M)
    end = head.end() + after.start() if after else len(text)
    block, changed = text[head.end():end], []
    for name, line in zip(regions, region_lines(regions), strict=True):
        block, n = re.subn(rf"^{re.escape(name)}\s*=.*$", line, block, count=1, flags=re.M)
        if n == 0:
            block = block.rstrip("\n") + "\n" + line + "\n"
        changed.append(line)
    path.write_text(text[:head.end()] + block + text[end:], encoding="utf-8")
    return changed


def apply_to_table(constants: dict[str, float], path: str | Path = TABLE_PATH) -> list[str]:
    """Set the defaults of ``constants`` in the parameter table's source (each inside its
    range); returns what changed. Scenarios that override a constant keep their own value."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    changed = []
    for name, value in constants.items():
        p = PARAMETERS[name]
        if not p.low <= value <= p.high:
            raise InputError(f"{name} = {value:g} lies outside its range {p.low:g}..{p.high:g}.")
        pattern = re.compile(rf'(_P\("{re.escape(name)}",\s*)([^,]+)(,)')
        shown = f"{int(value)}" if p.is_integer else f"{value:.6g}"
        text, n = pattern.subn(lambda m, s=shown: m.group(1) + s + m.group(3), text, count=1)
        if n != 1:
            raise InputError(f"cannot find the row of {name} in {path}.")
        changed.append(f"{name}: {p.default:g} → {shown}")
    path.write_text(text, encoding="utf-8")
    return changed


def scenario_overrides(names: Sequence[str], folder: str | Path | None = None) -> list[str]:
    """Library scenarios whose [parameters] set one of ``names`` (they would not use the
    calibrated value)."""
    folder = Path(folder) if folder else Path(__file__).resolve().parents[2] / "scenarios"
    found = []
    for path in sorted(folder.glob("*.toml")):
        params = tomllib.loads(path.read_text(encoding="utf-8")).get("parameters", {})
        found += [f"{path.name}: {n}" for n in names if n in params]
    return found


def own_constants(spec: JointSpec) -> list[str]:
    """Constants the figures' library scenarios set in their own [parameters]: their runs
    use those values, not the table's, so the fit would not describe the table."""
    scenarios = {f.scenario for f in spec.figures}
    return [hit for hit in scenario_overrides([p.name for p in TABLE])
            if hit.split(".toml:")[0] in scenarios]


def describe_joint(result: JointResult) -> str:
    """A console summary: constants, each figure's fit (fitted, then held out)."""
    d = result.design
    lines = [f"joint calibration: {d['method']} design of {d['points']} points + {d['refine']} "
             f"refinement × {d['replications']} replications, {d['confirm']} at the best; "
             f"{result.runs} runs ({result.resumed} stored before), {result.seconds:.0f} s",
             f"best point: loss {result.losses[result.best]:.3g} "
             f"({'refinement' if result.best >= result.global_points else 'global design'})",
             "", f"{'constant':24s} {'table':>10s} {'best':>10s}  posterior mean ± sd "
             "(accepted range)"]
    for e in result.estimates():
        lines.append(f"{e['parameter']:24s} {e['table_default']:>10.4g} {e['best']:>10.4g}  "
                     f"{e['posterior_mean']:.4g} ± {e['posterior_sd']:.2g} "
                     f"({e['accepted_min']:.4g}..{e['accepted_max']:.4g})"
                     + ("  at the edge" if e["at_edge"] else ""))
    for role in ("fitted", "held out", "input"):
        rows = [r for r in result.fit if r["role"] == role]
        if rows:
            lines += ["", f"{role} figures: source, simulated mean [95% CI], standardized miss"
                      if role != "input" else "input figures: levers the scenario must set"]
        for f in rows:
            lines.append(f"  {f['target'][:30]:30s} {f['kind']:8s} {f['value']:<8.4g} "
                         f"{f['simulated']:.4g} [{f['ci_low']:.4g}, {f['ci_high']:.4g}] "
                         f"z {f['standardized_miss']:+.2f} "
                         f"{'ok' if f['within_tolerance'] else 'MISS'}")
    return "\n".join(lines)
