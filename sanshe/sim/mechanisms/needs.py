"""Needs (需求): arising by domain and special group, expression through channels, lapsing.

A resident holds at most one open need. It starts hidden; each month it may be expressed
through grid staff or the hotline, the information platform, deliberation meetings, SOs
present in the community, social-worker outreach, or the group organisation that reaches
her group (seeds 000, 001). Unmet needs lapse after
a geometric wait and leave a grievance (Epstein 2002: grievance = hardship × (1 − legitimacy)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sanshe.sim.mechanisms import satisfaction
from sanshe.sim.population import D, Population

if TYPE_CHECKING:
    from sanshe.sim.mechanisms.services import Delivery
    from sanshe.sim.model import CommunityGovernanceModel

#: Needs arise and lapse by draws from this stream; expression has its own (below), so a
#: channel lever (platform, landing, outreach) leaves which needs arise and lapse aligned.
STREAM = "needs"
EXPRESSION_STREAM = "expression"


@dataclass
class Channels:
    """Expression channels open in each community this month (arrays per community)."""

    platform: np.ndarray | None  # per resident: on the information platform (None: no platform)
    landing: np.ndarray  # SO presence through the landing priority, 0..1
    outreach: np.ndarray  # social-worker outreach coverage, 0..1
    group_reach: np.ndarray  # per resident: a group organisation reaches her group there


def known_demand(model: CommunityGovernanceModel) -> np.ndarray:
    """What planners know of residents' needs by (community, domain): the needs expressed
    this year, plus hidden ones of residents on the information platform that it shows."""
    pop = model.pop
    if model.month == 0:  # a needs survey before the first year: expected needs
        return expected_needs(pop)
    visible = model.expressed_year.copy()
    if model.v["policy.linkage.info_platform"]:
        visible += model.p["platform_needs_visibility"] * open_counts(
            pop, False, among=model.agenda.online)
    return visible


def expected_needs(pop: Population, who: np.ndarray | None = None) -> np.ndarray:
    """Needs a year brings by (community, domain) among residents ``who`` (all by default),
    as a needs survey finds them: residents of a community with the same special groups
    share their chances, so they are counted once per combination of groups."""
    rows = pop.need_table.shape[0]
    key = pop.profile_key if who is None else pop.profile_key[who]
    counts = np.bincount(key, minlength=pop.communities * rows).reshape(pop.communities, rows)
    return (counts @ pop.need_table) * 12


def arise_and_express(model: CommunityGovernanceModel, channels: Channels) -> None:
    """This month's new needs, then hidden needs expressed; the year's tally of expressed
    needs (what planners will know) grows by the newly expressed ones."""
    pop = model.pop
    arise(pop, model.streams[STREAM])
    newly = express(pop, channels, model.p, model.streams[EXPRESSION_STREAM])
    model.expressed_year += pool_counts(pop, pop.community[newly] * D + pop.need_domain[newly])


def lapse_unmet(model: CommunityGovernanceModel, delivery: Delivery) -> np.ndarray:
    """Needs left unmet this month that lapse (their holders were not served)."""
    served = np.zeros(model.pop.size, bool)
    served[delivery.served] = True
    return lapse(model.pop, served, model.p, model.streams[STREAM])


def arise(pop: Population, rng: np.random.Generator) -> np.ndarray:
    """New needs for residents without one (one single-precision draw each, none for
    those who hold one); returns their indices."""
    free = (pop.need_domain < 0).nonzero()[0]
    draw = rng.random(free.size, dtype=np.float32)
    chance = pop.need_table.sum(axis=1)  # per combination of special groups
    # only a draw below the highest chance can start a need: read those few residents'
    # groups, not every resident's
    maybe = (draw < chance.max()).nonzero()[0]
    who, draw = free[maybe], draw[maybe]
    profile = pop.need_profile[who]
    new = draw < chance[profile]
    idx, draw, profile = who[new], draw[new], profile[new]
    cumulative = np.cumsum(pop.need_table, axis=1)
    pick = draw[:, None] < cumulative[profile]  # reuse the draw: below total → a domain
    pop.need_domain[idx] = np.argmax(pick, axis=1)
    pop.need_expressed[idx] = False
    return idx


def express(pop: Population, channels: Channels, p: dict[str, float],
            rng: np.random.Generator) -> np.ndarray:
    """Hidden needs become known to providers through the open channels; returns the
    residents whose need was expressed now (in index order)."""
    hidden = ((pop.need_domain >= 0) & ~pop.need_expressed).nonzero()[0]
    c = pop.community[hidden]
    # the terms in this order, summed in place (community terms weighted per community)
    chance = p["expression_trust"] * pop.trust[hidden]
    chance += p["expression_base"]
    if channels.platform is not None:  # only residents on the platform post a need there
        chance += p["expression_platform"] * channels.platform[hidden]
    chance += (p["expression_landing"] * channels.landing)[c]
    chance += (p["expression_outreach"] * channels.outreach)[c]
    chance += p["expression_deliberation"] * pop.deliberating[hidden]
    chance += p["expression_group"] * channels.group_reach[hidden]
    newly = hidden[rng.random(hidden.size) < np.minimum(chance, 1.0, out=chance)]
    pop.need_expressed[newly] = True
    return newly


def lapse(pop: Population, served: np.ndarray, p: dict[str, float],
          rng: np.random.Generator) -> np.ndarray:
    """Unmet needs that lapse this month; their holders lose satisfaction and trust.

    A lapsed need is an experience worth nothing, judged against what its holder expected
    (satisfaction.py); one nobody was told of counts ``hidden_grievance_share`` as much.
    ``served`` marks residents whose need was met this month (they cannot lapse). One draw
    per resident whatever was served (in single precision), so that which needs arise next
    month stays aligned between scenarios that serve differently (common random numbers).
    """
    open_ = (pop.need_domain >= 0) & ~served
    chance = 1.0 / p["need_patience_months"]
    lapsed = (open_ & (rng.random(pop.size, dtype=np.float32) < chance)).nonzero()[0]
    expressed = pop.need_expressed[lapsed]
    satisfaction.judge(pop, lapsed, 0.0, p,
                       weight=np.where(expressed, 1.0, p["hidden_grievance_share"]))
    # An expressed need left unmet erodes legitimacy of the providers who were asked.
    pop.trust[lapsed] *= 1.0 - p["unmet_penalty"] * expressed
    return lapsed


def close(pop: Population, idx: np.ndarray) -> None:
    """Needs at ``idx`` are over (met or lapsed)."""
    pop.need_domain[idx] = -1
    pop.need_expressed[idx] = False


def open_counts(pop: Population, expressed: bool | None = None,
                among: np.ndarray | None = None) -> np.ndarray:
    """Open needs per (community, domain), optionally only expressed or hidden ones, and
    only of the residents flagged in ``among``."""
    mask = pop.need_domain >= 0
    if expressed is not None:
        mask &= pop.need_expressed == expressed
    if among is not None:
        mask &= among
    return pool_counts(pop, pop.community[mask] * D + pop.need_domain[mask])


def domain_shares(counts: np.ndarray) -> np.ndarray:
    """Each community's shares across domains in proportion to ``counts`` (community ×
    domain; even shares where there are none): how services spread and service matters
    fall."""
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, total, out=np.full(counts.shape, 1.0 / counts.shape[1]),
                     where=total > 0)


def pool_counts(pop: Population, keys: np.ndarray) -> np.ndarray:
    """Needs per (community, domain) from their pools' ``keys`` (community × D + domain)."""
    return np.bincount(keys, minlength=pop.communities * D).reshape(pop.communities, D)


def waiting(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Residents whose open need providers know of (expressed), in order, and the pool of
    each (community × D + domain): what services draw on this month."""
    who = ((pop.need_domain >= 0) & pop.need_expressed).nonzero()[0]
    return who, pop.community[who] * D + pop.need_domain[who]
