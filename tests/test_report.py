"""The report directory: every file, CIs that match scipy, both languages, self-contained."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from sanshe.experiments.comparison import (
    Comparison,
    compare,
    summary_table,
    with_derived,
)
from sanshe.experiments.store import ResultStore
from sanshe.inputs import lever_checks
from sanshe.inputs.outcomes import BY_NAME, REPORT_OUTCOMES
from sanshe.inputs.scenario import Scenario
from sanshe.reporting import plotting
from sanshe.reporting.conclusions import meaning
from sanshe.reporting.provider_mix import (
    PROVIDERS,
    decompose,
    explain_quality,
    provider_mix,
    weighted_mean,
)
from sanshe.reporting.report import FIGURES

SCENARIOS = ("baseline", "full_linkage", "incubation_only")
EXPECTED_FILES = {
    "report.html",
    "report.md",
    "runs.csv",
    "table.csv",
    *(f"{stem}.png" for stem in FIGURES),
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    """A three-scenario comparison of fabricated runs, with one failure."""
    from tests.conftest import fake_result as make_result

    store = ResultStore(tmp_path_factory.mktemp("store") / "results.sqlite")
    spec = {
        "scenarios": list(SCENARIOS),
        "replications": 5,
        "seed": 1,
        "months": dict.fromkeys(SCENARIOS, 24),
        "overrides": {"district.residents_per_community": 200},
    }
    exp = store.experiment("cmp", "compare", spec)
    for rep in range(5):
        for shift, scenario in enumerate(SCENARIOS):
            result = make_result(scenario, rep, seed=1000 + rep, months=24, shift=0.03 * shift)
            result.parameters = Scenario.load(scenario).to_dict()
            store.save_run(exp, f"{scenario}/r{rep}", result)
    store.save_failure(
        exp,
        "incubation_only/r5",
        "incubation_only",
        5,
        9,
        {},
        "Traceback (most recent call last):\nValueError: no residents",
    )
    return Comparison.load("cmp", store)


@pytest.fixture(scope="module")
def english(stored: Comparison, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The English report of ``stored`` (drawn once: figures take seconds)."""
    out = tmp_path_factory.mktemp("report")
    assert stored.report(out) == out / "report.html"
    return out


@pytest.fixture
def quick_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blank figures, for tests about the report's text rather than its drawings."""
    monkeypatch.setattr(
        Comparison,
        "figures",
        lambda self, lang="en": {stem: Figure(figsize=(1, 1)) for stem in FIGURES},
    )


def test_report_writes_every_file(english: Path) -> None:
    out = english
    page = out / "report.html"
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES | {"failures.csv"}
    for stem in FIGURES:
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = page.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(FIGURES)
    assert not re.search(r"""(src|href)=['"](?!data:)""", html)  # nothing fetched from outside
    md = (out / "report.md").read_text(encoding="utf-8")
    for text in (md, html):
        assert "policy.incubation.enabled" in text
        assert "purchase-of-service budget of the reference district" in text
        assert "district.residents_per_community = 200" in text
        assert "incubation_only/r5" in text and "ValueError: no residents" in text
        assert "Need coverage" in text
        assert "Government spending per resident in the final year: baseline " in text
        assert "levels of scenarios far above that" in text and "purchase cost per need met" in text
        assert "(yuan per resident per year)" in text and "(yuan per need met)" in text
        assert "(annual) (per year)" not in text and "cut at the outcome" in text
    # warnings (none here: five replications), then what it means, before the details
    assert md.index("## What this means") < md.index("## Scenarios") < md.index("## Key")
    assert "## Warnings" not in md
    assert "full_linkage compared with baseline" in md and "Need coverage: up by" in md
    assert all(f"({stem}.png)" in md for stem in FIGURES)
    failures = pd.read_csv(out / "failures.csv")
    assert failures.key.tolist() == ["incubation_only/r5"]


