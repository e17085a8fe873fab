"""SO finances (财务): payments, gifts, fees and dues, costs, capacity and age.

Every month each SO is paid on its contracts (one twelfth of their value), receives gifts
that grow with its reputation and the needs it met and are crowded in or out by government
money (Heutel 2014; Andreoni & Payne), fees on its services and — a community SO — its
members' dues, and pays salaries and rent (less any community space). Capacity grows by
doing and training; SOs with nothing to do count idle months. The committees' own service
and station salaries are government spending too.
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
    free = priorities.free_space(model)
    members = np.bincount(model.pop.member_of[model.pop.member_of >= 0])
    for so in model.sos:
        so.members = int(members[so.unique_id]) if so.unique_id < members.size else 0
        _settle(model, so, salary, priorities.rent_factor(model, so, free))


def _settle(model: CommunityGovernanceModel, so: SocialOrganization, salary: float,
            rent_factor: float) -> None:
    """One SO's month: paid on contracts, gifts and fees in, costs out, capacity grows."""
    p = model.p
    so.ledger.month = dict.fromkeys(so.ledger.month, 0.0)
    _paid_on_contracts(model, so)
    served = model.served_by_so.get(so.unique_id, 0.0)
    income = _gifts_and_fees(model, so, served)
    so.cash += income - so.monthly_costs(p, salary, rent_factor)
    training = float(model.v["policy.incubation.training"]) if so.incubated else 0.0
    ecology.grow_capacity(so, served, training, p)
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


def _gifts_and_fees(model: CommunityGovernanceModel, so: SocialOrganization,
                    served: float) -> float:
    """Non-government money this month: gifts grow with reputation and with the needs met
    and members, crowded in or out by the government share of revenue; fees on services;
    a community SO's members' dues."""
    p = model.p
    gov_share = so.ledger.government_share()
    gifts = p["donation_rate"] * so.reputation * (served + so.members) * p["unit_cost"]
    gifts *= max(1.0 + p["crowding"] * gov_share, 0.0)
    fees = p["fee_share"] * served * p["unit_cost"]
    if so.is_community:
        fees += p["member_dues"] * so.members
    so.ledger.receive("donations", gifts)
    so.ledger.receive("fees", fees)
    model.nongov_month += gifts + fees
    return gifts + fees


def public_spending(model: CommunityGovernanceModel) -> None:
    """Committees' own services and station salaries, and group orgs' own projects."""
    salary = float(model.v["policy.social_work.salary_index"])
    for committee in model.committees:
        model.gov_month += committee.admin_budget
        model.gov_month += len(committee.staff) * salary * model.p["local_wage"]
    group_orgs.pay_own_projects(model)
