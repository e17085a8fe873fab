"""Social workers: posts, quits and hiring (sanshe/sim/mechanisms/workforce.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sanshe.sim.agents.social_org import Contract
from sanshe.sim.mechanisms import costing, priorities, workforce
from sanshe.sim.model import CommunityGovernanceModel
from tests.helpers import params, with_community_sos

TINY = {"district.streets": 1, "district.communities_per_street": 2,
        "district.residents_per_community": 100}


def _model(**overrides: object) -> CommunityGovernanceModel:
    return CommunityGovernanceModel("baseline", seed=3, **TINY, **overrides)


def test_pay_relative_to_today_drives_quits_and_hiring() -> None:
    p = params()
    today = p["salary_index_today"]
    assert workforce.exit_probability(p, today * 1.5, 0.0) < workforce.exit_probability(
        p, today, 0.0)
    assert workforce.fill_probability(p, today * 1.5) > workforce.fill_probability(p, today)
    assert workforce.exit_probability(params(turnover_floor=0.05), 100.0, 1.0) > 0.0


def test_an_agency_opens_posts_its_contracts_need_and_can_pay() -> None:
    model = _model()
    agency = next(so for so in model.sos if not so.is_community)
    p, salary = model.p, 0.8
    assert agency.posts_to_fill(p, salary) == 0  # no contracts, no posts
    agency.contracts.append(Contract("purchase", 0, 0, 600_000, 50.0))
    agency.cash = 0.0
    wanted = agency.posts_to_fill(p, salary)
    assert wanted > 0
    affordable = int((600_000 / 12) // (salary * p["local_wage"])) - len(agency.staff)
    assert wanted <= affordable


def test_an_agency_without_work_or_money_lets_one_go() -> None:
    model = _model()
    agency = next(so for so in model.sos if not so.is_community)
    staff = len(agency.staff)
    agency.cash = -1.0
    assert agency.posts_to_fill(model.p, 0.8) == 0
    assert len(agency.staff) == staff - 1


def test_an_agency_with_more_staff_than_its_contracts_need_and_no_money_lets_one_go() -> None:
    """Its contracts' accounts pay only the staff time spent on them (专款专用)."""
    model = _model()
    agency = next(so for so in model.sos if not so.is_community)
    while len(agency.staff) < 3:
        workforce.hire(model, agency, model.streams[workforce.STREAM])
    agency.contracts.append(Contract("purchase", 0, 0, 12_000, 1.0))  # one worker's work
    assert agency.staff_needed(model.p) < len(agency.staff)
    agency.cash = 1.0  # it can still pay them: it keeps them
    assert agency.posts_to_fill(model.p, 0.8) == 0 and len(agency.staff) == 3
    agency.cash = -1.0
    assert agency.posts_to_fill(model.p, 0.8) == 0 and len(agency.staff) == 2


def test_stations_fill_their_funded_posts() -> None:
    # posts stated for this district's communities (a reference of 0: the district as it is)
    model = _model(**{"policy.social_work.posts_per_community": 3,
                      "district.money_residents_per_community": 0})
    assert all(len(c.staff) == 3 for c in model.committees)  # hired when built
    model.committees[0].staff.clear()
    model.p["hire_fill_rate"] = 1.0
    model.p["turnover_annual"] = 0.0
    model.p["turnover_floor"] = 0.0
    workforce.monthly(model)
    assert len(model.committees[0].staff) == 3


def _community_so(model: CommunityGovernanceModel):
    return next(so for so in with_community_sos(model, 1).sos if so.is_community)


def test_a_contract_pays_staff_only_from_its_staff_line() -> None:
    """成本核算: a budget priced for volunteers' work has no staff line, so its account pays
    no salary (专款专用); a budget priced for paid staff pays the work it needs."""
    model = _model()
    so = _community_so(model)
    so.staff.clear()
    so.cash, so.members = 0.0, 0
    units = 20.0

    def priced(volunteer_run: bool) -> Contract:
        month = costing.unit_price(model.p, 0.8, volunteer_run=volunteer_run) * units
        return Contract("purchase", so.community, so.domain, 12 * month, units,
                        staff_line=costing.staff_line(model.p, month, units))

    so.contracts = [priced(volunteer_run=True)]
    assert so.contracts[0].staff_budget == pytest.approx(0.0, abs=1e-9)
    assert so.contract_work(model.p) > 1 and so.staff_needed(model.p) > 0
    assert so.posts_to_fill(model.p, 0.8) == 0  # volunteers' budget: nothing for a salary
    so.contracts = [priced(volunteer_run=False)]
    assert so.contracts[0].staff_budget > 0
    assert so.posts_to_fill(model.p, 0.8) > 0


