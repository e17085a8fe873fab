"""``sanshe export``: an experiment's monthly outcomes in long form (CSV or Parquet), or
the whole experiment as EMA Workbench's results archive (``--format ema``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sanshe.inputs import checks
from sanshe.inputs.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="export an experiment's monthly outcomes (long form: run × month × outcome)",
        description="Write every finished run's monthly outcomes as a long table with "
        "columns key, scenario, replication, month, outcome, value. Parquet needs the "
        "parquet extra (pip install 'sanshe[parquet]'). --format ema writes EMA Workbench's "
        "results archive instead (inputs, final values and monthly series of every finished "
        "run; open it with ema_workbench.load_results).",
    )
    parser.add_argument("experiment", metavar="EXPERIMENT", help="stored experiment name")
    parser.add_argument(
        "--format", choices=("csv", "parquet", "ema"), default="csv",
        help="file format (default: csv)",
    )
    parser.add_argument(
        "--out", metavar="FILE",
        help="output file (default: results/<experiment>/monthly.<format>, or "
        "<experiment>.tar.gz for ema)",
    )
    parser.add_argument(
        "--outcome",
        action="append",
        dest="outcomes",
        metavar="NAME",
        help="export only this outcome (repeatable; default: all)",
    )
    parser.add_argument(
        "--db", metavar="URL", help="results database (default: results/sanshe.sqlite)"
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Stream the experiment's monthly rows to the file."""
    from sanshe.experiments.comparison import default_out
    from sanshe.experiments.store import ResultStore
    from sanshe.inputs.outcomes import BY_NAME

    unknown = [o for o in args.outcomes or [] if o not in BY_NAME]
    if unknown:
        raise InputError(
            f"--outcome: unknown outcome(s) {', '.join(unknown)}; outcomes: {', '.join(BY_NAME)}."
        )
    if args.format == "ema":
        return _export_ema(args)
    if args.format == "parquet":
        _require_pyarrow()
    checks.output_file(args.out, "--out", example=f"monthly.{args.format}")
    with ResultStore(args.db, must_exist=True) as store:
        name = store.experiment_info(args.experiment)["name"]
        out = Path(args.out) if args.out else default_out(name) / f"monthly.{args.format}"
        checks.output_file(out, "--out", example=f"monthly.{args.format}")
        rows = export(store, name, out, args.format, args.outcomes)
    print(f"wrote {rows} rows (key, scenario, replication, month, outcome, value) to {out}")
    return 0


def _export_ema(args: argparse.Namespace) -> int:
    """Write the EMA Workbench results archive (see :mod:`sanshe.experiments.ema`)."""
    from sanshe.experiments.comparison import default_out
    from sanshe.experiments.ema import write_archive
    from sanshe.experiments.store import ResultStore

    checks.output_file(args.out, "--out", example="experiment.tar.gz")
    with ResultStore(args.db, must_exist=True) as store:
        name = store.experiment_info(args.experiment)["name"]
        folder = default_out(name)
        out = Path(args.out) if args.out else folder / f"{folder.name}.tar.gz"
        checks.output_file(out, "--out", example="experiment.tar.gz")
        summary = write_archive(store, name, out, args.outcomes)
    print(summary.describe())
    return 0


def export(
    store, experiment: str, out: Path, fmt: str = "csv", outcomes: list[str] | None = None
) -> int:
    """Write the long monthly table of ``experiment`` to ``out``, a few runs at a time.

    The file appears only when complete (written beside it, then renamed). Returns the
    number of rows written.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    rows = 0
    writer = None
    try:
        for index, chunk in enumerate(store.series_chunks(experiment, outcomes)):
            rows += len(chunk)
            if fmt == "csv":
                chunk.to_csv(
                    partial, mode="w" if index == 0 else "a", header=index == 0, index=False
                )
            else:
                writer = _write_parquet(chunk, partial, writer)
        if rows == 0:
            empty = store.series(experiment, outcomes)
            if fmt == "csv":
                empty.to_csv(partial, index=False)
            else:
                writer = _write_parquet(empty, partial, writer)
    finally:
        if writer is not None:
            writer.close()
    os.replace(partial, out)
    return rows


def _write_parquet(chunk, path: Path, writer):
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("key", pa.string()),
            ("scenario", pa.string()),
            ("replication", pa.int64()),
            ("month", pa.int64()),
            ("outcome", pa.string()),
            ("value", pa.float64()),
        ]
    )
    table = pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(path, schema)
    writer.write_table(table)
    return writer


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise InputError(
            "--format parquet needs pyarrow, which is not installed: "
            "pip install 'sanshe[parquet]' (or use --format csv)."
        ) from exc
