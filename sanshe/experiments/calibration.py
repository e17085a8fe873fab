"""Calibration of uncertain behavioural constants to figures from the sources.

Two modes. One scenario (``calibrate``, below): ABC rejection against that scenario's
targets. Joint (``calibrate_joint``, the second half): several figures in several scenarios
at once, some held out as out-of-sample checks (issue 14; see the section comment there).

Method: approximate Bayesian computation by rejection over a Latin-hypercube design
(sanshe/experiments/designs.py, on scipy.stats.qmc). Each design point is run for R replications
under common random numbers (the same R seeds at every point, so differences between points
are not seed noise); its distance to the targets is the root mean square of the relative
errors of the replication means (inequality targets count only when violated). The best
``accept`` share of points is the approximate posterior: its mean and standard deviation are the
fitted values and their uncertainty, and the best point's per-target fit is reported with
a 95% interval over replications.

Why not scipy.optimize: the objective is a noisy, expensive simulation mean (seconds per
run); Nelder–Mead chases noise and gives no uncertainty, differential evolution needs far
more evaluations than the budget allows. An LHS design parallelises, is reproducible, and
its accepted set shows how well the targets pin each parameter down (a flat acceptance
region is reported, not hidden).
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
from sanshe.experiments.experiment import RunResult, plan, resolve, run_single
from sanshe.inputs.errors import InputError
from sanshe.inputs.parameters import PARAMETERS, TABLE
from sanshe.inputs.schema import flatten
from sanshe.reporting.stats import mean_ci

KINDS = ("equal", "at_least", "at_most", "input")


@dataclass(frozen=True)
class Target:
    """One figure from the sources."""

    name: str
    outcome: str
    kind: str
    value: float
    tolerance: float = 0.1
    scale: float = 1.0
    source: str = ""


@dataclass(frozen=True)
class Free:
    """A behavioural constant to fit, with its search range."""

    name: str
    low: float
    high: float


def load_targets(path: str | Path) -> list[Target]:
    """Read a targets TOML file (a list of ``[[target]]`` tables)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"targets file {path} does not exist.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}).") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8.") from None
    rows = data.get("target")
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{path}: needs at least one [[target]] table.")
    out = []
    for i, row in enumerate(rows):
        missing = {"name", "outcome", "kind", "value"} - set(row)
        if missing:
            raise InputError(f"{path}: target {i + 1} lacks {sorted(missing)}.")
        if row["kind"] not in KINDS:
            raise InputError(f"{path}: target '{row['name']}' has kind '{row['kind']}'; "
                             f"allowed: {', '.join(KINDS)}.")
        try:
            numbers = [float(row["value"]), float(row.get("tolerance", 0.1)),
                       float(row.get("scale", 1.0))]
        except (TypeError, ValueError):
            raise InputError(f"{path}: target '{row['name']}': value, tolerance and scale "
                             "must be numbers (e.g. value = 0.42).") from None
        out.append(Target(str(row["name"]), str(row["outcome"]), str(row["kind"]),
                          *numbers, str(row.get("source", ""))))
    return out


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


def simulated(target: Target, run: RunResult, residents: float) -> float:
    """The simulated counterpart of ``target`` in one run (after scaling)."""
    if target.outcome == "initial_so_count":
        value = run.series["so_count"][0]
    elif target.outcome == "volunteers":
        value = run.final["volunteer_rate"] * residents
    elif target.outcome in run.final:
        value = run.final[target.outcome]
    else:
        raise InputError(f"target '{target.name}': unknown outcome '{target.outcome}'.")
    return float(value) * target.scale


def error(target: Target, value: float) -> float:
    """Relative error of ``value`` against the target (0 when an inequality holds)."""
    return _miss(value, target.value, target.tolerance, target.kind)


def _miss(value: float, source: float, tolerance: float, kind: str) -> float:
    """(value − source) in units of tolerance × |source|; an inequality counts only when
    violated."""
    rel = (value - source) / (tolerance * abs(source) or 1.0)
    if kind == "at_least":
        return min(rel, 0.0)
    if kind == "at_most":
        return max(rel, 0.0)
    return rel


