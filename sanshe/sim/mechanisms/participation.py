"""Participation (居民参与): volunteering, deliberation and SO membership.

A threshold model (Granovetter 1978): a resident takes part when her intrinsic motivation
plus the pull of participating neighbours exceeds a personal threshold. Motivation rises
with disposition, age (Shanghai surveys: turnout 13.8% at 18–29, 77.7% at 70–79), trust
(Epstein 2002), satisfaction, efficacy from meetings that decided (Choi & Robertson 2014),
mobilisation by group organisations and social workers, and volunteer points (whose sign
is uncertain: Frey & Jegen 2001). Efficacy decays without support (Fischbacher & Gächter
2010). Residents revisit their choices only now and then (inertia).

Attending the deliberation meeting (议事会) is a critical-mass choice (Granovetter 1978;
Oliver, Marwell & Teixeira 1985): a resident weighs her motivation against her threshold
plus the cost of a meeting, pulled by the share of her ties who attended last month; a
representative (居民代表) looks instead at how many fellow representatives came, since
their majority decides whether the meeting can be held. Nobody is turned away. A meeting
that decided raises its attenders' efficacy, one that failed for want of a quorum lowers
it, so turnout feeds on itself in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.mechanisms import group_orgs, priorities
from sanshe.sim.population import ELDERLY, YOUNG, Population

if TYPE_CHECKING:
    from sanshe.sim.mechanisms.affairs import AffairsResult
    from sanshe.sim.model import CommunityGovernanceModel

#: Choices, rationing, membership and leaders' emergence draw from this stream only.
STREAM = "participation"


@dataclass
class Context:
    """What residents face this month, per community or per resident."""

    mobilisation: np.ndarray  # per resident: group-org + social-worker pull
    positions: np.ndarray  # per community: volunteer places organisers can use
    deliberation: bool  # a deliberation platform exists
    volunteer_points: bool
    so_room: dict[int, tuple[np.ndarray, np.ndarray]]  # community → (SO ids, free places)


def monthly(model: CommunityGovernanceModel, settled: AffairsResult) -> None:
    """Residents choose to volunteer, deliberate or join an SO (threshold model); active
    residents may grow into leaders."""
    pop, p, v = model.pop, model.p, model.v
    rewarded = pop.deliberating & settled.decided[pop.community]
    update_efficacy(pop, rewarded, p, let_down=pop.deliberating & settled.failed[pop.community],
                    pivotal=settled.pivotal[pop.community])
    outreach = priorities.outreach(model)
    ctx = Context(
        mobilisation=mobilisation(model, outreach),
        positions=organisers(model) * p["volunteer_positions"],
        deliberation=bool(v["policy.community.deliberation"]),
        volunteer_points=bool(v["policy.community.volunteer_points"]),
        so_room=so_room(model),
    )
    rng = model.streams[STREAM]
    decide(pop, ctx, p, rng)
    emerge_leaders(pop, outreach, p, rng)


def mobilisation(model: CommunityGovernanceModel, outreach: np.ndarray) -> np.ndarray:
    """Pull from group organisations on their target groups and from social workers."""
    pop, p = model.pop, model.p
    pull = p["sw_mobilisation"] * outreach[pop.community]
    for target in group_orgs.targets(model):
        pull = (pull + p["group_mobilisation"] * target / len(model.group_orgs)
                * p["group_mobilisation_scale"])
    return pull


def organisers(model: CommunityGovernanceModel) -> np.ndarray:
    """Who organises volunteering in each community: community SOs (as far as they have
    a venue) and their staff, station social workers, and — with the landing priority —
    the staff of agencies working there (社会组织优先落地社区开展活动)."""
    venue = priorities.venue(model)
    landing = priorities.landing(model)
    count = np.array([len(c.staff) for c in model.committees], float)
    for so in model.sos:
        if so.is_community:
            count[so.community] += venue[so.community] + len(so.staff)
        elif landing and so.contracts:
            share = len(so.staff) / len(so.contracts)
            for contract in so.contracts:
                count[contract.community] += share
    return count


def so_room(model: CommunityGovernanceModel) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Free member places of community SOs: places grow with their venue (resources)."""
    places = model.p["so_member_capacity"] * priorities.venue(model)
    member_of = model.pop.member_of
    top = max((so.unique_id for so in model.sos), default=0) + 1
    members = np.bincount(member_of[member_of >= 0], minlength=top)
    room: dict[int, tuple[list[int], list[int]]] = {}
    for so in model.sos:
        free = int(places[so.community]) - int(members[so.unique_id])
        if so.is_community and free > 0:
            ids, frees = room.setdefault(so.community, ([], []))
            ids.append(so.unique_id)
            frees.append(free)
    return {c: (np.asarray(i), np.asarray(f)) for c, (i, f) in room.items()}


def motivation(pop: Population, ctx: Context, p: dict[str, float]) -> np.ndarray:
    """Intrinsic pull towards taking part, before peers and thresholds."""
    age_effect = np.where(pop.age == YOUNG, p["age_effect_young"],
                          np.where(pop.age == ELDERLY, p["age_effect_elderly"], 0.0))
    return (
        pop.disposition
        + age_effect
        + p["trust_weight"] * (pop.trust - p["trust_initial"])
        + p["satisfaction_weight_part"] * (pop.satisfaction - p["satisfaction_initial"])
        + pop.efficacy
        + ctx.mobilisation
    )


