"""Levers on with nothing behind them are reported (sanshe/inputs/lever_checks.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from sanshe.inputs.lever_checks import lever_warnings
from sanshe.inputs.scenario import Scenario, library_names
from sanshe.inputs.schema import BY_KEY
from sanshe.sim.model import CommunityGovernanceModel
from tests.helpers import SMALL
from tests.helpers import sanshe as sanshe_cli

IDLE = [
    ({"policy.incubation.enabled": True}, "policy.incubation.enabled"),
    ({"policy.incubation.places": 5}, "policy.incubation.places"),
    ({"policy.incubation.startup_grant": 20_000}, "policy.incubation.places"),
    ({"policy.purchase.annual_budget": 0, "policy.purchase.third_party_evaluation": True},
     "policy.purchase.third_party_evaluation"),
    ({"policy.purchase.annual_budget": 0, "policy.purchase.satisfaction_weight": 0.5},
     "policy.purchase.satisfaction_weight"),
    ({"policy.purchase.annual_budget": 0, "policy.purchase.mode": "competitive"},
     "policy.purchase.mode"),
    ({"policy.purchase.annual_budget": 0, "policy.linkage.mode": "demand_driven"},
     "policy.linkage.mode"),
    ({"policy.community.project_share": 0.5}, "policy.community.project_share"),
    ({"policy.four_priorities.services": True}, "policy.four_priorities.services"),
    ({"policy.four_priorities.resources": True}, "policy.four_priorities.resources"),
]


@pytest.mark.parametrize(("overrides", "key"), IDLE)
def test_a_lever_on_with_nothing_behind_it_is_reported(overrides: dict, key: str) -> None:
    scenario = Scenario.load("baseline").with_overrides(overrides)
    warnings = lever_warnings(scenario)
    assert [w.key for w in warnings] == [key]
    assert warnings[0].en and warnings[0].zh


@pytest.mark.parametrize(("overrides", "key"), IDLE)
def test_the_same_lever_with_something_behind_it_is_not(overrides: dict, key: str) -> None:
    backing = {"policy.incubation.places": 10, "policy.incubation.enabled": True,
               "policy.purchase.annual_budget": 1e6, "policy.community.service_fund": 1e5,
               "policy.community.space_share_for_sos": 0.5}
    scenario = Scenario.load("baseline").with_overrides({**overrides, **backing})
    assert lever_warnings(scenario) == []


@pytest.mark.parametrize("name", library_names())
def test_no_library_scenario_has_an_idle_lever(name: str) -> None:
    assert lever_warnings(Scenario.load(name)) == []


def test_run_prints_the_warning_before_running() -> None:
    done = sanshe_cli("run", "baseline", "--months", "2", "-r", "1", "--no-progress",
                      "--set", "policy.incubation.enabled=true")
    assert done.returncode == 0, done.stderr
    assert "scenario 'baseline'" in done.stderr
    assert "policy.incubation.places = 0" in done.stderr


#: For each reported lever: what "nothing behind it" means, so the test can build both arms.
NOTHING_BEHIND = {
    "policy.incubation.enabled": {"policy.incubation.places": 0,
                                  "policy.incubation.training": 0.0,
                                  "policy.incubation.startup_grant": 0},
    "policy.incubation.places": {"policy.incubation.enabled": False},
    "policy.purchase.third_party_evaluation": {"policy.purchase.annual_budget": 0},
    "policy.purchase.satisfaction_weight": {"policy.purchase.annual_budget": 0},
    "policy.purchase.mode": {"policy.purchase.annual_budget": 0},
    "policy.linkage.mode": {"policy.purchase.annual_budget": 0},
    "policy.community.project_share": {"policy.community.service_fund": 0},
    "policy.four_priorities.services": {"policy.community.service_fund": 0},
    "policy.four_priorities.resources": {"policy.community.space_share_for_sos": 0.0},
}


def _monthly(scenario: str, overrides: dict) -> pd.DataFrame:
    model = CommunityGovernanceModel(scenario, seed=7, **SMALL, **overrides)
    model.run(24)
    return model.datacollector.get_model_vars_dataframe()


@pytest.mark.parametrize("scenario", ["baseline", "full_linkage"])
@pytest.mark.parametrize(("overrides", "key"), IDLE)
def test_a_reported_lever_changes_no_outcome_in_any_month(scenario: str, overrides: dict,
                                                          key: str) -> None:
    """The warning says the lever does nothing: every outcome of every month agrees with
    the same scenario with the lever off (common random numbers make this exact)."""
    on = {**NOTHING_BEHIND[key], **overrides}
    assert key in {w.key for w in lever_warnings(Scenario.load(scenario).with_overrides(on))}
    off = {**on, **{k: BY_KEY[k].default for k in overrides if k not in NOTHING_BEHIND[key]}}
    assert on != off
    pd.testing.assert_frame_equal(_monthly(scenario, on), _monthly(scenario, off),
                                  check_exact=True)
