"""``sanshe validate``: run the pattern-oriented validation suite and write its report."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sanshe.experiments import runner
from sanshe.inputs import checks as options
from sanshe.inputs.errors import InputError
from sanshe.ui.commands.run import add_executor_options, executor_of

try:
    from sanshe.experiments.validation import (
        MASTER_SEED,
        MONTHS,
        REPLICATIONS,
    )
except InputError:  # no protocol file (not a checkout): every other command must still work,
    MASTER_SEED = MONTHS = REPLICATIONS = None  # and `validate` itself says why when run

#: Replications per arm: two at least, for a confidence interval.
ARM_REPLICATIONS = options.WholeNumber(2, 10_000, " (two at least, for a confidence interval)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check the validation patterns (the design brief's ten and the survey "
        "pattern) and write a validation report",
        description="Runs the validation protocol (tests/validation/criteria.toml: arms one "
        "lever apart, minimum meaningful effects, replications from a power calculation; "
        "small district, common random numbers), decides each check by its rule with "
        "Holm's correction over the emergent checks (input checks apart), and writes "
        "results/validation/report.html (MME, replications, adjusted p, pass/fail, a "
        "figure per pattern), table.csv, table.md and, unless --no-robustness, the share of "
        "joint draws of every assumption constant in which each check holds.",
    )
    parser.add_argument("--replications", "-r", type=ARM_REPLICATIONS, default=None, metavar="R",
                        help="replications per arm for every check (default: each check's "
                        "own, from the power calculation in tests/validation/criteria.toml; "
                        f"up to {REPLICATIONS})")
    parser.add_argument("--months", type=options.MONTHS_13, default=None, metavar="T",
                        help=f"months per run, 13 to 600 (default {MONTHS})")
    parser.add_argument("--seed", type=options.SEED, default=None, metavar="S",
                        help=f"master seed (default {MASTER_SEED})")
    parser.add_argument("--out", metavar="DIR", default="results/validation",
                        help="output directory (default results/validation)")
    parser.add_argument("--pattern", type=options.POSITIVE, action="append", metavar="N",
                        help="only pattern N (repeatable)")
    parser.add_argument("--set", dest="district", action="append", default=[],
                        metavar="district.KEY=VALUE",
                        help="run the checks of the suite's district on another one, e.g. "
                        "district.residents_per_community=3000 (repeatable; district keys "
                        "only): do the verdicts hold on a district no criterion names? "
                        "Checks on the library's or the market district keep theirs")
    parser.add_argument("--pilot", action="store_true",
                        help="rerun the pilot behind the power calculation (the seed and "
                        "replications in criteria.toml [pilot]) and print each check's SD "
                        "and the replications it implies; writes pilot.csv")
    parser.add_argument("--no-robustness", action="store_true",
                        help="skip the robustness draws")
    parser.add_argument("--robustness-draws", type=options.WholeNumber(0), default=16,
                        metavar="N", help="Latin-hypercube draws of EVERY assumption constant "
                        "at once (table rows marked uncertain or sourced 'assumption', and every "
                        "fitted one, over what its fit accepted: calibration_targets.toml "
                        "[posterior]); each "
                        "selected emergent check's arms run paired at every draw; reports the "
                        "share of draws in which each check holds, with its 95%% CI "
                        "(default 16; 64 for a publication; 0 skips)")
    parser.add_argument("--draw-replications", type=options.POSITIVE, default=2, metavar="R",
                        help="replications per arm at each robustness draw (default 2)")
    parser.add_argument("--robustness-parameters", metavar="NAME,...",
                        help="draw only these constants (the rest at their defaults), to "
                        "see which of them a conclusion hangs on (default: every assumption)")
    parser.add_argument("--draws-only", action="store_true",
                        help="run only the robustness draws (no checks, no report)")
    add_executor_options(parser)  # --workers, --executor, --scheduler: as every batch command
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run, print the table, write the report; exit 0 (failures are findings, not errors)."""
    from sanshe.experiments import validation
    from sanshe.inputs.errors import InputError

    reps = args.replications  # None: each check's replications from the protocol
    months = validation.MONTHS if args.months is None else args.months
    seed = validation.MASTER_SEED if args.seed is None else args.seed
    names = _robustness_parameters(args.robustness_parameters)  # fail before any run
    size = suite_district(args.district)
    options.output_dir(args.out, "--out")
    kind = executor_of(args)
    checks = validation.CHECKS
    if args.pattern:
        bad = [n for n in args.pattern if n not in validation.PATTERNS]
        if bad:
            raise InputError(f"--pattern must be between 1 and {max(validation.PATTERNS)} "
                             f"(got {bad}).")
        checks = [c for c in checks if c.pattern in args.pattern]
    with runner.Engine(kind, args.workers, args.scheduler) as engine:  # workers start once
        if args.pilot:
            return _pilot(checks, args, months, engine, size)
        if args.draws_only:
            if args.robustness_draws < 1:
                raise InputError("--draws-only needs --robustness-draws N (N ≥ 1).")
            _draws(checks, args, months, seed, names, engine, size)
            return 0
        return _validate(checks, args, reps, months, seed, names, engine, size)


