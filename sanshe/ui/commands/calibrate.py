"""``sanshe calibrate``: fit uncertain behavioural constants to figures from the sources."""

from __future__ import annotations

import argparse

from sanshe.inputs import checks
from sanshe.ui.commands.run import add_executor_options, executor_of


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit behavioural constants to source figures (ABC rejection over an LHS design)",
        description="Runs SCENARIO at a Latin-hypercube design over the --free parameters "
        "(common random numbers across points), keeps the points closest to the targets "
        "(approximate Bayesian computation by rejection), and writes the fitted values, "
        "their uncertainty and the fit against each target to calibration.json and "
        "fitted.toml in --out.",
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="library name or .toml path")
    parser.add_argument("--targets", required=True, metavar="FILE", help="targets TOML")
    parser.add_argument("--free", action="append", required=True, metavar="KEY=LOW:HIGH",
                        help="a behavioural constant to fit and its search range (repeat)")
    parser.add_argument("--points", type=checks.WholeNumber(2), default=12,
                        help="design points (default 12)")
    parser.add_argument("--replications", "-r", type=checks.REPLICATIONS, default=2,
                        help="replications per point (default 2)")
    parser.add_argument("--months", type=checks.MONTHS_13, default=None,
                        help="13 to 600 (default: the scenario's)")
    parser.add_argument("--seed", type=checks.SEED, default=None, help="default: the scenario's")
    parser.add_argument("--accept", type=float, default=0.25,
                        help="share of points accepted as the posterior (default 0.25)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="output directory (default results/calibration/<scenario>)")
    add_executor_options(parser)  # --workers, --executor, --scheduler: as every batch command
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sanshe.experiments import calibration
    from sanshe.experiments.experiment import resolve
    from sanshe.inputs.errors import InputError

    if not 0 < args.accept <= 1:
        raise InputError(f"--accept must be in (0, 1] (got {args.accept}).")
    try:
        name = resolve(args.scenario).name
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot load scenario '{args.scenario}': {exc}") from exc
    out = Path("results") / "calibration" / name if args.out is None else Path(args.out)
    checks.output_dir(out, "--out")  # before any run
    targets = calibration.load_targets(checks.input_file(args.targets, "--targets"))
    free = calibration.parse_free(args.free)
    executor = executor_of(args)
    result = calibration.calibrate(args.scenario, targets, free, args.points,
                                   args.replications, args.months, args.seed, args.accept,
                                   workers=args.workers, executor=executor,
                                   scheduler=args.scheduler)
    print(calibration.describe(result))
    for path in calibration.write(result, out):
        print(f"wrote {path}")
    return 0
