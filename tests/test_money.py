"""Money at any district size (sanshe/inputs/money.py; README "Money at any district size")."""

from __future__ import annotations

import numpy as np
import pytest

from sanshe.experiments.experiment import plan, run_single
from sanshe.inputs import money
from sanshe.inputs.scenario import Scenario
from sanshe.sim.model import CommunityGovernanceModel
from tests.helpers import with_community_sos

BUDGET = "policy.purchase.annual_budget"
FUND = "policy.community.service_fund"
VENTURE = "policy.purchase.venture_philanthropy_budget"


def write(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[scenario]\nname = "{name}"\n{body}', encoding="utf-8")
    return path


def test_the_reference_is_the_district_the_file_states():
    full, yuhuatai = Scenario.load("full_linkage"), Scenario.load("yuhuatai")
    assert (full.values[money.REF_COMMUNITIES], full.values[money.REF_RESIDENTS]) == (10, 1000)
    assert (yuhuatai.values[money.REF_COMMUNITIES],
            yuhuatai.values[money.REF_RESIDENTS]) == (54, 9000)
    assert money.amount(full.values, BUDGET) == full.values[BUDGET]


def test_another_size_scales_money_per_resident():
    full = Scenario.load("full_linkage")
    half = full.with_overrides({"district.streets": 1})  # 5 communities of 1,000
    small = full.with_overrides({"district.residents_per_community": 250})
    assert money.amount(half.values, BUDGET) == pytest.approx(full.values[BUDGET] / 2)
    assert money.amount(half.values, FUND) == pytest.approx(full.values[FUND])  # per community
    assert money.amount(small.values, BUDGET) == pytest.approx(full.values[BUDGET] / 4)
    assert money.amount(small.values, FUND) == pytest.approx(full.values[FUND] / 4)
    for scenario in (half, small):
        per = money.government_per_resident(scenario.values, scenario.parameters)
        ref = money.government_per_resident(full.values, full.parameters)
        for line in ("purchase", "venture", "service_fund"):
            assert per[line] == pytest.approx(ref[line])


def test_a_money_override_is_for_the_reference_district_even_with_a_new_size():
    """--set district.streets=1 --set policy.purchase.annual_budget=100000: 100,000 yuan for
    the scenario's 10,000 residents, i.e. 50,000 for the run's 5,000 (10 per resident)."""
    both = Scenario.load("full_linkage").with_overrides({"district.streets": 1, BUDGET: 100_000})
    assert both.values[BUDGET] == 100_000
    assert money.amount(both.values, BUDGET) == pytest.approx(50_000)


def test_a_reference_of_zero_means_the_district_as_it_stands():
    own = Scenario.load("full_linkage").with_overrides(
        {"district.streets": 1, BUDGET: 100_000, money.REF_COMMUNITIES: 0, money.REF_RESIDENTS: 0})
    assert (own.values[money.REF_COMMUNITIES], own.values[money.REF_RESIDENTS]) == (5, 1000)
    assert money.amount(own.values, BUDGET) == 100_000


def test_a_child_file_with_its_own_district_keeps_inherited_intensity(tmp_path):
    """A file that doubles the communities and restates only the fund: the inherited
    purchase budget doubles (same yuan per resident), the fund stands as written."""
    child = Scenario.load(write(tmp_path, "bigger", 'extends = "full_linkage"\n[district]\n'
                                "streets = 4\n[policy.community]\nservice_fund = 50_000\n"))
    full = Scenario.load("full_linkage")
    assert child.values[money.REF_COMMUNITIES] == 20
    assert child.values[BUDGET] == pytest.approx(2 * full.values[BUDGET])
    assert child.values[VENTURE] == pytest.approx(2 * full.values[VENTURE])
    assert child.values[FUND] == 50_000
    assert money.amount(child.values, BUDGET) == child.values[BUDGET]
    places = "policy.incubation.places"  # a district count: inherited at its intensity too
    assert child.values[places] == pytest.approx(2 * full.values[places])


def test_incubator_places_scale_with_residents_like_the_budgets():
    """Places a year are stated for the reference district: half the residents, half the
    places (and the start-up grants per resident stay); an override is for the reference."""
    places = "policy.incubation.places"
    full = Scenario.load("full_linkage")
    half = full.with_overrides({"district.streets": 1})
    assert money.amount(full.values, places) == full.values[places]
    assert money.amount(half.values, places) == pytest.approx(full.values[places] / 2)
    per = money.government_per_resident(half.values, half.parameters)["startup_grants"]
    assert per == pytest.approx(
        money.government_per_resident(full.values, full.parameters)["startup_grants"])
    set_here = full.with_overrides({"district.streets": 1, places: 8})
    assert money.amount(set_here.values, places) == pytest.approx(4)
    # what they come to is said before a run
    assert "incubator places: 0.21 a year on this district (a place in about 21% of years)" \
        in money.describe(full.values, full.parameters)
    assert "incubator places: 4 a year on this district" in money.describe(
        set_here.values, set_here.parameters)
    assert not money.incubator_places(Scenario.load("baseline").values)


def test_the_reference_survives_a_round_trip_through_the_stored_parameters():
    moved = Scenario.load("full_linkage").with_overrides({"district.residents_per_community": 300})
    again = Scenario.from_dict(moved.to_dict())
    assert again.values == moved.values
    assert money.amount(again.values, FUND) == pytest.approx(0.3 * moved.values[FUND])


def test_the_model_reads_the_scaled_money():
    model = CommunityGovernanceModel("full_linkage", seed=1, **{
        "district.streets": 1, "district.communities_per_street": 2,
        "district.residents_per_community": 500})
    full = Scenario.load("full_linkage").values
    assert model.bureau.purchase_budget == pytest.approx(full[BUDGET] * 1000 / 10_000)
    assert model.bureau.venture_budget == pytest.approx(full[VENTURE] * 1000 / 10_000)
    group = sum(org.budget for org in model.group_orgs)
    assert group == pytest.approx(8 * model.p["group_budget"])  # per 1,000 residents


def _per_resident(size: dict, seeds: int = 6) -> tuple[np.ndarray, np.ndarray]:
    # Incubator places and station posts scale (a fraction is a place in some years, a post
    # in some communities): places off and a post a community of 500 here, so that the two
    # sizes differ only in residents, not in a lottery of places or posts.
    specs = plan(["full_linkage"], replications=seeds, seed=3, months=36,
                 overrides={**size, "policy.incubation.enabled": False,
                            "policy.social_work.posts_per_community": 2})
    residents = money.residents(specs[0].scenario.values)
    results = [run_single(spec).final for spec in specs]
    gov = np.array([r["gov_spending"] for r in results]) / residents
    coverage = np.array([r["need_coverage"] for r in results])
    return gov, coverage


def test_same_intensity_gives_the_same_per_resident_outcomes_at_two_sizes():
    """Two districts of 4 and 8 communities of 500 residents under the same scenario: the
    government money per resident and the share of needs met agree within sampling error
    (no money lever is a flat total any more)."""
    gov_a, cov_a = _per_resident({"district.streets": 1, "district.communities_per_street": 4,
                                  "district.residents_per_community": 500})
    gov_b, cov_b = _per_resident({"district.streets": 2, "district.communities_per_street": 4,
                                  "district.residents_per_community": 500})
    assert abs(gov_a.mean() - gov_b.mean()) < 0.1 * gov_b.mean()
    gap = cov_a.mean() - cov_b.mean()
    se = np.sqrt(cov_a.var(ddof=1) / cov_a.size + cov_b.var(ddof=1) / cov_b.size)
    assert abs(gap) < max(3 * se, 0.03), (gap, se)


def test_scenarios_show_prints_the_reference_and_money_per_resident():
    from sanshe.ui.commands.scenarios import show

    text = show(Scenario.load("yuhuatai").with_overrides({"district.streets": 1}))
    assert "54 communities x 9,000 residents = 486,000" in text
    assert "this district has 81,000 residents, so they scale per resident" in text
    assert "community funds 33.3" in text
    # the incubator's places scale like money: the start-up grants per resident stay
    grants = "start-up grants 0.4)"  # 10 places x 20,000 yuan / 486,000 residents
    assert grants in text and grants in show(Scenario.load("yuhuatai"))
    # the posts per community scale with its residents: a part post is said
    assert "station posts:" not in text  # a whole post a community of 9,000 in both
    assert "+ 8.0 station salaries" in text  # one post per 9,000: stated, not rescaled
    full = Scenario.load("full_linkage")
    smaller = full.with_overrides({"district.residents_per_community": 500,
                                   "policy.social_work.posts_per_community": 1})
    assert ("station posts: 0.5 per community on this district, a post per 1,000 residents "
            "(5 over its 10 communities)") in show(smaller)
    assert ("station posts: 0.111 per community on this district, a post per 9,009 residents "
            "(1.11 over its 10 communities)") in show(full)  # Yuhuatai's post per ~9,000
    assert "station posts:" not in show(Scenario.load("low_sw_pay"))  # one a community


# --- donors and firms (sanshe/sim/mechanisms/finance.py) ---------------------------------
def _district(**overrides) -> CommunityGovernanceModel:
    model = with_community_sos(CommunityGovernanceModel("full_linkage", seed=2, **{
        "district.streets": 1, "district.communities_per_street": 3,
        "district.residents_per_community": 300, **overrides}))
    model.run(13)
    return model


def _gifts(model: CommunityGovernanceModel) -> np.ndarray:
    """This month's gifts to the district's SOs if no contract covered any cost."""
    from sanshe.sim.mechanisms import finance

    salary = float(model.v["policy.social_work.salary_index"])
    books = finance.open_books(model, salary)
    return finance.donations(model, finance.asks(model, books, np.zeros(len(model.sos))))


def test_contract_money_crowds_out_fundraising_effort():
    """Andreoni & Payne 2011: an agency fundraises for the costs its contracts leave open —
    as far as the contracts' draws pay its staff and overhead, not what their accounts
    hold unspent (专款专用)."""
    from sanshe.sim.agents.social_org import Contract
    from sanshe.sim.mechanisms import finance

    model = CommunityGovernanceModel("full_linkage", seed=2)
    so = next(s for s in model.sos if not s.is_community)
    so.contracts = []
    p, salary = model.p, float(model.v["policy.social_work.salary_index"])
    costs = so.monthly_costs(p, salary, 1.0)
    assert costs > 0 and finance.fundraising_effort(costs, 0.0, 0.0, 0.0) == 1.0
    idle = Contract("purchase", 0, 0, 24 * costs, 1.0)  # paid in plenty, nothing done
    so.contracts = [idle]
    covered = finance.draw_on_contracts(model, [so], salary)[0]
    assert covered == 0.0 and finance.fundraising_effort(costs, 0.0, 0.0, covered) == 1.0
    busy = Contract("purchase", 0, 0, 24 * costs, 1.0)  # its staff time: half the costs
    busy.effort = costs / 2 / (finance.salary_bills([so], p, salary)[0]
                               * (1 + p["contract_overhead_share"]))
    so.contracts = [busy]
    covered = finance.draw_on_contracts(model, [so], salary)[0]
    assert covered == pytest.approx(costs / 2)
    assert finance.fundraising_effort(costs, 0.0, 0.0, covered) == pytest.approx(0.5)
    assert finance.fundraising_effort(costs, 0.0, 0.0, 2 * costs) == 0.0


def test_donors_give_what_is_asked_up_to_what_their_projects_left():
    model = _district(**{"parameters.donor_pool": 60, "parameters.donation_rate": 0.15})
    # precondition: someone asks. Dues and fees cover a volunteer-run community SO's small
    # costs, and a district of 900 may have lost its seeded agencies by month 13: one
    # community SO employs a social worker its fees and dues do not pay for
    from sanshe.sim.mechanisms import donors, workforce

    workforce.hire(model, next(so for so in model.sos if so.is_community),
                   np.random.default_rng(0))
    model.donor_left = 60 * model.pop.size  # the year's projects left a large pool
    asked = sum(_gifts(model))  # every ask is met
    assert 0 < asked < donors.monthly_pool(model)  # and it does not bind
    model.donor_left = 0.5 * asked * 12.0  # what the year's projects left: half the asks
    assert sum(_gifts(model)) == pytest.approx(0.5 * asked)  # binds: shared out
    model.donor_left = 0.0  # the projects took it all
    assert sum(_gifts(model)) == 0
