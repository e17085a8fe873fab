"""Cost accounting (成本核算): the price of purchased units and whether a lot pays its way."""

import numpy as np
import pytest

from sanshe.sim.agents.social_org import PROFESSIONAL, Contract, Lot, SocialOrganization
from sanshe.sim.mechanisms import costing, finance, procurement
from sanshe.sim.model import CommunityGovernanceModel
from tests.helpers import params, with_community_sos

TINY = {"district.streets": 1, "district.communities_per_street": 2,
        "district.residents_per_community": 100}


class Bidder:
    """Just what the bid rule reads of an SO."""

    def __init__(self, uid=1, orientation=0.6, output=0.0, contracted=0.0, community=False):
        self.unique_id, self.orientation, self.is_community = uid, orientation, community
        self._output, self._contracted = output, contracted
        self.ties, self.reputation, self.contracts = 0.0, 0.5, []

    def output(self, p):
        return self._output

    def contracted(self):
        return self._contracted

    def load(self, p):
        return 0.0

    effort_per_unit = SocialOrganization.effort_per_unit  # the SO's own rule


def test_a_unit_is_priced_at_the_staff_time_activity_and_fee_it_costs():
    p = params()
    # real casework: 1.5 of a worker's 12 units at 6,000 yuan = 750; materials a quarter
    # of the direct cost = 250; the 10% management fee on both
    assert costing.staff_cost(p, 1.0, p["real_service_cost"]) == pytest.approx(750.0)
    assert costing.activity_cost(p) == pytest.approx(250.0)
    assert costing.unit_price(p, 1.0) == pytest.approx(1100.0)


def test_the_price_follows_the_wage_and_pay_level_and_the_units_follow_the_price():
    p = params()
    dear = params(local_wage=2 * p["local_wage"])
    assert costing.unit_price(dear, 1.0) == pytest.approx(2 * costing.unit_price(p, 1.0))
    # the SO pay level raises the staff part only: materials cost what they cost
    higher = costing.unit_price(p, 1.5) - costing.unit_price(p, 1.0)
    assert higher == pytest.approx(0.5 * 750.0 * 1.1)
    assert costing.units_bought(132_000, costing.unit_price(p, 1.0)) == pytest.approx(10.0)
    # no free constant: the old unit_cost no longer sets what a contract buys
    assert costing.unit_price(params(unit_cost=500), 1.0) == costing.unit_price(p, 1.0)


def test_volunteers_units_are_priced_without_a_staff_line():
    """A volunteer-run community SO's budget counts the activities and the fee only: the
    same money buys it four times the units of paid real casework (275 against 1,100)."""
    p = params()
    assert costing.unit_price(p, 1.0, volunteer_run=True) == pytest.approx(275.0)
    model = with_community_sos(CommunityGovernanceModel("full_linkage", seed=3, **TINY))
    so = next(s for s in model.sos if s.is_community)
    so.staff = []
    assert costing.volunteer_run(so)
    assert costing.price_for(model, so) == pytest.approx(275.0)
    so.staff = [object()]  # a community SO that employs a social worker is priced as staff
    assert costing.price_for(model, so) == pytest.approx(costing.price(model))
    agency = SocialOrganization(model, PROFESSIONAL, 0, 0, 0.8, 0.0, 0.0)
    assert not agency.staff and costing.price_for(model, agency) == costing.price(model)


def test_a_volunteer_run_so_reckons_no_staff_time_when_it_bids():
    p = params()
    volunteers = Bidder(community=True, output=5.0)
    volunteers.staff = []
    lot = Lot(0, 0, 20_000)
    cheap = costing.unit_price(p, 1.0, volunteer_run=True)
    # 50 yuan of running costs over five units: 10 a unit, inside the 25 yuan fee
    assert costing.pays_its_way(volunteers, lot, cheap, p, 1.0, 50.0)
    # running costs of 300 a month over five units: 60 a unit, more than the fee pays
    assert not costing.pays_its_way(volunteers, lot, cheap, p, 1.0, 300.0)


def test_a_contract_pays_the_real_casework_it_buys_at_cost():
    """The price is what the contract's account charges for a unit of real casework by a
    fully skilled social worker: such a contract's draws equal its monthly payment."""
    p = params()
    units = p["slots_per_sw"] / p["real_service_cost"]  # one worker's month of casework
    bill = np.array([p["local_wage"]])  # one worker at pay level 1
    charge = finance.charges(bill, np.array([1.0]), np.array([units]), p)
    price = costing.unit_price(p, 1.0)
    contract = Contract("purchase", 0, 0, 12 * units * price, slots=units)
    assert costing.units_bought(contract.value, price) == pytest.approx(units)
    assert charge.total[0] == pytest.approx(contract.monthly_payment)


