"""The four priorities (四个优先, seed 001): what each one changes, in one place.

社区资源优先提供社会组织使用 (resources): community rooms, finite and shared by the SOs that
ask for them, cover SOs' running costs and give community SOs a venue.
社区服务优先考虑社会组织承接 (services): the whole community service
fund is offered to SOs first. 社会组织优先落地社区开展活动 (landing): SOs hold open activities
where they work with the service time they have left, and agencies' social workers reach
residents there, with hours taken from their services. 公益项目优先落地社区 (projects): an
agency's project is carried out with a local community SO.

The priorities decide nothing by chance, so this module owns no random stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.agents.social_org import Lot
from sanshe.sim.mechanisms.workforce import working_share

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import SocialOrganization
    from sanshe.sim.model import CommunityGovernanceModel

#: Draws nothing: every effect of a priority is deterministic given the state.
STREAM: str | None = None
#: Residents a per-resident rule updates in one pass (half a megabyte of float64: the
#: processor's cache holds them).
CACHE_RUN = 1 << 16


def space_given(model: CommunityGovernanceModel) -> np.ndarray:
    """Share of each community's office and service rooms given to SOs (社区资源优先, seed
    001): ``space_share_for_sos``, or ``space_without_priority`` of it without the
    resources priority."""
    share = float(model.v["policy.community.space_share_for_sos"])
    used = 1.0 if model.v["policy.four_priorities.resources"] else model.p[
        "space_without_priority"]
    return np.full(model.pop.communities, share * used)


def space_claims(model: CommunityGovernanceModel) -> np.ndarray:
    """Square metres SOs ask of each community's rooms: ``community_so_space`` for each of
    its community SOs and, with the landing priority, ``agency_space`` for each agency
    based there; SOs in the incubator are housed by it. (One pass over the SOs, a few
    dozen on a district: plain floats cost less than building arrays.)"""
    p = model.p
    own, office = p["community_so_space"], p["agency_space"]
    landed = landing(model)
    claims = [0.0] * model.pop.communities
    for so in model.sos:
        if uses_rooms(so, landed) and not so.incubated_months > 0:
            claims[so.community] += own if so.is_community else office
    return np.array(claims)


def uses_rooms(so: SocialOrganization, landed: bool) -> bool:
    """Whether ``so`` works from its community's rooms: a community SO does, and an agency
    does where agencies land (``landed``: :func:`landing`, 社会组织优先落地社区); the one
    rule for who claims the rooms and whose rent they cover."""
    return so.is_community or landed


def space_room(model: CommunityGovernanceModel, given: np.ndarray | None = None
               ) -> np.ndarray:
    """Square metres of each community's rooms given to SOs: ``office_space_per_resident``
    × residents × :func:`space_given` (``given``, if the caller has it)."""
    given = space_given(model) if given is None else given
    return model.p["office_space_per_resident"] * model.sizes * given


def space_crowded(model: CommunityGovernanceModel) -> np.ndarray:
    """Per community: the rooms given to SOs hold less than the SOs there ask (each is
    housed in part); where no room is given the lever, not the rooms, is the limit."""
    room = space_room(model)
    return (room > 0) & (space_claims(model) > room)


def free_space(model: CommunityGovernanceModel) -> np.ndarray:
    """Share of SO running costs covered by community space (社区资源优先, seed 001): the
    share given (:func:`space_given`), shared out pro rata where the SOs there ask for
    more square metres than it holds (:func:`space_claims`), so a crowded community
    houses each SO in part."""
    given = space_given(model)
    room, claims = space_room(model, given), space_claims(model)
    crowded = claims > room
    if not crowded.any():  # the usual month: everyone housed
        return given
    cover = np.ones(model.pop.communities)
    cover[crowded] = room[crowded] / claims[crowded]
    return given * cover


def venue(model: CommunityGovernanceModel) -> np.ndarray:
    """How far community SOs have a place to meet: some without help, all with space."""
    base = model.p["venue_base"]
    return base + (1.0 - base) * free_space(model)


def space_for_founders(model: CommunityGovernanceModel) -> np.ndarray:
    """Share of a new community SO's running costs the space still free in each community
    would cover: what the SOs there leave of the rooms, up to ``community_so_space``."""
    given = space_given(model)
    left = np.maximum(space_room(model, given) - space_claims(model), 0.0)
    return given * np.minimum(left / model.p["community_so_space"], 1.0)


def rent_factors(model: CommunityGovernanceModel, sos: list[SocialOrganization]
                 ) -> list[float]:
    """Share of its rent each SO of ``sos`` pays: community space is given to community
    SOs, and to agencies too when they land in the community (社会组织优先落地社区)."""
    landed = landing(model)
    free = free_space(model).tolist()  # plain floats: one per SO below
    return [1.0 - (free[so.community] if uses_rooms(so, landed) else 0.0) for so in sos]


def services_to_sos(model: CommunityGovernanceModel, fund: float) -> float:
    """Yuan of a committee's service fund offered to SOs: the project share, or all of it
    with the services priority (社区服务优先考虑社会组织承接)."""
    to_sos = fund * float(model.v["policy.community.project_share"])
    if model.v["policy.four_priorities.services"]:
        to_sos = fund
    return to_sos


def landing_presence(model: CommunityGovernanceModel) -> np.ndarray:
    """Per community: the share of residents who see SOs at work there through the landing
    priority (社会组织优先落地社区开展活动, seed 001): SOs hold open activities in the
    community with the service time their last month left unused (after the matters they
    settled: ``model.so_time_left``), each slot of it reaching ``landing_activity_reach``
    residents, 1 − exp(−reach × slots / residents). SOs with no time to spare hold none."""
    if not landing(model):
        return np.zeros(model.pop.communities)
    seen = model.p["landing_activity_reach"] * model.so_time_left / model.sizes
    return 1.0 - np.exp(-seen)


def landing_trust(model: CommunityGovernanceModel, presence: np.ndarray) -> None:
    """Residents come to trust SOs they see working in their community (seed 001).
    In place, a run of communities at a time: each run of residents is small enough to
    stay in the processor's cache, where a city-wide pass is not, and a district is one run
    (a pass per community costs more in calls than in arithmetic)."""
    if landing(model):
        pop = model.pop
        gain = model.p["landing_trust_gain"] * presence
        counts, offsets = pop.counts(), pop.offsets.tolist()
        for first, stop in community_runs(offsets, CACHE_RUN):
            trust = pop.trust[offsets[first]:offsets[stop]]
            room = 1 - trust
            room *= np.repeat(gain[first:stop], counts[first:stop])
            trust += room


def community_runs(offsets: list[int], limit: int) -> Iterator[tuple[int, int]]:
    """Runs ``first``..``stop`` − 1 of consecutive communities with at most ``limit``
    residents together (a larger community is a run alone); ``offsets``: where each
    community's block of residents starts."""
    first = 0
    for c in range(1, len(offsets) - 1):
        if offsets[c + 1] - offsets[first] > limit:
            yield first, c
            first = c
    yield first, len(offsets) - 1


