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

from sanshe.sim.agents.social_org import SOURCES, fixed_costs, overheads, salaries
from sanshe.sim.mechanisms import costing, donors, ecology, group_orgs, priorities, workforce
from sanshe.sim.so_directory import column, staff_counts

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Money moves by rule: this mechanism draws nothing.
STREAM: str | None = None


def monthly(model: CommunityGovernanceModel) -> None:
    """Every SO's month of money and growth, then government and group-org spending.

    The rules that treat every SO alike (fees and dues, fundraising, gifts, settling,
    capacity) are written once, over all SOs at once: with tens of thousands of SOs in a
    city a loop that looked up the month's constants SO by SO was a large part of the month
    (docs/performance.md). Money that is summed one SO or contract after another (spending,
    gifts, an SO's cash) is summed in that order still, so the numbers are the same."""
    sos = model.sos
    salary = float(model.v["policy.social_work.salary_index"])
    books = open_books(model, salary)
    covered = draw_on_contracts(model, sos, salary)
    _settle(model, sos, books, donations(model, asks(model, books, covered)), covered)


class Books(NamedTuple):
    """Every SO's month outside its contracts' accounts, in the order of ``model.sos``."""

    served: np.ndarray  # needs it met this month
    members: np.ndarray  # its members this month
    salaries: np.ndarray  # its staff's pay
    costs: np.ndarray  # salaries and rent
    fees: np.ndarray  # fees on its services
    dues: np.ndarray  # members' dues (a community SO)


def open_books(model: CommunityGovernanceModel, salary: float) -> Books:
    """A new month in every SO's ledger, with its members, needs met, costs, fees and dues
    (these do not change while the contracts' accounts are drawn on)."""
    p, sos = model.p, model.sos
    members = count_members(model)
    served_by = model.served_by_so
    served = np.array([served_by.get(so.unique_id, 0.0) for so in sos], dtype=float)
    bills = salary_bills(sos, p, salary)
    costs = bills + overheads(sos, p, np.array(priorities.rent_factors(model, sos), float))
    fees, dues = fees_and_dues(column(sos, "is_community", bool), members, served, p,
                               costing.unit_price(p, salary))
    blank = dict.fromkeys(SOURCES, 0.0)
    for so in sos:
        so.ledger.month = blank.copy()
    return Books(served, members, bills, costs, fees, dues)


def asks(model: CommunityGovernanceModel, books: Books, covered: np.ndarray) -> np.ndarray:
    """What every SO asks of donors this month, ``covered`` being the part of its costs
    its contracts' draws paid (:func:`fundraising_effort`, :func:`ask`)."""
    sos = model.sos
    effort = fundraising_effort(books.costs, books.fees, books.dues, covered)
    # donors' response to the government share matters only where the SO asks at all
    # (most community SOs' dues cover their small costs): a zero effort asks nothing
    shares = np.zeros(len(sos))
    for i in (effort > 0).nonzero()[0].tolist():
        shares[i] = sos[i].ledger.government_share()
    return ask(effort, column(sos, "reputation"), books.served, books.members, shares,
               model.p)


def count_members(model: CommunityGovernanceModel) -> np.ndarray:
    """Every SO's members this month (residents whose ``member_of`` is its id), in the
    order of ``model.sos`` (:func:`_settle` sets them on the SOs)."""
    ids = column(model.sos, "unique_id", np.int64)
    member_of = model.pop.member_of
    counts = np.bincount(member_of[member_of >= 0],
                         minlength=int(ids.max()) + 1 if ids.size else 0)
    return counts[ids]


def _settle(model: CommunityGovernanceModel, sos: list[SocialOrganization], books: Books,
            gifts: np.ndarray, covered: np.ndarray) -> None:
    """Every SO's month after its contracts' draws: ``gifts``, fees and dues in (gifts net
    of the cost of raising them), costs out; capacity grows (an incubated SO's with the
    incubators' training), age and incubation count on, and SOs with nothing to do count
    idle months. Each SO notes its ``salary_gap``: the part of its month's deficit (costs
    less takings, gifts and what its draws kept, ``covered``) no larger than the salaries
    (``books.salaries``) the draws left unpaid. The SOs' new state is set in one pass over them,
    members too."""
    p = model.p
    takings = books.fees + books.dues
    income = takings + gifts * (1.0 - p["fundraising_cost"])
    cash = column(sos, "cash") + (income - books.costs)
    deficit = books.costs - income - covered
    gap = np.maximum(np.minimum(deficit, books.salaries - covered), 0.0)
    incubated = column(sos, "incubated_months", np.int64)
    training = float(model.v["policy.incubation.training"]) * (incubated > 0)
    capacity = ecology.grow_capacity(column(sos, "capacity"), books.served, training, p)
    active = ((books.served > 0) | (books.members >= p["min_members"])
              | column(sos, "contracts", bool))
    idle = np.where(active, 0, column(sos, "idle_months", np.int64) + 1)
    incubated = np.maximum(incubated - 1, 0)
    # gifts and takings count one SO after the other, as the SOs were settled
    nongov = model.nongov_month
    for so, cash_, gap_, capacity_, incubated_, idle_, members, fees, dues, taking, gift in zip(
            sos, cash.tolist(), gap.tolist(), capacity.tolist(), incubated.tolist(),
            idle.tolist(), books.members.tolist(), books.fees.tolist(), books.dues.tolist(),
            takings.tolist(), gifts.tolist(), strict=True):
        so.cash, so.salary_gap, so.capacity, so.incubated_months, so.idle_months, so.members = (
            cash_, gap_, capacity_, incubated_, idle_, members)
        so.age += 1
        so.ledger.takings(fees, dues, gift)
        nongov += taking
        nongov += gift
    model.nongov_month = nongov


