"""Community public affairs (社区公共事务) and the "622" rule (seed 001).

Yuhuatai's 622 method: over 60% of community affairs settled by residents' deliberation
(议事协商), over 20% by SOs' professional services, under 20% referred upward. Here each
affair is either fit for residents to decide (parking, pets, environment) or a service
matter. With a platform, the month's meeting (议事会) is a residents' meeting of group
representatives: 城市居民委员会组织法 (2018) art. 9 holds it only when more than half of the
representatives attend (``quorum_share``). Seed 001 puts Yuhuatai's 议事协商 on building
heads, group heads and residents' representatives (楼栋长、居民小组长、居民代表), so the
representative form is the one used. A public matter concerns one resident and her
neighbours (邻里事邻里议, seed 001); it reaches the meeting when she or one of her ties
attends, or when a representative of her residents' group (居民小组, the building or
courtyard that elected her, art. 9) attends and has heard of it: from the residents of the
group who take part (volunteers, members, attenders) and their neighbours. A quorate meeting
settles what reaches it (decisions by a majority of those present). Below the quorum the
meeting cannot be held and decides nothing. Nobody is turned away and nobody is seated by
decree: who attends comes from residents' own choices and the committee's convening
(participation.py), so whether the quorum is met, and how much reaches the meeting, emerge.
Two more channels bring matters to the agenda (seed 001, 健全反馈机制 and 线上协商). The
committee's community workers (社区工作者, every community has them, a number per resident)
and, where the station has staff, its social workers visit households (民情大走访, 网格化管理)
with part of their month, the households longest unvisited among those whose matters reach
nobody at the meeting first; a visited household keeps its line to the committee for some
months, through which a resident passes her matter on when willing to speak up; visits
stop when the time runs out (the community workers' first, then the station's, taken from
coordinating volunteers) or when no unheard household is left. With the information
platform (掌上社区APP, WeChat), residents who use it may post their matter there, when
speaking up clears their threshold less what a post saves over taking part. Neither
channel settles anything: a matter it brings is settled only by a held meeting.
A service matter (a family's care, a dispute to mediate) is in one of the domains residents'
needs are in; the committee passes it to the SOs serving that domain in the community
(三社联动), which settle it with service time their month left unused (``affair_so_slots``
a matter), and some undecided public matters likewise. What nobody settles is referred.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sanshe.sim.mechanisms import needs
from sanshe.sim.population import (
    ELDERLY,
    Peers,
    Population,
    order_by_group,
    peer_counts,
    rank_in_group,
)

if TYPE_CHECKING:
    from sanshe.sim.model import CommunityGovernanceModel

#: Affairs arising and how they are settled draw from this stream only.
STREAM = "affairs"


@dataclass
class Meeting:
    """This month's deliberation meeting in each community (arrays per community)."""

    attendees: np.ndarray  # everyone present
    quorate: np.ndarray  # bool: more than quorum_share of the representatives present
    needed: np.ndarray  # attenders the quorum needs (representatives)
    reach: np.ndarray  # share of residents whose matter reaches the meeting (its agenda)


