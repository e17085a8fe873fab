"""The ``sanshe`` command line (also ``python -m sanshe`` (or ``python -m model``)).

Each subcommand lives in its own module under :mod:`sanshe.ui.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a handler taking the
parsed arguments and returning an exit code. Bad input raises :class:`InputError`
(exit 2, a one-paragraph message); anything else is an internal error (exit 1).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from sanshe.inputs.errors import InputError

#: Subcommand modules, in the order ``sanshe --help`` lists them.
COMMANDS = ("scenarios", "run", "compare", "results", "export", "sweep", "sensitivity",
            "discover", "optimize", "calibrate", "validate", "dashboard")


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors exit with code 2 and a short message."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.print_usage(sys.stderr)
        self.exit(2, f"sanshe: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every available subcommand."""
    parser = _Parser(prog="sanshe", description="三社联动 community-governance simulator")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"sanshe.ui.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sanshe.ui.commands.{name}":
                continue  # a command not built yet is simply not offered
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, and map errors to exit codes (also for argparse's)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): a code, as for the rest
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"sanshe: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    except KeyboardInterrupt:
        print("sanshe: interrupted; finished runs are kept.", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - the last line of defence: report, exit 1
        traceback.print_exc()
        print("sanshe: internal error (see above).", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
