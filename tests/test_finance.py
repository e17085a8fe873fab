"""Contract accounts, 专款专用 (sanshe/sim/mechanisms/finance.py): the buyer pays into the
contract's account, the SO draws what the contract cost it, the rest goes back."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest

from sanshe.sim import measures
from sanshe.sim.agents.social_org import Contract, SocialOrganization, overheads
from sanshe.sim.mechanisms import costing, ecology, finance, services
from sanshe.sim.mechanisms.participation import Placement
from sanshe.sim.model import CommunityGovernanceModel
from sanshe.sim.population import D
from tests.helpers import SMALL, STATIONED, with_community_sos

VALUE = 120_000.0  # a twelfth is 10,000 yuan


def _agency() -> tuple[CommunityGovernanceModel, SocialOrganization, float]:
    """A small district's seeded agency (it has staff) with no contracts, counters at 0."""
    model = CommunityGovernanceModel("full_linkage", seed=2, **SMALL)
    so = next(s for s in model.sos if not s.is_community and s.staff)
    so.contracts = []
    model.gov_month = model.group_month = model.returned_month = 0.0
    return model, so, float(model.v["policy.social_work.salary_index"])


def _contract(so: SocialOrganization, buyer: str = "purchase", value: float = VALUE,
              effort: float = 0.0, units: float = 0.0) -> Contract:
    contract = Contract(buyer, so.community, so.domain, value, 5.0)
    contract.effort, contract.units_charged = effort, units
    so.contracts.append(contract)
    return contract


def test_the_buyer_pays_a_twelfth_into_the_account_not_to_the_so():
    model, so, salary = _agency()
    contract = _contract(so)
    cash = so.cash
    finance.draw_on_contracts(model, [so], salary)[0]
    assert contract.balance == pytest.approx(VALUE / 12)  # idle: nothing drawn
    assert so.cash == cash and model.gov_month == 0.0
    assert contract.months_left == 11


def test_the_so_draws_what_the_contract_cost_it_and_spending_counts_the_draw():
    model, so, salary = _agency()
    contract = _contract(so, effort=0.5, units=4.0)
    p, cash = model.p, so.cash
    staff = 0.5 * len(so.staff) * salary * p["local_wage"]
    activity = costing.activity_cost(p) * 4.0  # 成本核算: materials of a unit
    cost = (staff + activity) * (1.0 + p["contract_overhead_share"])
    assert 0 < cost < VALUE / 12
    covered = finance.draw_on_contracts(model, [so], salary)[0]
    assert model.gov_month == pytest.approx(cost)
    assert contract.balance == pytest.approx(VALUE / 12 - cost)
    assert so.ledger.month["purchase"] == pytest.approx(cost)
    # the materials are bought: the SO keeps the staff time and the management fee
    assert so.cash - cash == pytest.approx(cost - activity)
    assert covered == pytest.approx(cost - activity)
    assert contract.units_charged == 0.0  # charged once


def test_group_org_draws_are_group_spending_not_government_spending():
    model, so, salary = _agency()
    _contract(so, buyer="group_org", effort=0.2)
    finance.draw_on_contracts(model, [so], salary)[0]
    assert model.group_month > 0 and model.gov_month == 0.0


def test_purchase_spending_counts_the_draws_on_purchase_contracts_only():
    model, so, salary = _agency()
    model.purchase_drawn = 0.0
    purchase = _contract(so, effort=0.3, units=2.0)
    _contract(so, buyer="venture", effort=0.3, units=2.0)
    _contract(so, buyer="group_org", effort=0.3, units=2.0)
    finance.draw_on_contracts(model, [so], salary)
    drawn = VALUE / 12 - purchase.balance
    assert drawn > 0
    assert model.purchase_drawn == pytest.approx(drawn)
    assert model.gov_month > model.purchase_drawn  # venture money is government money too
    delivery = SimpleNamespace(served=np.zeros(0, int))
    assert measures._money(model, delivery)["purchase_spending"] == pytest.approx(drawn)


