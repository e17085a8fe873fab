"""Group (mass) organizations (群团组织): target groups, small budgets, reach, silos.

Seed 000 lists eight (工会, 共青团, 妇联, 科协, 残联, 台联, 计生协会 and one more): the youth
league, women's and disabled persons' federations reach every community; the trade union
works mostly through enterprises. Each buys a few projects a year for its target group and
mobilises volunteers. Without a coordination mechanism (协同机制) each picks the most
visible communities on its own and they overlap (各自为战, 资源交叉重叠).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sanshe.sim.population import DOMAIN_INDEX


@dataclass(frozen=True)
class GroupOrgKind:
    """A group organisation's identity: whom it serves and how far it reaches."""

    name: str
    zh: str
    target: str  # special group whose residents it mobilises
    domain: str  # service domain of its projects
    second: str  # another domain where its group has needs (used when coordinated)
    reach: str  # "all" communities, or the parameter giving the share of them it reaches


GROUP_ORG_KINDS: tuple[GroupOrgKind, ...] = (
    GroupOrgKind("trade_union", "工会", "migrant", "assistance", "mediation", "union_reach"),
    GroupOrgKind("youth_league", "共青团", "children", "children_youth", "culture_sports", "all"),
    GroupOrgKind("womens_federation", "妇联", "children", "children_youth", "mediation", "all"),
    GroupOrgKind("science_association", "科协", "elderly", "culture_sports", "elder_care",
                 "group_reach_partial"),
    GroupOrgKind("disabled_federation", "残联", "disabled", "disability", "assistance", "all"),
    GroupOrgKind("taiwan_federation", "台联", "elderly", "culture_sports", "mediation",
                 "group_reach_sparse"),
    GroupOrgKind("family_planning_association", "计生协会", "elderly", "elder_care",
                 "children_youth", "group_reach_partial"),
    GroupOrgKind("red_cross", "红十字会", "low_income", "assistance", "elder_care",
                 "group_reach_partial"),
)


class GroupOrganization(mesa.Agent):
    """One group organisation with its budget, reach and this year's projects."""

    def __init__(self, model: mesa.Model, kind: GroupOrgKind, reach: np.ndarray,
                 budget: float) -> None:
        super().__init__(model)
        self.kind = kind
        self.domain = DOMAIN_INDEX[kind.domain]
        self.second = DOMAIN_INDEX[kind.second]
        self.reach = reach  # bool per community
        self.budget = budget
        self.informed = True  # cadre knows the communities; lost on cadre turnover
        self.projects: list[tuple[int, int]] = []  # (community, domain) this year

    @property
    def project_value(self) -> float:
        """Yuan of one community project (seed 000: small budgets)."""
        return float(self.model.p["group_project_size"])

    @property
    def project_count(self) -> int:
        return max(int(self.budget // self.project_value), 0)

    def choose_projects(self, visible_need: np.ndarray, taken: set[tuple[int, int]] | None,
                        rng: np.random.Generator) -> list[tuple[int, int]]:
        """(community, domain) of this year's projects, by visible need.

        Alone (``taken`` is None) it ranks the communities it reaches by need in its own
        domain and funds the top ones, blind to what the others fund (so organisations
        sharing a domain stack up in the same communities). Coordinated, it skips pairs
        another organisation already covers, across every community (shared channels), and
        turns to a second domain of its group's needs when its own is covered. A new cadre
        who does not know the communities picks at random.
        """
        if taken is None:
            candidates = [(int(c), self.domain) for c in np.flatnonzero(self.reach)]
        else:
            communities = range(visible_need.shape[0])
            candidates = [(c, d) for d in (self.domain, self.second) for c in communities
                          if (c, d) not in taken]
        if not candidates:
            return []
        need = np.array([visible_need[c, d] for c, d in candidates], float)
        if taken is not None:  # its own domain first, then the second one
            need += np.array([d == self.domain for _, d in candidates]) * (need.max() + 1)
        if not self.informed:
            need = rng.random(len(candidates))
        order = np.argsort(-(need + rng.random(len(candidates)) * 1e-6))
        # Alone with fewer communities than projects, it funds some communities twice.
        picks = order[np.arange(self.project_count) % order.size] if taken is None else (
            order[: self.project_count])
        return [candidates[int(i)] for i in picks]
