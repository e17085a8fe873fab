"""The four priorities' effects (sanshe/sim/mechanisms/priorities.py)."""

from __future__ import annotations

import numpy as np

from sanshe.sim.agents.social_org import Contract, Lot
from sanshe.sim.mechanisms import priorities
from sanshe.sim.model import CommunityGovernanceModel
from tests.helpers import with_community_sos

TINY = {"district.streets": 1, "district.communities_per_street": 3,
        "district.residents_per_community": 150}


def _model(**overrides: object) -> CommunityGovernanceModel:
    return with_community_sos(CommunityGovernanceModel("baseline", seed=5, **TINY, **overrides))


def _roomy(model: CommunityGovernanceModel) -> CommunityGovernanceModel:
    """``model`` with rooms enough for every SO's claim (10 m2 a resident)."""
    model.p["office_space_per_resident"] = 10.0
    return model


def test_the_resources_priority_hands_over_the_space_set_aside() -> None:
    space = {"policy.community.space_share_for_sos": 0.5}
    without = _roomy(_model(**space))
    with_ = _roomy(_model(**space, **{"policy.four_priorities.resources": True}))
    assert np.allclose(priorities.free_space(with_), 0.5)
    assert np.allclose(priorities.free_space(without), 0.5 * without.p["space_without_priority"])
    assert (priorities.venue(with_) > priorities.venue(without)).all()


def test_crowded_rooms_are_shared_pro_rata() -> None:
    model = _model(**{"policy.community.space_share_for_sos": 0.5,
                      "policy.four_priorities.resources": True})
    claims, room = priorities.space_claims(model), priorities.space_room(model)
    counts = np.bincount([so.community for so in model.sos if so.is_community], minlength=3)
    assert np.allclose(claims, counts * model.p["community_so_space"])  # no landing
    assert np.allclose(room, model.p["office_space_per_resident"] * 150 * 0.5)
    assert (claims > room).all()  # 150 residents cannot house two SOs or more
    assert np.allclose(priorities.free_space(model), 0.5 * room / claims)
    assert np.allclose(priorities.space_for_founders(model), 0.0)  # nothing left
    assert priorities.space_crowded(model).all()
    model.step()  # the diagnostic outcome reports where the rooms were crowded
    assert model.current["space_bound_share"] == priorities.space_crowded(model).mean()
    model.v["policy.community.space_share_for_sos"] = 0.0  # no room given: the lever limits
    assert not priorities.space_crowded(model).any()


def test_founders_see_only_the_space_the_sos_leave() -> None:
    model = _model(**{"policy.community.space_share_for_sos": 0.5,
                      "policy.four_priorities.resources": True})
    per_community = priorities.space_claims(model)
    model.p["office_space_per_resident"] = (per_community.max() + 5.0) / 75.0  # 5 m2 left
    left = priorities.space_room(model) - per_community
    expected = 0.5 * np.minimum(left / model.p["community_so_space"], 1.0)
    assert np.allclose(priorities.space_for_founders(model), expected)
    assert (priorities.space_for_founders(model) < priorities.free_space(model)).any()


def test_incubated_sos_claim_no_community_room() -> None:
    model = _model(**{"policy.community.space_share_for_sos": 0.5})
    before = priorities.space_claims(model)
    so = next(so for so in model.sos if so.is_community)
    so.incubated_months = 3
    after = priorities.space_claims(model)
    assert after[so.community] == before[so.community] - model.p["community_so_space"]


def test_landing_lets_agencies_use_community_space() -> None:
    space = {"policy.community.space_share_for_sos": 0.5}
    plain = _roomy(_model(**space))
    landed = _roomy(_model(**space, **{"policy.four_priorities.landing": True}))
    agency = next(so for so in plain.sos if not so.is_community)
    assert priorities.rent_factors(plain, [agency]) == [1.0]
    agency = next(so for so in landed.sos if not so.is_community)
    assert priorities.rent_factors(landed, [agency])[0] < 1.0
    # the agency's office takes room that the community SOs there would use
    extra = priorities.space_claims(landed) - priorities.space_claims(plain)
    assert extra[agency.community] >= landed.p["agency_space"]


