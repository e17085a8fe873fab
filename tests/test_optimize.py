"""``sanshe optimize``: a known answer, paired draws and seeds, executors, resume, bad input.

The known-answer tests use a stand-in for the model (``_run``): elderly coverage rises with
the purchase budget at a rate set by the drawn ``unit_cost``, so the cheapest robust budget
is known exactly from the draws. The wiring (processes, the store, a kill and a resume)
is tested on the real model at a tiny district. Functions handed to workers are top-level
functions of this module so spawned processes can import them.
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

from sanshe.experiments.experiment import RunResult, RunSpec
from sanshe.experiments.optimize import OptimizationResult, Target, optimize, pareto_mask, run_key
from sanshe.experiments.store import ResultStore
from sanshe.inputs.outcomes import OUTCOME_NAMES
from sanshe.ui.cli import main
from tests.helpers import finished_runs, sqlite_file

BUDGET = "policy.purchase.annual_budget"
RESIDENTS = 10_000  # the baseline district
#: Elderly coverage gained per yuan of budget at unit_cost 1000 (+0.10 for 2 M yuan).
SLOPE = 0.10 / 2e6

TINY = ["--set", "district.streets=1", "--set", "district.communities_per_street=2",
        "--set", "district.residents_per_community=100"]


def stand_in(spec: RunSpec) -> RunResult:
    """A model whose elderly coverage is linear in the budget, damped by the unit cost.

    Each seed adds its own noise, the same for every package: paired differences cancel it
    exactly, as common random numbers should.
    """
    budget = float(spec.scenario.get(BUDGET))
    unit_cost = float(spec.scenario.get("parameters.unit_cost"))
    final = dict.fromkeys(OUTCOME_NAMES, 0.0)
    noise = np.random.default_rng(spec.seed).normal(0, 0.02)
    final["coverage_elderly"] = 0.3 + SLOPE * budget * 1000 / unit_cost + noise
    final["gov_spending"] = budget
    return RunResult(spec.scenario.name, spec.replication, spec.seed, spec.months, {}, final, {})


def _search(db: Path, candidates: int = 60, **options) -> OptimizationResult:
    settings = dict(target="coverage_elderly=+0.10", robust_share=0.8, draws=10,
                    replications=2, candidates=candidates, population=20, months=24,
                    seed=7, uncertain=["unit_cost"], overrides={BUDGET: 0},
                    executor="serial", name="known", db=f"sqlite:///{db}", progress=False,
                    report=False, _run=stand_in)
    settings.update(options)
    return optimize("baseline", [f"{BUDGET}=0:8e6"], **settings)


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> OptimizationResult:
    out = tmp_path_factory.mktemp("known")
    return _search(out / "known.sqlite", report=True, out=out / "report")


def _threshold(result: OptimizationResult) -> float:
    """The cheapest cost meeting +0.10 in 8 of 10 draws: the 8th smallest unit cost's."""
    unit_costs = sorted(d["unit_cost"] for d in result.problem.draws)
    return 0.10 / SLOPE * unit_costs[7] / 1000 / RESIDENTS


def test_the_cheapest_robust_package_is_at_the_threshold(searched: OptimizationResult) -> None:
    chosen = searched.chosen
    assert chosen is not None
    expected = _threshold(searched)
    assert expected <= chosen["cost"] <= 1.10 * expected  # within 10% above the threshold
    assert chosen["draws_met"] >= 8
    cheaper = searched.candidates[searched.candidates["cost"] < chosen["cost"]]
    assert not cheaper["robust"].any()
    # costs are measured: the budget per resident per year
    assert chosen["cost"] == pytest.approx(chosen[BUDGET] / RESIDENTS)
    assert searched.base["cost"] == 0 and searched.base["draws_met"] == 0


def test_a_lower_robust_share_gives_a_cheaper_package(tmp_path: Path) -> None:
    lenient = _search(tmp_path / "lenient.sqlite", candidates=40, robust_share=0.5)
    unit_costs = sorted(d["unit_cost"] for d in lenient.problem.draws)
    expected = 0.10 / SLOPE * unit_costs[4] / 1000 / RESIDENTS  # 5 of 10 draws
    assert expected <= lenient.chosen["cost"] <= 1.15 * expected


def test_every_candidate_runs_the_same_draws_and_seeds(searched: OptimizationResult) -> None:
    runs = searched.store.runs(searched.name)
    assert len(runs) == (60 + 1) * 10 * 2 and runs["key"].is_unique
    cells = runs.groupby(["draw", "replication"])
    assert (cells["seed"].nunique() == 1).all()
    assert (cells["parameters.unit_cost"].nunique() == 1).all()
    assert (cells.size() == 61).all()  # every candidate and the base at every cell
    assert runs.groupby("draw")["parameters.unit_cost"].first().nunique() == 10
    assert runs.groupby("replication")["seed"].nunique().min() == 10  # fresh seeds per draw
    base = runs[runs["key"].str.startswith("base/")]
    assert set(base[BUDGET]) == {0} and len(base) == 20


