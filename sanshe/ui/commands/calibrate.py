"""``sanshe calibrate``: fit uncertain behavioural constants to figures from the sources."""

from __future__ import annotations

import argparse

from sanshe.inputs import checks
from sanshe.ui.commands.run import add_executor_options, executor_of


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit behavioural constants to source figures (several at once, some held out)",
        description="Fits the free constants of a targets file (default: the package's "
        "sanshe/experiments/calibration_targets.toml) to its source figures at once: a Sobol "
        "or LHS design over the constants, common random numbers across points, a "
        "refinement around the best point and confirmation replications there; figures "
        "marked held_out are reported as out-of-sample checks, inputs (levers the scenario "
        "must set) are checked. Each figure names its scenario, months and district; with "
        "SCENARIO, figures that name none run in it (for --months, default the scenario's). "
        "Every run is stored in --db and a rerun of the same command resumes; writes "
        "calibration.json, fit.csv and fitted.toml, and with --apply sets the table's "
        "defaults.",
    )
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?",
                        help="library name or .toml path for the figures that name no "
                        "scenario (e.g. calibration/yuhuatai_targets.toml with yuhuatai)")
    parser.add_argument("--joint", action="store_true", help=argparse.SUPPRESS)  # old name
    parser.add_argument("--targets", metavar="FILE", help="targets TOML (default "
                        "sanshe/experiments/calibration_targets.toml)")
    parser.add_argument("--free", action="append", metavar="KEY=LOW:HIGH",
                        help="a behavioural constant to fit and its search range (repeat; "
                        "replaces the file's [[free]] list)")
    parser.add_argument("--points", type=checks.WholeNumber(2), default=None,
                        help="design points (default: the file's [design], else 16)")
    parser.add_argument("--replications", "-r", type=checks.REPLICATIONS, default=None,
                        help="replications per point (default 2)")
    parser.add_argument("--refine", type=checks.WholeNumber(0), default=None,
                        help="points of a second design around the best (default 8)")
    parser.add_argument("--confirm", type=checks.WholeNumber(2), default=None,
                        help="replications at the best point for the fit (default 6)")
    parser.add_argument("--method", choices=("sobol", "lhs"), default=None,
                        help="design (default sobol: points a power of two)")
    parser.add_argument("--months", type=checks.MONTHS_13, default=None,
                        help="months for the figures that name none, 13 to 600 (default: "
                        "the scenario's); only with SCENARIO")
    parser.add_argument("--seed", type=checks.SEED, default=None,
                        help="design seed (default: the file's [design])")
    parser.add_argument("--accept", type=float, default=None,
                        help="share of design points accepted as the posterior "
                        "(default 0.25)")
    parser.add_argument("--db", metavar="URL", default=None, help="results database "
                        "(default results/sanshe.sqlite)")
    parser.add_argument("--name", metavar="NAME", default=None,
                        help="stored experiment name (default from the settings)")
    parser.add_argument("--fresh", action="store_true",
                        help="drop a stored calibration of the same name first")
    parser.add_argument("--apply", action="store_true", help="write the best "
                        "constants into sanshe/inputs/parameters.py as their defaults, and "
                        "what the fit accepted (mean ± 2 sd) into the targets file's "
                        "[posterior], which the robustness draws take fitted constants from")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="output directory (default results/calibration/<SCENARIO or "
                        "joint>)")
    add_executor_options(parser)  # --workers, --executor, --scheduler: as every batch command
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Fit, print, write; ``--apply`` sets the table's defaults."""
    from pathlib import Path

    from sanshe.experiments import calibration
    from sanshe.experiments.store import ResultStore
    from sanshe.inputs.errors import InputError

    if args.accept is not None and not 0 < args.accept <= 1:
        raise InputError(f"--accept must be in (0, 1] (got {args.accept}).")
    if args.months is not None and args.scenario is None:
        raise InputError("--months needs a SCENARIO: it sets the months of the figures that "
                         "name none (the others name their own).")
    executor = executor_of(args)  # its options checked before anything is read or run
    name = _scenario_name(args.scenario)
    out = Path(f"results/calibration/{name or 'joint'}" if args.out is None else args.out)
    checks.output_dir(out, "--out")  # before any run
    path = (calibration.JOINT_TARGETS if args.targets is None
            else checks.input_file(args.targets, "--targets"))
    free = calibration.parse_free(args.free) if args.free else ()
    spec = calibration.load_joint(path, args.scenario, args.months, free)
    if args.accept is not None:
        spec.design["accept"] = args.accept
    for hit in calibration.own_constants(spec):
        print(f"note: scenario {hit} is set in the scenario itself; its runs use that value "
              "(unless it is a free constant), not the table's — remove it from the scenario "
              "to calibrate the table")
    with ResultStore(args.db or "results/sanshe.sqlite") as store:
        result = calibration.calibrate_joint(
            spec, points=args.points, replications=args.replications, refine=args.refine,
            confirm=args.confirm, method=args.method, seed=args.seed, store=store,
            name=args.name, fresh=args.fresh, workers=args.workers, executor=executor,
            scheduler=args.scheduler, progress=not args.no_progress)
    print(calibration.describe_joint(result))
    for written in calibration.write_joint(result, out):
        print(f"wrote {written}")
    _apply_or_say(result, args.apply, path)
    return 0


def _scenario_name(scenario: str | None) -> str | None:
    """The scenario's name (for the output folder), or a clear error if it cannot load."""
    from sanshe.experiments.experiment import resolve
    from sanshe.inputs.errors import InputError

    if scenario is None:
        return None
    try:
        return resolve(scenario).name
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot load scenario '{scenario}': {exc}") from exc


def _apply_or_say(result: object, apply: bool, targets: object) -> None:
    from sanshe.experiments import calibration

    constants = result.best_constants  # type: ignore[attr-defined]
    if apply:
        for line in calibration.apply_to_table(constants):
            print(f"set default {line} in sanshe/inputs/parameters.py")
        for line in calibration.apply_regions(result.regions(), targets):  # type: ignore[attr-defined]
            print(f"set {line} in {targets} [posterior] (what robustness draws)")
    else:
        print("to use them: rerun with --apply, or set these defaults in "
              "sanshe/inputs/parameters.py:")
        for line in calibration.patch_lines(result):  # type: ignore[arg-type]
            print(f"  {line}")
    for hit in calibration.scenario_overrides(list(constants)):
        print(f"note: scenario {hit} overrides a calibrated constant (remove it to use the fit)")
