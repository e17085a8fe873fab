"""Needs (需求): arising by domain and special group, expression through channels, lapsing.

A resident holds at most one open need. It starts hidden; each month it may be expressed
through grid staff or the hotline, the information platform, deliberation meetings, SOs
present in the community, social-worker outreach, or the group organisation that reaches
her group (seeds 000, 001). Unmet needs lapse after
a geometric wait and leave a grievance (Epstein 2002: grievance = hardship × (1 − legitimacy)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanshe.population import D, Population


@dataclass
class Channels:
    """Expression channels open in each community this month (arrays per community)."""

    platform: bool
    landing: np.ndarray  # SO presence through the landing priority, 0..1
    outreach: np.ndarray  # social-worker outreach coverage, 0..1
    group_reach: np.ndarray  # per resident: a group organisation reaches her group there


def arise(pop: Population, rng: np.random.Generator) -> np.ndarray:
    """New needs for residents without one; returns their indices."""
    free = np.flatnonzero(pop.need_domain < 0)
    weights = pop.need_weights[free]
    total = weights.sum(axis=1)
    draw = rng.random(free.size)
    new = draw < total
    idx = free[new]
    cumulative = np.cumsum(weights[new], axis=1)
    pick = draw[new][:, None] < cumulative  # reuse the draw: below total → a domain
    pop.need_domain[idx] = np.argmax(pick, axis=1).astype(np.int8)
    pop.need_expressed[idx] = False
    return idx


def express(pop: Population, channels: Channels, p: dict[str, float],
            rng: np.random.Generator) -> None:
    """Hidden needs become known to providers through the open channels."""
    hidden = np.flatnonzero((pop.need_domain >= 0) & ~pop.need_expressed)
    c = pop.community[hidden]
    chance = (
        p["expression_base"]
        + p["expression_platform"] * channels.platform
        + p["expression_trust"] * pop.trust[hidden]
        + p["expression_landing"] * channels.landing[c]
        + p["expression_outreach"] * channels.outreach[c]
        + p["expression_deliberation"] * pop.deliberating[hidden]
        + p["expression_group"] * channels.group_reach[hidden]
    )
    pop.need_expressed[hidden[rng.random(hidden.size) < np.minimum(chance, 1.0)]] = True


def lapse(pop: Population, served: np.ndarray, p: dict[str, float],
          rng: np.random.Generator) -> np.ndarray:
    """Unmet needs that lapse this month; their holders lose satisfaction and trust.

    ``served`` marks residents whose need was met this month (they cannot lapse).
    """
    open_ = (pop.need_domain >= 0) & ~served
    lapsed = np.flatnonzero(open_ & (rng.random(pop.size) < 1.0 / p["need_patience_months"]))
    grievance = p["unmet_penalty"] * np.where(pop.need_expressed[lapsed], 1.0, 0.5)
    pop.satisfaction[lapsed] *= 1.0 - grievance
    # An expressed need left unmet erodes legitimacy of the providers who were asked.
    pop.trust[lapsed] *= 1.0 - grievance * pop.need_expressed[lapsed]
    return lapsed


def close(pop: Population, idx: np.ndarray) -> None:
    """Needs at ``idx`` are over (met or lapsed)."""
    pop.need_domain[idx] = -1
    pop.need_expressed[idx] = False


def open_counts(pop: Population, expressed: bool | None = None) -> np.ndarray:
    """Open needs per (community, domain), optionally only expressed or hidden ones."""
    mask = pop.need_domain >= 0
    if expressed is not None:
        mask &= pop.need_expressed == expressed
    key = pop.community[mask] * D + pop.need_domain[mask]
    return np.bincount(key, minlength=pop.communities * D).reshape(pop.communities, D)
