"""compare(): common random numbers, statistics, resume, failures, and loading back."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sanshe.experiments.comparison as comparison_module
import sanshe.reporting.stats as stats_module
from sanshe.experiments.comparison import (
    Comparison,
    compare,
    describe_difference,
    format_interval,
    format_p,
    format_table,
    lever_differences,
    mean_ci,
    paired_test,
    report_outcomes,
    summary_table,
    table_rows,
    with_derived,
)
from sanshe.inputs.errors import InputError
from sanshe.inputs.outcomes import BY_NAME, REPORT_OUTCOMES
from sanshe.inputs.scenario import Scenario
from sanshe.reporting.conclusions import warnings_for
from tests.helpers import sanshe

SMALL = {"district.residents_per_community": 200}


# --- the summary table --------------------------------------------------------------------
def test_statistics_come_from_sanshe_stats() -> None:
    assert mean_ci is stats_module.mean_ci and paired_test is stats_module.paired_test


def _runs_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for rep in range(6):
        common = rng.normal(0.5, 0.1)
        rows.append(
            {"scenario": "a", "replication": rep, "need_coverage": common, "so_count": 10.0}
        )
        rows.append(
            {
                "scenario": "b",
                "replication": rep,
                "need_coverage": common + 0.05 + rng.normal(0, 0.01),
                "so_count": 10.0,
            }
        )
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1)  # order must not matter


def test_summary_table_pairs_by_replication() -> None:
    runs = _runs_frame()
    table = summary_table(runs, ["a", "b"], ["need_coverage", "so_count"])
    row = table[(table.outcome == "need_coverage") & (table.scenario == "b")].iloc[0]
    a = runs[runs.scenario == "a"].sort_values("replication").need_coverage.to_numpy()
    b = runs[runs.scenario == "b"].sort_values("replication").need_coverage.to_numpy()
    low, high = stats.t.interval(0.95, 5, loc=(b - a).mean(), scale=stats.sem(b - a))
    assert row["diff"] == pytest.approx((b - a).mean())
    assert (row.diff_ci_low, row.diff_ci_high) == pytest.approx((low, high))
    assert row.p_value == pytest.approx(stats.ttest_rel(b, a).pvalue)
    assert row.n == 6 and row.label == "Need coverage"
    reference = table[table.scenario == "a"]
    assert reference["diff"].isna().all() and reference.p_value.isna().all()
    constant = table[(table.outcome == "so_count") & (table.scenario == "b")].iloc[0]
    assert constant["diff"] == 0.0 and constant.p_value == 1.0
    assert (constant.ci_low, constant.ci_high) == (10.0, 10.0)
    zh = summary_table(runs, ["a", "b"], ["need_coverage"], lang="zh")
    assert zh.label.iloc[0] == "需求满足率"


def _two_replications() -> pd.DataFrame:
    """Two replications of two scenarios whose shares and counts scatter widely."""
    return pd.DataFrame(
        {
            "scenario": ["a", "a", "b", "b"],
            "replication": [0, 1, 0, 1],
            "need_coverage": [0.02, 0.9, 0.95, 0.05],
            "so_count": [0.0, 3.0, 40.0, 2.0],
            "gov_spending": [1000.0, 1000.0, 9000.0, 9200.0],
            "group_org_spending": [0.0, 0.0, 100.0, 100.0],
            "non_gov_funds": [0.0, 0.0, 50.0, 50.0],
        }
    )


def test_intervals_respect_bounds_with_two_replications() -> None:
    table = summary_table(_two_replications(), ["a", "b"], ["need_coverage", "so_count"])
    shares = table[table.outcome == "need_coverage"]
    assert (shares.ci_low >= 0).all() and (shares.ci_high <= 1).all() and shares.ci_cut.all()
    counts = table[table.outcome == "so_count"]
    assert (counts.ci_low >= 0).all() and counts.ci_cut.all()
    diff = shares[shares.scenario == "b"].iloc[0]
    assert (diff.diff_ci_low, diff.diff_ci_high) == (-1.0, 1.0) and diff.diff_ci_cut
    text = format_table(table)
    assert "-" not in text.split("Need coverage")[1].split("\n")[0].replace("--", "")
    assert "[0.0%, 100.0%]" in text


def test_purchase_cost_per_need_met_divides_the_years_draws_by_its_needs() -> None:
    runs = _two_replications().assign(purchase_spending=[0.0, 600.0, 2400.0, 1200.0],
                                      purchase_services=[0.0, 0.5, 2.0, 0.25])
    derived = with_derived(runs, {})
    # a year's draws over twelve months' mean needs met; no need met: undefined, not 0 or inf
    assert derived.purchase_cost_per_need_met.tolist()[1:] == [100.0, 100.0, 400.0]
    assert math.isnan(derived.purchase_cost_per_need_met.iloc[0])
    table = summary_table(derived, ["a", "b"], ["purchase_cost_per_need_met"])
    assert table.n.tolist() == [1, 2]  # the undefined run is left out, and counted so
    shown = SimpleNamespace(runs=derived, scenarios=["a", "b"])
    assert warnings_for(shown, table, levers=False)[-1].startswith(
        "Purchase cost per need met is undefined in 1 of 4 runs (a 1 of 2; no need met")
    assert "4 次运行中有 1 次无定义(a 2 次中 1 次;" in warnings_for(
        shown, table, "zh", levers=False)[-1]
    assert "purchase_cost_per_need_met" in report_outcomes(derived)
    # where: every scenario with an undefined run, one with none defined too
    both = with_derived(runs.assign(purchase_services=[0.0, 0.0, 2.0, 0.0]), {})
    table = summary_table(both, ["a", "b"], ["purchase_cost_per_need_met"])
    assert "undefined in 3 of 4 runs (a 2 of 2, b 1 of 2;" in warnings_for(
        SimpleNamespace(runs=both, scenarios=["a", "b"]), table, levers=False)[-1]
    none = with_derived(runs.assign(purchase_services=0.0), {})
    assert none.purchase_cost_per_need_met.isna().all()
    assert report_outcomes(none) == [
        n for n in REPORT_OUTCOMES if n != "purchase_cost_per_need_met"]
    assert with_derived(_two_replications(), {}).purchase_cost_per_need_met.isna().all()


def test_rows_carry_their_units_and_spending_per_resident() -> None:
    parameters = {
        s: {"district": {"streets": 1, "communities_per_street": 2, "residents_per_community": 50}}
        for s in ("a", "b")
    }
    runs = with_derived(_two_replications(), parameters)
    assert runs.gov_spending_per_resident.tolist() == [10.0, 10.0, 90.0, 92.0]
    assert runs.total_spending_per_resident.tolist() == [10.0, 10.0, 91.5, 93.5]
    outcomes = ["need_coverage", "cost_per_need_met", "gov_spending_per_resident"]
    table = summary_table(runs, ["a", "b"], outcomes)
    headers, rows, starts = table_rows(table)
    assert [r[0] for r in rows] == [
        "Need coverage", "(%)", "Cost per need met", "(yuan per need met)",
        "Government spending per resident", "(yuan per resident per year)",
    ]
    assert starts == [True, False] * 3 and headers[0] == "Outcome"
    assert rows[5][3].startswith("+81.0 [")
    _, zh_rows, _ = table_rows(summary_table(runs, ["a", "b"], outcomes, "zh"), "zh")
    assert zh_rows[5][0] == "(元/人·年)"
    single = summary_table(runs, ["a"], ["sw_turnover_rate"])
    assert table_rows(single)[1][0][0] == "Social-worker turnover (per year)"


def test_formatting() -> None:
    assert format_interval(0.4123, 0.40, 0.43, "share") == "41.2% [40.0%, 43.0%]"
    assert format_interval(0.031, -0.002, 0.064, "share", diff=True) == (
        "+3.1 pp [-0.2 pp, +6.4 pp]"
    )
    assert format_interval(12345.6, 12000.0, 12700.0, "yuan") == "12,346 [12,000, 12,700]"
    assert format_interval(0.5, math.nan, math.nan, "0-1") == "0.500"
    assert format_p(0.0001) == "<0.001" and format_p(0.04567) == "0.046"
    assert format_p(math.nan) == "–"


def test_lever_differences_in_words() -> None:
    base = Scenario.load("baseline").to_dict()
    other = (
        Scenario.load("baseline")
        .with_overrides({"policy.purchase.mode": "competitive", "parameters.unit_cost": 900})
        .to_dict()
    )
    found = lever_differences({"baseline": base, "other": other})
    keys = [d["key"] for d in found]
    assert keys == ["policy.purchase.mode", "parameters.unit_cost"]
    text = describe_difference(found[0])
    assert text.startswith("policy.purchase.mode: directed → competitive (procurement mode")
    assert "behavioural constant" in describe_difference(found[1])
    three = lever_differences({"a": base, "b": other, "c": base})
    assert describe_difference(three[0]).startswith(
        "policy.purchase.mode: a = directed; b = competitive; c = directed"
    )


# --- running ------------------------------------------------------------------------------
def _compare(tmp_path: Path, **options):
    defaults = {
        "replications": 3,
        "months": 12,
        "overrides": SMALL,
        "db": f"sqlite:///{tmp_path / 'results.sqlite'}",
        "progress": False,
        "report": False,
    }
    return compare(["baseline", "full_linkage"], **(defaults | options))


def test_compare_uses_common_random_numbers_and_loads_back(tmp_path: Path) -> None:
    first = _compare(tmp_path)
    assert first.name == "compare-baseline-vs-full_linkage-r3-m12-set" + first.name[-6:]
    assert first.scenarios == ["baseline", "full_linkage"] and first.failed == 0
    runs = first.runs
    assert sorted(runs.key) == sorted(f"{s}/r{r}" for s in first.scenarios for r in range(3))
    seeds = runs.pivot(index="replication", columns="scenario", values="seed")
    assert (seeds.baseline == seeds.full_linkage).all() and seeds.baseline.nunique() == 3
    loaded = Comparison.load(first.name, db=first.store.url)
    pd.testing.assert_frame_equal(loaded.table(), first.table())
    assert loaded.parameters["full_linkage"]["policy"]["purchase"]["mode"] == "competitive"
    assert any(d["key"] == "policy.incubation.enabled" for d in loaded.differences())
    assert "<table>" in loaded._repr_html_() and "Need coverage" in loaded._repr_html_()
    figure = loaded.plot("need_coverage")
    assert figure.axes[0].get_title() == "Need coverage"
    assert figure.axes[0].get_ylabel() == "%"  # drawn in %, like the table
    assert figure.axes[0].get_lines()[0].get_ydata().max() > 1.0


def test_a_failing_run_is_stored_and_the_rest_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = comparison_module.run_single

    def flaky(spec):
        if spec.scenario.name == "full_linkage" and spec.replication == 1:
            raise RuntimeError("model exploded in month 3")
        return real(spec)

    monkeypatch.setattr(comparison_module, "run_single", flaky)
    broken = _compare(tmp_path)
    assert broken.failed == 1 and len(broken.runs) == 5
    error = broken.failures.set_index("key").loc["full_linkage/r1", "error"]
    assert "Traceback (most recent call last)" in error
    assert "RuntimeError: model exploded in month 3" in error
    # the failure reaches the report's table as a smaller n, not a crash
    table = broken.table()
    measured = table[(table.scenario == "full_linkage") & (table.outcome.isin(BY_NAME))]
    assert set(measured.n) == {2}  # (a ratio may also be undefined in a finished run)

    monkeypatch.setattr(comparison_module, "run_single", real)
    calls = []
    monkeypatch.setattr(
        comparison_module, "run_single", lambda spec: calls.append(spec) or real(spec)
    )
    fixed = _compare(tmp_path)  # resume: only the failed run is retried
    assert [(s.scenario.name, s.replication) for s in calls] == [("full_linkage", 1)]
    assert fixed.failed == 0 and len(fixed.runs) == 6
    assert fixed.runs.key.is_unique


def test_resume_skips_stored_runs_and_a_different_command_gets_its_own_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _compare(tmp_path, replications=2)
    calls = []
    real = comparison_module.run_single
    monkeypatch.setattr(
        comparison_module, "run_single", lambda spec: calls.append(spec) or real(spec)
    )
    again = _compare(tmp_path, replications=2)
    assert calls == [] and again.name == first.name and len(again.runs) == 4
    other = _compare(tmp_path, replications=2, months=6)
    assert other.name != first.name and len(calls) == 4
    with pytest.raises(InputError, match="different settings"):
        _compare(tmp_path, replications=3, name=first.name)
    fresh = _compare(tmp_path, replications=3, name=first.name, fresh=True)
    assert len(fresh.runs) == 6


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="listed once"):
        compare(
            ["baseline", "baseline"],
            replications=1,
            months=1,
            progress=False,
            db=tmp_path / "r.sqlite",
            report=False,
        )
    with pytest.raises(InputError):
        compare(["no_such_scenario"], db=tmp_path / "r.sqlite", report=False)
    with pytest.raises(InputError, match="no experiment 'nope'"):
        Comparison.load("nope", db=tmp_path / "r.sqlite")


def test_compare_on_both_engines(db_url: str, tmp_path: Path) -> None:
    done = _compare(tmp_path, replications=2, months=6, db=db_url)
    assert len(done.runs) == 4 and done.failed == 0
    loaded = Comparison.load(done.name, db=db_url)
    pd.testing.assert_frame_equal(loaded.table(), done.table())
    assert len(loaded.bands("need_coverage")) == 2 * 6


def test_the_terminal_warns_of_few_replications_and_idle_levers(tmp_path: Path) -> None:
    done = sanshe(
        "compare", "baseline", "full_linkage", "--replications", "2", "--months", "3",
        "--set", "district.residents_per_community=200",
        "--set", "district.communities_per_street=2",
        "--set", "policy.incubation.enabled=true",
        "--db", f"sqlite:///{tmp_path / 'r.sqlite'}", "--no-report", "--no-progress",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "warning: Only 2 replications per scenario" in done.stderr
    assert "warning: baseline: The incubator is on but has no places" in done.stderr
    # posts scale with a community's residents: a part post is said, not warned of
    assert ("station posts: 0.0222 per community on this district, a post per 9,009 "
            "residents (0.0888 over its 4 communities)") in done.stderr
    assert "do not scale" not in done.stderr
    assert "(yuan per resident per year)" in done.stdout


def test_warnings_use_the_lever_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sanshe.inputs import lever_checks

    def levers(found: list[str]) -> list[str]:
        return [w for w in found if w.startswith(("baseline:", "full_linkage:"))]

    done = _compare(tmp_path, replications=5, months=2)
    assert levers(done.warnings()) == []  # library scenarios have no idle lever
    # off its reference district (10,000 residents) places and posts scale: no warning
    assert not any("posts" in w or "岗位" in w for w in done.warnings() + done.warnings("zh"))
    assert not any("replications per scenario" in w for w in done.warnings())  # five is enough

    def idle(scenario: Scenario) -> list[lever_checks.LeverWarning]:
        return [lever_checks.LeverWarning("policy.x", f"{scenario.name} idles.", "空转。")]

    monkeypatch.setattr(lever_checks, "lever_warnings", idle)
    assert levers(done.warnings()) == [
        "baseline: baseline idles.",
        "full_linkage: full_linkage idles.",
    ]
    assert done.warnings("zh")[0] == "baseline:空转。"
    assert levers(done.warnings(levers=False)) == []
