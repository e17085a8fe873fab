"""``sanshe compare``, ``results`` and ``export`` end to end, and resume after a kill."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sanshe.experiments.comparison as comparison_module
from sanshe.inputs.outcomes import OUTCOME_NAMES
from sanshe.reporting.report import FIGURES
from sanshe.ui.cli import main
from tests.helpers import finished_runs, sqlite_file

SMALL = ["--set", "district.residents_per_community=200"]


def sanshe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the command line in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "sanshe", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Any]:
    """One small comparison made through the command line: (workdir, db URL, result)."""
    work = tmp_path_factory.mktemp("cli")
    db = f"sqlite:///{work / 'store.sqlite'}"
    done = sanshe(
        "compare",
        "baseline",
        "full_linkage",
        "--replications",
        "2",
        "--months",
        "12",
        *SMALL,
        "--db",
        db,
        "--out",
        str(work / "report"),
        "--no-progress",
        "--name",
        "cli-test",
        "--json",
        str(work / "runs.json"),
        cwd=work,
    )
    return work, db, done


def test_compare_prints_the_table_and_writes_the_report(compared) -> None:
    work, _db, done = compared
    assert done.returncode == 0, done.stderr
    assert "experiment 'cli-test': 2 scenarios × 2 replications, 4 of 4 runs" in done.stdout
    assert "Need coverage" in done.stdout and "Diff vs baseline [95% CI]" in done.stdout
    assert f"report: {work / 'report' / 'report.html'}" in done.stdout
    files = {p.name for p in (work / "report").iterdir()}
    assert {"report.html", "report.md", "runs.csv", *(f"{s}.png" for s in FIGURES)} <= files
    assert len(pd.read_csv(work / "report" / "runs.csv")) == 4
    payload = json.loads((work / "runs.json").read_text())
    assert payload["schema"] == 1 and len(payload["runs"]) == 4
    first = payload["runs"][0]
    assert len(first["series"]["need_coverage"]) == 12 and first["months"] == 12
    assert first["parameters"]["district"]["residents_per_community"] == 200


def test_results_lists_the_experiment(compared, capsys) -> None:
    work, db, _ = compared
    assert main(["results", "--db", db]) == 0
    header, _rule, row = capsys.readouterr().out.splitlines()[:3]
    assert header.split() == ["name", "date", "kind", "scenarios", "finished", "failed"]
    assert row.startswith("cli-test") and "compare" in row and row.split()[-2:] == ["4", "0"]
    assert "baseline, full_linkage" in row
    assert main(["results", "cli-test", "--db", db]) == 0
    assert "Participation rate" in capsys.readouterr().out
    assert main(["results", "--db", str(work / "empty.sqlite")]) == 2  # reading makes no store
    assert "no results database" in capsys.readouterr().err
    assert not (work / "empty.sqlite").exists()


def test_export_csv_and_parquet_in_long_form(compared) -> None:
    work, db, _ = compared
    out = work / "monthly.csv"
    assert main(["export", "cli-test", "--format", "csv", "--out", str(out), "--db", db]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["key", "scenario", "replication", "month", "outcome", "value"]
    assert len(frame) == 4 * 12 * len(OUTCOME_NAMES)
    assert not frame.duplicated(["key", "month", "outcome"]).any()
    pytest.importorskip("pyarrow")
    assert (
        main(
            [
                "export",
                "cli-test",
                "--format",
                "parquet",
                "--out",
                str(work / "m.parquet"),
                "--db",
                db,
                "--outcome",
                "need_coverage",
            ]
        )
        == 0
    )
    parquet = pd.read_parquet(work / "m.parquet")
    assert set(parquet.outcome) == {"need_coverage"} and len(parquet) == 4 * 12


def test_export_without_pyarrow_says_how_to_get_it(compared, monkeypatch, capsys) -> None:
    work, db, _ = compared
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails
    assert main(["export", "cli-test", "--format", "parquet", "--db", db]) == 2
    assert "pip install 'sanshe[parquet]'" in capsys.readouterr().err


def test_bad_input_exits_2(compared, capsys) -> None:
    work, db, _ = compared
    assert main(["export", "nope", "--db", db]) == 2
    assert "stored experiments: cli-test" in capsys.readouterr().err
    assert main(["compare", "baseline", "no_such_scenario", "--db", db]) == 2
    assert main(["compare", "baseline", "--replications", "0", "--db", db]) == 2
    assert main(["results", "nope", "--db", db]) == 2


def test_a_failed_run_makes_compare_exit_1(tmp_path: Path, monkeypatch, capsys) -> None:
    real = comparison_module.run_single

    def flaky(spec):
        if spec.replication == 0 and spec.scenario.name == "full_linkage":
            raise ValueError("bad luck")
        return real(spec)

    monkeypatch.setattr(comparison_module, "run_single", flaky)
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "compare",
            "baseline",
            "full_linkage",
            "--replications",
            "2",
            "--months",
            "6",
            *SMALL,
            "--no-progress",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "1 of 4 runs failed" in captured.err
    assert (tmp_path / "results" / "sanshe.sqlite").exists()  # the default store
    reports = list((tmp_path / "results").glob("compare-*/report.md"))
    assert len(reports) == 1 and "ValueError: bad luck" in reports[0].read_text()


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection to an existing store (never creates the file) that leaves transaction
    control to us."""
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout,
                           isolation_level=None)


