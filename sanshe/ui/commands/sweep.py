"""``sanshe sweep``: sample the lever space, run every point, stream the runs to the store."""

from __future__ import annotations

import argparse

from sanshe.inputs import checks
from sanshe.inputs.errors import InputError
from sanshe.ui.commands.run import add_executor_options, executor_of


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand."""
    parser = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep (LHS, Sobol, Morris or grid) in parallel",
        description="Vary scenario levers and behavioural constants over a sampled design, "
        "run each point with common random numbers, and store every run as it finishes. "
        "Rerunning the same command (or --resume NAME) finishes only what is missing.",
    )
    parser.add_argument(
        "scenario", metavar="SCENARIO", help="the base scenario: a library name or a .toml path"
    )
    parser.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=SPEC",
        help="a key to vary: KEY=LOW:HIGH (numeric range) or KEY=a,b,c "
        "(values); repeat for more keys. Keys are scenario settings "
        "(policy.purchase.annual_budget) or parameters.<name>",
    )
    parser.add_argument(
        "--samples",
        type=checks.POSITIVE,
        metavar="N",
        help="lhs: points; sobol: base sample N (N·(d+2) points, a power of "
        "two); morris: trajectories (N·(d+1) points); grid: points per "
        "numeric axis",
    )
    parser.add_argument(
        "--method",
        default="lhs",
        choices=("lhs", "grid", "sobol", "morris"),
        help="sampling design (default: lhs)",
    )
    parser.add_argument(
        "--replications",
        "-r",
        type=checks.REPLICATIONS,
        metavar="R",
        help="runs per design point (default: the scenario's [run])",
    )
    parser.add_argument(
        "--months",
        type=checks.MONTHS,
        metavar="T",
        help="months per run, 1 to 600 (default: the scenario's [run])",
    )
    parser.add_argument(
        "--seed",
        type=checks.SEED,
        metavar="S",
        help="sweep seed: fixes the design and the replication seeds "
        "(default: the scenario's [run])",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        dest="overrides",
        metavar="KEY=VALUE",
        help="override a key of the base scenario",
    )
    add_executor_options(parser)  # --workers, --executor, --scheduler: as every batch command
    parser.add_argument(
        "--batch",
        type=checks.POSITIVE,
        metavar="N",
        help="runs sent to a worker per task (default: about 1.5 s of work, from the first "
        "runs' measured duration); results are identical for any N",
    )
    parser.add_argument(
        "--name",
        "--resume",
        dest="name",
        metavar="NAME",
        help="the sweep's name in the store; rerun with the same name to "
        "resume (default: derived from the settings)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="drop a stored sweep of the same name and start again"
    )
    parser.add_argument(
        "--db", metavar="URL", help="results database (default: results/sanshe.sqlite)"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="where runs.csv and points.csv go (default: results/<sweep>/)"
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the sweep; exit 1 if any run failed (they are stored and retried on resume)."""
    from sanshe.experiments.comparison import RESULTS_DIR
    from sanshe.experiments.sweep import sweep
    from sanshe.inputs.scenario import parse_overrides

    if not args.vary:
        raise InputError(
            "sweep needs at least one --vary KEY=LOW:HIGH or --vary KEY=a,b,c, "
            "e.g. --vary policy.purchase.annual_budget=1e5:5e6."
        )
    checks.output_dir(RESULTS_DIR if args.out is None else args.out, "--out")  # before any run
    executor = executor_of(args)
    result = sweep(
        args.scenario,
        args.vary,
        samples=args.samples,
        method=args.method,
        replications=args.replications,
        months=args.months,
        seed=args.seed,
        workers=args.workers,
        executor=executor,
        scheduler=args.scheduler,
        name=args.name,
        db=args.db,
        progress=args.progress,
        overrides=parse_overrides(args.overrides),
        fresh=args.fresh,
        batch=args.batch,
    )
    print(
        f"sweep '{result.name}': {len(result.design)} design points × "
        f"{result.replications} replication(s), stored in {result.store!r}."
    )
    if result.resumed:
        print(f"resumed: {result.resumed} of {result.total} runs were already stored.")
    runs_path, points_path = result.export(args.out)
    print(
        f"wrote {runs_path} (one row per run) and {points_path} (mean and 95% CI per design point)."
    )
    if result.design.method in ("sobol", "morris"):
        print(f"analyse it with: sanshe sensitivity {result.name} --outcome need_coverage")
    if result.failed:
        print(
            f"{result.failed} run(s) failed; their tracebacks are stored. Rerun the same "
            f"command (or --resume {result.name}) to retry them."
        )
        return 1
    return 0