def peer_share(pop: Population) -> np.ndarray:
    """Share of each resident's ties who took part last month."""
    return (pop.ties @ pop.participating.astype(np.float32)) / pop.degree


def decide(pop: Population, ctx: Context, p: dict[str, float],
           rng: np.random.Generator) -> None:
    """Residents who reconsider this month choose what to take part in."""
    n = pop.size
    peers = p["peer_weight"] * peer_share(pop) * pop.conditional  # free riders ignore peers
    pull = motivation(pop, ctx, p) + peers - pop.threshold
    revisit = rng.random(n) < p["reconsider_rate"]

    points = p["points_effect"] if ctx.volunteer_points else 0.0
    wants = pull + points + rng.normal(0.0, p["choice_noise"], n) > 0
    pop.volunteer[revisit] = wants[revisit]
    _ration(pop.volunteer, pop, ctx.positions, rng)

    attend(pop, ctx, p, revisit, rng)

    _membership(pop, pull, revisit, ctx, p, rng)


def attend(pop: Population, ctx: Context, p: dict[str, float], revisit: np.ndarray,
           rng: np.random.Generator) -> None:
    """Residents who reconsider choose whether to attend the deliberation meeting."""
    if not ctx.deliberation:
        pop.deliberating[:] = False
        return
    peers = p["peer_weight"] * attending_peers(pop) * pop.conditional  # free riders ignore
    pull = (motivation(pop, ctx, p) + peers - pop.threshold
            - p["deliberation_extra_threshold"] + rng.normal(0.0, p["choice_noise"], pop.size))
    pop.deliberating[revisit] = (pull > 0)[revisit]


def attending_peers(pop: Population) -> np.ndarray:
    """Last month's attendance each resident looks at: her ties' share, or for a
    representative the share of her community's other representatives."""
    here = pop.deliberating.astype(np.float32)
    ties = (pop.ties @ here) / pop.degree
    reps = pop.per_community(pop.representative.astype(float))
    present = pop.per_community((pop.deliberating & pop.representative).astype(float))
    c = pop.community
    fellows = (present[c] - here) / np.maximum(reps[c] - 1.0, 1.0)
    return np.where(pop.representative, fellows, ties)


def _ration(active: np.ndarray, pop: Population, places: np.ndarray,
            rng: np.random.Generator) -> None:
    """Places are limited (organisers for volunteers, seats at meetings): beyond a
    community's places, a random set of the willing stays out this month."""
    count = pop.per_community(active.astype(float))
    for c in np.flatnonzero(count > places):
        who = np.flatnonzero(active & (pop.community == c))
        idle = rng.choice(who, size=int(who.size - int(places[c])), replace=False)
        active[idle] = False


def _membership(pop: Population, pull: np.ndarray, revisit: np.ndarray, ctx: Context,
                p: dict[str, float], rng: np.random.Generator) -> None:
    """Join a community SO with room, or leave the one joined."""
    member = pop.member_of >= 0
    join_pull = pull + rng.normal(0.0, p["choice_noise"], pop.size)
    stay_pull = join_pull + p["membership_attachment"]
    leaving = revisit & member & (stay_pull < 0) & ~pop.founder
    pop.member_of[leaving] = -1
    joining = np.flatnonzero(revisit & ~member & (join_pull > 0))
    for c in np.unique(pop.community[joining]):
        ids, free = ctx.so_room.get(int(c), (np.empty(0, int), np.empty(0, int)))
        places = np.repeat(ids, free)  # one entry per free place
        if places.size == 0:
            continue
        who = joining[pop.community[joining] == c]
        if who.size > places.size:  # more joiners than places: a random set gets in
            who = rng.choice(who, size=places.size, replace=False)
        pop.member_of[who] = rng.choice(places, size=who.size, replace=False)


def emerge_leaders(pop: Population, outreach: np.ndarray, p: dict[str, float],
                   rng: np.random.Generator) -> None:
    """Active residents grow into local leaders (骨干), faster where social workers coach."""
    active = np.flatnonzero(pop.participating & ~pop.leader)
    chance = p["leader_emergence"] * (
        1.0 + p["outreach_leader_effect"] * outreach[pop.community[active]])
    pop.leader[active[rng.random(active.size) < chance]] = True


def update_efficacy(pop: Population, rewarded: np.ndarray, p: dict[str, float],
                    let_down: np.ndarray | None = None,
                    pivotal: np.ndarray | None = None) -> None:
    """Efficacy decays; it rises for attenders of meetings that decided something and falls
    for those of meetings that could not be held (Choi & Robertson 2014).

    The rise is scaled by ``pivotal`` (per resident: the attenders the quorum needed over
    those who came, at most 1): in a full room one's presence changed little (a
    decelerating production function: Oliver, Marwell & Teixeira 1985).
    """
    pop.efficacy *= 1.0 - p["efficacy_decay"]
    weight = 1.0 if pivotal is None else pivotal[rewarded]
    pop.efficacy[rewarded] += p["efficacy_gain"] * weight
    if let_down is not None:
        pop.efficacy[let_down] -= p["efficacy_loss"]
