import math

import numpy as np
import pytest

from sanshe import CommunityGovernanceModel
from sanshe.sim.mechanisms import ecology
from sanshe.sim.mechanisms.workforce import exit_probability, fill_probability
from tests.helpers import SMALL, params, with_community_sos


def test_founding_is_an_inverted_u_in_density():
    p = params()
    f = ecology.density_factor(np.array([0.0, 5.0, 80.0]), p)
    assert f[1] > f[0] > f[2]


def test_low_threshold_space_and_outreach_raise_founding():
    p = params()
    zero = np.zeros(1)
    base = ecology.founding_chance(zero, False, zero, zero, p)
    assert ecology.founding_chance(zero, True, zero, zero, p) > base
    assert ecology.founding_chance(zero, False, np.ones(1), zero, p) > base
    assert ecology.founding_chance(zero, False, zero, np.ones(1), p) > base


class Young:
    age, ever_incubated, rating, is_community = 3, False, 0, True
    capacity, reputation, staff = 0.3, 0.3, []
    year_served, year_quality = 0.0, 0.0


def test_legitimacy_protects_young_sos():
    p = params()
    so = Young()
    exposed = ecology.death_chances([so], p)[0]
    so.ever_incubated = True
    assert ecology.death_chances([so], p)[0] < exposed
    so.age = 1000
    assert ecology.death_chances([so], p)[0] == 0.0


def test_rating_rises_with_capacity():
    p = params()
    weak, strong = Young(), Young()
    strong.capacity, strong.reputation, strong.age = 0.9, 0.8, 80
    assert ecology.rate(weak, p) == 0
    assert ecology.rate(strong, p) >= 4


def test_training_grows_capacity():
    p = params()
    capacity = np.full(2, Young().capacity)
    for _ in range(12):  # one SO untrained, one trained
        capacity = ecology.grow_capacity(capacity, np.zeros(2), np.array([0.0, 1.0]), p)
    assert capacity[1] > capacity[0] + 0.1


def test_pay_and_training_keep_social_workers():
    p = params()
    assert exit_probability(p, 0.6, 0.0) > exit_probability(p, 0.8, 0.0) > exit_probability(
        p, 1.2, 0.0)
    assert exit_probability(p, 0.8, 1.0) < exit_probability(p, 0.8, 0.0)
    # the hazard is a rate: a twelfth of it a month, continuously (leavers a year / staff)
    monthly = exit_probability(p, 0.8, 0.0)
    assert abs(-12 * math.log1p(-monthly) - p["turnover_annual"]) < 1e-9
    assert 12 * monthly == pytest.approx(p["turnover_annual"], rel=0.01)
    assert fill_probability(p, 1.2) > fill_probability(p, 0.6)


def test_social_evaluation_follows_what_residents_got():
    """社会评价: an SO no buyer evaluated is known by the service residents received."""
    p = params(reputation_memory=0.5, learning_full_services=10)
    busy, idle = Young(), Young()
    busy.year_served, busy.year_quality = 120.0, 120.0 * 0.8  # full volume at quality 0.8
    ecology.social_evaluation(busy, p)
    ecology.social_evaluation(idle, p)
    assert busy.reputation == pytest.approx(0.5 * 0.3 + 0.5 * 0.8)
    assert idle.reputation == pytest.approx(0.15)


def test_a_closing_so_frees_its_members_and_nobody_elses():
    model = with_community_sos(CommunityGovernanceModel("baseline", seed=3, **SMALL))
    model.run(3)
    community = [so for so in model.sos if so.is_community]
    gone, stays = community[0], community[1]
    ecology.recruit_members(model, gone, 5, np.random.default_rng(0))
    members = np.flatnonzero(model.pop.member_of == gone.unique_id)
    kept = np.flatnonzero(model.pop.member_of == stays.unique_id)
    assert members.size >= 5 and kept.size > 0
    ecology.close(model, gone)
    assert not (model.pop.member_of == gone.unique_id).any()
    assert np.all(model.pop.member_of[members] == -1)
    assert np.all(model.pop.member_of[kept] == stays.unique_id)
    assert gone not in model.sos


