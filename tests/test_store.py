"""The results store on SQLite and PostgreSQL: round trips, idempotence, resume, locking."""

from __future__ import annotations

import gc
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sanshe.experiments.store import ResultStore, database_url, mask, normalise_url
from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import OUTCOME_NAMES
from tests.helpers import sqlite_file

SPEC = {"scenarios": ["baseline", "full_linkage"], "replications": 2, "months": 12}


@pytest.fixture
def store(db_url: str):
    with ResultStore(db_url) as opened:
        yield opened


def _save_pair(store: ResultStore, make_result, exp_id: int, replications: int = 2) -> list:
    saved = []
    for rep in range(replications):
        for scenario, shift in (("baseline", 0.0), ("full_linkage", 0.1)):
            result = make_result(scenario, rep, seed=100 + rep, shift=shift)
            store.save_run(exp_id, f"{scenario}/r{rep}", result)
            saved.append(result)
    return saved


def test_round_trip_finals_and_series(store: ResultStore, make_result) -> None:
    exp_id = store.experiment("cmp", "compare", SPEC)
    saved = _save_pair(store, make_result, exp_id)

    runs = store.runs("cmp")
    assert len(runs) == 4
    assert list(runs.columns[:3]) == ["key", "scenario", "replication"]
    for result in saved:
        row = runs.set_index("key").loc[f"{result.scenario}/r{result.replication}"]
        assert row["seed"] == result.seed and row["status"] == "finished"
        assert row["version"] and "created" in row
        for name in OUTCOME_NAMES:
            assert row[name] == pytest.approx(result.final[name], rel=1e-12)

    series = store.series("cmp")
    assert list(series.columns) == ["key", "scenario", "replication", "month", "outcome", "value"]
    assert len(series) == 4 * 12 * len(OUTCOME_NAMES)
    one = series[(series.key == "full_linkage/r1") & (series.outcome == "need_coverage")]
    assert list(one.month) == list(range(1, 13))
    np.testing.assert_allclose(one.value, saved[3].series["need_coverage"], rtol=1e-12)
    assert store.parameters("cmp", "baseline/r0") == saved[0].parameters


def test_results_rebuild_run_results(store: ResultStore, make_result) -> None:
    exp_id = store.experiment("cmp", "compare", SPEC)
    saved = _save_pair(store, make_result, exp_id)
    extra = make_result("extra", 0)
    extra.series["so_count"][3] = float("nan")
    store.save_run(exp_id, "extra/r0", extra)
    back = list(store.results("cmp", runs_per_chunk=3))
    assert len(back) == 5
    for original, loaded in zip([*saved, extra], back, strict=True):
        assert loaded.to_json().keys() == original.to_json().keys()
        assert (loaded.scenario, loaded.replication, loaded.seed, loaded.months) == (
            original.scenario,
            original.replication,
            original.seed,
            original.months,
        )
        assert loaded.parameters == original.parameters
        assert list(loaded.series) == list(OUTCOME_NAMES)
        for name in OUTCOME_NAMES:
            np.testing.assert_allclose(loaded.series[name], original.series[name], rtol=1e-12)
            assert loaded.final[name] == pytest.approx(original.final[name], rel=1e-12)


def test_series_filters_by_outcome_and_key(store: ResultStore, make_result) -> None:
    exp_id = store.experiment("cmp", "compare", SPEC)
    _save_pair(store, make_result, exp_id)
    part = store.series("cmp", outcomes=["so_count", "need_coverage"], keys=["baseline/r0"])
    assert set(part.outcome) == {"so_count", "need_coverage"}
    assert set(part.key) == {"baseline/r0"} and len(part) == 24
    chunks = list(store.series_chunks("cmp", runs_per_chunk=3))
    assert [c.key.nunique() for c in chunks] == [3, 1]


def test_saving_a_key_twice_never_duplicates(store: ResultStore, make_result) -> None:
    exp_id = store.experiment("cmp", "compare", SPEC)
    result = make_result("baseline", 0)
    store.save_run(exp_id, "baseline/r0", result)
    store.save_run(exp_id, "baseline/r0", make_result("baseline", 0, shift=5.0))
    runs = store.runs("cmp")
    assert len(runs) == 1
    assert runs.loc[0, "need_coverage"] == pytest.approx(result.final["need_coverage"])
    assert len(store.series("cmp", outcomes=["need_coverage"])) == 12
    assert store.finished_keys(exp_id) == {"baseline/r0"}


