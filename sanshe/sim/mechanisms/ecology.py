"""Organizational ecology of SOs: founding, entry, rating (评级) and closure.

Founding follows density dependence (Hannan & Carroll 1992): legitimation raises the rate
while SOs are few, competition lowers it as they crowd; a low filing threshold (降低准入门槛,
seeds 000, 003), free space (seed 001) and social-worker support multiply it. New and small
SOs die more often (liability of newness; Bielefeld 1994), less so when registered, rated or
incubated (Singh, Tucker & House 1986; Hager et al. 2004).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.agents.social_org import (
    COMMUNITY,
    PROFESSIONAL,
    SocialOrganization,
    monthly_costs,
)
from sanshe.sim.mechanisms import needs, priorities, workforce
from sanshe.sim.population import D
from sanshe.sim.so_directory import column

if TYPE_CHECKING:
    from sanshe.sim.model import CommunityGovernanceModel

#: Monthly founding, agencies' entry and closures draw from this stream only.
STREAM = "ecology"


def density_factor(count: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Founding multiplier at a density of ``count`` community SOs per 1,000 residents:
    an inverted U, 1 at zero. Density is per head, not per community, so a district of
    large communities saturates at the same SOs per resident as one of small ones."""
    return (1.0 + count / p["density_legitimation"]) * np.exp(-count / p["density_competition"])


def founding_chance(count: np.ndarray, low_threshold: bool, free_space: np.ndarray,
                    outreach: np.ndarray, p: dict[str, float],
                    open_work: np.ndarray | None = None) -> np.ndarray:
    """Monthly chance that an active leader in each community founds a community SO;
    ``count`` is community SOs per 1,000 residents, ``open_work`` the yuan per resident of
    last year's work offered to SOs that they left undone (:func:`open_work`)."""
    rate = p["founding_rate"] * density_factor(count, p)
    rate *= p["founding_threshold_low_mult"] if low_threshold else 1.0
    rate *= 1.0 + (p["space_founding_mult"] - 1.0) * free_space
    rate *= 1.0 + p["outreach_leader_effect"] * outreach  # social workers coach leaders
    if open_work is not None:  # resources open to SOs that no SO takes up (a niche)
        rate *= 1.0 + p["open_work_founding_effect"] * open_work
    return np.minimum(rate, 1.0)


def open_work(model: CommunityGovernanceModel) -> np.ndarray:
    """Yuan per resident, in each community, of last year's community-fund work offered to
    SOs that they left undone: micro-projects nobody able took, and what the SOs that took
    one did not draw (结余, returned). Would-be founders see the committee's projects go
    begging; an unused resource is a niche a new organisation can fill (McPherson 1983;
    Baum & Oliver 1996: resources open to a population raise its founding rate)."""
    undone = [max(c.fund_offered_last - c.fund_drawn_last, 0.0) for c in model.committees]
    return np.array(undone) / model.sizes


def founding_domain(needs: np.ndarray, p: dict[str, float], rng: np.random.Generator) -> int:
    """A founder picks a domain where neighbours' needs are visible, or her own interest."""
    weights = needs + p["founding_domain_prior"]
    return int(rng.choice(weights.size, p=weights / weights.sum()))


def death_chances(sos: list[SocialOrganization], p: dict[str, float]) -> np.ndarray:
    """Each SO's monthly hazard from newness, cut by legitimacy (registration, rating,
    incubation)."""
    protected = (column(sos, "ever_incubated", bool) | (column(sos, "rating", np.int64) >= 3)
                 | ~column(sos, "is_community", bool))
    return np.where(column(sos, "age", np.int64) >= p["newness_months"], 0.0,
                    p["newness_hazard"] * (1.0 - p["legitimacy_protection"] * protected))


def rating_score(so: SocialOrganization, p: dict[str, float]) -> float:
    """Rating score: capacity, reputation, maturity and certified staff."""
    certified = np.mean([w.certified for w in so.staff]) if so.staff else 0.0
    maturity = min(so.age / p["rating_maturity_months"], 1.0)
    return (p["rating_weight_capacity"] * so.capacity
            + p["rating_weight_reputation"] * so.reputation
            + p["rating_weight_maturity"] * maturity + p["rating_weight_certified"] * certified)