@dataclass
class Agenda:
    """What brings residents' matters to the meeting beyond those who take part: who uses
    the online platform, households, and the station's visits (民情大走访)."""

    online: np.ndarray  # bool per resident: uses the community's online platform
    household: np.ndarray  # per resident: her household, numbered across the district
    household_community: np.ndarray  # per household: its community
    # per resident: last month her household's line to the committee (a visit's) holds;
    # kept per resident, each member a copy, so the month's reads are one pass, no gather
    line_until: np.ndarray
    visit_time: np.ndarray  # per community: station staff time (coordinator-months) visiting
    committee_left: np.ndarray  # per community: community workers' months left for convening

    @cached_property
    def online_share(self) -> float:
        """Share of the district's residents on the online platform (drawn once a run)."""
        return float(self.online.mean()) if self.online.size else 0.0

    @cached_property
    def first_member(self) -> np.ndarray:
        """Per household: its first resident (households are runs of residents)."""
        return np.diff(self.household, prepend=-1).nonzero()[0]

    @property
    def contact_until(self) -> np.ndarray:
        """Per household: last month a visit's line to the committee holds (a copy)."""
        return self.line_until[self.first_member]

    @cached_property
    def members(self) -> np.ndarray:
        """(largest household size, households): each household's residents, its first
        one repeated where it is smaller, so what is done to a household's members is one
        fancy index (kept for the run: 32-bit positions, about 5 bytes a resident)."""
        first = self.first_member
        size = np.diff(first, append=self.household.size)
        slot = np.arange(size.max(initial=0))[:, None]
        return (first + np.where(slot < size, slot, 0)).astype(np.int32)

    @cached_property
    def starts_household(self) -> np.ndarray:
        """Per resident: she is her household's first."""
        return np.diff(self.household, prepend=-1) != 0

    @cached_property
    def housemate_after(self) -> list[np.ndarray]:
        """For k = 1, 2, … up to the largest household size less one: per resident but the
        last k, whether the resident k places after her shares her household."""
        return [self.household[k:] == self.household[:-k]
                for k in range(1, self.members.shape[0])]

    def households_where(self, flags: np.ndarray) -> np.ndarray:
        """The households (in order) where ``flags`` holds for someone. Households are
        runs of two or three residents: each resident's flag is ORed with her housemates'
        after her by shifted passes and read at the first, a few times cheaper than
        gathering every household's members."""
        anyone = flags.copy()
        for k, shared in enumerate(self.housemate_after, start=1):
            anyone[:-k] |= flags[k:] & shared
        anyone &= self.starts_household
        return self.household[anyone.nonzero()[0]]

    @classmethod
    def build(cls, pop: Population, p: dict[str, float], rng: np.random.Generator) -> Agenda:
        """Households are runs of ``household_size`` residents in storage order (a rule);
        platform use is drawn once, lower among the elderly (CNNIC 2022)."""
        share = np.where(pop.age == ELDERLY, p["online_use_elderly"], p["online_use_share"])
        online = rng.random(pop.size) < share
        local = np.arange(pop.size) - pop.offsets[pop.community]
        per = np.floor((pop.counts() - 1) / p["household_size"]).astype(np.int64) + 1
        first = np.concatenate([[0], np.cumsum(per)[:-1]])
        household = first[pop.community] + np.floor(local / p["household_size"]).astype(np.int64)
        return cls(online=online, household=household,
                   household_community=np.repeat(np.arange(pop.communities), per),
                   line_until=np.full(pop.size, -1, np.int64),
                   visit_time=np.zeros(pop.communities),
                   committee_left=np.zeros(pop.communities))


@dataclass
class AffairsResult:
    """Affairs of one month, by how they were settled, per community."""

    deliberation: np.ndarray
    so_service: np.ndarray
    referral: np.ndarray
    decided: np.ndarray  # bool per community: a quorate meeting decided something
    failed: np.ndarray  # bool per community: residents came but the meeting was inquorate
    pivotal: np.ndarray  # per community: needed / attendees (at most 1), how much one counted
    so_time_left: np.ndarray  # per community: SOs' unused slots left after the matters

    @property
    def total(self) -> int:
        return int(self.deliberation.sum() + self.so_service.sum() + self.referral.sum())


def monthly(model: CommunityGovernanceModel, peers: Peers, spare: np.ndarray) -> AffairsResult:
    """Community public affairs settled by meetings, SOs or referral (the 622 rule); the
    streets count what is referred to them. ``peers``: last month's choices of each
    resident's ties (:func:`~sanshe.sim.population.peer_counts`); ``spare``: SOs' service
    slots left unused this month by (community, domain)
    (:attr:`~sanshe.sim.mechanisms.services.Delivery.so_spare`)."""
    result = settle(model.sizes.astype(float),
                    meeting(model.pop, model.p["quorum_share"], agenda_reach(model, peers)),
                    spare, service_domains(model.pop),
                    bool(model.v["policy.community.deliberation"]), model.p,
                    model.streams[STREAM])
    referral = result.referral.tolist()
    for committee in model.committees:
        committee.street.referrals += referral[committee.index]
    return result


def service_domains(pop: Population) -> np.ndarray:
    """Per (community, domain): the share of a community's service matters in each domain,
    that of its residents' open needs (even shares where none is open)."""
    return needs.domain_shares(needs.open_counts(pop))


def agenda_reach(model: CommunityGovernanceModel, peers: Peers | None = None) -> np.ndarray:
    """Per resident: her matter reaches the meeting through someone there, a post on the
    online platform, or the committee's visits (visits go to whom the others miss)."""
    heard = in_person(model.pop, peers)
    model.agenda.visit_time = np.zeros(model.pop.communities)
    model.agenda.committee_left = np.zeros(model.pop.communities)
    if not model.v["policy.community.deliberation"]:
        return heard
    margin = speaking_up(model.pop, model.p)
    if model.v["policy.linkage.info_platform"]:
        heard |= posting(model.pop, model.agenda.online, model.p, margin)
    heard |= passing_on(model, visited(model, heard), margin)
    return heard


def in_person(pop: Population, peers: Peers | None = None) -> np.ndarray:
    """Per resident: she or a tie attends, or a representative of her residents' group
    attends and she or a tie takes part (邻里事邻里议). ``peers``: her ties' choices
    (:func:`~sanshe.sim.population.peer_counts`; counted here if not given)."""
    here = pop.deliberating
    peers = peer_counts(pop) if peers is None else peers
    # counts may be strided (bytes of packed sums): compared after a contiguous copy,
    # about half the instructions of comparing them in place
    heard = pop.participating | (np.ascontiguousarray(peers.taking_part) > 0)
    heard &= represented(pop, here & pop.representative)  # known to someone active
    heard |= here
    heard |= np.ascontiguousarray(peers.attending) > 0
    return heard


