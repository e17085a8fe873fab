"""The one run engine: identical results on every executor, stored failures, resume,
batching, the choice between this process and workers, and the shared CLI options.

Functions handed to workers are top-level functions of this module, so spawned processes
can import them.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from sanshe.experiments import runner
from sanshe.experiments.comparison import compare
from sanshe.experiments.executors import Pool, ProcessPool, RunError, SerialPool
from sanshe.experiments.experiment import RunResult, RunSpec, jobs_of, plan, run_single
from sanshe.experiments.store import ResultStore
from sanshe.inputs.outcomes import OUTCOME_NAMES
from sanshe.ui.cli import main
from tests.helpers import sanshe

#: Two streets of two communities of 100 residents: a run of a few months takes ~0.05 s.
TINY = {
    "district.streets": 2,
    "district.communities_per_street": 2,
    "district.residents_per_community": 100,
}
TINY_ARGS = [arg for key, value in TINY.items() for arg in ("--set", f"{key}={value}")]


def _fails_for_full_linkage_r1(spec: RunSpec) -> RunResult:
    """run_single, except that full_linkage's replication 1 raises (inside the worker)."""
    if spec.scenario.name == "full_linkage" and spec.replication == 1:
        raise ValueError("full linkage broke in this test")
    return run_single(spec)


def _pid(spec: RunSpec) -> int:
    return os.getpid()


def _finals(store: ResultStore, name: str) -> pd.DataFrame:
    """Stored finals of an experiment, one row per run key, in key order."""
    runs = store.runs(name)
    columns = ["key", "seed", *[o for o in OUTCOME_NAMES if o in runs]]
    return runs[columns].sort_values("key").reset_index(drop=True)


def _compare(db: str, name: str, **options) -> None:
    compare(
        ["baseline", "full_linkage"],
        replications=2,
        months=3,
        overrides=TINY,
        db=db,
        name=name,
        progress=False,
        report=False,
        **options,
    )


# --- identical results ------------------------------------------------------------------
EXECUTORS = [
    ("this-process", {}),  # short: the engine keeps it in this process
    ("local-1", {"workers": 1}),
    ("local-2", {"workers": 2}),
    ("dask", {"executor": "dask", "workers": 2}),
]


def test_compare_stores_bit_identical_finals_on_every_executor(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'same.sqlite'}"
    store = ResultStore(db)
    reference = None
    for name, options in EXECUTORS:
        if options.get("executor") == "dask":
            pytest.importorskip("distributed", reason="pip install 'sanshe[distributed]'")
        _compare(db, name, **options)
        finals = _finals(store, name)
        assert len(finals) == 4
        if reference is None:
            reference = finals
        pd.testing.assert_frame_equal(finals, reference, check_exact=True, obj=name)


