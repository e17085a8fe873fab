"""Participation (居民参与): volunteering, deliberation and SO membership.

A threshold model (Granovetter 1978): a resident takes part when her intrinsic motivation
plus the pull of participating neighbours exceeds a personal threshold. Motivation rises
with disposition, age (Shanghai surveys: turnout 13.8% at 18–29, 77.7% at 70–79), trust
(Epstein 2002), satisfaction, efficacy from meetings that decided (Choi & Robertson 2014),
mobilisation by group organisations and social workers, and volunteer points (whose sign
is uncertain: Frey & Jegen 2001). Efficacy decays without support (Fischbacher & Gächter
2010). Residents revisit their choices only now and then (inertia).

Volunteering is occasional (registered ≫ active: Ningbo 2022, about 4 hours a year per
registered volunteer). Joining a volunteer team (登记/注册) and turning out in a month are two
choices: registration persists and is revisited only now and then; turnout is chosen every
month, when coordinators hold occasions (活动) — the station's social workers, community
SOs' organisers and staff, landed agencies' staff — and the month's pull clears the cost of
a dated occasion. Each volunteer who turns out takes ``volunteer_supervision`` of a
coordinator's month, so a provider takes as many as its coordinators' time allows; those
beyond stay out this month and stay registered. A community SO takes members through its
members' ties and turns nobody away; its activities (the services it delivers) occupy so
many of them, and a member with nothing to do there weighs leaving as a recruit weighs not
joining (role underload), so membership follows both willingness and activity.

Attending the deliberation meeting (议事会) is a critical-mass choice (Granovetter 1978;
Oliver, Marwell & Teixeira 1985): a resident weighs her motivation against her threshold
plus the cost of a meeting, pulled by the share of her ties who attended last month; a
representative (居民代表) looks instead at how many fellow representatives came, since
their majority decides whether the meeting can be held. Where the meeting lacked its
quorum, the station's staff convene it (召集): they visit absent representatives, which
draws them and costs time taken from coordinating volunteers. Nobody is turned away. A meeting
that decided raises its attenders' efficacy, one that failed for want of a quorum lowers
it, so turnout feeds on itself in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.mechanisms import affairs, group_orgs, priorities
from sanshe.sim.population import (
    Peers,
    Population,
    order_by_group,
    peer_counts,
    rank_in_group,
)
from sanshe.sim.so_directory import column

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import Contract
    from sanshe.sim.mechanisms.affairs import AffairsResult
    from sanshe.sim.model import CommunityGovernanceModel

#: Choices, rationing, membership and leaders' emergence draw from this stream only.
STREAM = "participation"


@dataclass(frozen=True)
class Room:
    """Community SOs' activity against their membership, one row per community SO: the
    members its activities occupy this month (``occupied``) and those it has. Frozen, so
    the idle shares it keeps (:meth:`idle`) stay those of its rows."""

    so_id: np.ndarray
    community: np.ndarray
    occupied: np.ndarray
    members: np.ndarray
    _idle: dict[bool, np.ndarray] = field(default_factory=dict, init=False, repr=False,
                                          compare=False)

    @classmethod
    def empty(cls) -> Room:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0))

    def idle(self, so_ids: np.ndarray, joining: bool = False) -> np.ndarray:
        """Share of the members of each SO in ``so_ids`` (ids ≥ 0) whom its activities
        leave with nothing to do (counting one more member if ``joining``); 0 for an SO not
        listed."""
        return self._idle_by_id(joining).take(so_ids, mode="clip")

    def _idle_by_id(self, joining: bool) -> np.ndarray:
        """The idle share by SO id, worked out once per SO and kept (membership and the
        volunteers' free time both ask; members ≫ SOs, so each member's share is then one
        gather). One zero past the highest id: ``take(mode="clip")`` sends any higher id
        (an SO not listed) to it, with no search for the highest id asked about."""
        if joining not in self._idle:
            self._idle[joining] = idle_by_id(self.so_id, self.occupied, self.members + joining)
        return self._idle[joining]

    def recruiters(self, community: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For residents of ``community`` asked to join, the SO of the member who asks: one
        of their community's SOs, in proportion to its members (a member's ties reach
        recruits: McPherson et al. 1992); −1 where the community has none with members. One
        draw per resident."""
        communities = int(max(self.community.max(initial=-1), community.max(initial=-1))) + 1
        order = order_by_group(self.community, communities)
        weight = np.cumsum(self.members[order], dtype=float)
        # members are whole numbers, so these sums are exact whatever their order: each
        # community's total, and the members of the communities before it
        total = np.bincount(self.community, weights=self.members, minlength=communities)
        base = np.cumsum(total) - total
        u = rng.random(community.size)
        pick = np.searchsorted(weight, base[community] + u * total[community], side="right")
        has = total[community] > 0
        out = np.full(community.size, -1, np.int64)
        out[has] = self.so_id[order][np.minimum(pick[has], weight.size - 1)]
        return out