def test_the_front_is_every_non_dominated_candidate(searched: OptimizationResult) -> None:
    front = searched.front
    assert front["cost"].is_monotonic_increasing
    assert front["coverage_elderly"].is_monotonic_increasing  # more money buys more
    table = searched.candidates
    for row in table.itertuples():
        dominated = ((table.cost <= row.cost) & (table.coverage_elderly >= row.coverage_elderly)
                     & ((table.cost < row.cost) | (table.coverage_elderly > row.coverage_elderly)))
        assert row.on_front == (not dominated.any())


def test_without_a_target_there_is_a_front_but_no_choice(tmp_path: Path) -> None:
    result = _search(tmp_path / "front.sqlite", candidates=6, population=3, draws=2,
                     replications=1, target=None, objectives=["coverage_elderly", "so_count"])
    assert result.problem.objectives == ("coverage_elderly", "so_count")
    assert result.chosen is None and "No target was given" in result.describe_choice()
    # so_count is 0 everywhere: the front is cost against elderly coverage alone
    assert result.front["number"].tolist() == result.candidates.sort_values("cost")[
        "number"].tolist()


def test_a_package_proposed_twice_is_run_once(tmp_path: Path) -> None:
    result = optimize("baseline", [f"{BUDGET}=0,4e6", "policy.incubation.months=1:2"],
                      target="coverage_elderly=+0.10", draws=2, replications=1, candidates=10,
                      population=5, months=24, seed=7, uncertain=["unit_cost"],
                      overrides={BUDGET: 0}, executor="serial", db=tmp_path / "twice.sqlite",
                      progress=False, report=False, _run=stand_in)
    table = result.candidates
    packages = table[[BUDGET, "policy.incubation.months"]].apply(tuple, axis=1)
    owners = table[table["same_as"].isna()]
    assert len(owners) == packages.nunique() <= 4 < len(table)  # there were repeats
    runs = result.store.runs(result.name)
    assert len(runs) == (len(owners) + 1) * 2  # each distinct package and the base, once
    for row in table[table["same_as"].notna()].itertuples():
        owner = table[table["number"] == row.same_as].iloc[0]
        assert packages[row.Index] == packages[owner.name] and row.cost == owner.cost


def test_pareto_mask_and_targets() -> None:
    values = np.array([[1, 3], [2, 2], [3, 1], [2, 3], [3, 3]], dtype=float)
    assert pareto_mask(values).tolist() == [True, True, True, False, False]
    assert Target("coverage_elderly", 0.1).met(0.1) and not Target("x", 0.1).met(0.09)
    assert Target("equity_gap", -0.05).met(-0.06) and not Target("x", -0.05).met(0.0)
    assert not Target("x", 0.1).met(float("nan"))


