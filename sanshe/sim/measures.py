"""How each outcome is measured from the model's state in one month.

Names, labels and units are in :mod:`model.outcomes`; this module says what the numbers are.
Ratios with an empty denominator are NaN for that month (no needs closed, no affairs), and
the final value of a rate averages the months that have one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sanshe.inputs.outcomes import SPECIAL_GROUPS
from sanshe.sim.agents.social_org import year_revenue
from sanshe.sim.mechanisms import affairs, group_orgs, priorities, procurement, services, workforce
from sanshe.sim.population import ELDERLY, YOUNG, Population
from sanshe.sim.so_directory import column

if TYPE_CHECKING:
    from sanshe.sim.model import CommunityGovernanceModel


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def _mean(values: np.ndarray) -> float:
    """``values.mean()`` of a float array: the same pairwise sum divided by the same count
    in its own precision, without NumPy's Python wrapper, which takes longer than the sum
    of a few hundred values (four means: about 10 µs of a month)."""
    return float(np.add.reduce(values) / values.size)


def _share(flags: np.ndarray) -> float:
    """Share of residents for whom ``flags`` holds (a count, not a float mean: the same
    number, without converting every flag to a float)."""
    return _ratio(np.count_nonzero(flags), flags.size)


def measure(model: CommunityGovernanceModel, delivery: services.Delivery, lapsed: np.ndarray,
            settled: affairs.AffairsResult) -> dict[str, float]:
    """Every outcome of this month."""
    out: dict[str, float] = {}
    out.update(_participation(model))
    out.update(_needs(model, delivery, lapsed))
    out.update(_organizations(model))
    out.update(_workers(model))
    out.update(_affairs(settled))
    out.update(_money(model, delivery))
    return out


def _age_classes(pop: Population) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The young and the elderly among ``pop``'s residents and how many of each: ages do
    not change in a run, so they are found once (:meth:`Population.keep`; two passes over
    every resident a month otherwise)."""
    def classes() -> tuple[np.ndarray, np.ndarray, int, int]:
        young, elderly = pop.age == YOUNG, pop.age == ELDERLY
        return young, elderly, np.count_nonzero(young), np.count_nonzero(elderly)
    return pop.keep("age_classes", (pop.age,), classes)


def _participation(model: CommunityGovernanceModel) -> dict[str, float]:
    pop = model.pop
    taking_part = pop.participating
    young, elderly, n_young, n_elderly = _age_classes(pop)
    return {
        "participation_rate": _share(taking_part),
        # Shanghai surveys: turnout rises from 13.8% at 18-29 to 77.7% at 70-79
        "participation_young": _ratio(np.count_nonzero(taking_part & young), n_young),
        "participation_elderly": _ratio(np.count_nonzero(taking_part & elderly), n_elderly),
        "volunteer_rate": _share(pop.volunteer),  # turned out this month
        "registered_volunteer_rate": _share(pop.registered),
        "deliberation_rate": _share(pop.deliberating),
        # diagnostic: where coordinators' time held volunteers who turned out at home
        "capacity_bound_share": _share(model.capacity_bound),
        "space_bound_share": _share(priorities.space_crowded(model)),
        "mean_satisfaction": _mean(pop.satisfaction),
        "trust_in_sos": _mean(pop.trust),
    }


def _needs(model: CommunityGovernanceModel, delivery: services.Delivery,
           lapsed: np.ndarray) -> dict[str, float]:
    """Coverage = needs met / needs closed (met or lapsed) this month, overall and by group."""
    pop = model.pop
    met, gone = delivery.served, lapsed
    open_ = pop.need_domain >= 0
    out = {
        "need_coverage": _ratio(met.size, met.size + gone.size),
        "hidden_need_share": _ratio(np.count_nonzero(open_ & ~pop.need_expressed),
                                    np.count_nonzero(open_)),
        "mean_service_quality": _mean(delivery.quality) if met.size else float("nan"),
    }
    coverages = []
    for group in SPECIAL_GROUPS:
        flags = pop.groups[group]
        # counts (whole numbers: the ratio is the same double as from the flags' sums)
        hit, miss = np.count_nonzero(flags[met]), np.count_nonzero(flags[gone])
        out[f"coverage_{group}"] = _ratio(hit, hit + miss)
        coverages.append(out[f"coverage_{group}"])
    valid = [c for c in coverages if not math.isnan(c)]  # plain floats: no NumPy call
    out["equity_gap"] = float(max(valid) - min(valid)) if len(valid) > 1 else float("nan")
    return out


def _organizations(model: CommunityGovernanceModel) -> dict[str, float]:
    sos = model.sos
    community = high = rated = 0
    revenue = government = winners_revenue = winners_government = 0.0
    for so in sos:  # one pass; sums in the order of model.sos as before
        year = so.ledger.year
        total, government_part = year_revenue(year)
        # its share times its revenue, as the measure has always summed it (the same bits)
        own = government_part / total * total if total > 0 else 0.0
        revenue += total
        government += own
        if year["purchase"] > 0:  # held a purchase contract
            winners_revenue += total
            winners_government += own
        community += so.is_community
        high += so.rating >= 4
        rated += so.rating >= 3
    return {
        "so_count": float(len(sos)),
        "community_so_count": float(community),
        "community_so_services": float(model.community_so_served),
        "purchase_services": float(model.purchase_served),
        "professional_so_count": float(len(sos) - community),
        "so_births": float(model.births_month),
        "so_closures": float(model.closures_month),
        "mean_so_capacity": _mean(column(sos, "capacity")) if sos else 0.0,
        "high_rated_so_count": float(high),
        "rated_so_count": float(rated),
        "gov_revenue_share": _ratio(government, revenue),
        # dependence of those who win purchase contracts (内卷化, seed 002)
        "winners_gov_share": _ratio(winners_government, winners_revenue),
        "contract_hhi": procurement.hhi(model.year_contract_value),
        "duplicated_services": float(group_orgs.duplicated(model.group_projects)),
    }


def _workers(model: CommunityGovernanceModel) -> dict[str, float]:
    workers = workforce.employed(model)
    employed = len(workers)
    return {
        "sw_employed": float(employed),
        "certified_sw_share": _ratio(sum(w.certified for w in workers), employed),
        "sw_turnover_rate": _ratio(12.0 * model.exits_month, employed + model.exits_month),
    }


def _affairs(settled: affairs.AffairsResult) -> dict[str, float]:
    total = settled.total
    return {
        "affairs_deliberation_share": _ratio(settled.deliberation.sum(), total),
        "affairs_so_share": _ratio(settled.so_service.sum(), total),
        "affairs_referral_share": _ratio(settled.referral.sum(), total),
    }


def _money(model: CommunityGovernanceModel, delivery: services.Delivery) -> dict[str, float]:
    spent = model.gov_month + model.group_month
    return {
        "gov_spending": float(model.gov_month),
        "group_org_spending": float(model.group_month),
        "returned_funds": float(model.returned_month),
        "non_gov_funds": float(model.nongov_month),
        "leverage_ratio": _ratio(model.nongov_month, model.gov_month),
        "cost_per_need_met": _ratio(spent, delivery.served.size),
        "purchase_spending": float(model.purchase_drawn),
    }