def outreach(model: CommunityGovernanceModel) -> np.ndarray:
    """This month's outreach (the schedule's phase; the yearly programmes read
    :func:`reach` directly, the same state)."""
    return reach(model)


def reach(model: CommunityGovernanceModel) -> np.ndarray:
    """Share of each community's residents that social workers reach: the station's
    staff and, with the landing priority (社会组织优先落地社区), agencies' staff in the
    communities where they hold contracts, for the share of their time they give to it
    (:meth:`SocialOrganization.outreach_share`), hours they do not spend on services; none
    of it in the hours training takes (:func:`~sanshe.sim.mechanisms.workforce.working_share`)."""
    p = model.p
    workers = [0.0] * model.pop.communities  # plain floats while summing over agents
    skill = [0.0] * model.pop.communities
    for committee in model.committees:
        workers[committee.index] += len(committee.staff)
        skill[committee.index] += sum(w.skill for w in committee.staff)
    if landing(model):
        for so in model.sos:
            if so.is_community or not (so.contracts and so.staff):
                continue
            share = so.outreach_share(p) * len(so.staff) / len(so.contracts)
            staff_skill = so.skill()
            for contract in so.contracts:
                workers[contract.community] += share
                skill[contract.community] += share * staff_skill
    # training hours are not outreach hours either (workforce.working_share)
    per_worker = p["outreach_residents_per_sw"] * working_share(p, model.v)
    unskilled = p["unskilled_productivity"]
    return np.array([  # a few numbers per community: plain floats, as summed above
        min(1.0, w * per_worker / n) * (unskilled + (1.0 - unskilled) * (s / w)) if w > 0
        else 0.0 for w, s, n in zip(workers, skill, model.sizes.tolist(), strict=True)])


def landing(model: CommunityGovernanceModel) -> bool:
    """Whether SOs land in communities (社会组织优先落地社区): agencies' staff then organise
    volunteers and reach residents where they hold contracts."""
    return bool(model.v["policy.four_priorities.landing"])


def partner_index(model: CommunityGovernanceModel) -> dict[int, list[SocialOrganization]]:
    """Community SOs able to partner a project, by community, in the order of model.sos
    (built once for a round of awards instead of scanning every SO per lot)."""
    floor = model.p["small_project_capacity_share"] * model.p["min_bid_capacity"]
    index: dict[int, list[SocialOrganization]] = {}
    for so in model.sos:
        if so.is_community and so.capacity >= floor:
            index.setdefault(so.community, []).append(so)
    return index


def project_partners(model: CommunityGovernanceModel, winner: SocialOrganization, lot: Lot,
                     index: dict[int, list[SocialOrganization]] | None = None,
                     ) -> list[tuple[SocialOrganization, Lot]]:
    """公益项目优先落地社区 (seed 001): an agency's project is carried out with a
    community SO of the community where it lands, which takes ``project_partner_share``
    of the work and money — local organisations undertaking projects align them with
    residents' aims and draw residents in (Watkins 2001, quoted in seed 004)."""
    if winner.is_community or not model.v["policy.four_priorities.projects"]:
        return [(winner, lot)]
    local = (index if index is not None else partner_index(model)).get(lot.community, [])
    if not local:
        return [(winner, lot)]
    partner = max(local, key=lambda so: (so.domain == lot.domain, so.reputation,
                                         -so.unique_id))
    share = model.p["project_partner_share"]
    return [(winner, Lot(lot.community, lot.domain, lot.value * (1 - share))),
            (partner, Lot(lot.community, lot.domain, lot.value * share))]