def test_the_report_says_what_to_do_and_how_robust_it_is(searched: OptimizationResult) -> None:
    folder = searched.report_path.parent
    text = searched.report_path.read_text()
    chosen = searched.chosen
    assert f"the target holds in {chosen['draws_met']} of 10 draws" in text
    assert "Raise purchase-of-service budget of the reference district" in text
    assert "from 0 to" in text
    assert text.count("| yes |") == chosen["draws_met"]  # the per-draw robustness table
    assert (folder / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<table>" in (folder / "report.html").read_text()
    assert len(pd.read_csv(folder / "candidates.csv")) == 60


def test_more_candidates_continue_the_same_search(
    tmp_path: Path, searched: OptimizationResult
) -> None:
    db = tmp_path / "grow.sqlite"
    first = _search(db, candidates=30)
    same = [c for c in first.candidates if c != "on_front"]  # the front of 30 is another
    pd.testing.assert_frame_equal(first.candidates[same], searched.candidates[same].iloc[:30])
    grown = _search(db, candidates=60)
    assert grown.resumed == 31 * 20  # the base and 30 candidates were stored
    pd.testing.assert_frame_equal(grown.candidates, searched.candidates)


def test_one_and_two_workers_give_the_same_search(tmp_path: Path) -> None:
    tables = []
    for workers in (1, 2):
        result = _search(tmp_path / f"w{workers}.sqlite", candidates=8, population=4,
                         draws=3, replications=1, executor="local", workers=workers)
        tables.append(result.candidates)
    pd.testing.assert_frame_equal(*tables)


def fails_for_big_budgets(spec: RunSpec) -> RunResult:
    """The stand-in, except that a budget above 6 M yuan raises inside the run."""
    if float(spec.scenario.get(BUDGET)) > 6e6:
        raise ValueError("too much money")
    return stand_in(spec)


def test_failed_runs_stop_the_search_and_a_rerun_retries_them(
    tmp_path: Path, searched: OptimizationResult
) -> None:
    db = tmp_path / "fails.sqlite"
    broken = _search(db, candidates=20, _run=fails_for_big_budgets)
    assert broken.failed > 0 and broken.candidates.empty  # nothing told on a broken batch
    assert broken.report_path is None
    failures = broken.store.runs("known", status="failed")
    assert (failures[BUDGET] > 6e6).all() and failures["error"].str.contains("too much").all()
    finished = len(broken.store.runs("known"))
    fixed = _search(db, candidates=20)
    assert fixed.failed == 0 and fixed.resumed == finished  # only the failed ones rerun
    same = [c for c in fixed.candidates if c != "on_front"]
    pd.testing.assert_frame_equal(fixed.candidates[same], searched.candidates[same].iloc[:20])


# --- the command line, the real model --------------------------------------------------
def _command(db: Path) -> list[str]:
    return [sys.executable, "-m", "sanshe", "optimize", "baseline",
            "--lever", f"{BUDGET}=0:3e6", "--lever", "policy.social_work.posts_per_community=0:2",
            "--target", "coverage_elderly=+0.02", "--draws", "2", "-r", "1",
            "--candidates", "8", "--population", "4", "--months", "13", *TINY,
            "--workers", "2", "--db", f"sqlite:///{db}", "--name", "tiny", "--no-progress"]


def test_a_killed_search_resumes_without_losing_or_repeating_runs(tmp_path: Path) -> None:
    path = tmp_path / "kill.sqlite"
    command = _command(path)
    # its own process group, killed whole: no orphaned workers left behind
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while finished_runs(path) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    stored = finished_runs(path)
    assert stored >= 2

    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                           timeout=600, check=False)
    assert again.returncode == 0, again.stderr
    assert f"resumed: {stored} runs were already stored" in again.stdout
    assert "Pareto front" in again.stdout and "report:" in again.stdout
    with sqlite_file(path) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM runs")]
        numbers = [n for (n,) in conn.execute("SELECT number FROM optimize_candidates")]
    assert sorted(numbers) == list(range(8))

    # the resumed search is the uninterrupted one: the same packages and numbers
    options = dict(target="coverage_elderly=+0.02", draws=2, replications=1, candidates=8,
                   population=4, months=13, progress=False, report=False,
                   overrides={"district.streets": 1, "district.communities_per_street": 2,
                              "district.residents_per_community": 100})
    levers = [f"{BUDGET}=0:3e6", "policy.social_work.posts_per_community=0:2"]
    resumed = optimize("baseline", levers, db=ResultStore(path), name="tiny", **options)
    fresh = optimize("baseline", levers, db=f"sqlite:///{tmp_path / 'once.sqlite'}",
                     executor="serial", **options)
    pd.testing.assert_frame_equal(resumed.candidates, fresh.candidates)
    # every run exactly once: the base and each distinct package (a repeat shares its runs)
    owners = fresh.candidates.loc[fresh.candidates["same_as"].isna(), "number"]
    expected = {run_key(c, d, 0) for c in [None, *owners] for d in range(2)}
    assert sorted(keys) == sorted(expected)
    assert stored < len(expected), "the search finished before it could be killed"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--lever", "policy.purchase.annual_budgt=0:1e6"], "Did you mean "
                                                            "'policy.purchase.annual_budget'"),
        (["--lever", f"{BUDGET}=5e6:1e6"], "LOW (5e+06) is greater than HIGH"),
        (["--lever", f"{BUDGET}=1e6:1e6"], "the range is empty"),
        (["--lever", "parameters.unit_cost=500:900"], "not a policy lever"),
        (["--lever", f"{BUDGET}=0:1e6", "--target", "coverage_eldery=+0.1"],
         "unknown outcome 'coverage_eldery'. Did you mean 'coverage_elderly'"),
        (["--lever", f"{BUDGET}=0:1e6", "--objective", "nope"], "unknown outcome 'nope'"),
        (["--lever", f"{BUDGET}=0:1e6", "--target", "coverage_elderly=10"], "write 10 points"),
        (["--lever", f"{BUDGET}=0:1e6", "--robust-share", "0"], "more than 0 and at most 1"),
        (["--lever", f"{BUDGET}=0:1e6", "--robust-share", "1.5"], "more than 0 and at most 1"),
        (["--lever", f"{BUDGET}=0:1e6", "--uncertain", "unit_cots"], "Did you mean 'unit_cost'"),
        ([], "at least one --lever"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    options: list[str], message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["optimize", "baseline", *options, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "results").exists()  # nothing created


def test_without_optuna_the_command_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna raises ImportError
    code = main(["optimize", "baseline", "--lever", f"{BUDGET}=0:1e6"])
    assert code == 2 and 'pip install "sanshe[optimize]"' in capsys.readouterr().err
