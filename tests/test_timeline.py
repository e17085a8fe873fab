"""Policies that change over time: [[timeline]] in scenario files (sanshe/inputs/timeline.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import SMALL, STATIONED, sanshe

from sanshe.experiments.comparison import compare
from sanshe.experiments.experiment import plan, run_single
from sanshe.inputs.errors import InputError
from sanshe.inputs.lever_checks import lever_warnings
from sanshe.inputs.outcomes import OUTCOME_NAMES
from sanshe.inputs.scenario import Scenario
from sanshe.inputs.timeline import Change
from sanshe.reporting.sustainability import kept
from sanshe.sim.mechanisms import finance
from sanshe.sim.model import CommunityGovernanceModel

PILOT = """
[[timeline]]
month = 37
policy.purchase.annual_budget = 0
policy.purchase.venture_philanthropy_budget = 0
"""


def write(directory: Path, name: str, body: str) -> Path:
    """A scenario file ``name.toml`` whose [scenario] table is followed by ``body``."""
    path = directory / f"{name}.toml"
    path.write_text(f'[scenario]\nname = "{name}"\n{body}', encoding="utf-8")
    return path


def load_error(directory: Path, body: str, name: str = "bad") -> str:
    path = write(directory, name, body)
    with pytest.raises(InputError) as info:
        Scenario.load(path)
    return str(info.value)


# --- parsing and the resolved scenario -----------------------------------------------------
def test_a_timeline_file_resolves_to_changes_in_month_order(tmp_path):
    scenario = Scenario.load(write(tmp_path, "s", 'extends = "full_linkage"\n' + PILOT))
    assert scenario.timeline == (Change(37, (("policy.purchase.annual_budget", 0.0),
                                             ("policy.purchase.venture_philanthropy_budget",
                                              0.0))),)
    assert scenario.values["policy.purchase.annual_budget"] == 6e4  # the run starts funded
    assert scenario.values_at(36)["policy.purchase.annual_budget"] == 6e4
    assert scenario.values_at(37)["policy.purchase.annual_budget"] == 0.0
    assert scenario.values_at(120)["policy.purchase.venture_philanthropy_budget"] == 0.0


def test_the_timeline_is_stored_round_trips_and_takes_part_in_equality():
    pilot, full = Scenario.load("pilot_ends"), Scenario.load("full_linkage")
    stored = pilot.to_dict()
    assert stored["timeline"] == [{"month": 37, "policy": {"purchase": {
        "annual_budget": 0.0, "venture_philanthropy_budget": 0.0}}}]
    assert "timeline" not in full.to_dict()  # no timeline: the stored dict is unchanged
    back = Scenario.from_dict(json.loads(json.dumps(stored)))
    assert back == pilot and hash(back) == hash(pilot)
    assert pilot.values == full.values and pilot != full
    assert set(pilot.differences(full)) == {"timeline"}


def test_phase_in_ends_as_the_full_package_from_month_25():
    phase_in, full = Scenario.load("phase_in"), Scenario.load("full_linkage")
    assert [c.month for c in phase_in.timeline] == [13, 25]
    assert phase_in.values_at(25) == full.values
    assert phase_in.values_at(24) != full.values
    assert phase_in.values["policy.incubation.enabled"]  # the conditions come first
    assert phase_in.values["policy.purchase.annual_budget"] == 10_000


# --- validation: every bad input names the file, the entry and the key ---------------------
BAD = [
    ("[[timeline]]\npolicy.purchase.annual_budget = 0\n", ["entry 1", "'month' is missing"]),
    ('[[timeline]]\nmonth = "37"\npolicy.purchase.annual_budget = 0\n',
     ["entry 1", "not a whole number"]),
    ("[[timeline]]\nmonth = 0\npolicy.purchase.annual_budget = 0\n",
     ["entry 1", "month = 0", "months start at 1"]),
    ("[[timeline]]\nmonth = 121\npolicy.purchase.annual_budget = 0\n",
     ["entry 1", "month = 121", "run.months = 120"]),
    ("[[timeline]]\nmonth = 37\npolicy.purchase.anual_budget = 0\n",
     ["entry 1 (month 37)", "policy.purchase.anual_budget",
      "Did you mean 'policy.purchase.annual_budget'"]),
    ("[[timeline]]\nmonth = 37\ndistrict.streets = 3\n",
     ["entry 1 (month 37)", "'district.streets' cannot change during a run"]),
    ("[[timeline]]\nmonth = 37\nparameters.unit_cost = 800\n",
     ["entry 1 (month 37)", "'parameters.unit_cost' cannot change"]),
    ("[[timeline]]\nmonth = 37\npolicy.purchase.annual_budget = -1\n",
     ["entry 1 (month 37)", "'policy.purchase.annual_budget' = -1 is out of range"]),
    ('[[timeline]]\nmonth = 37\npolicy.purchase.mode = "auction"\n',
     ["entry 1 (month 37)", "'policy.purchase.mode'", "not an allowed value", "'competitive'"]),
    ("[[timeline]]\nmonth = 37\npolicy.incubation.enabled = 1\n",
     ["entry 1 (month 37)", "'policy.incubation.enabled'", "wrong type"]),
    ("[[timeline]]\nmonth = 37\n", ["entry 1 (month 37)", "changes nothing"]),
    ("[[timeline]]\nmonth = 37\npolicy.purchase.annual_budget = 0\n"
     "[[timeline]]\nmonth = 13\npolicy.purchase.annual_budget = 1\n",
     ["entry 2", "month = 13", "earlier than entry 1", "increasing month order"]),
    ("[[timeline]]\nmonth = 37\npolicy.purchase.annual_budget = 0\n"
     "[[timeline]]\nmonth = 37\npolicy.purchase.venture_philanthropy_budget = 0\n",
     ["entry 2", "the same month as entry 1", "one entry"]),
    ("[timeline]\nmonth = 37\n", ["'timeline' must be an array of tables", "[[timeline]]"]),
]


@pytest.mark.parametrize(("body", "expected"), BAD)
def test_a_bad_timeline_is_an_input_error_naming_file_entry_and_key(tmp_path, body, expected):
    message = load_error(tmp_path, body)
    assert str(tmp_path / "bad.toml") in message
    for part in expected:
        assert part in message, message


def test_a_bad_timeline_in_a_dict_names_the_dict():
    with pytest.raises(InputError, match="scenario dict: 'timeline' must be an array"):
        Scenario.from_dict({"scenario": {"name": "x"}, "timeline": {"month": 3}})


def test_the_timeline_cannot_be_overridden_but_overrides_keep_it():
    pilot = Scenario.load("pilot_ends")
    with pytest.raises(InputError, match="timeline"):
        pilot.with_overrides({"timeline.month": 3})
    smaller = pilot.with_overrides(SMALL)
    assert smaller.timeline == pilot.timeline
    # an override sets the starting value; the timeline still changes it later
    cheaper = pilot.with_overrides({"policy.purchase.annual_budget": 1e6})
    assert cheaper.values_at(36)["policy.purchase.annual_budget"] == 1e6
    assert cheaper.values_at(37)["policy.purchase.annual_budget"] == 0.0


# --- inheritance ---------------------------------------------------------------------------
def test_a_child_inherits_the_timeline_or_replaces_it(tmp_path):
    write(tmp_path, "parent", 'extends = "full_linkage"\n' + PILOT)
    inherits = Scenario.load(write(tmp_path, "inherits", 'extends = "parent"\n'
                                   "[policy.community]\nservice_fund = 1000\n"))
    assert [c.month for c in inherits.timeline] == [37]
    replaces = Scenario.load(write(tmp_path, "replaces", 'extends = "parent"\n'
                                   "[[timeline]]\nmonth = 49\n"
                                   "policy.community.service_fund = 0\n"))
    assert replaces.timeline == (Change(49, (("policy.community.service_fund", 0.0),)),)
    path = tmp_path / "clears.toml"
    path.write_text('timeline = []\n[scenario]\nname = "clears"\nextends = "parent"\n',
                    encoding="utf-8")
    assert Scenario.load(path).timeline == ()
    message = load_error(tmp_path, 'extends = "parent"\ntimeline = []\n')
    assert "'timeline' is inside [scenario]" in message and "top of the file" in message


def test_a_child_that_shortens_the_run_below_an_inherited_change_is_an_error(tmp_path):
    write(tmp_path, "parent", 'extends = "full_linkage"\n' + PILOT)
    message = load_error(tmp_path, 'extends = "parent"\n[run]\nmonths = 24\n')
    assert "inherited from 'parent'" in message and "run.months = 24" in message


# --- lever checks per phase ----------------------------------------------------------------
def test_lever_checks_apply_to_each_phase_for_the_levers_it_sets(tmp_path):
    body = ('extends = "baseline"\n[[timeline]]\nmonth = 13\n'
            "policy.incubation.enabled = true\n")
    warnings = lever_warnings(Scenario.load(write(tmp_path, "s", body)))
    assert [(w.key, w.month) for w in warnings] == [("policy.incubation.enabled", 13)]
    assert warnings[0].en.startswith("From month 13:") and "第 13 个月" in warnings[0].zh
    # the pilot's money stopping leaves evaluation idle by design: not reported
    assert lever_warnings(Scenario.load("pilot_ends")) == []


# --- the model -----------------------------------------------------------------------------
#: The small district with the library's money amounts meant for it as it stands (so the
#: purchase buys a lot there; README: money at any district size).
SMALL_OWN_MONEY = {**SMALL, "district.money_communities": 0,
                   "district.money_residents_per_community": 0}


def series_of(scenario: str, months: int, replications: int = 4) -> list[dict]:
    # a purchase large enough that an agency takes it on the small district, so that the
    # pilot's end shows in spending (at the library's 60,000 lots often find no bidder)
    specs = plan([scenario], replications=replications, seed=11, months=months,
                 overrides={**SMALL_OWN_MONEY, "policy.purchase.annual_budget": 600_000})
    return [run_single(spec).series for spec in specs]


def test_runs_are_identical_to_the_scenario_without_its_timeline_until_the_change():
    full, pilot = series_of("full_linkage", 44), series_of("pilot_ends", 44)
    for with_money, without in zip(full, pilot, strict=True):
        for name in OUTCOME_NAMES:  # every outcome, every month before month 37
            np.testing.assert_array_equal(with_money[name][:36], without[name][:36],
                                          err_msg=name)
    # after it the money differs wherever an agency held the purchase (in a replication
    # whose agency had closed nobody bids for the lot, with or without the money: 2 of the
    # 4 replications at seed 11)
    assert any(a["gov_spending"][36:] != b["gov_spending"][36:]
               for a, b in zip(full, pilot, strict=True))


def test_when_the_pilot_ends_government_pays_only_committees_stations_and_funds():
    model = CommunityGovernanceModel(Scenario.load("pilot_ends").with_overrides(SMALL_OWN_MONEY),
                                     seed=5)
    paid = 0.0
    for _ in range(36):
        model.step()
        paid += sum(so.ledger.month["purchase"] for so in model.sos)
    assert model.bureau.purchase_budget == 6e4  # captured at build, in force until month 36
    assert paid > 0  # purchase money reached SOs before the pilot ended
    wage = model.v["policy.social_work.salary_index"] * model.p["local_wage"]
    checked = 0
    for _ in range(37, 61):  # purchase and venture money stop at month 37
        due = [c.points_due for c in model.committees]  # last month's points, redeemed now
        model.step()
        assert model.bureau.purchase_budget == 0.0 and model.bureau.venture_budget == 0.0
        assert not {c.buyer for so in model.sos for c in so.contracts} & {"purchase", "venture"}
        if model.month % 12 == 1 or model.closures_month:
            continue  # grants are paid at the yearly round; a closed SO took its receipts
        funds = sum(so.ledger.month["community_fund"] for so in model.sos)
        # committees' own services and the points they redeem, station salaries, and the
        # programmes the package still runs (training, the platform; no evaluator's fee)
        committees = sum(max(c.admin_budget, points) + len(c.staff) * wage
                         for c, points in zip(model.committees, due, strict=True))
        assert model.bureau.evaluation_fee == 0.0
        assert model.gov_month == pytest.approx(committees + funds
                                                + finance.programme_costs(model))
        checked += 1
    assert checked >= 3


def test_cut_posts_let_station_staff_go_without_drawing_random_numbers(tmp_path):
    body = ('extends = "full_linkage"\n[[timeline]]\nmonth = 13\n'
            "policy.social_work.posts_per_community = 0\n")
    scenario = Scenario.load(write(tmp_path, "cut", body)).with_overrides({**SMALL,
                                                                            **STATIONED})
    model = CommunityGovernanceModel(scenario, seed=3)
    model.run(12)
    assert sum(len(c.staff) for c in model.committees) > 0
    state = model.streams["workforce"].bit_generator.state
    model._apply_timeline()  # noqa: SLF001 - the hook the next step() runs first
    assert all(c.posts == 0 and not c.staff for c in model.committees)
    assert model.streams["workforce"].bit_generator.state == state


# --- the command line ----------------------------------------------------------------------
def test_cli_runs_a_timeline_file_and_stores_it(tmp_path):
    small = "".join(f"{k.split('.')[1]} = {v}\n" for k, v in SMALL.items())
    body = (f'extends = "full_linkage"\n[district]\n{small}[run]\nmonths = 14\n'
            "[[timeline]]\nmonth = 13\npolicy.purchase.annual_budget = 0\n")
    path = write(tmp_path, "mine", body)
    out = tmp_path / "runs.json"
    done = sanshe("run", str(path), "-r", "1", "--no-progress", "--json", str(out))
    assert done.returncode == 0, done.stderr
    run = json.loads(out.read_text(encoding="utf-8"))["runs"][0]
    assert run["parameters"]["timeline"] == [
        {"month": 13, "policy": {"purchase": {"annual_budget": 0.0}}}]
    cut = sanshe("run", str(path), "-r", "1", "--months", "6", "--no-progress")
    assert cut.returncode == 0, cut.stderr
    assert "ends after month 6, before its timeline change(s) at month 13" in cut.stderr


def test_cli_bad_timeline_exits_2_with_one_paragraph(tmp_path):
    path = write(tmp_path, "oops", "[[timeline]]\nmonth = 5\npolicy.purchase.budget = 0\n")
    done = sanshe("run", str(path), "--months", "6", "-r", "1")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(path) in done.stderr and "entry 1 (month 5)" in done.stderr
    assert "policy.purchase.budget" in done.stderr


def test_cli_scenarios_marks_timelines():
    listing = sanshe("scenarios")
    assert listing.returncode == 0, listing.stderr
    line = next(x for x in listing.stdout.splitlines() if x.startswith("pilot_ends "))
    assert "[timeline: month 37]" in line
    shown = sanshe("scenarios", "phase_in")
    assert "from month 25: policy.purchase.annual_budget = 60_000" in shown.stdout


# --- what is kept --------------------------------------------------------------------------
def test_kept_reads_values_before_and_after_the_change_as_final_values():
    months = np.arange(1, 61)
    rows = []
    for rep, level in enumerate((10.0, 20.0)):
        stock = np.where(months < 37, level, level / 2)  # halves at month 37
        rate = np.where(months < 37, 0.5, 0.25)
        rows += [{"replication": rep, "month": m, "outcome": "so_count", "value": v}
                 for m, v in zip(months, stock, strict=True)]
        rows += [{"replication": rep, "month": m, "outcome": "need_coverage", "value": v}
                 for m, v in zip(months, rate, strict=True)]
    table = kept(pd.DataFrame(rows), 37, ["so_count", "need_coverage"]).set_index(
        ["outcome", "horizon"])
    assert list(table.loc["so_count"].index) == [0, 12, 24]  # 24: month 60 is in the run
    assert table.loc[("so_count", 0), "mean"] == 15.0
    assert table.loc[("so_count", 12), "kept"] == pytest.approx(0.5)
    assert table.loc[("so_count", 12), "month"] == 48
    assert table.loc[("need_coverage", 12), "mean"] == pytest.approx(0.25)  # months 37-48
    assert table.loc[("need_coverage", 24), "kept"] == pytest.approx(0.5)
    assert kept(pd.DataFrame(rows), 50, ["so_count"]).empty  # 12 months after: past the end


def test_the_report_lists_the_timeline_and_what_is_kept(tmp_path):
    comparison = compare(["full_linkage", "pilot_ends"], replications=2, months=50,
                         overrides=SMALL, db=str(tmp_path / "r.db"), out=tmp_path / "out",
                         progress=False)
    assert comparison.change_months() == {"pilot_ends": [37]}
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "- **pilot_ends**: from month 37: policy.purchase.annual_budget = 0" in markdown
    assert "## After the change: what is kept" in markdown
    assert "12 months after (month 48)" in markdown and "24 months after" not in markdown
    row = next(x for x in markdown.splitlines() if x.startswith("| Government spending |"))
    assert row.count("%") == 3  # the share kept and its interval
    assert "timeline" not in {d["key"] for d in comparison.differences()}
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "After the change: what is kept" in page
    figure = comparison.plot("gov_spending")
    lines = [line for line in figure.axes[0].lines if line.get_linestyle() == "--"]
    assert [line.get_xdata()[0] for line in lines] == [36.5]


# --- the dashboard -------------------------------------------------------------------------
def test_the_dashboard_lists_the_timeline_and_marks_changes_on_its_plots():
    dashboard = pytest.importorskip("sanshe.ui.dashboard")
    model = dashboard.DashboardModel(scenario_name="pilot_ends", seed=2, **SMALL)
    model.run(36)
    text = dashboard.timeline_html(model, "en")
    assert "from month 37: Purchase budget 0 yuan / year" in text and "in force" not in text
    assert not [x for x in dashboard.spending_figure(model, "en").axes[0].lines
                if x.get_linestyle() == "--"]
    model.step()
    assert "in force" in dashboard.timeline_html(model, "en")
    assert "从第 37 个月起" in dashboard.status_html(model, "zh")
    assert model.changed_levers() == []  # the timeline's change is the scenario's, not yours
    for make in dashboard.FIGURES[:-1]:  # every line plot; the last is the community map
        dashed = [x for x in make(model, "en").axes[0].lines if x.get_linestyle() == "--"]
        assert [x.get_xdata()[0] for x in dashed] == [36.5], make.__name__
