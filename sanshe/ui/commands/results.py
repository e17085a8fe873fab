"""``sanshe results``: what the results store holds."""

from __future__ import annotations

import argparse

from sanshe.reporting.tables import format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``results`` subcommand."""
    parser = subparsers.add_parser(
        "results",
        help="list stored experiments (or show one comparison's table)",
        description="List the experiments in the results database: name, date, kind, "
        "scenarios and runs finished/failed. Given an experiment name, print its runs; "
        "for a comparison, its key table.",
    )
    parser.add_argument(
        "experiment",
        nargs="?",
        metavar="EXPERIMENT",
        help="show this experiment instead of the list",
    )
    parser.add_argument(
        "--db", metavar="URL", help="results database (default: results/sanshe.sqlite)"
    )
    parser.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of a comparison's table"
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the list of experiments, or one experiment."""
    from sanshe.experiments.store import DEFAULT_PATH, ResultStore

    if args.db is None and not args.experiment and not DEFAULT_PATH.exists():  # make nothing
        print(f"No experiments yet: there is no {DEFAULT_PATH} here. Run e.g. 'sanshe compare "
              "baseline full_linkage', or give the database with --db.")
        return 0
    with ResultStore(args.db, must_exist=True) as store:
        if args.experiment:
            print(show(store, args.experiment, args.lang))
            return 0
        listing = store.experiments()
        if listing.empty:
            print(
                f"No experiments in {store.url} yet; run e.g. "
                "'sanshe compare baseline full_linkage'."
            )
            return 0
        print(table(listing))
    return 0


def table(listing) -> str:
    """The experiments as an aligned text table."""
    rows = []
    for exp in listing.itertuples(index=False):
        created = exp.created.strftime("%Y-%m-%d %H:%M") if exp.created is not None else ""
        rows.append(
            (exp.name, created, exp.kind, exp.scenarios, str(exp.finished), str(exp.failed))
        )
    return format_table(("name", "date", "kind", "scenarios", "finished", "failed"), rows)


def show(store, name: str, lang: str = "en") -> str:
    """One experiment: a comparison's key table, or a count of runs by scenario."""
    info = store.experiment_info(name)
    head = f"{info['name']} ({info['kind']}, {info['created']:%Y-%m-%d %H:%M})"
    if info["kind"] == "compare":
        from sanshe.experiments.comparison import Comparison

        comparison = Comparison.load(info["name"], store)
        return f"{head}\n\n{comparison.format_table(lang)}"
    runs = store.runs(info["name"], status=None)
    if runs.empty:
        return f"{head}: no runs stored."
    counts = runs.groupby(["scenario", "status"]).size().unstack(fill_value=0)
    return f"{head}\n\n{counts.to_string()}"
