"""Donors' and firms' projects (企业资助, seed 001: through community funds, 社区型基金, and
dozens of partner firms Yuhuatai linked over 30M yuan of corporate money to SOs).

Local firms and donors fund projects of organisations they see do good work, not their
deficits. Each year the part of the district's pool that SOs reach (:func:`donor_reach`:
through their own networks and, with the information platform, its users) pays for
projects of ``community_project_size``. SOs able to run a small project propose one in
their own community and domain; donors fund proposals in proportion to the SO's record
(reputation × needs met and members, the record an ask shows:
:func:`sanshe.sim.mechanisms.finance.ask`) and its government share (crowding in or out),
one project an SO. A project is a contract like a community-fund one, drawn as its work is
done; what it does not draw goes back to the donor. What the year's projects leave of the
pool answers SOs' asks for the costs nothing else covers (:func:`monthly_pool`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.agents.social_org import Lot
from sanshe.sim.mechanisms import costing, procurement
from sanshe.sim.streams import whole_count

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Which proposals donors fund draws from this stream only.
STREAM = "donors"
#: The buyer of a donor-funded project (a revenue source that is not government money).
BUYER = "donations"


def donor_reach(model: CommunityGovernanceModel) -> float:
    """Share of the district's donors and firms SOs reach: ``donor_reach_base`` through
    their own networks and, with the information platform (三社联动平台 linking firms, seed
    001), the others as far as they use it — as many as the residents on the platform
    (``agenda.online_share``: local firms' owners and staff are residents), not all."""
    base = model.p["donor_reach_base"]
    if not model.v["policy.linkage.info_platform"]:
        return base
    return base + (1.0 - base) * model.agenda.online_share


def yearly_pool(model: CommunityGovernanceModel) -> float:
    """Yuan the donors and firms SOs reach give in a year (``donor_pool`` per resident)."""
    return model.p["donor_pool"] * model.pop.size * donor_reach(model)


def fund_projects(model: CommunityGovernanceModel) -> None:
    """This year's donor-funded projects: as many as the reached pool pays for, to the
    proposals of SOs able to run a small project, drawn by their record; the rest of the
    pool is left for the year's asks."""
    p, rng = model.p, model.streams[STREAM]
    pool = yearly_pool(model)
    size = float(p["community_project_size"])
    floor = p["small_project_capacity_share"] * p["min_bid_capacity"]
    proposers = [so for so in model.sos if so.capacity >= floor]
    weights = np.array([record(model, so) for so in proposers], dtype=float)
    chosen = (weights > 0).nonzero()[0]
    count = min(whole_count(pool / size, rng), chosen.size)
    if count:
        picks = rng.choice(chosen, size=count, replace=False,
                           p=weights[chosen] / weights[chosen].sum())
        for i in sorted(picks.tolist()):
            so = proposers[i]
            procurement.sign(so, Lot(so.community, so.domain, size), BUYER, p,
                             costing.price_for(model, so))
    model.donor_left = max(pool - count * size, 0.0)


def record(model: CommunityGovernanceModel, so: SocialOrganization) -> float:
    """What donors see of an SO's work: reputation × (last month's needs met + members),
    scaled by their :func:`response` to its government share."""
    served = model.served_by_so.get(so.unique_id, 0.0)
    return so.reputation * (served + so.members) * float(
        response(so.ledger.government_share(), model.p))


def response(government_share: np.ndarray | float, p: dict[str, float]
             ) -> np.ndarray | float:
    """Donors' response to an SO's government share of revenue: crowding in (a quality
    signal: Heutel 2014) or out (Andreoni & Payne 2011) by the sign of ``crowding``, never
    below nothing."""
    return np.maximum(1.0 + p["crowding"] * government_share, 0.0)


def monthly_pool(model: CommunityGovernanceModel) -> float:
    """Yuan of the pool left for SOs' asks this month: what this year's projects left of
    it, a twelfth a month."""
    return model.donor_left / 12.0