def speaking_up(pop: Population, p: dict[str, float]) -> np.ndarray:
    """Per resident: how far her participation pull (disposition, age, trust, efficacy)
    clears her threshold — what raising her own matter outside a meeting asks. No draw."""
    pull = pop.settled_pull(p)  # age and disposition; the terms added in place, in order
    trust = pop.trust - p["trust_initial"]
    trust *= p["trust_weight"]
    pull += trust
    pull += pop.efficacy
    pull -= pop.threshold
    return pull


def posting(pop: Population, online: np.ndarray, p: dict[str, float],
            margin: np.ndarray | None = None) -> np.ndarray:
    """线上协商 (seed 001): a resident on the community's online platform posts her matter
    when speaking up clears her threshold less ``online_post_ease``, what a post saves over
    joining in (``margin``: :func:`speaking_up`, computed here if not given). No draw."""
    margin = speaking_up(pop, p) if margin is None else margin
    return online & (margin + p["online_post_ease"] > 0)


def passing_on(model: CommunityGovernanceModel, line: np.ndarray,
               margin: np.ndarray) -> np.ndarray:
    """Per resident: the committee hears her matter through its visits. A household visited
    this month told the worker at the door; in later months, while its line (民情联系卡,
    the worker's WeChat) holds, a resident passes her matter on only when speaking up
    clears her threshold less ``contact_ease`` (a message to a worker she has met asks
    less than joining in). ``line``: :func:`visited`; ``margin``: :func:`speaking_up`."""
    ag = model.agenda
    this_month = model.month + int(model.p["visit_contact_months"]) - 1
    at_the_door = ag.line_until == this_month
    return at_the_door | (line & (margin + model.p["contact_ease"] > 0))


def visit_capacity(model: CommunityGovernanceModel) -> np.ndarray:
    """Household visits the committee can make this month: its community workers' time for
    民情大走访 and the part of the station staff's time they give to it, one home visit
    taking ``convening_visit_time``."""
    time = committee_time(model) + station_staff(model) * model.p["agenda_visit_share"]
    return np.floor(time / model.p["convening_visit_time"])


def committee_time(model: CommunityGovernanceModel) -> np.ndarray:
    """Per community: the months its community workers (社区工作者, the committee's paid
    staff, ``community_workers_per_10k`` residents, in every scenario) give this month to
    visiting households and convening meetings (``community_worker_outreach_share``: the
    rest goes to administrative tasks and services). Time, not people: a part worker is
    part of a worker's month."""
    p = model.p
    return (model.sizes * (p["community_workers_per_10k"] / 10_000.0)
            * p["community_worker_outreach_share"])


def station_staff(model: CommunityGovernanceModel) -> np.ndarray:
    """Per community: the social workers its station (社工站) employs this month, whose
    time the visits and the convening take."""
    staff = np.zeros(model.pop.communities)
    for committee in model.committees:
        staff[committee.index] = len(committee.staff)
    return staff


def visited(model: CommunityGovernanceModel, heard: np.ndarray) -> np.ndarray:
    """民情大走访, 网格化管理 (seed 001): community workers and station staff visit households
    with a resident whose matter reaches nobody and no live line to the committee, longest
    unvisited first, as many as their time allows (a rule, no draw); a visit's line lasts
    ``visit_contact_months``. The community workers' time is spent first; records what is
    left of it and the station's time spent; returns who has a live line."""
    ag, month = model.agenda, model.month
    due = ag.households_where(~heard & (ag.line_until < month))  # no live line: all or none
    # by community, then longest unvisited (contact_until in -1..month-1), then household
    # (the given order): one stable sort of a combined key (radix-sorted while it is small)
    key = ag.household_community[due] * (month + 1) + (ag.line_until[ag.first_member[due]] + 1)
    due = due[order_by_group(key, model.pop.communities * (month + 1))]
    keys = ag.household_community[due]
    rank = rank_in_group(keys, model.pop.communities)
    chosen = due[rank < visit_capacity(model)[keys]]
    ag.line_until[ag.members[:, chosen]] = month + int(model.p["visit_contact_months"]) - 1
    spent = (np.bincount(ag.household_community[chosen], minlength=model.pop.communities)
             * model.p["convening_visit_time"])
    committee = committee_time(model)
    ag.visit_time = np.maximum(spent - committee, 0.0)
    ag.committee_left = np.maximum(committee - spent, 0.0)
    return ag.line_until >= month