def test_the_projects_priority_shares_an_agency_lot_with_a_local_community_so() -> None:
    plain, projects = _model(), _model(**{"policy.four_priorities.projects": True})
    for model in (plain, projects):
        for so in model.sos:
            so.capacity = 0.5
    agency = next(so for so in projects.sos if not so.is_community)
    lot = Lot(community=0, domain=0, value=100_000)
    parts = priorities.project_partners(projects, agency, lot)
    assert [so.is_community for so, _ in parts] == [False, True]
    assert parts[1][0].community == 0
    assert sum(part.value for _, part in parts) == 100_000
    assert parts[1][1].value == 100_000 * projects.p["project_partner_share"]
    alone = next(so for so in plain.sos if not so.is_community)
    assert priorities.project_partners(plain, alone, lot) == [(alone, lot)]


def test_landing_outreach_takes_staff_time_from_services() -> None:
    """社会组织优先落地社区: a landed agency's social workers reach residents where it holds
    contracts, and those hours are not service hours; it wants more staff to do both."""
    plain, landed = _model(), _model(**{"policy.four_priorities.landing": True})
    reach, delivered, wanted = [], [], []
    for model in (plain, landed):
        agency = next(so for so in model.sos if not so.is_community)
        agency.contracts = [Contract("purchase", c, 0, 300_000, 40.0) for c in (0, 1)]
        reach.append(priorities.outreach(model)[:2])
        delivered.append(agency.output(model.p))
        wanted.append(agency.staff_needed(model.p))
    share = landed.p["landing_outreach_share"]
    assert (reach[1] > reach[0]).all()
    assert np.isclose(delivered[1], delivered[0] * (1 - share))
    assert wanted[1] > wanted[0]


def test_an_agency_without_contracts_does_no_landing_outreach() -> None:
    model = _model(**{"policy.four_priorities.landing": True})
    agency = next(so for so in model.sos if not so.is_community)
    agency.contracts = []
    assert agency.outreach_share(model.p) == 0.0
    community_so = next(so for so in model.sos if so.is_community)
    community_so.contracts = [Contract("community_fund", 0, 0, 20_000, 2.0)]
    assert community_so.outreach_share(model.p) == 0.0


def test_landed_sos_are_seen_only_through_activities_their_spare_time_pays_for() -> None:
    """社会组织优先落地社区开展活动: without the priority nobody sees SOs' activities; with it,
    visibility follows the time SOs had left last month, per resident, and is nil where
    they had none."""
    plain, landed = _model(), _model(**{"policy.four_priorities.landing": True})
    reach = landed.p["landing_activity_reach"]
    for model in (plain, landed):
        model.so_time_left = np.array([0.0, 2.0, 8.0])
    assert not priorities.landing_presence(plain).any()
    seen = priorities.landing_presence(landed)
    assert seen[0] == 0 and 0 < seen[1] < seen[2] < 1
    assert np.allclose(seen, 1 - np.exp(-reach * landed.so_time_left / landed.sizes))


def test_the_time_left_for_activities_is_what_the_month_and_its_affairs_left() -> None:
    """After a month, ``so_time_left`` is the SOs' unused slots less what the matters they
    settled took (affair_so_slots each): never negative, never more than they left unused."""
    from unittest import mock

    from sanshe.sim.mechanisms import affairs

    seen: dict[str, object] = {}

    def recording(*args):
        seen["settled"] = affairs_monthly(*args)
        return seen["settled"]

    affairs_monthly = affairs.monthly
    model = _model(**{"policy.four_priorities.landing": True})
    model.run(5)
    with mock.patch.object(affairs, "monthly", recording):
        model.step()
    unused = model.delivery_this_month.so_spare.sum(axis=1)
    used = seen["settled"].so_service * model.p["affair_so_slots"]
    assert unused.sum() > 0 and (model.so_time_left >= 0).all()
    assert np.allclose(model.so_time_left, np.maximum(unused - used, 0.0))
