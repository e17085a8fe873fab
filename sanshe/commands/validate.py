"""``sanshe validate``: run the pattern-oriented validation suite and write its report."""

from __future__ import annotations

import argparse

from sanshe.validation import MASTER_SEED, MONTHS, REPLICATIONS, ROBUSTNESS_PARAMETERS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check the validation patterns (the design brief's ten and the survey "
        "pattern) and write a validation report",
        description="Runs every validation arm (small district, common random numbers), "
        "computes each pattern's paired statistic with a 95%% CI, and writes "
        "results/validation/report.html (expected direction, measured effect, pass/fail, a "
        "figure per pattern), table.csv, table.md and, unless --no-robustness, the sign of "
        "the headline effects across the plausible ranges of five uncertain parameters.",
    )
    parser.add_argument("--replications", type=int, default=None, metavar="R",
                        help=f"replications per arm (default {REPLICATIONS})")
    parser.add_argument("--months", type=int, default=None, metavar="T",
                        help=f"months per run (default {MONTHS})")
    parser.add_argument("--seed", type=int, default=None,
                        help=f"master seed (default {MASTER_SEED})")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--out", metavar="DIR", default="results/validation",
                        help="output directory (default results/validation)")
    parser.add_argument("--pattern", type=int, action="append", metavar="N",
                        help="only pattern N (repeatable)")
    parser.add_argument("--no-robustness", action="store_true",
                        help="skip the robustness table of the headline comparisons")
    parser.add_argument("--robustness-replications", type=int, default=10, metavar="R",
                        help="replications per robustness case (default 10)")
    parser.add_argument("--robustness-parameters", metavar="NAME,...",
                        help="uncertain constants to vary (default: "
                        + ",".join(ROBUSTNESS_PARAMETERS) + ")")
    parser.add_argument("--joint-points", type=int, default=16, metavar="N",
                        help="Latin-hypercube draws varying them together, 5 replications "
                        "each (default 16; 0 skips)")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run, print the table, write the report; exit 0 (failures are findings, not errors)."""
    from sanshe import validation
    from sanshe.errors import InputError

    reps = validation.REPLICATIONS if args.replications is None else args.replications
    months = validation.MONTHS if args.months is None else args.months
    seed = validation.MASTER_SEED if args.seed is None else args.seed
    if reps < 2:
        raise InputError(f"--replications must be at least 2 for a confidence interval "
                         f"(got {reps}).")
    if months < 13:
        raise InputError(f"--months must be at least 13 (got {months}): outcomes average "
                         "the last 12 months.")
    if args.workers < 1:
        raise InputError(f"--workers must be at least 1 (got {args.workers}).")
    if args.joint_points < 0:
        raise InputError(f"--joint-points must be 0 or more (got {args.joint_points}).")
    names = _robustness_parameters(args.robustness_parameters)  # fail before any run
    checks = validation.CHECKS
    if args.pattern:
        bad = [n for n in args.pattern if n not in validation.PATTERNS]
        if bad:
            raise InputError(f"--pattern must be between 1 and {max(validation.PATTERNS)} "
                             f"(got {bad}).")
        checks = [c for c in checks if c.pattern in args.pattern]
    rows, _, seconds = validation.run_checks(checks, reps, months, seed, workers=args.workers)
    print(validation.format_table(rows))
    print(f"{sum(r.passed for r in rows)} of {len(rows)} checks pass ({seconds:.0f} s).")
    robust = joint = None
    if not args.no_robustness:
        robust = validation.robustness(args.robustness_replications, months, seed,
                                       workers=args.workers, parameters=names)
        held = sum(r["expected_sign_holds"] == "yes" for r in robust)
        print(f"robustness: expected sign significant in {held} of {len(robust)} cases")
        if args.joint_points > 0:
            joint = validation.robustness_joint(args.joint_points, months=months, seed=seed,
                                                workers=args.workers, parameters=names)
            for row in validation.joint_summary(joint):
                print(f"joint draws, {row['comparison']}: significant {row['significant']}, "
                      f"sign only {row['sign_only']}, reversed {row['reversed']} "
                      f"of {row['points']}")
    path = validation.write_report(rows, args.out, seconds, reps, months, seed,
                                   robustness=robust, joint=joint)
    print(f"wrote {path}")
    return 0


def _robustness_parameters(text: str | None) -> list[str]:
    """The constants named in --robustness-parameters, each checked against the table."""
    from sanshe.errors import InputError
    from sanshe.parameters import PARAMETERS

    if not text:
        return list(ROBUSTNESS_PARAMETERS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PARAMETERS]
    if unknown or not names:
        raise InputError(f"--robustness-parameters: unknown constant(s) {unknown or text!r}; "
                         "see docs/ODD.md section 8 (sanshe/parameters.py) for the names.")
    return names
