"""Calibration of uncertain behavioural constants to figures from the sources.

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

import json
import math
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sanshe.experiments import designs, runner
from sanshe.experiments.experiment import RunResult, plan, resolve, run_single
from sanshe.inputs.errors import InputError
from sanshe.inputs.parameters import PARAMETERS
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
    rel = (value - target.value) / (target.tolerance * abs(target.value) or 1.0)
    if target.kind == "at_least":
        return min(rel, 0.0)
    if target.kind == "at_most":
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
