"""Funding besides purchase: community service funds (社区服务资金) and venture philanthropy
(公益创投).

Each residents' committee spends its yearly fund on small projects (微项目, seed 001) of the
SOs of its community — a share of it, or all of it with the services priority — and runs
the rest itself. The district's venture-philanthropy budget (Taicang, seed 004) gives small
grants to the best proposals of young or small SOs and of leaders who would found one on
the grant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sanshe.inputs import money
from sanshe.sim.agents.social_org import Lot, SocialOrganization
from sanshe.sim.mechanisms import costing, ecology, needs, priorities, procurement
from sanshe.sim.population import D
from sanshe.sim.streams import whole_count

if TYPE_CHECKING:
    from sanshe.sim.model import CommunityGovernanceModel

#: Community-fund projects and venture grants draw from this stream only.
STREAM = "funding"


def community_funds(model: CommunityGovernanceModel) -> None:
    """Each committee's service fund: projects for SOs, the rest by the committee itself
    unless the services priority offers it to SOs first (社区服务优先考虑社会组织承接)."""
    v, p, rng = model.v, model.p, model.streams[STREAM]
    fund = money.amount(v, "policy.community.service_fund")  # this community's size
    size = float(p["community_project_size"])
    known = needs.known_demand(model)
    able: dict[int, list[SocialOrganization]] = {}  # able to run a small project, by home
    for so in model.sos:  # one pass, in the order of model.sos (draws below keep it)
        if so.capacity >= p["small_project_capacity_share"] * p["min_bid_capacity"]:
            able.setdefault(so.community, []).append(so)
    for committee in model.committees:
        c = committee.index
        to_sos = priorities.services_to_sos(model, fund)
        committee.fund_offered_last, committee.fund_drawn_last = (committee.fund_offered,
                                                                  committee.fund_drawn)
        committee.fund_offered, committee.fund_drawn = to_sos, 0.0
        local = able.get(c, [])
        spent = 0.0
        weights = known[c] + 1e-9
        # projects of about the usual size, at least one, as lots are
        count = max(int(round(to_sos / size)), 1) if to_sos > 0 else 0
        for _ in range(count):
            if not local:
                break
            # each 微项目 answers a need on the committee's list, by its weight
            domain = int(rng.choice(D, p=weights / weights.sum()))
            matching = [so for so in local if so.domain == domain] or local
            so = matching[int(rng.integers(len(matching)))]
            procurement.sign(so, Lot(c, domain, to_sos / count), "community_fund", p,
                             costing.price_for(model, so))
            spent += to_sos / count
        committee.admin_budget = (fund - spent) / 12.0


def venture_philanthropy(model: CommunityGovernanceModel) -> None:
    """公益创投: a call for project proposals. Young or small SOs able to run a small
    project propose one; would-be founders propose one for the SO they would found on the
    grant's terms (the grant pays the year). The jury ranks proposals by capacity (a new
    SO's expected capacity) with noise and funds as many as the budget pays for; money
    nobody applies for stays unspent."""
    p, rng = model.p, model.streams[STREAM]
    grants = whole_projects(model.bureau.venture_budget, p["venture_grant"], rng)
    if grants <= 0:
        return
    floor = p["small_project_capacity_share"] * p["min_bid_capacity"]
    young = [so for so in model.sos if (so.age < p["venture_young_months"]
             or so.capacity < p["venture_small_capacity"]) and so.capacity >= floor]
    founders = ecology.programme_applicants(
        model, ecology.cost_cover(p["venture_grant"], 0.0, p), rng)
    for so in ecology.admit(model, "venture", [*young, *founders], grants, rng):
        procurement.sign(so, Lot(so.community, so.domain, p["venture_grant"]), "venture", p,
                         costing.price_for(model, so))


def whole_projects(budget: float, grant: float, rng: np.random.Generator) -> int:
    """Whole grants (or projects) a yearly budget pays. A budget worth a fraction of one
    (a small district's share of a city round, as Taicang's 1.5M for 13 projects) pays one
    more with that fraction as its chance, so the money per resident is right on average
    at any district size."""
    return whole_count(budget / grant, rng)
