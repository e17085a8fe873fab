"""``sanshe export --format ema``: the archive EMA Workbench's own ``load_results`` opens.

The sweep is fabricated (a fake run function that computes outcomes from the levers), so
the test is fast and knows every number the archive must hold.
"""

from __future__ import annotations

import json
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import sanshe

from sanshe.experiments.experiment import RunResult, RunSpec
from sanshe.experiments.store import ResultStore
from sanshe.experiments.sweep import sweep

ema_workbench = pytest.importorskip("ema_workbench")

MONTHS = 4
VARY = {
    "policy.purchase.satisfaction_weight": (0.0, 1.0),
    "policy.incubation.months": (1, 4),
    "policy.purchase.mode": ["competitive", "directed", "mixed"],
    "policy.linkage.info_platform": [True, False],
    "parameters.trust_initial": (0.1, 0.5),
}


def _fake_run(spec: RunSpec) -> RunResult:
    """Outcomes computed from the levers (no simulation); "mixed" procurement fails."""
    scenario = spec.scenario
    if scenario.get("policy.purchase.mode") == "mixed":
        raise ValueError("mixed procurement is broken in this test")
    weight = float(scenario.get("policy.purchase.satisfaction_weight"))
    posts = int(scenario.get("policy.incubation.months"))
    series = {
        "need_coverage": [weight * m / MONTHS for m in range(1, MONTHS + 1)],
        "so_count": [float(posts + m) for m in range(1, MONTHS + 1)],
    }
    return RunResult(
        scenario=scenario.name,
        replication=spec.replication,
        seed=spec.seed,
        months=spec.months,
        parameters=scenario.to_dict(),
        final={"need_coverage": weight, "so_count": float(posts + MONTHS)},
        series=series,
    )


@pytest.fixture
def stored(tmp_path: Path) -> tuple[str, pd.DataFrame]:
    """A fabricated sweep (12 points × 2 replications, some failed) in a tmp store."""
    db = f"sqlite:///{tmp_path / 'ema.sqlite'}"
    result = sweep("baseline", VARY, samples=12, replications=2, months=MONTHS, name="fab",
                   db=db, executor="serial", progress=False, _run=_fake_run)
    assert result.failed > 0  # the archive must leave these out
    return db, result.runs()


def _load(path: Path) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench import load_results

        return load_results(str(path))


def test_load_results_opens_the_archive_with_inputs_finals_and_series(
    stored: tuple[str, pd.DataFrame], tmp_path: Path
) -> None:
    from sanshe.experiments.ema import write_archive

    db, runs = stored
    path = tmp_path / "fab.tar.gz"
    with ResultStore(db) as store:
        summary = write_archive(store, "fab", path)
        failed = len(store.runs("fab", status="failed"))
    experiments, outcomes = _load(path)
    assert summary.rows == len(runs) == len(experiments) and summary.failed == failed > 0
    assert list(experiments.columns) == [*VARY, "scenario", "policy", "model"]
    types = experiments.dtypes
    assert types["policy.purchase.satisfaction_weight"] == np.float64
    assert types["policy.incubation.months"] == np.int64
    assert types["policy.linkage.info_platform"] == np.dtype(bool)
    assert all(isinstance(types[c], pd.CategoricalDtype)
               for c in ("policy.purchase.mode", "scenario", "policy", "model"))
    assert "mixed" not in set(experiments["policy.purchase.mode"])  # failed runs left out
    assert set(experiments["policy"]) == {"baseline"} and set(experiments["model"]) == {"sanshe"}
    # rows follow the design point, then the replication; values as stored
    ordered = runs.sort_values(["sample", "replication"]).reset_index(drop=True)
    assert experiments["scenario"].astype(int).tolist() == ordered["sample"].tolist()
    for key in VARY:
        assert experiments[key].astype(object).tolist() == ordered[key].tolist()
    np.testing.assert_allclose(outcomes["need_coverage"], ordered["need_coverage"])
    np.testing.assert_allclose(outcomes["so_count"], ordered["so_count"])
    # monthly series: runs × months, with TIME for EMA's line plots
    assert outcomes["TIME"].shape == (len(runs), MONTHS)
    assert outcomes["TIME"][0].tolist() == list(range(1, MONTHS + 1))
    weights = ordered["policy.purchase.satisfaction_weight"].to_numpy()
    expected = np.outer(weights, np.arange(1, MONTHS + 1) / MONTHS)
    np.testing.assert_allclose(outcomes["need_coverage_monthly"], expected)
    # provenance EMA's metadata cannot hold, row-aligned
    with tarfile.open(path) as archive:
        keys = pd.read_csv(archive.extractfile("sanshe_runs.csv"))
        info = json.loads(archive.extractfile("sanshe.json").read())
    assert keys["key"].tolist() == ordered["key"].tolist()
    assert info["experiment"] == "fab" and info["failed_runs_left_out"] == failed


def test_archive_is_what_ema_save_results_writes(
    stored: tuple[str, pd.DataFrame], tmp_path: Path
) -> None:
    """Our writer and EMA's save_results give the same members, byte for byte."""
    from sanshe.experiments.ema import write_archive

    db, _ = stored
    ours = tmp_path / "ours.tar.gz"
    with ResultStore(db) as store:
        write_archive(store, "fab", ours, outcomes=["need_coverage"])
    theirs = tmp_path / "theirs.tar.gz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench import save_results

        save_results(_load(ours), str(theirs))
    with tarfile.open(ours) as a, tarfile.open(theirs) as b:
        assert set(a.getnames()) - set(b.getnames()) == {"sanshe_runs.csv", "sanshe.json"}
        for name in b.getnames():
            assert a.extractfile(name).read() == b.extractfile(name).read(), name


def test_cli_exports_ema_and_refuses_an_unknown_experiment(
    stored: tuple[str, pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sanshe.ui.cli import main

    db, runs = stored
    out = tmp_path / "out" / "fab.tar.gz"
    done = sanshe("export", "fab", "--format", "ema", "--out", str(out), "--db", db,
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{len(runs)} runs" in done.stdout and "failed run(s) left out" in done.stdout
    experiments, outcomes = _load(out)
    assert len(experiments) == len(runs) and "need_coverage_monthly" in outcomes
    assert main(["export", "nosuch", "--format", "ema", "--db", db]) == 2
    wrong = capsys.readouterr().err
    assert "nosuch" in wrong and "fab" in wrong  # names what is stored
    assert "Traceback" not in wrong