def test_signed_contracts_buy_what_the_district_price_buys():
    model = CommunityGovernanceModel("purchase_only", seed=3, **TINY)
    so = SocialOrganization(model, PROFESSIONAL, 0, 0, 0.8, 0.0, 0.0)
    salary = float(model.v["policy.social_work.salary_index"])
    price = costing.unit_price(model.p, salary)
    assert costing.price(model) == price
    contract = procurement.sign(so, Lot(0, 0, 12_000 * price), "purchase", model.p, price)
    assert contract.slots == pytest.approx(1000.0)


def test_an_agency_bids_only_when_the_price_pays_its_way():
    p = params()
    lot, price = Lot(0, 0, 100_000), costing.unit_price(p, 1.0)
    agency = Bidder()
    # staff 650 a unit at orientation 0.6 + materials 250 + rent 3,000 over five workers'
    # 60 units = 950 < 1,100
    assert costing.own_unit_cost(agency, p, 1.0, 3000.0, 7.6) == pytest.approx(950.0)
    assert costing.pays_its_way(agency, lot, price, p, 1.0, 3000.0)
    # an office for two at 8,000 yuan: 650 + 250 + 333 > 1,100
    small = params(agency_office_staff=2)
    assert not costing.pays_its_way(agency, lot, price, small, 1.0, 8000.0)
    # free space (rent 0) or more work to share the rent over makes it pay again
    assert costing.pays_its_way(agency, lot, price, small, 1.0, 0.0)
    assert costing.pays_its_way(Bidder(contracted=60.0), lot, price, small, 1.0, 8000.0)
    # real casework costs more staff time than showcase work: the same rent, no bid
    assert not costing.pays_its_way(Bidder(orientation=1.0), lot, price,
                                    params(agency_office_staff=2), 1.0, 4000.0)
    assert costing.pays_its_way(Bidder(orientation=0.0), lot, price,
                                params(agency_office_staff=2), 1.0, 4000.0)


def test_competitive_award_skips_sos_the_price_does_not_pay_but_entrusting_does_not():
    p = params(award_noise=0.0, bid_probability=1.0, incumbency_weight=0.0)
    losing, paying = Bidder(1), Bidder(2)
    losing.reputation, losing.ties = 0.9, 1.0
    lot = Lot(0, 0, 100_000)

    def pays(so, lot):
        return so is paying
    rng = np.random.default_rng(0)
    assert procurement.award(lot, [losing, paying], False, set(), p, rng, pays) is paying
    assert procurement.award(lot, [losing], False, set(), p, rng, pays) is None
    assert procurement.award(lot, [losing, paying], True, set(), p, rng, pays) is losing


def test_the_model_bid_rule_counts_the_agencys_rent_and_free_space():
    model = CommunityGovernanceModel("purchase_only", seed=3, **TINY)
    agency = SocialOrganization(model, PROFESSIONAL, 0, 0, 0.8, 0.0, 0.0)
    model.sos.append(agency)
    lot = Lot(0, 0, 100_000)
    assert procurement.bid_rule(model)(agency, lot)
    model.p["rent_per_month"] = 20_000.0  # 333 a unit over five workers' caseload
    assert not procurement.bid_rule(model)(agency, lot)
    agency.incubated_months = 3  # an incubated agency pays no rent
    assert procurement.bid_rule(model)(agency, lot)


def test_a_contract_of_the_old_kind_would_underpay_real_casework():
    """Before cost accounting a unit was priced at ``unit_cost`` (1,000 yuan): below the
    1,100 the account charges for real casework, so the SO carried the shortfall."""
    p = params()
    assert p["unit_cost"] < costing.unit_price(p, 1.0)
    contract = Contract("purchase", 0, 0, 132_000, slots=costing.units_bought(132_000, 1100.0))
    assert contract.monthly_payment == pytest.approx(contract.slots * 1100.0)


def _market(rent: float) -> tuple[CommunityGovernanceModel, SocialOrganization]:
    """A tiny district whose only possible bidder is one capable agency, bidding always."""
    model = CommunityGovernanceModel("purchase_only", seed=3, **TINY)
    model.sos[:] = [so for so in model.sos if so.is_community]
    for so in model.sos:
        so.capacity = 0.0  # too weak to bid
    agency = SocialOrganization(model, PROFESSIONAL, 0, 0, 0.8, 0.0, 0.0)
    model.sos.append(agency)
    model.p.update(bid_probability=1.0, rent_per_month=rent, max_contract_load=float("inf"))
    model.bureau.purchase_budget = 300_000.0
    return model, agency


def test_procurement_awards_competitive_lots_only_to_sos_they_pay():
    model, agency = _market(3000.0)
    procurement.procure(model)
    assert agency.contracts and model.bureau.unawarded == 0.0
    model, agency = _market(30_000.0)  # 500 a unit over five workers' caseload
    procurement.procure(model)
    assert not agency.contracts  # the budget less a third-party evaluator's fee, if any
    assert model.bureau.unawarded == pytest.approx(300_000.0 - model.bureau.evaluation_fee)
