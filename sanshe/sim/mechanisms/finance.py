"""SO finances (财务): contract accounts, gifts, fees and dues, costs, capacity and age.

Purchased-service money is ring-fenced (专款专用): each month the buyer pays a twelfth of a
contract's value into the contract's own account, and the SO draws from it only what the
contract cost it that month — the staff time spent on it, activity costs (materials,
venues, insurance) of the units delivered on it, volunteers' too, and a management fee
(管理费) on those — never more than the balance; what is left when the contract ends goes
back to the buyer (结余资金收回: 财政部《政府购买服务管理办法》2020). Government and
group-org spending count the draws, the money spent. Each SO also takes fees on its
services and — a community SO — its members' small dues, and pays salaries and rent (less
any community space). It fundraises from local donors and firms as far as what its
contracts cover and its other income leave its costs uncovered (grants crowd out
fundraising effort: Andreoni & Payne 2011); donors answer in proportion to its reputation
and record, crowded in or out by its government share (``crowding``: Heutel 2014), out of
a district pool that grows with the residents and that the information platform opens to
every SO (seed 001: firms linked). Raising a yuan costs ``fundraising_cost``. Capacity
grows by doing and training; SOs with nothing to do count idle months. The committees' own
service and station salaries are government spending too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sanshe.sim.mechanisms import ecology, group_orgs, priorities

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import Contract, SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Money moves by rule: this mechanism draws nothing.
STREAM: str | None = None


def monthly(model: CommunityGovernanceModel) -> None:
    """Every SO's month of money and growth, then government and group-org spending."""
    salary = float(model.v["policy.social_work.salary_index"])
    free = priorities.free_space(model).tolist()  # plain floats: the loops below are scalar
    members = np.bincount(model.pop.member_of[model.pop.member_of >= 0]).tolist()
    rents, covered = {}, {}
    for so in model.sos:
        so.members = members[so.unique_id] if so.unique_id < len(members) else 0
        rents[so.unique_id] = priorities.rent_factor(model, so, free)
        so.ledger.month = dict.fromkeys(so.ledger.month, 0.0)
        covered[so.unique_id] = draw_on_contracts(model, so, salary)
    gifts = donations(model, salary, rents, covered)
    training = float(model.v["policy.incubation.training"])
    for so in model.sos:
        _settle(model, so, salary, rents[so.unique_id], gifts.get(so.unique_id, 0.0),
                training)


def _settle(model: CommunityGovernanceModel, so: SocialOrganization, salary: float,
            rent_factor: float, gift: float, training: float) -> None:
    """One SO's month after its contracts' draws: gifts, fees and dues in, costs out,
    capacity grows (``training``: the incubators' training level, for an incubated SO)."""
    p = model.p
    served = model.served_by_so.get(so.unique_id, 0.0)
    income = _fees_and_dues(model, so, served) + gift * (1.0 - p["fundraising_cost"])
    so.ledger.receive("donations", gift)
    model.nongov_month += gift
    so.cash += income - so.monthly_costs(p, salary, rent_factor)
    ecology.grow_capacity(so, served, training if so.incubated else 0.0, p)
    so.age += 1
    so.incubated_months = max(so.incubated_months - 1, 0)
    active = served > 0 or so.members >= p["min_members"] or bool(so.contracts)
    so.idle_months = 0 if active else so.idle_months + 1


class Charge(NamedTuple):
    """What one contract cost its SO this month, by part (yuan)."""

    staff: float  # salaries for the staff time spent on it
    activity: float  # materials, venues, insurance of the units delivered on it
    overhead: float  # management fee (管理费) on those direct costs

    @property
    def total(self) -> float:
        return self.staff + self.activity + self.overhead

    @property
    def own_costs(self) -> float:
        """The part that pays the SO's own costs (salaries, rent, running); the activity
        costs pass through to suppliers."""
        return self.staff + self.overhead


def salary_bill(so: SocialOrganization, p: dict[str, float], salary: float) -> float:
    """The SO's salaries this month."""
    return len(so.staff) * salary * p["local_wage"]


def charges(so: SocialOrganization, contract: Contract, p: dict[str, float],
            salary: float) -> Charge:
    """What ``contract`` cost ``so`` this month: its share of the staff's time, the
    activity costs of every unit delivered on it (volunteers' units use materials,
    venues and insurance too) and the management fee on both."""
    staff = salary_bill(so, p, salary) * contract.effort
    activity = p["activity_cost_share"] * p["unit_cost"] * contract.units_charged
    return Charge(staff, activity, p["contract_overhead_share"] * (staff + activity))


