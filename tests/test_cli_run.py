"""`sanshe run` as a user runs it: exit codes, messages, the JSON file."""

import json

from sanshe.inputs.outcomes import OUTCOME_NAMES
from tests.helpers import sanshe

SMALL = ["--set", "district.streets=1", "--set", "district.communities_per_street=3",
         "--set", "district.residents_per_community=150"]


def test_run_prints_a_table_and_writes_json(tmp_path):
    out = tmp_path / "runs.json"
    result = sanshe("run", "baseline", "full_linkage", "-r", "2", "--months", "14",
                    "--json", str(out), "--no-progress", *SMALL)
    assert result.returncode == 0, result.stderr
    assert "Need coverage" in result.stdout and "full_linkage" in result.stdout
    data = json.loads(out.read_text())
    assert data["schema"] == 1 and len(data["runs"]) == 4
    for run in data["runs"]:
        assert set(run) >= {"scenario", "replication", "seed", "months", "parameters",
                            "final", "series"}
        assert set(run["final"]) == set(OUTCOME_NAMES)
        assert all(len(run["series"][name]) == 14 for name in OUTCOME_NAMES)
        assert run["parameters"]["district"]["residents_per_community"] == 150
    seeds = {(r["replication"], r["seed"]) for r in data["runs"]}
    assert len(seeds) == 2  # common random numbers: one seed per replication


def test_unknown_scenario_is_exit_2_without_traceback():
    result = sanshe("run", "no_such_scenario")
    assert result.returncode == 2
    assert "no_such_scenario" in result.stderr and "Traceback" not in result.stderr


def test_bad_override_names_the_key_and_suggests():
    result = sanshe("run", "baseline", "--set", "policy.purchase.anual_budget=1")
    assert result.returncode == 2
    assert "anual_budget" in result.stderr and "annual_budget" in result.stderr


def test_out_of_range_value_says_what_is_allowed():
    result = sanshe("run", "baseline", "--set", "policy.purchase.mode=lottery")
    assert result.returncode == 2 and "competitive" in result.stderr


def test_bad_scenario_file_is_named(tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text('[scenario]\nname = "mine"\nextends = "baseline"\n[district]\nstreets = "two"\n')
    result = sanshe("run", str(bad))
    assert result.returncode == 2
    assert "mine.toml" in result.stderr and "district.streets" in result.stderr


def test_python_dash_m_model_and_help():
    result = sanshe("--help")
    assert result.returncode == 0 and "run" in result.stdout and "scenarios" in result.stdout