def test_needs_met_by_purchased_services_are_those_on_purchase_contracts_record():
    model, so, _ = _agency()
    model.purchase_served = 0.0
    purchase, venture = _contract(so), _contract(so, buyer="venture")
    c, d = purchase.community, purchase.domain
    pop = model.pop
    pop.need_domain[:] = -1
    pop.need_domain[pop.block(c)] = d
    pop.need_expressed[pop.block(c)] = True
    offers = services.Offers()
    for contract in (purchase, venture):
        offers.add((so, contract, True, contract), c, d, 10.0, 0.5, True)
    model.volunteering = [Placement(so, c, d, 1.0, volunteers=20.0, contract=purchase)]
    services.offer_volunteer_hours(model, offers, np.zeros((pop.communities, D)))
    delivery = services.deliver(pop, offers, np.random.default_rng(0))
    services._credit(model, offers, delivery)
    assert purchase.served > 0 and venture.served > 0
    # the contract's record only: its volunteers' hours are charged to it, not counted
    assert model.purchase_served == pytest.approx(purchase.served)


def test_the_so_never_draws_more_than_the_balance():
    model, so, salary = _agency()
    contract = _contract(so, value=1_200.0, effort=1.0, units=10.0)  # 100 a month in
    bill = finance.salary_bills([so], model.p, salary)[0]
    charge = finance.charges(bill, contract.effort, contract.units_charged, model.p)
    assert charge.total > 100.0
    finance.draw_on_contracts(model, [so], salary)[0]
    assert model.gov_month == pytest.approx(100.0)
    assert contract.balance == 0.0


def test_the_balance_returns_to_the_buyer_when_the_contract_ends():
    model, so, salary = _agency()
    contract = _contract(so, effort=0.1)
    for _ in range(12):
        contract.effort = 0.1
        finance.draw_on_contracts(model, [so], salary)[0]
    spent = model.gov_month
    assert 0 < spent < VALUE
    assert model.returned_month == pytest.approx(VALUE - spent)
    assert contract.balance == 0.0 and contract.months_left == 0
    finance.draw_on_contracts(model, [so], salary)[0]  # ended: no more money in or out
    assert model.gov_month == spent and contract.balance == 0.0


def test_the_returned_money_is_reported_as_an_outcome():
    model, so, salary = _agency()
    _contract(so)
    for _ in range(12):
        finance.draw_on_contracts(model, [so], salary)[0]
    delivery = SimpleNamespace(served=np.zeros(0, int))
    assert measures._money(model, delivery)["returned_funds"] == pytest.approx(VALUE)


def test_a_closing_so_returns_what_its_accounts_hold():
    model, so, salary = _agency()
    contract = _contract(so)
    finance.draw_on_contracts(model, [so], salary)[0]
    ecology.close(model, so)
    assert model.returned_month == pytest.approx(VALUE / 12)
    assert contract.balance == 0.0


def test_an_idle_contract_costs_the_government_nothing():
    model, so, salary = _agency()
    _contract(so)
    for _ in range(12):
        finance.draw_on_contracts(model, [so], salary)[0]
    assert model.gov_month == 0.0
    assert model.returned_month == pytest.approx(VALUE)


def test_contracts_share_the_staff_time_by_their_slots():
    model, so, _ = _agency()
    small, large = _contract(so), _contract(so)
    small.slots, large.slots = 1.0, 3.0
    output = so.output(model.p)
    so.share_effort(model.p, output, output)  # fully busy on the contracts
    assert small.effort + large.effort == pytest.approx(1.0)
    assert large.effort == pytest.approx(3 * small.effort)
    so.share_effort(model.p, output, 0.0)  # no contracted work: only the outreach
    assert small.effort + large.effort == pytest.approx(so.outreach_share(model.p))


def test_volunteers_units_on_a_contract_are_charged_its_activity_cost():
    model, so, salary = _agency()
    contract = _contract(so)
    c, d = contract.community, contract.domain
    pop = model.pop
    pop.need_domain[:] = -1
    here = pop.block(c)
    pop.need_domain[here] = d
    pop.need_expressed[here] = True
    model.volunteering = [Placement(so, c, d, 1.0, volunteers=20.0, contract=contract)]
    offers = services.Offers()
    services.offer_volunteer_hours(model, offers, np.zeros((pop.communities, D)))
    delivery = services.deliver(pop, offers, np.random.default_rng(0))
    services._credit(model, offers, delivery)
    assert contract.units_charged > 0  # charged to the contract's account
    assert contract.served == 0.0  # though not in its record
    charge = finance.charges(finance.salary_bills([so], model.p, salary)[0], contract.effort,
                             contract.units_charged, model.p)
    assert charge.activity == pytest.approx(
        costing.activity_cost(model.p) * contract.units_charged)