@dataclass
class CalibrationResult:
    scenario: str
    free: list[Free]
    targets: list[Target]
    design: np.ndarray  # points × free
    distances: np.ndarray
    accepted: np.ndarray  # indices
    best: int
    fit: list[dict[str, Any]]
    inputs: list[dict[str, Any]]
    replications: int
    months: int
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def estimates(self) -> list[dict[str, Any]]:
        """Posterior mean, sd and range of each free parameter, and the best point."""
        acc = self.design[self.accepted]
        return [{"parameter": f.name, "best": float(self.design[self.best, j]),
                 "mean": float(acc[:, j].mean()), "sd": float(acc[:, j].std(ddof=1))
                 if len(acc) > 1 else math.nan,
                 "accepted_min": float(acc[:, j].min()), "accepted_max": float(acc[:, j].max()),
                 "search_low": f.low, "search_high": f.high}
                for j, f in enumerate(self.free)]

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "replications": self.replications,
                "months": self.months, "seconds": self.seconds,
                "method": "ABC rejection over a Latin-hypercube design, common random numbers",
                "estimates": self.estimates(), "fit": self.fit, "inputs": self.inputs,
                "design": [dict(zip([f.name for f in self.free], map(float, row), strict=True),
                                distance=float(d))
                           for row, d in zip(self.design, self.distances, strict=False)]}


def calibrate(scenario: str, targets: list[Target], free: list[Free], points: int = 12,
              replications: int = 2, months: int | None = None, seed: int | None = None,
              accept: float = 0.25, workers: int | None = None, executor: str | None = None,
              scheduler: str | None = None, progress: bool = True) -> CalibrationResult:
    """Fit ``free`` to ``targets`` (see the module docstring).

    The runs go through the one run engine (:mod:`sanshe.experiments.runner`): this process unless
    told, ``workers`` processes, ``executor="local"`` (the cores available, or this process
    for a short batch) or ``"dask"`` with an optional ``scheduler``; the fit is the same.
    """
    started = time.perf_counter()
    base = resolve(scenario)
    inputs = []
    for t in targets:
        if t.kind == "input":
            try:
                actual = float(base.get(t.outcome))
            except Exception as exc:  # noqa: BLE001 - an unknown key is a bad target
                raise InputError(f"target '{t.name}': '{t.outcome}' is not a lever.") from exc
            inputs.append({"target": t.name, "lever": t.outcome, "value": t.value,
                           "scenario": actual, "ok": math.isclose(actual, t.value),
                           "source": t.source})
    fitted = [t for t in targets if t.kind != "input"]
    if not fitted:
        raise InputError("the targets file has no target to fit (only inputs).")
    if points < 2:
        raise InputError(f"--points must be at least 2 (got {points}).")
    unit = designs.latin_hypercube(len(free), points, seed=0 if seed is None else seed)
    design = designs.scale(unit, [f.low for f in free], [f.high for f in free])
    residents = (float(base.get("district.streets")) * float(
        base.get("district.communities_per_street"))
        * float(base.get("district.residents_per_community")))
    jobs = []
    for i, row in enumerate(design):
        overrides = {f"parameters.{f.name}": _value(f, x)
                     for f, x in zip(free, row, strict=True)}
        for spec in plan([base], replications=replications, seed=seed, months=months,
                         overrides=overrides):
            jobs.append(runner.Job(f"p{i}/r{spec.replication}", spec, {"point": i}))
    outcomes = runner.run_all(jobs, run_single, executor=executor, workers=workers,
                              scheduler=scheduler, progress=progress, label="calibration")
    runs: list[list[RunResult]] = [[] for _ in range(points)]
    for job, result in zip(jobs, runner.results_or_raise(jobs, outcomes), strict=True):
        runs[job.sample["point"]].append(result)
    distances = np.empty(points)
    for i in range(points):
        errs = [error(t, float(np.mean([simulated(t, r, residents) for r in runs[i]])))
                for t in fitted]
        distances[i] = math.sqrt(float(np.mean(np.square(errs))))
    order = np.argsort(distances)
    accepted = order[: max(2, int(math.ceil(accept * points)))]
    best = int(order[0])
    fit = fit_table(fitted, runs[best], residents)
    result = CalibrationResult(scenario=base.name, free=free, targets=targets, design=design,
                               distances=distances, accepted=accepted, best=best, fit=fit,
                               inputs=inputs, replications=replications,
                               months=int(months or base.get("run.months")))
    result.seconds = time.perf_counter() - started
    return result


def fit_table(targets: Sequence[Target], runs: Sequence[RunResult],
              residents: float) -> list[dict[str, Any]]:
    """Each target against the mean over ``runs``, with its 95% CI and whether it fits
    (within the target's tolerance; an inequality only when violated)."""
    fit = []
    for t in targets:
        vals = [simulated(t, r, residents) for r in runs]
        mean, low, high = mean_ci(vals)
        fit.append({"target": t.name, "kind": t.kind, "value": t.value, "simulated": mean,
                    "ci_low": low, "ci_high": high, "relative_error": (mean - t.value) / t.value
                    if t.value else math.nan, "within_tolerance": abs(error(t, mean)) <= 1.0,
                    "source": t.source})
    return fit


