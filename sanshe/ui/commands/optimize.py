"""``sanshe optimize``: the cheapest package of levers that reaches a target robustly."""

from __future__ import annotations

import argparse
import sys

from sanshe.inputs import checks
from sanshe.ui.commands.run import add_executor_options, executor_of


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``optimize`` subcommand."""
    parser = subparsers.add_parser(
        "optimize",
        help="the Pareto front of cost against outcomes, and the cheapest robust package",
        description="Search policy levers (each a range) with Optuna for the Pareto front of "
        "cost (government spending per resident per year, measured in the runs) against "
        "chosen outcomes, and the cheapest package whose gain over the base scenario meets "
        "--target in at least --robust-share of Latin-hypercube draws of the uncertain "
        "behavioural constants. Every candidate and the base run with the same draws and "
        "seeds. Every run is stored as it finishes; rerunning the same command resumes. "
        "Writes report.md, report.html and front.png to results/<name>/. Needs Optuna: "
        'pip install "sanshe[optimize]". See docs/optimize.md.',
    )
    parser.add_argument(
        "scenario", metavar="SCENARIO", help="the base scenario (the status quo to beat)"
    )
    parser.add_argument(
        "--lever", action="append", default=[], dest="levers", metavar="KEY=LOW:HIGH",
        help="a policy lever and its range (or KEY=a,b,c for values); repeat for more, "
        "e.g. --lever policy.purchase.annual_budget=0:6e6",
    )
    parser.add_argument(
        "--target", action="append", default=[], dest="targets", metavar="OUTCOME=+CHANGE",
        help="the gain over the base scenario to reach, in the outcome's units "
        "(coverage_elderly=+0.10: 10 points more); repeat: all must hold",
    )
    parser.add_argument(
        "--objective", action="append", default=[], dest="objectives", metavar="OUTCOME",
        help="an outcome on the front against cost (repeat; default: the target outcomes, "
        "else need_coverage)",
    )
    parser.add_argument(
        "--robust-share", type=float, default=0.8, metavar="Q",
        help="share of draws in which the target must hold, more than 0 and at most 1 "
        "(default 0.8)",
    )
    parser.add_argument(
        "--draws", type=checks.POSITIVE, default=20, metavar="D",
        help="Latin-hypercube draws of the uncertain constants (default 20)",
    )
    parser.add_argument(
        "--uncertain", action="append", dest="uncertain", metavar="NAME",
        help="a behavioural constant to draw over its range (repeat; default: those "
        "flagged most uncertain in sanshe/inputs/parameters.py)",
    )
    parser.add_argument(
        "--replications", "-r", type=checks.REPLICATIONS, default=2, metavar="R",
        help="seeds per draw (default 2)",
    )
    parser.add_argument(
        "--candidates", type=checks.POSITIVE, default=100, metavar="N",
        help="packages to evaluate (default 100); rerun with more to search further",
    )
    parser.add_argument(
        "--population", type=checks.WholeNumber(2), metavar="P",
        help="candidates per batch (an NSGA-II generation; default 20)",
    )
    parser.add_argument(
        "--sampler", choices=("nsga2", "tpe"), default="nsga2",
        help="Optuna sampler (default nsga2)",
    )
    parser.add_argument(
        "--cost", choices=("gov_spending_per_resident", "total_spending_per_resident"),
        default="gov_spending_per_resident",
        help="cost rule: government (default) or all spending per resident per year",
    )
    parser.add_argument(
        "--months", type=checks.MONTHS_13, metavar="T",
        help="months per run (default: the scenario's [run])",
    )
    parser.add_argument(
        "--seed", type=checks.SEED, metavar="S",
        help="fixes the draws, the seeds and the search (default: the scenario's [run])",
    )
    parser.add_argument(
        "--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE",
        help="override a key of the base scenario (e.g. the district's size)",
    )
    add_executor_options(parser)
    parser.add_argument(
        "--name", "--resume", dest="name", metavar="NAME",
        help="the search's name in the store; the same name resumes (default: derived "
        "from the settings)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="drop a stored search of the same name first"
    )
    parser.add_argument(
        "--db", metavar="URL", help="results database (default: results/sanshe.sqlite)"
    )
    parser.add_argument("--out", metavar="DIR", help="report folder (default: results/<name>/)")
    parser.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the report"
    )
    parser.add_argument(
        "--no-report", dest="report", action="store_false", help="write no report files"
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Search, print the chosen package and the front; 1 if any run failed."""
    from sanshe.experiments.comparison import RESULTS_DIR
    from sanshe.experiments.optimize import import_optuna, optimize
    from sanshe.inputs.scenario import parse_overrides

    import_optuna()  # the install hint before any other check or run
    if args.report:
        checks.output_dir(args.out or RESULTS_DIR, "--out")
    result = optimize(
        args.scenario,
        args.levers,
        target=args.targets,
        objectives=args.objectives,
        robust_share=args.robust_share,
        draws=args.draws,
        replications=args.replications,
        candidates=args.candidates,
        months=args.months,
        seed=args.seed,
        uncertain=args.uncertain,
        cost=args.cost,
        sampler=args.sampler,
        population=args.population,
        workers=args.workers,
        executor=executor_of(args),
        scheduler=args.scheduler,
        name=args.name,
        db=args.db,
        out=args.out,
        lang=args.lang,
        overrides=parse_overrides(args.overrides),
        progress=args.progress,
        fresh=args.fresh,
        report=args.report,
    )
    if result.failed:
        print(f"sanshe: {result.failed} run(s) of optimize '{result.name}' failed; their "
              "tracebacks are stored. Rerun the same command to retry them and go on.",
              file=sys.stderr)
        return 1
    print(f"optimize '{result.name}': {len(result.candidates)} candidates, stored in "
          f"{result.store.url}.")
    if result.resumed:
        print(f"resumed: {result.resumed} runs were already stored and not run again.")
    print()
    print(result.describe_choice(args.lang) + "\n")
    columns = ["number", *[a.key for a in result.problem.levers], "cost",
               *result.problem.objectives]
    if result.problem.targets:
        columns.append("draws_met")
    print("Pareto front (cost per resident per year against the objectives):")
    print(result.front[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if result.report_path:
        print(f"\nreport: {result.report_path}")
    return 0