def test_failure_is_stored_then_replaced_by_success(store: ResultStore, make_result) -> None:
    exp_id = store.experiment("cmp", "compare", SPEC)
    store.save_failure(
        exp_id,
        "baseline/r1",
        "baseline",
        1,
        7,
        {"a": 1},
        "Traceback (most recent call last):\nRuntimeError: boom",
    )
    store.save_failure(exp_id, "baseline/r1", "baseline", 1, 7, {"a": 1}, "Traceback again")
    failed = store.runs("cmp", status="failed")
    assert len(failed) == 1 and failed.loc[0, "error"] == "Traceback again"
    assert store.failed_keys(exp_id) == {"baseline/r1"} and store.finished_keys(exp_id) == set()

    store.save_run(exp_id, "baseline/r1", make_result("baseline", 1, seed=7))
    assert store.failed_keys(exp_id) == set()
    assert store.finished_keys(exp_id) == {"baseline/r1"}
    assert len(store.runs("cmp", status=None)) == 1
    # a finished run is never overwritten by a late failure report
    store.save_failure(exp_id, "baseline/r1", "baseline", 1, 7, {}, "late")
    assert store.runs("cmp", status=None).status.tolist() == ["finished"]


def test_a_batch_is_stored_in_one_go_and_each_run_stays_idempotent(
    store: ResultStore, make_result
) -> None:
    exp_id = store.experiment("cmp", "compare", SPEC)
    done = make_result("baseline", 0)
    store.save_run(exp_id, "baseline/r0", done)
    store.save_failure(exp_id, "baseline/r1", "baseline", 1, 7, {}, "Traceback: boom")
    late = make_result("baseline", 0, shift=5.0)  # a second report of a finished run
    retried = make_result("baseline", 1, seed=7)
    fresh = make_result("full_linkage", 0)
    fresh.series["need_coverage"][3] = math.nan  # stored as NULL, read back as NaN
    store.save_runs(
        exp_id,
        [("baseline/r0", late, None), ("baseline/r1", retried, {"sample": 1}),
         ("full_linkage/r0", fresh, None)],
    )
    runs = store.runs("cmp", status=None).set_index("key")
    assert sorted(runs.index) == ["baseline/r0", "baseline/r1", "full_linkage/r0"]
    assert (runs["status"] == "finished").all()
    assert runs.loc["baseline/r0", "need_coverage"] == pytest.approx(done.final["need_coverage"])
    assert runs.loc["baseline/r1", "sample"] == 1
    for key, result in (("baseline/r1", retried), ("full_linkage/r0", fresh)):
        assert runs.loc[key, "need_coverage"] == pytest.approx(result.final["need_coverage"])
        series = store.series("cmp", outcomes=["need_coverage"], keys=[key])["value"]
        np.testing.assert_array_equal(series, result.series["need_coverage"])
    assert len(store.series("cmp")) == 3 * 12 * len(OUTCOME_NAMES)
    store.save_runs(exp_id, [])  # nothing to do


def test_experiment_get_or_create_and_conflicts(store: ResultStore) -> None:
    first = store.experiment("cmp", "compare", SPEC)
    assert store.experiment("cmp", "compare", dict(SPEC)) == first
    with pytest.raises(InputError, match="different settings.*replications"):
        store.experiment("cmp", "compare", {**SPEC, "replications": 3})
    with pytest.raises(InputError, match="already exists as a compare"):
        store.experiment("cmp", "sweep", SPEC)
    with pytest.raises(InputError, match="stored experiments: cmp"):
        store.runs("nope")
    listing = store.experiments()
    assert listing.to_dict("records")[0] | {"created": None} == {
        "name": "cmp",
        "kind": "compare",
        "created": None,
        "scenarios": "baseline, full_linkage",
        "finished": 0,
        "failed": 0,
    }