def test_an_so_lets_one_go_when_its_reserve_cannot_carry_unpaid_salaries() -> None:
    """A salary its contracts no longer pay runs down the reserve; the SO keeps the
    worker only while the reserve carries that gap for ``reserve_spending_months``."""
    model = _model()
    agency = next(so for so in model.sos if not so.is_community)
    while len(agency.staff) < 2:
        workforce.hire(model, agency, model.streams[workforce.STREAM])
    agency.contracts.append(Contract("purchase", 0, 0, 600_000, 50.0))  # work for both
    agency.salary_gap = 1_000.0
    months = model.p["reserve_spending_months"]
    agency.cash = 1_000.0 * months + 1.0
    agency.posts_to_fill(model.p, 0.8)
    staff = len(agency.staff)
    assert staff >= 2  # the reserve carries it: nobody goes
    agency.cash = 1_000.0 * months - 1.0
    assert agency.posts_to_fill(model.p, 0.8) == 0
    assert len(agency.staff) == staff - 1


def test_the_buyers_set_each_contracts_staff_line_when_they_price_it() -> None:
    """Purchase, the community fund, venture grants and group organisations all price a
    budget's staff line (成本核算), so no priced contract pays salaries from its activity
    money."""
    model = CommunityGovernanceModel("full_linkage", seed=2, **{
        "district.streets": 1, "district.communities_per_street": 3,
        "district.residents_per_community": 1000})
    seen = {}
    for _ in range(36):
        model.step()
        seen.update({id(c): c for so in model.sos for c in so.contracts})
    assert {c.buyer for c in seen.values()} >= {"purchase", "community_fund", "group_org"}
    assert all(c.staff_line is not None and 0.0 <= c.staff_line <= c.monthly_payment
               for c in seen.values())


def test_part_posts_go_to_some_communities_and_keep_the_district_total() -> None:
    rng = np.random.default_rng(5)
    for n in (3, 10, 54):
        order = workforce.station_order(n, rng)
        assert sorted(np.floor(order * n).astype(int)) == list(range(n))  # one a stratum
        for per in (0.0, 0.111, 0.5, 1.0, 2.37):
            posts = workforce.station_posts(per, order)
            assert posts.min() >= int(per) and posts.max() <= int(per) + 1
            assert abs(posts.sum() - per * n) < 1  # the intensity, give or take one post
        # more posts add communities: those with a part post keep it
        assert np.all(workforce.station_posts(0.6, order) >= workforce.station_posts(0.3, order))


def test_posts_scale_with_a_communitys_residents() -> None:
    # stated for the reference community (baseline: 1,000 residents): 300 residents get 0.3
    model = CommunityGovernanceModel("baseline", seed=4, **{
        "district.streets": 1, "district.communities_per_street": 10,
        "district.residents_per_community": 300, "policy.social_work.posts_per_community": 1})
    posts = [c.posts for c in model.committees]
    assert sum(posts) == 3 and set(posts) == {0, 1}
    assert sum(len(c.staff) for c in model.committees) == 3  # hired when built


def test_training_takes_its_share_of_a_workers_service_slots() -> None:
    """继续教育 takes ``sw_training_time`` of a worker's month at full training: an SO's
    output and a station's casework fall by that share × training, and the work its
    contracts take needs that much more staff time; nothing changes at training 0 or with
    no training time."""
    model = _model(**{"policy.social_work.posts_per_community": 1,
                      "district.money_residents_per_community": 0})
    p, v = model.p, model.v
    agency = next(so for so in model.sos if not so.is_community)
    while len(agency.staff) < 2:
        workforce.hire(model, agency, model.streams[workforce.STREAM])
    agency.members = 0  # staff slots only
    agency.contracts.append(Contract("purchase", 0, 0, 600_000, 50.0))
    station = model.committees[0]
    assert station.staff

    def slots(training: float, time: float) -> np.ndarray:
        v["policy.social_work.training"], p["sw_training_time"] = training, time
        casework = sum(row[2] for row in station.offer_services(p, price=1.0)[1:])
        return np.array([agency.output(p), 1.0 / agency.contract_work(p), casework])

    u = p["unskilled_productivity"]
    standard = p["slots_per_sw"] * (1.0 - agency.outreach_share(p)) * sum(
        u + (1.0 - u) * w.skill for w in agency.staff)
    untrained = slots(0.0, 0.036)
    assert untrained[0] == pytest.approx(standard, rel=1e-12)
    assert np.array_equal(slots(1.0, 0.0), untrained)
    assert slots(1.0, 0.036) == pytest.approx(untrained * (1.0 - 0.036), rel=1e-12)
    assert slots(0.5, 0.08) == pytest.approx(untrained * (1.0 - 0.04), rel=1e-12)


def test_training_hours_are_not_outreach_hours() -> None:
    """The station's outreach reaches fewer residents by the same share training takes."""
    model = _model(**{"policy.social_work.posts_per_community": 1,
                      "district.money_residents_per_community": 0})
    p, v = model.p, model.v
    p["outreach_residents_per_sw"] = 10.0  # far from reaching everyone: no cap
    assert model.committees[0].staff

    def reached(training: float) -> float:
        v["policy.social_work.training"] = training
        return float(priorities.reach(model)[0])

    untrained = reached(0.0)
    assert 0 < untrained < 1
    assert reached(1.0) == pytest.approx(untrained * (1.0 - p["sw_training_time"]), rel=1e-12)
