import numpy as np
import pytest

from sanshe.sim.agents.social_org import COMMUNITY, PROFESSIONAL, Contract
from sanshe.sim.mechanisms import procurement
from tests.helpers import params


class FakeSO:
    """Just the attributes procurement reads."""

    def __init__(self, uid, ties=0.0, reputation=0.5, kind=PROFESSIONAL, domain=0,
                 community=0, capacity=0.5, load=0.0):
        self.unique_id, self.ties, self.reputation = uid, ties, reputation
        self.kind, self.domain, self.community, self.capacity = kind, domain, community, capacity
        self._load = load
        self.contracts = []
        self.orientation = 0.6
        self.responsiveness = 0.0

    @property
    def is_community(self):
        return self.kind == COMMUNITY

    def load(self, p):
        return self._load


def test_lots_spend_the_budget_where_the_weights_are():
    weights = np.zeros((2, 6))
    weights[1, 3] = 3.0
    weights[0, 0] = 1.0
    lots = procurement.make_lots(weights, 1_000_000, 100_000)
    assert len(lots) == 10
    assert sum(lot.value for lot in lots) == pytest.approx(1_000_000)
    assert sum(1 for lot in lots if (lot.community, lot.domain) == (1, 3)) in (7, 8)


def test_directed_purchase_follows_ties_and_competition_follows_reputation():
    p = params(award_noise=0.0, bid_probability=1.0, incumbency_weight=0.0)
    crony = FakeSO(1, ties=1.0, reputation=0.2)
    expert = FakeSO(2, ties=0.0, reputation=0.9)
    lot = procurement.Lot(0, 0, 100_000)
    rng = np.random.default_rng(0)
    assert procurement.award(lot, [crony, expert], True, set(), p, rng) is crony
    assert procurement.award(lot, [crony, expert], False, set(), p, rng) is expert


def test_competitive_bidding_skips_overloaded_sos_but_direction_does_not():
    p = params(award_noise=0.0, bid_probability=1.0)
    busy = FakeSO(1, ties=1.0, reputation=0.9, load=10.0)
    lot = procurement.Lot(0, 0, 100_000)
    rng = np.random.default_rng(0)
    assert procurement.award(lot, [busy], False, set(), p, rng) is None
    assert procurement.award(lot, [busy], True, set(), p, rng) is busy


def test_community_sos_bid_only_at_home_and_in_their_domain():
    so = FakeSO(1, kind=COMMUNITY, domain=2, community=3, capacity=0.5)
    assert procurement.eligible(so, procurement.Lot(3, 2, 1), 0.2)
    assert not procurement.eligible(so, procurement.Lot(4, 2, 1), 0.2)
    assert not procurement.eligible(so, procurement.Lot(3, 1, 1), 0.2)
    assert not procurement.eligible(so, procurement.Lot(3, 2, 1), 0.6)


def _delivered(served, showcase, spec=None):
    contract = Contract("purchase", 0, 0, 120_000, slots=10.0)
    contract.served, contract.showcase, contract.quality_sum = served, showcase, served * 0.6
    contract.served_spec = served if spec is None else spec
    return contract


def test_self_evaluation_rewards_showcase_and_third_party_does_not():
    p = params(self_eval_noise=0.0, third_eval_noise=0.0)
    rng = np.random.default_rng(0)
    scores = {}
    for third in (False, True):
        real, show = FakeSO(1), FakeSO(2)
        scores[third] = (procurement.evaluate(real, _delivered(100, 0), third, 0.0, p, rng),
                         procurement.evaluate(show, _delivered(20, 100), third, 0.0, p, rng))
    assert scores[False][1] >= scores[False][0]  # the buyer's own report flatters showcase
    assert scores[True][0] > scores[True][1] + 0.2  # a third party sees through it


def test_sos_adapt_towards_what_evaluation_rewards():
    p = params()
    rng = np.random.default_rng(0)
    self_eval, third = FakeSO(1), FakeSO(2)
    for _ in range(5):
        procurement.evaluate(self_eval, _delivered(60, 40), False, 0.0, p, rng)
        procurement.evaluate(third, _delivered(60, 40), True, 0.0, p, rng)
    assert self_eval.orientation < 0.5 < 0.8 < third.orientation


def test_satisfaction_weight_makes_sos_steer_service_to_residents_requests():
    """向下负责 (seed 002): only the part of the score residents decide rewards needs met
    outside the contracted domain, so only then do SOs become responsive."""
    p = params(orientation_adaptation=1.0, contract_flexibility=0.5)
    rng = np.random.default_rng(0)
    audited, accountable = FakeSO(1), FakeSO(2)
    procurement.evaluate(audited, _delivered(60, 0), True, 0.0, p, rng)
    procurement.evaluate(accountable, _delivered(60, 0), True, 0.8, p, rng)
    assert audited.responsiveness == 0.0
    assert accountable.responsiveness == pytest.approx(0.4)


def test_audits_count_only_deliverables_in_the_contracted_domain():
    p = params(third_eval_noise=0.0)
    rng = np.random.default_rng(0)
    on_spec = procurement.evaluate(FakeSO(1), _delivered(100, 0), True, 0.0, p, rng)
    off_spec = procurement.evaluate(FakeSO(2), _delivered(100, 0, spec=40), True, 0.0, p, rng)
    by_residents = procurement.evaluate(FakeSO(3), _delivered(100, 0, spec=40), True, 1.0, p,
                                        rng)
    assert off_spec < on_spec
    assert by_residents == pytest.approx(100 / 120 * 0.6)  # residents count every need met


def test_responsive_service_follows_the_communitys_expressed_needs():
    expressed = np.array([0.0, 0.0, 6.0, 0.0, 2.0, 0.0])
    split = procurement.responsive_split(10.0, 0, expressed, 0.5)
    assert sum(split.values()) == pytest.approx(10.0)
    assert split == pytest.approx({0: 5.0, 2: 3.75, 4: 1.25})
    assert procurement.responsive_split(10.0, 1, np.zeros(6), 0.5) == {1: 10.0}
    assert procurement.responsive_split(10.0, 1, expressed, 0.0) == {1: 10.0}


def test_government_tasks_take_part_of_a_contracts_money():
    """政府主导型 (seed 004): part of the money buys the buyer's own tasks and events."""
    p = params(unit_cost=1000)
    lot = procurement.Lot(0, 0, 120_000)
    plain = procurement.sign(FakeSO(1), lot, "purchase", p)
    tasked = procurement.sign(FakeSO(2), lot, "purchase", p, task_share=0.3)
    assert plain.slots == pytest.approx(10.0) and tasked.slots == pytest.approx(7.0)
    assert tasked.value == plain.value  # the SO is paid the same


def test_needs_list_follows_residents_only_when_demand_driven():
    demand = np.zeros((1, 6))
    demand[0, 0] = 10.0  # all needs in elder care
    p = params()
    driven = procurement.needs_list("demand_driven", demand, demand, False, p)
    led = procurement.needs_list("government_led", demand, demand, False, p)
    assert driven[0, 0] == pytest.approx(1.0)
    assert led[0, 0] < 0.5
    assert procurement.needs_list("government_led", demand, demand, True, p)[0, 0] > led[0, 0]


def test_hhi():
    assert procurement.hhi({1: 1.0}) == 1.0
    assert procurement.hhi({1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0}) == pytest.approx(0.25)
    assert procurement.hhi({}) == 0.0