def draw_on_contracts(model: CommunityGovernanceModel, so: SocialOrganization,
                      salary: float) -> float:
    """专款专用: each buyer pays a twelfth of the value into the contract's account; the
    SO draws what the contract cost it, as far as the balance goes (a draw short of the
    cost pays each part pro rata: the SO buys the materials the account pays for and
    carries the rest of its salaries itself); at the contract's end the balance returns to
    the buyer. Returns the part of the SO's own costs the draws covered, which is what it
    keeps (and what crowds out its fundraising)."""
    covered = 0.0
    for contract in so.contracts:
        if contract.months_left <= 0:  # ended: its account is closed
            continue
        contract.balance += contract.monthly_payment
        charge = charges(so, contract, model.p, salary)
        drawn = min(charge.total, contract.balance)
        contract.balance -= drawn
        so.ledger.receive(contract.buyer, drawn)
        own = drawn * charge.own_costs / charge.total if drawn > 0 else 0.0
        so.cash += own  # the rest buys the activities' materials
        covered += own
        _spent(model, contract.buyer, drawn)
        contract.units_charged = 0.0  # charged once
        contract.months_left -= 1
        if contract.months_left <= 0:  # the balance goes back to the buyer
            model.returned_month += contract.close_account()
    return covered


def _spent(model: CommunityGovernanceModel, buyer: str, amount: float) -> None:
    """Count money drawn as spent by its buyer; group-org money is not government money."""
    if buyer == "group_org":
        model.group_month += amount
    else:
        model.gov_month += amount


def fees_and_dues(so: SocialOrganization, p: dict[str, float],
                  served: float) -> tuple[float, float]:
    """This month's fees on services, and a community SO's members' dues."""
    fees = p["fee_share"] * served * p["unit_cost"]
    dues = p["member_dues"] * so.members if so.is_community else 0.0
    return fees, dues


def _fees_and_dues(model: CommunityGovernanceModel, so: SocialOrganization,
                   served: float) -> float:
    """Fees and dues received this month."""
    fees, dues = fees_and_dues(so, model.p, served)
    so.ledger.receive("fees", fees)
    so.ledger.receive("dues", dues)
    model.nongov_month += fees + dues
    return fees + dues


def fundraising_effort(so: SocialOrganization, p: dict[str, float], salary: float,
                       rent_factor: float, served: float, covered: float) -> float:
    """Share of full effort an SO puts into fundraising: the part of its costs that its
    contracts' draws (``covered``: staff time and management fee, not what an account
    holds unspent), fees and dues leave uncovered (grants crowd out effort: Andreoni &
    Payne 2011); an SO with no costs does not fundraise."""
    costs = so.monthly_costs(p, salary, rent_factor)
    if costs <= 0:
        return 0.0
    fees, dues = fees_and_dues(so, p, served)
    other = covered + fees + dues
    return min(max(1.0 - other / costs, 0.0), 1.0)


def donations(model: CommunityGovernanceModel, salary: float, rents: dict[int, float],
              covered: dict[int, float]) -> dict[int, float]:
    """This month's gifts by SO id. Each SO asks in proportion to its effort, reputation
    and record (needs met + members), scaled by donors' response to its government share
    (``covered``: by SO id, the part of its costs its contracts' draws paid this month);
    donors give what is asked up to the month's pool (``donor_pool`` per resident, the
    share ``donor_reach_base`` of it without the platform) and ration it pro rata when
    asks exceed it."""
    p = model.p
    asks: dict[int, float] = {}
    crowding, rate, unit = p["crowding"], p["donation_rate"], p["unit_cost"]
    served_by = model.served_by_so
    for so in model.sos:
        served = served_by.get(so.unique_id, 0.0)
        effort = fundraising_effort(so, p, salary, rents[so.unique_id], served,
                                    covered.get(so.unique_id, 0.0))
        response = max(1.0 + crowding * so.ledger.government_share(), 0.0)
        asks[so.unique_id] = (effort * rate * so.reputation
                              * (served + so.members) * unit * response)
    reach = 1.0 if model.v["policy.linkage.info_platform"] else p["donor_reach_base"]
    pool = p["donor_pool"] * model.pop.size / 12.0 * reach
    total = sum(asks.values())
    given = min(total, pool) / total if total > 0 else 0.0
    return {k: a * given for k, a in asks.items()}


def public_spending(model: CommunityGovernanceModel) -> None:
    """Committees' own services and station salaries, and group orgs' own projects."""
    salary = float(model.v["policy.social_work.salary_index"])
    for committee in model.committees:
        model.gov_month += committee.admin_budget
        model.gov_month += len(committee.staff) * salary * model.p["local_wage"]
    group_orgs.pay_own_projects(model)
