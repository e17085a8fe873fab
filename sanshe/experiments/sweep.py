"""Parameter sweeps: sample the lever space, run every point, stream results to the store.

``sweep("baseline", {"policy.purchase.annual_budget": (1e5, 5e6),
"policy.purchase.mode": ["competitive", "directed"]}, samples=64)`` draws a design
(Latin hypercube, scrambled Sobol/Saltelli, Morris trajectories or a full grid), runs each
point with ``replications`` seeds, and commits every run to the results store as its task
comes back, so memory stays flat and a crash or Ctrl-C loses only the tasks running.

Reproducibility: the design and the seeds derive from the sweep's seed alone. Replication
*r* of every point runs with the same seed (common random numbers, via
:func:`model.experiment.replication_seeds`), so differences between points are the levers'
doing, and the stored finals are identical whatever the executor or number of workers.
Runs go out replication-major, points in design order, so any prefix of a sweep — one
stopped early — still covers the design evenly.
"""

from __future__ import annotations

import difflib
import math
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sanshe.experiments import sensitivity
from sanshe.experiments.comparison import default_out
from sanshe.experiments.designs import METHODS as METHODS
from sanshe.experiments.designs import MORRIS_LEVELS as MORRIS_LEVELS
from sanshe.experiments.designs import Axis, Design, make_design, show
from sanshe.experiments.executors import Pool, RunError, check_executor
from sanshe.experiments.experiment import RunResult, RunSpec, replication_seeds, resolve, run_single
from sanshe.experiments.runner import Job, run_jobs
from sanshe.experiments.store import ResultStore, spec_hash
from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import BY_NAME, KEY_OUTCOMES, OUTCOME_NAMES
from sanshe.inputs.outcomes import check_names as _check_outcomes  # its older name here
from sanshe.inputs.parameters import PARAMETERS
from sanshe.inputs.scenario import Scenario
from sanshe.inputs.schema import BY_KEY, Setting
from sanshe.reporting import plotting
from sanshe.reporting.stats import mean_ci

#: How ``--vary`` is written, for messages.
_VARY_HELP = (
    "KEY=LOW:HIGH (a numeric range) or KEY=a,b,c (a list of values), e.g. "
    "--vary policy.purchase.annual_budget=1e5:5e6 or "
    "--vary policy.purchase.mode=competitive,directed"
)


# --- axes ---------------------------------------------------------------------------
def _varied_keys() -> list[str]:
    """Every key a sweep may vary: the scenario settings (not [run]) and the constants."""
    settings = [k for k in BY_KEY if not k.startswith("run.")]
    return settings + [f"parameters.{name}" for name in PARAMETERS]


def _did_you_mean(key: str) -> str:
    """ " Did you mean 'x'?" for an unknown key: the same leaf elsewhere, or a close key."""
    known = _varied_keys()
    leaf = key.rpartition(".")[2]
    close = [k for k in known if k.rpartition(".")[2] == leaf]
    close = close or difflib.get_close_matches(key, known, n=2, cutoff=0.6)
    if not close:
        leaves = {k.rpartition(".")[2]: k for k in known}
        close = [leaves[m] for m in difflib.get_close_matches(leaf, list(leaves), 2, 0.7)]
    return (" Did you mean " + " or ".join(f"'{c}'" for c in close) + "?") if close else ""


def _target(key: str, origin: str) -> Setting:
    """The schema entry or behavioural constant ``key`` names; InputError if none."""
    if key.startswith("run."):
        raise InputError(
            f"{origin}: '{key}' cannot be varied; a sweep sets months, "
            "replications and the seed with --months, --replications and --seed."
        )
    if key.startswith("parameters."):
        param = PARAMETERS.get(key.removeprefix("parameters."))
        if param is not None:
            kind = int if param.is_integer else float
            return Setting(
                key,
                kind,
                param.default,
                param.low,
                param.high,
                None,
                f"{param.unit}; {param.source}",
            )
    else:
        setting = BY_KEY.get(key)
        if setting is not None:
            return setting
    raise InputError(
        f"{origin}: unknown key '{key}'.{_did_you_mean(key)} Scenario settings "
        "are listed by `sanshe scenarios baseline`; behavioural constants are "
        "'parameters.<name>' (sanshe/inputs/parameters.py)."
    )


