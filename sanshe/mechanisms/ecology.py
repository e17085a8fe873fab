"""Organizational ecology of SOs: founding, incubation (孵化), rating (评级) and closure.

Founding follows density dependence (Hannan & Carroll 1992): legitimation raises the rate
while SOs are few, competition lowers it as they crowd; a low filing threshold (降低准入门槛,
seeds 000, 003), free space (seed 001) and social-worker support multiply it. New and small
SOs die more often (liability of newness; Bielefeld 1994), less so when registered, rated or
incubated (Singh, Tucker & House 1986; Hager et al. 2004).
"""

from __future__ import annotations

import numpy as np

from sanshe.agents.social_org import SocialOrganization


def density_factor(count: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Founding multiplier at a density of ``count`` community SOs per 1,000 residents:
    an inverted U, 1 at zero. Density is per head, not per community, so a district of
    large communities saturates at the same SOs per resident as one of small ones."""
    return (1.0 + count / p["density_legitimation"]) * np.exp(-count / p["density_competition"])


def founding_chance(count: np.ndarray, low_threshold: bool, free_space: np.ndarray,
                    outreach: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Monthly chance that an active leader in each community founds a community SO;
    ``count`` is community SOs per 1,000 residents."""
    rate = p["founding_rate"] * density_factor(count, p)
    rate *= p["founding_threshold_low_mult"] if low_threshold else 1.0
    rate *= 1.0 + (p["space_founding_mult"] - 1.0) * free_space
    rate *= 1.0 + outreach  # social workers find and coach leaders (seed 004)
    return np.minimum(rate, 1.0)


def founding_domain(needs: np.ndarray, rng: np.random.Generator) -> int:
    """A founder picks a domain where neighbours' needs are visible."""
    weights = needs + 1.0
    return int(rng.choice(weights.size, p=weights / weights.sum()))


def death_chance(so: SocialOrganization, p: dict[str, float]) -> float:
    """Monthly hazard from newness, cut by legitimacy (registration, rating, incubation)."""
    if so.age >= p["newness_months"]:
        return 0.0
    protected = so.ever_incubated or so.rating >= 3 or not so.is_community
    return p["newness_hazard"] * (1.0 - p["legitimacy_protection"] * protected)


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


def grow_capacity(so: SocialOrganization, served: float, training: float,
                  p: dict[str, float]) -> None:
    """Capacity grows by doing and by training, and erodes without either."""
    doing = p["capacity_learning"] * min(served / p["learning_full_services"], 1.0)
    schooled = p["training_gain"] * training
    so.capacity += (doing + schooled) * (1.0 - so.capacity) - p["capacity_decay"] * so.capacity
    so.capacity = float(np.clip(so.capacity, 0.0, 1.0))
