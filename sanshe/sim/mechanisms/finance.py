"""SO finances (财务): payments, gifts, fees and dues, costs, capacity and age.

Every month each SO is paid on its contracts (one twelfth of their value), takes fees on
its services and — a community SO — its members' small dues, and pays salaries and rent
(less any community space). It fundraises from local donors and firms as far as that other
income leaves its costs uncovered (grants crowd out fundraising effort: Andreoni & Payne
2011); donors answer in proportion to its reputation and record, crowded in or out by its
government share (``crowding``: Heutel 2014), out of a district pool that grows with the
residents and that the information platform opens to every SO (seed 001: firms linked).
Raising a yuan costs ``fundraising_cost``. Capacity grows by doing and training; SOs with
nothing to do count idle months. The committees' own service and station salaries are
government spending too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.mechanisms import ecology, group_orgs, priorities

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Money moves by rule: this mechanism draws nothing.
STREAM: str | None = None


def monthly(model: CommunityGovernanceModel) -> None:
    """Every SO's month of money and growth, then government and group-org spending."""
    salary = float(model.v["policy.social_work.salary_index"])
    free = priorities.free_space(model).tolist()  # plain floats: the loops below are scalar
    members = np.bincount(model.pop.member_of[model.pop.member_of >= 0]).tolist()
    rents = {}
    for so in model.sos:
        so.members = members[so.unique_id] if so.unique_id < len(members) else 0
        rents[so.unique_id] = priorities.rent_factor(model, so, free)
    gifts = donations(model, salary, rents)
    training = float(model.v["policy.incubation.training"])
    for so in model.sos:
        _settle(model, so, salary, rents[so.unique_id], gifts.get(so.unique_id, 0.0),
                training)


def _settle(model: CommunityGovernanceModel, so: SocialOrganization, salary: float,
            rent_factor: float, gift: float, training: float) -> None:
    """One SO's month: paid on contracts, gifts, fees and dues in, costs out, capacity
    grows (``training``: the incubators' training level, for an incubated SO)."""
    p = model.p
    so.ledger.month = dict.fromkeys(so.ledger.month, 0.0)
    _paid_on_contracts(model, so)
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


def _paid_on_contracts(model: CommunityGovernanceModel, so: SocialOrganization) -> None:
    """A twelfth of each contract's value; group-org money is not government money."""
    for contract in so.contracts:
        so.ledger.receive(contract.buyer, contract.monthly_payment)
        so.cash += contract.monthly_payment
        if contract.buyer == "group_org":
            model.group_month += contract.monthly_payment
        else:
            model.gov_month += contract.monthly_payment
        contract.months_left -= 1


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
                       rent_factor: float, served: float) -> float:
    """Share of full effort an SO puts into fundraising: the part of its costs that
    contracts, fees and dues leave uncovered (grants crowd out effort: Andreoni & Payne
    2011); an SO with no costs does not fundraise."""
    costs = so.monthly_costs(p, salary, rent_factor)
    if costs <= 0:
        return 0.0
    fees, dues = fees_and_dues(so, p, served)
    other = sum([c.monthly_payment for c in so.contracts]) + fees + dues
    return min(max(1.0 - other / costs, 0.0), 1.0)


def donations(model: CommunityGovernanceModel, salary: float,
              rents: dict[int, float]) -> dict[int, float]:
    """This month's gifts by SO id. Each SO asks in proportion to its effort, reputation
    and record (needs met + members), scaled by donors' response to its government share;
    donors give what is asked up to the month's pool (``donor_pool`` per resident, the
    share ``donor_reach_base`` of it without the platform) and ration it pro rata when
    asks exceed it."""
    p = model.p
    asks: dict[int, float] = {}
    crowding, rate, unit = p["crowding"], p["donation_rate"], p["unit_cost"]
    served_by = model.served_by_so
    for so in model.sos:
        served = served_by.get(so.unique_id, 0.0)
        effort = fundraising_effort(so, p, salary, rents[so.unique_id], served)
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
