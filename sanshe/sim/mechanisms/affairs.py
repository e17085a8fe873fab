"""Community public affairs (社区公共事务) and the "622" rule (seed 001).

Yuhuatai's 622 method: over 60% of community affairs settled by residents' deliberation
(议事协商), over 20% by SOs' professional services, under 20% referred upward. Here each
affair is either fit for residents to decide (parking, pets, environment) or a service
matter. With a platform, a meeting decides when enough residents attend — deliberation
decides more often as attendance passes the quorum (Choi & Robertson 2014). Service matters
go to SOs present in the community; what neither settles is referred to the street.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sanshe.sim.model import CommunityGovernanceModel

#: Affairs arising and how they are settled draw from this stream only.
STREAM = "affairs"


@dataclass
class AffairsResult:
    """Affairs of one month, by how they were settled, per community."""

    deliberation: np.ndarray
    so_service: np.ndarray
    referral: np.ndarray
    decided: np.ndarray  # bool per community: a meeting decided something

    @property
    def total(self) -> int:
        return int(self.deliberation.sum() + self.so_service.sum() + self.referral.sum())


def monthly(model: CommunityGovernanceModel) -> AffairsResult:
    """Community public affairs settled by meetings, SOs or referral (the 622 rule); the
    streets count what is referred to them."""
    pop = model.pop
    result = settle(model.sizes.astype(float), pop.per_community(pop.deliberating.astype(float)),
                    so_strength(model), bool(model.v["policy.community.deliberation"]),
                    model.p, model.streams[STREAM])
    for committee in model.committees:
        committee.street.referrals += int(result.referral[committee.index])
    return result


def so_strength(model: CommunityGovernanceModel) -> np.ndarray:
    """Summed capacity of the SOs active in each community: its own community SOs, and
    SOs with a contract there (an SO's capacity split over its contracts)."""
    strength = np.zeros(model.pop.communities)
    for so in model.sos:
        if so.is_community:
            strength[so.community] += so.capacity
        for contract in so.contracts:
            if contract.community != so.community or not so.is_community:
                strength[contract.community] += so.capacity / max(len(so.contracts), 1)
    return strength


def settle(residents: np.ndarray, attendees: np.ndarray, so_strength: np.ndarray,
           platform: bool, p: dict[str, float], rng: np.random.Generator) -> AffairsResult:
    """Draw each community's affairs this month and settle them.

    ``so_strength`` is the summed capacity of SOs active in each community.
    """
    arising = rng.poisson(p["affairs_per_1000"] * residents / 1000.0)
    public = rng.binomial(arising, p["deliberable_share"])
    service = arising - public
    p_so = 1.0 - np.exp(-p["so_affair_reach"] * so_strength)

    if platform:
        ratio = attendees / np.maximum(p["quorum_share"] * residents, 1.0)
        p_decide = p["decide_max"] * (1.0 - np.exp(-p["quorum_steepness"] * ratio))
    else:
        p_decide = np.zeros(residents.size)
    by_meeting = rng.binomial(public, p_decide)
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
    )
