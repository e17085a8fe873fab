"""Scenario discovery: PRIM finds a known box, says it in words, and refuses bad questions.

The known answer: cases of interest are exactly x1 < 0.3 and x2 > 0.6. It is checked on
arrays, on a fabricated sweep in a tmp store (the words must name both levers), and for a
paired question against another sweep. One end-to-end test runs the command line on a
tiny real sweep.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from helpers import sanshe

from sanshe.experiments.discovery import Limit, describe_limit, discover, find_boxes, input_label
from sanshe.experiments.experiment import RunResult, RunSpec
from sanshe.experiments.sweep import sweep
from sanshe.inputs.errors import InputError

pytest.importorskip("ema_workbench")

WEIGHT = "policy.purchase.satisfaction_weight"  # x1
SHARE = "policy.community.project_share"  # x2
NOISE = "parameters.trust_initial"  # varied, but plays no part
VARY = {WEIGHT: (0.0, 1.0), SHARE: (0.0, 1.0), NOISE: (0.1, 0.5)}


def _in_region(scenario) -> bool:
    return scenario.get(WEIGHT) < 0.3 and scenario.get(SHARE) > 0.6


def _result(spec: RunSpec, participation: float) -> RunResult:
    return RunResult(
        scenario=spec.scenario.name,
        replication=spec.replication,
        seed=spec.seed,
        months=spec.months,
        parameters=spec.scenario.to_dict(),
        final={"participation_rate": participation},
        series={"participation_rate": [participation] * spec.months},
    )


def _package(spec: RunSpec) -> RunResult:
    """The package: participation 10% inside the region, 50% elsewhere."""
    return _result(spec, 0.1 if _in_region(spec.scenario) else 0.5)


def _base(spec: RunSpec) -> RunResult:
    """The base scenario: participation 9% everywhere."""
    return _result(spec, 0.09)


def _fabricate(db: str, name: str, run, seed: int = 1) -> None:
    sweep("baseline", VARY, samples=400, replications=1, months=2, seed=seed, name=name,
          db=db, executor="serial", progress=False, _run=run)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three fabricated sweeps: the package, its base (same design), a base with other seeds."""
    db = f"sqlite:///{tmp_path_factory.mktemp('discover') / 'd.sqlite'}"
    _fabricate(db, "package", _package)
    _fabricate(db, "base", _base)
    _fabricate(db, "other-seed", _base, seed=2)
    return db


def _limits(boxes) -> dict[str, Limit]:
    return {limit.key: limit for limit in boxes[0].limits}


def _assert_known_box(limits: dict[str, Limit], x1: str, x2: str) -> None:
    assert set(limits) == {x1, x2}
    assert limits[x1].low is None and limits[x1].high == pytest.approx(0.3, abs=0.04)
    assert limits[x2].high is None and limits[x2].low == pytest.approx(0.6, abs=0.04)


def test_prim_finds_the_known_box_on_arrays() -> None:
    rng = np.random.default_rng(7)
    x = pd.DataFrame(rng.random((600, 3)), columns=["x1", "x2", "x3"])
    interest = ((x.x1 < 0.3) & (x.x2 > 0.6)).to_numpy()
    boxes = find_boxes(x, interest)
    _assert_known_box(_limits(boxes), "x1", "x2")
    assert boxes[0].density > 0.95 and boxes[0].coverage > 0.9
    # the trajectory trades coverage for density, and --box picks another point on it
    trajectory = boxes[0].trajectory
    assert trajectory["coverage"].iloc[0] == 1 and trajectory["density"].iloc[0] < 0.2
    assert trajectory["density"].iloc[boxes[0].index] == boxes[0].density
    first_peel = find_boxes(x, interest, pick=1)[0]
    assert first_peel.index == 1 and len(first_peel.limits) == 1


def test_discover_on_a_stored_sweep_names_both_levers_in_both_languages(
    store: str, tmp_path
) -> None:
    found = discover("package", "participation_rate", below=0.3, db=store)
    _assert_known_box(_limits(found.boxes), WEIGHT, SHARE)
    assert found.runs == 400 and 30 < found.cases < 70  # 0.3 × 0.4 of the runs
    for lang in ("en", "zh"):
        text = found.describe(lang)[0]
        assert input_label(WEIGHT, lang) in text and input_label(SHARE, lang) in text
        assert input_label(NOISE, lang) not in text
    assert re.search(r"≤ 0\.[23]\d* and .* ≥ 0\.[56]\d*\.", found.describe("en")[0])
    assert "Participation rate ends below 30.0%" in found.describe("en")[0]
    assert "居民参与率期末值低于30.0%" in found.describe("zh")[0]
    table = found.table()
    assert set(table.loc[table.box == 1, "input"]) == {WEIGHT, SHARE}
    paths = found.report(tmp_path / "zh", "zh")
    assert "框1" in paths["report.md"].read_text(encoding="utf-8")
    assert "<img" in paths["report.html"].read_text(encoding="utf-8")
    assert paths["tradeoff.png"].stat().st_size > 10_000


