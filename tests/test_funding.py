"""Community service funds and venture philanthropy (sanshe/sim/mechanisms/funding.py)."""

from __future__ import annotations

import numpy as np

from sanshe.sim.mechanisms import funding
from sanshe.sim.model import CommunityGovernanceModel
from tests.helpers import with_community_sos

# Money amounts here are for the tiny district itself (reference 0 = as it stands).
TINY = {"district.streets": 1, "district.communities_per_street": 3,
        "district.residents_per_community": 150, "district.money_communities": 0,
        "district.money_residents_per_community": 0}


def _model(**overrides: object) -> CommunityGovernanceModel:
    """The tiny district with two community SOs in each community (below the status quo's
    seeding per resident, so given here)."""
    return with_community_sos(CommunityGovernanceModel("baseline", seed=4, **TINY, **overrides))


def _fund_contracts(model: CommunityGovernanceModel) -> list:
    return [c for so in model.sos for c in so.contracts if c.buyer == "community_fund"]


def test_the_services_priority_offers_the_whole_fund_to_sos() -> None:
    """社区服务优先考虑社会组织承接: with it, no yuan of the fund stays with the committee
    while local SOs can take projects; without it only the project share goes out."""
    fund = {"policy.community.service_fund": 100_000, "policy.community.project_share": 0.4}
    shared, first = _model(**fund), _model(**fund, **{"policy.four_priorities.services": True})
    for model in (shared, first):
        funding.community_funds(model)
    size = shared.p["community_project_size"]
    assert len(_fund_contracts(shared)) == 3 * int(40_000 // size)
    assert len(_fund_contracts(first)) == 3 * int(100_000 // size)
    assert all(c.admin_budget == 0.0 for c in first.committees)
    assert all(c.admin_budget == (100_000 - 40_000) / 12 for c in shared.committees)


def test_a_fund_under_half_a_project_buys_one_small_project() -> None:
    """A small community's share of money still reaches its SOs (money per resident means
    the same at any size): one project of the whole 9,000 yuan."""
    model = _model(**{"policy.community.service_fund": 9_000,
                      "policy.four_priorities.services": True})
    funding.community_funds(model)
    assert sorted(c.value for c in _fund_contracts(model)) == [9_000.0] * 3
    assert all(c.admin_budget == 0.0 for c in model.committees)


def test_projects_take_the_whole_money_in_about_the_usual_size() -> None:
    """33,000 yuan with a project size of 20,000 makes two projects of 16,500 (as lots
    split a purchase budget), not one project and 13,000 left over."""
    model = _model(**{"policy.community.service_fund": 33_000,
                      "policy.four_priorities.services": True})
    funding.community_funds(model)
    assert sorted({c.value for c in _fund_contracts(model)}) == [16_500.0]
    assert len(_fund_contracts(model)) == 2 * 3
    assert all(c.admin_budget == 0.0 for c in model.committees)


def _grants(model: CommunityGovernanceModel) -> list:
    return [c for so in model.sos for c in so.contracts if c.buyer == "venture"]


def test_venture_grants_go_to_the_best_proposals_up_to_the_budget() -> None:
    """More proposals than grants: the budget binds, one grant per grant size, to the
    most capable young or small SOs (jury noise off)."""
    model = _model(**{"policy.purchase.venture_philanthropy_budget": 350_000,
                      "parameters.venture_selection_noise": 0.0})
    for rank, so in enumerate(model.sos):
        so.capacity, so.age = 0.2 + 0.01 * rank, 0
    funding.venture_philanthropy(model)
    grants = _grants(model)
    assert len(grants) in (3, 4)  # 350,000 // 100,000, and a fourth at chance 0.5
    assert {c.value for c in grants} == {model.p["venture_grant"]}
    (programme, _, applicants, places), = model.bureau.rounds
    assert programme == "venture" and places == len(grants) and applicants > places
    best = sorted(model.sos, key=lambda so: -so.capacity)[:places]
    assert all(so.contracts and so.contracts[0].buyer == "venture" for so in best)


def test_venture_money_nobody_applies_for_stays_unspent() -> None:
    """No proposal (no SO able to run a project that is young or small, no would-be
    founder): no grant, no SO founded."""
    model = _model(**{"policy.purchase.venture_philanthropy_budget": 1_000_000})
    model.pop.volunteer[:] = False
    model.pop.deliberating[:] = False
    model.pop.member_of[model.pop.leader] = -1
    for so in model.sos:
        so.capacity = 0.01  # too weak to propose a project
    count = len(model.sos)
    funding.venture_philanthropy(model)
    assert _grants(model) == [] and len(model.sos) == count
    assert model.bureau.rounds[0][2:] == (0, 10)


def test_a_pool_worth_part_of_a_grant_pays_one_at_that_chance() -> None:
    """A small district's 30,000 yuan pays a 100,000 grant in about 3 years of 10."""
    rng = np.random.default_rng(0)
    counts = [funding.whole_projects(30_000, 100_000, rng) for _ in range(4000)]
    assert set(counts) == {0, 1}
    assert abs(np.mean(counts) - 0.3) < 0.03
    assert funding.whole_projects(0, 100_000, rng) == 0
    assert funding.whole_projects(200_000, 100_000, rng) == 2


def test_funding_draws_only_from_its_own_stream() -> None:
    model = _model(**{"policy.community.service_fund": 100_000,
                      "policy.purchase.venture_philanthropy_budget": 300_000})
    before = {k: g.bit_generator.state for k, g in model.streams.items()}
    funding.community_funds(model)
    funding.venture_philanthropy(model)
    moved = {k for k, g in model.streams.items() if g.bit_generator.state != before[k]}
    assert moved == {funding.STREAM}


def test_committees_record_the_fund_offered_and_what_sos_drew_on_it() -> None:
    """What founders read (ecology.open_work): each committee's offer to SOs this year and
    the yuan its SOs drew on their community-fund contracts, kept for a year; the draws
    never exceed the offer, and every yuan drawn is government spending."""
    model = _model(**{"policy.community.service_fund": 33_000,
                      "policy.four_priorities.services": True})
    model.run(12)
    assert all(c.fund_offered == 33_000 for c in model.committees)
    drawn = [c.fund_drawn for c in model.committees]
    assert sum(drawn) > 0
    assert all(d <= 33_000 for d in drawn)
    model.run(1)  # the new year's round moves the record to last year
    assert [c.fund_drawn_last for c in model.committees] == drawn
    assert all(c.fund_offered_last == 33_000 for c in model.committees)