def test_sample_columns_and_nan(store: ResultStore, make_result) -> None:
    exp_id = store.experiment("sw", "sweep", {"vary": ["policy.purchase.annual_budget"]})
    result = make_result("baseline", 0)
    result.final["cost_per_need_met"] = float("nan")
    result.series["cost_per_need_met"][-1] = float("nan")
    store.save_run(
        exp_id, "p0/r0", result, sample={"policy.purchase.annual_budget": 1e6, "key": "clash"}
    )
    runs = store.runs("sw")
    assert runs.loc[0, "policy.purchase.annual_budget"] == 1e6
    assert runs.loc[0, "sample.key"] == "clash" and runs.loc[0, "key"] == "p0/r0"
    assert math.isnan(runs.loc[0, "cost_per_need_met"])
    last = store.series("sw", outcomes=["cost_per_need_met"]).value.iloc[-1]
    assert math.isnan(last)


def test_delete_experiment(store: ResultStore, make_result) -> None:
    exp_id = store.experiment("cmp", "compare", SPEC)
    _save_pair(store, make_result, exp_id, replications=1)
    store.delete_experiment("cmp")
    assert store.experiments().empty
    store.experiment("cmp", "compare", {"other": 1})  # the name is free again
    assert store.runs("cmp").empty


def test_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url(tmp_path / "a" / "b.sqlite") == f"sqlite:///{tmp_path}/a/b.sqlite"
    assert (tmp_path / "a").is_dir()
    monkeypatch.chdir(tmp_path)
    with ResultStore() as default:
        assert default.url == "sqlite:///results/sanshe.sqlite"
    assert (tmp_path / "results" / "sanshe.sqlite").exists()
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(InputError, match="is a file, so no folder can be made"):
        ResultStore(tmp_path / "file" / "x.sqlite")


@pytest.mark.parametrize(
    "url, words",
    [
        ("nosuch://x", ["'nosuch' databases are not supported", "postgresql://"]),
        ("postgres:/bad//url", ["needs '://'", "sqlite:///"]),
        ("sqlite:relative.sqlite", ["needs '://'"]),
        ("postgresql://u:pw@h:notaport/db", ["port must be a whole number"]),
        ("postgresql://u:pw@h:0/db", ["port 0 is out of range"]),
        ("postgresql+asyncpg://u:pw@h/db", ["driver 'asyncpg' is not supported"]),
        ("", ["--db is empty"]),
        ("analyst:pw@dbhost/sanshe", ["without its scheme", "postgresql://"]),
        ("postgres:/analyst:pw@dbhost/sanshe", ["needs '://'"]),
    ],
)
def test_bad_urls_are_refused_before_anything_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, words: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        ResultStore(url)
    message = str(caught.value)
    assert all(word in message for word in words), message
    assert ":pw@" not in message
    assert list(tmp_path.iterdir()) == []


def test_accepted_urls(tmp_path: Path) -> None:
    assert str(database_url("postgres://u:pw@h:5433/db")) == "postgresql+psycopg://u:***@h:5433/db"
    assert database_url("sqlite://").database is None  # in memory
    assert database_url(f"sqlite:///{tmp_path}/new/x.sqlite").database == f"{tmp_path}/new/x.sqlite"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    assert database_url("C:/not-a-scheme.sqlite").get_backend_name() == "sqlite"


