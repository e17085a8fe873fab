"""``sanshe run SCENARIO...``: run scenarios with replications and print final outcomes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from sanshe import checks
from sanshe.experiment import RunResult, plan, progress_bar, run_single
from sanshe.lever_checks import print_warnings
from sanshe.outcomes import OUTCOME_NAMES
from sanshe.timeline import print_cut_notes


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


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run scenarios and print final outcomes with 95%% CIs",
                            description=__doc__)
    add_run_options(parser)
    parser.add_argument("--json", dest="json_file", metavar="FILE",
                        help="write every run (parameters, finals, monthly series) as JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sanshe.scenario import parse_overrides

    overrides = parse_overrides(args.overrides)
    checks.output_file(args.json_file, "--json", example="runs.json")  # before any run
    specs = plan(args.scenarios, args.replications, args.seed, args.months, overrides)
    print_warnings([spec.scenario for spec in specs])
    print_cut_notes(specs)  # a shortened run that ends before a timeline change
    store = experiment_id = None
    if args.db is not None:
        from sanshe.store import ResultStore, spec_hash

        store = ResultStore(args.db)
        spec = {"scenarios": args.scenarios, "replications": args.replications,
                "seed": args.seed, "months": args.months, "overrides": overrides}
        names = "-".join(dict.fromkeys(s.scenario.name for s in specs))
        experiment_id = store.experiment(f"run-{names}-{spec_hash(spec)[:8]}", "run", spec)
    results = []
    for spec in progress_bar(specs, not args.no_progress):
        result = run_single(spec)
        results.append(result)
        if store is not None:
            store.save_run(experiment_id, f"{result.scenario}/r{result.replication}", result)
    if args.json_file:
        write_json(results, Path(args.json_file))
    print(final_table(results))
    return 0


def final_table(results: list[RunResult]) -> str:
    """Every outcome's final value per scenario: mean and 95% CI over replications."""
    from sanshe.comparison import format_table, summary_table

    frame = pd.DataFrame([{"scenario": r.scenario, "replication": r.replication, **r.final}
                          for r in results])
    scenarios = list(dict.fromkeys(frame.scenario))
    return format_table(summary_table(frame, scenarios, OUTCOME_NAMES))


def write_json(results: list[RunResult], path: Path) -> None:
    """The ``--json`` file: schema 1, one entry per run (INTERFACE.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"schema": 1, "runs": [r.to_json() for r in results]}
    path.write_text(json.dumps(payload, ensure_ascii=False, allow_nan=True), encoding="utf-8")