def idle_by_id(so_id: np.ndarray, occupied: np.ndarray, members: np.ndarray) -> np.ndarray:
    """The share of each SO's ``members`` its activities leave idle, by SO id (of ``so_id``,
    whose activities occupy ``occupied``), with one zero past the highest id
    (:meth:`Room.idle`)."""
    share = np.where(members > 0,
                     np.maximum(1.0 - occupied / np.maximum(members, 1.0), 0.0), 0.0)
    by_id = np.zeros(int(so_id.max(initial=-1)) + 2)
    by_id[so_id] = share
    return by_id


@dataclass(slots=True)
class Placement:
    """Volunteers one provider coordinates in one community (domain −1: the station's,
    spread over what residents ask for); read by services next month."""

    provider: object  # a SocialOrganization or a CommunityCommittee
    community: int
    domain: int
    coordinators: float  # full-time equivalents of organisers' time
    volunteers: float = 0.0
    contract: Contract | None = None  # the contract the volunteers serve on, if any


@dataclass
class Context:
    """What residents face this month, per community or per resident."""

    mobilisation: np.ndarray  # per resident: group-org + social-worker pull
    positions: np.ndarray  # per community: volunteers coordinators can supervise
    deliberation: bool  # a deliberation platform exists
    volunteer_points: bool
    so_room: Room  # community SOs' activity against their members
    convened: np.ndarray | None = None  # per resident: visited before the next meeting
    peers: Peers | None = None  # last month's choices of her ties (counted if not given)
    # per community: representatives and those attending (counted if not given)
    representatives: tuple[np.ndarray, np.ndarray] | None = None


def monthly(model: CommunityGovernanceModel, settled: AffairsResult, peers: Peers) -> None:
    """Residents choose to register as volunteers and to turn out, deliberate or join an SO
    (threshold model); active residents may grow into leaders. ``peers``: last month's
    choices of each resident's ties (:func:`~sanshe.sim.population.peer_counts`)."""
    pop, p, v = model.pop, model.p, model.v
    attenders = pop.deliberating.nonzero()[0]  # only they hear how the meeting went
    where = pop.community[attenders]
    rewarded = settled.decided[where]
    update_efficacy(pop, attenders[rewarded], p, let_down=attenders[settled.failed[where]],
                    pivotal=settled.pivotal[where[rewarded]])
    outreach = priorities.outreach(model)
    # nobody's attendance changes before residents choose: one count serves convening and
    # the representatives who look at their fellows
    representatives = affairs.attending_representatives(pop)
    convened, spent = convene(model, representatives)
    places = after_convening(placements(model), spent + model.agenda.visit_time)
    time = coordinator_time(places, pop.communities)  # for positions now, shares later
    ctx = Context(
        mobilisation=mobilisation(model, outreach),
        positions=supervisable(places, pop.communities, p, time),
        deliberation=bool(v["policy.community.deliberation"]),
        volunteer_points=bool(v["policy.community.volunteer_points"]),
        so_room=so_room(model),
        convened=convened,
        peers=peers,
        representatives=representatives,
    )
    rng = model.streams[STREAM]
    model.capacity_bound = decide(pop, ctx, p, rng)
    model.volunteering = assign(places, free_volunteers(pop, ctx.so_room), time)
    emerge_leaders(pop, outreach, p, rng)
    earn_points(model, ctx.volunteer_points)