def _value(free: Free, x: float) -> float:
    p = PARAMETERS[free.name]
    return float(round(x)) if p.is_integer else float(x)


def write(result: CalibrationResult, out: str | Path) -> list[Path]:
    """``calibration.json`` and ``fitted.toml`` (a [parameters] table to paste) in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    js = out / "calibration.json"
    js.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
    lines = [f"# fitted by sanshe calibrate {result.scenario} (best design point; posterior "
             "mean ± sd in comments)", "[parameters]"]
    for e in result.estimates():
        lines.append(f"{e['parameter']} = {e['best']:.6g}  # posterior {e['mean']:.4g} ± "
                     f"{e['sd']:.2g}, accepted {e['accepted_min']:.4g}..{e['accepted_max']:.4g}")
    toml = out / "fitted.toml"
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [js, toml]


def describe(result: CalibrationResult) -> str:
    """A console summary: estimates, fit per target, inputs."""
    lines = [f"calibration of {result.scenario}: {len(result.design)} points × "
             f"{result.replications} replications, {result.months} months "
             f"({result.seconds:.0f} s)", "", "parameter            best        posterior "
             "mean ± sd       accepted range"]
    for e in result.estimates():
        lines.append(f"{e['parameter']:20s} {e['best']:<11.4g} {e['mean']:.4g} ± {e['sd']:.2g}"
                     f"{'':8s}{e['accepted_min']:.4g}..{e['accepted_max']:.4g}")
    lines += ["", "target                                     source value   simulated "
              "(95% CI)          fits"]
    for f in result.fit:
        lines.append(f"{f['target'][:42]:42s} {f['value']:<12g} {f['simulated']:.4g} "
                     f"[{f['ci_low']:.4g}, {f['ci_high']:.4g}]  "
                     f"{'yes' if f['within_tolerance'] else 'NO'}")
    for i in result.inputs:
        lines.append(f"{i['target'][:42]:42s} input {i['value']:g}: scenario "
                     f"{i['scenario']:g} {'ok' if i['ok'] else 'MISMATCH'}")
    return "\n".join(lines)


# ====================================================================== joint calibration
# Issue 14, deliverable 9: the behavioural constants fitted to several source figures at
# once (sanshe/experiments/calibration_targets.toml), some figures held back as
# out-of-sample checks. A quasi-random design (Sobol or LHS) over the free constants, a
# loss summing squared standardized misses of replicate means (common random numbers:
# the same seeds at every point), an optional second design around the best point, and
# more replications at the best point for the fit table. Every run goes through the one run
# engine and, with a store, is committed as it ends, so a killed calibration resumes.

#: The targets shipped with the package.
JOINT_TARGETS = Path(__file__).with_name("calibration_targets.toml")

#: Statistics a target may name: (run finals with the calibration extras, target) → value.
JOINT_STATISTICS = ("final", "per_1000", "growth", "ratio")

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
        return [f for f in self.figures if not f.held_out]

    @property
    def held_out(self) -> list[Figure]:
        return [f for f in self.figures if f.held_out]

    def settings(self) -> dict[str, Figure]:
        """One figure per distinct setting (its scenario, months and district)."""
        return {f.setting: f for f in reversed(self.figures)}


DESIGN_DEFAULTS: dict[str, Any] = {"method": "sobol", "points": 16, "replications": 2,
                                   "refine": 8, "refine_width": 0.25, "confirm": 6,
                                   "accept": 0.25, "seed": 2013}


def load_joint(path: str | Path = JOINT_TARGETS) -> JointSpec:
    """Read a joint targets file; a bad entry is named with what to fix."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the calibration targets {path}: {exc}.") from exc
    figures = tuple(_figure(path, row) for row in data.get("target", []))
    if not any(not f.held_out for f in figures):
        raise InputError(f"{path}: needs at least one [[target]] that is not held_out.")
    free = tuple(_free_constant(path, row) for row in data.get("free", []))
    if not free:
        raise InputError(f"{path}: needs at least one [[free]] constant.")
    return JointSpec(figures, free, {**DESIGN_DEFAULTS, **data.get("design", {})})