def test_reading_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the file does not exist"):
        ResultStore(tmp_path / "none.sqlite", must_exist=True)
    with pytest.raises(InputError, match="folder '.*nodir' does not exist"):
        ResultStore(tmp_path / "nodir" / "x.sqlite", must_exist=True)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "notes.txt").write_text("my notes")
    with pytest.raises(InputError, match="not a SQLite database"):
        ResultStore(tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_text() == "my notes"


def test_mask_hides_passwords_even_in_unparsable_urls() -> None:
    assert mask("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert mask("postgresql://u:pw@h:port/db") == "postgresql://u:***@h:port/db"
    assert mask("results/sanshe.sqlite") == "results/sanshe.sqlite"


def test_a_dropped_store_closes_its_connections(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "dropped.sqlite")
    assert store.experiments().empty
    pool = store.engine.pool
    assert pool.checkedin() == 1  # kept for the next read while the store lives
    del store
    gc.collect()
    assert pool.checkedin() == 0  # closed with the store, not left to the connection's own GC


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite"
    ResultStore(path).close()
    with sqlite_file(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_keeps_values_in_their_keys_tree(tmp_path: Path, make_result) -> None:
    """New files store finals and monthly values WITHOUT ROWID (about half the size); a
    file made before, with rowid tables, still takes runs and gives them back."""
    new = tmp_path / "new.sqlite"
    ResultStore(new).close()
    with sqlite_file(new) as conn:
        ddl = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    assert "WITHOUT ROWID" in ddl["finals"] and "WITHOUT ROWID" in ddl["monthly"]
    assert "WITHOUT ROWID" not in ddl["runs"]

    old = tmp_path / "old.sqlite"
    with sqlite_file(old) as conn:
        for sql in ddl.values():
            conn.execute(sql.replace("WITHOUT ROWID", ""))
    with ResultStore(old) as store:
        exp_id = store.experiment("cmp", "compare", SPEC)
        saved = _save_pair(store, make_result, exp_id, replications=1)
        series = store.series("cmp", outcomes=["need_coverage"])
        one = series[series.key == "full_linkage/r0"]
        np.testing.assert_allclose(one.value, saved[1].series["need_coverage"], rtol=1e-12)
        assert store.runs("cmp").set_index("key").loc["baseline/r0", "need_coverage"] == (
            pytest.approx(saved[0].final["need_coverage"], rel=1e-12))
    with sqlite_file(old) as conn:
        assert "WITHOUT ROWID" not in conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'monthly'").fetchone()[0]


WRITER = textwrap.dedent("""
    import sys
    from sanshe.experiments.experiment import RunResult
    from sanshe.inputs.outcomes import OUTCOME_NAMES
    from sanshe.experiments.store import ResultStore

    url, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = ResultStore(url)
    exp = store.experiment("shared", "compare", {"scenarios": ["a", "b"]})
    series = {name: [0.5] * 24 for name in OUTCOME_NAMES}
    for rep in range(count):
        for key in (f"{who}/r{rep}", f"common/r{rep}"):
            result = RunResult(who, rep, rep, 24, {"who": who},
                               {name: 0.5 for name in OUTCOME_NAMES}, series)
            store.save_run(exp, key, result)
    print("ok")
""")


def test_concurrent_sqlite_writers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    count = 15
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, who, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("a", "b")
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    with ResultStore(url) as store:
        runs = store.runs("shared")
        expected = {f"{w}/r{r}" for w in ("a", "b", "common") for r in range(count)}
        assert sorted(runs.key) == sorted(expected)  # every key, each exactly once
        assert len(store.series("shared", outcomes=["need_coverage"])) == len(expected) * 24
    with sqlite_file(tmp_path / "shared.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per_run = conn.execute("SELECT COUNT(*) FROM monthly GROUP BY run_id").fetchall()
        assert {n for (n,) in per_run} == {24 * len(OUTCOME_NAMES)}


def test_empty_series_frame(store: ResultStore) -> None:
    store.experiment("empty", "run", {})
    frame = store.series("empty")
    assert frame.empty and list(frame.columns)[-1] == "value"
    assert isinstance(store.runs("empty"), pd.DataFrame) and store.runs("empty").empty


@pytest.mark.parametrize(
    ("values", "stored"),
    [
        ([0.5, 1.0, 2.0], [0.5, 1.0, 2.0]),
        ([0.5, float("nan"), 2.0], [0.5, None, 2.0]),
        ([1, 2], [1.0, 2.0]),  # whole numbers as floats
        ([float("inf"), -float("inf")], [float("inf"), -float("inf")]),  # sum NaN, none NaN
        ([float("inf"), 1.0], [float("inf"), 1.0]),
        (np.array([0.25, np.nan]), [0.25, None]),
        ([np.float64(0.5), np.nan], [0.5, None]),
        ([], []),
        ([0.5, None], [0.5, None]),  # a NaN read back from JSON
    ],
)
def test_monthly_values_are_stored_as_plain_floats_with_nan_as_null(values, stored) -> None:
    from sanshe.experiments.store import _nulls

    out = _nulls(values)
    assert [type(v) for v in out] == [type(v) for v in stored]
    assert out == stored
