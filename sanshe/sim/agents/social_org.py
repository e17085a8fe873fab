"""Social organizations (社会组织): community SOs and professional agencies.

Community-based SOs (社区社会组织, filed/备案) are founded by resident leaders, run on members'
volunteering and small money, and serve their own community. Professional SOs and private
social-work agencies (民办社工机构) employ social workers and live on contracts across the
district. Both have capacity, cash, reputation, a rating, ties to officials (seed 002) and
a life cycle: founded → possibly incubated → active → closed when money or members run out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sanshe.sim.mechanisms.workforce import caseload
from sanshe.sim.so_directory import column, staff_counts

if TYPE_CHECKING:
    from sanshe.sim.agents.social_worker import SocialWorker
    from sanshe.sim.mechanisms.services import Offers

COMMUNITY, PROFESSIONAL = "community", "professional"

#: Revenue sources (seeds 000, 001); the first three are government money.
GOVERNMENT_SOURCES = ("purchase", "venture", "community_fund")
SOURCES = GOVERNMENT_SOURCES + ("group_org", "donations", "fees", "dues")

#: What a lot buys. A service meets residents' needs and the SO may steer it to what they
#: ask; under government-led linkage officials also buy their own deliverables (seed 004:
#: 配合上级政府的任务要求或配合社会性的大型活动): a large event, set in a community and domain,
#: meets needs only where residents there have them; the administrative deliverables
#: (宣传 campaigns, 台账 reports, 检查 inspections: 行政化, seed 002) meet none.
SERVICE, EVENT = "service", "event"
ADMINISTRATIVE: tuple[str, ...] = ("campaign", "report", "inspection")
DELIVERABLES: tuple[str, ...] = (EVENT,) + ADMINISTRATIVE


def salaries(staff: int | np.ndarray, salary_index: float, p: dict[str, float]
             ) -> float | np.ndarray:
    """Monthly salaries of ``staff`` social workers (a count, or one per employer) at the
    district's salary index times the local wage — the one salary rule of SOs, stations
    and contracts' staff time."""
    return staff * salary_index * p["local_wage"]


def monthly_costs(sos: list[SocialOrganization], p: dict[str, float], salary_index: float,
                  rent_factor: np.ndarray | float) -> np.ndarray:
    """Every SO's salaries and :func:`overheads` (``rent_factor``: one per SO, or one for
    all), in their order: a rule over all SOs at once (tens of thousands in a city)."""
    return salaries(staff_counts(sos), salary_index, p) + overheads(sos, p, rent_factor)


def fixed_costs(sos: list[SocialOrganization], p: dict[str, float]) -> np.ndarray:
    """Every SO's rent (an agency's office) or running costs (a community SO) a month,
    before any free space or incubator pays them."""
    return np.where(column(sos, "is_community", bool), p["community_so_cost"],
                    p["rent_per_month"])


def overheads(sos: list[SocialOrganization], p: dict[str, float],
              rent_factor: np.ndarray | float) -> np.ndarray:
    """Every SO's :func:`fixed_costs` less any free space (``rent_factor``), nothing while
    incubated: the costs no contract pays by the unit."""
    return np.where(column(sos, "incubated_months", np.int64) > 0, 0.0,
                    fixed_costs(sos, p) * rent_factor)


@dataclass(frozen=True)
class Lot:
    """One contract on offer: where, what and for how much."""

    community: int
    domain: int
    value: float
    kind: str = SERVICE  # SERVICE or one of DELIVERABLES


@dataclass(slots=True)
class Contract:
    """A purchased service: who pays, where, what, how much per month, and its record."""

    buyer: str  # purchase | venture | community_fund | group_org
    community: int
    domain: int
    value: float  # yuan for the year
    slots: float  # services per month contracted
    months_left: int = 12
    served: float = 0.0  # real services delivered (needs met), in any domain
    served_spec: float = 0.0  # of which in the contracted domain (what delivery audits count)
    showcase: float = 0.0  # effort spent on visible activities that meet no need
    quality_sum: float = 0.0  # quality × (served + deliverables), for evaluation
    evaluated: bool = False
    kind: str = SERVICE  # what the lot bought (SERVICE or one of DELIVERABLES)
    deliverables: float = 0.0  # administrative deliverables produced (meet no need)
    # The contract's own account (专款专用): the buyer pays a twelfth of the value in each
    # month and the SO draws only what the contract cost it (finance.draw_on_contracts).
    balance: float = 0.0  # yuan paid in and not yet drawn
    effort: float = 0.0  # this month's share of the SO's staff effort spent on it
    # units delivered on it this month: needs met (volunteers' included), showcase units
    # and administrative deliverables, each using a unit's materials (finance.charges)
    units_charged: float = 0.0
    # A month's staff-time line of its budget, set by the buyer's cost accounting
    # (成本核算: costing.staff_line); None for a contract made without one.
    staff_line: float | None = None

    @property
    def monthly_payment(self) -> float:
        """What the buyer pays into the contract's account each month."""
        return self.value / 12.0

    @property
    def staff_budget(self) -> float:
        """What its account can pay in salaries a month: its budget's staff line, or the
        whole payment where the buyer priced no line."""
        return self.monthly_payment if self.staff_line is None else self.staff_line

    def close_account(self) -> float:
        """结余资金: empty the account; what it held goes back to the buyer."""
        left, self.balance = self.balance, 0.0
        return left