def social_evaluation(so: SocialOrganization, p: dict[str, float]) -> None:
    """An SO no buyer evaluated this year is known by what residents got from it (社会评价):
    reputation moves toward the year's experienced service — how much it did, up to
    ``learning_full_services`` a month, times the quality delivered."""
    if so.year_served > 0:
        done = min(so.year_served / (12.0 * p["learning_full_services"]), 1.0)
        experienced = done * so.year_quality / so.year_served
    else:
        experienced = 0.0
    memory = p["reputation_memory"]
    so.reputation = memory * so.reputation + (1 - memory) * experienced


def rate(so: SocialOrganization, p: dict[str, float]) -> int:
    """The A-grade an SO earns this year: 0 (unrated), 3, 4 or 5."""
    score = rating_score(so, p)
    for grade, key in ((5, "rating_5a_threshold"), (4, "rating_4a_threshold"),
                       (3, "rating_3a_threshold")):
        if score >= p[key]:
            return grade
    return 0


def grow_capacity(capacity: np.ndarray, served: np.ndarray, training: np.ndarray,
                  p: dict[str, float]) -> np.ndarray:
    """SOs' capacity after a month: it grows by doing (``served``) and by training, and
    erodes without either."""
    doing = p["capacity_learning"] * np.minimum(served / p["learning_full_services"], 1.0)
    schooled = p["training_gain"] * training
    grown = capacity + ((doing + schooled) * (1.0 - capacity) - p["capacity_decay"] * capacity)
    return np.minimum(np.maximum(grown, 0.0), 1.0)


# --- the life cycle in the model ----------------------------------------------------------
def found(model: CommunityGovernanceModel, kind: str, domain: int, community: int,
          rng: np.random.Generator, ties: float) -> SocialOrganization:
    """A new SO with a starting reserve of ``cash_months_initial`` months of costs.

    ``rng`` is the stream of the mechanism that founds it (this one, incubation, venture
    philanthropy, or the district's construction), so a programme that founds SOs draws
    their starting capacity from its own stream."""
    p = model.p
    capacity = p["initial_capacity_community" if kind == COMMUNITY
                 else "initial_capacity_professional"]
    capacity = min(max(capacity + float(rng.normal(0, p["capacity_spread"])),
                       p["capacity_floor_new"]), p["capacity_ceiling_new"])
    fixed = p["community_so_cost"] if kind == COMMUNITY else (
        p["rent_per_month"] + p["local_wage"])
    so = SocialOrganization(model, kind, domain, community, capacity,
                            cash=p["cash_months_initial"] * fixed, ties=ties)
    model.sos.append(so)
    model.births_month += 1
    return so


def seed_community_so(model: CommunityGovernanceModel, community: int,
                      rng: np.random.Generator) -> SocialOrganization:
    """A community SO that predates the policy (the status quo's), some years old, with a
    few members."""
    p = model.p
    so = found(model, COMMUNITY, int(rng.integers(D)), community, rng,
               ties=p["ties_seeded_community_so"])
    so.age = int(rng.integers(int(p["seeded_community_so_age_low"]),
                              int(p["seeded_community_so_age_high"])))
    recruit_members(model, so, int(p["min_members"]) + int(p["seeded_extra_members"]), rng)
    return so


def recruit_members(model: CommunityGovernanceModel, so: SocialOrganization, count: int,
                    rng: np.random.Generator) -> None:
    """Residents of the SO's community (not yet members) join it, the civic-minded first."""
    pop = model.pop
    block = pop.block(so.community)
    pool = block.start + (pop.member_of[block] < 0).nonzero()[0]
    if pool.size == 0:
        return
    weights = pop.disposition[pool] + model.p["recruit_disposition_floor"]
    chosen = rng.choice(pool, size=min(count, pool.size), replace=False,
                        p=weights / weights.sum())
    pop.member_of[chosen] = so.unique_id


def cost_cover(grant: float, free_months: float, p: dict[str, float]) -> float:
    """Share of a new community SO's first-year running costs a programme pays: months of
    free space plus a grant, against ``community_so_cost`` a month (at most all of them)."""
    year = 12.0 * p["community_so_cost"]
    return float(min(1.0, min(free_months, 12.0) / 12.0 + grant / year))


def would_be_founders(model: CommunityGovernanceModel) -> np.ndarray:
    """Residents considering founding a community SO: engaged leaders (骨干/能人 committed
    to community life: registered volunteers, members, attenders — founding is a decision
    of months, not of whether one turned out this month) who have not founded one yet."""
    pop = model.pop
    return (pop.leader & ~pop.founder & pop.engaged).nonzero()[0]


