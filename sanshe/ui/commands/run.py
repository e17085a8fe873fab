"""``sanshe run SCENARIO...``: run scenarios with replications and print final outcomes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from sanshe.experiments import runner
from sanshe.experiments.executors import EXECUTORS
from sanshe.experiments.experiment import RunResult, jobs_of, plan, run_key, run_single
from sanshe.inputs import checks
from sanshe.inputs.lever_checks import print_warnings
from sanshe.inputs.money import print_money_notes
from sanshe.inputs.outcomes import OUTCOME_NAMES
from sanshe.inputs.timeline import print_cut_notes


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``run`` and ``compare``: replications, seed, months, overrides, db."""
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                        help="library name (see `sanshe scenarios`) or path to a .toml file")
    parser.add_argument("--replications", "-r", type=checks.REPLICATIONS, metavar="R",
                        help="runs per scenario (default: the scenario's [run] replications)")
    parser.add_argument("--seed", type=checks.SEED, metavar="S",
                        help="master seed, 0 to 2**63-1 (default: the scenario's)")
    parser.add_argument("--months", type=checks.MONTHS, metavar="T",
                        help="months to simulate, 1 to 600 (default: the scenario's)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a scenario key, e.g. "
                        "policy.purchase.annual_budget=5e6 (repeatable)")
    parser.add_argument("--db", metavar="URL", help="SQLite file or postgresql:// URL to "
                        "store the runs in")
    add_executor_options(parser)


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """``--workers``, ``--executor`` and ``--scheduler``: every command that runs more than
    one simulation takes them (run, compare, sweep, calibrate, validate)."""
    parser.add_argument("--workers", type=checks.WORKERS, metavar="P",
                        help="worker processes (default: the cores available; a batch "
                        "shorter than starting them runs in this process)")
    parser.add_argument("--executor", choices=EXECUTORS,
                        help="local: a process pool (default); dask: dask.distributed "
                        "(--scheduler, or a LocalCluster); serial: this process")
    parser.add_argument("--scheduler", metavar="ADDR",
                        help="a running Dask scheduler, e.g. tcp://HOST:8786 (implies "
                        "--executor dask)")


def executor_of(args: argparse.Namespace) -> str:
    """The executor the options ask for, checked before any run (Dask installed)."""
    kind = args.executor or ("dask" if args.scheduler else "local")
    runner.check(kind, args.workers, args.scheduler)
    return kind


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run scenarios and print final outcomes with 95%% CIs",
                            description=__doc__)
    add_run_options(parser)
    parser.add_argument("--json", dest="json_file", metavar="FILE",
                        help="write every run (parameters, finals, monthly series) as JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sanshe.inputs.scenario import parse_overrides

    overrides = parse_overrides(args.overrides)
    checks.output_file(args.json_file, "--json", example="runs.json")  # before any run
    executor = executor_of(args)
    specs = plan(args.scenarios, args.replications, args.seed, args.months, overrides)
    print_warnings([spec.scenario for spec in specs])
    print_money_notes([spec.scenario for spec in specs])
    print_cut_notes(specs)  # a shortened run that ends before a timeline change
    store = experiment_id = None
    if args.db is not None:
        from sanshe.experiments.store import ResultStore, spec_hash

        store = ResultStore(args.db)
        spec = {"scenarios": args.scenarios, "replications": args.replications,
                "seed": args.seed, "months": args.months, "overrides": overrides}
        names = "-".join(dict.fromkeys(s.scenario.name for s in specs))
        experiment_id = store.experiment(f"run-{names}-{spec_hash(spec)[:8]}", "run", spec)
    jobs = jobs_of(specs)
    outcomes = runner.run_all(jobs, run_single, executor=executor, workers=args.workers,
                              scheduler=args.scheduler, store=store, experiment=experiment_id,
                              progress=not args.no_progress)
    if any(o is None for o in outcomes):  # stored by an identical command: read, not rerun
        stored = {run_key(r.scenario, r.replication): r for r in store.results(experiment_id)}
        outcomes = [stored[job.key] if o is None else o
                    for job, o in zip(jobs, outcomes, strict=True)]
    results = [o for o in outcomes if not isinstance(o, runner.RunError)]
    if args.json_file:
        write_json(results, Path(args.json_file))
    if results:
        print(final_table(results))
    return report_failures(jobs, outcomes)


def report_failures(jobs: list[runner.Job], outcomes: list) -> int:
    """Print each failed run's traceback to stderr; 1 if any failed, else 0."""
    failed = [(job, o) for job, o in zip(jobs, outcomes, strict=True)
              if isinstance(o, runner.RunError)]
    for job, error in failed:
        print(f"run {job.key} failed:\n{error.traceback_text}", file=sys.stderr)
    if failed:
        print(f"sanshe: {len(failed)} of {len(jobs)} runs failed (tracebacks above); the "
              "table shows the others.", file=sys.stderr)
    return 1 if failed else 0


def final_table(results: list[RunResult]) -> str:
    """Every outcome's final value per scenario: mean and 95% CI over replications."""
    from sanshe.experiments.comparison import format_table, summary_table

    frame = pd.DataFrame([{"scenario": r.scenario, "replication": r.replication, **r.final}
                          for r in results])
    scenarios = list(dict.fromkeys(frame.scenario))
    return format_table(summary_table(frame, scenarios, OUTCOME_NAMES))


def write_json(results: list[RunResult], path: Path) -> None:
    """The ``--json`` file: schema 1, one entry per run (INTERFACE.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"schema": 1, "runs": [r.to_json() for r in results]}
    path.write_text(json.dumps(payload, ensure_ascii=False, allow_nan=True), encoding="utf-8")