def year_revenue(year: dict[str, float]) -> tuple[float, float]:
    """A year's revenue (``year``: a :class:`Ledger`'s entries) and the part of it from
    government (``GOVERNMENT_SOURCES``)."""
    return sum(year.values()), sum(map(year.__getitem__, GOVERNMENT_SOURCES))


@dataclass(slots=True)
class Ledger:
    """Money in and out; ``month`` is reset every month, ``year`` every year."""

    month: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0.0))
    year: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0.0))

    def receive(self, source: str, amount: float) -> None:
        self.month[source] += amount
        self.year[source] += amount

    def takings(self, fees: float, dues: float, donations: float) -> None:
        """The month's fees, dues and gifts, in that order, at once (every SO takes them
        every month; a zero changes no entry and is skipped). Written out source by source:
        a loop over them took as long as the additions, once for every SO every month."""
        month, year = self.month, self.year
        if fees:
            month["fees"] += fees
            year["fees"] += fees
        if dues:
            month["dues"] += dues
            year["dues"] += dues
        if donations:
            month["donations"] += donations
            year["donations"] += donations

    def government_share(self) -> float:
        """Share of this year's revenue that came from government."""
        total, government = year_revenue(self.year)
        return government / total if total > 0 else 0.0


class SocialOrganization(mesa.Agent):
    """One social organization with its money, people, record and standing."""

    # Its state held in the object itself, not in a dictionary beside it: rules read one
    # attribute of every SO many times a month, and with tens of thousands of SOs (a city)
    # each dictionary is a cache miss (about three times faster to read on Python 3.11).
    __slots__ = ("kind", "is_community", "domain", "community", "capacity", "cash", "ties",
                 "reputation", "rating", "orientation", "responsiveness", "age",
                 "incubated_months", "ever_incubated", "idle_months", "members", "staff",
                 "contracts", "ledger", "year_served", "year_quality", "salary_gap",
                 "carried_costs")

    def __init__(self, model: mesa.Model, kind: str, domain: int, community: int,
                 capacity: float, cash: float, ties: float) -> None:
        super().__init__(model)
        self.kind = kind
        self.is_community = kind == COMMUNITY  # the kind never changes
        self.domain = domain
        self.community = community  # home community; professional SOs also work elsewhere
        self.capacity = capacity  # organisational capacity / professionalism, 0..1
        self.cash = cash
        self.ties = ties  # closeness to officials (seed 002: directed purchase favours it)
        self.reputation = model.p["reputation_initial_share"] * capacity
        self.rating = 0  # 0, 3, 4 or 5 (A)
        # share of contracted effort on real needs (vs showcase)
        self.orientation = model.p["orientation_initial"]
        # share of real contracted service placed by residents' own expressed needs in the
        # contract's community rather than by its specification (向下负责, seed 002)
        self.responsiveness = 0.0
        self.age = 0
        self.incubated_months = 0
        self.ever_incubated = False
        self.idle_months = 0
        self.members = 0
        self.staff: list[SocialWorker] = []
        self.contracts: list[Contract] = []
        self.ledger = Ledger()
        self.year_served = 0.0  # needs met this year, all services (social evaluation)
        self.year_quality = 0.0  # Σ quality × needs met this year
        self.salary_gap = 0.0  # last month's deficit its unpaid salaries caused (finance)
        self.carried_costs = -1.0  # running mean of its costs (ecology.closures; -1: none yet)

    # --- standing ---------------------------------------------------------------------
    @property
    def incubated(self) -> bool:
        return self.incubated_months > 0

    def skill(self) -> float:
        """Mean skill of staff social workers (0 when none)."""
        staff = self.staff
        return sum([w.skill for w in staff]) / len(staff) if staff else 0.0

    def quality(self, p: dict[str, float], output: float | None = None,
                contracted: float | None = None) -> float:
        """Quality of a service delivered now: capacity and staff skill, diluted by overload
        (``output``: this month's :meth:`output`, ``contracted``: :meth:`contracted`, when
        the caller has them)."""
        base = self.capacity  # an SO without staff: its capacity alone (the same double)
        if self.staff:
            w = p["sw_quality_weight"]
            base = (1.0 - w) * base + w * self.skill()
        if not self.contracts:  # nothing contracted, no overload (most community SOs)
            return base
        load = self.load(p, output, contracted)
        return base * min(1.0, 1.0 / load) ** p["overload_penalty"] if load > 0 else base

    # --- production -------------------------------------------------------------------
    def output(self, p: dict[str, float]) -> float:
        """Services this SO can produce in a month (staff caseloads plus volunteers)."""
        volunteers = p["slots_per_volunteer"] * self.members
        if not self.staff:  # most community SOs: their members' hours only
            return volunteers
        unskilled, per_worker = p["unskilled_productivity"], caseload(p, self.model.v)
        staff = sum([per_worker * (unskilled + (1.0 - unskilled) * w.skill)
                     for w in self.staff])
        return staff * (1.0 - self.outreach_share(p)) + volunteers

    def outreach_share(self, p: dict[str, float]) -> float:
        """Share of staff time a landed agency spends reaching residents and coaching
        leaders where it holds contracts (社会组织优先落地社区: the landing obligation of its
        contracts); those hours are not service hours, unless it hires for them."""
        landed = bool(self.model.v["policy.four_priorities.landing"])
        if self.is_community or not self.contracts or not landed:
            return 0.0
        return p["landing_outreach_share"]

    def contracted(self) -> float:
        return sum([c.slots for c in self.contracts])

    def load(self, p: dict[str, float], output: float | None = None,
             contracted: float | None = None) -> float:
        """Contracted services relative to what the SO can produce."""
        if not self.contracts:
            return 0.0
        if contracted is None:
            contracted = self.contracted()
        return contracted / max(self.output(p) if output is None else output, 1e-9)

    def monthly_costs(self, p: dict[str, float], salary_index: float, rent_factor: float) -> float:
        """Salaries, rent (less any free space) and running costs (:func:`monthly_costs`)."""
        return float(monthly_costs([self], p, salary_index, rent_factor)[0])

    def overhead(self, p: dict[str, float], rent_factor: float) -> float:
        """Rent or running costs less free space (:func:`overheads`)."""
        return float(overheads([self], p, rent_factor)[0])

    def effort_per_unit(self, p: dict[str, float]) -> float:
        """Effort units a contracted unit takes at the SO's orientation: real casework
        ``real_service_cost``, showcase work one."""
        o = self.orientation
        return o * p["real_service_cost"] + (1 - o)

    def staff_needed(self, p: dict[str, float], work: float | None = None) -> int:
        """Social workers an SO wants to deliver its contracts and, landed, its outreach (a
        community SO only once it holds contracts: its members volunteer its own
        activities); what its contracts' staff lines and its reserve pay limits the posts
        it opens (:meth:`posts_to_fill`). ``work``: :meth:`contract_work`, if the caller
        has it."""
        if self.is_community and not self.contracts:
            return 0
        needed = math.ceil(self.contract_work(p) if work is None else work)
        return needed if self.is_community else max(1, needed)

    def contract_work(self, p: dict[str, float]) -> float:
        """Worker-months of staff time the contracts take this month (their effort less
        what members' volunteering covers, a landed agency's outreach and its workers'
        training hours included: :func:`caseload`): the time their accounts pay salaries
        for (专款专用; :meth:`share_effort`)."""
        effort = self.contracted() * self.effort_per_unit(p)
        volunteer_part = p["slots_per_volunteer"] * self.members
        per_worker = caseload(p, self.model.v) * (1.0 - self.outreach_share(p))  # outreach too
        return max(effort - volunteer_part, 0) / per_worker

    def posts_to_fill(self, p: dict[str, float], salary_index: float) -> int:
        """Posts the SO opens this month: enough staff for its contracts, as far as their
        accounts and its reserve pay them. The accounts pay only the staff time spent on
        the contracts (专款专用: :meth:`share_effort`), so a manager counts the salaries of
        the worker-months the contracts take (:meth:`contract_work`: a worker's month at
        most once), no more than their budgets' staff lines (:attr:`Contract.staff_budget`:
        none where the buyer priced volunteers' work), not the contracts' whole payments,
        plus the reserve spread over ``reserve_spending_months``. With no work and no
        money it lets one go, and so it does with more staff than its contracts need. It
        also lets one go while its reserve cannot carry, for ``reserve_spending_months``,
        last month's ``salary_gap`` (the part of its deficit from salaries its contracts'
        draws did not pay) — the hiring reckoning read through its books — so salaries the
        contracts no longer pay do not run it into debt."""
        strained = bool(self.staff) and self.salary_gap > 0 and (
            self.cash < self.salary_gap * p["reserve_spending_months"])
        if not self.contracts:
            if self.staff and (self.cash < 0 or strained):
                self.staff.pop().remove()
            return 0
        work = self.contract_work(p)
        needed = self.staff_needed(p, work) - len(self.staff)
        if (needed < 0 and self.cash < 0) or strained:
            self.staff.pop().remove()
            return 0
        if needed <= 0:  # no post to open, whatever the accounts could pay (most months)
            return 0
        salary = salaries(1, salary_index, p)
        budget = sum([c.staff_budget for c in self.contracts])
        paid = min(salary * work, budget)  # the time the accounts pay
        reserve = self.cash / p["reserve_spending_months"]
        affordable = int(max(paid + reserve, 0) // salary)
        return max(min(needed, affordable - len(self.staff)), 0)

    def share_effort(self, p: dict[str, float], output: float, on_contracts: float,
                     contracted: float | None = None) -> None:
        """Each contract's share of this month's staff time, which its account pays in
        salaries (专款专用), and a fresh count of the units charged to it. Paid staff are
        hired for the contracts (:meth:`posts_to_fill`), so contracted work falls on them
        first and members' volunteering on the rest; a landed agency's outreach is its
        contracts' obligation. Shares follow contracted slots."""
        staff = output - p["slots_per_volunteer"] * self.members  # net of outreach
        busy = min(on_contracts, staff) / staff if staff > 0 else 0.0
        outreach = self.outreach_share(p)
        share = outreach + (1.0 - outreach) * busy
        total = self.contracted() if contracted is None else contracted
        for contract in self.contracts:
            contract.effort = share * contract.slots / total if total > 0 else 0.0
            contract.units_charged = 0.0

    # --- service ----------------------------------------------------------------------
    def offer_services(self, offers: Offers, open_expressed: np.ndarray,
                       p: dict[str, float]) -> float:
        """Split effort between contracts (real or showcase) and own activity; real
        contracted service follows residents' requests as far as the SO is responsive.
        Officials' events happen where and in what domain they set; administrative
        deliverables take the same effort per unit and meet no need. Showcase units and
        administrative deliverables are charged to their contract as made (their
        materials, venues and insurance, :func:`~sanshe.sim.mechanisms.finance.charges`);
        real units, an officials' event's too, as they meet a need
        (:mod:`~sanshe.sim.mechanisms.services`).
        ``open_expressed`` counts open expressed needs by (community, domain). Returns the
        quality offered (the volunteers it coordinates serve at it too)."""
        effort = self.output(p)
        if not self.contracts:  # most community SOs: their own activity only
            quality = self.quality(p, effort)
            if self.is_community:
                offers.add((self, None, True, None), self.community, self.domain,
                           max(effort, 0.0), quality, True)
            return quality
        contracted = self.contracted()
        quality = self.quality(p, effort, contracted)
        o = self.orientation
        needed = contracted * self.effort_per_unit(p)
        scale = min(1.0, effort / needed) if needed > 0 else 0.0
        self.share_effort(p, effort, min(effort, needed), contracted)
        responsive = self.responsiveness
        for contract in self.contracts:
            c = contract.community
            if contract.kind in ADMINISTRATIVE:  # the buyer's paperwork: effort, no need met
                done = scale * contract.slots
                contract.deliverables += done
                contract.quality_sum += quality * done
                contract.units_charged += done  # made with materials, like any unit
                continue
            real_slots = scale * contract.slots * o
            if contract.kind == EVENT or responsive <= 0:  # all in the contracted domain
                # (most SOs: no split to work out, and the one row added at once)
                if real_slots > 0:
                    offers.add((self, contract, True, contract), c, contract.domain, real_slots,
                               quality, True)
            else:
                for d, slots in responsive_split(real_slots, contract.domain, open_expressed[c],
                                                 responsive).items():
                    offers.add((self, contract, d == contract.domain, contract), c, d, slots,
                               quality, True)
            shown = scale * contract.slots * (1 - o)
            contract.showcase += shown
            contract.units_charged += shown  # a visible activity uses materials too
        spare = max(effort - needed, 0.0)
        if self.is_community:
            offers.add((self, None, True, None), self.community, self.domain, spare, quality,
                       True)
        return quality


def responsive_split(real: float, domain: int, expressed: np.ndarray,
                     responsiveness: float) -> dict[int, float]:
    """Real contracted services by domain: ``1 − responsiveness`` of them in the contracted
    ``domain``, the rest spread over the community's expressed needs (``expressed`` by
    domain); all in the contracted domain when nobody has asked for anything. Domains with
    nothing are left out."""
    counts = expressed.tolist() if isinstance(expressed, np.ndarray) else list(expressed)
    total = int(sum(counts)) if responsiveness > 0 else 0
    if total <= 0 or real <= 0:
        return {domain: real} if real > 0 else {}
    flexible = real * responsiveness
    out = {d: flexible * float(n) / total for d, n in enumerate(counts) if n > 0}
    out[domain] = (real - flexible) + out.get(domain, 0.0)
    return out
