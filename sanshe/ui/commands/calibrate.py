"""``sanshe calibrate``: fit uncertain behavioural constants to figures from the sources."""

from __future__ import annotations

import argparse

from sanshe.inputs import checks
from sanshe.ui.commands.run import add_executor_options, executor_of


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit behavioural constants to source figures (one scenario, or --joint: "
        "several figures at once with held-out checks)",
        description="SCENARIO --targets FILE --free KEY=LOW:HIGH: runs SCENARIO at a "
        "Latin-hypercube design over the --free parameters (common random numbers across "
        "points), keeps the points closest to the targets (approximate Bayesian computation "
        "by rejection), and writes calibration.json and fitted.toml in --out. --joint "
        "(no SCENARIO): fits the free constants of the package's calibration_targets.toml "
        "(or --targets) to several source figures at once over a Sobol or LHS design, each "
        "figure in its own scenario, some held out as out-of-sample checks; every run is "
        "stored in --db and a rerun of the same command resumes; writes calibration.json, "
        "fit.csv and fitted.toml, and with --apply sets the table's defaults.",
    )
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?",
                        help="library name or .toml path (not with --joint)")
    parser.add_argument("--joint", action="store_true",
                        help="joint calibration against several figures (issue 14)")
    parser.add_argument("--targets", metavar="FILE", help="targets TOML (--joint: default "
                        "sanshe/experiments/calibration_targets.toml)")
    parser.add_argument("--free", action="append", metavar="KEY=LOW:HIGH",
                        help="a behavioural constant to fit and its search range (repeat; "
                        "--joint: replaces the file's [[free]] list)")
    parser.add_argument("--points", type=checks.WholeNumber(2), default=None,
                        help="design points (default 12; --joint: the file's, 16)")
    parser.add_argument("--replications", "-r", type=checks.REPLICATIONS, default=None,
                        help="replications per point (default 2)")
    parser.add_argument("--refine", type=checks.WholeNumber(0), default=None,
                        help="--joint: points of a second design around the best (default 8)")
    parser.add_argument("--confirm", type=checks.WholeNumber(2), default=None,
                        help="--joint: replications at the best point for the fit (default 6)")
    parser.add_argument("--method", choices=("sobol", "lhs"), default=None,
                        help="--joint: design (default sobol: points a power of two)")
    parser.add_argument("--months", type=checks.MONTHS_13, default=None,
                        help="13 to 600 (default: the scenario's; not with --joint)")
    parser.add_argument("--seed", type=checks.SEED, default=None, help="default: the scenario's")
    parser.add_argument("--accept", type=float, default=None,
                        help="share of points accepted as the posterior (default 0.25)")
    parser.add_argument("--db", metavar="URL", default=None, help="--joint: results database "
                        "(default results/sanshe.sqlite)")
    parser.add_argument("--name", metavar="NAME", default=None,
                        help="--joint: stored experiment name (default from the settings)")
    parser.add_argument("--fresh", action="store_true",
                        help="--joint: drop a stored calibration of the same name first")
    parser.add_argument("--apply", action="store_true", help="--joint: write the best "
                        "constants into sanshe/inputs/parameters.py as their defaults")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="output directory (default results/calibration/<scenario or "
                        "joint>)")
    add_executor_options(parser)  # --workers, --executor, --scheduler: as every batch command
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from sanshe.inputs.errors import InputError

    accept = 0.25 if args.accept is None else args.accept
    if not 0 < accept <= 1:
        raise InputError(f"--accept must be in (0, 1] (got {args.accept}).")
    if args.joint:
        return _joint(args)
    if args.scenario is None or args.targets is None or not args.free:
        raise InputError("calibrate needs SCENARIO, --targets FILE and --free KEY=LOW:HIGH "
                         "(or --joint for the joint calibration).")
    return _single(args, accept)


def _single(args: argparse.Namespace, accept: float) -> int:
    from pathlib import Path

    from sanshe.experiments import calibration
    from sanshe.experiments.experiment import resolve
    from sanshe.inputs.errors import InputError

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
    result = calibration.calibrate(args.scenario, targets, free, args.points or 12,
                                   args.replications or 2, args.months, args.seed, accept,
                                   workers=args.workers, executor=executor,
                                   scheduler=args.scheduler)
    print(calibration.describe(result))
    for path in calibration.write(result, out):
        print(f"wrote {path}")
    return 0


def _joint(args: argparse.Namespace) -> int:
    """The joint calibration: fit, print, write; ``--apply`` sets the table's defaults."""
    from pathlib import Path

    from sanshe.experiments import calibration
    from sanshe.experiments.store import ResultStore
    from sanshe.inputs.errors import InputError

    if args.scenario is not None or args.months is not None:
        raise InputError("--joint takes no SCENARIO or --months: each figure names its "
                         "scenario and months in the targets file.")
    out = Path("results/calibration/joint" if args.out is None else args.out)
    checks.output_dir(out, "--out")  # before any run
    path = (calibration.JOINT_TARGETS if args.targets is None
            else checks.input_file(args.targets, "--targets"))
    spec = calibration.load_joint(path)
    if args.free:
        spec = calibration.with_free(spec, calibration.parse_free(args.free))
    if args.accept is not None:
        spec.design["accept"] = args.accept
    for hit in calibration.own_constants(spec):
        print(f"note: scenario {hit} is set in the scenario itself; its runs use that value "
              "(unless it is a free constant), not the table's — remove it from the scenario "
              "to calibrate the table")
    executor = executor_of(args)
    with ResultStore(args.db or "results/sanshe.sqlite") as store:
        result = calibration.calibrate_joint(
            spec, points=args.points, replications=args.replications, refine=args.refine,
            confirm=args.confirm, method=args.method, seed=args.seed, store=store,
            name=args.name, fresh=args.fresh, workers=args.workers, executor=executor,
            scheduler=args.scheduler, progress=not args.no_progress)
    print(calibration.describe_joint(result))
    for written in calibration.write_joint(result, out):
        print(f"wrote {written}")
    _apply_or_say(result, args.apply)
    return 0


def _apply_or_say(result: object, apply: bool) -> None:
    from sanshe.experiments import calibration

    constants = result.best_constants  # type: ignore[attr-defined]
    if apply:
        for line in calibration.apply_to_table(constants):
            print(f"set default {line} in sanshe/inputs/parameters.py")
    else:
        print("to use them: rerun with --apply, or set these defaults in "
              "sanshe/inputs/parameters.py:")
        for line in calibration.patch_lines(result):  # type: ignore[arg-type]
            print(f"  {line}")
    for hit in calibration.scenario_overrides(list(constants)):
        print(f"note: scenario {hit} overrides a calibrated constant (remove it to use the fit)")
