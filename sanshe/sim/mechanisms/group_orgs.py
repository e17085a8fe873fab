"""Group (mass) organizations' projects and reach (群团组织, seed 000).

Each year every group organisation funds a few community projects for its target group,
in the (community, domain) cells its channels reach, where it sees that group's needs
waiting, each further project in a cell counting for less. In silos (各自为战) each knows
only its own projects, so organisations serving the same group and domain stack up in the
same cells (资源交叉重叠); coordinated (协同机制) they take turns at a joint meeting and each
claim is known to all. Budgets and channels are the same in both. A project is bought from
a local SO of its domain, or run with the organisation's own volunteers. A new cadre
(cadre turnover) does not know the communities and picks at random.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.agents.group_org import GroupOrganization
from sanshe.sim.agents.social_org import Contract
from sanshe.sim.mechanisms import costing, funding, needs
from sanshe.sim.population import D
from sanshe.sim.so_directory import SODirectory

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
    """This year's 群团 projects, from the same budgets and channels in both arms: in silos
    (各自为战) each organisation places its projects knowing only its own; coordinated
    (协同机制, seed 000) they take turns at a joint meeting, each claim known to all."""
    rng = model.streams[STREAM]
    model.group_projects = []
    model.group_offers = []
    orgs = [model.group_orgs[int(i)] for i in rng.permutation(len(model.group_orgs))]
    for org in orgs:  # a new cadre does not know the communities yet
        org.informed = rng.random() >= model.p["cadre_turnover"]
    for org in model.group_orgs:  # a budget worth part of a project pays one at that chance
        org.extra_project = int(funding.whole_projects(org.budget % org.project_value,
                                                       org.project_value, rng))
    seen = {target: seen_need(model, target) for target in {o.kind.target for o in orgs}}
    plan = joint_plan if model.v["policy.linkage.group_coordination"] else silo_plans
    sos = SODirectory(model.sos)
    for org, c, d in plan(orgs, seen, rng):
        model.group_projects.append((org.unique_id, c, d))
        _commission(model, org, c, d, rng, sos)


def seen_need(model: CommunityGovernanceModel, target: str) -> np.ndarray:
    """A target group's needs by (community, domain) as its organisations see them through
    their members: before the first year a survey of expected needs, later the group's
    needs expressed and still unmet (what members bring to their organisation)."""
    pop = model.pop
    members = pop.groups[target]
    if model.month == 0:
        return needs.expected_needs(pop, members.nonzero()[0])
    waiting = members & (pop.need_domain >= 0) & pop.need_expressed
    key = pop.community[waiting] * D + pop.need_domain[waiting]
    return np.bincount(key, minlength=pop.communities * D).reshape(
        pop.communities, D).astype(float)


Plan = list[tuple[GroupOrganization, int, int]]


def silo_plans(orgs: list[GroupOrganization], seen: dict[str, np.ndarray],
               rng: np.random.Generator) -> Plan:
    """各自为战: each organisation places all its projects knowing only its own claims (a
    joint meeting of one)."""
    return [entry for org in orgs for entry in joint_plan([org], seen, rng)]


def joint_plan(orgs: list[GroupOrganization], seen: dict[str, np.ndarray],
               rng: np.random.Generator) -> Plan:
    """协同机制: a joint meeting where organisations claim one project's cell per turn,
    knowing every claim so far; each still funds only where its own channels reach, so it
    stacks on a claimed cell when its group's need there outweighs its free cells."""
    plan: Plan = []
    claims = np.zeros_like(next(iter(seen.values())))
    left = {org.unique_id: org.project_count for org in orgs}
    while any(left.values()):
        for org in orgs:
            if left[org.unique_id] <= 0:
                continue
            cell = org.claim(seen[org.kind.target], claims, rng)
            if cell is None:
                left[org.unique_id] = 0
                continue
            left[org.unique_id] -= 1
            claims[cell] += 1
            plan.append((org, *cell))
    return plan