def _figure(path: Path, row: dict[str, Any]) -> Figure:
    name = row.get("name", "?")
    missing = {"name", "statistic", "outcome", "scenario", "months", "kind", "value",
               "source"} - set(row)
    if missing:
        raise InputError(f"{path}: target '{name}' lacks {sorted(missing)}.")
    if row["statistic"] not in JOINT_STATISTICS:
        raise InputError(f"{path}: target '{name}': statistic '{row['statistic']}' is not one "
                         f"of {', '.join(JOINT_STATISTICS)}.")
    if row["kind"] not in ("equal", "at_least", "at_most"):
        raise InputError(f"{path}: target '{name}': kind must be equal, at_least or at_most.")
    if row["statistic"] == "ratio" and not row.get("denominator"):
        raise InputError(f"{path}: target '{name}': a ratio needs a denominator outcome.")
    tolerance = float(row.get("tolerance", 0.1))
    if not tolerance > 0 or not float(row["value"]) != 0:
        raise InputError(f"{path}: target '{name}': value and tolerance must be non-zero.")
    return Figure(str(name), str(row.get("figure", name)), row["statistic"], row["outcome"],
                  str(row["scenario"]), int(row["months"]), row["kind"], float(row["value"]),
                  tolerance, str(row["source"]), bool(row.get("held_out", False)),
                  str(row.get("denominator", "")), _settings(row))


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


def with_free(spec: JointSpec, free: Sequence[Free]) -> JointSpec:
    """``spec`` with the free constants replaced (``--free KEY=LOW:HIGH`` on the command
    line; linear scale)."""
    return JointSpec(spec.figures, tuple(FreeConstant(f.name, f.low, f.high) for f in free),
                     spec.design)


# ---------------------------------------------------------------------- one run
def calibration_run(spec: Any) -> RunResult:
    """One run as :func:`~sanshe.experiments.experiment.run_single` makes it, plus the
    statistics the figures need that no outcome holds (``cal_*`` finals): the residents,
    the first month of the count outcomes, and volunteering followed resident by resident
    over the last year (who volunteered at all; in how many months)."""
    from sanshe.inputs.outcomes import OUTCOME_NAMES, finals
    from sanshe.sim.model import CommunityGovernanceModel

    started = time.perf_counter()
    sim = CommunityGovernanceModel(scenario=spec.scenario, seed=spec.seed)
    months_volunteered = np.zeros(sim.pop.volunteer.size, np.int16)
    for month in range(spec.months):
        sim.step()
        if month >= spec.months - VOLUNTEER_YEAR:
            months_volunteered += sim.pop.volunteer
    series = sim.series()
    final = finals(series)
    final.update(volunteer_statistics(months_volunteered))
    final["cal_residents"] = float(months_volunteered.size)
    for name in GROWTH_OUTCOMES:
        final[f"cal_initial_{name}"] = float(series[name][0])
    return RunResult(scenario=spec.scenario.name, replication=spec.replication,
                     seed=spec.seed, months=spec.months, parameters=spec.scenario.to_dict(),
                     final=final, series={n: series[n] for n in OUTCOME_NAMES},
                     elapsed=time.perf_counter() - started)


def volunteer_statistics(months_volunteered: np.ndarray) -> dict[str, float]:
    """Share of residents who volunteered in any month of the year, and the mean number
    of such months among them (registered vs active volunteering: one resident counts once
    however often they come)."""
    ever = months_volunteered > 0
    return {"cal_volunteer_share_year": float(ever.mean()) if ever.size else math.nan,
            "cal_volunteer_months_per_volunteer":
                float(months_volunteered[ever].mean()) if ever.any() else math.nan}


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
    return rows


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
    patch for sanshe/inputs/parameters.py: ``sanshe calibrate --joint --apply``) in ``out``."""
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
    toml.write_text("# joint calibration (sanshe calibrate --joint): the best design point\n"
                    "[parameters]\n" + "\n".join(patch_lines(result)) + "\n", encoding="utf-8")
    return [js, fit, toml]


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
    for role in ("fitted", "held out"):
        lines += ["", f"{role} figures: source, simulated mean [95% CI], standardized miss"]
        for f in (r for r in result.fit if r["role"] == role):
            lines.append(f"  {f['target'][:30]:30s} {f['kind']:8s} {f['value']:<8.4g} "
                         f"{f['simulated']:.4g} [{f['ci_low']:.4g}, {f['ci_high']:.4g}] "
                         f"z {f['standardized_miss']:+.2f} "
                         f"{'ok' if f['within_tolerance'] else 'MISS'}")
    return "\n".join(lines)
