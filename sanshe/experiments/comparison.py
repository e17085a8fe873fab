"""Compare scenarios under common random numbers, store every run, and summarise.

``compare(["baseline", "full_linkage"])`` plans every scenario × replication with the same
seed per replication (:func:`model.experiment.plan`), runs what the results store does not
hold yet, commits each run as it finishes, and returns a :class:`Comparison`: the key
outcomes with means, 95% confidence intervals and paired differences from the first
scenario, the figures and the report. ``Comparison.load(name)`` rebuilds it from the store.
"""

from __future__ import annotations

import html
import json
import math
import re
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sanshe.experiments.experiment import RunSpec, jobs_of, plan, run_single
from sanshe.experiments.experiment import (
    run_key as run_key,  # re-exported: the key of a compared run
)
from sanshe.experiments.runner import run_jobs
from sanshe.experiments.store import ResultStore, git_commit, package_version, spec_hash
from sanshe.inputs import timeline
from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import (
    BY_NAME,
    KEY_OUTCOMES,
    RATIO_PARTS,
    REPORT_OUTCOMES,
    SPECIAL_GROUPS,
    SPENDING_PARTS,
    describe,
    ratio_of,
)
from sanshe.inputs.parameters import PARAMETERS
from sanshe.inputs.scenario import Scenario
from sanshe.inputs.schema import BY_KEY
from sanshe.reporting import plotting, tables
from sanshe.reporting.conclusions import warnings_for
from sanshe.reporting.report import html_table, write_report
from sanshe.reporting.stats import UNBOUNDED, Bounds, interval, paired_test
from sanshe.reporting.stats import bands as _bands
from sanshe.reporting.stats import mean_ci as mean_ci  # re-exported: the older place of mean_ci
from sanshe.reporting.tables import HEADERS as HEADERS  # the names below are re-exported: scripts
from sanshe.reporting.tables import decimals as decimals  # and notebooks import them from here
from sanshe.reporting.tables import describe_difference as describe_difference
from sanshe.reporting.tables import format_interval as format_interval
from sanshe.reporting.tables import format_p as format_p
from sanshe.reporting.tables import format_setting as format_setting
from sanshe.reporting.tables import format_value as format_value
from sanshe.reporting.tables import table_rows

#: Where reports go unless told: results/<experiment>/ under the working directory.
RESULTS_DIR = Path("results")

#: Columns of :meth:`Comparison.table`.
TABLE_COLUMNS = (
    "outcome",
    "label",
    "unit",
    "scenario",
    "n",
    "mean",
    "ci_low",
    "ci_high",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "p_value",
    "ci_cut",
    "diff_ci_cut",
)

# --- the summary table (the statistics are in sanshe.reporting.stats) ----------------------------
def summary_table(
    runs: pd.DataFrame, scenarios: Sequence[str], outcomes: Sequence[str], lang: str = "en"
) -> pd.DataFrame:
    """Per outcome × scenario: mean, 95% CI, paired difference from the first scenario.

    ``runs`` has one row per finished run with columns scenario, replication and one per
    outcome final (as :meth:`ResultStore.runs` gives). Differences pair runs by
    replication (common random numbers), so they are much tighter than the two CIs.
    """
    reference = scenarios[0] if scenarios else None
    rows = []
    for name in outcomes:
        outcome = describe(name)
        column = runs[name] if name in runs else pd.Series(np.nan, index=runs.index)
        by_rep = {
            s: column[runs.scenario == s].set_axis(runs.replication[runs.scenario == s])
            for s in scenarios
        }
        for scenario in scenarios:
            values = by_rep[scenario]
            (mean, low, high), cut = interval(values, bounds=outcome.bounds)
            row = {
                "outcome": name,
                "label": outcome.label(lang),
                "unit": outcome.unit,
                "scenario": scenario,
                "n": int(values.notna().sum()),
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "diff": math.nan,
                "diff_ci_low": math.nan,
                "diff_ci_high": math.nan,
                "p_value": math.nan,
                "ci_cut": cut,
                "diff_ci_cut": False,
            }
            if scenario != reference:
                row.update(_paired(values, by_rep[reference], outcome.diff_bounds))
            rows.append(row)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def _paired(values: pd.Series, reference: pd.Series, bounds: Bounds) -> dict[str, Any]:
    """The paired difference of two scenarios' runs (by replication), its interval and p."""
    paired = pd.concat([values.rename("x"), reference.rename("y")], axis=1, join="inner").dropna()
    (diff, low, high), cut = interval(paired.x - paired.y, bounds=bounds)
    return {
        "diff": diff,
        "diff_ci_low": low,
        "diff_ci_high": high,
        "p_value": paired_test(paired.x, paired.y),
        "diff_ci_cut": cut,
    }