def duplicated(projects: list[tuple[int, int, int]]) -> int:
    """Projects in a (community, domain) cell where another organisation also runs one:
    two organisations buying the same service for the same residents (资源交叉重叠)."""
    funders: dict[tuple[int, int], set[int]] = {}
    for org, c, d in projects:
        funders.setdefault((c, d), set()).add(org)
    return sum(1 for _, c, d in projects if len(funders[(c, d)]) > 1)


def _commission(model: CommunityGovernanceModel, org: GroupOrganization, c: int, d: int,
                rng: np.random.Generator, sos: SODirectory) -> None:
    """Buy the project from a local SO in the domain, or run it with own volunteers."""
    p = model.p
    value = org.project_value * p["group_project_slots_share"]
    local = sos.serving(c, d)
    if not local and model.v["policy.four_priorities.projects"]:
        # 公益项目优先落地社区: the project goes to a community SO of that community
        local = list(sos.community.get(c, []))
    if local:
        so = max(local, key=lambda s: s.reputation + 1e-6 * rng.random())
        slots = costing.units_bought(value, costing.price_for(model, so))
        contract = Contract("group_org", c, d, value, slots,  # the part reaching services
                            staff_line=costing.staff_line(p, value / 12.0, slots))
        so.contracts.append(contract)
        model.group_offers.append((org, contract, c, d, slots))
    else:  # its own staff organise it: the price of paid staff's units
        model.group_offers.append((org, None, c, d,
                                   costing.units_bought(value, costing.price(model))))


def offer_own_projects(model: CommunityGovernanceModel, offers: Offers) -> None:
    """Projects a group organisation runs with its own volunteers offer services."""
    for org, contract, c, d, slots in model.group_offers:
        if contract is None:
            offers.add(org, c, d, slots, model.p["admin_quality"], False)


def pay_own_projects(model: CommunityGovernanceModel) -> None:
    """This month's spending of group organisations' own: a self-run project whole; of a
    bought one, the part that does not reach services (``group_project_slots_share``: the
    organisation's own organising, publicity and management of it), while it runs — the
    SO's account holds the rest; finished bought projects leave the list."""
    own_share = 1.0 - model.p["group_project_slots_share"]
    for org, contract, *_ in model.group_offers:
        if contract is None:
            model.group_month += org.project_value / 12.0
        else:  # running, or in its last month (drawn before this)
            model.group_month += org.project_value * own_share / 12.0
    model.group_offers = [g for g in model.group_offers
                          if g[1] is None or g[1].months_left > 0]


def target_tables(model: CommunityGovernanceModel) -> np.ndarray:
    """Per group organisation (first axis), by (community, combination of special groups):
    whether such residents are its target group in a community its own channels reach;
    coordination divides work, it lends no channels. Residents read their cell
    (``Population.by_profile``), so the rule is applied once per cell, not once per
    resident; and once for all organisations (one array operation, not one per
    organisation: a month asks twice)."""
    pop, orgs = model.pop, model.group_orgs
    if not orgs:
        return np.zeros((0, pop.communities, pop.need_table.shape[0]), bool)
    reach = np.array([org.reach for org in orgs], bool)
    targeted = np.array([pop.profile_has(org.kind.target) for org in orgs], bool)
    return reach[:, :, None] & targeted[:, None, :]


def targets(model: CommunityGovernanceModel) -> list[np.ndarray]:
    """Per group organisation, the residents of its target group in the communities its
    own channels reach."""
    return [model.pop.by_profile(table) for table in target_tables(model)]


def reached(model: CommunityGovernanceModel) -> np.ndarray:
    """Residents whose special group some group organisation reaches where they live
    (read-only). Channels and targets do not change in a run, so the answer is kept while
    they are the same objects (:meth:`Population.keep`; a pass over every resident a month
    otherwise)."""
    pop, orgs = model.pop, model.group_orgs
    def reached_now() -> np.ndarray:
        answer = pop.by_profile(np.logical_or.reduce(target_tables(model), axis=0))
        answer.flags.writeable = False
        return answer
    sources = (pop.profile_key, *(org.reach for org in orgs), *(org.kind for org in orgs))
    return pop.keep("group_reach", sources, reached_now)