def _made_on(so: SocialOrganization, model: CommunityGovernanceModel, kind: str,
             orientation: float) -> Contract:
    """A contract of ``kind`` the SO works on this month where nobody has a need."""
    contract = _contract(so)
    contract.kind, so.orientation = kind, orientation
    model.pop.need_domain[:] = -1
    so.offer_services(services.Offers(), np.zeros((model.pop.communities, D)), model.p)
    return contract


def test_showcase_units_are_charged_their_activity_cost_as_they_are_made():
    model, so, _ = _agency()
    shown = _made_on(so, model, "service", orientation=0.25)
    assert shown.showcase > 0
    assert shown.units_charged == pytest.approx(shown.showcase)  # no need met: only these
    real = _made_on(so, model, "service", orientation=1.0)
    assert real.showcase == 0 and real.units_charged == 0  # offered, but nobody needed them


def test_officials_deliverables_are_charged_their_activity_cost():
    model, so, salary = _agency()
    report = _made_on(so, model, "report", orientation=1.0)
    assert report.deliverables > 0
    assert report.units_charged == pytest.approx(report.deliverables)
    charge = finance.charges(finance.salary_bills([so], model.p, salary)[0], report.effort,
                             report.units_charged, model.p)
    assert charge.activity == pytest.approx(
        costing.activity_cost(model.p) * report.deliverables)


def test_several_sos_draw_on_their_contracts_as_each_would_alone():
    """The month's draws over all SOs at once move the same money as SO by SO: each SO's
    covered costs and cash, and the buyers' spending summed in the order of the SOs."""
    model, so, salary = _agency()
    other = next(s for s in model.sos if s is not so and not s.is_community and s.staff)
    other.contracts = []
    for agency, effort in ((so, 0.3), (other, 0.6)):
        _contract(agency, effort=effort, units=2.0)
        _contract(agency, buyer="group_org", value=2_400.0, effort=effort / 2, units=1.0)
    alone = copy.deepcopy((model, so, other))  # the same district, drawn SO by SO
    covered = [finance.draw_on_contracts(alone[0], [agency], salary)[0]
               for agency in alone[1:]]
    both = finance.draw_on_contracts(model, [so, other], salary)
    assert both.tolist() == covered and covered[0] != covered[1] > 0
    assert [s.cash for s in alone[1:]] == [so.cash, other.cash]
    assert [c.balance for s in alone[1:] for c in s.contracts] == [
        c.balance for s in (so, other) for c in s.contracts]
    assert (alone[0].gov_month, alone[0].group_month) == (model.gov_month, model.group_month)
    assert model.group_month > 0 and model.gov_month > 0


def test_one_salary_rule_pays_sos_contracts_stations_and_sets_posts(monkeypatch):
    """Salaries are one rule (social_org.salaries): an SO's costs, its contracts' staff
    time, the stations' pay and what posts an SO can afford all follow a change to it."""
    from sanshe.sim.agents import social_org

    model, so, salary = _agency()
    staff = len(so.staff)
    before = (so.monthly_costs(model.p, salary, 1.0),
              finance.salary_bills([so], model.p, salary)[0])
    doubled = social_org.salaries
    monkeypatch.setattr(social_org, "salaries", lambda n, s, p: 2 * doubled(n, s, p))
    monkeypatch.setattr(finance, "salaries", social_org.salaries)
    wage = salary * model.p["local_wage"]
    assert so.monthly_costs(model.p, salary, 1.0) == pytest.approx(before[0] + staff * wage)
    assert finance.salary_bills([so], model.p, salary)[0] == pytest.approx(2 * before[1])
    model.gov_month = 0.0
    monkeypatch.setattr(finance.group_orgs, "pay_own_projects", lambda model: None)
    finance.public_spending(model)
    paid = sum(max(c.admin_budget, c.points_due) + 2 * len(c.staff) * wage
               for c in model.committees)
    paid += finance.programme_costs(model)
    assert model.gov_month == pytest.approx(paid)
    # the budget's staff line pays 10 workers at the old wage, 5 at the doubled one; the
    # work needs more
    so.contracts = [Contract("purchase", so.community, so.domain, 12e6, 1e4,
                             staff_line=10 * wage + 1)]
    so.cash = 0.0
    assert so.staff_needed(model.p) > 10
    assert so.posts_to_fill(model.p, salary) == 5 - staff