def test_agencies_enter_as_the_call_for_bids_opens():
    """Founders register to bid: new agencies appear in the yearly round's month, in time
    for its purchase, and not in the months between calls."""
    model = CommunityGovernanceModel("purchase_only", seed=4, **SMALL,
                                     **{"policy.purchase.annual_budget": 12e6})
    known = {so.unique_id for so in model.sos if not so.is_community}
    entered = set()
    for _ in range(25):
        month = model.month
        model.step()
        new = [so for so in model.sos if not so.is_community and so.unique_id not in known]
        known |= {so.unique_id for so in new}
        if new:
            entered.add(month)
    assert entered and entered <= {0, 12, 24}


def test_work_left_undone_raises_founding_and_none_leaves_it():
    """Community-fund work offered to SOs that nobody took up is a niche: it raises the
    founding chance in proportion, and without it (or with the effect at zero) founding is
    what it was."""
    p = params()
    zero = np.zeros(1)
    base = ecology.founding_chance(zero, False, zero, zero, p)
    assert ecology.founding_chance(zero, False, zero, zero, p, zero) == base
    undone = ecology.founding_chance(zero, False, zero, zero, p, np.array([20.0]))
    assert undone == pytest.approx(base * (1 + 20.0 * p["open_work_founding_effect"]))
    off = params(open_work_founding_effect=0.0)
    assert ecology.founding_chance(zero, False, zero, zero, off, np.array([20.0])) == \
        ecology.founding_chance(zero, False, zero, zero, off)


def test_open_work_is_last_years_offer_less_what_sos_drew_per_resident():
    """Founders see last year's record: a committee whose SOs drew nothing of the fund it
    offered shows all of it undone; one whose SOs drew it all shows none."""
    model = CommunityGovernanceModel("baseline", seed=2, **SMALL)
    first, second = model.committees[:2]
    first.fund_offered, first.fund_drawn = 10_000.0, 0.0
    second.fund_offered, second.fund_drawn = 10_000.0, 10_000.0
    first.fund_offered_last, first.fund_drawn_last = first.fund_offered, first.fund_drawn
    second.fund_offered_last, second.fund_drawn_last = second.fund_offered, second.fund_drawn
    undone = ecology.open_work(model)
    assert undone[0] == pytest.approx(10_000.0 / model.sizes[0])
    assert undone[1] == 0.0


def test_debts_are_judged_on_a_years_costs_not_the_month_after_a_layoff():
    """An SO that has just let its worker go has a volunteer group's costs again; its debts
    are reckoned against the costs it carried over the past year, so the layoff alone
    does not make the debt it is paying off fatal."""
    model = with_community_sos(CommunityGovernanceModel("baseline", seed=4, **SMALL), 1)
    so = next(s for s in model.sos if s.is_community and not s.staff)
    months = model.p["debt_months_to_close"]
    now = so.monthly_costs(model.p, float(model.v["policy.social_work.salary_index"]), 1.0)
    so.cash = -months * now * 10
    so.carried_costs = -1.0  # no history yet: this month's costs are the scale
    assert ecology.broke(model)[model.sos.index(so)]
    so.carried_costs = now * 20  # it carried a worker's salary until last month
    assert not ecology.broke(model)[model.sos.index(so)]
    so.cash = -months * now * 21
    assert ecology.broke(model)[model.sos.index(so)]


def test_carried_costs_follow_a_running_mean_over_cost_memory_months():
    model = with_community_sos(CommunityGovernanceModel("baseline", seed=4, **SMALL), 1)
    model.p["newness_hazard"], model.p["inactive_months_to_close"] = 0.0, 10**6
    ecology.closures(model)
    so = model.sos[0]
    first = so.carried_costs
    assert first > 0  # its first month's costs
    so.carried_costs = first + 120.0
    ecology.closures(model)
    back = 120.0 / model.p["cost_memory_months"]  # a twelfth of the way back, at 12
    assert so.carried_costs == pytest.approx(first + 120.0 - back)
    assert back == pytest.approx(10.0)