class Charge(NamedTuple):
    """What contracts cost their SOs this month, by part (yuan; one value per contract)."""

    staff: np.ndarray  # salaries for the staff time spent on it
    activity: np.ndarray  # materials, venues, insurance of the units delivered on it
    overhead: np.ndarray  # management fee (管理费) on those direct costs

    @property
    def total(self) -> np.ndarray:
        return self.staff + self.activity + self.overhead

    @property
    def own_costs(self) -> np.ndarray:
        """The part that pays the SO's own costs (salaries, rent, running); the activity
        costs pass through to suppliers."""
        return self.staff + self.overhead


def salary_bills(sos: list[SocialOrganization], p: dict[str, float], salary: float
                 ) -> np.ndarray:
    """Each SO's salaries this month."""
    return salaries(staff_counts(sos), salary, p)


def charges(bill: np.ndarray, effort: np.ndarray, units: np.ndarray,
            p: dict[str, float]) -> Charge:
    """What contracts cost their SOs this month: the share ``effort`` of the staff's time
    (of the SO's salary ``bill``: :func:`salary_bills`), the activity costs of every unit
    delivered on it (``units``: volunteers' units use materials, venues and insurance too)
    and the management fee on both."""
    staff = bill * effort
    activity = costing.activity_cost(p) * units
    return Charge(staff, activity, p["contract_overhead_share"] * (staff + activity))


def draw_on_contracts(model: CommunityGovernanceModel, sos: list[SocialOrganization],
                      salary: float) -> np.ndarray:
    """专款专用: each buyer pays a twelfth of the value into the contract's account; the
    SO draws what the contract cost it, as far as the balance goes (a draw short of the
    cost pays each part pro rata: the SO buys the materials the account pays for and
    carries the rest of its salaries itself); at the contract's end the balance returns to
    the buyer. Returns, for each SO of ``sos``, the part of its own costs the draws
    covered, which is what it keeps (and what crowds out its fundraising). The charges
    are worked out for all open contracts at once; the money moves contract by contract,
    in order, as the accounts are kept."""
    p = model.p
    held = [(i, so, contract) for i, so in enumerate(sos) for contract in so.contracts
            if contract.months_left > 0]  # an ended contract's account is closed
    covered = [0.0] * len(sos)
    if not held:
        return np.array(covered)
    bills = salary_bills([so for _, so, _ in held], p, salary)  # its SO's, per contract
    contracts = [contract for _, _, contract in held]
    balance = column(contracts, "balance") + column(contracts, "value") / 12.0
    charge = charges(bills, column(contracts, "effort"), column(contracts, "units_charged"),
                     p)
    total = charge.total
    drawn = np.minimum(total, balance)
    own = np.divide(drawn * charge.own_costs, total, out=np.zeros_like(total),
                    where=drawn > 0)  # the rest buys the activities' materials
    gov, group, returned = model.gov_month, model.group_month, model.returned_month
    purchase, nongov = model.purchase_drawn, model.nongov_month
    for (i, so, contract), left, paid, kept in zip(
            held, (balance - drawn).tolist(), drawn.tolist(), own.tolist(), strict=True):
        contract.balance = left
        so.ledger.receive(contract.buyer, paid)
        so.cash += kept
        covered[i] += kept
        if contract.buyer == "group_org":  # group-org money is not government money
            group += paid
        elif contract.buyer == donors.BUYER:  # nor is donors'
            nongov += paid
        else:
            gov += paid
        if contract.buyer == "purchase":
            purchase += paid
        if contract.buyer == "community_fund":  # the committee sees its projects done
            model.committees[contract.community].fund_drawn += paid
        contract.units_charged = 0.0  # charged once
        contract.months_left -= 1
        if contract.months_left <= 0:  # the balance goes back to the buyer
            returned += contract.close_account()
    model.gov_month, model.group_month, model.returned_month = gov, group, returned
    model.purchase_drawn, model.nongov_month = purchase, nongov
    return np.array(covered)