def bands_of(series: pd.DataFrame, bounds: Bounds = UNBOUNDED) -> pd.DataFrame:
    """Per scenario × month: mean and 95% CI over replications, cut at ``bounds``."""
    return _bands(series, bounds)


def with_derived(runs: pd.DataFrame, parameters: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """``runs`` with the derived columns: money per resident (NaN where the district's size
    is unknown) and the ratios of :data:`RATIO_PARTS` (NaN where the divisor's year is
    zero, or a run lacks either final)."""
    residents = runs.scenario.map(
        lambda s: residents_of(parameters.get(s, {}).get("district", {})) or math.nan
    )
    out = runs.copy()
    for name, parts in SPENDING_PARTS.items():
        present = [p for p in parts if p in runs]
        total = runs[present].sum(axis=1, min_count=len(parts)) if present else math.nan
        out[name] = total / residents
    for name, parts in RATIO_PARTS.items():
        defined = all(part in runs for part in parts)
        out[name] = ratio_of(name, runs) if defined else math.nan
    return out


def report_outcomes(runs: pd.DataFrame) -> list[str]:
    """The report's rows for ``runs`` (:func:`with_derived`): a ratio that no run defines
    (no need met through purchase anywhere) would be a row of blanks."""
    return [name for name in REPORT_OUTCOMES
            if name not in RATIO_PARTS or runs[name].notna().any()]


def residents_of(district: dict[str, Any]) -> int:
    """Residents of a scenario's district (0 when its size is not recorded)."""
    return (
        int(district.get("streets", 0))
        * int(district.get("communities_per_street", 0))
        * int(district.get("residents_per_community", 0))
    )


# --- the console table (cells and layout: sanshe/reporting/tables.py) ------------------
def format_table(table: pd.DataFrame, lang: str = "en") -> str:
    """The key table as aligned plain text for the console."""
    headers, rows, _ = table_rows(table, lang)
    return tables.format_table(headers, rows)


# --- what was compared -----------------------------------------------------------------
def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested scenario dict as dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def lever_differences(parameters: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Settings whose values differ between scenarios, in schema order, with help text.

    ``parameters`` maps scenario → resolved scenario dict. Scenario metadata and run
    settings (months, replications, seed) are left out: the report states those once;
    timelines too: the report lists them (:meth:`Comparison.timelines`).
    """
    flat = {s: flatten(p) for s, p in parameters.items()}
    keys = list(dict.fromkeys(k for values in flat.values() for k in values))
    order = {k: i for i, k in enumerate(BY_KEY)}
    keys.sort(key=lambda k: (order.get(k, len(order)), k))
    found = []
    for key in keys:
        if key.startswith(("scenario.", "run.")) or key == "timeline":
            continue
        values = {s: f.get(key) for s, f in flat.items()}
        if len({json.dumps(v, sort_keys=True) for v in values.values()}) > 1:
            found.append({"key": key, "help": _help(key), "values": values})
    return found


def _help(key: str) -> str:
    if key in BY_KEY:
        return BY_KEY[key].help
    if key.startswith("parameters."):
        parameter = PARAMETERS.get(key.removeprefix("parameters."))
        if parameter:
            return f"behavioural constant, {parameter.unit}; {parameter.source}"
    return ""


# --- the comparison ---------------------------------------------------------------------
class Comparison:
    """A stored comparison of scenarios: runs, summary table, figures and report.

    Build one with :func:`compare` or :meth:`load`. ``runs`` holds one row per finished
    run (finals as columns), ``failures`` the runs that raised, ``parameters`` each
    scenario's resolved settings. Monthly series are read from the store on demand.
    """

    def __init__(
        self,
        name: str,
        store: ResultStore,
        info: dict[str, Any],
        runs: pd.DataFrame,
        failures: pd.DataFrame,
        parameters: dict[str, dict[str, Any]],
        scenarios: list[str],
    ) -> None:
        self.name = name
        self.store = store
        self.info = info
        self.spec: dict[str, Any] = info.get("spec") or {}
        self.runs = runs
        self.failures = failures
        self.parameters = parameters
        self.scenarios = scenarios
        self.report_path: Path | None = None
        self._bands: dict[str, pd.DataFrame] = {}

    def __repr__(self) -> str:
        return (
            f"Comparison({self.name!r}, scenarios={self.scenarios}, "
            f"runs={len(self.runs)}, failed={self.failed})"
        )

    def _repr_html_(self) -> str:
        """The key table, as notebooks show the object."""
        table = self.table()
        headers, rows, starts = table_rows(table)
        significant = [bool(p < 0.05) for p in table.p_value.fillna(1.0)]
        return f"<p><b>{html.escape(repr(self))}</b></p>" + html_table(
            headers, rows, significant, starts
        )

    @classmethod
    def load(cls, name: str, db: str | ResultStore | None = None) -> Comparison:
        """The comparison stored under ``name`` (InputError listing names if unknown)."""
        store = db if isinstance(db, ResultStore) else ResultStore(db)
        info = store.experiment_info(name)
        runs = store.runs(name)
        failures = store.runs(name, status="failed")
        listed = list(info["spec"].get("scenarios") or [])
        present = list(dict.fromkeys([*runs.scenario, *failures.scenario]))
        scenarios = listed + [s for s in present if s not in listed]
        parameters = {}
        for scenario in scenarios:
            keys = runs.key[runs.scenario == scenario]
            if not keys.empty:
                parameters[scenario] = store.parameters(info["name"], keys.iloc[0])
        return cls(info["name"], store, info, runs, failures, parameters, scenarios)

    @property
    def failed(self) -> int:
        """How many runs raised."""
        return len(self.failures)

    @property
    def replications(self) -> int:
        """Replications per scenario (planned; fewer may have finished)."""
        planned = self.spec.get("replications")
        return int(planned) if planned else int(self.runs.replication.nunique())

    def table(self, lang: str = "en", outcomes: Sequence[str] | None = None) -> pd.DataFrame:
        """Key outcomes × scenarios: mean, 95% CI, paired difference from the first, p.

        By default the report's rows: the key outcomes, spending per resident, and a ratio
        (the purchase's cost per need met) where some run defines it.
        """
        chosen = list(dict.fromkeys(outcomes or report_outcomes(self.derived_runs)))
        return summary_table(self.derived_runs, self.scenarios, chosen, lang)

    @cached_property
    def derived_runs(self) -> pd.DataFrame:
        """``runs`` with the derived outcomes (:func:`with_derived`), worked out once: the
        table, the figures and the report all read them."""
        return with_derived(self.runs, self.parameters)

    def format_table(self, lang: str = "en") -> str:
        """The key table as the console prints it."""
        return format_table(self.table(lang), lang)

    def warnings(self, lang: str = "en", levers: bool = True) -> list[str]:
        """What to be careful about: levers on with nothing behind them (unless ``levers``
        is false), too few replications, intervals cut at the outcome's possible range."""
        return warnings_for(self, self.table(lang), lang, levers=levers)

    def differences(self) -> list[dict[str, Any]]:
        """The levers whose values differ between the scenarios (see lever_differences)."""
        return lever_differences(self.parameters)

    def timelines(self) -> dict[str, timeline.Timeline]:
        """Each scenario's policy changes from a month on (empty without a timeline)."""
        return {s: timeline.from_stored(self.parameters.get(s, {})) for s in self.scenarios}

    def change_months(self) -> dict[str, list[int]]:
        """Each scenario's change months, for the markers on trajectories."""
        return {s: timeline.change_months(t) for s, t in self.timelines().items() if t}

    def bands(self, outcome: str) -> pd.DataFrame:
        """Monthly mean and 95% CI per scenario of one outcome (read once, cached)."""
        if outcome not in BY_NAME:
            raise InputError(f"unknown outcome {outcome!r}; outcomes: {', '.join(BY_NAME)}.")
        if outcome not in self._bands:
            series = self.store.series(self.name, outcomes=[outcome])
            self._bands[outcome] = bands_of(series, BY_NAME[outcome].bounds)
        return self._bands[outcome]

    def plot(self, outcome: str, lang: str = "en"):
        """Trajectories of one outcome: each scenario's monthly mean with a 95% CI band."""
        return plotting.trajectories(
            {outcome: self.bands(outcome)}, self.scenarios, [outcome], lang, columns=1,
            changes=self.change_months(),
        )

    def figures(self, lang: str = "en") -> dict[str, Any]:
        """Every report figure by file stem: trajectories, finals, groups, SOs, affairs."""
        lang = plotting.resolve_lang(lang)
        words = plotting.WORDS[lang]
        groups = [f"coverage_{g}" for g in SPECIAL_GROUPS]
        affairs = [name for name, _ in plotting.AFFAIRS]
        key = report_outcomes(self.derived_runs)
        table = self.table(lang, [*key, *groups, *affairs])
        return {
            "trajectories": plotting.trajectories(
                {o: self.bands(o) for o in KEY_OUTCOMES},
                self.scenarios,
                KEY_OUTCOMES,
                lang,
                title=words["trajectories"],
                changes=self.change_months(),
            ),
            "finals": plotting.finals(table, self.scenarios, key, lang),
            "coverage_groups": plotting.groups(table, self.scenarios, lang),
            "so_dynamics": plotting.trajectories(
                {o: self.bands(o) for o in plotting.SO_OUTCOMES},
                self.scenarios,
                plotting.SO_OUTCOMES,
                lang,
                title=words["so_dynamics"],
                columns=2,
                changes=self.change_months(),
            ),
            "affairs_622": plotting.affairs(table, self.scenarios, lang),
        }

    def report(self, path: str | Path | None = None, lang: str = "en") -> Path:
        """Write the report directory (default results/<name>/); the path of report.html."""
        self.report_path = write_report(self, Path(path) if path else default_out(self.name), lang)
        return self.report_path


def default_out(name: str) -> Path:
    """results/<experiment>/ with the name made safe as a directory name."""
    return RESULTS_DIR / re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "experiment"


# --- running ----------------------------------------------------------------------------
def compare(
    scenarios: Sequence[Scenario | str] | Scenario | str,
    replications: int | None = None,
    seed: int | None = None,
    months: int | None = None,
    overrides: dict[str, Any] | None = None,
    db: str | ResultStore | None = None,
    name: str | None = None,
    out: str | Path | None = None,
    lang: str = "en",
    progress: bool = True,
    fresh: bool = False,
    report: bool = True,
    workers: int | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
) -> Comparison:
    """Run scenarios under common random numbers, store every run and write the report.

    Unset options come from the first scenario's ``[run]`` table. Runs already stored
    under the experiment ``name`` are skipped (resume); a run that raises is stored as
    failed with its traceback and the others go on (``Comparison.failed`` counts them).
    ``fresh`` drops a stored experiment of that name first; ``report=False`` skips the
    report files. The runs go through the one run engine (:mod:`sanshe.experiments.runner`): this
    process unless told, ``workers`` processes (in a script, under ``if __name__ ==
    "__main__":``), ``executor="local"`` (the cores available, or this process for a
    short batch) or ``"dask"`` with an optional ``scheduler`` address; the stored numbers
    are the same on every executor.
    """
    if isinstance(scenarios, Scenario | str):
        scenarios = [scenarios]
    if not scenarios:
        raise InputError("compare needs at least one scenario, e.g. 'baseline full_linkage'.")

    lang = plotting.resolve_lang(lang)
    specs = plan(scenarios, replications, seed, months, overrides)
    timeline.print_cut_notes(specs)  # a shortened run that ends before a timeline change
    names = list(dict.fromkeys(s.scenario.name for s in specs))
    if len(names) * len({s.replication for s in specs}) != len(specs):
        raise InputError(f"each scenario may be listed once; got {_names(scenarios)}.")
    first = specs[0].scenario
    spec = {
        "scenarios": names,
        "replications": len(specs) // len(names),
        "seed": int(first.get("run.seed") if seed is None else seed),
        "months": {s.scenario.name: s.months for s in specs},
        "overrides": overrides or {},
        "scenario_hashes": {s.scenario.name: spec_hash(s.scenario.to_dict()) for s in specs},
    }
    name = name or default_name(specs, spec, replications, seed, months, overrides)
    store = db if isinstance(db, ResultStore) else ResultStore(db)
    if fresh and name in set(store.experiments().name):
        store.delete_experiment(name)
    exp_id = store.experiment(name, "compare", spec)
    done = store.finished_keys(exp_id)
    if done:
        print(
            f"resuming '{name}': {len(done)} of {len(specs)} runs already stored.",
            file=sys.stderr,
        )
        _warn_other_code(store, name)
    jobs = jobs_of(specs)
    for _ in run_jobs(jobs, run_single, executor=executor, workers=workers,
                      scheduler=scheduler, store=store, experiment=exp_id,
                      progress=progress, label=name):
        pass  # each run is committed to the store as it finishes
    comparison = Comparison.load(name, store)
    if report:
        comparison.report(out, lang)
    return comparison


def default_name(
    specs: Sequence[RunSpec],
    spec: dict[str, Any],
    replications: int | None,
    seed: int | None,
    months: int | None,
    overrides: dict[str, Any] | None,
) -> str:
    """ "compare-a-vs-b", plus the options that differ from the scenarios' own defaults.

    So a different command never collides with (or resumes) another one:
    ``compare-baseline-vs-full_linkage-r6-m12-set3f9a2c`` ran 6 replications of 12 months
    with ``--set`` overrides whose hash starts 3f9a2c.
    """
    first = specs[0].scenario
    parts = ["compare-" + "-vs-".join(spec["scenarios"])]
    if replications and int(replications) != int(first.get("run.replications")):
        parts.append(f"r{spec['replications']}")
    if months and any(int(months) != int(s.scenario.get("run.months")) for s in specs):
        parts.append(f"m{int(months)}")
    if seed is not None and int(seed) != int(first.get("run.seed")):
        parts.append(f"s{int(seed)}")
    if overrides:
        parts.append("set" + spec_hash(overrides)[:6])
    return "-".join(parts)


def _names(scenarios: Sequence[Scenario | str]) -> str:
    return " ".join(s.name if isinstance(s, Scenario) else str(s) for s in scenarios)


def _warn_other_code(store: ResultStore, name: str) -> None:
    """Say so when stored runs were made by other code than this (a resume mixes them)."""
    stored = store.runs(name)
    now = (package_version(), git_commit())
    other = stored[[(v, c) != now for v, c in zip(stored.version, stored.git_commit, strict=True)]]
    if not other.empty:
        made_by = sorted(
            {
                f"{v} {c or 'no commit'}"
                for v, c in zip(other.version, other.git_commit, strict=True)
            }
        )
        print(
            f"note: {len(other)} stored runs of '{name}' were made by other code "
            f"({'; '.join(made_by)}); this is {now[0]} {now[1] or 'no commit'}. "
            "Use --fresh to rerun them all with this code.",
            file=sys.stderr,
        )
