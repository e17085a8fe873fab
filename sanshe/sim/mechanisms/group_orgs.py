"""Group (mass) organizations' projects and reach (群团组织, seed 000).

Each year every group organisation funds a few community projects for its target group:
in silos (各自为战) it picks the communities it reaches where need looks largest, blind to
the others, so organisations sharing a domain stack up; coordinated (协同机制) they split
(community, domain) pairs between them and share channels to every community. A project is
bought from a local SO of its domain, or run with the organisation's own volunteers. A new
cadre (cadre turnover) does not know the communities and picks at random.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.agents.group_org import GroupOrganization
from sanshe.sim.agents.social_org import Contract
from sanshe.sim.mechanisms import needs

if TYPE_CHECKING:
    from sanshe.sim.mechanisms.services import Offers
    from sanshe.sim.model import CommunityGovernanceModel

#: The yearly choice of projects and contractors draws from this stream only.
STREAM = "group_orgs"


def initial_reach(model: CommunityGovernanceModel, reach: str, n: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Communities a group organisation reaches at the start (seed 000): all, or a share
    given by the parameter named ``reach`` (``union_reach``: through enterprises)."""
    if reach == "all":
        return np.ones(n, bool)
    return rng.random(n) < model.p[reach]


def yearly(model: CommunityGovernanceModel) -> None:
    """群团 projects: in silos each org picks the most visible communities; coordinated,
    they split (community, domain) pairs between them (seed 000 协同机制)."""
    rng = model.streams[STREAM]
    coordinated = bool(model.v["policy.linkage.group_coordination"])
    known = needs.known_demand(model)
    taken: set[tuple[int, int]] | None = set() if coordinated else None
    model.group_projects = []
    model.group_offers = []
    order = rng.permutation(len(model.group_orgs))
    for i in order:
        org = model.group_orgs[int(i)]
        if rng.random() < model.p["cadre_turnover"]:
            org.informed = False  # a new cadre does not know the communities yet
        elif not org.informed:
            org.informed = True
        for c, d in org.choose_projects(known, taken, rng):
            model.group_projects.append((org.unique_id, c, d))
            if taken is not None:
                taken.add((c, d))
            _commission(model, org, c, d, rng)


def _commission(model: CommunityGovernanceModel, org: GroupOrganization, c: int, d: int,
                rng: np.random.Generator) -> None:
    """Buy the project from a local SO in the domain, or run it with own volunteers."""
    p = model.p
    slots = org.project_value * p["group_project_slots_share"] / 12.0 / p["unit_cost"]
    local = [so for so in model.sos if so.domain == d
             and (so.community == c or not so.is_community)]
    if not local and model.v["policy.four_priorities.projects"]:
        # 公益项目优先落地社区: the project goes to a community SO of that community
        local = [so for so in model.sos if so.is_community and so.community == c]
    if local:
        so = max(local, key=lambda s: s.reputation + 1e-6 * rng.random())
        contract = Contract("group_org", c, d, org.project_value, slots)
        so.contracts.append(contract)
        model.group_offers.append((org, contract, c, d, slots))
    else:
        model.group_offers.append((org, None, c, d, slots))


def offer_own_projects(model: CommunityGovernanceModel, offers: Offers) -> None:
    """Projects a group organisation runs with its own volunteers offer services."""
    for org, contract, c, d, slots in model.group_offers:
        if contract is None:
            offers.add(org, c, d, slots, model.p["admin_quality"], False)


def pay_own_projects(model: CommunityGovernanceModel) -> None:
    """This month's spending on self-run projects; finished bought projects leave the list."""
    for org, contract, *_ in model.group_offers:
        if contract is None:
            model.group_month += org.project_value / 12.0
    model.group_offers = [g for g in model.group_offers
                          if g[1] is None or g[1].months_left > 0]


def targets(model: CommunityGovernanceModel) -> list[np.ndarray]:
    """Per group organisation, the residents of its target group in the communities it
    reaches; coordinated organisations share channels, so they reach every community
    (seed 000)."""
    pop = model.pop
    coordinated = bool(model.v["policy.linkage.group_coordination"])
    masks = []
    for org in model.group_orgs:
        reach = np.ones(pop.communities, bool) if coordinated else org.reach
        masks.append(pop.groups[org.kind.target] & reach[pop.community])
    return masks


def reached(model: CommunityGovernanceModel) -> np.ndarray:
    """Residents whose special group some group organisation reaches where they live."""
    return np.logical_or.reduce(targets(model))
