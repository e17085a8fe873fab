"""``sanshe compare``: run scenarios under common random numbers and write a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sanshe.inputs import checks
from sanshe.ui.commands.run import add_run_options, executor_of, write_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand."""
    parser = subparsers.add_parser(
        "compare",
        help="compare scenarios: stored runs, a table with 95%% CIs and a report",
        description="Run every scenario with the same seeds (common random numbers), store "
        "each run as it finishes, print the key outcomes (mean, 95% CI, paired difference "
        "from the first scenario and its p-value) and write a report to "
        "results/<experiment>/. The first scenario is the reference. Rerunning the same "
        "command resumes: stored runs are skipped, failed ones retried.",
    )
    add_run_options(parser)
    parser.set_defaults(db=None)  # compare always stores: results/sanshe.sqlite by default
    parser.add_argument(
        "--out", metavar="DIR", help="report directory (default: results/<experiment>/)"
    )
    parser.add_argument(
        "--lang",
        choices=("en", "zh"),
        default="en",
        help="language of the table and report (zh needs a CJK font)",
    )
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="experiment name in the store (default: derived from the scenarios and "
        "options); the same name resumes",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="drop a stored experiment of the same name and start again",
    )
    parser.add_argument(
        "--json",
        dest="json_file",
        metavar="FILE",
        help="also write every stored run (parameters, finals, monthly series) as JSON",
    )
    parser.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="store the runs and print the table, but write no report files",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="hide the progress bar"
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the comparison, print the table and the report path; 1 if any run failed."""
    from sanshe.experiments.comparison import RESULTS_DIR, compare
    from sanshe.experiments.experiment import plan
    from sanshe.inputs.money import print_money_notes
    from sanshe.inputs.scenario import parse_overrides

    checks.output_file(args.json_file, "--json", example="runs.json")  # before any run
    if args.report:
        checks.output_dir(RESULTS_DIR if args.out is None else args.out, "--out")
    executor = executor_of(args)
    overrides = parse_overrides(args.overrides)
    # money per resident, incubator places and station posts on the district run
    print_money_notes([s.scenario for s in plan(args.scenarios, 1, args.seed, args.months,
                                                overrides)])
    comparison = compare(
        args.scenarios,
        replications=args.replications,
        seed=args.seed,
        months=args.months,
        overrides=overrides,
        db=args.db,
        name=args.name,
        out=args.out,
        lang=args.lang,
        progress=args.progress,
        fresh=args.fresh,
        report=args.report,
        workers=args.workers,
        executor=executor,
        scheduler=args.scheduler,
    )
    total = len(comparison.runs) + comparison.failed
    print(
        f"experiment '{comparison.name}': {len(comparison.scenarios)} scenarios × "
        f"{comparison.replications} replications, {len(comparison.runs)} of {total} runs "
        f"finished (stored in {comparison.store.url}).\n"
    )
    print(comparison.format_table(args.lang))
    for warning in comparison.warnings(args.lang):  # levers idle, too few replications
        print(f"warning: {warning}", file=sys.stderr)
    if comparison.report_path:
        print(f"\nreport: {comparison.report_path}")
    if args.json_file:
        write_json(list(comparison.store.results(comparison.name)), Path(args.json_file))
        print(f"runs as JSON: {args.json_file}")
    if comparison.failed:
        print(
            f"sanshe: {comparison.failed} of {total} runs failed; their tracebacks are in "
            "the report and the store. Rerun the same command to retry them.",
            file=sys.stderr,
        )
        return 1
    return 0
