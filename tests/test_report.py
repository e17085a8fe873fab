"""The report directory: every file, CIs that match scipy, both languages, self-contained."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from sanshe import plotting
from sanshe.comparison import Comparison
from sanshe.outcomes import KEY_OUTCOMES
from sanshe.report import FIGURES
from sanshe.scenario import Scenario
from sanshe.store import ResultStore

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
        assert "policy.incubation.enabled" in text and "district purchase-of-service" in text
        assert "district.residents_per_community = 200" in text
        assert "incubation_only/r5" in text and "ValueError: no residents" in text
        assert "Need coverage" in text
        assert "Government spending per resident in the final year: baseline " in text
        assert "levels of well-funded" in text
    assert all(f"({stem}.png)" in md for stem in FIGURES)
    failures = pd.read_csv(out / "failures.csv")
    assert failures.key.tolist() == ["incubation_only/r5"]


def test_table_cis_match_scipy_on_runs_csv(english: Path) -> None:
    runs = pd.read_csv(english / "runs.csv")
    table = pd.read_csv(english / "table.csv")
    assert len(runs) == 15 and set(runs.status) == {"finished"}
    assert len(table) == len(KEY_OUTCOMES) * len(SCENARIOS)
    reference = runs[runs.scenario == "baseline"].set_index("replication")
    for row in table.itertuples():
        finals = runs[runs.scenario == row.scenario].set_index("replication")[row.outcome]
        low, high = stats.t.interval(
            0.95, len(finals) - 1, loc=finals.mean(), scale=stats.sem(finals)
        )
        assert (row.mean, row.ci_low, row.ci_high) == pytest.approx(
            (finals.mean(), low, high), rel=1e-9
        )
        if row.scenario != "baseline":
            base = reference[row.outcome].loc[finals.index]
            assert row.p_value == pytest.approx(stats.ttest_rel(finals, base).pvalue)
            diff = finals - base
            assert (row.diff_ci_low, row.diff_ci_high) == pytest.approx(
                stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=stats.sem(diff)),
                rel=1e-9,
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
