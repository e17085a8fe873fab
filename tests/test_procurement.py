import numpy as np
import pytest

from sanshe.sim.agents.social_org import (
    COMMUNITY,
    PROFESSIONAL,
    Contract,
    Lot,
    SocialOrganization,
)
from sanshe.sim.mechanisms import ecology, procurement
from sanshe.sim.mechanisms.services import Offers
from sanshe.sim.model import CommunityGovernanceModel
from sanshe.sim.so_directory import SODirectory
from tests.helpers import SMALL, params


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


def test_every_unit_a_lot_buys_costs_the_same_whatever_it_is():
    """No share of a contract vanishes: officials' deliverables are paid, priced and
    contracted like services (only what they do for residents differs)."""
    p = params()
    plain = procurement.sign(FakeSO(1), procurement.Lot(0, 0, 120_000), "purchase", p, 1000.0)
    report = procurement.sign(FakeSO(2), procurement.Lot(0, 0, 120_000, "report"), "purchase",
                              p, 1000.0)
    assert plain.slots == report.slots == pytest.approx(10.0)
    assert (plain.kind, report.kind) == ("service", "report")


def test_officials_priorities_are_drawn_each_year_around_their_means():
    rng = np.random.default_rng(1)
    mean = np.array([0.5, 0.3, 0.2, 0.0])
    tight = np.array([procurement.draw_priorities(mean, 1000.0, rng) for _ in range(200)])
    loose = np.array([procurement.draw_priorities(mean, 2.0, rng) for _ in range(200)])
    assert np.allclose(tight.sum(axis=1), 1.0) and np.allclose(loose.sum(axis=1), 1.0)
    assert (tight[:, 3] == 0).all() and (loose[:, 3] == 0).all()  # no weight, no lots
    assert np.allclose(tight.mean(axis=0), mean, atol=0.01)
    assert np.allclose(loose.mean(axis=0), mean, atol=0.06)
    assert loose.std(axis=0)[0] > 5 * tight.std(axis=0)[0]  # the year's 中心工作 swings


def _kinds(**changes):
    p = params(**changes)
    demand = np.full((2, 6), 10.0)
    rng = np.random.default_rng(3)
    lots = [lot for _ in range(20)
            for lot in procurement.officials_lots(demand, 3_000_000, False, p, rng)]
    kinds = [lot.kind for lot in lots]
    return {k: kinds.count(k) / len(kinds) for k in ("service",) + procurement.DELIVERABLES}


def test_officials_lots_buy_their_deliverables_from_their_priorities():
    """政府主导型 (seed 004): a lot comes from residents' needs (a service) as far as
    officials take needs into their list; the rest buy officials' deliverables in the
    proportions of their priorities."""
    none = _kinds(gov_led_needs_weight=0.0, official_priority_concentration=1000.0)
    assert none["service"] == 0.0
    assert none["event"] == pytest.approx(0.5, abs=0.06)
    assert none["report"] == pytest.approx(0.15, abs=0.05)
    assert _kinds(gov_led_needs_weight=1.0)["service"] == 1.0
    half = _kinds(gov_led_needs_weight=0.5, official_priority_concentration=1000.0)
    assert half["service"] == pytest.approx(0.5, abs=0.07)
    events_only = _kinds(gov_led_needs_weight=0.0, official_deliverable_campaign=0.0,
                         official_deliverable_report=0.0, official_deliverable_inspection=0.0)
    assert events_only["event"] == 1.0


def test_officials_place_their_lots_by_their_domain_priorities():
    p = params(gov_led_needs_weight=0.0, official_priority_concentration=1000.0)
    demand = np.zeros((1, 6))
    demand[0, 0] = 10.0  # residents need only elder care
    lots = procurement.officials_lots(demand, 3_000_000, False, p, np.random.default_rng(0))
    elder = sum(lot.domain == 0 for lot in lots) / len(lots)
    assert elder == pytest.approx(p["official_priority_elder_care"]
                                  / procurement.official_priorities(p).sum(), abs=0.1)


def _offering_so(kind, orientation=1.0):
    model = CommunityGovernanceModel("baseline", seed=5, **{
        "district.streets": 1, "district.communities_per_street": 2,
        "district.residents_per_community": 100})
    so = SocialOrganization(model, PROFESSIONAL, 0, 0, 0.8, 0.0, 0.0)
    so.members, so.orientation, so.responsiveness = 40, orientation, 1.0
    so.contracts = [Contract("purchase", 1, 2, 120_000, slots=5.0, kind=kind)]
    offers, expressed = Offers(), np.zeros((2, 6))
    expressed[1, 4] = 9.0  # residents ask for something else
    so.offer_services(offers, expressed, model.p)
    return so, offers


