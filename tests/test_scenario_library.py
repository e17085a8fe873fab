"""The scenario library (scenarios/*.toml) and the ``sanshe scenarios`` command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sanshe.inputs import money
from sanshe.inputs.parameters import PARAMETERS
from sanshe.inputs.scenario import Scenario, list_scenarios
from sanshe.inputs.schema import SETTINGS, defaults

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "scenarios"

EXPECTED = {
    "baseline",
    "purchase_only",
    "incubation_only",
    "four_priorities",
    "priority_resources",
    "priority_services",
    "priority_landing",
    "priority_projects",
    "directed_purchase",
    "competitive_purchase",
    "third_party_evaluation",
    "satisfaction_weighted",
    "group_coordination",
    "deliberation_622",
    "government_led",
    "demand_driven",
    "project_led",
    "low_sw_pay",
    "high_sw_pay",
    "full_linkage",
    "rural",
    "incubation_no_training",
}
PRIORITIES = ("resources", "services", "landing", "projects")


@pytest.fixture(autouse=True)
def _real_library(monkeypatch):
    monkeypatch.delenv("SANSHE_SCENARIOS", raising=False)


@pytest.fixture(scope="module")
def library() -> dict[str, Scenario]:
    return {s.name: s for s in list_scenarios()}


def flat_keys(table: dict, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in table.items():
        if isinstance(value, dict):
            keys |= flat_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def diff(library: dict[str, Scenario], a: str, b: str) -> set[str]:
    return set(library[a].differences(library[b]))


def test_library_holds_the_expected_scenarios(library):
    assert set(library) >= EXPECTED
    assert {p.stem for p in LIBRARY.glob("*.toml")} == set(library)


def test_every_scenario_resolves_every_key(library):
    for scenario in library.values():
        assert set(scenario.values) == {s.key for s in SETTINGS}, scenario.name
        assert set(scenario.parameters) == set(PARAMETERS), scenario.name
        assert scenario.source == LIBRARY / f"{scenario.name}.toml"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", scenario.name)


def test_titles_are_chinese_and_english(library):
    for scenario in library.values():
        assert " / " in scenario.title, scenario.name
        assert re.search(r"[\u4e00-\u9fff]", scenario.title_zh), scenario.name
        assert scenario.title_en.isascii() and scenario.title_en, scenario.name


def test_descriptions_are_one_line(library):
    for scenario in library.values():
        assert scenario.description and "\n" not in scenario.description, scenario.name


#: Calibrated district-scale scenarios set their own [run] (months of the source period).
CALIBRATED = {"yuhuatai"}


def test_run_settings_come_from_baseline(library):
    for scenario in library.values():
        if scenario.name in CALIBRATED:
            continue
        run = (scenario.values[k] for k in ("run.months", "run.replications", "run.seed"))
        assert tuple(run) == (120, 10, 1), scenario.name


def test_baseline_states_every_setting_and_is_the_status_quo(library):
    raw = tomllib.loads((LIBRARY / "baseline.toml").read_text(encoding="utf-8"))
    raw.pop("scenario")
    assert flat_keys(raw) == {s.key for s in SETTINGS}
    assert library["baseline"].values == money.with_reference(defaults())
    assert library["baseline"].extends is None


def test_every_other_scenario_extends_and_sets_few_keys(library):
    for name in set(library) - {"baseline"}:
        assert library[name].extends, name
        raw = tomllib.loads((LIBRARY / f"{name}.toml").read_text(encoding="utf-8"))
        raw.pop("scenario")
        assert "run" not in raw or name in CALIBRATED, name  # inherited from baseline


def test_single_priority_scenarios_differ_only_in_their_switch(library):
    shared = {"policy.community.service_fund", "policy.community.space_share_for_sos"}
    for priority in PRIORITIES:
        name = f"priority_{priority}"
        assert diff(library, name, "baseline") == shared | {f"policy.four_priorities.{priority}"}
        others = {f"policy.four_priorities.{p}" for p in PRIORITIES if p != priority}
        assert diff(library, name, "four_priorities") == others


def test_linkage_modes_differ_only_in_mode(library):
    for a, b in [("government_led", "demand_driven"), ("demand_driven", "project_led")]:
        assert diff(library, a, b) == {"policy.linkage.mode"}
    assert library["government_led"].values["policy.purchase.annual_budget"] == 6e4


def test_purchase_contrasts(library):
    assert diff(library, "directed_purchase", "competitive_purchase") == {
        "policy.purchase.mode",
        "policy.purchase.third_party_evaluation",
    }
    assert diff(library, "third_party_evaluation", "baseline") == {
        "policy.purchase.third_party_evaluation"
    }
    assert library["satisfaction_weighted"].values["policy.purchase.satisfaction_weight"] == 0.6


def test_incubation_contrast(library):
    assert diff(library, "incubation_no_training", "incubation_only") == {
        "policy.incubation.training"
    }
    assert library["incubation_only"].values["policy.incubation.registration_threshold"] == "low"


def test_full_linkage_matches_the_interface_example(library):
    """The INTERFACE example's levers, with its money at the sources' level per resident
    (issue 14: Yuhuatai's 41 yuan a resident, not the example's 770)."""
    full = library["full_linkage"].values
    expected = {
        "policy.purchase.annual_budget": 6e4,
        "policy.purchase.mode": "competitive",
        "policy.purchase.third_party_evaluation": True,
        "policy.purchase.satisfaction_weight": 0.5,
        "policy.purchase.venture_philanthropy_budget": 3e4,
        "policy.incubation.enabled": True,
        "policy.incubation.places": 0.21,  # the example's 10 for a district, per 10,000
        "policy.incubation.training": 0.5,
        "policy.incubation.startup_grant": 20_000.0,
        "policy.incubation.registration_threshold": "low",
        "policy.linkage.mode": "demand_driven",
        "policy.linkage.info_platform": True,
        "policy.linkage.group_coordination": True,
        "policy.community.service_fund": 3.3e4,
        "policy.community.project_share": 0.5,
        "policy.community.space_share_for_sos": 0.5,
        "policy.community.deliberation": True,
        "policy.community.volunteer_points": True,
        "policy.social_work.posts_per_community": 0.111,  # the example's 1 a community of
        # ~9,000 (its fund is 300,000: Yuhuatai's), per community of 1,000
        "policy.social_work.salary_index": 1.0,
        "policy.social_work.certification_support": True,
        "policy.social_work.training": 0.5,
        **{f"policy.four_priorities.{p}": True for p in PRIORITIES},
    }
    assert {k: full[k] for k in expected} == expected


# --- the command line ------------------------------------------------------------------------
def sanshe(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SANSHE_SCENARIOS"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "sanshe", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_cli_lists_every_scenario(library):
    result = sanshe("scenarios")
    assert result.returncode == 0, result.stderr
    for scenario in library.values():
        assert scenario.name in result.stdout
        assert scenario.title_zh in result.stdout and scenario.title_en in result.stdout


def test_cli_json(library):
    result = sanshe("scenarios", "--json")
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert [e["name"] for e in entries] == sorted(library)
    assert {"name", "title", "title_zh", "title_en", "description"} <= set(entries[0])


def test_cli_shows_one_scenario():
    result = sanshe("scenarios", "full_linkage", "--json")
    assert result.returncode == 0, result.stderr
    assert Scenario.from_dict(json.loads(result.stdout)) == Scenario.load("full_linkage")
    text = sanshe("scenarios", "full_linkage").stdout
    assert '* policy.linkage.mode = "demand_driven"' in text


def test_cli_bad_scenario_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "bad"\n[district]\nstreets = 2.0\n', encoding="utf-8")
    result = sanshe("scenarios", str(bad))
    assert result.returncode == 2
    assert "bad.toml" in result.stderr and "'district.streets'" in result.stderr
    assert "Traceback" not in result.stderr