def suite_district(texts: list[str]) -> dict[str, Any]:
    """The suite's district with the ``--set`` district keys on top, checked as a scenario
    file's keys are (name, type, range) before any run."""
    from sanshe.experiments import validation
    from sanshe.inputs.errors import InputError
    from sanshe.inputs.scenario import Scenario, parse_overrides

    sets = parse_overrides(texts)
    other = [k for k in sets if not k.startswith("district.")]
    if other:
        raise InputError(f"--set {other[0]}: validate takes district keys only (e.g. "
                         "district.residents_per_community=3000); a policy or constant set "
                         "on both arms of every check would move the levers the checks "
                         "compare (--robustness-draws varies the constants).")
    size = {**validation.SIZE, **sets}
    Scenario.load("baseline").with_overrides(size)  # a wrong key or value: a clear error
    return size


def _validate(checks: list, args: argparse.Namespace, reps: int | None, months: int,
              seed: int, names: list[str], engine: runner.Engine,
              size: dict[str, Any]) -> int:
    """The checks, then the robustness draws, on one shared engine; the report."""
    from sanshe.experiments import validation

    rows, _, seconds = validation.run_checks(checks, reps, months, seed, size=size,
                                             executor=engine)
    print(validation.format_table(rows))
    family = [r for r in rows if r.check.kind == "emergent"]
    inputs = [r for r in rows if r.check.kind == "input"]
    print(f"{sum(r.passed for r in family)} of {len(family)} emergent checks pass (Holm over "
          f"{len(validation.EMERGENT)}); {sum(r.passed for r in inputs)} of {len(inputs)} "
          f"input checks hold ({seconds:.0f} s).")
    robust = None
    if not args.no_robustness and args.robustness_draws > 0:
        robust = _draws(checks, args, months, seed, names, engine, size)
    path = validation.write_report(rows, args.out, seconds, reps, months, seed, size=size,
                                   robustness=robust)
    print(f"wrote {path}")
    return 0


def _draws(checks: list, args: argparse.Namespace, months: int, seed: int, names: list[str],
           engine: runner.Engine, size: dict[str, Any]) -> Any:
    """Robustness over joint draws of the assumption constants: print, write two CSVs."""
    from sanshe.experiments import robustness, validation

    result = robustness.run(args.robustness_draws, args.draw_replications, checks, months,
                            seed, size=size, executor=engine, names=names)
    print(robustness.format_summary(result))
    validation.write_robustness(result, args.out)
    return result


def _pilot(checks: list, args: argparse.Namespace, months: int, engine: runner.Engine,
           size: dict[str, Any]) -> int:
    """Print (and write pilot.csv) each emergent check's pilot SD and implied replications;
    the protocol's pilot unless --seed, --replications or --months say otherwise."""
    from pathlib import Path

    from sanshe.experiments import validation

    seed = validation.PILOT["seed"] if args.seed is None else args.seed
    reps = validation.PILOT["replications"] if args.replications is None else args.replications
    months = validation.PILOT["months"] if args.months is None else months
    rows = validation.pilot(seed, reps, months, checks=checks, executor=engine, size=size)
    print(f"pilot: seed {seed}, {reps} replications, {months} months; n for power "
          f"{validation.POWER:g} at alpha "
          f"{validation.ALPHA:g}/{len(validation.EMERGENT)}")
    for row in rows:
        print(f"{row['check']:28s} mean {row['pilot_mean']:10.4g}  sd {row['pilot_sd']:10.4g}  "
              f"MME {row['mme']:8.3g}  n {row['replications']}")
    for row in rows:
        if warning := validation.unpowered(row):
            print(f"warning: {warning}", file=sys.stderr)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    validation._write_csv(Path(args.out) / "pilot.csv", rows)
    return 0


def _robustness_parameters(text: str | None) -> list[str]:
    """The constants named in --robustness-parameters, each checked against the table."""
    from sanshe.inputs.errors import InputError
    from sanshe.inputs.parameters import PARAMETERS

    if not text:
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PARAMETERS]
    if unknown or not names:
        raise InputError(f"--robustness-parameters: unknown constant(s) {unknown or text!r}; "
                         "see docs/ODD.md section 8 (sanshe/inputs/parameters.py) for the names.")
    return names
