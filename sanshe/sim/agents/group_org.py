"""Group (mass) organizations (群团组织): target groups, small budgets, reach, silos.

Seed 000 lists eight (工会, 共青团, 妇联, 科协, 残联, 台联, 计生协会 and one more): the youth
league, women's and disabled persons' federations reach every community; the trade union
works mostly through enterprises. Each buys a few projects a year for its target group
where it sees that group's needs through its own channels, and mobilises volunteers.
Without a coordination mechanism (协同机制) each places its projects knowing only its own,
so those serving the same group and domain stack up (各自为战, 资源交叉重叠).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sanshe.sim.population import DOMAIN_INDEX, D


@dataclass(frozen=True)
class GroupOrgKind:
    """A group organisation's identity: whom it serves and how far it reaches."""

    name: str
    zh: str
    target: str  # special group whose residents it mobilises
    domain: str  # service domain of its projects
    second: str  # another domain where its group has needs
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
    """One group organisation with its budget, channels (reach) and this year's projects."""

    def __init__(self, model: mesa.Model, kind: GroupOrgKind, reach: np.ndarray,
                 budget: float) -> None:
        super().__init__(model)
        self.kind = kind
        self.domain = DOMAIN_INDEX[kind.domain]
        self.second = DOMAIN_INDEX[kind.second]
        self.reach = reach  # bool per community: its channels (组织触角)
        self.budget = budget
        self.informed = True  # cadre knows the communities; lost on cadre turnover
        self.extra_project = 0  # this year's project on the fraction of one (yearly draw)
        self.projects: list[tuple[int, int]] = []  # (community, domain) this year

    @property
    def project_value(self) -> float:
        """Yuan of one community project (seed 000: small budgets)."""
        return float(self.model.p["group_project_size"])

    @property
    def project_count(self) -> int:
        """Projects this year: the whole ones the budget pays, and the one a fraction of a
        project's money pays in the years its chance comes up (:attr:`extra_project`)."""
        return max(int(self.budget // self.project_value), 0) + self.extra_project

    def cells(self, communities: int) -> np.ndarray:
        """(community, domain) cells it can fund: its two domains where its channels reach."""
        mask = np.zeros((communities, D), bool)
        mask[self.reach, self.domain] = True
        mask[self.reach, self.second] = True
        return mask

    def claim(self, seen: np.ndarray, claims: np.ndarray,
              rng: np.random.Generator) -> tuple[int, int] | None:
        """The cell of its next project: its target group's need as it sees it there, per
        project already known to be there (its own alone; everyone's at a joint meeting),
        so a second project goes where the need seen is more than twice that of any free
        cell. A new cadre, not knowing the communities, sees noise. None without channels."""
        mask = self.cells(seen.shape[0])
        if not mask.any():
            return None
        need = seen if self.informed else rng.random(seen.shape)
        # A tiny jitter breaks ties at random, and among cells where it sees no need at all
        # still prefers one nobody has claimed.
        jitter = 1e-6 * (1.0 + rng.random(need.shape))
        value = np.where(mask, (need + jitter) / (1.0 + claims), -np.inf)
        c, d = np.unravel_index(int(np.argmax(value)), value.shape)
        return int(c), int(d)
