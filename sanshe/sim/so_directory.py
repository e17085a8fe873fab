"""The district's SOs indexed by where and in what they work (one directory for a year's
round: procurement's lots, group organisations' projects), and their attributes as columns
for the rules that treat every SO alike (finance, closures).

A lot or project looks up who can take it instead of scanning every SO. A community SO works
in its own community and domain; a professional agency anywhere. Every list keeps the order
of ``model.sos``, because the draws of an award or a jury follow it.
"""

from __future__ import annotations

from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sanshe.sim.agents.social_org import SocialOrganization

Indexed = list[tuple[int, "SocialOrganization"]]  # (position in model.sos, SO)


class SODirectory:
    """The SOs of ``sos`` with capacity ≥ ``min_capacity``, indexed once (capacity does not
    change while a round's lots or projects are placed)."""

    def __init__(self, sos: list[SocialOrganization], min_capacity: float = float("-inf")
                 ) -> None:
        self.local: dict[tuple[int, int], Indexed] = {}  # community SOs by (community, domain)
        self.agencies: Indexed = []  # professional agencies
        self.agencies_in: dict[int, Indexed] = {}  # professional agencies by domain
        self.community: dict[int, list[SocialOrganization]] = {}  # community SOs by community
        for i, so in enumerate(sos):
            if so.capacity < min_capacity:
                continue
            if so.is_community:
                self.local.setdefault((so.community, so.domain), []).append((i, so))
                self.community.setdefault(so.community, []).append(so)
            else:
                self.agencies.append((i, so))
                self.agencies_in.setdefault(so.domain, []).append((i, so))

    def serving(self, c: int, d: int, any_domain: bool = False) -> list[SocialOrganization]:
        """SOs that can work in domain ``d`` of community ``c``: its own community SOs of
        that domain and the agencies of domain ``d`` (of any domain with ``any_domain``:
        a purchase lot goes to an all-round agency, 综合性社工机构), in model order."""
        agencies = self.agencies if any_domain else self.agencies_in.get(d, [])
        local = self.local.get((c, d), [])
        if not local:
            return [so for _, so in agencies]
        return [so for _, so in sorted(local + agencies, key=itemgetter(0))]


def staff_counts(sos: list[SocialOrganization]) -> np.ndarray:
    """Paid social workers of every SO of ``sos``, in their order."""
    return np.fromiter(map(len, map(attrgetter("staff"), sos)), np.int64, count=len(sos))


def column(sos: list[SocialOrganization], name: str, dtype: type = float) -> np.ndarray:
    """Attribute ``name`` of every SO of ``sos``, in their order (one array for a rule
    applied to all SOs at once instead of SO by SO)."""
    return np.fromiter(map(attrgetter(name), sos), dtype, count=len(sos))