def founding_chances(model: CommunityGovernanceModel, outreach: np.ndarray,
                     covered: float = 0.0) -> np.ndarray:
    """This month's founding chance of a would-be founder in each community, with
    ``covered`` of the running costs paid by a programme (or by the community space the
    SOs there leave free, if more: :func:`priorities.space_for_founders`)."""
    return founding_chance(
        community_so_counts(model) * 1000.0 / model.sizes,
        model.v["policy.incubation.registration_threshold"] == "low",
        np.maximum(priorities.space_for_founders(model), covered), outreach, model.p,
        open_work(model))


def programme_applicants(model: CommunityGovernanceModel, covered: float,
                         rng: np.random.Generator) -> np.ndarray:
    """Would-be founders who apply to a programme (incubator place, venture grant) that
    pays ``covered`` of the running costs: those who, on its terms, would found within
    the year — the monthly founding decision over twelve months, with the lower costs.
    The programme adds no other reason to found."""
    pool = would_be_founders(model)
    if pool.size == 0:
        return pool
    monthly = founding_chances(model, priorities.reach(model), covered)
    yearly = 1.0 - (1.0 - monthly) ** 12
    return pool[rng.random(pool.size) < yearly[model.pop.community[pool]]]


def select_applicants(scores: np.ndarray, places: int, noise: float,
                      rng: np.random.Generator) -> np.ndarray:
    """A programme's jury (incubator, venture philanthropy): indices of the ``places`` best
    applicants by score plus the jury's noise (all of them when they are no more)."""
    ranked = np.argsort(-(scores + rng.normal(0.0, noise, scores.size)), kind="stable")
    return ranked[:places]


def admit(model: CommunityGovernanceModel, programme: str,
          applicants: list[SocialOrganization | int], places: int,
          rng: np.random.Generator) -> list[SocialOrganization]:
    """A programme's call (incubator, venture philanthropy): ``applicants`` — existing SOs
    and would-be founders (resident indices), in the order of the call — are ranked by
    capacity (a new SO's expected capacity) with the jury's noise; the ``places`` best get
    in, and admitted founders found their SO. The round is recorded."""
    p = model.p
    scores = np.array([a.capacity if isinstance(a, SocialOrganization)
                       else p["initial_capacity_community"] for a in applicants], dtype=float)
    chosen = select_applicants(scores, places, p["venture_selection_noise"], rng)
    model.bureau.record_round(programme, int(scores.size), places)
    admitted = [applicants[i] for i in sorted(chosen)]
    # what planners know of needs: founding changes nobody's need, so it is read once
    founders = [a for a in admitted if not isinstance(a, SocialOrganization)]
    known = needs.known_demand(model) if founders else None
    return [a if isinstance(a, SocialOrganization) else leader_founds(model, int(a), rng, known)
            for a in admitted]


def leader_founds(model: CommunityGovernanceModel, who: int, rng: np.random.Generator,
                  known: np.ndarray | None = None) -> SocialOrganization:
    """Leader ``who``, selected by a programme (an incubator place, a venture grant),
    founds her community SO with a few members (``known``: :func:`needs.known_demand`, if
    the caller has it)."""
    pop = model.pop
    c = int(pop.community[who])
    known = needs.known_demand(model) if known is None else known
    domain = founding_domain(known[c], model.p, rng)
    so = found(model, COMMUNITY, domain, c, rng, ties=model.p["ties_programme_community_so"])
    pop.founder[who] = True
    pop.member_of[who] = so.unique_id
    recruit_members(model, so, int(model.p["min_members"]), rng)
    return so


def community_so_counts(model: CommunityGovernanceModel) -> np.ndarray:
    """Community SOs in each community."""
    homes = [so.community for so in model.sos if so.is_community]
    return np.bincount(np.array(homes, dtype=int),
                       minlength=model.pop.communities).astype(float)


def found_community_sos(model: CommunityGovernanceModel, outreach: np.ndarray) -> None:
    """Active leaders found community SOs (社区能人 → 社区社会组织)."""
    pop, rng = model.pop, model.streams[STREAM]
    chance = founding_chances(model, outreach)
    candidates = would_be_founders(model)
    founders = candidates[rng.random(candidates.size) < chance[pop.community[candidates]]]
    known = needs.known_demand(model) if founders.size else None  # most months: nobody
    for who in founders:
        c = int(pop.community[who])
        so = found(model, COMMUNITY, founding_domain(known[c], model.p, rng), c, rng,
                   ties=model.p["ties_new_community_so"])
        pop.founder[who] = True
        pop.member_of[who] = so.unique_id