def fees_and_dues(community: np.ndarray, members: np.ndarray, served: np.ndarray,
                  p: dict[str, float], price: float) -> tuple[np.ndarray, np.ndarray]:
    """This month's fees on services (``served``: ``fee_share`` of a unit's ``price``,
    成本核算), and a community SO's members' dues."""
    fees = p["fee_share"] * served * price
    dues = np.where(community, p["member_dues"] * members, 0.0)
    return fees, dues


def fundraising_effort(costs: np.ndarray, fees: np.ndarray, dues: np.ndarray,
                       covered: np.ndarray) -> np.ndarray:
    """Share of full effort each SO puts into fundraising: the part of its ``costs`` that
    its contracts' draws (``covered``: staff time and management fee, not what an account
    holds unspent), fees and dues leave uncovered (grants crowd out effort: Andreoni &
    Payne 2011); an SO with no costs does not fundraise."""
    costing = np.asarray(costs) > 0
    share = (covered + fees + dues) / np.where(costing, costs, 1.0)
    return np.where(costing, np.minimum(np.maximum(1.0 - share, 0.0), 1.0), 0.0)


def ask(effort: np.ndarray, reputation: np.ndarray, served: np.ndarray,
        members: np.ndarray, government_share: np.ndarray, p: dict[str, float]
        ) -> np.ndarray:
    """What each SO asks of donors this month: in proportion to its ``effort``, reputation
    and record (needs met + members), scaled by donors' response to its government share
    (:func:`donors.response`)."""
    response = donors.response(government_share, p)
    return effort * p["donation_rate"] * reputation * (served + members) * p["unit_cost"] * (
        response)


def donations(model: CommunityGovernanceModel, asks: np.ndarray) -> np.ndarray:
    """This month's gifts, one for each ask (:func:`ask`): donors give what is asked up to
    what this year's projects left of the pool SOs reach (:func:`donors.monthly_pool`) and
    ration it pro rata when asks exceed it."""
    pool = donors.monthly_pool(model)
    total = sum(asks.tolist())  # one ask after the other
    given = min(total, pool) / total if total > 0 else 0.0
    return asks * given


def public_spending(model: CommunityGovernanceModel) -> None:
    """Committees' own services and volunteer points redeemed (from the same part of the
    fund; what it does not cover the committee pays on top), station salaries, the
    programmes' running costs, and group orgs' own projects."""
    salary = float(model.v["policy.social_work.salary_index"])
    for committee in model.committees:
        model.gov_month += committee.own_part()[1]
        model.gov_month += salaries(len(committee.staff), salary, model.p)
    model.gov_month += programme_costs(model)
    group_orgs.pay_own_projects(model)


def programme_costs(model: CommunityGovernanceModel) -> float:
    """Yuan the government pays this month to run the policies' programmes: the
    third-party evaluator's fee (procurement.evaluated_budget), training and certification
    support (:func:`training_costs`), the incubator's rooms (:func:`incubator_rooms`), and
    the information platform's app and operators (``platform_cost_per_resident`` a year)."""
    platform = (model.p["platform_cost_per_resident"] * model.pop.size / 12.0
                if model.v["policy.linkage.info_platform"] else 0.0)
    return (model.bureau.evaluation_fee / 12.0 + training_costs(model) + incubator_rooms(model)
            + platform)


def incubator_rooms(model: CommunityGovernanceModel) -> float:
    """Yuan the government pays this month for the rooms of the incubator (孵化基地): what
    the SOs it houses would pay in rent or running costs (:func:`fixed_costs`), which they
    do not pay while incubated (:func:`overheads`)."""
    housed = [so for so in model.sos if so.incubated_months > 0]
    return float(fixed_costs(housed, model.p).sum())


def training_costs(model: CommunityGovernanceModel) -> float:
    """Yuan the government pays this month for training: the incubator's for the SOs it
    incubates (``incubation_training_cost`` an SO at full intensity), social workers'
    in-service training (``sw_training_cost`` a worker at full intensity, every employer's)
    and the certification support of those not yet certified
    (``certification_support_cost`` each)."""
    v, p = model.v, model.p
    incubated = sum(so.incubated_months > 0 for so in model.sos)
    workers = workforce.employed(model)
    uncertified = sum(not w.certified for w in workers)
    return (float(v["policy.incubation.training"]) * p["incubation_training_cost"] * incubated
            + float(v["policy.social_work.training"]) * p["sw_training_cost"] * len(workers)
            + bool(v["policy.social_work.certification_support"])
            * p["certification_support_cost"] * uncertified)