def _number(text: str, target: Setting, origin: str) -> float | int:
    """A number from ``--vary`` text (``5e6``, ``3_000``); an int for integer keys."""
    try:
        value = float(text.strip().replace("_", ""))
    except ValueError:
        raise InputError(
            f"{origin}: '{text}' is not a number; '{target.key}' must be "
            f"{target.allowed()} ({target.help})."
        ) from None
    if not math.isfinite(value):
        raise InputError(f"{origin}: '{text}' is not a finite number.")
    if target.type is int:
        if not value.is_integer():
            raise InputError(
                f"{origin}: '{text}' is not a whole number; '{target.key}' must "
                f"be {target.allowed()} ({target.help})."
            )
        return int(value)
    return value


def _check_in_range(value: float, target: Setting, origin: str) -> None:
    if not target.low <= value <= target.high:
        raise InputError(
            f"{origin}: {show(value)} is outside the allowed range; "
            f"'{target.key}' must be {target.allowed()} ({target.help})."
        )


def _level(text: str, target: Setting, origin: str) -> Any:
    """One listed value, typed as the key wants it."""
    text = text.strip()
    if not text:
        raise InputError(f"{origin}: an empty value in the list; expected {_VARY_HELP}.")
    if target.type is bool:
        if text.lower() not in ("true", "false"):
            raise InputError(
                f"{origin}: '{text}' is not true or false; '{target.key}' is "
                f"true/false ({target.help})."
            )
        return text.lower() == "true"
    if target.choices is not None:
        if text not in target.choices:
            close = difflib.get_close_matches(text, target.choices, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise InputError(
                f"{origin}: '{text}' is not allowed.{hint} '{target.key}' must be "
                f"{target.allowed()} ({target.help})."
            )
        return text
    if target.type is str:
        return text
    value = _number(text, target, origin)
    _check_in_range(value, target, origin)
    return value


def axis_from_text(text: str) -> Axis:
    """Parse one ``--vary`` option: ``KEY=LOW:HIGH`` or ``KEY=a,b,c``."""
    origin = f"--vary {text!r}"
    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise InputError(f"{origin}: expected {_VARY_HELP}.")
    return _axis(key, spec, origin)


def _axis(key: str, spec: Any, origin: str) -> Axis:
    """An axis from text (``"1:5"``, ``"a,b"``), a (low, high) tuple or a list of levels."""
    target = _target(key, origin)
    categorical = target.type in (bool, str)
    if isinstance(spec, str):
        if ":" in spec and "," not in spec:
            parts = spec.split(":")
            if len(parts) != 2 or not all(p.strip() for p in parts):
                raise InputError(
                    f"{origin}: a range has exactly one ':' between LOW and HIGH; "
                    f"expected {_VARY_HELP}."
                )
            if categorical:
                raise _not_a_range(key, target, origin)
            return _range(target, *(_number(p, target, origin) for p in parts), origin=origin)
        if "," not in spec:
            raise InputError(
                f"{origin}: give a range LOW:HIGH or at least two values a,b; "
                f"to fix '{key}' at one value use --set {key}={spec}."
            )
        return _levels(target, [_level(p, target, origin) for p in spec.split(",")], origin)
    if isinstance(spec, tuple) and len(spec) == 2 and not categorical:
        low, high = (_number(_as_text(v), target, origin) for v in spec)
        return _range(target, low, high, origin=origin)
    if isinstance(spec, list | tuple):
        return _levels(target, [_level(_as_text(v), target, origin) for v in spec], origin)
    raise InputError(
        f"{origin}: give a (low, high) tuple, a list of values or the text "
        f"'LOW:HIGH' / 'a,b,c', not {type(spec).__name__}."
    )


def _as_text(value: Any) -> str:
    """A Python value as ``--vary`` text, exactly (floats by repr, numpy made plain)."""
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _not_a_range(key: str, target: Setting, origin: str) -> InputError:
    example = "true,false" if target.type is bool else ",".join((target.choices or ("a", "b"))[:2])
    return InputError(
        f"{origin}: '{key}' is categorical ({target.allowed()}), so it takes a "
        f"list of values, not a numeric range; e.g. --vary {key}={example}."
    )


def _range(target: Setting, low: float, high: float, origin: str) -> Axis:
    if low > high:
        raise InputError(
            f"{origin}: LOW ({show(low)}) is greater than HIGH ({show(high)}); "
            f"write the range as LOW:HIGH, e.g. {show(high)}:{show(low)}."
        )
    if low == high:
        raise InputError(
            f"{origin}: the range is empty (LOW = HIGH = {show(low)}); to fix "
            f"'{target.key}' at one value use --set {target.key}={show(low)}."
        )
    _check_in_range(low, target, origin)
    _check_in_range(high, target, origin)
    kind = "int" if target.type is int else "float"
    return Axis(target.key, kind, low=low, high=high)


def _levels(target: Setting, values: list[Any], origin: str) -> Axis:
    if len(values) < 2:
        raise InputError(f"{origin}: a list needs at least two values.")
    repeated = [v for i, v in enumerate(values) if v in values[:i]]
    if repeated:
        raise InputError(f"{origin}: {show(repeated[0])} is listed twice.")
    return Axis(target.key, "levels", levels=tuple(values))


def parse_vary(vary: Sequence[str] | Mapping[str, Any]) -> list[Axis]:
    """Axes from ``--vary`` texts or a ``{key: spec}`` mapping, validated.

    In a mapping a spec is a ``(low, high)`` tuple (a range), a list (levels) or the same
    text as on the command line (``"1e5:5e6"``, ``"competitive,directed"``).
    """
    if isinstance(vary, Mapping):
        axes = [_axis(str(k), v, f"vary[{k!r}]") for k, v in vary.items()]
    else:
        axes = [axis_from_text(t) for t in vary]
    if not axes:
        raise InputError(f"a sweep needs at least one --vary {_VARY_HELP}.")
    keys = [a.key for a in axes]
    twice = [k for i, k in enumerate(keys) if k in keys[:i]]
    if twice:
        raise InputError(f"--vary: '{twice[0]}' is varied twice; give each key once.")
    return axes


# --- running ----------------------------------------------------------------------------
def run_key(sample: int, replication: int) -> str:
    """The store key of one run of a sweep."""
    return f"s{sample}/r{replication}"


def _tasks(
    design: Design, base: Scenario, seeds: Sequence[int], months: int, skip: set[str]
) -> Iterator[Job]:
    """Every run not in ``skip``, replication-major so any prefix is a fair sample."""
    for rep, rep_seed in enumerate(seeds):
        for index, point in enumerate(design.points):
            key = run_key(index, rep)
            if key in skip:
                continue
            scenario = base.with_overrides(point)
            unit = {a.key: float(u) for a, u in zip(design.axes, design.unit[index], strict=True)}
            sample = {"sample": index, **point, "unit": unit}
            yield Job(key, RunSpec(scenario, rep_seed, months, rep), sample)


def sweep(
    scenario: Scenario | str,
    vary: Mapping[str, Any] | Sequence[str],
    samples: int | None = None,
    method: str = "lhs",
    replications: int | None = None,
    months: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: str | Pool = "local",
    scheduler: str | None = None,
    name: str | None = None,
    db: str | ResultStore | None = None,
    progress: bool = True,
    overrides: Mapping[str, Any] | None = None,
    fresh: bool = False,
    batch: int | None = None,
    *,
    _run: Callable[[RunSpec], RunResult] = run_single,
) -> SweepResult:
    """Run a sweep over ``vary`` and store every run; the :class:`SweepResult`.

    ``vary`` maps keys to a ``(low, high)`` tuple, a list of values or ``--vary`` text, or
    is a list of ``--vary`` texts. Unset ``replications``, ``months`` and ``seed`` come
    from the scenario's ``[run]`` table. ``name`` makes the sweep resumable under a name of
    your choosing (the default name is derived from the settings, so rerunning the same
    call resumes too); ``fresh`` drops a stored sweep of that name first. A run that raises
    is stored as failed with its traceback and the sweep goes on; resuming retries it.
    ``executor`` is "local", "dask" or "serial", or an open :class:`~model.executors.Pool`
    (from :func:`~model.executors.open_executor`) to reuse across sweeps, e.g. a Dask
    client in a notebook. ``batch`` fixes the runs sent to a worker per task (default: about
    1.5 s of work, from the first runs' measured duration); the numbers do not depend on it.
    ``_run`` replaces :func:`run_single` (a picklable top-level function; for tests).
    """
    if isinstance(executor, str):  # else an open Pool or runner.Engine
        check_executor(executor, workers, scheduler)
    base = resolve(scenario, dict(overrides) if overrides else None)
    axes = parse_vary(vary)
    _check_extremes(base, axes)
    replications = int(base.get("run.replications") if replications is None else replications)
    months = int(base.get("run.months") if months is None else months)
    seed = int(base.get("run.seed") if seed is None else seed)
    if replications < 1 or months < 1:
        raise InputError("--replications and --months must be at least 1.")
    if batch is not None and (isinstance(batch, bool) or int(batch) != batch or batch < 1):
        raise InputError(f"--batch {batch!r} must be a whole number of runs, at least 1.")
    design = _sweep_design(axes, samples, method, seed)
    spec = _spec(base, design, replications, months, seed, overrides)
    name = name or default_name(base.name, spec)
    store = db if isinstance(db, ResultStore) else ResultStore(db)
    if fresh and name in set(store.experiments().name):
        store.delete_experiment(name)
    exp_id = store.experiment(name, "sweep", spec)
    done = store.finished_keys(exp_id)
    seeds = replication_seeds(seed, replications)
    total = len(design) * replications
    todo = _tasks(design, base, seeds, months, done)
    finished_before = sum(
        1 for r in range(replications) for i in range(len(design)) if run_key(i, r) in done
    )
    if progress:
        _say(
            f"sweep '{name}': {len(design)} points × {replications} replication(s) = "
            f"{total} runs of {months} months"
            + (f"; {finished_before} already stored, resuming." if finished_before else ".")
        )
    try:
        _execute(
            store,
            exp_id,
            todo,
            total,
            finished_before,
            _run,
            executor,
            workers,
            scheduler,
            progress,
            name,
            batch,
        )
    except KeyboardInterrupt:
        _say(
            f"sweep '{name}' interrupted; finished runs are stored. Rerun the same command "
            f"(or --resume {name}) to finish it."
        )
        raise
    result = SweepResult(
        name=name,
        store=store,
        design=design,
        replications=replications,
        months=months,
        seed=seed,
        scenario=base.name,
    )
    result.failed = len(store.failed_keys(exp_id))
    result.resumed = finished_before
    if progress:
        finished = len(store.finished_keys(exp_id))
        failed = f", {result.failed} failed (rerun the same command to retry them)"
        _say(
            f"sweep '{name}': {finished} of {total} runs finished{failed if result.failed else ''}."
        )
    return result


def _check_extremes(base: Scenario, axes: Sequence[Axis]) -> None:
    """Let the scenario validator see each axis's end values (or levels) once, up front."""
    for axis in axes:
        ends = axis.levels if axis.kind == "levels" else (axis.low, axis.high)
        for value in ends:
            base.with_overrides({axis.key: value})


def _sweep_design(axes: Sequence[Axis], samples: int | None, method: str, seed: int) -> Design:
    """The design, with one clear warning when a Sobol base sample is not a power of two."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*balance properties of Sobol.*")
        design = make_design(axes, samples, method, seed)
    n = design.base_samples
    if method == "sobol" and n & (n - 1):
        warnings.warn(
            f"Sobol designs are balanced when --samples is a power of two (got {n}; "
            f"try {1 << n.bit_length()}).",
            stacklevel=3,
        )
    return design


def _spec(
    base: Scenario,
    design: Design,
    replications: int,
    months: int,
    seed: int,
    overrides: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What identifies a sweep: resuming needs exactly this again."""
    return {
        "scenarios": [base.name],
        "scenario": base.to_dict(),
        "overrides": dict(overrides or {}),
        "vary": [a.to_dict() for a in design.axes],
        "method": design.method,
        "samples": design.base_samples,
        "points": len(design),
        "replications": replications,
        "months": months,
        "seed": seed,
        "design_checksum": design.checksum(),
    }


def default_name(scenario: str, spec: dict[str, Any]) -> str:
    """``sweep-<scenario>-<method>-<hash>``: the same command gets the same name (resumes)."""
    return f"sweep-{scenario}-{spec['method']}-{spec_hash(spec)[:8]}"


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _execute(
    store: ResultStore,
    exp_id: int,
    todo: Iterator[Job],
    total: int,
    initial: int,
    run_fn: Callable[[RunSpec], RunResult],
    executor: str | Pool,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
    name: str,
    batch: int | None = None,
) -> int:
    """Run ``todo`` on the one run engine, which stores each outcome; the number failed."""
    if initial == total:
        return 0
    outcomes = run_jobs(
        todo,
        run_fn,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        store=store,
        experiment=exp_id,
        total=total,
        progress=progress,
        label=f"sweep '{name}'",
        batch=batch,
    )
    return sum(isinstance(outcome, RunError) for _, outcome in outcomes)


# --- results ----------------------------------------------------------------------------
class SweepResult:
    """A stored sweep: its design, runs, per-point table, response surfaces, sensitivity.

    Everything is read back from the results store, so ``SweepResult.load(name)`` in a
    notebook gives the same object the sweep returned.
    """

    def __init__(
        self,
        name: str,
        store: ResultStore,
        design: Design,
        replications: int,
        months: int,
        seed: int,
        scenario: str,
    ) -> None:
        self.name = name
        self.store = store
        self.design = design
        self.replications = replications
        self.months = months
        self.seed = seed
        self.scenario = scenario
        self.failed = 0  # runs stored as failed
        self.resumed = 0  # runs already stored when this sweep call started

    def __repr__(self) -> str:
        return (
            f"SweepResult({self.name!r}, method={self.design.method!r}, "
            f"points={len(self.design)}, replications={self.replications})"
        )

    @classmethod
    def load(cls, name: str, db: str | ResultStore | None = None) -> SweepResult:
        """A stored sweep by name (its design rebuilt from the stored settings)."""
        store = db if isinstance(db, ResultStore) else ResultStore(db)
        info = store.experiment_info(name)
        if info["kind"] != "sweep":
            raise InputError(
                f"experiment '{name}' is a {info['kind']}, not a sweep; "
                "`sanshe results` lists the stored experiments."
            )
        spec = info["spec"]
        axes = [Axis.from_dict(a) for a in spec["vary"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            design = make_design(axes, spec["samples"] or None, spec["method"], spec["seed"])
        if design.checksum() != spec.get("design_checksum"):
            warnings.warn(
                f"sweep '{name}': this installation draws a different design from "
                "the stored settings (another scipy/SALib version?); the stored "
                "sample values are used.",
                stacklevel=2,
            )
        result = cls(
            name=name,
            store=store,
            design=design,
            replications=spec["replications"],
            months=spec["months"],
            seed=spec["seed"],
            scenario=spec["scenarios"][0],
        )
        result.failed = len(store.failed_keys(store.experiment_id(name)))
        return result

    @property
    def axes(self) -> tuple[Axis, ...]:
        return self.design.axes

    @property
    def keys(self) -> list[str]:
        return self.design.keys

    @property
    def total(self) -> int:
        """Runs in the full sweep."""
        return len(self.design) * self.replications

    def runs(self, status: str | None = "finished") -> pd.DataFrame:
        """One row per stored run: metadata, ``sample``, varied keys, ``unit.*``, finals."""
        return self.store.runs(self.name, status=status)

    def table(self, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
        """Per design point: its lever values, ``n`` runs, and per outcome the mean over
        replications with its 95% CI (``<outcome>``, ``<outcome>_ci_low``, ``_ci_high``).
        """
        outcomes = _check_outcomes(outcomes or KEY_OUTCOMES)
        runs = self.runs()
        return point_table(runs, self.design, outcomes)

    def response(self, outcome: str, key: str, key2: str | None = None, lang: str = "en") -> Figure:
        """The response of ``outcome`` to one lever (mean and 95% CI over replications), or
        a heatmap of its mean over two levers."""
        _check_outcomes([outcome])
        for k in (key, key2):
            if k is not None and k not in self.keys:
                raise InputError(
                    f"'{k}' was not varied in sweep '{self.name}'; varied: {', '.join(self.keys)}."
                )
        runs = self.runs()
        if runs.empty:
            raise InputError(f"sweep '{self.name}' has no finished runs yet.")
        lang = plotting.resolve_lang(lang)
        with plotting.style(lang):
            if key2 is None:
                return response_curve(runs, self.design, outcome, key, lang)
            return response_heatmap(runs, self.design, outcome, key, key2, lang)

    def export(self, out: str | Path | None = None, fmt: str = "csv") -> list[Path]:
        """Write ``runs.<fmt>`` (one row per finished run: key, sample, replication, seed,
        lever values and every final) and ``points.<fmt>`` (per design point: lever values,
        mean and 95% CI of every outcome) to ``out`` (default ``results/<sweep>/``).

        The monthly long form is ``sanshe export <sweep>``; its ``key`` joins ``runs``.
        """
        if fmt not in ("csv", "parquet"):
            raise InputError(f"export format must be 'csv' or 'parquet', not {fmt!r}.")
        if fmt == "parquet":
            try:
                import pyarrow  # noqa: F401 - optional (sanshe[parquet]): is it there?
            except ImportError as exc:
                raise InputError("Parquet needs pyarrow: pip install 'sanshe[parquet]'.") from exc
        folder = Path(out) if out is not None else default_out(self.name)
        folder.mkdir(parents=True, exist_ok=True)
        runs = self.runs()
        present = [o for o in OUTCOME_NAMES if o in runs]
        points = point_table(runs, self.design, present)
        paths = []
        for stem, frame in (("runs", runs), ("points", points)):
            path = folder / f"{stem}.{fmt}"
            if fmt == "csv":
                frame.to_csv(path, index=False)
            else:
                frame.to_parquet(path, index=False)
            paths.append(path)
        return paths

    def sensitivity(self, outcome: str, method: str | None = None, **options: Any) -> pd.DataFrame:
        """Sobol or Morris indices of ``outcome`` (see :mod:`sanshe.experiments.sensitivity`)."""
        return sensitivity.analyse(self, outcome, method, **options)


def point_means(runs: pd.DataFrame, outcome: str) -> pd.Series:
    """The mean of ``outcome`` over replications, per design point (index: sample)."""
    return runs.groupby("sample")[outcome].mean()


def point_table(runs: pd.DataFrame, design: Design, outcomes: Sequence[str]) -> pd.DataFrame:
    """Per design point: lever values, ``n``, and mean with 95% CI for each outcome."""
    frame = design.frame().set_index("sample")
    grouped = runs.groupby("sample") if not runs.empty else None
    counts = grouped.size() if grouped is not None else pd.Series(dtype=int)
    columns: dict[str, Any] = {"n": counts.reindex(frame.index).fillna(0).astype(int)}
    empty = (math.nan, math.nan, math.nan)
    for outcome in outcomes:
        stats = {}
        if grouped is not None and outcome in runs:
            stats = {s: mean_ci(v) for s, v in grouped[outcome]}
        values = [stats.get(s, empty) for s in frame.index]
        columns[outcome] = [v[0] for v in values]
        columns[f"{outcome}_ci_low"] = [v[1] for v in values]
        columns[f"{outcome}_ci_high"] = [v[2] for v in values]
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1).reset_index()


#: A lever with at most this many distinct values is plotted value by value; a continuous
#: one is cut into this many bins.
_BINS = 10


def _bins(runs: pd.DataFrame, axis: Axis) -> tuple[pd.Series, list[Any], list[str]]:
    """Each run's bin on ``axis``: (codes, bin centres or levels, tick labels)."""
    values = runs[axis.key]
    distinct = sorted(values.dropna().unique(), key=lambda v: (str(type(v)), v))
    if axis.kind == "levels" or len(distinct) <= _BINS:
        order = list(axis.levels) if axis.kind == "levels" else distinct
        order = [v for v in order if v in set(distinct)]
        codes = values.map({v: i for i, v in enumerate(order)})
        return codes, order, [_tick(v) for v in order]
    edges = np.linspace(axis.low, axis.high, _BINS + 1)
    codes = pd.Series(np.clip(np.digitize(values, edges[1:-1]), 0, _BINS - 1), index=runs.index)
    centres = list((edges[:-1] + edges[1:]) / 2)
    return codes, centres, [_tick(c) for c in centres]


def _tick(value: Any) -> str:
    """A compact axis label: 1,733,333 rather than 1.73333e+06."""
    if isinstance(value, bool | str) or not isinstance(value, int | float | np.number):
        return show(value)
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def response_curve(
    runs: pd.DataFrame, design: Design, outcome: str, key: str, lang: str = "en"
) -> Figure:
    """``outcome`` against one lever: each point's mean and 95% CI over replications, and
    the mean over all runs per value (or bin) of the lever."""
    axis = next(a for a in design.axes if a.key == key)
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    codes, centres, labels = _bins(runs, axis)
    marginal = np.array([mean_ci(runs.loc[codes == i, outcome]) for i in range(len(centres))])
    x = np.arange(len(centres)) if axis.kind == "levels" else np.asarray(centres, dtype=float)
    if axis.numeric:
        per_point = runs.groupby("sample").agg(x=(key, "first"))
        cis = {s: mean_ci(v) for s, v in runs.groupby("sample")[outcome]}
        per_point["mean"] = [cis[s][0] for s in per_point.index]
        per_point["low"] = [cis[s][1] for s in per_point.index]
        per_point["high"] = [cis[s][2] for s in per_point.index]
        yerr = np.vstack(
            [per_point["mean"] - per_point["low"], per_point["high"] - per_point["mean"]]
        )
        ax.errorbar(
            per_point["x"],
            per_point["mean"],
            yerr=np.nan_to_num(yerr),
            fmt="o",
            ms=3,
            alpha=0.45,
            lw=0.8,
            color="C0",
            label="design point: mean, 95% CI over replications",
        )
        ax.plot(x, marginal[:, 0], color="C1", lw=2, label="mean over all runs in the bin")
        ax.fill_between(x, marginal[:, 1], marginal[:, 2], color="C1", alpha=0.2, label="95% CI")
    else:
        yerr = np.vstack([marginal[:, 0] - marginal[:, 1], marginal[:, 2] - marginal[:, 0]])
        ax.errorbar(
            x,
            marginal[:, 0],
            yerr=np.nan_to_num(yerr),
            fmt="o",
            capsize=4,
            color="C1",
            label="mean over runs, 95% CI",
        )
        ax.set_xticks(x, labels)
    ax.set_xlabel(key)
    ax.set_ylabel(plotting.outcome_title(outcome, lang))
    ax.set_title(f"{BY_NAME[outcome].label(lang)} vs {key}")
    ax.legend(loc="best", fontsize=7)
    return fig


def response_heatmap(
    runs: pd.DataFrame, design: Design, outcome: str, key: str, key2: str, lang: str = "en"
) -> Figure:
    """Mean of ``outcome`` over every run in each cell of two levers (binned if continuous)."""
    axis1 = next(a for a in design.axes if a.key == key)
    axis2 = next(a for a in design.axes if a.key == key2)
    codes1, _, labels1 = _bins(runs, axis1)
    codes2, _, labels2 = _bins(runs, axis2)
    cells = (
        pd.DataFrame({"i": codes1, "j": codes2, "y": runs[outcome]}).groupby(["j", "i"])["y"].mean()
    )
    grid = np.full((len(labels2), len(labels1)), np.nan)
    for (j, i), value in cells.items():
        grid[int(j), int(i)] = value
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(labels1)), labels1, rotation=45, ha="right")
    ax.set_yticks(range(len(labels2)), labels2)
    ax.set_xlabel(key)
    ax.set_ylabel(key2)
    ax.grid(False)
    fig.colorbar(image, ax=ax, label=f"{plotting.outcome_title(outcome, lang)}, mean over runs")
    ax.set_title(f"{BY_NAME[outcome].label(lang)}: mean over replications and other levers")
    return fig