def professional_entry(model: CommunityGovernanceModel, months: int = 12) -> None:
    """Agencies enter when the purchase market can feed more of them (Guangzhou): over the
    ``months`` since the last call for bids, each month's would-be agency registers when
    the room left tempts it. Founders register to bid, so they enter as the year's call
    opens (the yearly round), not in a month when there is nothing to bid for and the
    rent runs."""
    p, rng = model.p, model.streams[STREAM]
    professionals = sum(1 for so in model.sos if not so.is_community)
    for _ in range(months):
        room = model.bureau.purchase_budget / p["market_per_agency"] - professionals
        if not (room > 0 and rng.random() < p["professional_entry_rate"] * room):
            continue
        c = int(rng.integers(model.pop.communities))
        so = found(model, PROFESSIONAL, int(rng.integers(D)), c, rng, ties=p["ties_new_agency"])
        workforce.hire(model, so, rng)
        professionals += 1


def rate_year(model: CommunityGovernanceModel, evaluated: set[int]) -> None:
    """The yearly rating (评级): SOs no buyer evaluated are judged by residents (社会评价),
    then every SO gets its A-grade and starts a new year's record."""
    for so in model.sos:
        if model.month > 0 and so.unique_id not in evaluated:
            social_evaluation(so, model.p)
        so.year_served = so.year_quality = 0.0
        so.rating = rate(so, model.p)
        so.ledger.year = dict.fromkeys(so.ledger.year, 0.0)


def broke(model: CommunityGovernanceModel, costs: np.ndarray | None = None,
          carried: np.ndarray | None = None) -> np.ndarray:
    """Which SOs owe more than ``debt_months_to_close`` months of costs, reckoned on the
    larger of this month's ``costs`` and the costs it carried over about the past
    ``cost_memory_months`` (``carried_costs``, a running mean :func:`closures` keeps):
    letting staff go does not shrink the scale its debts are judged by."""
    if costs is None:
        costs = monthly_costs(model.sos, model.p,
                              float(model.v["policy.social_work.salary_index"]), 1.0)
    if carried is None:
        carried = column(model.sos, "carried_costs")
    scale = np.maximum(np.maximum(costs, carried), 1.0)
    return column(model.sos, "cash") < -model.p["debt_months_to_close"] * scale


def closures(model: CommunityGovernanceModel) -> None:
    """SOs close when money runs out (:func:`broke`), when idle too long, or by the newness
    hazard, drawn one SO after another for those neither broke nor idle. Then every SO's
    ``carried_costs`` takes in this month's costs (a running mean over about
    ``cost_memory_months``; its first month's costs to begin with)."""
    p, rng, sos = model.p, model.streams[STREAM], model.sos
    costs = monthly_costs(sos, p, float(model.v["policy.social_work.salary_index"]), 1.0)
    carried = column(sos, "carried_costs")
    closing = (broke(model, costs, carried)
               | (column(sos, "idle_months", np.int64) >= p["inactive_months_to_close"]))
    exposed = (~closing).nonzero()[0]
    closing[exposed] = rng.random(exposed.size) < death_chances(sos, p)[exposed]
    carried = np.where(carried < 0, costs, carried + (costs - carried) / p["cost_memory_months"])
    for so, value in zip(sos, carried.tolist(), strict=True):
        so.carried_costs = value
    for so in [sos[i] for i in closing.nonzero()[0].tolist()]:
        close(model, so, unlist=False)
    sos[:] = [so for so, gone in zip(sos, closing.tolist(), strict=True) if not gone]


def close(model: CommunityGovernanceModel, so: SocialOrganization, unlist: bool = True
          ) -> None:
    """An SO closes: staff leave, members are free, contracts lapse and what their
    accounts hold goes back to the buyers (结余资金收回). ``unlist=False``: the caller
    takes it off ``model.sos`` (many at once, in one pass)."""
    model.returned_month += sum([contract.close_account() for contract in so.contracts])
    for worker in so.staff:
        worker.remove()
    so.staff = []
    members = model.pop.member_of[model.pop.block(so.community)]  # they live where it works
    members[members == so.unique_id] = -1
    if unlist:
        model.sos.remove(so)
    so.remove()
    model.closures_month += 1