def test_table_cis_match_scipy_on_runs_csv(english: Path) -> None:
    runs = pd.read_csv(english / "runs.csv")
    table = pd.read_csv(english / "table.csv")
    assert len(runs) == 15 and set(runs.status) == {"finished"}
    assert len(table) == len(REPORT_OUTCOMES) * len(SCENARIOS)
    reference = runs[runs.scenario == "baseline"].set_index("replication")
    for row in table[table.outcome.isin(BY_NAME)].itertuples():
        finals = runs[runs.scenario == row.scenario].set_index("replication")[row.outcome]
        low, high = stats.t.interval(
            0.95, len(finals) - 1, loc=finals.mean(), scale=stats.sem(finals)
        )
        lower, upper = BY_NAME[row.outcome].bounds
        assert (row.mean, row.ci_low, row.ci_high) == pytest.approx(
            (finals.mean(), max(low, lower), min(high, upper)), rel=1e-9
        )
        assert row.ci_cut == (low < lower or high > upper)
        if row.scenario != "baseline":
            base = reference[row.outcome].loc[finals.index]
            assert row.p_value == pytest.approx(stats.ttest_rel(finals, base).pvalue)
            diff = finals - base
            low, high = stats.t.interval(
                0.95, len(diff) - 1, loc=diff.mean(), scale=stats.sem(diff)
            )
            lower, upper = BY_NAME[row.outcome].diff_bounds
            assert (row.diff_ci_low, row.diff_ci_high) == pytest.approx(
                (max(low, lower), min(high, upper)), rel=1e-9
            )


def test_console_and_report_share_the_table(stored: Comparison, english: Path) -> None:
    md = (english / "report.md").read_text(encoding="utf-8")
    console = stored.format_table()
    first_row = console.splitlines()[2].split("  ")
    cells = [c.strip() for c in first_row if c.strip()]
    assert cells[0] == "Participation rate"
    assert f"| **{cells[0]}** | {cells[1]} | {cells[2]} |" in md


