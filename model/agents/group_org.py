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

from model.population import DOMAIN_INDEX


@dataclass(frozen=True)
class GroupOrgKind:
    """A group organisation's identity: whom it serves and how far it reaches."""

    name: str
    zh: str
    target: str  # special group whose residents it mobilises
    domain: str  # service domain of its projects
    reach: str  # "all" communities, "union" (parameter union_reach), or a share as text


GROUP_ORG_KINDS: tuple[GroupOrgKind, ...] = (
    GroupOrgKind("trade_union", "工会", "migrant", "assistance", "union"),
    GroupOrgKind("youth_league", "共青团", "children", "children_youth", "all"),
    GroupOrgKind("womens_federation", "妇联", "children", "children_youth", "all"),
    GroupOrgKind("science_association", "科协", "elderly", "culture_sports", "0.5"),
    GroupOrgKind("disabled_federation", "残联", "disabled", "disability", "all"),
    GroupOrgKind("taiwan_federation", "台联", "elderly", "culture_sports", "0.2"),
    GroupOrgKind("family_planning_association", "计生协会", "elderly", "elder_care", "0.5"),
    GroupOrgKind("red_cross", "红十字会", "low_income", "assistance", "0.5"),
)

PROJECT_VALUE = 20_000.0  # yuan: one group-org community project (seed 000: small budgets)


class GroupOrganization(mesa.Agent):
    """One group organisation with its budget, reach and this year's projects."""

    def __init__(self, model: mesa.Model, kind: GroupOrgKind, reach: np.ndarray,
                 budget: float) -> None:
        super().__init__(model)
        self.kind = kind
        self.domain = DOMAIN_INDEX[kind.domain]
        self.reach = reach  # bool per community
        self.budget = budget
        self.informed = True  # cadre knows the communities; lost on cadre turnover
        self.projects: list[tuple[int, int]] = []  # (community, domain) this year

    @property
    def project_count(self) -> int:
        return max(int(self.budget // PROJECT_VALUE), 0)

    def choose_communities(self, visible_need: np.ndarray, taken: set[tuple[int, int]] | None,
                           rng: np.random.Generator) -> list[int]:
        """Communities for this year's projects, by visible need in its domain.

        Alone (``taken`` is None) it ranks its reachable communities by need; coordinated,
        it skips (community, domain) pairs another organisation already covers. A new
        cadre who does not know the communities picks at random.
        """
        candidates = np.flatnonzero(self.reach)
        if taken is not None:
            candidates = np.array([c for c in candidates if (c, self.domain) not in taken], int)
        if candidates.size == 0:
            return []
        score = visible_need[candidates, self.domain].astype(float)
        if not self.informed:
            score = rng.random(candidates.size)
        score = score + rng.random(candidates.size) * 1e-6  # break ties
        chosen = candidates[np.argsort(-score)[: self.project_count]]
        return [int(c) for c in chosen]