def test_a_lean_year_after_a_rich_one_does_not_close_community_sos_for_debt(monkeypatch):
    """On communities of 3,000 the services priority's fund lets a community SO win several
    micro-projects in a year. Under the former rules it hired on that year's income, kept
    the worker in a leaner year until its cash was gone, and closed for the debt once the
    layoff had cut its costs: 46 community SOs closed for debt over seeds 1-8. Now a
    project pays salaries only from its staff line, an SO lets a worker go while its
    reserve can still carry her, and debts are judged on a year's costs (0 over the same
    seeds). Four seeds; a tenth of the former rate is allowed."""
    broke_at_close = []
    judged = ecology.broke

    def recording(model, costs=None, carried=None):
        mask = judged(model, costs, carried)
        broke_at_close.append(sum(so.is_community for so, b in zip(
            model.sos, mask.tolist(), strict=True) if b))
        return mask

    monkeypatch.setattr(ecology, "broke", recording)
    for seed in range(1, 5):
        CommunityGovernanceModel("priority_services", seed=seed,
                                 **{"district.residents_per_community": 3000}).run(72)
    assert sum(broke_at_close) <= 2


def test_training_and_certification_support_cost_the_government_by_who_gets_them():
    """Training is not free: the incubator's per SO it incubates, in-service training per
    social worker, certification support per worker not yet certified, each in proportion
    to the lever's intensity; with the levers off, nothing."""
    on = {"policy.incubation.training": 0.5, "policy.social_work.training": 0.5,
          "policy.social_work.certification_support": True}
    model = CommunityGovernanceModel("full_linkage", seed=2, **SMALL, **STATIONED, **on)
    model.run(3)
    p = model.p
    workers = [w for e in (*model.sos, *model.committees) for w in e.staff]
    model.sos[0].incubated_months = 5
    incubated = sum(so.incubated_months > 0 for so in model.sos)
    uncertified = sum(not w.certified for w in workers)
    assert workers and incubated
    expected = (0.5 * p["incubation_training_cost"] * incubated
                + 0.5 * p["sw_training_cost"] * len(workers)
                + p["certification_support_cost"] * uncertified)
    assert np.isclose(finance.training_costs(model), expected)
    for key in on:
        model.v[key] = False if key.endswith("support") else 0.0
    assert finance.training_costs(model) == 0


def test_the_information_platform_costs_its_running_per_resident():
    """The platform (app, hosting, operators) is government spending a month, per resident;
    without it, nothing; the programmes' costs add it to the evaluator's fee and training."""
    on = CommunityGovernanceModel("baseline", seed=2, **SMALL,
                                  **{"policy.linkage.info_platform": True})
    off = CommunityGovernanceModel("baseline", seed=2, **SMALL)
    p = on.p
    assert np.isclose(finance.programme_costs(on) - finance.programme_costs(off),
                      p["platform_cost_per_resident"] * on.pop.size / 12)
    on.bureau.evaluation_fee = 1200.0
    assert np.isclose(finance.programme_costs(on),
                      100.0 + finance.training_costs(on) + finance.incubator_rooms(on)
                      + p["platform_cost_per_resident"] * on.pop.size / 12)


def test_the_government_pays_the_rooms_of_the_sos_its_incubator_houses():
    """An incubated SO pays no rent or running costs; the government pays them for it."""
    model = with_community_sos(CommunityGovernanceModel("full_linkage", seed=2, **SMALL))
    p = model.p
    community = next(so for so in model.sos if so.is_community)
    agency = next(so for so in model.sos if not so.is_community)
    for so in model.sos:
        so.incubated_months = 0
    assert finance.incubator_rooms(model) == 0
    community.incubated_months, agency.incubated_months = 4, 1
    assert np.isclose(finance.incubator_rooms(model),
                      p["community_so_cost"] + p["rent_per_month"])
    assert (overheads([community, agency], p, 1.0) == 0).all()  # they pay none of it