def meeting(pop: Population, quorum_share: float, heard: np.ndarray | None = None) -> Meeting:
    """Who attends (residents' last choices), whether the quorum is met, and how many
    residents' matters reach it (``heard``: by default through those who take part)."""
    here = pop.deliberating
    reps, present = attending_representatives(pop)
    heard = in_person(pop) if heard is None else heard
    return Meeting(
        attendees=pop.per_community(here),
        quorate=quorate_meetings(reps, present, quorum_share),
        needed=quorum_needed(reps, quorum_share),
        reach=pop.per_community(heard) / np.maximum(pop.counts(), 1),
    )


class Seats(NamedTuple):
    """Who sits for whom, fixed through a run: the representatives (their positions and
    communities, and how many each community has) and the residents of each residents'
    group."""

    where: np.ndarray  # positions of the representatives
    community: np.ndarray  # each representative's community
    per_community: np.ndarray  # representatives per community (float)
    group_size: np.ndarray  # residents of each residents' group


def seats(pop: Population) -> Seats:
    """``pop``'s :class:`Seats`, counted once and kept with it (:meth:`Population.keep`):
    asked three times a month."""
    def count() -> Seats:
        where = pop.representative.nonzero()[0]
        community = pop.community[where]
        return Seats(where, community,
                     np.bincount(community, minlength=pop.communities).astype(float),
                     np.bincount(pop.residents_group))
    return pop.keep("seats", (pop.representative, pop.community, pop.residents_group), count)


def attending_representatives(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Per community: its residents' representatives, and how many of them attend (their
    latest choices) — what the quorum, convening and fellow representatives look at."""
    fixed = seats(pop)  # a few in a hundred: count them, not all
    attending = fixed.community[pop.deliberating[fixed.where]]
    return (fixed.per_community.copy(),
            np.bincount(attending, minlength=pop.communities).astype(float))


def represented(pop: Population, speaking: np.ndarray) -> np.ndarray:
    """Per resident: a representative of her residents' group is at the meeting to raise
    the group's matters (邻里事邻里议, seed 001; representatives are elected by and for
    their group: 城市居民委员会组织法 art. 9)."""
    group_size = seats(pop).group_size
    voiced = np.zeros(group_size.size, bool)  # few speak: mark their groups
    voiced[pop.residents_group[speaking]] = True
    # groups are runs of residents (population.residents_groups): each group's mark
    # repeated over its run, several times cheaper than a gather per resident
    return np.repeat(voiced, group_size)


def quorum_needed(representatives: np.ndarray, quorum_share: float) -> np.ndarray:
    """Representatives who must attend for the meeting to be held (more than the share)."""
    return np.floor(quorum_share * representatives) + 1.0


def quorate_meetings(representatives: np.ndarray, present: np.ndarray,
                     quorum_share: float) -> np.ndarray:
    """Whether each community's meeting can be held: more than ``quorum_share`` of its
    representatives present (过半数出席)."""
    return (representatives > 0) & (present > quorum_share * representatives)


def settle(residents: np.ndarray, meeting: Meeting, spare: np.ndarray, domains: np.ndarray,
           platform: bool, p: dict[str, float], rng: np.random.Generator) -> AffairsResult:
    """Draw each community's affairs this month and settle them.

    ``spare``: SOs' unused service slots by (community, domain); ``domains``: the share of
    each community's service matters in each domain (:func:`service_domains`). A matter an
    SO settles takes ``affair_so_slots`` of its time: service matters first, in their
    domain, then the undecided public matters passed to SOs, from any domain's time left.
    """
    arising = rng.poisson(p["affairs_per_1000"] * residents / 1000.0)
    public = rng.binomial(arising, p["deliberable_share"])
    service = arising - public

    raised = rng.binomial(public, meeting.reach)  # someone at the meeting brings it up
    by_meeting = np.where(platform & meeting.quorate, raised, 0)
    undecided = public - by_meeting
    by_domain = rng.multinomial(service, domains)  # service matters, in their domains
    passed = rng.binomial(undecided, p["so_public_affair_share"])  # public ones sent to SOs
    per_matter = p["affair_so_slots"]
    service_by_so = np.minimum(by_domain, np.floor(spare / per_matter)).astype(np.int64)
    left = np.maximum(spare.sum(axis=1) - service_by_so.sum(axis=1) * per_matter, 0.0)
    public_by_so = np.minimum(passed, np.floor(left / per_matter)).astype(np.int64)
    by_so = public_by_so + service_by_so.sum(axis=1)
    left -= public_by_so * per_matter
    return AffairsResult(
        deliberation=by_meeting,
        so_service=by_so,
        referral=arising - by_meeting - by_so,
        decided=by_meeting > 0,
        failed=platform & ~meeting.quorate & (meeting.attendees > 0),
        pivotal=np.minimum(meeting.needed / np.maximum(meeting.attendees, 1.0), 1.0),
        so_time_left=left,
    )