def test_administrative_deliverables_take_effort_and_meet_no_need():
    so, offers = _offering_so("report")
    contract = so.contracts[0]
    assert contract.deliverables == pytest.approx(5.0)  # produced in full ...
    assert all(prov[1] is not contract for prov in offers.provider)  # ... offered to nobody
    service_so, _ = _offering_so("service")
    assert so.staff_needed(so.model.p) == service_so.staff_needed(so.model.p)


def test_officials_events_meet_needs_only_in_their_own_cell():
    """An elder-care event meets an elder's need there; it cannot be steered to what
    residents ask, unlike a responsive service."""
    _, event = _offering_so("event")
    _, service = _offering_so("service")
    assert set(zip(event.community, event.domain, strict=True)) == {(1, 2)}
    assert (1, 4) in set(zip(service.community, service.domain, strict=True))


def test_audits_count_officials_deliverables_residents_do_not():
    p = params(third_eval_noise=0.0)
    rng = np.random.default_rng(0)
    report = Contract("purchase", 0, 0, 120_000, slots=10.0, kind="report")
    report.deliverables, report.quality_sum = 120.0, 120 * 0.6
    audited = procurement.evaluate(FakeSO(1), report, True, 0.0, p, rng)
    report.evaluated = False
    by_residents = procurement.evaluate(FakeSO(2), report, True, 1.0, p, rng)
    w = p["eval_output_weight"]
    assert audited == pytest.approx(w * 1.0 + (1 - w) * 0.6)
    assert by_residents == 0.0


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


def test_bidders_index_lists_the_eligible_sos_in_model_order():
    model = CommunityGovernanceModel("full_linkage", seed=4, **SMALL)
    model.run(13)
    rng = np.random.default_rng(0)
    for c in (1, 3):  # agencies between the community SOs in model.sos
        ecology.found(model, PROFESSIONAL, 2, c, rng, ties=0.1)
        ecology.found(model, COMMUNITY, 2, c, rng, ties=0.1)
    for floor in (0.0, model.p["min_bid_capacity"]):
        bidders = SODirectory(model.sos, floor)
        for c in range(len(model.committees)):
            for d in range(6):
                lot = Lot(c, d, 1000.0)
                expected = [so for so in model.sos if procurement.eligible(so, lot, floor)]
                assert bidders.serving(c, d, any_domain=True) == expected
                if floor == 0.0:  # a group organisation's project: agencies of its domain
                    in_domain = [so for so in expected if so.domain == d]
                    assert SODirectory(model.sos).serving(c, d) == in_domain
    everyone = SODirectory(model.sos, 0.0)
    assert everyone.local and everyone.agencies  # both kinds of bidder were merged


def test_a_third_party_evaluator_is_paid_from_the_purchase_budget():
    """第三方评估 is not free: with it the year's lots share the budget less the
    evaluator's fee, which is spent through the year as government spending; without it
    the whole budget goes to lots."""
    from unittest import mock

    from sanshe.sim.mechanisms import finance, group_orgs

    def year(third):
        model = CommunityGovernanceModel(
            "baseline", seed=3, **SMALL, **{"policy.purchase.annual_budget": 600_000,
                                            "policy.purchase.third_party_evaluation": third})
        with mock.patch.object(procurement, "make_lots", wraps=procurement.make_lots) as lots:
            procurement.procure(model)
        return model, lots.call_args.args[1]

    self_evaluated, whole = year(False)
    evaluated, left = year(True)
    fee = evaluated.p["third_eval_cost_share"] * evaluated.bureau.purchase_budget
    assert self_evaluated.bureau.evaluation_fee == 0 and whole == evaluated.bureau.purchase_budget
    assert np.isclose(evaluated.bureau.evaluation_fee, fee) and np.isclose(left, whole - fee)
    spent = []
    for model in (self_evaluated, evaluated):
        model.gov_month = 0.0
        with mock.patch.object(group_orgs, "pay_own_projects"):
            finance.public_spending(model)
        spent.append(model.gov_month)
    assert np.isclose(spent[1] - spent[0], fee / 12)