def test_paired_question_against_the_base_sweep(store: str) -> None:
    """"Where does the package fail to raise participation by 5 points over the base?"""
    found = discover("package", "participation_rate", below=0.05, versus="base", db=store)
    _assert_known_box(_limits(found.boxes), WEIGHT, SHARE)
    assert found.describe("en")[0].count("raises Participation rate by less than 5.0 pp over")
    with pytest.raises(InputError, match="different seeds"):
        discover("package", "participation_rate", below=0.05, versus="other-seed", db=store)


def test_money_in_words() -> None:
    budget = Limit("policy.purchase.annual_budget", high=1.2e6)
    assert describe_limit(budget, "en").endswith("≤ 1.2 million yuan per year")
    assert describe_limit(budget, "zh").endswith("≤ 120万元/年")
    platform = Limit("policy.linkage.info_platform", levels=("false",))
    assert describe_limit(platform, "en").startswith("without ")


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ({"sweep": "nosuch", "outcome": "participation_rate", "below": 0.3}, "no experiment"),
        ({"sweep": "package", "outcome": "participation", "below": 0.3}, "unknown outcome"),
        ({"sweep": "package", "outcome": "participation_rate", "below": 0.01}, "no run qualif"),
        ({"sweep": "package", "outcome": "participation_rate", "above": 0.01}, "every run"),
        ({"sweep": "package", "outcome": "participation_rate"}, "--below X or --above X"),
        ({"sweep": "package", "outcome": "participation_rate", "below": 0.3,
          "inputs": ["policy.purchase.mode"]}, "was not varied"),
        ({"sweep": "package", "outcome": "participation_rate", "below": 0.3,
          "density": 1.5}, "--threshold-share"),
    ],
)
def test_bad_questions_are_refused(store: str, question: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        discover(db=store, **question)


def test_cli_on_a_tiny_real_sweep(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'tiny.sqlite'}"
    tiny = {"district.streets": 1, "district.communities_per_street": 2,
            "district.residents_per_community": 60}
    made = sweep("baseline", {"policy.purchase.annual_budget": (0, 3e6),
                              "parameters.trust_initial": (0.1, 0.5)},
                 samples=16, replications=1, months=6, overrides=tiny, name="tiny", db=db,
                 executor="serial", progress=False)
    median = float(made.runs()["need_coverage"].median())
    out = tmp_path / "found"
    done = sanshe("discover", "tiny", "--outcome", "need_coverage", "--below", f"{median:.6f}",
                  "--out", str(out), "--db", db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "◀ chosen" in done.stdout and "Need coverage ends below" in done.stdout
    assert "Box 1:" in done.stdout
    assert {p.name for p in out.iterdir()} >= {"report.md", "report.html", "tradeoff.png",
                                               "trajectory.csv", "boxes.csv"}
    bad = sanshe("discover", "tiny", "--outcome", "need_coverage", "--below", "-1",
                 "--db", db, cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "no run qualifies" in bad.stderr and "choose a threshold" in bad.stderr


def test_missing_ema_workbench_says_what_to_install(store: str, monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ema_workbench" else real(name, *a))
    with pytest.raises(InputError, match=r'pip install "sanshe\[ema\]"'):
        discover("package", "participation_rate", below=0.3, db=store)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch", "--outcome", "participation_rate", "--below", "0.3"],
         "no experiment 'nosuch'"),
        (["package", "--outcome", "participation", "--below", "0.3"],
         "Did you mean 'participation_rate'"),
        (["package", "--outcome", "participation_rate", "--below", "0.3", "--versus", "nosuch"],
         "no experiment 'nosuch'"),
    ],
)
def test_cli_bad_input_exits_2_with_one_paragraph(store: str, args: list[str], message: str,
                                                  capsys) -> None:
    from sanshe.ui.cli import main

    assert main(["discover", *args, "--db", store]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
