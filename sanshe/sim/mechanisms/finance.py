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

from sanshe.sim.agents.social_org import SOURCES
from sanshe.sim.mechanisms import ecology, group_orgs, priorities

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import Contract, SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Money moves by rule: this mechanism draws nothing.
STREAM: str | None = None


def monthly(model: CommunityGovernanceModel) -> None:
    """Every SO's month of money and growth, then government and group-org spending.

    Each SO's costs, fees and dues are worked out once and read by both its fundraising
    and its settling (an SO's costs do not change within the month's accounts), and the
    month's constants are looked up once, not per SO: with tens of thousands of SOs in a
    city these loops are a large part of the month (docs/performance.md)."""
    p, sos = model.p, model.sos
    salary = float(model.v["policy.social_work.salary_index"])
    count_members(model)
    served_by = model.served_by_so
    served = [served_by.get(so.unique_id, 0.0) for so in sos]
    costs = [so.monthly_costs(p, salary, rent)
             for so, rent in zip(sos, priorities.rent_factors(model, sos), strict=True)]
    takings = [fees_and_dues(so, p, s) for so, s in zip(sos, served, strict=True)]
    open_month(sos)
    covered = [draw_on_contracts(model, so, salary) if so.contracts else 0.0 for so in sos]
    gifts = donations(model, [
        ask(so, p, fundraising_effort(cost, fees, dues, cover), s)
        for so, s, cost, (fees, dues), cover in zip(sos, served, costs, takings, covered,
                                                     strict=True)])
    training = float(model.v["policy.incubation.training"])
    for so, s, cost, (fees, dues), gift in zip(sos, served, costs, takings, gifts,
                                               strict=True):
        _settle(model, so, s, cost, fees, dues, gift, training)


def count_members(model: CommunityGovernanceModel) -> None:
    """Every SO's members this month (residents whose ``member_of`` is its id)."""
    member_of = model.pop.member_of
    members = np.bincount(member_of[member_of >= 0]).tolist()
    known = len(members)
    for so in model.sos:
        so.members = members[so.unique_id] if so.unique_id < known else 0


def open_month(sos: list[SocialOrganization]) -> None:
    """A new month in every SO's ledger: this month's column starts at zero."""
    blank = dict.fromkeys(SOURCES, 0.0)
    for so in sos:
        so.ledger.month = blank.copy()


def _settle(model: CommunityGovernanceModel, so: SocialOrganization, served: float,
            costs: float, fees: float, dues: float, gift: float, training: float) -> None:
    """One SO's month after its contracts' draws: gifts, fees and dues in, ``costs`` out,
    capacity grows (``training``: the incubators' training level, for an incubated SO)."""
    p = model.p
    ledger = so.ledger
    ledger.receive("fees", fees)
    ledger.receive("dues", dues)
    model.nongov_month += fees + dues
    income = fees + dues + gift * (1.0 - p["fundraising_cost"])
    ledger.receive("donations", gift)
    model.nongov_month += gift
    so.cash += income - costs
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


def fundraising_effort(costs: float, fees: float, dues: float, covered: float) -> float:
    """Share of full effort an SO puts into fundraising: the part of its ``costs`` that its
    contracts' draws (``covered``: staff time and management fee, not what an account
    holds unspent), fees and dues leave uncovered (grants crowd out effort: Andreoni &
    Payne 2011); an SO with no costs does not fundraise."""
    if costs <= 0:
        return 0.0
    other = covered + fees + dues
    return min(max(1.0 - other / costs, 0.0), 1.0)


def ask(so: SocialOrganization, p: dict[str, float], effort: float, served: float) -> float:
    """What an SO asks of donors this month: in proportion to its ``effort``, reputation
    and record (needs met + members), scaled by donors' response to its government share
    (``crowding``: Heutel 2014)."""
    response = max(1.0 + p["crowding"] * so.ledger.government_share(), 0.0)
    return (effort * p["donation_rate"] * so.reputation * (served + so.members)
            * p["unit_cost"] * response)


def donations(model: CommunityGovernanceModel, asks: list[float]) -> list[float]:
    """This month's gifts, one for each ask (:func:`ask`): donors give what is asked up to
    the month's pool (``donor_pool`` per resident, the share ``donor_reach_base`` of it
    without the platform) and ration it pro rata when asks exceed it."""
    p = model.p
    reach = 1.0 if model.v["policy.linkage.info_platform"] else p["donor_reach_base"]
    pool = p["donor_pool"] * model.pop.size / 12.0 * reach
    total = sum(asks)
    given = min(total, pool) / total if total > 0 else 0.0
    return [a * given for a in asks]


def public_spending(model: CommunityGovernanceModel) -> None:
    """Committees' own services and station salaries, and group orgs' own projects."""
    salary = float(model.v["policy.social_work.salary_index"])
    for committee in model.committees:
        model.gov_month += committee.admin_budget
        model.gov_month += len(committee.staff) * salary * model.p["local_wage"]
    group_orgs.pay_own_projects(model)