@pytest.mark.skipif(
    plotting.cjk_font() is None, reason="no CJK font installed (apt-get install fonts-noto-cjk)"
)
def test_chinese_report(stored: Comparison, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no missing-glyph warnings either
        stored.report(tmp_path / "zh", lang="zh")
    md = (tmp_path / "zh" / "report.md").read_text(encoding="utf-8")
    assert "情景比较" in md and "需求满足率" in md and "与baseline之差" in md
    assert "最后一年人均政府支出:baseline " in md
    assert "居民参与率" in stored.format_table("zh")


@pytest.mark.usefixtures("quick_figures")
def test_chinese_without_a_font_falls_back_to_english(
    stored: Comparison, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plotting, "cjk_font", lambda: None)
    plotting._warn_no_cjk.cache_clear()
    with pytest.warns(UserWarning, match="no CJK font"):
        stored.report(tmp_path / "fallback", lang="zh")
    md = (tmp_path / "fallback" / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Scenario comparison") and "需求满足率" not in md


@pytest.mark.usefixtures("quick_figures")
def test_a_retried_failure_leaves_no_stale_failures_csv(tmp_path: Path, make_result) -> None:
    store = ResultStore(tmp_path / "results.sqlite")
    exp = store.experiment("one", "compare", {"scenarios": ["baseline"]})
    store.save_run(exp, "baseline/r0", make_result("baseline", 0))
    store.save_failure(exp, "baseline/r1", "baseline", 1, 2, {}, "Traceback\nKeyError: x")
    Comparison.load("one", store).report(tmp_path / "out")
    assert (tmp_path / "out" / "failures.csv").exists()
    store.save_run(exp, "baseline/r1", make_result("baseline", 1))
    Comparison.load("one", store).report(tmp_path / "out")
    assert not (tmp_path / "out" / "failures.csv").exists()


# --- what this means --------------------------------------------------------------------
def _fabricated(gov_b: list[float]) -> pd.DataFrame:
    """Four replications: coverage up 10 pp, participation down 5 pp, satisfaction noise."""
    base = [0.30, 0.32, 0.31, 0.33]
    return pd.DataFrame(
        {
            "scenario": ["a"] * 4 + ["b"] * 4,
            "replication": [0, 1, 2, 3] * 2,
            "need_coverage": base + [0.40, 0.43, 0.40, 0.43],
            "participation_rate": base + [0.25, 0.26, 0.27, 0.28],
            "mean_satisfaction": [0.5] * 4 + [0.52, 0.47, 0.50, 0.47],
            "gov_spending": [10_000.0] * 4 + gov_b,
        }
    )


def _meaning(gov_b: list[float], lang: str, sized: bool = True) -> list[str]:
    district = {"streets": 1, "communities_per_street": 1, "residents_per_community": 100}
    parameters = {s: {"district": district} for s in "ab"} if sized else {}
    runs = with_derived(_fabricated(gov_b), parameters)
    outcomes = ["need_coverage", "participation_rate", "mean_satisfaction",
                "gov_spending_per_resident"]
    [(heading, sentences)] = meaning(summary_table(runs, ["a", "b"], outcomes, lang), lang)
    assert heading == ("b compared with a" if lang == "en" else "b 与 a 相比")
    return sentences


def test_what_this_means_says_direction_size_credibility_and_cost() -> None:
    summary, spend, coverage, participation, satisfaction = _meaning(
        [15_000.0, 15_100.0, 14_900.0, 15_000.0], "en"
    )
    assert summary.startswith("In short: 1 of 3 outcomes credibly better (Need coverage); "
                              "1 credibly worse (Participation rate); 1 without a credible "
                              "difference (Mean satisfaction).")
    assert "100 → 150 yuan per resident per year" in summary
    assert spend.startswith("Government spending per resident: up by 50.0 yuan per resident "
                            "per year (100 → 150); credible")
    assert coverage.startswith("Need coverage: up by 10.0 percentage points (31.5% → 41.5%) "
                               "— better; credible (95% CI +")
    # 50 yuan more per resident for 10 more percentage points
    assert coverage.endswith("Cost: 5.00 yuan per resident per year per percentage point.")
    assert participation.startswith("Participation rate: down by 5.0 percentage points")
    assert "— worse; credible" in participation and "buys no gain" in participation
    assert satisfaction.startswith("Mean satisfaction: down by 0.010 on the 0–1 index")
    assert "not credible: the 95% CI" in satisfaction and "includes zero" in satisfaction
    assert satisfaction.endswith("Cost: not computed, as the change is not credible.")


def test_what_this_means_in_chinese() -> None:
    _, _, coverage, participation, satisfaction = _meaning(
        [15_000.0, 15_100.0, 14_900.0, 15_000.0], "zh"
    )
    assert coverage.startswith("需求满足率:上升 10.0 个百分点,由 31.5% 变为 41.5%,有所改善")
    assert ";差异可信(95%置信区间 +" in coverage
    assert coverage.endswith("成本:每个百分点人均每年 5.00 元。")
    assert "下降 5.0 个百分点" in participation and "有所恶化" in participation
    assert "差异不可信" in satisfaction and "包含0" in satisfaction


def test_cost_is_not_computed_without_a_credible_spending_difference() -> None:
    coverage = _meaning([10_000.0, 20_000.0, 0.0, 10_000.0], "en")[2]
    assert coverage.endswith("Cost: not computed, as government spending per resident does "
                             "not differ credibly.")
    coverage = _meaning([15_000.0] * 4, "en", sized=False)[2]
    assert coverage.endswith("Cost: cannot be computed, as the district's size is not recorded.")
    saved = _meaning([5_000.0, 5_100.0, 4_900.0, 5_000.0], "en")[2]
    assert saved.endswith("It comes with 50.0 yuan less spending per resident per year.")


# --- warnings ------------------------------------------------------------------------------
@pytest.mark.usefixtures("quick_figures")
def test_warnings_open_the_report(
    tmp_path: Path, make_result, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ResultStore(tmp_path / "results.sqlite")
    exp = store.experiment("two", "compare", {"scenarios": ["baseline", "full_linkage"]})
    for rep in range(2):
        for shift, scenario in enumerate(("baseline", "full_linkage")):
            result = make_result(scenario, rep, seed=rep, shift=0.05 * shift)
            result.parameters = Scenario.load(scenario).to_dict()
            store.save_run(exp, f"{scenario}/r{rep}", result)
    monkeypatch.setattr(
        lever_checks,
        "lever_warnings",
        lambda s: [lever_checks.LeverWarning("policy.incubation.enabled", "Idle incubator.",
                                             "孵化器空转。")] if s.name == "full_linkage" else [],
    )
    comparison = Comparison.load("two", store)
    comparison.report(tmp_path / "en")
    md = (tmp_path / "en" / "report.md").read_text(encoding="utf-8")
    html = (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    assert md.index("## Warnings") < md.index("## What this means") < md.index("## Scenarios")
    for text in (md, html):
        assert "full_linkage: Idle incubator." in text
        assert "Only 2 replications per scenario" in text and "12.7 standard errors" in text
    if plotting.cjk_font() is not None:
        comparison.report(tmp_path / "zh", lang="zh")
        zh = (tmp_path / "zh" / "report.md").read_text(encoding="utf-8")
        assert zh.index("## 提示") < zh.index("## 结论")
        assert "full_linkage:孵化器空转。" in zh and "每个情景只有 2 次重复" in zh


# --- why service quality moved -------------------------------------------------------------
def _mix(services: list[float], quality: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"services": services, "quality": quality}, index=list(PROVIDERS))


def test_more_services_from_weaker_providers_lower_the_mean_through_the_mix() -> None:
    nan = float("nan")
    before = _mix([10, 0, 10, 0, 0, 5], [0.6, nan, 0.2, nan, nan, 0.3])
    after = _mix([10, 5, 30, 0, 2, 0], [0.7, 0.4, 0.25, nan, 0.8, nan])
    split = decompose(before, after)
    total = weighted_mean(after) - weighted_mean(before)
    assert split.mix.sum() + split.within.sum() == pytest.approx(total)
    pure = decompose(before, _mix([10, 0, 30, 0, 0, 5], [0.6, nan, 0.2, nan, nan, 0.3]))
    assert pure.within.sum() == pytest.approx(0.0) and pure.mix.sum() < 0


def test_the_report_explains_a_fall_in_service_quality(tmp_path: Path) -> None:
    small = {"district.residents_per_community": 200, "district.communities_per_street": 2}
    done = compare(["baseline", "full_linkage"], replications=2, months=12, overrides=small,
                   db=tmp_path / "r.sqlite", progress=False, report=False)
    table = done.table()
    quality = (table.outcome == "mean_service_quality") & (table.scenario == "full_linkage")
    assert explain_quality(done, table[~quality], "en") == []  # nothing fell: nothing to say
    table.loc[quality, "diff"] = -0.01  # as if it fell: the explanation is computed
    [story] = explain_quality(done, table, "en")
    seeds = sorted(done.runs.seed.unique().tolist())
    mixes = [provider_mix(done.parameters[s], seeds, 12)[0] for s in done.scenarios]
    split = decompose(*mixes)
    assert story.heading == "Why mean service quality is lower under full_linkage"
    assert f"the mix of providers contributes {split.mix.sum():+.3f}" in story.text[0]
    assert f"{split.within.sum():+.3f}" in story.text[0]
    assert not any("do not reproduce" in line for line in story.text)
    assert {row[0] for row in story.rows} <= {label for label, _ in PROVIDERS.values()}
    [zh] = explain_quality(done, table, "zh")
    assert zh.heading == "为什么 full_linkage 下平均服务质量较低" and "构成效应" in zh.headers


def test_one_replication_says_no_interval_and_skips_what_was_not_measured(
    tmp_path: Path, make_result
) -> None:
    store = ResultStore(tmp_path / "results.sqlite")
    exp = store.experiment("one", "compare", {"scenarios": ["baseline", "full_linkage"]})
    for shift, scenario in enumerate(("baseline", "full_linkage")):
        store.save_run(exp, f"{scenario}/r0", make_result(scenario, 0, shift=0.1 * shift))
    comparison = Comparison.load("one", store)
    assert any(w.startswith("Only one replication per scenario") for w in comparison.warnings())
    [(_, sentences)] = meaning(comparison.table(), "en")
    # no district recorded: no spending per resident, so no sentence claims it "unchanged"
    assert not any(s.startswith("Government spending per resident") for s in sentences)
    coverage = next(s for s in sentences if s.startswith("Need coverage"))
    assert "cannot be judged with fewer than two replications" in coverage
