"""Cost accounting (成本核算): what a unit of service costs, to the buyer and to an SO.

The buyer prices purchased services by what they cost a provider (民政部 财政部《关于政府购买
社会工作服务的指导意见》2012: the price of purchased social-work services is set from their
cost, social workers' pay standards included; 财政部《政府购买服务管理办法》2020: the budget
of a purchase follows cost accounting). A unit's price is the staff time of the work the
buyer specifies — real casework, ``real_service_cost`` effort units of a social worker's
``slots_per_sw`` a month at the SO pay level — plus its activity costs (materials, venues,
insurance) and the management fee (管理费) on both. So how many units a contract buys
follows from the wage and the cost shares, not from a free constant; fees, group-org
projects and the committees' own provision are reckoned at the same price.

An SO reckons its own cost of a unit the same way, with its own effort per unit (its
orientation: showcase work takes less staff time than real casework) and its overhead —
rent, less any free space — shared over the units it can carry: it bids on a competitive lot
only when the price pays its way (thin markets: providers stay away from contracts that do
not cover their costs, Girth et al. 2012; Savas 2002).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanshe.sim.agents.social_org import salaries

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import Lot, SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Cost accounting draws nothing.
STREAM: str | None = None


def staff_cost(p: dict[str, float], salary_index: float, effort: float) -> float:
    """Yuan of social-work time in a unit that takes ``effort`` effort units: a social
    worker's month (the SO pay level × ``local_wage``) over her ``slots_per_sw`` units."""
    return salaries(1, salary_index, p) * effort / p["slots_per_sw"]


def activity_cost(p: dict[str, float]) -> float:
    """Materials, venues and insurance (活动经费) of one unit delivered: the share
    ``activity_cost_share`` of a unit's direct cost — real casework's staff time at the
    local wage plus these costs — so a = s·share / (1 − share). It does not follow the SO
    pay level: materials cost what they cost whoever is paid what."""
    share = p["activity_cost_share"]
    return staff_cost(p, 1.0, p["real_service_cost"]) * share / (1.0 - share)


def unit_price(p: dict[str, float], salary_index: float, volunteer_run: bool = False) -> float:
    """成本核算: the price of a unit of purchased service — the staff time of the real
    casework the buyer specifies at the SO pay level, activity costs, and the management
    fee ``contract_overhead_share`` on both. An SO that turns to showcase work spends less
    than this a unit and draws less; the balance returns to the buyer (结余资金).

    A ``volunteer_run`` provider's budget has no staff line (志愿服务 is unpaid): its unit
    costs the activities and the fee, so the same money buys it more units — as many as
    its members then turn out for; what they do not deliver returns."""
    staff = 0.0 if volunteer_run else staff_cost(p, salary_index, p["real_service_cost"])
    return (staff + activity_cost(p)) * (1.0 + p["contract_overhead_share"])


def staff_line(p: dict[str, float], payment: float, units: float) -> float:
    """The staff-time line of a contract's budget (:func:`unit_price`): a month's
    ``payment`` less the management fee and the activity costs of its ``units`` — what
    its account can pay in salaries; nothing for a volunteer-run budget."""
    return max(payment / (1.0 + p["contract_overhead_share"]) - activity_cost(p) * units, 0.0)


def price(model: CommunityGovernanceModel) -> float:
    """This district's price of a unit of service by paid staff (:func:`unit_price` at its
    pay level)."""
    return unit_price(model.p, float(model.v["policy.social_work.salary_index"]))


def volunteer_run(so: SocialOrganization) -> bool:
    """A community SO without paid staff: its members volunteer the work."""
    return so.is_community and not so.staff


def price_for(model: CommunityGovernanceModel, so: SocialOrganization) -> float:
    """The price of a unit ``so`` would deliver (:func:`unit_price`): a budget is
    reckoned on who does the work, paid staff or volunteers."""
    return unit_price(model.p, float(model.v["policy.social_work.salary_index"]),
                      volunteer_run(so))


def units_bought(value: float, unit_price_: float) -> float:
    """Units a month that ``value`` yuan a year buys at ``unit_price_`` a unit."""
    return value / 12.0 / unit_price_


def own_unit_cost(so: SocialOrganization, p: dict[str, float], salary_index: float,
                  overhead: float, extra_units: float) -> float:
    """What a unit costs ``so`` if it takes ``extra_units`` more a month: its staff time
    per unit at its orientation (real casework ``real_service_cost``, showcase one effort
    unit) at its pay (none if volunteers do the work), the activity costs, and its monthly
    ``overhead`` (rent, less free space) shared over the units it can carry
    (:func:`carried_units`)."""
    effort = 0.0 if volunteer_run(so) else so.effort_per_unit(p)
    units = carried_units(so, p, extra_units)
    return staff_cost(p, salary_index, effort) + activity_cost(p) + overhead / units


def carried_units(so: SocialOrganization, p: dict[str, float], extra_units: float) -> float:
    """Units a month over which ``so`` spreads its overhead: the most of its output, its
    contracts with ``extra_units`` more, and — an agency — the caseload of the team its
    office is set up for (``agency_office_staff`` social workers: it rents for the team it
    plans, not for the one a first contract pays)."""
    office = 0.0 if so.is_community else p["agency_office_staff"] * p["slots_per_sw"]
    return max(so.output(p), so.contracted() + extra_units, office, 1e-9)


def pays_its_way(so: SocialOrganization, lot: Lot, price_: float, p: dict[str, float],
                 salary_index: float, overhead: float) -> bool:
    """Whether ``so`` expects ``lot`` at ``price_`` a unit to cover what its units would
    cost it (:func:`own_unit_cost`)."""
    units = units_bought(lot.value, price_)
    return price_ >= own_unit_cost(so, p, salary_index, overhead, units)
