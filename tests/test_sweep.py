"""Sweeps: --vary parsing, designs, seeds, executors, resume, failures and the CLI.

Runs are kept short (6-24 months, 200-300 residents per community). Functions handed to
workers are top-level functions of this module so spawned processes can import them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sanshe.experiments.executors import open_executor
from sanshe.experiments.experiment import RunResult, RunSpec, replication_seeds, run_single
from sanshe.experiments.sweep import (
    Axis,
    SweepResult,
    _tasks,
    axis_from_text,
    make_design,
    parse_vary,
    run_key,
    sweep,
)
from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import OUTCOME_NAMES
from sanshe.inputs.scenario import Scenario
from tests.helpers import finished_runs, sqlite_file

SMALL = {"district.residents_per_community": 200}
REPO = Path(__file__).resolve().parent.parent


def _fails_when_mixed(spec: RunSpec) -> RunResult:
    """run_single, except that "mixed" procurement raises inside the worker."""
    if spec.scenario.get("policy.purchase.mode") == "mixed":
        raise ValueError("mixed procurement is broken in this test")
    return run_single(spec)


def _dies_when_mixed(spec: RunSpec) -> RunResult:
    """run_single, except that "mixed" procurement kills the worker process outright."""
    if spec.scenario.get("policy.purchase.mode") == "mixed":
        os._exit(3)
    return run_single(spec)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _finals(runs: pd.DataFrame) -> pd.DataFrame:
    columns = ["key", "seed", *[o for o in OUTCOME_NAMES if o in runs]]
    return runs[columns].sort_values("key").reset_index(drop=True)


# --- parsing -----------------------------------------------------------------------------
def test_numeric_range_float_and_int() -> None:
    budget = axis_from_text("policy.purchase.annual_budget=1e5:5_000_000")
    assert (budget.kind, budget.low, budget.high) == ("float", 1e5, 5e6)
    months = axis_from_text("policy.incubation.months=1:5")
    assert months.kind == "int" and isinstance(months.low, int) and months.high == 5
    assert {type(months.from_unit(u)) for u in np.linspace(0, 1, 11)} == {int}
    assert [months.from_unit(u) for u in (0.0, 0.19, 0.2, 0.99, 1.0)] == [1, 1, 2, 5, 5]
    posts = axis_from_text("policy.social_work.posts_per_community=0:4")  # a part post counts
    assert posts.kind == "float" and posts.from_unit(0.3) == 1.2
    share = Axis("parameters.elderly_share_rural", "float", 0.15, 0.45)
    assert share.from_unit(1.0) == 0.45  # 0.15 + 1·0.3 rounds to 0.45000000000000007


def test_lists_keep_their_types() -> None:
    mode = axis_from_text("policy.purchase.mode=competitive,directed")
    assert mode.levels == ("competitive", "directed")
    flag = axis_from_text("policy.purchase.third_party_evaluation=true,false")
    assert flag.levels == (True, False)
    months = axis_from_text("policy.incubation.months=6,12,24")
    assert months.levels == (6, 12, 24) and all(isinstance(v, int) for v in months.levels)
    share = axis_from_text("policy.community.project_share=0.1,0.5")
    assert share.levels == (0.1, 0.5)
    assert [mode.from_unit(u) for u in (0.0, 0.49, 0.5, 1.0)] == [
        "competitive",
        "competitive",
        "directed",
        "directed",
    ]


def test_python_mapping_forms() -> None:
    axes = parse_vary(
        {
            "policy.purchase.annual_budget": (1e5, 5e6),
            "policy.purchase.mode": ["competitive", "mixed"],
            "parameters.unit_cost": "600:1200",
        }
    )
    assert [a.kind for a in axes] == ["float", "levels", "float"]
    assert axes[2].key == "parameters.unit_cost"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("policy.purchase.annual_budget", "expected KEY=LOW:HIGH"),
        ("policy.purchase.annual_budget=1:2:3", "exactly one ':'"),
        ("policy.purchase.annual_budget=abc:5", "'abc' is not a number"),
        ("policy.purchase.anual_budget=1:2", "Did you mean 'policy.purchase.annual_budget'"),
        ("parameters.unit_cots=600:900", "Did you mean 'parameters.unit_cost'"),
        ("policy.purchase.annual_budget=5e6:1e5", "LOW (5e+06) is greater than HIGH"),
        ("policy.purchase.annual_budget=1e5:1e5", "range is empty"),
        ("policy.purchase.annual_budget=-5:10", "outside the allowed range"),
        ("policy.incubation.months=1:2.5", "not a whole number"),
        ("policy.purchase.mode=1:3", "is categorical"),
        ("policy.purchase.mode=competitive,auction", "'auction' is not allowed"),
        ("policy.purchase.third_party_evaluation=yes,no", "not true or false"),
        ("policy.purchase.mode=directed", "use --set"),
        ("policy.purchase.mode=directed,directed", "listed twice"),
        ("run.months=6:12", "cannot be varied"),
    ],
)
def test_bad_vary_is_input_error(text: str, needle: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_vary([text])
    assert needle in str(caught.value)


def test_key_varied_twice() -> None:
    with pytest.raises(InputError, match="varied twice"):
        parse_vary(["parameters.unit_cost=600:900", "parameters.unit_cost=700:800"])


# --- designs -----------------------------------------------------------------------------
AXES = [
    Axis("policy.purchase.annual_budget", "float", 1e5, 5e6),
    Axis("policy.incubation.months", "int", 1, 4),
    Axis("policy.purchase.mode", "levels", levels=("competitive", "directed", "mixed")),
]


@pytest.mark.parametrize(
    ("method", "samples", "size"),
    [
        ("lhs", 20, 20),
        ("sobol", 8, 8 * (3 + 2)),
        ("morris", 4, 4 * (3 + 1)),
        ("grid", 3, 3 * 3 * 3),
    ],
)
def test_designs_cover_the_ranges(method: str, samples: int, size: int) -> None:
    design = make_design(AXES, samples, method, seed=7)
    assert len(design) == size and design.unit.shape == (size, 3)
    frame = design.frame()
    assert frame["policy.purchase.annual_budget"].between(1e5, 5e6).all()
    assert set(frame["policy.incubation.months"]) <= {1, 2, 3, 4}
    assert set(frame["policy.purchase.mode"]) == {"competitive", "directed", "mixed"}
    again = make_design(AXES, samples, method, seed=7)
    assert np.array_equal(design.unit, again.unit) and design.points == again.points
    if method != "grid":
        other = make_design(AXES, samples, method, seed=8)
        assert not np.array_equal(design.unit, other.unit)


def test_latin_hypercube_stratifies_each_axis() -> None:
    design = make_design(AXES[:1], 10, "lhs", seed=3)
    cells = np.floor(design.unit[:, 0] * 10)
    assert sorted(cells) == list(range(10))


def test_grid_dedupes_integer_points_and_uses_all_levels() -> None:
    axes = [
        Axis("policy.incubation.months", "int", 1, 3),
        Axis("policy.purchase.mode", "levels", levels=("competitive", "directed")),
    ]
    design = make_design(axes, 5, "grid")
    assert len(design) == 3 * 2
    only_levels = make_design(axes[1:], None, "grid")
    assert len(only_levels) == 2


@pytest.mark.parametrize(
    ("method", "samples", "needle"),
    [
        ("lhs", None, "--samples"),
        ("grid", 1, "at least 2"),
        ("latin", 5, "--method"),
    ],
)
def test_bad_design_options(method: str, samples: int | None, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        make_design(AXES, samples, method)


def test_runs_are_interleaved_with_common_random_numbers() -> None:
    design = make_design(AXES, 4, "lhs", seed=1)
    base = Scenario.load("baseline")
    seeds = replication_seeds(11, 3)
    tasks = list(_tasks(design, base, seeds, 6, skip={run_key(1, 0)}))
    assert [t.key for t in tasks[:3]] == [run_key(0, 0), run_key(2, 0), run_key(3, 0)]
    assert [t.spec.replication for t in tasks] == [0] * 3 + [1] * 4 + [2] * 4
    for task in tasks:
        assert task.spec.seed == seeds[task.spec.replication]  # same seed for every point
        point = design.points[task.sample["sample"]]
        for key, value in point.items():
            assert task.spec.scenario.get(key) == value
            assert task.sample[key] == value


# --- running -----------------------------------------------------------------------------
def _small_sweep(
    db: str, name: str, executor: str, workers: int | None = None, **options
) -> SweepResult:
    return sweep(
        "baseline",
        ["policy.purchase.annual_budget=1e5:5e6", "policy.purchase.mode=competitive,directed"],
        samples=4,
        replications=2,
        months=6,
        seed=5,
        overrides=SMALL,
        executor=executor,
        workers=workers,
        name=name,
        db=db,
        progress=False,
        **options,
    )


#: (executor, workers, runs per task: None = chosen from the measured runs)
EXECUTORS = [
    ("local", 1, None),
    ("local", 2, None),
    ("local", 2, 3),
    ("dask", 2, None),
    ("dask", 2, 3),
]


def test_identical_finals_whatever_the_executor(tmp_path: Path) -> None:
    db = _url(tmp_path / "same.sqlite")
    reference = _finals(_small_sweep(db, "serial", "serial").runs())
    assert len(reference) == 8
    for kind, workers, batch in EXECUTORS:
        if kind == "dask":
            pytest.importorskip(
                "distributed",
                reason="dask.distributed is not installed (pip install 'sanshe[distributed]')",
            )
        result = _small_sweep(db, f"{kind}-{workers}-{batch}", kind, workers, batch=batch)
        pd.testing.assert_frame_equal(
            _finals(result.runs()), reference, obj=f"{kind}, {workers} workers, batch {batch}"
        )
        assert result.runs()["key"].is_unique


def test_failure_inside_a_worker_is_stored_and_the_sweep_goes_on(tmp_path: Path) -> None:
    db = _url(tmp_path / "fail.sqlite")
    vary = ["policy.purchase.mode=competitive,directed,mixed"]
    options = {
        "method": "grid",
        "replications": 2,
        "months": 6,
        "overrides": SMALL,
        "name": "flaky",
        "db": db,
        "progress": False,
    }
    result = sweep(
        "baseline", vary, executor="local", workers=2, batch=3, _run=_fails_when_mixed, **options
    )  # each task of three runs holds one "mixed" run, which fails alone
    assert result.failed == 2
    assert len(result.runs()) == 4
    failures = result.runs(status="failed")
    assert set(failures["policy.purchase.mode"]) == {"mixed"}
    assert failures["error"].str.contains("ValueError: mixed procurement is broken").all()
    assert failures["error"].str.contains("_fails_when_mixed").all()  # the worker's frames
    fixed = sweep("baseline", vary, executor="serial", **options)  # resume retries them
    assert fixed.failed == 0 and len(fixed.runs()) == 6


def test_a_dead_worker_stops_the_sweep_and_keeps_what_finished(tmp_path: Path) -> None:
    db = _url(tmp_path / "dead.sqlite")
    with pytest.raises(RuntimeError, match="worker process of sweep 'dead' died"):
        sweep(
            "baseline",
            ["policy.purchase.mode=competitive,directed,mixed"],
            method="grid",
            replications=1,
            months=6,
            overrides=SMALL,
            executor="local",
            workers=1,
            name="dead",
            db=db,
            progress=False,
            _run=_dies_when_mixed,
        )
    kept = SweepResult.load("dead", db).runs()
    assert set(kept["policy.purchase.mode"]) <= {"competitive", "directed"}


def test_resume_by_name_runs_only_what_is_missing(tmp_path: Path) -> None:
    db_path = tmp_path / "resume.sqlite"
    first = _small_sweep(_url(db_path), None, "serial")
    assert first.name.startswith("sweep-baseline-lhs-")
    lost = ["s1/r0", "s3/r0", "s2/r1"]
    with sqlite_file(db_path) as conn:  # as if these had been in flight at a crash
        ids = [conn.execute("SELECT id FROM runs WHERE key = ?", (k,)).fetchone()[0] for k in lost]
        for table, column in (("finals", "run_id"), ("monthly", "run_id"), ("runs", "id")):
            conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(i,) for i in ids])
    kept = _stored(db_path).set_index("key")["created"]

    again = _small_sweep(_url(db_path), None, "serial")
    assert again.name == first.name  # the same call gets the same default name: it resumes
    after = _stored(db_path).set_index("key")["created"]
    assert len(after) == 8 and set(after.index) - set(kept.index) == set(lost)
    assert (after.loc[kept.index] == kept).all()  # nothing ran twice
    pd.testing.assert_frame_equal(_finals(again.runs()), _finals(first.runs()))

    with pytest.raises(InputError, match="different settings"):
        sweep(
            "baseline",
            ["policy.purchase.annual_budget=1e5:4e6"],
            samples=4,
            replications=2,
            months=6,
            seed=5,
            overrides=SMALL,
            executor="serial",
            name=first.name,
            db=_url(db_path),
            progress=False,
        )
    _small_sweep(_url(db_path), first.name, "serial", fresh=True)
    renewed = _stored(db_path).set_index("key")["created"]
    assert len(renewed) == 8 and not (renewed.loc[after.index] == after).any()


def _stored(db_path: Path) -> pd.DataFrame:
    with sqlite_file(db_path) as conn:
        return pd.read_sql("SELECT key, created, status FROM runs", conn)


@pytest.mark.parametrize(
    "executor",
    [
        ["--workers", "1"],  # the local process pool, runs per task chosen as it goes
        pytest.param(  # Dask, three runs a task: a kill loses at most the batches running
            ["--executor", "dask", "--workers", "2", "--batch", "3"], marks=pytest.mark.slow
        ),
    ],
    ids=["local", "dask-batched"],
)
def test_resume_after_killing_the_sweep_midway(tmp_path: Path, executor: list[str]) -> None:
    if "dask" in executor:
        pytest.importorskip(
            "distributed",
            reason="dask.distributed is not installed (pip install 'sanshe[distributed]')",
        )
    db_path = tmp_path / "killed.sqlite"
    args = [
        "baseline",
        "--vary",
        "policy.purchase.annual_budget=1e5:5e6",
        "--samples",
        "20",
        "--replications",
        "2",
        "--months",
        "24",
        "--seed",
        "3",
        "--set",
        "district.residents_per_community=300",
    ]
    command = [
        sys.executable,
        "-m",
        "sanshe",
        "sweep",
        *args,
        *executor,
        "--name",
        "killed",
        "--db",
        _url(db_path),
        "--no-progress",
    ]
    with subprocess.Popen(  # leaving the block closes its pipe and waits for it
        command,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:
        deadline = time.monotonic() + 120
        while (finished_runs(db_path) < 4 and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.02)
        if proc.poll() is not None:
            pytest.fail("the sweep ended before it could be killed; make it longer\n"
                        + proc.stderr.read().decode())
        os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its workers, no cleanup
    before = _stored(db_path)
    assert 4 <= len(before) < 40

    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"resumed: {len(before)} of 40 runs were already stored" in done.stdout
    after = _stored(db_path)
    assert len(after) == 40 and after["key"].is_unique
    assert set(after["key"]) == {run_key(i, r) for i in range(20) for r in range(2)}
    assert (after["status"] == "finished").all()
    kept = after.set_index("key").loc[before["key"], "created"]
    assert list(kept) == list(before["created"])  # runs stored before the kill untouched

    reference = sweep(
        "baseline",
        args[2:3],
        samples=20,
        replications=2,
        months=24,
        seed=3,
        overrides={"district.residents_per_community": 300},
        executor="serial",
        db=_url(tmp_path / "ref.sqlite"),
        progress=False,
    )
    resumed = SweepResult.load("killed", _url(db_path))
    pd.testing.assert_frame_equal(_finals(resumed.runs()), _finals(reference.runs()))


# --- results -----------------------------------------------------------------------------
def test_table_response_and_load(tmp_path: Path) -> None:
    db = _url(tmp_path / "table.sqlite")
    result = _small_sweep(db, "tab", "serial")
    table = result.table(["need_coverage", "participation_rate"])
    assert list(table["sample"]) == [0, 1, 2, 3]
    assert (table["n"] == 2).all()
    assert {"need_coverage", "need_coverage_ci_low", "need_coverage_ci_high"} <= set(table)
    runs = result.runs()
    expected = runs.groupby("sample")["need_coverage"].mean()
    assert np.allclose(table["need_coverage"], expected.to_numpy())
    assert (table["need_coverage_ci_low"] <= table["need_coverage"]).all()
    assert isinstance(result.response("need_coverage", "policy.purchase.annual_budget"), Figure)
    assert isinstance(result.response("need_coverage", "policy.purchase.mode"), Figure)
    heat = result.response("need_coverage", "policy.purchase.annual_budget", "policy.purchase.mode")
    assert isinstance(heat, Figure)
    with pytest.raises(InputError, match="was not varied"):
        result.response("need_coverage", "parameters.unit_cost")
    with pytest.raises(InputError, match="Did you mean 'need_coverage'"):
        result.table(["need_coverag"])
    runs_path, points_path = result.export(tmp_path / "export")
    exported = pd.read_csv(runs_path)
    assert len(exported) == 8 and {"key", "sample", "policy.purchase.mode", "need_coverage"} <= set(
        exported
    )
    assert len(pd.read_csv(points_path)) == 4
    loaded = SweepResult.load("tab", db)
    assert loaded.design.points == result.design.points
    pd.testing.assert_frame_equal(loaded.table(), result.table())


def test_a_caller_pool_is_reused_and_left_open(tmp_path: Path) -> None:
    db = _url(tmp_path / "pool.sqlite")
    with open_executor("serial") as pool:
        one = _small_sweep(db, "p1", pool)
        two = _small_sweep(db, "p2", pool)
    pd.testing.assert_frame_equal(_finals(one.runs()), _finals(two.runs()))


# --- command line ------------------------------------------------------------------------
def _sanshe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sanshe", *args], cwd=cwd, capture_output=True, text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("vary", "needle"),
    [
        ("policy.purchase.annual_budget", "expected KEY=LOW:HIGH"),
        ("policy.purchase.anual_budget=1e5:5e6", "Did you mean 'policy.purchase.annual_budget'"),
        ("policy.purchase.annual_budget=5e6:1e5", "is greater than HIGH"),
        ("policy.purchase.mode=0:1", "is categorical"),
    ],
)
def test_cli_bad_vary_exits_2_with_a_message(tmp_path: Path, vary: str, needle: str) -> None:
    done = _sanshe(
        "sweep",
        "baseline",
        "--vary",
        vary,
        "--samples",
        "4",
        "--db",
        _url(tmp_path / "x.sqlite"),
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert needle in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_sobol_sweep_then_sensitivity(tmp_path: Path) -> None:
    pytest.importorskip(
        "SALib", reason="SALib is not installed (pip install 'sanshe[sensitivity]')"
    )
    db = _url(tmp_path / "cli.sqlite")
    done = _sanshe(
        "sweep",
        "baseline",
        "--vary",
        "policy.purchase.annual_budget=1e5:5e6",
        "--vary",
        "policy.social_work.posts_per_community=0:3",
        "--method",
        "sobol",
        "--samples",
        "4",
        "--replications",
        "1",
        "--months",
        "6",
        "--set",
        "district.residents_per_community=200",
        "--executor",
        "serial",
        "--resume",
        "sob",
        "--db",
        db,
        "--no-progress",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "sanshe sensitivity sob" in done.stdout
    assert (tmp_path / "results" / "sob" / "runs.csv").is_file()
    done = _sanshe(
        "sensitivity",
        "sob",
        "--outcome",
        "need_coverage",
        "--resamples",
        "50",
        "--db",
        db,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "policy.purchase.annual_budget" in done.stdout and "ST [95% CI]" in done.stdout
    out = tmp_path / "results" / "sob"
    assert (out / "sensitivity-sobol-need_coverage.csv").is_file()
    assert (out / "sensitivity-sobol-need_coverage.png").is_file()
    table = pd.read_csv(out / "sensitivity-sobol-need_coverage.csv")
    assert list(table.columns) == ["parameter", "S1", "S1_conf", "ST", "ST_conf"]

    done = _sanshe("sensitivity", "sob", "--method", "morris", "--db", db, cwd=tmp_path)
    assert done.returncode == 2 and "needs a sweep run with --method morris" in done.stderr
    done = _sanshe("sensitivity", "nosuch", "--db", db, cwd=tmp_path)
    assert done.returncode == 2 and "stored experiments: sob" in done.stderr