def earn_points(model: CommunityGovernanceModel, points: bool) -> None:
    """积分银行 (seed 004): each volunteer who turned out this month earns ``points_value``
    yuan of points, which her committee redeems next month (goods, services) from the
    part of its fund it spends itself: the incentive costs services."""
    earned = (model.pop.per_community(model.pop.volunteer) * model.p["points_value"]
              if points else np.zeros(model.pop.communities))
    for committee, due in zip(model.committees, earned.tolist(), strict=True):
        committee.points_due = due


def free_volunteers(pop: Population, room: Room) -> np.ndarray:
    """Volunteers who turned out this month and serve through the coordinators, per
    community: non-members, and members as far as their SO's activities leave them idle.
    A member's hours count in her SO's output (members × ``slots_per_volunteer``, §7.3),
    but where its domain's needs are met it has nothing for them; she then comes to the
    station's or another provider's occasions like anyone (a share, no draw)."""
    volunteers = pop.volunteer.nonzero()[0]  # a few: sorted out among themselves
    member = pop.member_of[volunteers] >= 0
    where = pop.community[volunteers]
    count = np.bincount(where[~member], minlength=pop.communities).astype(float)
    if not member.any():
        return count
    idle = room.idle(pop.member_of[volunteers[member]])
    return count + np.bincount(where[member], weights=idle, minlength=pop.communities)


