"""``sanshe sensitivity``: Sobol or Morris indices of outcomes over a stored sweep."""

from __future__ import annotations

import argparse

from sanshe.inputs import checks


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sensitivity`` subcommand."""
    parser = subparsers.add_parser(
        "sensitivity",
        help="global sensitivity indices (Sobol or Morris) of a stored sweep",
        description="Which levers matter? Sobol first-order and total indices (from a sweep "
        "run with --method sobol) or Morris mu*/sigma (--method morris) of chosen outcomes, "
        "averaged over replications per design point. Writes a table (CSV) and a tornado "
        "figure (PNG) per outcome to results/<sweep>/ and prints the table.",
    )
    parser.add_argument("sweep", metavar="SWEEP_NAME", help="the name of a stored sweep")
    parser.add_argument(
        "--outcome",
        action="append",
        dest="outcomes",
        metavar="OUTCOME",
        help="an outcome to analyse (repeat for more; default need_coverage)",
    )
    parser.add_argument(
        "--method", choices=("sobol", "morris"), help="default: the sweep's own design"
    )
    parser.add_argument(
        "--resamples",
        type=checks.POSITIVE,
        default=1000,
        metavar="B",
        help="bootstrap resamples for the confidence intervals (default 1000)",
    )
    parser.add_argument(
        "--db", metavar="URL", help="results database (default: results/sanshe.sqlite)"
    )
    parser.add_argument("--out", metavar="DIR", help="output directory (default: results/<sweep>/)")
    parser.add_argument(
        "--lang", default="en", choices=("en", "zh"), help="language of the figure labels"
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Analyse each outcome, write its table and figure, print the table."""
    from pathlib import Path

    from sanshe.experiments import sensitivity
    from sanshe.experiments.comparison import RESULTS_DIR, default_out
    from sanshe.experiments.store import ResultStore
    from sanshe.experiments.sweep import SweepResult, _check_outcomes

    outcomes = _check_outcomes(args.outcomes or ["need_coverage"])
    checks.output_dir(RESULTS_DIR if args.out is None else args.out, "--out")
    with ResultStore(args.db, must_exist=True) as store:
        result = SweepResult.load(args.sweep, store)
        out = Path(args.out) if args.out else default_out(result.name)
        for outcome in outcomes:
            table = sensitivity.analyse(result, outcome, args.method, resamples=args.resamples)
            csv_path, png_path = sensitivity.write(table, out, outcome, args.lang)
            print(sensitivity.describe(table))
            print(sensitivity.format_table(table))
            print(f"wrote {csv_path} and {png_path}\n")
    return 0
