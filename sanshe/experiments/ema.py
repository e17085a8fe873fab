"""A stored experiment as EMA Workbench's results archive (``sanshe export --format ema``).

EMA Workbench users open the file with ``ema_workbench.load_results(path)`` and get
``(experiments, outcomes)`` as if EMA had run the model: every tool of theirs (PRIM, CART,
feature scoring, pair plots) then applies. The archive is the tar.gz that
``ema_workbench.save_results`` writes (format version 0.1):

- ``experiments.csv``: one row per finished run; the varied inputs (``policy.*`` and
  ``district.*`` levers, ``parameters.*`` uncertain constants) under their dotted keys,
  then ``scenario`` (a sweep's design point, or the replication of a comparison: the
  state of the world), ``policy`` (the sanshe scenario, i.e. the policy package) and
  ``model`` ("sanshe");
- ``<outcome>.cls``: each final value as an EMA ``ScalarOutcome`` (one value per row);
- ``<outcome>_monthly.csv`` and ``TIME.csv``: each monthly series as an ``ArrayOutcome``
  (runs × months) and the month numbers, so EMA's ``lines`` plots work;
- ``metadata.json``: the outcome classes, file names and column dtypes EMA reads back.

We write the format ourselves rather than call ``save_results``: no dependency on EMA
Workbench (and its scikit-learn, statsmodels, seaborn and platypus) to export, and the
monthly series stream from the store a few runs at a time instead of being built in
memory (EMA issue #304). The tests load the file with EMA Workbench itself and check it
against ``save_results`` on the same data. Two extra members EMA ignores carry what EMA's
metadata cannot: ``sanshe_runs.csv`` (run key, sample, replication and seed of each row)
and ``sanshe.json`` (the experiment's settings, sanshe version and git commit).

EMA has no notion of a failed run: failed runs are left out and counted.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from sanshe.experiments.store import FINISHED, ResultStore, git_commit, package_version
from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import OUTCOME_NAMES

#: The archive format version EMA Workbench's ``save_results`` writes and reads.
FORMAT_VERSION = 0.1

#: Runs read from the store at a time while writing the monthly series.
RUNS_PER_CHUNK = 50

#: The extra columns EMA puts after the inputs.
EMA_COLUMNS = ("scenario", "policy", "model")

#: Suffix of a monthly series' outcome name (the final value keeps the plain name).
MONTHLY = "_monthly"


@dataclass(frozen=True)
class ArchiveSummary:
    """What an export wrote: rows (runs), runs left out, outcomes and months."""

    path: Path
    rows: int
    failed: int
    outcomes: tuple[str, ...]
    months: int

    def describe(self) -> str:
        """One line for the terminal."""
        failed = (
            f"; {self.failed} failed run(s) left out (EMA has no notion of failure; "
            "`sanshe results` shows them)"
            if self.failed
            else ""
        )
        return (
            f"wrote {self.rows} runs × {len(self.outcomes)} outcomes (final values and "
            f"{self.months} months of series) to {self.path}{failed}. Open it with "
            "ema_workbench.load_results."
        )


def require_ema() -> None:
    """Check that EMA Workbench is installed (without paying for its import), or say how
    to install it."""
    from importlib.util import find_spec

    if find_spec("ema_workbench") is None:
        raise InputError(
            "this needs EMA Workbench, which is not installed: pip install \"sanshe[ema]\"."
        )


def experiments_frame(runs: pd.DataFrame, inputs: Sequence[str], kind: str) -> pd.DataFrame:
    """EMA's experiments table: the varied inputs, then scenario, policy and model.

    Text inputs and the three EMA columns are categorical (as EMA makes them), numbers stay
    numbers and true/false levers stay booleans.
    """
    frame = pd.DataFrame(index=runs.index)
    for key in inputs:
        frame[key] = _ema_column(runs[key])
    point = runs["sample"] if kind == "sweep" else runs["replication"]
    frame["scenario"] = pd.Categorical(point.astype("int64"))
    frame["policy"] = pd.Categorical(runs["scenario"].astype(object))
    frame["model"] = pd.Categorical(["sanshe"] * len(runs))
    return frame.reset_index(drop=True)


def _ema_column(values: pd.Series) -> pd.Series:
    """A column as EMA types it: bool, int64, float64, or category for anything else."""
    present = values.dropna()
    if len(present) and present.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return values.astype(bool)
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values):
        return values
    return pd.Categorical(values.astype(object))


def write_archive(
    store: ResultStore,
    experiment: str,
    out: Path,
    outcomes: Sequence[str] | None = None,
) -> ArchiveSummary:
    """Write ``experiment`` as an EMA Workbench results archive at ``out``.

    Rows are finished runs, ordered by design point (or scenario) and replication. The
    file appears only when complete (written beside it, then renamed).
    """
    info = store.experiment_info(experiment)
    runs, inputs = _finished_runs(store, info)
    names = [o for o in (outcomes or OUTCOME_NAMES) if o in runs]
    failed = len(store.runs(info["name"], status="failed"))
    experiments = experiments_frame(runs, inputs, info["kind"])
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="sanshe-ema-") as tmp:
        folder = Path(tmp)
        members = _write_scalars(folder, runs, names)
        months, series_members = _write_series(folder, store, info["name"], runs, names)
        metadata = {
            "version": FORMAT_VERSION,
            "outcomes": members + series_members,
            "experiments": {k: v.name for k, v in experiments.dtypes.items()},
        }
        with tarfile.open(partial, "w:gz") as archive:
            _add_bytes(archive, "experiments.csv", experiments.to_csv(index=False).encode())
            for _, _, filename in metadata["outcomes"]:
                archive.add(folder / filename, arcname=filename)
            _add_bytes(archive, "metadata.json", json.dumps(metadata).encode())
            keys = runs[["key", "sample", "replication", "seed"]]
            _add_bytes(archive, "sanshe_runs.csv", keys.to_csv(index=False).encode())
            _add_bytes(archive, "sanshe.json", _provenance(info, failed).encode())
    os.replace(partial, out)
    return ArchiveSummary(out, len(runs), failed, tuple(names), len(months))


def _finished_runs(store: ResultStore, info: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """The finished runs in row order, and the varied input keys (a sweep's axes)."""
    runs = store.runs(info["name"], status=FINISHED)
    if runs.empty:
        raise InputError(
            f"experiment '{info['name']}' has no finished runs to export; run (or resume) it "
            "first."
        )
    spec = info["spec"] if isinstance(info["spec"], dict) else {}
    inputs = [a["key"] for a in spec.get("vary", [])] if info["kind"] == "sweep" else []
    if "sample" not in runs:
        runs["sample"] = -1
    order = ["sample", "scenario", "replication"]
    return runs.sort_values(order, kind="stable").reset_index(drop=True), inputs


def _write_scalars(folder: Path, runs: pd.DataFrame, names: Sequence[str]) -> list[list[str]]:
    """One ``<outcome>.cls`` per final value, as EMA's ScalarOutcome writes it."""
    members = []
    for name in names:
        filename = f"{name}.cls"
        pd.DataFrame(runs[name].to_numpy(dtype=float)).to_csv(
            folder / filename, header=False, index=False
        )
        members.append(["ScalarOutcome", name, filename])
    return members


def _write_series(
    folder: Path, store: ResultStore, experiment: str, runs: pd.DataFrame, names: Sequence[str]
) -> tuple[list[int], list[list[str]]]:
    """Each monthly series as a runs × months CSV, streamed a few runs at a time."""
    keys = runs["key"].tolist()
    months: list[int] = []
    handles: dict[str, IO[str]] = {}
    try:
        for start in range(0, len(keys), RUNS_PER_CHUNK):
            chunk = keys[start : start + RUNS_PER_CHUNK]
            long = store.series(experiment, list(names), keys=chunk)
            if not months:
                first = int(long["month"].min()) if not long.empty else 1
                months = list(range(first, int(runs["months"].max()) + 1))
            _append_chunk(folder, handles, long, chunk, months, names)
        _append_time(folder, handles, len(keys), months)
    finally:
        for handle in handles.values():
            handle.close()
    members = [["ArrayOutcome", "TIME", "TIME.csv"]]
    members += [["ArrayOutcome", f"{n}{MONTHLY}", f"{n}{MONTHLY}.csv"] for n in names]
    return months, members


def _append_chunk(
    folder: Path,
    handles: dict[str, IO[str]],
    long: pd.DataFrame,
    keys: list[str],
    months: list[int],
    names: Sequence[str],
) -> None:
    """Append one chunk of runs to every outcome's series file (missing months: empty)."""
    for name in names:
        part = long[long["outcome"] == name]
        wide = part.pivot(index="key", columns="month", values="value")
        wide = wide.reindex(index=keys, columns=months).astype(float)
        handle = _handle(folder, handles, f"{name}{MONTHLY}.csv")
        pd.DataFrame(wide.to_numpy()).to_csv(handle, header=False, index=False)


def _append_time(
    folder: Path, handles: dict[str, IO[str]], rows: int, months: list[int]
) -> None:
    """``TIME``: the month numbers, one row per run (EMA's convention for series)."""
    handle = _handle(folder, handles, "TIME.csv")
    pd.DataFrame(np.tile(np.asarray(months, dtype=float), (rows, 1))).to_csv(
        handle, header=False, index=False
    )


def _handle(folder: Path, handles: dict[str, IO[str]], filename: str) -> IO[str]:
    if filename not in handles:
        handles[filename] = open(folder / filename, "w", encoding="utf-8", newline="")  # noqa: SIM115
    return handles[filename]


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    member = tarfile.TarInfo(name)
    member.size = len(data)
    archive.addfile(member, io.BytesIO(data))


def _provenance(info: dict[str, Any], failed: int) -> str:
    """What EMA's metadata cannot say: which experiment, with what, by which code."""
    return json.dumps(
        {
            "experiment": info["name"],
            "kind": info["kind"],
            "spec": info["spec"],
            "failed_runs_left_out": failed,
            "sanshe_version": package_version(),
            "git_commit": git_commit(),
        },
        default=str,
        ensure_ascii=False,
    )