def convene(model: CommunityGovernanceModel,
            representatives: tuple[np.ndarray, np.ndarray] | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """召集 (the residents' committee convenes the meeting: 城市居民委员会组织法 art. 9): where
    this month's meeting lacked its quorum, the committee's community workers, with what
    their visits left of their time, and then the station's staff visit representatives
    who stayed away before the next one, as many as the quorum lacked and their time
    allows, the keenest first (a rule, no draw). Returns who was visited and the station
    staff's time spent per community (taken from coordinating volunteers:
    :func:`after_convening`). ``representatives``: per community, representatives and
    those attending (:func:`~sanshe.sim.mechanisms.affairs.attending_representatives`,
    counted here if not given)."""
    pop, p = model.pop, model.p
    visited = np.zeros(pop.size, bool)
    if not model.v["policy.community.deliberation"]:
        return visited, np.zeros(pop.communities)
    committee = model.agenda.committee_left
    time = committee + affairs.station_staff(model)
    reps, present = (affairs.attending_representatives(pop) if representatives is None
                     else representatives)
    lacking = np.maximum(affairs.quorum_needed(reps, p["quorum_share"]) - present, 0.0)
    visits = np.minimum(lacking, np.floor(time / p["convening_visit_time"]))
    keen = pop.representatives_by_keenness()
    absent = keen[~pop.deliberating[keen]]  # still by community, the keenest first
    keys = pop.community[absent]
    rank = rank_in_group(keys, pop.communities)
    chosen = absent[rank < visits[keys]]
    visited[chosen] = True
    spent = np.bincount(pop.community[chosen], minlength=pop.communities).astype(float)
    spent *= p["convening_visit_time"]
    return visited, np.maximum(spent - committee, 0.0)


def after_convening(places: list[Placement], spent: np.ndarray) -> list[Placement]:
    """The committees' coordinator time left for volunteers once their staff have
    convened the meeting (the station's placements, domain −1)."""
    for place in places:
        if place.domain == -1:
            place.coordinators = max(place.coordinators - float(spent[place.community]), 0.0)
    return [place for place in places if place.coordinators > 0]


def mobilisation(model: CommunityGovernanceModel, outreach: np.ndarray) -> np.ndarray:
    """Pull from group organisations on their target groups and from social workers."""
    pop, p = model.pop, model.p
    # the same for residents of a community with the same special groups: one value a cell,
    # the social workers' pull spread over the cells of its community (no broadcast view to
    # gather from, nor a fresh table per organisation)
    pull = np.empty((pop.communities, pop.need_table.shape[0]))
    np.multiply(outreach[:, None], p["sw_mobilisation"], out=pull)
    # each organisation's term cell by cell for all at once; added one organisation after
    # another, in their order, as the formula reads
    terms = group_orgs.target_tables(model) * p["group_mobilisation"]
    terms /= max(len(model.group_orgs), 1)
    terms *= p["group_mobilisation_scale"]
    for term in terms:
        pull += term
    return pop.by_profile(pull)


def placements(model: CommunityGovernanceModel) -> list[Placement]:
    """Who coordinates volunteers where: the station's social workers, each community SO
    (its organisers as far as it has a venue, and its staff), and with the landing priority
    (社会组织优先落地社区) the staff of agencies in the communities of their contracts."""
    venue = priorities.venue(model)
    out = [Placement(c, c.index, -1, float(len(c.staff))) for c in model.committees]
    landing = priorities.landing(model)
    for so in model.sos:
        if so.is_community:
            own = next((k for k in so.contracts
                        if (k.community, k.domain) == (so.community, so.domain)),
                       None) if so.contracts else None  # most hold none
            out.append(Placement(so, so.community, so.domain,
                                 venue[so.community] + len(so.staff), contract=own))
        elif landing and so.contracts:
            share = len(so.staff) / len(so.contracts)
            out += [Placement(so, k.community, k.domain, share, contract=k)
                    for k in so.contracts]
    return [place for place in out if place.coordinators > 0]


def net_slots(p: dict[str, float]) -> float:
    """Services one volunteer adds after the coordinator time she takes (valued at a social
    worker's caseload)."""
    return p["slots_per_volunteer"] - p["volunteer_supervision"] * p["slots_per_sw"]


#: Each placement's community and coordinator time, and each community's total.
CoordinatorTime = tuple[np.ndarray, np.ndarray, np.ndarray]


def coordinator_time(places: list[Placement], communities: int) -> CoordinatorTime:
    """Each placement's community and coordinator time, and each community's total."""
    where = np.array([place.community for place in places], dtype=np.int64)
    time = np.array([place.coordinators for place in places], dtype=float)
    return where, time, np.bincount(where, weights=time, minlength=communities)


def supervisable(places: list[Placement], communities: int, p: dict[str, float],
                 time: CoordinatorTime | None = None) -> np.ndarray:
    """Volunteers each community's coordinators can supervise; none where a volunteer would
    cost more coordinator time than she gives. ``time``: :func:`coordinator_time` of
    ``places``, worked out here if not given."""
    if net_slots(p) <= 0 or not places:
        return np.zeros(communities)
    total = (coordinator_time(places, communities) if time is None else time)[2]
    return total / p["volunteer_supervision"]


def assign(places: list[Placement], active: np.ndarray,
           time: CoordinatorTime | None = None) -> list[Placement]:
    """Share each community's active volunteers among its providers by coordinator time
    (``time``: :func:`coordinator_time` of ``places``, worked out here if not given)."""
    if not places:
        return []
    where, time, total = coordinator_time(places, active.size) if time is None else time
    for place, share in zip(places, active[where] * time / total[where], strict=True):
        place.volunteers = float(share)
    return [place for place in places if place.volunteers > 0]


def so_room(model: CommunityGovernanceModel) -> Room:
    """Community SOs' activity against their membership: an SO's activities occupy a core
    of ``min_members`` who run it and one member per ``slots_per_volunteer`` services it
    delivered this month. Where its domain's needs are met and its services go unused,
    members have little to do; where needs outrun it, all are busy."""
    member_of, p = model.pop.member_of, model.p
    sos = [so for so in model.sos if so.is_community]
    if not sos:
        return Room.empty()
    ids = column(sos, "unique_id", np.int64)
    members = np.bincount(member_of[member_of >= 0], minlength=int(ids.max()) + 1)
    served = np.array([model.served_by_so.get(so.unique_id, 0.0) for so in sos])
    occupied = p["min_members"] + served / p["slots_per_volunteer"]
    return Room(ids, column(sos, "community", np.int64), occupied, members[ids])


def motivation(pop: Population, ctx: Context, p: dict[str, float]) -> np.ndarray:
    """Intrinsic pull towards taking part, before peers and thresholds."""
    drive = pop.settled_pull(p)  # age and disposition
    # the terms added one at a time, in place, in the order of the formula (one buffer for
    # both attitudes' terms)
    term = np.empty_like(drive)
    for attitude, weight, start in ((pop.trust, "trust_weight", "trust_initial"),
                                    (pop.satisfaction, "satisfaction_weight_part",
                                     "satisfaction_initial")):
        np.subtract(attitude, p[start], out=term)
        term *= p[weight]
        drive += term
    drive += pop.efficacy
    drive += ctx.mobilisation
    return drive


def tie_share(pop: Population, count: np.ndarray, who: np.ndarray | slice = slice(None)
              ) -> np.ndarray:
    """Share of the ties of residents ``who`` counted in ``count`` (one of
    :func:`~sanshe.sim.population.tie_counts`)."""
    return np.divide(count[who], pop.degree[who], dtype=np.float32)  # no float copy first


def choice_noise(rng: np.random.Generator, size: int, p: dict[str, float]) -> np.ndarray:
    """Idiosyncratic shocks to ``size`` choices this month, drawn only for those who choose
    (in single precision, ample for a shock of sd ``choice_noise``, and cheaper to draw)."""
    noise = rng.standard_normal(size, dtype=np.float32)
    noise *= np.float32(p["choice_noise"])
    return noise


def decide(pop: Population, ctx: Context, p: dict[str, float],
           rng: np.random.Generator) -> np.ndarray:
    """Residents who reconsider this month choose what to take part in, and registered
    volunteers whether to turn out; returns, per community, whether coordinators' time (the
    one capacity limit on taking part: SOs turn no member away) held a volunteer out."""
    n = pop.size
    # last month's choices of each resident's ties, counted once: taking part, attending,
    # membership (turning out and attending below leave membership as it was)
    taking_part, attending, members = peer_counts(pop) if ctx.peers is None else ctx.peers
    peers = tie_share(pop, taking_part)
    peers *= p["peer_weight"]
    peers *= pop.conditional  # free riders ignore peers
    drive = motivation(pop, ctx, p)
    pull = drive + peers
    pull -= pop.threshold
    revisit = (rng.random(n, dtype=np.float32) < p["reconsider_rate"]).nonzero()[0]

    # Points (积分银行) act on registering and on staying registered alike: whoever
    # reconsiders, new or current volunteer, weighs them; and, earned by the hour, on
    # turning out. Their sign is uncertain (crowding out).
    points = p["points_effect"] if ctx.volunteer_points else 0.0
    reconsidering = pull[revisit]  # gathered once for registering and membership
    pop.registered[revisit] = reconsidering + points + choice_noise(rng, revisit.size, p) > 0
    attend(pop, ctx, p, drive, revisit, attending, rng)
    _membership(pop, reconsidering, revisit, members, ctx, p, rng)
    # Turning out is drawn after them (it reads none of the choices above, nor they it): its
    # draws are as many as the registered, which differ between scenarios, and drawn earlier
    # they would shift attending's and membership's shocks (common random numbers); which
    # members their SOs occupy, as many draws as members, comes last for the same reason.
    bound = turn_out(pop, ctx, pull, p, rng, points)
    occupy_members(pop, ctx.so_room, rng)
    return bound


def turn_out(pop: Population, ctx: Context, pull: np.ndarray, p: dict[str, float],
             rng: np.random.Generator, points: float = 0.0) -> np.ndarray:
    """Registered volunteers (登记志愿者) would turn out this month when the month's pull,
    less the cost of a dated occasion (活动), plus the month's noise is positive; the
    occasions are what coordinators' time can supervise (``positions``: none without a
    coordinator), so beyond that a random set of them stays home (still registered).
    Returns where that limit held someone out. ``points``: what volunteer points add to
    each one's pull (added to the registered's only: the same sums as to everyone's).

    Only those free on the occasion's day can come (:func:`available`): whoever turns out
    at all is then an occasional volunteer, not only a regular. The month's shock is drawn
    only for the registered, the only ones who choose (:func:`choice_noise`)."""
    registered = pop.registered.nonzero()[0]
    moment = pull[registered]
    moment += points
    moment -= p["volunteer_occasion_cost"]
    moment += choice_noise(rng, registered.size, p)
    # followed as indices (in ascending order, as a mask would give them), not as masks
    # over every resident scanned again at each step
    out = _free(registered[moment > 0], p["volunteer_availability"], rng)
    out, bound = _ration(out, pop, ctx.positions, rng)
    pop.volunteer[:] = False
    pop.volunteer[out] = True
    return bound


def occupy_members(pop: Population, room: Room, rng: np.random.Generator) -> None:
    """Which members their SO's activities occupy this month: each member of an SO with
    the month's members (after joining and leaving) is busy with chance 1 − its idle share
    (:meth:`Room.idle`), so an SO with more members than its activities need has idle ones,
    who belong but do not take part this month (nor show their ties that they do). One
    single-precision draw per member; members of an SO founded since ``room`` are busy."""
    pop.member_occupied[:] = True
    members = (pop.member_of >= 0).nonzero()[0]
    if members.size == 0 or room.so_id.size == 0:
        return
    so = pop.member_of[members]
    now = np.bincount(so, minlength=int(room.so_id.max()) + 1)
    idle = idle_by_id(room.so_id, room.occupied, now[room.so_id]).take(so, mode="clip")
    pop.member_occupied[members] = rng.random(members.size, dtype=np.float32) >= idle


def available(willing: np.ndarray, share: float, rng: np.random.Generator) -> None:
    """Keep in ``willing`` only those free for this month's dated occasion: each resident is
    free with probability ``share``, drawn afresh every month and apart from her pull
    (shifts, family, travel: episodic volunteering, Macduff 2005; Cnaan & Handy 2005).
    One single-precision draw per willing resident, none for the others (they stay out
    whatever it says); none when nobody is willing or everyone is always free (``share``
    1)."""
    if share < 1.0:
        free = _free(willing.nonzero()[0], share, rng)
        willing[:] = False
        willing[free] = True


def _free(willing: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Those of ``willing`` (indices, ascending) free for the occasion, as
    :func:`available` draws them."""
    if share >= 1.0 or willing.size == 0:
        return willing
    return willing[rng.random(willing.size, dtype=np.float32) < share]


def _rank_in_community(who: np.ndarray, community: np.ndarray, communities: int,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``who`` in random order grouped by community (``community``: each one's, of
    ``communities``), and each one's rank in its community (one sort of the candidates,
    no scan per community)."""
    who = rng.permutation(who)
    keys = community[who]
    order = order_by_group(keys, communities)
    who, keys = who[order], keys[order]
    return who, rank_in_group(keys, communities)


def attend(pop: Population, ctx: Context, p: dict[str, float], drive: np.ndarray,
           revisit: np.ndarray, attending: np.ndarray, rng: np.random.Generator) -> None:
    """Residents who reconsider (``revisit``: their indices) choose whether to attend the
    deliberation meeting; ``drive`` is this month's :func:`motivation`, ``attending`` each
    resident's ties who attended last month."""
    if not ctx.deliberation:
        pop.deliberating[:] = False
        return
    who = revisit
    if ctx.convened is not None and ctx.convened.any():  # a visit asks her again, in person
        asked = ctx.convened.copy()
        asked[revisit] = True
        who = asked.nonzero()[0]
    peers = attending_peers(pop, attending, who, ctx.representatives)
    peers *= p["peer_weight"]
    peers *= pop.conditional[who]
    # the terms added in place, in the order of the formula
    pull = drive[who]
    pull += peers
    pull -= pop.threshold[who]
    pull -= p["deliberation_extra_threshold"]
    pull += choice_noise(rng, who.size, p)
    if ctx.convened is not None:
        pull += p["convening_pull"] * ctx.convened[who]
    pop.deliberating[who] = pull > 0


def attending_peers(pop: Population, attending: np.ndarray, who: np.ndarray,
                    representatives: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> np.ndarray:
    """Last month's attendance residents ``who`` look at: their ties' share (``attending``:
    each resident's ties who attended), or for a representative the share of her
    community's other representatives (``representatives``: per community, representatives
    and those attending; counted here if not given)."""
    looked_at = tie_share(pop, attending, who).astype(float)
    reps, present = (affairs.attending_representatives(pop) if representatives is None
                     else representatives)
    is_rep = pop.representative[who]
    rep = who[is_rep]
    c = pop.community[rep]
    here = pop.deliberating[rep].astype(np.float32)
    looked_at[is_rep] = (present[c] - here) / np.maximum(reps[c] - 1.0, 1.0)
    return looked_at


def _ration(active: np.ndarray, pop: Population, places: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Places are limited (coordinators for volunteers): beyond a community's places, a
    random set of those who turned out (``active``: indices, ascending) is sent home this
    month. Returns those who stay (in no particular order) and where the limit held
    someone out."""
    places = np.floor(places)
    bound = np.bincount(pop.community[active], minlength=pop.communities) > places
    if bound.any():
        who, rank = _rank_in_community(active, pop.community, pop.communities, rng)
        active = who[rank < places[pop.community[who]]]
    return active, bound


def _membership(pop: Population, pull: np.ndarray, revisit: np.ndarray, members: np.ndarray,
                ctx: Context, p: dict[str, float], rng: np.random.Generator) -> None:
    """Residents who reconsider (``revisit``: their indices; ``pull``: theirs, in that
    order) join a community SO when a member among their ties (``members``: each
    resident's ties who are members) asks, or leave the one joined. Both weigh how idle
    the SO leaves its members (``idle_member_cost`` × the share its activities do not
    occupy): nobody is turned away, but a group with nothing to do keeps only the keen."""
    member = pop.member_of[revisit] >= 0
    join_pull = pull + choice_noise(rng, revisit.size, p)
    cost = p["idle_member_cost"]
    mine = revisit[member]
    stay_pull = (join_pull[member] + p["membership_attachment"]
                 - cost * ctx.so_room.idle(pop.member_of[mine]))
    pop.member_of[mine[(stay_pull < 0) & ~pop.founder[mine]]] = -1
    # recruitment runs through networks: one hears of a group, and is asked, by a member
    # among one's ties (Snow, Zurcher & Ekland-Olson 1980; McPherson et al. 1992)
    willing = ~member & (members[revisit] > 0) & (join_pull > 0)
    who = revisit[willing]
    so = ctx.so_room.recruiters(pop.community[who], rng)
    idle = ctx.so_room.idle(np.maximum(so, 0), joining=True)
    joins = (so >= 0) & (join_pull[willing] - cost * idle > 0)
    pop.member_of[who[joins]] = so[joins]


def emerge_leaders(pop: Population, outreach: np.ndarray, p: dict[str, float],
                   rng: np.random.Generator) -> None:
    """Active residents grow into local leaders (骨干), faster where social workers coach."""
    active = (pop.participating & ~pop.leader).nonzero()[0]
    chance = p["leader_emergence"] * (
        1.0 + p["outreach_leader_effect"] * outreach[pop.community[active]])
    pop.leader[active[rng.random(active.size, dtype=np.float32) < chance]] = True


def update_efficacy(pop: Population, rewarded: np.ndarray, p: dict[str, float],
                    let_down: np.ndarray | None = None,
                    pivotal: np.ndarray | None = None) -> None:
    """Efficacy decays; it rises for attenders of meetings that decided something and falls
    for those of meetings that could not be held (Choi & Robertson 2014). ``rewarded`` and
    ``let_down`` select residents (a mask or indices).

    The rise is scaled by ``pivotal`` (for each resident ``rewarded`` selects, in its order:
    the attenders the quorum needed over those who came, at most 1): in a full room one's
    presence changed little (a decelerating production function: Oliver, Marwell &
    Teixeira 1985).
    """
    pop.efficacy *= 1.0 - p["efficacy_decay"]
    weight = 1.0 if pivotal is None else pivotal
    pop.efficacy[rewarded] += p["efficacy_gain"] * weight
    if let_down is not None:
        pop.efficacy[let_down] -= p["efficacy_loss"]
