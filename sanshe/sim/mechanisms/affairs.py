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
Service matters go to SOs present in the community; what neither settles is referred.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.population import Population

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
    reach: np.ndarray  # share of residents who attend or have a tie who attends


@dataclass
class AffairsResult:
    """Affairs of one month, by how they were settled, per community."""

    deliberation: np.ndarray
    so_service: np.ndarray
    referral: np.ndarray
    decided: np.ndarray  # bool per community: a quorate meeting decided something
    failed: np.ndarray  # bool per community: residents came but the meeting was inquorate
    pivotal: np.ndarray  # per community: needed / attendees (at most 1), how much one counted

    @property
    def total(self) -> int:
        return int(self.deliberation.sum() + self.so_service.sum() + self.referral.sum())


def monthly(model: CommunityGovernanceModel) -> AffairsResult:
    """Community public affairs settled by meetings, SOs or referral (the 622 rule); the
    streets count what is referred to them."""
    result = settle(model.sizes.astype(float), meeting(model.pop, model.p["quorum_share"]),
                    so_strength(model), bool(model.v["policy.community.deliberation"]),
                    model.p, model.streams[STREAM])
    for committee in model.committees:
        committee.street.referrals += int(result.referral[committee.index])
    return result


def so_strength(model: CommunityGovernanceModel) -> np.ndarray:
    """Summed capacity of the SOs active in each community: its own community SOs, and
    SOs with a contract there (an SO's capacity split over its contracts)."""
    strength = [0.0] * model.pop.communities  # plain floats: same sums, no numpy scalars
    for so in model.sos:
        if so.is_community:
            strength[so.community] += so.capacity
        for contract in so.contracts:
            if contract.community != so.community or not so.is_community:
                strength[contract.community] += so.capacity / max(len(so.contracts), 1)
    return np.array(strength)


def meeting(pop: Population, quorum_share: float) -> Meeting:
    """Who attends (residents' last choices), whether the quorum is met, and how many
    residents have someone at the meeting to raise their matter."""
    here = pop.deliberating
    speaking = here & pop.representative
    reps, present = attending_representatives(pop)
    active = pop.participating
    near = (pop.ties @ np.column_stack([here, active]).astype(np.float32)) > 0  # one pass
    heard = here | near[:, 0] | ((active | near[:, 1]) & represented(pop, speaking))
    return Meeting(
        attendees=pop.per_community(here.astype(float)),
        quorate=quorate_meetings(reps, present, quorum_share),
        needed=quorum_needed(reps, quorum_share),
        reach=pop.per_community(heard.astype(float)) / np.maximum(pop.counts(), 1),
    )


def attending_representatives(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Per community: its residents' representatives, and how many of them attend (their
    latest choices) — what the quorum, convening and fellow representatives look at."""
    reps = np.flatnonzero(pop.representative)  # a few in a hundred: count them, not all
    where = pop.community[reps]
    return (np.bincount(where, minlength=pop.communities).astype(float),
            np.bincount(where[pop.deliberating[reps]], minlength=pop.communities).astype(float))


def represented(pop: Population, speaking: np.ndarray) -> np.ndarray:
    """Per resident: a representative of her residents' group is at the meeting to raise
    the group's matters (邻里事邻里议, seed 001; representatives are elected by and for
    their group: 城市居民委员会组织法 art. 9)."""
    groups = int(pop.residents_group[-1]) + 1 if pop.size else 0
    voiced = np.zeros(groups, bool)  # few speak: mark their groups, then one gather
    voiced[pop.residents_group[speaking]] = True
    return voiced[pop.residents_group]


def quorum_needed(representatives: np.ndarray, quorum_share: float) -> np.ndarray:
    """Representatives who must attend for the meeting to be held (more than the share)."""
    return np.floor(quorum_share * representatives) + 1.0


def quorate_meetings(representatives: np.ndarray, present: np.ndarray,
                     quorum_share: float) -> np.ndarray:
    """Whether each community's meeting can be held: more than ``quorum_share`` of its
    representatives present (过半数出席)."""
    return (representatives > 0) & (present > quorum_share * representatives)


def settle(residents: np.ndarray, meeting: Meeting, so_strength: np.ndarray, platform: bool,
           p: dict[str, float], rng: np.random.Generator) -> AffairsResult:
    """Draw each community's affairs this month and settle them.

    ``so_strength`` is the summed capacity of SOs active in each community.
    """
    arising = rng.poisson(p["affairs_per_1000"] * residents / 1000.0)
    public = rng.binomial(arising, p["deliberable_share"])
    service = arising - public
    p_so = 1.0 - np.exp(-p["so_affair_reach"] * so_strength)

    raised = rng.binomial(public, meeting.reach)  # someone at the meeting brings it up
    by_meeting = np.where(platform & meeting.quorate, raised, 0)
    undecided = public - by_meeting
    # Undecided public matters sometimes go to SOs; service matters go to SOs when present.
    public_by_so = rng.binomial(undecided, p["so_public_affair_share"] * p_so)
    service_by_so = rng.binomial(service, p_so)
    by_so = public_by_so + service_by_so
    return AffairsResult(
        deliberation=by_meeting,
        so_service=by_so,
        referral=arising - by_meeting - by_so,
        decided=by_meeting > 0,
        failed=platform & ~meeting.quorate & (meeting.attendees > 0),
        pivotal=np.minimum(meeting.needed / np.maximum(meeting.attendees, 1.0), 1.0),
    )
