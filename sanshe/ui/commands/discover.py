"""``sanshe discover``: scenario discovery (PRIM) on a stored sweep, boxes in words."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``discover`` subcommand."""
    from sanshe.experiments.discovery import (
        DEFAULT_DENSITY,
        DEFAULT_MAX_BOXES,
        DEFAULT_MIN_COVERAGE,
    )

    parser = subparsers.add_parser(
        "discover",
        help="scenario discovery (PRIM): under which conditions does an outcome fail?",
        description="Find the regions of a stored sweep's inputs where an outcome ends below "
        "(or above) a threshold — or, with --versus, where its gain over another sweep run "
        "at the same design points and seeds does (\"under which conditions does the full "
        "package fail to raise participation?\"). PRIM (EMA Workbench) peels the input space "
        "into boxes; the command prints the coverage/density trade-off and each box in "
        "words, and writes report.md, report.html, tradeoff.png, trajectory.csv and "
        "boxes.csv to results/<sweep>-discover/. Needs the discovery extra "
        "(pip install \"sanshe[discovery]\").",
    )
    parser.add_argument("sweep", metavar="SWEEP_NAME", help="the name of a stored sweep")
    parser.add_argument("--outcome", required=True, metavar="OUTCOME",
                        help="the outcome whose final value decides the cases of interest")
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--below", type=float, metavar="X",
                      help="cases of interest: the outcome (or gain) ends below X")
    side.add_argument("--above", type=float, metavar="X",
                      help="cases of interest: the outcome (or gain) ends above X")
    parser.add_argument(
        "--versus", metavar="SWEEP",
        help="judge the gain over this stored sweep instead: same --vary, --samples, --method "
        "and --seed, another base scenario (e.g. baseline); runs pair by design point and seed",
    )
    parser.add_argument("--inputs", nargs="+", metavar="KEY",
                        help="the varied keys PRIM may restrict (default: all)")
    parser.add_argument(
        "--threshold-share", type=float, default=DEFAULT_DENSITY, metavar="D",
        help=f"the density a box must reach: its share of cases of interest "
        f"(default {DEFAULT_DENSITY})",
    )
    parser.add_argument(
        "--min-coverage", type=float, default=DEFAULT_MIN_COVERAGE, metavar="C",
        help="the default box is the densest holding at least this share of the cases "
        f"(default {DEFAULT_MIN_COVERAGE})",
    )
    parser.add_argument("--box", type=int, metavar="N",
                        help="take point N of the first box's peeling trajectory instead")
    parser.add_argument("--boxes", type=int, default=DEFAULT_MAX_BOXES, metavar="K",
                        help=f"find at most K boxes (default {DEFAULT_MAX_BOXES})")
    parser.add_argument("--out", metavar="DIR",
                        help="output directory (default: results/<sweep>-discover/)")
    parser.add_argument("--db", metavar="URL",
                        help="results database (default: results/sanshe.sqlite)")
    parser.add_argument("--lang", default="en", choices=("en", "zh"),
                        help="language of the report and figure")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Discover, print the trade-off and the boxes, write the report."""
    from pathlib import Path

    from sanshe.experiments.comparison import default_out
    from sanshe.experiments.discovery import discover, format_trajectory, summary_lines
    from sanshe.experiments.ema import require_ema
    from sanshe.experiments.store import ResultStore
    from sanshe.inputs import checks

    require_ema()  # before anything else: a missing extra is the first thing to fix
    if args.out:
        checks.output_dir(args.out, "--out")
    with ResultStore(args.db, must_exist=True) as store:
        found = discover(
            args.sweep,
            args.outcome,
            below=args.below,
            above=args.above,
            versus=args.versus,
            inputs=args.inputs,
            density=args.threshold_share,
            min_coverage=args.min_coverage,
            box=args.box,
            max_boxes=args.boxes,
            db=store,
        )
    out = Path(args.out) if args.out else default_out(f"{found.sweep}-discover")
    paths = found.report(out, args.lang)
    print("\n".join(summary_lines(found, args.lang)), end="\n\n")
    print(format_trajectory(found, args.lang), end="\n\n")
    print("\n".join(found.describe(args.lang)))
    print(f"\nwrote {paths['report.html']} (and report.md, tradeoff.png, trajectory.csv, "
          f"boxes.csv beside it)")
    return 0
