"""Donors' and firms' projects and reach (sanshe/sim/mechanisms/donors.py)."""

from __future__ import annotations

import pytest

from sanshe.sim.mechanisms import donors, finance
from sanshe.sim.model import CommunityGovernanceModel
from tests.helpers import SMALL, with_community_sos


def _district(**overrides: object) -> CommunityGovernanceModel:
    model = with_community_sos(CommunityGovernanceModel("baseline", seed=4, **SMALL,
                                                        **overrides))
    model.run(13)
    return model


def test_the_platform_reaches_donors_as_far_as_residents_use_it() -> None:
    off = _district()
    on = _district(**{"policy.linkage.info_platform": True})
    base = on.p["donor_reach_base"]
    assert donors.donor_reach(off) == base
    online = on.agenda.online.mean()
    assert 0 < online < 1
    assert donors.donor_reach(on) == pytest.approx(base + (1 - base) * online)
    nobody = _district(**{"policy.linkage.info_platform": True,
                          "parameters.online_use_share": 0.0,
                          "parameters.online_use_elderly": 0.0})
    assert donors.donor_reach(nobody) == base


def _projects(model: CommunityGovernanceModel) -> list:
    return [(so, c) for so in model.sos for c in so.contracts if c.buyer == donors.BUYER]


def test_donors_fund_projects_of_able_sos_with_a_record_up_to_the_pool() -> None:
    model = _district(**{"parameters.donor_pool": 60})
    for so in model.sos:
        so.contracts = [c for c in so.contracts if c.buyer != donors.BUYER]
    size = model.p["community_project_size"]
    pool = donors.yearly_pool(model)
    assert pool == pytest.approx(60 * model.pop.size * model.p["donor_reach_base"])
    donors.fund_projects(model)
    funded = _projects(model)
    floor = model.p["small_project_capacity_share"] * model.p["min_bid_capacity"]
    able = [so for so in model.sos if so.capacity >= floor and donors.record(model, so) > 0]
    assert 0 < len(funded) <= len(able)
    assert len({so.unique_id for so, _ in funded}) == len(funded)  # one project an SO
    assert all(so in able and c.value == size and (c.community, c.domain) == (
        so.community, so.domain) for so, c in funded)
    assert len(funded) in (int(pool // size), int(pool // size) + 1) or len(funded) == len(able)
    assert model.donor_left == pytest.approx(max(pool - len(funded) * size, 0.0))


def test_a_record_draws_donors_and_nothing_draws_none() -> None:
    model = _district()
    so = next(so for so in model.sos if so.is_community)
    so.reputation, so.members = 0.5, 10
    model.served_by_so[so.unique_id] = 4.0
    model.p["crowding"] = 0.0
    assert donors.record(model, so) == pytest.approx(0.5 * 14)
    so.members, model.served_by_so[so.unique_id] = 0, 0.0
    assert donors.record(model, so) == 0


def test_what_donor_projects_draw_is_not_government_money() -> None:
    model = _district(**{"parameters.donor_pool": 60})
    donors.fund_projects(model)
    so, contract = _projects(model)[0]
    so.contracts = [contract]
    contract.effort, contract.units_charged = 3.0, 3.0  # work done on it this month
    model.gov_month = model.nongov_month = 0.0
    so.ledger.month = dict.fromkeys(so.ledger.month, 0.0)
    salary = float(model.v["policy.social_work.salary_index"])
    finance.draw_on_contracts(model, [so], salary)
    assert model.gov_month == 0
    assert model.nongov_month > 0
    assert so.ledger.month["donations"] == pytest.approx(model.nongov_month)