def test_the_command_line_takes_workers_and_matches_the_python_call(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    done = sanshe(
        "compare", "baseline", "full_linkage", "-r", "2", "--months", "3", *TINY_ARGS,
        "--workers", "2", "--name", "by-cli", "--db", db, "--no-report",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "local executor, 2 worker(s)" in done.stderr  # it did start two workers
    _compare(db, "in-python", executor="serial")
    store = ResultStore(db)
    pd.testing.assert_frame_equal(_finals(store, "by-cli"), _finals(store, "in-python"))


# --- failures and resume ----------------------------------------------------------------
def test_a_failed_run_is_stored_the_rest_go_on_and_resume_retries_only_it(
    tmp_path: Path,
) -> None:
    store = ResultStore(f"sqlite:///{tmp_path / 'fail.sqlite'}")
    experiment = store.experiment("flaky", "compare", {"test": 1})
    jobs = jobs_of(plan(["baseline", "full_linkage"], 2, 1, 2, TINY))
    options = {"store": store, "experiment": experiment, "progress": False}
    first = dict(runner.run_jobs(jobs, _fails_for_full_linkage_r1, **options))
    failed = [job.key for job, outcome in first.items() if isinstance(outcome, RunError)]
    assert failed == ["full_linkage/r1"] and len(first) == 4
    assert store.finished_keys(experiment) == {j.key for j in jobs} - {"full_linkage/r1"}
    error = store.runs("flaky", status="failed").set_index("key").loc["full_linkage/r1", "error"]
    assert "ValueError: full linkage broke in this test" in error

    again = [job.key for job, _ in runner.run_jobs(jobs, run_single, **options)]
    assert again == ["full_linkage/r1"]  # resume: the stored runs are skipped
    assert store.finished_keys(experiment) == {j.key for j in jobs}
    assert list(runner.run_jobs(jobs, run_single, **options)) == []  # nothing left to do


def test_python_run_finishes_the_others_then_reports_the_failures() -> None:
    jobs = jobs_of(plan(["baseline", "full_linkage"], 2, 1, 2, TINY))
    outcomes = runner.run_all(jobs, _fails_for_full_linkage_r1, executor="serial",
                              progress=False)
    assert [isinstance(o, RunResult) for o in outcomes] == [True, True, True, False]
    with pytest.raises(runner.RunsFailed, match="1 of 4 runs failed; the first"):
        runner.results_or_raise(jobs, outcomes)


def test_ctrl_c_during_a_commit_waits_for_it(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C lands while a finished run is being stored: the run is stored whole, then
    the sweep stops (the interrupt is raised after the commit, not inside it)."""
    store = ResultStore(f"sqlite:///{tmp_path / 'ctrl-c.sqlite'}")
    experiment = store.experiment("ctrl-c", "compare", {"test": 1})
    jobs = jobs_of(plan(["baseline"], 3, 1, 2, TINY))
    save_runs = store.save_runs

    def ctrl_c_mid_write(*args, **kwargs) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the signal's handler runs here, inside the write
        save_runs(*args, **kwargs)

    monkeypatch.setattr(store, "save_runs", ctrl_c_mid_write)
    with pytest.raises(KeyboardInterrupt):
        list(runner.run_jobs(jobs, run_single, executor="serial", store=store,
                             experiment=experiment, progress=False))
    assert store.finished_keys(experiment) == {jobs[0].key}  # stored, and nothing after


class _LosingPool(Pool):
    """A pool whose every task is lost by the executor (as when a Dask worker dies)."""

    kind = "losing"

    def submit(self, fn, *args) -> cf.Future:
        future: cf.Future = cf.Future()
        future.set_exception(OSError("worker lost"))
        return future

    @property
    def capacity(self) -> int:
        return 1


def test_a_lost_batch_is_a_failure_of_each_of_its_runs() -> None:
    jobs = jobs_of(plan(["baseline"], 5, 1, 2, TINY))
    outcomes = runner.run_all(jobs, run_single, executor=_LosingPool(), batch=2,
                              progress=False)
    assert all(isinstance(o, RunError) and "worker lost" in str(o) for o in outcomes)


# --- batching and where runs execute ----------------------------------------------------
def test_batches_give_every_run_its_own_result() -> None:
    jobs = jobs_of(plan(["baseline", "full_linkage"], 4, 7, 2, TINY))
    one_by_one = runner.run_all(jobs, run_single, executor="serial", progress=False)
    batched = runner.run_all(jobs, run_single, executor="serial", batch=3, progress=False)
    pd.testing.assert_frame_equal(
        pd.DataFrame([r.final for r in batched]), pd.DataFrame([r.final for r in one_by_one])
    )
    assert [(r.scenario, r.replication) for r in batched] == [
        (j.spec.scenario.name, j.spec.replication) for j in jobs
    ]
    slots, _ = runner.timed_batch((_fails_for_full_linkage_r1, [j.spec for j in jobs[:4]]))
    assert [type(s).__name__ for s in slots] == ["RunResult", "RunResult", "RunResult",
                                                 "RunError"]  # one bad run spoils one slot


@pytest.mark.parametrize(
    ("run_seconds", "todo", "capacity", "expected"),
    [
        (0.05, 1000, 4, 30),  # short runs: about 1.5 s of work per task
        (2.0, 1000, 4, 1),  # long runs go one per task
        (0.05, 40, 4, 2),  # but never fewer than four tasks per worker
        (0.05, 3, 4, 1),
    ],
)
def test_runs_per_task(run_seconds: float, todo: int, capacity: int, expected: int) -> None:
    assert runner.runs_per_task(run_seconds, todo, capacity) == expected


def test_the_batch_size_follows_the_measured_runs() -> None:
    sizer = runner.BatchSizer(lambda: 2, todo=100_000, fixed=None)
    assert [sizer.next_size() for _ in range(4)] == [1, 1, 1, 1]  # nothing measured yet
    sizer.record([3.0, 0.1, 0.1])  # a worker's first run (imports) is an outlier
    assert sizer.next_size() == 15  # 1.5 s of work at the median 0.1 s
    sizer.record([0.5] * 10)
    assert sizer.next_size() == 3
    sizer.record([0.01] * 64)  # the latest runs count: faster runs, bigger tasks
    assert sizer.next_size() == 150
    sizer.left = 40  # near the end: smaller tasks, none left idle
    assert [sizer.next_size() for _ in range(4)] == [5, 4, 3, 3]
    fixed = runner.BatchSizer(lambda: 2, todo=1000, fixed=7)
    assert fixed.next_size() == 7
    fixed.record([0.01] * 5)
    assert fixed.next_size() == 7
    seconds = runner.timed_batch((_pid, [None, None]))[1]
    assert len(seconds) == 2 and all(s >= 0 for s in seconds)


def test_a_short_batch_stays_in_this_process_unless_workers_are_asked_for() -> None:
    jobs = jobs_of(plan(["baseline"], 3, 1, 2, TINY))
    pids = {o for o in runner.run_all(jobs, _pid, progress=False)}
    assert pids == {os.getpid()}  # three tiny runs: not worth starting workers
    big = RunSpec(jobs[0].spec.scenario, 1, 600)
    assert runner.estimated_seconds(big) * 20 > runner.IN_PROCESS_BELOW_S
    with runner._pool("local", None, None, 20, runner.estimated_seconds(big)) as pool:
        assert isinstance(pool, ProcessPool)  # a long batch starts workers (lazily)
    with runner._pool("local", 1, None, 3, 0.01) as pool:
        assert isinstance(pool, ProcessPool)  # --workers 1 isolates runs in a process
    with runner._pool("local", 8, None, 3, 0.01) as pool:
        assert pool.capacity == 3  # no idle workers
    with runner._pool("serial", None, None, 100, 10.0) as pool:
        assert isinstance(pool, SerialPool)


def test_an_engine_starts_one_pool_for_many_batches() -> None:
    with runner.Engine("local") as engine:
        assert isinstance(engine.pool_for(3, 0.01), SerialPool)  # short: this process
        assert engine._pool is None  # no workers started for it
    with runner.Engine("local", workers=2) as engine:
        first = engine.pool_for(3, 0.01)
        assert isinstance(first, ProcessPool) and engine.pool_for(500, 5.0) is first


# --- the shared options -----------------------------------------------------------------
BATCH_COMMANDS = [
    ["run", "baseline"],
    ["compare", "baseline", "--no-report"],
    ["sweep", "baseline", "--vary", "policy.purchase.annual_budget=1e5:5e6", "--samples", "2"],
    ["calibrate", "baseline", "--free", "founding_rate=0.001:0.002", "--targets", "t.toml"],
    ["validate", "--no-robustness"],
]


@pytest.mark.parametrize("command", BATCH_COMMANDS, ids=lambda c: c[0])
def test_every_batch_command_checks_the_executor_options_before_any_run(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.toml").write_text(
        '[[target]]\nname="SOs"\noutcome="so_count"\nkind="equal"\nvalue=12\n'
        'source="a survey"\n', encoding="utf-8"
    )
    db = tmp_path / "never.sqlite"
    bad = ["--executor", "local", "--scheduler", "tcp://127.0.0.1:8786", "--out", "o"]
    args = [*command, *bad] if command[0] != "run" else [*command, *bad[:4]]
    if command[0] in ("run", "compare", "sweep"):
        args += ["--db", str(db)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "needs --executor dask" in err and "Traceback" not in err
    assert not db.exists() and not (tmp_path / "results").exists()
    assert main([command[0], "--help"]) == 0
    helped = capsys.readouterr().out
    assert all(option in helped for option in ("--workers", "--executor", "--scheduler"))


def test_run_reports_a_failed_run_and_a_rerun_does_only_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sanshe.ui.commands.run as run_command

    calls: list[str] = []

    def flaky(spec: RunSpec) -> RunResult:
        calls.append(f"{spec.scenario.name}/r{spec.replication}")
        if spec.replication == 1 and len(calls) < 3:
            raise ValueError("replication 1 broke in this test")
        return run_single(spec)

    monkeypatch.setattr(run_command, "run_single", flaky)
    args = ["run", "baseline", "-r", "2", "--months", "2", *TINY_ARGS, "--no-progress",
            "--db", str(tmp_path / "r.sqlite")]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert "ValueError: replication 1 broke in this test" in err
    assert "1 of 2 runs failed" in err and "Need coverage" in out  # the others' table
    assert main(args) == 0  # the same command again: only the failed run is retried
    assert calls == ["baseline/r0", "baseline/r1", "baseline/r1"]
    assert "Need coverage" in capsys.readouterr().out