def _hold_after_the_first_run(
    path: Path, proc: subprocess.Popen
) -> tuple[sqlite3.Connection, int]:
    """Once a run is stored, take the store's write lock: ``(connection, runs stored)``.

    While the lock is held the compare cannot store another run (it waits, as for any
    other writer), so however late this poll comes, the signal meets a compare with
    ``stored`` runs in the store and the rest still to do (47 runs to compute while the
    poll sleeps 20 ms). The caller signals, then lets go.
    """
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if finished_runs(path, timeout=0.1) >= 1:  # short waits: never sit behind the writer
            conn = _connect(path, timeout=0.1)
            try:
                conn.execute("BEGIN IMMEDIATE")
                stored = conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'finished'")
                return conn, stored.fetchone()[0]
            except sqlite3.Error:  # the compare is writing: try again
                conn.close()
        time.sleep(0.02)
    raise AssertionError(f"no run stored before the compare ended (exit {proc.poll()})")


@pytest.mark.parametrize(
    ("how", "workers"),
    [(signal.SIGKILL, []), (signal.SIGINT, []), (signal.SIGINT, ["--workers", "2"])],
    ids=["SIGKILL", "SIGINT", "SIGINT-workers"],
)
def test_resume_after_an_interruption(
    tmp_path: Path, how: signal.Signals, workers: list[str]
) -> None:
    """A compare killed (SIGKILL) or interrupted (Ctrl-C: SIGINT to it alone, as `kill -INT`
    sends; in this process or on worker processes) keeps its finished runs whole, and the
    same command resumes with only the missing ones."""
    path = tmp_path / "resume.sqlite"
    command = [
        sys.executable,
        "-m",
        "sanshe",
        "compare",
        "baseline",
        "full_linkage",
        "--replications",
        "24",
        "--months",
        "60",
        *SMALL,
        *workers,
        "--db",
        f"sqlite:///{path}",
        "--no-report",
        "--no-progress",
    ]
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lock, at_signal = _hold_after_the_first_run(path, proc)
    proc.send_signal(how)
    lock.rollback()
    lock.close()
    _out, err = proc.communicate(timeout=300)
    stored = finished_runs(path)
    assert 1 <= at_signal < 48, "the compare finished before it could be interrupted"
    if how == signal.SIGKILL:
        assert stored == at_signal  # killed waiting for the lock or computing
    else:
        # promptly: at most the batch waiting for the lock lands after Ctrl-C
        assert at_signal <= stored < 48
        assert workers or stored <= at_signal + 1  # in this process a batch is one run
        assert proc.returncode == 130 and "finished runs are kept" in err, err
    with sqlite_file(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # every stored run is whole: all its finals and months, never part of them
        counts = conn.execute(
            "SELECT r.key, COUNT(m.month) FROM runs r LEFT JOIN monthly m "
            "ON m.run_id = r.id GROUP BY r.id"
        ).fetchall()
        assert {n for _key, n in counts} == {60 * len(OUTCOME_NAMES)}

    again = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr and f"{stored} of 48 runs already stored" in again.stderr
    with sqlite_file(path) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM runs WHERE status = 'finished'")]
        rows = conn.execute("SELECT COUNT(*) FROM monthly").fetchone()[0]
    expected = {f"{s}/r{r}" for s in ("baseline", "full_linkage") for r in range(24)}
    assert sorted(keys) == sorted(expected)  # every key exactly once
    assert rows == 48 * 60 * len(OUTCOME_NAMES)
    assert "report:" not in again.stdout and not (tmp_path / "results").exists()


def test_two_compare_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    base = [
        sys.executable,
        "-m",
        "sanshe",
        "compare",
        "--replications",
        "2",
        "--months",
        "4",
        *SMALL,
        "--db",
        str(path),
        "--no-report",
        "--no-progress",
    ]
    commands = [
        base[:4] + ["baseline", "full_linkage"] + base[4:],  # the same experiment
        base[:4] + ["baseline", "full_linkage"] + base[4:],  # twice, at once
        base[:4] + ["incubation_only"] + base[4:],  # and another one
    ]
    procs = [
        subprocess.Popen(c, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    with sqlite_file(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per_experiment = dict(
            conn.execute(
                "SELECT e.name, COUNT(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                "GROUP BY e.name"
            ).fetchall()
        )
        duplicates = conn.execute(
            "SELECT COUNT(*) FROM (SELECT experiment_id, key FROM runs "
            "GROUP BY experiment_id, key HAVING COUNT(*) > 1)"
        ).fetchone()
        months = conn.execute("SELECT COUNT(*) FROM monthly").fetchone()[0]
    assert sorted(per_experiment.values()) == [2, 4] and duplicates == (0,)
    assert months == 6 * 4 * len(OUTCOME_NAMES)
